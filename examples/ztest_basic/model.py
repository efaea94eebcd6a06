"""ztest suites for packet_io, run inside the simulated kernel (``harness: ztest``).

The firmware's objects are defined in ``main(k)`` like C globals; the suite's ``setup``
hands them to every test as the fixture. ``ztest.run_all(k)`` is the test's ``main()``.
"""

from __future__ import annotations

from types import SimpleNamespace

from zsim import K_FOREVER, K_MSEC, K_NO_WAIT, Kernel, NetBufPool, errno, ztest
from zsim.packet_io import PacketEventQueue, PacketSink, PacketSource, connect

POOL_COUNT = 4
FW = SimpleNamespace()          # the firmware's globals, filled in by main(k)


def firmware(k: Kernel) -> None:
    """One source delivering to an immediate sink and to a queued sink."""
    FW.k = k
    FW.pool = NetBufPool(k, "test_pool", POOL_COUNT, 64, 4)
    FW.source = PacketSource(k, "test_source")
    FW.seen = {"immediate": [], "queued": []}
    queue = PacketEventQueue(k, "test_queue", 4)

    def immediate(sink: PacketSink, buf) -> None:
        FW.seen["immediate"].append(bytes(buf.data))

    def queued(sink: PacketSink, buf) -> None:
        FW.seen["queued"].append(bytes(buf.data))

    FW.immediate = PacketSink(k, "immediate_sink", immediate)
    FW.queued = PacketSink(k, "queued_sink", queued, queue=queue)
    connect(FW.source, FW.immediate)
    connect(FW.source, FW.queued)

    @k.thread(name="queue_thread", priority=5, stack_size=1024)
    def queue_thread() -> None:
        while True:
            ret = queue.process(K_FOREVER)
            if ret not in (0, -errno.EAGAIN):
                k.printk("queue_thread: process failed: %d\n", ret)


def setup() -> SimpleNamespace:
    return FW


def before(fw: SimpleNamespace) -> None:
    fw.seen["immediate"].clear()
    fw.seen["queued"].clear()


packets = ztest.suite("packet_io_basic", setup=setup, before=before)


@packets.test
def test_send_reaches_every_sink(fw):
    buf = fw.pool.alloc(K_NO_WAIT)
    ztest.zassert_not_null(buf, "pool empty")
    buf.add_mem(b"\x01\x02\x03")
    ret = fw.source.send(buf, K_NO_WAIT)
    buf.unref()
    ztest.zassert_equal(ret, 2, "delivered to %d sinks", ret)
    ztest.zassert_equal(len(fw.seen["immediate"]), 1)
    fw.k.sleep(K_MSEC(10))              # let the queue thread run
    ztest.zassert_equal(len(fw.seen["queued"]), 1)
    ztest.zassert_mem_equal(fw.seen["queued"][0], b"\x01\x02\x03", 3)


@packets.test
def test_pool_exhaustion(fw):
    bufs = [fw.pool.alloc(K_NO_WAIT) for _ in range(POOL_COUNT)]
    ztest.zassert_true(all(b is not None for b in bufs))
    ztest.zassert_is_null(fw.pool.alloc(K_NO_WAIT), "a fifth buffer came from a pool of 4")
    for b in bufs:
        b.unref()
    ztest.zassert_equal(fw.pool.avail_count, POOL_COUNT)


@packets.test
def test_send_consume_frees_buffer(fw):
    buf = fw.pool.alloc(K_NO_WAIT)
    buf.add_mem(b"hello")
    ztest.zassert_equal(fw.source.send_consume(buf, K_NO_WAIT), 2)
    fw.k.sleep(K_MSEC(10))
    ztest.zassert_equal(fw.pool.avail_count, POOL_COUNT, "the buffer was not released")


def main(k: Kernel) -> None:
    firmware(k)
    ztest.run_all(k)
