"""``zsim sweep MODEL --param NAME=V1,V2 ... -O DIR``: run a model over the cross product of
parameter values, boards and seeds, each point in its own process (``-j`` local workers, or
a Dask cluster with ``--dask-scheduler``), and write ``results.csv``, ``results.json`` and
``sweep.png`` in DIR (docs/sweep.md).

Exit status: 0 every point ran clean; 2 bad input (nothing run, nothing written); else the
worst status of a point (3 crash or wall-clock limit, 4 packet_io fault, 5 leaks; a point
whose combination of values could not be built counts as 3); 128 + N stopped by signal N,
with the rows of the points finished so far written.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ..stop_signals import StopSignals
from .run import positive_seconds

OUTPUT_FILES = ("results.csv", "results.json", "sweep.png")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="run a model over many parameter values, boards and "
                                     "seeds, in parallel",
                       description="Run a model for every combination of --param values, "
                                   "boards and seeds, each point in its own process, and "
                                   "write results.csv, results.json and sweep.png in -O DIR. "
                                   "Exit status: 0 all points clean, 2 bad input, else the "
                                   "worst point's status (3, 4, 5), 128+N stopped by signal "
                                   "N (the finished rows are written).")
    p.add_argument("model", help="model directory or topology.yaml")
    p.add_argument("--param", action="append", default=[], metavar="NAME=V1,V2,...",
                   help="a Kconfig symbol (CONFIG_X) or topology field path "
                        "(queues.network_queue.size) and its values; ranges A..B, A..B:+K, "
                        "A..B:xK; repeat for more parameters")
    p.add_argument("--board", action="append", default=[], metavar="BOARD",
                   help="board profile (repeat, or comma-separate; default native_sim)")
    p.add_argument("--board-dir", action="append", default=[],
                   help="extra directory of board profiles")
    p.add_argument("--seeds", type=_positive_int, metavar="N",
                   help="run seeds 0..N-1 (default: seed 0; or --param seed=...)")
    p.add_argument("--duration", required=True, help="virtual time per point (10s, 500ms)")
    p.add_argument("-j", "--jobs", type=_positive_int, metavar="N",
                   help="local worker processes (default: the number of cores)")
    p.add_argument("--dask-scheduler", metavar="ADDRESS",
                   help="run the points on this Dask distributed scheduler "
                        "(tcp://HOST:PORT) instead of locally")
    p.add_argument("-O", "--output-dir", required=True, metavar="DIR",
                   help="directory for results.csv, results.json and sweep.png")
    p.add_argument("--costs", choices=["board", "zero"], default="board",
                   help="charge the board's kernel-operation costs (default) or none")
    p.add_argument("--wall-timeout", type=positive_seconds, metavar="SECONDS",
                   help="wall-clock limit of each point (status 3 when reached; default 3600)")
    p.add_argument("--strict", action="store_true",
                   help="treat Kconfig warnings (unknown symbols, ...) as errors")
    p.add_argument("--stop-when", metavar="EXPR",
                   help='stop at the first finished point meeting EXPR (e.g. "status != 0")')
    p.add_argument("--find-min", metavar="NAME",
                   help="bisect integer --param NAME for the smallest value where every point "
                        "meets --where")
    p.add_argument("--where", metavar="EXPR",
                   help='the condition of --find-min, over a row\'s columns (e.g. "drops == 0")')
    p.set_defaults(func=_cmd_sweep)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def _check_outputs(args: argparse.Namespace, plan: Any) -> Path:
    """Refuse an output directory that could harm an input or a file zsim did not write."""
    from ..output_paths import (
        OutputPathError,
        check_file_outputs,
        check_output_dir,
        is_zsim_output_dir,
    )

    inputs = [plan.model, plan.model.parent]
    out = check_output_dir("-O", args.output_dir, inputs)
    if out.is_dir() and not is_zsim_output_dir(out):
        mine = [n for n in OUTPUT_FILES if (out / n).exists()]
        if mine:
            raise OutputPathError(f"-O {args.output_dir}: already holds {', '.join(mine)} "
                                  "not written by zsim; choose another directory")
    if not out.parent.is_dir():
        raise OutputPathError(f"-O {args.output_dir}: directory {out.parent} does not exist")
    if out.is_dir():
        check_file_outputs({f"-O ({n})": out / n for n in OUTPUT_FILES}, inputs)
    elif not os.access(out.parent, os.W_OK | os.X_OK):
        raise OutputPathError(f"-O {args.output_dir}: directory {out.parent} is not writable")
    return out


def _exit_now(kill: Any) -> Any:
    """A second signal during a sweep: end the worker processes, then exit as ``zsim run``
    does (``run_guard.exit_now``: temporary files removed, status 128 + N)."""
    def abort(signum: int) -> None:
        from ..run_guard import exit_now

        if kill is not None:
            kill()
        exit_now(signum)
    return abort


def _cmd_sweep(args: argparse.Namespace) -> int:
    from ..sweep.bisect import check_target
    from ..sweep.expr import Condition
    from ..sweep.params import SweepInputError, parse_param
    from ..sweep.points import make_plan

    params = [parse_param(t) for t in args.param]
    if args.find_min and not args.where:
        raise SweepInputError("--find-min needs --where (e.g. --where \"drops == 0\")")
    if args.where and not args.find_min:
        raise SweepInputError("--where goes with --find-min NAME")
    if args.find_min and args.stop_when:
        raise SweepInputError("--find-min and --stop-when cannot be used together")
    where = Condition(args.where, "--where") if args.where else None
    stop_when = Condition(args.stop_when, "--stop-when") if args.stop_when else None
    plan = make_plan(args.model, params, args.board, args.seeds, args.duration,
                     board_dirs=args.board_dir, costs=args.costs,
                     wall_timeout=args.wall_timeout, strict=args.strict)
    target = check_target(plan.params, args.find_min) if args.find_min else None
    out = _check_outputs(args, plan)
    runner = _runner(args)
    try:
        return _sweep(args, plan, out, runner, where, stop_when, target)
    finally:
        close = getattr(runner, "close", None)
        if close is not None:
            close()


def _runner(args: argparse.Namespace) -> Any:
    from ..sweep.runner import DaskRunner, LocalRunner

    if args.dask_scheduler:
        if args.jobs:
            print("zsim: -j is ignored with --dask-scheduler (the cluster's workers run "
                  "the points)", file=sys.stderr)
        return DaskRunner(args.dask_scheduler)
    return LocalRunner(args.jobs)


def _sweep(args: argparse.Namespace, plan: Any, out: Path, runner: Any, where: Any,
           stop_when: Any, target: Any) -> int:
    from ..output_paths import mark_output_dir
    from ..sweep.bisect import check_names, find_min
    from ..sweep.params import SweepInputError

    rows: list[dict[str, Any]] = []
    hit: list[dict[str, Any]] = []
    bad: list[str] = []                 # --stop-when naming a column no row has
    bar = _Bar(None if target else plan.count())

    with StopSignals(abort=_exit_now(getattr(runner, "kill_all", None))) as intr:

        def stop() -> bool:
            return intr.signum is not None or bool(hit) or bool(bad)

        def on_row(row: dict[str, Any]) -> None:
            rows.append(row)
            bar.advance()
            if stop_when is not None and len(rows) == 1:
                try:
                    check_names(stop_when, rows)
                except SweepInputError as exc:
                    bad.append(str(exc))
            if stop_when is not None and not hit and not bad and stop_when.holds(row):
                hit.append(row)

        answer = None
        try:
            if target is None:
                runner.run((plan.spec(p) for p in plan.points()), on_row, stop)
            else:
                answer = find_min(target, where, _value_runner(plan, target, runner, rows,
                                                               on_row, stop))
        finally:
            bar.close()
        out.mkdir(exist_ok=True)
        mark_output_dir(out)
        written = _write(out, plan, rows, intr.signum, answer)
    for path in written:
        print(f"zsim: wrote {path}")
    if bad:                             # found with the first row: the sweep stopped there
        print(f"zsim: error: {bad[0]}", file=sys.stderr)
        return 2
    return _report(rows, intr.signum, hit, stop_when, answer)


def _value_runner(plan: Any, target: Any, runner: Any, rows: list, on_row: Any,
                  stop: Any) -> Any:
    """``run_value(v)`` for --find-min: every point with the parameter at ``v``."""
    from dataclasses import replace

    def run_value(value: int) -> list[dict[str, Any]] | None:
        first = len(rows)
        points = [replace(p, index=first + i)
                  for i, p in enumerate(plan.points(only={target.name: value}))]
        runner.run((plan.spec(p) for p in points), on_row, stop)
        if stop():
            return None
        return rows[first:]

    return run_value


def _write(out: Path, plan: Any, rows: list, signum: int | None, answer: Any) -> list[Path]:
    from ..run_guard import signal_name
    from ..sweep.plot import write_plot
    from ..sweep.results import write_results

    names = [p.name for p in plan.params]
    meta: dict[str, Any] = {
        "model": str(plan.model), "duration": plan.duration, "boards": plan.boards,
        "seeds": plan.seeds, "params": {p.name: p.values for p in plan.params},
        "points": plan.count(), "finished": len(rows),
        "stopped": signal_name(signum) if signum is not None else None}
    if answer is not None:
        meta["find_min"] = {"param": answer.param, "where": answer.condition,
                            "value": answer.value,
                            "tried": {str(k): v for k, v in sorted(answer.tried.items())}}
    written = write_results(out, names, rows, meta)
    swept = [p.name for p in plan.params if len(p.values) > 1 and p.name != "seed"]
    if answer is None and write_plot(out / "sweep.png", swept, sorted(
            rows, key=lambda r: r["point"])):
        written.append(out / "sweep.png")
    return written


def _report(rows: list, signum: int | None, hit: list, stop_when: Any, answer: Any) -> int:
    from collections import Counter

    from ..run_guard import signal_name

    counts = Counter(r["status"] for r in rows)
    text = ", ".join(f"{n} with status {s}" for s, n in sorted(counts.items()))
    print(f"zsim sweep: {len(rows)} point(s) finished ({text or 'none'})")
    for r in sorted(rows, key=lambda r: r["point"]):
        if r["status"] not in (0, 4, 5) and r.get("error"):
            print(f"zsim: point {r['point']}: status {r['status']}: "
                  f"{r['error'].splitlines()[0]}", file=sys.stderr)
    if hit:
        print(f"zsim sweep: stopped at point {hit[0]['point']}, which meets "
              f"{stop_when.text!r}")
    if answer is not None:
        print(f"zsim sweep: {answer.text()}")
    if signum is not None:
        print(f"zsim: interrupted by {signal_name(signum)}; the finished points are written",
              file=sys.stderr)
        return 128 + signum
    worst = max((3 if s == 2 else s for s in counts), default=0)
    return worst


class _Bar:
    """Points done, on a terminal only (rich)."""

    def __init__(self, total: int | None) -> None:
        self.progress = None
        if not sys.stdout.isatty():
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self.progress = Progress("points", BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), transient=True)
        self.task = self.progress.add_task("sweep", total=total)
        self.progress.start()

    def advance(self) -> None:
        if self.progress is not None:
            self.progress.advance(self.task)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
