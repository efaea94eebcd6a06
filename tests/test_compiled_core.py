"""The compiled core and its sources behave the same.

zsim's hot modules (setup.py) run compiled when the install built them; ``ZSIM_PURE_PYTHON=1``
runs the same modules from their ``.py`` files. Each check below runs a script in two fresh
interpreters, one in each mode, and compares what they print, so any divergence between the
Cython build and the sources shows up as a differing line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

import zsim
from zsim import errno

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "examples" / "basic_packet_routing"
TIMEOUT = 300
HOT_MODULES = [
    "zsim.kernel.time_units", "zsim.kernel.thread", "zsim.kernel.wait_q", "zsim.kernel.core",
    "zsim.kernel.msgq", "zsim.net_buf", "zsim.packet_io.stats", "zsim.packet_io.sink",
    "zsim.packet_io.queue", "zsim.packet_io.source", "zsim.trace_events", "zsim.export.series",
]
KERNEL_TEST_MODULES = [
    "test_scheduling.py", "test_kernel_objects.py", "test_net_buf.py", "test_packet_io.py",
    "test_seed_runtime.py", "test_time_units.py", "test_interrupt_masking.py",
    "test_timeout_queue.py", "test_trace_lines.py",
]

HEADER = 'print("COMPILED", zsim.COMPILED, zsim.kernel.core.__file__)\n'

# A small firmware printing a full record of its run: a producer sending into a queued sink
# (drained by a processing thread, sometimes busy or asleep) and an immediate sink (which
# sometimes busy-waits and keeps references a third thread releases), with a pool and a
# queue small enough that allocations fail and sends are dropped.
SCENARIO = HEADER.join(["""\
import sys

import zsim
from zsim import K_FOREVER, K_MSEC, K_NO_WAIT, K_SECONDS, Kernel
from zsim.net_buf import NetBufPool
from zsim.packet_io import PacketEventQueue, PacketSink, PacketSource, connect

""", """

def scenario(board):
    k = Kernel(board=board, config={"PACKET_IO_STATS": True})
    log = k.log_module("app", 4)
    pool = NetBufPool(k, "pool", 4, 32)
    queue = PacketEventQueue(k, "events", size=2)
    src = PacketSource(k, "src")
    held = []

    def slow(sink, buf):
        n = buf.gen
        if n % 3 == 0:
            k.busy_wait(1500 + 250 * (n % 7))
        if n % 5 == 0:
            k.msleep(95)
        elif n % 11 == 0:
            k.msleep(240)
        log.inf("slow %d of buf #%d at %d", n, buf.index, k.uptime_ticks())

    def tap(sink, buf):
        n = buf.gen
        if n % 4 == 1:
            k.busy_wait(700)
        if n % 6 == 0:
            held.append(buf.ref())
        log.dbg("tap %d ref %d", n, buf.refcount)

    queued = PacketSink(k, "slow", slow, queue=queue)
    immediate = PacketSink(k, "tap", tap)
    connect(src, queued)
    connect(src, immediate)

    @k.thread(name="processor", priority=5)
    def processor():
        while True:
            queue.process(K_FOREVER)

    @k.thread(name="producer", priority=7)
    def producer():
        for i in range(150):
            ret = src.send_consume(pool.alloc(K_NO_WAIT), K_MSEC(5))
            log.inf("send %d -> %d", i, ret)
            k.msleep((1, 0, 3, 12, 0, 27)[i % 6])

    @k.thread(name="ticker", priority=3)
    def ticker():
        while True:
            k.msleep(170)
            k.busy_wait(400)
            while held:
                held.pop().unref()
            log.wrn("tick at %d ms, pool %d free", k.uptime_get(), pool.avail_count)

    k.trace_to()
    print("result", repr(k.run(K_SECONDS(2))))
    for entry in k.trace:
        print("trace", repr(entry))
    for line in k.console:
        print("console", line)
    print("stats source", src.stats)
    print("stats slow", queued.stats)
    print("stats tap", immediate.stats)
    print("stats queue", queue.stats, queue.depth, queue.high_water)
    print("pool", pool.avail_count, pool.min_avail, pool.alloc_total, pool.alloc_failures)
    print("uptime_ticks", k.uptime_ticks())
    print("cpu_report", repr(k.cpu_report()))
    print("leaks", k.leak_report())
    print("faults", k.faults)
    for t in k.threads:
        print("thread", t.name, t.state, t.cpu_units)


scenario(sys.argv[1])
"""])

# The seed's sample model, loaded as bench/workloads.py build_sample does.
SAMPLE = HEADER.join(["""\
import sys

import zsim
from zsim import K_SECONDS, Kernel
from zsim.model import load_model

""", """
model = load_model(sys.argv[1])
k = Kernel(board=sys.argv[2], config=str(model.prj_conf), costs="board")
model.main(k)
print("result", repr(k.run(K_SECONDS(4))))
for line in k.console:
    print("console", line)
print("uptime_ticks", k.uptime_ticks())
print("cpu_report", repr(k.cpu_report()))
print("leaks", k.leak_report())
"""])

# Allocations from every path of net_buf; each marked line must be the reported site.
ALLOC_SITES = HEADER.join(["""\
import json

import zsim
from zsim import K_MSEC, K_NO_WAIT, Kernel
from zsim.net_buf import NetBufPool

""", """

def report(name, buf):
    print("site", json.dumps([name, *buf.alloc_site]))


def first(pool):
    return pool.alloc(K_NO_WAIT)  # SITE first


def reused(pool):
    return pool.alloc(K_NO_WAIT)  # SITE reused


def sized(pool):
    return pool.alloc_len(8, K_NO_WAIT)  # SITE alloc_len


def copied(buf):
    return buf.clone()  # SITE clone


k = Kernel(board="native_sim")
pool = NetBufPool(k, "pool", 2, 16)
a = first(pool)
report("first", a)
a.add_u8(7)
c = copied(a)
report("clone", c)
c.unref()
b = sized(pool)
report("alloc_len", b)
b.unref()
a.unref()
d = reused(pool)
report("reused", d)
d.unref()

k.trace_to()


def traced(pool):
    return pool.alloc(K_NO_WAIT)  # SITE traced


e = traced(pool)
report("traced", e)
e.unref()

costly = Kernel(board="nrf52840dk/nrf52840")
cpool = NetBufPool(costly, "cpool", 1, 16)


def with_costs(pool):
    return pool.alloc(K_NO_WAIT)  # SITE costs


f = with_costs(cpool)
report("costs", f)
f.unref()
g = with_costs(cpool)
report("costs", g)
g.unref()

tk = Kernel(board="native_sim")
tpool = NetBufPool(tk, "tpool", 1, 16)
held = []


@tk.thread(name="holder", priority=2)
def holder():
    held.append(tpool.alloc(K_NO_WAIT))  # SITE holder
    tk.msleep(30)
    report("holder", held[0])
    held.pop().unref()


@tk.thread(name="waiter", priority=4)
def waiter():
    buf = tpool.alloc(K_MSEC(100))  # SITE waited
    report("waited", buf)
    buf.unref()


tk.run()
"""])


def run_script(tmp_path: Path, script: str, args: list[str], pure: bool) -> str:
    """Run ``script`` in a fresh interpreter, pure (``ZSIM_PURE_PYTHON=1``) or not; its
    stdout (the run must succeed)."""
    work = tmp_path / ("pure" if pure else "default")
    work.mkdir(exist_ok=True)
    path = tmp_path / "script.py"
    path.write_text(script)
    env = dict(os.environ)
    env.pop("ZSIM_PURE_PYTHON", None)
    if pure:
        env["ZSIM_PURE_PYTHON"] = "1"
    proc = subprocess.run([sys.executable, str(path), *args], cwd=work, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, f"pure={pure}: {proc.stderr}"
    return proc.stdout


def both_modes(tmp_path: Path, script: str, args: list[str]) -> tuple[list[str], list[str]]:
    """The script's output lines compiled-if-available and pure, past their header line
    (the pure run's header must say it ran from the sources)."""
    default = run_script(tmp_path, script, args, pure=False).splitlines()
    pure = run_script(tmp_path, script, args, pure=True).splitlines()
    assert default[0].startswith("COMPILED ")
    assert pure[0].startswith("COMPILED False ") and pure[0].endswith(".py"), pure[0]
    return default[1:], pure[1:]


def first_difference(a: list[str], b: list[str]) -> str:
    """Where two outputs first differ, for the assertion message."""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"line {i + 2}:\n  default: {x}\n  pure:    {y}"
    return f"lengths differ: {len(a)} default lines, {len(b)} pure lines"


def test_compiled_flag_matches_the_loaded_core(tmp_path: Path) -> None:
    """``zsim.COMPILED`` says whether every hot module came from a compiled binary; with
    ``ZSIM_PURE_PYTHON=1`` it is False and every hot module loads from its ``.py``."""
    import importlib

    loaded = [not importlib.import_module(m).__file__.endswith(".py") for m in HOT_MODULES]
    assert zsim.COMPILED is all(loaded)
    assert list(HOT_MODULES) == list(zsim.build_info.HOT_MODULES)
    script = textwrap.dedent(f"""\
        import importlib
        import json
        import zsim
        files = {{m: importlib.import_module(m).__file__ for m in {HOT_MODULES!r}}}
        print(json.dumps({{"compiled": zsim.COMPILED, "files": files}}))
    """)
    pure = json.loads(run_script(tmp_path, script, [], pure=True))
    assert pure["compiled"] is False
    assert sorted(pure["files"]) == sorted(HOT_MODULES)
    for name, file in pure["files"].items():
        assert file.endswith(".py"), f"{name} loaded from {file} with ZSIM_PURE_PYTHON=1"
        assert file.endswith(os.path.join(*name.split(".")) + ".py"), file
    default = json.loads(run_script(tmp_path, script, [], pure=False))
    assert default["compiled"] is all(not f.endswith(".py") for f in default["files"].values())


def test_hot_modules_are_compiled_together_and_up_to_date() -> None:
    """An install compiled all the hot modules or none (a module whose build failed would
    run from its source), and every compiled module beside the sources matches them (a
    stale build runs as Python: ``pip install -e .`` rebuilds it)."""
    import importlib

    status = zsim.build_info.status()
    modules = {m: importlib.import_module(m) for m in HOT_MODULES}
    for name, module in modules.items():
        compiled = not module.__file__.endswith(".py")
        assert compiled is (status[name] == "compiled"), f"{name}: {module.__file__}"
        base = Path(module.__file__).parent / name.rsplit(".", 1)[1]
        binaries = [s for s in EXTENSION_SUFFIXES if Path(str(base) + s).is_file()]
        assert compiled or not binaries or zsim.build_info.pure_requested(), \
            f"stale build: {name} runs as Python: {status[name]}"
    assert len(set(status.values())) == 1, f"partly compiled: {status}"


def test_stale_module_runs_from_its_source(tmp_path: Path) -> None:
    """A copy of the installed package with one compiled module's source edited after the
    build: that module and the compiled ones that use its types run as Python, the rest
    compiled, the sample still runs, and ``zsim --version`` says so."""
    if not zsim.COMPILED:
        pytest.skip("the core is not compiled")
    copy = tmp_path / "site" / "zsim"
    shutil.copytree(Path(zsim.__file__).parent, copy,
                    ignore=shutil.ignore_patterns("__pycache__", "*.c"))
    if (ROOT / "board_profiles").is_dir():            # an editable install's profiles
        shutil.copytree(ROOT / "board_profiles", copy.parent / "board_profiles")
    with open(copy / "net_buf.py", "a") as f:
        f.write("\n# edited after the build\n")
    script = textwrap.dedent(f"""\
        import importlib, json, sys
        import zsim
        from zsim.cli import main
        files = {{m: importlib.import_module(m).__file__ for m in {HOT_MODULES!r}}}
        print(json.dumps(files))
        from zsim.model import load_model
        k = zsim.Kernel(board="native_sim")
        load_model({str(SAMPLE_DIR)!r}).main(k)
        print("result", repr(k.run(zsim.K_SECONDS(1))))
        main(["--version"])
    """)
    env = {k: v for k, v in os.environ.items() if k != "ZSIM_PURE_PYTHON"}
    env["PYTHONPATH"] = str(copy.parent)
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    files = json.loads(out[0])
    python = {"zsim.net_buf", "zsim.packet_io.queue", "zsim.packet_io.source",
              "zsim.trace_events"}
    for name, file in files.items():
        assert file.startswith(str(copy)), file
        assert file.endswith(".py") is (name in python), f"{name}: {file}"
    assert out[1].startswith("result ")
    version = out[2:]
    assert version[0] == f"zsim {zsim.__version__} (partly compiled core (8 of 12 modules))"
    assert any(line.startswith("pure Python: zsim.net_buf (net_buf.")
               and line.endswith("was built from other sources: rebuild it)")
               for line in version), version
    assert any(line.startswith("pure Python: zsim.packet_io.queue, zsim.packet_io.source")
               and "it uses zsim.net_buf" in line for line in version), version


@pytest.mark.parametrize("board", ["native_sim", "nrf52840dk/nrf52840"])
def test_scenario_output_identical_in_both_modes(tmp_path: Path, board: str) -> None:
    """A queued and an immediate sink fed by a producer, with busy waits, sleeps, drops and
    failed allocations: trace, console, stats, uptime and CPU report match byte for byte
    (on native_sim with no costs and on the nRF52840 DK with its board cost model)."""
    default, pure = both_modes(tmp_path, SCENARIO, [board])
    kinds = {line.split("'")[1] for line in default if line.startswith("trace")}
    assert {"switch", "timeout", "alloc", "free", "enqueue", "deliver", "drop",
            "handle", "send"} <= kinds
    failed = f"-> {-errno.EINVAL}"                  # send_consume(None): no buffer left
    assert any(line.startswith("console") and line.endswith(failed) for line in default)
    assert default == pure, first_difference(default, pure)


@pytest.mark.parametrize("board", ["native_sim", "nrf52840dk/nrf52840"])
def test_sample_model_console_identical_in_both_modes(tmp_path: Path, board: str) -> None:
    """The basic_packet_routing sample run for 4 virtual seconds prints the same console
    lines, uptime and CPU report compiled and from the sources."""
    default, pure = both_modes(tmp_path, SAMPLE, [str(SAMPLE_DIR), board])
    console = [line for line in default if line.startswith("console")]
    assert any("VALID: Sensor" in line for line in console)
    assert any("TCP TX: Sensor" in line for line in console)
    assert default == pure, first_difference(default, pure)


def test_kernel_tests_pass_from_the_sources(tmp_path: Path) -> None:
    """With the compiled core installed, the kernel, net_buf and packet_io tests also pass
    with ``ZSIM_PURE_PYTHON=1`` (the main run covers the compiled modules)."""
    if not zsim.COMPILED:
        pytest.skip("the core is not compiled: this run already tests the .py sources")
    modules = [str(ROOT / "tests" / m) for m in KERNEL_TEST_MODULES
               if (ROOT / "tests" / m).is_file()]
    assert modules
    env = dict(os.environ, ZSIM_PURE_PYTHON="1")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *modules], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "passed" in proc.stdout
    assert " failed" not in proc.stdout and " error" not in proc.stdout


def test_alloc_site_names_the_calling_line_in_both_modes(tmp_path: Path) -> None:
    """``NetBuf.alloc_site`` is the file, line and function of the allocating call, compiled
    or not: fresh and reused buffers, ``alloc_len``, ``clone``, with tracing or costs on,
    in a thread, and after waiting for a buffer."""
    lines = ALLOC_SITES.splitlines()
    expected = {}
    for number, line in enumerate(lines, 1):
        if "# SITE " in line:
            expected[line.split("# SITE ")[1]] = number
    functions = {"first": "first", "reused": "reused", "alloc_len": "sized", "clone": "copied",
                 "traced": "traced", "costs": "with_costs", "holder": "holder",
                 "waited": "waiter"}
    assert sorted(expected) == sorted(functions)
    script = tmp_path / "script.py"
    for output in both_modes(tmp_path, ALLOC_SITES, []):
        sites = [json.loads(line[5:]) for line in output if line.startswith("site ")]
        assert sorted({s[0] for s in sites}) == sorted(functions)
        assert len(sites) == len(functions) + 1         # "costs" twice: fresh, then reused
        for name, file, line, func in sites:
            assert (file, int(line), func) == (str(script), expected[name], functions[name]), \
                f"{name}: reported {file}:{line} in {func}()"


def test_version_names_the_core_and_the_compiled_modules(tmp_path: Path) -> None:
    """``zsim --version`` says which core runs (compiled, partly compiled or the sources)
    and lists the compiled modules and why any other runs as Python."""
    env = {k: v for k, v in os.environ.items() if k != "ZSIM_PURE_PYTHON"}
    outs = {}
    for pure in (False, True):
        run_env = {**env, "ZSIM_PURE_PYTHON": "1"} if pure else env
        proc = subprocess.run([sys.executable, "-m", "zsim", "--version"], cwd=tmp_path,
                              env=run_env, capture_output=True, text=True, timeout=TIMEOUT)
        assert proc.returncode == 0, proc.stderr
        outs[pure] = proc.stdout.splitlines()
    assert outs[True] == [
        f"zsim {zsim.__version__} (pure-Python core)", "compiled: none",
        f"pure Python: {', '.join(HOT_MODULES)} (ZSIM_PURE_PYTHON=1)"]
    proc = subprocess.run([sys.executable, "-c", "import json, zsim; print(json.dumps("
                           "[zsim.COMPILED, zsim.build_info.status()]))"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT, check=True)
    all_compiled, status = json.loads(proc.stdout)
    compiled = [m for m in HOT_MODULES if status[m] == "compiled"]
    expected = ("(compiled core)" if all_compiled else
                "(pure-Python core)" if not compiled else
                f"(partly compiled core ({len(compiled)} of {len(HOT_MODULES)} modules))")
    assert outs[False][0] == f"zsim {zsim.__version__} {expected}"
    assert outs[False][1] == f"compiled: {', '.join(compiled) or 'none'}"
    if all_compiled:
        assert len(outs[False]) == 2


TRACE_FILES = HEADER.join(["""\
import hashlib
import sys

import zsim
from zsim.cli import main

""", """
for model in sys.argv[1:]:
    rc = main(["run", model, "--duration", "3s", "--quiet", "--trace", "t.jsonl",
               "--perfetto", "p.json"])
    print("status", rc)
    for name in ("t.jsonl", "p.json"):
        with open(name, "rb") as f:
            data = f.read()
        print(name, len(data), hashlib.sha256(data).hexdigest())
"""])


def test_trace_and_perfetto_files_identical_in_both_modes(tmp_path: Path) -> None:
    """``zsim run --trace --perfetto`` writes the same bytes compiled (JSON lines written
    by C into a buffer) and from the sources (JSON lines joined in Python)."""
    models = [str(SAMPLE_DIR), str(ROOT / "examples" / "burst_queue")]
    default, pure = both_modes(tmp_path, TRACE_FILES, models)
    assert [line for line in default if line.startswith("status")] == ["status 0"] * 2
    assert default == pure, first_difference(default, pure)
