"""Board names and board profiles: invalid names and out-of-range numbers are refused,
every problem of a profile listed as file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from zsim import Kernel
from zsim.boards import load_board, shipped_board_dir
from zsim.errors import BoardError


@pytest.fixture(autouse=True)
def _no_user_board_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZSIM_BOARD_DIR", raising=False)


@pytest.mark.parametrize("name,expect", [
    ("", "an empty board name"),
    ("   ", "an empty board name"),
    ("nrf52840 dk", "'nrf52840 dk' is not a board name"),
    ("native_sim\n", "'native_sim\\n' is not a board name"),
    ("/native_sim", "'/native_sim' is not a board name"),
])
def test_invalid_board_names(name: str, expect: str) -> None:
    with pytest.raises(BoardError) as exc:
        load_board(name)
    assert str(exc.value).startswith(expect)
    assert "known boards: native_sim" in str(exc.value)
    with pytest.raises(BoardError):
        Kernel(board=name)


def profile(tmp_path: Path, **changes: str) -> tuple[Path, dict[str, int]]:
    """A copy of qemu_x86's profile with some ``key: value`` lines replaced; the line of
    each changed key."""
    lines = (shipped_board_dir() / "qemu_x86.yaml").read_text(encoding="utf-8").splitlines()
    where = {}
    for i, line in enumerate(lines):
        key = line.split(":", 1)[0].strip()
        if key in changes and not line.startswith(" -"):
            lines[i] = line.split(":", 1)[0] + ": " + changes[key]
            where[key] = i + 1
    assert set(where) == set(changes)
    path = tmp_path / "board.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, where


@pytest.mark.parametrize("key,value,expect", [
    ("ram_kib", "-64", "$.ram_kib: -64 is less than the minimum of 1"),
    ("sys_clock_ticks_per_sec", "0", "$.sys_clock_ticks_per_sec: 0 is less than the minimum"),
    ("cpu_clock_hz", "25000000.0", "$.cpu_clock_hz: expected integer, got 25000000.0"),
    ("sys_clock_ticks_per_sec", "200000000",
     "$.sys_clock_ticks_per_sec: 200000000 ticks per second is faster than the hardware "
     "timer"),
    ("ram_kib", "8388608", "$.ram_kib: 8388608 KiB does not fit the 32-bit address space"),
    ("sem_take", ".nan", "$.costs.sem_take: expected a finite number, got nan"),
    ("thread_switch", ".inf", "$.costs.thread_switch: expected a finite number, got inf"),
])
def test_out_of_range_numbers_name_file_and_line(tmp_path: Path, key: str, value: str,
                                                 expect: str) -> None:
    path, where = profile(tmp_path, **{key: value})
    with pytest.raises(BoardError) as exc:
        load_board(path)
    assert f"{path}:{where[key]}: {expect}" in str(exc.value)


def test_every_problem_of_a_profile_is_listed(tmp_path: Path) -> None:
    path, where = profile(tmp_path, ram_kib="0", flash_kib="-1", sem_take=".nan",
                          pointer_size="3")
    with pytest.raises(BoardError) as exc:
        load_board(path)
    lines = str(exc.value).splitlines()[1:]
    assert [line.split(": ")[0] for line in lines] == [
        f"{path}:{n}" for n in sorted(where.values())]
