"""The ``zsim`` command line."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from rich.console import Console as RichConsole
from rich.table import Table

from . import __version__
from .errors import KernelAssertionError, ZsimError


def _cmd_run(args: argparse.Namespace) -> int:
    from .durations import parse_duration
    from .kernel.core import Kernel
    from .model import load_model
    from .summary import summarize

    model = load_model(args.path)
    config = args.config or (str(model.prj_conf) if model.prj_conf else None)
    k = Kernel(board=args.board, config=config, seed=args.seed,
               echo=False if args.quiet else sys.stdout, board_dirs=args.board_dir or ())
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


def _cmd_boards(args: argparse.Namespace) -> int:
    from .boards import known_boards, load_board

    out = RichConsole()
    if args.action == "show":
        if not args.name:
            print("zsim boards show: name a board", file=sys.stderr)
            return 2
        b = load_board(args.name, args.board_dir or ())
        t = Table("field", "value", title=b.identifier)
        for field in ("identifier", "aliases", "arch", "cpu", "cpu_clock_hz", "ticks_per_sec",
                      "hw_cycles_per_sec", "ram_kib", "flash_kib", "pointer_size",
                      "endianness", "libc", "console_uart", "console_baud", "path"):
            t.add_row(field, str(getattr(b, field)))
        for key, value in b.costs.items():
            t.add_row(f"cost.{key}", str(value))
        out.print(t)
        for src in b.sources:
            out.print(f"  source: {src}")
        return 0
    t = Table("identifier", "arch", "CPU clock", "ticks/s", "RAM KiB", "flash KiB",
              title="board profiles")
    for ident, b in sorted(known_boards(args.board_dir or ()).items()):
        t.add_row(ident, b.arch, f"{b.cpu_clock_hz / 1e6:g} MHz", str(b.ticks_per_sec),
                  str(b.ram_kib), str(b.flash_kib))
    out.print(t)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="zsim", description="Simulate Zephyr packet_io firmware.")
    p.add_argument("--version", action="version", version=f"zsim {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a model (a directory holding model.py)")
    run.add_argument("path", help="model directory or model.py file")
    run.add_argument("--board", default="native_sim", help="board profile (default native_sim)")
    run.add_argument("--board-dir", action="append", help="extra directory of board profiles")
    run.add_argument("--duration", default="10s", help="virtual time to simulate (10s, 500ms)")
    run.add_argument("--config", help="prj.conf (default: the model directory's prj.conf)")
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument("--quiet", action="store_true", help="do not print the console")
    run.set_defaults(func=_cmd_run)

    boards = sub.add_parser("boards", help="list board profiles, or show one")
    boards.add_argument("action", nargs="?", choices=["list", "show"], default="list")
    boards.add_argument("name", nargs="?")
    boards.add_argument("--board-dir", action="append", help="extra directory of board profiles")
    boards.set_defaults(func=_cmd_boards)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ZsimError, ValueError, OSError) as exc:
        print(f"zsim: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
