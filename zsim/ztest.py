"""ztest in Python: suites, tests and ``zassert_*`` helpers run inside the kernel.

A model declares suites at module level and calls ``ztest.run_all(k)`` from ``main(k)``::

    from zsim import ztest

    suite = ztest.suite("packets", setup=make_pool)

    @suite.test
    def test_alloc(pool):
        ztest.zassert_not_null(pool.alloc(K_NO_WAIT))

    def main(k):
        ztest.run_all(k)

``run_all`` runs every suite registered by the calling module (so two models loaded in one
process never see each other's suites) in the firmware's main thread, each test body in
its own kernel thread, and prints ztest's console lines (subsys/testsuite/ztest/src/ztest.c,
subsys/testsuite/include/zephyr/tc_util.h, ztest_assert.h). Durations are virtual time.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import os
import sys
import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .kernel.core import Kernel
from .kernel.time_units import K_FOREVER

__all__ = [
    "Suite", "SuiteStats", "TestStats", "ZtestFailure", "ZtestRun", "results", "run_all",
    "suite", "test_fail", "test_pass", "test_skip", "zassert_equal", "zassert_false",
    "zassert_is_null", "zassert_mem_equal", "zassert_not_equal", "zassert_not_null",
    "zassert_ok", "zassert_true", "zassert_unreachable", "zassume_false", "zassume_true",
]

PRINT_LINE = "=" * 67
TC_PASS, TC_FAIL, TC_SKIP, TC_FLAKY = 0, 1, 2, 3
_RESULT_STR = {TC_PASS: "PASS", TC_FAIL: "FAIL", TC_SKIP: "SKIP", TC_FLAKY: "FLAKY"}

# enum ztest_result / ztest_phase / ztest_status (ztest.c)
PENDING, PASS, FAIL, SKIP, SUITE_SKIP, SUITE_FAIL = range(6)
PH_SETUP, PH_BEFORE, PH_TEST, PH_AFTER, PH_TEARDOWN, PH_FRAMEWORK = range(6)
_PHASE_NAMES = {PH_SETUP: "setup", PH_BEFORE: "before", PH_TEST: "test", PH_AFTER: "after",
                PH_TEARDOWN: "teardown", PH_FRAMEWORK: "framework"}
STATUS_OK, STATUS_HAS_FAILURE, STATUS_CRITICAL_ERROR = 0, 1, 2

_REGISTRY = "__zsim_ztest_suites__"     # module global holding a module's suites


class ZtestFailure(AssertionError):
    """A ``zassert_*`` that failed outside any ztest run (plain Python code)."""


class _SetupAbort(BaseException):
    """Unwinds a suite's setup after an assertion, assumption or skip in it."""


# ------------------------------------------------------------------ declaring suites
@dataclass
class TestStats:
    """``struct ztest_unit_test_stats``."""

    run_count: int = 0
    pass_count: int = 0
    fail_count: int = 0
    skip_count: int = 0
    duration_worst_ms: int = 0


@dataclass
class SuiteStats:
    """``struct ztest_suite_stats``."""

    run_count: int = 0
    skip_count: int = 0
    fail_count: int = 0


@dataclass
class _Test:
    name: str
    fn: Callable[..., Any]
    takes_fixture: bool


class Suite:
    """``ZTEST_SUITE(name, predicate, setup, before, after, teardown)``; ``@suite.test``
    registers a test (``ZTEST``) named after the function."""

    def __init__(self, name: str, *, setup: Callable[[], Any] | None = None,
                 before: Callable[[Any], None] | None = None,
                 after: Callable[[Any], None] | None = None,
                 teardown: Callable[[Any], None] | None = None,
                 predicate: Callable[[Any], bool] | None = None) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"ztest suite name must be a C identifier, got {name!r}")
        for what, fn in (("setup", setup), ("before", before), ("after", after),
                         ("teardown", teardown), ("predicate", predicate)):
            if fn is not None and not callable(fn):
                raise TypeError(f"ztest suite {name!r}: {what} must be callable, got {fn!r}")
        self.name = name
        self.setup = setup
        self.before = before
        self.after = after
        self.teardown = teardown
        self.predicate = predicate
        self.tests: dict[str, _Test] = {}

    def test(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Register ``fn`` (no argument, or the fixture ``setup`` returned) as a test."""
        if not callable(fn):
            raise TypeError(f"@{self.name}.test needs a function, got {fn!r}")
        name = fn.__name__
        if name in self.tests:
            raise ValueError(f"ztest suite {self.name!r}: test {name!r} is defined twice")
        self.tests[name] = _Test(name, fn, _takes_argument(fn))
        return fn

    def __repr__(self) -> str:
        return f"Suite({self.name!r}, tests={list(self.tests)})"


def _takes_argument(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                  and p.default is p.empty]
    return bool(positional) or any(p.kind is p.VAR_POSITIONAL for p in params)


def _call(fn: Callable[..., Any], data: Any) -> Any:
    return fn(data) if _takes_argument(fn) else fn()


def suite(name: str, setup: Callable[[], Any] | None = None,
          before: Callable[[Any], None] | None = None,
          after: Callable[[Any], None] | None = None,
          teardown: Callable[[Any], None] | None = None, *,
          predicate: Callable[[Any], bool] | None = None) -> Suite:
    """Declare a suite in the calling module (a model); ``run_all`` there runs it.

    Declaring a suite again under the same name replaces it (a model's ``main`` may declare
    its suites on every kernel it is loaded on)."""
    s = Suite(name, setup=setup, before=before, after=after, teardown=teardown,
              predicate=predicate)
    registry = sys._getframe(1).f_globals.setdefault(_REGISTRY, {})
    registry[name] = s
    return s


# ------------------------------------------------------------------ running
@dataclass
class ZtestRun:
    """One ``run_all`` on one kernel: its suites, their statistics and the verdict."""

    kernel_ref: weakref.ReferenceType[Kernel]
    suites: list[Suite]
    test_stats: dict[tuple[str, str], TestStats] = field(default_factory=dict)
    suite_stats: dict[str, SuiteStats] = field(default_factory=dict)
    test_status: int = STATUS_OK
    finished: bool = False
    phase: int = PH_FRAMEWORK
    result: int = PENDING
    failed_expectation: bool = False
    failed_assumption: bool = False
    ztest_thread: Any = None

    @property
    def kernel(self) -> Kernel:
        """The kernel the run belongs to (held weakly: results never keep a kernel alive)."""
        k = self.kernel_ref()
        assert k is not None, "the kernel of this ztest run is gone"
        return k

    @property
    def passed(self) -> bool:
        """``PROJECT EXECUTION SUCCESSFUL`` was printed."""
        return self.finished and self.test_status == STATUS_OK


_runs: weakref.WeakKeyDictionary[Kernel, ZtestRun] = weakref.WeakKeyDictionary()
_local = threading.local()


def results(k: Kernel) -> ZtestRun | None:
    """The ztest run started on ``k`` (None if ``run_all`` was not called on it)."""
    return _runs.get(k)


def _active() -> ZtestRun | None:
    """The run whose kernel is executing right now (in a thread or an ISR)."""
    for run in reversed(getattr(_local, "runs", ())):
        k = run.kernel
        if k.current is not None or k.in_isr:
            return run
    return None


def run_all(k: Kernel, suites: Iterable[Suite] | None = None) -> ZtestRun:
    """``ztest_run_all`` + ``end_report``: run the suites and print ztest's report.

    Called from ``main(k)`` before the kernel runs, the tests run in the firmware's
    ``main`` thread; called from a thread, they run there and then. ``suites`` defaults to
    those declared in the calling module. The run stops the kernel after the report (as
    ``posix_exit`` ends a native_sim test)."""
    if suites is None:
        suites = sys._getframe(1).f_globals.get(_REGISTRY, {}).values()
    chosen = sorted(suites, key=lambda s: s.name)   # iterable sections sort by name
    run = ZtestRun(weakref.ref(k), chosen)
    _runs[k] = run
    if k.current is not None:
        _main(run)
    else:
        k.main_thread(_main, run)
    return run


def _opt(run: ZtestRun, name: str, default: Any) -> Any:
    cfg = run.kernel.config
    return cfg.get(name, default) if cfg.enabled("ZTEST") else default


def _print(run: ZtestRun, text: str) -> None:
    run.kernel.printk(text)


def _main(run: ZtestRun) -> None:
    stack = getattr(_local, "runs", None)
    if stack is None:
        stack = _local.runs = []
    stack.append(run)
    try:
        _run_test_suites(run)
        _verify_all_ran(run)
        _end_report(run)
    finally:
        stack.remove(run)
    run.finished = True
    run.kernel.stop()


def _run_test_suites(run: ZtestRun) -> None:
    fail_fast = bool(_opt(run, "ZTEST_FAIL_FAST", False))
    for s in run.suites:
        for t in s.tests:
            run.test_stats[(s.name, t)] = TestStats()
        stats = run.suite_stats.setdefault(s.name, SuiteStats())
        if s.predicate is None or s.predicate(None):
            fail = _run_suite(run, s)
            stats.run_count += 1
            stats.fail_count += 1 if fail else 0
        else:
            stats.skip_count += 1
        if run.test_status == STATUS_CRITICAL_ERROR or (
                run.test_status == STATUS_HAS_FAILURE and fail_fast):
            break


def _run_suite(run: ZtestRun, s: Suite) -> int:
    fail_fast = bool(_opt(run, "ZTEST_FAIL_FAST", False))
    _print(run, f"Running TESTSUITE {s.name}\n")
    _print(run, PRINT_LINE + "\n")
    run.failed_assumption = False
    run.result = PENDING
    run.phase = PH_SETUP
    data = None
    if s.setup is not None:
        try:
            data = s.setup()
        except _SetupAbort:
            data = None
        except Exception as exc:
            _report_exception(run, exc, s.setup.__name__)
            run.result = SUITE_FAIL
    fail = 0
    for name in sorted(s.tests):        # ZTEST entries sort by name too
        st = run.test_stats[(s.name, name)]
        st.run_count += 1
        ret = _run_test(run, s, s.tests[name], data, st)
        if ret == TC_PASS:
            st.pass_count += 1
        elif ret == TC_SKIP:
            st.skip_count += 1
        else:
            st.fail_count += 1
            fail += 1
        if (fail and fail_fast) or run.test_status == STATUS_CRITICAL_ERROR:
            break
    if run.test_status == STATUS_OK and fail:
        run.test_status = STATUS_HAS_FAILURE
    _print(run, f"TESTSUITE {s.name} succeeded\n" if not fail
           else f"TESTSUITE {s.name} failed.\n")
    run.phase = PH_TEARDOWN
    if s.teardown is not None:
        _guarded(run, s.teardown, data)
    return fail


def _guarded(run: ZtestRun, fn: Callable[..., Any], data: Any) -> None:
    """Run an after/teardown hook in the framework thread; a crash is a critical error."""
    try:
        _call(fn, data)
    except Exception as exc:
        _report_exception(run, exc, fn.__name__)
        run.test_status = STATUS_CRITICAL_ERROR


def _run_test(run: ZtestRun, s: Suite, t: _Test, data: Any, st: TestStats) -> int:
    k = run.kernel
    verbose = bool(_opt(run, "ZTEST_VERBOSE_OUTPUT", True))
    if verbose:
        _print(run, f"START - {t.name}\n")
    run.phase = PH_BEFORE
    start = k.cycle_get_32()
    stack = int(_opt(run, "ZTEST_STACK_SIZE", 1024)) + int(_opt(run, "TEST_EXTRA_STACK_SIZE", 0))
    thread = k.thread_create(_test_cb, run, s, t, data, name=t.name,
                             priority=int(_opt(run, "ZTEST_THREAD_PRIORITY", -1)),
                             stack_size=stack, delay=K_FOREVER)
    run.ztest_thread = thread
    if run.result not in (SUITE_SKIP, SUITE_FAIL):
        k.thread_start(thread)
        k.thread_join(thread, K_FOREVER)
    else:
        k.thread_abort(thread)
    run.phase = PH_AFTER
    if s.after is not None:
        _guarded(run, s.after, data)
    cycles = (k.cycle_get_32() - start) & 0xFFFFFFFF
    spent_ms = -(-cycles * 1000 // k.hw_cycles_per_sec)   # k_cyc_to_ms_ceil32
    st.duration_worst_ms = max(st.duration_worst_ms, spent_ms)
    run.phase = PH_FRAMEWORK
    ret = TC_PASS
    if run.result in (FAIL, SUITE_FAIL) or run.failed_expectation:
        ret = TC_FAIL
        run.failed_expectation = False
    elif run.result in (SKIP, SUITE_SKIP):
        ret = TC_SKIP
    if verbose:
        _print(run, f" {_RESULT_STR[ret]} - {t.name} in {spent_ms // 1000}.{spent_ms % 1000:03d}"
                    " seconds\n")
        _print(run, PRINT_LINE + "\n")
    if ret == TC_SKIP and run.failed_assumption:
        run.test_status = STATUS_HAS_FAILURE
    return ret


def _test_cb(run: ZtestRun, s: Suite, t: _Test, data: Any) -> None:
    """The ztest thread: before, then the test body (test_cb in ztest.c)."""
    run.result = PENDING
    try:
        if s.before is not None:
            _call(s.before, data)
        run.phase = PH_TEST
        if t.takes_fixture:
            t.fn(data)
        else:
            t.fn()
    except Exception as exc:
        _report_exception(run, exc, _func_name(run, t.fn.__code__, t.fn.__name__))
        run.result = FAIL
        return
    run.result = PASS


# ------------------------------------------------------------------ the report
def _verify_all_ran(run: ZtestRun) -> None:
    if _opt(run, "ZTEST_VERIFY_RUN_ALL", True):
        for s in run.suites:
            if run.suite_stats.get(s.name, SuiteStats()).run_count < 1:
                _print(run, f"ERROR: Test suite '{s.name}' did not run.\n")
                if run.test_status == STATUS_OK:
                    run.test_status = STATUS_HAS_FAILURE


def _end_report(run: ZtestRun) -> None:
    if _opt(run, "ZTEST_SUMMARY", True):
        _print(run, "\n------ TESTSUITE SUMMARY START ------\n\n")
        for s in run.suites:
            _summary_oneline(run, s)
            if _opt(run, "ZTEST_VERBOSE_SUMMARY", True):
                _summary_verbose(run, s)
        _print(run, "------ TESTSUITE SUMMARY END ------\n\n")
    _print(run, PRINT_LINE + "\n")
    _print(run, "PROJECT EXECUTION %s\n" % ("SUCCESSFUL" if run.test_status == STATUS_OK
                                            else "FAILED"))


def _stats_of(run: ZtestRun, s: Suite) -> list[tuple[str, TestStats]]:
    return [(n, run.test_stats.get((s.name, n), TestStats())) for n in sorted(s.tests)]


def _summary_oneline(run: ZtestRun, s: Suite) -> None:
    passed = failed = skipped = total = 0
    duration = 0
    for _name, st in _stats_of(run, s):
        total += 1
        duration += st.duration_worst_ms
        if st.skip_count == st.run_count:
            skipped += 1
        elif st.pass_count == st.run_count:
            passed += 1
        else:
            failed += 1
    major = minor = 0
    if skipped == total:
        result = TC_SKIP
    else:
        result = TC_FAIL if failed else TC_PASS
        rate = passed * 100000 // (total - skipped)
        major = rate // 1000
        minor = (rate - major * 1000) // 10
        if rate - major * 1000 - minor * 10 >= 5:
            minor += 1
    _print(run, f"SUITE {_RESULT_STR[result]} - {major:3d}.{minor:02d}% [{s.name}]: "
                f"pass = {passed}, fail = {failed}, skip = {skipped}, total = {total} "
                f"duration = {duration // 1000}.{duration % 1000:03d} seconds\n")


def _summary_verbose(run: ZtestRun, s: Suite) -> None:
    for name, st in _stats_of(run, s):
        if st.skip_count == st.run_count:
            res = TC_SKIP
        elif st.pass_count == st.run_count:
            res = TC_PASS
        elif st.pass_count == 0:
            res = TC_FAIL
        else:
            res = TC_FLAKY
        ms = st.duration_worst_ms
        if res == TC_FLAKY:
            _print(run, f" - {_RESULT_STR[res]} - [{s.name}.{name}] - (Failed "
                        f"{st.run_count - st.pass_count} of {st.run_count} attempts) - "
                        f"duration = {ms // 1000}.{ms % 1000:03d} seconds\n")
        else:
            _print(run, f" - {_RESULT_STR[res]} - [{s.name}.{name}] duration = "
                        f"{ms // 1000}.{ms % 1000:03d} seconds\n")
    _print(run, "\n")


# ------------------------------------------------------------------ failing, skipping
def _finalize(run: ZtestRun) -> None:
    """``test_finalize``: abort the ztest thread, then the calling thread."""
    k = run.kernel
    if run.ztest_thread is not None and run.ztest_thread is not k.current:
        k.thread_abort(run.ztest_thread)
    if k.in_isr:
        return
    k.thread_abort(k.current)       # does not return


def _bail(run: ZtestRun, what: str) -> None:
    _print(run, f" ERROR: cannot {what} in test phase '{_PHASE_NAMES[run.phase]}()', "
                "bailing\n")
    run.test_status = STATUS_CRITICAL_ERROR


def test_fail() -> None:
    """``ztest_test_fail``: end the running test as failed."""
    run = _active()
    if run is None:
        raise ZtestFailure("ztest_test_fail() called outside a ztest run")
    if run.phase == PH_SETUP:
        run.result = SUITE_FAIL
        raise _SetupAbort()
    if run.phase in (PH_BEFORE, PH_TEST):
        run.result = FAIL
        _finalize(run)
        return
    _bail(run, "fail")


def test_pass() -> None:
    """``ztest_test_pass``: end the running test as passed."""
    run = _active()
    if run is None:
        return
    if run.phase == PH_TEST:
        run.result = PASS
        _finalize(run)
        return
    _bail(run, "pass")
    if run.phase == PH_BEFORE:
        _finalize(run)


def test_skip() -> None:
    """``ztest_test_skip``: end the running test (in setup: the whole suite) as skipped."""
    run = _active()
    if run is None:
        raise ZtestFailure("ztest_test_skip() called outside a ztest run")
    if run.phase == PH_SETUP:
        run.result = SUITE_SKIP
        raise _SetupAbort()
    if run.phase in (PH_BEFORE, PH_TEST):
        run.result = SKIP
        _finalize(run)
        return
    _bail(run, "skip")


# ------------------------------------------------------------------ assertions
def _relative(path: str) -> str:
    """``ztest_relative_filename``: the path relative to the working directory if under it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def _func_name(run: ZtestRun | None, code: Any, default: str) -> str:
    """``__func__``: a ZTEST body is the C function ``<suite>_<test>``."""
    if run is not None:
        for s in run.suites:
            for t in s.tests.values():
                if getattr(t.fn, "__code__", None) is code:
                    return f"{s.name}_{t.name}"
    return default


_ARGS_CACHE: dict[tuple[Any, int], list[str]] = {}
_TREES: dict[tuple[str, int], ast.Module | None] = {}


def _arg_texts(frame: Any, callee: str) -> list[str]:
    """The source text of the arguments of the call being made in ``frame`` (#cond)."""
    key = (frame.f_code, frame.f_lasti)
    if key in _ARGS_CACHE:
        return _ARGS_CACHE[key]
    try:
        node = _call_by_position(frame) or _call_on_line(frame, callee)
        texts = [ast.unparse(a) for a in node.args] if node is not None else []
    except (AttributeError, IndexError, SyntaxError, ValueError, TypeError):
        texts = []
    _ARGS_CACHE[key] = texts
    return texts


def _call_by_position(frame: Any) -> ast.Call | None:
    """The call at the frame's instruction, from its exact source span (``co_positions``,
    Python 3.11 and newer, unless ``-X no_debug_ranges``)."""
    if not hasattr(frame.f_code, "co_positions"):
        return None
    positions = list(frame.f_code.co_positions())[frame.f_lasti // 2]
    lineno, end_lineno, col, end_col = positions
    if None in positions:
        return None
    lines = [linecache.getline(frame.f_code.co_filename, n) for n in range(lineno, end_lineno + 1)]
    if len(lines) == 1:
        src = lines[0].encode()[col:end_col].decode()
    else:
        src = (lines[0].encode()[col:].decode() + "".join(lines[1:-1])
               + lines[-1].encode()[:end_col].decode())
    node = ast.parse(src.strip(), mode="eval").body
    return node if isinstance(node, ast.Call) else None


def _call_on_line(frame: Any, callee: str) -> ast.Call | None:
    """Without column positions (Python 3.10): the one call of a function named ``callee``
    spanning the frame's line in its parsed file; None when there is none or several."""
    filename = frame.f_code.co_filename
    source = "".join(linecache.getlines(filename))
    key = (filename, hash(source))
    if key not in _TREES:
        try:
            _TREES[key] = ast.parse(source) if source else None
        except (SyntaxError, ValueError):
            _TREES[key] = None
    tree = _TREES[key]
    if tree is None:
        return None
    line = frame.f_lineno
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and n.lineno <= line <= (n.end_lineno or n.lineno)
             and (getattr(n.func, "id", None) or getattr(n.func, "attr", None)) == callee]
    return calls[0] if len(calls) == 1 else None


def _check(ok: bool, kind: str, default: str, names: tuple[int, ...], fallback: tuple[str, ...],
           msg: str | None, args: tuple[Any, ...]) -> bool:
    if ok:
        return True
    frame = sys._getframe(2)
    texts = _arg_texts(frame, sys._getframe(1).f_code.co_name)
    parts = [texts[i] if i < len(texts) else fallback[j] for j, i in enumerate(names)]
    default_msg = default.format(*parts)
    run = _active()
    text = (msg % args if args else msg) if msg is not None else ""
    if msg is not None:
        default_msg = f"({default_msg})"
    func = _func_name(run, frame.f_code, frame.f_code.co_name)
    where = f"{_relative(frame.f_code.co_filename)}:{frame.f_lineno}"
    word = "Assertion" if kind == "assert" else "Assumption"
    if run is None:
        raise ZtestFailure(f"{word} failed at {where}: {func}: {default_msg}"
                           + (f" {text}" if text else ""))
    if int(_opt(run, "ZTEST_ASSERT_VERBOSE", 1)) == 0:
        _print(run, f"\n    {word} failed at {where}\n")
    else:
        _print(run, f"\n    {word} failed at {where}: {func}: {default_msg}\n")
        _print(run, text + "\n")
    if kind == "assert":
        test_fail()
    else:
        if _opt(run, "ZTEST_FAIL_ON_ASSUME", False):
            run.failed_assumption = True
        test_skip()
    return False


def _report_exception(run: ZtestRun, exc: BaseException, func: str) -> None:
    """A Python exception escaping test code: where it was raised and what it says."""
    tb = exc.__traceback__
    where = "?"
    while tb is not None:
        where = f"{_relative(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}"
        tb = tb.tb_next
    _print(run, f"\n    Unexpected exception at {where}: {func}: "
                f"{type(exc).__name__}: {exc}\n")


def zassert_true(cond: Any, msg: str | None = None, *args: Any) -> bool:
    """Fail the test unless ``cond`` is true."""
    return _check(bool(cond), "assert", "{} is false", (0,), ("cond",), msg, args)


def zassert_false(cond: Any, msg: str | None = None, *args: Any) -> bool:
    """Fail the test unless ``cond`` is false."""
    return _check(not cond, "assert", "{} is true", (0,), ("cond",), msg, args)


def zassert_ok(cond: Any, msg: str | None = None, *args: Any) -> bool:
    """Fail the test unless ``cond`` is 0 (success)."""
    return _check(not cond, "assert", "{} is non-zero", (0,), ("cond",), msg, args)


def zassert_is_null(ptr: Any, msg: str | None = None, *args: Any) -> bool:
    """Fail the test unless ``ptr`` is None."""
    return _check(ptr is None, "assert", "{} is not NULL", (0,), ("ptr",), msg, args)


def zassert_not_null(ptr: Any, msg: str | None = None, *args: Any) -> bool:
    """Fail the test if ``ptr`` is None."""
    return _check(ptr is not None, "assert", "{} is NULL", (0,), ("ptr",), msg, args)


def zassert_equal(a: Any, b: Any, msg: str | None = None, *args: Any) -> bool:
    """Fail the test unless ``a == b``."""
    return _check(a == b, "assert", "{} not equal to {}", (0, 1), ("a", "b"), msg, args)


def zassert_not_equal(a: Any, b: Any, msg: str | None = None, *args: Any) -> bool:
    """Fail the test if ``a == b``."""
    return _check(a != b, "assert", "{} equal to {}", (0, 1), ("a", "b"), msg, args)


def zassert_mem_equal(buf: Any, exp: Any, size: int, msg: str | None = None,
                      *args: Any) -> bool:
    """Fail the test unless the first ``size`` bytes of ``buf`` and ``exp`` are equal."""
    ok = bytes(memoryview(buf)[:size]) == bytes(memoryview(exp)[:size])
    return _check(ok, "assert", "{} not equal to {}", (0, 1), ("buf", "exp"), msg, args)


def zassert_unreachable(msg: str | None = None, *args: Any) -> bool:
    """Fail the test: this code should not be reached."""
    return _check(False, "assert", "Reached unreachable code", (), (), msg, args)


def zassume_true(cond: Any, msg: str | None = None, *args: Any) -> bool:
    """Skip the test unless ``cond`` is true."""
    return _check(bool(cond), "assume", "{} is false", (0,), ("cond",), msg, args)


def zassume_false(cond: Any, msg: str | None = None, *args: Any) -> bool:
    """Skip the test unless ``cond`` is false."""
    return _check(not cond, "assume", "{} is true", (0,), ("cond",), msg, args)
