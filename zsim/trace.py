"""Trace events of a simulated run, in docs/trace-format.md's format.

``TraceRecorder(k)`` installs ``k.trace_to`` and a console listener and turns what the
kernel, net_buf and packet_io report into event dicts (``type``, ``tick``, ``us`` and the
event's fields), kept in ``events`` and passed to ``on_event`` as they happen.
``write_trace`` writes a header and events as JSON Lines, atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import errno
from .errors import ZsimError

if TYPE_CHECKING:
    from .kernel.core import Kernel
    from .net_buf import NetBuf

FORMAT = "zsim-trace"
VERSION = 1
PACKET_TYPES = frozenset({"send", "deliver", "enqueue", "drop", "handle", "fault", "process",
                          "alloc_fail", "step"})
EventHook = Callable[[dict[str, Any]], Any]


def measure(buf: NetBuf) -> tuple[int, str]:
    """``(len, digest)`` of a fragment chain: total length and CRC-32 of all its bytes as 8
    hex digits; ``(0, "00000000")`` for a buffer already freed."""
    n = 0
    crc = 0
    b: NetBuf | None = buf
    try:
        while b is not None:
            data = b.data
            n += len(data)
            crc = zlib.crc32(data, crc)
            b = b.frags
    except ZsimError:
        return 0, "00000000"
    return n, f"{crc & 0xFFFFFFFF:08x}"


def header(*, target: str, board: str, ticks_per_sec: int, seed: int, scenario: str,
           **extra: Any) -> dict[str, Any]:
    """The first line of a trace."""
    from . import __version__
    return {"type": "header", "format": FORMAT, "version": VERSION, "target": target,
            "board": board, "ticks_per_sec": ticks_per_sec, "seed": seed,
            "scenario": scenario, "zsim": __version__, **extra}


class TraceRecorder:
    """Records a kernel's events as trace dicts.

    ``packets``: packet_io, net_buf and topology events; ``switches``: context switches;
    console lines are always recorded. ``on_event`` sees each event as it is recorded;
    when it returns ``True`` the run stops at the next reschedule point (``k.stop()``).
    """

    def __init__(self, k: Kernel, on_event: EventHook | None = None, *, packets: bool = True,
                 switches: bool = False) -> None:
        self.k = k
        self.on_event = on_event
        self.packets = packets
        self.switches = switches
        self.events: list[dict[str, Any]] = []
        self._installed = False
        self._send_starts: dict[tuple[int, int], float] = {}   # open sends: start (µs)

    # ------------------------------------------------------------ life cycle
    def install(self) -> TraceRecorder:
        """Start recording (idempotent)."""
        if not self._installed:
            if self.packets or self.switches:
                self.k.trace_to(self._kernel_event)
            self.k.console.subscribe(self._console)
            self._installed = True
        return self

    def uninstall(self) -> None:
        """Stop recording (complete console lines stay recorded)."""
        if self._installed:
            self.k.console.flush()
            self.k.console.unsubscribe(self._console)
            if self.k._tracer == self._kernel_event:
                self.k._tracer = None
            self._installed = False

    def __enter__(self) -> TraceRecorder:
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.uninstall()

    # ------------------------------------------------------------ events
    def emit(self, type_: str, **fields: Any) -> dict[str, Any]:
        """Record one event at the current instant."""
        k = self.k
        ev = {"type": type_, "tick": k.uptime_ticks(), "us": k.now_us, **fields}
        self.events.append(ev)
        if self.on_event is not None and self.on_event(ev):
            k.stop()
        return ev

    def _console(self, line: str) -> None:
        self.emit("console", line=line)

    def _kernel_event(self, kind: str, *f: Any) -> None:
        if kind == "switch":
            if self.switches:
                self.emit("switch", **{"from": f[0], "to": f[1]})
            return
        if not self.packets:
            return
        emit = self.emit
        if kind == "send_start":
            self._send_starts[(id(f[0]), id(f[1]))] = self.k.now_us
        elif kind == "send":
            src, buf, ret = f
            n, d = measure(buf)
            emit("send", source=src.name, buf=buf.trace_id, len=n, digest=d, ret=ret,
                 start_us=self._send_starts.pop((id(src), id(buf)), None))
        elif kind == "deliver":
            src, sink, buf = f
            n, d = measure(buf)
            emit("deliver", source=src.name, sink=sink.name, buf=buf.trace_id, len=n,
                 digest=d)
        elif kind == "enqueue":
            src, sink, buf = f
            emit("enqueue", source=src.name, sink=sink.name, buf=buf.trace_id,
                 len=measure(buf)[0])
        elif kind == "drop":
            src, sink, buf, ret = f
            emit("drop", source=src.name, sink=sink.name, buf=buf.trace_id, ret=ret)
        elif kind == "handle":
            queue, sink, buf, ret = f
            name = sink.name if sink is not None else None
            ref = buf.trace_id if buf is not None else None
            if ret == -errno.EFAULT:
                emit("fault", queue=queue.name, sink=name, buf=ref)
            n, d = measure(buf) if buf is not None else (0, "00000000")
            emit("handle", queue=queue.name, sink=name, buf=ref, len=n, digest=d, ret=ret)
        elif kind == "fault":
            src, sink, buf = f
            emit("fault", source=src.name, sink=sink.name, buf=buf.trace_id)
        elif kind in ("alloc", "free"):
            pool, buf = f
            emit(kind, pool=pool.name, buf=buf.trace_id, avail=pool.avail_count)
        elif kind == "alloc_fail":
            pool, origin, by = f
            emit("alloc_fail", pool=pool.name, origin=origin, by=by)
        elif kind == "process":
            queue, ret = f
            emit("process", queue=queue.name, ret=ret)
        elif kind == "step":
            stim, i, op, ret = f
            emit("step", stimulus=stim, step=i, op=op, ret=ret)


def packet_stats(k: Kernel) -> dict[str, Any]:
    """The packet_io counters and pool levels by name, as the bridge executors read them
    (firmware_bridge/protocol.py STATS_FIELDS); counters are left out when
    ``CONFIG_PACKET_IO_STATS`` is off."""
    from .net_buf import NetBufPool
    from .packet_io import PacketEventQueue, PacketSink, PacketSource

    out: dict[str, Any] = {"sources": {}, "sinks": {}, "queues": {}, "pools": {}}
    for obj in k.objects:
        if isinstance(obj, NetBufPool):
            out["pools"][obj.name] = {"free": obj.avail_count, "min_free": obj.min_avail}
            continue
        st = getattr(obj, "_stats", None)
        if isinstance(obj, PacketSource) and st is not None:
            out["sources"][obj.name] = {"send_count": st.send_count,
                                        "queued_total": st.queued_total}
        elif isinstance(obj, PacketSink) and st is not None:
            out["sinks"][obj.name] = {"handled_count": st.handled_count,
                                      "dropped_count": st.dropped_count}
        elif isinstance(obj, PacketEventQueue) and st is not None:
            out["queues"][obj.name] = {"processed_count": st.processed_count,
                                       "high_water": obj.high_water, "depth": obj.depth}
    return out


def write_trace(path: str | Path, head: dict[str, Any], events: Iterable[dict[str, Any]]
                ) -> None:
    """Write ``head`` then ``events`` as JSON Lines to ``path``, atomically (a temporary
    file renamed into place: a failure leaves no partial file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(head) + "\n")
            for ev in events:
                f.write(json.dumps(ev) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = ["FORMAT", "PACKET_TYPES", "VERSION", "TraceRecorder", "header", "measure",
           "packet_stats", "write_trace"]
