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
from typing import Any


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"{text}: a rate is a probability in [0, 1)")
    return value


def _device_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--device", required=True,
                     help="serial port or pyserial URL (/dev/ttyACM0, socket://127.0.0.1:4000,"
                          " rfc2217://host:port)")
    cmd.add_argument("--baud", type=int, default=115200, help="baud rate (default 115200)")
    cmd.add_argument("--timeout", type=float, default=1.0,
                     help="seconds to wait for each answer before retrying (default 1)")
    cmd.add_argument("--retries", type=int, default=5, help="retries per command (default 5)")
    cmd.add_argument("--duration", help="target time to run (default: the scenario's, else 10s)")
    cmd.add_argument("--seed", type=int, default=0, help="payload seed (default 0)")


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
    serve.add_argument("--noise", type=_rate, default=0.0,
                       help="probability that a byte is corrupted (both directions)")
    serve.add_argument("--drop", type=_rate, default=0.0,
                       help="probability that a byte is lost (both directions)")
    serve.add_argument("--disconnect-after", type=int, metavar="N",
                       help="hang up after sending N frames")
    serve.add_argument("--seed", type=int, default=0, help="seed of the fault injection")
    serve.add_argument("--queue-size-override", type=int, metavar="N",
                       help="give every packet event queue N slots (a deliberately different "
                            "board)")
    serve.add_argument("--rx-window", type=int, default=4, help="commands the board buffers")
    serve.add_argument("--board-dir", action="append", help="extra directory of board profiles")
    serve.set_defaults(func=cmd_board_serve)


def cmd_board_serve(args: argparse.Namespace) -> int:
    """Serve until interrupted; the first output line is the path or URL to open."""
    from .virtual_board import Faults, PtyServer, TcpServer, VirtualBoard, parse_tcp

    faults = Faults(noise=args.noise, drop=args.drop, disconnect_after=args.disconnect_after,
                    seed=args.seed)
    vb = VirtualBoard(args.board, faults=faults, queue_size_override=args.queue_size_override,
                      rx_window=max(1, min(8, args.rx_window)),
                      board_dirs=tuple(args.board_dir or ()))
    if args.tcp:
        host, port = parse_tcp(args.tcp)
        server: Any = TcpServer(vb, host, port)
    else:
        server = PtyServer(vb)
    print(server.url, flush=True)
    print(f"zsim: virtual board {vb.sim.board_id} ({vb.sim.ticks_per_sec} ticks/s) serving on "
          f"{server.url}; Ctrl-C to stop", file=sys.stderr, flush=True)

    def stop(*_: object) -> None:
        server.close()

    signal.signal(signal.SIGTERM, stop)
    try:
        result = server.serve()
    except KeyboardInterrupt:
        result = "stopped"
    if result == "disconnect":
        print(f"zsim: virtual board hung up after {vb.frames_sent} frames (--disconnect-after)",
              file=sys.stderr)
    return 0


# ---------------------------------------------------------------------- hil run
def register_hil(sub: argparse._SubParsersAction) -> None:
    """``zsim hil run``: a scenario on a device alone."""
    hil = sub.add_parser("hil", help="hardware in the loop: run scenarios on a board")
    hsub = hil.add_subparsers(dest="hil_command", required=True)
    run = hsub.add_parser("run", help="run a topology.yaml scenario on a device")
    run.add_argument("scenario", help="scenario directory or topology.yaml")
    _device_options(run)
    run.add_argument("--trace", metavar="OUT.jsonl", help="write the trace here (JSON Lines)")
    run.add_argument("--quiet", action="store_true", help="do not print console lines")
    run.set_defaults(func=cmd_hil_run)


def cmd_hil_run(args: argparse.Namespace) -> int:
    """0 when the run completed, 2 on errors (the partial trace is still written)."""
    from .executor import DeviceExecutor
    from .scenario import parse_duration

    duration = parse_duration(args.duration) if args.duration else None
    out = open(args.trace, "w") if args.trace else None  # noqa: SIM115 - written live
    header_written = False

    def on_event(ev: dict[str, Any]) -> None:
        if ev["type"] == "console" and not args.quiet:
            print(ev["line"])
        if out is not None and header_written:
            out.write(json.dumps(ev) + "\n")
            out.flush()

    ex = DeviceExecutor(args.device, baudrate=args.baud, timeout=args.timeout,
                        retries=args.retries)
    try:
        if out is not None:         # the header names the board: handshake first
            from zsim import __version__
            try:
                hello = ex.connect()
            except Exception as exc:  # noqa: BLE001 - reported like a failed run
                print(f"zsim: error: {exc}", file=sys.stderr)
                return 2
            out.write(json.dumps({"type": "header", "format": "zsim-trace", "version": 1,
                                  "target": ex.target, "board": hello.get("board"),
                                  "ticks_per_sec": hello.get("ticks_per_sec"),
                                  "seed": args.seed, "scenario": args.scenario,
                                  "zsim": __version__, "build_id": hello.get("build_id")})
                      + "\n")
            header_written = True
        outcome = ex.run(args.scenario, duration=duration, seed=args.seed, on_event=on_event)
    finally:
        ex.close()
        if out is not None:
            out.close()
    if args.trace and outcome.error and outcome.events:
        # events after a gap in the report indices are only known now: rewrite in full
        from .executor import write_trace
        if not outcome.header.get("board"):
            outcome.header = {**outcome.header, "board": outcome.board}
        with open(args.trace, "w") as f:
            write_trace(outcome, f)
    if outcome.error:
        print(f"zsim: error: {outcome.error}", file=sys.stderr)
        if args.trace:
            print(f"zsim: the partial trace ({len(outcome.events)} events) is in {args.trace}",
                  file=sys.stderr)
        return 2
    n = {t: sum(1 for e in outcome.events if e["type"] == t)
         for t in ("send", "deliver", "handle", "drop")}
    print(f"zsim: {outcome.target} {outcome.board}: {outcome.uptime_ticks} ticks, "
          f"{n['send']} sends, {n['deliver']} immediate deliveries, {n['handle']} handled, "
          f"{n['drop']} drops", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------- crosscheck
def register_crosscheck(sub: argparse._SubParsersAction) -> None:
    """``zsim crosscheck``: the simulator against a device."""
    cc = sub.add_parser("crosscheck", help="run a scenario on the simulator and on a device "
                                           "and report every divergence")
    cc.add_argument("scenario", help="scenario directory or topology.yaml")
    _device_options(cc)
    cc.add_argument("--board", help="simulator board (default: the device's)")
    cc.add_argument("--tolerance-ticks", type=int, default=0,
                    help="allowed timing difference of matching events (default 0)")
    cc.add_argument("--trace-dir", help="write simulator.jsonl and device.jsonl here")
    cc.add_argument("--json", action="store_true", help="print the divergences as JSON")
    cc.add_argument("--reference", choices=["auto", "zsim", "bridge"], default="auto",
                    help="simulator side: zsim's SimulatorExecutor, the bridge's in-process "
                         "board, or the first available (default)")
    cc.set_defaults(func=cmd_crosscheck)


def cmd_crosscheck(args: argparse.Namespace) -> int:
    """0 agree, 1 diverge, 2 errors."""
    from .crosscheck import crosscheck, print_report
    from .scenario import parse_duration

    duration = parse_duration(args.duration) if args.duration else None
    from .crosscheck import simulator_executor
    from .executor import BridgeSimExecutor

    reference = None
    if args.reference == "bridge":
        reference = BridgeSimExecutor()
    elif args.reference == "zsim":
        reference = simulator_executor(require_zsim=True)
    result = crosscheck(args.scenario, args.device, board=args.board, reference=reference,
                        tolerance_ticks=args.tolerance_ticks, duration=duration,
                        seed=args.seed, baudrate=args.baud, timeout=args.timeout,
                        retries=args.retries, trace_dir=args.trace_dir)
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
    except (ValueError, OSError) as exc:
        print(f"zsim: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
