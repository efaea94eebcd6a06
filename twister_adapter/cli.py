"""``zsim twister``: discover suites, run them on platforms, write twister's reports.

Everything that could refuse the run (flags, suite files, the output directory) is checked
before anything is written. Suites run in worker processes with a wall-clock limit each;
SIGINT, SIGTERM and SIGHUP stop the run with the results so far written whole (exit status
128 + the signal's number), a second one leaves at once.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from zsim import __version__
from zsim.boards import load_board
from zsim.errors import BoardError
from zsim.output_paths import is_zsim_output_dir

from .discovery import TwisterConfigError, discover
from .filters import FilterOptions, Instance, apply_filters, check_unique, resolve_platforms
from .footprint import delta_lines, deltas, load_baseline
from .hardware_map import DUT, connected_boards, load_hardware_map
from .interrupts import Abort, StopSignals, signal_name
from .merge import MergedReports
from .outdir import check_outdir, prepare_outdir
from .quarantine import SIMULATION, apply_quarantine, load_quarantine
from .reports import Environment, save_reports, save_testplan, summary_lines, write_atomic
from .reruns import list_tests, load_plan
from .runner import RunOptions, Target, build_dir, run_all
from .shards import parse_subset, select_subset
from .statuses import ERROR, FAIL, FILTER, NONE, NOTRUN, PASS, SKIP
from .workers import WorkerStartError

EXIT_WALL_TIMEOUT = 3


def _number(convert: Callable[[str], Any], least: float, above: bool,
            what: str) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if isinstance(value, float) and not math.isfinite(value) or \
                (value <= least if above else value < least):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value
    return parse


_POSITIVE = _number(float, 0, True, "a number of seconds above 0")
_FACTOR = _number(float, 0, True, "a factor above 0")
_AT_LEAST_ONE = _number(int, 1, False, "a whole number of at least 1")
_COUNT = _number(int, 0, False, "a whole number of at least 0")
_SECONDS = _number(float, 0, False, "a number of seconds of at least 0")
_PERCENT = _number(float, 0, False, "a percentage of at least 0")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """twister's flags that zsim understands (destinations named as twister names them)."""
    p.add_argument("-T", "--testsuite-root", action="append", default=[],
                   help="directory to search for suites (repeatable)")
    p.add_argument("-p", "--platform", action="append", default=[],
                   help="platform to run on (repeatable; aliases accepted)")
    p.add_argument("-O", "--outdir", default="twister-out", help="output directory")
    p.add_argument("-t", "--tag", action="append", default=[], help="only suites with this tag")
    p.add_argument("-e", "--exclude-tag", action="append", default=[],
                   help="leave out suites with this tag")
    p.add_argument("-s", "--test", "--scenario", dest="scenario", action="append", default=[],
                   help="run only this scenario (path/identifier or identifier)")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more output")
    p.add_argument("--inline-logs", action="store_true",
                   help="print the logs of failed suites instead of their paths")
    p.add_argument("--retry-failed", type=_COUNT, default=0, metavar="N",
                   help="run failed suites again, up to N times")
    p.add_argument("--no-clean", action="store_true",
                   help="reuse an existing output directory instead of renaming it")
    p.add_argument("-c", "--clobber-output", action="store_true",
                   help="delete an existing output directory instead of renaming it")
    p.add_argument("-j", "--jobs", type=_AT_LEAST_ONE, default=1,
                   help="suites run in parallel worker processes")
    p.add_argument("--integration", action="store_true",
                   help="run only on each suite's integration_platforms")
    p.add_argument("--timeout-multiplier", type=_FACTOR, default=1.0,
                   help="multiply every suite's timeout (virtual seconds)")
    p.add_argument("--wall-timeout", type=_POSITIVE, default=None, metavar="SECONDS",
                   help="wall-clock limit of the whole run (suites not finished: error)")
    p.add_argument("--suite-wall-timeout", type=_POSITIVE, default=None, metavar="SECONDS",
                   help="wall-clock limit of each suite (default: the larger of 60 and "
                        "its timeout x --timeout-multiplier)")
    p.add_argument("--device-testing", action="store_true", help="run on real boards")
    p.add_argument("--device-serial", help="serial port (pyserial URL) of the board")
    p.add_argument("--device-serial-baud", type=_AT_LEAST_ONE, default=115200,
                   help="its baud rate")
    p.add_argument("--hardware-map", help="twister hardware map YAML of connected boards")
    p.add_argument("--report-filtered", action="store_true",
                   help="include filtered suites in twister.json")
    p.add_argument("--detailed-skipped-report", action="store_true",
                   help="include filtered suites in the JUnit reports")
    p.add_argument("--report-name", default=None, help="report file name (default twister)")
    p.add_argument("--report-suffix", default=None, help="suffix added to report names")
    p.add_argument("--seed", type=int, default=0, help="simulation random seed")
    p.add_argument("--strict", action="store_true",
                   help="Kconfig warnings (an unknown symbol in prj.conf, ...) are errors")
    p.add_argument("--board-dir", action="append", default=[],
                   help="extra directory of board profiles")
    p.add_argument("-B", "--subset", default=None, metavar="k/N",
                   help="run only the k-th of N stable shards of the selected suites")
    p.add_argument("--shuffle-tests", action="store_true",
                   help="shuffle the suites before cutting shards (needs --subset)")
    p.add_argument("--shuffle-tests-seed", type=int, default=None, metavar="SEED",
                   help="seed of --shuffle-tests (default: a random one, written to "
                        "twister_shuffle_tests_seed.txt)")
    p.add_argument("-f", "--only-failed", action="store_true",
                   help="run again only what failed or errored in -O's twister.json")
    p.add_argument("-F", "--load-tests", default=None, metavar="FILE",
                   help="run the suites listed in a twister.json or testplan.json")
    p.add_argument("--retry-interval", type=_SECONDS, default=0.0, metavar="SECONDS",
                   help="wall seconds to wait before each --retry-failed round")
    p.add_argument("-y", "--dry-run", action="store_true",
                   help="write testplan.json and print the plan without running")
    p.add_argument("--list-tests", action="store_true",
                   help="list the test cases found and exit")
    p.add_argument("--quarantine-list", action="append", default=[], metavar="FILE",
                   help="twister quarantine YAML: matching suites are skipped (repeatable)")
    p.add_argument("--quarantine-verify", action="store_true",
                   help="run only the quarantined suites")
    p.add_argument("-X", "--fixture", action="append", default=[],
                   help="a fixture available to the suites (repeatable)")
    p.add_argument("--ignore-platform-key", action="store_true",
                   help="run a suite on every platform despite its platform_key")
    p.add_argument("--footprint-report", nargs="?", const="all", default=None,
                   choices=["all", "RAM", "ROM"],
                   help="keep each suite's static RAM from zsim's RAM model (RAM; all)")
    p.add_argument("--show-footprint", action="store_true",
                   help="print the footprint deltas against --compare-report")
    p.add_argument("--compare-report", default=None, metavar="FILE",
                   help="twister.json to compare footprints with")
    p.add_argument("--footprint-threshold", type=_PERCENT, default=5.0, metavar="PERCENT",
                   help="least increase reported (default 5)")
    p.add_argument("--all-deltas", action="store_true",
                   help="report every footprint change, decreases included")
    p.add_argument("--merge-reports", nargs="+", default=None, metavar="DIR",
                   help="merge the reports of these output directories (shards, reruns) "
                        "into -O instead of running suites")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``zsim twister`` to the zsim command line."""
    p = sub.add_parser("twister", help="run suites from testcase.yaml/sample.yaml like twister",
                       description="Run zsim models as twister suites and write twister's "
                                   "reports (twister.json, twister.xml, twister_report.xml).")
    add_arguments(p)
    p.set_defaults(func=main)


class _Log:
    """twister-style console lines, kept for twister.log (printing stops quietly when the
    console has gone, e.g. after SIGHUP)."""

    def __init__(self, out: TextIO) -> None:
        self.out: TextIO | None = out
        self.lines: list[str] = []

    def __call__(self, msg: str, level: str = "INFO") -> None:
        for part in msg.splitlines() or [""]:
            line = f"{level:<7} - {part}"
            self.lines.append(line)
            if self.out is not None:
                try:
                    print(line, file=self.out, flush=True)
                except (OSError, ValueError):
                    self.out = None

    def say(self, line: str) -> None:
        """Print a line as it is (no level, not kept), as twister's listings do."""
        if self.out is not None:
            print(line, file=self.out, flush=True)


def _say(msg: str) -> None:
    try:
        print(msg, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _check_new_flags(args: argparse.Namespace) -> None:
    """Combinations twister refuses, and what zsim cannot give."""
    if args.shuffle_tests and not args.subset:
        raise TwisterConfigError("--shuffle-tests needs --subset k/N")
    if args.subset:
        parse_subset(args.subset)
    if args.only_failed and args.load_tests:
        raise TwisterConfigError("-f/--only-failed and --load-tests cannot be used together")
    if args.quarantine_verify and not args.quarantine_list:
        raise TwisterConfigError("--quarantine-verify needs --quarantine-list FILE")
    if args.footprint_report == "ROM":
        raise TwisterConfigError("--footprint-report ROM: zsim models RAM only; use RAM "
                                 "(or all)")


def _check_report_names(args: argparse.Namespace) -> None:
    for opt, value in (("--report-name", args.report_name),
                       ("--report-suffix", args.report_suffix)):
        if value is not None and (value in ("", ".", "..") or "/" in value
                                  or os.sep in value):
            raise TwisterConfigError(f"{opt} {value!r}: expected a plain file name part "
                                     "(reports are written inside -O)")


def _inputs(args: argparse.Namespace, scenarios: Sequence[Any]) -> list[str | Path]:
    """What the output directory must stay clear of: the -T roots given (else each suite
    directory found), the hardware map, the board directories, a serial port path."""
    out: list[str | Path] = list(args.testsuite_root) or \
        list(dict.fromkeys(sc.source_dir for sc in scenarios))
    out += [p for p in (args.hardware_map, *args.board_dir, *args.quarantine_list) if p]
    if args.device_serial and os.path.exists(args.device_serial):
        out.append(args.device_serial)
    return out


def _options_dict(args: argparse.Namespace) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    defaults = vars(parser.parse_args([]))
    return {k: v for k, v in vars(args).items()
            if k in defaults and v != defaults[k]}


def _duts(args: argparse.Namespace, board_dirs: tuple[str, ...]) -> list[DUT]:
    """The hardware map's boards (platform names made canonical), when testing devices."""
    if not (args.device_testing and args.hardware_map):
        return []
    duts = load_hardware_map(args.hardware_map)
    for d in duts:
        canon = []
        for p in d.platforms:
            try:
                canon.append(load_board(p, board_dirs).identifier)
            except BoardError:
                canon.append(p)
        d.platforms = canon
    return duts


def _targets(args: argparse.Namespace, platforms: list[str],
             board_dirs: tuple[str, ...]) -> tuple[tuple[str, Target], ...]:
    if not args.device_testing:
        return ()
    if args.hardware_map:
        duts = _duts(args, board_dirs)
        return tuple((plat, Target("device", d.serial, d.baud, d.id, tuple(d.fixtures)))
                     for plat in platforms for d in connected_boards(duts, plat))
    return tuple((p, Target("device", args.device_serial, args.device_serial_baud, None))
                 for p in platforms)


def main(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run ``zsim twister``: 0 when nothing failed, 1 when something failed or errored,
    3 when ``--wall-timeout`` cut the run short, 128 + N when signal N stopped it."""
    with StopSignals() as signals:
        try:
            return _main(args, out, signals)
        except Abort as exc:
            _remove_report_temporaries(Path(args.outdir))
            _say(f"zsim twister: {exc} again: stopped at once, reports not written")
            return 128 + exc.signum
        except WorkerStartError as exc:
            _say(f"zsim: error: {exc}")
            return EXIT_WALL_TIMEOUT


def _remove_report_temporaries(outdir: Path) -> None:
    """The temporary files of reports being written when a second signal came."""
    if outdir.is_dir() and is_zsim_output_dir(outdir):
        for p in outdir.glob(".*.tmp"):
            p.unlink(missing_ok=True)


def _merge(args: argparse.Namespace, log: _Log) -> int:
    """``--merge-reports DIR...``: one set of reports in -O from several output directories;
    1 when a merged suite failed or errored."""
    outdir = Path(args.outdir)
    check_outdir(outdir, args.merge_reports)
    name = f"{args.report_name or 'twister'}" + (f"_{args.report_suffix}"
                                                  if args.report_suffix else "")
    merged = MergedReports(args.merge_reports, name)
    done_to_old = prepare_outdir(outdir, no_clean=args.no_clean, clobber=args.clobber_output)
    if done_to_old is not None:
        log(f"Previous output directory {done_to_old}")
    merged.write(outdir)
    suites = merged.doc["testsuites"]
    bad = [s for s in suites if s.get("status") in (FAIL, ERROR)]
    log(f"Merged the reports of {len(args.merge_reports)} directories: {len(suites)} "
        f"configurations, {len(bad)} failed or errored")
    for s in bad:
        log(f"{s['platform']:<25} {s['name']:<50} {str(s['status']).upper()}: "
            f"{s.get('reason', '')}", "ERROR")
    log(f"Saving reports... in {outdir}")
    write_atomic(outdir / "twister.log", "\n".join(log.lines) + "\n")
    return 1 if bad else 0


def _main(args: argparse.Namespace, out: TextIO | None, signals: StopSignals) -> int:
    log = _Log(out or sys.stdout)
    start = time.monotonic()
    if args.device_testing and not (args.device_serial or args.hardware_map):
        raise TwisterConfigError("--device-testing needs --device-serial PATH or "
                                 "--hardware-map FILE")
    if args.device_serial and args.hardware_map:
        raise TwisterConfigError("--device-serial and --hardware-map cannot be used together")
    if (args.device_serial or args.hardware_map) and not args.device_testing:
        raise TwisterConfigError("--device-serial/--hardware-map need --device-testing")
    if args.jobs < 1:
        raise TwisterConfigError("-j/--jobs must be at least 1")
    _check_report_names(args)
    _check_new_flags(args)
    if args.merge_reports:
        return _merge(args, log)
    board_dirs = tuple(args.board_dir)
    roots = args.testsuite_root or ["."]
    if args.list_tests:
        for line in list_tests(discover(roots)):
            log.say(line)
        return 0
    names = [n for p in args.platform for n in p.replace(",", " ").split()]
    if not names and args.hardware_map:
        names = [p for d in load_hardware_map(args.hardware_map) if d.connected
                 for p in d.platforms]
    plan_file = (Path(args.outdir) / "twister.json" if args.only_failed
                 else args.load_tests)
    if not names and plan_file is None:
        raise TwisterConfigError("no platform: pass -p PLATFORM (repeatable)")
    if args.device_testing and args.device_serial and len(names) > 1:
        raise TwisterConfigError("--device-serial runs one platform; pass exactly one -p")
    quarantine = load_quarantine(args.quarantine_list)
    baseline = load_baseline(args.compare_report) if args.compare_report else None

    scenarios = discover(roots)
    duts = _duts(args, board_dirs)
    if plan_file is not None:
        instances, platforms = load_plan(
            plan_file, scenarios, flag="-f/--only-failed" if args.only_failed
            else "--load-tests", board_dirs=board_dirs, platforms=names)
    else:
        platforms = resolve_platforms(names, board_dirs)
        instances = apply_filters(scenarios, platforms, FilterOptions(
            tags=args.tag, exclude_tags=args.exclude_tag, scenarios=args.scenario,
            integration=args.integration, device_testing=args.device_testing,
            fixtures=args.fixture, ignore_platform_key=args.ignore_platform_key,
            device_fixtures={p.name: [f for d in connected_boards(duts, p.name)
                                      for f in d.fixtures] for p in platforms}
            if args.hardware_map and args.device_testing else None))
    plat_names = [p.name for p in platforms]
    if quarantine or args.quarantine_verify:
        apply_quarantine(instances, quarantine, verify=args.quarantine_verify,
                         simulation="na" if args.device_testing else SIMULATION)
    check_unique(instances)
    shuffle_seed = None
    if args.subset:
        k, n = parse_subset(args.subset)
        if args.shuffle_tests:
            shuffle_seed = args.shuffle_tests_seed if args.shuffle_tests_seed is not None \
                else int.from_bytes(os.urandom(8), "big")
        instances = select_subset(instances, k, n, device_testing=args.device_testing,
                                  shuffle_seed=shuffle_seed)
    targets = _targets(args, plat_names, board_dirs)
    outdir = Path(args.outdir)
    check_outdir(outdir, _inputs(args, scenarios))
    if signals.signum is not None:          # nothing written yet: nothing to keep
        _say(f"zsim twister: interrupted by {signal_name(signals.signum)}")
        return 128 + signals.signum

    done_to_old = prepare_outdir(outdir, no_clean=args.no_clean or args.only_failed,
                                 clobber=args.clobber_output)
    if done_to_old is not None:
        log(f"Previous output directory {done_to_old}")
    if args.subset:
        log(f"Running only a subset: {args.subset.strip()}")
    if shuffle_seed is not None:
        write_atomic(outdir / "twister_shuffle_tests_seed.txt", str(shuffle_seed))
    log(f"Using zsim {__version__} (simulated targets; times are virtual seconds)")

    env = Environment(version=f"zsim-{__version__}",
                      run_date=datetime.now().isoformat(timespec="seconds"),
                      options=_options_dict(args))
    if args.device_testing:
        for inst in instances:
            if inst.status == NONE and inst.platform.name not in dict(targets):
                inst.add_filter("No connected device for this platform")
                inst.run = False
                inst.add_missing_case_status(FILTER)

    save_testplan(instances, env, outdir)
    filtered = sum(1 for i in instances if i.status == FILTER)
    log(f"{len({i.scenario.name for i in instances})} test scenarios ({len(instances)} "
        f"configurations) selected, {filtered} configurations filtered ({filtered} by static "
        "filter, 0 at runtime).")
    if args.dry_run:
        for inst in instances:
            if inst.status == NONE:
                log(f"{inst.platform.name:<25} {inst.scenario.name}")
        log(f"Dry run: {sum(1 for i in instances if i.status == NONE)} configurations "
            f"planned, none run; the plan is in {outdir / 'testplan.json'}")
        write_atomic(outdir / "twister.log", "\n".join(log.lines) + "\n")
        return 0
    log("Adding tasks to the queue...")

    opts = RunOptions(outdir=str(outdir), timeout_multiplier=args.timeout_multiplier,
                      seed=args.seed, board_dirs=board_dirs, targets=targets,
                      suite_wall_timeout=args.suite_wall_timeout, strict=args.strict,
                      footprint=bool(args.footprint_report or args.show_footprint
                                     or args.compare_report))
    todo = sum(1 for i in instances if i.status == NONE)
    done_count = [0]
    deadline = None if args.wall_timeout is None else start + args.wall_timeout

    def stop() -> str | None:
        if signals.signum is not None:
            return "interrupted"
        if deadline is not None and time.monotonic() >= deadline:
            return f"interrupted (--wall-timeout {args.wall_timeout:g} s)"
        return None

    def on_done(inst: Instance) -> None:
        done_count[0] += 1
        if args.verbose:
            status = {PASS: "PASSED", FAIL: "FAILED", ERROR: "ERROR",
                      NOTRUN: "NOT RUN"}.get(inst.status, str(inst.status).upper())
            extra = f" : {inst.reason}" if inst.status in (FAIL, ERROR, SKIP) else ""
            kind = "device" if inst.dut or opts.target_of(inst).kind == "device" else "zsim"
            log(f"{done_count[0]:>{len(str(todo))}}/{todo} {inst.platform.name:<25} "
                f"{inst.scenario.name:<50} {status} ({kind} {inst.execution_time:.3f}s)"
                f"{extra}")

    instances = run_all(instances, opts, jobs=args.jobs, retry_failed=args.retry_failed,
                        retry_interval=args.retry_interval, on_done=on_done, stop=stop)
    cut = stop()
    unfinished = [i for i in instances if cut and i.status == ERROR and i.reason == cut]
    if signals.signum is None and not unfinished:
        cut = None                  # the wall-clock limit came after the last suite
    if cut:
        why = (f"{signal_name(signals.signum)} received" if signals.signum is not None
               else f"--wall-timeout {args.wall_timeout:g} s reached")
        log(f"{why}: run stopped; {len(unfinished)} configurations not finished are "
            f"reported as error ({cut})", "WARNING")
    by = {s: sum(1 for i in instances if i.status == s)
          for s in (PASS, FAIL, ERROR, FILTER, NOTRUN)}
    complete = todo - len(unfinished)
    pct = 100 * complete // todo if todo else 100
    log(f"Total complete: {complete:>4}/{todo:>4}  {pct}%  built (not run): {by[NOTRUN]:>4}, "
        f"filtered: {by[FILTER]:>4}, failed: {by[FAIL]:>4}, error: {by[ERROR]:>4}")

    bad = [i for i in instances if i.status in (FAIL, ERROR)]
    for inst in bad:
        bdir = build_dir(outdir, inst)
        logfile = bdir / inst.log_name
        if not logfile.exists():
            logfile = bdir / "build.log"
        level = "ERROR"
        log(f"{inst.platform.name:<25} {inst.scenario.name:<50} {inst.status.upper()}: "
            f"{inst.reason}", level)
        if not logfile.exists():
            continue
        if args.inline_logs:
            log(f"see: {logfile}:", level)
            log(logfile.read_text(encoding="utf-8", errors="replace").rstrip("\n"), level)
        else:
            log(f"see: {logfile}", level)

    if baseline is not None:
        lines, count = delta_lines(deltas(instances, baseline), show=args.show_footprint,
                                   all_deltas=args.all_deltas,
                                   threshold=args.footprint_threshold)
        for level, line in lines:
            log(line, level)
        if count:
            log(f"Found {count} footprint deltas to {args.compare_report} as a baseline.",
                "WARNING")
    save_reports(instances, env, outdir, plat_names, name=args.report_name or "twister",
                 suffix=args.report_suffix, report_filtered=args.report_filtered,
                 detailed_skipped=args.detailed_skipped_report)
    if bad:
        log("-+" * 40)
        log("The following issues were found (showing the top 10 items):")
        for n, inst in enumerate(bad[:10], 1):
            log(f"{n}) {inst.scenario.name} on {inst.platform.name} {inst.status} "
                f"({inst.reason})")
        log("")
        log("To rerun the tests, call zsim twister using the following commandline:")
        log(f"zsim twister -T <ROOT> -p {bad[0].platform.name} -s {bad[0].scenario.name}")
        log("-+" * 40)
    for line in summary_lines(instances, plat_names, time.monotonic() - start):
        log(line)
    log(f"Saving reports... in {outdir}")
    write_atomic(outdir / "twister.log", "\n".join(log.lines) + "\n")
    if signals.signum is not None:
        return 128 + signals.signum
    if cut:
        return EXIT_WALL_TIMEOUT
    return 1 if bad else 0


def run(argv: Sequence[str], out: TextIO | None = None) -> int:
    """Parse ``argv`` (the arguments after ``twister``) and run."""
    p = argparse.ArgumentParser(prog="zsim twister")
    add_arguments(p)
    return main(p.parse_args(list(argv)), out)


__all__ = ["add_arguments", "main", "register", "run"]
