"""The rich progress bar of ``zsim.progress`` (imported only when a bar is shown)."""

from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn
from rich.text import Text


class _SimTimeColumn(ProgressColumn):
    """``sim 1.200/10.000 s``: virtual time reached and the run's duration."""

    def render(self, task: Task) -> Text:
        total = task.total or 0
        return Text(f"sim {task.completed / 1e6:.3f}/{total / 1e6:.3f} s")


class _WallColumn(ProgressColumn):
    """Wall time since the run started."""

    def render(self, task: Task) -> Text:
        return Text(f"wall {task.fields.get('wall', 0.0):.1f} s")


def make_bar(stream: TextIO) -> Progress:
    """A transient bar on ``stream``: virtual time reached and wall time."""
    return Progress(TextColumn("[bold]zsim run"), BarColumn(bar_width=24), _SimTimeColumn(),
                    _WallColumn(), console=Console(file=stream), transient=True,
                    auto_refresh=False, redirect_stdout=False, redirect_stderr=False)
