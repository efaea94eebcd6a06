"""``zsim twister --merge-reports DIR...``: twister.json merged by suite identifier, the
JUnit reports with junitparser, the last directory winning for a suite run twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

junitparser = pytest.importorskip("junitparser")

from twister_adapter.reports import dump_json, xunit_report, xunit_report_suites  # noqa: E402
from zsim.cli import main as zsim_main  # noqa: E402

ENV = {"zephyr_version": "zsim-0.1.0", "toolchain": "zsim", "options": {}}


def _suite(name: str, platform: str, status: str) -> dict:
    suite = {"name": name, "arch": "posix", "platform": platform, "path": name,
             "runnable": True, "retries": 0, "toolchain": "zsim", "status": status,
             "execution_time": "0.50", "build_time": "0.00",
             "testcases": [{"identifier": f"{name}.case", "execution_time": "0.50",
                            "status": status}]}
    if status == "failed":
        suite.update(reason="assertion", log="boom")
        suite["testcases"][0]["reason"] = "assertion"
    return suite


def _outdir(path: Path, suites: list[dict]) -> Path:
    """A twister output directory with the four reports of ``suites``."""
    path.mkdir()
    doc = {"environment": ENV, "testsuites": suites}
    platforms = sorted({s["platform"] for s in suites})
    (path / "twister.json").write_text(dump_json(doc), encoding="utf-8")
    (path / "twister.xml").write_bytes(xunit_report(doc, platforms, "T"))
    (path / "twister_report.xml").write_bytes(xunit_report(doc, platforms, "T",
                                                           full_report=True))
    (path / "twister_suite_report.xml").write_bytes(xunit_report_suites(doc, "T"))
    return path


@pytest.fixture
def shards(tmp_path: Path) -> tuple[Path, Path, Path]:
    a = _outdir(tmp_path / "shard1", [_suite("s/a", "native_sim", "passed"),
                                      _suite("s/b", "native_sim", "failed")])
    b = _outdir(tmp_path / "shard2", [_suite("s/c", "qemu_x86", "passed"),
                                      _suite("s/a", "qemu_x86", "passed")])
    rerun = _outdir(tmp_path / "rerun", [_suite("s/b", "native_sim", "passed")])
    return a, b, rerun


def _cases(xml_path: Path) -> dict[tuple[str, str], list]:
    xml = junitparser.JUnitXml.fromfile(str(xml_path))
    return {(suite.name, case.name): case.result for suite in xml for case in suite}


def test_shards_merge_into_one_set_of_reports(shards, tmp_path, capsys):
    a, b, _ = shards
    out = tmp_path / "merged"
    assert zsim_main(["twister", "--merge-reports", str(a), str(b), "-O", str(out)]) == 1
    doc = json.loads((out / "twister.json").read_text(encoding="utf-8"))
    assert [(s["name"], s["platform"]) for s in doc["testsuites"]] == [
        ("s/a", "native_sim"), ("s/b", "native_sim"), ("s/c", "qemu_x86"), ("s/a", "qemu_x86")]
    xml = junitparser.JUnitXml.fromfile(str(out / "twister.xml"))
    by_platform = {suite.name: suite for suite in xml}
    assert set(by_platform) == {"native_sim", "qemu_x86"}
    assert (by_platform["native_sim"].tests, by_platform["native_sim"].failures) == (2, 1)
    assert (by_platform["qemu_x86"].tests, by_platform["qemu_x86"].failures) == (2, 0)
    assert len(_cases(out / "twister_report.xml")) == 4
    suites = junitparser.JUnitXml.fromfile(str(out / "twister_suite_report.xml"))
    assert sorted((s.name, next(p.value for p in s.properties() if p.name == "platform"))
                  for s in suites) == [("s/a", "native_sim"), ("s/a", "qemu_x86"),
                                       ("s/b", "native_sim"), ("s/c", "qemu_x86")]
    assert "s/b" in capsys.readouterr().out


def test_a_rerun_given_last_replaces_the_first_result(shards, tmp_path):
    a, b, rerun = shards
    out = tmp_path / "merged"
    assert zsim_main(["twister", "--merge-reports", str(a), str(b), str(rerun),
                      "-O", str(out)]) == 0
    doc = json.loads((out / "twister.json").read_text(encoding="utf-8"))
    statuses = {(s["name"], s["platform"]): s["status"] for s in doc["testsuites"]}
    assert statuses[("s/b", "native_sim")] == "passed" and len(statuses) == 4
    xml = junitparser.JUnitXml.fromfile(str(out / "twister.xml"))
    native = next(s for s in xml if s.name == "native_sim")
    assert (native.tests, native.failures) == (2, 0)
    assert all(case.is_passed for case in native)


def test_a_directory_without_reports_is_refused_before_writing(shards, tmp_path, capsys):
    a, _, _ = shards
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "merged"
    assert zsim_main(["twister", "--merge-reports", str(a), str(empty), "-O", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(empty) in err and "twister.json" in err
    assert not out.exists()


def test_bad_json_is_named_with_its_line(shards, tmp_path, capsys):
    a, _, _ = shards
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "twister.json").write_text('{\n  "testsuites": [\n  oops\n]}\n', encoding="utf-8")
    out = tmp_path / "merged"
    assert zsim_main(["twister", "--merge-reports", str(a), str(bad), "-O", str(out)]) == 2
    assert f"{bad / 'twister.json'}:3:" in capsys.readouterr().err
    assert not out.exists()


def test_the_output_may_not_be_an_input(shards, capsys):
    a, b, _ = shards
    assert zsim_main(["twister", "--merge-reports", str(a), str(b), "-O", str(a)]) == 2
    assert "-O" in capsys.readouterr().err
