"""The simulator as an executor: runs a model on a fresh ``Kernel``.

``zsim run``, ``zsim crosscheck`` and ``zsim twister`` run models on the simulator through
``SimulatorExecutor``; the virtual board and real boards have their executors in
firmware_bridge behind the same ``Executor`` interface.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TextIO

from . import __version__
from .errors import KernelAssertionError
from .executor import EventSink, Executor, RunOutcome
from .kernel.core import Kernel
from .kernel.time_units import Timeout
from .model import load_model
from .summary import summarize


class SimulatorExecutor(Executor):
    """Runs models on the kernel simulator.

    ``on_event`` receives each trace event as it happens; when it returns ``True`` the run
    ends at the next reschedule point (a harness that has seen what it waits for).
    ``last_kernel`` keeps the kernel of the latest run for reports and exporters.
    """

    target = "simulator"

    def __init__(self, *, board_dirs: Iterable[str | Path] = (), costs: str = "board",
                 echo: TextIO | None = None) -> None:
        self.board_dirs = tuple(board_dirs)
        self.costs = costs
        self.echo = echo
        self.last_kernel: Kernel | None = None

    def run(self, scenario: str | Path, *, board: str | None = None,
            duration: Timeout | None = None, seed: int = 0,
            config: Mapping[str, object] | str | None = None,
            on_event: EventSink | None = None) -> RunOutcome:
        """Run the model at ``scenario`` for ``duration`` of virtual time (``None``: until
        nothing can happen any more)."""
        model = load_model(scenario)
        if config is None and model.prj_conf is not None:
            config = str(model.prj_conf)
        k = Kernel(board=board or "native_sim", config=config, seed=seed, echo=self.echo,
                   board_dirs=self.board_dirs, costs=self.costs)
        self.last_kernel = k
        out = RunOutcome(target=self.target, board=k.board.identifier,
                         ticks_per_sec=k.ticks_per_sec)
        out.header = {"type": "header", "format": "zsim-trace", "version": 1,
                      "target": self.target, "board": k.board.identifier,
                      "ticks_per_sec": k.ticks_per_sec, "seed": seed,
                      "scenario": str(scenario), "zsim": __version__}

        def on_line(line: str) -> None:
            ev = {"type": "console", "tick": k.uptime_ticks(), "us": k.now_us, "line": line}
            out.events.append(ev)
            out.console.append(line)
            if on_event is not None and on_event(ev):
                k.stop()

        k.console.subscribe(on_line)
        try:
            model.main(k)
            result = k.run(until=duration)
            out.stop_reason = result.reason
            if result.reason == "idle" and result.blocked:
                out.blocked = [t.name for t in result.blocked]
        except KernelAssertionError as exc:
            out.error = f"kernel assertion: {exc}"
        except Exception as exc:  # a simulated thread crashed; the message names it
            out.error = f"{type(exc).__name__}: {exc}"
        finally:
            k.console.flush()
            k.console.unsubscribe(on_line)
        out.uptime_ticks = k.uptime_ticks()
        out.summary = summarize(k)
        return out


__all__ = ["SimulatorExecutor"]
