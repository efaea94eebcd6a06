"""The bench scripts run (tiny sizes, ``--quick``) and end with their ratio lines.

No timing is asserted here: the figures of a quick run mean nothing. The benchmarks
themselves are run by hand (see bench/README.md).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
SAMPLE = BENCH.parent / "examples" / "basic_packet_routing" / "model.py"


def _run(*args: str) -> list[str]:
    proc = subprocess.run([sys.executable, str(BENCH / args[0]), *args[1:]],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.rstrip().splitlines()


@pytest.mark.parametrize("script, ratios", [
    ("immediate.py", ["zsim/SimPy (immediate)", "C/zsim (immediate"]),
    ("queued.py", ["zsim/SimPy (queued)", "C/zsim (queued"]),
    ("scale.py", ["time per delivery", "peak RSS", "time per timeout"]),
    ("sample.py", ["virtual s per wall s"]),
    ("cli.py", ["zsim run --quiet / bare kernel", "zsim run --trace --plot / bare kernel"]),
    ("sweep.py", ["points/s, 2 local workers / 1", "points/s, Dask 2 workers"]),
])
def test_bench_prints_ratios_last(script, ratios):
    if script == "sample.py" and not SAMPLE.is_file():
        pytest.skip("examples/basic_packet_routing/model.py is not there")
    lines = _run(script, "--quick")
    tail = []
    for line in reversed(lines):        # the closing block of ratio lines
        if not line.startswith("ratio "):
            break
        tail.append(line)
    assert tail, "\n".join(lines[-10:])
    for label in ratios:
        assert any(label in line for line in tail), (label, tail)
    assert any(line.startswith("target ") and line.split(": ")[1][:4] in ("PASS", "FAIL")
               for line in lines)
    assert any(line.startswith("machine: ") for line in lines)


def test_profile_prints_top_functions():
    lines = _run("profile.py", "immediate", "--n", "500", "--top", "5")
    assert lines[0].startswith("profile of immediate")
    assert any("tottime" in line for line in lines)
