"""``struct packet_source`` and ``packet_source_send`` (subsys/packet_io/packet_io.c).

A send takes the source's spinlock (masking interrupts), then for each connected sink in
list order takes a reference and either runs an immediate sink's handler or puts a
``(sink, buf)`` event on a queued sink's queue with whatever remains of the send's total
time budget. A thread readied meanwhile runs only at the next reschedule point after the
unlock (see docs/fidelity.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import errno
from ..errors import KernelAssertionError
from ..kernel.memory import Layout, MemoryEntry
from ..kernel.time_units import K_FOREVER, K_NO_WAIT, K_TICKS, Timeout
from .sink import packet_io_log, report_borrowed_release, report_fault
from .stats import SourceStats, stats_of

if TYPE_CHECKING:
    from ..kernel.core import Kernel
    from ..net_buf import NetBuf
    from .connection import PacketConnection
    from .sink import PacketSink


class PacketSource:
    """``PACKET_SOURCE_DEFINE(name)``: ``PacketSource(k, name)``."""

    __slots__ = ("k", "name", "conns", "sinks", "_stats", "_lock_owner", "__weakref__")

    def __init__(self, k: Kernel, name: str) -> None:
        from ..kernel.core import Kernel
        if not isinstance(k, Kernel):
            raise TypeError(f"PacketSource: first argument must be the Kernel, got {k!r}")
        if not isinstance(name, str) or not name:
            raise TypeError(f"PacketSource: name must be a non-empty str, got {name!r}")
        self.k = k
        self.name = name
        self.conns: list[PacketConnection] = []  # the source's connection list, in order
        self.sinks: list[PacketSink] = []        # the same, as sinks (the send loop's view)
        self._stats = SourceStats() if k.config.enabled("PACKET_IO_STATS") else None
        self._lock_owner: object = None
        k.register(self)

    @property
    def stats(self) -> SourceStats:
        """``send_count`` and ``queued_total`` (needs ``PACKET_IO_STATS=y``)."""
        return stats_of(self, self._stats)

    def reset_stats(self) -> None:
        """``packet_source_reset_stats``."""
        stats_of(self, self._stats).reset()

    def send(self, buf: NetBuf | None, timeout: Timeout = K_NO_WAIT) -> int:
        """``packet_source_send``: the number of sinks that took the packet; ``-EINVAL``
        without a buffer. The caller's reference is left alone."""
        k = self.k
        # The total budget starts now (sys_timepoint_calc); its end tick is worked out from
        # this instant when a full queue first needs it (-1 until then).
        if timeout is K_NO_WAIT:
            end = 0
        else:
            if not isinstance(timeout, Timeout):
                k.ticks_of(timeout)     # raises a clear TypeError
            end = -1
        start = k._now
        if buf is None:
            return -errno.EINVAL
        stats = self._stats
        if stats is not None:
            stats.send_count += 1
        cur = k._current
        masked = cur is not None and not k._in_isr
        if k.spin_validate:
            self._lock_check()
        if masked:
            cur.irq_locks += 1
        delivered = 0
        tracer = k._tracer
        c_unref = k._c_unref            # an unref with a cost goes through NetBuf.unref
        if tracer is not None:
            tracer("send_start", self, buf)
        try:
            for sink in self.sinks:
                if sink is None:            # a connection without a sink is skipped
                    continue
                ref = buf._ref
                if ref == 0 or ref == 255:
                    buf.ref()               # raises: use after free, or the count overflows
                buf._ref = ref + 1
                kind = sink.kind
                if kind == 0:               # immediate
                    handler = sink.handler
                    if handler is None:
                        buf.unref()
                        continue
                    handler(sink, buf)
                    st = sink._stats
                    if st is not None:
                        st.handled_count += 1
                    before = ref + 1
                    ref = buf._ref
                    if not ref:
                        report_fault(sink, buf)
                        if tracer is not None:
                            tracer("fault", self, sink, buf)
                        continue
                    if ref < before:
                        report_borrowed_release(sink, buf, before, ref)
                    lat = sink._lat
                    if lat is not None:
                        lat.record(k._now - start)
                    if tracer is not None:  # before the unref: the buffer may be freed
                        tracer("deliver", self, sink, buf)
                    if ref > 1 and not c_unref:
                        buf._ref = ref - 1
                    else:
                        buf.unref()
                    delivered += 1
                elif kind > 1:              # -ENOSYS (queued, no queue) / -ENOTSUP (mode)
                    buf.unref()
                else:                       # queued
                    mq = sink._msgq
                    if mq.used < mq.max_msgs and not k._in_isr and not k._c_msgq_put:
                        if mq.wait_q.head is not None:  # the processing thread waits: hand over
                            k._wake_first(mq.wait_q, 0, (sink, buf, start))
                        else:
                            mq._push((sink, buf, start))
                        ret = 0
                    else:
                        if end == -1:
                            end = k._timepoint(timeout, start)
                        ret = mq.put((sink, buf, start), _remaining(k, end))
                    if ret == 0:
                        delivered += 1
                        if tracer is not None:
                            tracer("enqueue", self, sink, buf)
                    else:
                        buf.unref()
                        if sink._stats is not None:
                            sink._stats.dropped_count += 1
                        if tracer is not None:
                            tracer("drop", self, sink, buf,
                                   -errno.ENOBUFS if ret == -errno.ENOMSG else ret)
        finally:
            self._lock_owner = None
            if masked:
                cur.irq_locks -= 1
                if not cur.irq_locks and k._timer_due():
                    k._irq_unlocked()
        if stats is not None:
            stats.queued_total += delivered
        if tracer is not None:
            tracer("send", self, buf, delivered)
        return delivered

    def send_consume(self, buf: NetBuf | None, timeout: Timeout = K_NO_WAIT) -> int:
        """``packet_source_send_consume``: like ``send``, then drops the caller's reference;
        ``-EINVAL`` for a missing buffer or one whose count is already 0."""
        if buf is None:
            return -errno.EINVAL
        if not buf._ref:
            packet_io_log(self.k).err("Buffer has zero reference count, cannot consume")
            return -errno.EINVAL
        ret = self.send(buf, timeout)
        buf.unref()
        return ret

    def _lock_check(self) -> None:
        k = self.k
        if self._lock_owner is not None:
            raise KernelAssertionError(
                "z_spin_lock_valid(l)", "include/zephyr/spinlock.h",
                f"Invalid spinlock: source {self.name!r} is sent on while a send on it holds "
                "its lock (a handler sending on its own source?)")
        self._lock_owner = k._current if k._current is not None else k

    @property
    def connections(self) -> list[PacketConnection]:
        """The source's connections in delivery order."""
        return list(self.conns)

    def ram_usage(self, lay: Layout) -> list[MemoryEntry]:
        """``struct packet_source``; its static connections live in a ROM section."""
        names = lay.config.enabled("PACKET_IO_NAMES")
        stats = self._stats is not None
        out = [MemoryEntry(self.name, "packet_source", lay.struct(
            lay.p if names else 0, lay.dlist, (lay.spinlock, lay.p),
            lay.atomic if stats else 0, lay.atomic if stats else 0))]
        static = sum(1 for c in self.conns if c.static)
        if static:
            out.append(MemoryEntry(f"{self.name} connections", "packet_connection",
                                   static * lay.struct(lay.p, lay.p, lay.dlist),
                                   f"{static} static", region="FLASH"))
        return out

    def __repr__(self) -> str:
        return f"<PacketSource {self.name!r} -> {[s.name for s in self.sinks]}>"


def _remaining(k: Kernel, end: int | None) -> Timeout:
    """``sys_timepoint_timeout``: what remains of the budget (K_NO_WAIT once expired)."""
    if end is None:
        return K_FOREVER
    if end == 0:
        return K_NO_WAIT
    left = end - k._now // k._upt
    return K_TICKS(left) if left > 0 else K_NO_WAIT
