"""Trace events: docs/trace-format.md fields, chained lengths and digests, reproducibility."""

from __future__ import annotations

import json
import zlib
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zsim import K_MSEC, K_NO_WAIT, K_SECONDS, NetBufPool
from zsim.packet_io import PacketEventQueue, PacketSink, PacketSource, connect
from zsim.sim_executor import SimulatorExecutor
from zsim.trace import TraceRecorder, measure, write_trace
from zsim.trace_events import crc_of, length_of

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "basic_packet_routing"


def chained(k, parts):
    """A chain of buffers holding ``parts`` (one pool per part so sizes fit)."""
    head = None
    for i, data in enumerate(parts):
        buf = NetBufPool(k, f"pool{i}", 2, 64).alloc(K_NO_WAIT)
        buf.add_mem(data)
        if head is None:
            head = buf
        else:
            head.frag_add(buf)
    return head


def test_chained_buffers_have_whole_chain_len_and_digest(kernel):
    k = kernel({"PACKET_IO_STATS": True})
    src = PacketSource(k, "src")
    queue = PacketEventQueue(k, "q", 4)
    connect(src, PacketSink(k, "direct", lambda s, b: None))
    connect(src, PacketSink(k, "queued", lambda s, b: None, queue=queue))
    rec = TraceRecorder(k).install()
    parts = [b"\x01\x02", b"hello world", bytes(range(40))]

    def body():
        buf = chained(k, parts)
        src.send_consume(buf, K_NO_WAIT)      # the queue holds the last reference
        queue.process(K_NO_WAIT)              # the handler's buffer is freed right after

    k.call(body)
    want = (sum(map(len, parts)), f"{zlib.crc32(b''.join(parts)):08x}")
    by_type = {e["type"]: e for e in rec.events if e["type"] in ("send", "deliver", "handle")}
    for typ in ("send", "deliver", "handle"):
        assert (by_type[typ]["len"], by_type[typ]["digest"]) == want, typ
    assert by_type["handle"]["buf"] == "pool0#0@1" and by_type["handle"]["ret"] == 0
    enq = next(e for e in rec.events if e["type"] == "enqueue")
    assert enq["len"] == want[0] and enq["sink"] == "queued"
    # the whole chain was freed after the handle event, each buffer once
    types = [e["type"] for e in rec.events]
    assert types.index("handle") < types.index("free")
    assert sorted(e["pool"] for e in rec.events if e["type"] == "free") == \
        ["pool0", "pool1", "pool2"]
    assert all(isinstance(e["tick"], int) and isinstance(e["us"], float) for e in rec.events)


def test_measure_of_a_freed_buffer(kernel):
    k = kernel()
    buf = NetBufPool(k, "p", 1, 8).alloc(K_NO_WAIT)
    buf.add_mem(b"abc")
    assert measure(buf) == (3, f"{zlib.crc32(b'abc'):08x}")
    assert length_of(buf) == 3
    buf.unref()
    assert measure(buf) == (0, "00000000")
    assert length_of(buf) == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=64), min_size=1, max_size=5), st.integers(0, 8))
def test_a_chains_digest_is_zlibs_crc32_of_its_bytes(parts, reserve):
    """``crc_of`` (zlib's crc32 called from C in the compiled core, through Python's zlib
    module from the sources) over the chain's bytes, each fragment read at its data start."""
    from zsim import Kernel

    k = Kernel(board="native_sim")
    head = None
    for i, data in enumerate(parts):
        buf = NetBufPool(k, f"p{i}", 1, 80).alloc(K_NO_WAIT)
        buf.reserve(reserve)                # data not at the start of the storage
        buf.add_mem(data)
        if head is None:
            head = buf
        else:
            head.frag_add(buf)
    whole = b"".join(parts)
    assert crc_of(head) == (len(whole), zlib.crc32(whole))
    assert length_of(head) == len(whole)
    head.unref()
    assert crc_of(head) == (0, 0) and length_of(head) == 0


def test_alloc_and_free_events_track_pool_occupancy(kernel):
    k = kernel()
    pool = NetBufPool(k, "p", 3, 8)
    rec = TraceRecorder(k).install()

    def body():
        a, b = pool.alloc(K_NO_WAIT), pool.alloc(K_NO_WAIT)
        a.unref()
        b.unref()

    k.call(body)
    got = [(e["type"], e["buf"], e["avail"]) for e in rec.events if e["type"] != "console"]
    assert got == [("alloc", "p#0@1", 2), ("alloc", "p#1@2", 1), ("free", "p#0@1", 2),
                   ("free", "p#1@2", 3)]


def test_switch_events_only_when_asked(kernel):
    for switches in (False, True):
        k = kernel()
        rec = TraceRecorder(k, switches=switches).install()
        k.thread_create(k.sleep, K_MSEC(1), name="t", priority=5)
        k.run(K_MSEC(5))
        sw = [e for e in rec.events if e["type"] == "switch"]
        assert bool(sw) == switches
        if switches:
            assert {"from", "to"} <= set(sw[0]) and "t" in {e["to"] for e in sw}


def test_write_trace_leaves_no_partial_file(tmp_path):
    path = tmp_path / "t.jsonl"
    write_trace(path, {"type": "header"}, [{"type": "x", "tick": 0}])
    assert [json.loads(x)["type"] for x in path.read_text().splitlines()] == ["header", "x"]
    with pytest.raises(TypeError):
        write_trace(tmp_path / "bad.jsonl", {"type": "header"}, [{"x": object()}])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.jsonl"]


def trace_text(path, board="native_sim", seed=0):
    out = SimulatorExecutor().run(path, board=board, duration=K_SECONDS(2), seed=seed)
    assert out.ok, out.error
    return "\n".join(json.dumps(e) for e in [out.header, *out.events])


@pytest.mark.parametrize("model", [SAMPLE, SAMPLE / "topology.yaml",
                                   ROOT / "tests" / "data" / "bridge_basic"])
def test_same_seed_same_trace_bit_for_bit(model):
    assert trace_text(model, seed=7) == trace_text(model, seed=7)


def test_the_seed_drives_random_payloads():
    model = ROOT / "tests" / "data" / "bridge_basic"
    a, b = trace_text(model, seed=1), trace_text(model, seed=2)
    assert a != b


def routing(events):
    """Per sink, the (len, digest) sequence of its deliveries and handles."""
    out = defaultdict(list)
    for e in events:
        if e["type"] in ("deliver", "handle"):
            out[e["sink"]].append((e["len"], e["digest"]))
    return dict(out)


def test_boards_change_timing_not_routing():
    runs = [SimulatorExecutor().run(SAMPLE / "topology.yaml", board=b, duration=K_SECONDS(5))
            for b in ("native_sim", "nrf52840dk/nrf52840")]
    (a, b) = runs
    assert routing(a.events) == routing(b.events)
    assert {sink: len(seq) for sink, seq in routing(a.events).items()} == {
        "processor_sink": 25, "tcp_sink": 25, "validator_sink": 25}
    ticks = [[e["tick"] for e in o.events if e["type"] in ("deliver", "handle")] for o in runs]
    assert ticks[0] != ticks[1]
    assert a.ticks_per_sec != b.ticks_per_sec
