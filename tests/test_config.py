"""Kconfig handling: defaults, prj.conf syntax, mapping input, errors and warnings."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from zsim.boards import load_board
from zsim.config import SYMBOLS, Config, KconfigWarning, load_config, parse_prj_conf
from zsim.errors import ConfigError


@pytest.fixture(autouse=True)
def _no_user_board_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZSIM_BOARD_DIR", raising=False)


def _conf(tmp_path: Path, text: str, name: str = "prj.conf") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _quiet(config: object, board: object = None) -> Config:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", KconfigWarning)
        return load_config(config, board)  # type: ignore[arg-type]


# --- defaults ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "value"),
    [
        # packet_io module Kconfig
        ("PACKET_IO", True),
        ("PACKET_IO_STATS", False),
        ("PACKET_IO_NAMES", False),
        ("PACKET_IO_RUNTIME_OBSERVERS", False),
        ("PACKET_IO_RUNTIME_STACK_CHECK", False),
        ("PACKET_IO_PRIORITY", 99),
        ("PACKET_IO_LOG_LEVEL", 3),
        # subsys/debug/Kconfig: ASSERT defaults to y only with TEST; SPIN_VALIDATE needs ASSERT
        ("ASSERT", False),
        ("SPIN_VALIDATE", False),
        ("PRINTK", True),
        ("DEBUG", False),
        # net_buf Kconfig
        ("NET_BUF", True),
        ("NET_BUF_POOL_USAGE", False),
        ("NET_BUF_LOG", False),
        # kernel/Kconfig (v3.7). TIMESLICE_SIZE: v3.7 has "default 0"; 20 arrived after v3.7.
        ("TIMESLICING", True),
        ("TIMESLICE_SIZE", 0),
        ("TIMESLICE_PRIORITY", 0),
        ("MAIN_STACK_SIZE", 1024),
        ("MAIN_THREAD_PRIORITY", 0),
        ("SYSTEM_WORKQUEUE_PRIORITY", -1),
        ("SYSTEM_WORKQUEUE_STACK_SIZE", 1024),
        ("NUM_COOP_PRIORITIES", 16),
        ("NUM_PREEMPT_PRIORITIES", 15),
        ("THREAD_NAME", False),
        ("THREAD_STACK_INFO", False),
        ("POLL", False),
        ("HEAP_MEM_POOL_SIZE", 0),
        ("ISR_STACK_SIZE", 2048),
        # subsys/logging/Kconfig.filtering and Kconfig.mode
        ("LOG", True),  # zsim's choice (docs/fidelity.md); Zephyr's default is n
        ("LOG_DEFAULT_LEVEL", 3),
        ("LOG_MODE_IMMEDIATE", False),
        # subsys/testsuite/ztest/Kconfig
        ("ZTEST", False),
        ("CONSOLE", True),
    ],
)
def test_zephyr_defaults(symbol: str, value: object) -> None:
    cfg = load_config(None)
    assert cfg[symbol] == value
    assert type(cfg[symbol]) is type(value)


def test_every_known_symbol_has_a_value_on_every_board() -> None:
    for board in ("native_sim", "nrf52840dk", "qemu_x86"):
        cfg = load_config({}, load_board(board))
        for name, sym in SYMBOLS.items():
            expected = {"bool": bool, "int": int, "string": str}[sym.type]
            assert isinstance(cfg[name], expected), name


def test_tick_rate_comes_from_the_board() -> None:
    # kernel/Kconfig: 100 for SOC_POSIX; soc/nordic/Kconfig.defconfig: 32768 (RTC)
    assert load_config(None)["SYS_CLOCK_TICKS_PER_SEC"] == 100
    nrf = load_config(None, load_board("nrf52840dk"))
    assert nrf["SYS_CLOCK_TICKS_PER_SEC"] == 32768
    assert nrf["SYS_CLOCK_HW_CYCLES_PER_SEC"] == 32768
    # an explicit assignment wins over the board's default, as in Kconfig
    assert load_config({"SYS_CLOCK_TICKS_PER_SEC": 1000})["SYS_CLOCK_TICKS_PER_SEC"] == 1000


def test_ztest_enables_assert_and_spin_validation() -> None:
    # ZTEST selects TEST; ASSERT is "default y if TEST"; SPIN_VALIDATE defaults to y under ASSERT
    cfg = load_config({"ZTEST": True})
    assert cfg["TEST"] and cfg["ASSERT"] and cfg["SPIN_VALIDATE"]
    assert cfg["THREAD_MAX_NAME_LEN"] == 64


def test_main_stack_depends_on_arch_under_ztest() -> None:
    # kernel/Kconfig: 512 if ZTEST && !(RISCV || X86 || ARM || ARC)
    assert load_config({"ZTEST": True})["MAIN_STACK_SIZE"] == 512  # native_sim: posix arch
    nrf = load_config({"ZTEST": True}, load_board("nrf52840dk"))
    assert nrf["MAIN_STACK_SIZE"] == 1024


def test_console_and_libc_follow_the_board() -> None:
    native = load_config(None)
    # native_sim: no SERIAL by default, host libc, so no STDOUT_CONSOLE (lib/libc/Kconfig)
    assert not native["SERIAL"] and not native["UART_CONSOLE"]
    assert native["EXTERNAL_LIBC"] and not native["STDOUT_CONSOLE"]
    assert native.errno_flavour == "linux"
    nrf = load_config(None, load_board("nrf52840dk"))
    assert nrf["UART_CONSOLE"] and nrf["PICOLIBC"] and nrf.errno_flavour == "zephyr"
    assert nrf["XIP"] and not native["XIP"]


def test_dependency_unmet_forces_n_with_a_warning() -> None:
    with pytest.warns(KconfigWarning, match="SPIN_VALIDATE=y has no effect.*CONFIG_ASSERT"):
        cfg = load_config({"SPIN_VALIDATE": True})
    assert cfg["SPIN_VALIDATE"] is False
    assert load_config({"ASSERT": True, "SPIN_VALIDATE": True})["SPIN_VALIDATE"] is True


def test_choice_members_exclude_each_other() -> None:
    cfg = load_config({"LOG": True, "LOG_MODE_IMMEDIATE": True})
    assert cfg["LOG_MODE_IMMEDIATE"] and not cfg["LOG_MODE_DEFERRED"]
    assert load_config({"LOG": True})["LOG_MODE_DEFERRED"]
    # subsys/logging/Kconfig.template.log_config: module level choice
    dbg = load_config({"LOG": True, "PACKET_IO_LOG_LEVEL_DBG": True})
    assert dbg["PACKET_IO_LOG_LEVEL"] == 4 and not dbg["PACKET_IO_LOG_LEVEL_DEFAULT"]
    assert dbg["NET_BUF_LOG_LEVEL"] == 3
    libc = load_config({"PICOLIBC": True})
    assert libc["PICOLIBC"] and not libc["EXTERNAL_LIBC"] and libc.errno_flavour == "zephyr"


# --- prj.conf ------------------------------------------------------------------------------

PRJ = """\
# packet_io firmware
CONFIG_PACKET_IO=y
CONFIG_PACKET_IO_STATS=y

# CONFIG_PRINTK is not set
CONFIG_MAIN_STACK_SIZE=2048
CONFIG_SYSTEM_WORKQUEUE_PRIORITY=-2
CONFIG_BOOT_BANNER_STRING="zsim \\"test\\" \\\\ build"
CONFIG_ASSERT=n
CONFIG_LOG=y   \t
"""


def test_prj_conf_every_form(tmp_path: Path) -> None:
    values, warns = parse_prj_conf(_conf(tmp_path, PRJ))
    assert values == {
        "PACKET_IO": True,
        "PACKET_IO_STATS": True,
        "PRINTK": False,
        "MAIN_STACK_SIZE": 2048,
        "SYSTEM_WORKQUEUE_PRIORITY": -2,
        "BOOT_BANNER_STRING": 'zsim "test" \\ build',
        "ASSERT": False,
        "LOG": True,
    }
    assert warns == []


def test_prj_conf_hex_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "prj.conf"
    path.write_bytes(b"CONFIG_MY_ADDR=0x2000\r\nCONFIG_MY_FLAG=y\r\n")
    values, _ = parse_prj_conf(path)
    assert values == {"MY_ADDR": 0x2000, "MY_FLAG": True}


def test_load_config_from_prj_conf(tmp_path: Path) -> None:
    path = _conf(tmp_path, PRJ)
    cfg = load_config(path, load_board("nrf52840dk"))
    assert cfg.source == str(path)
    assert cfg["PACKET_IO_STATS"] is True and cfg.enabled("PACKET_IO_STATS")
    assert cfg["PRINTK"] is False and not cfg.enabled("PRINTK")
    assert cfg["MAIN_STACK_SIZE"] == 2048
    assert cfg["TIMESLICE_SIZE"] == 0  # untouched symbols keep their default
    assert cfg.assigned["LOG"] is True and "TIMESLICE_SIZE" not in cfg.assigned
    assert load_config(str(path))["LOG"] is True


def test_later_assignment_wins(tmp_path: Path) -> None:
    path = _conf(tmp_path, "CONFIG_MAIN_STACK_SIZE=512\nCONFIG_MAIN_STACK_SIZE=4096\n")
    with pytest.warns(KconfigWarning, match="set more than once") as record:
        cfg = load_config(path)
    assert (record[0].filename, record[0].lineno) == (str(path), 2)  # at the line, not in zsim
    assert cfg["MAIN_STACK_SIZE"] == 4096
    path2 = _conf(tmp_path, "CONFIG_ASSERT=y\n# CONFIG_ASSERT is not set\n", "b.conf")
    assert _quiet(path2)["ASSERT"] is False


def test_unknown_symbol_is_kept_and_warned_with_file_and_line(tmp_path: Path) -> None:
    path = _conf(tmp_path, "CONFIG_PACKET_IO=y\n\nCONFIG_FOO_BAR=7\n")
    values, warns = parse_prj_conf(path)
    assert values["FOO_BAR"] == 7
    assert warns == [f"{path}:3: unknown symbol CONFIG_FOO_BAR"]
    with pytest.warns(KconfigWarning, match="^unknown symbol CONFIG_FOO_BAR$") as record:
        cfg = load_config(path)
    assert (record[0].filename, record[0].lineno) == (str(path), 3)
    assert cfg["FOO_BAR"] == 7 and cfg.enabled("FOO_BAR")
    assert cfg.warnings == warns


def test_realistic_prj_conf_has_no_spurious_warnings(tmp_path: Path) -> None:
    text = "\n".join(
        [
            "CONFIG_PACKET_IO=y",
            "CONFIG_PACKET_IO_STATS=y",
            "CONFIG_PACKET_IO_NAMES=y",
            "CONFIG_PACKET_IO_RUNTIME_OBSERVERS=y",
            "CONFIG_NET_BUF=y",
            "CONFIG_NET_BUF_POOL_USAGE=y",
            "CONFIG_LOG=y",
            "CONFIG_LOG_DEFAULT_LEVEL=3",
            "CONFIG_LOG_MODE_IMMEDIATE=y",
            "CONFIG_PACKET_IO_LOG_LEVEL_DBG=y",
            "CONFIG_CONSOLE=y",
            "CONFIG_SERIAL=y",
            "CONFIG_UART_CONSOLE=y",
            "CONFIG_STDOUT_CONSOLE=y",
            "CONFIG_PRINTK=y",
            "CONFIG_MAIN_STACK_SIZE=2048",
            "CONFIG_HEAP_MEM_POOL_SIZE=4096",
            "CONFIG_DEBUG=n",
            "CONFIG_THREAD_NAME=y",
            "CONFIG_THREAD_STACK_INFO=y",
            "CONFIG_ASSERT=y",
            "CONFIG_ZTEST=y",
            "CONFIG_POLL=y",
            "CONFIG_UART_INTERRUPT_DRIVEN=y",
            "CONFIG_SYSTEM_WORKQUEUE_STACK_SIZE=2048",
            "CONFIG_DEBUG_OPTIMIZATIONS=y",
            "",
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", KconfigWarning)
        cfg = load_config(_conf(tmp_path, text), load_board("nrf52840dk"))
    assert cfg.warnings == []
    assert cfg["PACKET_IO_LOG_LEVEL"] == 4 and not cfg["SIZE_OPTIMIZATIONS"]


@pytest.mark.parametrize(
    ("line", "hint"),
    [
        ("CONFIG_PACKET_IO = y", "no spaces around '='"),
        ("CONFIG_PACKET_IO= y", ""),
        ("  CONFIG_PACKET_IO=y", "no spaces"),
        ("PACKET_IO=y", ""),
        ("CONFIG_PACKET_IO=y # enable", "comments must be on their own line"),
        ("CONFIG_PACKET_IO=", "must be y, n, a number"),
        ("CONFIG_PACKET_IO=m", "no loadable modules"),
        ("CONFIG_MY_NAME=unquoted", "double-quoted string"),
        ('CONFIG_MY_NAME="unterminated', ""),
        ("just some text", ""),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, line: str, hint: str) -> None:
    path = _conf(tmp_path, f"# header\nCONFIG_LOG=y\n{line}\n")
    with pytest.raises(ConfigError) as exc:
        parse_prj_conf(path)
    msg = str(exc.value)
    assert msg.startswith(f"{path}:3: expected CONFIG_<NAME>=<value>, got {line!r}")
    assert hint in msg
    with pytest.raises(ConfigError):
        load_config(path)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("CONFIG_ASSERT=5", "CONFIG_ASSERT is a bool symbol: expected y or n, got 5"),
        ('CONFIG_ASSERT="y"', "CONFIG_ASSERT is a bool symbol"),
        ("CONFIG_MAIN_STACK_SIZE=y", "CONFIG_MAIN_STACK_SIZE is an int symbol"),
        ("CONFIG_MAIN_STACK_SIZE=0x400", "expected a decimal integer, got 0x400"),
        ("CONFIG_BOOT_BANNER_STRING=3", "is a string symbol: expected a quoted string"),
        ("CONFIG_LOG_DEFAULT_LEVEL=5", "out of its range 0..4"),
        ("CONFIG_NUM_COOP_PRIORITIES=-1", "out of its range 0..128"),
    ],
)
def test_known_symbol_type_errors_name_file_and_line(
    tmp_path: Path, line: str, expected: str
) -> None:
    path = _conf(tmp_path, f"CONFIG_LOG=y\n{line}\n")
    with pytest.raises(ConfigError, match=re.escape(f"{path}:2: ") + ".*" + re.escape(expected)):
        load_config(path)


def test_not_set_on_a_non_bool_symbol_is_ignored_with_a_warning(tmp_path: Path) -> None:
    path = _conf(tmp_path, "# CONFIG_MAIN_STACK_SIZE is not set\n")
    with pytest.warns(KconfigWarning, match=r"'# CONFIG_MAIN_STACK_SIZE is not set' ignored"):
        cfg = load_config(path)
    assert cfg.warnings[0].startswith(f"{path}:1: ")
    assert cfg["MAIN_STACK_SIZE"] == 1024


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.conf")


# --- mapping input -------------------------------------------------------------------------


def test_mapping_input() -> None:
    cfg = load_config(
        {
            "PACKET_IO_STATS": True,
            "CONFIG_THREAD_NAME": "y",
            "ASSERT": "n",
            "MAIN_STACK_SIZE": 4096,
            "BOOT_BANNER_STRING": "hi",
        }
    )
    assert cfg["PACKET_IO_STATS"] is True
    assert cfg["THREAD_NAME"] is True  # CONFIG_ prefix stripped, "y" -> True
    assert cfg["ASSERT"] is False
    assert cfg["MAIN_STACK_SIZE"] == 4096 and cfg["BOOT_BANNER_STRING"] == "hi"
    assert cfg["CONFIG_THREAD_NAME"] is True  # lookups tolerate the prefix too
    assert cfg.source is None and cfg.warnings == []


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"ASSERT": 5}, "CONFIG_ASSERT is a bool symbol"),
        ({"ASSERT": "yes"}, "CONFIG_ASSERT is a bool symbol"),
        ({"MAIN_STACK_SIZE": "big"}, "CONFIG_MAIN_STACK_SIZE is an int symbol"),
        ({"MAIN_STACK_SIZE": 1.5}, "expected bool, int or str"),
        ({"NOT A NAME": True}, "is not a Kconfig symbol name"),
    ],
)
def test_mapping_type_errors(values: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(expected)):
        load_config(values)


def test_mapping_unknown_symbol_warns() -> None:
    with pytest.warns(KconfigWarning, match="config mapping: unknown symbol CONFIG_MY_OPTION"):
        cfg = load_config({"MY_OPTION": 3})
    assert cfg["MY_OPTION"] == 3


def test_config_passthrough_and_rebinding_to_a_board() -> None:
    cfg = load_config({"ZTEST": True})
    assert load_config(cfg) is cfg
    assert load_config(cfg, cfg.board) is cfg
    nrf = load_config(cfg, load_board("nrf52840dk"))
    assert nrf["SYS_CLOCK_TICKS_PER_SEC"] == 32768 and nrf["ZTEST"] is True
    assert nrf["MAIN_STACK_SIZE"] == 1024 and cfg["MAIN_STACK_SIZE"] == 512


def test_mapping_protocol() -> None:
    cfg = load_config(None)
    assert len(cfg) == len(list(cfg)) >= len(SYMBOLS)
    assert "PACKET_IO" in cfg and "CONFIG_PACKET_IO" in cfg and "NO_SUCH" not in cfg
    with pytest.raises(KeyError):
        cfg["NO_SUCH"]
    assert cfg.enabled("NO_SUCH") is False
    assert dict(cfg)["NET_BUF"] is True


def test_bad_config_argument_type() -> None:
    with pytest.raises(ConfigError, match="config must be"):
        load_config(42)  # type: ignore[arg-type]
