"""What a topology's sinks and stimuli do at run time, on a ``Kernel``.

The builder (zsim.topology.builder) and the virtual board (firmware_bridge.simboard) both
run these functions, so a scenario behaves the same on the simulator and on the board.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .. import errno
from ..kernel.core import Kernel
from ..kernel.time_units import K_NO_WAIT, K_TIMEOUT_ABS_TICKS, Timeout
from ..net_buf import NetBuf, NetBufPool
from ..packet_io import PacketSink, PacketSource
from .patterns import PatternGen

AllocFail = Callable[[NetBufPool], None]
Handler = Callable[[PacketSink, NetBuf], None]


@dataclass
class Step:
    """One resolved behaviour step: ``op`` is record, drop, cpu_us, cpu_cycles, sleep or
    forward; the other fields are used by the ops that need them."""

    op: str
    amount: int | float = 0                  # cpu_us: µs; cpu_cycles: cycles
    timeout: Timeout = K_NO_WAIT             # sleep: how long; forward: the send timeout
    source: PacketSource | None = None       # forward
    pool: NetBufPool | None = None           # forward
    header: bytes = b""                      # forward: fixed header bytes
    seq16: bool = False                      # forward: a 16-bit LE counter as the header


def make_handler(k: Kernel, steps: Sequence[Step],
                 on_alloc_fail: AllocFail | None = None) -> Handler:
    """A sink handler running ``steps`` in order for each packet (PROTOCOL.md §5.1).

    ``forward`` allocates a header with ``K_NO_WAIT`` (``on_alloc_fail`` and skip when the
    pool is empty), chains a new reference to the packet behind it and sends the chain with
    ``send_consume``; the borrowed buffer is never released.
    """
    plan = tuple(steps)
    seqs = [0] * len(plan)

    def handler(sink: PacketSink, buf: NetBuf) -> None:
        for i, st in enumerate(plan):
            op = st.op
            if op == "cpu_us":
                k.busy_wait(st.amount)
            elif op == "cpu_cycles":
                k.consume_cycles(int(st.amount))
            elif op == "sleep":
                k.sleep(st.timeout)
            elif op == "forward":
                h = st.pool.alloc(K_NO_WAIT)
                if h is None:
                    if on_alloc_fail is not None:
                        on_alloc_fail(st.pool)
                    continue
                if st.seq16:
                    h.add_le16(seqs[i])
                    seqs[i] = (seqs[i] + 1) & 0xFFFF
                else:
                    h.add_mem(st.header)
                h.frag_add(buf.ref())
                st.source.send_consume(h, st.timeout)
    handler.forwards_to = [st.source for st in plan if st.op == "forward"]  # for --graph
    return handler


def send_payload(src: PacketSource, pool: NetBufPool, gen: PatternGen, size: int,
                 pattern: int, arg: int = 0, timeout: Timeout = K_NO_WAIT,
                 consume: bool = True, data: bytes = b"",
                 on_alloc_fail: AllocFail | None = None) -> int:
    """One stimulus send: allocate with ``K_NO_WAIT`` (``-ENOMEM`` when empty), fill with
    the pattern, then ``send_consume`` or ``send`` + ``unref``; the send's result."""
    buf = pool.alloc(K_NO_WAIT)
    if buf is None:
        if on_alloc_fail is not None:
            on_alloc_fail(pool)
        return -errno.ENOMEM
    payload = gen.make(size, pattern, arg, data)
    if len(payload) > buf.tailroom():
        buf.unref()
        return -errno.EMSGSIZE
    buf.add_mem(payload)
    if consume:
        return src.send_consume(buf, timeout)
    ret = src.send(buf, timeout)
    buf.unref()
    return ret


def sleep_until(k: Kernel, t0: int, at: int) -> None:
    """Sleep until the scenario clock (uptime ticks since ``t0``) reaches ``at``."""
    when = t0 + at
    if k.uptime_ticks() < when:
        k.sleep(K_TIMEOUT_ABS_TICKS(when))


def periodic(k: Kernel, t0: int, start: int, period: int, count: int | None,
             send: Callable[[], Any]) -> None:
    """Call ``send`` at ``start + n * period`` ticks (absolute), ``count`` times (None:
    until the run ends)."""
    n = 0
    while count is None or n < count:
        sleep_until(k, t0, start + n * period)
        send()
        n += 1


def script(k: Kernel, t0: int, steps: Sequence[tuple[int, Callable[[], Any]]]) -> None:
    """Run each ``(at, fn)`` in order, first sleeping until the scenario clock reaches
    ``at`` ticks."""
    for at, fn in steps:
        sleep_until(k, t0, at)
        fn()


__all__ = ["Step", "make_handler", "periodic", "script", "send_payload", "sleep_until"]
