"""Stop signals for ``zsim twister``: the first one winds the run down, the second aborts
(``zsim.stop_signals``); and how its worker processes treat them.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

from zsim.run_guard import SIGNALS as STOP_SIGNALS
from zsim.run_guard import signal_name
from zsim.stop_signals import Abort, StopSignals


@contextlib.contextmanager
def signals_blocked() -> Iterator[None]:
    """Hold the stop signals back (they are delivered on leaving); a process started
    inside inherits them blocked, so it can set its own handlers before any arrives."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = mask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, old)


def ignore_stop_signals_in_worker() -> None:
    """In a worker process: SIGINT and SIGHUP are the parent's to handle (a terminal sends
    them to the whole process group), SIGTERM ends the worker; then unblock them."""
    for name in ("SIGINT", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


__all__ = ["Abort", "STOP_SIGNALS", "StopSignals", "ignore_stop_signals_in_worker",
           "signal_name", "signals_blocked"]
