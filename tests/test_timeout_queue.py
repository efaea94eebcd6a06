"""The timeout queue: expiry order, cancellation, and an expiry that raises.

Zephyr fires the timeouts due at one tick in the order they were added (kernel/timeout.c,
``z_add_timeout`` inserts behind every timeout with the same expiry); zsim's heap orders
timeouts by instant, then by arming order, for that. These checks run on whichever core is
installed (compiled or source); tests/test_compiled_core.py compares the two.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zsim import K_MSEC, K_SECONDS, K_TICKS, Kernel, Timer


def _assert_heap_sound(k: Kernel) -> None:
    """Every queued timeout knows its place and none is before its parent."""
    h = k._heap
    for i, to in enumerate(h):
        assert to.index == i and to.active
        if i:
            up = h[(i - 1) >> 1]
            assert (up.due, up.seq) < (to.due, to.seq)


def _kernel() -> Kernel:
    return Kernel(board="native_sim", config={"SYS_CLOCK_TICKS_PER_SEC": 1000})


def test_timers_due_at_one_tick_fire_in_the_order_they_were_started() -> None:
    k = _kernel()
    fired: list[tuple[str, int]] = []
    names = ["c", "a", "e", "b", "d"]
    timers = {n: Timer(k, lambda tm: fired.append((tm.name, k.uptime_ticks())), name=n)
              for n in names}
    for n in names:                         # all due at tick 5
        timers[n].start(K_TICKS(5))
    early = Timer(k, lambda tm: fired.append((tm.name, k.uptime_ticks())), name="early")
    early.start(K_TICKS(2))                 # started last, due first
    k.run(K_MSEC(20))
    assert fired == [("early", 2)] + [(n, 5) for n in names]


def test_a_cancelled_timeout_does_not_fire_and_the_others_keep_their_order() -> None:
    k = _kernel()
    fired: list[str] = []

    def expire(tm: Timer) -> None:
        fired.append(tm.name)
        if tm.name == "first":
            timers["third"].stop()          # cancelled by an expiry at the same tick

    timers = {n: Timer(k, expire, name=n) for n in ("first", "second", "third", "fourth")}
    for tm in timers.values():
        tm.start(K_TICKS(3))
    timers["second"].stop()                 # cancelled before it is due
    k.run(K_MSEC(10))
    assert fired == ["first", "fourth"]
    assert k._next_event() is None          # nothing left armed


def test_cancelled_timeouts_leave_the_queue_at_once_and_the_live_ones_keep_order() -> None:
    k = _kernel()
    fired: list[int] = []
    timers = [Timer(k, lambda tm: fired.append(tm.user_data)) for _ in range(2000)]
    for i, tm in enumerate(timers):
        tm.user_data = i
        tm.start(K_TICKS(10 + i % 7))
    for i, tm in enumerate(timers):
        if i % 10:                          # cancel nine in ten
            tm.stop()
    assert len(k._heap) == 200              # only the live ones are queued
    _assert_heap_sound(k)
    k.run(K_SECONDS(1))
    live = [i for i in range(2000) if i % 10 == 0]
    # by expiry tick, then in the order they were started
    assert fired == sorted(live, key=lambda i: (i % 7, i))


def test_an_expiry_that_raises_keeps_the_rest_of_its_tick_for_the_next_run() -> None:
    k = _kernel()
    fired: list[str] = []

    def expire(tm: Timer) -> None:
        fired.append(tm.name)
        if tm.name == "bad":
            raise RuntimeError("expiry failed")

    for n in ("one", "bad", "two", "three"):
        Timer(k, expire, name=n).start(K_TICKS(4))
    with pytest.raises(RuntimeError, match="expiry failed"):
        k.run(K_MSEC(10))
    assert fired == ["one", "bad"]
    k.run(K_MSEC(10))
    assert fired == ["one", "bad", "two", "three"]


def test_sleeps_of_many_threads_wake_in_deadline_then_arming_order() -> None:
    k = _kernel()
    woke: list[tuple[str, int]] = []

    def sleeper(name: str, ms: int) -> None:
        k.msleep(ms)
        woke.append((name, k.uptime_ticks()))

    plan = [("t0", 5), ("t1", 3), ("t2", 5), ("t3", 3), ("t4", 1)]
    for name, ms in plan:
        k.thread_create(sleeper, name, ms, name=name, priority=5)
    k.run(K_MSEC(20))
    # k_msleep(n) at 1 kHz wakes at tick n + 1; equal deadlines in the order they slept
    assert woke == [("t4", 2), ("t1", 4), ("t3", 4), ("t0", 6), ("t2", 6)]


def test_a_deadline_beyond_64_bit_time_is_refused_not_wrapped() -> None:
    """Time is a 64-bit count of units, like Zephyr's ``k_ticks_t``: a sleep, a timeout or a
    run end beyond it raises OverflowError naming the limit, and nothing is armed."""
    from zsim import K_HOURS

    k = Kernel(board="nrf52840dk/nrf52840")

    def body() -> list[str]:
        out = []
        for timeout in (K_HOURS(10**9), K_TICKS(2**62)):
            with pytest.raises(OverflowError, match="beyond the time zsim can represent"):
                k.sleep(timeout)
            out.append("refused")
        k.msleep(1)                     # still sleeps normally afterwards
        return out

    assert k.call(body) == ["refused", "refused"]
    with pytest.raises(OverflowError, match="years of uptime"):
        k.run(K_HOURS(10**9))
    assert k._next_event() is None


def test_cancelling_from_an_expiry_at_the_same_tick_leaves_the_queue_sound() -> None:
    """An expiry function that stops hundreds of timers due at its own tick, while that
    tick is being fired, leaves only the later timer queued."""
    k = _kernel()
    fired: list[int] = []
    timers: list[Timer] = []

    def expire(tm: Timer) -> None:
        fired.append(tm.user_data)
        if tm.user_data == 0:
            for other in timers[1:]:
                other.stop()

    for i in range(600):
        tm = Timer(k, expire)
        tm.user_data = i
        tm.start(K_TICKS(5))
        timers.append(tm)
    later = Timer(k, lambda tm: fired.append(-1))
    later.start(K_TICKS(9))
    k.run(K_TICKS(6))
    assert fired == [0] and len(k._heap) == 1
    _assert_heap_sound(k)
    k.run(K_MSEC(20))
    assert fired == [0, -1] and k._heap == [] and k._next_event() is None


def test_a_run_duration_counts_from_the_exact_current_time() -> None:
    """``run(until=duration)`` ends exactly that long after now, even mid-tick."""
    k = _kernel()                       # 1 000 ticks/s
    k.call(k.busy_wait, 1500)           # 1.5 ticks of CPU time
    start = k.now_us
    k.run(K_TICKS(2))
    assert k.now_us - start == pytest.approx(2000.0)
    assert k.uptime_ticks() == 3


_OPS = st.lists(st.one_of(
    st.tuples(st.just("start"), st.integers(0, 23), st.integers(1, 8)),
    st.tuples(st.just("stop"), st.integers(0, 23), st.just(0)),
    st.tuples(st.just("run"), st.just(0), st.integers(0, 4)),
), max_size=80)


@settings(max_examples=300, deadline=None)
@given(_OPS)
def test_timers_fire_as_a_sorted_model_says_whatever_is_started_and_stopped(ops) -> None:
    """Against a model that keeps armed timers as (deadline, arming order): every expiry
    comes at its deadline tick, in that order, and stopped timers never fire."""
    k = _kernel()
    fired: list[tuple[int, int]] = []
    timers = [Timer(k, lambda tm: fired.append((tm.user_data, k.uptime_ticks())))
              for _ in range(24)]
    for i, tm in enumerate(timers):
        tm.user_data = i
    armed: dict[int, tuple[int, int]] = {}      # timer -> (deadline tick, arming order)
    expected: list[tuple[int, int]] = []
    order = 0

    def advance(ticks: int) -> None:
        end = k.uptime_ticks() + ticks
        # (a run ends before the events due at its end: they fire in the next run)
        due = sorted((d, o, i) for i, (d, o) in armed.items() if d < end)
        expected.extend((i, d) for d, _o, i in due)
        for _d, _o, i in due:
            del armed[i]
        k.run(K_TICKS(ticks))

    for op, i, n in ops:
        if op == "start":
            timers[i].start(K_TICKS(n))
            order += 1
            armed[i] = (timers[i]._to.deadline, order)
        elif op == "stop":
            timers[i].stop()
            armed.pop(i, None)
        else:
            advance(n)
        _assert_heap_sound(k)
        assert len(k._heap) == len(armed)
    advance(20)
    assert fired == expected
    assert k._heap == []
