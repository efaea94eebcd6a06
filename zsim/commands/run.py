"""``zsim run PATH``: run a model on the simulator, summarise it and write its outputs.

Exit status: 0 the run finished cleanly; 2 bad input (model, YAML, board, option, output
path), nothing run; 3 a simulated thread crashed or a kernel assertion failed; 4 packet_io
reported a fault; 5 net_buf buffers leaked.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import Any

from ..errors import ZsimError

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_CRASH = 3
EXIT_FAULT = 4
EXIT_LEAK = 5


def register(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="run a model (a directory holding model.py or "
                                     "topology.yaml)",
                         description="Run a model on a simulated board, print its console "
                                     "and a summary, and write the requested outputs. "
                                     "Exit status: 0 clean, 2 bad input, 3 thread crash or "
                                     "kernel assertion, 4 packet_io fault, 5 leaked buffers.")
    run.add_argument("path", help="model directory, model.py or topology.yaml")
    run.add_argument("--board", default="native_sim", help="board profile (default native_sim)")
    run.add_argument("--board-dir", action="append", help="extra directory of board profiles")
    run.add_argument("--duration", default="10s", help="virtual time to simulate (10s, 500ms)")
    run.add_argument("--config", help="prj.conf (default: the model directory's prj.conf)")
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument("--costs", choices=["board", "zero"], default="board",
                     help="charge the board's kernel-operation costs (default) or none")
    run.add_argument("--trace", metavar="OUT.jsonl", help="write every event as JSON Lines")
    run.add_argument("--perfetto", metavar="OUT.json",
                     help="write a Chrome trace event file for ui.perfetto.dev")
    run.add_argument("--plot", metavar="OUT.png",
                     help="write a PNG of queue depths, pool occupancy and latencies")
    run.add_argument("--graph", metavar="OUT.svg",
                     help="write the topology as SVG and DOT (DOT alone for a .dot name)")
    run.add_argument("--quiet", action="store_true", help="do not print the console")
    run.set_defaults(func=_cmd_run)


def _check_outputs(args: argparse.Namespace) -> None:
    """Fail before running when an output cannot be written."""
    for opt in ("trace", "perfetto", "plot", "graph"):
        value = getattr(args, opt)
        if value is None:
            continue
        p = Path(value)
        if p.is_dir():
            raise ValueError(f"--{opt} {value}: is a directory (expected a file name)")
        parent = p.parent if str(p.parent) else Path(".")
        if not parent.is_dir():
            raise ValueError(f"--{opt} {value}: directory {parent} does not exist")


def _cmd_run(args: argparse.Namespace) -> int:
    from rich.console import Console as RichConsole

    from ..durations import parse_duration
    from ..progress import EchoStream, RunProgress
    from ..sim_executor import SimulatorExecutor
    from ..summary import in_flight, latency_table

    duration = parse_duration(args.duration)
    _check_outputs(args)
    progress = RunProgress(_duration_us(duration))
    executor = SimulatorExecutor(board_dirs=args.board_dir or (), costs=args.costs,
                                 echo=None if args.quiet else EchoStream(progress),
                                 trace=True, trace_switches=args.perfetto is not None,
                                 progress=progress.update)
    try:
        outcome = executor.run(args.path, board=args.board, duration=duration,
                               seed=args.seed, config=args.config)
    except (ZsimError, ValueError, OSError):
        raise                       # bad input: reported by zsim.cli (status 2)
    except Exception as exc:        # the model's module failed to import
        print(f"zsim: error: cannot load the model: {_load_error(exc)}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        progress.close()
        executor.close()
    sys.stdout.flush()
    if outcome.error:
        print(f"zsim: {outcome.error}", file=sys.stderr)
    report = dict(outcome.summary)
    report["latency"] = latency_table(outcome.events)
    flight = in_flight(executor.last_kernel, outcome.events) if executor.last_kernel else set()
    held = report.get("leaks", [])
    report["in_flight"] = [b for b in held if (b["pool"], int(b["buf"][1:])) in flight]
    report["leaks"] = [b for b in held if (b["pool"], int(b["buf"][1:])) not in flight]
    status = exit_status(outcome.error, report)
    written = _write_outputs(args, outcome, executor.last_kernel)
    _print_summary(report, RichConsole(width=None if _isatty() else 120), outcome.error)
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


def exit_status(error: str | None, report: dict[str, Any]) -> int:
    """The exit status of a run (see the module docstring)."""
    if error:
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


def _write_outputs(args: argparse.Namespace, outcome: Any, kernel: Any) -> list[Path]:
    """Write every requested output; nothing when the run failed before anything happened
    (``main(k)`` raised before the first event)."""
    from ..export.graph import graph_of, write_graph
    from ..export.jsonl import write_jsonl
    from ..export.perfetto import write_perfetto
    from ..export.plot import write_plot

    if outcome.error and all(ev.get("type") == "stats" for ev in outcome.events):
        return []
    written: list[Path] = []
    if args.trace:
        write_jsonl(args.trace, outcome.header, outcome.events)
        written.append(Path(args.trace))
    if args.perfetto:
        write_perfetto(args.perfetto, outcome.header, outcome.events)
        written.append(Path(args.perfetto))
    if args.plot:
        write_plot(args.plot, outcome.header, outcome.events)
        written.append(Path(args.plot))
    if args.graph and kernel is not None:
        written.extend(write_graph(args.graph, graph_of(kernel)))
    return written


def _fmt_us(us: float) -> str:
    return f"{us / 1000:.3f}"


def _print_summary(r: dict, out: Any, error: str | None = None) -> None:
    from rich.markup import escape
    from rich.table import Table

    out.print(f"\n[bold]zsim summary[/bold]: {r.get('board', '?')}, "
              f"{r.get('uptime_ms', 0)} ms of virtual time")
    if r.get("sources"):
        t = Table("source", "sends", "deliveries", "sinks", title="sources")
        for s in r["sources"]:
            t.add_row(s["name"], str(s["send_count"]), str(s["queued_total"]),
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
            t.add_row(s["name"], s["mode"], str(s["handled"]), str(s["dropped"]), *cells)
        out.print(t)
    if r.get("queues"):
        t = Table("queue", "high water", "capacity", "depth now", title="event queues")
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
    if error:
        out.print(f"[red]run failed:[/red] {escape(error)}", highlight=False)


def _isatty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False
