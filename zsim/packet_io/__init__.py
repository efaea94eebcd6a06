"""packet_io: zero-copy distribution of net_buf packets from sources to sinks.

Mirrors the seed's subsys/packet_io: ``PacketSource``, ``PacketSink`` (immediate or queued),
``PacketEventQueue``, static ``connect`` and runtime ``PacketConnection``. The C-named
functions below accept None where the C API accepts NULL.
"""

from __future__ import annotations

from .. import errno
from ..kernel.time_units import K_NO_WAIT, Timeout
from .connection import PacketConnection, connect
from .queue import PacketEventQueue
from .sink import PacketSink, SinkMode, execute_handler
from .source import PacketSource
from .stats import QueueStats, SinkStats, SourceStats

__all__ = [
    "PacketConnection", "PacketEventQueue", "PacketSink", "PacketSource", "QueueStats",
    "SinkMode", "SinkStats", "SourceStats", "connect", "execute_handler",
    "packet_connection_add", "packet_connection_remove", "packet_event_process",
    "packet_sink_get_stats", "packet_sink_reset_stats", "packet_source_get_stats",
    "packet_source_reset_stats", "packet_source_send", "packet_source_send_consume",
]


def packet_source_send(src: PacketSource | None, buf, timeout: Timeout = K_NO_WAIT) -> int:
    """``packet_source_send``; ``-EINVAL`` if ``src`` or ``buf`` is None."""
    if src is None:
        return -errno.EINVAL
    return src.send(buf, timeout)


def packet_source_send_consume(src: PacketSource | None, buf,
                               timeout: Timeout = K_NO_WAIT) -> int:
    """``packet_source_send_consume``; ``-EINVAL`` if ``src`` or ``buf`` is None."""
    if src is None:
        return -errno.EINVAL
    return src.send_consume(buf, timeout)


def packet_event_process(queue: PacketEventQueue | None, timeout: Timeout = K_NO_WAIT) -> int:
    """``packet_event_process``; ``-EINVAL`` for a missing queue."""
    if queue is None:
        return -errno.EINVAL
    return queue.process(timeout)


def packet_connection_add(conn: PacketConnection | None) -> int:
    """``packet_connection_add``; ``-EINVAL`` for a missing connection."""
    return -errno.EINVAL if conn is None else conn.add()


def packet_connection_remove(conn: PacketConnection | None) -> int:
    """``packet_connection_remove``; ``-EINVAL`` for a missing connection."""
    return -errno.EINVAL if conn is None else conn.remove()


def packet_source_get_stats(src: PacketSource | None) -> tuple[int, int] | None:
    """``packet_source_get_stats``: ``(send_count, queued_total)``; None for a missing
    source."""
    if src is None:
        return None
    return src.stats.send_count, src.stats.queued_total


def packet_sink_get_stats(sink: PacketSink | None) -> tuple[int, int] | None:
    """``packet_sink_get_stats``: ``(handled_count, dropped_count)``; None for a missing
    sink."""
    if sink is None:
        return None
    return sink.stats.handled_count, sink.stats.dropped_count


def packet_source_reset_stats(src: PacketSource | None) -> None:
    """``packet_source_reset_stats``: does nothing for a missing source."""
    if src is not None:
        src.reset_stats()


def packet_sink_reset_stats(sink: PacketSink | None) -> None:
    """``packet_sink_reset_stats``: does nothing for a missing sink."""
    if sink is not None:
        sink.reset_stats()
