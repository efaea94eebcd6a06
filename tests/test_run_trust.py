"""``zsim run`` under real use: signals keep results, nothing hangs, inputs are never
overwritten, bad input writes nothing, crashes say where, and the exit-code contract holds."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from zsim.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "basic_packet_routing"
LONG = "100000s"                # far longer than any test waits: only a signal ends it


def write_model(tmp_path: Path, body: str, name: str = "m", conf: str | None = None) -> Path:
    d = tmp_path / name
    d.mkdir()
    (d / "model.py").write_text(textwrap.dedent(body))
    (d / "prj.conf").write_text(conf if conf is not None
                                else "CONFIG_PACKET_IO_STATS=y\nCONFIG_LOG=y\n")
    return d


@contextlib.contextmanager
def zsim_process(args: list[str], cwd: Path, **env_extra: str) -> Iterator[subprocess.Popen]:
    """``zsim ARGS`` running, killed and reaped on the way out if it has not ended."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", **env_extra)
    proc = subprocess.Popen([sys.executable, "-m", "zsim", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def wait_for_temp_growth(directory: Path, proc: subprocess.Popen, size: int = 100_000,
                         limit: float = 60.0) -> None:
    """Wait (bounded) until a streamed output's temporary file holds ``size`` bytes."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if any(p.stat().st_size >= size for p in directory.glob(".*.tmp")):
            return
        time.sleep(0.05)
    raise AssertionError("the run never streamed its trace")


def finish(proc: subprocess.Popen, limit: float = 60.0) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"zsim did not stop:\n{out}\n{err}") from None
    return proc.returncode, out, err


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_stops_the_run_and_keeps_every_result(tmp_path, sig):
    out = tmp_path / "out"
    out.mkdir()
    with zsim_process(["run", str(SAMPLE), "--duration", LONG, "--quiet",
                       "--trace", str(out / "t.jsonl"), "--perfetto", str(out / "p.json"),
                       "--plot", str(out / "p.png")], tmp_path) as proc:
        wait_for_temp_growth(out, proc)
        proc.send_signal(sig)
        rc, stdout, stderr = finish(proc)
    assert rc == 128 + sig, stderr
    assert "Traceback" not in stderr
    assert f"interrupted by {signal.Signals(sig).name}" in stdout
    assert "zsim summary" in stdout and "processor_sink" in stdout
    assert leftovers(out) == []
    lines = (out / "t.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["type"] == "header"
    events = [json.loads(line) for line in lines[1:]]        # every line whole
    assert len(events) > 100                             # the run had got going
    trace = json.loads((out / "p.json").read_text())
    assert any(e["ph"] == "C" for e in trace["traceEvents"])
    assert (out / "p.png").read_bytes().startswith(b"\x89PNG")
    # the virtual time reached is the one the summary reports
    reached = int(stdout.split("zsim summary")[1].split(",")[1].split("ms")[0])
    assert abs(events[-1]["us"] / 1000 - reached) <= 1000


def test_a_second_interrupt_exits_at_once_and_leaves_no_temporary_file(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "t.jsonl").write_text("previous trace\n")
    with zsim_process(["run", str(SAMPLE), "--duration", LONG, "--quiet",
                       "--trace", str(out / "t.jsonl"), "--perfetto", str(out / "p.json")],
                      tmp_path) as proc:
        wait_for_temp_growth(out, proc)
        proc.send_signal(signal.SIGINT)
        proc.send_signal(signal.SIGINT)
        rc, stdout, stderr = finish(proc)
    assert rc == 130
    assert "Traceback" not in stderr
    assert leftovers(out) == []
    # each output is either the previous file or a whole new one, never a part
    text = (out / "t.jsonl").read_text()
    if text != "previous trace\n":
        [json.loads(line) for line in text.splitlines()]
    if (out / "p.json").exists():
        json.loads((out / "p.json").read_text())


def test_a_second_interrupt_leaves_no_plot_child(tmp_path, live_processes):
    """The plot's child process (its own session: the terminal's Ctrl-C does not reach it)
    is ended when a second signal makes zsim exit at once."""
    out = tmp_path / "out"
    out.mkdir()
    mark = f"ZSIM_TEST_MARK={os.getpid()}-{time.monotonic_ns()}"
    with zsim_process(["run", str(SAMPLE), "--duration", LONG, "--quiet", "--trace",
                       str(out / "t.jsonl"), "--plot", str(out / "p.png")], tmp_path,
                      ZSIM_TEST_MARK=mark.split("=", 1)[1]) as proc:
        wait_for_temp_growth(out, proc)
        assert len(live_processes.find(env=mark)) == 2      # zsim and the plot's child
        proc.send_signal(signal.SIGINT)
        time.sleep(0.1)                 # the second while the outputs are being finished
        proc.send_signal(signal.SIGINT)
        rc, _, stderr = finish(proc)
    assert rc == 130, stderr
    assert live_processes.wait_gone(env=mark) == []
    assert leftovers(out) == []


def test_wall_timeout_stops_a_thread_that_never_yields(tmp_path, capsys):
    model = write_model(tmp_path, """
        def main(k):
            @k.thread(name="spinner", priority=5)
            def spinner():
                k.msleep(5)
                while True:
                    pass
    """)
    trace = tmp_path / "t.jsonl"
    rc = main(["run", str(model), "--wall-timeout", "0.5", "--quiet", "--trace", str(trace)])
    captured = capsys.readouterr()
    assert rc == 3
    assert "wall-clock limit of 0.5 s reached" in captured.err
    assert "thread 'spinner'" in captured.err
    assert f"{model / 'model.py'}:6" in captured.err          # the line that spins
    assert json.loads(trace.read_text().splitlines()[0])["type"] == "header"
    assert leftovers(tmp_path) == []


def test_wall_timeout_stops_a_queue_that_feeds_itself(tmp_path, capsys):
    # A queued sink forwarding every packet back into its own source: the processing thread
    # never sleeps and virtual time never advances (a livelock).
    model = write_model(tmp_path, """
        from zsim import K_FOREVER, NetBufPool
        from zsim.packet_io import PacketEventQueue, PacketSink, PacketSource, connect

        def main(k):
            pool = NetBufPool(k, "p", 2, 16)
            src = PacketSource(k, "loop_source")
            q = PacketEventQueue(k, "loop_queue", size=2)
            connect(src, PacketSink(k, "loop_sink", lambda s, b: src.send(b), queue=q))

            @k.thread(name="proc", priority=5)
            def proc():
                while True:
                    q.process(K_FOREVER)

            @k.thread(name="kick", priority=6)
            def kick():
                src.send_consume(pool.alloc())
    """)
    rc = main(["run", str(model), "--wall-timeout", "0.5", "--quiet", "--costs", "zero"])
    captured = capsys.readouterr()
    assert rc == 3
    assert "wall-clock limit of 0.5 s reached" in captured.err
    assert "loop_sink" in captured.out


def test_a_thread_calling_sys_exit_is_a_crash(tmp_path, capsys):
    model = write_model(tmp_path, """
        import sys

        def main(k):
            @k.thread(name="quitter", priority=5)
            def quitter():
                k.msleep(1)
                sys.exit(0)
    """)
    rc = main(["run", str(model), "--duration", "1s", "--quiet"])
    captured = capsys.readouterr()
    assert rc == 3
    assert "SystemExit" in captured.err and "quitter" in captured.err
    assert "zsim summary" in captured.out


def test_a_crash_report_ends_with_the_model_traceback(tmp_path, capsys):
    model = write_model(tmp_path, """
        def check(value):
            if value > 2:
                raise ValueError(f"value {value} out of range")

        def main(k):
            @k.thread(name="checker", priority=5)
            def checker():
                for i in range(5):
                    k.msleep(1)
                    check(i)
    """)
    rc = main(["run", str(model), "--duration", "1s", "--quiet"])
    out = capsys.readouterr().out
    assert rc == 3
    tail = out[out.index("run failed"):]
    assert "Traceback (most recent call last)" in tail
    assert f'File "{model / "model.py"}", line 4, in check' in tail
    assert f'File "{model / "model.py"}", line 11, in checker' in tail
    assert "\nValueError: [in thread 'checker'] value 3 out of range" in tail
    assert "zsim/kernel" not in tail              # zsim's own frames above the model's


@pytest.mark.parametrize("opt", ["--trace", "--perfetto", "--plot", "--graph"])
def test_an_output_never_overwrites_the_model(tmp_path, capsys, opt):
    model = tmp_path / "model"
    model.mkdir()
    for name in ("topology.yaml", "prj.conf"):
        (model / name).write_bytes((SAMPLE / name).read_bytes())
    before = (model / "topology.yaml").read_bytes()
    assert main(["run", str(model / "topology.yaml"), "--duration", "1s", "--quiet",
                 opt, str(model / "topology.yaml")]) == 2
    assert "never overwrites its inputs" in capsys.readouterr().err
    assert (model / "topology.yaml").read_bytes() == before
    assert main(["run", str(model), "--duration", "1s", "--quiet",
                 opt, str(model / "run.out")]) == 2
    assert "lies inside the input directory" in capsys.readouterr().err
    assert sorted(p.name for p in model.iterdir()) == ["prj.conf", "topology.yaml"]


def test_outputs_are_checked_against_each_other_and_the_config(tmp_path, capsys):
    conf = tmp_path / "extra.conf"
    conf.write_text("CONFIG_PACKET_IO_STATS=y\n")
    same = tmp_path / "x.json"
    assert main(["run", str(SAMPLE), "--quiet", "--trace", str(same),
                 "--perfetto", str(same)]) == 2
    assert "the same file as --trace" in capsys.readouterr().err
    assert main(["run", str(SAMPLE), "--quiet", "--config", str(conf),
                 "--trace", str(conf)]) == 2
    assert conf.read_text() == "CONFIG_PACKET_IO_STATS=y\n"
    assert main(["run", str(SAMPLE), "--quiet", "--plot", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--duration", "99999999999999999999s"], "beyond the uptime"),
    (["--board", ""], "empty board name"),
    (["--duration=-5s"], "bad duration"),
])
def test_out_of_range_options_are_bad_input_and_write_nothing(tmp_path, capsys, args,
                                                                message):
    old = tmp_path / "old.jsonl"
    old.write_text("keep me\n")
    assert main(["run", str(SAMPLE), "--quiet", "--trace", str(old), *args]) == 2
    assert message in capsys.readouterr().err
    assert old.read_text() == "keep me\n"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("value", ["0", "-1", "nan", "soon"])
def test_a_wall_timeout_must_be_a_positive_number(tmp_path, capsys, value):
    with pytest.raises(SystemExit) as exited:
        main(["run", str(SAMPLE), "--quiet", f"--wall-timeout={value}"])
    assert exited.value.code == 2
    assert "--wall-timeout" in capsys.readouterr().err


def test_a_pool_beyond_the_boards_ram_is_bad_input(tmp_path, capsys):
    model = write_model(tmp_path, """
        from zsim import NetBufPool

        def main(k):
            NetBufPool(k, "huge", 65535, 65535)
    """)
    old = tmp_path / "old.jsonl"
    old.write_text("keep me\n")
    rc = main(["run", str(model), "--quiet", "--trace", str(old)])
    assert rc == 2
    assert "huge" in capsys.readouterr().err
    assert old.read_text() == "keep me\n"


def test_an_immediate_handler_releasing_its_borrowed_buffer_exits_4(tmp_path, capsys):
    # One unref in the handler: packet_io's own check (count zero) cannot see it and the
    # sender's send_consume then frees the buffer twice; the run names the cause (4).
    model = write_model(tmp_path, """
        from zsim import NetBufPool
        from zsim.packet_io import PacketSink, PacketSource, connect

        def main(k):
            pool = NetBufPool(k, "p", 2, 16)
            src = PacketSource(k, "src")
            connect(src, PacketSink(k, "greedy", lambda s, b: b.unref()))

            @k.thread(name="tx", priority=5)
            def tx():
                src.send_consume(pool.alloc())
    """)
    rc = main(["run", str(model), "--duration", "10ms", "--quiet"])
    out = capsys.readouterr().out
    assert rc == 4
    assert "released a reference it did not take" in out
    assert "double free" in out


def test_stats_off_says_so_instead_of_none(tmp_path, capsys):
    model = write_model(tmp_path, """
        from zsim import NetBufPool
        from zsim.packet_io import PacketSink, PacketSource, connect

        def main(k):
            pool = NetBufPool(k, "p", 2, 16)
            src = PacketSource(k, "src")
            connect(src, PacketSink(k, "sink", lambda s, b: None))

            @k.thread(name="tx", priority=5)
            def tx():
                src.send_consume(pool.alloc())
    """, conf="CONFIG_PACKET_IO_STATS=n\n")
    assert main(["run", str(model), "--duration", "10ms", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "stats off (CONFIG_PACKET_IO_STATS=n)" in out
    assert "None" not in out
