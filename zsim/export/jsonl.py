"""``--trace``: the run's events as JSON Lines, header first (docs/trace-format.md)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from .atomic import AtomicFile


class JsonlWriter:
    """A trace file written as the run goes, under a temporary name: ``start(header)``
    first, then ``write(data)`` (JSON lines from ``zsim.trace``, as ASCII bytes) or
    ``__call__(event)``; ``commit()`` puts it in place, ``discard()`` leaves any previous
    file as it was. Nothing is held in memory."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.out = AtomicFile(path, "wb")
        self.write = self.out.file.write

    def start(self, header: Mapping[str, Any]) -> None:
        self.write((json.dumps(header) + "\n").encode())

    def __call__(self, ev: Mapping[str, Any]) -> None:
        self.write((json.dumps(ev) + "\n").encode())

    def sync(self) -> None:
        """Have the disk hold what was written (before ``commit``, overlapping other work)."""
        self.out.sync()

    def commit(self) -> None:
        self.out.commit()

    def discard(self) -> None:
        self.out.discard()


def write_jsonl(path: str | os.PathLike, header: Mapping[str, Any],
                events: Iterable[Mapping[str, Any]]) -> int:
    """Write the header line then one line per event; returns the number of events."""
    w = JsonlWriter(path)
    n = 0
    try:
        w.start(header)
        for ev in events:
            w(ev)
            n += 1
    except BaseException:
        w.discard()
        raise
    w.commit()
    return n
