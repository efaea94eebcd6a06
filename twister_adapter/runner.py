"""Running instances through an ``Executor`` and settling their status.

The simulator is ``zsim.sim_executor.SimulatorExecutor``; boards go through
``firmware_bridge.executor.DeviceExecutor``. A harness that has its verdict ends the run
(the executor stops at the next reschedule point), as twister stops reading the console.
Times are virtual seconds of the simulated target, so results do not depend on the host.

``run_all`` runs each instance in a worker process (``workers.WorkerPool``) with a
wall-clock limit, so an instance that never returns (a thread that never yields, a
livelock at one instant of virtual time) is killed and reported ``failed`` with reason
``Timeout (wall clock N s)``; the console it printed until then is its log.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zsim.executor import Executor, RunOutcome
from zsim.export.atomic import write_text
from zsim.kernel.time_units import K_USEC
from zsim.model import Model, load_model

from .device_scenario import device_scenario, settle_off_device
from .filter_expr import evaluate, filter_env, parse_filter
from .filters import Instance
from .footprint import footprint
from .harness import Harness, HarnessConfigError, finish, finish_cut_short, make_harness
from .pytest_harness import run_pytest_instance, salvage_log
from .statuses import BLOCK, ERROR, FAIL, FILTER, NONE, NOTRUN, PASS
from .workers import Finished, WorkerPool

WALL_FLOOR = 60.0
"""The least wall-clock limit of a suite, in seconds (what twister gives a native binary)."""
LOG_LIMIT = 16 * 1024 * 1024
"""Characters of console kept in a log; the harness still reads every line after that."""


@dataclass(frozen=True)
class Target:
    """Where an instance runs: the simulator, or a board on a serial port."""

    kind: str = "simulator"           # "simulator" | "device"
    serial: str | None = None
    baud: int = 115200
    hardware_id: str | None = None
    fixtures: tuple[str, ...] = ()    # the board's fixtures (hardware map), NAME[:PARAM]


@dataclass(frozen=True)
class RunOptions:
    """What every instance run needs to know."""

    outdir: str
    timeout_multiplier: float = 1.0
    seed: int = 0
    board_dirs: tuple[str, ...] = ()
    targets: tuple[tuple[str, Target], ...] = ()     # platform name -> device targets
    suite_wall_timeout: float | None = None          # wall seconds per instance (None: default)
    strict: bool = False                             # Kconfig warnings are errors
    footprint: bool = False                          # keep the RAM model's footprint

    def target_for(self, platform: str, fixture: str | None = None) -> Target:
        """Where an instance of ``platform`` runs: the first board of the platform that has
        ``fixture`` (its name, without a ``:PARAM``), else its first board (the fixture was
        given with ``--fixture``), else the simulator."""
        boards = [t for name, t in self.targets if name == platform]
        if fixture:
            want = fixture.split(":", 1)[0]
            for t in boards:
                if want in {f.split(":", 1)[0] for f in t.fixtures}:
                    return t
        return boards[0] if boards else Target()

    def target_of(self, inst: Instance) -> Target:
        """``target_for`` the instance's platform and its harness's fixture."""
        fixture = inst.scenario.harness_config.get("fixture")
        return self.target_for(inst.platform.name, str(fixture) if fixture else None)


def build_dir(outdir: str | Path, inst: Instance) -> Path:
    """OUTDIR/<platform normalized>/<suite path>/<scenario id>, as twister lays it out."""
    return Path(outdir) / inst.platform.normalized_name / inst.scenario.name


def wall_limit(inst: Instance, opts: RunOptions) -> float:
    """The wall-clock seconds ``inst`` may take: ``--suite-wall-timeout``, else the larger
    of 60 and its ``timeout`` x ``--timeout-multiplier``."""
    if opts.suite_wall_timeout is not None:
        return opts.suite_wall_timeout
    return max(WALL_FLOOR, inst.scenario.timeout * opts.timeout_multiplier)


def partial_log(bdir: Path, log_name: str) -> Path:
    """Where a running instance's console goes until the run ends (then ``log_name``)."""
    return bdir / f".{log_name}.partial"


def clean_temporaries(bdir: Path) -> None:
    """Remove the temporary files zsim leaves in a build directory when it is stopped."""
    if not bdir.is_dir():
        return
    for p in bdir.iterdir():
        if p.name.startswith(".") and p.name.endswith((".tmp", ".partial")) and p.is_file():
            p.unlink(missing_ok=True)


def _write(path: Path, text: str) -> None:
    write_text(path, text)


def _make_executor(target: Target, opts: RunOptions) -> Executor:
    if target.kind == "device":
        from firmware_bridge.executor import DeviceExecutor
        return DeviceExecutor(target.serial or "", baudrate=target.baud)
    from zsim.config import warn_to_stderr
    from zsim.sim_executor import SimulatorExecutor
    return SimulatorExecutor(board_dirs=opts.board_dirs, strict=opts.strict,
                             warn=warn_to_stderr)


def _reset(inst: Instance) -> None:
    inst.status = NONE
    inst.reason = "Unknown"
    inst.recording = None
    inst.execution_time = 0.0
    inst.executed = False
    inst.footprint = None
    inst.init_cases()


def _runtime_filter(inst: Instance, model: Model) -> bool:
    """Evaluate the scenario's ``filter`` against its configuration on the platform (the
    model's prj.conf, then ``extra_configs``), as twister does after running CMake."""
    import warnings

    from zsim.config import load_config

    sc = inst.scenario
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cfg = load_config(model.kernel_config(sc.extra_configs or None),
                          board=inst.platform.name)
    env = filter_env({**cfg, **cfg.assigned}, inst.platform.arch, inst.platform.name)
    return evaluate(parse_filter(sc.filter), env)


def _build(inst: Instance) -> tuple[list[str], tuple[str, str, str] | None]:
    """"Build" an instance: load its model and apply its runtime filter. Returns the build
    log and, when the instance ends here, its (status, reason, status of its cases)."""
    sc = inst.scenario
    log = [f"zsim: {sc.name} for {inst.platform.name}: model {sc.model}"]
    model = None
    if sc.model.name == "model.py":
        try:
            model = load_model(sc.model)
            log.append("zsim: model loaded")
        except Exception:
            log.append(traceback.format_exc())
            return log, (ERROR, "Build failure", BLOCK)
    if sc.filter:
        try:
            keep = _runtime_filter(inst, model or load_model(sc.model))
        except Exception as exc:  # the configuration could not be put together
            log.append(f"zsim: filter {sc.filter!r}: {type(exc).__name__}: {exc}")
            return log, (ERROR, "Build failure", BLOCK)
        log.append(f"zsim: filter {sc.filter!r} is {keep}")
        if not keep:
            return log, (FILTER, "runtime filter", FILTER)
    return log, None


def run_instance(inst: Instance, opts: RunOptions,
                 executor_factory: Callable[[Target, RunOptions], Executor] | None = None,
                 ) -> Instance:
    """Build (load) and run one instance; returns it with status, cases and logs set."""
    if inst.status == FILTER:
        return inst
    bdir = build_dir(opts.outdir, inst)
    bdir.mkdir(parents=True, exist_ok=True)
    for stale in ("handler.log", "device.log", "recording.csv", "ram.json"):
        (bdir / stale).unlink(missing_ok=True)
    clean_temporaries(bdir)
    target = opts.target_of(inst)
    sc = inst.scenario
    build_log, ended = _build(inst)
    _write(bdir / "build.log", "\n".join(build_log) + "\n")
    if ended is not None:
        inst.status, inst.reason, case_status = ended
        inst.add_missing_case_status(case_status)
        return inst
    if not inst.run:
        inst.status = NOTRUN
        inst.reason = "Test was built only"
        inst.add_missing_case_status(NOTRUN)
        return inst
    if target.kind == "device" and settle_off_device(inst):
        return inst
    if sc.harness == "pytest":
        return run_pytest_instance(inst, opts, target, bdir, wall_limit(inst, opts))
    try:
        harness = make_harness(inst)
    except HarnessConfigError as exc:
        inst.status = ERROR
        inst.reason = str(exc)
        inst.add_missing_case_status(BLOCK)
        return inst

    seconds = sc.timeout * opts.timeout_multiplier
    log_name = "device.log" if target.kind == "device" else "handler.log"
    inst.log_name = log_name
    inst.dut = target.hardware_id
    partial = partial_log(bdir, log_name)
    # The console goes to the log line by line, so a run killed from outside leaves it.
    with open(partial, "w", encoding="utf-8", errors="replace", newline="\n",
              buffering=1) as log:
        room = [LOG_LIMIT]

        def on_event(ev: dict[str, Any]) -> bool:
            if ev.get("type") != "console":
                return False
            line = str(ev["line"]).rstrip("\r\n")
            if room[0] > 0:
                room[0] -= len(line) + 1
                log.write(line + "\n" if room[0] > 0 else
                          f"zsim: console log cut at {LOG_LIMIT} characters\n")
            harness.handle(line)
            return harness.done

        scenario_path: Path = sc.source_dir
        if target.kind == "device":
            scenario_path = device_scenario(sc).path or scenario_path
        factory = executor_factory or _make_executor
        error: str | None = None
        outcome: RunOutcome | None = None
        try:
            with factory(target, opts) as ex:
                outcome = ex.run(scenario_path, board=inst.platform.name,
                                 duration=K_USEC(max(1, round(seconds * 1_000_000))),
                                 seed=opts.seed, config=sc.extra_configs or None,
                                 on_event=on_event)
                if opts.footprint:
                    _keep_footprint(inst, ex, bdir)
            error = outcome.error
        except Exception as exc:  # the target could not run it at all
            error = f"{type(exc).__name__}: {exc}"
        inst.executed = True
        if outcome is not None and outcome.ticks_per_sec:
            inst.execution_time = outcome.uptime_ticks / outcome.ticks_per_sec
        if harness.done:
            error = None if harness.status != FAIL or error is None else error
        if error is not None:
            log.write(f"zsim: run failed: {error}\n")
        elif not harness.done:
            log.write(f"zsim: no verdict within {seconds:g} s of virtual time (timeout)\n")
    os.replace(partial, bdir / log_name)
    finish(inst, harness, error)
    if inst.recording:
        keys = list(dict.fromkeys(k for rec in inst.recording for k in rec))
        rows = [",".join(keys)] + [",".join(str(rec.get(k, "")) for k in keys)
                                   for rec in inst.recording]
        _write(bdir / "recording.csv", "\n".join(rows) + "\n")
    return inst


def _keep_footprint(inst: Instance, ex: Executor, bdir: Path) -> None:
    """The RAM footprint of the kernel the simulator built (none on boards); ram.json."""
    kernel = getattr(ex, "last_kernel", None)
    if kernel is None:
        return
    inst.footprint = footprint(kernel.memory_report())
    _write(bdir / "ram.json", json.dumps(inst.footprint["RAM"], indent=4) + "\n")


def _wait(seconds: float, stop: Callable[[], str | None]) -> bool:
    """Wait ``seconds`` (wall clock) unless ``stop()`` gives a reason; True when stopped."""
    end = time.monotonic() + seconds
    while stop() is None:
        left = end - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(0.05, left))
    return True


def settle_cut_short(inst: Instance, opts: RunOptions, status: str, reason: str, *,
                     started: bool = True, detail: str = "") -> Instance:
    """Settle an instance whose run ended from outside (its worker was killed or died, or
    the run was stopped): the console it printed is read with its harness and becomes its
    log, ending with ``zsim: <reason>``; ``detail`` (a traceback) goes to build.log."""
    target = opts.target_of(inst)
    bdir = build_dir(opts.outdir, inst)
    inst.log_name = "device.log" if target.kind == "device" else "handler.log"
    inst.dut = target.hardware_id if started else None
    inst.executed = started
    harness: Harness | None
    try:
        harness = make_harness(inst)
    except HarnessConfigError:
        harness = None
    if inst.scenario.harness == "pytest" and salvage_log(bdir, reason):
        inst.log_name = "twister_harness.log"
    partial = partial_log(bdir, inst.log_name)
    if started and partial.is_file():
        with open(partial, encoding="utf-8", errors="replace") as f:
            for line in f:
                if harness is not None:
                    harness.handle(line.rstrip("\r\n"))
        with open(partial, "a", encoding="utf-8") as f:
            f.write(f"zsim: {reason}\n")
        os.replace(partial, bdir / inst.log_name)
    if detail and bdir.is_dir():
        build_log = bdir / "build.log"
        old = build_log.read_text(encoding="utf-8", errors="replace") \
            if build_log.is_file() else ""
        _write(build_log, old + detail)
    clean_temporaries(bdir)
    finish_cut_short(inst, harness, status, reason)
    return inst


def _run_one(args: tuple[Instance, RunOptions]) -> Instance:
    return run_instance(*args)


def _settle(inst: Instance, opts: RunOptions, f: Finished, limit: float,
            stop_reason: str) -> Instance:
    if f.kind == "done":
        return f.value
    if f.kind == "timeout":
        return settle_cut_short(inst, opts, FAIL, f"Timeout (wall clock {limit:g} s)")
    if f.kind == "died":
        return settle_cut_short(inst, opts, FAIL, f"Failed (its process was {f.detail})"
                                if f.detail.startswith("killed") else
                                f"Failed (its process ended with {f.detail})")
    if f.kind == "raised":
        last = str(f.value).strip().splitlines()[-1] if str(f.value).strip() else "?"
        return settle_cut_short(inst, opts, ERROR, f"zsim error: {last}", detail=str(f.value))
    return settle_cut_short(inst, opts, ERROR, stop_reason, started=f.started)


def run_all(instances: Sequence[Instance], opts: RunOptions, *, jobs: int = 1,
            retry_failed: int = 0, retry_interval: float = 0.0,
            on_done: Callable[[Instance], None] | None = None,
            stop: Callable[[], str | None] | None = None) -> list[Instance]:
    """Run every instance without a status yet in ``jobs`` worker processes (one for
    boards), each within its wall-clock limit (:func:`wall_limit`), retrying failures
    ``retry_failed`` times ``retry_interval`` wall seconds apart; returns the instances in
    their original order. One that passes on a retry is marked ``flaky``.

    ``stop()`` is asked between events: a reason (e.g. ``"interrupted"``) stops the run,
    and every instance not finished gets status ``error`` with that reason. ``on_done``
    sees each instance that finished (not the stopped ones)."""
    results: dict[str, Instance] = {i.name: i for i in instances}
    order = [i.name for i in instances if i.status == NONE]
    todo = [results[n] for n in order]
    devices = any(t.kind == "device" for _, t in opts.targets)
    workers = 1 if devices else max(1, min(jobs, len(todo)))
    stop = stop or (lambda: None)
    try:
        with WorkerPool(_run_one, workers) as pool:
            for attempt in range(retry_failed + 1):
                if not todo:
                    break
                if attempt and retry_interval and _wait(retry_interval, stop):
                    break
                if attempt:
                    for inst in todo:
                        inst.retries += 1
                        _reset(inst)
                batch = list(todo)
                limits = [wall_limit(inst, opts) for inst in batch]

                def finished(f: Finished, batch: list[Instance] = batch,
                             limits: list[float] = limits, retry: bool = attempt > 0) -> None:
                    r = _settle(batch[f.index], opts, f, limits[f.index], stop() or "")
                    r.flaky = retry and r.status == PASS
                    results[r.name] = r
                    if on_done is not None and f.kind != "stopped":
                        on_done(r)

                if pool.run([((inst, opts), limit) for inst, limit in zip(batch, limits,
                                                                          strict=True)],
                            finished, lambda: stop() is not None):
                    break
                todo = [results[i.name] for i in batch
                        if results[i.name].status in (FAIL, ERROR)]
    except BaseException:
        for inst in todo:          # a second interrupt: no temporary file stays behind
            clean_temporaries(build_dir(opts.outdir, inst))
        raise
    return [results[i.name] for i in instances]


__all__ = ["RunOptions", "Target", "build_dir", "clean_temporaries", "partial_log",
           "run_all", "run_instance", "settle_cut_short", "wall_limit"]
