"""Shared test vectors of the wire protocol (``firmware_bridge/vectors/*.json``).

``python -m firmware_bridge.testvectors`` rewrites the files from the Python codec; the
tests check that the files and the codec agree, and the C shim's tests check its own
codec against the same files. Bytes are lowercase hex strings.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from . import protocol as p

VECTOR_DIR = Path(__file__).resolve().parent / "vectors"
_BYTES_FIELDS = {"data", "hdr"}
_BUF = {"pool": 1, "index": 3, "nth": 7}

# (name, type, seq, ack, credit, fields)
FRAME_CASES: list[tuple[str, int, int, int, int, dict[str, Any]]] = [
    ("hello", p.HELLO, 0, 0, 0, {"proto": 1, "host_max_frame": 1024}),
    ("hello_resp", p.HELLO | p.RESPONSE_BIT, 0, 0, 4, {
        "ret": 0, "proto": 1, "max_frame": 256, "rx_window": 4, "ticks_per_sec": 32768,
        "max_pools": 8, "max_sources": 16, "max_sinks": 16, "max_queues": 8, "max_steps": 8,
        "max_stimuli": 8, "max_script_steps": 64, "report_ring": 256, "features": 0x07,
        "board": "nrf52840dk/nrf52840", "build_id": "v0.1.0-3-gabcdef"}),
    ("reset", p.RESET, 1, 0, 0, {"seed": 0x12345678, "flags": 3}),
    ("create_pool", p.CREATE_POOL, 2, 0, 0, {"id": 0, "count": 16, "size": 512,
                                             "user_data_size": 4, "name": "sensor_pool"}),
    ("create_source", p.CREATE_SOURCE, 3, 0, 0, {"id": 1, "name": "sensor1_source"}),
    ("create_queue", p.CREATE_QUEUE, 4, 0, 0, {"id": 0, "size": 10, "prio": 5,
                                               "stack_size": 1024, "name": "processor_queue",
                                               "thread_name": "processor"}),
    ("create_queue_coop", p.CREATE_QUEUE, 5, 0, 0, {"id": 1, "size": 2, "prio": -2,
                                                    "stack_size": 512, "name": "q",
                                                    "thread_name": "t"}),
    ("create_sink_immediate", p.CREATE_SINK, 6, 0, 0, {"id": 0, "queue": 0xFF,
                                                       "name": "validator_sink",
                                                       "steps": [{"op": "record"}]}),
    ("create_sink_steps", p.CREATE_SINK, 7, 0, 0, {"id": 1, "queue": 0, "name": "processor_sink",
                                                   "steps": [
        {"op": "cpu_us", "us": 200},
        {"op": "cpu_cycles", "cycles": 6400},
        {"op": "sleep", "ticks": 1639},
        {"op": "forward", "source": 2, "pool": 1, "timeout": 0, "hdr_kind": 0,
         "hdr": bytes([0xAA, 0x55])},
        {"op": "forward", "source": 2, "pool": 1, "timeout": -1, "hdr_kind": 1, "hdr": b""},
        {"op": "record"},
        {"op": "drop"}]}),
    ("connect_static", p.CONNECT, 8, 0, 0, {"source": 1, "sink": 1, "runtime": 0}),
    ("connect_runtime", p.CONNECT, 9, 0, 0, {"source": 1, "sink": 3, "runtime": 1}),
    ("disconnect", p.DISCONNECT, 10, 0, 0, {"source": 1, "sink": 3}),
    ("send_pattern", p.SEND, 11, 0, 0, {"source": 1, "pool": 0, "flags": 1, "timeout": 3277,
                                        "size": 256, "pattern": p.PAT_COUNTER, "arg": 7,
                                        "data": b""}),
    ("send_explicit", p.SEND, 12, 0, 0, {"source": 1, "pool": 0, "flags": 0, "timeout": -1,
                                         "size": 4, "pattern": p.PAT_EXPLICIT, "arg": 0,
                                         "data": bytes([0xDE, 0xAD, 0x00, 0xEF])}),
    ("process", p.PROCESS, 13, 0, 0, {"queue": 0, "timeout": 0}),
    ("add_periodic", p.ADD_PERIODIC, 14, 0, 0, {
        "stim": 0, "source": 1, "pool": 0, "prio": 7, "stack_size": 1024, "start": 0,
        "period": 6554, "count": 25, "size": 256, "pattern": p.PAT_RANDOM, "arg": 0,
        "timeout": 3277, "flags": 1, "thread_name": "sensor1"}),
    ("add_periodic_forever", p.ADD_PERIODIC, 15, 0, 0, {
        "stim": 1, "source": 1, "pool": 0, "prio": 7, "stack_size": 1024, "start": 100,
        "period": 10, "count": p.COUNT_FOREVER, "size": 8, "pattern": p.PAT_FILL,
        "arg": 0xAA, "timeout": 0, "flags": 0, "thread_name": "sensor2"}),
    ("add_script", p.ADD_SCRIPT, 16, 0, 0, {"stim": 2, "prio": 7, "stack_size": 1024,
                                            "thread_name": "script"}),
    ("add_step_send", p.ADD_STEP, 17, 0, 0, {"stim": 2, "at": 328, "step": {
        "op": "send", "source": 1, "pool": 0, "flags": 1, "timeout": 0, "size": 64,
        "pattern": p.PAT_FILL, "arg": 0xAA}}),
    ("add_step_process", p.ADD_STEP, 18, 0, 0, {"stim": 2, "at": 656, "step": {
        "op": "process", "queue": 0, "timeout": 0}}),
    ("add_step_connect", p.ADD_STEP, 19, 0, 0, {"stim": 2, "at": 32768, "step": {
        "op": "connect", "source": 1, "sink": 3}}),
    ("add_step_disconnect", p.ADD_STEP, 20, 0, 0, {"stim": 2, "at": 98304, "step": {
        "op": "disconnect", "source": 1, "sink": 3}}),
    ("run", p.RUN, 21, 0, 0, {"ticks": 163840}),
    ("stop", p.STOP, 22, 0, 0, {}),
    ("read_stats", p.READ_STATS, 23, 0, 0, {"kind": p.KIND_SINK, "id": 1}),
    ("read_uptime", p.READ_UPTIME, 24, 0, 0, {}),
    ("get_reports", p.GET_REPORTS, 25, 0, 0, {"from": 1000, "max": 64}),
    ("ping", p.PING, 0xFFFF, 0, 0, {"data": b"\x00\x01\x02zsim"}),
    ("resp_ok", p.RESET | p.RESPONSE_BIT, 1, 1, 4, {"ret": 0}),
    ("resp_connect_ealready", p.CONNECT | p.RESPONSE_BIT, 9, 9, 3, {"ret": -120}),
    ("resp_send", p.SEND | p.RESPONSE_BIT, 11, 11, 4, {"ret": 2}),
    ("resp_process_eagain", p.PROCESS | p.RESPONSE_BIT, 13, 13, 4, {"ret": -11}),
    ("resp_read_stats", p.READ_STATS | p.RESPONSE_BIT, 23, 23, 4, {
        "ret": 0, "data": p.encode_stats(p.KIND_SINK, {"handled_count": 25,
                                                      "dropped_count": 3})}),
    ("resp_read_uptime", p.READ_UPTIME | p.RESPONSE_BIT, 24, 24, 4, {
        "ret": 0, "ticks": 0x1_0000_0005, "running": 1}),
    ("resp_get_reports", p.GET_REPORTS | p.RESPONSE_BIT, 25, 25, 4, {
        "ret": 0, "total": 1234, "oldest": 1000, "running": 0, "lost": 0}),
    ("resp_ping", p.PING | p.RESPONSE_BIT, 0xFFFF, 0xFFFF, 1, {"ret": 0,
                                                               "data": b"\x00\x01\x02zsim"}),
    ("nak", p.NAK, 30, 25, 4, {"ret": -138, "reason": 1}),
    ("error_unknown", p.ERROR, 26, 26, 4, {"ret": -134}),
    ("r_send", p.R_SEND, 0, 25, 4, {"index": 0, "tick": 0, "source": 1, "ret": 2,
                                    "len": 256, "digest": 0xDEADBEEF, "buf": _BUF}),
    ("r_deliver", p.R_DELIVER, 0, 25, 4, {"index": 1, "tick": 12, "source": 1, "sink": 0,
                                          "len": 258, "digest": 0x01020304, "buf": _BUF}),
    ("r_enqueue", p.R_ENQUEUE, 0, 25, 4, {"index": 2, "tick": 12, "source": 1, "sink": 1,
                                          "len": 256, "buf": _BUF}),
    ("r_drop", p.R_DROP, 0, 25, 4, {"index": 3, "tick": 13, "source": 1, "sink": 1,
                                    "ret": -105, "buf": _BUF}),
    ("r_handle", p.R_HANDLE, 0, 25, 4, {"index": 4, "tick": 20, "queue": 0, "sink": 1,
                                        "ret": 0, "len": 256, "digest": 0xCBF43926,
                                        "buf": _BUF}),
    ("r_fault", p.R_FAULT, 0, 25, 4, {"index": 5, "tick": 21, "origin": 1, "id": 0,
                                      "sink": 1, "buf": _BUF}),
    ("r_process", p.R_PROCESS, 0, 25, 4, {"index": 6, "tick": 22, "queue": 0, "ret": -11}),
    ("r_console", p.R_CONSOLE, 0, 25, 4, {"index": 7, "tick": 23,
                                          "text": "[00:00:00.001,000] <inf> app: hi"}),
    ("r_run_done", p.R_RUN_DONE, 0, 25, 4, {"index": 8, "tick": 163840}),
    ("r_alloc_fail", p.R_ALLOC_FAIL, 0, 25, 4, {"index": 9, "tick": 30, "pool": 0,
                                                "origin": 0, "id": 0}),
    ("r_step", p.R_STEP, 0, 25, 4, {"index": 0xFFFFFFFF, "tick": 0xFFFFFFFFFFFF, "stim": 2,
                                    "step": 3, "op": p.OP_CONNECT, "ret": -120}),
]

# protocol version 2 (§12.9): HELLO asking for version 2, and its longer answer; the
# version 1 pair above stays valid
FRAME_CASES += [
    ("hello_v2", p.HELLO, 0, 0, 0, {"proto": 2, "host_max_frame": 1024}),
    ("hello_resp_v2", p.HELLO | p.RESPONSE_BIT, 0, 0, 4, {
        "ret": 0, "proto": 2, "max_frame": 256, "rx_window": 4, "ticks_per_sec": 32768,
        "max_pools": 8, "max_sources": 16, "max_sinks": 16, "max_queues": 8, "max_steps": 8,
        "max_stimuli": 8, "max_script_steps": 64, "report_ring": 256, "features": 0x07,
        "board": "nrf52840dk/nrf52840", "build_id": "v0.1.0-3-gabcdef",
        "link_baud": 115200, "pool_buf_size": 512, "pool_buf_count": 16, "pool_user_data": 4,
        "pool_total_bytes": 66048, "pool_total_bufs": 128, "queue_max_size": 16,
        "queue_total_slots": 128, "max_connections": 32, "max_header": 16}),
]


def jsonable(value: Any) -> Any:
    """Bytes as hex strings, recursively."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


def from_jsonable(value: Any, key: str = "") -> Any:
    """The inverse of ``jsonable`` for the fields the protocol holds as bytes."""
    if isinstance(value, dict):
        return {k: from_jsonable(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [from_jsonable(v, key) for v in value]
    if key in _BYTES_FIELDS and isinstance(value, str):
        return bytes.fromhex(value)
    return value


def frame_vectors() -> list[dict[str, Any]]:
    """One entry per frame case: fields, payload, body, CRC and wire bytes."""
    out = []
    for name, typ, seq, ack, credit, fields in FRAME_CASES:
        frame = p.make_frame(typ, fields, seq=seq, ack=ack, credit=credit)
        body = p.encode_body(frame)
        out.append({"name": name, "type": typ, "type_name": p.type_name(typ), "seq": seq,
                    "ack": ack, "credit": credit, "flags": 0, "fields": jsonable(fields),
                    "payload": frame.payload.hex(), "body": body.hex(),
                    "crc": f"{p.crc32(body[:-4]):08x}", "wire": p.encode_frame(frame).hex()})
    return out


def cobs_vectors() -> list[dict[str, str]]:
    """COBS edge cases."""
    cases = [b"", b"\x00", b"\x00\x00", b"\x11\x22\x00\x33", b"\x11\x22\x33\x44",
             b"\x11\x00\x00\x00", bytes(range(1, 255)), bytes(range(0, 255)),
             bytes(range(1, 256)), bytes(range(2, 256)) + b"\x00",
             bytes(range(3, 256)) + b"\x00\x01", bytes([0x01]) * 600]
    return [{"decoded": c.hex(), "encoded": p.cobs_encode(c).hex()} for c in cases]


def crc_vectors() -> list[dict[str, str]]:
    """CRC-32/ISO-HDLC values."""
    cases = [b"", b"123456789", b"\x00", b"\xff" * 4, bytes(range(256)), b"zsim"]
    return [{"data": c.hex(), "crc": f"{p.crc32(c):08x}"} for c in cases]


def stream_vectors() -> list[dict[str, Any]]:
    """Byte streams with noise, and the frames (by vector name) a decoder must yield."""
    by_name = {v["name"]: bytes.fromhex(v["wire"]) for v in frame_vectors()}
    a, b, c = by_name["resp_ok"], by_name["r_send"], by_name["r_handle"]
    flipped = bytearray(b)
    flipped[5] ^= 0x40
    missing = b[:4] + b[5:]
    cases = [
        ("clean", a + b + c, ["resp_ok", "r_send", "r_handle"]),
        ("leading_noise", b"\x13\x37\xff\x00" + a, ["resp_ok"]),
        ("flipped_byte", a + bytes(flipped) + c, ["resp_ok", "r_handle"]),
        ("lost_byte", a + missing + c, ["resp_ok", "r_handle"]),
        ("lost_delimiter", a[:-1] + b + c, ["r_handle"]),
        ("extra_delimiters", b"\x00\x00" + a + b"\x00" + b, ["resp_ok", "r_send"]),
        ("overlong", b"\x01" * 2000 + b"\x00" + c, ["r_handle"]),
        ("truncated_tail", a + b[:-3], ["resp_ok"]),
    ]
    return [{"name": n, "stream": s.hex(), "frames": f} for n, s, f in cases]


def invalid_vectors() -> list[dict[str, str]]:
    """Wire chunks a decoder must reject, with why."""
    good = p.encode_body(p.make_frame(p.PING, {"data": b"ab"}, seq=1))
    bad_crc = bytearray(good)
    bad_crc[-1] ^= 1
    bad_ver = bytearray(good[:-4])
    bad_ver[0] = 2
    bad_ver += p.crc32(bytes(bad_ver)).to_bytes(4, "little")
    return [
        {"reason": "crc", "wire": (p.cobs_encode(bytes(bad_crc)) + b"\x00").hex()},
        {"reason": "version", "wire": (p.cobs_encode(bytes(bad_ver)) + b"\x00").hex()},
        {"reason": "short", "wire": (p.cobs_encode(good[:11]) + b"\x00").hex()},
        {"reason": "cobs", "wire": "0511223300"},
    ]


def pattern_vectors() -> list[dict[str, Any]]:
    """Payload pattern outputs (§9): consecutive sends of one stimulus."""
    out = []
    for seed, stim, pattern, arg, size in [(0, 0, p.PAT_RANDOM, 0, 16),
                                           (0x12345678, 3, p.PAT_RANDOM, 0, 16),
                                           (0, 255, p.PAT_RANDOM, 0, 8),
                                           (0, 0, p.PAT_COUNTER, 0, 260),
                                           (0, 0, p.PAT_FILL, 0xAA, 5),
                                           (0, 0, p.PAT_ZEROS, 0, 3)]:
        gen = p.PatternGen(seed=seed, stim=stim)
        sends = [gen.make(size, pattern, arg).hex() for _ in range(3)]
        out.append({"seed": seed, "stim": stim, "pattern": pattern, "arg": arg, "size": size,
                    "state0": f"{p.xorshift_state(seed, stim):08x}", "sends": sends})
    return out


def all_vectors() -> dict[str, Any]:
    """Every vector file's content, by file name."""
    return {"frames.json": frame_vectors(), "cobs.json": cobs_vectors(),
            "crc.json": crc_vectors(), "streams.json": stream_vectors(),
            "invalid.json": invalid_vectors(), "patterns.json": pattern_vectors()}


def write(directory: Path = VECTOR_DIR) -> list[Path]:
    """Write the vector files; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in all_vectors().items():
        path = directory / name
        path.write_text(json.dumps(content, indent=1) + "\n")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for path in write(Path(sys.argv[1]) if len(sys.argv) > 1 else VECTOR_DIR):
        print(path)
