"""Cost growth: time per delivery and peak memory as sinks, packets and threads grow.

    python bench/scale.py [--quick]

Each size runs in its own Python process, so its peak RSS (getrusage) is its own:
- sinks: one source wired to 10, 1 000 and 10 000 immediate sinks, the same number of
  deliveries at every size (sends = deliveries / sinks); the wiring time is shown apart;
- packets: the queued workload of bench/queued.py for 10^3 ... 10^6 packets;
- threads: 10, 1 000 and 10 000 threads sleeping with timeouts (k_msleep of 1..100 ms), the
  same number of timeouts at every size.
Time per delivery (or per timeout) and peak memory should stay flat; the growth ratios are
printed on the last lines.
"""

from __future__ import annotations

import json
import math
import resource
import subprocess
import sys
import time

import benchlib as bl

SINKS = (10, 1_000, 10_000)
SINK_DELIVERIES = 300_000
PACKETS = (1_000, 10_000, 100_000, 1_000_000)
THREADS = (10, 1_000, 10_000)
THREAD_TIMEOUTS = 200_000
RSS_TARGET = 2.0            # peak RSS at the most packets / at 10^4 packets
RSS_REFERENCE = 10_000


def _peak_rss() -> int:
    """Peak resident set size of this process, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# ---------------------------------------------------------------- children
def child_sinks(n_sinks: int, deliveries: int) -> dict:
    from workloads import BOARD, IMMEDIATE_CONFIG, count_handler

    from zsim import K_NO_WAIT, Kernel
    from zsim.net_buf import NetBufPool
    from zsim.packet_io import PacketSink, PacketSource, connect

    sends = max(1, deliveries // n_sinks)
    k = Kernel(board=BOARD, config=IMMEDIATE_CONFIG)
    pool = NetBufPool(k, "bench_pool", 16, 64)
    src = PacketSource(k, "bench_source")
    t0 = time.perf_counter()
    for i in range(n_sinks):
        connect(src, PacketSink(k, f"bench_sink{i:05d}", count_handler, user_data=[0]))
    wiring = time.perf_counter() - t0
    rss_setup = _peak_rss()

    def sender() -> None:
        for _ in range(sends):
            src.send_consume(pool.alloc(K_NO_WAIT), K_NO_WAIT)

    t0 = time.perf_counter()
    k.call(sender)
    seconds = time.perf_counter() - t0
    assert src.stats.queued_total == sends * n_sinks and pool.avail_count == 16
    return {"size": n_sinks, "sends": sends, "count": sends * n_sinks, "seconds": seconds,
            "wiring": wiring, "rss_setup": rss_setup, "rss_peak": _peak_rss()}


def child_packets(packets: int) -> dict:
    import workloads

    fw = workloads.build_zsim_queued(packets)
    rss_setup = _peak_rss()
    t0 = time.perf_counter()
    fw["k"].run()
    seconds = time.perf_counter() - t0
    workloads.check_zsim_queued(fw, packets)
    return {"size": packets, "count": 3 * packets, "seconds": seconds,
            "rss_setup": rss_setup, "rss_peak": _peak_rss()}


def child_threads(n_threads: int, timeouts: int, start: str) -> dict:
    from workloads import BOARD

    from zsim import K_TICKS, Kernel

    k = Kernel(board=BOARD, config={"LOG": False, "SYS_CLOCK_TICKS_PER_SEC": 10000})
    periods = [1 + (i * 37) % 100 for i in range(101)]     # 1..100 ms, spread
    each = max(1, timeouts // n_threads)
    done = [0]

    def sleeper(i: int) -> None:
        for j in range(each):
            k.msleep(periods[(i + j) % 101])
        done[0] += 1

    if start == "static":       # K_THREAD_DEFINE: every thread defined before boot
        for i in range(n_threads):
            k.thread(sleeper, name=f"sleeper{i:05d}", priority=5, args=(i,))
    else:                       # a less urgent thread creates them at run time
        def spawner() -> None:
            for i in range(n_threads):
                k.thread_create(sleeper, i, name=f"sleeper{i:05d}", priority=5)
        k.thread(spawner, name="spawner", priority=10)
    # Start every thread first (each runs up to its first sleep): creating 10 000 threads
    # and their stacks is not the cost of a timeout. The timed part is the timeouts.
    k.run(K_TICKS(1))
    rss_setup = _peak_rss()
    t0 = time.perf_counter()
    k.run()
    seconds = time.perf_counter() - t0
    assert done[0] == n_threads, f"{done[0]} of {n_threads} threads finished"
    return {"size": n_threads, "count": each * n_threads, "seconds": seconds,
            "virtual_s": k.uptime_ticks() / k.ticks_per_sec, "rss_setup": rss_setup,
            "rss_peak": _peak_rss(), "start": start}


def run_child(*args: object) -> dict:
    """Run one size in a fresh interpreter; its last stdout line is the JSON result."""
    proc = subprocess.run([sys.executable, __file__, "--child", *map(str, args)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        err = proc.stderr.strip().splitlines()
        return {"error": err[-1] if err else f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- parent
def _ns(r: dict) -> float:
    return r["seconds"] / r["count"] * 1e9


def _growth(rows: list[dict], key, ref: dict | None = None) -> float | None:  # noqa: ANN001
    ok = [r for r in rows if "error" not in r]
    base = ref if ref is not None else (ok[0] if ok else None)
    if not ok or base is None or "error" in base or len(ok) < 2:
        return None
    return key(ok[-1]) / key(base)


def main() -> int:
    p = bl.parser(__doc__.splitlines()[0])
    args = p.parse_args()
    sinks, packets, threads = SINKS, PACKETS, THREADS
    sink_deliveries, timeouts = SINK_DELIVERIES, THREAD_TIMEOUTS
    if args.quick:
        sinks, packets, threads = (10, 100), (100, 1_000), (10, 100)
        sink_deliveries, timeouts = 3_000, 2_000
    t_start = time.perf_counter()

    sink_rows = [run_child("sinks", n, sink_deliveries) for n in sinks]
    packet_rows = [run_child("packets", n) for n in packets]
    thread_rows = []
    for n in threads:
        r = run_child("threads", n, timeouts, "static")
        if "error" in r:        # retry with run-time creation, and say so
            r2 = run_child("threads", n, timeouts, "spawner")
            r2["static_error"] = r["error"]
            r = r2
        thread_rows.append(r)

    print(bl.machine())
    print(f"scale: each size in its own process; {time.perf_counter() - t_start:.1f} s "
          "wall in all")
    print()
    print(f"sinks: one source -> N immediate sinks, {sink_deliveries:,} deliveries per size")
    rows = []
    for r in sink_rows:
        if "error" in r:
            rows.append(["?", "?", "?", "?", "?", "?", r["error"]])
            continue
        rows.append([f"{r['size']:,}", f"{r['sends']:,}", f"{r['count']:,}",
                     f"{r['wiring']:.3f}", f"{r['seconds']:.3f}", f"{_ns(r):.0f}",
                     bl.fmt_bytes(r["rss_peak"])])
    print(bl.table(["sinks", "sends", "deliveries", "wiring s", "wall s", "ns/delivery",
                    "peak RSS"], rows))
    print()
    print("packets: the queued workload (bench/queued.py), N packets = 3N deliveries")
    rows = []
    for r in packet_rows:
        if "error" in r:
            rows.append(["?", "?", "?", "?", "?", r["error"]])
            continue
        rows.append([f"{r['size']:,}", f"{r['count']:,}", f"{r['seconds']:.3f}",
                     f"{_ns(r):.0f}", bl.fmt_bytes(r["rss_setup"]),
                     bl.fmt_bytes(r["rss_peak"])])
    print(bl.table(["packets", "deliveries", "wall s", "ns/delivery", "RSS after setup",
                    "peak RSS"], rows))
    print()
    print(f"threads: N threads sleeping with timeouts (k_msleep 1..100 ms), {timeouts:,} "
          "timeouts per size")
    rows = []
    for r in thread_rows:
        if "error" in r:
            rows.append(["?", "?", "?", "?", "?", "?", r["error"]])
            continue
        started = "K_THREAD_DEFINE" if r["start"] == "static" else "at run time *"
        rows.append([f"{r['size']:,}", f"{r['count']:,}", f"{r['virtual_s']:.1f}",
                     f"{r['seconds']:.3f}", f"{_ns(r) / 1000:.2f}",
                     bl.fmt_bytes(r["rss_peak"]), started])
    print(bl.table(["threads", "timeouts", "virtual s", "wall s", "us/timeout", "peak RSS",
                    "started"], rows))
    errors = sorted({r["static_error"] for r in thread_rows if "static_error" in r})
    if errors:
        print("* defined before boot (K_THREAD_DEFINE) this many threads fail with "
              f"{'; '.join(errors)}; created at run time by a less urgent thread instead")
    print()

    ref = next((r for r in packet_rows if r.get("size") == RSS_REFERENCE), None)
    ref = ref if ref is not None and "error" not in ref else (
        packet_rows[0] if len(packet_rows) > 1 else None)
    rss_growth = _growth(packet_rows, lambda r: r["rss_peak"], ref)
    big, ref_n = packet_rows[-1].get("size"), (ref or {}).get("size")
    print(bl.target(f"peak RSS at {big:,} packets within {RSS_TARGET:g}x of {ref_n:,}"
                    if big and ref_n else "peak RSS flat in packets",
                    rss_growth is not None and rss_growth <= RSS_TARGET,
                    "n/a" if rss_growth is None else f"{rss_growth:.2f}x"))
    size_ratio = math.log2(threads[-1]) / math.log2(threads[0]) if threads[0] > 1 else None
    if len(sink_rows) > 2:
        print(bl.ratio(f"time per delivery, {sinks[-2]:,} / {sinks[0]:,} sinks",
                       _growth(sink_rows[:-1], _ns)))
    print(bl.ratio(f"time per delivery, {sinks[-1]:,} / {sinks[0]:,} sinks",
                   _growth(sink_rows, _ns),
                   "(instructions per delivery do not grow: the rest is cache misses, "
                   "see bench/RESULTS.md)"))
    wiring_rows = sink_rows[-2:]
    print(bl.ratio(f"wiring time per sink, {wiring_rows[-1].get('size', 0):,} / "
                   f"{wiring_rows[0].get('size', 0):,} sinks",
                   _growth(wiring_rows, lambda r: r["wiring"] / r["size"]),
                   "(1x = O(1) per connect; 10x = O(n))"))
    print(bl.ratio(f"time per delivery, {packets[-1]:,} / {packets[0]:,} packets",
                   _growth(packet_rows, _ns)))
    print(bl.ratio(f"peak RSS, {packets[-1]:,} / {ref_n or packets[0]:,} packets", rss_growth))
    print(bl.ratio(f"time per timeout, {threads[-1]:,} / {threads[0]:,} threads",
                   _growth(thread_rows, _ns),
                   f"(O(log n) allows {size_ratio:.1f}x)" if size_ratio else ""))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, rest = sys.argv[2], sys.argv[3:]
        if kind == "sinks":
            out = child_sinks(int(rest[0]), int(rest[1]))
        elif kind == "packets":
            out = child_packets(int(rest[0]))
        else:
            out = child_threads(int(rest[0]), int(rest[1]), rest[2])
        print(json.dumps(out))
        raise SystemExit(0)
    raise SystemExit(main())
