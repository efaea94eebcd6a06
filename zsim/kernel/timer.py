"""``k_timer``: one-shot and periodic timers (kernel/timer.c).

The expiry function runs in ISR context: it may not block, and a thread it wakes runs once
the interrupt returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .memory import Layout, MemoryEntry
from .objects import check_kernel
from .time_units import K_FOREVER, K_NO_WAIT, Timeout
from .wait_q import WaitQ

if TYPE_CHECKING:
    from .core import Kernel, _Timeout


class Timer:
    """``Timer(k, expiry_fn=None, stop_fn=None)``; both callbacks take the timer."""

    __slots__ = ("k", "name", "expiry_fn", "stop_fn", "period", "status", "user_data",
                 "_to", "wait_q")

    def __init__(self, k: Kernel, expiry_fn: Callable[[Timer], None] | None = None,
                 stop_fn: Callable[[Timer], None] | None = None, name: str | None = None
                 ) -> None:
        self.k = check_kernel(k)
        self.name = name
        self.expiry_fn = expiry_fn
        self.stop_fn = stop_fn
        self.period = 0                 # ticks between periodic expiries (0: one-shot)
        self.status = 0
        self.user_data: Any = None
        self._to: _Timeout | None = None
        self.wait_q = WaitQ(self)
        k.register(self)

    def start(self, duration: Timeout, period: Timeout = K_NO_WAIT) -> None:
        """``k_timer_start``: first expiry after ``duration``, then every ``period``.

        As in Zephyr, the first expiry comes ``duration`` ticks after the current tick (no
        extra tick is added), and periodic expiries are spaced exactly ``period`` ticks.
        """
        k = self.k
        dticks = k.ticks_of(duration)
        if dticks == -1:
            return
        pticks = k.ticks_of(period)
        self.period = 0 if pticks in (0, -1) else max(pticks, 1)
        k._cancel_timeout(self._to)
        self.status = 0
        now = k.uptime_ticks()
        if duration.is_absolute:
            deadline = now + max(1, dticks - now)
        else:
            deadline = now + max(dticks - 1, 0) + 1
        self._to = k._add_timeout(deadline, self._expire, None)

    def _expire(self, _arg: object) -> None:
        k = self.k
        deadline = self._to.deadline
        if self.period:
            self._to = k._add_timeout(deadline + self.period, self._expire, None)
        else:
            self._to = None
        self.status += 1
        if self.expiry_fn is not None:
            self.expiry_fn(self)
        while self.wait_q:
            k._wake_first(self.wait_q, 0)

    def stop(self) -> None:
        """``k_timer_stop``: cancel; runs ``stop_fn`` if the timer was running."""
        k = self.k
        if self._to is None or not self._to.active:
            return
        k._cancel_timeout(self._to)
        self._to = None
        if self.stop_fn is not None:
            self.stop_fn(self)
        woke = False
        while self.wait_q:
            k._wake_first(self.wait_q, 0)
            woke = True
        if woke:
            k._resched()

    def status_get(self) -> int:
        """``k_timer_status_get``: expiries since the last read; resets the count."""
        status, self.status = self.status, 0
        return status

    def status_sync(self) -> int:
        """``k_timer_status_sync``: wait for the next expiry (or stop) if none is pending."""
        k = self.k
        k._thread_only("k_timer_status_sync")
        if self.status == 0 and self._to is not None and self._to.active:
            k._pend(self.wait_q, K_FOREVER)
        return self.status_get()

    def remaining_ticks(self) -> int:
        """``k_timer_remaining_ticks``."""
        if self._to is None or not self._to.active:
            return 0
        return max(self._to.deadline - self.k.uptime_ticks(), 0)

    def remaining_get(self) -> int:
        """``k_timer_remaining_get``: milliseconds, rounded down."""
        return self.remaining_ticks() * 1000 // self.k.ticks_per_sec

    def ram_usage(self, lay: Layout) -> list[MemoryEntry]:
        return [MemoryEntry(self.name or "k_timer", "k_timer", lay.timer)]

    @property
    def running(self) -> bool:
        return self._to is not None and self._to.active
