"""Kernel objects: Zephyr's names, semantics and return codes.

Each group cites the Zephyr source it follows: kernel/msg_q.c, kernel/sem.c, kernel/mutex.c,
kernel/queue.c (k_fifo), kernel/timer.c, include/zephyr/spinlock.h, kernel/work.c; waiters
are woken most urgent first, FIFO among equals (kernel/sched.c wait_q ordering); see also
zephyr-reference.md "k_msgq" and "Scheduling".
"""

from __future__ import annotations

import pytest

from zsim import (
    K_FOREVER,
    K_MSEC,
    K_NO_WAIT,
    K_TICKS,
    ContextError,
    Fifo,
    Kernel,
    KernelAssertionError,
    Lifo,
    MsgQ,
    Mutex,
    Sem,
    Spinlock,
    Timer,
    Work,
    WorkDelayable,
    WorkQueue,
    errno,
)

# ---------------------------------------------------------------- k_msgq (kernel/msg_q.c)


def test_msgq_put_get_and_full_and_empty_codes() -> None:
    k = Kernel()
    q = MsgQ(k, "q", 4, 2)

    def body() -> list[object]:
        return [q.put("a"), q.put("b"), q.put("c", K_NO_WAIT), q.num_used_get(),
                q.num_free_get(), q.get(), q.get(), q.get(K_NO_WAIT), q.get(K_MSEC(20)),
                k.uptime_ticks()]

    assert k.call(body) == [0, 0, -errno.ENOMSG, 2, 0, (0, "a"), (0, "b"),
                            (-errno.ENOMSG, None), (-errno.EAGAIN, None), 3]


def test_msgq_put_hands_the_message_to_the_longest_waiting_receiver() -> None:
    k = Kernel()
    q = MsgQ(k, "q", 4, 1)
    got: list[tuple[str, object]] = []

    def receiver(name: str) -> None:
        got.append((name, q.get(K_FOREVER)))

    def body() -> None:
        k.thread_create(receiver, "first", priority=5)
        k.thread_create(receiver, "second", priority=5)
        k.msleep(10)
        assert q.put("m1") == 0 and q.put("m2") == 0
        assert q.num_used_get() == 0      # both went straight to the waiters

    k.call(body, priority=7)
    assert got == [("first", (0, "m1")), ("second", (0, "m2"))]


def test_msgq_most_urgent_receiver_first() -> None:
    k = Kernel()
    q = MsgQ(k, "q", 4, 1)
    got: list[str] = []

    def receiver(name: str) -> None:
        q.get(K_FOREVER)
        got.append(name)

    def body() -> None:
        k.thread_create(receiver, "low", priority=9)
        k.thread_create(receiver, "high", priority=3)
        k.msleep(10)
        q.put(1)
        q.put(2)

    k.call(body, priority=10)
    assert got == ["high", "low"]


def test_msgq_get_moves_a_waiting_senders_message_into_the_ring() -> None:
    k = Kernel()
    q = MsgQ(k, "q", 4, 1)
    results: list[int] = []

    def sender() -> None:
        results.append(q.put("late", K_FOREVER))

    def body() -> list[object]:
        q.put("early")
        k.thread_create(sender, priority=5)
        k.msleep(10)                      # sender pends on the full queue
        first = q.get()
        return [first, q.num_used_get(), q.get()]

    assert k.call(body, priority=7) == [(0, "early"), 1, (0, "late")]
    assert results == [0]


def test_msgq_put_timeout_and_purge() -> None:
    k = Kernel()
    q = MsgQ(k, "q", 4, 1)
    results: list[int] = []

    def sender() -> None:
        results.append(q.put("x", K_FOREVER))

    def body() -> list[int]:
        q.put("fill")
        timed = q.put("y", K_MSEC(20))
        k.thread_create(sender, priority=5)
        k.msleep(10)
        q.purge()                         # waiting senders return -ENOMSG
        return [timed, q.num_used_get()]

    assert k.call(body, priority=7) == [-errno.EAGAIN, 0]
    assert results == [-errno.ENOMSG]


def test_msgq_put_front_and_peek() -> None:
    k = Kernel()
    q = MsgQ(k, "q", 4, 2)
    assert q.peek() == (-errno.ENOMSG, None)
    q.put("b")
    assert q.put_front("a") == 0
    assert q.put_front("z") == -errno.ENOMSG
    assert q.peek() == (0, "a") and q.peek_at(1) == (0, "b")
    assert q.messages() == ["a", "b"] and len(q) == 2


def test_msgq_ring_wraps_around_in_order() -> None:
    """The ring's read position wraps past the last slot; order and counts survive it."""
    k = Kernel()
    q = MsgQ(k, "ring", 4, 3)
    seen = []
    for i in range(10):                 # one in, one out, around the ring three times
        assert q.put(i) == 0 and q.put(i + 100) == 0
        ret, msg = q.get()
        seen.append(msg)
        assert ret == 0 and q.num_used_get() == 1 and q.num_free_get() == 2
        assert q.messages() == [i + 100]
        ret, msg = q.get()
        seen.append(msg)
    assert seen == [v for i in range(10) for v in (i, i + 100)]
    assert q.put_front("x") == 0 and q.put("y") == 0 and q.put_front("w") == 0
    assert q.messages() == ["w", "x", "y"] and q.put("full") == -errno.ENOMSG
    assert [q.peek_at(i)[1] for i in range(3)] == ["w", "x", "y"]
    assert q.high_water == 3
    q.purge()
    assert q.messages() == [] and q.get() == (-errno.ENOMSG, None)


# ------------------------------------------------------------------- k_sem (kernel/sem.c)


def test_sem_codes_and_limit() -> None:
    k = Kernel()
    s = Sem(k, "s", 0, 2)

    def body() -> list[int]:
        out = [s.take(K_NO_WAIT), s.take(K_MSEC(30)), k.uptime_ticks()]
        s.give(), s.give(), s.give()     # the count saturates at the limit
        out += [s.count_get(), s.take(), s.take(), s.take()]
        return out

    assert k.call(body) == [-errno.EBUSY, -errno.EAGAIN, 4, 2, 0, 0, -errno.EBUSY]


def test_sem_init_errors() -> None:
    k = Kernel()
    with pytest.raises(ValueError, match="EINVAL"):
        Sem(k, 2, 1)
    with pytest.raises(ValueError, match="EINVAL"):
        Sem(k, 0, 0)


def test_sem_give_wakes_most_urgent_then_fifo_and_reset_aborts_waiters() -> None:
    k = Kernel()
    s = Sem(k, "s", 0, 10)
    got: list[tuple[str, int]] = []

    def taker(name: str) -> None:
        got.append((name, s.take(K_FOREVER)))

    def body() -> None:
        for name, prio in (("a", 6), ("b", 4), ("c", 6), ("d", 6)):
            k.thread_create(taker, name, priority=prio)
        k.msleep(10)
        s.give()
        s.give()
        s.reset()

    k.call(body, priority=8)
    assert got == [("b", 0), ("a", 0), ("c", -errno.EAGAIN), ("d", -errno.EAGAIN)]


# ------------------------------------------------------------- k_mutex (kernel/mutex.c)


def test_mutex_codes() -> None:
    k = Kernel()
    m = Mutex(k, "m")
    other: list[int] = []

    def contender() -> None:
        other.append(m.lock(K_NO_WAIT))
        other.append(m.lock(K_MSEC(20)))
        other.append(m.unlock())

    def body() -> list[int]:
        out = [m.unlock(), m.lock(), m.lock(K_NO_WAIT)]    # recursive lock
        t = k.thread_create(contender, priority=5)
        t.join(K_FOREVER)
        out += [m.unlock(), m.unlock(), m.unlock()]
        return out

    assert k.call(body, priority=7) == [-errno.EINVAL, 0, 0, 0, 0, -errno.EINVAL]
    assert other == [-errno.EBUSY, -errno.EAGAIN, -errno.EPERM]


def test_mutex_priority_inheritance_bounds_inversion() -> None:
    k = Kernel(costs="zero")
    m = Mutex(k, "m")
    log: list[str] = []
    prio_seen: list[int] = []

    def low() -> None:
        m.lock(K_FOREVER)
        k.msleep(10)                      # high arrives and blocks on m meanwhile
        prio_seen.append(k.current.priority)
        k.busy_wait(20_000)               # medium is ready but must not run
        log.append("low unlocks")
        m.unlock()
        prio_seen.append(k.current.priority)
        log.append("low done")

    def medium() -> None:
        log.append("medium runs")

    def high() -> None:
        k.msleep(5)
        m.lock(K_FOREVER)
        log.append("high got the mutex")
        k.msleep(20)                      # medium becomes ready while we sleep
        m.unlock()

    k.thread_create(low, priority=10)
    k.thread_create(high, priority=2)
    k.thread_create(medium, priority=5, delay=K_MSEC(15))
    k.run()
    assert prio_seen == [2, 10]           # raised to high's priority, then restored
    assert log == ["low unlocks", "high got the mutex", "medium runs", "low done"]


def test_mutex_inheritance_is_dropped_when_the_waiter_times_out() -> None:
    k = Kernel(costs="zero")
    m = Mutex(k, "m")
    prios: list[int] = []

    def low() -> None:
        m.lock()
        k.msleep(10)
        prios.append(k.current.priority)  # boosted by high's wait
        k.msleep(50)
        prios.append(k.current.priority)  # high gave up: back to 10
        m.unlock()

    def high() -> None:
        k.msleep(5)
        prios.append(m.lock(K_MSEC(20)))

    k.thread_create(low, priority=10)
    k.thread_create(high, priority=3)
    k.run()
    assert prios == [3, -errno.EAGAIN, 10]


def test_mutex_context_manager_and_ownership_transfer() -> None:
    k = Kernel()
    m = Mutex(k, "m")
    order: list[str] = []

    def waiter() -> None:
        with m:
            order.append("waiter")

    def body() -> None:
        with m:
            k.thread_create(waiter, priority=2)
            order.append("owner")
        order.append("owner released")

    k.call(body, priority=5)
    assert order == ["owner", "waiter", "owner released"]
    assert m.owner is None and m.lock_count == 0


# --------------------------------------------------------------- k_fifo (kernel/queue.c)


def test_fifo_order_timeout_and_handoff() -> None:
    k = Kernel()
    f = Fifo(k, "f")
    got: list[object] = []

    def consumer() -> None:
        got.append(f.get(K_FOREVER))

    def body() -> list[object]:
        out = [f.get(K_NO_WAIT), f.get(K_MSEC(10)), k.uptime_ticks()]
        f.put(1), f.put(2)
        out += [f.peek_head(), f.peek_tail(), f.get(), f.get(), f.is_empty()]
        k.thread_create(consumer, priority=3)
        f.put("direct")                   # handed to the waiter; it preempts us
        out.append(list(got))
        return out

    assert k.call(body, priority=5) == [None, None, 2, 1, 2, 1, 2, True, ["direct"]]


def test_fifo_cancel_wait_and_lifo() -> None:
    k = Kernel()
    f = Fifo(k, "f")
    got: list[object] = []

    def consumer() -> None:
        got.append(f.get(K_FOREVER))

    def body() -> list[object]:
        k.thread_create(consumer, priority=3)
        f.cancel_wait()                   # k_fifo_cancel_wait: the waiter gets NULL
        lifo = Lifo(k, "l")
        lifo.put(1), lifo.put(2)
        return [lifo.get(), lifo.get()]

    assert k.call(body, priority=5) == [2, 1]
    assert got == [None]


# --------------------------------------------------------------- k_timer (kernel/timer.c)


def test_timer_one_shot_and_periodic_expiries() -> None:
    k = Kernel(costs="zero")
    ticks: list[int] = []
    t = Timer(k, lambda tm: ticks.append(k.uptime_ticks()), name="t")

    def body() -> list[int]:
        t.start(K_MSEC(30), K_MSEC(20))   # first after 3 ticks, then every 2
        k.msleep(100)
        t.stop()
        return [t.status_get(), t.status_get()]

    status = k.call(body)
    assert ticks == [3, 5, 7, 9, 11]
    assert status == [5, 0]


def test_timer_expiry_runs_in_isr_context_and_may_not_block() -> None:
    k = Kernel(costs="zero")
    seen: list[bool] = []
    sem = Sem(k, "s", 0, 1)

    def expiry(tm: Timer) -> None:
        seen.append(k.in_isr)
        sem.take(K_MSEC(10))              # a blocking call in an ISR

    Timer(k, expiry).start(K_MSEC(10))
    with pytest.raises(ContextError, match="ISR"):
        k.run()
    assert seen == [True]


def test_timer_wakeup_from_isr_runs_the_thread_after_the_interrupt() -> None:
    k = Kernel(costs="zero")
    sem = Sem(k, "s", 0, 1)
    log: list[str] = []

    def expiry(tm: Timer) -> None:
        sem.give()
        log.append("isr continues")       # the woken thread runs after the ISR returns

    def waiter() -> None:
        sem.take(K_FOREVER)
        log.append(f"thread at {k.uptime_ticks()}")

    k.thread_create(waiter, priority=1)
    Timer(k, expiry).start(K_MSEC(50))
    k.run()
    assert log == ["isr continues", "thread at 5"]


def test_timer_stop_fn_and_status_sync() -> None:
    k = Kernel(costs="zero")
    stopped: list[str] = []
    t = Timer(k, None, lambda tm: stopped.append("stop"))

    def body() -> list[int]:
        t.start(K_MSEC(40))
        synced = t.status_sync()          # blocks until the expiry
        at = k.uptime_ticks()
        t.start(K_MSEC(40))
        t.stop()
        t.stop()                          # not running: stop_fn not called again
        return [synced, at, t.remaining_ticks()]

    assert k.call(body) == [1, 4, 0]
    assert stopped == ["stop"]


# ------------------------------------------------------ k_spinlock (include/zephyr/spinlock.h)


def test_spinlock_validation_with_assert() -> None:
    k = Kernel(config={"ASSERT": True})
    lock = Spinlock(k, "l")

    def body() -> None:
        key = lock.lock()
        try:
            lock.lock()
        finally:
            lock.unlock(key)

    with pytest.raises(KernelAssertionError, match="Invalid spinlock"):
        k.call(body)


def test_blocking_under_a_spinlock_asserts_with_assert_y() -> None:
    k = Kernel(config={"ASSERT": True})
    lock = Spinlock(k, "l")
    sem = Sem(k, "s", 0, 1)

    def body() -> None:
        with lock:
            sem.take(K_MSEC(10))

    with pytest.raises(KernelAssertionError, match="Context switching while holding lock"):
        k.call(body)

    k2 = Kernel(config={"ASSERT": True})
    lock2 = Spinlock(k2)

    def sleeper() -> None:
        with lock2:
            k2.msleep(1)

    with pytest.raises(KernelAssertionError, match="holding lock"):
        k2.call(sleeper)


def test_blocking_under_a_spinlock_without_assert_is_not_checked() -> None:
    k = Kernel(config={"ASSERT": False})
    lock = Spinlock(k)

    def body() -> int:
        with lock:
            k.msleep(10)
        return k.uptime_ticks()

    assert k.call(body) == 2


def test_unlock_of_a_lock_not_held_asserts() -> None:
    k = Kernel(config={"ASSERT": True}, costs="zero")
    lock = Spinlock(k, "l")
    with pytest.raises(KernelAssertionError, match="Not my spinlock l"):
        k.call(lock.unlock)

    k2 = Kernel(config={"ASSERT": True}, costs="zero")
    lock2 = Spinlock(k2, "l2")

    def holder() -> None:
        lock2.lock()                      # held by a thread that then exits, unlocked
    k2.call(holder)
    Timer(k2, lambda tm: lock2.unlock()).start(K_MSEC(10))   # an ISR is not the owner
    with pytest.raises(KernelAssertionError, match="Not my spinlock l2"):
        k2.run()


# ------------------------------------------------------------- work queues (kernel/work.c)


def test_system_work_queue_runs_submitted_work_in_its_thread() -> None:
    k = Kernel()
    ran: list[tuple[str, int]] = []
    w = Work(k, lambda work: ran.append((k.current.name, k.current.priority)))

    def body() -> list[int]:
        codes = [w.submit()]             # the work queue (prio -1) preempts us at once
        codes.append(w.submit())
        codes.append(w.submit())
        return codes

    assert k.call(body, priority=5) == [1, 1, 1]
    assert ran == [("sysworkq", -1)] * 3


def test_work_submit_codes() -> None:
    k = Kernel()
    codes: list[int] = []

    def handler(work: Work) -> None:
        if len(codes) == 1:
            codes.append(work.submit())   # while running: queued again (2)
            codes.append(work.submit())   # already queued (0)
        else:
            codes.append(-1)              # the second run

    w = Work(k, handler)

    def body() -> None:
        codes.append(w.submit())
        k.yield_()

    k.call(body, priority=-5)            # cooperative: the work queue waits for us
    k.run()
    assert codes == [1, 2, 0, -1]


def test_work_submitted_from_a_timer_isr() -> None:
    k = Kernel(costs="zero")
    ran: list[int] = []
    w = Work(k, lambda work: ran.append(k.uptime_ticks()))
    Timer(k, lambda tm: w.submit()).start(K_MSEC(30))
    k.run()
    assert ran == [3]


def test_delayable_work_schedule_reschedule_cancel() -> None:
    k = Kernel(costs="zero")
    ran: list[int] = []
    dw = WorkDelayable(k, lambda work: ran.append(k.uptime_ticks()))

    def body() -> list[int]:
        codes = [dw.schedule(K_MSEC(50)), dw.schedule(K_MSEC(10))]  # 1, then 0
        k.msleep(20)
        codes.append(dw.reschedule(K_MSEC(50)))                      # restarts the delay
        k.msleep(100)
        codes.append(dw.schedule(K_MSEC(30)))
        codes.append(dw.cancel())                                      # 0: nothing busy
        k.msleep(100)
        return codes

    assert k.call(body) == [1, 0, 1, 1, 0]
    # reschedule at tick 3 with 5 ticks: the extra tick of z_add_timeout -> tick 9.
    assert ran == [9]


def test_user_work_queue_and_flush() -> None:
    k = Kernel(costs="zero")
    q = WorkQueue(k, "my_wq")
    q.start(priority=3)
    ran: list[str] = []

    def handler(work: Work) -> None:
        k.msleep(20)
        ran.append(k.current.name)

    w = Work(k, handler)

    def body() -> list[object]:
        out = [w.submit(q), w.is_pending()]
        out.append(w.flush())
        out += [w.is_pending(), k.uptime_ticks()]
        return out

    assert k.call(body, priority=5) == [1, True, True, False, 3]
    assert ran == ["my_wq"]


def test_work_on_a_queue_never_started_is_enodev() -> None:
    k = Kernel()
    q = WorkQueue(k, "idle_wq")
    assert Work(k, lambda w: None).submit(q) == -errno.ENODEV


def test_sleep_ticks_in_a_work_handler_uses_the_tick_rate() -> None:
    k = Kernel("nrf52840dk/nrf52840", costs="zero")
    ran: list[int] = []

    def handler(work: Work) -> None:
        k.sleep(K_TICKS(9))
        ran.append(k.uptime_ticks())

    Work(k, handler).submit()
    k.run()
    assert ran == [10]


def test_cooperative_owner_keeps_the_cpu_when_unlocking_to_a_more_urgent_waiter() -> None:
    # kernel/mutex.c k_mutex_unlock readies the new owner and calls z_reschedule, which
    # never preempts a cooperative thread (kernel/sched.c should_preempt).
    k = Kernel(costs="zero")
    m = Mutex(k, "m")
    log: list[str] = []

    def owner() -> None:
        m.lock()
        k.msleep(10)                      # the waiter arrives and boosts us to -3
        log.append(f"owner prio {k.current.priority}")
        m.unlock()
        log.append(f"owner after unlock, prio {k.current.priority}")
        k.yield_()
        log.append("owner after yield")

    def waiter() -> None:
        k.msleep(5)
        m.lock()
        log.append("waiter owns")
        m.unlock()

    k.thread_create(owner, priority=-1)
    k.thread_create(waiter, priority=-3)
    k.run()
    assert log == ["owner prio -3", "owner after unlock, prio -1", "waiter owns",
                   "owner after yield"]


def test_uncontended_unlock_is_not_a_reschedule_point_for_a_cooperative_thread() -> None:
    k = Kernel()
    m = Mutex(k, "m")
    sem = Sem(k, 0, 1)
    lock = Spinlock(k)
    log: list[str] = []

    def urgent() -> None:
        sem.take(K_FOREVER)
        log.append("urgent")

    def body() -> None:
        k.thread_create(urgent, priority=-5)
        k.yield_()
        m.lock()
        with lock:
            sem.give()                    # readied, no switch (interrupts masked)
        m.unlock()                        # k_spin_unlock only: still no switch
        log.append("body continues")

    k.call(body, priority=-1)
    assert log == ["body continues"]


def test_isr_may_use_k_no_wait_but_asserts_on_a_timeout_with_assert_y() -> None:
    k = Kernel(config={"ASSERT": True}, costs="zero")
    sem = Sem(k, "s", 1, 1)
    got: list[int] = []

    def expiry(tm: Timer) -> None:
        got.append(sem.take(K_NO_WAIT))   # allowed in an ISR
        got.append(sem.take(K_NO_WAIT))   # -EBUSY, still no wait
        sem.take(K_MSEC(5))               # __ASSERT(!arch_is_in_isr() || K_NO_WAIT)

    Timer(k, expiry).start(K_MSEC(10))
    with pytest.raises(ContextError, match="arch_is_in_isr"):
        k.run()
    assert got == [0, -errno.EBUSY]


def test_sleep_from_an_isr_is_refused() -> None:
    k = Kernel(costs="zero")
    Timer(k, lambda tm: k.msleep(1)).start(K_MSEC(10))
    with pytest.raises(ContextError, match="ISR"):
        k.run()


def test_work_cancel_while_running_marks_canceling_and_refuses_submit() -> None:
    k = Kernel(costs="zero")
    from zsim.kernel.work import K_WORK_CANCELING, K_WORK_RUNNING
    seen: list[object] = []

    def handler(work: Work) -> None:
        k.msleep(20)                      # cancelled meanwhile
        seen.append(work.busy_get())

    w = Work(k, handler)

    def body() -> list[object]:
        w.submit()                        # the work queue thread starts it and sleeps
        flags = w.cancel()
        codes = [flags, w.submit()]
        codes.append(w.cancel_sync())     # waits for the handler to finish
        codes += [w.busy_get(), w.submit()]
        k.msleep(50)
        return codes

    assert k.call(body, priority=5) == [K_WORK_RUNNING | K_WORK_CANCELING, -errno.EBUSY,
                                        True, 0, 1]
    assert seen == [K_WORK_RUNNING | K_WORK_CANCELING, K_WORK_RUNNING]
