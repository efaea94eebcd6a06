"""``zsim twister`` end to end on tests/data/twister/good: statuses, reasons, files, flags."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from zsim.cli import main as zsim_main

DATA = Path(__file__).parent / "data" / "twister"
GOOD = DATA / "good"
REPO = Path(__file__).resolve().parent.parent


def twister(*argv: str) -> tuple[int, str]:
    """Run ``zsim twister`` in-process; (exit code, console output)."""
    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = zsim_main(["twister", *argv])
    return rc, buf.getvalue()


def load(outdir: Path, name: str = "twister.json") -> dict:
    return json.loads((outdir / name).read_text())


def by_key(doc: dict) -> dict[tuple[str, str], dict]:
    return {(s["name"].rsplit("/", 1)[-1], s["platform"]): s for s in doc["testsuites"]}


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tw") / "out"
    rc, text = twister("-T", str(GOOD), "-p", "native_sim", "-p", "qemu_x86", "-O", str(out))
    return rc, text, out


def test_exit_code_is_one_when_something_failed(full_run):
    rc, text, _ = full_run
    assert rc == 1
    assert "executed test configurations passed" in text
    assert "executed test cases passed" in text


def test_suite_statuses_and_reasons(full_run):
    _, _, out = full_run
    s = by_key(load(out))
    for plat in ("native_sim", "qemu_x86"):
        assert s[("sample.console.hello", plat)]["status"] == "passed"
        assert s[("ztest.filters.default", plat)]["status"] == "passed"
        assert s[("ztest.filters.slow", plat)]["status"] == "passed"
        timeout = s[("console.timeout.never", plat)]
        assert (timeout["status"], timeout["reason"]) == ("failed", "Timeout")
        assert timeout["execution_time"] == "2.00"        # the yaml timeout, virtual seconds
        ordered = s[("console.ordered.mismatch", plat)]
        assert ordered["reason"] == "Failed harness:'patterns did not match (ordered)'"
        crash = s[("console.crash.thread", plat)]
        assert crash["status"] == "failed"
        assert "sensor buffer overrun" in crash["reason"]
        assert "sensor buffer overrun" in crash["log"]     # the message is in the log
        mixed = s[("ztest.mixed.cases", plat)]
        assert (mixed["status"], mixed["reason"]) == ("failed",
                                                       "Failed harness:'Testsuite failed'")
        built = s[("misc.build.only", plat)]
        assert (built["status"], built["runnable"]) == ("not run", False)
    assert s[("ztest.filters.only_qemu", "qemu_x86")]["status"] == "passed"
    # filtered instances are left out of twister.json (no --report-filtered)
    assert ("ztest.filters.only_qemu", "native_sim") not in s
    assert not [k for k in s if k[0] in ("misc.skip.yaml", "misc.big.ram",
                                         "ztest.filters.arm_only")]
    # a directory with a testcase.yaml but no model is not a suite
    assert not [k for k in s if k[0] == "misc.no.model"]


def test_ztest_cases_named_and_statused_as_twister(full_run):
    _, _, out = full_run
    s = by_key(load(out))
    cases = {c["identifier"]: c for c in s[("ztest.mixed.cases", "native_sim")]["testcases"]}
    assert set(cases) == {"ztest.mixed.cases.mixed_suite.adds_up",
                          "ztest.mixed.cases.mixed_suite.broken",
                          "ztest.mixed.cases.mixed_suite.not_here"}
    assert cases["ztest.mixed.cases.mixed_suite.adds_up"]["status"] == "passed"
    broken = cases["ztest.mixed.cases.mixed_suite.broken"]
    assert broken["status"] == "failed"
    assert "two and two" in broken["log"]
    skipped = cases["ztest.mixed.cases.mixed_suite.not_here"]
    assert (skipped["status"], skipped["reason"]) == ("skipped", "ztest skip")
    default = [c["identifier"] for c in s[("ztest.filters.default", "native_sim")]["testcases"]]
    assert default == ["ztest.filters.default.filters_suite.one",
                       "ztest.filters.default.filters_suite.two"]


def test_console_case_and_recording(full_run):
    _, _, out = full_run
    hello = by_key(load(out))[("sample.console.hello", "native_sim")]
    assert hello["testcases"] == [{"identifier": "sample.console.hello",
                                   "execution_time": hello["execution_time"],
                                   "status": "passed"}]
    assert hello["recording"] == [{"rate": "10", "unit": "pps"}, {"rate": "20", "unit": "pps"}]
    timeout = by_key(load(out))[("console.timeout.never", "native_sim")]
    # output was seen but never matched: the case failed, the suite timed out
    assert timeout["testcases"][0]["status"] == "failed"


def test_testplan_lists_filtered_instances_with_reasons(full_run):
    _, _, out = full_run
    plan = by_key(load(out, "testplan.json"))
    expect = {
        ("misc.skip.yaml", "native_sim"): "Skip filter",
        ("misc.big.ram", "qemu_x86"): "Not enough RAM",
        ("ztest.filters.only_qemu", "native_sim"): "Not in testsuite platform allow list",
        ("ztest.filters.arm_only", "native_sim"): "Not in testsuite arch allow list",
    }
    for key, reason in expect.items():
        assert (plan[key]["status"], plan[key]["reason"]) == ("filtered", reason)
        assert plan[key]["runnable"] is False
        assert {c["status"] for c in plan[key]["testcases"]} == {"filtered"}
    assert plan[("sample.console.hello", "native_sim")]["status"] is None


def test_logs_laid_out_as_twister(full_run):
    _, _, out = full_run
    d = out / "native_sim" / "console" / "hello" / "sample.console.hello"
    assert "Hello World! native_sim" in (d / "handler.log").read_text()
    assert (d / "build.log").is_file()
    assert (d / "recording.csv").read_text().splitlines() == ["rate,unit", "10,pps", "20,pps"]
    built = out / "qemu_x86" / "misc" / "build_only" / "misc.build.only"
    assert (built / "build.log").is_file() and not (built / "handler.log").exists()
    for name in ("twister.json", "twister.xml", "twister_report.xml",
                 "twister_suite_report.xml", "testplan.json", "twister.log"):
        assert (out / name).is_file(), name
    assert not list(out.glob(".*tmp*"))      # no temporary files left behind


def test_report_filtered_includes_filtered_suites(tmp_path):
    rc, _ = twister("-T", str(GOOD / "misc"), "-p", "native_sim", "-O", str(tmp_path / "o"),
                    "--report-filtered")
    assert rc == 0
    s = by_key(load(tmp_path / "o"))
    assert s[("misc.skip.yaml", "native_sim")]["status"] == "filtered"
    assert s[("misc.big.ram", "native_sim")]["reason"] == "Not enough RAM"


def test_tag_filters(tmp_path):
    rc, _ = twister("-T", str(GOOD), "-p", "native_sim", "-O", str(tmp_path / "a"),
                    "-t", "smoke")
    assert rc == 0
    assert set(by_key(load(tmp_path / "a"))) == {("sample.console.hello", "native_sim")}
    plan = by_key(load(tmp_path / "a", "testplan.json"))
    assert plan[("ztest.mixed.cases", "native_sim")]["reason"] == \
        "Command line testsuite tag filter"
    rc, _ = twister("-T", str(GOOD / "ztest"), "-p", "native_sim", "-O", str(tmp_path / "b"),
                    "-e", "slow", "-s", "ztest.filters.slow", "-s", "ztest.filters.default")
    assert rc == 0
    assert set(by_key(load(tmp_path / "b"))) == {("ztest.filters.default", "native_sim")}
    plan = by_key(load(tmp_path / "b", "testplan.json"))
    assert plan[("ztest.filters.slow", "native_sim")]["reason"] == \
        "Command line testsuite exclude filter"
    assert plan[("ztest.mixed.cases", "native_sim")]["reason"] == "Testsuite name filter"


def test_integration_keeps_only_integration_platforms(tmp_path):
    rc, _ = twister("-T", str(GOOD / "ztest"), "-p", "native_sim", "-p", "qemu_x86",
                    "-O", str(tmp_path / "o"), "--integration")
    assert rc == 0
    assert set(by_key(load(tmp_path / "o", "testplan.json"))) == \
        {("ztest.filters.default", "native_sim")}


def test_platform_exclude_and_alias(tmp_path):
    rc, _ = twister("-T", str(GOOD / "ztest"), "-p", "nrf52840dk_nrf52840", "-p",
                    "native_sim/native", "-O", str(tmp_path / "o"), "-s", "ztest.filters.default")
    assert rc == 0
    plan = load(tmp_path / "o", "testplan.json")
    plats = {s["platform"] for s in plan["testsuites"]}
    assert plats == {"nrf52840dk/nrf52840", "native_sim"}     # canonical names
    s = by_key(plan)
    assert s[("ztest.filters.default", "nrf52840dk/nrf52840")]["reason"] == \
        "In testsuite platform exclude"
    assert (tmp_path / "o" / "native_sim" / "filters" / "ztest.filters.default").is_dir()


def test_timeout_multiplier_scales_virtual_timeout(tmp_path):
    rc, _ = twister("-T", str(GOOD / "console" / "timeout"), "-p", "native_sim",
                    "-O", str(tmp_path / "o"), "--timeout-multiplier", "0.5")
    assert rc == 1
    s = by_key(load(tmp_path / "o"))[("console.timeout.never", "native_sim")]
    assert (s["reason"], s["execution_time"]) == ("Timeout", "1.00")


def test_retry_failed_counts_retries(tmp_path):
    rc, _ = twister("-T", str(GOOD / "console"), "-p", "native_sim", "-O", str(tmp_path / "o"),
                    "--retry-failed", "2")
    assert rc == 1
    s = by_key(load(tmp_path / "o"))
    assert s[("console.ordered.mismatch", "native_sim")]["retries"] == 2
    assert s[("sample.console.hello", "native_sim")]["retries"] == 0


def test_outdir_renamed_unless_no_clean(tmp_path):
    out = tmp_path / "twister-out"
    args = ("-T", str(GOOD / "console" / "hello"), "-p", "native_sim", "-O", str(out))
    assert twister(*args)[0] == 0
    (out / "marker").write_text("first")
    assert twister(*args)[0] == 0
    assert (tmp_path / "twister-out.1" / "marker").read_text() == "first"
    assert (tmp_path / "twister-out.1" / "twister.json").is_file()
    assert not (out / "marker").exists()
    assert twister(*args)[0] == 0
    assert (tmp_path / "twister-out.2" / "twister.json").is_file()
    (out / "marker").write_text("kept")
    assert twister(*args, "--no-clean")[0] == 0
    assert (out / "marker").read_text() == "kept"
    assert not (tmp_path / "twister-out.3").exists()


def _comparable(out: Path) -> tuple[list, str]:
    doc = load(out)
    report = (out / "twister_report.xml").read_text()
    import re
    report = re.sub(r'timestamp="[^"]*"', "", report)
    return doc["testsuites"], report


def test_parallel_results_equal_serial(tmp_path):
    args = ("-T", str(GOOD / "console"), "-T", str(GOOD / "ztest" / "mixed"),
            "-p", "native_sim")
    rc1, _ = twister(*args, "-O", str(tmp_path / "j1"), "-j", "1")
    rc2, _ = twister(*args, "-O", str(tmp_path / "j2"), "-j", "2")
    assert rc1 == rc2 == 1
    serial, parallel = _comparable(tmp_path / "j1"), _comparable(tmp_path / "j2")
    assert [s["status"] for s in serial[0]] == ["failed", "passed", "failed", "failed",
                                                "failed"]
    assert serial == parallel


def test_verbose_and_inline_logs(tmp_path):
    rc, text = twister("-T", str(GOOD / "console" / "ordered"), "-p", "native_sim",
                       "-O", str(tmp_path / "o"), "-v", "--inline-logs")
    assert rc == 1
    assert "native_sim" in text and "console.ordered.mismatch" in text and "FAILED" in text
    assert "beta" in text                       # the log itself, inline
    rc, text = twister("-T", str(GOOD / "console" / "ordered"), "-p", "native_sim",
                       "-O", str(tmp_path / "p"))
    assert "see: " in text and "handler.log" in text


@pytest.mark.parametrize("tree, where", [
    ("bad_syntax", "bad_syntax/s/testcase.yaml:4: invalid YAML"),
    ("bad_schema", "bad_schema/s/testcase.yaml:4: tests > bad.schema: unknown key 'timout'"),
    ("bad_name", "bad_name/s/testcase.yaml:2: bad test name 'nodots'"),
    ("bad_filter", "bad_filter/s/testcase.yaml:4: scenario bad.filter: filter "
                   "'CONFIG_FOO and (CONFIG_BAR': expected ')' at column 27, got the end"),
])
def test_invalid_yaml_names_file_and_line(tree, where, tmp_path, capsys):
    rc, _ = twister("-T", str(DATA / tree), "-p", "native_sim", "-O", str(tmp_path / "o"))
    assert rc == 2
    assert where in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_bad_command_lines(tmp_path, capsys):
    assert twister("-T", str(GOOD), "-O", str(tmp_path / "o"))[0] == 2
    assert "no platform" in capsys.readouterr().err
    assert twister("-T", str(GOOD), "-p", "native_sim", "--device-testing")[0] == 2
    assert "--device-serial" in capsys.readouterr().err
    assert twister("-T", str(GOOD), "-p", "no_such_board")[0] == 2
    assert "unknown board" in capsys.readouterr().err


def test_seed_sample_passes_as_subprocess(tmp_path):
    out = tmp_path / "o"
    proc = subprocess.run([sys.executable, "-m", "zsim", "twister", "-T", "examples",
                           "-p", "native_sim", "-O", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    s = by_key(load(out))
    routing = s[("sample.packet_io.basic_routing", "native_sim")]
    assert routing["status"] == "passed"
    assert routing["path"] == "examples/basic_packet_routing"
    assert routing["name"] == "basic_packet_routing/sample.packet_io.basic_routing"
    if ("packet_io.ztest.basic", "native_sim") in s:          # examples/ztest_basic
        assert s[("packet_io.ztest.basic", "native_sim")]["status"] == "passed"
    assert "0 failed, 0 errored" in proc.stdout


def test_kernel_assertion_is_a_failure_with_the_message_in_the_log(tmp_path):
    suite = tmp_path / "root" / "assert"
    suite.mkdir(parents=True)
    (suite / "prj.conf").write_text("CONFIG_ASSERT=y\n")
    (suite / "testcase.yaml").write_text(
        "tests:\n  kernel.assert.spinlock:\n    harness: console\n    harness_config:\n"
        "      type: one_line\n      regex:\n        - \"unreachable\"\n")
    (suite / "model.py").write_text(
        "from zsim import Spinlock\n\n\n"
        "def main(k):\n"
        "    lock = Spinlock(k, 'l')\n\n"
        "    @k.thread(name='holder', priority=5)\n"
        "    def holder():\n"
        "        with lock:\n"
        "            k.msleep(1)\n")
    rc, _ = twister("-T", str(tmp_path / "root"), "-p", "native_sim", "-O", str(tmp_path / "o"))
    assert rc == 1
    s = by_key(load(tmp_path / "o"))[("kernel.assert.spinlock", "native_sim")]
    assert s["status"] == "failed"
    assert s["reason"].startswith("Failed (kernel assertion:")
    assert "kernel assertion" in s["log"]


DEVICE_SUITE = """\
tests:
  dev.banner:
    harness: console
    timeout: 5
    harness_config:
      type: multi_line
      ordered: true
      regex:
        - "Booting Zephyr OS build v3"
  dev.never:
    harness: console
    timeout: 1
    harness_config:
      type: one_line
      regex:
        - "printed by nobody"
"""


def test_device_testing_against_a_virtual_board(serve, tmp_path):
    """--device-testing --device-serial URL: the suite's topology runs on a virtual board
    (``zsim board serve`` on loopback) and the console harness reads the board's console."""
    suite = tmp_path / "tree" / "routing"
    suite.mkdir(parents=True)
    (suite / "topology.yaml").write_text(
        (REPO / "examples" / "basic_packet_routing" / "topology.yaml").read_text())
    (suite / "testcase.yaml").write_text(DEVICE_SUITE)
    url = serve("--tcp", "127.0.0.1:0")
    out = tmp_path / "o"
    rc, _ = twister("-T", str(tmp_path / "tree"), "-p", "native_sim", "--device-testing",
                    "--device-serial", url, "-O", str(out))
    assert rc == 1                                   # dev.never times out
    suites = by_key(load(out))
    assert suites[("dev.banner", "native_sim")]["status"] == "passed"
    never = suites[("dev.never", "native_sim")]
    assert (never["status"], never["reason"]) == ("failed", "Timeout")
    log = out / "native_sim" / "routing" / "dev.banner" / "device.log"
    assert log.read_text().splitlines()[0] == "*** Booting Zephyr OS build v3.7.0 ***"
    assert not (out / "native_sim" / "routing" / "dev.banner" / "handler.log").exists()


def test_filter_expressions_against_prj_conf_extra_configs_and_platform(tmp_path):
    """``filter:`` is evaluated after the "build" against the suite's prj.conf plus
    ``extra_configs`` on each platform; false gives twister's ``runtime filter``."""
    out = tmp_path / "o"
    rc, _ = twister("-T", str(DATA / "kconfig"), "-p", "native_sim", "-p", "qemu_x86",
                    "-p", "nrf52840dk", "-O", str(out), "--report-filtered")
    assert rc == 0
    got = {(k, p): (s["status"], s.get("reason"))
           for (k, p), s in by_key(load(out)).items()}
    ok, runtime = ("passed", None), ("filtered", "runtime filter")
    nrf = "nrf52840dk/nrf52840"
    assert got == {
        ("kconfig.filter.stats", "native_sim"): ok, ("kconfig.filter.stats", "qemu_x86"): ok,
        ("kconfig.filter.stats", nrf): ok,
        ("kconfig.filter.observers", "native_sim"): runtime,
        ("kconfig.filter.observers", "qemu_x86"): runtime,
        ("kconfig.filter.observers", nrf): runtime,
        ("kconfig.filter.extra", "native_sim"): ok,       # extra_configs reach the run too
        ("kconfig.filter.extra", "qemu_x86"): runtime,    # ARCH x86 is not in the list
        ("kconfig.filter.extra", nrf): ok,
        ("kconfig.filter.ticks", "native_sim"): ok,       # PLATFORM matches
        ("kconfig.filter.ticks", "qemu_x86"): runtime,    # 100 ticks/s, another platform
        ("kconfig.filter.ticks", nrf): ok,                # 32768 ticks/s
        ("kconfig.filter.devicetree", "native_sim"): ok,  # no devicetree: dt_* is false
        ("kconfig.filter.devicetree", "qemu_x86"): ok,
        ("kconfig.filter.devicetree", nrf): ok,
    }
    log = out / "qemu_x86" / "routing" / "kconfig.filter.extra" / "build.log"
    assert "is False" in log.read_text()
