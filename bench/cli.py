"""``zsim run`` on the seed's sample against the bare kernel running the same model.

    python bench/cli.py [--quick] [--repeats R] [--durations 3600,36000]

Every variant runs in a fresh interpreter, timed as a whole (start-up, model loading and
writing the outputs included) with its peak RSS read from ``wait4``: the bare kernel (the
sample's model.py and prj.conf on ``Kernel``, ``k.run``, no CLI), then ``zsim run --quiet``,
with ``--trace --plot``, and with ``--trace --plot --perfetto``. Variants take turns in each
round, so a passing load weighs on all of them alike. The table gives each variant's best
wall time, its ratio to the bare kernel's best, and the median over the rounds of its ratio
to the bare kernel in the same round, which the targets use: on a shared machine whose speed
drifts, two best times may come from rounds far apart. Peak RSS is also measured at 600
virtual seconds, to show how memory grows with virtual time.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

import benchlib as bl

ROOT = bl.BENCH_DIR.parent
SAMPLE = ROOT / "examples" / "basic_packet_routing"
BASELINE_S = 600                 # the RSS reference: memory at 600 virtual seconds

BARE = """
import sys
from zsim import K_SECONDS, Kernel
from zsim.model import load_model
m = load_model(sys.argv[1])
k = Kernel(board="native_sim", config=m.kernel_config(None), seed=0)
m.main(k)
k.run(until=K_SECONDS(int(sys.argv[2])))
"""

VARIANTS = {                     # name -> extra zsim run options ({d}: a temporary dir)
    "zsim run --quiet": [],
    "zsim run --trace --plot": ["--trace", "{d}/t.jsonl", "--plot", "{d}/p.png"],
    "zsim run --trace --plot --perfetto": ["--trace", "{d}/t.jsonl", "--plot", "{d}/p.png",
                                           "--perfetto", "{d}/p.json"],
}
TARGETS = {"zsim run --quiet": 1.4, "zsim run --trace --plot": 2.0}
RSS_TARGET = 1.3


def command(variant: str, seconds: int, tmp: str) -> list[str]:
    if variant == "bare kernel":
        return [sys.executable, "-c", BARE, str(SAMPLE), str(seconds)]
    extra = [a.format(d=tmp) for a in VARIANTS[variant]]
    return [sys.executable, "-m", "zsim", "run", str(SAMPLE), "--duration", f"{seconds}s",
            "--quiet", *extra]


def measure(variant: str, seconds: int) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one run in a fresh interpreter."""
    with tempfile.TemporaryDirectory(prefix="zsim-bench-cli-") as tmp:
        t0 = time.perf_counter()
        proc = subprocess.Popen(command(variant, seconds, tmp), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        if proc.returncode != 0:
            raise RuntimeError(f"{variant} ({seconds} s) exited {proc.returncode}:\n{err}")
    return wall, usage.ru_maxrss * 1024


def main() -> int:
    p = bl.parser(__doc__.splitlines()[0])
    p.add_argument("--durations", default=None,
                   help="virtual seconds, comma-separated (default 3600,36000)")
    args = p.parse_args()
    durations = ([int(x) for x in args.durations.split(",")] if args.durations
                 else [20] if args.quick else [3600, 36000])
    repeats = args.repeats or (1 if args.quick else 3)
    baseline = 10 if args.quick else BASELINE_S
    names = ["bare kernel", *VARIANTS]
    print(bl.machine())
    print(f"model: {SAMPLE.relative_to(ROOT)} on native_sim; {repeats} round(s); "
          "each run a fresh interpreter, timed whole")
    best: dict[tuple[str, int], tuple[float, int]] = {}
    walls: dict[tuple[str, int], list[float]] = {}      # each round's, in order
    for _ in range(repeats):
        for seconds in [baseline, *durations]:
            for name in names:
                wall, rss = measure(name, seconds)
                key = (name, seconds)
                walls.setdefault(key, []).append(wall)
                old = best.get(key)
                best[key] = (min(wall, old[0]) if old else wall, max(rss, old[1]) if old else rss)

    def paired(name: str, seconds: int) -> float:
        """The median over the rounds of the variant's wall time over the bare kernel's in
        the same round (seconds apart): a machine whose speed drifts between rounds, as a
        shared one does, weighs on both sides of each ratio alike."""
        return statistics.median(v / b for v, b in zip(walls[(name, seconds)],
                                                      walls[("bare kernel", seconds)],
                                                      strict=True))

    rows = []
    for seconds in durations:
        bare = best[("bare kernel", seconds)][0]
        for name in names:
            wall, rss = best[(name, seconds)]
            rows.append([name, f"{seconds:,}", f"{wall:.2f}", f"{wall / bare:.2f}x",
                         f"{paired(name, seconds):.2f}x", f"{seconds / wall:,.0f}",
                         bl.fmt_bytes(rss), f"{rss / best[(name, baseline)][1]:.2f}x"])
    print(bl.table(["variant", "virtual s", "wall s", "vs bare", "vs bare, paired",
                    "virtual s/wall s", "peak RSS", f"RSS vs {baseline} s"], rows))
    print("vs bare: best wall over the best bare kernel; paired: median over the rounds of "
          "each round's ratio (the targets)")
    first = durations[0]
    for name, limit in TARGETS.items():
        r = paired(name, first)
        print(bl.target(f"{name} within {limit}x of the bare kernel at {first:,} virtual s",
                        r <= limit, f"{r:.2f}x, median of {repeats} rounds"))
    last = durations[-1]
    for name in VARIANTS:               # the bare kernel keeps its whole console: no target
        growth = best[(name, last)][1] / best[(name, baseline)][1]
        print(bl.target(f"{name} peak RSS at {last:,} s within {RSS_TARGET}x of {baseline} s",
                        growth <= RSS_TARGET, f"{growth:.2f}x"))
    for seconds in durations:
        for name in VARIANTS:
            print(bl.ratio(f"{name} / bare kernel at {seconds:,} virtual s",
                           paired(name, seconds), "median of the rounds' ratios"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
