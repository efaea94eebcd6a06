"""Stop signals for ``zsim twister``: the first one winds the run down, the second aborts.

SIGINT, SIGTERM and SIGHUP are caught while a run is in progress. The first is remembered
(:attr:`StopSignals.signum`) and the run checks it between events, so finished suites keep
their results and the reports are still written. A second one raises :class:`Abort` at
once. A signal that was ignored when the run started (``nohup``) stays ignored.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType, TracebackType

from zsim.run_guard import SIGNALS as STOP_SIGNALS
from zsim.run_guard import signal_name


class Abort(BaseException):
    """A second stop signal: leave now (a BaseException, so no ``except Exception`` keeps it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by {signal_name(signum)}")
        self.signum = signum


class StopSignals:
    """Catches the stop signals inside a ``with`` block (main thread only; elsewhere it
    catches nothing) and restores the previous handlers on leaving it."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._old: dict[int, object] = {}
        self._aborting = False

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                if signal.getsignal(sig) is signal.SIG_IGN:
                    continue
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        self._old.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum
            return
        if self._aborting:
            return
        self._aborting = True
        raise Abort(signum)

    @property
    def stopped(self) -> bool:
        """A stop signal arrived."""
        return self.signum is not None


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
