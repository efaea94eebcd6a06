"""The firmware shim's portable core, built with the host C compiler.

Three checks: the core's framing, COBS, CRC, stream decoder and payload patterns against the
shared vectors (firmware_bridge/vectors/*.json, through a small C driver); the frames the
core transmits and the platform calls it makes for the vectors' command frames; and the core
running as a Linux process (with the host emulation of packet_io) behind a pseudo-terminal,
driven end to end by the Python host driver.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tty
import zlib
from pathlib import Path

import pytest

from firmware_bridge import protocol as p

ROOT = Path(__file__).resolve().parent.parent
SHIM = ROOT / "firmware_bridge" / "shim" / "src"
VECTORS = ROOT / "firmware_bridge" / "vectors"
CORE = [SHIM / "core" / "shim_wire.c", SHIM / "core" / "shim_core.c"]
HOST = [SHIM / "host" / "mini_kernel.c", SHIM / "host" / "mini_packet_io.c",
        SHIM / "host" / "host_main.c"]
CFLAGS = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-O1"]
# the capacities the vectors' HELLO response advertises
VECTOR_CONFIG = ["-DCONFIG_SHIM_MAX_POOLS=8", "-DCONFIG_SHIM_REPORT_RING=256"]


def _cc() -> str:
    for name in ("cc", "gcc", "clang"):
        if shutil.which(name):
            return name
    pytest.skip("no C compiler (cc) on this machine")


@pytest.fixture(scope="session")
def binaries(tmp_path_factory):
    cc = _cc()
    out = tmp_path_factory.mktemp("shim")
    built = {}
    for name, sources, extra in (
            ("vector_check", [*CORE, SHIM / "host" / "vector_check.c"], VECTOR_CONFIG),
            ("shim_host", [*CORE, *HOST], ["-DCONFIG_SHIM_REPORT_RING=4096"])):
        exe = out / name
        cmd = [cc, *CFLAGS, *extra, *map(str, sources), "-o", str(exe)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stderr}"
        built[name] = exe
    return built


def _load(name: str):
    return json.loads((VECTORS / f"{name}.json").read_text())


def _frames() -> dict[str, dict]:
    return {f["name"]: f for f in _load("frames")}


def _vector_lines(session: bool) -> str:
    frames = _frames()
    lines = [f"crc {v['data'] or '-'} {v['crc']}" for v in _load("crc")]
    lines += [f"cobs {v['decoded'] or '-'} {v['encoded']}" for v in _load("cobs")]
    lines += [f"frame {name} {f['wire']}" for name, f in frames.items()]
    for s in _load("streams"):
        bodies = " ".join(frames[n]["body"] for n in s["frames"])
        lines.append(f"stream {s['name']} {s['stream']} {bodies}".rstrip())
    lines += [f"invalid {v['reason']} {v['wire']}" for v in _load("invalid")]
    for v in _load("patterns"):
        lines.append("pattern {} {} {} {} {} {} {}".format(
            v["seed"], v["stim"], v["pattern"], v["arg"], v["size"], v["state0"],
            " ".join(v["sends"])))
    if session:
        lines.append("session")
    return "\n".join(lines) + "\n"


def _run_vectors(binaries, session: bool) -> list[str]:
    r = subprocess.run([str(binaries["vector_check"])], input=_vector_lines(session),
                       capture_output=True, text=True, timeout=60)
    out = r.stdout.splitlines()
    fails = [x for x in out if x.startswith("FAIL")]
    assert not fails, "\n".join(fails)
    assert r.returncode == 0, r.stdout + r.stderr
    return out


def test_codec_against_shared_vectors(binaries):
    out = _run_vectors(binaries, session=False)
    summary = out[-1]
    n_frames = len(_load("frames"))
    assert summary.startswith("vectors: ") and summary.endswith(" passed, 0 failed")
    # every frame decodes, re-encodes byte for byte, plus the other files
    assert int(summary.split()[1]) >= 3 * n_frames + len(_load("crc"))


def _session(binaries) -> tuple[dict[str, list[bytes]], list[str]]:
    out = _run_vectors(binaries, session=True)
    tx: dict[str, list[bytes]] = {}
    calls = []
    for line in out:
        if line.startswith("tx "):
            _, name, hexdata = line.split(" ", 2)
            tx.setdefault(name, []).append(bytes.fromhex(hexdata))
        elif line.startswith("call "):
            calls.append(line[5:])
    return tx, calls


def test_core_transmits_the_vector_frames(binaries):
    tx, _ = _session(binaries)
    frames = _frames()

    def wire(name):
        return bytes.fromhex(frames[name]["wire"])

    # command -> the vector of its response, byte for byte
    expect = {"hello": "hello_resp", "hello_v2": "hello_resp_v2", "reset": "resp_ok",
              "send_pattern": "resp_send",
              "process": "resp_process_eagain", "read_stats": "resp_read_stats",
              "read_uptime": "resp_read_uptime", "get_reports": "resp_get_reports",
              "ping": "resp_ping", "nak": "nak", "error_unknown": "error_unknown"}
    for cmd, resp in expect.items():
        assert tx[cmd][-1] == wire(resp), f"{cmd}: {tx[cmd][-1].hex()} != {resp}"
    for rep in ("r_deliver", "r_enqueue", "r_drop", "r_handle", "r_console", "r_run_done"):
        assert tx[rep] == [wire(rep)], rep
    assert tx["r_fault"][0] == wire("r_fault")          # then its R_HANDLE
    assert tx["r_process"][0] == wire("r_process")      # then the PROCESS response
    # a duplicate gets the cached response again
    assert tx["duplicate"] == tx["error_unknown"]
    # every other command was answered with ret 0 and no ERROR
    for name in ("create_pool", "create_source", "create_queue", "create_sink_steps",
                 "connect_static", "connect_runtime", "disconnect", "add_periodic",
                 "add_step_disconnect", "run", "stop"):
        frame = p.FrameDecoder().feed(tx[name][-1])[0]
        assert frame.type == frames[name]["type"] | p.RESPONSE_BIT, name
        assert p.fields_of(frame)["ret"] == 0, name


def _expected_calls() -> list[str]:
    f = {name: v["fields"] for name, v in _frames().items()}

    def steps(sink):
        out = []
        for st in sink["steps"]:
            op = {"record": 0, "cpu_us": 1, "cpu_cycles": 2, "sleep": 3, "forward": 4,
                  "drop": 5}[st["op"]]
            value = st.get("us", st.get("cycles", 0))
            tmo = st.get("ticks", st.get("timeout", 0))
            out.append(f" [{op} {value} {tmo} {st.get('source', 0)} {st.get('pool', 0)} "
                       f"{st.get('hdr_kind', 0)} {st.get('hdr', '')}]")
        return "".join(out)

    def sink(name):
        s = f[name]
        return f"sink_create {s['id']} {s['queue']} {s['name']}{steps(s)}"

    def queue(name):
        q = f[name]
        return (f"queue_create {q['id']} {q['size']} {q['prio']} {q['stack_size']} "
                f"{q['name']} {q['thread_name']}")

    def periodic(name):
        s = f[name]
        return (f"stimulus_start {s['stim']} {s['prio']} {s['stack_size']} {s['thread_name']} 1 "
                f"{s['source']} {s['pool']} {s['start']} {s['period']} {s['count']} "
                f"{s['size']} {s['pattern']} {s['timeout']} {s['flags']} {s['arg']}")

    script = f["add_script"]
    parts = []
    for name in ("add_step_send", "add_step_process", "add_step_connect",
                 "add_step_disconnect"):
        st = f[name]["step"]
        op = {"send": 1, "process": 2, "connect": 3, "disconnect": 4}[st["op"]]
        if op == 1:
            args = (f"{st['source']} {st['pool']} {st['flags']} {st['timeout']} {st['size']} "
                    f"{st['pattern']} {st['arg']}")
        elif op == 2:
            args = f"{st['queue']} {st['timeout']}"
        else:
            args = f"{st['source']} {st['sink']}"
        parts.append(f" [{f[name]['at']} {op} {args}]")
    sp = f["send_pattern"]
    counter = bytes((sp["arg"] + i) & 0xFF for i in range(sp["size"]))
    se = f["send_explicit"]
    pool, src = f["create_pool"], f["create_source"]
    return [
        f"reset {f['reset']['flags']}",
        f"pool_create {pool['id']} {pool['count']} {pool['size']} {pool['user_data_size']} "
        f"{pool['name']}",
        f"source_create {src['id']} {src['name']}",
        queue("create_queue"), queue("create_queue_coop"),
        sink("create_sink_immediate"), sink("create_sink_steps"),
        f"send {sp['source']} {sp['timeout']} 1 {counter.hex()}",
        f"send {se['source']} {se['timeout']} 0 {se['data']}",
        f"process {f['process']['queue']} {f['process']['timeout']}",
        # the first RUN wires the static connection, then starts the stimuli in id order
        f"connect {f['connect_static']['source']} {f['connect_static']['sink']} 0",
        periodic("add_periodic"), periodic("add_periodic_forever"),
        f"stimulus_start {script['stim']} {script['prio']} {script['stack_size']} "
        f"{script['thread_name']} 0" + "".join(parts),
        f"run {f['run']['ticks']}",
        f"stats {f['read_stats']['kind']} {f['read_stats']['id']}",
        "process 0 0",
    ]


def test_core_parses_the_vector_commands(binaries):
    _, calls = _session(binaries)
    assert calls == _expected_calls()


# --------------------------------------------------------------------------- end to end


@pytest.fixture
def shim_device(binaries):
    """The host shim behind a pseudo-terminal, with a connected ``Device``."""
    from firmware_bridge.driver import Device

    master, slave = os.openpty()
    tty.setraw(slave)
    proc = subprocess.Popen([str(binaries["shim_host"]), "--board", "native_sim",
                             "--build-id", "test-build"],
                            stdin=master, stdout=master, stderr=subprocess.PIPE,
                            close_fds=True)
    os.close(master)
    dev = None
    try:
        dev = Device(os.ttyname(slave), timeout=2.0)
        yield dev
    finally:
        if dev is not None:
            dev.close()
        proc.kill()
        proc.wait(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()
        os.close(slave)


def _build(dev):
    cmds = [
        (p.RESET, {"seed": 7, "flags": 3}),
        (p.CREATE_POOL, {"id": 0, "count": 4, "size": 64, "user_data_size": 4,
                         "name": "sensor_pool"}),
        (p.CREATE_POOL, {"id": 1, "count": 4, "size": 8, "user_data_size": 4,
                         "name": "header_pool"}),
        (p.CREATE_SOURCE, {"id": 0, "name": "sensor_source"}),
        (p.CREATE_SOURCE, {"id": 1, "name": "processor_source"}),
        (p.CREATE_QUEUE, {"id": 0, "size": 2, "prio": 5, "stack_size": 1024,
                          "name": "processor_queue", "thread_name": "processor"}),
        (p.CREATE_SINK, {"id": 0, "queue": 0, "name": "processor_sink", "steps": [
            {"op": "forward", "source": 1, "pool": 1, "timeout": 0, "hdr_kind": 0,
             "hdr": b"\xaa\x55"}]}),
        (p.CREATE_SINK, {"id": 1, "queue": 0xFF, "name": "validator_sink",
                         "steps": [{"op": "record"}]}),
        (p.CREATE_SINK, {"id": 2, "queue": 0xFF, "name": "audit_sink",
                         "steps": [{"op": "cpu_us", "us": 50}]}),
        (p.CONNECT, {"source": 0, "sink": 1, "runtime": 0}),
        (p.CONNECT, {"source": 0, "sink": 0, "runtime": 0}),
        (p.CONNECT, {"source": 1, "sink": 2, "runtime": 0}),
        (p.ADD_PERIODIC, {"stim": 0, "source": 0, "pool": 0, "prio": 7, "stack_size": 1024,
                          "start": 0, "period": 10, "count": 3, "size": 16,
                          "pattern": p.PAT_COUNTER, "arg": 0, "timeout": 0, "flags": 1,
                          "thread_name": "sensor"}),
    ]
    assert [r["ret"] for r in dev.transact(cmds)] == [0] * len(cmds)


def test_end_to_end_over_a_pty(shim_device):
    dev = shim_device
    hello = dev.connect()
    assert hello["ret"] == 0 and hello["proto"] == p.PROTO_VERSION
    assert hello["board"] == "native_sim" and hello["build_id"] == "test-build"
    assert hello["features"] & p.FEAT_STATS and hello["ticks_per_sec"] == 100
    assert dev.command(p.PING, {"data": b"\x00zsim\x00"})["data"] == b"\x00zsim\x00"
    _build(dev)
    # errors come back as return codes
    assert dev.command(p.CREATE_SOURCE, {"id": 0, "name": "again"})["ret"] == -17
    assert dev.command(p.CONNECT, {"source": 0, "sink": 9, "runtime": 0})["ret"] == -2
    dev.run(100, wall_timeout=20)
    reports = [(p.type_name(t), f) for t, f in dev.received()]
    names = [n for n, _ in reports]
    assert names[-1] == "R_RUN_DONE" and reports[-1][1]["tick"] == 100
    sends = [f for n, f in reports if n == "R_SEND" and f["source"] == 0]
    assert [f["tick"] for f in sends] == [0, 10, 20]
    assert all(f["ret"] == 2 for f in sends)           # validator + processor queue
    for n, f in enumerate(sends):
        payload = bytes((n + i) & 0xFF for i in range(16))
        assert f["len"] == 16 and f["digest"] == zlib.crc32(payload)
    # link order: __connection_sensor_source_processor_sink sorts before
    # __connection_sensor_source_validator_sink, so the queued sink is offered the packet
    # first; its thread runs after the send returned, forwarding to the audit sink
    assert names[:6] == ["R_ENQUEUE", "R_DELIVER", "R_SEND", "R_DELIVER", "R_SEND",
                         "R_HANDLE"]
    assert [(reports[0][1]["source"], reports[0][1]["sink"]),
            (reports[1][1]["source"], reports[1][1]["sink"])] == [(0, 0), (0, 1)]
    handled = [f for n, f in reports if n == "R_HANDLE"]
    assert [f["ret"] for f in handled] == [0, 0, 0] and all(f["queue"] == 0 for f in handled)
    # the processor forwards with a 2-byte header chained in front (zero copy)
    fwd = [f for n, f in reports if n == "R_SEND" and f["source"] == 1]
    assert len(fwd) == 3 and all(f["len"] == 18 for f in fwd)
    payload0 = bytes(range(16))
    assert fwd[0]["digest"] == zlib.crc32(b"\xaa\x55" + payload0)
    audits = [f for n, f in reports if n == "R_DELIVER" and f["sink"] == 2]
    assert len(audits) == 3 and audits[0]["digest"] == fwd[0]["digest"]
    assert [f["index"] for _, f in reports] == list(range(len(reports)))

    st = dev.command(p.READ_STATS, {"kind": 1, "id": 1})
    assert p.decode_stats(1, st["data"]) == {"handled_count": 3, "dropped_count": 0}
    st = dev.command(p.READ_STATS, {"kind": 2, "id": 0})
    assert p.decode_stats(2, st["data"])["processed_count"] == 3
    st = dev.command(p.READ_STATS, {"kind": 3, "id": 0})
    assert p.decode_stats(3, st["data"]) == {"free": 4, "min_free": 3}
    up = dev.command(p.READ_UPTIME)
    assert up == {"ret": 0, "ticks": 100, "running": 0}
    # a direct SEND after the run, with explicit bytes
    before = len(dev.received())
    r = dev.command(p.SEND, {"source": 0, "pool": 0, "flags": 0, "timeout": 0, "size": 3,
                             "pattern": p.PAT_EXPLICIT, "arg": 0, "data": b"\x01\x00\x02"})
    assert r["ret"] == 2
    dev.sync_reports()
    new = [(p.type_name(t), f) for t, f in dev.received()[before:]]
    assert ("R_SEND", 0) in [(n, f.get("source")) for n, f in new]
    # static objects are fixed after the first RUN
    assert dev.command(p.CREATE_SOURCE, {"id": 5, "name": "late"})["ret"] == -16


def test_queue_overflow_drops(shim_device):
    dev = shim_device
    dev.connect()
    cmds = [
        (p.RESET, {"seed": 0, "flags": 1}),
        (p.CREATE_POOL, {"id": 0, "count": 8, "size": 16, "user_data_size": 4,
                         "name": "pool"}),
        (p.CREATE_SOURCE, {"id": 0, "name": "src"}),
        (p.CREATE_QUEUE, {"id": 0, "size": 1, "prio": 9, "stack_size": 1024, "name": "q",
                          "thread_name": "slow"}),
        (p.CREATE_SINK, {"id": 0, "queue": 0, "name": "slow_sink",
                         "steps": [{"op": "sleep", "ticks": 50}]}),
        (p.CONNECT, {"source": 0, "sink": 0, "runtime": 0}),
        (p.ADD_PERIODIC, {"stim": 0, "source": 0, "pool": 0, "prio": 7, "stack_size": 1024,
                          "start": 0, "period": 5, "count": 4, "size": 4,
                          "pattern": p.PAT_FILL, "arg": 0xAB, "timeout": 0, "flags": 1,
                          "thread_name": "fast"}),
    ]
    assert all(r["ret"] == 0 for r in dev.transact(cmds))
    # runtime connections were not asked for in RESET
    assert dev.command(p.CONNECT, {"source": 0, "sink": 0, "runtime": 1})["ret"] == -134
    dev.run(200, wall_timeout=20)
    reports = [(p.type_name(t), f) for t, f in dev.received()]
    drops = [f for n, f in reports if n == "R_DROP"]
    assert drops and all(f["ret"] == -105 for f in drops)     # -ENOBUFS, queue full
    st = p.decode_stats(1, dev.command(p.READ_STATS, {"kind": 1, "id": 0})["data"])
    assert st["dropped_count"] == len(drops)
    assert st["handled_count"] + st["dropped_count"] == 4
