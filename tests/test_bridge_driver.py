"""Host driver and virtual board: handshake, retries without duplicates, credits, faults."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import serial

from firmware_bridge import protocol as p
from firmware_bridge.driver import Device, DeviceDisconnected, DeviceTimeout, open_device
from firmware_bridge.executor import BridgeSimExecutor, DeviceExecutor
from firmware_bridge.virtual_board import (
    Faults,
    PtyServer,
    TcpServer,
    VirtualBoard,
    parse_tcp,
    start_in_thread,
)
from zsim.kernel.time_units import K_MSEC

SCENARIO = Path(__file__).parent / "data" / "bridge_basic"


@pytest.fixture
def tcp_board(served):
    """A virtual board on a loopback port, in a thread; always stopped."""
    def make(**kw):
        faults = kw.pop("faults", None)
        return served(TcpServer(VirtualBoard("native_sim", faults=faults, **kw)))
    return make


@pytest.fixture
def pty_board(served):
    return lambda **kw: served(PtyServer(VirtualBoard("native_sim", **kw)))


def test_handshake_over_tcp(tcp_board):
    server = tcp_board()
    with open_device(server.url, timeout=0.5) as dev:
        h = dev.hello
        assert h["ret"] == 0 and h["proto"] == p.PROTO_VERSION == 2
        assert h["board"] == "native_sim" and h["ticks_per_sec"] == 100
        assert h["features"] & p.FEAT_VIRTUAL and h["rx_window"] == 4
        assert dev.command(p.PING, {"data": b"\x00hi"})["data"] == b"\x00hi"
        up = dev.command(p.READ_UPTIME)
        assert up == {"ret": 0, "ticks": 0, "running": 0}


def test_handshake_over_pty(pty_board):
    server = pty_board()
    assert server.url.startswith("/dev/")
    with open_device(server.url, baudrate=921600, timeout=0.5) as dev:
        assert dev.hello["board"] == "native_sim"
        assert dev.command(p.PING, {"data": b"pty"})["data"] == b"pty"


def test_loop_url_echo_is_not_an_answer():
    """Over loop:// the driver hears its own commands: it ignores them and times out."""
    dev = Device("loop://", timeout=0.05, retries=0)
    try:
        with pytest.raises(DeviceTimeout, match="no answer to HELLO"):
            dev.connect(attempts=1)
        assert dev.stats.frames_received >= 1        # the echoed command frames decoded
    finally:
        dev.close()


def test_loop_url_carries_frames():
    port = serial.serial_for_url("loop://", timeout=0.2)
    try:
        frame = p.make_frame(p.R_CONSOLE, {"index": 1, "tick": 2, "text": "hello"})
        port.write(b"\x42\x00" + p.encode_frame(frame))
        dec = p.FrameDecoder()
        got = dec.feed(port.read(200))
        assert got == [frame]
    finally:
        port.close()


def _raw(vb: VirtualBoard, frames: list[p.Frame]) -> list[p.Frame]:
    out = bytearray()
    vb.feed(b"".join(p.encode_frame(f) for f in frames), out.extend)
    return p.FrameDecoder().feed(bytes(out))


def test_duplicate_command_is_answered_from_the_cache():
    vb = VirtualBoard("native_sim")
    hello = p.make_frame(p.HELLO, {"proto": 1, "host_max_frame": 1024}, seq=10)
    reset = p.make_frame(p.RESET, {"seed": 0, "flags": 3}, seq=11)
    pool = p.make_frame(p.CREATE_POOL, {"id": 0, "count": 2, "size": 8, "user_data_size": 4,
                                        "name": "pl"}, seq=12)
    src = p.make_frame(p.CREATE_SOURCE, {"id": 0, "name": "src"}, seq=13)
    send = p.make_frame(p.SEND, {"source": 0, "pool": 0, "flags": 1, "timeout": 0, "size": 4,
                                 "pattern": p.PAT_FILL, "arg": 7}, seq=14)
    first = _raw(vb, [hello, reset, pool, src, send])
    assert [f.type for f in first if not p.is_report(f.type)] == [
        0x41, 0x42, 0x43, 0x44, 0x49]
    reports = [f for f in first if p.is_report(f.type)]
    # the first send boots the board's kernel: its boot banner, then the send's report
    assert [f.type for f in reports] == [p.R_CONSOLE, p.R_SEND]
    assert p.fields_of(reports[0])["text"].startswith("*** Booting Zephyr OS build")
    again = _raw(vb, [send, send])                  # retries of the same seq
    assert [f.type for f in again] == [0x49, 0x49]  # the cached response, no new report
    assert all(f.payload == first[-1].payload for f in again)
    assert vb.sim.total == 2                        # the banner and the one send
    stats = _raw(vb, [p.make_frame(p.READ_STATS, {"kind": p.KIND_SOURCE, "id": 0}, seq=15)])
    assert p.decode_stats(p.KIND_SOURCE, p.fields_of(stats[0])["data"])["send_count"] == 1


def test_out_of_sequence_gets_a_nak_and_ack():
    vb = VirtualBoard("native_sim")
    _raw(vb, [p.make_frame(p.HELLO, {"proto": 1, "host_max_frame": 1024}, seq=0)])
    out = _raw(vb, [p.make_frame(p.PING, {"data": b""}, seq=5)])
    assert out[0].type == p.NAK and out[0].ack == 0 and out[0].seq == 5
    assert p.fields_of(out[0]) == {"ret": -p.EILSEQ, "reason": 1}


def test_unknown_and_malformed_commands_get_errors():
    vb = VirtualBoard("native_sim")
    _raw(vb, [p.make_frame(p.HELLO, {"proto": 1, "host_max_frame": 1024}, seq=0)])
    out = _raw(vb, [p.Frame(0x3A, 1), p.Frame(p.CREATE_POOL, 2, payload=b"\x01")])
    assert [(f.type, p.fields_of(f)["ret"]) for f in out] == [
        (p.ERROR, -134), (p.ERROR, -p.EBADMSG)]


def test_credit_limits_outstanding_commands(tcp_board):
    server = tcp_board(rx_window=2)
    with open_device(server.url, timeout=0.5) as dev:
        assert dev.window == 2
        res = dev.transact([(p.PING, {"data": bytes([i])}) for i in range(20)])
        assert [r["data"][0] for r in res] == list(range(20))
        assert dev.stats.retries == 0


def test_lossy_link_loses_and_duplicates_nothing(tcp_board):
    server = tcp_board(faults=Faults(noise=0.01, drop=0.001, seed=7))
    with DeviceExecutor(server.url, timeout=0.5, retries=8) as ex:
        noisy = ex.run(SCENARIO, duration=K_MSEC(400))
        assert ex.device.stats.retries > 0 and ex.device.stats.decoder.errors > 0
    clean = BridgeSimExecutor().run(SCENARIO, duration=K_MSEC(400))
    assert noisy.error is None, noisy.error
    assert noisy.target == "virtual-board"
    assert noisy.events == clean.events
    assert noisy.stats == clean.stats


def test_disconnect_keeps_what_was_received(tcp_board):
    server = tcp_board(faults=Faults(disconnect_after=30))
    with DeviceExecutor(server.url, timeout=0.5) as ex:
        out = ex.run(SCENARIO, duration=K_MSEC(400))
    assert out.error is not None and "disconnected" in out.error
    assert 0 < len(out.events)
    assert all(e["type"] != "stats" for e in out.events)


def test_device_disconnected_carries_reports(tcp_board):
    server = tcp_board(faults=Faults(disconnect_after=25))
    dev = open_device(server.url, timeout=0.3, retries=1)
    try:
        from firmware_bridge.plan import build_plan
        from firmware_bridge.scenario import load_scenario
        plan = build_plan(load_scenario(SCENARIO), 100)
        dev.transact(plan.commands)
        with pytest.raises(DeviceDisconnected) as info:
            dev.run(40, wall_timeout=5)
        assert "disconnected" in str(info.value)
        assert info.value.received and all(p.is_report(t) for t, _ in info.value.received)
        assert not dev.connected
    finally:
        dev.close()


def test_unreachable_device_is_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = DeviceExecutor(f"socket://127.0.0.1:{port}", timeout=0.2).run(SCENARIO)
    assert out.error and "cannot open" in out.error


def test_tcp_is_loopback_only():
    assert parse_tcp("127.0.0.1:0") == ("127.0.0.1", 0)
    with pytest.raises(ValueError, match="loopback"):
        parse_tcp("0.0.0.0:4000")


def test_servers_stop_when_asked():
    for server in (TcpServer(VirtualBoard("native_sim")), PtyServer(VirtualBoard("native_sim"))):
        thread = start_in_thread(server)
        with open_device(server.url, timeout=0.5) as dev:
            assert dev.hello["ret"] == 0
        server.close()
        thread.join(timeout=2)
        assert not thread.is_alive()
