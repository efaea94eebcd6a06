"""The seed's basic_packet_routing sample: virtual seconds simulated per wall second.

    python bench/sample.py [--quick] [--boards native_sim,nrf52840dk/nrf52840] [--budget S]

Loads examples/basic_packet_routing (model.py with its prj.conf, as ``zsim run`` does), runs
it with the board's cost model in slices of virtual time until ``--budget`` wall seconds
have passed, and prints virtual seconds per wall second for each board. The console and LOG
lines are captured in ``k.console``, not printed. The target applies to the first board.
"""

from __future__ import annotations

import time

import benchlib as bl
import workloads as w

from zsim import K_SECONDS

TARGET = 3600.0                 # an hour of firmware in a wall second
SLICE_S = 10                    # virtual seconds per k.run() call
MAX_VIRTUAL_S = 36_000          # stop there even when the budget is not spent


def measure(board: str, budget: float, slice_s: int, model: str | None = None) -> dict:
    t0 = time.perf_counter()
    k = w.build_sample(board, model_dir=model)
    setup = time.perf_counter() - t0
    wall = 0.0
    start = k.uptime_ticks()
    while wall < budget and (k.uptime_ticks() - start) / k.ticks_per_sec < MAX_VIRTUAL_S:
        t0 = time.perf_counter()
        k.run(K_SECONDS(slice_s))
        wall += time.perf_counter() - t0
    virtual = (k.uptime_ticks() - start) / k.ticks_per_sec
    stats = [o._stats for o in k.objects
             if type(o).__name__ == "PacketSource" and o._stats is not None]
    deliveries = sum(s.queued_total for s in stats) if stats else None
    return {"board": board, "setup": setup, "virtual": virtual, "wall": wall,
            "rate": virtual / wall if wall else float("inf"), "lines": len(k.console),
            "deliveries": deliveries, "faults": len(k.faults), "leaks": len(k.leaks()),
            "costs": "on" if k.costs_enabled else "zero"}


def main() -> int:
    p = bl.parser(__doc__.splitlines()[0])
    p.add_argument("--boards", default="native_sim,nrf52840dk/nrf52840",
                   help="comma-separated boards (the target applies to the first)")
    p.add_argument("--budget", type=float, default=None,
                   help="wall seconds of simulation per board (default 5)")
    p.add_argument("--model", default=None,
                   help="another model directory (default examples/basic_packet_routing)")
    args = p.parse_args()
    budget = args.budget or (0.2 if args.quick else 5.0)
    slice_s = 1 if args.quick else SLICE_S
    boards = [b.strip() for b in args.boards.split(",") if b.strip()]
    results = []
    for board in boards:
        try:
            results.append(measure(board, budget, slice_s, args.model))
        except Exception as exc:  # a board the sample does not fit: say so, go on
            results.append({"board": board, "error": f"{type(exc).__name__}: {exc}"})

    print(bl.machine())
    model = args.model or "examples/basic_packet_routing"
    print(f"sample: {model}, board costs as profiled, LOG captured; "
          f"{budget:g} s wall per board in {slice_s} s virtual slices")
    rows = []
    for r in results:
        if "error" in r:
            rows.append([r["board"], "-", "-", "-", "-", "-", "-", r["error"][:60]])
            continue
        deliveries = "-" if r["deliveries"] is None else f"{r['deliveries']:,}"
        rows.append([r["board"], r["costs"], f"{r['virtual']:,.0f}", f"{r['wall']:.2f}",
                     f"{r['rate']:,.0f}", deliveries, f"{r['lines']:,}",
                     f"{r['faults']} faults, {r['leaks']} bufs in flight"])
    print(bl.table(["board", "costs", "virtual s", "wall s", "virtual s/wall s",
                    "deliveries", "console lines", "checks"], rows))
    first = results[0]
    rate = first.get("rate")
    print(bl.target(f">= {TARGET:,.0f} virtual s per wall s on {first['board']}",
                    rate is not None and rate >= TARGET,
                    first.get("error", f"{rate:,.0f}" if rate is not None else "n/a")))
    for r in results:
        print(bl.ratio(f"virtual s per wall s ({r['board']})", r.get("rate")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
