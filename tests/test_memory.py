"""Static RAM budget: objects sized per board ABI and checked like a link step."""

from __future__ import annotations

import pytest

from zsim import K_FOREVER, K_MSEC, Kernel, MsgQ, NetBufPool
from zsim.kernel.memory import Layout, LinkError
from zsim.packet_io import PacketEventQueue, PacketSink, PacketSource, connect


def _topology(k: Kernel, count: int, size: int) -> None:
    NetBufPool(k, "frame_pool", count, size)
    q = PacketEventQueue(k, "rx_queue", size=8)
    src = PacketSource(k, "radio")
    connect(src, PacketSink(k, "rx_sink", lambda s, b: None, queue=q))

    def worker() -> None:
        while True:
            q.process(K_FOREVER)
    k.thread_create(worker, name="worker", stack_size=2048, priority=5)


def test_the_firmware_over_ram_fails_at_the_link_step_on_nrf52840_but_runs_on_native_sim(
) -> None:
    # A pool that fits the nRF52840's 256 KiB on its own (boards/nordic/nrf52840dk/
    # nrf52840dk_nrf52840.yaml: ram 256), but not beside the kernel's stacks and the
    # worker: the link step at boot refuses the whole firmware.
    small = Kernel("nrf52840dk/nrf52840")
    lay = Layout(4, small.config)
    size = (256 * 1024 - small.memory_report().ram_used - lay.fixed_pool(200, 0, 4)) // 200
    _topology(small, 200, size)
    with pytest.raises(LinkError) as err:
        small.run(until=K_MSEC(10))
    msg = str(err.value)
    report = small.memory_report()
    assert report.ram_used > 256 * 1024
    assert f"region 'RAM' overflowed by {report.ram_used - 256 * 1024} bytes" in msg
    assert "frame_pool" in msg.splitlines()[2]      # the biggest user heads the table

    big = Kernel("native_sim")
    _topology(big, 200, size)
    result = big.run(until=K_MSEC(10))
    assert result.reason == "idle"          # booted and ran: only the worker waits
    assert [t.name for t in result.blocked] == ["worker"]


def test_a_pool_layout_matches_what_the_pool_reports() -> None:
    k = Kernel("native_sim/native/64")
    lay = Layout(8, k.config)
    for count, size, ud in ((1, 1, 0), (10, 100, 4), (7, 3, 9)):
        pool = NetBufPool(k, f"p{count}", count, size, ud)
        assert pool.ram_usage(lay)[0].bytes == lay.fixed_pool(count, size, ud)
    q = MsgQ(k, "m", 16, 5)
    assert q.ram_usage(lay)[0].bytes == lay.msgq_ring(16, 5)


def test_sizes_follow_the_pointer_size() -> None:
    # struct net_buf is 20 bytes on ILP32 and 40 on LP64; with 4 bytes of user data the
    # pool's header array grows accordingly (include/zephyr/net/buf.h).
    k32 = Kernel("native_sim")
    k64 = Kernel("native_sim/native/64")
    for k in (k32, k64):
        NetBufPool(k, "p", 10, 100)
    pool32 = next(e for e in k32.memory_report().entries if e.name == "p")
    pool64 = next(e for e in k64.memory_report().entries if e.name == "p")
    assert pool32.detail == "10 x (100 B data + 24 B header)"
    assert pool64.detail == "10 x (100 B data + 48 B header)"
    assert pool64.bytes - pool32.bytes >= 10 * (48 - 24)
    # a k_msgq reserves its ring of max_msgs * msg_size bytes beside the struct
    ring32 = MsgQ(k32, "m", 8, 10).ram_usage(Layout(4, k32.config))[0]
    ring64 = MsgQ(k64, "m", 8, 10).ram_usage(Layout(8, k64.config))[0]
    assert ring32.bytes - Layout(4, k32.config).msgq == 80
    assert ring64.bytes - ring32.bytes == Layout(8, k64.config).msgq - Layout(4, k32.config).msgq


def test_names_and_stats_cost_ram() -> None:
    plain = Kernel("nrf52840dk", config={"PACKET_IO_NAMES": False, "PACKET_IO_STATS": False})
    rich = Kernel("nrf52840dk", config={"PACKET_IO_NAMES": True, "PACKET_IO_STATS": True})
    for k in (plain, rich):
        PacketSource(k, "src")
        PacketSink(k, "sink", None)

    def size(k: Kernel, name: str) -> int:
        return next(e.bytes for e in k.memory_report().entries if e.name == name)

    # packet_source gains a name pointer and two atomic_t counters; packet_sink likewise
    assert size(rich, "src") - size(plain, "src") == 3 * 4
    assert size(rich, "sink") - size(plain, "sink") == 3 * 4


def test_static_connections_are_counted_in_flash() -> None:
    k = Kernel("nrf52840dk")
    src = PacketSource(k, "src")
    for name in ("a", "b", "c"):
        connect(src, PacketSink(k, name, None))
    rep = k.memory_report()
    # three struct packet_connection (source, sink, dnode) in the ROM iterable section
    assert rep.rom_used == 3 * 16
    assert all(e.region == "RAM" for e in rep.entries if e.kind != "packet_connection")


def test_report_includes_kernel_stacks_from_kconfig() -> None:
    k = Kernel("nrf52840dk", config={"MAIN_STACK_SIZE": 4096, "ISR_STACK_SIZE": 1024})
    entries = {e.name: e for e in k.memory_report().entries}
    assert entries["main"].bytes >= 4096
    assert entries["interrupt stack"].bytes == 1024
