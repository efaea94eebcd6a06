"""Console and ztest harnesses: twister's rules for reading a run's console.

Semantics follow scripts/pylib/twister/twisterlib/harness.py (classes ``Harness``,
``Console`` and ``Test``): patterns are searched anywhere in a line, ``PROJECT EXECUTION
SUCCESSFUL``/``FAILED`` set the verdict, ``record`` patterns collect named groups.
"""

from __future__ import annotations

import re
from typing import Any

from .filters import Case, Instance
from .statuses import BLOCK, FAIL, NONE, PASS, SKIP, STARTED

RUN_PASSED = "PROJECT EXECUTION SUCCESSFUL"
RUN_FAILED = "PROJECT EXECUTION FAILED"
FAULT = "ZEPHYR FATAL ERROR"


class HarnessConfigError(ValueError):
    """A harness_config that cannot be used (twister's ConfigurationError)."""


class Harness:
    """The verdict rules shared by every harness."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.id = instance.scenario.id
        cfg = instance.scenario.harness_config or {}
        self.status: str | None = NONE
        self.reason: str | None = None
        self.type = cfg.get("type")
        self.regex: list[str] = list(cfg.get("regex") or [])
        self.ordered = bool(cfg.get("ordered", True))
        self.fail_on_fault = not instance.scenario.ignore_faults
        self.fault = False
        self.recording: list[dict[str, Any]] = []
        record = cfg.get("record") or {}
        pats = record.get("regex", [])
        if isinstance(pats, str):
            pats = [pats]
        try:
            self.record_patterns = [re.compile(p) for p in pats]
        except re.error as exc:
            raise HarnessConfigError(f"bad record regex: {exc}") from None
        self.record_merge = bool(record.get("merge", False))

    @property
    def done(self) -> bool:
        """The verdict is in: the run can end (as twister stops reading the console)."""
        return self.status is not NONE

    def parse_record(self, line: str) -> None:
        for pat in self.record_patterns:
            m = pat.search(line)
            if not m:
                continue
            rec = {k: v.strip() for k, v in m.groupdict(default="").items()}
            if self.record_merge and self.recording:
                first = self.recording[0]
                for k, v in rec.items():
                    if k in first:
                        if isinstance(first[k], list):
                            first[k].append(v)
                        else:
                            first[k] = [first[k], v]
                    else:
                        first[k] = v
            else:
                self.recording.append(rec)

    def process_test(self, line: str) -> None:
        self.parse_record(line)
        if RUN_PASSED in line:
            if self.fault:
                self.status = FAIL
                self.reason = "Fault detected while running test"
            else:
                self.status = PASS
        if RUN_FAILED in line:
            self.status = FAIL
            self.reason = "Testsuite failed"
        if self.fail_on_fault and line == FAULT:
            self.fault = True

    def handle(self, line: str) -> None:  # pragma: no cover - overridden
        self.process_test(line)


class ConsoleHarness(Harness):
    """``harness: console``: ``one_line`` or ``multi_line`` (``ordered`` or not) patterns."""

    def __init__(self, instance: Instance) -> None:
        super().__init__(instance)
        if not self.regex:
            raise HarnessConfigError("HARNESS:Console:no regex patterns configured.")
        if self.type not in ("one_line", "multi_line"):
            raise HarnessConfigError(f"HARNESS:Console:incorrect type={self.type}")
        try:
            pats = self.regex[:1] if self.type == "one_line" else self.regex
            self.patterns = [re.compile(r) for r in pats]
        except re.error as exc:
            raise HarnessConfigError(f"HARNESS:Console:bad regex: {exc}") from None
        self.expected = len(self.patterns)
        self.next_pattern = 0
        self.matches: dict[str, str] = {}

    def case_name(self) -> str:
        if len(self.instance.testcases) == 1:
            return self.instance.testcases[0].name
        return self.id

    def handle(self, line: str) -> None:
        if self.type == "one_line":
            if self.patterns[0].search(line):
                self.next_pattern += 1
                self.status = PASS
        elif self.ordered:
            if self.next_pattern < self.expected and \
                    self.patterns[self.next_pattern].search(line):
                self.next_pattern += 1
                if self.next_pattern >= self.expected:
                    self.status = PASS
        else:
            for r, pat in zip(self.regex, self.patterns, strict=True):
                if r not in self.matches and pat.search(line):
                    self.matches[r] = line
            if len(self.matches) == len(self.regex):
                self.status = PASS
        if self.fail_on_fault and FAULT in line:
            self.fault = True
        self.process_test(line)
        if self.status == PASS and self.ordered and self.next_pattern < self.expected:
            self.status = FAIL
            self.reason = "patterns did not match (ordered)"
        if self.status == PASS and not self.ordered and len(self.matches) < self.expected:
            self.status = FAIL
            self.reason = "patterns did not match (unordered)"
        tc = self.instance.get_case_or_create(self.case_name())
        tc.status = PASS if self.status == PASS else FAIL


class ZtestHarness(Harness):
    """``harness: ztest`` (and scenarios without a harness): ztest's console lines."""

    suite_start = re.compile(r"Running TESTSUITE (?P<suite_name>\w*)")
    suite_end = re.compile(r"TESTSUITE (?P<suite_name>\S*)\s+(?P<suite_status>succeeded|failed)")
    case_start = re.compile(r"START - (test_)?([a-zA-Z0-9_-]+)")
    case_end = re.compile(r".*(PASS|FAIL|SKIP) - (test_)?(\S*) in (\d*[.,]?\d*) seconds")
    suite_summary = re.compile(
        r"SUITE (?P<suite_status>\S*) - .* \[(?P<suite_name>\S*)\]: .* duration = (\d*[.,]?\d*) "
        r"seconds")
    case_summary = re.compile(
        r".*- (PASS|FAIL|SKIP) - \[([^\.]*).(test_)?(\S*)\] duration = (\d*[.,]?\d*) seconds")

    _STATUS = {"PASS": PASS, "FAIL": FAIL, "SKIP": SKIP}

    def __init__(self, instance: Instance) -> None:
        super().__init__(instance)
        self.ztest = False
        self.started_suites: dict[str, int] = {}
        self.capture = False
        self.output = ""

    def _case(self, tc_name: str, suite: str | None = None) -> Case:
        names = [suite] if suite else list(self.started_suites)
        for ts in names:
            if ts is None:
                continue
            c = self.instance.get_case_by_name(f"{self.id}.{ts}.{tc_name}")
            if c is not None:
                return c
        running = suite or next((s for s, n in self.started_suites.items() if n > 0), None)
        if running:
            return self.instance.get_case_or_create(f"{self.id}.{running}.{tc_name}")
        return self.instance.get_case_or_create(f"{self.id}.{tc_name}")

    def _ended(self, tc: Case, status: str, duration: str) -> None:
        tc.status = self._STATUS[status]
        if tc.status == SKIP:
            tc.reason = "ztest skip"
        tc.duration = float(duration.replace(",", ".") or 0)
        if tc.status == FAIL and self.output:   # the summary line must not erase it
            tc.output = self.output
        self.output = ""
        self.capture = False
        self.ztest = True

    def handle(self, line: str) -> None:
        if self.capture:
            self.output += line + "\n"
        if m := self.suite_start.search(line):
            name = m.group("suite_name")
            self.started_suites[name] = self.started_suites.get(name, 0) + 1
        elif m := self.suite_end.search(line):
            name = m.group("suite_name")
            if name in self.started_suites:
                self.started_suites[name] -= 1
            self.ztest = True
        elif m := self.case_start.search(line):
            tc = self._case(m.group(2))
            tc.status = STARTED
            if not self.capture:
                self.output += line + "\n"
                self.capture = True
        elif m := self.case_end.match(line):
            self._ended(self._case(m.group(3)), m.group(1), m.group(4))
        elif m := self.suite_summary.match(line):
            self.capture = False
            self.ztest = True
        elif m := self.case_summary.match(line):
            tc = self._case(m.group(4), m.group(2))
            self._ended(tc, m.group(1), m.group(5))
        self.process_test(line)
        if not self.ztest and self.status is not NONE:
            tc = self.instance.get_case_or_create(self.id)
            if self.status == PASS:
                tc.status = PASS
            else:
                tc.status = FAIL
                tc.reason = "Test failure"


def make_harness(instance: Instance) -> Harness:
    """The harness a scenario names (console, or ztest for ``ztest``/``test``/none)."""
    kind = instance.scenario.harness
    if kind == "console":
        return ConsoleHarness(instance)
    if kind in ("", "ztest", "test"):
        return ZtestHarness(instance)
    if kind == "pytest":
        raise HarnessConfigError("harness 'pytest' does not read a console: it runs "
                                 "through twister_adapter.pytest_harness")
    raise HarnessConfigError(f"harness {kind!r} is not supported by zsim "
                             "(supported: console, ztest, pytest)")


def finish(instance: Instance, harness: Harness, error: str | None) -> None:
    """Settle instance and case statuses after a run, as twister's handler does."""
    if error is not None:
        instance.status = FAIL
        instance.reason = f"Failed ({error})"
        instance.add_missing_case_status(BLOCK)
    elif harness.status is not NONE:
        instance.status = harness.status
        if harness.status == FAIL:
            instance.reason = f"Failed harness:'{harness.reason}'"
        instance.add_missing_case_status(BLOCK)
    else:
        instance.status = FAIL
        instance.reason = "Timeout"
        instance.add_missing_case_status(BLOCK, "Timeout")
    for c in instance.testcases:
        if c.status == STARTED:      # started but never ended: timeout or crash
            c.status = FAIL
            c.reason = c.reason or instance.reason
    if len(instance.testcases) > 1:  # a freeform fallback is not needed once cases are seen
        instance.testcases = [c for c in instance.testcases
                              if not (c.freeform and c.status in (NONE, BLOCK))]
    if harness.recording:
        instance.recording = harness.recording


def finish_cut_short(instance: Instance, harness: Harness | None, status: str,
                     reason: str) -> None:
    """Settle an instance whose run was ended from outside (a wall-clock limit, a worker
    that died, an interrupt): ``status`` and ``reason``; cases the harness settled keep
    their status, a started one fails and the others are blocked."""
    instance.status = status
    instance.reason = reason
    for c in instance.testcases:
        if c.status == STARTED:
            c.status = FAIL
            c.reason = reason
    instance.add_missing_case_status(BLOCK, reason)
    if len(instance.testcases) > 1:
        instance.testcases = [c for c in instance.testcases
                              if not (c.freeform and c.status in (NONE, BLOCK))]
    if harness is not None and harness.recording:
        instance.recording = harness.recording


__all__ = ["ConsoleHarness", "Harness", "HarnessConfigError", "ZtestHarness", "finish",
           "finish_cut_short", "make_harness"]
