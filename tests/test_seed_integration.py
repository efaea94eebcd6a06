"""The seed's packet_io integration suite, run on the simulator.

Every test re-creates one ztest case of ``packet_io/tests/subsys/packet_io/integration`` and
its docstring names that case as ``<path>::<function>``. Each test boots its own kernel with
the suite's four pools, four event queues, sources, sinks and static connections.

The seed checks many results loosely ("some packets were bridged", "at least one was
received"). Pool sizes, queue depths and link order make every one of those counts exact, so
the exact value is asserted, with the arithmetic next to it.
"""

from __future__ import annotations

import math
import random
import struct
from dataclasses import dataclass

import pytest

from zsim import K_NO_WAIT, K_SECONDS
from zsim.net_buf import NetBufPool
from zsim.packet_io import PacketEventQueue, PacketSink, PacketSource, connect

# Kconfig of integration/prj.conf that changes behaviour (runtime connections stay off)
CONFIG = {"PACKET_IO_STATS": True, "ASSERT": True, "LOG": True, "PACKET_IO_LOG_LEVEL": 2}

POOLS = {  # name: (count, data size)
    "small_pool": (64, 128),
    "medium_pool": (32, 512),
    "large_pool": (16, 1500),
    "jumbo_pool": (8, 4096),
}
QUEUES = {"eth_queue": 32, "stream_queue": 64, "bulk_queue": 32, "perf_queue": 128}

ETH_HEADER = 14  # destination MAC, source MAC, ethertype (network order)
STREAM_HEADER = 12  # sequence u32, timestamp u32, frame size u16, flags u16 (little endian)
BULK_HEADER = 12  # offset u32, total size u32, chunk size u16, crc16 u16 (little endian)


def eth_frame(dst, src, ethertype, payload=b""):
    return bytes(dst) + bytes(src) + ethertype.to_bytes(2, "big") + bytes(payload)


def stream_frame(sequence, timestamp, size, flags, data):
    return struct.pack("<IIHH", sequence, timestamp & 0xFFFFFFFF, size, flags) + bytes(data)


def bulk_chunk(offset, total, data):
    return struct.pack("<IIHH", offset, total, len(data), crc16_modbus(data)) + bytes(data)


def crc16_modbus(data):
    """CRC-16 with the reflected 0x8005 polynomial and an all-ones start, as the seed uses."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


@dataclass
class Capture:
    count: int = 0
    byte_count: int = 0
    last_value: int = 0
    last_sequence: int = 0


def counting_handler(capture, field=None):
    """A handler that counts packets and bytes and, if asked, remembers one header field."""

    def handler(sink, buf):
        capture.count += 1
        capture.byte_count += buf.len
        head = bytes(buf.data)
        if field == "ethertype" and buf.len >= ETH_HEADER:
            capture.last_value = int.from_bytes(head[12:14], "big")
        elif field == "sequence" and buf.len >= STREAM_HEADER:
            capture.last_sequence = int.from_bytes(head[0:4], "little")
        elif field == "offset" and buf.len >= BULK_HEADER:
            capture.last_value = int.from_bytes(head[0:4], "little")

    return handler


class IntegrationFirmware:
    """The objects the seed's integration suite defines at file scope, on a fresh kernel."""

    def __init__(self, k):
        self.k = k
        self.rng = random.Random(0)
        self.pools = {name: NetBufPool(k, name, n, size) for name, (n, size) in POOLS.items()}
        self.small_pool = self.pools["small_pool"]
        self.medium_pool = self.pools["medium_pool"]
        self.large_pool = self.pools["large_pool"]
        self.jumbo_pool = self.pools["jumbo_pool"]
        self.queues = {name: PacketEventQueue(k, name, size=n) for name, n in QUEUES.items()}
        eth_q, stream_q = self.queues["eth_queue"], self.queues["stream_queue"]
        bulk_q, perf_q = self.queues["bulk_queue"], self.queues["perf_queue"]

        self.eth_filter = Capture()
        self.eth_router = Capture()
        self.eth_logger = Capture()
        self.stream_consumer1 = Capture()
        self.stream_consumer2 = Capture()
        self.stream_buffer = Capture()
        self.bulk_processor = Capture()
        self.bulk_storage = Capture()
        self.perf = Capture()

        self.eth_rx_source = PacketSource(k, "eth_rx_source")
        self.eth_tx_source = PacketSource(k, "eth_tx_source")
        self.packet_filter_sink = PacketSink(
            k, "packet_filter_sink", counting_handler(self.eth_filter, "ethertype"), queue=eth_q
        )
        self.packet_router_sink = PacketSink(
            k, "packet_router_sink", counting_handler(self.eth_router, "ethertype"), queue=eth_q
        )
        self.packet_logger_sink = PacketSink(
            k, "packet_logger_sink", counting_handler(self.eth_logger)
        )

        self.stream_producer = PacketSource(k, "stream_producer")
        self.stream_consumer1_sink = PacketSink(
            k,
            "stream_consumer1",
            counting_handler(self.stream_consumer1, "sequence"),
            queue=stream_q,
        )
        self.stream_consumer2_sink = PacketSink(
            k,
            "stream_consumer2",
            counting_handler(self.stream_consumer2, "sequence"),
            queue=stream_q,
        )
        self.stream_buffer_sink = PacketSink(
            k, "stream_buffer", counting_handler(self.stream_buffer, "sequence"), queue=stream_q
        )

        self.bulk_source = PacketSource(k, "bulk_source")
        self.bulk_processor_sink = PacketSink(
            k, "bulk_processor", counting_handler(self.bulk_processor, "offset"), queue=bulk_q
        )
        self.bulk_storage_sink = PacketSink(
            k, "bulk_storage", counting_handler(self.bulk_storage, "offset"), queue=bulk_q
        )

        self.perf_source1 = PacketSource(k, "perf_source1")
        self.perf_source2 = PacketSource(k, "perf_source2")
        self.perf_source3 = PacketSource(k, "perf_source3")
        self.perf_sink = PacketSink(k, "perf_sink", counting_handler(self.perf), queue=perf_q)

        for src, sink in (
            (self.eth_rx_source, self.packet_filter_sink),
            (self.eth_rx_source, self.packet_logger_sink),
            (self.eth_tx_source, self.packet_router_sink),
            (self.eth_tx_source, self.packet_logger_sink),
            (self.stream_producer, self.stream_consumer1_sink),
            (self.stream_producer, self.stream_consumer2_sink),
            (self.stream_producer, self.stream_buffer_sink),
            (self.bulk_source, self.bulk_processor_sink),
            (self.bulk_source, self.bulk_storage_sink),
            (self.perf_source1, self.perf_sink),
            (self.perf_source2, self.perf_sink),
            (self.perf_source3, self.perf_sink),
        ):
            connect(src, sink)

    def process_all_events(self):
        """Drain the queues in the seed's order (eth, stream, bulk, perf), 1000 events at most."""
        processed = 0
        while any(q.process(K_NO_WAIT) == 0 for q in self.queues.values()):
            processed += 1
            if processed > 1000:
                break
        return processed

    def random_bytes(self, n):
        return self.rng.randbytes(n)

    def assert_pools_full(self):
        for name, pool in self.pools.items():
            assert pool.avail_count == POOLS[name][0], name

    def run(self, body):
        return self.k.call(body)


@pytest.fixture
def fw(kernel):
    return IntegrationFirmware(kernel(CONFIG))


# ---------------------------------------------------------------------------------------------
# network packets


def test_ethernet_frame_processing(fw):
    """packet_io/tests/subsys/packet_io/integration/src/main.c::test_ethernet_frame_processing"""
    payload_size = 1500 - ETH_HEADER

    def body():
        buf = fw.large_pool.alloc(K_SECONDS(1))
        assert buf is not None
        src_mac = b"\x02" * 5 + b"\x01"
        buf.add_mem(eth_frame(b"\xff" * 6, src_mac, 0x0800, fw.random_bytes(payload_size)))
        assert buf.len == 1500
        ret = fw.eth_rx_source.send(buf, K_NO_WAIT)
        buf.unref()
        assert ret == 2  # packet filter (queued) and logger (immediate)
        fw.process_all_events()
        assert fw.eth_filter.count == 1
        assert fw.eth_logger.count == 1
        assert fw.eth_filter.last_value == 0x0800
        assert fw.eth_logger.byte_count == 1500
        fw.assert_pools_full()

    fw.run(body)


def test_jumbo_frame_handling(fw):
    """packet_io/tests/subsys/packet_io/integration/src/main.c::test_jumbo_frame_handling"""
    jumbo_size = 4096

    def body():
        buf = fw.jumbo_pool.alloc(K_SECONDS(1))
        assert buf is not None
        buf.add_mem(bytes(i & 0xFF for i in range(jumbo_size)))
        ret = fw.eth_tx_source.send(buf, K_NO_WAIT)
        buf.unref()
        assert ret == 2  # packet router (queued) and logger (immediate)
        fw.process_all_events()
        assert fw.eth_router.count == 1
        assert fw.eth_router.byte_count == jumbo_size
        assert fw.eth_logger.count == 1
        fw.assert_pools_full()

    fw.run(body)


def test_network_bridge(fw):
    """packet_io/tests/subsys/packet_io/integration/src/main.c::test_network_bridge"""

    # Each frame leaves two events on eth_queue (filter, router): 10 frames need 20 of its 32
    # slots and hold 10 of the 16 large buffers, so every frame is bridged.
    def body():
        bridged = 0
        for i in range(10):
            buf = fw.large_pool.alloc(K_NO_WAIT)
            if buf is None:
                break
            frame = eth_frame(b"\xff" * 6, bytes([i]) * 6, 0x0800)
            buf.add_mem(frame + bytes(64 - len(frame)))
            # forward to TX only what RX accepted
            rx_ok = fw.eth_rx_source.send(buf, K_NO_WAIT) > 0
            if rx_ok and fw.eth_tx_source.send(buf, K_NO_WAIT) > 0:
                bridged += 1
            buf.unref()
        fw.process_all_events()
        assert bridged > 0
        assert bridged == 10
        assert fw.eth_filter.count == bridged
        assert fw.eth_router.count == bridged
        assert fw.eth_logger.count == 2 * bridged
        fw.assert_pools_full()

    fw.run(body)


# ---------------------------------------------------------------------------------------------
# streaming


def test_audio_stream_distribution(fw):
    """packet_io/tests/subsys/packet_io/integration/src/main.c::test_audio_stream_distribution"""
    frame_size = 1024
    num_frames = 10
    samples = bytes(int(128 + 127 * math.sin(2 * 3.14159 * j / 64)) for j in range(frame_size))

    def body():
        stamps = []
        for seq in range(num_frames):
            buf = fw.large_pool.alloc(K_NO_WAIT)
            if buf is None:
                break
            stamps.append(fw.k.uptime_get())
            buf.add_mem(stream_frame(seq, stamps[-1], frame_size, 0, samples))
            ret = fw.stream_producer.send(buf, K_NO_WAIT)
            buf.unref()
            assert ret == 3
            fw.k.busy_wait(100)
        fw.process_all_events()
        assert fw.stream_consumer1.count == num_frames
        assert fw.stream_consumer2.count == num_frames
        assert fw.stream_buffer.count == num_frames
        assert fw.stream_consumer1.last_sequence == num_frames - 1
        assert fw.stream_buffer.last_sequence == num_frames - 1
        # ten 100 us spins add up to 1 ms: at most one 10 ms tick boundary is crossed
        assert stamps == sorted(stamps)
        assert stamps[-1] - stamps[0] <= 10
        fw.assert_pools_full()

    fw.run(body)


def test_video_frame_distribution(fw):
    """packet_io/tests/subsys/packet_io/integration/src/main.c::test_video_frame_distribution"""
    chunk_size = 4000
    chunks_per_frame = 6
    frame_num = 0

    # six chunks occupy six of the eight jumbo buffers until the queue is drained
    def body():
        for chunk in range(chunks_per_frame):
            buf = fw.jumbo_pool.alloc(K_NO_WAIT)
            assert buf is not None, f"no buffer for chunk {chunk}"
            flags = (0x01 if chunk == 0 else 0) | (0x02 if chunk == chunks_per_frame - 1 else 0)
            sequence = (frame_num << 16) | chunk
            data = fw.random_bytes(chunk_size)
            buf.add_mem(stream_frame(sequence, fw.k.uptime_get(), chunk_size, flags, data))
            ret = fw.stream_producer.send(buf, K_NO_WAIT)
            buf.unref()
            assert ret > 0, f"chunk {chunk} not sent"
            assert ret == 3
        fw.process_all_events()
        assert fw.stream_buffer.count == chunks_per_frame
        assert fw.stream_buffer.last_sequence == chunks_per_frame - 1
        fw.assert_pools_full()

    fw.run(body)


# ---------------------------------------------------------------------------------------------
# bulk transfer


def test_firmware_update_distribution(fw):
    """packet_io/tests/subsys/packet_io/integration/src/main.c::test_firmware_update_distribution"""
    chunk_size = 512
    total_size = 16 * 1024

    # Nothing drains bulk_queue during the loop. Each chunk leaves two events (processor,
    # storage) and keeps its large buffer: after 16 chunks the 32-slot queue is full and all
    # 16 large buffers are held, so the 17th allocation fails and the loop stops at 16.
    # The loop spins 16 x 1000 us = 16 ms; at 10 ms a tick that crosses 1 or 2 tick
    # boundaries depending on where in its tick the loop started.
    def body():
        offset = 0
        chunks_sent = 0
        start = fw.k.uptime_ticks()
        while offset < total_size:
            buf = fw.large_pool.alloc(K_NO_WAIT)
            if buf is None:
                break
            data = bytes((offset + i) & 0xFF for i in range(chunk_size))
            buf.add_mem(bulk_chunk(offset, total_size, data))
            ret = fw.bulk_source.send(buf, K_NO_WAIT)
            buf.unref()
            if ret > 0:
                chunks_sent += 1
                offset += chunk_size
            fw.k.busy_wait(1000)
        assert fw.k.uptime_ticks() - start in (1, 2)
        fw.process_all_events()
        assert chunks_sent == 16
        assert fw.bulk_processor.count > 0
        assert fw.bulk_processor.count == fw.bulk_storage.count == chunks_sent
        assert fw.bulk_storage.last_value == (chunks_sent - 1) * chunk_size
        assert fw.bulk_storage.byte_count == chunks_sent * (BULK_HEADER + chunk_size)
        assert fw.bulk_processor_sink.stats.dropped_count == 0
        fw.assert_pools_full()

    fw.run(body)


def test_file_transfer_pipeline(fw):
    """packet_io/tests/subsys/packet_io/integration/src/main.c::test_file_transfer_pipeline"""
    block_size = 1400
    num_blocks = 20

    # as above: 16 blocks fill both the 16 large buffers and the 32 queue slots
    def body():
        sent = 0
        for i in range(num_blocks):
            buf = fw.large_pool.alloc(K_NO_WAIT)
            if buf is None:
                break
            buf.add_mem(bytes((i * block_size + j) % 256 for j in range(block_size)))
            ret = fw.bulk_source.send(buf, K_NO_WAIT)
            buf.unref()
            if ret > 0:
                sent += 1
        fw.process_all_events()
        assert sent == fw.bulk_storage.count
        assert sent == 16
        assert fw.bulk_storage.byte_count == sent * block_size
        fw.assert_pools_full()

    fw.run(body)


# ---------------------------------------------------------------------------------------------
# buffer chains


def test_packet_fragmentation_chain(fw):
    """packet_io/tests/subsys/packet_io/integration/src/main.c::test_packet_fragmentation_chain"""
    frag_size = 256
    num_frags = 4

    def body():
        head = fw.small_pool.alloc(K_NO_WAIT)
        assert head is not None
        head.add_le32(0xDEADBEEF)
        head.add_le32(num_frags)
        tail = head
        for i in range(num_frags):
            frag = fw.medium_pool.alloc(K_NO_WAIT)
            if frag is None:
                break
            frag.add_mem(bytes([i + 1]) * frag_size)
            tail.frag_add(frag)  # the chain takes over the allocation's reference
            tail = frag
        assert head.frags_len() == 8 + num_frags * frag_size
        ret = fw.eth_rx_source.send(head, K_NO_WAIT)
        head.unref()
        assert ret > 0
        assert ret == 2
        fw.process_all_events()
        assert fw.eth_filter.count == 1
        assert fw.eth_logger.count == 1
        assert fw.eth_logger.byte_count == 8  # a handler's buf.len is the head's length
        # the last reference on the head released every fragment behind it
        fw.assert_pools_full()

    fw.run(body)


# ---------------------------------------------------------------------------------------------
# performance and stress


def test_sustained_throughput(fw):
    """packet_io/tests/subsys/packet_io/integration/src/main.c::test_sustained_throughput"""
    packet_size = 1500
    target = 500

    def body():
        start = fw.k.uptime_get()
        bytes_sent = 0
        packets_sent = 0
        while packets_sent < target:
            buf = fw.large_pool.alloc(K_NO_WAIT)
            if buf is None:
                fw.process_all_events()
                fw.k.yield_()
                continue
            buf.add_mem(bytes([packets_sent & 0xFF]) * packet_size)
            ret = fw.perf_source1.send(buf, K_NO_WAIT)
            buf.unref()
            if ret > 0:
                bytes_sent += packet_size
                packets_sent += 1
            if packets_sent % 50 == 0:
                fw.process_all_events()
        fw.process_all_events()
        elapsed = max(fw.k.uptime_get() - start, 1)
        throughput_mbps = bytes_sent * 8 / (elapsed * 1000)
        assert packets_sent == target
        # at most 16 buffers are ever queued, far below perf_queue's 128 slots
        assert fw.perf.count == target
        assert throughput_mbps > 0
        assert fw.perf_sink.stats.dropped_count == 0
        assert fw.perf_source1.stats.send_count == target
        assert fw.perf_source1.stats.queued_total == target
        fw.assert_pools_full()

    fw.run(body)


def test_concurrent_high_throughput(fw):
    """packet_io/tests/subsys/packet_io/integration/src/main.c::test_concurrent_high_throughput"""
    packet_size = 1024
    per_source = 50

    # The large pool (16 buffers) is the limit: the queue is drained only after the sends of
    # rounds 0, 10, 20, 30 and 40. Round 0 sends one packet per source. In each later stretch
    # of ten rounds, rounds 1-5 take 15 buffers, round 6 the 16th (perf_source1), and every
    # other allocation fails. Four full stretches plus rounds 41-49 make
    # source1 = 1 + 5 * 6 = 31, source2 = source3 = 1 + 5 * 5 = 26, 83 in all.
    def body():
        sources = (fw.perf_source1, fw.perf_source2, fw.perf_source3)
        sent = [0, 0, 0]
        for i in range(per_source):
            for n, src in enumerate(sources):
                buf = fw.large_pool.alloc(K_NO_WAIT)
                if buf is not None:
                    buf.add_mem(bytes(packet_size))
                    ret = src.send(buf, K_NO_WAIT)
                    buf.unref()
                    if ret > 0:
                        sent[n] += 1
            if i % 10 == 0:
                fw.process_all_events()
                fw.k.yield_()
        fw.process_all_events()
        total = sum(sent)
        assert fw.perf.count > 0
        assert fw.perf.count <= total
        assert sent == [31, 26, 26]
        assert fw.perf.count == total == 83
        fw.assert_pools_full()

    fw.run(body)


def test_protocol_translation(fw):
    """packet_io/tests/subsys/packet_io/integration/src/main.c::test_protocol_translation"""
    uart_data = b"Hello from UART!\x00"  # the C array keeps its terminator

    def body():
        uart_buf = fw.small_pool.alloc(K_NO_WAIT)
        assert uart_buf is not None
        uart_buf.add_mem(uart_data)
        eth_buf = fw.large_pool.alloc(K_NO_WAIT)
        assert eth_buf is not None
        eth_buf.add_mem(eth_frame(b"\xff" * 6, b"\x42" * 6, 0x88B5, bytes(uart_buf.data)))
        uart_buf.unref()
        ret = fw.eth_tx_source.send(eth_buf, K_NO_WAIT)
        eth_buf.unref()
        assert ret > 0
        assert ret == 2
        fw.process_all_events()
        assert fw.eth_router.count == 1
        assert fw.eth_router.last_value == 0x88B5
        assert fw.eth_router.byte_count == ETH_HEADER + len(uart_data)
        fw.assert_pools_full()

    fw.run(body)


def test_latency_under_load(fw):
    """packet_io/tests/subsys/packet_io/integration/src/main.c::test_latency_under_load"""
    packet_size = 512

    # The seed stamps packets with the cycle counter; the simulated tick counter stands in.
    # Every round queues six medium buffers and drains them, so all ten rounds are sampled.
    def body():
        latencies = []
        for _ in range(10):
            for _ in range(5):
                buf = fw.medium_pool.alloc(K_NO_WAIT)
                if buf is not None:
                    buf.add_mem(bytes(packet_size))
                    fw.perf_source2.send(buf, K_NO_WAIT)
                    buf.unref()
            buf = fw.medium_pool.alloc(K_NO_WAIT)
            if buf is None:
                continue
            stamp = fw.k.uptime_ticks()
            buf.add_le32(stamp & 0xFFFFFFFF)
            buf.add_mem(bytes(packet_size - 4))
            ret = fw.perf_source1.send(buf, K_NO_WAIT)
            buf.unref()
            if ret > 0:
                fw.process_all_events()
                latencies.append(fw.k.uptime_ticks() - stamp)
        assert len(latencies) > 0
        assert len(latencies) == 10
        assert min(latencies) >= 0
        assert fw.perf.count == 60
        fw.assert_pools_full()

    fw.run(body)


def test_memory_pool_exhaustion(fw):
    """packet_io/tests/subsys/packet_io/integration/src/main.c::test_memory_pool_exhaustion"""

    def body():
        held = []
        for _ in range(32):
            buf = fw.medium_pool.alloc(K_NO_WAIT)
            if buf is None:
                break
            held.append(buf)
        assert len(held) == 32
        assert fw.medium_pool.alloc(K_NO_WAIT) is None
        for buf in held[: len(held) // 2]:
            buf.unref()
        held = held[len(held) // 2 :]
        sent = 0
        for _ in range(5):
            buf = fw.medium_pool.alloc(K_NO_WAIT)
            if buf is not None:
                buf.add_mem(bytes(128))
                ret = fw.bulk_source.send(buf, K_NO_WAIT)
                buf.unref()
                if ret > 0:
                    sent += 1
        fw.process_all_events()
        assert sent > 0
        assert sent == 5
        assert fw.bulk_processor.count == fw.bulk_storage.count == 5
        for buf in held:
            buf.unref()
        fw.assert_pools_full()

    fw.run(body)
