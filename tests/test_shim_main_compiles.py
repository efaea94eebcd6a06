"""The shim's Zephyr platform (src/main.c) compiles: syntax and types, against the
declaration-only stand-in headers in firmware_bridge/shim/tests/stubs (no Zephyr tree)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SHIM = Path(__file__).resolve().parent.parent / "firmware_bridge" / "shim"
STUBS = SHIM / "tests" / "stubs"
BASE = ["-std=gnu11", "-fsyntax-only", "-Wall", "-Wextra", "-Werror",
        "-include", str(STUBS / "autoconf.h"), f"-I{STUBS}", f"-I{SHIM / 'src' / 'core'}"]
VARIANTS = {
    # nrf52840dk on Zephyr 3.7: interrupt-driven UART, printk-hooks.h, wrapped k_msgq_put
    "irq-3.7": ["-DCONFIG_UART_INTERRUPT_DRIVEN=1", "-DCONFIG_SHIM_MSGQ_WRAP=1",
                "-DCONFIG_SHIM_REPORT_WAIT=1", f"-I{SHIM / 'tests' / 'stubs-printk-hooks'}"],
    # native_sim on an older tree: polled UART, no printk-hooks.h, dropped_count diffs
    "polled-3.4": [],
}


def _gcc() -> str:
    for name in ("gcc", "cc"):
        if shutil.which(name):
            return name
    pytest.skip("no C compiler on this machine")


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_main_c_compiles(variant):
    cmd = [_gcc(), *BASE, *VARIANTS[variant], str(SHIM / "src" / "main.c")]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stderr}"


def test_the_check_catches_a_redefinition(tmp_path):
    """A main.c redefining a type of the core must fail (the defect this check guards)."""
    bad = tmp_path / "main.c"
    bad.write_text((SHIM / "src" / "main.c").read_text().replace(
        "/* A connection slot", "struct shim_conn { int x; };\n/* A connection slot", 1))
    r = subprocess.run([_gcc(), *BASE, str(bad)], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "redefinition of 'struct shim_conn'" in r.stderr.replace(
        "\u2018", "'").replace("\u2019", "'")
