"""``--perfetto``: a Chrome trace event file (JSON) for Perfetto UI and chrome://tracing.

Layout: one process for the board. Each thread is a track; its running intervals (from
``switch`` events) are ``running`` slices and the sink handlers it ran (``deliver`` and
``handle`` events) are slices nested in them. Queue depths and pools' buffers in use are
counter tracks, from the same level samples as the plot (``TraceRecorder``'s ``levels``).
Timestamps are microseconds of virtual time. Events are written as they come: memory does
not grow with the run.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable, Mapping
from typing import IO, Any

from .atomic import AtomicFile

PID = 1
_MARKS = frozenset({"send", "enqueue", "drop", "alloc", "free"})   # a thread's work ends here
_encode = json.JSONEncoder(separators=(",", ":")).encode


class PerfettoWriter:
    """Streams Chrome trace events to ``out``: call it with each trace event, ``level``
    with each counter change, then ``close()`` once."""

    def __init__(self, out: IO[str], header: Mapping[str, Any]) -> None:
        self.out = out
        self.header = dict(header)
        self.tids: dict[str, int] = {}
        self.running: dict[str, float] = {}     # thread -> start of its running interval
        self.last_mark: dict[str, float] = {}   # thread -> end of its last slice/switch-in
        self.current: str | None = None
        self.end_us = 0.0
        self._first = True
        out.write('{"traceEvents":[')

    def _emit(self, ev: dict[str, Any]) -> None:
        self.out.write(_encode(ev) if self._first else "," + _encode(ev))
        self._first = False

    def _tid(self, name: str) -> int:
        t = self.tids.get(name)
        if t is None:
            t = self.tids[name] = len(self.tids) + 1
        return t

    def _slice(self, name: str, cat: str, thread: str, start: float, end: float,
               args: Mapping[str, Any] | None = None) -> None:
        ev: dict[str, Any] = {"name": name, "cat": cat, "ph": "X", "ts": start,
                              "dur": max(end - start, 0.0), "pid": PID,
                              "tid": self._tid(thread)}
        if args:
            ev["args"] = dict(args)
        self._emit(ev)

    def __call__(self, ev: Mapping[str, Any]) -> None:
        """One trace event (a dict of docs/trace-format.md)."""
        kind = ev.get("type")
        us = float(ev.get("us", 0.0))
        if kind == "switch":
            self._switch(us, ev.get("from"), ev.get("to"))
        elif kind in ("deliver", "handle"):
            self._handler(kind, us, ev)
        else:
            self._mark(kind, us)

    def raw(self, kind: Any, us: float, values: tuple) -> None:
        """One event as ``zsim.trace`` records it (an ``EventKind`` and its field values):
        the same as ``__call__`` with no dict built for the events that make no slice."""
        name = kind.name
        if name == "switch":
            self._switch(us, values[0], values[1])
        elif name in ("deliver", "handle"):
            self._handler(name, us, dict(zip(kind.keys, values, strict=True)))
        else:
            self._mark(name, us)

    def _switch(self, us: float, old: str | None, new: str | None) -> None:
        if us > self.end_us:
            self.end_us = us
        if old is not None and old in self.running:
            self._slice("running", "thread", old, self.running.pop(old), us)
        if new is not None and new != "idle":
            self.running[new] = us
            self.last_mark[new] = us
            self._tid(new)
        self.current = new if new != "idle" else None

    def _handler(self, kind: str, us: float, ev: Mapping[str, Any]) -> None:
        if us > self.end_us:
            self.end_us = us
        thread = ev.get("thread") or self.current or "(no thread)"
        start = ev.get("start_us")
        start = float(start) if start is not None else self.last_mark.get(thread, us)
        start = max(start, self.running.get(thread, start))
        args = {k: ev[k] for k in ("source", "queue", "buf", "len", "digest", "ret")
                if k in ev}
        self._slice(ev.get("sink") or "?", kind, thread, start, us, args)
        self.last_mark[thread] = us

    def _mark(self, kind: str | None, us: float) -> None:
        if us > self.end_us:
            self.end_us = us
        if kind in _MARKS and self.current is not None:
            self.last_mark[self.current] = us

    def level(self, name: str, us: float, value: int) -> None:
        """A counter track's new value from ``us`` on."""
        self._emit({"name": name, "ph": "C", "ts": us, "pid": PID, "tid": 0,
                    "args": {"value": value}})

    def close(self, end_us: float | None = None) -> None:
        """End the running slices still open and write the metadata and the closing."""
        end = max(self.end_us, end_us or 0.0)
        for thread, start in self.running.items():
            self._slice("running", "thread", thread, start, end)
        self.running.clear()
        board = self.header.get("board", "?")
        self._emit({"name": "process_name", "ph": "M", "pid": PID, "tid": 0,
                    "args": {"name": f"zsim {self.header.get('target', 'simulator')} {board}"}})
        for name, t in self.tids.items():
            self._emit({"name": "thread_name", "ph": "M", "pid": PID, "tid": t,
                        "args": {"name": name}})
            self._emit({"name": "thread_sort_index", "ph": "M", "pid": PID, "tid": t,
                        "args": {"sort_index": t}})
        other = {k: v for k, v in self.header.items() if k != "type"}
        self.out.write('],"displayTimeUnit":"ms","otherData":' + _encode(other) + "}")


class PerfettoFile(PerfettoWriter):
    """A ``PerfettoWriter`` into an atomic file: ``commit()`` or ``discard()``; the
    header (for the metadata written at the end) may come later, through ``header``."""

    def __init__(self, path: str | os.PathLike, header: Mapping[str, Any] | None = None
                 ) -> None:
        self.file = AtomicFile(path, "w")
        super().__init__(self.file.file, header or {})

    def commit(self, end_us: float | None = None) -> None:
        try:
            self.close(end_us)
        except BaseException:
            self.file.discard()
            raise
        self.file.commit()

    def discard(self) -> None:
        self.file.discard()


def build_trace(header: Mapping[str, Any], events: Iterable[Mapping[str, Any]],
                levels: Iterable[tuple[str, float, int]] = ()) -> dict[str, Any]:
    """The trace as a ``{"traceEvents": [...], ...}`` object (``levels``: counter
    samples ``(track, us, value)``)."""
    buf = io.StringIO()
    w = PerfettoWriter(buf, header)
    for ev in events:
        w(ev)
    for name, us, value in levels:
        w.level(name, us, value)
    w.close()
    return json.loads(buf.getvalue())


def write_perfetto(path: str | os.PathLike, header: Mapping[str, Any],
                   events: Iterable[Mapping[str, Any]],
                   levels: Iterable[tuple[str, float, int]] = ()) -> None:
    """Write the Chrome trace event JSON to ``path`` atomically."""
    w = PerfettoFile(path, header)
    try:
        for ev in events:
            w(ev)
        for name, us, value in levels:
            w.level(name, us, value)
    except BaseException:
        w.discard()
        raise
    w.commit()
