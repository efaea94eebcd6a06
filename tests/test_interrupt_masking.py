"""Interrupt masking on one core: a held spinlock defers preemption and timer interrupts.

Facts: zephyr-reference.md "A wake-up does not always preempt": ``z_reschedule(lock, key)``
swaps only when the key shows interrupts were enabled and the caller is not in an ISR
(kernel/sched.c ``resched()``); a spinlock on one core masks interrupts
(include/zephyr/spinlock.h), so timer interrupts falling due meanwhile are taken when it is
released, and a thread readied under it runs at the next reschedule point. The seed's
packet_source_send holds the source's lock while it runs immediate handlers and puts to
packet event queues.
"""

from __future__ import annotations

import pytest

from zsim import (
    K_FOREVER,
    K_MSEC,
    K_NO_WAIT,
    Kernel,
    KernelAssertionError,
    MsgQ,
    NetBufPool,
    Sem,
    Spinlock,
    Timer,
)
from zsim.packet_io import PacketEventQueue, PacketSink, PacketSource, connect


def _urgent_waiter(k: Kernel, sem: Sem, log: list[str]) -> None:
    def urgent() -> None:
        sem.take(K_FOREVER)
        log.append("urgent runs")
    k.thread_create(urgent, priority=1)


def test_wakeup_without_a_lock_preempts_at_once() -> None:
    k = Kernel()
    sem = Sem(k, 0, 1)
    log: list[str] = []

    def body() -> None:
        _urgent_waiter(k, sem, log)
        sem.give()
        log.append("after give")

    k.call(body, priority=5)
    assert log == ["urgent runs", "after give"]


def test_wakeup_under_a_spinlock_waits_for_the_next_reschedule_point() -> None:
    k = Kernel()
    sem = Sem(k, 0, 1)
    lock = Spinlock(k, "l")
    log: list[str] = []

    def body() -> None:
        _urgent_waiter(k, sem, log)
        key = lock.lock()
        sem.give()                        # readies the urgent thread: no switch
        log.append("still under lock")
        lock.unlock(key)                  # unmasking is not a reschedule point by itself
        log.append("after unlock")
        k.yield_()                        # the next reschedule point
        log.append("after yield")

    k.call(body, priority=5)
    assert log == ["still under lock", "after unlock", "urgent runs", "after yield"]


def test_a_later_kernel_call_with_interrupts_enabled_switches() -> None:
    k = Kernel()
    sem, other = Sem(k, 0, 1), Sem(k, 0, 1)
    lock = Spinlock(k)
    log: list[str] = []
    waiting = Sem(k, 0, 1)

    def mid() -> None:
        other.take(K_FOREVER)
        log.append("mid runs")

    def body() -> None:
        _urgent_waiter(k, sem, log)
        k.thread_create(mid, priority=3)
        with lock:
            sem.give()
        log.append("unlocked")
        other.give()                      # a reschedule point: the most urgent runs first
        log.append("done")
        waiting.give()

    k.call(body, priority=5)
    assert log == ["unlocked", "urgent runs", "mid runs", "done"]


def test_timer_expiry_due_under_a_lock_is_taken_at_the_unlock() -> None:
    k = Kernel(costs="zero")              # 100 Hz
    lock = Spinlock(k)
    fired: list[int] = []
    log: list[str] = []
    Timer(k, lambda tm: fired.append(k.uptime_ticks())).start(K_MSEC(30))

    def body() -> None:
        with lock:
            k.busy_wait(55_000)           # the expiry falls due at tick 3, masked
            log.append(f"lock held, fired={fired}")
        log.append(f"unlocked, fired={fired}")

    k.call(body)
    assert log == ["lock held, fired=[]", "unlocked, fired=[5]"]


def test_timer_wakeup_under_a_lock_preempts_at_the_unlock() -> None:
    # The ISR taken at the unlock readies a more urgent thread; the interrupt's exit is a
    # reschedule point with interrupts enabled, so it runs before the unlock returns.
    k = Kernel(costs="zero")
    lock = Spinlock(k)
    sem = Sem(k, 0, 1)
    log: list[str] = []
    Timer(k, lambda tm: sem.give()).start(K_MSEC(20))

    def body() -> None:
        _urgent_waiter(k, sem, log)
        with lock:
            k.busy_wait(50_000)
            log.append("lock held")
        log.append("after unlock")

    k.call(body, priority=5)
    assert log == ["lock held", "urgent runs", "after unlock"]


def test_busy_wait_without_a_lock_is_interrupted_on_time() -> None:
    k = Kernel(costs="zero")
    fired: list[int] = []
    Timer(k, lambda tm: fired.append(k.uptime_ticks())).start(K_MSEC(30))
    k.call(lambda: k.busy_wait(55_000))
    assert fired == [3]


def test_ready_thread_under_lock_is_not_run_when_the_caller_is_cooperative() -> None:
    k = Kernel()
    sem = Sem(k, 0, 1)
    lock = Spinlock(k)
    log: list[str] = []

    def body() -> None:
        _urgent_waiter(k, sem, log)
        with lock:
            sem.give()
        sem.give()                        # coop caller: no preemption even here
        log.append("coop continues")

    k.call(body, priority=-1)
    assert log == ["coop continues"]
    k.run()
    assert log == ["coop continues", "urgent runs"]


# ---------------------------------------------------------------- packet_io's send


def _routing(k: Kernel, processor_prio: int, log: list[str]):
    pool = NetBufPool(k, "pool", 4, 16)
    q = PacketEventQueue(k, "q", size=4)
    src = PacketSource(k, "src")

    def queued(sink, buf) -> None:
        log.append("queued handler")

    def immediate(sink, buf) -> None:
        log.append("immediate handler")

    connect(src, PacketSink(k, "a_queued", queued, queue=q))
    connect(src, PacketSink(k, "b_immediate", immediate))

    def processor() -> None:
        while True:
            q.process(K_FOREVER)

    k.thread_create(processor, name="processor", priority=processor_prio)
    return pool, src


def test_send_defers_the_more_urgent_processor_until_a_reschedule_point() -> None:
    k = Kernel()
    log: list[str] = []
    pool, src = _routing(k, 1, log)

    def body() -> None:
        buf, spare = pool.alloc(K_NO_WAIT), pool.alloc(K_NO_WAIT)
        # The queued sink's processor is readied inside send, under the source's lock,
        # so it does not preempt the sender, not even before the immediate sink.
        assert src.send(buf, K_NO_WAIT) == 2
        log.append("send returned")
        buf.unref()                       # 2 -> 1 (the queue's reference): nothing freed
        log.append("after unref")
        spare.unref()                     # freeing to the pool's LIFO: a reschedule point
        log.append("after free")

    k.call(body, priority=5)
    assert log == ["immediate handler", "send returned", "after unref", "queued handler",
                   "after free"]


def test_plain_msgq_put_preempts_unlike_send() -> None:
    # The contrast: the same wake-up made by a bare k_msgq_put switches at once.
    k = Kernel()
    mq = MsgQ(k, "mq", 8, 4)
    log: list[str] = []

    def processor() -> None:
        mq.get(K_FOREVER)
        log.append("processor")

    def body() -> None:
        k.thread_create(processor, priority=1)
        mq.put("x")
        log.append("put returned")

    k.call(body, priority=5)
    assert log == ["processor", "put returned"]


def test_immediate_handler_wakeup_waits_for_the_end_of_send() -> None:
    k = Kernel()
    pool = NetBufPool(k, "pool", 2, 16)
    src = PacketSource(k, "src")
    sem = Sem(k, 0, 1)
    log: list[str] = []

    def handler(sink, buf) -> None:
        sem.give()
        log.append("handler after give")

    connect(src, PacketSink(k, "imm", handler))

    def body() -> None:
        _urgent_waiter(k, sem, log)
        buf = pool.alloc()
        src.send_consume(buf, K_NO_WAIT)  # the consume's unref is the reschedule point
        log.append("after send_consume")

    k.call(body, priority=5)
    assert log == ["handler after give", "urgent runs", "after send_consume"]


def test_timer_due_during_a_slow_immediate_handler_fires_after_send() -> None:
    k = Kernel(costs="zero")
    pool = NetBufPool(k, "pool", 2, 16)
    src = PacketSource(k, "src")
    fired: list[str] = []
    Timer(k, lambda tm: fired.append("timer")).start(K_MSEC(10))

    def handler(sink, buf) -> None:
        k.busy_wait(40_000)               # well past the timer's tick, interrupts masked
        fired.append("handler done")

    connect(src, PacketSink(k, "slow", handler))

    def body() -> None:
        buf = pool.alloc()
        src.send(buf, K_NO_WAIT)
        fired.append("send returned")
        buf.unref()

    k.call(body)
    assert fired == ["handler done", "timer", "send returned"]


def test_blocking_in_an_immediate_handler_asserts_with_assert_y() -> None:
    k = Kernel(config={"ASSERT": True})
    pool = NetBufPool(k, "pool", 2, 16)
    src = PacketSource(k, "src")
    connect(src, PacketSink(k, "sleepy", lambda sink, buf: k.msleep(1)))

    def body() -> None:
        src.send(pool.alloc(), K_NO_WAIT)

    with pytest.raises(KernelAssertionError, match="holding lock"):
        k.call(body)
