"""prj.conf and a model's configuration: every error listed as file:line, warnings handed
to the caller (or a Python warning located at the line), strict mode."""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path

import pytest

from zsim.cli import main as zsim_main
from zsim.config import (
    Assignments,
    KconfigError,
    KconfigWarning,
    load_config,
    read_prj_conf,
    warn_to_stderr,
)
from zsim.model import load_model
from zsim.topology import TopologyError


def conf(tmp_path: Path, data: str | bytes, name: str = "prj.conf") -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


def test_every_error_is_listed_with_its_line(tmp_path: Path) -> None:
    path = conf(tmp_path, b"CONFIG_LOG=y\nCONFIG_LOG_DEFAULT_LEVEL=9\nCONFIG_X = y\n"
                          b"# fine\nCONFIG_NAME=caf\xe9\nCONFIG_PRINTK=3\n")
    with pytest.raises(KconfigError) as exc:
        load_config(path)
    assert [e.split(": ", 1)[0] for e in exc.value.errors] == [
        f"{path}:2", f"{path}:3", f"{path}:5", f"{path}:6"]
    assert "CONFIG_LOG_DEFAULT_LEVEL=9 is out of its range 0..4" in exc.value.errors[0]
    assert "no spaces around '='" in exc.value.errors[1]
    assert "not UTF-8 text: byte 0xe9 at column 16" in exc.value.errors[2]
    assert "CONFIG_PRINTK is a bool symbol" in exc.value.errors[3]
    assert str(exc.value) == "\n".join(exc.value.errors)


def test_warnings_go_to_the_callback_and_nowhere_else(tmp_path: Path) -> None:
    path = conf(tmp_path, "CONFIG_LOG=y\nCONFIG_MY_FEATURE=y\nCONFIG_LOG=n\n")
    got: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")               # any Python warning would raise
        cfg = load_config(path, warn=got.append)
    assert got == cfg.warnings == [
        f"{path}:2: unknown symbol CONFIG_MY_FEATURE",
        f"{path}:3: CONFIG_LOG set more than once (previously at {path}:1); the later "
        f"value wins",
    ]
    assert cfg["MY_FEATURE"] is True and cfg["LOG"] is False


def test_without_a_callback_the_python_warning_points_at_the_line(tmp_path: Path) -> None:
    path = conf(tmp_path, "\nCONFIG_MY_FEATURE=y\n")
    with pytest.warns(KconfigWarning) as record:
        load_config(path)
    assert [(str(w.message), w.filename, w.lineno) for w in record] == [
        ("unknown symbol CONFIG_MY_FEATURE", str(path), 2)]
    with pytest.warns(KconfigWarning) as record:
        load_config({"MY_FEATURE": 1})
    assert record[0].filename == __file__            # the caller, not zsim's own source


def test_warn_to_stderr(capsys: pytest.CaptureFixture) -> None:
    warn_to_stderr("prj.conf:3: unknown symbol CONFIG_X")
    assert capsys.readouterr().err == "zsim: warning: prj.conf:3: unknown symbol CONFIG_X\n"


def test_strict_makes_every_warning_an_error(tmp_path: Path) -> None:
    path = conf(tmp_path, "CONFIG_MY_FEATURE=y\nCONFIG_SPIN_VALIDATE=y\n")
    with pytest.raises(KconfigError) as exc:
        load_config(path, strict=True, warn=pytest.fail)
    assert exc.value.errors == [
        f"{path}:1: unknown symbol CONFIG_MY_FEATURE",
        f"{path}:2: CONFIG_SPIN_VALIDATE=y has no effect: it depends on CONFIG_ASSERT, and "
        f"CONFIG_ASSERT is n",
    ]
    clean = conf(tmp_path, "CONFIG_ASSERT=y\nCONFIG_SPIN_VALIDATE=y\n", "clean.conf")
    assert load_config(clean, strict=True)["SPIN_VALIDATE"] is True


def test_assignments_layer_and_keep_their_lines(tmp_path: Path) -> None:
    base = read_prj_conf(conf(tmp_path, "CONFIG_LOG=y\nCONFIG_MAIN_STACK_SIZE=2048\n"))
    both = base.overlay({"CONFIG_MAIN_STACK_SIZE": 4096, "OTHER": "n"})
    assert dict(both) == {"LOG": True, "MAIN_STACK_SIZE": 4096, "OTHER": False}
    assert both.where["LOG"].endswith("prj.conf:1")
    assert both.where["MAIN_STACK_SIZE"] == "config mapping"
    assert both.warnings == ["config mapping: unknown symbol CONFIG_OTHER"]
    with pytest.raises(KconfigError) as exc:
        Assignments.from_mapping({"LOG": 3, "MAIN_STACK_SIZE": "big"}, "here")
    assert len(exc.value.errors) == 2 and all(e.startswith("here: ") for e in
                                               exc.value.errors)


TOPOLOGY = """\
version: 1
config:
  PACKET_IO_NAMES: true
  MY_TOPOLOGY_OPTION: 3
pools: [{name: p, count: 2, size: 8}]
sources: [src]
sinks: [{name: s}]
connections: [[src, s]]
"""


def test_a_topology_model_reports_each_symbol_where_it_was_set(tmp_path: Path) -> None:
    (tmp_path / "topology.yaml").write_text(TOPOLOGY)
    conf(tmp_path, "CONFIG_LOG=y\nCONFIG_MY_CONF_OPTION=y\n")
    model = load_model(tmp_path)
    got: list[str] = []
    cfg = model.load_config({"MY_CLI_OPTION": 1}, "nrf52840dk", warn=got.append)
    assert got == [f"{tmp_path / 'prj.conf'}:2: unknown symbol CONFIG_MY_CONF_OPTION",
                   f"{tmp_path / 'topology.yaml'}:4: unknown symbol CONFIG_MY_TOPOLOGY_OPTION",
                   "config mapping: unknown symbol CONFIG_MY_CLI_OPTION"]
    assert cfg.board.identifier == "nrf52840dk/nrf52840"
    assert cfg["PACKET_IO_STATS"] is True and cfg["PACKET_IO_NAMES"] is True
    with pytest.raises(KconfigError):
        model.load_config(strict=True)


def test_a_bad_topology_config_value_is_a_load_error(tmp_path: Path) -> None:
    path = tmp_path / "topology.yaml"
    path.write_text(TOPOLOGY.replace("PACKET_IO_NAMES: true", "PACKET_IO_NAMES: 7"))
    with pytest.raises(TopologyError) as exc:
        load_model(tmp_path)
    assert exc.value.errors == [f"{path}:3: config.PACKET_IO_NAMES: CONFIG_PACKET_IO_NAMES is "
                                f"a bool symbol: expected y or n, got 7"]


def test_zsim_run_lists_every_prj_conf_error_and_exits_2(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    model = tmp_path / "m"
    model.mkdir()
    (model / "model.py").write_text(textwrap.dedent("""\
        def main(k):
            k.printk("hi\\n")
        """))
    conf(model, "CONFIG_LOG=maybe\nCONFIG_PRINTK=2\n")
    trace = tmp_path / "t.jsonl"
    assert zsim_main(["run", str(model), "--quiet", "--trace", str(trace)]) == 2
    err = capsys.readouterr().err
    assert f"{model / 'prj.conf'}:1: expected CONFIG_<NAME>=<value>" in err
    assert f"{model / 'prj.conf'}:2: CONFIG_PRINTK is a bool symbol" in err
    assert not trace.exists()


@pytest.mark.parametrize("symbol", ["MAIN_STACK_SIZE", "ISR_STACK_SIZE", "HEAP_MEM_POOL_SIZE",
                                    "SYS_CLOCK_HW_CYCLES_PER_SEC"])
def test_negative_sizes_and_frequencies_are_out_of_range(tmp_path: Path, symbol: str) -> None:
    path = conf(tmp_path, f"CONFIG_{symbol}=-8\n")
    with pytest.raises(KconfigError) as exc:
        load_config(path)
    assert exc.value.errors == [f"{path}:1: CONFIG_{symbol}=-8 is out of its range "
                                f"0..2147483647"]
