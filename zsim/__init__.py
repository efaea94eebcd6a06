"""zsim: a simulator of Zephyr RTOS firmware built on packet_io.

``from zsim import Kernel, K_MSEC, errno`` gives the kernel; ``zsim.net_buf`` and
``zsim.packet_io`` hold the buffer pools and the packet distribution framework.
"""

from . import errno
from .errors import (
    BoardError,
    ConfigError,
    ContextError,
    DeadlockError,
    KernelAssertionError,
    NetBufError,
    ZsimError,
)
from .kernel import (
    K_FOREVER,
    K_HOURS,
    K_MINUTES,
    K_MSEC,
    K_NO_WAIT,
    K_NSEC,
    K_SECONDS,
    K_SEM_MAX_LIMIT,
    K_TICKS,
    K_TICKS_FOREVER,
    K_TIMEOUT_ABS_MS,
    K_TIMEOUT_ABS_TICKS,
    K_TIMEOUT_ABS_US,
    K_USEC,
    Fifo,
    Kernel,
    Lifo,
    MsgQ,
    Mutex,
    RunResult,
    Sem,
    Spinlock,
    Thread,
    Timeout,
    Timer,
    Work,
    WorkDelayable,
    WorkQueue,
)
from .net_buf import NetBuf, NetBufPool

__version__ = "0.1.0"

__all__ = [
    "BoardError", "ConfigError", "ContextError", "DeadlockError", "Fifo", "K_FOREVER",
    "K_HOURS", "K_MINUTES", "K_MSEC", "K_NO_WAIT", "K_NSEC", "K_SECONDS", "K_SEM_MAX_LIMIT",
    "K_TICKS", "K_TICKS_FOREVER", "K_TIMEOUT_ABS_MS", "K_TIMEOUT_ABS_TICKS", "K_TIMEOUT_ABS_US",
    "K_USEC", "Kernel", "KernelAssertionError", "Lifo", "MsgQ", "Mutex", "NetBuf",
    "NetBufError", "NetBufPool", "RunResult", "Sem", "Spinlock", "Thread", "Timeout", "Timer",
    "Work", "WorkDelayable", "WorkQueue", "ZsimError", "errno",
]
