"""``--trace``: the run's events as JSON Lines, header first (docs/trace-format.md)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from .atomic import atomic_write


def write_jsonl(path: str | os.PathLike, header: Mapping[str, Any],
                events: Iterable[Mapping[str, Any]]) -> int:
    """Write the header line then one line per event; returns the number of events."""
    n = 0
    with atomic_write(path, "w") as f:
        f.write(json.dumps(header, separators=(", ", ": ")) + "\n")
        for ev in events:
            f.write(json.dumps(ev, separators=(", ", ": ")) + "\n")
            n += 1
    return n
