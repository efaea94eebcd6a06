"""Topologies built on a Kernel: timing, payloads, forward headers, runtime connections."""

from __future__ import annotations

import struct
import textwrap
import zlib
from pathlib import Path

import firmware_bridge.protocol as proto
from zsim import Kernel, errno
from zsim.kernel.time_units import K_MSEC
from zsim.topology import build, load_topology
from zsim.topology.patterns import PAT_COUNTER, PAT_RANDOM, PatternGen
from zsim.trace import TraceRecorder


def run(tmp_path: Path, text: str, ms: int, board: str = "native_sim", seed: int = 0,
        config: dict | None = None) -> tuple[Kernel, list[dict]]:
    path = tmp_path / "topology.yaml"
    path.write_text(textwrap.dedent(text))
    k = Kernel(board=board, seed=seed, config=config or {"PACKET_IO_STATS": True,
                                                         "PACKET_IO_RUNTIME_OBSERVERS": True})
    rec = TraceRecorder(k).install()
    build(k, load_topology(path))
    k.run(K_MSEC(ms))
    return k, rec.events


def of(events: list[dict], typ: str, **match: object) -> list[dict]:
    return [e for e in events if e["type"] == typ
            and all(e.get(key) == v for key, v in match.items())]


def test_the_bridge_uses_zsims_pattern_generator():
    assert proto.PatternGen is PatternGen
    gen = PatternGen(seed=3, stim=0)
    assert gen.make(4, PAT_COUNTER) == bytes([0, 1, 2, 3])
    assert gen.make(3, PAT_COUNTER) == bytes([1, 2, 3])
    a, b = PatternGen(seed=3, stim=1), PatternGen(seed=3, stim=1)
    assert a.make(16, PAT_RANDOM) == b.make(16, PAT_RANDOM)
    assert a.make(16, PAT_RANDOM) != PatternGen(seed=4, stim=1).make(16, PAT_RANDOM)


PERIODIC = """\
version: 1
pools: [{name: p, count: 4, size: 64}]
sources: [src]
sinks:
  - {name: slow, behaviour: [{cpu: {us: 3000}}]}
connections: [[src, slow]]
stimuli:
  - periodic: {source: src, pool: p, start: 5ms, every: 20ms, count: 6, size: 10,
               pattern: counter}
"""


def test_periodic_sends_keep_absolute_times_despite_slow_handlers(tmp_path):
    k, events = run(tmp_path, PERIODIC, 500, board="nrf52840dk/nrf52840")
    sends = of(events, "send", source="src")
    tps = k.ticks_per_sec
    start, period = K_MSEC(5).ticks(tps), K_MSEC(20).ticks(tps)
    # each send starts at start + n * period; it returns after the 3 ms handler
    firsts = [e["tick"] for e in of(events, "alloc", pool="p")]
    assert firsts == [start + n * period for n in range(6)]
    assert [e["ret"] for e in sends] == [1] * 6
    # counter pattern: byte i of send n is (n + i) & 0xFF
    for n, ev in enumerate(of(events, "deliver", sink="slow")):
        payload = bytes((n + i) & 0xFF for i in range(10))
        assert (ev["len"], ev["digest"]) == (10, f"{zlib.crc32(payload):08x}")


FORWARD = """\
version: 1
pools:
  - {name: data, count: 8, size: 64}
  - {name: hdr, count: 8, size: 4}
queues: [{name: q, size: 4, thread: {name: worker, priority: 5}}]
sources: [sensor, relay]
sinks:
  - name: proc
    queue: q
    behaviour: [{forward: {source: relay, pool: hdr, header: {seq16: true}}}]
  - {name: check}
connections: [[sensor, proc], [relay, check]]
stimuli:
  - periodic: {source: sensor, pool: data, every: 10ms, count: 5, size: 20, pattern: 0x33}
"""


def test_forward_chains_a_seq16_header_in_front_of_the_payload(tmp_path):
    k, events = run(tmp_path, FORWARD, 200)
    got = [(e["len"], e["digest"]) for e in of(events, "deliver", sink="check")]
    payload = bytes([0x33]) * 20
    assert got == [(22, f"{zlib.crc32(struct.pack('<H', n) + payload):08x}")
                   for n in range(5)]
    assert [e["type"] for e in events if e.get("sink") == "proc"] == ["enqueue", "handle"] * 5
    # every buffer allocated was freed: headers and payloads alike
    assert len(of(events, "alloc")) == len(of(events, "free")) == 10
    assert not k.leaks()


def test_forward_reports_an_empty_header_pool(tmp_path):
    text = FORWARD.replace("{name: hdr, count: 8, size: 4}", "{name: hdr, count: 1, size: 4}")
    text = text.replace("queues: [",
                        "queues: [{name: q2, thread: {name: checker, priority: 6}}, ")
    text = text.replace("- {name: check}",
                        "- {name: check, queue: q2, behaviour: [{sleep: {ms: 30}}]}")
    _k, events = run(tmp_path, text, 200)
    fails = of(events, "alloc_fail", pool="hdr")
    assert fails and all(e["origin"] == "forward" and e["by"] == "proc" for e in fails)
    assert len(of(events, "handle", sink="check")) + len(fails) == 5


RUNTIME = """\
version: 1
pools: [{name: p, count: 4, size: 16}]
sources: [src]
sinks: [{name: always}, {name: window, behaviour: [drop]}]
connections:
  - [src, always]
  - {source: src, sink: window, runtime: true, add_at: 25ms, remove_at: 55ms}
stimuli:
  - periodic: {source: src, pool: p, every: 10ms, count: 10, size: 4}
"""


def test_runtime_connections_follow_their_timeline(tmp_path):
    k, events = run(tmp_path, RUNTIME, 200)
    tps = k.ticks_per_sec
    window = [e["tick"] for e in of(events, "deliver", sink="window")]
    assert window == [K_MSEC(t).ticks(tps) for t in (30, 40, 50)]
    assert len(of(events, "deliver", sink="always")) == 10
    steps = of(events, "step", stimulus="conn_timeline")
    assert [(e["op"], e["ret"]) for e in steps] == [("connect", 0), ("disconnect", 0)]
    assert k.threads[-1].name == "conn_timeline" and k.threads[-1].prio == -1


SCRIPT = """\
version: 1
pools: [{name: p, count: 2, size: 16}]
queues: [{name: q, size: 2, thread: {name: never, priority: 14}}]
sources: [src]
sinks: [{name: s, queue: q}]
connections: [[src, s]]
stimuli:
  - script:
      thread: {name: driver, priority: 3}
      steps:
        - {at: 1ms, send: {source: src, pool: p, size: 8, pattern: random}}
        - {at: 2ms, process: {queue: q, timeout: 0ms}}
        - {at: 3ms, process: {queue: q, timeout: 0ms}}
        - {at: 4ms, send: {source: src, pool: p, size: 16, consume: false}}
"""


def test_script_steps_report_their_results(tmp_path):
    _k, events = run(tmp_path, SCRIPT, 50)
    steps = [(e["op"], e["ret"]) for e in of(events, "step", stimulus="driver")]
    # the queue's own thread was waiting: it took the event, the script's process finds none
    assert steps == [("send", 1), ("process", -errno.EAGAIN), ("process", -errno.EAGAIN),
                     ("send", 1)]
    assert [e["ret"] for e in of(events, "process", queue="q")] == [-errno.EAGAIN] * 2
    gen = PatternGen(seed=0, stim=0)
    assert of(events, "handle", sink="s")[0]["digest"] == \
        f"{zlib.crc32(gen.make(8, PAT_RANDOM)):08x}"
