"""The trace's JSON lines (zsim.trace_events.Tap): each line is exactly ``json.dumps`` of the
event's dict, whatever the names, console text and values; lines come in event order; the
kernel tells a tracer of switches and timeouts only when it asks for them; ``BucketSeries``
keeps a spike however often it halves."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zsim import K_MSEC, K_NO_WAIT, K_SECONDS, Kernel, NetBufPool
from zsim.export.series import BucketSeries, Levels
from zsim.model import load_model
from zsim.packet_io import PacketEventQueue, PacketSink, PacketSource, connect
from zsim.trace import TraceRecorder
from zsim.trace_events import EventKind, us_text

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "basic_packet_routing"

NAMES = st.text(min_size=1, max_size=12)
TEXT = st.text(max_size=40).filter(lambda s: "\n" not in s and "\r" not in s)


def lines_and_events(k: Kernel, **options) -> tuple[list[str], TraceRecorder]:
    """A recorder keeping dicts and writing lines; the lines as text."""
    out: list[bytes] = []
    rec = TraceRecorder(k, lines=out.append, **options).install()
    return out, rec


def split(out: list[bytes]) -> list[str]:
    return b"".join(out).decode("ascii").splitlines()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(NAMES, min_size=5, max_size=5, unique=True), text=TEXT,
       origin=st.one_of(st.none(), TEXT), payload=st.binary(max_size=48),
       step=st.integers(-2**70, 2**70))
def test_every_line_is_json_dumps_of_its_event(names, text, origin, payload, step):
    """Names and text with quotes, backslashes, control and non-ASCII characters, nulls,
    ints beyond 64 bits: the streamed line equals ``json.dumps`` of the kept dict."""
    k = Kernel(board="native_sim", config={"PACKET_IO_STATS": True})
    pool = NetBufPool(k, names[0], 2, 64)
    src = PacketSource(k, names[1])
    queue = PacketEventQueue(k, names[2], 1)
    connect(src, PacketSink(k, names[3], lambda s, b: None))
    connect(src, PacketSink(k, names[4], lambda s, b: None, queue=queue))
    out, rec = lines_and_events(k, switches=True)
    log = k.log_module("m", 3)

    def body():
        log.inf("%s", text)
        for _ in range(2):              # the second send is dropped: the queue holds one
            buf = pool.alloc(K_NO_WAIT)
            buf.add_mem(payload)
            src.send_consume(buf, K_NO_WAIT)
        k.msleep(3)                     # some virtual time: us with and without a fraction
        queue.process(K_NO_WAIT)
        k.busy_wait(7)
        k._tracer("alloc_fail", pool, origin, text)
        k._tracer("step", origin, step, text, -step)
        k._tracer("handle", queue, None, None, -14)      # a fault: null sink and buffer
        k._tracer("process", queue, step)

    k.call(body)
    rec.uninstall()
    lines = split(out)
    assert lines == [json.dumps(ev) for ev in rec.events]
    kinds = {ev["type"] for ev in rec.events}
    assert {"console", "alloc", "send", "deliver", "enqueue", "drop", "handle", "free",
            "alloc_fail", "step", "fault", "process", "switch"} <= kinds


def test_lines_come_in_event_order_with_emitted_events(kernel):
    """An event emitted by hand is written after the streamed lines before it."""
    k = kernel()
    out, rec = lines_and_events(k, keep=False)
    log = k.log_module("m", 3)
    k.call(lambda: log.inf("first"))
    rec.emit("note", text="between")
    k.call(lambda: log.inf("last"))
    rec.uninstall()
    types = [json.loads(line).get("line", json.loads(line).get("text")) for line in split(out)]
    assert types[-3:] == ["[00:00:00.000,000] <inf> m: first", "between",
                          "[00:00:00.000,000] <inf> m: last"]


@settings(max_examples=300, deadline=None)
@given(us=st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                    st.integers(0, 2**45).map(lambda k: k / 1000),
                    st.integers(0, 2**45).map(lambda k: k / 10),
                    st.integers(0, 2**60).map(float)))
def test_us_text_is_repr(us):
    """The trace's floats (virtual times in µs) read as ``repr`` writes them, also on the
    fast paths for whole numbers and for multiples of 0.001."""
    assert us_text(us) == repr(us)


def test_us_text_at_the_edges():
    for us in (0.0, -0.0, 0.001, 0.0005, 0.1 + 0.2, 1.0, 1e15, 9007199254740992.0, 1e16,
               0.1, 123456.789, 2.5e-7, 1e300, 1099511627775.999, 1099511627776.001,
               2**40 - 0.5, 4503599627370495.5):
        assert us_text(us) == repr(us), us


def test_event_kinds_keep_their_field_order():
    send = EventKind("send", "source:n", "buf:b", "len:d")
    assert send.keys == ("source", "buf", "len") and send.codes == "nbd"
    assert send.head == '{"type": "send", "tick": '
    assert send.seps == (', "source": ', ', "buf": ', ', "len": ')


def run_sample(trace_sched: bool | None) -> tuple[list[str], int, list[str], list]:
    """The sample for 5 virtual s: console, uptime, thread CPU and the tracer's kinds."""
    m = load_model(SAMPLE)
    k = Kernel(board="native_sim", config=m.kernel_config(None), seed=0)
    seen: list[str] = []
    if trace_sched is not None:
        k.trace_to(lambda kind, *f: seen.append(kind), sched=trace_sched)
    m.main(k)
    k.run(until=K_SECONDS(5))
    cpu = [(t.name, t.cpu_units) for t in k.threads]
    return list(k.console), k._now, sorted(set(seen)), cpu


def test_a_tracer_without_scheduling_events_changes_nothing_else():
    """``trace_to(sched=False)``: no switch or timeout calls, and the run (console, virtual
    time, CPU per thread) is the one an untraced or fully traced run gives."""
    bare = run_sample(None)
    full = run_sample(True)
    quiet = run_sample(False)
    assert {"switch", "timeout"} <= set(full[2])
    assert not {"switch", "timeout"} & set(quiet[2])
    assert {"alloc", "free", "send", "deliver", "enqueue", "handle"} <= set(quiet[2])
    for other in (full, quiet):
        assert other[0] == bare[0] and other[1] == bare[1] and other[3] == bare[3]


def halved_reference(mins, maxs, lasts):
    """Pairs of buckets merged: the lowest minimum, the highest maximum, the later last."""
    n = len(lasts)
    return ([min(mins[i:i + 2]) for i in range(0, n, 2)],
            [max(maxs[i:i + 2]) for i in range(0, n, 2)],
            [lasts[min(i + 1, n - 1)] for i in range(0, n, 2)])


@settings(max_examples=60, deadline=None)
@given(changes=st.lists(st.tuples(st.floats(0, 5000), st.integers(-5, 50)), max_size=300),
       buckets=st.sampled_from([2, 4, 8, 16]))
def test_bucket_series_halving_keeps_every_extreme(changes, buckets):
    """Recording as time outgrows the buckets merges neighbours as the reference does, and
    the peak and every value's extremes survive."""
    s = BucketSeries(0, width_us=10.0, max_buckets=buckets)
    us = 0.0
    for step, value in changes:
        us += step
        before = (list(s.mins), list(s.maxs), list(s.lasts))
        index = int(us // s.width)
        if index >= s.max_buckets:          # this record halves at least once
            mins, maxs, lasts = before
            width = s.width
            while index >= s.max_buckets:
                mins, maxs, lasts = halved_reference(mins, maxs, lasts)
                width *= 2
                index //= 2
            s.record(us, value)
            assert s.width == width
            n = len(mins)
            assert s.mins[:n - 1] == mins[:-1] and s.maxs[:n - 1] == maxs[:-1]
        else:
            s.record(us, value)
        assert len(s.lasts) <= s.max_buckets
    assert s.peak == max([0] + [v for _, v in changes])
    assert min(s.mins) == min([0] + [v for _, v in changes])


def test_levels_follow_a_queue_and_a_pool(kernel):
    k = kernel({"PACKET_IO_STATS": True})
    pool = NetBufPool(k, "p", 3, 8)
    src = PacketSource(k, "s")
    queue = PacketEventQueue(k, "q", 4)
    connect(src, PacketSink(k, "k", lambda s, b: None, queue=queue))
    levels = Levels()
    rec = TraceRecorder(k, keep=False, packets=False, levels=levels).install()

    def body():
        for _ in range(3):
            src.send_consume(pool.alloc(K_NO_WAIT), K_NO_WAIT)
            k.msleep(1)
        while queue.process(K_NO_WAIT) == 0:
            k.sleep(K_MSEC(1))          # each handled event leaves the queue shallower

    k.call(body)
    rec.uninstall()
    assert levels.series["queue q depth"].peak == 3
    assert levels.series["pool p in use"].peak == 3
    assert levels.series["queue q depth"].value == 0
    assert levels.series["pool p in use"].value == 0
