"""Pieces of twister_adapter on their own: common: merging, harness rules on console
lines, hardware maps, and a run through the Executor interface on a device target."""

from __future__ import annotations

from pathlib import Path

import pytest

from twister_adapter.discovery import (
    Scenario,
    TwisterConfigError,
    discover,
    merge_common,
    scan_ztest_cases,
)
from twister_adapter.filters import FilterOptions, Instance, Platform, apply_filters
from twister_adapter.hardware_map import connected_for, load_hardware_map
from twister_adapter.harness import ConsoleHarness, HarnessConfigError, ZtestHarness, finish
from twister_adapter.runner import RunOptions, Target, run_instance
from zsim.executor import Executor, RunOutcome

GOOD = Path(__file__).parent / "data" / "twister" / "good"
NATIVE = Platform("native_sim", "posix", 65536, 65536)


def _inst(harness="console", config=None, cases=(), sid="a.b", **kw) -> Instance:
    sc = Scenario(id=sid, name=f"x/{sid}", source_dir=Path("."), yaml_file=Path("t.yaml"),
                  model=Path("model.py"), harness=harness, harness_config=config or {},
                  testcases=list(cases), **kw)
    inst = Instance(sc, NATIVE)
    inst.init_cases()
    inst.run = True
    return inst


def test_common_merges_as_twister():
    merged = merge_common({"tags": "a b", "platform_allow": ["x"], "filter": "A",
                           "timeout": 5, "harness": "ztest"},
                          {"tags": ["c"], "platform_allow": "y", "filter": "B", "timeout": 9})
    assert merged["tags"] == ["a", "b", "c"]
    assert merged["platform_allow"] == ["x", "y"]
    assert merged["filter"] == "(A) and (B)"
    assert merged["timeout"] == 9 and merged["harness"] == "ztest"


def test_discovery_names_and_common(tmp_path):
    scs = {s.id: s for s in discover([GOOD])}
    assert "misc.no.model" not in scs
    f = scs["ztest.filters.slow"]
    assert f.name == "ztest/filters/ztest.filters.slow"
    assert f.tags == {"ztest", "slow"} and f.platform_exclude == ["nrf52840dk/nrf52840"]
    assert f.harness == "ztest" and f.timeout == 60          # twister's default timeout
    assert scs["console.timeout.never"].timeout == 2


def test_scan_ztest_cases_reads_declarations():
    assert scan_ztest_cases(GOOD / "ztest" / "mixed" / "model.py") == [
        "mixed_suite.adds_up", "mixed_suite.broken", "mixed_suite.not_here"]


def test_console_harness_unordered_and_one_line():
    inst = _inst(config={"type": "multi_line", "ordered": False, "regex": ["b", "a"]})
    h = ConsoleHarness(inst)
    h.handle("a")
    assert not h.done and inst.testcases[0].status == "failed"
    h.handle("xx b")
    assert h.done and h.status == "passed" and inst.testcases[0].status == "passed"
    one = _inst(config={"type": "one_line", "regex": ["^ok [0-9]+$"]})
    h = ConsoleHarness(one)
    h.handle("ok x")
    h.handle("ok 12")
    assert h.status == "passed"


def test_console_harness_config_errors():
    with pytest.raises(HarnessConfigError, match="no regex"):
        ConsoleHarness(_inst(config={"type": "one_line"}))
    with pytest.raises(HarnessConfigError, match="incorrect type=many"):
        ConsoleHarness(_inst(config={"type": "many", "regex": ["x"]}))


def test_console_fault_turns_success_into_failure():
    inst = _inst(config={"type": "one_line", "regex": ["nope"]})
    h = ConsoleHarness(inst)
    h.handle("ZEPHYR FATAL ERROR")
    h.handle("PROJECT EXECUTION SUCCESSFUL")
    assert h.status == "failed" and h.reason == "Fault detected while running test"


ZTEST_LINES = """\
Running TESTSUITE s1
===================================================================
START - test_one
 PASS - test_one in 0.010 seconds
===================================================================
START - test_two
 SKIP - test_two in 0.000 seconds
===================================================================
START - test_hang""".splitlines()


def test_ztest_harness_started_case_fails_and_unreached_is_blocked():
    inst = _inst("ztest", cases=["s1.one", "s1.two", "s1.hang", "s1.never"])
    h = ZtestHarness(inst)
    for line in ZTEST_LINES:
        h.handle(line)
    assert not h.done
    finish(inst, h, None)                          # no verdict: a timeout
    st = {c.name.rsplit(".", 1)[-1]: (c.status, c.reason) for c in inst.testcases}
    assert (inst.status, inst.reason) == ("failed", "Timeout")
    assert st["one"] == ("passed", None)
    assert st["two"] == ("skipped", "ztest skip")
    assert st["hang"][0] == "failed"
    assert st["never"] == ("blocked", "Timeout")
    assert [c for c in inst.testcases if c.name == "a.b.s1.one"][0].duration == 0.01


def test_ztest_harness_not_a_ztest_uses_the_scenario_id():
    inst = _inst("ztest")
    h = ZtestHarness(inst)
    h.handle("PROJECT EXECUTION FAILED")
    finish(inst, h, None)
    assert inst.reason == "Failed harness:'Testsuite failed'"
    assert [(c.name, c.status, c.reason) for c in inst.testcases] == [
        ("a.b", "failed", "Test failure")]


def test_filters_last_reason_wins_and_device_testing():
    sc = _inst(platform_allow=["qemu_x86"], skip=True).scenario
    (inst,) = apply_filters([sc], [NATIVE], FilterOptions())
    assert (inst.status, inst.reason) == ("filtered", "Not in testsuite platform allow list")
    sc = _inst(build_only=True).scenario
    (inst,) = apply_filters([sc], [NATIVE], FilterOptions(device_testing=True))
    assert inst.reason == "Not runnable on device"


def test_hardware_map(tmp_path):
    hw = tmp_path / "map.yaml"
    hw.write_text("- connected: true\n  id: 0001\n  platform: nrf52840dk/nrf52840\n"
                  "  product: J-Link\n  runner: nrfjprog\n  serial: /dev/ttyACM0\n"
                  "  baud: 115200\n- connected: false\n  id: '2'\n  platform: qemu_x86\n"
                  "  serial: /dev/ttyACM1\n")
    duts = load_hardware_map(hw)
    assert connected_for(duts, "nrf52840dk/nrf52840").serial == "/dev/ttyACM0"
    assert connected_for(duts, "qemu_x86") is None
    hw.write_text("- connected: true\n  platform: a\n  serial: s\n- connected: yes-ish\n"
                  "  platform: b\n")
    with pytest.raises(TwisterConfigError, match=r"map.yaml:4: hardware map entry 1"):
        load_hardware_map(hw)


class _FakeDevice(Executor):
    """A target that prints given console lines, honouring on_event's stop request."""

    target = "device"

    def __init__(self, lines):
        self.lines = lines
        self.calls = []

    def run(self, scenario, *, board=None, duration=None, seed=0, config=None,
            on_event=None):
        self.calls.append((Path(scenario).name, board))
        out = RunOutcome(target="device", board=board, ticks_per_sec=100)
        for n, line in enumerate(self.lines):
            ev = {"type": "console", "tick": n, "line": line}
            out.events.append(ev)
            out.uptime_ticks = n
            if on_event and on_event(ev):
                break
        return out


def test_device_target_runs_through_the_executor_interface(tmp_path):
    suite = tmp_path / "s"
    suite.mkdir()
    (suite / "topology.yaml").write_text("name: x\n")
    sc = Scenario(id="dev.one", name="s/dev.one", source_dir=suite,
                  yaml_file=suite / "testcase.yaml", model=suite / "topology.yaml",
                  harness="console", harness_config={"type": "one_line", "regex": ["ready"]})
    inst = Instance(sc, NATIVE)
    inst.init_cases()
    inst.run = True
    fake = _FakeDevice(["boot", "ready", "after verdict"])
    opts = RunOptions(outdir=str(tmp_path / "o"),
                      targets=(("native_sim", Target("device", "/dev/null", 115200, "HW1")),))
    run_instance(inst, opts, executor_factory=lambda t, o: fake)
    assert inst.status == "passed" and inst.dut == "HW1"
    assert fake.calls == [("topology.yaml", "native_sim")]
    log = tmp_path / "o" / "native_sim" / "s" / "dev.one" / "device.log"
    assert log.read_text().splitlines() == ["boot", "ready"]    # stopped at the verdict
    assert inst.execution_time == pytest.approx(0.01)


def test_a_suite_runs_on_the_board_with_its_fixture(tmp_path):
    """Two boards of one platform in the hardware map: a suite whose harness needs a
    fixture runs on the board that has it (``NAME:PARAM`` counts as NAME); others on the
    first board."""
    plain = Target("device", "/dev/ttyACM0", 115200, "HW1")
    fixed = Target("device", "/dev/ttyACM1", 115200, "HW2", ("loopback:pins 3-4",))
    opts = RunOptions(outdir=str(tmp_path / "o"),
                      targets=(("native_sim", plain), ("native_sim", fixed)))
    assert opts.target_for("native_sim") is plain
    assert opts.target_for("native_sim", "loopback") is fixed
    assert opts.target_for("native_sim", "loopback:other") is fixed
    assert opts.target_for("native_sim", "camera") is plain       # given with --fixture
    assert opts.target_for("qemu_x86").kind == "simulator"
    suite = tmp_path / "s"
    suite.mkdir()
    (suite / "topology.yaml").write_text("name: x\n")
    ran = []
    for sid, config in (("plain", {}), ("fixed", {"fixture": "loopback"})):
        sc = Scenario(id=f"dev.{sid}", name=f"s/dev.{sid}", source_dir=suite,
                      yaml_file=suite / "testcase.yaml", model=suite / "topology.yaml",
                      harness="console",
                      harness_config={"type": "one_line", "regex": ["ready"], **config})
        inst = Instance(sc, NATIVE)
        inst.init_cases()
        inst.run = True
        chosen = []
        run_instance(inst, opts, executor_factory=lambda t, o, c=chosen: (
            c.append(t.hardware_id), _FakeDevice(["ready"]))[1])
        ran.append((sid, inst.status, inst.dut, chosen))
    assert ran == [("plain", "passed", "HW1", ["HW1"]), ("fixed", "passed", "HW2", ["HW2"])]
