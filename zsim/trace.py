"""Trace events of a simulated run, in docs/trace-format.md's format.

``TraceRecorder(k)`` installs a ``zsim.trace_events.Tap`` as ``k.trace_to`` and console
listener: what the kernel, net_buf and packet_io report becomes event dicts (``type``,
``tick``, ``us`` and the event's fields), kept in ``events`` and passed to ``on_event`` as
they happen, or is streamed (JSON lines, Perfetto values, levels) with no dict built.
``write_trace`` writes a header and events as JSON Lines, atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .trace_events import EventKind, Tap, measure

if TYPE_CHECKING:
    from .kernel.core import Kernel

FORMAT = "zsim-trace"
VERSION = 1
PACKET_TYPES = frozenset({"send", "deliver", "enqueue", "drop", "handle", "fault", "process",
                          "alloc_fail", "step"})
EventHook = Callable[[dict[str, Any]], Any]


def header(*, target: str, board: str, ticks_per_sec: int, seed: int, scenario: str,
           **extra: Any) -> dict[str, Any]:
    """The first line of a trace."""
    from . import __version__
    return {"type": "header", "format": FORMAT, "version": VERSION, "target": target,
            "board": board, "ticks_per_sec": ticks_per_sec, "seed": seed,
            "scenario": scenario, "zsim": __version__, **extra}


LevelHook = Callable[[str, float, int], Any]
LineSink = Callable[[bytes], Any]
RawHook = Callable[[EventKind, float, tuple], Any]


class TraceRecorder:
    """Records a kernel's events as trace dicts.

    ``packets``: packet_io, net_buf and topology events; ``switches``: context switches;
    console lines are always recorded. ``on_event`` sees each event as it is recorded;
    when it returns ``True`` the run stops at the next reschedule point (``k.stop()``).
    ``keep=False`` passes events on without keeping them in ``events`` (a long run's
    memory stays flat). ``lines`` receives the events as JSON lines (the ``--trace``
    file; ASCII ``bytes``, several lines per call) and ``raw(kind, us, values)`` each
    event's ``EventKind`` and field values, with no dict built when nothing else needs one.
    ``levels(track, us, value)`` is told the depth of a queue (events waiting in it, not
    counting one being handled: ``k_msgq``'s used count) as ``queue NAME depth`` and the
    buffers in use of a pool as ``pool NAME in use`` (zsim.trace_events.Tap does the work).
    """

    def __init__(self, k: Kernel, on_event: EventHook | None = None, *, packets: bool = True,
                 switches: bool = False, keep: bool = True,
                 levels: LevelHook | None = None, lines: LineSink | None = None,
                 raw: RawHook | None = None) -> None:
        self.k = k
        self.on_event = on_event
        self.packets = packets
        self.switches = switches
        self.keep = keep
        self.levels = levels
        self.lines = lines
        self.raw = raw
        self.events: list[dict[str, Any]] = []
        self._installed = False
        self._tap: Tap | None = None

    # ------------------------------------------------------------ life cycle
    def install(self) -> TraceRecorder:
        """Start recording (idempotent)."""
        if not self._installed:
            wants_dicts = self.keep or self.on_event is not None
            tap = self._tap = Tap(self.k, packets=self.packets, switches=self.switches,
                                  levels=self.levels, lines=self.lines, raw=self.raw,
                                  put=self._put if wants_dicts else None)
            if self.packets or self.switches or self.levels is not None:
                tap.install()
            if wants_dicts or self.lines is not None or self.raw is not None:
                self.k.console.subscribe(tap.console)
            self._installed = True
        return self

    def uninstall(self) -> None:
        """Stop recording (complete console lines stay recorded; streamed lines are
        written out)."""
        if self._installed:
            tap = self._tap
            self.k.console.flush()
            if tap.console in self.k.console._listeners:
                self.k.console.unsubscribe(tap.console)
            if self.k._tracer is tap:
                self.k._tracer = None
            tap.flush()
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
        if self.lines is not None:
            if self._tap is not None:
                self._tap.flush()           # the lines in the order of their events
            self.lines((json.dumps(ev) + "\n").encode())
        if self.keep:
            self.events.append(ev)
        if self.on_event is not None and self.on_event(ev):
            k.stop()
        return ev

    def _put(self, kind: EventKind, tick: int, us: float, values: tuple) -> None:
        ev = {"type": kind.name, "tick": tick, "us": us}
        ev.update(zip(kind.keys, values))   # noqa: B905 - keys and values match
        if self.keep:
            self.events.append(ev)
        if self.on_event is not None and self.on_event(ev):
            self.k.stop()


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
