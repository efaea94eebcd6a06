"""twister.json, JUnit XML reports and the closing summary, in twister's shapes.

Structure, keys and rules follow scripts/pylib/twister/twisterlib/reports.py (``json_report``,
``xunit_report``, ``xunit_report_suites``, ``xunit_testcase``, ``summary``). Every file is
written atomically (temporary file + ``os.replace``).
"""

from __future__ import annotations

import json
import platform as host_platform
import string
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from zsim.export.atomic import write_bytes

from .filters import Instance
from .runner import build_dir
from .statuses import BLOCK, ERROR, FAIL, FILTER, NONE, NOTRUN, PASS, SKIP


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (a temporary file beside it, removed
    if the write is interrupted, then renamed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, data.encode("utf-8") if isinstance(data, str) else data)


def _process_log(path: Path) -> str:
    if not path.exists():
        return ""
    text = path.read_bytes().decode("utf-8", errors="replace")
    return "".join(ch for ch in text if ch in string.printable)


@dataclass
class Environment:
    """The ``environment`` block of twister.json."""

    version: str
    run_date: str
    options: dict[str, Any]
    toolchain: str = "zsim"
    commit_date: str = "unknown"

    def to_dict(self) -> dict[str, Any]:
        return {"os": host_platform.system(), "zephyr_version": self.version,
                "toolchain": self.toolchain, "commit_date": self.commit_date,
                "run_date": self.run_date, "options": self.options}


def suite_entry(inst: Instance, outdir: str | Path) -> dict[str, Any]:
    """One ``testsuites`` entry of twister.json."""
    suite: dict[str, Any] = {"name": inst.scenario.name, "arch": inst.platform.arch,
                             "platform": inst.platform.name, "path": inst.scenario.path}
    if inst.run_id:
        suite["run_id"] = inst.run_id
    suite["runnable"] = inst.run if inst.status != FILTER else False
    fp = inst.footprint or {}
    if "used_ram" in fp:
        suite["used_ram"] = fp["used_ram"]
    suite["retries"] = inst.retries
    suite["toolchain"] = "zsim"
    if inst.dut:
        suite["dut"] = inst.dut
    if "available_ram" in fp:
        suite["available_ram"] = fp["available_ram"]
    bdir = build_dir(outdir, inst)
    if inst.status in (ERROR, FAIL):
        suite["status"] = inst.status
        log = ""
        for name in ("twister_harness.log", "handler.log", "device.log", "build.log"):
            if (bdir / name).exists():
                log = _process_log(bdir / name)
                break
        suite["log"] = log
        suite["reason"] = inst.reason
    elif inst.status in (FILTER, SKIP, NOTRUN):
        suite["status"] = inst.status
        suite["reason"] = inst.reason
    elif inst.status == PASS:
        suite["status"] = PASS
        if inst.flaky:
            suite["flaky"] = True
    else:
        suite["status"] = NONE
        suite["reason"] = "Unknown Instance status"
    if inst.status is not NONE:
        suite["execution_time"] = f"{float(inst.execution_time):.2f}"
    suite["build_time"] = f"{float(inst.build_time):.2f}"
    single = f"{float(inst.execution_time):.2f}" if len(inst.testcases) == 1 else None
    cases = []
    for c in inst.testcases:
        if c.freeform and c.status is NONE and len(inst.testcases) > 1:
            continue
        tc: dict[str, Any] = {"identifier": c.name}
        if inst.status is not NONE:
            tc["execution_time"] = single if single else f"{float(c.duration):.2f}"
        if c.output:
            tc["log"] = c.output
        if c.status == SKIP:
            tc["status"] = SKIP
            tc["reason"] = c.reason or inst.reason
        else:
            tc["status"] = c.status
            if c.reason:
                tc["reason"] = c.reason
        cases.append(tc)
    suite["testcases"] = cases
    if inst.recording:
        suite["recording"] = inst.recording
    if "RAM" in fp:
        suite["footprint"] = {"RAM": fp["RAM"]}
    return suite


def json_report(instances: Iterable[Instance], env: Environment, outdir: str | Path, *,
                report_filtered: bool = False) -> dict[str, Any]:
    """The twister.json document (filtered instances only with ``report_filtered``)."""
    suites = [suite_entry(i, outdir) for i in instances
              if report_filtered or i.status != FILTER]
    return {"environment": env.to_dict(), "testsuites": suites}


def dump_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=4, separators=(",", ":"))


def _testcase(parent: ET.Element, name: str, classname: str, status: str | None,
              ts_status: str | None, reason: str, duration: Any, runnable: bool,
              stats: list[int], log: str | None, build_only_as_skip: bool,
              flaky: bool = False) -> None:
    """One <testcase>; ``stats`` is [fails, passes, errors, skips], updated in place.
    A flaky suite's cases carry ``<property name="flaky" value="true"/>``."""
    if status in (SKIP, FILTER):
        duration = 0
    el = ET.SubElement(parent, "testcase", classname=classname, name=f"{name}",
                       time=f"{duration}")
    if flaky:
        props = ET.SubElement(el, "properties")
        ET.SubElement(props, "property", name="flaky", value="true")
    if status in (SKIP, FILTER):
        stats[3] += 1
        kind = "build" if ts_status == PASS and not runnable else status
        ET.SubElement(el, "skipped", type=f"{kind}", message=f"{reason}")
    elif status in (FAIL, BLOCK):
        stats[0] += 1
        f = ET.SubElement(el, "failure", type="failure", message=f"{reason}")
        if log:
            f.text = log
    elif status == ERROR:
        stats[2] += 1
        e = ET.SubElement(el, "error", type="failure", message=f"{reason}")
        if log:
            e.text = log
    elif status == PASS:
        stats[1] += 1
    elif status == NOTRUN:
        if build_only_as_skip:
            ET.SubElement(el, "skipped", type="build", message="built only")
            stats[3] += 1
        else:
            stats[1] += 1
    else:  # no status: reported as untested (counted as skipped so the totals add up)
        ET.SubElement(el, "skipped", type="untested",
                      message="No results captured, testsuite misconfiguration?")
        stats[3] += 1


def _finish_suite(el: ET.Element, duration: float, stats: list[int]) -> None:
    fails, passes, errors, skips = stats
    el.attrib.update(time=f"{duration}", failures=f"{fails}", errors=f"{errors}",
                     skipped=f"{skips}", tests=f"{fails + passes + errors + skips}")


def _tostring(root: ET.Element) -> bytes:
    ET.indent(root, space="\t", level=0)
    return ET.tostring(root)


def xunit_report(doc: dict[str, Any], platforms: Sequence[str], timestamp: str, *,
                 full_report: bool = False, detailed_skipped: bool = False) -> bytes:
    """twister.xml (one <testcase> per suite) or, with ``full_report``, twister_report.xml
    (one per test case): one <testsuite> per platform that has unfiltered suites."""
    version = doc["environment"].get("zephyr_version")
    root = ET.Element("testsuites")
    suites = doc["testsuites"]
    for plat in platforms:
        mine = [s for s in suites if s["platform"] == plat]
        if not detailed_skipped and not [s for s in mine if s.get("status") != FILTER]:
            continue
        el = ET.SubElement(root, "testsuite", name=plat, timestamp=timestamp, time="0",
                           tests="0", failures="0", errors="0", skipped="0")
        props = ET.SubElement(el, "properties")
        ET.SubElement(props, "property", name="version", value=f"{version}")
        duration = 0.0
        stats = [0, 0, 0, 0]
        for ts in mine:
            handler_time = ts.get("execution_time", 0)
            runnable = ts.get("runnable", False)
            duration += float(handler_time)
            ts_status = ts.get("status")
            if ts_status == FILTER and not detailed_skipped:
                continue
            if full_report:
                classname = Path(ts.get("name", "")).name
                for tc in ts.get("testcases", []):
                    _testcase(el, tc.get("identifier"), classname, tc.get("status"), ts_status,
                              tc.get("reason", ts.get("reason", "Unknown")),
                              tc.get("execution_time", handler_time), runnable, stats,
                              tc.get("log", ts.get("log")), True, bool(ts.get("flaky")))
            else:
                _testcase(el, ts.get("name"), f"{plat}:{ts.get('name')}", ts_status, ts_status,
                          ts.get("reason", "Unknown"), handler_time, runnable, stats,
                          ts.get("log"), False, bool(ts.get("flaky")))
        _finish_suite(el, duration, stats)
    return _tostring(root)


def xunit_report_suites(doc: dict[str, Any], timestamp: str, *,
                        detailed_skipped: bool = False) -> bytes:
    """twister_suite_report.xml: one <testsuite> per suite with its test cases."""
    version = doc["environment"].get("zephyr_version")
    root = ET.Element("testsuites")
    for ts in doc["testsuites"]:
        if ts.get("status") == FILTER and not detailed_skipped:
            continue
        el = ET.SubElement(root, "testsuite", name=ts.get("name"), time="0",
                           timestamp=timestamp, tests="0", failures="0", errors="0",
                           skipped="0")
        props = ET.SubElement(el, "properties")
        ET.SubElement(props, "property", name="version", value=f"{version}")
        ET.SubElement(props, "property", name="platform", value=ts.get("platform"))
        ET.SubElement(props, "property", name="architecture", value=ts.get("arch"))
        if ts.get("flaky"):
            ET.SubElement(props, "property", name="flaky", value="true")
        handler_time = ts.get("execution_time", 0)
        stats = [0, 0, 0, 0]
        classname = Path(ts.get("name", "")).name
        for tc in ts.get("testcases", []):
            _testcase(el, tc.get("identifier"), classname, tc.get("status"), ts.get("status"),
                      tc.get("reason", ts.get("reason", "Unknown")),
                      tc.get("execution_time", handler_time), ts.get("runnable", False), stats,
                      tc.get("log", ts.get("log")), True)
        _finish_suite(el, float(handler_time), stats)
    return _tostring(root)


def save_reports(instances: Sequence[Instance], env: Environment, outdir: str | Path,
                 platforms: Sequence[str], *, name: str = "twister", suffix: str | None = None,
                 report_filtered: bool = False, detailed_skipped: bool = False) -> dict[str, Any]:
    """Write twister.json, twister.xml, twister_report.xml, twister_suite_report.xml."""
    base = Path(outdir) / (f"{name}_{suffix}" if suffix else name)
    doc = json_report(instances, env, outdir, report_filtered=report_filtered)
    stamp = datetime.now().isoformat()
    write_atomic(f"{base}.json", dump_json(doc))
    write_atomic(f"{base}.xml", xunit_report(doc, platforms, stamp,
                                             detailed_skipped=detailed_skipped))
    write_atomic(f"{base}_report.xml", xunit_report(doc, platforms, stamp, full_report=True,
                                                    detailed_skipped=detailed_skipped))
    write_atomic(f"{base}_suite_report.xml",
                 xunit_report_suites(doc, stamp, detailed_skipped=detailed_skipped))
    return doc


def save_testplan(instances: Sequence[Instance], env: Environment, outdir: str | Path) -> None:
    """testplan.json: the selected instances before running (filtered ones with reasons)."""
    doc = json_report(instances, env, outdir, report_filtered=True)
    write_atomic(Path(outdir) / "testplan.json", dump_json(doc))


def summary_lines(instances: Sequence[Instance], platforms: Sequence[str],
                  duration: float) -> list[str]:
    """The closing lines twister logs (``Reporting.summary``)."""
    total = len(instances)
    by = {s: sum(1 for i in instances if i.status == s)
          for s in (PASS, FAIL, ERROR, SKIP, FILTER, NOTRUN)}
    run = sum(1 for i in instances if i.executed)
    unfiltered = total - by[FILTER]
    rate = by[PASS] / unfiltered if unfiltered else 0
    out = [f"{by[PASS]} of {unfiltered} executed test configurations passed ({rate:.2%}), "
           f"{by[NOTRUN]} built (not run), {by[FAIL]} failed, {by[ERROR]} errored, "
           f"with no warnings in {duration:.2f} seconds."]
    flaky = sum(1 for i in instances if i.flaky and i.status == PASS)
    if flaky:
        out.append(f"{flaky} of the passed test configurations were flaky (failed, then "
                   "passed on a retry).")
    cases = [c for i in instances for c in i.testcases]
    cnt = {s: sum(1 for c in cases if c.status == s)
           for s in (PASS, FAIL, ERROR, SKIP, FILTER, NOTRUN, BLOCK, NONE)}
    executed = len(cases) - cnt[FILTER] - cnt[SKIP] - cnt[NOTRUN]
    crate = 100 * cnt[PASS] / executed if executed else 0
    used = {i.platform.name for i in instances if i.status not in (FILTER, NOTRUN, SKIP)}
    prate = 100 * len(used) / len(platforms) if platforms else 0
    line = f"{cnt[PASS]} of {executed} executed test cases passed ({crate:02.2f}%)"
    if cnt[BLOCK]:
        line += f", {cnt[BLOCK]} blocked"
    if cnt[FAIL]:
        line += f", {cnt[FAIL]} failed"
    if cnt[ERROR]:
        line += f", {cnt[ERROR]} errored"
    if cnt[NONE]:
        line += f", {cnt[NONE]} without a status"
    line += (f" on {len(used)} out of total {len(platforms)} platforms ({prate:02.2f}%).")
    out.append(line)
    if cnt[SKIP] or cnt[NOTRUN]:
        parts = []
        if cnt[SKIP]:
            parts.append(f"{cnt[SKIP]} skipped")
        if cnt[NOTRUN]:
            parts.append(f"{cnt[NOTRUN]} not run (built only)")
        out.append(f"{cnt[SKIP] + cnt[NOTRUN]} selected test cases not executed: "
                   f"{', '.join(parts)}.")
    built_only = total - run - by[FILTER] - by[SKIP]
    out.append(f"{run} test configurations executed on platforms, {built_only} test "
               "configurations were only built.")
    return out


__all__ = ["Environment", "dump_json", "json_report", "save_reports", "save_testplan",
           "suite_entry", "summary_lines", "write_atomic", "xunit_report",
           "xunit_report_suites"]
