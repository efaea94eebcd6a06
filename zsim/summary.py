"""End-of-run summary of a kernel (packet_io counters, queues, pools, threads, leaks) and
per-sink latencies from a trace."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .kernel.core import Kernel


def summarize(k: Kernel) -> dict[str, Any]:
    """A plain-data summary (JSON-serialisable) of what happened in a run."""
    from .net_buf import NetBufPool
    from .packet_io import PacketEventQueue, PacketSink, PacketSource

    out: dict[str, Any] = {"board": k.board.identifier, "uptime_ms": k.uptime_get(),
                           "sources": [], "sinks": [], "queues": [], "pools": [],
                           "threads": [], "leaks": [], "faults": []}
    for obj in k.objects:
        if isinstance(obj, PacketSource):
            st = obj._stats
            out["sources"].append({"name": obj.name, "sinks": [s.name for s in obj.sinks],
                                   "send_count": st.send_count if st else None,
                                   "queued_total": st.queued_total if st else None})
        elif isinstance(obj, PacketSink):
            st = obj._stats
            out["sinks"].append({"name": obj.name, "mode": obj.mode.name.lower(),
                                 "handled": st.handled_count if st else None,
                                 "dropped": st.dropped_count if st else None})
        elif isinstance(obj, PacketEventQueue):
            out["queues"].append({"name": obj.name, "capacity": obj.size,
                                  "depth": obj.depth, "high_water": obj.high_water})
        elif isinstance(obj, NetBufPool):
            out["pools"].append({"name": obj.name, "count": obj.count, "size": obj.size,
                                 "free": obj.avail_count, "min_free": obj.min_avail})
    total = max(k._now, 1)
    for t in k.threads:
        out["threads"].append({"name": t.name, "priority": t.prio, "state": t.state,
                               "cpu_us": round(t.cpu_units * 1e6 / k.units_per_sec, 3),
                               "utilisation": t.cpu_units / total})
    for buf in k.leaks():
        file, line, func = buf.alloc_site or ("?", 0, "?")
        out["leaks"].append({"buf": f"#{buf.index}", "pool": buf.pool.name,
                             "refcount": buf.refcount, "len": buf.len,
                             "allocated_at": f"{file}:{line} in {func}()",
                             "by": buf.alloc_thread.name if buf.alloc_thread else None})
    out["faults"] = [{"tick": tick, "message": msg} for tick, msg in k.faults]
    out["faults_total"] = max(k.faults_total, len(k.faults))
    if k.record_latency:
        from .latency import latency_of_sinks

        out["latency"] = latency_of_sinks(
            (o for o in k.objects if isinstance(o, PacketSink)), k.units_per_sec)
    flight = in_flight(k)
    held, out["leaks"], out["in_flight"] = out["leaks"], [], []
    for b in held:
        out["in_flight" if (b["pool"], int(b["buf"][1:])) in flight else "leaks"].append(b)
    return out


# --------------------------------------------------------------------------- latency
def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile: the smallest value with at least ``p`` % of
    the values at or below it (``p`` in (0, 100]); ``values`` need not be sorted."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 < p <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {p}")
    ordered = sorted(values)
    return ordered[max(math.ceil(p * len(ordered) / 100), 1) - 1]


class _Send:
    """One ``packet_source_send`` call while its events are matched."""

    __slots__ = ("start",)

    def __init__(self) -> None:
        self.start: float | None = None


def sink_latencies(events: Iterable[Mapping[str, Any]]) -> dict[str, list[float]]:
    """Per sink, the latency (µs) of each packet its handler finished, in trace order.

    A packet's latency at a sink runs from the start of the ``packet_source_send`` that
    delivered it to the end of that sink's handler: the ``us`` of the ``deliver``
    (immediate sink) or ``handle`` (queued sink) event, which is recorded when the handler
    returns. The start of a send is its ``send`` event's ``start_us`` when the trace has it,
    otherwise the ``us`` of the first event that send produced. A send's ``deliver``,
    ``enqueue``, ``drop`` and ``fault`` events come before its ``send`` event (which is
    recorded when the call returns) and name the same source and buffer; a ``handle``
    event is matched to the oldest unhandled ``enqueue`` of the same sink and buffer.
    """
    open_sends: dict[tuple[str, str], tuple[_Send, list[tuple[str, float]]]] = {}
    queued: dict[tuple[str, str], deque[_Send]] = {}
    out: dict[str, list[float]] = {}
    for ev in events:
        kind = ev.get("type")
        if kind in ("deliver", "enqueue", "drop", "fault"):
            key = (ev.get("source"), ev.get("buf"))
            entry = open_sends.get(key)
            if entry is None:
                entry = open_sends[key] = (_Send(), [])
                entry[0].start = float(ev["us"])
            send, delivered = entry
            if kind == "deliver":
                delivered.append((ev["sink"], float(ev["us"])))
            elif kind == "enqueue":
                queued.setdefault((ev["sink"], ev["buf"]), deque()).append(send)
        elif kind == "send":
            key = (ev.get("source"), ev.get("buf"))
            send, delivered = open_sends.pop(key, (None, []))
            if send is None:
                continue
            if ev.get("start_us") is not None:
                send.start = float(ev["start_us"])
            for sink, end in delivered:
                out.setdefault(sink, []).append(end - send.start)
        elif kind == "handle":
            fifo = queued.get((ev.get("sink"), ev.get("buf")))
            if fifo:
                send = fifo.popleft()
                if send.start is not None:
                    out.setdefault(ev["sink"], []).append(float(ev["us"]) - send.start)
    return out


def latency_table(events: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Per sink: ``count``, ``p50_us``, ``p99_us`` and ``max_us`` of ``sink_latencies``."""
    table = {}
    for sink, values in sink_latencies(events).items():
        if values:
            table[sink] = {"count": len(values), "p50_us": percentile(values, 50),
                           "p99_us": percentile(values, 99), "max_us": max(values)}
    return table


# -------------------------------------------------------------------------- in flight
def in_flight(k: Kernel) -> set[tuple[str, int]]:
    """``(pool, index)`` of the buffers of packets in flight when the run stopped: events
    waiting in a packet event queue, and the event whose handler a thread is running (with
    every fragment chained to them). Such buffers are held by packet_io, not leaked."""
    from .packet_io import PacketEventQueue

    events = [t.handling for t in k.threads if t.handling is not None]
    for obj in k.objects:
        if isinstance(obj, PacketEventQueue):
            events.extend(obj.msgq.messages())
    out: set[tuple[str, int]] = set()
    for ev in events:
        buf = ev[1] if isinstance(ev, tuple) and len(ev) > 1 else None
        while buf is not None and getattr(buf, "pool", None) is not None:
            out.add((buf.pool.name, buf.index))
            buf = buf.frags
    return out
