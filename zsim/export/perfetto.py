"""``--perfetto``: a Chrome trace event file (JSON) for Perfetto UI and chrome://tracing.

Layout: one process for the board. Each thread is a track; its running intervals (from
``switch`` events) are ``running`` slices and the sink handlers it ran (``deliver`` and
``handle`` events) are slices nested in them. Queue depths and pool occupancy are counter
tracks. Timestamps are microseconds of virtual time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from .atomic import atomic_write
from .series import counter_series

PID = 1


def build_trace(header: Mapping[str, Any],
                events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The trace as a ``{"traceEvents": [...], ...}`` object."""
    events = list(events)
    tids: dict[str, int] = {}
    out: list[dict[str, Any]] = []

    def tid(name: str) -> int:
        if name not in tids:
            tids[name] = len(tids) + 1
        return tids[name]

    running: dict[str, float] = {}       # thread -> when its current running interval began
    last_mark: dict[str, float] = {}     # thread -> end of its last slice or switch-in
    current: str | None = None
    end_us = 0.0
    for ev in events:
        us = float(ev.get("us", 0.0))
        end_us = max(end_us, us)
        kind = ev.get("type")
        if kind == "switch":
            old, new = ev.get("from"), ev.get("to")
            if old is not None and old in running:
                start = running.pop(old)
                out.append(_slice("running", "thread", old, tid(old), start, us))
            if new is not None and new != "idle":
                running[new] = us
                last_mark[new] = us
                tid(new)
            current = new if new != "idle" else None
        elif kind in ("deliver", "handle"):
            thread = ev.get("thread") or current or "(no thread)"
            start = ev.get("start_us")
            start = float(start) if start is not None else last_mark.get(thread, us)
            start = max(start, running.get(thread, start))
            args = {k: ev[k] for k in ("source", "queue", "buf", "len", "digest", "ret")
                    if k in ev}
            out.append(_slice(ev.get("sink", "?"), kind, thread, tid(thread), start, us, args))
            last_mark[thread] = us
        elif kind in ("send", "enqueue", "drop", "alloc", "free"):
            if current is not None:
                last_mark[current] = us
    for thread, start in running.items():
        out.append(_slice("running", "thread", thread, tid(thread), start, end_us))
    for name, points in counter_series(events).items():
        for us, value in points:
            out.append({"name": name, "ph": "C", "ts": us, "pid": PID, "tid": 0,
                        "args": {"value": value}})
    board = header.get("board", "?")
    meta = [{"name": "process_name", "ph": "M", "pid": PID, "tid": 0,
             "args": {"name": f"zsim {header.get('target', 'simulator')} {board}"}}]
    for name, t in tids.items():
        meta.append({"name": "thread_name", "ph": "M", "pid": PID, "tid": t,
                     "args": {"name": name}})
        meta.append({"name": "thread_sort_index", "ph": "M", "pid": PID, "tid": t,
                     "args": {"sort_index": t}})
    out.sort(key=lambda e: (e["ts"], 0 if e["ph"] == "X" else 1, -e.get("dur", 0)))
    return {"traceEvents": meta + out, "displayTimeUnit": "ms",
            "otherData": {k: v for k, v in header.items() if k != "type"}}


def _slice(name: str, cat: str, thread: str, t: int, start: float, end: float,
           args: Mapping[str, Any] | None = None) -> dict[str, Any]:
    ev: dict[str, Any] = {"name": name, "cat": cat, "ph": "X", "ts": start,
                          "dur": max(end - start, 0.0), "pid": PID, "tid": t}
    if args:
        ev["args"] = dict(args)
    return ev


def write_perfetto(path: str | os.PathLike, header: Mapping[str, Any],
                   events: Iterable[Mapping[str, Any]]) -> None:
    """Write the Chrome trace event JSON to ``path`` atomically."""
    trace = build_trace(header, events)
    with atomic_write(path, "w") as f:
        json.dump(trace, f, separators=(",", ":"))
