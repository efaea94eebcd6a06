"""A progress bar for long runs: simulated time reached and wall time, on a terminal only.

The bar appears once a run has taken ``delay`` seconds of wall time, and only when the
output is a terminal; it is removed when the run ends, so what stays on screen is the
console and the summary.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress

class RunProgress:
    """Reports how far a run has got; ``update(sim_us)`` after each slice of the run.

    ``enabled`` defaults to whether ``stream`` (stdout) is a terminal.
    """

    def __init__(self, total_us: float, *, stream: TextIO | None = None,
                 enabled: bool | None = None, delay: float = 1.0,
                 clock: Any = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.enabled = _isatty(self.stream) if enabled is None else enabled
        self.total_us = float(total_us)
        self.delay = delay
        self.clock = clock
        self.started = clock()
        self.shown = False
        self._progress: Progress | None = None
        self._task: Any = None
        self._pending: list[str] = []

    def update(self, sim_us: float) -> None:
        """The run has reached ``sim_us`` of simulated time."""
        if not self.enabled:
            return
        wall = self.clock() - self.started
        if self._progress is None:
            if wall < self.delay:
                return
            from .progress_bar import make_bar  # rich only when a bar is shown

            self._progress = make_bar(self.stream)
            self._task = self._progress.add_task("run", total=self.total_us, wall=wall,
                                                 completed=min(sim_us, self.total_us))
            self._progress.start()
            self.shown = True
        self._flush_lines()
        self._progress.update(self._task, completed=min(sim_us, self.total_us), wall=wall)
        self._progress.refresh()

    def print_line(self, line: str) -> None:
        """Print one line of output above the bar (or plainly when there is no bar); under
        the bar, lines are printed together at the next update."""
        if self._progress is not None:
            self._pending.append(line)
        else:
            self.stream.write(line + "\n")

    def _flush_lines(self) -> None:
        if self._pending and self._progress is not None:
            from rich.text import Text

            self._progress.console.print(Text("\n".join(self._pending)), soft_wrap=True)
        self._pending.clear()

    def close(self) -> None:
        """Remove the bar (if it was shown)."""
        if self._progress is not None:
            self._flush_lines()
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> RunProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class EchoStream:
    """A text stream for the simulated console that keeps its lines above the bar."""

    def __init__(self, progress: RunProgress) -> None:
        self.progress = progress
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self.progress.print_line(line)
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self.progress.print_line(self._pending)
            self._pending = ""
        self.progress.stream.flush()

    def isatty(self) -> bool:
        return _isatty(self.progress.stream)
