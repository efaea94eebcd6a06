"""Per-sink latency figures from the recorders the kernel keeps during a run.

A run with ``Kernel(record_latency=True)`` gives every packet_io sink a
``LatencyRecorder`` (zsim/packet_io/stats.py) that counts, in the kernel's time units, the
time from the start of the ``packet_source_send`` that delivered a packet to the end of the
sink's handler. Values are counted exactly while a sink has seen at most 4096 distinct
latencies; beyond that they are folded into an HdrHistogram with 3 significant digits
(values within 0.1 %). Count and maximum are always exact. Memory is constant per sink.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


def _exact_rank(items: list[tuple[int, int]], rank: int) -> int:
    seen = 0
    for value, n in items:
        seen += n
        if seen >= rank:
            return value
    return items[-1][0]


def summarize_recorder(rec: Any, units_per_sec: int) -> dict[str, Any] | None:
    """``count``, ``p50_us``, ``p99_us``, ``max_us`` and ``exact`` of one recorder (None
    when it counted nothing). Percentiles are nearest-rank: p99 is the smallest latency with
    at least 99 % of the packets at or below it."""
    if rec is None or rec.count == 0:
        return None
    scale = 1e6 / units_per_sec
    if rec.hist is None:
        items = sorted(rec.counts.items())
        n = rec.count
        p50, p99 = (_exact_rank(items, max(math.ceil(p * n / 100), 1)) for p in (50, 99))
        exact = True
    else:
        rec.fold()
        p50, p99 = (min(rec.hist.get_value_at_percentile(p), rec.max) for p in (50, 99))
        exact = False
    return {"count": int(rec.count), "p50_us": p50 * scale, "p99_us": p99 * scale,
            "max_us": rec.max * scale, "exact": exact}


def recorded_values(rec: Any, units_per_sec: int) -> list[tuple[float, int]]:
    """``(latency_us, packets)`` in increasing order: exact values, or the histogram's
    buckets once folded (for plotting)."""
    if rec is None or rec.count == 0:
        return []
    scale = 1e6 / units_per_sec
    if rec.hist is None:
        return [(v * scale, n) for v, n in sorted(rec.counts.items())]
    rec.fold()
    return [(it.value_iterated_to * scale, it.count_at_value_iterated_to)
            for it in rec.hist.get_recorded_iterator()]


def latency_of_sinks(sinks: Iterable[Any], units_per_sec: int) -> dict[str, dict[str, Any]]:
    """``summarize_recorder`` of each sink that has a recorder and counted something."""
    out = {}
    for sink in sinks:
        row = summarize_recorder(getattr(sink, "_lat", None), units_per_sec)
        if row is not None:
            out[sink.name] = row
    return out


__all__ = ["latency_of_sinks", "recorded_values", "summarize_recorder"]
