"""Executors: one interface to run a scenario on a target.

``zsim run``, ``zsim crosscheck``, ``zsim hil run`` and ``zsim twister`` all run scenarios
through an ``Executor``: the simulator here, the virtual board and real boards in
firmware_bridge. A new kind of target is a new subclass and touches nothing else.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .kernel.time_units import Timeout

EventSink = Callable[[dict[str, Any]], None]


@dataclass
class RunOutcome:
    """What one run of a scenario produced, on any target.

    ``events`` follow docs/trace-format.md (without the header line); ``error`` is set when
    the run ended early (a crash, a kernel assertion, a lost connection), and everything
    received until then is kept.
    """

    target: str                              # "simulator" | "virtual-board" | "device"
    board: str
    ticks_per_sec: int
    events: list[dict[str, Any]] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    uptime_ticks: int = 0
    error: str | None = None
    header: dict[str, Any] = field(default_factory=dict)
    stop_reason: str = ""                    # "until" | "idle" | "stopped" ("" if unknown)
    blocked: list[str] = field(default_factory=list)    # threads blocked forever at the end
    summary: dict[str, Any] = field(default_factory=dict)  # simulator: zsim.summary output
    traceback: str | None = None             # the crashed thread's Python traceback
    stopped_by: str | None = None            # why the run was stopped from outside
    started: bool = True                     # False: it failed before its first instant
    error_type: str | None = None            # the exception class behind ``error``

    @property
    def ok(self) -> bool:
        return self.error is None


class Executor(ABC):
    """Runs scenarios on one target."""

    target: str = "simulator"

    @abstractmethod
    def run(self, scenario: str | Path, *, board: str | None = None,
            duration: Timeout | None = None, seed: int = 0,
            config: Mapping[str, object] | str | None = None,
            on_event: EventSink | None = None) -> RunOutcome:
        """Run ``scenario`` (a model directory or file) for ``duration`` of target time.

        ``on_event`` sees each trace event as it happens (for live output and for keeping
        a partial trace when the target fails)."""

    def close(self) -> None:
        """Release the target (ports, processes); the default has nothing to release."""
        return None

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
