"""zsim sweep: parameters, the plan, a local sweep, --find-min, outputs and interrupts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zsim.cli import main
from zsim.sweep.expr import Condition
from zsim.sweep.params import SweepInputError, expand_values, parse_param
from zsim.sweep.plot import write_plot
from zsim.sweep.points import make_plan
from zsim.sweep.results import read_rows

ROOT = Path(__file__).resolve().parent.parent
BURST = ROOT / "examples" / "burst_queue"
SIZE = "queues.network_queue.size"


def _sweep(tmp_path: Path, *extra: str, out: str = "out") -> tuple[int, Path]:
    d = tmp_path / out
    rc = main(["sweep", str(BURST), "--duration", "1200ms", "-O", str(d), *extra])
    return rc, d


# ------------------------------------------------------------------ parameters
def test_ranges_expand():
    assert expand_values("x", "1..4,9") == ["1", "2", "3", "4", "9"]
    assert expand_values("x", "1..64:x2") == ["1", "2", "4", "8", "16", "32", "64"]
    assert expand_values("x", "0..10:+5") == ["0", "5", "10"]
    for bad in ("4..1", "1..8:x1", "a..b", "1,,2", "0..8:x2"):
        with pytest.raises(SweepInputError):
            expand_values("x", bad)


def test_param_kinds_and_reserved_names():
    assert parse_param("seed=0..2").values == [0, 1, 2]
    assert parse_param("CONFIG_LOG=y,n").kind == "kconfig"
    assert parse_param(f"{SIZE}=1,2").path == ("queues", "network_queue", "size")
    for bad in ("board=a", "status=1", "noequals", f"{SIZE}..x=1", "CONFIG_A-B=1"):
        with pytest.raises(SweepInputError):
            parse_param(bad)


def test_plan_types_values_and_cross_product():
    params = [parse_param(f"{SIZE}=1..3"), parse_param("stimuli.0.periodic.every=1ms,2ms"),
              parse_param("CONFIG_LOG=y,n")]
    plan = make_plan(BURST, params, ["native_sim"], 2, "1s")
    assert params[0].values == [1, 2, 3] and params[1].values == ["1ms", "2ms"]
    assert params[2].values == [True, False]
    points = list(plan.points())
    assert len(points) == plan.count() == 3 * 2 * 2 * 2
    assert [p.index for p in points] == list(range(len(points)))
    spec = plan.spec(points[-1])
    assert "size: 3" in spec["files"]["topology.yaml"]
    assert spec["config"] == {"LOG": False} and spec["seed"] == 1


@pytest.mark.parametrize("param, message", [
    ("queues.nope.size=1", "no entry named 'nope'"),
    ("queues.network_queue.size=abc", "expected an integer"),
    ("queues.network_queue.size=0", "minimum"),
    ("pools.rx_pool.colour=1", "unknown key"),
    ("sinks.0.behaviour.5.sleep.ms=1", "no index 5"),
    ("CONFIG_MAIN_STACK_SIZE=big", "int symbol"),
])
def test_bad_param_is_bad_input_and_writes_nothing(tmp_path, capsys, param, message):
    rc, out = _sweep(tmp_path, "--param", param)
    assert rc == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_topology_field_on_python_model_is_refused(tmp_path, capsys):
    model = ROOT / "examples" / "basic_packet_routing" / "model.py"
    rc = main(["sweep", str(model), "--param", f"{SIZE}=1,2", "--duration", "1s",
               "-O", str(tmp_path / "o")])
    assert rc == 2 and "Python model" in capsys.readouterr().err


def test_refuses_a_directory_holding_files_zsim_did_not_write(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "results.csv").write_text("precious\n")
    rc, _ = _sweep(tmp_path, "--param", f"{SIZE}=1,2", out="mine")
    assert rc == 2 and "not written by zsim" in capsys.readouterr().err
    assert (out / "results.csv").read_text() == "precious\n"


# ------------------------------------------------------------------ conditions
def test_condition_over_dotted_columns():
    c = Condition("drops == 0 and tcp_sink.p99_us < 1000 or not status == 0")
    assert c.holds({"drops": 0, "tcp_sink.p99_us": 10, "status": 0})
    assert not c.holds({"drops": 1, "tcp_sink.p99_us": 10, "status": 0})
    assert c.holds({"drops": 1, "status": 3})
    assert not Condition("drops == 0").holds({"drops": None})
    for bad in ("__import__('os')", "drops ==", "x[0] == 1", "a ** 2"):
        with pytest.raises(SweepInputError):
            Condition(bad)


# ------------------------------------------------------------------ running
def test_local_sweep_rows_and_outputs(tmp_path, capsys):
    rc, out = _sweep(tmp_path, "--param", f"{SIZE}=1..5", "--seeds", "2", "-j", "2")
    assert rc == 0, capsys.readouterr().err
    rows = read_rows(out / "results.json")
    assert [r["point"] for r in rows] == list(range(10))
    assert [(r[SIZE], r["seed"]) for r in rows] == [(s, n) for s in range(1, 6)
                                                  for n in range(2)]
    header = (out / "results.csv").read_text().splitlines()[0].split(",")
    assert header[:5] == ["point", SIZE, "board", "seed", "status"]
    for col in ("tcp_sink.handled", "tcp_sink.p99_us", "network_queue.high_water",
                "rx_pool.min_free", "wall_s"):
        assert col in header
    for r in rows:
        assert r["status"] == 0
        assert r["drops"] == r["tcp_sink.dropped"] + r["log_sink.dropped"]
        assert r["network_queue.high_water"] <= r[SIZE]
    drops = [r["drops"] for r in rows]
    assert drops[0] > 0 and drops == sorted(drops, reverse=True)
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / ".zsim-output").is_file()
    # a second sweep may replace what zsim wrote there
    rc, _ = _sweep(tmp_path, "--param", f"{SIZE}=2,3", "-j", "1")
    assert rc == 0 and len(read_rows(out / "results.json")) == 2


def test_find_min_agrees_with_the_full_sweep(tmp_path, capsys):
    rc, full = _sweep(tmp_path, "--param", f"{SIZE}=1..8", out="full")
    assert rc == 0
    expected = min(r[SIZE] for r in read_rows(full / "results.json") if r["drops"] == 0)
    capsys.readouterr()
    rc, out = _sweep(tmp_path, "--param", f"{SIZE}=1..8", "--find-min", SIZE,
                     "--where", "drops == 0", out="bisect")
    assert rc == 0
    assert f"smallest {SIZE} with drops == 0: {expected}" in capsys.readouterr().out
    doc = json.loads((out / "results.json").read_text())
    assert doc["find_min"]["value"] == expected
    assert len(doc["rows"]) < 8            # bisection, not every value


def test_stop_when_ends_the_sweep_early(tmp_path, capsys):
    rc, out = _sweep(tmp_path, "--param", f"{SIZE}=8,6,4,3,2,1", "-j", "1", "--param",
                     "seed=0", "--stop-when", "drops > 0")
    rows = read_rows(out / "results.json")
    assert rc == 0
    assert rows[-1]["drops"] > 0 and all(r["drops"] == 0 for r in rows[:-1])
    assert "stopped at point" in capsys.readouterr().out


def test_stop_when_naming_no_column_stops_at_the_first_point(tmp_path, capsys):
    rc, out = _sweep(tmp_path, "--param", "queues.network_queue.size=1..8", "-j", "1",
                     "--stop-when", "drop == 0")
    assert rc == 2
    assert "no column drop" in capsys.readouterr().err
    rows = read_rows(out / "results.json")
    assert len(rows) < 8                        # stopped, the finished rows kept


def test_failed_point_is_a_row_not_a_crashed_sweep(tmp_path, capsys):
    # a pool beyond the board's RAM cannot be built: that point's row says so
    rc, out = _sweep(tmp_path, "--param", "pools.rx_pool.count=4,60000", "--param",
                     "pools.rx_pool.size=65535")
    rows = read_rows(out / "results.json")
    assert [r["status"] for r in rows] == [0, 2]
    assert rows[1]["error"] and rows[1]["drops"] is None
    assert rc == 3


def test_plot_two_parameters_and_extra_panels(tmp_path):
    rows = [{"point": i, "a": a, "b": b, "c": c, "board": "native_sim", "seed": 0,
             "status": 0, "drops": a * b, "s.p99_us": 1000.0 * (a + b) if c == "x" else None}
            for i, (a, b, c) in enumerate((a, b, c) for a in (1, 2) for b in (1, 2, 3)
                                           for c in ("x", "y"))]
    assert write_plot(tmp_path / "p.png", ["a", "b", "c"], rows)
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
    assert not write_plot(tmp_path / "q.png", ["a"], [{**rows[0], "status": 3}])
    assert not (tmp_path / "q.png").exists()


def interrupted_sweep(out: Path, duration: str, jobs: int, *, settle: float,
                      second_after: float | None = None) -> tuple[subprocess.Popen, str]:
    """Start a 40-point sweep in its own process group, wait (bounded) until a worker
    runs a point, then ``settle`` seconds more, and send SIGINT (and a second one
    ``second_after`` seconds later); the finished process and its stderr."""
    proc = subprocess.Popen([sys.executable, "-m", "zsim", "sweep", str(BURST), "--param",
                             f"{SIZE}=1..40", "--duration", duration, "-j", str(jobs), "-O",
                             str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:  # until the first point
            if _children(proc.pid):
                break
            time.sleep(0.05)
        time.sleep(settle)
        os.kill(proc.pid, signal.SIGINT)
        if second_after is not None:
            time.sleep(second_after)
            os.kill(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    return proc, stderr


def test_sigint_keeps_the_finished_rows(tmp_path):
    out = tmp_path / "out"
    proc, stderr = interrupted_sweep(out, "30s", 1, settle=1.0)
    assert proc.returncode == 130, stderr
    doc = json.loads((out / "results.json").read_text())
    assert doc["stopped"] == "SIGINT" and len(doc["rows"]) < 40
    assert all(r["status"] == 0 for r in doc["rows"])


def _children(pid: int) -> bool:
    try:
        return bool(Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
    except OSError:
        return True


def test_a_second_sigint_ends_the_workers_and_exits_at_once(tmp_path, live_processes):
    out = tmp_path / "out"
    proc, stderr = interrupted_sweep(out, "3000s", 2, settle=0.5, second_after=0.2)
    assert proc.returncode == 130, stderr
    assert "SIGINT again: exiting now" in stderr
    assert live_processes.wait_gone(group=proc.pid) == []
    leftovers = [p.name for p in out.rglob("*.tmp")] if out.exists() else []
    assert leftovers == []
