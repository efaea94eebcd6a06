"""Install time: ``pip install .`` of this checkout into a fresh temporary venv.

    python3 bench/install.py [--repeats R] [--pure] [--cold-cache] [--keep-log FILE]

Copies the checkout's source files (no build products: ``build/``, generated ``.c``, ``.so``)
to a temporary directory, makes a fresh venv there and times ``pip install`` of the copy,
build and dependencies included, with pip's cache as it is (or an empty one). Prints the
wall and CPU time of each install with the machine's core count and load, and the size of
the compiled core. Everything temporary is removed at the end, also after Ctrl-C. Not a
test: run it by hand.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD_PRODUCTS = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__",
                                        "*.so", "*.pyd", "*.c", ".*_cache", ".hypothesis")


def copy_source(dest: Path) -> None:
    """The checkout's files, as git sees them when it can (tracked and untracked, not
    ignored), else the tree without build products."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError):
        shutil.copytree(ROOT, dest, ignore=BUILD_PRODUCTS)
        return
    for rel in filter(None, out.decode().split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def cores() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def children_cpu() -> float:
    """User and system seconds of the finished child processes so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def compiled_core(venv: Path) -> str:
    """How many compiled zsim modules the venv holds, and their size."""
    sos = [p for p in venv.rglob("site-packages/zsim/**/*") if p.suffix in (".so", ".pyd")]
    if not sos:
        return "pure-Python core"
    return f"{len(sos)} compiled modules, {sum(p.stat().st_size for p in sos) / 2**20:.1f} MiB"


def stop(proc: subprocess.Popen) -> None:
    """End ``proc`` and every process it started."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (AttributeError, ProcessLookupError):    # no process groups, or already gone
        proc.kill()
    proc.wait()


def install_once(tmp: Path, pure: bool, cold: bool, log: Path | None) -> str:
    """One fresh copy, one fresh venv, one timed ``pip install``; returns a result line."""
    src, venv, cache = tmp / "src", tmp / "venv", tmp / "pip-cache"
    for path in (src, venv, cache):
        shutil.rmtree(path, ignore_errors=True)
    copy_source(src)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = venv / ("Scripts" if os.name == "nt" else "bin") / "pip"
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    if pure:
        env["ZSIM_PURE_PYTHON"] = "1"
    if cold:
        env["PIP_CACHE_DIR"] = str(cache)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    cpu0, t0 = children_cpu(), time.perf_counter()
    # In a session of its own, so that an interruption ends pip's build processes too.
    proc = subprocess.Popen([str(pip), "install", str(src)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate()
    except BaseException:
        stop(proc)
        raise
    wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0
    if log is not None:
        log.write_text(out)
    if proc.returncode != 0:
        raise SystemExit(f"pip install failed ({proc.returncode}):\n{out[-3000:]}")
    return f"wall {wall:6.1f} s  cpu {cpu:6.1f} s  load {load:4.2f}  {compiled_core(venv)}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=1, help="installs, each from scratch")
    p.add_argument("--pure", action="store_true", help="with ZSIM_PURE_PYTHON=1 (no build)")
    p.add_argument("--cold-cache", action="store_true",
                   help="with an empty pip cache: every wheel downloaded or built again")
    p.add_argument("--keep-log", type=Path, default=None, metavar="FILE",
                   help="write the last install's pip output to FILE")
    args = p.parse_args()
    # A SIGTERM unwinds like Ctrl-C, so the temporary directory goes either way.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    print(f"pip install of {ROOT} into a fresh venv: {cores()} cores, Python "
          f"{sys.version.split()[0]}" + (", ZSIM_PURE_PYTHON=1" if args.pure else "")
          + (", empty pip cache" if args.cold_cache else ", pip cache as it is"), flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="zsim-install-"))
    try:
        for i in range(args.repeats):
            line = install_once(tmp, args.pure, args.cold_cache, args.keep_log)
            print(f"install {i + 1}: {line}", flush=True)
    except KeyboardInterrupt:
        print("interrupted")
        return 130
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
