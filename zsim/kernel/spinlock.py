"""``k_spinlock``: on one core, taking it masks interrupts (include/zephyr/spinlock.h).

While the current thread holds any spinlock, a thread readied by a kernel call does not run
until the next reschedule point, and timer interrupts that fall due are taken at the unlock.
With ``CONFIG_ASSERT`` (hence ``CONFIG_SPIN_VALIDATE``) the lock checks recursion and owner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import KernelAssertionError
from .objects import check_kernel

if TYPE_CHECKING:
    from .core import Kernel

_ISR = object()
_NO_THREAD = object()


class Spinlock:
    """``Spinlock(k)``: ``key = lock.lock(); ...; lock.unlock(key)`` or ``with lock:``."""

    __slots__ = ("k", "name", "owner")

    def __init__(self, k: Kernel, name: str | None = None) -> None:
        self.k = check_kernel(k)
        self.name = name
        self.owner: object = None

    def _context(self) -> object:
        k = self.k
        if k._in_isr:
            return _ISR
        return k._current if k._current is not None else _NO_THREAD

    def lock(self) -> int:
        """``k_spin_lock``: returns the key to give back to ``unlock``."""
        k = self.k
        ctx = self._context()
        if k.spin_validate and self.owner is not None:
            # z_spin_lock_valid: on one CPU, any second lock while held is invalid (a
            # thread re-locking, or an ISR taking a lock its interrupted thread holds).
            raise KernelAssertionError("z_spin_lock_valid(l)", "include/zephyr/spinlock.h",
                                       f"Invalid spinlock {self.name or hex(id(self))}")
        self.owner = ctx
        cur = k._current
        if cur is not None and not k._in_isr:
            cur.irq_locks += 1
            return cur.irq_locks - 1
        return 0

    def unlock(self, key: int = 0) -> None:
        """``k_spin_unlock``: unmask interrupts once no spinlock is held."""
        k = self.k
        ctx = self._context()
        if k.spin_validate and self.owner is not ctx:
            raise KernelAssertionError("z_spin_unlock_valid(l)", "include/zephyr/spinlock.h",
                                       f"Not my spinlock {self.name or hex(id(self))}")
        self.owner = None
        cur = k._current
        if cur is not None and not k._in_isr and cur.irq_locks:
            cur.irq_locks -= 1
            if cur.irq_locks == 0:
                k._irq_unlocked()

    def __enter__(self) -> int:
        return self.lock()

    def __exit__(self, *exc: object) -> None:
        self.unlock()
