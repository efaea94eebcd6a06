"""What ``west zsim`` adds to zsim's arguments (zsim.workspace_args), and the
hardware-model-v2 board names west uses (zsim.boards)."""

from __future__ import annotations

from pathlib import Path

import pytest

from zsim.boards import load_board
from zsim.errors import BoardError
from zsim.workspace_args import Workspace, workspace_argv


@pytest.mark.parametrize(("name", "identifier"), [
    ("nrf52840dk/nrf52840", "nrf52840dk/nrf52840"),
    ("nrf52840dk", "nrf52840dk/nrf52840"),
    ("nrf52840dk@2.0.0/nrf52840", "nrf52840dk/nrf52840"),
    ("native_sim/native/64", "native_sim/native/64"),
    ("native_sim/native", "native_sim"),
    ("nrf5340dk", "nrf5340dk/nrf5340/cpuapp"),
    ("qemu_x86/atom", "qemu_x86"),
])
def test_west_board_names_find_their_profile(name, identifier):
    assert load_board(name).identifier == identifier


def test_an_unknown_board_names_the_closest_profiles_and_how_to_add_one():
    with pytest.raises(BoardError) as info:
        load_board("nrf52840dongle/nrf52840")
    msg = str(info.value)
    assert "unknown board 'nrf52840dongle/nrf52840'" in msg
    assert "closest profiles: nrf52840dk/nrf52840" in msg
    assert "--board-dir" in msg and "ZSIM_BOARD_DIR" in msg and "identifier" in msg


def _model(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "topology.yaml").write_text("sources: []\n", encoding="utf-8")
    return path


def test_run_takes_the_application_in_the_current_directory(tmp_path):
    app = _model(tmp_path / "app")
    assert workspace_argv(["run", "--duration", "1s"], Workspace(), cwd=app) == \
        ["run", ".", "--duration", "1s"]
    assert workspace_argv(["run", "--duration", "1s"], Workspace(), cwd=tmp_path) == \
        ["run", "--duration", "1s"]


def test_paths_not_found_here_are_taken_from_the_workspace_top(tmp_path):
    _model(tmp_path / "proj" / "app")
    here = tmp_path / "elsewhere"
    here.mkdir()
    ws = Workspace(topdir=tmp_path)
    assert workspace_argv(["run", "proj/app", "--quiet"], ws, cwd=here) == \
        ["run", str(tmp_path / "proj" / "app"), "--quiet"]
    assert workspace_argv(["twister", "-T", "proj", "-p", "native_sim"], ws, cwd=here) == \
        ["twister", "-T", str(tmp_path / "proj"), "-p", "native_sim"]
    assert workspace_argv(["run", "missing"], ws, cwd=here) == ["run", "missing"]


def test_the_board_of_west_config_build_board_is_the_default(tmp_path):
    ws = Workspace(board="nrf52840dk/nrf52840")
    assert workspace_argv(["run", "m"], ws, cwd=tmp_path) == \
        ["run", "m", "--board", "nrf52840dk/nrf52840"]
    assert workspace_argv(["run", "m", "--board", "qemu_x86"], ws, cwd=tmp_path) == \
        ["run", "m", "--board", "qemu_x86"]
    assert workspace_argv(["twister", "-T", "x"], ws, cwd=tmp_path)[-2:] == \
        ["-p", "nrf52840dk/nrf52840"]
    assert workspace_argv(["twister", "--list-tests"], ws, cwd=tmp_path) == \
        ["twister", "--list-tests"]


@pytest.mark.parametrize("argv", [["--version"], ["boards", "show", "nrf52840dk"],
                                  ["run", "-h"], ["run", "--seed", "x"]])
def test_other_arguments_pass_unchanged(argv, tmp_path):
    assert workspace_argv(argv, Workspace(tmp_path, "qemu_x86"), cwd=tmp_path) == argv
