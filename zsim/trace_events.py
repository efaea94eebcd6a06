"""The trace's event kinds (docs/trace-format.md) and ``Tap``, the kernel's tracer that
turns what the kernel, net_buf and packet_io report into those events.

``Tap`` hands each event to whatever was asked for: its JSON line (the ``--trace`` file),
its kind and values (Perfetto), queue and pool levels (the plot), or a Python ``put`` that
builds the event's dict (``zsim.trace.TraceRecorder``'s kept events and ``on_event``). It
is compiled with the core (setup.py, trace_events.pxd): a streamed trace costs under a
microsecond per event (bench/RESULTS.md).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from typing import Any

from . import errno

try:
    import cython
except ImportError:  # no Cython: the sources run as they are
    from . import _nocython as cython

_q = json.encoder.encode_basestring_ascii   # a JSON string, as json.dumps writes it
_crc32 = zlib.crc32
FLUSH_LINES = 512           # JSON lines gathered before one write (from the sources)
FLUSH_BYTES = 65536         # bytes of JSON lines gathered before one write (compiled)
EXACT = 2 ** 53             # integers a double holds exactly
_FAULT_RET = -errno.EFAULT  # a handler's fault, as packet_event_process reports it


class EventKind:
    """One event type: its fields in order, each ``name:code``. Codes: ``s`` a string,
    ``S`` a string or null, ``n`` an object's name, ``N`` an object's name or null, ``b`` a
    buffer's ``trace_id``, ``B`` the same or null, ``d`` an integer, ``x`` a CRC-32 as 8 hex
    digits, ``F`` a float or null. A tracer passes the objects (``n``, ``b``, ``x``:
    the object, the buffer, the CRC as an integer); ``plain`` gives the values a dict holds.
    """

    __slots__ = ("name", "keys", "codes", "head", "seps", "head_b", "seps_b", "codes_b")

    def __init__(self, name: str, *fields: str) -> None:
        self.name = name
        self.keys = tuple(f.split(":")[0] for f in fields)
        self.codes = "".join(f.split(":")[1] for f in fields)
        self.head = '{"type": ' + _q(name) + ', "tick": '
        self.seps = tuple(", " + _q(key) + ": " for key in self.keys)
        self.head_b = self.head.encode()
        self.seps_b = tuple(sep.encode() for sep in self.seps)
        self.codes_b = self.codes.encode()

    def plain(self, values: tuple) -> tuple:
        """The field values as the event's dict holds them (names, trace ids, hex digests)."""
        out = []
        for i in range(len(self.codes)):
            code = self.codes[i]
            v = values[i]
            if v is not None:
                if code == "n" or code == "N":
                    v = v.name
                elif code == "b" or code == "B":
                    v = v.trace_id
                elif code == "x":
                    v = f"{v:08x}"
            out.append(v)
        return tuple(out)


CONSOLE = EventKind("console", "line:s")
SWITCH = EventKind("switch", "from:s", "to:s")
SEND = EventKind("send", "source:n", "buf:b", "len:d", "digest:x", "ret:d", "start_us:F")
DELIVER = EventKind("deliver", "source:n", "sink:n", "buf:b", "len:d", "digest:x")
ENQUEUE = EventKind("enqueue", "source:n", "sink:n", "buf:b", "len:d")
DROP = EventKind("drop", "source:n", "sink:n", "buf:b", "ret:d")
HANDLE = EventKind("handle", "queue:n", "sink:N", "buf:B", "len:d", "digest:x", "ret:d")
QUEUE_FAULT = EventKind("fault", "queue:n", "sink:N", "buf:B")
SEND_FAULT = EventKind("fault", "source:n", "sink:n", "buf:b")
ALLOC = EventKind("alloc", "pool:n", "buf:b", "avail:d")
FREE = EventKind("free", "pool:n", "buf:b", "avail:d")
ALLOC_FAIL = EventKind("alloc_fail", "pool:n", "origin:S", "by:S")
PROCESS = EventKind("process", "queue:n", "ret:d")
STEP = EventKind("step", "stimulus:S", "step:d", "op:S", "ret:d")
# The tracer calls a Tap handles, by number (the kernel names them: zsim/kernel/core.py,
# zsim/net_buf.py, zsim/packet_io, zsim/topology/builder.py).
(_ENQUEUE, _HANDLE, _ALLOC, _FREE, _SEND_START, _SEND, _DELIVER, _DROP, _FAULT, _ALLOC_FAIL,
 _PROCESS, _STEP, _DEQUEUE, _SWITCH) = range(1, 15)
_CALLS = {"enqueue": _ENQUEUE, "handle": _HANDLE, "alloc": _ALLOC, "free": _FREE,
          "send_start": _SEND_START, "send": _SEND, "deliver": _DELIVER, "drop": _DROP,
          "fault": _FAULT, "alloc_fail": _ALLOC_FAIL, "process": _PROCESS, "step": _STEP,
          "dequeue": _DEQUEUE, "switch": _SWITCH}


def crc_of(buf: Any) -> tuple[int, int]:
    """``(len, crc)`` of a fragment chain: its total length and the CRC-32 of all its bytes;
    ``(0, 0)`` for a buffer already freed."""
    n = 0
    crc = 0
    b = buf
    while b is not None:
        if not b._ref:      # freed (a consumed send's buffer): no bytes, no error raised
            return 0, 0
        if cython.compiled:     # the bytes in the pool's storage, with no slice made
            pool = b.pool
            head = b._head
            length = b.len
            if zsim_zlib():  # noqa: F821 - .pxd: zlib's crc32 called from C
                crc = zsim_crc32(crc, pool.storage, head, length)  # noqa: F821 - .pxd
            else:
                crc = _crc32(zsim_view(pool.storage, head, length), crc)  # noqa: F821
        else:
            data = b.data
            length = len(data)
            crc = _crc32(data, crc)
        n += length
        b = b.frags
    return n, crc


def length_of(buf: Any) -> int:
    """The total length of a fragment chain, as ``crc_of`` gives it, with no CRC."""
    if buf.frags is None and buf._ref:      # one fragment, alive: the common case
        return buf.len
    n = 0
    b = buf
    while b is not None:
        if not b._ref:
            return 0
        n += len(b.data)
        b = b.frags
    return n


def us_text(us: float) -> str:
    """A float as ``json.dumps`` writes it (``repr``), with a fast path for whole numbers
    (compiled: the trace's own float writer, ``zsim_double`` in trace_events.pxd)."""
    if cython.compiled:
        out = bytearray()
        n = zsim_double(out, 0, us)  # noqa: F821 - .pxd
        return out[:n].decode("ascii")
    if 0.0 < us < EXACT:
        whole = int(us)
        if whole == us:
            return f"{whole}.0"
    return repr(us)


class Tap:
    """The kernel's tracer (``k.trace_to(tap)``) and console listener (``tap.console``).

    ``packets``: packet_io, net_buf and topology events; ``switches``: context switches;
    console lines always. Each event goes to ``lines`` as its JSON line (ASCII bytes,
    gathered and written many lines at a time; ``flush()`` writes the rest), to ``raw(kind, us,
    values)`` and to ``put(kind, tick, us, values)`` (``values`` as ``EventKind.plain``
    gives them). ``levels(track, us, value)`` is told the level of a queue (``queue NAME
    depth``: events waiting, not counting one being handled, ``k_msgq``'s used count) or
    pool (``pool NAME in use``) after each event that may change it.
    """

    def __init__(self, k: Any, *, packets: bool = True, switches: bool = False,
                 levels: Callable[[str, float, int], Any] | None = None,
                 lines: Callable[[bytes], Any] | None = None,
                 raw: Callable[[EventKind, float, tuple], Any] | None = None,
                 put: Callable[[EventKind, int, float, tuple], Any] | None = None) -> None:
        self.k = k
        self.packets = packets
        self.switches = switches
        self.levels = levels
        self.lines = lines
        self.raw = raw
        self.put = put
        self._ups = float(k.units_per_sec)
        self._exact = k.units_per_sec < EXACT
        self._pending: list[str] = []
        self._out = bytearray()             # compiled: the lines gathered, as ASCII
        self._used = 0
        self._names: dict[Any, str] = {}     # objects' names as JSON strings
        self._pools: dict[Any, str] = {}     # pools' names as the start of a trace id
        self._tracks: dict[Any, str] = {}    # level track names by object
        self._starts: dict[tuple[Any, Any], float] = {}   # open sends: start (µs)
        self._at = -1                       # the instant (k._now) of the last event, its
        self._us = 0.0                      # time in µs and (compiled) the text of its
        self._stamp: bytes | None = None    # tick and µs in a line, made once per instant

    def install(self) -> Tap:
        """Become the kernel's tracer (told of switches only when they are recorded)."""
        self.k.trace_to(self, sched=self.switches)
        return self

    # ------------------------------------------------------------ the tracer
    def __call__(self, kind: str, a: Any = None, b: Any = None, c: Any = None,
                 d: Any = None) -> None:
        self._dispatch(_CALLS.get(kind, 0), a, b, c, d)

    def _dispatch(self, call: int, a: Any, b: Any, c: Any, d: Any) -> None:
        """One tracer call (``_CALLS``: its kind as a number)."""
        if self.packets:
            if call == _ENQUEUE:
                self._enqueue(a, b, c)
            elif call == _HANDLE:
                self._handle(a, b, c, d)
            elif call == _ALLOC:
                self._pool(ALLOC, a, b)
            elif call == _FREE:
                self._pool(FREE, a, b)
            elif call == _SEND_START:
                self._starts[(a, b)] = self._now_us()
            elif call == _SEND:
                self._send(a, b, c)
            elif call == _DELIVER:
                n, crc = crc_of(c)
                self._event(DELIVER, (a, b, c, n, crc))
            elif call == _DROP:
                self._event(DROP, (a, b, c, d))
            elif call == _FAULT:
                self._event(SEND_FAULT, (a, b, c))
            elif call == _ALLOC_FAIL:
                self._event(ALLOC_FAIL, (a, b, c))
            elif call == _PROCESS:
                self._event(PROCESS, (a, b))
            elif call == _STEP:
                self._event(STEP, (a, b, c, d))
        elif self.levels is not None:          # levels without the events
            if call == _ENQUEUE:
                self._level_sink(b)
            elif call == _HANDLE:
                self._level_queue(a)
            elif call == _ALLOC or call == _FREE:
                self._level_pool(a)
        if call == _DEQUEUE:
            if self.levels is not None:
                self._level_queue(a)
        elif call == _SWITCH:
            if self.switches:
                self._event(SWITCH, (a, b))

    def console(self, line: str) -> None:
        """The console listener: one complete line."""
        self._event(CONSOLE, (line,))

    def _enqueue(self, src: Any, sink: Any, buf: Any) -> None:
        if self.levels is not None:
            self._level_sink(sink)
        self._event(ENQUEUE, (src, sink, buf, length_of(buf)))

    def _handle(self, queue: Any, sink: Any, buf: Any, ret: int) -> None:
        if self.levels is not None:
            self._level_queue(queue)
        if ret == _FAULT_RET:
            self._event(QUEUE_FAULT, (queue, sink, buf))
        if buf is not None:
            n, crc = crc_of(buf)
        else:
            n, crc = 0, 0
        self._event(HANDLE, (queue, sink, buf, n, crc, ret))

    def _pool(self, kind: EventKind, pool: Any, buf: Any) -> None:
        if self.levels is not None:
            self._level_pool(pool)
        self._event(kind, (pool, buf, pool._avail))     # avail_count

    def _send(self, src: Any, buf: Any, ret: int) -> None:
        n, crc = crc_of(buf)
        start = self._starts.pop((src, buf), None)
        self._event(SEND, (src, buf, n, crc, ret, start))

    # ------------------------------------------------------------ levels
    def _track(self, obj: Any, form: str) -> str:
        name = self._tracks.get(obj)
        if name is None:
            name = self._tracks[obj] = form % obj.name
        return name

    def _level_sink(self, sink: Any) -> None:
        queue = sink.queue
        if queue is not None:
            self._level_queue(queue)

    def _level_queue(self, queue: Any) -> None:
        self.levels(self._track(queue, "queue %s depth"), self._now_us(), queue.msgq.used)

    def _level_pool(self, pool: Any) -> None:
        self.levels(self._track(pool, "pool %s in use"), self._now_us(),
                    pool.count - pool._avail)

    # ------------------------------------------------------------ output
    def _now_us(self) -> float:
        """``k.now_us``, computed once per instant."""
        now = self.k._now
        if now != self._at:
            self._at = now
            self._stamp = None
            if self._exact and now < EXACT:
                self._us = now / self._ups * 1000000.0  # as k.now_us: both exact as doubles
            else:
                self._us = self.k.now_us
        return self._us

    def _event(self, kind: EventKind, values: tuple) -> None:
        k = self.k
        tick = k._now // k._upt
        us = self._now_us()
        if self.lines is not None:
            self._line(kind, tick, us, values)
        if self.raw is not None or self.put is not None:
            plain = kind.plain(values)
            if self.raw is not None:
                self.raw(kind, us, plain)
            if self.put is not None:
                self.put(kind, tick, us, plain)

    def flush(self) -> None:
        """Write the JSON lines gathered so far."""
        if self._used:
            data = bytes(memoryview(self._out)[:self._used])     # one copy, no slice
            self._used = 0
            self.lines(data)
        if self._pending:
            data = "".join(self._pending).encode()
            self._pending.clear()
            self.lines(data)

    def _line(self, kind: EventKind, tick: int, us: float, values: tuple) -> None:
        """Gather the event's JSON line, exactly as ``json.dumps`` of its dict writes it."""
        codes = kind.codes
        seps = kind.seps
        if cython.compiled:     # straight into the buffer (the functions: trace_events.pxd)
            out = self._out
            sep = kind.head_b
            n = zsim_raw(out, self._used, sep, len(sep))  # noqa: F821 - .pxd
            stamp = self._stamp     # (tick, us: this instant's, from _event)
            if stamp is None:       # the first line of this instant
                start = n
                n = zsim_ll(out, n, tick)  # noqa: F821 - .pxd
                n = zsim_raw(out, n, b', "us": ', 8)  # noqa: F821 - .pxd
                n = zsim_double(out, n, us)  # noqa: F821 - .pxd
                self._stamp = zsim_copy(out, start, n)  # noqa: F821 - .pxd
            else:
                n = zsim_raw(out, n, stamp, len(stamp))  # noqa: F821 - .pxd
            i = 0
            stop = 0
            while True:         # C writes the fields, up to one it leaves to this loop
                n = zsim_fields(out, n, kind.codes_b, kind.seps_b, values,  # noqa: F821
                                self._names, i, cython.address(stop))
                if stop < 0:
                    break
                v = values[stop]
                code = codes[stop]
                if code == "b" or code == "B":
                    buf = v
                    n = zsim_text(out, n, self._pool_head(buf.pool))  # noqa: F821 - .pxd
                    n = zsim_int(out, n, buf.index)  # noqa: F821 - .pxd
                    n = zsim_raw(out, n, b"@", 1)  # noqa: F821 - .pxd
                    n = zsim_ull(out, n, buf.gen, 0)  # noqa: F821 - .pxd
                    n = zsim_raw(out, n, b'"', 1)  # noqa: F821 - .pxd
                else:           # a name not seen before, or a string to escape
                    n = zsim_text(out, n, self._json(code, v))  # noqa: F821 - .pxd
                i = stop + 1
            self._used = zsim_raw(out, n, b"}\n", 2)  # noqa: F821 - .pxd
            if self._used >= FLUSH_BYTES:
                self.flush()
        else:
            parts = [kind.head, str(tick), ', "us": ', us_text(us)]
            for i in range(len(codes)):
                parts.append(seps[i])
                parts.append(self._json(codes[i], values[i]))
            parts.append("}\n")
            self._pending.append("".join(parts))
            if len(self._pending) >= FLUSH_LINES:
                self.flush()

    def _name(self, obj: Any) -> str:
        """An object's name as a JSON string."""
        text = self._names.get(obj)
        if text is None:
            text = self._names[obj] = _q(obj.name)
        return text

    def _pool_head(self, pool: Any) -> str:
        """The start of a trace id of ``pool``'s buffers: ``"NAME#``."""
        head = self._pools.get(pool)
        if head is None:
            head = self._pools[pool] = _q(pool.name)[:-1] + "#"
        return head

    def _json(self, code: str, v: Any) -> str:
        """One field value as JSON."""
        if v is None:
            return "null"
        if code == "d":
            return str(v)
        if code == "n" or code == "N":
            return self._name(v)
        if code == "b" or code == "B":
            buf = v
            gen = buf.gen
            return f'{self._pool_head(buf.pool)}{buf.index}@{gen}"'
        if code == "x":
            crc = v
            return f'"{crc:08x}"'
        if code == "F":
            return us_text(v)
        return _q(v)


def measure(buf: Any) -> tuple[int, str]:
    """``(len, digest)`` of a fragment chain: total length and CRC-32 of all its bytes as 8
    hex digits; ``(0, "00000000")`` for a buffer already freed."""
    n, crc = crc_of(buf)
    return n, f"{crc:08x}"


__all__ = ["EventKind", "Tap", "crc_of", "length_of", "measure", "us_text"]
