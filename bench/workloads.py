"""The benchmark workloads, on zsim and written idiomatically in SimPy 4.

Every workload returns a ``benchlib.Run`` (deliveries, wall seconds of the simulation only,
virtual seconds simulated) and checks its counters afterwards, so a broken run can never be
reported as a fast one. ``bench/c/route.c`` is the same routing logic in C.

immediate: one source, three immediate sinks; ``n`` sends of a pooled buffer from one
    thread (alloc, ``send_consume``: ref, handler, unref per sink), stats on, logging off.
queued: one source, two queued sinks on one event queue drained by a processing thread, one
    immediate sink; a producer thread sends ``n`` buffers with a 1 ms virtual sleep between
    sends (the processing thread is the more urgent one, as in the seed's sample).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from benchlib import Run

from zsim import K_FOREVER, K_MSEC, K_NO_WAIT, Kernel
from zsim.net_buf import NetBufPool
from zsim.packet_io import PacketEventQueue, PacketSink, PacketSource, connect

BOARD = "native_sim"
POOL_COUNT = 16
BUF_SIZE = 64
QUEUE_SIZE = 10
IMMEDIATE_CONFIG = {"PACKET_IO_STATS": True, "LOG": False}
# 1 ms must be expressible: native_sim's 100 Hz tick would round a 1 ms sleep up to 20 ms.
QUEUED_CONFIG = {"PACKET_IO_STATS": True, "LOG": False, "SYS_CLOCK_TICKS_PER_SEC": 10000}
SEND_TIMEOUT_MS = 100       # the sample's budget for one send (never exhausted here)
PROCESSOR_PRIO = 5
PRODUCER_PRIO = 7


class BenchError(AssertionError):
    """A workload's counters do not add up."""


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise BenchError(what)


def count_handler(sink: Any, buf: Any) -> None:
    """The handler of every sink: adds the packet's length to the sink's user data."""
    sink.user_data[0] += buf.len


# ---------------------------------------------------------------- zsim
def build_zsim_immediate(n: int, board: str = BOARD) -> dict:
    """The immediate firmware on a fresh kernel; ``fw["go"]()`` runs the ``n`` sends."""
    k = Kernel(board=board, config=IMMEDIATE_CONFIG)
    pool = NetBufPool(k, "bench_pool", POOL_COUNT, BUF_SIZE)
    src = PacketSource(k, "bench_source")
    sinks = [PacketSink(k, f"bench_sink{i}", count_handler, user_data=[0]) for i in range(3)]
    for s in sinks:
        connect(src, s)

    def sender() -> None:
        alloc = pool.alloc
        send_consume = src.send_consume
        for _ in range(n):
            send_consume(alloc(K_NO_WAIT), K_NO_WAIT)

    return {"k": k, "pool": pool, "src": src, "sinks": sinks, "go": lambda: k.call(sender)}


def zsim_immediate(n: int, board: str = BOARD) -> Run:
    fw = build_zsim_immediate(n, board)
    k, src, pool, sinks = fw["k"], fw["src"], fw["pool"], fw["sinks"]
    t0 = time.perf_counter()
    fw["go"]()
    seconds = time.perf_counter() - t0
    _check(src.stats.send_count == n and src.stats.queued_total == 3 * n,
           f"zsim immediate: source stats {src.stats}")
    _check(all(s.stats.handled_count == n for s in sinks), "zsim immediate: handled counts")
    _check(pool.avail_count == POOL_COUNT and not k.leaks(), "zsim immediate: buffers leaked")
    return Run(3 * n, seconds, k.uptime_ticks() / k.ticks_per_sec)


def build_zsim_queued(n: int, board: str = BOARD, config: dict | None = None) -> dict:
    """The queued firmware on a fresh kernel, not yet run (also used by scale and profile)."""
    k = Kernel(board=board, config=config or QUEUED_CONFIG)
    pool = NetBufPool(k, "bench_pool", POOL_COUNT, BUF_SIZE)
    src = PacketSource(k, "bench_source")
    queue = PacketEventQueue(k, "bench_queue", size=QUEUE_SIZE)
    queued = [PacketSink(k, f"bench_queued{i}", count_handler, queue=queue, user_data=[0])
              for i in range(2)]
    immediate = PacketSink(k, "bench_immediate", count_handler, user_data=[0])
    for s in (*queued, immediate):
        connect(src, s)
    timeout = K_MSEC(SEND_TIMEOUT_MS)

    @k.thread(name="processor", priority=PROCESSOR_PRIO)
    def processor() -> None:
        while True:
            queue.process(K_FOREVER)

    @k.thread(name="producer", priority=PRODUCER_PRIO)
    def producer() -> None:
        for _ in range(n):
            src.send_consume(pool.alloc(K_NO_WAIT), timeout)
            k.msleep(1)

    return {"k": k, "pool": pool, "src": src, "queue": queue, "sinks": [*queued, immediate]}


def check_zsim_queued(fw: dict, n: int) -> None:
    src, queue, pool, k = fw["src"], fw["queue"], fw["pool"], fw["k"]
    _check(src.stats.send_count == n and src.stats.queued_total == 3 * n,
           f"zsim queued: source stats {src.stats}")
    _check(queue.stats.processed_count == 2 * n, f"zsim queued: {queue.stats}")
    _check(all(s.stats.dropped_count == 0 for s in fw["sinks"]), "zsim queued: drops")
    _check(pool.avail_count == POOL_COUNT and not k.leaks(), "zsim queued: buffers leaked")


def zsim_queued(n: int, board: str = BOARD) -> Run:
    fw = build_zsim_queued(n, board)
    k = fw["k"]
    t0 = time.perf_counter()
    k.run()
    seconds = time.perf_counter() - t0
    check_zsim_queued(fw, n)
    return Run(3 * n, seconds, k.uptime_ticks() / k.ticks_per_sec)


# ---------------------------------------------------------------- SimPy 4
class SimBuf:
    """A refcounted buffer of a fixed pool."""

    __slots__ = ("pool", "ref", "len")

    def __init__(self, pool: SimPool) -> None:
        self.pool = pool
        self.ref = 0
        self.len = 0

    def unref(self) -> None:
        self.ref -= 1
        if not self.ref:
            self.pool.free.append(self)


class SimPool:
    """A fixed pool: a LIFO of free buffers (allocation never waits in these workloads)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.free = [SimBuf(self) for _ in range(count)]

    def alloc(self) -> SimBuf | None:
        if not self.free:
            return None
        buf = self.free.pop()
        buf.ref = 1
        buf.len = 0
        return buf


class SimSink:
    __slots__ = ("name", "handler", "store", "user_data", "handled_count", "dropped_count")

    def __init__(self, name: str, handler: Any, store: Any = None) -> None:
        self.name = name
        self.handler = handler
        self.store = store      # a simpy.Store for a queued sink, None for an immediate one
        self.user_data = [0]
        self.handled_count = 0
        self.dropped_count = 0


class SimSource:
    def __init__(self, sinks: list[SimSink]) -> None:
        self.sinks = sinks
        self.send_count = 0
        self.queued_total = 0

    def send(self, buf: SimBuf):  # noqa: ANN201 - a SimPy process generator
        """Deliver to every sink: immediate ones run their handler here; queued ones get a
        ``(sink, buf)`` event put on their Store (waiting while it is full)."""
        self.send_count += 1
        delivered = 0
        for sink in self.sinks:
            buf.ref += 1
            if sink.store is None:
                sink.handler(sink, buf)
                sink.handled_count += 1
                buf.unref()
            else:
                yield sink.store.put((sink, buf))
            delivered += 1
        self.queued_total += delivered
        return delivered

    def send_consume(self, buf: SimBuf):  # noqa: ANN201 - a SimPy process generator
        delivered = yield from self.send(buf)
        buf.unref()
        return delivered


def simpy_immediate(n: int) -> Run:
    import simpy

    env = simpy.Environment()
    pool = SimPool(POOL_COUNT)
    sinks = [SimSink(f"sink{i}", count_handler) for i in range(3)]
    src = SimSource(sinks)

    def sender():  # noqa: ANN202
        for _ in range(n):
            yield from src.send_consume(pool.alloc())
        yield env.timeout(0)

    env.process(sender())
    t0 = time.perf_counter()
    env.run()
    seconds = time.perf_counter() - t0
    _check(src.queued_total == 3 * n and all(s.handled_count == n for s in sinks),
           "SimPy immediate: counters")
    _check(len(pool.free) == POOL_COUNT, "SimPy immediate: buffers leaked")
    return Run(3 * n, seconds, float(env.now))


def simpy_queued(n: int) -> Run:
    import simpy

    env = simpy.Environment()      # time unit: 1 ms
    pool = SimPool(POOL_COUNT)
    store = simpy.Store(env, capacity=QUEUE_SIZE)
    sinks = [SimSink("queued0", count_handler, store), SimSink("queued1", count_handler, store),
             SimSink("immediate", count_handler)]
    src = SimSource(sinks)
    processed = [0]

    def processor():  # noqa: ANN202
        while True:
            sink, buf = yield store.get()
            sink.handler(sink, buf)
            sink.handled_count += 1
            buf.unref()
            processed[0] += 1

    def producer():  # noqa: ANN202
        for _ in range(n):
            yield from src.send_consume(pool.alloc())
            yield env.timeout(1)

    env.process(processor())
    env.process(producer())
    t0 = time.perf_counter()
    env.run()
    seconds = time.perf_counter() - t0
    _check(src.queued_total == 3 * n and processed[0] == 2 * n, "SimPy queued: counters")
    _check(len(pool.free) == POOL_COUNT, "SimPy queued: buffers leaked")
    return Run(3 * n, seconds, env.now / 1000)


# ---------------------------------------------------------------- the seed's sample
SAMPLE_DIR = Path(__file__).resolve().parent.parent / "examples" / "basic_packet_routing"


def build_sample(board: str = BOARD, costs: str = "board",
                 model_dir: str | Path | None = None) -> Kernel:
    """The basic_packet_routing model on a fresh kernel with its prj.conf, as ``zsim run``
    builds it; console and LOG lines are kept in ``k.console``, not printed."""
    from zsim.model import load_model

    model = load_model(model_dir or SAMPLE_DIR)
    config = str(model.prj_conf) if model.prj_conf else None
    k = Kernel(board=board, config=config, costs=costs)
    model.main(k)
    return k


# ---------------------------------------------------------------- a floor for Python
def floor_queued(n: int) -> Run:
    """The queued workload as two bare greenlets with no kernel at all: a deque for the
    queue, a heap for the producer's timeout, a switch where a thread would block. No
    priorities, timeouts budget, stats objects or checks: the least any greenlet-based
    simulator of this workload can cost in CPython."""
    import heapq
    from collections import deque

    from greenlet import greenlet

    free = [SimBuf(None) for _ in range(POOL_COUNT)]
    queue: deque = deque()
    sinks = [SimSink("queued0", count_handler, queue), SimSink("queued1", count_handler, queue),
             SimSink("immediate", count_handler)]
    heap: list = []
    now = [0]
    processed = [0]

    def unref(buf: SimBuf) -> None:
        buf.ref -= 1
        if not buf.ref:
            free.append(buf)

    def producer() -> None:
        for i in range(n):
            buf = free.pop()
            buf.ref = 1
            for sink in sinks:
                buf.ref += 1
                if sink.store is None:
                    sink.handler(sink, buf)
                    sink.handled_count += 1
                    buf.ref -= 1
                else:
                    sink.store.append((sink, buf))
            unref(buf)
            heapq.heappush(heap, (now[0] + 11, i))     # k_msleep(1) at 10 kHz
            proc.switch()
        main.switch()

    def processor() -> None:
        while True:
            while queue:
                sink, buf = queue.popleft()
                sink.handler(sink, buf)
                sink.handled_count += 1
                unref(buf)
                processed[0] += 1
            now[0] = heapq.heappop(heap)[0]
            prod.switch()

    main = greenlet.getcurrent()
    prod, proc = greenlet(producer), greenlet(processor)
    t0 = time.perf_counter()
    prod.switch()
    seconds = time.perf_counter() - t0
    if not proc.dead:
        proc.throw()                # end the processor (GreenletExit)
    _check(processed[0] == 2 * n and len(free) == POOL_COUNT, "floor queued: counters")
    return Run(3 * n, seconds, now[0] / 10_000)
