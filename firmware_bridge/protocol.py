"""The firmware_bridge wire protocol (PROTOCOL.md): frames, payloads and a stream decoder.

``encode_frame``/``decode_body`` convert between ``Frame`` objects and bytes;
``encode_payload``/``decode_payload`` convert a frame's payload to and from a dict of
named fields; ``FrameDecoder`` splits a noisy byte stream into valid frames. Every error
raised here is a ``ProtocolError``.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cobs import cobs

from zsim.topology.patterns import PAT_COUNTER as PAT_COUNTER
from zsim.topology.patterns import PAT_EXPLICIT as PAT_EXPLICIT
from zsim.topology.patterns import PAT_FILL as PAT_FILL
from zsim.topology.patterns import PAT_RANDOM as PAT_RANDOM
from zsim.topology.patterns import PAT_ZEROS as PAT_ZEROS
from zsim.topology.patterns import PatternGen as PatternGen
from zsim.topology.patterns import xorshift_state as xorshift_state

PROTO_VERSION = 2           # HELLO's ``proto``: this host's newest protocol version
PROTO_VERSIONS = (1, 2)     # the versions this host speaks (§12.9)
FRAME_VERSION = 1           # the header's ``version`` byte (framing, unchanged since 1)
HEADER_LEN = 8
CRC_LEN = 4
MIN_BODY = HEADER_LEN + CRC_LEN
MIN_MAX_FRAME = 128          # every receiver supports bodies of this size
MAX_FRAME_LIMIT = 1024       # the largest body any device may advertise
NO_ID = 0xFF
COUNT_FOREVER = 0xFFFFFFFF
# errno values the protocol uses that zsim.errno does not define (Zephyr minimal libc)
EBADMSG, EPROTONOSUPPORT, EILSEQ = 77, 123, 138


class ProtocolError(Exception):
    """A frame or payload that breaks the protocol (the only error this module raises)."""


# ------------------------------------------------------------------ message types
HELLO, RESET, CREATE_POOL, CREATE_SOURCE, CREATE_QUEUE, CREATE_SINK = 0x01, 0x02, 0x03, 0x04, \
    0x05, 0x06
CONNECT, DISCONNECT, SEND, PROCESS, ADD_PERIODIC, ADD_SCRIPT, ADD_STEP = 0x07, 0x08, 0x09, \
    0x0A, 0x0B, 0x0C, 0x0D
RUN, STOP, READ_STATS, READ_UPTIME, GET_REPORTS, PING = 0x0E, 0x0F, 0x10, 0x11, 0x12, 0x13
RESPONSE_BIT = 0x40
NAK, ERROR = 0x7E, 0x7F
R_SEND, R_DELIVER, R_ENQUEUE, R_DROP, R_HANDLE, R_FAULT, R_PROCESS = 0x80, 0x81, 0x82, 0x83, \
    0x84, 0x85, 0x86
R_CONSOLE, R_RUN_DONE, R_ALLOC_FAIL, R_STEP = 0x87, 0x88, 0x89, 0x8A

COMMAND_NAMES = {
    HELLO: "HELLO", RESET: "RESET", CREATE_POOL: "CREATE_POOL", CREATE_SOURCE: "CREATE_SOURCE",
    CREATE_QUEUE: "CREATE_QUEUE", CREATE_SINK: "CREATE_SINK", CONNECT: "CONNECT",
    DISCONNECT: "DISCONNECT", SEND: "SEND", PROCESS: "PROCESS", ADD_PERIODIC: "ADD_PERIODIC",
    ADD_SCRIPT: "ADD_SCRIPT", ADD_STEP: "ADD_STEP", RUN: "RUN", STOP: "STOP",
    READ_STATS: "READ_STATS", READ_UPTIME: "READ_UPTIME", GET_REPORTS: "GET_REPORTS",
    PING: "PING",
}
REPORT_NAMES = {
    R_SEND: "R_SEND", R_DELIVER: "R_DELIVER", R_ENQUEUE: "R_ENQUEUE", R_DROP: "R_DROP",
    R_HANDLE: "R_HANDLE", R_FAULT: "R_FAULT", R_PROCESS: "R_PROCESS", R_CONSOLE: "R_CONSOLE",
    R_RUN_DONE: "R_RUN_DONE", R_ALLOC_FAIL: "R_ALLOC_FAIL", R_STEP: "R_STEP",
}
#: Commands whose effect does not depend on how often they run.
IDEMPOTENT = frozenset({HELLO, READ_STATS, READ_UPTIME, GET_REPORTS, PING, STOP})

# feature bits (HELLO), flags
FEAT_STATS, FEAT_RUNTIME, FEAT_NAMES, FEAT_VIRTUAL = 1, 2, 4, 8
FLAG_CONSUME = 1
# patterns (PROTOCOL.md §9): PAT_* come from zsim.topology.patterns
# behaviour step ops and script step ops
ST_RECORD, ST_CPU_US, ST_CPU_CYCLES, ST_SLEEP, ST_FORWARD, ST_DROP = 0, 1, 2, 3, 4, 5
OP_SEND, OP_PROCESS, OP_CONNECT, OP_DISCONNECT = 1, 2, 3, 4
# stats kinds, report origins
KIND_SOURCE, KIND_SINK, KIND_QUEUE, KIND_POOL = 0, 1, 2, 3
NAK_OUT_OF_SEQUENCE = 1


def type_name(t: int) -> str:
    """A readable name for a frame type."""
    if t in COMMAND_NAMES:
        return COMMAND_NAMES[t]
    if t & ~RESPONSE_BIT in COMMAND_NAMES and t & RESPONSE_BIT and t < 0x80:
        return COMMAND_NAMES[t & ~RESPONSE_BIT] + "_RESP"
    return REPORT_NAMES.get(t) or {NAK: "NAK", ERROR: "ERROR"}.get(t, f"0x{t:02X}")


def is_response(t: int) -> bool:
    """True for a response to a command (``cmd | 0x40``)."""
    return 0x41 <= t <= 0x7D


def is_report(t: int) -> bool:
    """True for an asynchronous report."""
    return 0x80 <= t <= 0xBF


# ------------------------------------------------------------------ CRC and COBS
def crc32(data: bytes | bytearray | memoryview, value: int = 0) -> int:
    """CRC-32/ISO-HDLC, as ``zlib.crc32`` (check value 0xCBF43926)."""
    return zlib.crc32(data, value) & 0xFFFFFFFF


def cobs_encode(data: bytes) -> bytes:
    """COBS-encode ``data`` (no delimiter)."""
    return cobs.encode(bytes(data))


def cobs_decode(data: bytes) -> bytes:
    """COBS-decode one chunk (without its delimiter)."""
    try:
        return cobs.decode(bytes(data))
    except cobs.DecodeError as exc:
        raise ProtocolError(f"bad COBS encoding: {exc}") from None


def max_encoded(max_frame: int) -> int:
    """Largest COBS encoding of a body of ``max_frame`` bytes (without the delimiter)."""
    return max_frame + -(-max_frame // 254) + 1


# ------------------------------------------------------------------ frames
@dataclass(frozen=True)
class Frame:
    """One decoded frame (§3)."""

    type: int
    seq: int = 0
    ack: int = 0
    credit: int = 0
    flags: int = 0
    payload: bytes = b""
    version: int = FRAME_VERSION

    @property
    def name(self) -> str:
        return type_name(self.type)


_HDR = struct.Struct("<BBHHBB")


def encode_body(frame: Frame) -> bytes:
    """Header + payload + CRC of a frame (not yet COBS-encoded)."""
    try:
        head = _HDR.pack(frame.version, frame.type, frame.seq, frame.ack, frame.credit,
                         frame.flags)
    except struct.error as exc:
        raise ProtocolError(f"bad header field: {exc}") from None
    body = head + bytes(frame.payload)
    if len(body) + CRC_LEN > MAX_FRAME_LIMIT:
        raise ProtocolError(f"frame of {len(body) + CRC_LEN} bytes exceeds the "
                            f"{MAX_FRAME_LIMIT}-byte limit")
    return body + struct.pack("<I", crc32(body))


def encode_frame(frame: Frame) -> bytes:
    """The wire bytes of a frame: COBS(body) followed by 0x00."""
    return cobs_encode(encode_body(frame)) + b"\x00"


def decode_body(body: bytes, max_frame: int = MAX_FRAME_LIMIT) -> Frame:
    """Check a decoded body (length, CRC, version) and split it into a ``Frame``."""
    n = len(body)
    if n < MIN_BODY:
        raise ProtocolError(f"frame too short ({n} bytes, at least {MIN_BODY})")
    if n > max_frame:
        raise ProtocolError(f"frame too long ({n} bytes, at most {max_frame})")
    (crc,) = struct.unpack_from("<I", body, n - CRC_LEN)
    if crc32(body[: n - CRC_LEN]) != crc:
        raise ProtocolError("CRC mismatch")
    version, typ, seq, ack, credit, flags = _HDR.unpack_from(body)
    if version != FRAME_VERSION:
        raise ProtocolError(f"unknown protocol version {version}")
    return Frame(typ, seq, ack, credit, flags, bytes(body[HEADER_LEN: n - CRC_LEN]), version)


def decode_frame(wire: bytes, max_frame: int = MAX_FRAME_LIMIT) -> Frame:
    """Decode one wire frame (with or without its trailing 0x00)."""
    if wire.endswith(b"\x00"):
        wire = wire[:-1]
    if b"\x00" in wire:
        raise ProtocolError("a frame contains a 0x00 byte before its end")
    return decode_body(cobs_decode(wire), max_frame)


@dataclass
class DecoderStats:
    """What a ``FrameDecoder`` threw away."""

    frames: int = 0
    bad_cobs: int = 0
    bad_crc: int = 0
    bad_length: int = 0
    bad_version: int = 0
    overflows: int = 0
    bytes_discarded: int = 0

    @property
    def errors(self) -> int:
        return self.bad_cobs + self.bad_crc + self.bad_length + self.bad_version + self.overflows


class FrameDecoder:
    """Splits a byte stream into frames, resynchronising on 0x00 after any damage.

    Memory is bounded by ``max_encoded(max_frame)``; damaged frames are counted in
    ``stats`` and skipped, never raised.
    """

    def __init__(self, max_frame: int = MAX_FRAME_LIMIT) -> None:
        if not MIN_BODY <= max_frame <= MAX_FRAME_LIMIT:
            raise ProtocolError(f"max_frame must be {MIN_BODY}..{MAX_FRAME_LIMIT}")
        self.max_frame = max_frame
        self._limit = max_encoded(max_frame)
        self._buf = bytearray()
        self._skipping = False
        self.stats = DecoderStats()

    @property
    def pending(self) -> int:
        """Bytes held waiting for a delimiter."""
        return len(self._buf)

    def reset(self) -> None:
        """Forget any partial frame."""
        self._buf.clear()
        self._skipping = False

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        """Add received bytes; return the complete, valid frames they finish."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ProtocolError(f"feed() takes bytes, not {type(data).__name__}")
        out: list[Frame] = []
        data = bytes(data)
        pos = 0
        end = len(data)
        while pos < end:
            z = data.find(b"\x00", pos)
            chunk = data[pos:] if z < 0 else data[pos:z]
            if self._skipping:
                self.stats.bytes_discarded += len(chunk)
            else:
                self._buf += chunk
                if len(self._buf) > self._limit:
                    self.stats.overflows += 1
                    self.stats.bytes_discarded += len(self._buf)
                    self._buf.clear()
                    self._skipping = True
            if z < 0:
                break
            pos = z + 1
            if self._skipping:
                self._skipping = False
                continue
            if self._buf:
                frame = self._finish(bytes(self._buf))
                self._buf.clear()
                if frame is not None:
                    out.append(frame)
        return out

    def _finish(self, chunk: bytes) -> Frame | None:
        st = self.stats
        try:
            body = cobs.decode(chunk)
        except cobs.DecodeError:
            st.bad_cobs += 1
            st.bytes_discarded += len(chunk)
            return None
        n = len(body)
        if n < MIN_BODY or n > self.max_frame:
            st.bad_length += 1
            st.bytes_discarded += len(chunk)
            return None
        if crc32(body[:-CRC_LEN]) != int.from_bytes(body[-CRC_LEN:], "little"):
            st.bad_crc += 1
            st.bytes_discarded += len(chunk)
            return None
        if body[0] != FRAME_VERSION:
            st.bad_version += 1
            st.bytes_discarded += len(chunk)
            return None
        st.frames += 1
        _v, typ, seq, ack, credit, flags = _HDR.unpack_from(body)
        return Frame(typ, seq, ack, credit, flags, body[HEADER_LEN:-CRC_LEN])


# ------------------------------------------------------------------ payload fields
_FMT = {"u8": "B", "i8": "b", "u16": "H", "u32": "I", "i32": "i", "u64": "Q"}
BUFREF = (("pool", "u8"), ("index", "u16"), ("nth", "u32"))
_REPORT_HEAD = (("index", "u32"), ("tick", "u64"))

_COMMANDS: dict[int, tuple] = {
    HELLO: (("proto", "u8"), ("host_max_frame", "u16")),
    RESET: (("seed", "u32"), ("flags", "u8")),
    CREATE_POOL: (("id", "u8"), ("count", "u16"), ("size", "u16"), ("user_data_size", "u8"),
                  ("name", "str")),
    CREATE_SOURCE: (("id", "u8"), ("name", "str")),
    CREATE_QUEUE: (("id", "u8"), ("size", "u16"), ("prio", "i8"), ("stack_size", "u16"),
                   ("name", "str"), ("thread_name", "str")),
    CREATE_SINK: (("id", "u8"), ("queue", "u8"), ("name", "str"), ("steps", "steps")),
    CONNECT: (("source", "u8"), ("sink", "u8"), ("runtime", "u8")),
    DISCONNECT: (("source", "u8"), ("sink", "u8")),
    SEND: (("source", "u8"), ("pool", "u8"), ("flags", "u8"), ("timeout", "i32"),
           ("size", "u16"), ("pattern", "u8"), ("arg", "u8"), ("data", "senddata")),
    PROCESS: (("queue", "u8"), ("timeout", "i32")),
    ADD_PERIODIC: (("stim", "u8"), ("source", "u8"), ("pool", "u8"), ("prio", "i8"),
                   ("stack_size", "u16"), ("start", "u32"), ("period", "u32"),
                   ("count", "u32"), ("size", "u16"), ("pattern", "u8"), ("arg", "u8"),
                   ("timeout", "i32"), ("flags", "u8"), ("thread_name", "str")),
    ADD_SCRIPT: (("stim", "u8"), ("prio", "i8"), ("stack_size", "u16"),
                 ("thread_name", "str")),
    ADD_STEP: (("stim", "u8"), ("at", "u32"), ("step", "scriptop")),
    RUN: (("ticks", "u32"),),
    STOP: (),
    READ_STATS: (("kind", "u8"), ("id", "u8")),
    READ_UPTIME: (),
    GET_REPORTS: (("from", "u32"), ("max", "u16")),
    PING: (("data", "rest"),),
}

_RESPONSES: dict[int, tuple] = {
    HELLO: (("ret", "i32"), ("proto", "u8"), ("max_frame", "u16"), ("rx_window", "u8"),
            ("ticks_per_sec", "u32"), ("max_pools", "u8"), ("max_sources", "u8"),
            ("max_sinks", "u8"), ("max_queues", "u8"), ("max_steps", "u8"),
            ("max_stimuli", "u8"), ("max_script_steps", "u16"), ("report_ring", "u16"),
            ("features", "u8"), ("board", "str"), ("build_id", "str")),
    READ_STATS: (("ret", "i32"), ("data", "rest")),
    READ_UPTIME: (("ret", "i32"), ("ticks", "u64"), ("running", "u8")),
    GET_REPORTS: (("ret", "i32"), ("total", "u32"), ("oldest", "u32"), ("running", "u8"),
                  ("lost", "u32")),
    PING: (("ret", "i32"), ("data", "rest")),
}

#: Appended to the HELLO response from protocol version 2 on (the device's ``proto`` >= 2):
#: the link rate and the limits CREATE_POOL, CREATE_QUEUE, CONNECT and FORWARD enforce.
#: A field's largest value means "no limit of its own".
HELLO_V2_FIELDS: tuple = (
    ("link_baud", "u32"), ("pool_buf_size", "u16"), ("pool_buf_count", "u16"),
    ("pool_user_data", "u8"), ("pool_total_bytes", "u32"), ("pool_total_bufs", "u32"),
    ("queue_max_size", "u16"), ("queue_total_slots", "u32"), ("max_connections", "u16"),
    ("max_header", "u8"))
HELLO_RESP = HELLO | RESPONSE_BIT

_REPORTS: dict[int, tuple] = {
    R_SEND: (("source", "u8"), ("ret", "i32"), ("len", "u32"), ("digest", "u32"),
             ("buf", "bufref")),
    R_DELIVER: (("source", "u8"), ("sink", "u8"), ("len", "u32"), ("digest", "u32"),
                ("buf", "bufref")),
    R_ENQUEUE: (("source", "u8"), ("sink", "u8"), ("len", "u32"), ("buf", "bufref")),
    R_DROP: (("source", "u8"), ("sink", "u8"), ("ret", "i32"), ("buf", "bufref")),
    R_HANDLE: (("queue", "u8"), ("sink", "u8"), ("ret", "i32"), ("len", "u32"),
               ("digest", "u32"), ("buf", "bufref")),
    R_FAULT: (("origin", "u8"), ("id", "u8"), ("sink", "u8"), ("buf", "bufref")),
    R_PROCESS: (("queue", "u8"), ("ret", "i32")),
    R_CONSOLE: (("text", "text"),),
    R_RUN_DONE: (),
    R_ALLOC_FAIL: (("pool", "u8"), ("origin", "u8"), ("id", "u8")),
    R_STEP: (("stim", "u8"), ("step", "u16"), ("op", "u8"), ("ret", "i32")),
}

_STEP_ARGS: dict[int, tuple[str, tuple]] = {
    ST_RECORD: ("record", ()),
    ST_CPU_US: ("cpu_us", (("us", "u32"),)),
    ST_CPU_CYCLES: ("cpu_cycles", (("cycles", "u32"),)),
    ST_SLEEP: ("sleep", (("ticks", "i32"),)),
    ST_FORWARD: ("forward", (("source", "u8"), ("pool", "u8"), ("timeout", "i32"),
                             ("hdr_kind", "u8"), ("hdr", "bytes8"))),
    ST_DROP: ("drop", ()),
}
_STEP_OPS = {name: (op, fields) for op, (name, fields) in _STEP_ARGS.items()}

_SCRIPT_ARGS: dict[int, tuple[str, tuple]] = {
    OP_SEND: ("send", (("source", "u8"), ("pool", "u8"), ("flags", "u8"), ("timeout", "i32"),
                       ("size", "u16"), ("pattern", "u8"), ("arg", "u8"))),
    OP_PROCESS: ("process", (("queue", "u8"), ("timeout", "i32"))),
    OP_CONNECT: ("connect", (("source", "u8"), ("sink", "u8"))),
    OP_DISCONNECT: ("disconnect", (("source", "u8"), ("sink", "u8"))),
}
_SCRIPT_OPS = {name: (op, fields) for op, (name, fields) in _SCRIPT_ARGS.items()}


def schema(typ: int, proto: int = 1) -> tuple:
    """The field list of a frame type's payload (a HELLO response's depends on its
    ``proto``)."""
    if typ == HELLO_RESP and proto >= 2:
        return _RESPONSES[HELLO] + HELLO_V2_FIELDS
    if typ in _COMMANDS:
        return _COMMANDS[typ]
    if is_response(typ) and typ & ~RESPONSE_BIT in _COMMANDS:
        return _RESPONSES.get(typ & ~RESPONSE_BIT, (("ret", "i32"),))
    if typ == NAK:
        return (("ret", "i32"), ("reason", "u8"))
    if typ == ERROR:
        return (("ret", "i32"),)
    if typ in _REPORTS:
        return _REPORT_HEAD + _REPORTS[typ]
    raise ProtocolError(f"unknown frame type 0x{typ:02X}")


def _put(out: bytearray, kind: str, value: Any, fields: dict[str, Any], name: str) -> None:
    if kind in _FMT:
        try:
            out += struct.pack("<" + _FMT[kind], int(value))
        except (struct.error, TypeError, ValueError) as exc:
            raise ProtocolError(f"field {name!r}: {value!r} is not a valid {kind}: "
                                f"{exc}") from None
    elif kind == "str":
        raw = str(value).encode("utf-8")
        if len(raw) > 31:
            raise ProtocolError(f"field {name!r}: {value!r} is longer than 31 bytes")
        out.append(len(raw))
        out += raw
    elif kind == "bytes8":
        raw = bytes(value)
        if len(raw) > 255:
            raise ProtocolError(f"field {name!r}: more than 255 bytes")
        out.append(len(raw))
        out += raw
    elif kind in ("rest", "senddata"):
        if kind == "senddata" and fields.get("pattern") != PAT_EXPLICIT:
            if value:
                raise ProtocolError("SEND data is only sent with pattern EXPLICIT")
            return
        out += bytes(value or b"")
    elif kind == "text":
        out += str(value).encode("utf-8")
    elif kind == "bufref":
        v = value or {}
        for fname, fkind in BUFREF:
            _put(out, fkind, v.get(fname, 0), v, f"{name}.{fname}")
    elif kind == "steps":
        steps = list(value)
        if len(steps) > 255:
            raise ProtocolError("a sink has more than 255 behaviour steps")
        out.append(len(steps))
        for step in steps:
            _put_op(out, step, _STEP_OPS, "behaviour step")
    elif kind == "scriptop":
        _put_op(out, value, _SCRIPT_OPS, "script step")
    else:  # pragma: no cover - schema bug
        raise ProtocolError(f"unknown field kind {kind}")


def _put_op(out: bytearray, step: dict[str, Any], table: dict, what: str) -> None:
    if not isinstance(step, dict) or step.get("op") not in table:
        raise ProtocolError(f"bad {what} {step!r}: op must be one of {sorted(table)}")
    code, fields = table[step["op"]]
    out.append(code)
    for fname, fkind in fields:
        if fname not in step:
            if fname == "hdr":
                _put(out, fkind, b"", step, fname)
                continue
            raise ProtocolError(f"{what} {step['op']!r} needs field {fname!r}")
        _put(out, fkind, step[fname], step, fname)


def encode_payload(typ: int, fields: dict[str, Any] | None = None) -> bytes:
    """Pack ``fields`` by the schema of frame type ``typ``."""
    fields = fields or {}
    out = bytearray()
    for name, kind in schema(typ, _proto_of(typ, fields)):
        if name not in fields and kind not in ("rest", "senddata", "bufref"):
            raise ProtocolError(f"{type_name(typ)}: missing field {name!r}")
        _put(out, kind, fields.get(name), fields, name)
    return bytes(out)


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ProtocolError(f"payload too short: needs {self.pos + n} bytes, has "
                                f"{len(self.data)}")
        b = self.data[self.pos: self.pos + n]
        self.pos += n
        return b

    def get(self, kind: str, fields: dict[str, Any]) -> Any:
        if kind in _FMT:
            fmt = "<" + _FMT[kind]
            return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]
        if kind in ("str", "bytes8"):
            n = self.take(1)[0]
            raw = self.take(n)
            if kind == "bytes8":
                return raw
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ProtocolError("a string field is not UTF-8") from None
        if kind == "rest":
            return self.take(len(self.data) - self.pos)
        if kind == "senddata":
            if fields.get("pattern") != PAT_EXPLICIT:
                return b""
            return self.take(fields["size"])
        if kind == "text":
            return self.take(len(self.data) - self.pos).decode("utf-8", "replace")
        if kind == "bufref":
            return {n: self.get(k, fields) for n, k in BUFREF}
        if kind == "steps":
            return [self.op(_STEP_ARGS, "behaviour step") for _ in range(self.take(1)[0])]
        if kind == "scriptop":
            return self.op(_SCRIPT_ARGS, "script step")
        raise ProtocolError(f"unknown field kind {kind}")  # pragma: no cover

    def op(self, table: dict, what: str) -> dict[str, Any]:
        code = self.take(1)[0]
        if code not in table:
            raise ProtocolError(f"unknown {what} op 0x{code:02X}")
        name, fields = table[code]
        step: dict[str, Any] = {"op": name}
        for fname, fkind in fields:
            step[fname] = self.get(fkind, step)
        return step


def decode_payload(typ: int, payload: bytes) -> dict[str, Any]:
    """Unpack a payload by the schema of ``typ``; bytes after the known fields are ignored."""
    r = _Reader(bytes(payload))
    out: dict[str, Any] = {}
    for name, kind in schema(typ):
        out[name] = r.get(kind, out)
    if typ == HELLO_RESP and _proto_of(typ, out) >= 2:
        for name, kind in HELLO_V2_FIELDS:
            out[name] = r.get(kind, out)
    return out


def _proto_of(typ: int, fields: dict[str, Any]) -> int:
    """The protocol version a HELLO response's layout follows (1 for every other type)."""
    if typ != HELLO_RESP:
        return 1
    try:
        return int(fields.get("proto", 1))
    except (TypeError, ValueError):
        return 1


_DEFAULTS = {"str": "", "bytes8": b"", "rest": b"", "senddata": b"", "text": ""}


def encode_filled(typ: int, fields: dict[str, Any]) -> bytes:
    """Like ``encode_payload``, with zero / empty values for missing fields (an error
    response still carries every field of its type)."""
    full = dict(fields)
    for name, kind in schema(typ, _proto_of(typ, fields)):
        if name not in full:
            full[name] = _DEFAULTS.get(kind, 0)
    return encode_payload(typ, full)


def make_frame(typ: int, fields: dict[str, Any] | None = None, *, seq: int = 0, ack: int = 0,
               credit: int = 0) -> Frame:
    """A frame of type ``typ`` with its payload packed from ``fields``."""
    return Frame(typ, seq, ack, credit, 0, encode_payload(typ, fields))


def fields_of(frame: Frame) -> dict[str, Any]:
    """The decoded payload of a frame."""
    return decode_payload(frame.type, frame.payload)


STATS_FIELDS = {
    KIND_SOURCE: (("send_count", "u32"), ("queued_total", "u32")),
    KIND_SINK: (("handled_count", "u32"), ("dropped_count", "u32")),
    KIND_QUEUE: (("processed_count", "u32"), ("high_water", "u16"), ("depth", "u16")),
    KIND_POOL: (("free", "u16"), ("min_free", "u16")),
}


def encode_stats(kind: int, values: dict[str, int]) -> bytes:
    """The counters of a READ_STATS response (after ``ret``)."""
    out = bytearray()
    for name, k in STATS_FIELDS[kind]:
        _put(out, k, values.get(name, 0), values, name)
    return bytes(out)


def decode_stats(kind: int, data: bytes) -> dict[str, int]:
    """Counters from a READ_STATS response's ``data``."""
    if kind not in STATS_FIELDS:
        raise ProtocolError(f"unknown stats kind {kind}")
    r = _Reader(bytes(data))
    return {name: r.get(k, {}) for name, k in STATS_FIELDS[kind]}


# ------------------------------------------------------------------ payload patterns
# PatternGen and xorshift_state live in zsim.topology.patterns (imported above).


def chain_digest(parts: Iterable[bytes]) -> int:
    """CRC-32 of the concatenation of ``parts`` (a fragment chain)."""
    value = 0
    for p in parts:
        value = zlib.crc32(p, value)
    return value & 0xFFFFFFFF
