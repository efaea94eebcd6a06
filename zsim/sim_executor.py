"""The simulator as an executor: runs a model on a fresh ``Kernel``.

``zsim run``, ``zsim crosscheck`` and ``zsim twister`` run models on the simulator through
``SimulatorExecutor``; the virtual board and real boards have their executors in
firmware_bridge behind the same ``Executor`` interface.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TextIO

from .errors import KernelAssertionError
from .executor import EventSink, Executor, RunOutcome
from .kernel.core import Kernel
from .kernel.time_units import K_SECONDS, K_TIMEOUT_ABS_TICKS, Timeout
from .model import load_model
from .summary import summarize
from .trace import TraceRecorder, header, packet_stats

DEFAULT_TOPOLOGY_DURATION = K_SECONDS(10)
PROGRESS_STEPS = 100


class SimulatorExecutor(Executor):
    """Runs models (``model.py`` or ``topology.yaml``) on the kernel simulator.

    The outcome's ``events`` follow docs/trace-format.md: console lines always; with
    ``trace=True`` (the default, as the bridge executors always report packets) every
    packet event too (``send``, ``deliver``, ``enqueue``, ``drop``, ``handle``, ``fault``,
    ``alloc``, ``free``, and for topologies ``alloc_fail``, ``process``, ``step``);
    ``trace_switches=True`` adds ``switch`` events. The run ends with a ``stats`` event
    whose counters are also in ``outcome.stats`` ({"sources", "sinks", "queues", "pools"}
    by name, the bridge's counter names). ``trace=False`` keeps only console and stats
    (the fastest runs).

    ``on_event`` (given to ``run``) receives each event as it happens, whatever ``trace``
    says about what is kept; when it returns ``True`` the run ends at the next reschedule
    point (a harness that has seen what it waits for). ``progress(sim_us)`` is called as
    the run advances (for a progress bar). ``last_kernel`` keeps the kernel of the latest
    run for reports and exporters.

    A topology runs for ``duration``, else its own ``duration:``, else 10 s; a Python model
    without ``duration`` runs until nothing can happen any more.
    """

    target = "simulator"

    def __init__(self, *, board_dirs: Iterable[str | Path] = (), costs: str = "board",
                 echo: TextIO | None = None, trace: bool = True,
                 trace_switches: bool = False,
                 progress: Callable[[float], None] | None = None) -> None:
        self.board_dirs = tuple(board_dirs)
        self.costs = costs
        self.echo = echo
        self.trace = trace
        self.trace_switches = trace_switches
        self.progress = progress
        self.last_kernel: Kernel | None = None

    def run(self, scenario: str | Path, *, board: str | None = None,
            duration: Timeout | None = None, seed: int = 0,
            config: Mapping[str, object] | str | None = None,
            on_event: EventSink | None = None) -> RunOutcome:
        """Run the model at ``scenario`` for ``duration`` of virtual time."""
        model = load_model(scenario)
        k = Kernel(board=board or "native_sim", config=model.kernel_config(config), seed=seed,
                   echo=self.echo, board_dirs=self.board_dirs, costs=self.costs)
        self.last_kernel = k
        if duration is None and model.topology is not None:
            duration = model.topology.duration or DEFAULT_TOPOLOGY_DURATION
        out = RunOutcome(target=self.target, board=k.board.identifier,
                         ticks_per_sec=k.ticks_per_sec)
        out.header = header(target=self.target, board=k.board.identifier,
                            ticks_per_sec=k.ticks_per_sec, seed=seed, scenario=str(scenario))
        rec = TraceRecorder(k, on_event, packets=self.trace or on_event is not None,
                            switches=self.trace_switches)
        rec.events = out.events
        rec.install()
        try:
            model.main(k)
            result = self._run(k, duration)
            out.stop_reason = result.reason
            if result.reason == "idle" and result.blocked:
                out.blocked = [t.name for t in result.blocked]
        except KernelAssertionError as exc:
            out.error = f"kernel assertion: {exc}"
        except Exception as exc:  # a simulated thread crashed; the message names it
            out.error = f"{type(exc).__name__}: {exc}"
        finally:
            rec.uninstall()
        if not self.trace:
            out.events[:] = [ev for ev in out.events if ev["type"] == "console"]
        out.console = [ev["line"] for ev in out.events if ev["type"] == "console"]
        out.uptime_ticks = k.uptime_ticks()
        out.stats = packet_stats(k)
        stats_ev = {"type": "stats", "tick": out.uptime_ticks, "us": k.now_us, **out.stats}
        out.events.append(stats_ev)
        if on_event is not None:
            on_event(stats_ev)
        out.summary = summarize(k)
        return out

    def _run(self, k: Kernel, duration: Timeout | None):  # noqa: ANN202 - a RunResult
        if self.progress is None or duration is None or duration.is_forever:
            result = k.run(until=duration)
        else:
            end = k.uptime_ticks() + max(0, k.ticks_of(duration))
            step = max(1, (end - k.uptime_ticks()) // PROGRESS_STEPS)
            while True:
                result = k.run(until=K_TIMEOUT_ABS_TICKS(min(end, k.uptime_ticks() + step)))
                self.progress(k.now_us)
                if result.reason != "until" or k.uptime_ticks() >= end:
                    break
        if self.progress is not None:
            self.progress(k.now_us)
        return result


__all__ = ["SimulatorExecutor"]
