"""Protocol version 2: HELLO states the link rate and the creation limits; the host refuses
a scenario that cannot fit before any CREATE, warns when its reports exceed the link, and
still talks to a device of version 1."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest

from firmware_bridge import cli
from firmware_bridge import protocol as p
from firmware_bridge.driver import Device, open_device
from firmware_bridge.executor import DeviceExecutor
from firmware_bridge.limits import LimitError, check_limits, estimate_report_rate
from firmware_bridge.plan import build_plan
from firmware_bridge.scenario import load_scenario
from firmware_bridge.simboard import SimBoard
from firmware_bridge.virtual_board import TcpServer, VirtualBoard

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "basic_packet_routing" / "topology.yaml"
BASIC = ROOT / "tests" / "data" / "bridge_basic"

FAST = """\
version: 1
name: fast
pools: [{name: pool, count: 8, size: 16}]
queues: [{name: q, size: 8, thread: {name: worker, priority: 5, stack_size: 1024}}]
sources: [src]
sinks:
  - {name: a, behaviour: [record]}
  - {name: b, behaviour: [record]}
  - {name: c, queue: q, behaviour: [record]}
connections: [[src, a], [src, b], [src, c]]
stimuli:
  - periodic: {source: src, pool: pool, every: 1ms, size: 8, pattern: zeros}
"""


@pytest.fixture
def shim_host(shim_host_exe, on_pty):
    """``shim_host`` with a Kconfig-like 256-byte, 16-buffer pool limit behind a pty."""
    with on_pty([str(shim_host_exe), "--baud", "115200", "--pool-buf-size", "256",
                 "--pool-buf-count", "16", "--queue-max-events", "16"]) as tty_path:
        yield tty_path


@pytest.fixture
def board(served):
    """A virtual board of a given profile on a loopback port; always stopped."""
    def make(profile: str = "native_sim", vb: VirtualBoard | None = None) -> tuple[str,
                                                                                 VirtualBoard]:
        vb = vb or VirtualBoard(profile)
        return served(TcpServer(vb)).url, vb
    return make


@pytest.fixture
def sent(monkeypatch) -> list[int]:
    """The type of every command frame the host sends (a recording transport)."""
    types: list[int] = []
    real = Device._send

    def record(self, pend, keep_fast=False):
        types.append(pend.typ)
        return real(self, pend, keep_fast)

    monkeypatch.setattr(Device, "_send", record)
    return types


CREATES = {p.RESET, p.CREATE_POOL, p.CREATE_SOURCE, p.CREATE_QUEUE, p.CREATE_SINK,
           p.CONNECT, p.ADD_PERIODIC, p.ADD_SCRIPT, p.ADD_STEP, p.RUN}


# ---------------------------------------------------------------------- HELLO v2
def test_shim_host_states_link_rate_and_limits(shim_host):
    with open_device(shim_host, timeout=2) as dev:
        h = dev.hello
        assert h["ret"] == 0 and h["proto"] == 2
        assert h["link_baud"] == 115200
        assert (h["pool_buf_size"], h["pool_buf_count"], h["queue_max_size"]) == (256, 16, 16)
        assert h["pool_total_bufs"] == 4 * 16 and h["queue_total_slots"] == 8 * 16
        assert h["max_connections"] == 32 and h["max_header"] == 16
        # the core enforces what it states
        dev.command(p.RESET, {"seed": 0, "flags": 3})
        big = {"id": 0, "count": 8, "size": 512, "user_data_size": 4, "name": "big"}
        assert dev.command(p.CREATE_POOL, big)["ret"] == -errno.ENOMEM
        assert dev.command(p.CREATE_POOL, {**big, "size": 256})["ret"] == 0
        q = {"id": 0, "size": 17, "prio": 5, "stack_size": 512, "name": "q",
             "thread_name": "t"}
        assert dev.command(p.CREATE_QUEUE, q)["ret"] == -errno.ENOMEM


def test_virtual_board_states_its_profile(board):
    url, _ = board("nrf52840dk")
    with open_device(url) as dev:
        h = dev.hello
    assert h["proto"] == 2 and h["link_baud"] == 115200
    assert h["pool_total_bytes"] == 256 * 1024          # the profile's RAM
    assert h["pool_total_bufs"] == 16384 and h["queue_total_slots"] == 16384
    assert SimBoard("native_sim").hello_fields()["link_baud"] == 0   # a pty


def test_v1_hello_still_answered_in_v1_layout():
    sim = SimBoard("native_sim")
    ret, fields, _ = sim.execute(p.HELLO, {"proto": 1, "host_max_frame": 1024})
    assert ret == 0 and fields["proto"] == 1 and "link_baud" not in fields
    payload = p.encode_filled(p.HELLO_RESP, {"ret": ret, **fields, "max_frame": 256,
                                            "rx_window": 4})
    assert p.decode_payload(p.HELLO_RESP, payload)["proto"] == 1
    ret, fields, _ = sim.execute(p.HELLO, {"proto": 3, "host_max_frame": 1024})
    assert ret == -p.EPROTONOSUPPORT and fields["proto"] == 2


# ---------------------------------------------------------------------- refusal
def test_sample_refused_on_shim_host_before_any_create(shim_host, sent, capsys):
    rc = cli.main(["hil", "run", str(SAMPLE), "--device", shim_host, "--duration", "1s",
                   "--timeout", "2"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "pool 'sensor_pool' needs 512-byte buffers" in err
    assert "limit is 256" in err and "CONFIG_SHIM_POOL_BUF_SIZE" in err
    assert sent and set(sent) == {p.HELLO}, [p.type_name(t) for t in sent]


def test_crosscheck_refused_before_any_create(board, sent, capsys, tmp_path):
    # 100 x 1 KiB buffers do not fit qemu_cortex_m3's 64 KiB of RAM
    scenario = tmp_path / "topology.yaml"
    scenario.write_text(FAST.replace("count: 8, size: 16", "count: 100, size: 1024"))
    url, vb = board("qemu_cortex_m3")
    rc = cli.main(["crosscheck", str(scenario), "--device", url, "--duration", "100ms"])
    out = capsys.readouterr().out
    assert rc == 2, out
    assert "102800 bytes" in out and "65536" in out and "ram_kib" in out
    assert set(sent) == {p.HELLO}
    assert vb.sim.k is None and not vb.sim.pools          # not even a RESET arrived


def test_check_limits_names_each_object():
    hello = {"proto": 2, "board": "b", "features": 0, "pool_buf_size": 256,
             "pool_buf_count": 4, "pool_user_data": 4, "pool_total_bytes": 10 ** 6,
             "pool_total_bufs": 100, "queue_max_size": 2, "queue_total_slots": 100,
             "max_connections": 1, "max_header": 1, "max_steps": 8}
    plan = build_plan(load_scenario(BASIC), 100)
    with pytest.raises(LimitError) as exc:
        check_limits(plan.commands, hello)
    msg = str(exc.value)
    assert "pool 'sensor_pool' needs 8 buffers (the device's limit is 4; raise " \
           "CONFIG_SHIM_POOL_BUF_COUNT)" in msg
    assert "queue 'processor_queue' needs 4 slots" in msg and "CONFIG_SHIM_QUEUE_MAX_EVENTS" in msg
    assert "2-byte header" in msg and "CONFIG_SHIM_MAX_HEADER" in msg
    assert "connections" in msg and "CONFIG_SHIM_MAX_CONNECTIONS" in msg
    check_limits(plan.commands, {**hello, "proto": 1})    # version 1: no up-front check


# ---------------------------------------------------------------------- version 1
class _V1SimBoard(SimBoard):
    """A board of protocol version 1: it knows nothing of version 2."""

    def _execute(self, typ: int, f: dict[str, Any]) -> tuple[int, dict[str, Any], Any]:
        if typ == p.HELLO:
            ret = 0 if f["proto"] == 1 else -p.EPROTONOSUPPORT
            return ret, self.hello_fields(1), None
        return super()._execute(typ, f)


def test_host_falls_back_to_a_v1_device(board, sent, capsys):
    vb = VirtualBoard("nrf52840dk")
    vb.sim.__class__ = _V1SimBoard
    url, _ = board(vb=vb)
    rc = cli.main(["hil", "run", str(BASIC), "--device", url, "--duration", "200ms"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert sent[:2] == [p.HELLO, p.HELLO]                 # asked for 2, then 1
    assert "warning" not in err                           # no link rate stated
    with open_device(url) as dev:
        assert dev.hello["proto"] == 1 and "link_baud" not in dev.hello


# ---------------------------------------------------------------------- link rate
def test_rate_estimate_counts_reports_per_send():
    plan = build_plan(load_scenario(BASIC), 100)
    # per periodic send: R_SEND, processor_sink's R_ENQUEUE + R_HANDLE, its forward's
    # R_SEND + validator_sink's R_DELIVER, and blackhole's R_DELIVER (connected at 100 ms:
    # every connection counts) = 6; 40 sends within 1 s
    rate = estimate_report_rate(plan.commands, 100, 100)
    # script: R_STEP + a send like the periodic's, R_STEP (process), R_STEP + a send of
    # processor_source (R_SEND + R_DELIVER); the connection timeline's 2 R_STEPs
    assert rate.reports_per_s == pytest.approx(40 * 6 + (1 + 6) + 1 + (1 + 2) + 2)
    assert rate.bytes_per_s > 40 * rate.reports_per_s          # each report >= 40 bytes
    # a 200 ms run: 20 sends, the script's three steps and the connect at 100 ms only
    short = estimate_report_rate(plan.commands, 100, 20)
    assert short.reports_per_s == pytest.approx((20 * 6 + 7 + 1 + 3 + 1) / 0.2)


def test_warning_when_reports_exceed_the_link(board, tmp_path, capsys):
    scenario = tmp_path / "topology.yaml"
    scenario.write_text(FAST)
    url, _ = board("nrf52840dk")
    warnings: list[str] = []
    ex = DeviceExecutor(url, on_warning=warnings.append)
    try:
        from zsim.kernel.time_units import K_MSEC
        out = ex.run(scenario, duration=K_MSEC(20))
    finally:
        ex.close()
    assert out.error is None and out.started
    assert len(warnings) == 1 and out.warnings == warnings
    # 1000 sends/s x (R_SEND + 2 R_DELIVER + R_ENQUEUE + R_HANDLE) = 5000 reports/s (a
    # 1 ms period is 33 ticks of 1/32768 s: 4995)
    assert "about 4995 reports/s" in warnings[0]
    assert "115200-baud link carries (11520 bytes/s)" in warnings[0]
    assert "timing may be shifted" in warnings[0] and "times what" in warnings[0]
    # the CLI prints it before the run, and the run still completes
    rc = cli.main(["hil", "run", str(scenario), "--device", url, "--duration", "20ms"])
    err = capsys.readouterr().err
    assert rc == 0 and "zsim: warning: the scenario produces about 4995 reports/s" in err


def test_no_warning_on_a_pty_board(board, tmp_path, capsys):
    scenario = tmp_path / "topology.yaml"
    scenario.write_text(FAST)
    url, _ = board("native_sim")
    rc = cli.main(["hil", "run", str(scenario), "--device", url, "--duration", "20ms"])
    assert rc == 0 and "warning" not in capsys.readouterr().err
