"""Stop signals for commands that run many things (``zsim twister``, ``zsim sweep``): the
first one winds the run down, the second aborts.

SIGINT, SIGTERM and SIGHUP are caught while a run is in progress. The first is remembered
(:attr:`StopSignals.signum`) and the run checks it between its parts, so finished parts keep
their results and the reports are still written. A second one calls ``abort(signum)`` when
given (it may exit the process), else raises :class:`Abort` at once. A signal that was
ignored when the run started (``nohup``) stays ignored.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType

from .run_guard import SIGNALS, signal_name


class Abort(BaseException):
    """A second stop signal: leave now (a BaseException, so no ``except Exception`` keeps it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by {signal_name(signum)}")
        self.signum = signum


class StopSignals:
    """Catches the stop signals inside a ``with`` block (main thread only; elsewhere it
    catches nothing) and restores the previous handlers on leaving it. ``abort`` handles
    a second signal instead of raising :class:`Abort`."""

    def __init__(self, abort: Callable[[int], None] | None = None) -> None:
        self.signum: int | None = None
        self.abort = abort
        self._old: dict[int, object] = {}
        self._aborting = False

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
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
        if self.abort is not None:
            self.abort(signum)
            return
        raise Abort(signum)

    @property
    def stopped(self) -> bool:
        """A stop signal arrived."""
        return self.signum is not None


__all__ = ["Abort", "StopSignals"]
