"""Work queues: ``k_work``, ``k_work_delayable`` and ``k_work_q`` (kernel/work.c).

A work queue thread takes items in submission order, runs each handler, and yields after
each one. The system work queue runs at ``CONFIG_SYSTEM_WORKQUEUE_PRIORITY`` (-1).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import errno
from .objects import check_kernel
from .time_units import K_FOREVER, Timeout
from .wait_q import WaitQ

if TYPE_CHECKING:
    from .core import Kernel, _Timeout
    from .thread import Thread

K_WORK_RUNNING = 1 << 0
K_WORK_CANCELING = 1 << 1
K_WORK_QUEUED = 1 << 2
K_WORK_DELAYED = 1 << 3


class WorkQueue:
    """``k_work_q``: a thread that runs submitted work items."""

    __slots__ = ("k", "name", "pending", "thread", "notify")

    def __init__(self, k: Kernel, name: str = "workq") -> None:
        self.k = check_kernel(k)
        self.name = name
        self.pending: deque[Work] = deque()
        self.thread: Thread | None = None
        self.notify = WaitQ(self)

    def start(self, priority: int = -1, stack_size: int = 1024) -> None:
        """``k_work_queue_start``."""
        self.thread = self.k.thread_create(self._main, name=self.name, priority=priority,
                                           stack_size=stack_size)

    def _main(self) -> None:
        k = self.k
        while True:
            if not self.pending:
                k._pend(self.notify, K_FOREVER)
                continue
            work = self.pending.popleft()
            work.flags = (work.flags & ~K_WORK_QUEUED) | K_WORK_RUNNING
            work.handler(work)
            # finalize_cancel_locked: a cancel that waited for the handler completes here.
            work.flags &= ~(K_WORK_RUNNING | K_WORK_CANCELING)
            if not work.flags & K_WORK_QUEUED:
                work.queue = None
            while work.waiters:
                k._wake_first(work.waiters, 0)
            k.yield_()

    def _submit(self, work: Work) -> int:
        if work.flags & K_WORK_CANCELING:
            return -errno.EBUSY
        if work.flags & K_WORK_QUEUED:
            return 0
        ret = 1
        queue = self
        if work.flags & K_WORK_RUNNING and work.queue is not None:
            queue, ret = work.queue, 2  # re-queue where it runs
        if queue.thread is None:
            return -errno.ENODEV
        work.flags |= K_WORK_QUEUED
        work.queue = queue
        queue.pending.append(work)
        if queue.notify:
            self.k._wake_first(queue.notify, 0)
        return ret


class Work:
    """``k_work``: ``Work(k, handler)``; the handler takes the work item."""

    __slots__ = ("k", "handler", "flags", "queue", "waiters", "user_data")

    def __init__(self, k: Kernel, handler: Callable[[Work], None]) -> None:
        self.k = check_kernel(k)
        self.handler = handler
        self.flags = 0
        self.queue: WorkQueue | None = None
        self.waiters = WaitQ(self)
        self.user_data = None

    def submit(self, queue: WorkQueue | None = None) -> int:
        """``k_work_submit(_to_queue)``: 1 queued, 0 already queued, 2 queued again while
        running, ``-EBUSY`` while being cancelled."""
        k = self.k
        ret = (queue or k.sys_work_q)._submit(self)
        if ret > 0:
            k._resched()
        return ret

    def busy_get(self) -> int:
        """``k_work_busy_get``: the RUNNING/CANCELING/QUEUED/DELAYED flags."""
        return self.flags

    def is_pending(self) -> bool:
        """``k_work_is_pending``."""
        return bool(self.flags & (K_WORK_QUEUED | K_WORK_DELAYED | K_WORK_RUNNING))

    def cancel(self) -> int:
        """``k_work_cancel``: unqueue if queued; a running item is marked cancelling (new
        submissions get ``-EBUSY`` until its handler returns). Returns the busy flags."""
        if self.flags & K_WORK_QUEUED and self.queue is not None:
            self.queue.pending.remove(self)
            self.flags &= ~K_WORK_QUEUED
        if self.flags & K_WORK_RUNNING:
            self.flags |= K_WORK_CANCELING
        return self.flags

    def cancel_sync(self) -> bool:
        """``k_work_cancel_sync``: cancel and wait until the handler is no longer running;
        True if the item was busy."""
        busy = self.cancel()
        if busy & K_WORK_RUNNING:
            self.k._pend(self.waiters, K_FOREVER)
        return bool(busy)

    def flush(self) -> bool:
        """``k_work_flush``: wait until the item is neither queued nor running."""
        k = self.k
        if not self.flags & (K_WORK_QUEUED | K_WORK_RUNNING):
            return False
        k._pend(self.waiters, K_FOREVER)
        return True


class WorkDelayable(Work):
    """``k_work_delayable``: work submitted after a delay."""

    __slots__ = ("_to", "_target")

    def __init__(self, k: Kernel, handler: Callable[[Work], None]) -> None:
        super().__init__(k, handler)
        self._to: _Timeout | None = None
        self._target: WorkQueue | None = None

    def _schedule(self, queue: WorkQueue, delay: Timeout) -> int:
        k = self.k
        if k.ticks_of(delay) == 0 and not delay.is_absolute:
            return queue._submit(self)
        self.flags |= K_WORK_DELAYED
        self._target = queue
        self._to = k._add_timeout(k._deadline(delay), self._expired, None)
        return 1

    def _expired(self, _arg: object) -> None:
        self._to = None
        self.flags &= ~K_WORK_DELAYED
        if self._target is not None:
            self._target._submit(self)

    def schedule(self, delay: Timeout, queue: WorkQueue | None = None) -> int:
        """``k_work_schedule(_for_queue)``: 1 scheduled, 0 already scheduled or queued."""
        if self.flags & (K_WORK_DELAYED | K_WORK_QUEUED):
            return 0
        ret = self._schedule(queue or self.k.sys_work_q, delay)
        if ret > 0:
            self.k._resched()
        return ret

    def reschedule(self, delay: Timeout, queue: WorkQueue | None = None) -> int:
        """``k_work_reschedule(_for_queue)``: cancel any pending delay and schedule anew."""
        self._unschedule()
        ret = self._schedule(queue or self.k.sys_work_q, delay)
        if ret > 0:
            self.k._resched()
        return ret

    def _unschedule(self) -> None:
        if self.flags & K_WORK_DELAYED:
            self.k._cancel_timeout(self._to)
            self._to = None
            self.flags &= ~K_WORK_DELAYED

    def cancel(self) -> int:
        """``k_work_cancel_delayable``: stop the delay and unqueue; returns busy flags."""
        self._unschedule()
        return super().cancel()

    def remaining_ticks(self) -> int:
        """``k_work_delayable_remaining_get`` in ticks."""
        if self._to is None or not self._to.active:
            return 0
        return max(self._to.deadline - self.k.uptime_ticks(), 0)
