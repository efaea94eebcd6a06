"""``_wait_q_t``: threads pended on a kernel object, most urgent first, FIFO among equals.

Like Zephyr's ``sys_dlist_t`` wait queues (kernel/sched.c, ``z_priq_dumb_add``), the queue
is a doubly linked list threaded through the threads themselves (``Thread.w_prev`` and
``w_next``): adding and removing a waiter allocates nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .thread import Thread


class WaitQ:
    """Waiters ordered by priority (lower number first), then by arrival."""

    __slots__ = ("head", "tail", "count", "owner")

    def __init__(self, owner: object = None) -> None:
        self.head: Thread | None = None
        self.tail: Thread | None = None
        self.count = 0
        self.owner = owner          # the kernel object, for reports of blocked threads

    def add(self, thread: Thread) -> None:
        """Queue ``thread`` behind every waiter of its own or a more urgent priority."""
        prio = thread.prio
        after = self.tail
        while after is not None and after.prio > prio:
            after = after.w_prev
        thread.w_prev = after
        if after is None:
            nxt = self.head
            self.head = thread
        else:
            nxt = after.w_next
            after.w_next = thread
        thread.w_next = nxt
        if nxt is None:
            self.tail = thread
        else:
            nxt.w_prev = thread
        self.count += 1

    def remove(self, thread: Thread) -> None:
        """Unlink ``thread`` (nothing happens when it does not wait here)."""
        if thread.waitq is not self:
            return
        prv = thread.w_prev
        nxt = thread.w_next
        if prv is None:
            self.head = nxt
        else:
            prv.w_next = nxt
        if nxt is None:
            self.tail = prv
        else:
            nxt.w_prev = prv
        thread.w_prev = thread.w_next = None
        self.count -= 1

    def first(self) -> Thread | None:
        return self.head

    def pop(self) -> Thread | None:
        """Unlink and return the most urgent waiter (None when empty)."""
        thread = self.head
        if thread is not None:
            nxt = thread.w_next
            self.head = nxt
            if nxt is None:
                self.tail = None
            else:
                nxt.w_prev = None
            thread.w_next = None
            self.count -= 1
        return thread

    def reprioritise(self, thread: Thread) -> None:
        """Re-sort ``thread`` after its priority changed."""
        self.remove(thread)
        self.add(thread)

    def __len__(self) -> int:
        return self.count

    def __bool__(self) -> bool:
        return self.head is not None

    def __iter__(self) -> Iterator[Thread]:
        out = []
        thread = self.head
        while thread is not None:
            out.append(thread)
            thread = thread.w_next
        return iter(out)
