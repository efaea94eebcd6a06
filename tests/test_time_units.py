"""``k_timeout_t`` conversions, the extra tick of relative timeouts, and uptime.

Facts: include/zephyr/sys_clock.h (``Z_TIMEOUT_MS(t)`` is ``k_ms_to_ticks_ceil64(MAX(t, 0))``,
likewise for µs and ns), include/zephyr/sys/time_units.h (the ``_ceil`` helpers round up),
kernel/timeout.c ``z_add_timeout`` (a relative timeout of t ticks expires t + 1 ticks after
the current tick; an absolute one ``max(1, target - now)`` ticks later) and
``k_uptime_get`` (ticks to ms rounding down); zephyr-reference.md "Time".
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zsim import (
    K_FOREVER,
    K_MSEC,
    K_NO_WAIT,
    K_NSEC,
    K_SECONDS,
    K_TICKS,
    K_TICKS_FOREVER,
    K_TIMEOUT_ABS_MS,
    K_TIMEOUT_ABS_TICKS,
    K_USEC,
    Kernel,
)

NRF = "nrf52840dk/nrf52840"       # 32768 ticks/s (nRF RTC)
NUCLEO = "nucleo_f401re"          # 10000 ticks/s (tickless kernel default)


@pytest.mark.parametrize(("board", "tps", "ticks"), [
    (NRF, 32768, 3277),           # ceil(100 * 32768 / 1000) = ceil(3276.8)
    (NUCLEO, 10000, 1000),
    ("native_sim", 100, 10),
])
def test_k_msec_100_rounds_up_per_board(board: str, tps: int, ticks: int) -> None:
    k = Kernel(board)
    assert k.ticks_per_sec == tps
    assert k.ticks_of(K_MSEC(100)) == ticks


@pytest.mark.parametrize(("timeout", "tps", "ticks"), [
    (K_MSEC(1), 32768, 33),       # 32.768 rounds up
    (K_USEC(1), 32768, 1),        # any non-zero duration is at least one tick
    (K_USEC(100), 10000, 1),
    (K_USEC(101), 10000, 2),
    (K_NSEC(1), 100, 1),
    (K_MSEC(10), 100, 1),
    (K_MSEC(11), 100, 2),
    (K_SECONDS(1), 32768, 32768),
    (K_MSEC(-5), 32768, 0),       # MAX(t, 0)
    (K_TICKS(7), 32768, 7),
    (K_NO_WAIT, 32768, 0),
    (K_FOREVER, 32768, K_TICKS_FOREVER),
])
def test_conversions_are_ceilings(timeout, tps: int, ticks: int) -> None:
    assert timeout.ticks(tps) == ticks


@given(ms=st.integers(min_value=0, max_value=10**7),
       tps=st.sampled_from([100, 128, 1000, 10000, 31250, 32768]))
def test_ms_conversion_is_the_exact_ceiling(ms: int, tps: int) -> None:
    # k_ms_to_ticks_ceil64: the smallest tick count at least as long as the duration.
    ticks = K_MSEC(ms).ticks(tps)
    assert Fraction(ticks, tps) >= Fraction(ms, 1000)
    assert ticks == 0 or Fraction(ticks - 1, tps) < Fraction(ms, 1000)


def test_a_zero_duration_is_k_no_wait() -> None:
    assert K_MSEC(0) == K_NO_WAIT
    assert K_USEC(0) == K_NO_WAIT
    assert K_MSEC(1) != K_NO_WAIT
    assert K_SECONDS(2) == K_MSEC(2000)


@pytest.mark.parametrize(("board", "expected"), [(NRF, 3277 + 1), (NUCLEO, 1000 + 1),
                                                 ("native_sim", 10 + 1)])
def test_sleep_observes_the_extra_tick(board: str, expected: int) -> None:
    # z_add_timeout queues a relative timeout with one extra tick, so a k_sleep that starts
    # on a tick boundary lasts exactly ticks + 1.
    k = Kernel(board, costs="zero")

    def body() -> tuple[int, int]:
        start = k.uptime_ticks()
        ret = k.sleep(K_MSEC(100))
        return k.uptime_ticks() - start, ret

    slept, ret = k.call(body)
    assert slept == expected
    assert ret == 0


def test_sleep_ticks_and_msleep_usleep_agree() -> None:
    k = Kernel(NRF, costs="zero")

    def body() -> list[int]:
        out = []
        for fn in (lambda: k.sleep(K_TICKS(5)), lambda: k.msleep(100),
                   lambda: k.usleep(1000)):
            t0 = k.uptime_ticks()
            assert fn() == 0
            out.append(k.uptime_ticks() - t0)
        return out

    # 5 + 1; ceil(3276.8) + 1; ceil(32.768) + 1
    assert k.call(body) == [6, 3278, 34]


def test_absolute_timeouts_wait_until_the_target_tick() -> None:
    k = Kernel(NRF, costs="zero")

    def body() -> list[int]:
        out = []
        k.sleep(K_TIMEOUT_ABS_TICKS(1000))
        out.append(k.uptime_ticks())
        k.sleep(K_TIMEOUT_ABS_TICKS(10))        # in the past: max(1, target - now)
        out.append(k.uptime_ticks())
        k.sleep(K_TIMEOUT_ABS_MS(1000))         # ceil(1000 * 32768 / 1000)
        out.append(k.uptime_ticks())
        return out

    assert k.call(body) == [1000, 1001, 32768]


def test_uptime_get_rounds_down_to_milliseconds() -> None:
    k = Kernel(NRF, costs="zero")

    def body() -> list[tuple[int, int]]:
        seen = []
        for ticks in (31, 0, 32733, 1):         # K_TICKS(0) only yields: no time passes
            k.sleep(K_TICKS(ticks))             # ticks + the extra tick
            seen.append((k.uptime_ticks(), k.uptime_get()))
        return seen

    # 32 ticks = 0.977 ms -> 0; 32766 ticks = 999.94 ms -> 999; 32768 ticks = 1000 ms.
    assert k.call(body) == [(32, 0), (32, 0), (32766, 999), (32768, 1000)]


def test_uptime_starts_at_zero_and_follows_run_until() -> None:
    k = Kernel(NUCLEO)
    assert (k.uptime_ticks(), k.uptime_get()) == (0, 0)
    k.run(until=K_MSEC(250))
    assert (k.uptime_ticks(), k.uptime_get()) == (2500, 250)


def test_tick_rate_override_from_kconfig() -> None:
    # CONFIG_SYS_CLOCK_TICKS_PER_SEC overrides the board's (issue 3 "Kconfig").
    k = Kernel(NRF, config={"SYS_CLOCK_TICKS_PER_SEC": 1000}, costs="zero")
    assert k.ticks_of(K_MSEC(100)) == 100

    def body() -> int:
        k.msleep(100)
        return k.uptime_ticks()

    assert k.call(body) == 101


def test_timeouts_are_not_bound_to_one_tick_rate() -> None:
    # A K_MSEC value is converted by each kernel with its own CONFIG_SYS_CLOCK_TICKS_PER_SEC.
    t = K_MSEC(100)
    assert Kernel(NRF).ticks_of(t) == 3277
    assert Kernel(NUCLEO).ticks_of(t) == 1000
    assert Kernel(NRF).ticks_of(t) == 3277


def test_bad_timeout_arguments_are_rejected() -> None:
    k = Kernel()
    with pytest.raises(TypeError, match="k_timeout_t"):
        k.ticks_of(100)
    with pytest.raises(TypeError, match="K_TICKS"):
        K_TICKS(1.5)
    with pytest.raises(TypeError, match="K_MSEC"):
        K_MSEC("10")
