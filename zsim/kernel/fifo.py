"""``k_fifo`` and ``k_lifo``: unbounded queues of items (kernel/queue.c)."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from .memory import Layout, MemoryEntry
from .objects import check_kernel
from .time_units import K_NO_WAIT, Timeout
from .wait_q import WaitQ

if TYPE_CHECKING:
    from .core import Kernel


class Fifo:
    """``k_fifo``: ``put`` appends, ``get`` takes the oldest; a waiter is handed the item."""

    __slots__ = ("k", "name", "items", "wait_q", "_lifo")

    def __init__(self, k: Kernel, name: str | None = None) -> None:
        self.k = check_kernel(k)
        self.name = name
        self.items: deque[Any] = deque()
        self.wait_q = WaitQ(self)
        self._lifo = False
        k.register(self)

    def put(self, data: Any) -> None:
        """``k_fifo_put``: a reschedule point whether or not a thread was waiting."""
        k = self.k
        if self.wait_q:
            k._wake_first(self.wait_q, 0, data)
        elif self._lifo:
            self.items.appendleft(data)
        else:
            self.items.append(data)
        k._resched()

    def get(self, timeout: Timeout = K_NO_WAIT) -> Any:
        """``k_fifo_get``: the item, or None when none arrived in time."""
        k = self.k
        if k._in_isr:
            k._check_isr_timeout(timeout, "kernel/queue.c")
        if self.items:
            return self.items.popleft()
        if timeout.ticks(k.ticks_per_sec) == 0 and not timeout.is_absolute:
            return None
        ret = k._pend(self.wait_q, timeout)
        return k._current.data if ret == 0 else None

    def cancel_wait(self) -> None:
        """``k_fifo_cancel_wait``: the first waiter's ``get`` returns None."""
        if self.wait_q:
            self.k._wake_first(self.wait_q, 0, None)
            self.k._resched()

    def is_empty(self) -> bool:
        """``k_fifo_is_empty``."""
        return not self.items

    def peek_head(self) -> Any:
        """``k_fifo_peek_head``."""
        return self.items[0] if self.items else None

    def peek_tail(self) -> Any:
        """``k_fifo_peek_tail``."""
        return self.items[-1] if self.items else None

    def ram_usage(self, lay: Layout) -> list[MemoryEntry]:
        kind = "k_lifo" if self._lifo else "k_fifo"
        return [MemoryEntry(self.name or kind, kind, lay.queue)]

    def __len__(self) -> int:
        return len(self.items)


class Lifo(Fifo):
    """``k_lifo``: ``put`` pushes, ``get`` takes the newest."""

    __slots__ = ()

    def __init__(self, k: Kernel, name: str | None = None) -> None:
        super().__init__(k, name)
        self._lifo = True
