"""CPU cost model: kernel operations and handler work advance virtual time on a board."""

from __future__ import annotations

import pytest

from zsim import K_FOREVER, K_MSEC, K_NO_WAIT, Kernel, NetBufPool, Sem
from zsim.packet_io import PacketEventQueue, PacketSink, PacketSource, connect


def _sem_loop(k: Kernel, n: int) -> float:
    sem = Sem(k, 0, 1)

    def body() -> float:
        for _ in range(n):
            sem.give()
            sem.take(K_NO_WAIT)
        return k.now_us
    return k.call(body)


def test_kernel_operations_cost_board_cycles() -> None:
    k = Kernel("nrf52840dk/nrf52840")
    give, take = k.board.costs["sem_give"], k.board.costs["sem_take"]
    start_switch = k.board.costs["thread_switch"]
    elapsed = _sem_loop(k, 1000)
    expected = (1000 * (give + take) + start_switch) / 64.0   # µs at 64 MHz
    assert elapsed == pytest.approx(expected, rel=1e-6)


def test_costs_zero_is_pure_logic() -> None:
    k = Kernel("nrf52840dk/nrf52840", costs="zero")
    assert _sem_loop(k, 1000) == 0.0
    assert not k.costs_enabled


def test_native_sim_has_no_costs() -> None:
    # The POSIX arch runs code in zero simulated time (board_profiles/native_sim.yaml).
    k = Kernel("native_sim")
    assert not k.costs_enabled
    assert _sem_loop(k, 100) == 0.0


def test_handler_cost_shows_in_the_timeline_and_cpu_report() -> None:
    # A handler that costs 2 ms of CPU on the 64 MHz core delays the next event by 2 ms.
    k = Kernel("nrf52840dk/nrf52840", config={"PACKET_IO_STATS": True}, costs="zero")
    pool = NetBufPool(k, "pool", 4, 32)
    q = PacketEventQueue(k, "q", size=4)
    src = PacketSource(k, "src")
    seen: list[float] = []

    def slow(sink, buf) -> None:
        k.consume_cycles(128_000)          # 2 ms at 64 MHz
        seen.append(k.now_us)

    connect(src, PacketSink(k, "slow", slow, queue=q))

    def worker() -> None:
        while True:
            q.process(K_FOREVER)
    k.thread_create(worker, name="worker", priority=2)

    def producer() -> None:
        for _ in range(3):
            src.send_consume(pool.alloc(K_NO_WAIT), K_NO_WAIT)
    k.thread_create(producer, name="producer", priority=5)
    k.run(until=K_MSEC(20))
    assert seen == pytest.approx([2000.0, 4000.0, 6000.0])
    cpu = k.cpu_report()
    assert cpu["worker"] == pytest.approx(6000.0)
    assert cpu["producer"] == 0.0


def test_costs_can_be_overridden() -> None:
    k = Kernel("nrf52840dk/nrf52840", costs={"sem_give": 640, "sem_take": 0,
                                              "thread_switch": 0})
    assert _sem_loop(k, 10) == pytest.approx(100.0)     # 10 x 640 cycles at 64 MHz


def test_busy_wait_uses_the_hardware_cycle_counter() -> None:
    # k_busy_wait counts hardware cycles (32768 Hz on nRF): 100 µs is 3 cycles, 91.55 µs.
    k = Kernel("nrf52840dk/nrf52840", costs="zero")
    assert k.call(lambda: (k.busy_wait(100), k.now_us)[1]) == pytest.approx(3 / 32768 * 1e6)


def test_bad_costs_value() -> None:
    with pytest.raises(ValueError, match="costs must be"):
        Kernel("native_sim", costs="fast")
