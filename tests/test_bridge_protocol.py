"""Wire protocol codec: round trips, the shared vectors, and a fuzzed stream decoder."""

from __future__ import annotations

import json
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_bridge import protocol as p
from firmware_bridge import testvectors as tv


def _load(name: str):
    return json.loads((tv.VECTOR_DIR / name).read_text())


def test_vector_files_match_the_codec():
    for name, content in tv.all_vectors().items():
        assert _load(name) == json.loads(json.dumps(content)), f"{name} is stale: run " \
            "python -m firmware_bridge.testvectors"


def test_crc_parameters():
    assert p.crc32(b"123456789") == 0xCBF43926
    for v in _load("crc.json"):
        assert p.crc32(bytes.fromhex(v["data"])) == int(v["crc"], 16)


def test_cobs_vectors_both_ways():
    for v in _load("cobs.json"):
        raw, enc = bytes.fromhex(v["decoded"]), bytes.fromhex(v["encoded"])
        assert p.cobs_encode(raw) == enc
        assert p.cobs_decode(enc) == raw
        assert b"\x00" not in enc
        assert len(enc) <= p.max_encoded(max(len(raw), 1))


@pytest.mark.parametrize("vec", _load("frames.json"), ids=lambda v: v["name"])
def test_frame_vectors(vec):
    wire = bytes.fromhex(vec["wire"])
    frame = p.decode_frame(wire)
    assert (frame.type, frame.seq, frame.ack, frame.credit) == (
        vec["type"], vec["seq"], vec["ack"], vec["credit"])
    assert frame.payload.hex() == vec["payload"]
    assert p.encode_body(frame).hex() == vec["body"]
    assert vec["body"].endswith(bytes.fromhex(vec["crc"])[::-1].hex())
    fields = tv.from_jsonable(vec["fields"])
    decoded = p.fields_of(frame)
    assert {k: decoded[k] for k in fields} == fields
    assert p.encode_frame(p.make_frame(vec["type"], fields, seq=vec["seq"], ack=vec["ack"],
                                       credit=vec["credit"])) == wire


def test_every_message_type_has_a_vector():
    names = {v["type"] for v in _load("frames.json")}
    assert set(p.COMMAND_NAMES) <= names
    assert set(p.REPORT_NAMES) <= names
    assert {p.NAK, p.ERROR} <= names


def test_stream_vectors():
    frames = {v["name"]: p.decode_frame(bytes.fromhex(v["wire"]))
              for v in _load("frames.json")}
    for v in _load("streams.json"):
        dec = p.FrameDecoder()
        got = dec.feed(bytes.fromhex(v["stream"]))
        assert got == [frames[n] for n in v["frames"]], v["name"]


def test_stream_vectors_byte_by_byte():
    for v in _load("streams.json"):
        whole = p.FrameDecoder().feed(bytes.fromhex(v["stream"]))
        dec = p.FrameDecoder()
        one = [f for b in bytes.fromhex(v["stream"]) for f in dec.feed(bytes([b]))]
        assert one == whole, v["name"]


def test_invalid_vectors_are_rejected():
    for v in _load("invalid.json"):
        with pytest.raises(p.ProtocolError):
            p.decode_frame(bytes.fromhex(v["wire"]))
        dec = p.FrameDecoder()
        assert dec.feed(bytes.fromhex(v["wire"])) == []
        assert dec.stats.errors == 1


def test_pattern_vectors():
    for v in _load("patterns.json"):
        gen = p.PatternGen(seed=v["seed"], stim=v["stim"])
        assert f"{gen.state:08x}" == v["state0"]
        assert [gen.make(v["size"], v["pattern"], v["arg"]).hex() for _ in range(3)] == \
            v["sends"]


def test_payload_errors_are_protocol_errors():
    with pytest.raises(p.ProtocolError):
        p.encode_payload(p.CREATE_SOURCE, {"id": 300, "name": "x"})
    with pytest.raises(p.ProtocolError):
        p.encode_payload(p.CREATE_SOURCE, {"id": 1, "name": "x" * 40})
    with pytest.raises(p.ProtocolError):
        p.encode_payload(p.CREATE_SOURCE, {"id": 1})
    with pytest.raises(p.ProtocolError):
        p.decode_payload(p.CREATE_POOL, b"\x00\x01")
    with pytest.raises(p.ProtocolError):
        p.decode_payload(0x3E, b"")
    with pytest.raises(p.ProtocolError):
        p.encode_body(p.Frame(p.PING, payload=bytes(2000)))


def test_trailing_payload_bytes_are_ignored():
    raw = p.encode_payload(p.RUN, {"ticks": 5}) + b"\x99\x98"
    assert p.decode_payload(p.RUN, raw) == {"ticks": 5}


def test_digest_is_zlib_crc_over_the_chain():
    assert p.chain_digest([b"\xaa\x55", b"abc"]) == zlib.crc32(b"\xaa\x55abc")


# ------------------------------------------------------------------ fuzzing
_frames = st.builds(
    lambda t, s, a, c, pl: p.Frame(t, s, a, c, 0, pl),
    st.integers(0, 255), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.integers(0, 255),
    st.binary(max_size=200))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=3000), max_size=8))
def test_decoder_survives_any_bytes(chunks):
    dec = p.FrameDecoder(256)
    for chunk in chunks:
        try:
            frames = dec.feed(chunk)
        except p.ProtocolError:
            continue
        for f in frames:
            assert isinstance(f, p.Frame)
        assert dec.pending <= p.max_encoded(256)


@settings(max_examples=200, deadline=None)
@given(st.lists(_frames, min_size=1, max_size=6), st.lists(st.binary(max_size=50), max_size=6),
       st.integers(1, 64))
def test_decoder_recovers_frames_between_noise(frames, noise, split):
    stream = bytearray()
    for i, f in enumerate(frames):
        if i < len(noise):
            stream += noise[i] + b"\x00"        # garbage always ends at a delimiter here
        stream += p.encode_frame(f)
    dec = p.FrameDecoder()
    got = []
    for i in range(0, len(stream), split):
        got += dec.feed(bytes(stream[i:i + split]))
    # every real frame comes out, in order; noise may only add frames with a valid CRC
    it = iter(got)
    assert all(any(g == f for g in it) for f in frames)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=400), st.integers(0, 10_000))
def test_decode_frame_raises_only_protocol_error(data, seed):
    try:
        p.decode_frame(data)
    except p.ProtocolError:
        pass
    for t in (p.CREATE_SINK, p.ADD_STEP, p.SEND, p.HELLO | p.RESPONSE_BIT, p.R_HANDLE,
              p.R_CONSOLE):
        try:
            p.decode_payload(t, data)
        except p.ProtocolError:
            pass


def test_decoder_memory_is_bounded_without_delimiters():
    dec = p.FrameDecoder(128)
    for _ in range(100):
        dec.feed(b"\x01" * 1000)
        assert dec.pending <= p.max_encoded(128)
    assert dec.stats.overflows >= 1
    good = p.encode_frame(p.make_frame(p.PING, {"data": b"x"}, seq=3))
    assert dec.feed(b"\x00" + good)[0].seq == 3


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 255), st.sampled_from([0, 1, 255]), st.text(max_size=10),
       st.lists(st.sampled_from(["record", "drop", "cpu", "fwd", "sleep"]), max_size=8))
def test_sink_payload_round_trip(sid, queue, name, kinds):
    steps = []
    for k in kinds:
        if k in ("record", "drop"):
            steps.append({"op": k})
        elif k == "cpu":
            steps.append({"op": "cpu_us", "us": 5})
        elif k == "sleep":
            steps.append({"op": "sleep", "ticks": -1})
        else:
            steps.append({"op": "forward", "source": 1, "pool": 2, "timeout": 7,
                          "hdr_kind": 0, "hdr": b"\x00\xaa"})
    name = name.encode()[:31].decode("utf-8", "ignore")
    fields = {"id": sid, "queue": queue, "name": name, "steps": steps}
    assert p.decode_payload(p.CREATE_SINK, p.encode_payload(p.CREATE_SINK, fields)) == fields
