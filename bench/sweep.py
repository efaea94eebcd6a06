"""zsim sweep: points per second locally with 1 and 2 workers, and on a Dask LocalCluster
with 2 workers, on examples/burst_queue.

    python bench/sweep.py [--quick] [--points N] [--duration 5s]

Each point runs in a process of its own in every case (a forked worker locally, a new
Python process per Dask task), so the figures include that start-up. The rows of the three
runs are compared (they must be equal but for wall seconds). The target: 2 local workers
give at least 1.5 times the points per second of 1 on a machine with 2 cores or more.
"""

from __future__ import annotations

import time
from pathlib import Path

import benchlib as bl

from zsim.sweep.params import parse_param
from zsim.sweep.points import make_plan
from zsim.sweep.runner import DaskRunner, LocalRunner

MODEL = Path(__file__).resolve().parent.parent / "examples" / "burst_queue"
TARGET = 1.5


def measure(runner, specs) -> tuple[float, list[dict]]:
    rows: list[dict] = []
    t0 = time.perf_counter()
    runner.run(iter(specs), rows.append, lambda: False)
    wall = time.perf_counter() - t0
    return wall, sorted(({k: v for k, v in r.items() if k != "wall_s"} for r in rows),
                        key=lambda r: r["point"])


def main() -> int:
    p = bl.parser(__doc__.splitlines()[0])
    p.add_argument("--points", type=int, default=None, help="points per run (default 16)")
    p.add_argument("--duration", default=None, help="virtual time per point (default 5s)")
    args = p.parse_args()
    n = args.points or (4 if args.quick else 16)
    duration = args.duration or ("200ms" if args.quick else "5s")
    plan = make_plan(MODEL, [parse_param(f"queues.network_queue.size=1..{n}")],
                     ["native_sim"], None, duration)
    specs = [plan.spec(pt) for pt in plan.points()]
    results: dict[str, tuple[float, list[dict]]] = {}
    for jobs in (1, 2):
        results[f"local, {jobs} worker{'s' if jobs > 1 else ''}"] = measure(LocalRunner(jobs),
                                                                           specs)
    try:
        import distributed
    except ImportError:
        distributed = None
    if distributed is not None:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      host="127.0.0.1", dashboard_address=None) as cluster:
            runner = DaskRunner(distributed.Client(cluster))
            try:
                results["Dask LocalCluster, 2 workers"] = measure(runner, specs)
            finally:
                runner.client.close()

    print(bl.machine())
    print(f"sweep: {MODEL.name}, {n} points (network_queue size 1..{n}), {duration} each")
    rates = {name: n / wall for name, (wall, _) in results.items()}
    print(bl.table(["runner", "wall s", "points/s"],
                   [[name, f"{wall:.2f}", f"{rates[name]:.2f}"]
                    for name, (wall, _) in results.items()]))
    first = next(iter(results.values()))[1]
    same = all(rows == first for _, rows in results.values())
    print(f"rows identical across runners: {'yes' if same else 'NO'}")
    speedup = rates["local, 2 workers"] / rates["local, 1 worker"]
    print(bl.target(f"2 local workers >= {TARGET}x the points/s of 1", speedup >= TARGET,
                    f"{speedup:.2f}x"))
    print(bl.ratio("points/s, 2 local workers / 1", speedup))
    dask = rates.get("Dask LocalCluster, 2 workers")
    print(bl.ratio("points/s, Dask 2 workers / 1 local worker",
                   None if dask is None else dask / rates["local, 1 worker"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
