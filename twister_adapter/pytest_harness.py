"""``harness: pytest``: a scenario's pytest tests run against zsim's ``dut``, as twister does.

Follows twister's ``Pytest`` harness (scripts/pylib/twister/twisterlib/harness.py): pytest
runs in a subprocess on the ``harness_config.pytest_root`` paths (relative to the suite,
default ``pytest``) with ``pytest_args`` and ``pytest_dut_scope``; its JUnit XML
(``report.xml``) gives the instance status and one test case ``<scenario>.<test name>`` per
pytest test; its output, after the command line, is ``twister_harness.log``. The ``dut``
is zsim's (twister_adapter/pytest_plugin.py): the suite's model on the simulated platform,
or a board at a pyserial URL. The subprocess has a wall-clock bound and ends with the
process that started it.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from zsim.export.atomic import atomic_write, write_text

from .dut_session import DUT_SCOPES, PARENT_ENV
from .filters import Case, Instance
from .harness import Harness, HarnessConfigError
from .statuses import BLOCK, ERROR, FAIL, NONE, PASS, SKIP

DEFAULT_ROOT = "pytest"
REPORT = "report.xml"
LOG = "twister_harness.log"
LOG_LIMIT = 16 * 1024 * 1024
"""Characters of pytest output kept in the log."""
ERROR_EXITS = {2: "interrupted", 3: "internal error", 4: "usage error"}
"""pytest exit codes that make the instance ``error`` (twister: INTERRUPTED, INTERNAL_ERROR,
USAGE_ERROR)."""
KILL_GRACE = 3.0
"""Wall seconds pytest has to end after SIGTERM before it is killed."""


@dataclass(frozen=True)
class PytestSettings:
    """A scenario's pytest harness_config, checked."""

    roots: tuple[str, ...]        # absolute paths, each maybe with a ``::test`` suffix
    args: tuple[str, ...] = ()
    dut_scope: str | None = None


@dataclass
class PytestResult:
    """How the pytest subprocess ended: its exit code (None when it was killed), whether
    its wall-clock bound ran out, and its output."""

    returncode: int | None
    timed_out: bool = False
    output: list[str] = field(default_factory=list)


def _where(inst: Instance) -> str:
    sc = inst.scenario
    return f"{sc.yaml_file}:{sc.line}: scenario {sc.id}"


def settings(inst: Instance) -> PytestSettings:
    """The checked harness_config of ``inst``; a ``HarnessConfigError`` names the suite
    file, its line and what was expected."""
    sc = inst.scenario
    cfg = sc.harness_config or {}
    raw_roots = cfg.get("pytest_root", [DEFAULT_ROOT])
    if isinstance(raw_roots, str):
        raw_roots = [raw_roots]
    if not isinstance(raw_roots, list) or not raw_roots or \
            not all(isinstance(r, str) and r for r in raw_roots):
        raise HarnessConfigError(f"{_where(inst)}: harness_config.pytest_root must be a path "
                                 "or a list of paths (relative to the suite directory)")
    roots = []
    for r in raw_roots:
        path, sep, test = os.path.expandvars(os.path.expanduser(r)).partition("::")
        full = Path(os.path.normpath(Path(sc.source_dir).resolve() / path))
        if not full.exists():
            raise HarnessConfigError(f"{_where(inst)}: harness_config.pytest_root {r!r}: "
                                     f"{full} does not exist")
        roots.append(f"{full}{sep}{test}")
    args = cfg.get("pytest_args", [])
    if isinstance(args, str):
        args = shlex.split(args)
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise HarnessConfigError(f"{_where(inst)}: harness_config.pytest_args must be a "
                                 "list of strings")
    scope = cfg.get("pytest_dut_scope")
    if scope is not None and scope not in DUT_SCOPES:
        raise HarnessConfigError(f"{_where(inst)}: harness_config.pytest_dut_scope "
                                 f"{scope!r}: expected one of {', '.join(DUT_SCOPES)}")
    return PytestSettings(tuple(roots), tuple(args), scope)


def plugin_installed() -> bool:
    """Whether pytest loads zsim's plugin by itself (the ``pytest11: zsim`` entry point)."""
    try:
        eps = metadata.entry_points(group="pytest11")
    except Exception:  # noqa: BLE001 - broken metadata: load the plugin explicitly
        return False
    return any(ep.value == "twister_adapter.pytest_plugin" for ep in eps)


def pytest_command(inst: Instance, cfg: PytestSettings, *, report: Path, seed: int = 0,
                   device_timeout: float = 60.0, model: Path | None = None,
                   device: str | None = None, baud: int = 115200,
                   extra_args: Sequence[str] = ()) -> list[str]:
    """The pytest command line for ``inst``: its roots, the dut options (its ``model``,
    else the scenario's, on the instance's platform, or on the board at ``device``), the
    JUnit report, ``pytest_args``, then ``extra_args``."""
    cmd = [sys.executable, "-m", "pytest", *cfg.roots, "-s", "-v", "-p", "no:cacheprovider",
           f"--junitxml={Path(report).resolve()}",
           f"--zsim-model={Path(model or inst.scenario.model).resolve()}",
           f"--zsim-board={inst.platform.name}", f"--zsim-seed={seed}",
           f"--zsim-timeout={device_timeout:g}"]
    if not plugin_installed():
        cmd += ["-p", "twister_adapter.pytest_plugin"]
    if device:
        cmd += [f"--zsim-device={device}", f"--zsim-baud={baud}"]
    if cfg.dut_scope:
        cmd.append(f"--zsim-dut-scope={cfg.dut_scope}")
    return [*cmd, *cfg.args, *extra_args]


def pytest_env(board_dirs: Sequence[str] = ()) -> dict[str, str]:
    """The subprocess environment: no bytecode written beside the tests, zsim's packages
    importable, board directories, and this process as the one to outlive."""
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env[PARENT_ENV] = str(os.getpid())
    here = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH", "")) if p)
    if board_dirs:
        env["ZSIM_BOARD_DIR"] = os.pathsep.join(
            p for p in (*board_dirs, env.get("ZSIM_BOARD_DIR", "")) if p)
    return env


def _end(proc: subprocess.Popen[Any]) -> None:
    """Stop pytest and everything it started (its own session), within bounded waits."""
    for sig, wait in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, KILL_GRACE)):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            proc.send_signal(sig)
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            continue


def run_pytest(cmd: Sequence[str], *, cwd: Path, env: dict[str, str], output: Path,
               wall: float) -> PytestResult:
    """Run ``cmd`` for at most ``wall`` seconds; the file ``output`` gets the command line,
    an empty line, then its output."""
    with open(output, "w", encoding="utf-8", errors="replace") as out:
        out.write(shlex.join(cmd) + "\n\n")
        out.flush()
        proc = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        timed_out = False
        try:
            deadline = time.monotonic() + wall
            while True:
                try:
                    proc.wait(timeout=max(0.0, min(0.5, deadline - time.monotonic())))
                    break
                except subprocess.TimeoutExpired:
                    if time.monotonic() >= deadline:
                        timed_out = True
                        break
        finally:
            _end(proc)
    with open(output, encoding="utf-8", errors="replace") as f:
        text = f.read(LOG_LIMIT)
    return PytestResult(None if timed_out else proc.returncode, timed_out,
                        text.splitlines()[2:])


_CASE_STATUS = {"skipped": SKIP, "failure": FAIL, "error": ERROR}


def parse_report(inst: Instance, report: Path) -> str:
    """Set ``inst``'s cases, reason and execution time from pytest's JUnit XML as
    twister's ``Pytest._parse_report_file`` does; returns the instance status."""
    root = ET.parse(report).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        inst.reason = "No tests collected"
        return SKIP
    status = PASS
    if suite.get("failures", "0") != "0":
        status = FAIL
        inst.reason = f"{suite.get('failures')}/{suite.get('tests')} pytest scenario(s) failed"
    elif suite.get("errors", "0") != "0":
        status = ERROR
        inst.reason = "Error during pytest execution"
    elif suite.get("skipped", "0") == suite.get("tests", "0"):
        status = SKIP
    inst.execution_time = float(suite.get("time", 0) or 0)
    cases = []
    for el in suite.findall("testcase"):
        case = Case(f"{inst.scenario.id}.{el.get('name')}", status=PASS,
                    duration=float(el.get("time", 0) or 0))
        verdict = next((child for child in el if child.tag in _CASE_STATUS), None)
        if verdict is not None:
            case.status = _CASE_STATUS[verdict.tag]
            case.reason = verdict.get("message")
            case.output = verdict.text or ""
        cases.append(case)
    inst.testcases = cases
    return status


def _record(inst: Instance, lines: list[str], bdir: Path) -> None:
    """``harness_config.record`` patterns over the pytest output, as twister reads them."""
    harness = Harness(inst)
    for line in lines:
        harness.parse_record(line)
    if not harness.recording:
        return
    inst.recording = harness.recording
    keys = list(dict.fromkeys(k for rec in inst.recording for k in rec))
    rows = [",".join(keys)] + [",".join(str(rec.get(k, "")) for k in keys)
                               for rec in inst.recording]
    write_text(bdir / "recording.csv", "\n".join(rows) + "\n")


def _write_log(bdir: Path, partial: Path, note: str) -> None:
    """``twister_harness.log``: the partial log (cut at ``LOG_LIMIT``) and ``note``."""
    with atomic_write(bdir / LOG) as log, \
            open(partial, encoding="utf-8", errors="replace") as f:
        room = LOG_LIMIT
        while room > 0 and (chunk := f.read(min(room, 1 << 20))):
            log.write(chunk)
            room -= len(chunk)
        if room <= 0:
            log.write(f"\nzsim: pytest output cut at {LOG_LIMIT} characters\n")
        if note:
            log.write(f"\nzsim: {note}\n")
    partial.unlink(missing_ok=True)


def salvage_log(bdir: Path, reason: str) -> bool:
    """After a run ended from outside (its worker was killed), keep the pytest output
    written so far as ``twister_harness.log``, ending with ``zsim: <reason>``; True when
    there was one."""
    partial = bdir / f".{LOG}.partial"
    if not partial.is_file():
        return False
    _write_log(bdir, partial, reason)
    (bdir / f".{REPORT}.partial").unlink(missing_ok=True)
    return True


def run_pytest_instance(inst: Instance, opts: Any, target: Any, bdir: Path,
                        wall: float, extra_args: Sequence[str] = ()) -> Instance:
    """Run ``inst`` (``harness: pytest``) and settle its status and cases.

    ``opts`` is the run's ``RunOptions`` (seed, timeout multiplier, board directories),
    ``target`` its ``Target`` (a ``device`` target runs the dut on that board), ``bdir``
    its build directory and ``wall`` the wall-clock seconds the instance may take; pytest
    gets a little less, so that its result is still read when it overruns."""
    from .device_scenario import device_scenario

    bdir.mkdir(parents=True, exist_ok=True)
    for stale in (REPORT, LOG, "recording.csv"):
        (bdir / stale).unlink(missing_ok=True)
    inst.log_name = LOG
    try:
        cfg = settings(inst)
        Harness(inst)                       # record patterns are checked before running
    except HarnessConfigError as exc:
        inst.status, inst.reason = ERROR, str(exc)
        inst.add_missing_case_status(BLOCK)
        return inst
    if importlib.util.find_spec("pytest") is None:
        inst.status, inst.reason = ERROR, "pytest is not installed (pip install pytest)"
        inst.add_missing_case_status(BLOCK)
        return inst
    on_device = getattr(target, "kind", "simulator") == "device"
    model = None
    if on_device:
        plan = device_scenario(inst.scenario)
        if plan.path is None:
            inst.status, inst.reason = plan.status, plan.reason
            inst.add_missing_case_status(SKIP if plan.status == SKIP else BLOCK, plan.reason)
            return inst
        model = plan.path
        inst.dut = getattr(target, "hardware_id", None)
    partial_report = bdir / f".{REPORT}.partial"
    partial_log = bdir / f".{LOG}.partial"
    seconds = inst.scenario.timeout * float(getattr(opts, "timeout_multiplier", 1.0))
    cmd = pytest_command(inst, cfg, report=partial_report, seed=int(getattr(opts, "seed", 0)),
                         device_timeout=seconds, model=model,
                         device=getattr(target, "serial", None) if on_device else None,
                         baud=int(getattr(target, "baud", 115200)), extra_args=extra_args)
    bound = max(1.0, wall - min(10.0, max(0.5, 0.1 * wall)))
    result = run_pytest(cmd, cwd=bdir, env=pytest_env(getattr(opts, "board_dirs", ())),
                        output=partial_log, wall=bound)
    inst.executed = True
    status: str | None = NONE
    note = ""
    if result.timed_out:
        status, inst.reason = FAIL, "Pytest timeout"
        note = f"pytest did not end within {bound:g} s of wall clock; it was stopped"
    elif result.returncode in ERROR_EXITS:
        status = ERROR
        inst.reason = f"Pytest error - return code {result.returncode}"
        note = f"pytest ended with {ERROR_EXITS[result.returncode]}"
    if status is NONE:
        try:
            status = parse_report(inst, partial_report)
            os.replace(partial_report, bdir / REPORT)
        except (OSError, ET.ParseError) as exc:
            status = FAIL
            note = f"no pytest report to read ({type(exc).__name__}: {exc})"
        if not inst.testcases:
            inst.init_cases()
    partial_report.unlink(missing_ok=True)
    _write_log(bdir, partial_log, note)
    _record(inst, result.output, bdir)
    inst.status = status
    if status in (ERROR, FAIL):
        inst.reason = inst.reason if inst.reason not in ("", "Unknown") else "Pytest failed"
        inst.add_missing_case_status(BLOCK, inst.reason)
    elif status == SKIP:
        inst.reason = inst.reason if inst.reason not in ("", "Unknown") else \
            "all pytest tests skipped"
        inst.add_missing_case_status(SKIP, inst.reason)
    return inst


__all__ = ["DEFAULT_ROOT", "LOG", "REPORT", "PytestResult", "PytestSettings",
           "parse_report", "plugin_installed", "pytest_command", "pytest_env", "run_pytest",
           "run_pytest_instance", "salvage_log", "settings"]
