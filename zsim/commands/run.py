"""``zsim run PATH``: run a model on the simulator, summarise it and write its outputs.

Exit status: 0 the run finished cleanly; 2 bad input (model, YAML, board, option, output
path), nothing run and nothing written; 3 a simulated thread crashed, a kernel assertion
failed or the wall-clock limit was reached; 4 packet_io reported a fault; 5 net_buf buffers
leaked; 128 + N the run was stopped by signal N (SIGINT, SIGTERM, SIGHUP), its summary and
outputs written for the virtual time reached.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import Any

from ..errors import RunStopped, ZsimError

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_CRASH = 3
EXIT_FAULT = 4
EXIT_LEAK = 5

EXIT_HELP = ("Exit status: 0 clean, 2 bad input (nothing run, nothing written), 3 thread crash, "
             "kernel assertion or wall-clock limit, 4 packet_io fault, 5 leaked buffers, "
             "128+N stopped by signal N (130 for Ctrl-C; the partial run's summary and "
             "outputs are written).")


def positive_seconds(text: str) -> float:
    """An argparse type: a number of seconds greater than 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="run a model (a directory holding model.py or "
                                     "topology.yaml)",
                         description="Run a model on a simulated board, print its console "
                                     "and a summary, and write the requested outputs. "
                                     + EXIT_HELP)
    run.add_argument("path", help="model directory, model.py or topology.yaml")
    run.add_argument("--board", default="native_sim", help="board profile (default native_sim)")
    run.add_argument("--board-dir", action="append", help="extra directory of board profiles")
    run.add_argument("--duration", default="10s", help="virtual time to simulate (10s, 500ms)")
    run.add_argument("--config", help="prj.conf (default: the model directory's prj.conf)")
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument("--costs", choices=["board", "zero"], default="board",
                     help="charge the board's kernel-operation costs (default) or none")
    run.add_argument("--wall-timeout", type=positive_seconds, metavar="SECONDS",
                     help="stop the run after this much wall-clock time (exit status 3)")
    run.add_argument("--trace", metavar="OUT.jsonl", help="write every event as JSON Lines")
    run.add_argument("--perfetto", metavar="OUT.json",
                     help="write a Chrome trace event file for ui.perfetto.dev")
    run.add_argument("--plot", metavar="OUT.png",
                     help="write a PNG of queue depths, pool occupancy and latencies")
    run.add_argument("--graph", metavar="OUT.svg",
                     help="write the topology as SVG and DOT (DOT alone for a .dot name)")
    run.add_argument("--quiet", action="store_true", help="do not print the console")
    run.add_argument("--strict", action="store_true",
                     help="treat Kconfig warnings (unknown symbols, ...) as errors")
    run.set_defaults(func=_cmd_run)


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before anything runs, an output that would overwrite an input or cannot be
    written (zsim/output_paths.py)."""
    from ..export.outputs import graph_paths
    from ..output_paths import check_file_outputs

    model = Path(args.path)
    inputs = [model, model.parent] if model.is_file() else [model]
    if args.config:
        inputs.append(Path(args.config))
    outputs: dict[str, Any] = {f"--{opt}": getattr(args, opt)
                               for opt in ("trace", "perfetto", "plot")}
    if args.graph is not None:
        for i, p in enumerate(graph_paths(args.graph)):
            outputs["--graph" if i == 0 else f"--graph (its DOT file {p.name})"] = p
    check_file_outputs(outputs, inputs)


def _cmd_run(args: argparse.Namespace) -> int:
    from ..config import warn_to_stderr
    from ..durations import parse_duration
    from ..export.outputs import RunOutputs
    from ..progress import EchoStream, RunProgress
    from ..run_guard import RunGuard
    from ..sim_executor import SimulatorExecutor

    duration = parse_duration(args.duration)
    if not args.board or not args.board.strip():
        raise ValueError("--board: empty board name (see `zsim boards` for the profiles)")
    _check_outputs(args)
    progress = RunProgress(_duration_us(duration))
    kernel: list[Any] = []

    def current_thread() -> str | None:
        cur = kernel[0].current if kernel else None
        return cur.name if cur is not None else None

    guard = RunGuard(args.wall_timeout, current_thread=current_thread)
    outputs = RunOutputs(trace=args.trace, perfetto=args.perfetto, plot=args.plot,
                         graph=args.graph)

    def started(k: Any, header: dict) -> None:
        kernel.append(k)
        outputs.start(header, _duration_us(duration))
        guard.stop = k.stop

    executor = SimulatorExecutor(board_dirs=args.board_dir or (), costs=args.costs,
                                 echo=None if args.quiet else EchoStream(progress),
                                 trace=False, trace_switches=outputs.wants_switches,
                                 progress=progress.update, keep=False, record_latency=True,
                                 levels=outputs.levels, lines=outputs.lines, raw=outputs.raw,
                                 on_kernel=started, strict=args.strict, warn=warn_to_stderr)
    try:
        with guard:
            try:
                outcome = _run(executor, args, duration, outputs)
            finally:
                guard.finished()
                progress.close()
                executor.close()
            return _report(args, outcome, outputs, kernel[0] if kernel else None, guard)
    except RunStopped:                  # stopped before the model ran: nothing to report
        outputs.discard()
        print(f"zsim: {_stopped_text(guard)} before the run started; nothing written",
              file=sys.stderr)
        return guard.exit_status or EXIT_CRASH
    except BaseException:
        outputs.discard()
        raise


def _run(executor: Any, args: argparse.Namespace, duration: Any, outputs: Any) -> Any:
    """Run the model, streaming events to the outputs; bad input propagates (status 2)."""
    try:
        return executor.run(args.path, board=args.board, duration=duration, seed=args.seed,
                            config=args.config,
                            on_event=None)
    except (ZsimError, ValueError, OSError, RunStopped):
        raise                           # bad input: reported by zsim.cli (status 2)
    except Exception as exc:            # the model's module failed to import
        raise _LoadError(_load_error(exc)) from None


class _LoadError(ZsimError):
    """The model's module could not be imported."""

    def __str__(self) -> str:
        return f"cannot load the model: {self.args[0]}"


def _stopped_text(guard: Any) -> str:
    from ..run_guard import signal_name

    if guard.timed_out:
        return f"wall-clock limit of {guard.wall_timeout:g} s reached"
    if guard.signum is not None:
        return f"interrupted by {signal_name(guard.signum)}"
    return "stopped"


def _report(args: argparse.Namespace, outcome: Any, outputs: Any, kernel: Any,
            guard: Any) -> int:
    """Print the summary, write the outputs and give the exit status."""
    from rich.console import Console as RichConsole

    sys.stdout.flush()
    report = dict(outcome.summary)
    if guard.stopped:
        report["stopped"] = _stopped_text(guard)
        if guard.timed_out:
            where = " ".join(x for x in (
                f"in thread '{guard.thread}'" if guard.thread else "",
                f"at {guard.where}" if guard.where else "") if x)
            outcome.error = outcome.error or (
                f"wall-clock limit of {guard.wall_timeout:g} s reached at "
                f"{report.get('uptime_ms', 0)} ms of virtual time"
                + (f", {where}" if where else ""))
    if outcome.error:
        print(f"zsim: {outcome.error}", file=sys.stderr)
    status = exit_status(outcome.error, report, outcome.error_type)
    if guard.exit_status is not None:
        status = guard.exit_status
    committed = outcome.started and kernel is not None
    if committed:
        outputs.finish(kernel, kernel.now_us)   # the plot draws while the summary prints
    else:                               # main(k) raised before the first instant
        outputs.discard()
    _print_summary(report, RichConsole(width=None if _isatty() else 120), outcome.error,
                   outcome.traceback)
    written = outputs.commit(kernel, kernel.now_us) if committed else []
    for path in written:
        print(f"zsim: wrote {path}")
    return status


def _load_error(exc: BaseException) -> str:
    """``file:line: Type: message`` of an exception raised while importing a model."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}: {type(exc).__name__}: {exc.msg}"
    package = str(Path(__file__).resolve().parents[1])
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith((package, "<"))]
    where = f"{frames[-1].filename}:{frames[-1].lineno}: " if frames else ""
    return f"{where}{type(exc).__name__}: {exc}"


def exit_status(error: str | None, report: dict[str, Any],
                error_type: str | None = None) -> int:
    """The exit status of a run (see the module docstring). A net_buf assertion after
    packet_io reported a fault (a handler that released its borrowed buffer ends in a double
    free) counts as that fault: the fault is its cause."""
    if error:
        if error_type == "NetBufError" and report.get("faults"):
            return EXIT_FAULT
        return EXIT_CRASH
    if report.get("faults"):
        return EXIT_FAULT
    if report.get("leaks"):
        return EXIT_LEAK
    return EXIT_OK


def _duration_us(duration: Any) -> float:
    """Microseconds of a relative duration (0 when unknown or forever)."""
    from ..kernel.time_units import Timeout

    if isinstance(duration, Timeout) and not duration.is_forever:
        return float(duration.ticks(1_000_000))
    return 0.0


def _fmt_us(us: float) -> str:
    return f"{us / 1000:.3f}"


def _stats_cell(value: Any) -> str:
    return STATS_OFF if value is None else str(value)


STATS_OFF = "stats off (CONFIG_PACKET_IO_STATS=n)"


def _print_summary(r: dict, out: Any, error: str | None = None,
                   trace: str | None = None) -> None:
    from rich.markup import escape
    from rich.table import Table

    stopped = f" [yellow]({escape(r['stopped'])})[/yellow]" if r.get("stopped") else ""
    out.print(f"\n[bold]zsim summary[/bold]: {r.get('board', '?')}, "
              f"{r.get('uptime_ms', 0)} ms of virtual time{stopped}")
    if r.get("sources"):
        t = Table("source", "sends", "deliveries", "sinks", title="sources")
        for s in r["sources"]:
            t.add_row(s["name"], _stats_cell(s["send_count"]), _stats_cell(s["queued_total"]),
                      ", ".join(s["sinks"]))
        out.print(t)
    if r.get("sinks"):
        lat = r.get("latency", {})
        t = Table("sink", "mode", "handled", "dropped", "p50 ms", "p99 ms", "max ms",
                  title="sinks (latency: send to end of handler)")
        for s in r["sinks"]:
            row = lat.get(s["name"])
            cells = ([_fmt_us(row["p50_us"]), _fmt_us(row["p99_us"]), _fmt_us(row["max_us"])]
                     if row else ["-", "-", "-"])
            t.add_row(s["name"], s["mode"], _stats_cell(s["handled"]),
                      _stats_cell(s["dropped"]), *cells)
        out.print(t)
        if any(not row.get("exact", True) for row in lat.values()):
            out.print("latency percentiles within 0.1 % (HdrHistogram, 3 significant digits)")
    if r.get("queues"):
        t = Table("queue", "high water", "capacity", "depth now",
                  title="event queues (events waiting, not counting one being handled)")
        for q in r["queues"]:
            t.add_row(q["name"], str(q["high_water"]), str(q["capacity"]), str(q["depth"]))
        out.print(t)
    if r.get("pools"):
        t = Table("pool", "min free", "free now", "count", "size", title="net_buf pools")
        for p in r["pools"]:
            t.add_row(p["name"], str(p["min_free"]), str(p["free"]), str(p["count"]),
                      str(p["size"]))
        out.print(t)
    if r.get("threads"):
        t = Table("thread", "prio", "state", "CPU µs", "CPU %", title="threads")
        for th in r["threads"]:
            t.add_row(th["name"], str(th["priority"]), th["state"], f"{th['cpu_us']:.1f}",
                      f"{100 * th['utilisation']:.2f}")
        out.print(t)
    if r.get("in_flight"):
        out.print(f"{len(r['in_flight'])} buffer(s) in flight at the end (a packet in a "
                  "queue or in its handler), not counted as leaks")
    if r.get("leaks"):
        out.print(f"[red]{len(r['leaks'])} buffer(s) leaked (still held at the end):[/red]")
        for leak in r["leaks"]:
            who = f" by {leak['by']}" if leak.get("by") else ""
            out.print(f"  {leak['pool']} {leak['buf']} ref={leak['refcount']} "
                      f"len={leak['len']} allocated at {leak['allocated_at']}{who}",
                      markup=False, highlight=False, soft_wrap=True)
    else:
        out.print("no leaks")
    for f in r.get("faults", []):
        out.print(f"[red]fault at tick {f['tick']}:[/red] {escape(f['message'])}",
                  highlight=False)
    more = r.get("faults_total", 0) - len(r.get("faults", []))
    if more > 0:
        out.print(f"[red]... and {more} more fault(s)[/red]")
    if error:
        out.print(f"[red]run failed:[/red] {escape(error)}", highlight=False)
    if trace:
        out.print(trace, markup=False, highlight=False, soft_wrap=True)


def _isatty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False
