"""Board profiles: every shipped file validates, names resolve, bad files are reported well."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from zsim.boards import (
    BOARD_SCHEMA,
    COST_KEYS,
    BoardProfile,
    board_dirs,
    known_boards,
    load_board,
    shipped_board_dir,
)
from zsim.errors import BoardError

SHIPPED = sorted(shipped_board_dir().glob("*.yaml"))
REQUIRED = {
    "native_sim",
    "native_sim/native/64",
    "nrf52840dk/nrf52840",
    "qemu_cortex_m3",
    "qemu_x86",
    "nrf5340dk/nrf5340/cpuapp",
    "nucleo_f401re",
}


@pytest.fixture(autouse=True)
def _no_user_board_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZSIM_BOARD_DIR", raising=False)


def _profile_text(identifier: str) -> str:
    return (shipped_board_dir() / (identifier.replace("/", "_") + ".yaml")).read_text()


# --- shipped data ------------------------------------------------------------------------


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(BOARD_SCHEMA)


def test_shipped_directory_is_the_top_level_board_profiles() -> None:
    # Source checkout: the repository's top-level board_profiles/ (SPEC.md section 2).
    assert shipped_board_dir().name == "board_profiles"
    assert shipped_board_dir() == board_dirs()[-1]


def test_required_boards_are_shipped() -> None:
    assert set(known_boards()) >= REQUIRED


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_profile_loads_and_validates(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    jsonschema.validate(data, BOARD_SCHEMA)
    prof = load_board(path)
    assert prof == known_boards()[prof.identifier]
    # File name is the identifier with "/" spelled "_", as in Zephyr's boards/ tree.
    assert path.stem == prof.identifier.replace("/", "_")
    assert set(COST_KEYS) <= set(prof.costs)
    assert prof.costs["copy_bytes_per_cycle"] > 0
    assert prof.sources and prof.path == str(path)
    # Every figure is either cited or explicitly marked as an estimate.
    cited = " ".join(prof.sources)
    for key in ("ram", "flash", "sys_clock_ticks_per_sec", "sys_clock_hw_cycles_per_sec"):
        assert key in cited


def test_aliases_are_unique_across_shipped_boards() -> None:
    owner: dict[str, str] = {}
    for prof in known_boards().values():
        for name in (prof.identifier, *prof.aliases):
            key = name.replace("/", "_")
            assert owner.setdefault(key, prof.identifier) == prof.identifier, name


@pytest.mark.parametrize(
    ("identifier", "ram", "flash", "ticks", "hw", "ptr"),
    [
        # boards/native/native_sim/native_sim.yaml; kernel/Kconfig (100 if SOC_POSIX);
        # boards/native/native_sim/native_sim_defconfig (SYS_CLOCK_HW_CYCLES_PER_SEC=1000000)
        ("native_sim", 65536, 65536, 100, 1_000_000, 4),
        ("native_sim/native/64", 65536, 65536, 100, 1_000_000, 8),
        # boards/nordic/nrf52840dk/nrf52840dk_nrf52840.yaml; soc/nordic/Kconfig.defconfig (32768)
        ("nrf52840dk/nrf52840", 256, 1024, 32768, 32768, 4),
        # boards/nordic/nrf5340dk/nrf5340dk_nrf5340_cpuapp.yaml
        ("nrf5340dk/nrf5340/cpuapp", 448, 1024, 32768, 32768, 4),
        # boards/qemu/cortex_m3/qemu_cortex_m3.yaml; qemu_cortex_m3_defconfig (12 MHz)
        ("qemu_cortex_m3", 64, 256, 100, 12_000_000, 4),
        # boards/qemu/x86/qemu_x86.yaml (no flash key: twister's default 512)
        ("qemu_x86", 3000, 512, 100, 100_000_000, 4),
        # boards/st/nucleo_f401re/nucleo_f401re.yaml and .dts (rcc at 84 MHz)
        ("nucleo_f401re", 96, 512, 10000, 84_000_000, 4),
    ],
)
def test_shipped_figures_match_zephyr(
    identifier: str, ram: int, flash: int, ticks: int, hw: int, ptr: int
) -> None:
    prof = load_board(identifier)
    assert (prof.ram_kib, prof.flash_kib) == (ram, flash)
    assert (prof.ticks_per_sec, prof.hw_cycles_per_sec) == (ticks, hw)
    assert prof.pointer_size == ptr
    assert prof.endianness == "little"


def test_native_sim_models_an_infinitely_fast_cpu() -> None:
    # boards/native/doc/arch_soc.rst: no simulated time passes while code runs.
    prof = load_board("native_sim")
    assert all(prof.costs[k] == 0 for k in COST_KEYS)
    assert prof.costs["copy_bytes_per_cycle"] == float("inf")
    # lib/libc/Kconfig: a native build links the host C library by default.
    assert (prof.libc, prof.errno_flavour) == ("external", "linux")


def test_mcu_boards_use_zephyr_errno_and_xip() -> None:
    for name in ("nrf52840dk/nrf52840", "nrf5340dk/nrf5340/cpuapp", "nucleo_f401re"):
        prof = load_board(name)
        assert prof.errno_flavour == "zephyr"
        assert prof.xip
    assert not load_board("qemu_x86").xip


# --- name resolution ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "identifier"),
    [
        ("nrf52840dk/nrf52840", "nrf52840dk/nrf52840"),
        ("nrf52840dk", "nrf52840dk/nrf52840"),
        ("nrf52840dk_nrf52840", "nrf52840dk/nrf52840"),
        ("nrf5340dk_nrf5340_cpuapp", "nrf5340dk/nrf5340/cpuapp"),
        ("nrf5340dk//cpuapp", "nrf5340dk/nrf5340/cpuapp"),
        ("native_sim_native_64", "native_sim/native/64"),
        ("native_sim//64", "native_sim/native/64"),
        ("native_sim_64", "native_sim/native/64"),
        ("native_sim/native", "native_sim"),
        ("qemu_cortex_m3", "qemu_cortex_m3"),
        ("nucleo_f401re/stm32f401xe", "nucleo_f401re"),
    ],
)
def test_alias_resolution(name: str, identifier: str) -> None:
    assert load_board(name).identifier == identifier


def test_names_are_case_sensitive() -> None:
    with pytest.raises(BoardError):
        load_board("NRF52840DK")


def test_unknown_board_lists_known_ones() -> None:
    with pytest.raises(BoardError) as exc:
        load_board("frdm_k64f")
    msg = str(exc.value)
    assert "frdm_k64f" in msg
    for ident in REQUIRED:
        assert ident in msg


def test_profile_and_paths_are_accepted() -> None:
    prof = load_board("qemu_x86")
    assert load_board(prof) is prof
    path = shipped_board_dir() / "qemu_x86.yaml"
    assert load_board(path) == prof
    assert load_board(str(path)) == prof


def test_profile_is_immutable_and_hashable() -> None:
    prof = load_board("nrf52840dk")
    with pytest.raises(dataclasses.FrozenInstanceError):
        prof.ram_kib = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        prof.costs["thread_switch"] = 1  # type: ignore[index]
    assert hash(prof) == hash(load_board("nrf52840dk"))


def test_with_overrides() -> None:
    prof = load_board("nrf52840dk")
    small = prof.with_overrides(ram_kib=32, costs={**prof.costs, "sem_give": 1})
    assert (small.ram_kib, small.costs["sem_give"]) == (32, 1)
    assert (prof.ram_kib, prof.costs["sem_give"]) == (256, 134)
    with pytest.raises(TypeError):
        small.costs["sem_give"] = 2  # type: ignore[index]
    with pytest.raises(BoardError):
        prof.with_overrides(no_such_field=1)


# --- bad profiles --------------------------------------------------------------------------


def _write_bad(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad_board.yaml"
    path.write_text(text)
    return path


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_wrong_type_names_file_key_and_line(tmp_path: Path) -> None:
    text = _profile_text("nrf52840dk/nrf52840").replace("ram_kib: 256", "ram_kib: lots")
    path = _write_bad(tmp_path, text)
    with pytest.raises(BoardError) as exc:
        load_board(path)
    msg = str(exc.value)
    assert f"{path}:{_line_of(text, 'ram_kib')}: $.ram_kib: expected integer" in msg


def test_nested_value_error_names_file_key_and_line(tmp_path: Path) -> None:
    text = _profile_text("qemu_x86").replace("  sem_take: 53", "  sem_take: -3")
    path = _write_bad(tmp_path, text)
    with pytest.raises(BoardError) as exc:
        load_board(path)
    line = _line_of(text, "sem_take")
    pattern = rf"{re.escape(str(path))}:{line}: \$\.costs\.sem_take: .*minimum"
    assert re.search(pattern, str(exc.value))


def test_missing_and_unknown_keys_are_reported(tmp_path: Path) -> None:
    text = _profile_text("qemu_x86").replace("xip: false", "xip: false\nturbo: true")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("libc:"))
    path = _write_bad(tmp_path, text)
    with pytest.raises(BoardError) as exc:
        load_board(path)
    msg = str(exc.value)
    assert "$.libc: missing required key" in msg
    assert f"{path}:{_line_of(text, 'turbo')}: $.turbo: unknown key" in msg


def test_enum_error_lists_choices(tmp_path: Path) -> None:
    text = _profile_text("qemu_x86").replace("endianness: little", "endianness: middle")
    path = _write_bad(tmp_path, text)
    with pytest.raises(BoardError, match=r"\$\.endianness: expected one of 'little', 'big'"):
        load_board(path)


def test_invalid_yaml_reports_line(tmp_path: Path) -> None:
    path = _write_bad(tmp_path, "identifier: x\naliases: [a\narch: arm\n")
    with pytest.raises(BoardError, match=rf"{re.escape(str(path))}:\d+: invalid YAML"):
        load_board(path)


def test_duplicate_key_is_rejected(tmp_path: Path) -> None:
    text = _profile_text("qemu_x86") + "ram_kib: 1\n"
    path = _write_bad(tmp_path, text)
    with pytest.raises(BoardError, match="duplicate key 'ram_kib'"):
        load_board(path)


def test_bad_file_in_a_board_dir_fails_lookup(tmp_path: Path) -> None:
    _write_bad(tmp_path, "identifier: 3\n")
    with pytest.raises(BoardError, match=r"bad_board\.yaml"):
        known_boards([tmp_path])


# --- user board directories --------------------------------------------------------------


def _user_board(directory: Path, identifier: str, **changes: object) -> Path:
    data = yaml.safe_load(_profile_text("native_sim"))
    data.update(identifier=identifier, **changes)
    path = directory / (identifier.replace("/", "_") + ".yaml")
    path.write_text(yaml.safe_dump(data))
    return path


def test_env_dir_overrides_shipped_board(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _user_board(tmp_path, "native_sim", ram_kib=1)
    monkeypatch.setenv("ZSIM_BOARD_DIR", str(tmp_path))
    assert board_dirs()[0] == tmp_path
    prof = load_board("native_sim")
    assert (prof.ram_kib, prof.path) == (1, str(path))
    assert load_board("nrf52840dk").ram_kib == 256  # the other shipped boards remain


def test_env_dir_adds_boards_and_aliases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _user_board(tmp_path, "my_board/my_soc", aliases=["my_board"])
    other = tmp_path / "second"
    other.mkdir()
    _user_board(other, "other_board")
    monkeypatch.setenv("ZSIM_BOARD_DIR", f"{tmp_path}{os.pathsep}{other}")
    assert load_board("my_board").identifier == "my_board/my_soc"
    assert load_board("my_board_my_soc").identifier == "my_board/my_soc"
    assert load_board("other_board").identifier == "other_board"
    assert {"my_board/my_soc", "other_board"} <= set(known_boards())


def test_extra_dirs_come_before_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_dir, extra_dir = tmp_path / "env", tmp_path / "extra"
    env_dir.mkdir()
    extra_dir.mkdir()
    _user_board(env_dir, "native_sim", ram_kib=2)
    _user_board(extra_dir, "native_sim", ram_kib=3)
    monkeypatch.setenv("ZSIM_BOARD_DIR", str(env_dir))
    assert board_dirs([extra_dir])[:2] == [extra_dir, env_dir]
    assert load_board("native_sim", extra=[extra_dir]).ram_kib == 3
    assert load_board("native_sim").ram_kib == 2


def test_user_alias_overrides_shipped_alias(tmp_path: Path) -> None:
    _user_board(tmp_path, "custom_dk", aliases=["nrf52840dk"])
    assert load_board("nrf52840dk", extra=[tmp_path]).identifier == "custom_dk"
    assert load_board("nrf52840dk").identifier == "nrf52840dk/nrf52840"


def test_duplicate_identifier_in_one_dir_is_an_error(tmp_path: Path) -> None:
    _user_board(tmp_path, "twin")
    (tmp_path / "twin_copy.yaml").write_text((tmp_path / "twin.yaml").read_text())
    with pytest.raises(BoardError, match="already defined"):
        known_boards([tmp_path])


def test_missing_user_dir_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZSIM_BOARD_DIR", str(tmp_path / "nope"))
    with pytest.raises(BoardError, match="does not exist"):
        load_board("native_sim")


def test_profile_object_round_trip() -> None:
    prof = load_board("nucleo_f401re")
    assert isinstance(prof, BoardProfile)
    assert prof.console_uart == "usart2" and prof.console_baud == 115200
    assert prof.cost("thread_switch") == 519.0 and prof.cost("unpriced_op") == 0.0
