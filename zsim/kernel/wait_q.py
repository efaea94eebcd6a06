"""``_wait_q_t``: threads pended on a kernel object, most urgent first, FIFO among equals."""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .thread import Thread


class WaitQ:
    """Waiters ordered by priority (lower number first), then by arrival (kernel/sched.c)."""

    __slots__ = ("_q", "owner")

    def __init__(self, owner: object = None) -> None:
        self._q: list[tuple[int, int, Thread]] = []
        self.owner = owner          # the kernel object, for reports of blocked threads

    def add(self, thread: Thread, seq: int) -> None:
        q = self._q
        if not q or q[-1][0] <= thread.prio:   # the common case: goes last
            q.append((thread.prio, seq, thread))
        else:
            insort(q, (thread.prio, seq, thread), key=_key)

    def remove(self, thread: Thread) -> None:
        q = self._q
        for i, entry in enumerate(q):
            if entry[2] is thread:
                del q[i]
                return

    def first(self) -> Thread | None:
        return self._q[0][2] if self._q else None

    def pop(self) -> Thread | None:
        return self._q.pop(0)[2] if self._q else None

    def reprioritise(self, thread: Thread, seq: int) -> None:
        """Re-sort ``thread`` after its priority changed."""
        self.remove(thread)
        self.add(thread, seq)

    def __len__(self) -> int:
        return len(self._q)

    def __bool__(self) -> bool:
        return bool(self._q)

    def __iter__(self) -> Iterator[Thread]:
        return (entry[2] for entry in list(self._q))


def _key(entry: tuple[int, int, Thread]) -> tuple[int, int]:
    return entry[0], entry[1]
