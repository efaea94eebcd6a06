"""``struct packet_event_queue``: a ``k_msgq`` of (sink, buffer) events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import errno
from ..kernel.memory import Layout, MemoryEntry
from ..kernel.msgq import MsgQ
from ..kernel.time_units import K_FOREVER, K_NO_WAIT, Timeout
from .sink import execute_handler, report_borrowed_release, report_fault
from .stats import QueueStats, stats_of

if TYPE_CHECKING:
    from ..kernel.core import Kernel


class PacketEventQueue:
    """``PACKET_EVENT_QUEUE_DEFINE(name, size)``: ``size`` events at most."""

    __slots__ = ("k", "name", "size", "msgq", "_stats", "__weakref__")

    def __init__(self, k: Kernel, name: str, size: int = 10) -> None:
        from ..kernel.core import Kernel
        if not isinstance(k, Kernel):
            raise TypeError(f"PacketEventQueue: first argument must be the Kernel, got {k!r}")
        if not isinstance(name, str) or not name:
            raise TypeError(f"PacketEventQueue: name must be a non-empty str, got {name!r}")
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"PacketEventQueue {name!r}: size must be a positive int, "
                             f"got {size!r}")
        self.k = k
        self.name = name
        self.size = size
        # struct packet_event is two pointers; K_MSGQ_DEFINE(name##_msgq, ..., size, 4)
        self.msgq = MsgQ(k, f"{name}_msgq", 2 * k.board.pointer_size, size)
        self._stats = QueueStats() if k.config.enabled("PACKET_IO_STATS") else None
        k.register(self)

    @property
    def stats(self) -> QueueStats:
        """``processed_count`` (needs ``PACKET_IO_STATS=y``)."""
        return stats_of(self, self._stats)

    def reset_stats(self) -> None:
        """Clear ``processed_count``."""
        stats_of(self, self._stats).reset()

    def process(self, timeout: Timeout = K_NO_WAIT) -> int:
        """``packet_event_process``: 0 after one event's handler ran and its reference was
        dropped; ``-EAGAIN`` if no event arrived in time; ``-EFAULT`` if the handler
        released the buffer itself."""
        mq = self.msgq
        if mq is None:
            return -errno.EINVAL
        k = self.k
        if mq.used and mq.wait_q.head is None and not k._c_msgq_get:
            event = mq._pop()                       # k_msgq_get's non-blocking path
        elif (not mq.used and (timeout is K_FOREVER or timeout.kind == -1)
              and not k._c_msgq_get and not k._in_isr and k._current is not None):
            # k_msgq_get's blocking path with K_FOREVER: wait for a sender's hand-over.
            if k._pend(mq.wait_q, timeout) != 0:
                return -errno.EAGAIN
            event = k._current.data
        else:
            ret, got = mq.get(timeout)
            if ret != 0:
                return -errno.EAGAIN
            event = got
        sink = event[0]                 # an event is (sink, buf, start of the send)
        buf = event[1]
        tracer = k._tracer
        if tracer is not None:          # the queue's depth changed (zsim's level tracks)
            tracer("dequeue", self, sink, buf)
        cur = None if k._in_isr else k._current
        # execute_handler (sink.py), inlined on the common path
        if sink is None or buf is None or sink.handler is None or not buf._ref:
            ret = execute_handler(sink, buf)
        else:
            before = buf._ref
            if cur is not None:         # the packet is in this handler (in flight)
                outer = cur.handling
                cur.handling = event
                sink.handler(sink, buf)
                cur.handling = outer
            else:
                sink.handler(sink, buf)
            if sink._stats is not None:
                sink._stats.handled_count += 1
            if not buf._ref:
                report_fault(sink, buf)
                ret = -errno.EFAULT
            else:
                if buf._ref < before:
                    report_borrowed_release(sink, buf, before, buf._ref)
                lat = sink._lat
                if lat is not None and len(event) > 2:  # a test may queue (sink, buf) itself
                    lat.record(k._now - event[2])
                tracer = k._tracer
                if tracer is not None:  # before the unref: the buffer may be freed
                    tracer("handle", self, sink, buf, 0)
                if buf._ref > 1 and not k._c_unref:
                    buf._ref -= 1
                else:
                    buf.unref()
                if self._stats is not None:
                    self._stats.processed_count += 1
                return 0
        tracer = k._tracer
        if tracer is not None:
            tracer("handle", self, sink, buf, ret)
        return ret

    @property
    def depth(self) -> int:
        """Events waiting now."""
        return self.msgq.used

    @property
    def high_water(self) -> int:
        """Most events ever waiting at once."""
        return self.msgq.high_water

    def ram_usage(self, lay: Layout) -> list[MemoryEntry]:
        """``struct packet_event_queue`` (its k_msgq reports itself)."""
        names = lay.config.enabled("PACKET_IO_NAMES")
        return [MemoryEntry(self.name, "packet_event_queue", lay.struct(
            lay.p, lay.p if names else 0, lay.atomic if self._stats is not None else 0))]

    def __repr__(self) -> str:
        return f"<PacketEventQueue {self.name!r} {self.msgq.used}/{self.size}>"
