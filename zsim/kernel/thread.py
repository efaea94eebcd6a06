"""``struct k_thread``: a simulated thread running on its own greenlet."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from greenlet import greenlet

    from .core import Kernel
    from .wait_q import WaitQ

# Thread states (a subset of kernel/include/ksched.h's flags, one at a time here).
PRESTART = "prestart"
READY = "ready"
PENDING = "pending"
SLEEPING = "sleeping"
SUSPENDED = "suspended"
DEAD = "dead"


class Thread:
    """One thread. Lower ``priority`` is more urgent; negative is cooperative."""

    __slots__ = (
        "kernel", "name", "prio", "base_prio", "fn", "args", "stack_size", "options", "g",
        "state", "waitq", "timeout", "retval", "data", "joiners", "result", "exc",
        "irq_locks", "cpu_units", "slice_start", "is_static", "delay", "service",
        "wake_tick", "created_at", "harness", "is_main", "rq", "rq_bit", "sleep_to",
    )

    def __init__(self, kernel: Kernel, fn: Callable[..., Any], args: tuple, name: str,
                 prio: int, stack_size: int) -> None:
        self.kernel = kernel
        self.name = name
        self.prio = prio
        self.base_prio = prio
        self.fn = fn
        self.args = args
        self.stack_size = stack_size
        self.options = 0
        self.g: greenlet | None = None
        self.state = PRESTART
        self.waitq: WaitQ | None = None     # the wait queue this thread is pended on
        self.timeout = None                 # its active timeout, if any
        self.retval = 0                     # what the blocking call returns when woken
        self.data: Any = None               # what the waker handed over (a message, a buffer)
        self.joiners = None
        self.result: Any = None
        self.exc: BaseException | None = None
        self.irq_locks = 0                  # spinlocks held: interrupts are masked while > 0
        self.cpu_units = 0                  # CPU time consumed, in kernel time units
        self.slice_start = 0
        self.is_static = False
        self.delay = None
        self.service = False                # a kernel service thread (work queue): never "stuck"
        self.harness = False                # created by Kernel.call to run a test body
        self.is_main = False                # the firmware's main() (Kernel.main_thread)
        self.wake_tick = 0
        self.created_at = 0
        self.rq: Any = None                 # the run queue of its priority (Kernel._place)
        self.rq_bit = 0                     # that queue's bit in the ready mask
        self.sleep_to: Any = None           # a spent sleep timeout, reused by the next sleep

    @property
    def priority(self) -> int:
        """The current (possibly inherited) priority."""
        return self.prio

    @priority.setter
    def priority(self, prio: int) -> None:
        self.kernel.thread_priority_set(self, prio)

    @property
    def is_cooperative(self) -> bool:
        return self.prio < 0

    @property
    def alive(self) -> bool:
        return self.state != DEAD

    def start(self) -> None:
        """``k_thread_start``: start a thread created with ``delay=K_FOREVER``."""
        self.kernel.thread_start(self)

    def join(self, timeout) -> int:
        """``k_thread_join``: 0, ``-EBUSY`` (K_NO_WAIT), ``-EAGAIN`` or ``-EDEADLK``."""
        return self.kernel.thread_join(self, timeout)

    def abort(self) -> None:
        """``k_thread_abort``."""
        self.kernel.thread_abort(self)

    def wakeup(self) -> None:
        """``k_wakeup``: end a sleep early."""
        self.kernel.wakeup(self)

    def suspend(self) -> None:
        """``k_thread_suspend``."""
        self.kernel.thread_suspend(self)

    def resume(self) -> None:
        """``k_thread_resume``."""
        self.kernel.thread_resume(self)

    @property
    def waiting_on(self) -> object:
        """The kernel object this thread is pended on, if any."""
        return self.waitq.owner if self.waitq is not None else None

    def __repr__(self) -> str:
        return f"<Thread {self.name!r} prio={self.prio} {self.state}>"
