"""``struct packet_sink`` and the handler execution of subsys/packet_io/packet_io.c."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Any

from .. import errno
from ..kernel.memory import Layout, MemoryEntry
from .stats import LatencyRecorder, SinkStats, stats_of

if TYPE_CHECKING:
    from ..kernel.core import Kernel
    from ..net_buf import NetBuf
    from .queue import PacketEventQueue

Handler = Callable[["PacketSink", "NetBuf"], Any]


IMMEDIATE, QUEUED, NO_QUEUE, BAD_MODE = 0, 1, 2, 3   # PacketSink.kind


class SinkMode(Enum):
    """Where a sink's handler runs."""

    IMMEDIATE = 0   # in the sender's context, during the send
    QUEUED = 1      # later, from a packet event queue drained by a processing thread


class PacketSink:
    """``PacketSink(k, name, handler, queue=None, user_data=None)``: queued when given a
    ``PacketEventQueue``, immediate otherwise (``PACKET_SINK_DEFINE_*``)."""

    __slots__ = ("k", "name", "_mode", "handler", "user_data", "_queue", "_msgq", "_stats",
                 "kind", "_lat", "__weakref__")

    def __init__(self, k: Kernel, name: str, handler: Handler | None,
                 queue: PacketEventQueue | None = None, user_data: Any = None) -> None:
        from ..kernel.core import Kernel
        from .queue import PacketEventQueue
        if not isinstance(k, Kernel):
            raise TypeError(f"PacketSink: first argument must be the Kernel, got {k!r}")
        if not isinstance(name, str) or not name:
            raise TypeError(f"PacketSink: name must be a non-empty str, got {name!r}")
        if queue is not None and not isinstance(queue, PacketEventQueue):
            raise TypeError(f"PacketSink {name!r}: queue must be a PacketEventQueue, "
                            f"got {queue!r}")
        if handler is not None and not callable(handler):
            raise TypeError(f"PacketSink {name!r}: handler must be callable, got {handler!r}")
        self.k = k
        self.name = name
        self.handler = handler
        self._queue = queue
        self._msgq = queue.msgq if queue is not None else None   # what a send puts to
        self._mode = SinkMode.QUEUED if queue is not None else SinkMode.IMMEDIATE
        self.kind = IMMEDIATE if queue is None else QUEUED
        self.user_data = user_data
        self._stats = SinkStats() if k.config.enabled("PACKET_IO_STATS") else None
        # zsim's own measurement (not firmware state): latencies when the run asks for them
        self._lat = LatencyRecorder() if k.record_latency else None
        k.register(self)

    @property
    def mode(self) -> SinkMode:
        """``SinkMode.IMMEDIATE`` or ``SinkMode.QUEUED``."""
        return self._mode

    @mode.setter
    def mode(self, mode: SinkMode) -> None:
        self._mode = mode
        self._update_kind()

    @property
    def queue(self) -> PacketEventQueue | None:
        """The event queue of a queued sink."""
        return self._queue

    @queue.setter
    def queue(self, queue: PacketEventQueue | None) -> None:
        self._queue = queue
        self._msgq = queue.msgq if queue is not None else None
        self._update_kind()

    def _update_kind(self) -> None:
        # What a send does with this sink (subsys/packet_io/packet_io.c, deliver_to_sink):
        # run the handler, queue an event, fail with -ENOSYS (queued without a queue) or
        # with -ENOTSUP (an unknown mode).
        if self._mode is SinkMode.IMMEDIATE:
            self.kind = IMMEDIATE
        elif self._mode is SinkMode.QUEUED:
            self.kind = QUEUED if self._queue is not None else NO_QUEUE
        else:
            self.kind = BAD_MODE

    @property
    def stats(self) -> SinkStats:
        """``handled_count`` and ``dropped_count`` (needs ``PACKET_IO_STATS=y``)."""
        return stats_of(self, self._stats)

    def reset_stats(self) -> None:
        """``packet_sink_reset_stats``."""
        stats_of(self, self._stats).reset()

    def ram_usage(self, lay: Layout) -> list[MemoryEntry]:
        """``struct packet_sink``."""
        names = lay.config.enabled("PACKET_IO_NAMES")
        stats = self._stats is not None
        return [MemoryEntry(self.name, "packet_sink", lay.struct(
            lay.p if names else 0, 4, lay.p, lay.p, lay.p,
            lay.atomic if stats else 0, lay.atomic if stats else 0))]

    def __repr__(self) -> str:
        return f"<PacketSink {self.name!r} {self.mode.name.lower()}>"


def execute_handler(sink: PacketSink | None, buf: NetBuf | None) -> int:
    """Run a sink's handler on a buffer the framework holds a reference to, then drop that
    reference: 0; ``-EINVAL`` (no sink, buffer or handler); ``-EFAULT`` when the handler
    released the buffer itself (its count is 0 afterwards: reported, not unreffed again)."""
    if sink is None or buf is None or sink.handler is None:
        if buf is not None:
            buf.unref()
        return -errno.EINVAL
    if not buf._ref:
        return -errno.EINVAL
    sink.handler(sink, buf)
    if sink._stats is not None:
        sink._stats.handled_count += 1
    if not buf._ref:
        report_fault(sink, buf)
        return -errno.EFAULT
    buf.unref()
    return 0


def report_fault(sink: PacketSink, buf: NetBuf) -> None:
    """A handler unreffed its borrowed buffer: log it as packet_io does and record it."""
    k = sink.k
    k.fault(f"packet_io: sink {sink.name!r}: buffer ref count is zero after handler "
            f"execution ({buf._label()}); handlers must not call net_buf_unref()")
    packet_io_log(k).err("Buffer ref count is zero after handler execution!")


def report_borrowed_release(sink: PacketSink, buf: NetBuf, before: int, after: int) -> None:
    """A handler dropped a reference it did not take (the count is lower after it than
    before, though not zero). packet_io cannot see this on a real board, where it ends in a
    double free later; zsim records it as a fault (no console line: the firmware prints
    none) so the run names its cause."""
    sink.k.fault(f"packet_io: sink {sink.name!r}: the handler released a reference it did "
                 f"not take ({buf._label()}: ref {before} before the handler, {after} "
                 "after); handlers must not call net_buf_unref() on the buffer they borrow")


def packet_io_log(k: Kernel):  # noqa: ANN201 - a Logger
    """The ``packet_io`` log module at ``CONFIG_PACKET_IO_LOG_LEVEL``."""
    log = k._loggers.get("packet_io")
    if log is None:
        log = k.log_module("packet_io", int(k.config.get("PACKET_IO_LOG_LEVEL", 3)))
    return log
