"""``zsim twister`` never harms its inputs or a directory it did not write, refuses
ambiguous scenario identifiers and out-of-range numbers, and writes reports whole."""

from __future__ import annotations

import io
import json
import os
import shutil
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from twister_adapter.reports import write_atomic
from zsim.cli import main as zsim_main
from zsim.output_paths import MARKER

DATA = Path(__file__).parent / "data" / "twister"
HELLO = DATA / "good" / "console" / "hello"
ORDERED = DATA / "good" / "console" / "ordered"


def twister(*argv: str) -> int:
    with redirect_stdout(io.StringIO()):
        return zsim_main(["twister", *argv])


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.fixture
def tree(tmp_path):
    """A suite root (one passing suite) and a precious file beside it, cwd = tmp_path."""
    root = tmp_path / "suites"
    shutil.copytree(HELLO, root / "hello")
    (tmp_path / "precious.txt").write_text("keep me")
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path, root
    finally:
        os.chdir(old)


@pytest.mark.parametrize("outdir, extra, why", [
    (".", ("-c",), "working directory"),
    ("..", (), "working directory"),
    ("suites", (), "contains the input suites"),
    ("suites", ("-c",), "contains the input suites"),
    ("suites/hello/out", (), "lies inside the input suites"),
])
def test_outdir_that_would_touch_an_input_is_refused(tree, capsys, outdir, extra, why):
    tmp, root = tree
    before = snapshot(tmp)
    assert twister("-T", "suites", "-p", "native_sim", "-O", outdir, *extra) == 2
    assert why in capsys.readouterr().err
    assert snapshot(tmp) == before                      # nothing removed, renamed or added
    assert sorted(os.listdir(tmp)) == ["precious.txt", "suites"]


def test_outdir_holding_the_hardware_map_is_refused(tree, capsys):
    tmp, _ = tree
    (tmp / "out").mkdir()
    hw = tmp / "out" / "map.yaml"
    hw.write_text("- connected: true\n  platform: native_sim\n  serial: loop://\n")
    assert twister("-T", "suites", "-p", "native_sim", "--device-testing",
                   "--hardware-map", str(hw), "-O", "out") == 2
    assert "contains the input" in capsys.readouterr().err
    assert os.listdir(tmp / "out") == ["map.yaml"]


@pytest.mark.parametrize("flag", [(), ("-c",), ("--no-clean",)])
def test_existing_directory_zsim_did_not_write_is_left_alone(tree, capsys, flag):
    tmp, _ = tree
    mine = tmp / "results"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    assert twister("-T", "suites", "-p", "native_sim", "-O", "results", *flag) == 2
    assert f"no {MARKER} file" in capsys.readouterr().err
    assert os.listdir(mine) == ["notes.txt"]
    assert not (tmp / "results.1").exists()


def test_empty_directory_is_used_and_marked(tree):
    tmp, _ = tree
    (tmp / "out").mkdir()
    assert twister("-T", "suites", "-p", "native_sim", "-O", "out") == 0
    assert (tmp / "out" / MARKER).is_file()
    assert (tmp / "out" / "twister.json").is_file()


def test_clobber_removes_only_a_marked_directory_and_rename_skips_taken_names(tree):
    tmp, _ = tree
    assert twister("-T", "suites", "-p", "native_sim", "-O", "out") == 0
    (tmp / "out" / "old.txt").write_text("from the last run")
    assert twister("-T", "suites", "-p", "native_sim", "-O", "out", "-c") == 0
    assert not (tmp / "out" / "old.txt").exists() and (tmp / "out" / MARKER).is_file()
    (tmp / "out.1").mkdir()                              # a name somebody else took
    (tmp / "out.1" / "theirs.txt").write_text("theirs")
    (tmp / "out" / "old.txt").write_text("from the last run")
    assert twister("-T", "suites", "-p", "native_sim", "-O", "out") == 0
    assert os.listdir(tmp / "out.1") == ["theirs.txt"]
    assert (tmp / "out.2" / "old.txt").read_text() == "from the last run"
    assert (tmp / "out" / "twister.json").is_file()


def test_default_root_allows_an_outdir_beside_the_suites(tree, capsys):
    """Without -T the suites are found under the working directory; the output directory
    may sit there, but not on a suite, and zsim's own directories are not searched."""
    tmp, root = tree
    os.chdir(root)
    assert twister("-p", "native_sim", "-O", "twister-out") == 0
    assert twister("-p", "native_sim", "-O", "twister-out") == 0    # renamed, not searched
    doc = json.loads((root / "twister-out" / "twister.json").read_text())
    assert [s["name"] for s in doc["testsuites"]] == ["hello/sample.console.hello"]
    assert twister("-p", "native_sim", "-O", "hello") == 2
    assert "contains the input" in capsys.readouterr().err


def test_same_identifier_under_two_roots_is_an_error_naming_both(tmp_path, capsys):
    shutil.copytree(ORDERED, tmp_path / "a" / "s")       # fails
    shutil.copytree(ORDERED, tmp_path / "b" / "s")
    (tmp_path / "b" / "s" / "model.py").write_text(
        (HELLO / "model.py").read_text())
    out = tmp_path / "o"
    assert twister("-T", str(tmp_path / "a"), "-T", str(tmp_path / "b"), "-p", "native_sim",
                   "-O", str(out)) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "a" / "s" / "testcase.yaml") in err
    assert str(tmp_path / "b" / "s" / "testcase.yaml") in err
    assert not out.exists()


def test_the_same_root_twice_runs_each_suite_once(tmp_path):
    out = tmp_path / "o"
    assert twister("-T", str(HELLO), "-T", str(HELLO) + "/", "-p", "native_sim",
                   "-O", str(out)) == 0
    assert len(json.loads((out / "twister.json").read_text())["testsuites"]) == 1


@pytest.mark.parametrize("flag", [
    ("--timeout-multiplier", "-1"), ("--timeout-multiplier", "0"),
    ("--timeout-multiplier", "nan"), ("-j", "0"), ("--retry-failed", "-1"),
    ("--wall-timeout", "0"), ("--wall-timeout", "inf"), ("--suite-wall-timeout", "-2"),
    ("--device-serial-baud", "0"),
])
def test_out_of_range_flags_are_bad_input(tmp_path, capsys, flag):
    with pytest.raises(SystemExit) as exc:
        twister("-T", str(HELLO), "-p", "native_sim", "-O", str(tmp_path / "o"), *flag)
    assert exc.value.code == 2
    assert f"argument {flag[0]}" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("name", ["../escape", "a/b", ".."])
def test_report_name_must_stay_inside_the_outdir(tmp_path, capsys, name):
    assert twister("-T", str(HELLO), "-p", "native_sim", "-O", str(tmp_path / "o"),
                   "--report-name", name) == 2
    assert "--report-name" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("key, value, expect", [
    ("min_ram", "-4", "min_ram: -4 is less than the minimum of 0"),
    ("min_flash", "-1", "min_flash: -1 is less than the minimum of 0"),
    ("timeout", "0", "timeout: 0 is less than or equal to the minimum of 0"),
    ("timeout", "-5", "timeout: -5 is less than or equal to the minimum of 0"),
    ("timeout", ".inf", "timeout inf: expected a finite number"),
])
def test_out_of_range_yaml_numbers_name_file_and_line(tmp_path, capsys, key, value, expect):
    suite = tmp_path / "root" / "s"
    suite.mkdir(parents=True)
    (suite / "model.py").write_text((HELLO / "model.py").read_text())
    (suite / "testcase.yaml").write_text(
        "tests:\n  range.check.value:\n    tags: x\n"
        f"    {key}: {value}\n")
    assert twister("-T", str(tmp_path / "root"), "-p", "native_sim",
                   "-O", str(tmp_path / "o")) == 2
    err = capsys.readouterr().err
    assert f"{suite / 'testcase.yaml'}:4:" in err and expect in err
    assert not (tmp_path / "o").exists()


def test_report_write_interrupted_leaves_the_old_report_and_no_temporary(tmp_path,
                                                                        monkeypatch):
    target = tmp_path / "twister.json"
    target.write_text("old")

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new" * 1000)
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["twister.json"]


def suite_status(tmp_path: Path, testcase_yaml: str) -> tuple[Path, int]:
    """A suite of the hello model with this testcase.yaml, and twister's status on it."""
    suite = tmp_path / "root" / "s"
    suite.mkdir(parents=True)
    (suite / "model.py").write_text((HELLO / "model.py").read_text())
    (suite / "testcase.yaml").write_text(testcase_yaml)
    return suite, twister("-T", str(tmp_path / "root"), "-p", "native_sim",
                          "-O", str(tmp_path / "o"))


def test_duplicate_key_in_a_suite_file_is_bad_input(tmp_path, capsys):
    suite, status = suite_status(
        tmp_path, "tests:\n  dup.key.one:\n    timeout: 5\n    timeout: 500\n")
    assert status == 2
    err = capsys.readouterr().err
    assert f"{suite / 'testcase.yaml'}:4:" in err and "timeout" in err
    assert not (tmp_path / "o").exists()


def test_every_schema_error_is_listed_with_its_line(tmp_path, capsys):
    suite, status = suite_status(
        tmp_path, "tests:\n  a.check.one:\n    timeout: -1\n  a.check.two:\n    min_ram: -4\n")
    assert status == 2
    err = capsys.readouterr().err
    assert f"{suite / 'testcase.yaml'}:3:" in err and f"{suite / 'testcase.yaml'}:5:" in err


def test_strict_makes_an_unknown_kconfig_symbol_fail_the_suite(tmp_path, capsys):
    root = tmp_path / "root"
    shutil.copytree(HELLO, root / "hello")
    conf = root / "hello" / "prj.conf"
    conf.write_text((conf.read_text() if conf.exists() else "") + "CONFIG_NOT_A_SYMBOL=y\n")
    line = len(conf.read_text().splitlines())
    assert twister("-T", str(root), "-p", "native_sim", "-O", str(tmp_path / "lax")) == 0
    assert twister("-T", str(root), "-p", "native_sim", "-O", str(tmp_path / "strict"),
                   "--strict") == 1
    report = json.loads((tmp_path / "strict" / "twister.json").read_text())
    (suite,) = report["testsuites"]
    assert suite["status"] == "failed"
    assert f"prj.conf:{line}: unknown symbol CONFIG_NOT_A_SYMBOL" in suite["reason"]
