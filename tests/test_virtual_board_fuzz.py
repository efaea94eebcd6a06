"""Fuzzing the virtual board: any byte stream keeps its memory bounded and HELLO alive."""

from __future__ import annotations

import tracemalloc

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_bridge import protocol as p
from firmware_bridge.virtual_board import VirtualBoard

MEMORY_BOUND = 64 << 20         # LIMITS allow 16 MiB of pools; a 4 GiB pool must not happen
PUMPS = 5                       # run slices after each chunk

_INT = {"u8": (0, 0xFF), "i8": (-128, 127), "u16": (0, 0xFFFF), "u32": (0, 0xFFFFFFFF),
        "i32": (-(1 << 31), (1 << 31) - 1), "u64": (0, (1 << 64) - 1)}


def _int(kind: str) -> st.SearchStrategy[int]:
    lo, hi = _INT[kind]
    # small ids and sizes make objects that exist; the extremes are the hostile ones
    return st.one_of(st.integers(0, 4), st.sampled_from([lo, hi, hi // 2 + 1]),
                     st.integers(lo, hi))


_NAME = st.text("abcxyz_", max_size=31)


def _fields(kinds: tuple) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({name: _value(kind) for name, kind in kinds})


def _value(kind: str) -> st.SearchStrategy:
    if kind in _INT:
        return _int(kind)
    if kind == "str":
        return _NAME
    if kind == "bytes8":
        return st.binary(max_size=12)
    raise AssertionError(kind)


_STEP = st.one_of(
    st.just({"op": "record"}), st.just({"op": "drop"}),
    _fields((("us", "u32"),)).map(lambda f: {"op": "cpu_us", **f}),
    _fields((("ticks", "i32"),)).map(lambda f: {"op": "sleep", **f}),
    _fields((("source", "u8"), ("pool", "u8"), ("timeout", "i32"), ("hdr_kind", "u8"),
             ("hdr", "bytes8"))).map(lambda f: {"op": "forward", **f}))
_SCRIPT_OP = st.one_of(
    _fields((("source", "u8"), ("pool", "u8"), ("flags", "u8"), ("timeout", "i32"),
             ("size", "u16"), ("pattern", "u8"), ("arg", "u8"))).map(
        lambda f: {"op": "send", **f}),
    _fields((("queue", "u8"), ("timeout", "i32"))).map(lambda f: {"op": "process", **f}),
    _fields((("source", "u8"), ("sink", "u8"))).map(lambda f: {"op": "connect", **f}))


def _command(typ: int) -> st.SearchStrategy[tuple[int, dict]]:
    kinds = p.schema(typ)
    simple = tuple((n, k) for n, k in kinds if k in _INT or k in ("str", "bytes8"))
    extra: dict[str, st.SearchStrategy] = {}
    for name, kind in kinds:
        if kind == "steps":
            extra[name] = st.lists(_STEP, max_size=20)
        elif kind == "scriptop":
            extra[name] = _SCRIPT_OP
        elif kind == "rest":
            extra[name] = st.binary(max_size=64)
    base = _fields(simple)
    if typ == p.SEND:        # patterns 0..3 only: EXPLICIT needs data (a frame of its own)
        base = base.map(lambda f: {**f, "pattern": f["pattern"] % 4})
    if typ == p.HELLO:
        base = base.map(lambda f: {**f, "proto": 1})
    return st.tuples(st.just(typ), base, st.fixed_dictionaries(extra)).map(
        lambda t: (t[0], {**t[1], **t[2]}))


_BUILD = (p.CREATE_POOL, p.CREATE_SOURCE, p.CREATE_QUEUE, p.CREATE_SINK, p.CONNECT, p.SEND,
          p.ADD_PERIODIC, p.ADD_SCRIPT, p.ADD_STEP, p.RUN, p.GET_REPORTS)
COMMANDS = st.one_of(st.one_of([_command(t) for t in _BUILD]),
                     st.one_of([_command(t) for t in sorted(p.COMMAND_NAMES)]))
# a small working scenario, so that the hostile commands meet objects and a run
SETUP = [(p.RESET, {"seed": 1, "flags": 3}),
         (p.CREATE_POOL, {"id": 0, "count": 4, "size": 64, "user_data_size": 4, "name": "pl"}),
         (p.CREATE_SOURCE, {"id": 0, "name": "src"}),
         (p.CREATE_QUEUE, {"id": 0, "size": 2, "prio": 5, "stack_size": 512, "name": "q",
                           "thread_name": "qt"}),
         (p.CREATE_SINK, {"id": 0, "queue": 0, "name": "qs", "steps": [{"op": "record"}]}),
         (p.CREATE_SINK, {"id": 1, "queue": 0xFF, "name": "is", "steps": []}),
         (p.CONNECT, {"source": 0, "sink": 0, "runtime": 0}),
         (p.CONNECT, {"source": 0, "sink": 1, "runtime": 0}),
         (p.ADD_PERIODIC, {"stim": 0, "source": 0, "pool": 0, "prio": 6, "stack_size": 512,
                           "start": 0, "period": 1, "count": 0xFFFFFFFF, "size": 16,
                           "pattern": p.PAT_RANDOM, "arg": 0, "timeout": 0, "flags": 1,
                           "thread_name": "stim"})]


@st.composite
def chunks(draw) -> list[tuple[str, object]]:
    """A session: mostly in-sequence commands, with garbage, cuts and stray frames."""
    out: list[tuple[str, object]] = []
    if draw(st.booleans()):
        out += [("cmd", (cmd, 0, 0.0)) for cmd in SETUP[:draw(st.integers(1, len(SETUP)))]]
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["cmd"] * 6 + ["garbage", "cut", "raw", "long", "seq"]))
        if kind in ("cmd", "cut", "seq"):
            out.append((kind, (draw(COMMANDS), draw(st.integers(0, 0xFFFF)),
                               draw(st.floats(0, 1)))))
        elif kind == "garbage":
            out.append((kind, draw(st.binary(max_size=300))))
        elif kind == "raw":
            out.append((kind, (draw(st.integers(0, 0xFF)), draw(st.integers(0, 0xFFFF)),
                               draw(st.binary(max_size=200)))))
        else:
            out.append((kind, bytes([draw(st.integers(1, 0xFF))]) *    # no delimiter
                        draw(st.integers(1000, 5000))))
    return out


def _wire(kind: str, item: object, seq: int) -> bytes:
    """The bytes of one chunk; commands use ``seq`` (the board's next) unless stray."""
    if kind == "garbage" or kind == "long":
        return item                                                 # type: ignore[return-value]
    if kind == "raw":
        typ, s, payload = item                                     # type: ignore[misc]
        return p.encode_frame(p.Frame(typ, s, 0, 0, 0, payload[:p.MAX_FRAME_LIMIT - 12]))
    (typ, fields), stray, cut = item                               # type: ignore[misc]
    try:
        wire = p.encode_frame(p.make_frame(typ, fields, seq=stray if kind == "seq" else seq))
    except p.ProtocolError:
        return b""
    return wire[:int(len(wire) * cut)] if kind == "cut" else wire


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(session=chunks())
def test_any_byte_stream_keeps_the_board_bounded_and_alive(session):
    sent = bytearray()

    def out(data: bytes) -> None:
        sent[:] = sent[-4096:] + data                     # keep only the stream's tail

    tracemalloc.start()
    try:
        vb = VirtualBoard("native_sim", report_ring=256)
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        vb.feed(p.encode_frame(p.make_frame(p.HELLO, {"proto": 1, "host_max_frame": 1024},
                                            seq=0)), out)
        for kind, item in session:
            # as a host resynchronises from the board's ack
            vb.feed(_wire(kind, item, (vb.last + 1) & 0xFFFF), out)
            for _ in range(PUMPS):
                vb.pump(out)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_BOUND, f"{peak / 2**20:.1f} MiB"
    assert len(vb.ring) <= 256 and len(vb.cache) <= vb.rx_window
    assert vb.decoder.pending <= p.max_encoded(vb.max_frame)
    # still alive: a fresh HELLO (after a delimiter ending any partial frame) is answered
    sent.clear()
    vb.feed(b"\x00" + p.encode_frame(p.make_frame(
        p.HELLO, {"proto": 1, "host_max_frame": 1024}, seq=0x1234)), out)
    answers = [f for f in p.FrameDecoder().feed(bytes(sent)) if f.seq == 0x1234]
    assert answers and answers[-1].type == p.HELLO | p.RESPONSE_BIT
    hello = p.fields_of(answers[-1])
    assert hello["ret"] == 0 and hello["report_ring"] == 256
