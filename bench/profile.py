"""Run one bench workload under cProfile and print the top functions by own time.

    python bench/profile.py immediate|queued|sinks|threads|sample [--n N] [--top 25]
                            [--sort tottime|cumtime|ncalls] [--out FILE.prof] [--model DIR]

``--n`` is the number of sends (immediate, queued, sinks), of timeouts (threads) or of
virtual seconds (sample). cProfile slows Python code by about 2x and greenlet switches by
less, so read the shares, not the absolute times. cProfile does not see inside compiled
functions: with the compiled core each zsim method is one entry; ``ZSIM_PURE_PYTHON=1``
profiles the same code from its sources. ``--out`` keeps the raw profile for
``python -m pstats`` or snakeviz.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable
from pathlib import Path

# This file's name shadows the standard ``profile`` module that cProfile imports: import the
# standard one with bench/ off the path, then put bench/ back for ``workloads``.
_here = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != _here]
import cProfile  # noqa: E402
import pstats  # noqa: E402

sys.path.insert(0, _here)
import workloads as w  # noqa: E402

DEFAULT_N = {"immediate": 100_000, "queued": 50_000, "sinks": 300, "threads": 100_000,
             "sample": 60}


def _sinks(n: int) -> Callable[[], object]:
    """1 000 immediate sinks, ``n`` sends: the per-sink loop of a send."""
    from zsim import K_NO_WAIT, Kernel
    from zsim.net_buf import NetBufPool
    from zsim.packet_io import PacketSink, PacketSource, connect

    k = Kernel(board=w.BOARD, config=w.IMMEDIATE_CONFIG)
    pool = NetBufPool(k, "bench_pool", 16, 64)
    src = PacketSource(k, "bench_source")
    for i in range(1000):
        connect(src, PacketSink(k, f"bench_sink{i:05d}", w.count_handler, user_data=[0]))

    def sender() -> None:
        for _ in range(n):
            src.send_consume(pool.alloc(K_NO_WAIT), K_NO_WAIT)

    return lambda: k.call(sender)


def _threads(n: int) -> Callable[[], object]:
    """1 000 threads sleeping with timeouts, ``n`` timeouts in all."""
    from zsim import Kernel

    k = Kernel(board=w.BOARD, config={"LOG": False, "SYS_CLOCK_TICKS_PER_SEC": 10000})
    each = max(1, n // 1000)

    def sleeper(i: int) -> None:
        for j in range(each):
            k.msleep(1 + (i * 37 + j) % 100)

    def spawner() -> None:
        for i in range(1000):
            k.thread_create(sleeper, i, name=f"sleeper{i:04d}", priority=5)

    k.thread(spawner, name="spawner", priority=10)
    return k.run


def _immediate(n: int) -> Callable[[], object]:
    return w.build_zsim_immediate(n)["go"]


def _queued(n: int) -> Callable[[], object]:
    fw = w.build_zsim_queued(n)
    return fw["k"].run


def _sample(n: int, model: str | None = None) -> Callable[[], object]:
    from zsim import K_SECONDS

    k = w.build_sample(model_dir=model)
    return lambda: k.run(K_SECONDS(n))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("workload", choices=sorted(DEFAULT_N))
    p.add_argument("--n", type=int, default=None, help="size (see above)")
    p.add_argument("--top", type=int, default=25, help="functions to print (default 25)")
    p.add_argument("--sort", default="tottime", choices=["tottime", "cumtime", "ncalls"])
    p.add_argument("--out", help="also write the raw profile to this file")
    p.add_argument("--model", help="sample: another model directory")
    args = p.parse_args()
    n = args.n or DEFAULT_N[args.workload]
    if args.workload == "sample":
        fn = _sample(n, args.model)
    else:
        fn = {"immediate": _immediate, "queued": _queued, "sinks": _sinks,
              "threads": _threads}[args.workload](n)
    prof = cProfile.Profile()
    prof.runcall(fn)
    if args.out:
        prof.dump_stats(args.out)
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).strip_dirs().sort_stats(args.sort)
    stats.print_stats(args.top)
    import zsim
    print(f"profile of {args.workload} (n={n:,}), top {args.top} by {args.sort}")
    if zsim.COMPILED:
        print("zsim core: compiled, so each of its methods is one entry here; run with "
              "ZSIM_PURE_PYTHON=1 to see inside them, or count instructions (bench/README.md)")
    print(out.getvalue().rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
