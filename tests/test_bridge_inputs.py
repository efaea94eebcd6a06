"""The bridge's commands: bad numbers and output paths are bad input, outputs are never
half-written or destroyed, one topology per cross-check, signals end cleanly."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from firmware_bridge import cli
from firmware_bridge.crosscheck import crosscheck, resolve_scenario
from firmware_bridge.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = str(ROOT / "tests" / "data" / "bridge_basic")
EXAMPLE = ROOT / "examples" / "basic_packet_routing"
NOWHERE = "socket://127.0.0.1:9"          # nothing listens: "cannot open"


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get(
        "PYTHONPATH", ""))


def _exit_code(argv: list[str]) -> int:
    try:
        return cli.main(argv)
    except SystemExit as exc:             # argparse's bad input
        return int(exc.code or 0)


def _listing(d: Path) -> list[str]:
    return sorted(f.name for f in d.iterdir())


@pytest.mark.parametrize("argv, option", [
    (["board", "serve", "--rx-window", "0"], "--rx-window"),
    (["board", "serve", "--rx-window", "9"], "--rx-window"),
    (["board", "serve", "--disconnect-after", "-1"], "--disconnect-after"),
    (["board", "serve", "--noise", "1.5"], "--noise"),
    (["board", "serve", "--drop", "nan"], "--drop"),
    (["board", "serve", "--drop", "x"], "--drop"),
    (["board", "serve", "--idle-timeout", "0"], "--idle-timeout"),
    (["board", "serve", "--queue-size-override", "0"], "--queue-size-override"),
    (["board", "serve", "--report-ring", "0"], "--report-ring"),
    (["hil", "run", SCENARIO, "--device", NOWHERE, "--timeout", "0"], "--timeout"),
    (["hil", "run", SCENARIO, "--device", NOWHERE, "--timeout", "-1"], "--timeout"),
    (["hil", "run", SCENARIO, "--device", NOWHERE, "--retries", "-1"], "--retries"),
    (["hil", "run", SCENARIO, "--device", NOWHERE, "--baud", "0"], "--baud"),
    (["hil", "run", SCENARIO, "--device", NOWHERE, "--duration", "0s"], "--duration"),
    (["hil", "run", SCENARIO, "--device", NOWHERE, "--duration", "soon"], "--duration"),
    (["hil", "run", SCENARIO, "--device", NOWHERE, "--seed", "-1"], "--seed"),
    (["crosscheck", SCENARIO, "--device", NOWHERE, "--tolerance-ticks", "-1"],
     "--tolerance-ticks"),
    (["crosscheck", SCENARIO, "--device", NOWHERE, "--timeout", "0"], "--timeout"),
    (["crosscheck", SCENARIO, "--device", NOWHERE, "--baud", "-9600"], "--baud"),
])
def test_out_of_range_numbers_are_bad_input(argv, option, capsys):
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err
    assert option in err and "expected" in err


def test_bad_tcp_address_is_bad_input(capsys):
    assert _exit_code(["board", "serve", "--tcp", "127.0.0.1:70000"]) == 2
    assert "PORT 0..65535" in capsys.readouterr().err


def test_unopenable_device_leaves_an_existing_trace_untouched(tmp_path, capsys):
    old = tmp_path / "old.jsonl"
    old.write_text("precious\n")
    rc = _exit_code(["hil", "run", SCENARIO, "--device", NOWHERE, "--timeout", "0.2",
                     "--trace", str(old)])
    assert rc == 2
    assert "cannot open" in capsys.readouterr().err
    assert old.read_text() == "precious\n"
    assert _listing(tmp_path) == ["old.jsonl"]              # no temporary file either


@pytest.mark.parametrize("where", ["inside", "is_dir", "scenario"])
def test_harmful_trace_paths_are_refused_before_anything_runs(where, tmp_path, capsys):
    scen = tmp_path / "scen"
    shutil.copytree(SCENARIO, scen)
    trace = {"inside": scen / "t.jsonl", "is_dir": tmp_path,
             "scenario": scen / "topology.yaml"}[where]
    before = (scen / "topology.yaml").read_bytes()
    rc = _exit_code(["hil", "run", str(scen), "--device", NOWHERE, "--timeout", "0.2",
                     "--trace", str(trace)])
    err = capsys.readouterr().err
    assert rc == 2 and "--trace" in err and "cannot open" not in err   # device untouched
    assert _listing(scen) == ["topology.yaml"]
    assert (scen / "topology.yaml").read_bytes() == before


def test_trace_dir_inside_the_scenario_is_refused(tmp_path, capsys):
    scen = tmp_path / "scen"
    shutil.copytree(SCENARIO, scen)
    rc = _exit_code(["crosscheck", str(scen), "--device", NOWHERE, "--timeout", "0.2",
                     "--trace-dir", str(scen / "out")])
    err = capsys.readouterr().err
    assert rc == 2 and "--trace-dir" in err and "inside" in err
    assert _listing(scen) == ["topology.yaml"]


def test_hil_run_rejects_a_bad_scenario_before_the_device(tmp_path, capsys):
    bad = tmp_path / "topology.yaml"
    bad.write_text("version: 1\npools: 3\n")
    rc = _exit_code(["hil", "run", str(bad), "--device", NOWHERE, "--timeout", "0.2"])
    err = capsys.readouterr().err
    assert rc == 2 and "topology.yaml:" in err and "cannot open" not in err


def test_one_topology_per_crosscheck(tmp_path, capsys):
    # a directory with model.py and topology.yaml: its topology.yaml, on both sides
    assert resolve_scenario(EXAMPLE) == EXAMPLE / "topology.yaml"
    only_model = tmp_path / "m"
    only_model.mkdir()
    shutil.copy(EXAMPLE / "model.py", only_model / "model.py")
    with pytest.raises(ScenarioError, match="cannot run model.py"):
        resolve_scenario(only_model)
    with pytest.raises(ScenarioError, match="Python model"):
        crosscheck(only_model / "model.py", NOWHERE)
    rc = _exit_code(["crosscheck", str(only_model), "--device", NOWHERE])
    err = capsys.readouterr().err
    assert rc == 2 and "model.py" in err and "cannot open" not in err


def test_crosscheck_of_the_example_agrees_in_bounded_memory(serve, tmp_path):
    """No --duration: the topology's 10 s on both sides; within 1 GiB of address space."""
    url = serve("--tcp", "127.0.0.1:0")
    limit = 1 << 30

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    proc = subprocess.run(
        [sys.executable, "-m", "firmware_bridge.cli", "crosscheck", str(EXAMPLE),
         "--device", url, "--json", "--trace-dir", str(tmp_path)],
        capture_output=True, text=True, env=_env(), cwd=tmp_path, preexec_fn=cap,
        timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert result["divergences"] == [] and result["errors"] == []
    for name in ("simulator.jsonl", "device.jsonl"):
        lines = [json.loads(x) for x in (tmp_path / name).read_text().splitlines()]
        assert lines[0]["scenario"].endswith("topology.yaml")
        stats = lines[-1]
        assert stats["type"] == "stats" and stats["tick"] == 1000   # 10 s at 100 ticks/s
    assert _listing(tmp_path) == ["device.jsonl", "simulator.jsonl"]


def _popen(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "firmware_bridge.cli", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(), cwd=cwd)


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return proc.returncode, err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_hil_run_ends_cleanly(signum, serve, tmp_path):
    url = serve("--tcp", "127.0.0.1:0")
    proc = _popen(["hil", "run", SCENARIO, "--device", url, "--duration", "100000s",
                   "--trace", "t.jsonl"], tmp_path)
    try:
        first = proc.stdout.readline()            # the board's boot banner: running
        assert first, proc.stderr.read()
        proc.send_signal(signum)
    finally:
        rc, err = _finish(proc)
    assert rc == 128 + signum, err
    assert "Traceback" not in err and "interrupted" in err
    assert _listing(tmp_path) == []              # no trace, no temporary file


def test_board_serve_ends_with_the_signal_status(tmp_path):
    proc = _popen(["board", "serve", "--tcp", "127.0.0.1:0"], tmp_path)
    try:
        assert proc.stdout.readline().startswith("socket://127.0.0.1:")
        proc.send_signal(signal.SIGTERM)
    finally:
        rc, err = _finish(proc)
    assert rc == 128 + signal.SIGTERM and "Traceback" not in err
