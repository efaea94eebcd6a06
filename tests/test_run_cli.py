"""``zsim run``: console, summary, exit status, output files and the progress bar."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from zsim.cli import main
from zsim.progress import EchoStream, RunProgress

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "basic_packet_routing"
SINKS = ("processor_sink", "tcp_sink", "validator_sink")
SVG = "{http://www.w3.org/2000/svg}"


def write_model(tmp_path: Path, body: str, name: str = "m") -> Path:
    d = tmp_path / name
    d.mkdir()
    (d / "model.py").write_text(textwrap.dedent(body))
    (d / "prj.conf").write_text("CONFIG_PACKET_IO_STATS=y\nCONFIG_LOG=y\n")
    return d


def test_default_sample_run_prints_console_and_summary(capsys):
    assert main(["run", str(SAMPLE), "--duration", "2s"]) == 0
    out = capsys.readouterr().out
    assert "<inf> main: Packet I/O Routing Sample" in out
    assert "VALID: Sensor 1, Seq 0" in out
    assert out.index("Packet I/O Routing Sample") < out.index("zsim summary")
    for name in SINKS + ("sensor1_source", "processor_queue", "sensor_pool",
                         "network_thread"):
        assert name in out
    assert "latency" in out and "no leaks" in out
    (tcp_row,) = [line for line in out.splitlines() if "tcp_sink" in line and "queued" in line]
    cells = [c.strip() for c in tcp_row.strip("│┃ ").split("│")]
    p50, p99, mx = (float(c) for c in cells[-3:])
    assert 50.0 <= p50 <= p99 <= mx        # the TCP handler takes 50 ms per packet


def test_quiet_hides_the_console(capsys):
    assert main(["run", str(SAMPLE), "--duration", "1s", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Packet I/O Routing Sample" not in out
    assert "zsim summary" in out


def test_every_output_on_nrf52840dk(tmp_path, capsys):
    t, p, png, svg = (tmp_path / n for n in ("t.jsonl", "p.json", "plot.png", "g.svg"))
    rc = main(["run", str(SAMPLE), "--duration", "5s", "--board", "nrf52840dk", "--quiet",
               "--trace", str(t), "--perfetto", str(p), "--plot", str(png),
               "--graph", str(svg)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "nrf52840" in out
    lines = [json.loads(line) for line in t.read_text().splitlines()]
    header, events = lines[0], lines[1:]
    assert header["type"] == "header" and header["version"] == 1
    assert header["board"].startswith("nrf52840dk")
    kinds = {e["type"] for e in events}
    assert {"send", "deliver", "enqueue", "handle", "console"} <= kinds
    assert all(isinstance(e["tick"], int) and isinstance(e["us"], float) for e in events)

    trace = json.loads(p.read_text())
    evs = trace["traceEvents"]
    assert {e["ph"] for e in evs} <= {"B", "E", "X", "C", "M"}
    assert all(isinstance(e["pid"], int) and isinstance(e["tid"], int) for e in evs)
    threads = {e["args"]["name"] for e in evs if e.get("name") == "thread_name"}
    assert {"sensor_thread", "processor_thread", "network_thread"} <= threads
    slices = {e["name"] for e in evs if e["ph"] == "X"}
    assert set(SINKS) <= slices
    counters = {e["name"] for e in evs if e["ph"] == "C"}
    assert {"queue processor_queue depth", "queue network_queue depth"} <= counters

    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    texts = " ".join(e.text or "" for e in ET.parse(svg).getroot().iter(f"{SVG}text"))
    for sink in SINKS:
        assert sink in texts
    dot = (tmp_path / "g.dot").read_text()
    for src, sink in (("sensor1_source", "processor_sink"), ("sensor2_source", "processor_sink"),
                      ("processor_source", "tcp_sink"), ("processor_source", "validator_sink")):
        assert f'"source:{src}" -> "sink:{sink}"' in dot
    assert sorted(x.name for x in tmp_path.iterdir()) == ["g.dot", "g.svg", "p.json",
                                                          "plot.png", "t.jsonl"]


def test_same_seed_same_trace(tmp_path, capsys):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path in (a, b):
        assert main(["run", str(SAMPLE), "--duration", "1s", "--quiet", "--seed", "3",
                     "--trace", str(path)]) == 0
    assert a.read_bytes() == b.read_bytes()


TIMED = """
    from zsim import K_FOREVER, K_MSEC, NetBufPool
    from zsim.packet_io import PacketEventQueue, PacketSink, PacketSource, connect

    def main(k):
        pool = NetBufPool(k, "p", 4, 16)
        src = PacketSource(k, "src")
        q = PacketEventQueue(k, "q", 4)
        connect(src, PacketSink(k, "a_imm", lambda s, b: k.busy_wait(1000)))
        connect(src, PacketSink(k, "b_queued", lambda s, b: k.busy_wait(3000), queue=q))

        @k.thread(name="rx", priority=2)
        def rx():
            while True:
                q.process(K_FOREVER)

        @k.thread(name="tx", priority=5)
        def tx():
            for _ in range(5):
                src.send_consume(pool.alloc())
                k.sleep(K_MSEC(20))
"""


def sink_row(out: str, sink: str) -> list[str]:
    (row,) = [line for line in out.splitlines() if line.strip("│┃ ").startswith(sink + " ")]
    return [c.strip() for c in row.strip("│┃ ").split("│")]


def test_latency_from_send_start_to_handler_end(tmp_path, capsys):
    # a_imm is visited first (link order) and busy-waits 1 ms inside the send; the
    # higher-priority rx thread then runs b_queued's 3 ms handler as soon as the send ends.
    model = write_model(tmp_path, TIMED)
    assert main(["run", str(model), "--duration", "200ms", "--costs", "zero", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert sink_row(out, "a_imm")[2:] == ["5", "0", "1.000", "1.000", "1.000"]
    assert sink_row(out, "b_queued")[2:] == ["5", "0", "4.000", "4.000", "4.000"]


LEAKY = """
    from zsim import K_MSEC, NetBufPool

    def main(k):
        pool = NetBufPool(k, "leak_pool", 4, 32)

        @k.thread(name="leaker", priority=5)
        def leaker():
            k.sleep(K_MSEC(10))
            buf = pool.alloc()          # never released
            buf.add_u8(1)
"""


def test_packets_in_flight_at_the_end_are_not_leaks(capsys):
    # at 30 ms the TCP handler is still in its 50 ms transmission of the first packet
    assert main(["run", str(SAMPLE), "--duration", "30ms", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "2 buffer(s) in flight" in out and "no leaks" in out


def test_leaking_model_exits_5_and_names_the_allocation_site(tmp_path, capsys):
    model = write_model(tmp_path, LEAKY)
    assert main(["run", str(model), "--duration", "100ms", "--quiet"]) == 5
    out = capsys.readouterr().out
    assert "leak_pool" in out and "leaked" in out
    assert f"{model / 'model.py'}:10 in leaker()" in out.replace("\n", "")


CRASHING = """
    from zsim import K_MSEC

    def main(k):
        @k.thread(name="worker", priority=5)
        def worker():
            k.printk("worker up\\n")
            k.sleep(K_MSEC(50))
            raise RuntimeError("sensor went away")
"""


def test_crashing_thread_exits_3_and_keeps_the_trace_up_to_the_crash(tmp_path, capsys):
    model = write_model(tmp_path, CRASHING)
    trace = tmp_path / "out" / "t.jsonl"
    trace.parent.mkdir()
    assert main(["run", str(model), "--duration", "1s", "--trace", str(trace)]) == 3
    cap = capsys.readouterr()
    assert "worker up" in cap.out
    assert "worker" in cap.err and "sensor went away" in cap.err
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    assert lines[0]["type"] == "header"
    assert lines[1]["line"].startswith("*** Booting Zephyr OS build")
    assert {"type": "console", "line": "worker up"}.items() <= lines[2].items()
    assert [p.name for p in trace.parent.iterdir()] == ["t.jsonl"]


def test_kernel_assertion_exits_3(tmp_path, capsys):
    model = write_model(tmp_path, """
        from zsim import K_MSEC, Spinlock

        def main(k):
            lock = Spinlock(k)

            @k.thread(name="holder", priority=5)
            def holder():
                key = lock.lock()
                k.sleep(K_MSEC(1))      # blocking under a spinlock
                lock.unlock(key)
    """)
    (model / "prj.conf").write_text("CONFIG_ASSERT=y\n")
    assert main(["run", str(model), "--duration", "10ms", "--quiet"]) == 3
    assert "assert" in capsys.readouterr().err.lower()


def test_handler_releasing_its_buffer_exits_4(tmp_path, capsys):
    model = write_model(tmp_path, """
        from zsim import NetBufPool
        from zsim.packet_io import PacketSink, PacketSource, connect

        def main(k):
            pool = NetBufPool(k, "p", 2, 16)
            src = PacketSource(k, "src")
            def greedy(sink, buf):      # drops its borrowed reference and the caller's
                buf.unref()
                buf.unref()

            connect(src, PacketSink(k, "greedy", greedy))

            @k.thread(name="tx", priority=5)
            def tx():
                buf = pool.alloc()
                src.send(buf)
    """)
    assert main(["run", str(model), "--duration", "10ms", "--quiet"]) == 4
    assert "fault" in capsys.readouterr().out


def test_bad_model_exits_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    args = ["--trace", str(out / "t.jsonl"), "--perfetto", str(out / "p.json"),
            "--plot", str(out / "p.png"), "--graph", str(out / "g.svg")]
    assert main(["run", str(tmp_path / "missing"), *args]) == 2
    assert "missing" in capsys.readouterr().err
    unimportable = write_model(tmp_path, "import os\nimport no_such_module_here\n", "i")
    assert main(["run", str(unimportable), *args]) == 2
    assert f"{unimportable / 'model.py'}:2: ModuleNotFoundError" in capsys.readouterr().err
    bad_yaml = tmp_path / "y"
    bad_yaml.mkdir()
    (bad_yaml / "topology.yaml").write_text("sources: [\n")
    assert main(["run", str(bad_yaml), *args]) == 2
    assert "topology.yaml:" in capsys.readouterr().err
    broken = write_model(tmp_path, "def main(k):\n    raise RuntimeError('bad wiring')\n", "b")
    assert main(["run", str(broken), "--quiet", *args]) == 3
    assert "bad wiring" in capsys.readouterr().err
    assert list(out.iterdir()) == []


def test_missing_output_directory_is_reported_before_running(tmp_path, capsys):
    rc = main(["run", str(SAMPLE), "--trace", str(tmp_path / "no" / "t.jsonl")])
    assert rc == 2
    cap = capsys.readouterr()
    assert "does not exist" in cap.err and "Packet I/O" not in cap.out


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal_and_after_the_delay():
    now = [0.0]
    quiet = RunProgress(10e6, stream=io.StringIO(), clock=lambda: now[0])
    tty = FakeTty()
    bar = RunProgress(10e6, stream=tty, clock=lambda: now[0])
    assert not quiet.enabled and bar.enabled
    now[0] = 0.5
    bar.update(1e6)
    assert not bar.shown and tty.getvalue() == ""
    now[0] = 1.5
    quiet.update(2e6)
    bar.update(2e6)
    assert bar.shown and not quiet.shown
    assert "sim 2.000/10.000 s" in tty.getvalue()
    assert "wall 1.5 s" in tty.getvalue()
    echo = EchoStream(bar)
    print("a console line", file=echo)
    bar.close()
    assert "a console line" in tty.getvalue()
    assert quiet.stream.getvalue() == ""


def test_sliced_run_gives_the_same_trace():
    from zsim.durations import parse_duration
    from zsim.sim_executor import SimulatorExecutor

    seen = []
    plain = SimulatorExecutor(trace=True).run(SAMPLE, duration=parse_duration("3s"))
    sliced = SimulatorExecutor(trace=True, progress=seen.append).run(
        SAMPLE, duration=parse_duration("3s"))
    assert len(seen) >= 50 and seen == sorted(seen) and seen[-1] == pytest.approx(3e6)
    assert plain.events == sliced.events and plain.events


def test_zsim_run_as_a_subprocess(tmp_path):
    exe = shutil.which("zsim")
    cmd = [exe] if exe else [sys.executable, "-m", "zsim"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([*cmd, "run", str(SAMPLE), "--duration", "1s",
                           "--graph", str(tmp_path / "g.dot")],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "Packet I/O Routing Sample" in done.stdout and "zsim summary" in done.stdout
    assert "\x1b[" not in done.stdout          # no progress bar or colours into a pipe
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
