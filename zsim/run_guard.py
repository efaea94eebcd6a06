"""Wall-clock limits and signals for a command that runs a simulation.

``RunGuard`` turns SIGINT, SIGTERM and SIGHUP, and an optional wall-clock limit, into a
stop of the simulation at the current virtual time, so the command can still report and
write what it has. The stop is asked of the kernel first (``Kernel.stop``: it takes effect
at the next reschedule point); a simulated thread that never gives the kernel a chance
(``while True: pass``) gets :class:`RunStopped` raised where it runs after a short grace
time. A second signal exits at once with status 128 + N, after removing the temporary
files of outputs being written (:mod:`zsim.export.atomic`).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from .errors import RunStopped

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                if hasattr(signal, name))
GRACE_S = 0.5                   # for a cooperative stop before RunStopped is raised
_PACKAGE = str(Path(__file__).resolve().parent)


def signal_name(signum: int) -> str:
    """``SIGINT`` for 2, and so on."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def model_location(frame: FrameType | None) -> str | None:
    """``file:line in function()`` of the innermost frame outside zsim itself (the
    model's code), else of the innermost frame."""
    first = None
    while frame is not None:
        code = frame.f_code
        where = f"{code.co_filename}:{frame.f_lineno} in {code.co_name}()"
        first = first or where
        if not code.co_filename.startswith((_PACKAGE, "<")):
            return where
        frame = frame.f_back
    return first


class RunGuard:
    """Signals and a wall-clock limit around one run (a context manager, main thread).

    Set ``stop`` to the running kernel's ``stop`` once there is one. After the run,
    ``signum`` names the signal that stopped it and ``timed_out`` tells whether the
    wall-clock limit did, with ``where`` (the code that was running then) and ``thread``.
    """

    def __init__(self, wall_timeout: float | None = None,
                 current_thread: Callable[[], str | None] | None = None) -> None:
        if wall_timeout is not None and not wall_timeout > 0:
            raise ValueError(f"--wall-timeout must be a positive number of seconds, "
                             f"got {wall_timeout}")
        self.wall_timeout = wall_timeout
        self.current_thread = current_thread
        self.stop: Callable[[], None] | None = None
        self.signum: int | None = None
        self.timed_out = False
        self.where: str | None = None
        self.thread: str | None = None
        self._asked = False             # a stop was asked of the kernel
        self._running = False           # the simulation runs (else: finishing up)
        self._saved: dict[int, object] = {}
        self._active = False

    # ------------------------------------------------------------ life cycle
    def __enter__(self) -> RunGuard:
        if threading.current_thread() is not threading.main_thread():
            return self                 # signals can only be handled in the main thread
        self._active = True
        for s in (*SIGNALS, signal.SIGALRM):
            self._saved[s] = signal.signal(s, self._on_signal if s != signal.SIGALRM
                                           else self._on_alarm)
        if self.wall_timeout is not None:
            signal.setitimer(signal.ITIMER_REAL, self.wall_timeout)
        self._running = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.finished()
        if self._active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            for s, handler in self._saved.items():
                signal.signal(s, handler)
            self._active = False

    def finished(self) -> None:
        """The simulation is over: later signals are remembered (the status says so) and
        a second one exits at once; the wall clock no longer counts."""
        self._running = False
        if self._active:
            signal.setitimer(signal.ITIMER_REAL, 0)

    @property
    def stopped(self) -> bool:
        return self.signum is not None or self.timed_out

    @property
    def exit_status(self) -> int | None:
        """128 + the signal number after a signal, else None."""
        return 128 + self.signum if self.signum is not None else None

    # ------------------------------------------------------------ handlers
    def _ask_stop(self) -> None:
        self._asked = True
        if self.stop is not None:
            self.stop()
        signal.setitimer(signal.ITIMER_REAL, GRACE_S)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:
            exit_now(signum)
        self.signum = signum
        if self._running:
            if not self._asked:
                self._ask_stop()
            if self.stop is None:       # nothing runs yet: stop the command itself
                raise RunStopped(f"interrupted by {signal_name(signum)}")

    def _on_alarm(self, signum: int, frame: FrameType | None) -> None:
        if not self._running:
            return
        if not self._asked:             # the wall-clock limit
            self.timed_out = True
            self.where = model_location(frame)
            self.thread = self.current_thread() if self.current_thread else None
            self._ask_stop()
            if self.stop is None:
                raise RunStopped(f"wall-clock limit of {self.wall_timeout:g} s reached")
            return
        # The kernel did not get back to its scheduler in time: stop the code that runs.
        if self.where is None:
            self.where = model_location(frame)
            self.thread = self.current_thread() if self.current_thread else None
        raise RunStopped("the simulation did not reach a reschedule point")


def exit_now(signum: int) -> None:
    """A second signal: remove temporary output files, end the plot's child and exit with
    128 + N (``zsim run``, and ``zsim sweep`` once its workers are ended)."""
    from .export.atomic import discard_all

    discard_all()
    plot = sys.modules.get("zsim.export.plot")
    if plot is not None:
        plot.end_children()
    try:
        sys.stderr.write(f"\nzsim: {signal_name(signum)} again: exiting now, no output "
                         "written\n")
        sys.stderr.flush()
    finally:
        os._exit(128 + signum)


__all__ = ["GRACE_S", "SIGNALS", "RunGuard", "exit_now", "model_location", "signal_name"]
