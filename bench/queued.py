"""Queued path: two queued sinks on one event queue and one immediate sink, a producer
thread sending with a 1 ms virtual gap, a processing thread draining the queue.

    python bench/queued.py [--quick] [--sends N] [--repeats R]

Runs the workload on zsim (and, when its core is compiled, on its sources in a child
process with ZSIM_PURE_PYTHON=1), written idiomatically in SimPy 4 (a simpy.Store as the queue,
processes as threads), as two bare greenlets with no kernel (the floor for any greenlet-based
simulator), and in C (bench/c/route.c, built with gcc -O2 at run time), in this process,
and prints deliveries per wall second, the targets and the ratios zsim/SimPy, floor/zsim
and C/zsim on the last lines.
"""

from __future__ import annotations

import benchlib as bl
import workloads as w

TARGET = 600_000            # deliveries per wall second
TARGET_VS_SIMPY = 5.0


def main() -> int:
    p = bl.parser(__doc__.splitlines()[0])
    p.add_argument("--sends", type=int, default=None, help="sends per run (default 100000)")
    args = p.parse_args()
    n = args.sends or (1_000 if args.quick else 100_000)
    repeats = args.repeats or (1 if args.quick else 5)

    try:
        import simpy  # noqa: F401
    except ImportError:
        simpy = None
    contenders = [("zsim", w.zsim_queued), ("bare greenlets, no kernel (floor)", w.floor_queued)]
    if simpy is not None:
        contenders.insert(1, ("SimPy 4", w.simpy_queued))
    measured = bl.interleaved(contenders, n, repeats)     # taking turns, in this process
    zsim, floor = measured[0], measured[-1]
    simpy = measured[1] if simpy is not None else None
    pure = bl.repeat_pure("zsim_queued", n, repeats)     # the same, from the sources
    c = bl.run_c("queued", n * 100, repeats)

    print(bl.machine())
    print(f"queued: 1 source -> 2 queued sinks (one event queue of {w.QUEUE_SIZE}, processing "
          f"thread prio {w.PROCESSOR_PRIO}) + 1 immediate sink; producer prio "
          f"{w.PRODUCER_PRIO} sends {n:,} buffers, k_msleep(1) between sends; stats on, "
          f"LOG off, board {w.BOARD} at {w.QUEUED_CONFIG['SYS_CLOCK_TICKS_PER_SEC']} Hz")
    print(f"virtual time simulated per run: zsim {zsim.best.virtual_s:.1f} s"
          + (f", SimPy {simpy.best.virtual_s:.1f} s" if simpy else "")
          + " (k_msleep(1) sleeps 1 ms plus the partial tick: 1.1 ms at 10 kHz)")
    print(bl.rate_table([m for m in (zsim, pure, simpy, floor, c) if m is not None]))
    if simpy is None:
        print("SimPy: not installed (pip install -e '.[bench]')")
    if c is None:
        print("C: skipped (no C compiler)")
    rate = zsim.best.rate
    vs = rate / simpy.best.rate if simpy else None
    print(bl.target(">= 600 k deliveries/s", rate >= TARGET, f"{bl.fmt_rate(rate)}/s"))
    print(bl.target(">= 5x SimPy", vs is not None and vs >= TARGET_VS_SIMPY,
                    "SimPy not installed" if vs is None else f"{vs:.2f}x"))
    print(bl.ratio("zsim/SimPy (queued)", vs))
    print(bl.ratio("floor/zsim (queued, bare greenlets without a kernel)",
                   floor.best.rate / rate))
    print(bl.ratio("compiled/pure zsim (queued)", rate / pure.best.rate if pure else None))
    print(bl.ratio("C/zsim (queued, the native limit)", c.best.rate / rate if c else None))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
