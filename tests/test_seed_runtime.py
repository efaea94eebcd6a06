"""The seed's runtime-connection suite, run on the simulator.

Every test re-creates one ztest case of ``packet_io/tests/subsys/packet_io/runtime_test`` and
its docstring names that case as ``<path>::<function>``. Each test boots its own kernel with
the suite's pool, queue, two sources and three sinks; connections are made at run time with
``PacketConnection``, inside the simulated thread, as the seed's cases do.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from zsim import K_NO_WAIT, errno
from zsim.errors import ConfigError
from zsim.net_buf import NetBufPool
from zsim.packet_io import (
    PacketConnection,
    PacketEventQueue,
    PacketSink,
    PacketSource,
    connect,
    packet_connection_add,
    packet_connection_remove,
)

POOL_COUNT = 16
BUF_SIZE = 64
QUEUE_SIZE = 32
VALUE_1 = 0x12345678
VALUE_2 = 0x87654321
VALUE_3 = 0xDEADBEEF

# The suite ships no prj.conf of its own; its cases need runtime connections, and the
# statistics the other suites enable are kept on.
CONFIG = {"PACKET_IO_STATS": True, "PACKET_IO_RUNTIME_OBSERVERS": True, "ASSERT": True}


@dataclass
class Capture:
    count: int = 0
    last_value: int = 0


class RuntimeFirmware:
    """The objects the seed's runtime suite defines at file scope, on a fresh kernel."""

    def __init__(self, k):
        self.k = k
        self.order = []  # names of the sinks whose handler counted a packet, in order
        self.pool = NetBufPool(k, "runtime_pool", POOL_COUNT, BUF_SIZE)
        self.source = PacketSource(k, "runtime_source")
        self.source2 = PacketSource(k, "runtime_source2")
        self.queue = PacketEventQueue(k, "runtime_queue", size=QUEUE_SIZE)
        self.capture1 = Capture()
        self.capture2 = Capture()
        self.immediate_sink = PacketSink(k, "runtime_immediate_sink", self.handler)
        self.secondary_sink = PacketSink(k, "runtime_secondary_sink", self.handler)
        self.queued_sink = PacketSink(k, "runtime_queued_sink", self.handler, queue=self.queue)
        self.immediate_sink.user_data = self.capture1
        self.secondary_sink.user_data = self.capture2
        self.queued_sink.user_data = self.capture1  # shared with the immediate sink

    # one handler serves the immediate and the queued sinks; it only borrows the buffer
    def handler(self, sink, buf):
        capture = sink.user_data
        if capture is not None and buf.len >= 4:
            capture.count += 1
            capture.last_value = int.from_bytes(bytes(buf.data)[:4], "little")
            self.order.append(sink.name)

    def send_test_packet(self, source, value):
        buf = self.pool.alloc(K_NO_WAIT)
        if buf is None:
            return -errno.ENOMEM
        buf.add_le32(value)
        ret = source.send(buf, K_NO_WAIT)
        buf.unref()
        return ret

    def process_all_events(self):
        count = 0
        while self.queue.process(K_NO_WAIT) == 0:
            count += 1
            if count > QUEUE_SIZE * 2:
                break
        return count

    def reset_captures(self):
        for capture in (self.capture1, self.capture2):
            capture.count = 0
            capture.last_value = 0
        self.order.clear()

    def run(self, body):
        """Run ``body`` as the test thread, then drain the queue as the suite's teardown does."""

        def with_teardown():
            result = body()
            self.process_all_events()
            return result

        return self.k.call(with_teardown)


@pytest.fixture
def fw(kernel):
    return RuntimeFirmware(kernel(CONFIG))


def test_basic_add_remove(fw):
    """packet_io/tests/subsys/packet_io/runtime_test/src/main.c::test_basic_add_remove"""

    def body():
        conn = PacketConnection(fw.source, fw.immediate_sink)
        assert conn.add() == 0
        assert fw.send_test_packet(fw.source, VALUE_1) == 1
        assert fw.capture1.last_value == VALUE_1
        assert fw.capture1.count == 1
        assert conn.remove() == 0
        assert fw.send_test_packet(fw.source, VALUE_2) == 0
        assert fw.capture1.last_value == VALUE_1
        assert fw.capture1.count == 1
        assert fw.pool.avail_count == POOL_COUNT

    fw.run(body)


def test_multiple_connections(fw):
    """packet_io/tests/subsys/packet_io/runtime_test/src/main.c::test_multiple_connections"""

    def body():
        conn1 = PacketConnection(fw.source, fw.immediate_sink)
        conn2 = PacketConnection(fw.source, fw.queued_sink)
        conn3 = PacketConnection(fw.source, fw.secondary_sink)
        assert conn1.add() == 0
        assert conn2.add() == 0
        assert conn3.add() == 0

        assert fw.send_test_packet(fw.source, VALUE_3) == 3
        # runtime connections are appended: the two immediate handlers ran in add order
        assert fw.order == ["runtime_immediate_sink", "runtime_secondary_sink"]
        assert fw.capture1.last_value == VALUE_3
        assert fw.capture2.last_value == VALUE_3
        assert fw.queue.process(K_NO_WAIT) == 0
        assert fw.capture1.count == 2  # immediate and queued share this capture
        assert fw.capture2.count == 1

        assert conn2.remove() == 0
        fw.reset_captures()
        assert fw.send_test_packet(fw.source, VALUE_1) == 2
        assert fw.capture1.last_value == VALUE_1
        assert fw.capture2.last_value == VALUE_1
        assert fw.queue.process(K_NO_WAIT) == -errno.EAGAIN  # nothing was queued
        assert fw.order == ["runtime_immediate_sink", "runtime_secondary_sink"]

        assert conn1.remove() == 0
        assert conn3.remove() == 0
        assert fw.pool.avail_count == POOL_COUNT

    fw.run(body)


def test_duplicate_connection(fw):
    """packet_io/tests/subsys/packet_io/runtime_test/src/main.c::test_duplicate_connection"""

    def body():
        first = PacketConnection(fw.source, fw.immediate_sink)
        assert first.add() == 0
        twin = PacketConnection(fw.source, fw.immediate_sink)
        assert twin.add() == -errno.EALREADY
        assert fw.send_test_packet(fw.source, VALUE_1) == 1  # still one delivery
        assert first.remove() == 0

    fw.run(body)


def test_connection_persistence(fw):
    """packet_io/tests/subsys/packet_io/runtime_test/src/main.c::test_connection_persistence"""
    # the seed keeps these two at file scope, so they outlive the function that adds them
    static_conn1 = PacketConnection(fw.source, fw.immediate_sink)
    static_conn2 = PacketConnection(fw.source2, fw.secondary_sink)

    def body():
        assert static_conn1.add() == 0
        assert static_conn2.add() == 0
        assert fw.send_test_packet(fw.source, VALUE_1) == 1
        assert fw.capture1.last_value == VALUE_1
        assert fw.send_test_packet(fw.source2, VALUE_2) == 1
        assert fw.capture2.last_value == VALUE_2
        assert fw.send_test_packet(fw.source, VALUE_3) == 1
        assert fw.capture1.last_value == VALUE_3
        assert fw.send_test_packet(fw.source2, VALUE_1) == 1
        assert fw.capture2.last_value == VALUE_1
        assert static_conn1.remove() == 0
        assert static_conn2.remove() == 0

    fw.run(body)


def test_null_parameters(fw):
    """packet_io/tests/subsys/packet_io/runtime_test/src/main.c::test_null_parameters"""

    # a missing connection needs the C-named functions, which take None where C takes NULL
    def body():
        assert packet_connection_add(None) == -errno.EINVAL
        assert packet_connection_remove(None) == -errno.EINVAL
        assert PacketConnection(None, fw.immediate_sink).add() == -errno.EINVAL
        assert PacketConnection(fw.source, None).add() == -errno.EINVAL
        assert fw.send_test_packet(fw.source, VALUE_1) == 0  # nothing got linked

    fw.run(body)


def test_already_connected(fw):
    """packet_io/tests/subsys/packet_io/runtime_test/src/main.c::test_already_connected"""

    def body():
        conn = PacketConnection(fw.source, fw.immediate_sink)
        assert conn.add() == 0
        assert conn.add() == -errno.EBUSY  # the same object is already linked
        assert conn.remove() == 0

    fw.run(body)


def test_remove_not_connected(fw):
    """packet_io/tests/subsys/packet_io/runtime_test/src/main.c::test_remove_not_connected"""

    def body():
        conn = PacketConnection(fw.source, fw.immediate_sink)
        assert conn.remove() == -errno.ENOENT

    fw.run(body)


def test_double_remove(fw):
    """packet_io/tests/subsys/packet_io/runtime_test/src/main.c::test_double_remove"""

    def body():
        conn = PacketConnection(fw.source, fw.immediate_sink)
        assert conn.add() == 0
        assert conn.remove() == 0
        assert conn.remove() == -errno.ENOENT

    fw.run(body)


def test_stack_allocation_detection(fw):
    """packet_io/tests/subsys/packet_io/runtime_test/src/main.c::test_stack_allocation_detection"""

    # A connection that lives only in the test thread's frame is the stack case; the seed's
    # ztest build logs it and accepts it.
    def body():
        local_conn = PacketConnection(fw.source, fw.immediate_sink)
        assert local_conn.add() == 0
        assert fw.send_test_packet(fw.source, VALUE_2) == 1
        assert local_conn.remove() == 0

    fw.run(body)


def test_heap_allocation(fw):
    """packet_io/tests/subsys/packet_io/runtime_test/src/main.c::test_heap_allocation"""
    # made outside the thread (the heap analogue) and handed to it
    heap_conn = PacketConnection(fw.source, fw.immediate_sink)

    def body():
        assert heap_conn.add() == 0
        assert fw.send_test_packet(fw.source, VALUE_3) == 1
        assert heap_conn.remove() == 0

    fw.run(body)


def test_cross_source_connections(fw):
    """packet_io/tests/subsys/packet_io/runtime_test/src/main.c::test_cross_source_connections"""

    def body():
        conn1 = PacketConnection(fw.source, fw.immediate_sink)
        conn2 = PacketConnection(fw.source2, fw.immediate_sink)
        conn3 = PacketConnection(fw.source, fw.secondary_sink)
        assert conn1.add() == 0
        assert conn2.add() == 0  # a sink may hang off several sources
        assert conn3.add() == 0

        assert fw.send_test_packet(fw.source, VALUE_1) == 2
        assert fw.capture1.count == 1
        assert fw.capture2.count == 1
        fw.reset_captures()

        assert fw.send_test_packet(fw.source2, VALUE_2) == 1
        assert fw.capture1.count == 1
        assert fw.capture2.count == 0
        assert fw.capture1.last_value == VALUE_2

        assert conn1.remove() == 0
        assert conn2.remove() == 0
        assert conn3.remove() == 0

    fw.run(body)


def test_runtime_disabled(kernel):
    """packet_io/tests/subsys/packet_io/runtime_test/src/main.c::test_runtime_disabled"""
    # The seed builds this case instead of all the others when runtime connections are off;
    # there packet_connection_add/remove are not compiled in, so zsim refuses them like a
    # link step would, while static wiring keeps working.
    k = kernel({**CONFIG, "PACKET_IO_RUNTIME_OBSERVERS": False})
    src = PacketSource(k, "src")
    sink = PacketSink(k, "sink", lambda s, b: None)
    with pytest.raises(ConfigError, match="PACKET_IO_RUNTIME_OBSERVERS"):
        PacketConnection(src, sink).add()
    connect(src, sink)
    pool = NetBufPool(k, "pool", 1, 8)
    assert k.call(lambda: src.send_consume(pool.alloc(K_NO_WAIT), K_NO_WAIT)) == 1
