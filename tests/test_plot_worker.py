"""``--plot`` drawn by a child process (zsim.export.plot.PlotWorker): the same image as drawn
in-process, errors and its wall-clock limit reported, and no child left behind, whether
the plot is discarded or the parent dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from zsim.export.plot import PlotError, PlotWorker, plain_levels
from zsim.export.plot_render import render_plot
from zsim.export.series import BucketSeries

HEADER = {"scenario": "s", "board": "native_sim"}


def levels() -> dict[str, BucketSeries]:
    q = BucketSeries(0)
    p = BucketSeries(1)
    for i in range(200):
        q.record(i * 700.0, i % 3)
        p.record(i * 700.0, 1 + i % 2)
    return {"queue q depth": q, "pool p in use": p}


LATENCIES = {"sink": [(100.0, 3), (250.0, 1)], "other": [(5.0, 7)]}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def gone_within(pid: int, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_the_child_draws_the_image_drawn_in_process():
    worker = PlotWorker()
    assert worker.proc is not None
    pid = worker.proc.pid
    png = worker.render(HEADER, levels(), LATENCIES, 140_000.0)
    assert png.startswith(b"\x89PNG")
    assert png == render_plot(HEADER, plain_levels(levels()), LATENCIES, 140_000.0)
    assert gone_within(pid, 10)


def test_a_frame_prepared_during_the_run_gives_the_same_image():
    """``prepare`` (the planned end) lets the child draw the frame while the run goes; a run
    that ends elsewhere (stopped early) is drawn whole, for its real end."""
    for planned, end in ((140_000.0, 140_000.0), (500_000.0, 140_000.0)):
        worker = PlotWorker()
        worker.prepare(HEADER, planned)
        png = worker.render(HEADER, levels(), LATENCIES, end)
        assert png == render_plot(HEADER, plain_levels(levels()), LATENCIES, end)


def test_preparing_for_a_child_that_has_ended_is_reported_by_the_result():
    worker = PlotWorker()
    worker.proc.kill()
    worker.proc.wait(10)
    worker.prepare(HEADER, 140_000.0)           # the broken pipe is not an error here
    worker.submit(HEADER, levels(), LATENCIES, 140_000.0)
    with pytest.raises(PlotError, match="drawing the plot failed"):
        worker.result()


def test_a_child_error_is_a_plot_error_naming_it():
    worker = PlotWorker()
    worker.submit(HEADER, levels(), {"sink": [("not a number", 1)]}, 1000.0)
    with pytest.raises(PlotError, match=r"drawing the plot failed \(exit 1\): TypeError"):
        worker.result()


def test_the_wall_clock_limit_ends_the_child():
    worker = PlotWorker()
    pid = worker.proc.pid
    worker.submit(HEADER, levels(), LATENCIES, 140_000.0)
    with pytest.raises(PlotError, match="took over"):
        worker.result(timeout=0.001)
    assert gone_within(pid, 10)


def test_a_discarded_plot_leaves_no_child():
    worker = PlotWorker()
    pid = worker.proc.pid
    worker.discard()
    assert gone_within(pid, 10)
    worker = PlotWorker()
    pid = worker.proc.pid
    worker.submit(HEADER, levels(), LATENCIES, 140_000.0)
    worker.discard()                    # while it draws
    assert gone_within(pid, 10)


def test_the_child_ignores_the_terminal_and_ends_with_its_parent():
    """The child has its own session (Ctrl-C at the terminal reaches only zsim, which still
    wants its plot), and it exits when its parent dies without a word."""
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""\
        import signal, time
        from zsim.export.plot import PlotWorker
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        w = PlotWorker()
        print(w.proc.pid, flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        child = int(parent.stdout.readline())
        assert os.getsid(child) != os.getsid(parent.pid)
        os.killpg(parent.pid, signal.SIGINT)     # the parent's process group only
        time.sleep(0.5)
        assert alive(child) and parent.poll() is None
        parent.kill()
        parent.wait(10)
        assert gone_within(child, 20)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)
        parent.stdout.close()


def test_without_a_child_the_plot_is_drawn_in_process(monkeypatch):
    def no_child(*args, **kwargs):
        raise OSError("no processes left")

    monkeypatch.setattr(subprocess, "Popen", no_child)
    worker = PlotWorker()
    assert worker.proc is None
    png = worker.render(HEADER, levels(), LATENCIES, 140_000.0)
    assert png == render_plot(HEADER, plain_levels(levels()), LATENCIES, 140_000.0)


def test_a_plot_that_cannot_be_drawn_writes_no_output(tmp_path, monkeypatch, capsys):
    """The plot fails after the run: status 2, the reason on stderr, and no output written
    (the previous trace is left as it was, no temporary file stays)."""
    from pathlib import Path

    from zsim.cli import main

    sample = Path(__file__).resolve().parents[1] / "examples" / "basic_packet_routing"
    (tmp_path / "t.jsonl").write_text("previous\n")

    def fail(self, timeout=0.0):
        self.discard()
        raise PlotError("drawing the plot failed (exit 1): MemoryError")

    monkeypatch.setattr(PlotWorker, "result", fail)
    rc = main(["run", str(sample), "--duration", "1s", "--quiet",
               "--trace", str(tmp_path / "t.jsonl"), "--plot", str(tmp_path / "p.png")])
    assert rc == 2
    assert "drawing the plot failed (exit 1): MemoryError" in capsys.readouterr().err
    assert (tmp_path / "t.jsonl").read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.jsonl"]
