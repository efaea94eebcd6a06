"""The simulated console: printk and the logging subsystem's default line format.

Facts: subsys/logging/log_output.c prints ``[hh:mm:ss.mmm,uuu] <lvl> module: message`` with
timestamps on and colours off; subsys/logging/log_core.c ``log_core_init`` timestamps with
the uptime in ms when the hardware cycle counter runs faster than 1 MHz, else with the cycle
counter at its own frequency; ``CONFIG_LOG_FUNC_NAME_PREFIX_DBG`` (default y) prefixes debug
messages with the function name; ``CONFIG_LOG_DEFAULT_LEVEL`` (default 3, INF) filters.
"""

from __future__ import annotations

import io

import pytest

from zsim import K_TICKS, Kernel
from zsim.kernel.console import format_timestamp

BANNER = "*** Booting Zephyr OS build v3.7.0 ***"


def after_banner(k: Kernel) -> list[str]:
    """The console of a kernel that booted: the boot banner first, then the rest."""
    lines = list(k.console)
    assert lines[0] == BANNER
    return lines[1:]


def test_log_lines_use_zephyrs_default_format_and_virtual_time() -> None:
    k = Kernel("native_sim")              # 1 MHz cycle counter: µs resolution
    log = k.log_module("app")

    def body() -> None:
        log.inf("hello")
        k.msleep(10)                      # 1 tick + the extra tick: 20 ms
        log.wrn("x=%d", 5)
        k.busy_wait(1234)
        log.err("failed: %s", "EIO")

    k.call(body)
    assert after_banner(k) == [
        "[00:00:00.000,000] <inf> app: hello",
        "[00:00:00.020,000] <wrn> app: x=5",
        "[00:00:00.021,234] <err> app: failed: EIO",
    ]


def test_timestamps_from_a_32768_hz_cycle_counter() -> None:
    k = Kernel("nrf52840dk/nrf52840", costs="zero")
    log = k.log_module("radio")

    def body() -> None:
        k.sleep(K_TICKS(32))              # 33 RTC cycles
        log.inf("a")
        k.sleep(K_TICKS(32768 * 61 - 34))  # to 61 s
        log.inf("b")

    k.call(body)
    # 33 cycles: 1 ms and (1000 * 232) // 32768 = 7 µs.
    assert after_banner(k) == ["[00:00:00.001,007] <inf> radio: a",
                               "[00:01:01.000,000] <inf> radio: b"]


def test_fast_cycle_counters_timestamp_in_milliseconds() -> None:
    k = Kernel("nucleo_f401re", costs="zero")   # 84 MHz > 1 MHz: k_uptime_get()
    log = k.log_module("app")

    def body() -> None:
        k.busy_wait(1999)
        log.inf("x")

    k.call(body)
    assert after_banner(k) == ["[00:00:00.001,000] <inf> app: x"]


def test_format_timestamp_splits_hours_minutes_seconds() -> None:
    assert format_timestamp(3_723_004_005, 1_000_000) == "[01:02:03.004,005]"
    assert format_timestamp(1500, 1000) == "[00:00:01.500,000]"


def test_debug_lines_carry_the_function_name_and_default_level_hides_them() -> None:
    k = Kernel(config={"LOG_DEFAULT_LEVEL": 4})
    shown = k.log_module("app")
    quiet = Kernel().log_module("app")    # default level 3 (INF)

    def handler_fn() -> None:
        shown.dbg("value %d", 7)
        quiet.dbg("never")

    handler_fn()
    assert list(shown.kernel.console) == ["[00:00:00.000,000] <dbg> app: handler_fn: value 7"]
    assert list(quiet.kernel.console) == []


@pytest.mark.parametrize(("level", "tags"), [
    (0, []), (1, ["err"]), (2, ["err", "wrn"]), (3, ["err", "wrn", "inf"]),
    (4, ["err", "wrn", "inf", "dbg"]),
])
def test_log_default_level_filters(level: int, tags: list[str]) -> None:
    k = Kernel(config={"LOG_DEFAULT_LEVEL": level})
    log = k.log_module("m")
    log.err("e"), log.wrn("w"), log.inf("i"), log.dbg("d")
    assert [line.split("<")[1][:3] for line in k.console] == tags


def test_module_level_overrides_the_default_and_log_n_silences() -> None:
    k = Kernel(config={"LOG_DEFAULT_LEVEL": 1})
    chatty = k.log_module("chatty", level=3)
    chatty.inf("seen")
    k.log_module("other").inf("hidden")
    assert list(k.console) == ["[00:00:00.000,000] <inf> chatty: seen"]

    off = Kernel(config={"LOG": False})
    off.log_module("m", level=4).err("nothing")
    off.printk("printk still works\n")
    assert list(off.console) == ["printk still works"]


def test_printk_partial_lines_and_formatting() -> None:
    k = Kernel(config={"BOOT_BANNER": False})
    k.printk("a=%d, ", 1)
    k.printk("b=%s\r\n", "two")
    k.printk("tail")
    assert list(k.console) == ["a=1, b=two"]
    assert k.console.partial == "tail"
    k.run()                               # the end of a run flushes the UART
    assert list(k.console) == ["a=1, b=two", "tail"]
    assert k.console.text == "a=1, b=two\ntail"


def test_console_echo_and_subscribers() -> None:
    out = io.StringIO()
    k = Kernel(echo=out)
    seen: list[str] = []
    k.console.subscribe(seen.append)
    k.printk("one\ntwo\n")
    k.console.unsubscribe(seen.append)
    k.printk("three\n")
    assert out.getvalue() == "one\ntwo\nthree\n"
    assert seen == ["one", "two"]
    assert list(k.console) == ["one", "two", "three"]


def test_printk_and_logs_interleave_in_order() -> None:
    k = Kernel()
    log = k.log_module("main")

    @k.thread(name="a", priority=1)
    def a() -> None:
        k.printk("boot\n")
        k.msleep(10)
        log.inf("a woke")

    @k.thread(name="b", priority=2)
    def b() -> None:
        log.inf("b ran")

    k.run()
    assert after_banner(k) == ["boot", "[00:00:00.000,000] <inf> main: b ran",
                               "[00:00:00.020,000] <inf> main: a woke"]


def test_boot_banner_as_kernel_banner_c_prints_it() -> None:
    """kernel/banner.c: ``*** CONFIG_BOOT_BANNER_STRING BANNER_VERSION BANNER_POSTFIX ***``,
    after a ``BOOT_DELAY`` busy wait and its notice; printed once, before main."""
    k = Kernel("native_sim", config={"BOOT_DELAY": 5, "BOOT_BANNER_STRING": "Booting MyCo"})
    k.call(lambda: k.printk("main at %d us\n", k.cycle_get()))
    k.call(lambda: None)
    assert list(k.console) == ["***** delaying boot 5ms (per build configuration) *****",
                               "*** Booting MyCo v3.7.0 (delayed boot 5ms) ***",
                               "main at 5000 us"]      # native_sim: 1 MHz cycle counter
    quiet = Kernel("native_sim", config={"BOOT_BANNER": False})
    quiet.call(lambda: quiet.printk("main\n"))
    assert list(quiet.console) == ["main"]
