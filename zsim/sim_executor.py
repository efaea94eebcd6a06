"""The simulator as an executor: runs a model on a fresh ``Kernel``.

``zsim run``, ``zsim crosscheck`` and ``zsim twister`` run models on the simulator through
``SimulatorExecutor``; the virtual board and real boards have their executors in
firmware_bridge behind the same ``Executor`` interface.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TextIO

from .errors import BoardError, ConfigError, KernelAssertionError, RunStopped
from .executor import EventSink, Executor, RunOutcome
from .kernel.core import Kernel
from .kernel.memory import LinkError
from .kernel.time_units import K_SECONDS, K_TIMEOUT_ABS_TICKS, Timeout
from .model import Model, load_model
from .summary import summarize
from .topology import check_fits
from .topology.loader import TopologyError
from .trace import LevelHook, LineSink, RawHook, TraceRecorder, header, packet_stats

DEFAULT_TOPOLOGY_DURATION = K_SECONDS(10)
BAD_INPUT = (ConfigError, BoardError, LinkError, TopologyError)   # a model that can't work
PROGRESS_STEPS = 100
_PACKAGE = str(Path(__file__).resolve().parent)


class SimulatorExecutor(Executor):
    """Runs models (``model.py`` or ``topology.yaml``) on the kernel simulator.

    The outcome's ``events`` follow docs/trace-format.md: console lines always; with
    ``trace=True`` (the default, as the bridge executors always report packets) every
    packet event too (``send``, ``deliver``, ``enqueue``, ``drop``, ``handle``, ``fault``,
    ``alloc``, ``free``, and for topologies ``alloc_fail``, ``process``, ``step``);
    ``trace_switches=True`` adds ``switch`` events. The run ends with a ``stats`` event
    whose counters are also in ``outcome.stats`` ({"sources", "sinks", "queues", "pools"}
    by name, the bridge's counter names). ``trace=False`` keeps only console and stats
    (the fastest runs). ``keep=False`` keeps no events at all (only the final ``stats``)
    and bounds the kernel's console to its last ``CONSOLE_TAIL`` lines: memory stays flat
    however long the run; ``on_event`` still sees every event.

    ``on_event`` (given to ``run``) receives each event as it happens, whatever ``trace``
    says about what is kept; when it returns ``True`` the run ends at the next reschedule
    point (a harness that has seen what it waits for). ``progress(sim_us)`` is called as
    the run advances (for a progress bar). ``record_latency`` gives every sink a latency
    recorder (the summary's ``latency``); ``levels`` receives queue depth and pool level
    changes, ``lines`` every event as a JSON line and ``raw`` as its kind and values
    (zsim.trace.TraceRecorder);
    ``on_kernel(k, header)`` is called when the kernel exists (to stop it from outside).
    ``last_kernel`` keeps the kernel of the latest run. Kconfig warnings (``file:line:
    what``) go to ``warn`` (``zsim.config.warn_to_stderr`` in a command) and are errors with
    ``strict``.

    A topology runs for ``duration``, else its own ``duration:``, else 10 s; a Python model
    without ``duration`` runs until nothing can happen any more. Bad input (a model, a
    prj.conf, a board, or static RAM beyond the board's) raises before the run, as
    ``ZsimError``/``ValueError``/``OSError``; a model's crash, even ``sys.exit()`` in a
    thread, is ``outcome.error`` with ``outcome.traceback``.
    """

    target = "simulator"
    CONSOLE_TAIL = 200

    def __init__(self, *, board_dirs: Iterable[str | Path] = (), costs: str = "board",
                 echo: TextIO | None = None, trace: bool = True,
                 trace_switches: bool = False,
                 progress: Callable[[float], None] | None = None, keep: bool = True,
                 record_latency: bool = False, levels: LevelHook | None = None,
                 lines: LineSink | None = None, raw: RawHook | None = None,
                 on_kernel: Callable[[Kernel, dict], None] | None = None,
                 strict: bool = False, warn: Callable[[str], None] | None = None) -> None:
        self.board_dirs = tuple(board_dirs)
        self.costs = costs
        self.echo = echo
        self.trace = trace
        self.trace_switches = trace_switches
        self.progress = progress
        self.keep = keep
        self.record_latency = record_latency
        self.levels = levels
        self.lines = lines
        self.raw = raw
        self.on_kernel = on_kernel
        self.strict = strict
        self.warn = warn
        self.last_kernel: Kernel | None = None

    def run(self, scenario: str | Path, *, board: str | None = None,
            duration: Timeout | None = None, seed: int = 0,
            config: Mapping[str, object] | str | None = None,
            on_event: EventSink | None = None) -> RunOutcome:
        """Run the model at ``scenario`` for ``duration`` of virtual time."""
        model = load_model(scenario)
        cfg = model.load_config(config, "native_sim" if board is None else board,
                                strict=self.strict, warn=self.warn,
                                board_dirs=self.board_dirs)
        k = Kernel(board=cfg.board, config=cfg, seed=seed, echo=self.echo,
                   board_dirs=self.board_dirs, costs=self.costs,
                   record_latency=self.record_latency)
        if not self.keep:
            k.console.keep = self.CONSOLE_TAIL
        self.last_kernel = k
        if duration is None and model.topology is not None:
            duration = model.topology.duration or DEFAULT_TOPOLOGY_DURATION
        _check_duration(k, duration)
        if model.topology is not None:
            check_fits(k, model.topology)       # RAM and priorities, before allocating
        out = RunOutcome(target=self.target, board=k.board.identifier,
                         ticks_per_sec=k.ticks_per_sec)
        out.header = header(target=self.target, board=k.board.identifier,
                            ticks_per_sec=k.ticks_per_sec, seed=seed, scenario=str(scenario))
        rec = TraceRecorder(k, on_event, switches=self.trace_switches, keep=self.keep,
                            packets=(self.trace or on_event is not None
                                     or self.lines is not None or self.raw is not None),
                            levels=self.levels, lines=self.lines, raw=self.raw)
        rec.events = out.events
        if self.on_kernel is not None:
            self.on_kernel(k, out.header)
        rec.install()
        try:
            self._define(model, k, out)
        except RunStopped as exc:
            out.stop_reason = "stopped"
            out.stopped_by = str(exc)
        except BaseException:
            rec.uninstall()
            raise                       # bad input (BAD_INPUT): nothing ran
        try:
            if out.started:
                result = self._run(k, duration)
                out.stop_reason = result.reason
                if result.reason == "idle" and result.blocked:
                    out.blocked = [t.name for t in result.blocked]
        except RunStopped as exc:
            out.stop_reason = "stopped"
            out.stopped_by = str(exc)
        except KernelAssertionError as exc:
            out.error = f"kernel assertion: {exc}"
            out.error_type = type(exc).__name__
            out.traceback = thread_traceback(exc)
        except (Exception, SystemExit) as exc:   # a simulated thread crashed (named in it)
            self._crashed(out, exc)
        finally:
            rec.uninstall()
        if self.keep:
            if not self.trace:
                out.events[:] = [ev for ev in out.events if ev["type"] == "console"]
            out.console = [ev["line"] for ev in out.events if ev["type"] == "console"]
        out.uptime_ticks = k.uptime_ticks()
        out.stats = packet_stats(k)
        stats_ev = {"type": "stats", "tick": out.uptime_ticks, "us": k.now_us, **out.stats}
        if self.keep:
            out.events.append(stats_ev)
        if on_event is not None:
            on_event(stats_ev)
        out.summary = summarize(k)
        return out

    def _define(self, model: Model, k: Kernel, out: RunOutcome) -> None:
        """``main(k)`` and the link step. A model that can never work (a pool beyond the
        board's RAM, a bad Kconfig value) raises as bad input; ``main(k)`` crashing is the
        model's crash, before the run's first instant (``out.started`` False)."""
        try:
            model.main(k)
        except BAD_INPUT:
            raise
        except RunStopped:
            out.started = False
            raise
        except (Exception, SystemExit) as exc:
            out.started = False
            self._crashed(out, exc)
            return
        self._declare_levels(k)
        k.memory_report().check()       # the link step: static RAM must fit the board

    @staticmethod
    def _crashed(out: RunOutcome, exc: BaseException) -> None:
        out.error = f"{type(exc).__name__}: {exc}"
        where = getattr(exc, "zsim_context", None)
        if where and where not in out.error:    # e.g. SystemExit(0): no text to tag
            out.error += f" [in {where}]"
        out.error_type = type(exc).__name__
        out.traceback = thread_traceback(exc)

    def _declare_levels(self, k: Kernel) -> None:
        declare = getattr(self.levels, "declare", None)
        if declare is None:
            return
        from .net_buf import NetBufPool
        from .packet_io import PacketEventQueue

        for obj in k.objects:
            if isinstance(obj, PacketEventQueue):
                declare(f"queue {obj.name} depth", obj.depth)
            elif isinstance(obj, NetBufPool):
                declare(f"pool {obj.name} in use", obj.count - obj.avail_count)

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


def _check_duration(k: Kernel, duration: Timeout | None) -> None:
    """A duration the board's 64-bit uptime cannot reach is bad input, found before the run."""
    if duration is None or duration.is_forever:
        return
    try:
        ticks = k.ticks_of(duration)
    except OverflowError:
        ticks = None
    if ticks is None or ticks > k._max_tick:
        years = k._max_tick / k.ticks_per_sec / (365.25 * 86400)
        raise ValueError(f"duration {duration} is beyond the uptime zsim can represent on "
                         f"{k.board.identifier} ({years:,.0f} years)")
    if ticks < 0:
        raise ValueError(f"duration {duration} is negative")


def _is_zsim(filename: str) -> bool:
    """A frame of zsim itself: its sources, or its compiled core (whose frames name the
    source relative to the checkout, ``zsim/kernel/core.py``)."""
    return filename.startswith((_PACKAGE, "<", "zsim/"))


def thread_traceback(exc: BaseException) -> str:
    """The Python traceback of an exception raised in a simulated thread or in ``main(k)``,
    from the model's first frame down to the raise (zsim's own frames above the model's
    code left out)."""
    frames = traceback.extract_tb(exc.__traceback__)
    first = next((i for i, f in enumerate(frames) if not _is_zsim(f.filename)), None)
    if first is not None:
        frames = frames[first:]
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames),
             *traceback.format_exception_only(type(exc), exc)]
    return "".join(lines).rstrip("\n")


__all__ = ["SimulatorExecutor", "thread_traceback"]
