"""zsim: a simulator of Zephyr RTOS firmware built on packet_io.

``from zsim import Kernel, K_MSEC, errno`` gives the kernel; ``zsim.net_buf`` and
``zsim.packet_io`` hold the buffer pools and the packet distribution framework.

The kernel, net_buf and packet_io hot paths run compiled when the install built them
(``zsim.COMPILED``, ``zsim.build_info``); ``ZSIM_PURE_PYTHON=1`` runs the same modules from
their sources.
"""

from . import _pure, build_info, errno  # noqa: F401 - _pure first: it chooses compiled or .py
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

COMPILED: bool = build_info.all_compiled()
"""True when every hot module runs compiled (Cython); ``build_info.status()`` tells each."""

__version__ = "0.1.0"

__all__ = [
    "COMPILED", "BoardError", "ConfigError", "ContextError", "DeadlockError", "Fifo", "K_FOREVER",
    "K_HOURS", "K_MINUTES", "K_MSEC", "K_NO_WAIT", "K_NSEC", "K_SECONDS", "K_SEM_MAX_LIMIT",
    "K_TICKS", "K_TICKS_FOREVER", "K_TIMEOUT_ABS_MS", "K_TIMEOUT_ABS_TICKS", "K_TIMEOUT_ABS_US",
    "K_USEC", "Kernel", "KernelAssertionError", "Lifo", "MsgQ", "Mutex", "NetBuf", "NetBufError",
    "NetBufPool", "RunResult", "Sem", "Spinlock", "Thread", "Timeout", "Timer", "Work",
    "WorkDelayable", "WorkQueue", "ZsimError", "errno",
]
