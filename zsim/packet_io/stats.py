"""Counters kept with ``CONFIG_PACKET_IO_STATS=y`` (include/zephyr/packet_io/packet_io.h)."""

from __future__ import annotations


class SourceStats:
    """``send_count``: sends attempted; ``queued_total``: deliveries, immediate included."""

    __slots__ = ("send_count", "queued_total")

    def __init__(self) -> None:
        self.send_count = 0
        self.queued_total = 0

    def reset(self) -> None:
        self.send_count = self.queued_total = 0

    def __repr__(self) -> str:
        return f"SourceStats(send_count={self.send_count}, queued_total={self.queued_total})"


class SinkStats:
    """``handled_count``: handler runs; ``dropped_count``: packets its queue refused."""

    __slots__ = ("handled_count", "dropped_count")

    def __init__(self) -> None:
        self.handled_count = 0
        self.dropped_count = 0

    def reset(self) -> None:
        self.handled_count = self.dropped_count = 0

    def __repr__(self) -> str:
        return (f"SinkStats(handled_count={self.handled_count}, "
                f"dropped_count={self.dropped_count})")


class QueueStats:
    """``processed_count``: events whose handler ran and returned cleanly."""

    __slots__ = ("processed_count",)

    def __init__(self) -> None:
        self.processed_count = 0

    def reset(self) -> None:
        self.processed_count = 0

    def __repr__(self) -> str:
        return f"QueueStats(processed_count={self.processed_count})"


class LatencyRecorder:
    """Latencies (kernel units) of one sink's handled packets, in constant memory.

    Each value is counted exactly in ``counts`` until more than ``limit`` distinct values
    are held; then all counts are folded into ``hist``, an HdrHistogram with 3 significant
    digits (``hdrh``), and counting starts again. ``count`` and ``max`` stay exact.
    """

    __slots__ = ("counts", "limit", "hist", "count", "max")

    def __init__(self, limit: int = 4096) -> None:
        self.counts: dict[int, int] = {}
        self.limit = limit
        self.hist = None
        self.count = 0
        self.max = 0

    def record(self, value: int) -> None:
        """Count one latency."""
        counts = self.counts
        counts[value] = counts.get(value, 0) + 1
        self.count += 1
        if value > self.max:
            self.max = value
        if len(counts) > self.limit:
            self.fold()

    def fold(self) -> None:
        """Move the exact counts into the histogram."""
        from hdrh.histogram import HdrHistogram

        if self.hist is None:
            self.hist = HdrHistogram(1, 1 << 62, 3)
        hist = self.hist
        for value, n in self.counts.items():
            hist.record_value(value, n)
        self.counts.clear()


def stats_of(obj: object, stats: object) -> object:
    """The stats object, or a clear error when ``CONFIG_PACKET_IO_STATS`` is off."""
    if stats is None:
        raise AttributeError(f"{type(obj).__name__} {getattr(obj, 'name', '')!r} has no stats: "
                             "they exist only with CONFIG_PACKET_IO_STATS=y "
                             "(Kernel(config={'PACKET_IO_STATS': True}))")
    return stats
