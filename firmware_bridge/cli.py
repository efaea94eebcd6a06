"""``zsim board serve``, ``zsim crosscheck`` and ``zsim hil run``.

Registered through the ``zsim.commands`` entry point group; ``python -m
firmware_bridge.cli ...`` runs the same commands without installing the entry points.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zsim.errors import ZsimError
from zsim.output_paths import check_file_outputs

from . import options as opt
from .interrupts import SIGNALS, Interrupted, on_signals
from .scenario import find_scenario_file, load_scenario
from .virtual_board import DEFAULT_IDLE_TIMEOUT, DEFAULT_REPORT_RING


def _device_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--device", required=True,
                     help="serial port or pyserial URL (/dev/ttyACM0, socket://127.0.0.1:4000,"
                          " rfc2217://host:port)")
    cmd.add_argument("--baud", type=opt.int_range(1), default=115200,
                     help="baud rate (default 115200)")
    cmd.add_argument("--timeout", type=opt.positive_float, default=1.0,
                     help="seconds to wait for each answer before retrying (default 1)")
    cmd.add_argument("--retries", type=opt.int_range(0), default=5,
                     help="retries per command (default 5)")
    cmd.add_argument("--duration", type=opt.duration,
                     help="target time to run, as zsim run takes it (default: the "
                          "scenario's duration:, else 10s)")
    cmd.add_argument("--seed", type=opt.int_range(0, 0xFFFFFFFF), default=0,
                     help="payload seed (default 0)")


def _inputs(scenario: str) -> list[Path]:
    """What a run reads: the scenario as named, its topology.yaml and their directories."""
    given = Path(scenario)
    found = [given, given if given.is_dir() else given.parent]
    try:
        topo = find_scenario_file(scenario)
    except ValueError:
        return found
    return [*found, topo, topo.parent]


def _interrupted(exc: Interrupted) -> int:
    print(f"zsim: {exc}; nothing more written", file=sys.stderr)
    return exc.status


# ---------------------------------------------------------------------- board serve
def register_board(sub: argparse._SubParsersAction) -> None:
    """``zsim board serve``: the virtual board."""
    board = sub.add_parser("board", help="virtual board: the simulator behind the wire protocol")
    bsub = board.add_subparsers(dest="board_command", required=True)
    serve = bsub.add_parser("serve", help="serve a virtual board on a pty or a loopback socket")
    serve.add_argument("--board", default="native_sim", help="board profile (default native_sim)")
    where = serve.add_mutually_exclusive_group()
    where.add_argument("--pty", action="store_true", help="serve on a pseudo-terminal (default)")
    where.add_argument("--tcp", metavar="127.0.0.1:PORT",
                       help="serve on a loopback TCP port (0: any free port)")
    serve.add_argument("--noise", type=opt.rate, default=0.0,
                       help="probability that a byte is corrupted (both directions)")
    serve.add_argument("--drop", type=opt.rate, default=0.0,
                       help="probability that a byte is lost (both directions)")
    serve.add_argument("--disconnect-after", type=opt.int_range(0), metavar="N",
                       help="hang up after sending N frames")
    serve.add_argument("--seed", type=opt.int_range(0), default=0,
                       help="seed of the fault injection")
    serve.add_argument("--queue-size-override", type=opt.int_range(1, 0xFFFF), metavar="N",
                       help="give every packet event queue N slots (a deliberately different "
                            "board)")
    serve.add_argument("--rx-window", type=opt.int_range(1, 8), default=4,
                       help="commands the board buffers, 1..8 (default 4)")
    serve.add_argument("--report-ring", type=opt.int_range(1, 0xFFFF),
                       default=DEFAULT_REPORT_RING, metavar="N",
                       help=f"reports held until acknowledged (default {DEFAULT_REPORT_RING})")
    serve.add_argument("--idle-timeout", type=opt.positive_float, default=DEFAULT_IDLE_TIMEOUT,
                       metavar="SECONDS",
                       help="drop a client silent for this long (default "
                            f"{DEFAULT_IDLE_TIMEOUT:g})")
    serve.add_argument("--board-dir", action="append", help="extra directory of board profiles")
    serve.set_defaults(func=cmd_board_serve)


def cmd_board_serve(args: argparse.Namespace) -> int:
    """Serve until interrupted; the first output line is the path or URL to open."""
    from .virtual_board import Faults, PtyServer, TcpServer, VirtualBoard, parse_tcp

    address = parse_tcp(args.tcp) if args.tcp else None
    faults = Faults(noise=args.noise, drop=args.drop, disconnect_after=args.disconnect_after,
                    seed=args.seed)
    vb = VirtualBoard(args.board, faults=faults, queue_size_override=args.queue_size_override,
                      rx_window=args.rx_window, report_ring=args.report_ring,
                      board_dirs=tuple(args.board_dir or ()))

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    server: Any
    if address is not None:
        server = TcpServer(vb, *address, idle_timeout=args.idle_timeout, log=log)
    else:
        server = PtyServer(vb, idle_timeout=args.idle_timeout)
    stopped_by: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        stopped_by.append(signum)
        server.close()

    saved = {s: signal.signal(s, stop) for s in SIGNALS}
    try:
        print(server.url, flush=True)
        log(f"zsim: virtual board {vb.sim.board_id} ({vb.sim.ticks_per_sec} ticks/s) serving "
            f"on {server.url}; Ctrl-C to stop")
        result = server.serve()
    finally:
        for s, old in saved.items():
            signal.signal(s, old)
    if result == "disconnect":
        log(f"zsim: virtual board hung up after {vb.frames_sent} frames (--disconnect-after)")
    return 128 + stopped_by[0] if stopped_by else 0


# ---------------------------------------------------------------------- hil run
def register_hil(sub: argparse._SubParsersAction) -> None:
    """``zsim hil run``: a scenario on a device alone."""
    hil = sub.add_parser("hil", help="hardware in the loop: run scenarios on a board")
    hsub = hil.add_subparsers(dest="hil_command", required=True)
    run = hsub.add_parser("run", help="run a topology.yaml scenario on a device")
    run.add_argument("scenario", help="scenario directory or topology.yaml")
    _device_options(run)
    run.add_argument("--trace", metavar="OUT.jsonl",
                     help="write the trace here (JSON Lines, written whole at the end)")
    run.add_argument("--quiet", action="store_true", help="do not print console lines")
    run.set_defaults(func=cmd_hil_run)


def cmd_hil_run(args: argparse.Namespace) -> int:
    """0 the run completed; 2 bad input or a device that could not start the run (nothing
    written); 3 the run failed on the way (the trace holds what was received); 4 a
    packet_io fault was reported; 128+N stopped by signal N."""
    from zsim.export.atomic import atomic_write

    from .executor import DeviceExecutor, write_trace

    load_scenario(args.scenario)                    # bad input: before anything runs
    check_file_outputs({"--trace": args.trace}, _inputs(args.scenario))

    def on_event(ev: dict[str, Any]) -> None:
        if ev["type"] == "console" and not args.quiet:
            print(ev["line"], flush=True)

    ex = DeviceExecutor(args.device, baudrate=args.baud, timeout=args.timeout,
                        retries=args.retries)
    try:
        with on_signals():
            try:
                outcome = ex.run(args.scenario, duration=args.duration, seed=args.seed,
                                 on_event=on_event)
            finally:
                ex.close()
            started = getattr(outcome, "started", True)
            if args.trace and started:
                if not outcome.header.get("board"):
                    outcome.header = {**outcome.header, "board": outcome.board}
                with atomic_write(args.trace) as f:
                    write_trace(outcome, f)
    except Interrupted as exc:
        return _interrupted(exc)
    if outcome.error:
        print(f"zsim: error: {outcome.error}", file=sys.stderr)
        if not started:
            return 2
        if args.trace:
            print(f"zsim: the partial trace ({len(outcome.events)} events) is in {args.trace}",
                  file=sys.stderr)
        return 3
    n = {t: sum(1 for e in outcome.events if e["type"] == t)
         for t in ("send", "deliver", "handle", "drop", "fault")}
    print(f"zsim: {outcome.target} {outcome.board}: {outcome.uptime_ticks} ticks, "
          f"{n['send']} sends, {n['deliver']} immediate deliveries, {n['handle']} handled, "
          f"{n['drop']} drops", file=sys.stderr)
    if n["fault"]:
        print(f"zsim: packet_io reported {n['fault']} fault(s)", file=sys.stderr)
        return 4
    return 0


# ---------------------------------------------------------------------- crosscheck
def register_crosscheck(sub: argparse._SubParsersAction) -> None:
    """``zsim crosscheck``: the simulator against a device."""
    cc = sub.add_parser("crosscheck", help="run a scenario's topology.yaml on the simulator "
                                           "and on a device and report every divergence")
    cc.add_argument("scenario", help="scenario directory or topology.yaml (a directory's "
                                     "topology.yaml runs on both sides, even beside a "
                                     "model.py)")
    _device_options(cc)
    cc.add_argument("--board", help="simulator board (default: the device's)")
    cc.add_argument("--tolerance-ticks", type=opt.int_range(0), default=0,
                    help="allowed timing difference of matching events (default 0)")
    cc.add_argument("--trace-dir", help="write simulator.jsonl and device.jsonl here")
    cc.add_argument("--json", action="store_true", help="print the divergences as JSON")
    cc.add_argument("--reference", choices=["auto", "zsim", "bridge"], default="auto",
                    help="simulator side: zsim's SimulatorExecutor, the bridge's in-process "
                         "board, or the first available (default)")
    cc.set_defaults(func=cmd_crosscheck)


def cmd_crosscheck(args: argparse.Namespace) -> int:
    """0 agree, 1 diverge, 2 bad input or nothing could run, 3 a run failed, 128+N
    stopped by signal N."""
    from .crosscheck import crosscheck, print_report, simulator_executor
    from .executor import BridgeSimExecutor

    reference = None
    if args.reference == "bridge":
        reference = BridgeSimExecutor()
    elif args.reference == "zsim":
        reference = simulator_executor(require_zsim=True)
    try:
        with on_signals():
            result = crosscheck(args.scenario, args.device, board=args.board,
                                reference=reference, tolerance_ticks=args.tolerance_ticks,
                                duration=args.duration, seed=args.seed, baudrate=args.baud,
                                timeout=args.timeout, retries=args.retries,
                                trace_dir=args.trace_dir)
    except Interrupted as exc:
        return _interrupted(exc)
    if args.json:
        print(json.dumps(result.to_json(), indent=1))
    else:
        print_report(result, sys.stdout)
    return result.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bridge's subcommands without the zsim entry points."""
    parser = argparse.ArgumentParser(prog="zsim", description="zsim firmware bridge commands")
    sub = parser.add_subparsers(dest="command", required=True)
    register_board(sub)
    register_crosscheck(sub)
    register_hil(sub)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ZsimError, ValueError, OSError) as exc:
        print(f"zsim: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
