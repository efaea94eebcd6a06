"""End-of-run summary of a kernel: packet_io counters, queues, pools, threads, leaks."""

from __future__ import annotations

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
    return out
