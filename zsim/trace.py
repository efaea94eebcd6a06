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
    if buf.frags is None and buf._ref:      # one fragment, alive: the common case
        data = buf.data
        return len(data), "%08x" % zlib.crc32(data)  # noqa: UP031 - the faster form
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


LevelHook = Callable[[str, float, int], Any]
LineSink = Callable[[str], Any]
RawHook = Callable[["EventKind", float, tuple], Any]
_q = json.encoder.encode_basestring_ascii   # a JSON string, as json.dumps writes it


def _qn(value: str | None) -> str:
    return "null" if value is None else _q(value)


def _fn(value: float | None) -> str:
    return "null" if value is None else float.__repr__(value)


class EventKind:
    """One event type of docs/trace-format.md: its fields in order, each ``name:code``
    (``s`` a string, ``S`` a string or null, ``d`` an integer, ``F`` a float or null).

    ``line(tick, us, values)`` gives the event's JSON line exactly as ``json.dumps`` of its
    dict would (key order, separators, escapes), without building the dict.
    """

    __slots__ = ("name", "keys", "line")

    def __init__(self, name: str, *fields: str) -> None:
        self.name = name
        self.keys = tuple(f.split(":")[0] for f in fields)
        parts, args = [f'"type": {_q(name)}', '"tick": %d', '"us": %r'], ["tick", "us"]
        for i, field in enumerate(fields):
            key, code = field.split(":")
            parts.append(f"{_q(key)}: " + ("%d" if code == "d" else "%s"))
            args.append({"s": f"_q(v[{i}])", "S": f"_qn(v[{i}])", "d": f"v[{i}]",
                         "F": f"_fn(v[{i}])"}[code])
        template = "{" + ", ".join(parts) + "}\n"
        source = (f"def line(tick, us, v):\n    return {template!r} % ({', '.join(args)},)\n")
        scope = {"_q": _q, "_qn": _qn, "_fn": _fn}
        exec(source, scope)             # noqa: S102 - a format of fixed, known fields
        self.line: Callable[[int, float, tuple], str] = scope["line"]


CONSOLE = EventKind("console", "line:s")
SWITCH = EventKind("switch", "from:s", "to:s")
SEND = EventKind("send", "source:s", "buf:s", "len:d", "digest:s", "ret:d", "start_us:F")
DELIVER = EventKind("deliver", "source:s", "sink:s", "buf:s", "len:d", "digest:s")
ENQUEUE = EventKind("enqueue", "source:s", "sink:s", "buf:s", "len:d")
DROP = EventKind("drop", "source:s", "sink:s", "buf:s", "ret:d")
HANDLE = EventKind("handle", "queue:s", "sink:S", "buf:S", "len:d", "digest:s", "ret:d")
QUEUE_FAULT = EventKind("fault", "queue:s", "sink:S", "buf:S")
SEND_FAULT = EventKind("fault", "source:s", "sink:s", "buf:s")
ALLOC = EventKind("alloc", "pool:s", "buf:s", "avail:d")
FREE = EventKind("free", "pool:s", "buf:s", "avail:d")
ALLOC_FAIL = EventKind("alloc_fail", "pool:s", "origin:S", "by:S")
PROCESS = EventKind("process", "queue:s", "ret:d")
STEP = EventKind("step", "stimulus:S", "step:d", "op:S", "ret:d")


class TraceRecorder:
    """Records a kernel's events as trace dicts.

    ``packets``: packet_io, net_buf and topology events; ``switches``: context switches;
    console lines are always recorded. ``on_event`` sees each event as it is recorded;
    when it returns ``True`` the run stops at the next reschedule point (``k.stop()``).
    ``keep=False`` passes events on without keeping them in ``events`` (a long run's
    memory stays flat). ``lines`` receives each event as its JSON line (the ``--trace``
    file) and ``raw(kind, us, values)`` its ``EventKind`` and field values, with no dict
    built when nothing else needs one. ``levels(track, us, value)`` is
    told each change of a queue's depth (events waiting in it, not counting one being
    handled: ``k_msgq``'s used count) as ``queue NAME depth`` and of a pool's buffers in use
    as ``pool NAME in use``.
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
        self._send_starts: dict[tuple[int, int], float] = {}   # open sends: start (µs)
        self._tracks: dict[int, str] = {}      # level track names by object
        self._dispatch: Callable[..., None] | None = None   # the kernel's tracer, installed

    # ------------------------------------------------------------ life cycle
    def install(self) -> TraceRecorder:
        """Start recording (idempotent)."""
        if not self._installed:
            if self.packets or self.switches or self.levels is not None:
                self._dispatch = self._dispatcher()
                self.k.trace_to(self._dispatch)
            if self.keep or self.on_event is not None or self.lines is not None or \
                    self.raw is not None:
                self.k.console.subscribe(self._console)
            self._installed = True
        return self

    def uninstall(self) -> None:
        """Stop recording (complete console lines stay recorded)."""
        if self._installed:
            self.k.console.flush()
            if self._console in self.k.console._listeners:
                self.k.console.unsubscribe(self._console)
            if self._dispatch is not None and self.k._tracer == self._dispatch:
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
        if self.lines is not None:
            self.lines(json.dumps(ev) + "\n")
        if self.keep:
            self.events.append(ev)
        if self.on_event is not None and self.on_event(ev):
            k.stop()
        return ev

    def _dispatcher(self) -> Callable[..., None]:
        """The kernel's tracer: one handler per event kind that something here needs."""
        table: dict[str, Callable[..., None]] = {}
        if self.packets:
            table.update({
                "send_start": self._send_start, "send": self._send, "deliver": self._deliver,
                "enqueue": self._enqueue, "drop": self._drop, "handle": self._handle,
                "fault": self._fault, "alloc": self._alloc, "free": self._free,
                "alloc_fail": self._alloc_fail, "process": self._process, "step": self._step})
        if self.switches:
            table["switch"] = self._switch
        if self.levels is not None:
            for kind, level in (("enqueue", self._level_enqueue), ("dequeue", self._level_queue),
                                ("handle", self._level_queue), ("alloc", self._level_pool),
                                ("free", self._level_pool)):
                table[kind] = _both(level, table[kind]) if kind in table else level
        if not self.keep and self.on_event is None:
            self._put = self._put_fast          # no dict needed: the JSON line, raw values
        get = table.get

        def dispatch(kind: str, *f: Any) -> None:
            handler = get(kind)
            if handler is not None:
                handler(*f)
        return dispatch

    def _put_fast(self, kind: EventKind, values: tuple) -> None:
        k = self.k
        now = k._now
        us = now / k.units_per_sec * 1_000_000
        if self.lines is not None:
            self.lines(kind.line(now // k._upt, us, values))
        if self.raw is not None:
            self.raw(kind, us, values)

    def _put(self, kind: EventKind, values: tuple) -> None:
        """Record one event of ``kind`` with its field ``values``, in the forms wanted."""
        k = self.k
        tick = k.uptime_ticks()
        us = k.now_us
        lines = self.lines
        if lines is not None:
            lines(kind.line(tick, us, values))
        if self.raw is not None:
            self.raw(kind, us, values)
        if self.keep or self.on_event is not None:
            ev = {"type": kind.name, "tick": tick, "us": us}
            ev.update(zip(kind.keys, values))   # noqa: B905 - keys and values match
            if self.keep:
                self.events.append(ev)
            if self.on_event is not None and self.on_event(ev):
                k.stop()

    def _console(self, line: str) -> None:
        self._put(CONSOLE, (line,))

    def _switch(self, old: str, new: str) -> None:
        self._put(SWITCH, (old, new))

    def _send_start(self, src: Any, buf: Any) -> None:
        self._send_starts[(id(src), id(buf))] = self.k.now_us

    def _send(self, src: Any, buf: Any, ret: int) -> None:
        n, d = measure(buf)
        self._put(SEND, (src.name, buf.trace_id, n, d, ret,
                         self._send_starts.pop((id(src), id(buf)), None)))

    def _deliver(self, src: Any, sink: Any, buf: Any) -> None:
        n, d = measure(buf)
        self._put(DELIVER, (src.name, sink.name, buf.trace_id, n, d))

    def _enqueue(self, src: Any, sink: Any, buf: Any) -> None:
        self._put(ENQUEUE, (src.name, sink.name, buf.trace_id, measure(buf)[0]))

    def _drop(self, src: Any, sink: Any, buf: Any, ret: int) -> None:
        self._put(DROP, (src.name, sink.name, buf.trace_id, ret))

    def _handle(self, queue: Any, sink: Any, buf: Any, ret: int) -> None:
        name = sink.name if sink is not None else None
        ref = buf.trace_id if buf is not None else None
        if ret == -errno.EFAULT:
            self._put(QUEUE_FAULT, (queue.name, name, ref))
        n, d = measure(buf) if buf is not None else (0, "00000000")
        self._put(HANDLE, (queue.name, name, ref, n, d, ret))

    def _fault(self, src: Any, sink: Any, buf: Any) -> None:
        self._put(SEND_FAULT, (src.name, sink.name, buf.trace_id))

    def _alloc(self, pool: Any, buf: Any) -> None:
        self._put(ALLOC, (pool.name, buf.trace_id, pool.avail_count))

    def _free(self, pool: Any, buf: Any) -> None:
        self._put(FREE, (pool.name, buf.trace_id, pool.avail_count))

    def _alloc_fail(self, pool: Any, origin: str | None, by: str | None) -> None:
        self._put(ALLOC_FAIL, (pool.name, origin, by))

    def _process(self, queue: Any, ret: int) -> None:
        self._put(PROCESS, (queue.name, ret))

    def _step(self, stim: str, i: int, op: str, ret: int) -> None:
        self._put(STEP, (stim, i, op, ret))

    def _track(self, obj: Any, form: str) -> str:
        name = self._tracks.get(id(obj))
        if name is None:
            name = self._tracks[id(obj)] = form % obj.name
        return name

    def _level_enqueue(self, src: Any, sink: Any, buf: Any) -> None:
        queue = sink.queue
        if queue is not None:
            self.levels(self._track(queue, "queue %s depth"), self.k.now_us, queue.depth)

    def _level_queue(self, queue: Any, *_: Any) -> None:
        self.levels(self._track(queue, "queue %s depth"), self.k.now_us, queue.depth)

    def _level_pool(self, pool: Any, buf: Any) -> None:
        self.levels(self._track(pool, "pool %s in use"), self.k.now_us,
                    pool.count - pool.avail_count)


def _both(first: Callable[..., None], second: Callable[..., None]) -> Callable[..., None]:
    def both(*f: Any) -> None:
        first(*f)
        second(*f)
    return both


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
