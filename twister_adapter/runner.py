"""Running instances through an ``Executor`` and settling their status.

The simulator is ``zsim.sim_executor.SimulatorExecutor``; boards go through
``firmware_bridge.executor.DeviceExecutor``. A harness that has its verdict ends the run
(the executor stops at the next reschedule point), as twister stops reading the console.
Times are virtual seconds of the simulated target, so results do not depend on the host.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zsim.executor import Executor, RunOutcome
from zsim.kernel.time_units import K_USEC
from zsim.model import Model, load_model

from .filter_expr import evaluate, filter_env, parse_filter
from .filters import Instance
from .harness import HarnessConfigError, finish, make_harness
from .statuses import BLOCK, ERROR, FAIL, FILTER, NONE, NOTRUN


@dataclass(frozen=True)
class Target:
    """Where an instance runs: the simulator, or a board on a serial port."""

    kind: str = "simulator"           # "simulator" | "device"
    serial: str | None = None
    baud: int = 115200
    hardware_id: str | None = None


@dataclass(frozen=True)
class RunOptions:
    """What every instance run needs to know."""

    outdir: str
    timeout_multiplier: float = 1.0
    seed: int = 0
    board_dirs: tuple[str, ...] = ()
    targets: tuple[tuple[str, Target], ...] = ()     # platform name -> device target

    def target_for(self, platform: str) -> Target:
        for name, t in self.targets:
            if name == platform:
                return t
        return Target()


def build_dir(outdir: str | Path, inst: Instance) -> Path:
    """OUTDIR/<platform normalized>/<suite path>/<scenario id>, as twister lays it out."""
    return Path(outdir) / inst.platform.normalized_name / inst.scenario.name


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _make_executor(target: Target, opts: RunOptions) -> Executor:
    if target.kind == "device":
        from firmware_bridge.executor import DeviceExecutor
        return DeviceExecutor(target.serial or "", baudrate=target.baud)
    from zsim.sim_executor import SimulatorExecutor
    return SimulatorExecutor(board_dirs=opts.board_dirs)


def _reset(inst: Instance) -> None:
    inst.status = NONE
    inst.reason = "Unknown"
    inst.recording = None
    inst.execution_time = 0.0
    inst.executed = False
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
    for stale in ("handler.log", "device.log", "recording.csv"):
        (bdir / stale).unlink(missing_ok=True)
    target = opts.target_for(inst.platform.name)
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
    lines: list[str] = []

    def on_event(ev: dict[str, Any]) -> bool:
        if ev.get("type") != "console":
            return False
        line = str(ev["line"]).rstrip("\r\n")
        lines.append(line)
        harness.handle(line)
        return harness.done

    scenario_path: Path = sc.source_dir
    if target.kind == "device":
        scenario_path = sc.source_dir / "topology.yaml"
    factory = executor_factory or _make_executor
    error: str | None = None
    outcome: RunOutcome | None = None
    try:
        with factory(target, opts) as ex:
            outcome = ex.run(scenario_path, board=inst.platform.name,
                             duration=K_USEC(max(1, round(seconds * 1_000_000))),
                             seed=opts.seed, config=sc.extra_configs or None,
                             on_event=on_event)
        error = outcome.error
    except Exception as exc:  # the target could not run it at all
        error = f"{type(exc).__name__}: {exc}"
    inst.executed = True
    if outcome is not None and outcome.ticks_per_sec:
        inst.execution_time = outcome.uptime_ticks / outcome.ticks_per_sec
    if harness.done:
        error = None if harness.status != FAIL or error is None else error
    if error is not None:
        lines.append(f"zsim: run failed: {error}")
    elif not harness.done:
        lines.append(f"zsim: no verdict within {seconds:g} s of virtual time (timeout)")
    _write(bdir / log_name, "\n".join(lines) + ("\n" if lines else ""))
    finish(inst, harness, error)
    if inst.recording:
        keys = list(dict.fromkeys(k for rec in inst.recording for k in rec))
        rows = [",".join(keys)] + [",".join(str(rec.get(k, "")) for k in keys)
                                   for rec in inst.recording]
        _write(bdir / "recording.csv", "\n".join(rows) + "\n")
    return inst


def _run_one(args: tuple[Instance, RunOptions]) -> Instance:
    return run_instance(*args)


def run_all(instances: Sequence[Instance], opts: RunOptions, *, jobs: int = 1,
            retry_failed: int = 0,
            on_done: Callable[[Instance], None] | None = None) -> list[Instance]:
    """Run every unfiltered instance (``jobs`` processes), retrying failures
    ``retry_failed`` times; returns the instances in their original order."""
    results: dict[str, Instance] = {i.name: i for i in instances}
    todo = [i for i in instances if i.status != FILTER]
    devices = any(t.kind == "device" for _, t in opts.targets)
    for attempt in range(retry_failed + 1):
        if not todo:
            break
        if attempt:
            for inst in todo:
                inst.retries += 1
                _reset(inst)
        if jobs <= 1 or len(todo) == 1 or devices:
            done = []
            for inst in todo:
                r = run_instance(inst, opts)
                done.append(r)
                if on_done:
                    on_done(r)
        else:
            ctx = multiprocessing.get_context("spawn")
            with concurrent.futures.ProcessPoolExecutor(max_workers=jobs,
                                                        mp_context=ctx) as pool:
                done = []
                for r in pool.map(_run_one, [(i, opts) for i in todo]):
                    done.append(r)
                    if on_done:
                        on_done(r)
        for r in done:
            results[r.name] = r
        todo = [r for r in done if r.status in (FAIL, ERROR)]
    return [results[i.name] for i in instances]


__all__ = ["RunOptions", "Target", "build_dir", "run_all", "run_instance"]
