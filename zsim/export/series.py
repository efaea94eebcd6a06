"""Time series from trace events: queue depths and pool occupancy (for counters and plots).

A queue's depth is the number of events enqueued on its sinks (``enqueue``) whose handler
has not returned yet (``handle``); a pool's occupancy is the number of its buffers
allocated (``alloc``) and not yet freed (``free``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Series = dict[str, list[tuple[float, int]]]


def queue_depths(events: Iterable[Mapping[str, Any]]) -> Series:
    """Per queue, ``(us, depth)`` at the start and after every change."""
    events = list(events)
    queue_of = {ev["sink"]: ev["queue"] for ev in events
                if ev.get("type") == "handle" and "sink" in ev and "queue" in ev}
    series: Series = {}
    depth: dict[str, int] = {}
    for ev in events:
        kind = ev.get("type")
        if kind not in ("enqueue", "handle"):
            continue
        sink = ev.get("sink")
        q = ev.get("queue") or queue_of.get(sink) or f"queue of {sink}"
        if q not in series:
            series[q] = [(0.0, 0)]
            depth[q] = 0
        depth[q] = depth[q] + 1 if kind == "enqueue" else max(depth[q] - 1, 0)
        series[q].append((float(ev.get("us", 0.0)), depth[q]))
    return series


def pool_occupancy(events: Iterable[Mapping[str, Any]]) -> Series:
    """Per net_buf pool, ``(us, buffers in use)`` at the start and after every change."""
    series: Series = {}
    used: dict[str, int] = {}
    for ev in events:
        kind = ev.get("type")
        if kind not in ("alloc", "free"):
            continue
        pool = ev.get("pool") or str(ev.get("buf", "?")).split("#", 1)[0]
        if pool not in series:
            series[pool] = [(0.0, 0)]
            used[pool] = 0
        used[pool] = used[pool] + 1 if kind == "alloc" else max(used[pool] - 1, 0)
        series[pool].append((float(ev.get("us", 0.0)), used[pool]))
    return series


def counter_series(events: Iterable[Mapping[str, Any]]) -> Series:
    """Queue depths and pool occupancy under counter-track names."""
    events = list(events)
    out: Series = {}
    for q, points in queue_depths(events).items():
        out[f"queue {q} depth"] = points
    for pool, points in pool_occupancy(events).items():
        out[f"pool {pool} in use"] = points
    return out
