"""Zephyr's scheduling rules on the simulated kernel.

Facts: kernel/sched.c (run queue ordered by priority, FIFO among equals; a cooperative
thread -- negative priority -- is never preempted by another thread; a kernel call that
readies a more urgent thread switches to it at once when the caller is preemptible;
``k_yield`` requeues behind equal-priority threads; time slicing), kernel/thread.c
(``k_thread_create`` with a delay uses a timeout, hence the extra tick of kernel/timeout.c),
kernel/init.c (``K_THREAD_DEFINE`` threads start after kernel init), zephyr-reference.md
"Scheduling" and "Time".
"""

from __future__ import annotations

import pytest

from zsim import (
    K_FOREVER,
    K_MSEC,
    K_NO_WAIT,
    K_TICKS,
    ContextError,
    DeadlockError,
    Kernel,
    Sem,
)


def test_equal_priorities_run_in_creation_order() -> None:
    k = Kernel()
    order: list[str] = []
    for name in ("c", "a", "b"):
        k.thread_create(order.append, name, name=name, priority=5)
    k.run()
    assert order == ["c", "a", "b"]


def test_more_urgent_thread_runs_first() -> None:
    k = Kernel()
    order: list[int] = []
    for prio in (7, 3, -2, 0, 12):
        k.thread_create(order.append, prio, priority=prio)
    k.run()
    assert order == [-2, 0, 3, 7, 12]


def test_preemptible_thread_is_preempted_at_once_by_a_wakeup() -> None:
    k = Kernel()
    sem = Sem(k, 0, 1)
    log: list[str] = []

    def urgent() -> None:
        sem.take(K_FOREVER)
        log.append("urgent ran")

    def body() -> None:
        k.thread_create(urgent, priority=2)
        k.yield_()                       # nothing equal is ready: still lets urgent pend
        log.append("giving")
        sem.give()                       # readies prio 2 while we run at prio 5
        log.append("give returned")

    k.call(body, priority=5)
    assert log == ["giving", "urgent ran", "give returned"]


def test_equal_priority_wakeup_does_not_preempt() -> None:
    k = Kernel()
    sem = Sem(k, 0, 1)
    log: list[str] = []

    def peer() -> None:
        sem.take(K_FOREVER)
        log.append("peer ran")

    def body() -> None:
        k.thread_create(peer, priority=5)
        k.yield_()                       # peer runs and pends
        sem.give()
        log.append("give returned")
        k.yield_()
        log.append("after yield")

    k.call(body, priority=5)
    assert log == ["give returned", "peer ran", "after yield"]


def test_cooperative_thread_is_not_preempted_by_a_kernel_call() -> None:
    k = Kernel()
    sem = Sem(k, 0, 1)
    log: list[str] = []

    def urgent() -> None:
        sem.take(K_FOREVER)
        log.append("urgent ran")

    def coop() -> None:
        sem.give()                       # readies prio -5 ...
        log.append("coop continues")     # ... but a cooperative thread keeps the CPU
        k.busy_wait(100)
        log.append("coop still running")
        k.yield_()
        log.append("coop after yield")

    def body() -> None:
        k.thread_create(urgent, priority=-5)
        k.thread_create(coop, priority=-1)

    k.call(body, priority=-10)
    k.run()
    assert log == ["coop continues", "coop still running", "urgent ran", "coop after yield"]


def test_yield_goes_behind_equal_priority_threads_only() -> None:
    k = Kernel()
    log: list[str] = []

    def worker(name: str) -> None:
        log.append(name)
        k.yield_()
        log.append(name + "'")

    def lower() -> None:
        log.append("lower")

    k.thread_create(worker, "x", priority=4)
    k.thread_create(worker, "y", priority=4)
    k.thread_create(lower, priority=9)
    k.run()
    assert log == ["x", "y", "x'", "y'", "lower"]


def test_sleep_lets_lower_priority_threads_run() -> None:
    k = Kernel(costs="zero")
    log: list[tuple[str, int]] = []

    def hi() -> None:
        log.append(("hi", k.uptime_ticks()))
        k.msleep(30)                     # 3 ticks + 1 at 100 Hz
        log.append(("hi", k.uptime_ticks()))

    def lo() -> None:
        log.append(("lo", k.uptime_ticks()))

    k.thread_create(hi, priority=1)
    k.thread_create(lo, priority=10)
    k.run()
    assert log == [("hi", 0), ("lo", 0), ("hi", 4)]


def test_busy_wait_consumes_cpu_and_keeps_lower_threads_out() -> None:
    k = Kernel("nrf52840dk/nrf52840", costs="zero")
    log: list[tuple[str, int]] = []

    def spinner() -> None:
        k.busy_wait(100_000)             # 100 ms: 3276 RTC cycles (rounded down)
        log.append(("spinner", k.cycle_get()))

    def lo() -> None:
        log.append(("lo", k.cycle_get()))

    k.thread_create(spinner, priority=1)
    k.thread_create(lo, priority=2)
    k.run()
    assert log == [("spinner", 3276), ("lo", 3276)]
    cpu = k.cpu_report()
    assert cpu["spinner"] == pytest.approx(3276 / 32768 * 1e6)
    assert cpu["lo"] == 0


def test_busy_wait_is_preempted_by_a_more_urgent_timer_wakeup() -> None:
    k = Kernel(costs="zero")             # 100 Hz ticks
    log: list[tuple[str, int]] = []

    def urgent() -> None:
        k.msleep(20)                     # wakes at tick 3, in the middle of the busy wait
        log.append(("urgent", k.uptime_ticks()))

    def spinner() -> None:
        k.busy_wait(100_000)
        log.append(("spinner", k.uptime_ticks()))

    k.thread_create(urgent, priority=1)
    k.thread_create(spinner, priority=5)
    k.run()
    assert log == [("urgent", 3), ("spinner", 10)]


def test_delayed_start_uses_a_timeout() -> None:
    k = Kernel(costs="zero")
    started: list[int] = []
    t = k.thread_create(lambda: started.append(k.uptime_ticks()), delay=K_MSEC(50))
    assert t.state == "prestart"
    k.run()
    assert started == [6]                # 5 ticks + the extra tick of z_add_timeout


def test_k_forever_delay_waits_for_start() -> None:
    k = Kernel(costs="zero")
    started: list[int] = []
    t = k.thread_create(lambda: started.append(k.uptime_ticks()), delay=K_FOREVER)
    k.run(until=K_MSEC(100))
    assert started == []
    t.start()
    k.run()
    assert started == [10]


def test_static_threads_start_at_boot_in_name_order_after_their_delay() -> None:
    k = Kernel(costs="zero")
    log: list[tuple[str, int]] = []

    @k.thread(name="zeta", priority=3)
    def zeta() -> None:
        log.append(("zeta", k.uptime_ticks()))

    @k.thread(name="alpha", priority=3)
    def alpha() -> None:
        log.append(("alpha", k.uptime_ticks()))

    @k.thread(name="late", priority=0, delay=K_MSEC(20))
    def late() -> None:
        log.append(("late", k.uptime_ticks()))

    assert log == []                     # nothing runs before boot
    k.run()
    assert log == [("alpha", 0), ("zeta", 0), ("late", 3)]
    assert zeta.name == "zeta" and not zeta.alive


def test_thread_created_from_a_thread_preempts_when_more_urgent() -> None:
    k = Kernel()
    log: list[str] = []

    def body() -> None:
        k.thread_create(log.append, "child", priority=1)
        log.append("parent")

    k.call(body, priority=5)
    assert log == ["child", "parent"]


def test_call_returns_the_result_and_propagates_exceptions_naming_the_thread() -> None:
    k = Kernel()
    assert k.call(lambda a, b: a + b, 2, 3) == 5

    def boom() -> None:
        raise ValueError("bad packet")

    with pytest.raises(ValueError, match=r"\[in thread 'boom'\] bad packet"):
        k.call(boom)


def test_exception_in_a_thread_stops_run_and_names_it() -> None:
    k = Kernel()

    @k.thread(name="crasher")
    def crasher() -> None:
        k.msleep(10)
        raise RuntimeError("oops")

    with pytest.raises(RuntimeError, match="crasher"):
        k.run()


def test_run_until_stops_at_the_duration_and_resumes() -> None:
    k = Kernel(costs="zero")
    ticks: list[int] = []

    @k.thread(name="ticker")
    def ticker() -> None:
        while True:
            k.sleep(K_TICKS(9))          # wakes every 10 ticks
            ticks.append(k.uptime_ticks())

    r = k.run(until=K_MSEC(300))         # 30 ticks: the wake-up due at 30 is left over
    assert r.reason == "until" and r.uptime_ticks == 30
    assert ticks == [10, 20]
    k.run(until=K_MSEC(100))
    assert ticks == [10, 20, 30] and k.uptime_ticks() == 40


def test_run_without_limit_reports_threads_blocked_forever() -> None:
    k = Kernel()
    sem = Sem(k, "never_given", 0, 1)

    @k.thread(name="waiter")
    def waiter() -> None:
        sem.take(K_FOREVER)

    @k.thread(name="sleeper")
    def sleeper() -> None:
        k.msleep(1000)

    r = k.run()
    assert r.reason == "idle"
    assert [t.name for t in r.blocked] == ["waiter"]
    assert r.uptime_ticks == 101          # the sleeper's wake-up still happened
    assert "waiter on Sem 'never_given'" in repr(r)


def test_run_of_an_idle_system_until_a_duration_advances_time() -> None:
    k = Kernel()
    r = k.run(until=K_MSEC(250))
    assert r.reason == "idle" and k.uptime_get() == 250


def test_call_that_can_never_return_is_a_deadlock_error() -> None:
    k = Kernel()
    sem = Sem(k, "s", 0, 1)
    with pytest.raises(DeadlockError, match="Sem 's'"):
        k.call(lambda: sem.take(K_FOREVER))


def test_timeslicing_rotates_equal_priority_busy_threads() -> None:
    k = Kernel(config={"TIMESLICING": True, "TIMESLICE_SIZE": 20}, costs="zero")
    log: list[tuple[str, int]] = []

    def busy(name: str) -> None:
        for _ in range(3):
            k.busy_wait(7_000)           # 0.7 tick
            log.append((name, k.uptime_ticks()))

    k.thread_create(busy, "a", priority=0)
    k.thread_create(busy, "b", priority=0)
    k.run()
    # a's 2-tick slice ends at tick 2 inside its third wait (0.6 of 0.7 done); b runs to
    # tick 4 (its third wait is cut too); a finishes at 4.1, then b at 4.2.
    assert log == [("a", 0), ("a", 1), ("b", 2), ("b", 3), ("a", 4), ("b", 4)]
    assert k.now_us == pytest.approx(42_000)


def test_without_timeslicing_equal_threads_run_to_completion() -> None:
    k = Kernel(config={"TIMESLICE_SIZE": 0}, costs="zero")
    log: list[str] = []

    def busy(name: str) -> None:
        for _ in range(3):
            k.busy_wait(10_000)
            log.append(name)

    k.thread_create(busy, "a", priority=0)
    k.thread_create(busy, "b", priority=0)
    k.run()
    assert log == ["a", "a", "a", "b", "b", "b"]


def test_timeslicing_never_slices_cooperative_threads() -> None:
    k = Kernel(config={"TIMESLICING": True, "TIMESLICE_SIZE": 10}, costs="zero")
    log: list[str] = []

    def busy(name: str) -> None:
        for _ in range(2):
            k.busy_wait(20_000)
            log.append(name)

    k.thread_create(busy, "a", priority=-1)
    k.thread_create(busy, "b", priority=-1)
    k.run()
    assert log == ["a", "a", "b", "b"]


def test_priority_change_requeues_and_preempts() -> None:
    k = Kernel()
    log: list[str] = []

    def body() -> None:
        other = k.thread_create(log.append, "other", priority=8)
        log.append("raise it")
        other.priority = 2               # k_thread_priority_set: now more urgent
        log.append("back")

    k.call(body, priority=5)
    assert log == ["raise it", "other", "back"]


@pytest.mark.parametrize("call", [
    lambda k: k.sleep(K_MSEC(1)), lambda k: k.msleep(1), lambda k: k.usleep(1),
    lambda k: k.yield_(), lambda k: Sem(k, 0, 1).take(K_MSEC(1)),
])
def test_blocking_outside_a_thread_is_refused(call) -> None:
    k = Kernel()
    with pytest.raises(ContextError, match="outside any simulated thread|blocking call"):
        call(k)


def test_non_blocking_calls_work_outside_threads() -> None:
    k = Kernel()
    sem = Sem(k, 1, 1)
    assert sem.take(K_NO_WAIT) == 0
    assert sem.take(K_NO_WAIT) < 0


def test_five_hundred_threads_created_before_boot() -> None:
    # Each thread's first switch starts from the scheduler's own stack, so the number of
    # threads is not bounded by the interpreter's recursion limit.
    k = Kernel(costs="zero")
    done: list[int] = []
    for i in range(500):
        k.thread_create(lambda i=i: (k.msleep(10), done.append(i)), name=f"t{i}",
                        priority=5)
    r = k.run()
    assert r.reason == "idle"
    assert done == list(range(500))


def test_five_hundred_static_threads_and_a_chain_of_wakeups() -> None:
    k = Kernel(costs="zero")
    sems = [Sem(k, 0, 1) for _ in range(501)]
    order: list[int] = []
    for i in range(500):
        def step(i: int = i) -> None:
            sems[i].take(K_FOREVER)
            order.append(i)
            sems[i + 1].give()           # wakes the next one (a new greenlet's first run)
        k.thread(step, name=f"s{i:03d}", priority=3)
    sems[0].give()
    k.run()
    assert order == list(range(500))


def test_cpu_report_keeps_threads_with_the_same_name_apart() -> None:
    k = Kernel(costs="zero")
    for us in (1000, 3000):
        k.thread_create(k.busy_wait, us, name="worker", priority=2)
    k.run()
    rep = k.cpu_report()
    assert rep["worker"] == pytest.approx(1000) and rep["worker#2"] == pytest.approx(3000)
    assert rep["idle"] == 0


def test_wakeup_ends_timed_and_forever_sleeps() -> None:
    # kernel/sched.c: k_sleep returns the ms left (rounded up) when woken early;
    # k_sleep(K_FOREVER) suspends the thread, returns K_TICKS_FOREVER, and k_wakeup resumes a
    # suspended thread that is not pending.
    k = Kernel(costs="zero")
    results: list[tuple[str, int, int]] = []

    def timed() -> None:
        results.append(("timed", k.msleep(1000), k.uptime_ticks()))

    def forever() -> None:
        results.append(("forever", k.sleep(K_FOREVER), k.uptime_ticks()))

    def body() -> None:
        a = k.thread_create(timed, priority=3)
        b = k.thread_create(forever, priority=3)
        k.msleep(250)                     # 26 ticks
        a.wakeup()
        b.wakeup()

    k.call(body, priority=5)
    assert results == [("timed", 740, 26), ("forever", -1, 26)]   # 100 - 26 ticks left


def test_busy_wait_cut_by_the_end_of_a_run_resumes_with_the_rest_of_its_work() -> None:
    k = Kernel(costs="zero")
    done: list[float] = []

    @k.thread(name="spinner", priority=5)
    def spinner() -> None:
        k.busy_wait(25_000)
        done.append(k.now_us)

    k.run(until=K_MSEC(10))
    assert done == [] and k.cpu_report()["spinner"] == pytest.approx(10_000)
    # Between runs the host starts a more urgent thread that takes 5 ms of CPU first.
    k.thread_create(k.busy_wait, 5000, name="urgent", priority=1)
    k.run(until=K_MSEC(100))
    assert done == [pytest.approx(30_000)]
    rep = k.cpu_report()
    assert rep["spinner"] == pytest.approx(25_000) and rep["urgent"] == pytest.approx(5000)
