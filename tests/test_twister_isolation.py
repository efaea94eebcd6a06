"""Suites run in worker processes: one that never returns is killed at its wall-clock
limit, one whose process dies is a failure, ``--wall-timeout`` bounds the whole run, and
SIGINT/SIGTERM/SIGHUP keep the results so far (exit status 128 + N)."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from twister_adapter.discovery import Scenario
from twister_adapter.filters import Instance, Platform
from twister_adapter.interrupts import Abort, StopSignals
from twister_adapter.runner import RunOptions, wall_limit
from zsim.cli import main as zsim_main

HELLO = Path(__file__).parent / "data" / "twister" / "good" / "console" / "hello"
REPO = Path(__file__).resolve().parent.parent

CONSOLE_YAML = """\
tests:
  {sid}:
    timeout: 2
    harness: console
    harness_config:
      type: one_line
      regex:
        - "printed by nobody"
"""

SPIN = """\
def main(k):
    @k.thread(priority=5)
    def spinner():
        k.printk("spinning now\\n")
        while True:
            pass
"""

FORWARD_LOOP = """\
from zsim import K_FOREVER, K_NO_WAIT, NetBufPool
from zsim.packet_io import PacketEventQueue, PacketSink, PacketSource, connect


def main(k):
    pool = NetBufPool(k, "pool", count=4, size=16)
    src = PacketSource(k, "src")
    q = PacketEventQueue(k, "q", size=4)

    def again(sink, buf):              # a queued sink sending back into its own source
        src.send(buf, K_NO_WAIT)

    connect(src, PacketSink(k, "looper", again, queue=q))

    @k.thread(priority=5)
    def processor():
        while True:
            q.process(K_FOREVER)

    @k.thread(priority=7)
    def kick():
        src.send_consume(pool.alloc(K_NO_WAIT), K_NO_WAIT)
"""

DIES = """\
import os


def main(k):
    @k.thread(priority=5)
    def quitter():
        os._exit(7)
"""


def suite(root: Path, name: str, sid: str, model: str) -> None:
    d = root / name
    d.mkdir(parents=True)
    (d / "model.py").write_text(model)
    (d / "testcase.yaml").write_text(CONSOLE_YAML.format(sid=sid))


def twister(*argv: str) -> int:
    with redirect_stdout(io.StringIO()):
        return zsim_main(["twister", *argv])


def suites_of(out: Path) -> dict[str, dict]:
    doc = json.loads((out / "twister.json").read_text())
    return {s["name"]: s for s in doc["testsuites"]}


def leftovers(out: Path) -> list[str]:
    return [str(p) for p in out.rglob("*") if p.name.endswith((".tmp", ".partial"))]


@pytest.fixture
def hanging_root(tmp_path):
    root = tmp_path / "root"
    (root / "hello").mkdir(parents=True)
    for f in HELLO.iterdir():
        (root / "hello" / f.name).write_text(f.read_text())
    suite(root, "loop", "hang.forward.loop", FORWARD_LOOP)
    suite(root, "spin", "hang.thread.spin", SPIN)
    return root


def test_suites_that_never_return_are_killed_at_their_wall_clock_limit(hanging_root,
                                                                       tmp_path):
    out = tmp_path / "o"
    rc = twister("-T", str(hanging_root), "-p", "native_sim", "-O", str(out), "-j", "2",
                 "--suite-wall-timeout", "2")
    assert rc == 1
    s = suites_of(out)
    assert s["hello/sample.console.hello"]["status"] == "passed"
    for name in ("spin/hang.thread.spin", "loop/hang.forward.loop"):
        assert (s[name]["status"], s[name]["reason"]) == ("failed",
                                                          "Timeout (wall clock 2 s)")
        assert s[name]["log"].rstrip().endswith("zsim: Timeout (wall clock 2 s)")
    assert "spinning now" in s["spin/hang.thread.spin"]["log"]   # printed before the hang
    assert leftovers(out) == []


def test_a_worker_that_dies_fails_its_suite_and_the_run_goes_on(tmp_path):
    root = tmp_path / "root"
    suite(root, "dies", "crash.process.exit", DIES)
    (root / "hello").mkdir()
    for f in HELLO.iterdir():
        (root / "hello" / f.name).write_text(f.read_text())
    out = tmp_path / "o"
    assert twister("-T", str(root), "-p", "native_sim", "-O", str(out)) == 1
    s = suites_of(out)
    dead = s["dies/crash.process.exit"]
    assert dead["status"] == "failed" and "exit status 7" in dead["reason"]
    assert s["hello/sample.console.hello"]["status"] == "passed"


def test_wall_timeout_bounds_the_run_and_keeps_finished_results(hanging_root, tmp_path):
    out = tmp_path / "o"
    rc = twister("-T", str(hanging_root), "-p", "native_sim", "-O", str(out),
                 "--wall-timeout", "6")
    assert rc == 3
    s = suites_of(out)
    assert s["hello/sample.console.hello"]["status"] == "passed"
    stopped = [n for n, v in s.items()
               if (v["status"], v.get("reason")) == ("error", "interrupted (--wall-timeout 6 s)")]
    assert stopped == ["loop/hang.forward.loop", "spin/hang.thread.spin"]
    assert "--wall-timeout 6 s reached" in (out / "twister.log").read_text()
    assert leftovers(out) == []


def test_default_suite_wall_limit_follows_twister():
    sc = Scenario(id="a.b", name="a.b", source_dir=Path("."), yaml_file=Path("t.yaml"),
                  model=Path("model.py"), timeout=100)
    inst = Instance(sc, Platform("native_sim", "posix", 1, 1))
    assert wall_limit(inst, RunOptions(outdir="o")) == 100
    assert wall_limit(inst, RunOptions(outdir="o", timeout_multiplier=0.1)) == 60
    assert wall_limit(inst, RunOptions(outdir="o", timeout_multiplier=2)) == 200
    assert wall_limit(inst, RunOptions(outdir="o", suite_wall_timeout=5)) == 5


def test_first_stop_signal_is_remembered_and_the_second_aborts():
    previous = signal.getsignal(signal.SIGTERM)
    with StopSignals() as stops:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stops.signum == signal.SIGTERM
        with pytest.raises(Abort) as exc:
            os.kill(os.getpid(), signal.SIGINT)
        assert exc.value.signum == signal.SIGINT
    assert signal.getsignal(signal.SIGTERM) is previous


def _wait_for(path: Path, proc: subprocess.Popen, bound: float = 120.0) -> None:
    end = time.monotonic() + bound
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.05)


@pytest.fixture
def start_twister():
    """Start ``zsim twister`` in its own process group; always killed afterwards."""
    procs: list[subprocess.Popen] = []

    def start(*argv: str, cwd: Path) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "zsim", "twister", *argv], cwd=cwd,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True,
                                env=dict(os.environ, PYTHONPATH=str(REPO)))
        procs.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=30)


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM", "SIGHUP"])
@pytest.mark.parametrize("times", [1, 2])
def test_stop_signal_keeps_finished_results(hanging_root, tmp_path, start_twister, sig,
                                            times):
    """The signal goes to the whole process group, as a terminal's Ctrl-C does."""
    signum = getattr(signal, sig)
    out = tmp_path / "o"
    proc = start_twister("-T", "root", "-p", "native_sim", "-O", "o", "-j", "2",
                         cwd=tmp_path)
    _wait_for(out / "native_sim" / "spin" / "hang.thread.spin" / ".handler.log.partial",
              proc)
    for _ in range(times):
        os.killpg(proc.pid, signum)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum
    assert "Traceback" not in stderr and "Traceback" not in stdout
    assert leftovers(out) == []
    if times == 2 and not (out / "twister.json").exists():
        assert "reports not written" in stderr        # the second one came in time
        return
    s = suites_of(out)
    assert s["hello/sample.console.hello"]["status"] == "passed"
    assert {n: (v["status"], v["reason"]) for n, v in s.items() if n != "hello/"
            "sample.console.hello"} == {"loop/hang.forward.loop": ("error", "interrupted"),
                                        "spin/hang.thread.spin": ("error", "interrupted")}
    junit = ET.parse(out / "twister.xml").getroot()
    assert junit.find("testsuite").get("errors") == "2"
    assert f"{sig} received" in (out / "twister.log").read_text()
