"""twister ``filter:`` expressions: precedence, operators, values as a .config holds them."""

from __future__ import annotations

import pytest

from twister_adapter.filter_expr import FilterSyntaxError, evaluate, filter_env, parse_filter

ENV = {"CONFIG_A": "y", "CONFIG_N": "16", "CONFIG_HEX": "0x20", "CONFIG_S": "nrf52840",
       "ARCH": "arm", "PLATFORM": "nrf52840dk/nrf52840"}


@pytest.mark.parametrize("expr, want", [
    ("CONFIG_A", True),
    ("CONFIG_MISSING", False),
    ("not CONFIG_MISSING", True),
    ("CONFIG_A and CONFIG_MISSING", False),
    ("CONFIG_MISSING or CONFIG_A", True),
    ("CONFIG_MISSING and CONFIG_A or CONFIG_A", True),       # and binds tighter than or
    ("CONFIG_MISSING and (CONFIG_A or CONFIG_A)", False),
    ("not CONFIG_A or CONFIG_A", True),                      # not binds tighter than or
    ('CONFIG_A == "y"', True),
    ('CONFIG_A != "y"', False),
    ("CONFIG_N == 16", True),
    ("CONFIG_N > 8 and CONFIG_N <= 16", True),
    ("CONFIG_HEX >= 0x20", True),
    ("CONFIG_HEX < 32", False),
    ("CONFIG_MISSING > 0", False),                           # no value: not a number
    ('ARCH in ["arm", "riscv"]', True),
    ('ARCH in ["x86"]', False),
    ('CONFIG_S : "nrf52.*"', True),
    ('PLATFORM : "native_sim"', False),
    ('dt_compat_enabled("nordic,nrf-uart")', False),
    ('not dt_chosen_enabled("zephyr,console")', True),
])
def test_evaluates_as_twister_does(expr, want):
    assert evaluate(parse_filter(expr), ENV) is want


@pytest.mark.parametrize("expr, msg", [
    ("CONFIG_A and", "expected a symbol at column 13, got the end"),
    ("(CONFIG_A", "expected ')' at column 10, got the end"),
    ("CONFIG_A == ", "expected a string or number at column 13, got the end"),
    ("CONFIG_A $ 3", "unexpected '$' at column 10"),
    ("CONFIG_A CONFIG_B", "expected end at column 10, got 'CONFIG_B'"),
])
def test_syntax_errors_say_where(expr, msg):
    with pytest.raises(FilterSyntaxError, match=msg.replace("(", r"\(").replace(")", r"\)")
                       .replace("$", r"\$")):
        parse_filter(expr)


def test_env_holds_kconfig_as_a_dot_config_does():
    env = filter_env({"PACKET_IO_STATS": True, "PACKET_IO_NAMES": False, "MAIN_STACK_SIZE": 1024,
                      "BOOT_BANNER_STRING": "Booting"}, "posix", "native_sim")
    assert env["CONFIG_PACKET_IO_STATS"] == "y"
    assert "CONFIG_PACKET_IO_NAMES" not in env          # "# CONFIG_... is not set"
    assert env["CONFIG_MAIN_STACK_SIZE"] == "1024"
    assert env["CONFIG_BOOT_BANNER_STRING"] == "Booting"
    assert (env["ARCH"], env["PLATFORM"]) == ("posix", "native_sim")
