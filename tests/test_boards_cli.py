"""``zsim boards``, user profile directories, errno flavours and ``costs: zero`` profiles.

Facts: board yaml ``ram``/``flash`` are KiB (boards/*/*.yaml, twister); errno numbers of
Zephyr's C libraries (lib/libc/minimal/include/errno.h) and of Linux's
(asm-generic/errno-base.h, errno.h); native_sim links the host C library by default in v3.7
(lib/libc/Kconfig: ``default EXTERNAL_LIBC if NATIVE_BUILD && !(NATIVE_LIBRARY &&
NATIVE_LIBC_INCOMPATIBLE)``).
"""

from __future__ import annotations

import errno as host_errno
import re
import sys
from pathlib import Path

import pytest

from zsim import Kernel, Sem, errno
from zsim.boards import ENV_VAR, ZERO_COSTS, load_board, shipped_board_dir
from zsim.cli import main
from zsim.errors import BoardError


@pytest.fixture(autouse=True)
def _wide_clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("COLUMNS", "200")


def _user_board(directory: Path, identifier: str = "my_board/my_soc", **changes: str) -> Path:
    text = (shipped_board_dir() / "nrf52840dk_nrf52840.yaml").read_text()
    text = text.replace("identifier: nrf52840dk/nrf52840", f"identifier: {identifier}")
    text = "\n".join(line for line in text.splitlines()
                     if not line.startswith("  - nrf52840dk"))     # drop the aliases
    text = text.replace("aliases:", "aliases: []")
    for old, new in changes.items():
        assert old in text, old
        text = text.replace(old, new)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / (identifier.replace("/", "_") + ".yaml")
    path.write_text(text + "\n")
    return path


def test_boards_lists_every_profile_with_its_figures(capsys: pytest.CaptureFixture) -> None:
    assert main(["boards"]) == 0
    out = capsys.readouterr().out
    for ident, figures in {"native_sim": ("posix", "100", "65536"),
                           "nrf52840dk/nrf52840": ("arm", "64 MHz", "32768", "256", "1024"),
                           "nucleo_f401re": ("arm", "84 MHz", "10000", "96", "512")}.items():
        row = next(line for line in out.splitlines() if f" {ident} " in line)
        for fig in figures:
            assert fig in row, (ident, fig, row)


def test_boards_show_one_board_by_alias(capsys: pytest.CaptureFixture) -> None:
    assert main(["boards", "show", "nrf52840dk"]) == 0
    out = capsys.readouterr().out
    assert "nrf52840dk/nrf52840" in out
    assert "errno_flavour" in out and "zephyr" in out
    assert "source:" in out and "cost.thread_switch" in out


def test_boards_show_unknown_board_fails_listing_known_ones(
        capsys: pytest.CaptureFixture) -> None:
    assert main(["boards", "show", "no_such_board"]) == 2
    err = capsys.readouterr().err
    assert "unknown board 'no_such_board'" in err and "nrf52840dk/nrf52840" in err
    assert "--board-dir" in err and ENV_VAR in err


def test_board_dir_option_and_environment_variable(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture) -> None:
    _user_board(tmp_path / "opt", "opt_board", **{"ram_kib: 256": "ram_kib: 77"})
    _user_board(tmp_path / "env", "env_board", **{"ram_kib: 256": "ram_kib: 88"})
    assert main(["boards", "--board-dir", str(tmp_path / "opt")]) == 0
    out = capsys.readouterr().out
    assert "opt_board" in out and "env_board" not in out

    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env"))
    assert main(["boards", "--board-dir", str(tmp_path / "opt")]) == 0
    out = capsys.readouterr().out
    assert "opt_board" in out and "env_board" in out
    assert Kernel("env_board").board.ram_kib == 88
    assert Kernel("opt_board", board_dirs=[tmp_path / "opt"]).board.ram_kib == 77


def test_run_takes_board_dir(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _user_board(tmp_path / "boards", "tiny_board", **{"ram_kib: 256": "ram_kib: 2"})
    model = tmp_path / "model.py"
    model.write_text("def main(k):\n    k.printk('hello from %s\\n', k.board.identifier)\n")
    code = main(["run", str(model), "--board", "tiny_board", "--board-dir",
                 str(tmp_path / "boards"), "--duration", "10ms"])
    captured = capsys.readouterr()
    # 2 KiB cannot hold the kernel's own stacks: the link step fails in the linker's words.
    assert code != 0
    assert "region 'RAM' overflowed by" in captured.out + captured.err


def test_malformed_user_profile_names_file_key_and_expectation(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = _user_board(tmp_path, "broken", **{"pointer_size: 4": "pointer_size: 3"})
    assert main(["boards", "--board-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "$.pointer_size: expected one of 4, 8, got 3" in err


# --- errno flavours --------------------------------------------------------------------


def test_zephyr_errno_numbers_from_the_minimal_libc() -> None:
    expected = {"EPERM": 1, "ENOENT": 2, "EAGAIN": 11, "ENOMEM": 12, "EFAULT": 14,
                "EBUSY": 16, "EINVAL": 22, "ENOMSG": 35, "EDEADLK": 45, "EBADMSG": 77,
                "ENOSYS": 88, "ENOBUFS": 105, "ETIMEDOUT": 116, "EALREADY": 120,
                "EMSGSIZE": 122, "EPROTONOSUPPORT": 123, "ENOTSUP": 134, "EILSEQ": 138,
                "EOVERFLOW": 139, "ECANCELED": 140, "ENODEV": 19, "EEXIST": 17}
    assert {name: getattr(errno, name) for name in expected} == expected
    assert errno.EWOULDBLOCK == errno.EAGAIN
    assert len(set(errno.ZEPHYR.values())) == len(errno.ZEPHYR)   # no duplicate numbers


def test_every_errno_zsim_uses_is_defined() -> None:
    root = Path(__file__).resolve().parent.parent
    used = set()
    for sub in ("zsim", "firmware_bridge", "twister_adapter"):
        for path in (root / sub).rglob("*.py"):
            used |= set(re.findall(r"errno\.(E[A-Z0-9]+)", path.read_text()))
    assert used, "the scan found nothing"
    assert sorted(n for n in used if n not in errno.ZEPHYR and n != "EWOULDBLOCK") == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="compares with Linux")
def test_linux_table_matches_the_host() -> None:
    assert {n: v for n, v in errno.LINUX.items() if getattr(host_errno, n, v) != v} == {}


def test_board_errno_flavour_follows_its_libc() -> None:
    native, nrf = load_board("native_sim"), load_board("nrf52840dk")
    assert (native.libc, native.errno_flavour) == ("external", "linux")
    assert native.errno["ENOMSG"] == 42 and nrf.errno["ENOMSG"] == 35
    assert Kernel("native_sim").config.errno_flavour == "linux"
    assert Kernel("native_sim", config={"PICOLIBC": True}).config.errno_flavour == "zephyr"


def test_translation_between_flavours() -> None:
    assert errno.to_flavour(-errno.ENOMSG, "linux") == -42
    assert errno.to_flavour(-errno.EALREADY, "linux") == -114
    assert errno.to_flavour(3, "linux") == 3
    assert errno.from_flavour(-95, "linux") == -errno.ENOTSUP
    assert errno.from_flavour(-42, "linux") == -errno.ENOMSG
    assert errno.to_flavour(-errno.ENOMSG, "zephyr") == -errno.ENOMSG
    with pytest.raises(ValueError, match="errno flavour"):
        errno.numbers("bsd")


def test_simulated_results_use_zephyr_numbers_on_every_board() -> None:
    # SPEC §3.3: negative results are Zephyr's numbers (zsim.errno), native_sim included.
    for board in ("native_sim", "nrf52840dk"):
        k = Kernel(board)
        assert Sem(k, 0, 1).take() == -16 == -errno.EBUSY


def test_errno_flavour_that_contradicts_the_libc_is_rejected(tmp_path: Path) -> None:
    path = _user_board(tmp_path, "odd", **{"errno_flavour: zephyr": "errno_flavour: linux"})
    with pytest.raises(BoardError, match=r"odd\.yaml:\d+: \$\.errno_flavour: expected 'zephyr' "
                                         r"for libc 'picolibc'"):
        load_board(path)


# --- costs: zero -----------------------------------------------------------------------


def test_a_profile_with_costs_zero_is_a_pure_logic_board(tmp_path: Path) -> None:
    text = (shipped_board_dir() / "qemu_x86.yaml").read_text()
    head, _, rest = text.partition("costs:")
    body = rest.split("\nsources:", 1)[1]
    path = tmp_path / "fast.yaml"
    path.write_text(head.replace("identifier: qemu_x86", "identifier: fast_x86")
                    + "costs: zero\nsources:" + body)
    prof = load_board(path)
    assert dict(prof.costs) == dict(ZERO_COSTS)
    k = Kernel(prof)
    assert not k.costs_enabled
    assert not Kernel("qemu_x86", costs="zero").costs_enabled
    assert Kernel("qemu_x86").costs_enabled
