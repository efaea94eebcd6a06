"""SimulatorExecutor on model.py and topology.yaml models; agreement with the virtual board."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from firmware_bridge import protocol as p
from firmware_bridge.crosscheck import compare, crosscheck
from firmware_bridge.executor import BridgeSimExecutor
from zsim.kernel.time_units import K_MSEC, K_SECONDS
from zsim.model import load_model
from zsim.sim_executor import SimulatorExecutor

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "basic_packet_routing"
SAMPLE_YAML = SAMPLE / "topology.yaml"
BRIDGE_BASIC = ROOT / "tests" / "data" / "bridge_basic"


def test_model_py_wins_over_topology_yaml():
    assert load_model(SAMPLE).kind == "python"
    model = load_model(SAMPLE_YAML)
    assert model.kind == "topology" and model.prj_conf == SAMPLE / "prj.conf"


def test_stats_have_the_bridge_shape_and_end_the_trace():
    out = SimulatorExecutor().run(SAMPLE_YAML, duration=K_SECONDS(1))
    names = {kind: [n for n, _ in fields] for kind, fields in p.STATS_FIELDS.items()}
    assert set(out.stats) == {"sources", "sinks", "queues", "pools"}
    for key, kind in (("sources", p.KIND_SOURCE), ("sinks", p.KIND_SINK),
                      ("queues", p.KIND_QUEUE), ("pools", p.KIND_POOL)):
        assert out.stats[key] and all(list(v) == names[kind] for v in out.stats[key].values())
    last = out.events[-1]
    assert last["type"] == "stats" and last["tick"] == out.uptime_ticks
    assert {k: last[k] for k in out.stats} == out.stats
    assert out.stats["sinks"]["validator_sink"]["handled_count"] == 5


def test_trace_false_keeps_console_and_stats_only():
    out = SimulatorExecutor(trace=False).run(SAMPLE, duration=K_MSEC(500))
    assert {e["type"] for e in out.events} == {"console", "stats"}
    assert out.console and out.stats["sinks"]["tcp_sink"]["handled_count"] >= 2


def test_on_event_sees_packets_and_can_stop_the_run():
    seen: list[str] = []

    def on_event(ev):
        seen.append(ev["type"])
        return ev["type"] == "deliver"

    out = SimulatorExecutor(trace=False).run(SAMPLE_YAML, duration=K_SECONDS(5),
                                             on_event=on_event)
    assert out.stop_reason == "stopped" and out.uptime_ticks < K_SECONDS(1).ticks(
        out.ticks_per_sec)
    assert "send" in seen and seen[-1] == "stats"


def test_progress_reports_advance_without_changing_the_trace():
    reached: list[float] = []
    a = SimulatorExecutor(progress=reached.append).run(BRIDGE_BASIC, duration=K_MSEC(500))
    b = SimulatorExecutor().run(BRIDGE_BASIC, duration=K_MSEC(500))
    assert len(reached) > 10 and reached == sorted(reached) and reached[-1] == 500_000
    assert json.dumps(a.events) == json.dumps(b.events)


def test_topology_config_applies_after_prj_conf(tmp_path):
    text = SAMPLE_YAML.read_text()
    (tmp_path / "topology.yaml").write_text(text.replace(
        "name: basic_packet_routing\n", "name: x\nconfig: {PACKET_IO_STATS: false}\n"))
    (tmp_path / "prj.conf").write_text("CONFIG_PACKET_IO_STATS=y\n")
    out = SimulatorExecutor().run(tmp_path, duration=K_MSEC(300))
    assert out.stats["sources"] == {} and out.stats["pools"]
    (tmp_path / "topology.yaml").write_text(text)
    (tmp_path / "prj.conf").write_text("CONFIG_PACKET_IO_STATS=n\n")
    out = SimulatorExecutor().run(tmp_path, duration=K_MSEC(300))
    assert out.stats["sources"] == {}          # prj.conf beats the topology's default
    assert SimulatorExecutor().run(tmp_path, duration=K_MSEC(300), config={
        "PACKET_IO_STATS": True}).stats["sources"]


def deliveries(events):
    out = defaultdict(list)
    for e in events:
        if e["type"] in ("deliver", "handle"):
            out[e["sink"]].append(e["len"])
    return dict(out)


def test_model_py_and_topology_yaml_deliver_alike():
    """Same sinks, same packet lengths, in the same order (the YAML form cannot write the
    model's payload bytes or its timestamped header, so digests are not compared)."""
    for board in ("nrf52840dk/nrf52840", "native_sim"):
        py = SimulatorExecutor().run(SAMPLE, board=board, duration=K_SECONDS(5))
        ym = SimulatorExecutor().run(SAMPLE_YAML, board=board, duration=K_SECONDS(5))
        assert py.ok and ym.ok and not py.summary["leaks"] and not ym.summary["leaks"]
        dp, dy = deliveries(py.events), deliveries(ym.events)
        assert set(dp) == set(dy) == {"processor_sink", "tcp_sink", "validator_sink"}
        for sink in dp:
            # model.py sleeps relative to its sends and drifts up to a tick per packet: on
            # a 100 Hz board it fits one packet fewer into 5 s
            n = len(dp[sink])
            assert n >= len(dy[sink]) - 1 and dp[sink] == dy[sink][:n], (board, sink)
        assert dy["tcp_sink"][:2] == [268, 396] and dy["processor_sink"][:2] == [256, 384]
        if board.startswith("nrf"):
            assert dp == dy and py.stats == ym.stats


@pytest.mark.parametrize("model", [SAMPLE_YAML, BRIDGE_BASIC])
def test_simulator_and_in_process_board_agree(model):
    for board in ("native_sim", "nrf52840dk/nrf52840"):
        a = SimulatorExecutor().run(model, board=board, duration=K_SECONDS(2))
        b = BridgeSimExecutor().run(model, board=board, duration=K_SECONDS(2))
        assert compare(a, b) == []
        assert [e for e in a.events if e["type"] == "send"]


@pytest.fixture
def board_server(serve):
    """``board serve`` on loopback in a subprocess; yields its URL; always stopped."""
    url = serve("--tcp", "127.0.0.1:0", "--board", "nrf52840dk/nrf52840")
    assert url.startswith("socket://127.0.0.1:"), url
    return url


def test_the_sample_topology_crosschecks_against_the_virtual_board(board_server):
    result = crosscheck(SAMPLE_YAML, board_server, duration=K_SECONDS(3))
    assert result.errors == []
    assert result.reference.target == "simulator"
    assert result.device.target == "virtual-board"
    assert result.divergences == [] and result.exit_code == 0
    assert sum(e["type"] == "deliver" for e in result.reference.events) == 15
