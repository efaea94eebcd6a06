"""Build a ``Topology`` on a ``Kernel`` with the real zsim objects.

The order of creation, the threads and their timing follow what the virtual board does
with the same file's protocol commands (firmware_bridge/plan.py, PROTOCOL.md §5), so the
two produce the same trace: pools, sources, queues (each with its processing thread),
sinks, connections in file order, boot, then one thread per stimulus in file order and,
last, the runtime-connection timeline at priority -1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import errno
from ..errors import ZsimError
from ..kernel.core import Kernel
from ..kernel.memory import Layout, ram_overflow
from ..kernel.time_units import K_FOREVER, K_NO_WAIT, K_TICKS, Timeout
from ..net_buf import NetBufPool
from ..packet_io import PacketConnection, PacketEventQueue, PacketSink, PacketSource, connect
from . import behaviours as bh
from .loader import Topology, TopologyError
from .patterns import PATTERNS, PatternGen

CONNECTION_TIMELINE_THREAD = "conn_timeline"
CONNECTION_TIMELINE_PRIORITY = -1
CONNECTION_TIMELINE_STACK = 512


def as_ticks(timeout: Timeout, tps: int) -> Timeout:
    """A timeout rounded to whole ticks as the protocol carries it (0: ``K_NO_WAIT``)."""
    if timeout.is_forever:
        return K_FOREVER
    n = max(0, int(timeout.ticks(tps)))
    return K_TICKS(n) if n else K_NO_WAIT


def instant(timeout: Timeout, tps: int) -> int:
    """A duration or instant in whole ticks."""
    if timeout.is_forever:
        raise ValueError("forever is not a valid instant")
    return max(0, int(timeout.ticks(tps)))


def uses_runtime_connections(topo: Topology) -> bool:
    """Whether the topology adds or removes connections at run time."""
    return any(c["runtime"] for c in topo.connections) or any(
        st["op"] in ("connect", "disconnect") for s in topo.stimuli if s["kind"] == "script"
        for st in s["steps"])


@dataclass
class Built:
    """The objects of a built topology, by name."""

    pools: dict[str, NetBufPool] = field(default_factory=dict)
    sources: dict[str, PacketSource] = field(default_factory=dict)
    queues: dict[str, PacketEventQueue] = field(default_factory=dict)
    sinks: dict[str, PacketSink] = field(default_factory=dict)
    connections: dict[tuple[str, str], PacketConnection] = field(default_factory=dict)
    threads: dict[str, Any] = field(default_factory=dict)
    t0: int = 0


class _Builder:
    def __init__(self, k: Kernel, topo: Topology, seed: int) -> None:
        self.k = k
        self.topo = topo
        self.seed = seed
        self.tps = k.ticks_per_sec
        self.b = Built()

    def trace(self, kind: str, *fields: Any) -> None:
        tracer = self.k._tracer
        if tracer is not None:
            tracer(kind, *fields)

    def alloc_fail(self, origin: str, by: str) -> Callable[[NetBufPool], None]:
        return lambda pool: self.trace("alloc_fail", pool, origin, by)

    # ------------------------------------------------------------ objects
    def objects(self) -> None:
        k, b, tps = self.k, self.b, self.tps
        for p in self.topo.pools:
            b.pools[p["name"]] = NetBufPool(k, p["name"], p["count"], p["size"],
                                            p["user_data_size"])
        for name in self.topo.sources:
            b.sources[name] = PacketSource(k, name)
        for q in self.topo.queues:
            queue = PacketEventQueue(k, q["name"], q["size"])
            b.queues[q["name"]] = queue
            th = q["thread"]
            b.threads[th["name"]] = k.thread_create(
                _process_forever, queue, name=th["name"], priority=th["priority"],
                stack_size=th["stack_size"])
        for s in self.topo.sinks:
            steps = []
            for st in s["behaviour"]:
                op = st["op"]
                if op == "cpu_us":
                    steps.append(bh.Step(op, amount=st["us"]))
                elif op == "cpu_cycles":
                    steps.append(bh.Step(op, amount=st["cycles"]))
                elif op == "sleep":
                    steps.append(bh.Step(op, timeout=as_ticks(st["timeout"], tps)))
                elif op == "forward":
                    steps.append(bh.Step(op, timeout=as_ticks(st["timeout"], tps),
                                         source=b.sources[st["source"]],
                                         pool=b.pools[st["pool"]], header=st["header"],
                                         seq16=st["seq16"]))
                else:
                    steps.append(bh.Step(op))
            handler = bh.make_handler(k, steps, self.alloc_fail("forward", s["name"]))
            queue = b.queues[s["queue"]] if s["queue"] is not None else None
            b.sinks[s["name"]] = PacketSink(k, s["name"], handler, queue=queue)

    # ------------------------------------------------------------ connections
    def connect_runtime(self, src: str, sink: str) -> int:
        key = (src, sink)
        conn = self.b.connections.get(key)
        if conn is None:
            conn = PacketConnection(self.b.sources[src], self.b.sinks[sink])
            self.b.connections[key] = conn
        try:
            return conn.add()
        except ZsimError:
            return -errno.ENOTSUP

    def disconnect(self, src: str, sink: str) -> int:
        conn = self.b.connections.get((src, sink))
        if conn is None:
            return -errno.ENOENT
        try:
            return conn.remove()
        except ZsimError:
            return -errno.ENOTSUP

    def connections(self) -> list[tuple[int, str, str, str]]:
        timeline = []
        for c in self.topo.connections:
            src, sink = c["source"], c["sink"]
            if not c["runtime"]:
                self.b.connections[(src, sink)] = connect(self.b.sources[src],
                                                          self.b.sinks[sink])
                continue
            if c["add_at"] is None:
                self.connect_runtime(src, sink)
            else:
                timeline.append((instant(c["add_at"], self.tps), "connect", src, sink))
            if c["remove_at"] is not None:
                timeline.append((instant(c["remove_at"], self.tps), "disconnect", src, sink))
        return sorted(timeline, key=lambda t: t[0])

    # ------------------------------------------------------------ stimuli
    def sender(self, st: dict[str, Any], gen: PatternGen, origin: str, by: str
               ) -> Callable[[], int]:
        b, tps = self.b, self.tps
        src, pool = b.sources[st["source"]], b.pools[st["pool"]]
        pattern = PATTERNS[st["pattern"]]
        timeout = as_ticks(st["timeout"], tps)
        fail = self.alloc_fail(origin, by)

        def send() -> int:
            return bh.send_payload(src, pool, gen, st["size"], pattern, st["arg"], timeout,
                                   st["consume"], on_alloc_fail=fail)
        return send

    def script_op(self, stim: str, i: int, step: dict[str, Any], gen: PatternGen
                  ) -> Callable[[], None]:
        op = step["op"]
        if op == "send":
            fn = self.sender(step, gen, "script", stim)
        elif op == "process":
            queue = self.b.queues[step["queue"]]
            timeout = as_ticks(step["timeout"], self.tps)

            def fn() -> int:
                ret = queue.process(timeout)
                if ret in (-errno.EAGAIN, -errno.EINVAL):
                    self.trace("process", queue, ret)
                return ret
        elif op == "connect":
            fn = lambda: self.connect_runtime(step["source"], step["sink"])  # noqa: E731
        else:
            fn = lambda: self.disconnect(step["source"], step["sink"])  # noqa: E731

        def run() -> None:
            self.trace("step", stim, i, op, fn())
        return run

    def stimuli(self, timeline: list[tuple[int, str, str, str]]) -> None:
        k, b, tps = self.k, self.b, self.tps
        for sid, st in enumerate(self.topo.stimuli):
            th = st["thread"]
            gen = PatternGen(seed=self.seed, stim=sid)
            if st["kind"] == "periodic":
                count = st["count"]
                args: tuple = (bh.periodic, k, b.t0, instant(st["start"], tps),
                               max(1, instant(st["every"], tps)), count,
                               self.sender(st, gen, "periodic", th["name"]))
            else:
                steps = [(instant(step["at"], tps), self.script_op(th["name"], i, step, gen))
                         for i, step in enumerate(st["steps"])]
                args = (bh.script, k, b.t0, steps)
            b.threads[th["name"]] = k.thread_create(
                _call, *args, name=th["name"], priority=th["priority"],
                stack_size=th["stack_size"])
        if timeline:
            name = CONNECTION_TIMELINE_THREAD
            steps = [(at, self.script_op(name, i, {"op": op, "source": s, "sink": t}, None))
                     for i, (at, op, s, t) in enumerate(timeline)]
            b.threads[name] = k.thread_create(
                _call, bh.script, k, b.t0, steps, name=name,
                priority=CONNECTION_TIMELINE_PRIORITY, stack_size=CONNECTION_TIMELINE_STACK)


def _process_forever(queue: PacketEventQueue) -> None:
    while True:
        queue.process(K_FOREVER)


def _call(fn: Callable[..., Any], *args: Any) -> None:
    fn(*args)


def _threads(topo: Topology) -> list[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """(JSON path of the entry, thread) of every thread the topology defines."""
    out: list[tuple[tuple[str | int, ...], dict[str, Any]]] = [
        (("queues", i), q["thread"]) for i, q in enumerate(topo.queues)]
    out += [(("stimuli", i, st["kind"]), st["thread"]) for i, st in enumerate(topo.stimuli)]
    return out


def check_fits(k: Kernel, topo: Topology) -> None:
    """Refuse, before anything is allocated, a topology that cannot work on ``k``'s board
    and configuration: thread priorities the configuration does not have, and pools, queue
    rings and stacks that do not fit the board's RAM beside what ``k`` holds already.
    Raises ``TopologyError`` naming each ``file:line``."""
    cfg = k.config
    coop, preempt = int(cfg["NUM_COOP_PRIORITIES"]), int(cfg["NUM_PREEMPT_PRIORITIES"])
    errors: list[tuple[int, str]] = []
    for at, th in _threads(topo):
        if not -coop <= th["priority"] <= preempt - 1:
            errors.append((topo.line(*at, "thread", "priority"),
                           f"thread {th['name']!r}: priority {th['priority']} is outside "
                           f"{-coop}..{preempt - 1} (CONFIG_NUM_COOP_PRIORITIES={coop}, "
                           f"CONFIG_NUM_PREEMPT_PRIORITIES={preempt})"))
    lay = Layout(k.board.pointer_size, cfg)
    needs = [(topo.line("pools", i), f"pool {p['name']!r} ({p['count']} x {p['size']} B)",
              lay.fixed_pool(p["count"], p["size"], p["user_data_size"]))
             for i, p in enumerate(topo.pools)]
    needs += [(topo.line("queues", i), f"queue {q['name']!r} ({q['size']} events)",
               lay.msgq_ring(2 * lay.p, q["size"])) for i, q in enumerate(topo.queues)]
    needs += [(topo.line(*at), f"thread {th['name']!r} ({th['stack_size']} B stack)",
               lay.thread_with_stack(th["stack_size"])) for at, th in _threads(topo)]
    used, ram = k.memory_report().ram_used, k.board.ram_kib * 1024
    for line, what, need in needs:
        why = ram_overflow(what, need, used, ram, k.board.identifier)
        if why is not None:
            errors.append((line, why))
            break
        used += need
    if errors:
        raise TopologyError([f"{topo.path}:{line}: {msg}" for line, msg in sorted(errors)])


def build(k: Kernel, topo: Topology, *, seed: int | None = None) -> Built:
    """Check the topology fits (:func:`check_fits`), then create its objects on ``k``, boot
    it and start the stimuli; the objects by name. ``seed`` (default: the kernel's) seeds
    the payload patterns."""
    check_fits(k, topo)
    bld = _Builder(k, topo, k.seed if seed is None else seed)
    bld.objects()
    timeline = bld.connections()
    k.boot()
    bld.b.t0 = k.uptime_ticks()
    bld.stimuli(timeline)
    return bld.b


__all__ = ["Built", "as_ticks", "build", "check_fits", "instant", "uses_runtime_connections"]
