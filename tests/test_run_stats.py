"""The run's statistics: one definition of each number across summary, plot and Perfetto,
measured in constant memory."""

from __future__ import annotations

import io
import json
import math
import random
import re
import textwrap
from pathlib import Path

import pytest

from zsim.cli import main
from zsim.durations import parse_duration
from zsim.export.series import Levels
from zsim.latency import summarize_recorder
from zsim.packet_io.stats import LatencyRecorder
from zsim.sim_executor import SimulatorExecutor
from zsim.summary import latency_table

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "basic_packet_routing"

CONGESTED = """
    from zsim import K_FOREVER, K_MSEC, NetBufPool
    from zsim.packet_io import PacketEventQueue, PacketSink, PacketSource, connect

    def main(k):
        pool = NetBufPool(k, "p", 8, 16)
        src = PacketSource(k, "src")
        q = PacketEventQueue(k, "slow_queue", size=3)

        def slow(sink, buf):
            k.busy_wait(25_000)          # 25 ms per packet, packets every 10 ms

        connect(src, PacketSink(k, "slow_sink", slow, queue=q))

        @k.thread(name="proc", priority=7)
        def proc():
            while True:
                q.process(K_FOREVER)

        @k.thread(name="tx", priority=5)
        def tx():
            while True:
                buf = pool.alloc(K_MSEC(1))
                if buf is not None:
                    src.send_consume(buf)
                k.msleep(10)
"""


def write_model(tmp_path: Path, body: str) -> Path:
    d = tmp_path / "m"
    d.mkdir()
    (d / "model.py").write_text(textwrap.dedent(body))
    (d / "prj.conf").write_text("CONFIG_PACKET_IO_STATS=y\n")
    return d


def test_summary_latency_equals_the_trace_computation():
    ex = SimulatorExecutor(record_latency=True)          # trace kept, as twister keeps it
    out = ex.run(SAMPLE, duration=parse_duration("5s"))
    from_trace = latency_table(out.events)
    live = out.summary["latency"]
    assert set(live) == set(from_trace) == {"processor_sink", "tcp_sink", "validator_sink"}
    for sink, row in live.items():
        assert row["exact"]
        for key in ("count", "p50_us", "p99_us", "max_us"):
            assert row[key] == pytest.approx(from_trace[sink][key], abs=1e-6), (sink, key)


def test_queue_depth_is_one_number_in_summary_plot_and_perfetto(tmp_path, capsys):
    model = write_model(tmp_path, CONGESTED)
    levels = Levels()
    ex = SimulatorExecutor(record_latency=True, keep=False, levels=levels, trace=False)
    out = ex.run(model, duration=parse_duration("2s"))
    (queue,) = out.summary["queues"]
    assert queue["high_water"] == 3                      # the queue fills up
    assert levels.series["queue slow_queue depth"].peak == queue["high_water"]

    perfetto = tmp_path / "p.json"
    assert main(["run", str(model), "--duration", "2s", "--quiet",
                 "--perfetto", str(perfetto)]) == 0
    printed = capsys.readouterr().out
    row = next(line for line in printed.splitlines() if "slow_queue" in line)
    assert [c.strip() for c in row.strip("│ ").split("│")][1] == "3"
    counters = [e["args"]["value"] for e in json.loads(perfetto.read_text())["traceEvents"]
                if e.get("name") == "queue slow_queue depth"]
    assert max(counters) == 3 and counters[0] == 0


def test_the_samples_idle_queues_read_zero_everywhere(tmp_path, capsys):
    perfetto = tmp_path / "p.json"
    assert main(["run", str(SAMPLE), "--duration", "2s", "--quiet",
                 "--perfetto", str(perfetto)]) == 0
    printed = capsys.readouterr().out
    for name in ("processor_queue", "network_queue"):
        row = next(line for line in printed.splitlines() if name in line)
        assert [c.strip() for c in row.strip("│ ").split("│")][1] == "0"
        counters = [e["args"]["value"] for e in json.loads(perfetto.read_text())["traceEvents"]
                    if e.get("name") == f"queue {name} depth"]
        assert counters and max(counters) == 0


def test_a_run_without_keep_holds_no_events_and_a_bounded_console():
    echo = io.StringIO()
    ex = SimulatorExecutor(keep=False, trace=False, record_latency=True, echo=echo)
    out = ex.run(SAMPLE, duration=parse_duration("200s"))
    assert out.events == [] and out.console == []       # nothing kept (stats go to on_event)
    k = ex.last_kernel
    printed = echo.getvalue().splitlines()
    assert len(printed) > 10 * SimulatorExecutor.CONSOLE_TAIL
    assert SimulatorExecutor.CONSOLE_TAIL <= len(k.console) <= 2 * SimulatorExecutor.CONSOLE_TAIL
    assert list(k.console) == printed[-len(k.console):]  # the newest lines are the ones kept
    assert out.summary["latency"]["tcp_sink"]["count"] > 250


def test_latency_recorder_is_exact_then_folds_into_a_bounded_histogram():
    rec = LatencyRecorder(limit=64)
    for v in (5, 5, 7, 100):
        rec.record(v)
    exact = summarize_recorder(rec, 1_000_000)
    assert exact == {"count": 4, "p50_us": 5.0, "p99_us": 100.0, "max_us": 100.0,
                     "exact": True}
    rng = random.Random(1)
    values = [rng.randrange(1, 10_000_000) for _ in range(20_000)]
    rec = LatencyRecorder(limit=64)
    for v in values:
        rec.record(v)
        assert len(rec.counts) <= 64
    row = summarize_recorder(rec, 1_000_000)
    ordered = sorted(values)
    for p in (50, 99):
        true = ordered[math.ceil(p * len(values) / 100) - 1]
        assert row[f"p{p}_us"] == pytest.approx(true, rel=1e-3)
    assert row["max_us"] == max(values) and row["count"] == len(values)
    assert row["exact"] is False


def test_summary_says_when_percentiles_are_approximate(tmp_path, capsys):
    # Latencies that take more than 4 096 distinct values: the summary says how precise.
    model = write_model(tmp_path, """
        from zsim import K_FOREVER, NetBufPool
        from zsim.packet_io import PacketEventQueue, PacketSink, PacketSource, connect

        def main(k):
            pool = NetBufPool(k, "p", 4, 16)
            src = PacketSource(k, "src")
            q = PacketEventQueue(k, "q", size=2)
            n = [0]

            def vary(sink, buf):
                n[0] += 1
                k.busy_wait(1 + n[0] % 5000)

            connect(src, PacketSink(k, "vary_sink", vary, queue=q))

            @k.thread(name="proc", priority=7)
            def proc():
                while True:
                    q.process(K_FOREVER)

            @k.thread(name="tx", priority=5)
            def tx():
                for _ in range(12_000):
                    src.send_consume(pool.alloc(K_FOREVER), K_FOREVER)
    """)
    assert main(["run", str(model), "--duration", "60s", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "latency percentiles within 0.1 %" in out
    assert re.search(r"vary_sink\s*│\s*queued", out)
