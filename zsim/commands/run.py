"""``zsim run PATH``: run a model on the simulator and summarise it."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console as RichConsole
from rich.table import Table

from ..errors import KernelAssertionError


def register(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="run a model (a directory holding model.py)")
    run.add_argument("path", help="model directory or model.py file")
    run.add_argument("--board", default="native_sim", help="board profile (default native_sim)")
    run.add_argument("--board-dir", action="append", help="extra directory of board profiles")
    run.add_argument("--duration", default="10s", help="virtual time to simulate (10s, 500ms)")
    run.add_argument("--config", help="prj.conf (default: the model directory's prj.conf)")
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument("--costs", choices=["board", "zero"], default="board",
                     help="charge the board's kernel-operation costs (default) or none")
    run.add_argument("--quiet", action="store_true", help="do not print the console")
    run.set_defaults(func=_cmd_run)


def _cmd_run(args: argparse.Namespace) -> int:
    from ..durations import parse_duration
    from ..kernel.core import Kernel
    from ..model import load_model
    from ..summary import summarize

    model = load_model(args.path)
    config = args.config or (str(model.prj_conf) if model.prj_conf else None)
    k = Kernel(board=args.board, config=config, seed=args.seed,
               echo=False if args.quiet else sys.stdout, board_dirs=args.board_dir or (),
               costs=args.costs)
    model.main(k)
    status = 0
    try:
        k.run(until=parse_duration(args.duration))
    except KernelAssertionError as exc:
        print(f"zsim: kernel assertion: {exc}", file=sys.stderr)
        status = 3
    except Exception as exc:  # a simulated thread crashed: the message names it
        print(f"zsim: {type(exc).__name__}: {exc}", file=sys.stderr)
        status = 3
    report = summarize(k)
    _print_summary(report, RichConsole(stderr=False))
    if report["faults"]:
        status = status or 4
    return status


def _print_summary(r: dict, out: RichConsole) -> None:
    out.print(f"\n[bold]zsim summary[/bold]: {r['board']}, {r['uptime_ms']} ms of virtual time")
    if r["sources"]:
        t = Table("source", "sends", "deliveries", "sinks", title="sources")
        for s in r["sources"]:
            t.add_row(s["name"], str(s["send_count"]), str(s["queued_total"]),
                      ", ".join(s["sinks"]))
        out.print(t)
    if r["sinks"]:
        t = Table("sink", "mode", "handled", "dropped", title="sinks")
        for s in r["sinks"]:
            t.add_row(s["name"], s["mode"], str(s["handled"]), str(s["dropped"]))
        out.print(t)
    if r["queues"]:
        t = Table("queue", "high water", "capacity", "depth now", title="event queues")
        for q in r["queues"]:
            t.add_row(q["name"], str(q["high_water"]), str(q["capacity"]), str(q["depth"]))
        out.print(t)
    if r["pools"]:
        t = Table("pool", "min free", "free now", "count", "size", title="net_buf pools")
        for p in r["pools"]:
            t.add_row(p["name"], str(p["min_free"]), str(p["free"]), str(p["count"]),
                      str(p["size"]))
        out.print(t)
    t = Table("thread", "prio", "state", "CPU µs", "CPU %", title="threads")
    for th in r["threads"]:
        t.add_row(th["name"], str(th["priority"]), th["state"], f"{th['cpu_us']:.1f}",
                  f"{100 * th['utilisation']:.2f}")
    out.print(t)
    if r["leaks"]:
        out.print(f"[yellow]{len(r['leaks'])} buffer(s) still held at the end:[/yellow]")
        for leak in r["leaks"]:
            out.print(f"  {leak['pool']} {leak['buf']} ref={leak['refcount']} "
                      f"len={leak['len']} allocated at {leak['allocated_at']}")
    for f in r["faults"]:
        out.print(f"[red]fault at tick {f['tick']}: {f['message']}[/red]")


