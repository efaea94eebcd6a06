"""The kernel simulator: time, threads, scheduling and kernel objects."""

from .console import Console, Logger
from .core import Kernel, RunResult
from .fifo import Fifo, Lifo
from .msgq import MsgQ
from .mutex import Mutex
from .sem import K_SEM_MAX_LIMIT, Sem
from .spinlock import Spinlock
from .thread import Thread
from .time_units import (
    K_FOREVER,
    K_HOURS,
    K_MINUTES,
    K_MSEC,
    K_NO_WAIT,
    K_NSEC,
    K_SECONDS,
    K_TICKS,
    K_TICKS_FOREVER,
    K_TIMEOUT_ABS_MS,
    K_TIMEOUT_ABS_TICKS,
    K_TIMEOUT_ABS_US,
    K_USEC,
    Timeout,
)
from .timer import Timer
from .work import Work, WorkDelayable, WorkQueue

__all__ = [
    "Console", "Fifo", "K_FOREVER", "K_HOURS", "K_MINUTES", "K_MSEC", "K_NO_WAIT", "K_NSEC",
    "K_SECONDS", "K_SEM_MAX_LIMIT", "K_TICKS", "K_TICKS_FOREVER", "K_TIMEOUT_ABS_MS",
    "K_TIMEOUT_ABS_TICKS", "K_TIMEOUT_ABS_US", "K_USEC", "Kernel", "Lifo", "Logger", "MsgQ",
    "Mutex", "RunResult", "Sem", "Spinlock", "Thread", "Timeout", "Timer", "Work",
    "WorkDelayable", "WorkQueue",
]
