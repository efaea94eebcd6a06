"""zsim.ztest: suites run inside the kernel and print ztest's console lines.

Expected lines follow subsys/testsuite/ztest/src/ztest.c, subsys/testsuite/include/zephyr/
tc_util.h and ztest_assert.h; the patterns below are the ones twister's ztest harness
(scripts/pylib/twister/twisterlib/harness.py, class Test) reads them with.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml

from zsim import K_MSEC, Kernel, ztest
from zsim.model import load_model
from zsim.sim_executor import SimulatorExecutor

ROOT = Path(__file__).resolve().parent.parent
LINE = "=" * 67

# twister's ztest harness patterns (harness.py, class Test)
SUITE_START = re.compile(r"Running TESTSUITE (?P<suite_name>\w*)")
SUITE_END = re.compile(r"TESTSUITE (?P<suite_name>\S*)\s+(?P<suite_status>succeeded|failed)")
CASE_START = re.compile(r"START - (test_)?([a-zA-Z0-9_-]+)")
CASE_END = re.compile(r".*(PASS|FAIL|SKIP) - (test_)?(\S*) in (\d*[.,]?\d*) seconds")
SUITE_SUMMARY = re.compile(r"SUITE (?P<suite_status>\S*) - .* \[(?P<suite_name>\S*)\]:"
                           r" .* duration = (\d*[.,]?\d*) seconds")
CASE_SUMMARY = re.compile(r".*- (PASS|FAIL|SKIP) - \[([^\.]*).(test_)?(\S*)\] duration = "
                          r"(\d*[.,]?\d*) seconds")


def run_model(tmp_path: Path, source: str, name: str = "model",
              config: dict | None = None) -> tuple[Kernel, list[str]]:
    d = tmp_path / name
    d.mkdir()
    (d / "model.py").write_text(textwrap.dedent(source))
    model = load_model(d)
    k = Kernel(config=config or {"ZTEST": True})
    model.main(k)
    k.run()
    return k, list(k.console)


MIXED = """
    from zsim import K_MSEC, ztest

    def setup():
        return {"log": []}

    s = ztest.suite("mixed", setup=setup)

    @s.test
    def test_b_pass(fx):
        fx["log"].append("b")

    @s.test
    def test_a_fail(fx):
        x = 3
        ztest.zassert_equal(x + 1, 5, "got %d", x + 1)
        fx["log"].append("after-assert")

    @s.test
    def test_c_skip():
        ztest.zassume_true(1 > 2)

    @s.test
    def test_d_raises():
        raise ValueError("boom")

    def main(k):
        ztest.run_all(k)
"""


def test_console_lines_are_ztests(tmp_path):
    k, lines = run_model(tmp_path, MIXED)
    path = (tmp_path / "model" / "model.py")
    rel = str(path)     # outside the working directory: printed as is
    assert lines == [
        "*** Booting Zephyr OS build v3.7.0 ***",
        "Running TESTSUITE mixed", LINE,
        "START - test_a_fail",
        "",
        f"    Assertion failed at {rel}:16: mixed_test_a_fail: (x + 1 not equal to 5)",
        "got 4",
        " FAIL - test_a_fail in 0.000 seconds", LINE,
        "START - test_b_pass",
        " PASS - test_b_pass in 0.000 seconds", LINE,
        "START - test_c_skip",
        "",
        f"    Assumption failed at {rel}:21: mixed_test_c_skip: 1 > 2 is false",
        "",
        " SKIP - test_c_skip in 0.000 seconds", LINE,
        "START - test_d_raises",
        "",
        f"    Unexpected exception at {rel}:25: mixed_test_d_raises: ValueError: boom",
        " FAIL - test_d_raises in 0.000 seconds", LINE,
        "TESTSUITE mixed failed.",
        "",
        "------ TESTSUITE SUMMARY START ------",
        "",
        "SUITE FAIL -  33.33% [mixed]: pass = 1, fail = 2, skip = 1, total = 4 "
        "duration = 0.000 seconds",
        " - FAIL - [mixed.test_a_fail] duration = 0.000 seconds",
        " - PASS - [mixed.test_b_pass] duration = 0.000 seconds",
        " - SKIP - [mixed.test_c_skip] duration = 0.000 seconds",
        " - FAIL - [mixed.test_d_raises] duration = 0.000 seconds",
        "",
        "------ TESTSUITE SUMMARY END ------",
        "",
        LINE,
        "PROJECT EXECUTION FAILED",
    ]
    run = ztest.results(k)
    assert run is not None and run.finished and not run.passed


def test_twister_patterns_read_the_output(tmp_path):
    _k, lines = run_model(tmp_path, MIXED)
    started = [m.group(2) for line in lines if (m := CASE_START.search(line))]
    ended = {m.group(3): m.group(1) for line in lines if (m := CASE_END.match(line))}
    summary = {m.group(4): m.group(1) for line in lines if (m := CASE_SUMMARY.match(line))}
    suites = [m.group("suite_name") for line in lines if (m := SUITE_START.search(line))]
    ends = [m.group("suite_status") for line in lines if (m := SUITE_END.search(line))]
    sums = [m.group("suite_status") for line in lines if (m := SUITE_SUMMARY.match(line))]
    assert suites == ["mixed"] and ends == ["failed"] and sums == ["FAIL"]
    assert started == ["a_fail", "b_pass", "c_skip", "d_raises"]
    expected = {"a_fail": "FAIL", "b_pass": "PASS", "c_skip": "SKIP", "d_raises": "FAIL"}
    assert ended == expected and summary == expected


def test_failed_assertion_ends_only_that_test(tmp_path):
    k, _lines = run_model(tmp_path, MIXED)
    run = ztest.results(k)
    stats = {name: st for (_s, name), st in run.test_stats.items()}
    assert stats["test_a_fail"].fail_count == 1
    assert stats["test_b_pass"].pass_count == 1       # the next test still ran
    assert stats["test_c_skip"].skip_count == 1
    assert stats["test_d_raises"].fail_count == 1


def test_code_after_a_failed_assertion_does_not_run(tmp_path):
    _k, lines = run_model(tmp_path, """
        from zsim import ztest
        LOG = []
        s = ztest.suite("one")

        @s.test
        def test_x():
            ztest.zassert_true(False, "stop here")
            LOG.append("reached")
            print("reached")

        @s.test
        def test_y():
            ztest.zassert_ok(0)
            ztest.zassert_not_null(LOG)
            ztest.zassert_is_null(None)
            ztest.zassert_not_equal(1, 2)
            ztest.zassert_false(LOG, "LOG has %d items", len(LOG))

        def main(k):
            ztest.run_all(k)
    """)
    assert " FAIL - test_x in 0.000 seconds" in lines
    assert " PASS - test_y in 0.000 seconds" in lines
    assert "reached" not in lines


def test_fixture_and_hook_order(tmp_path):
    k, lines = run_model(tmp_path, """
        from zsim import ztest
        CALLS = []

        def setup():
            CALLS.append("setup")
            return {"id": 7}

        def before(fx):
            CALLS.append(("before", fx["id"]))

        def after(fx):
            CALLS.append(("after", fx["id"]))

        def teardown(fx):
            CALLS.append(("teardown", fx["id"]))

        s = ztest.suite("hooks", setup=setup, before=before, after=after, teardown=teardown)

        @s.test
        def test_one(fx):
            CALLS.append(("one", fx["id"]))

        @s.test
        def test_two():
            CALLS.append("two")

        def main(k):
            ztest.run_all(k)
    """)
    module = ztest.results(k).suites[0].setup.__globals__
    assert module["CALLS"] == ["setup", ("before", 7), ("one", 7), ("after", 7), ("before", 7),
                               "two", ("after", 7), ("teardown", 7)]
    assert lines[-1] == "PROJECT EXECUTION SUCCESSFUL"


def test_tests_run_in_a_kernel_thread_and_durations_are_virtual(tmp_path):
    k, lines = run_model(tmp_path, """
        from zsim import K_MSEC, ztest
        SEEN = {}
        s = ztest.suite("timing")

        @s.test
        def test_sleep():
            k = SEEN["k"]
            SEEN["prio"] = k.current.prio
            SEEN["name"] = k.current.name
            SEEN["t0"] = k.uptime_get()
            k.sleep(K_MSEC(250))
            SEEN["t1"] = k.uptime_get()

        def main(k):
            SEEN["k"] = k
            ztest.run_all(k)
    """)
    seen = ztest.results(k).suites[0].tests["test_sleep"].fn.__globals__["SEEN"]
    assert seen["prio"] == -1                      # CONFIG_ZTEST_THREAD_PRIORITY default
    assert seen["name"] == "test_sleep"            # k_thread_name_set(test->name)
    ms = seen["t1"] - seen["t0"]
    assert ms >= 250
    assert f" PASS - test_sleep in {ms // 1000}.{ms % 1000:03d} seconds" in lines
    assert any(line.startswith("SUITE PASS - 100.00% [timing]") and
               line.endswith(f"duration = {ms // 1000}.{ms % 1000:03d} seconds")
               for line in lines)


def test_suites_are_per_model(tmp_path):
    src = """
        from zsim import ztest
        s = ztest.suite("{name}")

        @s.test
        def test_in_{name}():
            pass

        def main(k):
            ztest.run_all(k)
    """
    a = tmp_path / "a"
    b = tmp_path / "b"
    for d, name in ((a, "alpha"), (b, "beta")):
        d.mkdir()
        (d / "model.py").write_text(textwrap.dedent(src.replace("{name}", name)))
    ma, mb = load_model(a), load_model(b)       # both loaded before either runs
    ka, kb = Kernel(), Kernel()
    ma.main(ka)
    mb.main(kb)
    ka.run()
    kb.run()
    assert "Running TESTSUITE alpha" in ka.console
    assert not any("beta" in line for line in ka.console)
    assert "Running TESTSUITE beta" in kb.console
    assert not any("alpha" in line for line in kb.console)


def test_suites_and_tests_run_in_name_order(tmp_path):
    _k, lines = run_model(tmp_path, """
        from zsim import ztest
        z = ztest.suite("zeta")
        a = ztest.suite("alpha")

        @z.test
        def test_b():
            pass

        @z.test
        def test_a():
            pass

        @a.test
        def test_only():
            pass

        def main(k):
            ztest.run_all(k)
    """)
    order = [line for line in lines if line.startswith(("Running", "START"))]
    assert order == ["Running TESTSUITE alpha", "START - test_only", "Running TESTSUITE zeta",
                     "START - test_a", "START - test_b"]


def test_failing_setup_fails_every_test(tmp_path):
    _k, lines = run_model(tmp_path, """
        from zsim import ztest

        def setup():
            ztest.zassert_true(False, "no hardware")
            return 1

        s = ztest.suite("broken", setup=setup)

        @s.test
        def test_one():
            raise AssertionError("must not run")

        def main(k):
            ztest.run_all(k)
    """)
    assert " FAIL - test_one in 0.000 seconds" in lines
    assert "TESTSUITE broken failed." in lines
    assert not any("must not run" in line for line in lines)
    assert lines[-1] == "PROJECT EXECUTION FAILED"


def test_skip_in_setup_skips_the_suite(tmp_path):
    _k, lines = run_model(tmp_path, """
        from zsim import ztest

        def setup():
            ztest.test_skip()

        s = ztest.suite("skipped", setup=setup)

        @s.test
        def test_one():
            pass

        def main(k):
            ztest.run_all(k)
    """)
    assert " SKIP - test_one in 0.000 seconds" in lines
    assert ("SUITE SKIP -   0.00% [skipped]: pass = 0, fail = 0, skip = 1, total = 1 "
            "duration = 0.000 seconds") in lines
    assert lines[-1] == "PROJECT EXECUTION SUCCESSFUL"


def test_predicate_false_suite_did_not_run(tmp_path):
    _k, lines = run_model(tmp_path, """
        from zsim import ztest
        s = ztest.suite("never", predicate=lambda state: False)

        @s.test
        def test_one():
            pass

        def main(k):
            ztest.run_all(k)
    """)
    assert "Running TESTSUITE never" not in lines
    assert "ERROR: Test suite 'never' did not run." in lines
    assert lines[-1] == "PROJECT EXECUTION FAILED"


def test_assertion_in_after_is_a_critical_error(tmp_path):
    _k, lines = run_model(tmp_path, """
        from zsim import ztest

        def after(fx):
            ztest.zassert_true(False)

        a = ztest.suite("a_first", after=after)
        b = ztest.suite("b_second")

        @a.test
        def test_one():
            pass

        @b.test
        def test_two():
            pass

        def main(k):
            ztest.run_all(k)
    """)
    assert " ERROR: cannot fail in test phase 'after()', bailing" in lines
    assert "Running TESTSUITE b_second" not in lines      # a critical error stops the run
    assert lines[-1] == "PROJECT EXECUTION FAILED"


def test_a_test_blocked_forever_never_ends(tmp_path):
    k, lines = run_model(tmp_path, """
        from zsim import K_FOREVER, Sem, ztest
        SEMS = {}
        s = ztest.suite("stuck")

        @s.test
        def test_wait():
            SEMS["sem"].take(K_FOREVER)

        def main(k):
            SEMS["sem"] = Sem(k, 0, 1)
            ztest.run_all(k)
    """)
    assert lines[-1] == "START - test_wait"       # twister: started, never ended
    assert not ztest.results(k).finished


def test_assertion_messages_and_short_form(tmp_path):
    _k, lines = run_model(tmp_path, """
        from zsim import ztest
        s = ztest.suite("short")

        @s.test
        def test_mem():
            ztest.zassert_mem_equal(b"abcd", b"abXd", 4)

        def main(k):
            ztest.run_all(k)
    """, config={"ZTEST": True, "ZTEST_ASSERT_VERBOSE": 0})
    path = tmp_path / "model" / "model.py"
    assert f"    Assertion failed at {path}:7" in lines


def test_mem_equal_default_message_names_both_buffers(tmp_path):
    _k, lines = run_model(tmp_path, """
        from zsim import ztest
        s = ztest.suite("mem")

        @s.test
        def test_mem():
            got = b"abcd"
            ztest.zassert_mem_equal(got, b"abXd", 4)

        def main(k):
            ztest.run_all(k)
    """)
    assert any(line.endswith("mem_test_mem: got not equal to b'abXd'") for line in lines)


def test_assertions_outside_a_run_raise():
    with pytest.raises(ztest.ZtestFailure, match=r"1 == 2 is false"):
        ztest.zassert_true(1 == 2)
    assert ztest.zassert_equal(3, 3) is True


@pytest.fixture
def line_only(monkeypatch):
    """Messages built as on Python 3.10: from line numbers, without column positions."""
    monkeypatch.setattr(ztest, "_call_by_position", lambda frame: None)
    monkeypatch.setattr(ztest, "_ARGS_CACHE", {})


def test_messages_from_line_numbers_quote_the_expressions(line_only):
    x = 3
    with pytest.raises(ztest.ZtestFailure, match=r": \(x \+ 1 not equal to 5\) got 4$"):
        ztest.zassert_equal(x + 1, 5, "got %d", x + 1)
    with pytest.raises(ztest.ZtestFailure, match=r": len\(\[x\]\) == 2 is false$"):
        ztest.zassert_true(
            len([x]) == 2,
        )
    with pytest.raises(ztest.ZtestFailure, match=r": x is not NULL$"):
        ztest.zassert_is_null(x) if x else ztest.zassert_true(x)


def test_messages_from_line_numbers_fall_back_when_ambiguous(line_only):
    x = 3
    with pytest.raises(ztest.ZtestFailure, match=r": a not equal to b$"):
        ztest.zassert_equal(x, x), ztest.zassert_equal(x, 4)   # two calls on one line
    eq = ztest.zassert_equal
    with pytest.raises(ztest.ZtestFailure, match=r": a not equal to b$"):
        eq(x, 4)                                        # no call named zassert_equal


def test_run_all_from_a_thread(kernel):
    k = kernel({"ZTEST": True})
    s = ztest.Suite("inline")
    seen = []

    def test_x():
        seen.append(k.current.name)
        k.sleep(K_MSEC(10))

    s.test(test_x)
    run = k.call(lambda: ztest.run_all(k, [s]))
    assert run.passed and seen == ["test_x"]
    assert k.console[-1] == "PROJECT EXECUTION SUCCESSFUL"


def test_bad_declarations_are_rejected():
    with pytest.raises(ValueError, match="C identifier"):
        ztest.suite("not a name")
    s = ztest.Suite("dup")

    def test_a():
        pass

    s.test(test_a)
    with pytest.raises(ValueError, match="defined twice"):
        s.test(test_a)
    with pytest.raises(TypeError, match="setup must be callable"):
        ztest.Suite("x", setup=3)


def test_example_ztest_basic_passes():
    out = SimulatorExecutor().run(ROOT / "examples" / "ztest_basic")
    assert out.error is None
    assert out.console[-1] == "PROJECT EXECUTION SUCCESSFUL"
    assert "TESTSUITE packet_io_basic succeeded" in out.console
    passed = [m.group(3) for line in out.console if (m := CASE_END.match(line))
              and m.group(1) == "PASS"]
    assert len(passed) == 3
    spec = yaml.safe_load((ROOT / "examples" / "ztest_basic" / "testcase.yaml").read_text())
    assert spec["common"]["harness"] == "ztest"
    assert "native_sim" in spec["tests"]["packet_io.ztest.basic"]["platform_allow"]
