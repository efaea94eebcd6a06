"""``k_mutex``: a recursive mutex with priority inheritance (kernel/mutex.c)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import errno
from .memory import Layout, MemoryEntry
from .objects import check_kernel
from .time_units import K_FOREVER, Timeout
from .wait_q import WaitQ

if TYPE_CHECKING:
    from .core import Kernel
    from .thread import Thread

PRIORITY_CEILING = -127
"""``CONFIG_PRIORITY_CEILING``: inheritance never raises a priority above this."""


def _inherited(target: int, limit: int) -> int:
    """``new_prio_for_inheritance``: the more urgent of the two, capped by the ceiling."""
    prio = target if target < limit else limit
    return prio if prio >= PRIORITY_CEILING else PRIORITY_CEILING


class Mutex:
    """``Mutex(k)``: owner, lock count, and the owner's priority before inheritance."""

    __slots__ = ("k", "name", "owner", "lock_count", "owner_orig_prio", "wait_q")

    def __init__(self, k: Kernel, name: str | None = None) -> None:
        self.k = check_kernel(k)
        self.name = name
        self.owner: Thread | None = None
        self.lock_count = 0
        self.owner_orig_prio = 0
        self.wait_q = WaitQ(self)
        k.register(self)

    def _adjust_owner_prio(self, prio: int) -> bool:
        owner = self.owner
        if owner is not None and owner.prio != prio:
            return self.k._set_prio(owner, prio)
        return False

    def lock(self, timeout: Timeout = K_FOREVER) -> int:
        """``k_mutex_lock``: 0; ``-EBUSY`` locked with K_NO_WAIT; ``-EAGAIN`` on timeout."""
        k = self.k
        cur = k._thread_only("k_mutex_lock")
        if self.lock_count == 0 or self.owner is cur:
            if self.lock_count == 0:
                self.owner_orig_prio = cur.prio
            self.lock_count += 1
            self.owner = cur
            return 0
        if timeout.ticks(k.ticks_per_sec) == 0 and not timeout.is_absolute:
            return -errno.EBUSY
        new_prio = _inherited(cur.prio, self.owner.prio)
        if new_prio < self.owner.prio:
            self._adjust_owner_prio(new_prio)
        ret = k._pend(self.wait_q, timeout)
        if ret == 0:
            return 0
        # Timed out: drop the inherited priority to what the remaining waiters justify.
        first = self.wait_q.first()
        new_prio = self.owner_orig_prio if first is None else _inherited(
            first.prio, self.owner_orig_prio)
        if self._adjust_owner_prio(new_prio):
            k._resched(preempt_ok=True)
        return -errno.EAGAIN

    def unlock(self) -> int:
        """``k_mutex_unlock``: 0; ``-EINVAL`` not locked; ``-EPERM`` not the owner."""
        k = self.k
        cur = k._thread_only("k_mutex_unlock")
        if self.owner is None:
            return -errno.EINVAL
        if self.owner is not cur:
            return -errno.EPERM
        if self.lock_count > 1:
            self.lock_count -= 1
            return 0
        self._adjust_owner_prio(self.owner_orig_prio)
        new_owner = self.wait_q.first()
        self.owner = new_owner
        if new_owner is not None:
            # z_reschedule: the more urgent new owner preempts a preemptible caller only.
            k._wake(new_owner, 0)
            self.owner_orig_prio = new_owner.prio
            k._resched()
        else:
            self.lock_count = 0         # k_spin_unlock only: not a reschedule point
        return 0

    def ram_usage(self, lay: Layout) -> list[MemoryEntry]:
        return [MemoryEntry(self.name or "k_mutex", "k_mutex", lay.mutex)]

    def __enter__(self) -> Mutex:
        self.lock(K_FOREVER)
        return self

    def __exit__(self, *exc: object) -> None:
        self.unlock()

    def __repr__(self) -> str:
        owner = self.owner.name if self.owner else None
        return f"<Mutex {self.name!r} owner={owner!r} count={self.lock_count}>"
