"""Per-sink latency from trace events (zsim.summary), on hand-built event lists."""

from __future__ import annotations

import pytest

from zsim.summary import latency_table, percentile, sink_latencies


def ev(kind, us, **fields):
    return {"type": kind, "tick": int(us // 100), "us": float(us), **fields}


def one_packet(start_us=None):
    """src sends p#0@1 to an immediate sink (handler ends at 30) and a queued one (its
    handler ends at 100); send returns at 40."""
    send = ev("send", 40, source="src", buf="p#0@1", len=8, digest="00000000", ret=2)
    if start_us is not None:
        send["start_us"] = start_us
    return [
        ev("alloc", 10, pool="p", buf="p#0@1"),
        ev("deliver", 30, source="src", sink="imm", buf="p#0@1", len=8, digest="00000000"),
        ev("enqueue", 35, source="src", sink="qs", buf="p#0@1", len=8),
        send,
        ev("handle", 100, queue="q", sink="qs", buf="p#0@1", len=8, digest="00000000", ret=0),
    ]


def test_latency_runs_from_send_start_to_handler_end():
    lat = sink_latencies(one_packet(start_us=20))
    assert lat == {"imm": [10.0], "qs": [80.0]}


def test_latency_without_start_uses_first_event_of_the_send():
    lat = sink_latencies(one_packet())
    assert lat == {"imm": [0.0], "qs": [70.0]}


def test_handles_match_enqueues_in_fifo_order_per_sink_and_buffer():
    events = []
    # three sends of distinct buffers at 0, 10, 20; one buffer (b) is sent twice
    for buf, t in (("a", 0), ("b", 10), ("b", 20)):
        events.append(ev("enqueue", t, source="s", sink="q1", buf=buf, len=1))
        events.append(ev("send", t, source="s", buf=buf, len=1, digest="0", ret=1,
                         start_us=t - 1))
    events += [ev("handle", 50, queue="Q", sink="q1", buf="a", ret=0),
               ev("handle", 60, queue="Q", sink="q1", buf="b", ret=0),
               ev("handle", 80, queue="Q", sink="q1", buf="b", ret=0)]
    assert sink_latencies(events) == {"q1": [51.0, 51.0, 61.0]}


def test_drops_and_unmatched_handles_have_no_latency():
    events = [ev("drop", 5, source="s", sink="q1", buf="x", ret=-105),
              ev("send", 5, source="s", buf="x", ret=0, start_us=4),
              ev("handle", 9, queue="Q", sink="q1", buf="y", ret=0)]
    assert sink_latencies(events) == {}


def test_percentiles_nearest_rank():
    values = [float(v) for v in range(100, 0, -1)]        # 1..100, unsorted
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 0)


def test_latency_table_on_a_hand_built_trace():
    events = []
    for i in range(1, 201):                     # immediate sink: latency i µs for packet i
        t0 = i * 1000.0
        buf = f"pool#{i % 4}@{i}"
        events.append(ev("deliver", t0 + i, source="src", sink="imm", buf=buf, len=4,
                         digest="0"))
        events.append(ev("send", t0 + i, source="src", buf=buf, len=4, digest="0", ret=1,
                         start_us=t0))
    table = latency_table(events)
    assert table == {"imm": {"count": 200, "p50_us": 100.0, "p99_us": 198.0, "max_us": 200.0}}
