"""The seed's basic_packet_routing sample as a zsim model.

Two sensors feed a processor that chains a header in front of each payload (zero-copy,
``frag_add``) and forwards the chain to a TCP sink (queued, 50 ms per packet) and a
validator (immediate: checks header, length and sequence). Module names, thread names,
priorities, stack sizes, pools and queue sizes follow the C sample's sources; the log lines
are the ones its ``sample.yaml`` console harness looks for.

Packet flow::

    sensor1_source --+                                        +--> tcp_sink (queued)
                     +--> processor_sink --> processor_source -+
    sensor2_source --+      (adds a header)                   +--> validator_sink (immediate)

The C processor forwards with ``packet_source_send`` and never releases its header chain,
so every forwarded packet keeps a header buffer and its payload allocated until both pools
run dry. Here the processor forwards with ``packet_source_send_consume``, which is what the
sample means to do; set ``LEAKY_PROCESSOR = True`` to reproduce the C code and watch zsim
report the leak.
"""

from __future__ import annotations

import struct
from types import SimpleNamespace

from zsim import K_FOREVER, K_MSEC, K_NO_WAIT, Kernel, NetBufPool, errno
from zsim.packet_io import PacketEventQueue, PacketSink, PacketSource, connect

LEAKY_PROCESSOR = False

# struct packet_header (packed): source_id u8, packet_type u8, sequence u16, timestamp u32,
# content_length u16, reserved u16
HEADER = struct.Struct("<BBHIHH")
PACKET_TYPE_DATA = 0x01
PACKET_TYPE_CONTROL = 0x02
SOURCE_ID_SENSOR1 = 1
SOURCE_ID_SENSOR2 = 2


def main(k: Kernel) -> SimpleNamespace:
    """Define the sample's objects and threads on ``k``; returns them by name."""
    ns = SimpleNamespace()
    sensors(k, ns)
    processor(k, ns)
    network(k, ns)
    validator(k, ns)
    wiring(ns)
    main_thread(k)
    return ns


def sensors(k: Kernel, ns: SimpleNamespace) -> None:
    """sensors.c: two sources fed from one pool by one thread, every 200 ms in turn."""
    log = k.log_module("sensors", 3)
    pool = NetBufPool(k, "sensor_pool", 8, 512, 4)
    ns.sensor1_source = s1 = PacketSource(k, "sensor1_source")
    ns.sensor2_source = s2 = PacketSource(k, "sensor2_source")
    data1 = bytes([0xA0]) + bytes(i & 0xFF for i in range(1, 256))
    data2 = bytes([0xB0]) + bytes((i * 2) & 0xFF for i in range(1, 384))

    @k.thread(name="sensor_thread", priority=7, stack_size=1024)
    def sensor_thread() -> None:
        log.inf("Sensor module started (256B + 384B payloads)")
        while True:
            buf = pool.alloc(K_NO_WAIT)
            if buf is not None:
                buf.add_mem(data1)
                ret = s1.send(buf, K_NO_WAIT)
                log.dbg("Sensor 1 sent %d bytes to %d sinks", len(data1), ret)
                buf.unref()
            k.sleep(K_MSEC(200))
            buf = pool.alloc(K_NO_WAIT)
            if buf is not None:
                buf.add_mem(data2)
                ret = s2.send_consume(buf, K_NO_WAIT)
                log.dbg("Sensor 2 sent %d bytes to %d sinks", len(data2), ret)
            k.sleep(K_MSEC(200))


def processor(k: Kernel, ns: SimpleNamespace) -> None:
    """processor.c: a queued sink that prepends a header and forwards the chain."""
    log = k.log_module("processor", 3)
    pool = NetBufPool(k, "processor_pool", 16, HEADER.size, 4)
    queue = PacketEventQueue(k, "processor_queue", 10)
    ns.processor_source = out = PacketSource(k, "processor_source")
    sequence = [0]

    def processor_handler(sink: PacketSink, buf) -> None:
        header_buf = pool.alloc(K_NO_WAIT)
        if header_buf is None:
            log.wrn("No buffer for header")
            return
        source_id = 0
        if buf.len > 0:
            source_id = SOURCE_ID_SENSOR1 if buf.data[0] == 0xA0 else SOURCE_ID_SENSOR2
        seq = sequence[0]
        sequence[0] = (seq + 1) & 0xFFFF
        HEADER.pack_into(header_buf.add(HEADER.size), 0, source_id, PACKET_TYPE_DATA, seq,
                         k.uptime_get_32(), buf.len, 0)
        header_buf.frag_add(buf.ref())      # the chain takes its own reference
        log.inf("Processed from sensor %d, seq %u, total %d bytes", source_id, seq,
                header_buf.frags_len())
        if LEAKY_PROCESSOR:
            out.send(header_buf, K_NO_WAIT)
        else:
            out.send_consume(header_buf, K_NO_WAIT)

    processor_handler.forwards_to = [out]     # drawn by zsim run --graph
    ns.processor_sink = PacketSink(k, "processor_sink", processor_handler, queue=queue)

    @k.thread(name="processor_thread", priority=7, stack_size=1024)
    def processor_thread() -> None:
        log.inf("Packet processor started")
        while True:
            ret = queue.process(K_FOREVER)
            if ret not in (0, -errno.EAGAIN):
                log.err("Failed to process packet event: %d", ret)


def network(k: Kernel, ns: SimpleNamespace) -> None:
    """network.c: a queued TCP sink that takes 50 ms per packet and logs its throughput."""
    log = k.log_module("network", 3)
    queue = PacketEventQueue(k, "network_queue", 10)
    stats = {"packets": 0, "bytes": 0, "first": 0}

    def tcp_handler(sink: PacketSink, buf) -> None:
        total_len = buf.frags_len()
        if stats["packets"] == 0:
            stats["first"] = k.uptime_get_32()
        k.msleep(50)
        if buf.len >= HEADER.size:
            source_id, ptype, seq, _ts, _clen, _r = HEADER.unpack_from(buf.data)
            log.inf("TCP TX: Sensor %d, Type %02x, Seq %u, %d bytes", source_id, ptype, seq,
                    total_len)
        else:
            log.inf("TCP TX: %d bytes (no header)", total_len)
        stats["packets"] += 1
        stats["bytes"] += total_len
        elapsed = (k.uptime_get_32() - stats["first"]) & 0xFFFFFFFF
        if elapsed > 0:
            rate = (stats["bytes"] * 1000 // elapsed) & 0xFFFFFFFF
            log.inf("TCP Stats: %u packets, %u bytes, %u B/s", stats["packets"],
                    stats["bytes"], rate)

    ns.tcp_sink = PacketSink(k, "tcp_sink", tcp_handler, queue=queue)

    @k.thread(name="network_thread", priority=7, stack_size=1024)
    def network_thread() -> None:
        log.inf("TCP network transmitter started")
        while True:
            ret = queue.process(K_FOREVER)
            if ret not in (0, -errno.EAGAIN):
                log.err("Failed to process network event: %d", ret)


def validator(k: Kernel, ns: SimpleNamespace) -> None:
    """validator.c: an immediate sink checking header, length, source, type, sequence."""
    log = k.log_module("validator", 3)
    state = {"valid": 0, "failed": 0, "last_seq": None, "first": True}
    ns.validator_state = state

    def integrity(buf) -> bool:
        source_id, ptype, seq, _ts, content_length, _r = HEADER.unpack_from(buf.data)
        total_len = buf.frags_len()
        expected_len = HEADER.size + content_length
        if total_len != expected_len:
            log.err("Size mismatch! Total=%d, Expected=%d (hdr=%d + content=%d)", total_len,
                    expected_len, HEADER.size, content_length)
            return False
        if source_id not in (SOURCE_ID_SENSOR1, SOURCE_ID_SENSOR2):
            log.err("Invalid source ID: %d", source_id)
            return False
        if ptype not in (PACKET_TYPE_DATA, PACKET_TYPE_CONTROL):
            log.err("Invalid packet type: 0x%02x", ptype)
            return False
        if state["last_seq"] is not None:
            expected_seq = state["last_seq"] + 1
            if seq != expected_seq:
                log.wrn("Sequence gap detected! Expected %d, Got %d (Source %d)",
                        expected_seq, seq, source_id)
        state["last_seq"] = seq
        if buf.frags is not None:
            first_byte = buf.frags.data[0]
            expected = 0xA0 if source_id == SOURCE_ID_SENSOR1 else 0xB0
            if first_byte != expected:
                log.err("Content validation failed! Source %d: Expected 0x%02x, Got 0x%02x",
                        source_id, expected, first_byte)
                return False
        log.dbg("Packet validated: Source %d, Seq %d, Type 0x%02x, %d bytes", source_id, seq,
                ptype, total_len)
        return True

    def validator_handler(sink: PacketSink, buf) -> None:
        if state["first"]:
            log.inf("Packet validator started (immediate mode)")
            state["first"] = False
        if buf.len < HEADER.size:
            log.err("Buffer too small for header: %d bytes", buf.len)
            state["failed"] += 1
            return
        source_id, ptype, seq, _ts, _clen, _r = HEADER.unpack_from(buf.data)
        if integrity(buf):
            state["valid"] += 1
            log.inf("VALID: Sensor %d, Seq %d, Type 0x%02x [Total valid: %d]", source_id, seq,
                    ptype, state["valid"])
        else:
            state["failed"] += 1
            log.err("INVALID: Sensor %d, Seq %d [Total failed: %d]", source_id, seq,
                    state["failed"])
        total = state["valid"] + state["failed"]
        rate = state["valid"] * 100 // total if total else 0
        log.inf("Validator: Checked %d packets - Valid=%d, Failed=%d, Success rate=%d%%",
                total, state["valid"], state["failed"], rate)

    ns.validator_sink = PacketSink(k, "validator_sink", validator_handler)


def wiring(ns: SimpleNamespace) -> None:
    """main.c: the static connections (wired at start-up in link order)."""
    connect(ns.sensor1_source, ns.processor_sink)
    connect(ns.sensor2_source, ns.processor_sink)
    connect(ns.processor_source, ns.tcp_sink)
    connect(ns.processor_source, ns.validator_sink)


def main_thread(k: Kernel) -> None:
    """main.c's main(): a banner, then sleep forever (priority 0, the main thread's)."""
    log = k.log_module("main", 3)
    banner = [
        "Packet I/O Routing Sample",
        "==========================",
        "Demonstrating modular packet flow with header addition and validation",
        "Routing to TCP network and packet validator",
        "",
        "Module threads start automatically:",
        "  - Sensors: Generate test packets",
        "  - Processor: Add headers and forward",
        "  - Network: TCP transmission",
        "  - Validator: Check packet integrity",
    ]

    def main_fn() -> None:
        for line in banner:
            log.inf(line)
        while True:
            k.sleep(K_FOREVER)

    k.main_thread(main_fn)
