"""The reports of ``zsim twister``: JUnit XML read back with junitparser, checked for
structure and consistent counts, and twister.json keys/status strings as in
/work/shared/twister-formats.md (twister's reports.py ``json_report``)."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

from zsim.cli import main as zsim_main

GOOD = Path(__file__).parent / "data" / "twister" / "good"

SUITE_KEYS_ALWAYS = {"name", "arch", "platform", "path", "runnable", "retries", "status",
                     "build_time", "testcases"}
SUITE_KEYS_OPTIONAL = {"run_id", "used_ram", "used_rom", "toolchain", "dut", "available_ram",
                       "available_rom", "reason", "log", "execution_time", "recording"}
CASE_KEYS = {"identifier", "status", "execution_time", "reason", "log"}
STATUSES = {"passed", "failed", "error", "skipped", "filtered", "blocked", "not run",
            "started"}


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    d = tmp_path_factory.mktemp("rep") / "out"
    with redirect_stdout(io.StringIO()):
        rc = zsim_main(["twister", "-T", str(GOOD), "-p", "native_sim", "-p", "qemu_x86",
                        "-O", str(d)])
    assert rc == 1
    return d


def _results(case) -> list:
    return [r for r in case.result if isinstance(r, (Failure, Skipped, Error))]


def test_twister_json_keys_and_statuses(out):
    doc = json.loads((out / "twister.json").read_text())
    assert set(doc) == {"environment", "testsuites"}
    assert set(doc["environment"]) == {"os", "zephyr_version", "toolchain", "commit_date",
                                       "run_date", "options"}
    assert doc["environment"]["options"]["platform"] == ["native_sim", "qemu_x86"]
    for s in doc["testsuites"]:
        assert SUITE_KEYS_ALWAYS <= set(s) <= SUITE_KEYS_ALWAYS | SUITE_KEYS_OPTIONAL, s["name"]
        assert s["status"] in STATUSES
        if s["status"] in ("failed", "error"):
            assert s["reason"] and "log" in s
        float(s["execution_time"])
        assert s["execution_time"] == f"{float(s['execution_time']):.2f}"
        for c in s["testcases"]:
            assert set(c) <= CASE_KEYS and {"identifier", "status"} <= set(c)
            assert c["status"] in STATUSES
            assert c["identifier"].startswith(s["name"].rsplit("/", 1)[-1])


def test_twister_xml_one_testcase_per_suite(out):
    xml = JUnitXml.fromfile(str(out / "twister.xml"))
    suites = {s.name: s for s in xml}
    assert set(suites) == {"native_sim", "qemu_x86"}
    native = suites["native_sim"]
    # crash, hello, ordered, timeout, build_only, default, slow, mixed (filtered ones absent)
    assert (native.tests, native.failures, native.errors, native.skipped) == (8, 4, 0, 0)
    assert (suites["qemu_x86"].tests, suites["qemu_x86"].failures) == (9, 4)
    cases = {c.name: c for c in native}
    timeout = cases["console/timeout/console.timeout.never"]
    assert timeout.classname == "native_sim:console/timeout/console.timeout.never"
    (res,) = _results(timeout)
    assert isinstance(res, Failure) and res.message == "Timeout" and res.type == "failure"
    assert "tick" in res.text                           # the handler log is the body
    assert not _results(cases["misc/build_only/misc.build.only"])   # not run: counted passed
    assert "misc/skipped/misc.skip.yaml" not in cases


def test_twister_report_xml_one_testcase_per_case(out):
    xml = JUnitXml.fromfile(str(out / "twister_report.xml"))
    native = next(s for s in xml if s.name == "native_sim")
    assert (native.tests, native.failures, native.errors, native.skipped) == (12, 4, 0, 2)
    cases = {c.name: c for c in native}
    skip = cases["ztest.mixed.cases.mixed_suite.not_here"]
    assert skip.classname == "ztest.mixed.cases"
    (res,) = _results(skip)
    assert isinstance(res, Skipped) and res.message == "ztest skip"
    assert res._elem.get("type") == "skipped" and skip.time == 0
    (res,) = _results(cases["misc.build.only"])
    assert isinstance(res, Skipped) and res.message == "built only"
    assert res._elem.get("type") == "build"
    (res,) = _results(cases["ztest.mixed.cases.mixed_suite.broken"])
    assert isinstance(res, Failure) and res.message == "Failed harness:'Testsuite failed'"
    assert not _results(cases["ztest.mixed.cases.mixed_suite.adds_up"])


def test_suite_report_has_platform_properties(out):
    root = ET.parse(out / "twister_suite_report.xml").getroot()
    names = [s.get("name") for s in root]
    assert "ztest/mixed/ztest.mixed.cases" in names
    s = next(s for s in root if s.get("name") == "ztest/mixed/ztest.mixed.cases")
    props = {p.get("name"): p.get("value") for p in s.find("properties")}
    assert props["architecture"] in ("posix", "x86") and props["platform"] in (
        "native_sim", "qemu_x86") and props["version"].startswith("zsim-")


@pytest.mark.parametrize("name", ["twister.xml", "twister_report.xml",
                                  "twister_suite_report.xml"])
def test_junit_structure_and_counts_consistent(out, name):
    root = ET.parse(out / name).getroot()
    assert root.tag == "testsuites"
    assert len(root) > 0
    for suite in root:
        assert suite.tag == "testsuite"
        for attr in ("name", "tests", "failures", "errors", "skipped", "time", "timestamp"):
            assert suite.get(attr) is not None, attr
        counts = {"failure": 0, "error": 0, "skipped": 0}
        cases = suite.findall("testcase")
        for c in cases:
            assert c.get("name") and c.get("classname") and c.get("time") is not None
            float(c.get("time"))
            outcomes = [e for e in c if e.tag in counts]
            assert len(outcomes) <= 1
            for e in outcomes:
                counts[e.tag] += 1
                assert e.get("message") is not None and e.get("type")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == counts["failure"]
        assert int(suite.get("errors")) == counts["error"]
        assert int(suite.get("skipped")) == counts["skipped"]
        assert [p.tag for p in suite.find("properties")] and all(
            p.tag == "property" for p in suite.find("properties"))
