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
        "wake_tick", "created_at", "harness", "is_main", "rq", "q_prev", "q_next", "w_prev",
        "w_next", "sleep_to", "handling",
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
        self.rq: RunLevel | None = None     # the run queue of its priority (Kernel._place)
        self.q_prev: Thread | None = None   # neighbours in that run queue while ready
        self.q_next: Thread | None = None
        self.w_prev: Thread | None = None   # neighbours in a WaitQ while pending
        self.w_next: Thread | None = None
        self.sleep_to: Any = None           # a spent sleep timeout, reused by the next sleep
        self.handling: Any = None           # the queued event whose handler runs here (zsim)

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


class RunLevel:
    """The ready threads of one priority, in FIFO order (a list threaded through
    ``Thread.q_prev``/``q_next``); the kernel links the non-empty levels most urgent first
    (``next``/``prev``), so the thread to run is the head of the first level."""

    __slots__ = ("prio", "head", "tail", "prev", "next")

    def __init__(self, prio: int) -> None:
        self.prio = prio
        self.head: Thread | None = None
        self.tail: Thread | None = None
        self.prev: RunLevel | None = None
        self.next: RunLevel | None = None

    def __repr__(self) -> str:
        names = []
        t = self.head
        while t is not None:
            names.append(t.name)
            t = t.q_next
        return f"<RunLevel {self.prio} {names}>"
