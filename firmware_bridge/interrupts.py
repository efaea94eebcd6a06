"""SIGINT, SIGTERM and SIGHUP as an exception, so a bridge command ends cleanly.

Inside ``on_signals()`` the first such signal raises :class:`Interrupted` in the main
thread (ports are closed and temporary files removed as it unwinds); later ones are
ignored until the block ends. The command then exits with status 128 + N.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from zsim.run_guard import SIGNALS, signal_name


class Interrupted(BaseException):
    """A signal asked the command to stop; ``status`` is 128 + its number."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.name = signal_name(signum)
        super().__init__(f"interrupted by {self.name}")

    @property
    def status(self) -> int:
        """The exit status: 128 + the signal number."""
        return 128 + self.signum


@contextlib.contextmanager
def on_signals() -> Iterator[None]:
    """Raise :class:`Interrupted` on the first SIGINT/SIGTERM/SIGHUP inside the block."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    raised = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal raised
        if not raised:
            raised = True
            raise Interrupted(signum)

    saved = {s: signal.signal(s, handler) for s in SIGNALS}
    try:
        yield
    finally:
        for s, old in saved.items():
            signal.signal(s, old)


__all__ = ["Interrupted", "SIGNALS", "on_signals"]
