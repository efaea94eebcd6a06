"""The virtual board against hostile clients: -ENOMEM, the report ring, idle clients."""

from __future__ import annotations

import socket
import tracemalloc
from pathlib import Path

import pytest

from firmware_bridge import protocol as p
from firmware_bridge.driver import open_device
from firmware_bridge.executor import BridgeSimExecutor, DeviceExecutor
from firmware_bridge.report_ring import ReportRing
from firmware_bridge.simboard import LIMITS
from firmware_bridge.virtual_board import TcpServer, VirtualBoard
from zsim import errno
from zsim.kernel.time_units import K_MSEC

SCENARIO = Path(__file__).parent / "data" / "bridge_basic"


class Client:
    """Commands fed straight into a VirtualBoard, in sequence."""

    def __init__(self, vb: VirtualBoard) -> None:
        self.vb = vb
        self.seq = 0
        self.reports: list[p.Frame] = []

    def __call__(self, typ: int, **fields) -> dict:
        frame = p.make_frame(typ, fields, seq=self.seq)
        self.seq = (self.seq + 1) & 0xFFFF
        out = bytearray()
        self.vb.feed(p.encode_frame(frame), out.extend)
        frames = p.FrameDecoder().feed(bytes(out))
        self.reports += [f for f in frames if p.is_report(f.type)]
        answers = [f for f in frames if not p.is_report(f.type)]
        assert len(answers) == 1, answers
        return p.fields_of(answers[0])

    def start(self) -> dict:
        hello = self(p.HELLO, proto=1, host_max_frame=1024)
        assert self(p.RESET, seed=0, flags=3)["ret"] == 0
        return hello


@pytest.fixture
def tcp_server(served):
    return lambda vb, **kw: served(TcpServer(vb, **kw))


def test_huge_pool_is_refused_without_allocating():
    client = Client(VirtualBoard("native_sim"))
    client.start()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        res = client(p.CREATE_POOL, id=0, count=0xFFFF, size=0xFFFF, user_data_size=255,
                     name="huge")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert res["ret"] == -errno.ENOMEM
    assert peak < 4 << 20
    # the board still works: a reasonable pool fits, under the same id
    assert client(p.CREATE_POOL, id=0, count=4, size=64, user_data_size=4,
                  name="ok")["ret"] == 0


def test_pools_must_fit_the_board_ram():
    client = Client(VirtualBoard("nrf52840dk/nrf52840"))            # 256 KiB of RAM
    client.start()
    assert client(p.CREATE_POOL, id=0, count=40, size=4096, user_data_size=4,
                  name="a")["ret"] == 0                           # 160 KiB
    assert client(p.CREATE_POOL, id=1, count=40, size=4096, user_data_size=4,
                  name="b")["ret"] == -errno.ENOMEM                # 320 KiB in all
    assert client(p.CREATE_POOL, id=1, count=4, size=64, user_data_size=4,
                  name="c")["ret"] == 0


def test_queue_slots_are_bounded():
    client = Client(VirtualBoard("native_sim"))
    client.start()
    big = LIMITS["queue_slots"] // 2
    args = {"prio": 5, "stack_size": 1024}
    assert client(p.CREATE_QUEUE, id=0, size=big, name="q0", thread_name="t0",
                  **args)["ret"] == 0
    assert client(p.CREATE_QUEUE, id=1, size=big + 1, name="q1", thread_name="t1",
                  **args)["ret"] == -errno.ENOMEM
    assert client(p.CREATE_QUEUE, id=1, size=0xFFFF, name="q1", thread_name="t1",
                  **args)["ret"] == -errno.ENOMEM
    assert client(p.CREATE_QUEUE, id=1, size=8, name="q1", thread_name="t1",
                  **args)["ret"] == 0


def test_report_ring_overflow_counts_lost():
    vb = VirtualBoard("native_sim", report_ring=4)
    client = Client(vb)
    assert client.start()["report_ring"] == 4                     # HELLO advertises it
    client(p.CREATE_POOL, id=0, count=2, size=8, user_data_size=4, name="pl")
    client(p.CREATE_SOURCE, id=0, name="src")
    for _ in range(6):                                            # banner + 6 R_SEND
        assert client(p.SEND, source=0, pool=0, flags=1, timeout=0, size=4,
                      pattern=p.PAT_FILL, arg=1)["ret"] == 0
    before = len(client.reports)
    st = client(p.GET_REPORTS, **{"from": 0, "max": 100})
    assert (st["total"], st["oldest"], st["lost"]) == (7, 3, 3)
    resent = client.reports[before:]
    assert [p.fields_of(f)["index"] for f in resent] == [3, 4, 5, 6]
    assert len(vb.ring) == 4
    # acknowledging frees; RESET forgets everything
    assert client(p.GET_REPORTS, **{"from": 7, "max": 0})["oldest"] == 7
    assert len(vb.ring) == 0
    client(p.RESET, seed=0, flags=3)
    st = client(p.GET_REPORTS, **{"from": 0, "max": 0})
    assert (st["total"], st["oldest"], st["lost"]) == (0, 0, 0)


def test_ring_keeps_the_newest():
    ring = ReportRing(3)
    for i in range(5):
        assert ring.push(i) == i
    assert (ring.oldest, ring.total, ring.lost) == (2, 5, 2)
    assert ring.held(0, 10) == [2, 3, 4] and ring.held(3, 1) == [3]
    ring.ack(4)
    assert ring.held(0, 10) == [4] and ring.held(10, 5) == []
    with pytest.raises(ValueError):
        ReportRing(0)


def test_host_reports_lost_reports(tcp_server):
    # a board that runs a RUN in one go (no slices) overflows a small ring
    server = tcp_server(VirtualBoard("native_sim", report_ring=8, sliced=False))
    with DeviceExecutor(server.url, timeout=0.5) as ex:
        out = ex.run(SCENARIO, duration=K_MSEC(500))
    assert out.error is not None
    assert "report ring (8 reports) overflowed" in out.error and "lost" in out.error


def test_a_polling_host_loses_nothing_through_a_small_ring(tcp_server):
    # the sliced run waits while the ring is half full: the host's polls free it
    server = tcp_server(VirtualBoard("native_sim", report_ring=16))
    with DeviceExecutor(server.url, timeout=0.5) as ex:
        out = ex.run(SCENARIO, duration=K_MSEC(500))
    ref = BridgeSimExecutor().run(SCENARIO, duration=K_MSEC(500))
    assert out.error is None, out.error
    assert out.events == ref.events and len(out.events) > 16


def test_idle_client_is_dropped_for_the_next(tcp_server):
    server = tcp_server(VirtualBoard("native_sim"), idle_timeout=0.3)
    with socket.create_connection(("127.0.0.1", server.port)) as idle:
        idle.sendall(b"\x00\x01\x02")                 # a partial frame, then silence
        with open_device(server.url, timeout=0.5, retries=20) as dev:
            assert dev.hello["ret"] == 0
            assert dev.command(p.PING, {"data": b"hi"})["data"] == b"hi"
        assert server.dropped == 1
        assert idle.recv(100) == b""                  # the server hung up on it


def test_board_options_are_checked():
    with pytest.raises(ValueError, match="rx_window"):
        VirtualBoard("native_sim", rx_window=0)
    with pytest.raises(ValueError, match="report_ring"):
        VirtualBoard("native_sim", report_ring=0)
    with pytest.raises(ValueError, match="loopback"):
        TcpServer(VirtualBoard("native_sim"), "0.0.0.0", 0)
    with pytest.raises(ValueError, match="idle_timeout"):
        TcpServer(VirtualBoard("native_sim"), idle_timeout=0)
