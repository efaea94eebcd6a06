"""Immediate path: one source, three immediate sinks, N sends of pooled buffers.

    python bench/immediate.py [--quick] [--sends N] [--repeats R]

Runs the workload on zsim (and, when its core is compiled, on its sources in a child
process with ZSIM_PURE_PYTHON=1), written idiomatically in SimPy 4, and in C (bench/c/route.c,
built with gcc -O2 at run time), in this process, and prints deliveries per wall second,
the target and the ratios zsim/SimPy and C/zsim on the last lines.
"""

from __future__ import annotations

import benchlib as bl
import workloads as w

TARGET = 1_500_000          # deliveries per wall second


def main() -> int:
    p = bl.parser(__doc__.splitlines()[0])
    p.add_argument("--sends", type=int, default=None, help="sends per run (default 200000)")
    args = p.parse_args()
    n = args.sends or (2_000 if args.quick else 200_000)
    repeats = args.repeats or (1 if args.quick else 3)

    try:
        import simpy  # noqa: F401
    except ImportError:
        simpy = None
    contenders = [("zsim", w.zsim_immediate)]
    if simpy is not None:
        contenders.append(("SimPy 4", w.simpy_immediate))
    measured = bl.interleaved(contenders, n, repeats)     # taking turns, in this process
    zsim = measured[0]
    simpy = measured[1] if simpy is not None else None
    pure = bl.repeat_pure("zsim_immediate", n, repeats)     # the same, from the sources
    c = bl.run_c("immediate", n * 50, repeats)

    print(bl.machine())
    print(f"immediate: 1 source -> 3 immediate sinks, {n:,} sends of pooled buffers "
          f"(alloc, send_consume), stats on, LOG off, board {w.BOARD}")
    print(bl.rate_table([m for m in (zsim, pure, simpy, c) if m is not None]))
    if simpy is None:
        print("SimPy: not installed (pip install -e '.[bench]')")
    if c is None:
        print("C: skipped (no C compiler)")
    rate = zsim.best.rate
    print(bl.target(">= 1.5 M deliveries/s", rate >= TARGET, f"{bl.fmt_rate(rate)}/s"))
    print(bl.ratio("zsim/SimPy (immediate)", rate / simpy.best.rate if simpy else None))
    print(bl.ratio("compiled/pure zsim (immediate)", rate / pure.best.rate if pure else None))
    print(bl.ratio("C/zsim (immediate, the native limit)", c.best.rate / rate if c else None))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
