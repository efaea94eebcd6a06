"""Static (``PACKET_SOURCE_CONNECT``) and runtime (``packet_connection_add``) wiring."""

from __future__ import annotations

from bisect import bisect_left
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from .. import errno
from ..errors import ConfigError, ZsimError

if TYPE_CHECKING:
    from .sink import PacketSink
    from .source import PacketSource


class PacketConnection:
    """``struct packet_connection``: ``PacketConnection(src, sink)``, then ``add()`` /
    ``remove()`` at runtime (needs ``PACKET_IO_RUNTIME_OBSERVERS=y``)."""

    __slots__ = ("source", "_sink", "linked", "static", "symbol")

    def __init__(self, source: PacketSource | None, sink: PacketSink | None) -> None:
        self.source = source
        self._sink = sink
        self.linked = False
        self.static = False
        self.symbol = (f"__connection_{source.name}_{sink.name}"
                       if source is not None and sink is not None else None)

    @property
    def sink(self) -> PacketSink | None:
        return self._sink

    @sink.setter
    def sink(self, sink: PacketSink | None) -> None:
        self._sink = sink
        if self.linked and self.source is not None:
            self.source.sinks[self.source.conns.index(self)] = sink

    def _gate(self, fn: str) -> None:
        k = (self.source or self.sink).k if (self.source or self.sink) else None
        if k is not None and not k.config.enabled("PACKET_IO_RUNTIME_OBSERVERS"):
            raise ConfigError(f"{fn}() exists only with CONFIG_PACKET_IO_RUNTIME_OBSERVERS=y "
                              "(undefined reference at link time otherwise); enable it with "
                              "Kernel(config={'PACKET_IO_RUNTIME_OBSERVERS': True})")

    def add(self) -> int:
        """``packet_connection_add``: 0; ``-EINVAL`` missing source or sink; ``-EBUSY``
        already linked; ``-EALREADY`` that sink is already on that source. Appended after
        the existing connections."""
        if self is None:
            return -errno.EINVAL
        self._gate("packet_connection_add")
        src, sink = self.source, self.sink
        if src is None or sink is None:
            return -errno.EINVAL
        if self.linked:
            return -errno.EBUSY
        if any(s is sink for s in src.sinks):
            return -errno.EALREADY
        src.conns.append(self)
        src.sinks.append(sink)
        self.linked = True
        return 0

    def remove(self) -> int:
        """``packet_connection_remove``: 0; ``-EINVAL`` no source; ``-ENOENT`` not
        linked."""
        if self is None:
            return -errno.EINVAL
        self._gate("packet_connection_remove")
        src = self.source
        if src is None:
            return -errno.EINVAL
        if not self.linked:
            return -errno.ENOENT
        i = src.conns.index(self)
        del src.conns[i]
        del src.sinks[i]
        _unlinked(src, i)
        self.linked = False
        return 0

    def __repr__(self) -> str:
        s = self.source.name if self.source else None
        d = self.sink.name if self.sink else None
        kind = "static" if self.static else "runtime"
        return f"<PacketConnection {s!r} -> {d!r} {kind}{'' if self.linked else ' unlinked'}>"


def connect(source: PacketSource, sink: PacketSink) -> PacketConnection:
    """``PACKET_SOURCE_CONNECT(source, sink)``: a static connection.

    Static connections are wired at start-up in link order: the linker sorts their
    symbols ``__connection_<source>_<sink>`` by name, so a source delivers to its static
    sinks in that order, ahead of any runtime connection (docs/fidelity.md)."""
    from .sink import PacketSink
    from .source import PacketSource
    if not isinstance(source, PacketSource) or not isinstance(sink, PacketSink):
        raise TypeError(f"connect(source, sink) takes a PacketSource and a PacketSink, got "
                        f"{source!r}, {sink!r}")
    if source.k is not sink.k:
        raise ZsimError(f"connect({source.name!r}, {sink.name!r}): they belong to different "
                        "kernels")
    conn = PacketConnection(source, sink)
    symbols = source.k.link_symbols
    if conn.symbol in symbols:
        raise ZsimError(f"multiple definition of `{conn.symbol}': {source.name!r} is "
                        f"already connected to {sink.name!r} statically")
    symbols.add(conn.symbol)
    conn.static = True
    conn.linked = True
    conns = source.conns
    # Position: after every leading static connection whose symbol sorts before this one.
    # The first ``n`` connections are known to be static and sorted, so bisect them; only
    # past them (a static connection re-added at runtime) is the list walked.
    n = _sorted_prefix(source)
    i = bisect_left(conns, conn.symbol, 0, n, key=_symbol)
    if i == n:
        while i < len(conns) and conns[i].static and conns[i].symbol < conn.symbol:
            i += 1
    conns.insert(i, conn)
    source.sinks.insert(i, sink)
    if i <= n:
        _SORTED[source] = n + 1
    return conn


_SORTED: WeakKeyDictionary[PacketSource, int] = WeakKeyDictionary()
"""Per source: how many leading connections are static and sorted by symbol."""


def _symbol(conn: PacketConnection) -> str:
    return conn.symbol


def _sorted_prefix(source: PacketSource) -> int:
    n = _SORTED.get(source, 0)
    return n if n <= len(source.conns) else 0


def _unlinked(source: PacketSource, i: int) -> None:
    """Connection ``i`` of ``source`` was removed: its sorted static prefix shrinks."""
    n = _SORTED.get(source, 0)
    if i < n:
        _SORTED[source] = n - 1
