"""End to end: ``board serve`` in a subprocess, ``crosscheck`` and ``hil run`` against it."""

from __future__ import annotations

import json
from pathlib import Path

from firmware_bridge import cli
from firmware_bridge.crosscheck import compare
from firmware_bridge.executor import BridgeSimExecutor
from zsim.kernel.time_units import K_MSEC

SCENARIO = str(Path(__file__).parent / "data" / "bridge_basic")



def test_crosscheck_agrees_with_the_virtual_board(serve, capsys):
    url = serve("--tcp", "127.0.0.1:0")
    assert url.startswith("socket://127.0.0.1:")
    rc = cli.main(["crosscheck", SCENARIO, "--device", url, "--duration", "500ms"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "agree" in out and "DIVERGENCE" not in out


def test_crosscheck_over_a_pty(serve, capsys):
    path = serve("--pty", "--board", "nrf52840dk/nrf52840")
    assert path.startswith("/dev/")
    rc = cli.main(["crosscheck", SCENARIO, "--device", path, "--duration", "300ms",
                   "--json"])
    result = json.loads(capsys.readouterr().out)
    assert rc == 0 and result["exit_code"] == 0 and result["divergences"] == []
    assert result["targets"] == ["simulator", "virtual-board"]


def test_noisy_link_still_agrees(serve, capsys, tmp_path):
    url = serve("--tcp", "127.0.0.1:0", "--noise", "0.01", "--drop", "0.001", "--seed", "5")
    rc = cli.main(["crosscheck", SCENARIO, "--device", url, "--duration", "500ms",
                   "--trace-dir", str(tmp_path), "--reference", "bridge"])
    out = capsys.readouterr().out
    assert rc == 0, out
    sim = (tmp_path / "simulator.jsonl").read_text().splitlines()[1:]
    dev = (tmp_path / "device.jsonl").read_text().splitlines()[1:]
    assert sim == dev          # nothing lost, nothing duplicated, same order


def test_disconnect_fails_clearly_and_keeps_the_partial_trace(serve, tmp_path, capsys):
    url = serve("--tcp", "127.0.0.1:0", "--disconnect-after", "40")
    trace = tmp_path / "out.jsonl"
    rc = cli.main(["hil", "run", SCENARIO, "--device", url, "--trace", str(trace),
                   "--duration", "500ms", "--timeout", "0.3"])
    err = capsys.readouterr().err
    assert rc == 3                              # the run failed on the way
    assert "disconnected" in err and "partial trace" in err
    assert [f.name for f in tmp_path.iterdir()] == ["out.jsonl"]     # no temporary left
    lines = [json.loads(x) for x in trace.read_text().splitlines()]
    assert lines[0]["type"] == "header" and lines[0]["target"] == "virtual-board"
    assert len(lines) > 5 and {e["type"] for e in lines[1:]} <= {
        "send", "deliver", "enqueue", "drop", "handle", "step", "console", "process",
        "fault", "alloc_fail"}


def test_crosscheck_reports_a_smaller_queue(serve, capsys):
    url = serve("--tcp", "127.0.0.1:0", "--queue-size-override", "1")
    rc = cli.main(["crosscheck", SCENARIO, "--device", url, "--duration", "500ms"])
    out = capsys.readouterr().out
    assert rc == 1, out
    assert "DIVERGENCE drops: processor_sink" in out
    assert "queues.processor_queue.high_water" in out


def test_crosscheck_error_exit_code(capsys, tmp_path):
    rc = cli.main(["crosscheck", SCENARIO, "--device", "socket://127.0.0.1:9",
                   "--timeout", "0.2", "--trace-dir", str(tmp_path / "traces")])
    assert rc == 2                              # nothing could run: nothing written
    assert "error:" in capsys.readouterr().out
    assert not (tmp_path / "traces").exists()


def test_hil_run_writes_a_trace(serve, tmp_path, capsys):
    url = serve("--tcp", "127.0.0.1:0")
    trace = tmp_path / "t.jsonl"
    assert cli.main(["hil", "run", SCENARIO, "--device", url, "--trace", str(trace),
                     "--duration", "300ms", "--quiet"]) == 0
    events = [json.loads(x) for x in trace.read_text().splitlines()]
    assert events[0]["format"] == "zsim-trace" and events[-1]["type"] == "stats"
    sends = [e for e in events if e["type"] == "send"]
    assert sends and all(len(e["digest"]) == 8 for e in sends)


def test_tolerance_hides_small_timing_differences():
    a = BridgeSimExecutor().run(SCENARIO, duration=K_MSEC(300))
    b = BridgeSimExecutor().run(SCENARIO, duration=K_MSEC(300))
    for ev in b.events:
        ev["tick"] += 2
    kinds = {d.kind for d in compare(a, b, tolerance_ticks=0)}
    assert kinds == {"timing"}
    assert compare(a, b, tolerance_ticks=2) == []
