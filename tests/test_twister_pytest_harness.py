"""``harness: pytest`` (twister_adapter.pytest_harness) and where suites run on boards
(twister_adapter.device_scenario).

The suites are written into ``tmp_path``; the pytest runs are real subprocesses using zsim's
``dut`` fixture on the simulated board, or on a virtual board served on loopback.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from twister_adapter.device_scenario import (
    NO_SCENARIO,
    declared_scenario,
    device_scenario,
    settle_off_device,
)
from twister_adapter.discovery import discover
from twister_adapter.dut_session import PARENT_ENV
from twister_adapter.filters import Instance, resolve_platforms
from twister_adapter.harness import HarnessConfigError
from twister_adapter.pytest_harness import (
    LOG,
    REPORT,
    parse_report,
    pytest_command,
    run_pytest_instance,
    salvage_log,
    settings,
)
from twister_adapter.runner import RunOptions, Target
from twister_adapter.statuses import BLOCK, ERROR, FAIL, PASS, SKIP

ROOT = Path(__file__).resolve().parent.parent
BRIDGE_SCENARIO = ROOT / "tests" / "data" / "bridge_basic" / "topology.yaml"

MODEL = '''
def main(k):
    @k.thread(name="greeter", priority=5)
    def greeter():
        for n in range(1000):
            k.printk(f"tick {n}\\n")
            k.msleep(100)
'''

TESTS = '''
import pytest

def test_greets(dut):
    lines = dut.readlines_until(regex="tick 2", timeout=1)
    assert lines[-1] == "tick 2"
    print("measured: rate=10 unit=pps")

def test_shares_the_device(dut):
    # module scope: the device of test_greets, still running
    assert dut.readline(timeout=1) == "tick 3"

def test_wrong(dut):
    assert dut.readline(timeout=1) == "tock"

@pytest.mark.skip(reason="not today")
def test_skipped(dut):
    pass
'''


def write_suite(base: Path, harness_config: str = "", tests: str = TESTS,
                model: str | None = MODEL, topology: bool = False) -> Path:
    suite = base / "suite"
    (suite / "pytest").mkdir(parents=True)
    if model is not None:
        (suite / "model.py").write_text(model)
    if topology:
        shutil.copy(BRIDGE_SCENARIO, suite / "topology.yaml")
    (suite / "pytest" / "test_dut.py").write_text(tests)
    (suite / "testcase.yaml").write_text(
        "tests:\n  sample.pytest.greeter:\n    harness: pytest\n    timeout: 30\n"
        + textwrap.indent(harness_config, "    "))
    return suite


def instance(suite: Path, **harness_config: object) -> Instance:
    """The suite's one scenario on native_sim; ``harness_config`` keys replace the file's
    (a list ``pytest_root``, which twister takes and the schema may not)."""
    (sc,) = discover([suite])
    sc.harness_config.update(harness_config)
    inst = Instance(sc, resolve_platforms(["native_sim"])[0])
    inst.init_cases()
    inst.run = True
    return inst


# ------------------------------------------------------------------ configuration
def test_settings_default_root_and_checks(tmp_path):
    suite = write_suite(tmp_path)
    cfg = settings(instance(suite, pytest_args="-k greets"))
    assert cfg.roots == (str(suite / "pytest"),)
    assert cfg.args == ("-k", "greets") and cfg.dut_scope is None


@pytest.mark.parametrize("config, message", [
    ({"pytest_root": ["pytest", "missing/test_x.py::test_y"]},
     r"testcase.yaml:2: scenario sample.pytest.greeter: harness_config.pytest_root "
     r"'missing/test_x.py::test_y': .*missing/test_x.py does not exist"),
    ({"pytest_dut_scope": "forever"},
     r"testcase.yaml:2: .*pytest_dut_scope 'forever': expected one of function, class"),
])
def test_settings_name_file_line_and_expectation(tmp_path, config, message):
    with pytest.raises(HarnessConfigError, match=message):
        settings(instance(write_suite(tmp_path), **config))


def test_command_selects_simulator_or_board(tmp_path):
    suite = write_suite(tmp_path, "harness_config:\n  pytest_root: pytest/test_dut.py::"
                        "test_greets\n  pytest_dut_scope: module\n  pytest_args: [-x]\n")
    inst = instance(suite)
    cmd = pytest_command(inst, settings(inst), report=tmp_path / "r.xml", seed=7,
                         device_timeout=12)
    assert f"{suite / 'pytest' / 'test_dut.py'}::test_greets" in cmd
    assert {f"--zsim-model={suite / 'model.py'}", "--zsim-board=native_sim",
            "--zsim-seed=7", "--zsim-timeout=12", "--zsim-dut-scope=module",
            f"--junitxml={tmp_path / 'r.xml'}"} <= set(cmd)
    assert cmd[-1] == "-x" and not any(c.startswith("--zsim-device") for c in cmd)
    board = pytest_command(inst, settings(inst), report=tmp_path / "r.xml",
                           device="socket://127.0.0.1:1", baud=9600, model=BRIDGE_SCENARIO)
    assert {"--zsim-device=socket://127.0.0.1:1", "--zsim-baud=9600",
            f"--zsim-model={BRIDGE_SCENARIO}"} <= set(board)


# ------------------------------------------------------------------ report parsing
JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="{errors}" failures="{failures}" skipped="{skipped}"
 tests="{tests}" time="1.5">{cases}</testsuite></testsuites>"""


def junit(tmp_path: Path, cases: str, **counts: int) -> Path:
    path = tmp_path / "report.xml"
    path.write_text(JUNIT.format(cases=cases, **{"errors": 0, "failures": 0, "skipped": 0,
                                                 "tests": 0, **counts}))
    return path


def test_report_cases_and_statuses(tmp_path):
    inst = instance(write_suite(tmp_path))
    report = junit(tmp_path, """
        <testcase classname="test_dut" name="test_a" time="0.25"/>
        <testcase classname="test_dut" name="test_b[1]" time="0.5">
          <failure message="assert 1 == 2">trace</failure></testcase>
        <testcase classname="test_dut" name="test_c" time="0"><skipped message="later"/>
        </testcase>
        <testcase classname="test_dut" name="test_d" time="0"><error message="boom"/>
        </testcase>""", tests=4, failures=1, errors=1, skipped=1)
    assert parse_report(inst, report) == FAIL
    assert inst.reason == "1/4 pytest scenario(s) failed"
    got = {c.name: (c.status, c.reason) for c in inst.testcases}
    assert got == {"sample.pytest.greeter.test_a": (PASS, None),
                   "sample.pytest.greeter.test_b[1]": (FAIL, "assert 1 == 2"),
                   "sample.pytest.greeter.test_c": (SKIP, "later"),
                   "sample.pytest.greeter.test_d": (ERROR, "boom")}
    assert inst.testcases[1].output == "trace" and inst.testcases[1].duration == 0.5
    assert inst.execution_time == 1.5


@pytest.mark.parametrize("counts, status", [
    ({"tests": 2, "errors": 1}, ERROR),
    ({"tests": 2, "skipped": 2}, SKIP),
    ({"tests": 0}, SKIP),
    ({"tests": 2, "skipped": 1}, PASS),
])
def test_report_instance_status(tmp_path, counts, status):
    inst = instance(write_suite(tmp_path))
    assert parse_report(inst, junit(tmp_path, "", **counts)) == status


# ------------------------------------------------------------------ real pytest runs
def opts_for(tmp_path: Path, **kw) -> RunOptions:
    return RunOptions(outdir=str(tmp_path / "out"), **kw)


def test_pytest_suite_on_the_simulated_board(tmp_path):
    suite = write_suite(tmp_path, "harness_config:\n  pytest_dut_scope: module\n"
                        "  record:\n    regex: 'rate=(?P<rate>\\d+) unit=(?P<unit>\\w+)'\n")
    inst = instance(suite)
    bdir = tmp_path / "out" / "build"
    before = sorted(p.name for p in suite.rglob("*"))
    run_pytest_instance(inst, opts_for(tmp_path), Target(), bdir, wall=120)
    assert inst.status == FAIL, (bdir / LOG).read_text()
    assert inst.reason == "1/4 pytest scenario(s) failed"
    got = {c.name: c.status for c in inst.testcases}
    assert got == {"sample.pytest.greeter.test_greets": PASS,
                   "sample.pytest.greeter.test_shares_the_device": PASS,
                   "sample.pytest.greeter.test_wrong": FAIL,
                   "sample.pytest.greeter.test_skipped": SKIP}
    wrong = next(c for c in inst.testcases if c.name.endswith("test_wrong"))
    assert "tock" in wrong.output
    log = (bdir / LOG).read_text()
    assert log.startswith(sys.executable) and "--zsim-board=native_sim" in log
    assert "tick 2" in log                     # the dut's console is in the log
    assert (bdir / REPORT).is_file() and inst.log_name == LOG and inst.executed
    assert inst.recording == [{"rate": "10", "unit": "pps"}]
    assert (bdir / "recording.csv").read_text() == "rate,unit\n10,pps\n"
    assert not [p for p in bdir.iterdir() if p.name.endswith((".partial", ".tmp"))]
    assert sorted(p.name for p in suite.rglob("*")) == before   # nothing written in the suite


def test_function_scope_gives_each_test_a_fresh_device(tmp_path, monkeypatch):
    write_suite(tmp_path, "harness_config:\n  pytest_args: [-k, 'greets or shares']\n")
    monkeypatch.chdir(tmp_path)              # a suite found by a relative path
    inst = instance(Path("suite"))
    run_pytest_instance(inst, opts_for(tmp_path), Target(), Path("out/b"), wall=120)
    assert inst.status == FAIL
    got = {c.name.rsplit(".", 1)[1]: c.status for c in inst.testcases}
    assert got == {"test_greets": PASS, "test_shares_the_device": FAIL}


def test_pytest_that_overruns_is_stopped(tmp_path):
    tests = "import time\n\ndef test_hangs():\n    time.sleep(60)\n"
    inst = instance(write_suite(tmp_path, tests=tests))
    bdir = tmp_path / "b"
    start = time.monotonic()
    run_pytest_instance(inst, opts_for(tmp_path), Target(), bdir, wall=4)
    assert time.monotonic() - start < 30
    assert (inst.status, inst.reason) == (FAIL, "Pytest timeout")
    assert [c.status for c in inst.testcases] == [BLOCK]
    assert "pytest did not end within" in (bdir / LOG).read_text()
    assert not (bdir / REPORT).exists()


def test_log_of_a_killed_run_is_kept(tmp_path):
    bdir = tmp_path / "b"
    bdir.mkdir()
    assert not salvage_log(bdir, "Timeout (wall clock 60 s)")
    (bdir / f".{LOG}.partial").write_text("pytest -v\n\ntest_a PASSED\n")
    (bdir / f".{REPORT}.partial").write_text("<testsuites")
    assert salvage_log(bdir, "Timeout (wall clock 60 s)")
    assert (bdir / LOG).read_text() == ("pytest -v\n\ntest_a PASSED\n\n"
                                        "zsim: Timeout (wall clock 60 s)\n")
    assert sorted(p.name for p in bdir.iterdir()) == [LOG]


def test_usage_error_is_an_error(tmp_path):
    inst = instance(write_suite(tmp_path, "harness_config:\n  pytest_args: [--no-such-opt]\n"))
    run_pytest_instance(inst, opts_for(tmp_path), Target(), tmp_path / "b", wall=60)
    assert (inst.status, inst.reason) == (ERROR, "Pytest error - return code 4")
    assert [c.status for c in inst.testcases] == [BLOCK]


def test_bad_config_is_an_error_without_running(tmp_path):
    inst = instance(write_suite(tmp_path, "harness_config:\n  pytest_root: nowhere\n"))
    assert "nowhere" in str(inst.scenario.harness_config)
    run_pytest_instance(inst, opts_for(tmp_path), Target(), tmp_path / "b", wall=60)
    assert inst.status == ERROR and "nowhere" in inst.reason and not inst.executed


@pytest.fixture
def virtual_board(serve):
    url = serve("--tcp", "127.0.0.1:0")
    assert url.startswith("socket://127.0.0.1:"), url
    return url


def test_pytest_suite_on_a_board(tmp_path, virtual_board):
    tests = ('def test_delivers(dut):\n    assert dut.kind == "virtual board"\n'
             '    dut.readlines_until(regex="deliver .*sink=validator_sink", timeout=2)\n')
    inst = instance(write_suite(tmp_path, tests=tests, topology=True))
    target = Target("device", virtual_board, 115200, "board-1")
    run_pytest_instance(inst, opts_for(tmp_path), target, tmp_path / "b", wall=120)
    assert inst.status == PASS, (tmp_path / "b" / LOG).read_text()
    assert [c.name for c in inst.testcases] == ["sample.pytest.greeter.test_delivers"]
    assert inst.dut == "board-1"


def test_python_model_pytest_suite_is_skipped_on_a_board(tmp_path):
    inst = instance(write_suite(tmp_path))
    target = Target("device", "socket://127.0.0.1:9", 115200, None)
    run_pytest_instance(inst, opts_for(tmp_path), target, tmp_path / "b", wall=60)
    assert (inst.status, inst.reason) == (SKIP, NO_SCENARIO)
    assert [c.status for c in inst.testcases] == [SKIP] and not inst.executed


# ------------------------------------------------------------------ boards and Python models
def test_device_scenario_rules(tmp_path):
    topo_only = write_suite(tmp_path / "a", model=None, topology=True)
    assert device_scenario(instance(topo_only).scenario).path == topo_only / "topology.yaml"
    beside = write_suite(tmp_path / "b", topology=True)
    assert device_scenario(instance(beside).scenario).path == beside / "topology.yaml"
    declared = write_suite(tmp_path / "c", model='"""Doc."""\nDEVICE_SCENARIO = "sc.yaml"\n'
                           + MODEL)
    shutil.copy(BRIDGE_SCENARIO, declared / "sc.yaml")
    assert declared_scenario(declared / "model.py") == ("sc.yaml", 2)
    assert device_scenario(instance(declared).scenario).path == declared / "sc.yaml"
    plain = instance(write_suite(tmp_path / "d"))
    plan = device_scenario(plain.scenario)
    assert (plan.path, plan.status) == (None, SKIP)
    assert "a device runs topology.yaml scenarios through the firmware shim" in plan.reason
    assert settle_off_device(plain)
    assert (plain.status, [c.status for c in plain.testcases]) == (SKIP, [SKIP])
    assert not settle_off_device(instance(beside))


@pytest.mark.parametrize("line, message", [
    ('DEVICE_SCENARIO = "gone.yaml"', r"model.py:1: DEVICE_SCENARIO names 'gone.yaml', but "),
    ("DEVICE_SCENARIO = NAME", r"model.py:1: DEVICE_SCENARIO must be a string literal"),
])
def test_bad_device_scenario_declaration_is_an_error(tmp_path, line, message):
    inst = instance(write_suite(tmp_path, model=line + "\n" + MODEL))
    assert settle_off_device(inst)
    assert inst.status == ERROR
    assert re.search(message, inst.reason), inst.reason
    assert [c.status for c in inst.testcases] == [BLOCK]


# ------------------------------------------------------------------ the session's lifetime
def alive(pid: int) -> bool:
    """Whether ``pid`` runs (an exited process not yet reaped counts as ended)."""
    stat = Path(f"/proc/{pid}/stat")
    if stat.parent.parent.is_dir() and Path("/proc/self").exists():
        try:
            return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_pytest_session_ends_with_its_parent(tmp_path):
    """A parent starts a watcher child and dies at once: the child ends by itself."""
    child = (f"import sys, time; sys.path.insert(0, {str(ROOT)!r})\n"
             "from twister_adapter.dut_session import watch_parent\n"
             "watch_parent(); time.sleep(60)\n")
    parent = ("import os, subprocess, sys\n"
              f"env = dict(os.environ, {PARENT_ENV}=str(os.getpid()))\n"
              "p = subprocess.Popen([sys.executable, '-c', sys.argv[1]], env=env)\n"
              "print(p.pid, flush=True)\n")
    out = subprocess.run([sys.executable, "-c", parent, child], capture_output=True,
                         text=True, timeout=30, check=True)
    pid = int(out.stdout.strip())
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if not alive(pid):
                break
            time.sleep(0.1)
        else:
            pytest.fail("the watcher outlived its parent")
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
