"""``k_sem``: a counting semaphore (kernel/sem.c)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import errno
from .memory import Layout, MemoryEntry
from .objects import check_kernel, split_name
from .time_units import K_NO_WAIT, Timeout
from .wait_q import WaitQ

if TYPE_CHECKING:
    from .core import Kernel

K_SEM_MAX_LIMIT = 0xFFFFFFFF


class Sem:
    """``Sem(k, initial_count, limit)`` (``k_sem_init``); name optional as 2nd argument."""

    __slots__ = ("k", "name", "count", "limit", "wait_q")

    def __init__(self, k: Kernel, *args: Any, name: str | None = None) -> None:
        args, name = split_name(args, name)
        if len(args) > 2:
            raise TypeError("Sem(k, [name,] initial_count=0, limit=K_SEM_MAX_LIMIT)")
        initial = args[0] if len(args) > 0 else 0
        limit = args[1] if len(args) > 1 else K_SEM_MAX_LIMIT
        if limit == 0 or initial > limit or initial < 0:
            raise ValueError(f"Sem {name!r}: k_sem_init would fail with -EINVAL "
                             f"(initial_count={initial}, limit={limit})")
        self.k = check_kernel(k)
        self.name = name
        self.count = initial
        self.limit = limit
        self.wait_q = WaitQ(self)
        k.register(self)

    def take(self, timeout: Timeout = K_NO_WAIT) -> int:
        """``k_sem_take``: 0; ``-EBUSY`` unavailable with K_NO_WAIT; ``-EAGAIN`` on timeout
        or reset."""
        k = self.k
        if k._c_sem_take:
            k.consume(k._c_sem_take)
        if k._in_isr:
            k._check_isr_timeout(timeout, "kernel/sem.c")
        if self.count > 0:
            self.count -= 1
            return 0
        if timeout.ticks(k.ticks_per_sec) == 0 and not timeout.is_absolute:
            return -errno.EBUSY
        return k._pend(self.wait_q, timeout)

    def give(self) -> None:
        """``k_sem_give``: wake the most urgent waiter, else count up to the limit."""
        k = self.k
        if k._c_sem_give:
            k.consume(k._c_sem_give)
        if self.wait_q:
            k._wake_first(self.wait_q, 0)
            k._resched()
        elif self.count != self.limit:
            self.count += 1

    def reset(self) -> None:
        """``k_sem_reset``: count to 0; waiters return ``-EAGAIN``."""
        k = self.k
        self.count = 0
        woke = False
        while self.wait_q:
            k._wake_first(self.wait_q, -errno.EAGAIN)
            woke = True
        if woke:
            k._resched()

    def count_get(self) -> int:
        """``k_sem_count_get``."""
        return self.count

    def ram_usage(self, lay: Layout) -> list[MemoryEntry]:
        return [MemoryEntry(self.name or "k_sem", "k_sem", lay.sem)]

    def __repr__(self) -> str:
        return f"<Sem {self.name!r} count={self.count}/{self.limit}>"
