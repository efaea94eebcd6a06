"""The device's report ring (PROTOCOL.md §8): reports held until the host acknowledges them.

At most ``capacity`` reports are held; a new report when the ring is full overwrites the
oldest unacknowledged one, which is counted in ``lost``, so memory stays bounded whatever
the host does.
"""

from __future__ import annotations

from collections import deque
from itertools import islice
from typing import Any


class ReportRing:
    """Reports ``oldest .. total-1`` (each one opaque item), at most ``capacity`` of them."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"a report ring holds at least 1 report, not {capacity}")
        self.capacity = capacity
        self.clear()

    def clear(self) -> None:
        """Forget every report (RESET): the next one has index 0."""
        self.items: deque[Any] = deque()
        self.total = 0          # reports produced
        self.oldest = 0         # lowest index still held
        self.lost = 0           # overwritten before they were acknowledged

    def push(self, item: Any) -> int:
        """Hold ``item`` as the next report; its index."""
        if len(self.items) >= self.capacity:
            self.items.popleft()
            self.oldest += 1
            self.lost += 1
        self.items.append(item)
        self.total += 1
        return self.total - 1

    def ack(self, upto: int) -> None:
        """Free the reports below index ``upto``."""
        n = min(max(0, upto - self.oldest), len(self.items))
        for _ in range(n):
            self.items.popleft()
        self.oldest += n

    def held(self, start: int, count: int) -> list[Any]:
        """The reports ``start .. start+count-1`` still held, in order."""
        lo = max(start, self.oldest) - self.oldest
        hi = max(0, min(start + count, self.total) - self.oldest)
        return list(islice(self.items, lo, hi)) if hi > lo else []

    def __len__(self) -> int:
        return len(self.items)


__all__ = ["ReportRing"]
