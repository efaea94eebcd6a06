"""Levels over virtual time in constant memory: queue depths and pools' buffers in use.

A queue's depth is the number of events waiting in it, not counting one being handled
(its ``k_msgq``'s used count, the number the summary's high-water mark is the maximum of);
a pool's level is its buffers in use. ``TraceRecorder`` reports each change
(``levels`` hook); ``Levels`` keeps them as ``BucketSeries`` for the plot and passes them on
(the Perfetto counters).
"""

from __future__ import annotations

from collections.abc import Callable


class BucketSeries:
    """A level over virtual time in at most ``max_buckets`` buckets of equal width, each
    with the level's minimum, maximum and last value in it (so a spike shorter than a
    bucket stays visible); the width doubles, merging neighbours, whenever time outgrows
    the buckets. Memory is constant whatever the run's length."""

    __slots__ = ("width", "max_buckets", "mins", "maxs", "lasts", "value")

    def __init__(self, initial: int = 0, width_us: float = 1000.0,
                 max_buckets: int = 1024) -> None:
        if max_buckets < 2 or max_buckets % 2:
            raise ValueError("max_buckets must be an even number >= 2")
        self.width = float(width_us)
        self.max_buckets = max_buckets
        self.mins: list[int] = [initial]
        self.maxs: list[int] = [initial]
        self.lasts: list[int] = [initial]
        self.value = initial

    def _reach(self, index: int) -> None:
        """Open buckets up to ``index``, each starting at the level held before it."""
        while index >= self.max_buckets:
            self._halve()
            index //= 2
        v = self.value
        extend = index + 1 - len(self.lasts)
        if extend > 0:
            self.mins.extend([v] * extend)
            self.maxs.extend([v] * extend)
            self.lasts.extend([v] * extend)

    def _halve(self) -> None:
        mins, maxs, lasts = self.mins, self.maxs, self.lasts
        n = len(lasts)
        for i in range(0, n - 1, 2):    # pairs merged in place, into the first half
            a = mins[i]
            b = mins[i + 1]
            mins[i // 2] = b if b < a else a
            a = maxs[i]
            b = maxs[i + 1]
            maxs[i // 2] = b if b > a else a
            lasts[i // 2] = lasts[i + 1]
        if n % 2:                       # an odd last bucket stands alone
            mins[n // 2] = mins[n - 1]
            maxs[n // 2] = maxs[n - 1]
            lasts[n // 2] = lasts[n - 1]
        half = (n + 1) // 2
        del mins[half:]
        del maxs[half:]
        del lasts[half:]
        self.width *= 2

    def record(self, us: float, value: int) -> None:
        """The level is ``value`` from ``us`` on (times never go back)."""
        index = int(us // self.width)
        if index >= len(self.lasts):
            self._reach(index)
            index = int(us // self.width)
        if value < self.mins[index]:
            self.mins[index] = value
        if value > self.maxs[index]:
            self.maxs[index] = value
        self.lasts[index] = value
        self.value = value

    def close(self, end_us: float) -> None:
        """Extend the series to the end of the run."""
        if end_us > 0:
            self._reach(int(max(end_us - 1e-9, 0.0) // self.width))

    @property
    def peak(self) -> int:
        """The highest level seen."""
        return max(self.maxs)

    def points(self) -> list[tuple[float, int, int, int]]:
        """``(start_us, min, max, last)`` of each bucket."""
        w = self.width
        return [(i * w, lo, hi, last) for i, (lo, hi, last)
                in enumerate(zip(self.mins, self.maxs, self.lasts, strict=True))]


class Levels:
    """Named ``BucketSeries`` (queue depths, pools in use), fed by ``TraceRecorder``'s
    ``levels`` hook; ``then`` also receives each change (the Perfetto counters)."""

    def __init__(self, then: Callable[[str, float, int], None] | None = None) -> None:
        self.series: dict[str, BucketSeries] = {}
        self.then = then

    def declare(self, name: str, initial: int = 0) -> None:
        """Start a track at time 0 (a queue or pool that may never change)."""
        if name not in self.series:
            self.series[name] = BucketSeries(initial)
            if self.then is not None:
                self.then(name, 0.0, initial)

    def __call__(self, name: str, us: float, value: int) -> None:
        self.change(name, us, value)

    def change(self, name: str, us: float, value: int) -> None:
        """Track ``name`` is at ``value`` from ``us`` on."""
        s = self.series.get(name)
        if s is None:
            self.declare(name)
            s = self.series[name]
        if value != s.value:
            s.record(us, value)
            if self.then is not None:
                self.then(name, us, value)

    def close(self, end_us: float) -> None:
        for s in self.series.values():
            s.close(end_us)
