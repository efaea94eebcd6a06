"""Helpers shared by the bench scripts: timing, plain-text tables, the C build, targets.

The scripts are run as ``python bench/<name>.py``; Python puts ``bench/`` on the import path,
so they import this module and ``workloads`` directly.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import platform
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROUTE_C = BENCH_DIR / "c" / "route.c"


# ---------------------------------------------------------------- measuring
@dataclass
class Run:
    """One timed run of a workload."""

    deliveries: int
    seconds: float
    virtual_s: float = 0.0

    @property
    def rate(self) -> float:
        return self.deliveries / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class Measure:
    """Several runs of one implementation: the best is what the ratios use."""

    name: str
    runs: list[Run]
    note: str = ""

    @property
    def best(self) -> Run:
        return max(self.runs, key=lambda r: r.rate)

    @property
    def median_rate(self) -> float:
        return statistics.median(r.rate for r in self.runs)


def repeat(name: str, fn: Callable[[int], Run], n: int, repeats: int) -> Measure:
    """Run ``fn(n)`` ``repeats`` times, each from a collected heap."""
    runs = []
    for _ in range(repeats):
        gc.collect()
        runs.append(fn(n))
    return Measure(name, runs)


def interleaved(contenders: Sequence[tuple[str, Callable[[int], Run]]], n: int,
                repeats: int) -> list[Measure]:
    """``repeat`` for several implementations taking turns (one run of each per round), so
    that a passing load on the machine weighs on all of them alike."""
    runs: list[list[Run]] = [[] for _ in contenders]
    for _ in range(repeats):
        for (_name, fn), out in zip(contenders, runs, strict=True):
            gc.collect()
            out.append(fn(n))
    return [Measure(name, r) for (name, _fn), r in zip(contenders, runs, strict=True)]


def repeat_pure(workload: str, n: int, repeats: int) -> Measure | None:
    """``workloads.<workload>(n)`` on zsim's sources (``ZSIM_PURE_PYTHON=1``) in a child
    process, when this one runs the compiled core; None otherwise."""
    import json
    import sys

    import zsim
    if not zsim.COMPILED:
        return None
    code = ("import gc, json, sys, workloads\n"
            "out = []\n"
            f"for _ in range({repeats}):\n"
            "    gc.collect()\n"
            f"    r = workloads.{workload}({n})\n"
            "    out.append([r.deliveries, r.seconds, r.virtual_s])\n"
            "print(json.dumps(out))\n")
    env = {**os.environ, "ZSIM_PURE_PYTHON": "1"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=BENCH_DIR, env=env,
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"pure-Python run of {workload} failed:\n{proc.stderr}")
    runs = [Run(*r) for r in json.loads(proc.stdout.splitlines()[-1])]
    return Measure("zsim, pure Python", runs)


def timed(fn: Callable[[], object]) -> float:
    """Wall seconds of ``fn()``."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


# ---------------------------------------------------------------- C reference
def compiler() -> str | None:
    """The C compiler to use: ``$CC`` or gcc, if installed."""
    cc = os.environ.get("CC") or "gcc"
    return shutil.which(cc)


def run_c(workload: str, n: int, repeats: int) -> Measure | None:
    """Compile ``c/route.c`` with ``-O2`` into a temporary directory and run one workload;
    None when no compiler is installed (the C row is then reported as skipped)."""
    cc = compiler()
    if cc is None:
        return None
    with tempfile.TemporaryDirectory(prefix="zsim-bench-") as tmp:
        exe = Path(tmp) / "route"
        subprocess.run([cc, "-O2", "-std=c11", "-D_POSIX_C_SOURCE=199309L", "-o", str(exe),
                        str(ROUTE_C)], check=True, capture_output=True, text=True)
        out = subprocess.run([str(exe), workload, str(n), str(repeats)], check=True,
                             capture_output=True, text=True).stdout
    m = re.search(r"deliveries=(\d+) seconds=([0-9.eE+-]+) checks=ok", out)
    if m is None:
        raise RuntimeError(f"bench/c/route.c printed an unexpected line: {out!r}")
    return Measure(f"C, {Path(cc).name} -O2",
                   [Run(int(m.group(1)), float(m.group(2)))], note=f"best of {repeats}")


# ---------------------------------------------------------------- output
def fmt_rate(rate: float) -> str:
    """A rate with an SI suffix: ``1.52 M``, ``640 k``."""
    if rate >= 1e9:
        return f"{rate / 1e9:.2f} G"
    if rate >= 1e6:
        return f"{rate / 1e6:.2f} M"
    if rate >= 1e3:
        return f"{rate / 1e3:.0f} k"
    return f"{rate:.0f}"


def fmt_bytes(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule] + [line(r) for r in cells[1:]])


def rate_table(measures: Sequence[Measure]) -> str:
    rows = []
    for m in measures:
        b = m.best
        median = fmt_rate(m.median_rate) if len(m.runs) > 1 else "-"
        rows.append([m.name, f"{b.deliveries:,}", f"{b.seconds:.3f}", fmt_rate(b.rate),
                     median, m.note or f"best of {len(m.runs)}"])
    return table(["implementation", "deliveries", "wall s", "deliveries/s", "median/s",
                  "runs"], rows)


def target(label: str, ok: bool, detail: str) -> str:
    """One target line; the scripts always exit 0 (the ratios are the deliverable)."""
    return f"target {label}: {'PASS' if ok else 'FAIL'} ({detail})"


def ratio(label: str, value: float | None, note: str = "") -> str:
    shown = "n/a" if value is None else f"{value:,.2f}x"
    return f"ratio {label}: {shown}" + (f"  {note}" if note else "")


def machine() -> str:
    """nproc, CPU model, Python and the date: printed above every table."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or cpu
    import zsim
    core = "compiled (Cython)" if zsim.COMPILED else "pure Python"
    return (f"machine: {os.cpu_count()} CPUs, {cpu}; {platform.python_implementation()} "
            f"{platform.python_version()}; {datetime.date.today().isoformat()}; zsim core: "
            f"{core}")


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes (a smoke run: the figures mean nothing)")
    p.add_argument("--repeats", type=int, default=None, help="runs per implementation")
    return p
