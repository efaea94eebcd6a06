"""Host driver: talks the wire protocol to a board over any pyserial port or URL.

``Device(url)`` opens ``/dev/ttyACM0``, ``socket://127.0.0.1:4000``, ``loop://``,
``rfc2217://host:port``... with ``serial.serial_for_url``; a reader thread decodes
frames, holds the reports received until they are handed out in order
(``take_contiguous``), and hands responses to the caller.
Commands are sent within the device's credit, retried with the same sequence number on
timeout or NAK (the device answers duplicates from its response cache, so a retry never
runs a command twice), and a lost connection raises ``DeviceDisconnected`` carrying
everything received until then.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import serial

from . import protocol as p

ReportCallback = Callable[[int, dict[str, Any]], None]


class DeviceError(Exception):
    """A failure talking to a device; ``received`` holds the reports received so far."""

    def __init__(self, message: str, received: list[tuple[int, dict[str, Any]]] | None = None
                 ) -> None:
        super().__init__(message)
        self.received = list(received or [])


class DeviceDisconnected(DeviceError):
    """The port closed or failed: the device is gone."""


class DeviceTimeout(DeviceError):
    """The device did not answer in time, even after the retries."""


class CommandRejected(DeviceError):
    """The device refused a command with a negative errno (``ret``)."""

    def __init__(self, message: str, ret: int) -> None:
        super().__init__(message)
        self.ret = ret


@dataclass
class LinkStats:
    """Counters of one connection, for diagnostics."""

    frames_sent: int = 0
    frames_received: int = 0
    retries: int = 0
    naks: int = 0
    duplicate_reports: int = 0
    repaired_reports: int = 0
    decoder: p.DecoderStats = field(default_factory=p.DecoderStats)


@dataclass
class _Pending:
    seq: int
    typ: int
    wire: bytes
    timeout: float                  # the longest wait for one try
    extra: float = 0.0              # time the device itself may take to answer
    deadline: float = 0.0
    sent_at: float = 0.0
    tries: int = 0
    silent_tries: int = 0           # tries during which not a byte came from the device
    rx_mark: int = 0                # bytes received when last sent
    fast: bool = False              # already re-sent early since its last send


class Device:
    """One connection to a board speaking PROTOCOL.md."""

    def __init__(self, url: str, *, baudrate: int = 115200, timeout: float = 1.0,
                 retries: int = 5, window: int | None = None,
                 on_report: ReportCallback | None = None) -> None:
        self.url = url
        self.baudrate = baudrate
        self.timeout = timeout
        self.retries = retries
        self.max_window = window
        self.on_report = on_report
        self.stats = LinkStats()
        try:
            self._port = serial.serial_for_url(url, baudrate=baudrate, timeout=0.05,
                                               write_timeout=max(5.0, timeout * 5))
        except (serial.SerialException, OSError, ValueError) as exc:
            raise DeviceDisconnected(f"{url}: cannot open: {exc}") from None
        self._decoder = p.FrameDecoder(p.MAX_FRAME_LIMIT)
        self.stats.decoder = self._decoder.stats
        self._cond = threading.Condition()
        self._wlock = threading.Lock()
        self._outstanding: dict[int, _Pending] = {}
        self._responses: dict[int, p.Frame] = {}
        self._nak = False
        self._ack = 0
        self._credit = 1
        self._seq = 0
        self._srtt: float | None = None
        self._rx_bytes = 0
        self._goback = 0.0
        self._rto = min(timeout, 0.2)
        self._dead: str | None = None
        self._closing = False
        self.hello: dict[str, Any] | None = None
        self.max_frame = p.MIN_MAX_FRAME
        self.reports: dict[int, tuple[int, dict[str, Any]]] = {}
        self._contig = 0                    # every index below is held
        self._delivered = 0                 # reports handed out by take_contiguous()
        self.runs_done = 0
        self._reader = threading.Thread(target=self._read_loop, name=f"zsim-bridge {url}",
                                        daemon=True)
        self._reader.start()
        with contextlib.suppress(DeviceError):
            self._write(b"\x00")            # flush any partial frame at the device

    # ------------------------------------------------------------------ io
    def close(self) -> None:
        """Close the port and stop the reader thread."""
        self._closing = True
        with contextlib.suppress(Exception):
            self._port.close()
        if self._reader.is_alive() and threading.current_thread() is not self._reader:
            self._reader.join(timeout=2)

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        """False once the connection was lost."""
        return self._dead is None

    def received(self) -> list[tuple[int, dict[str, Any]]]:
        """Every report held (received and not handed out yet), in index order."""
        with self._cond:
            return [self.reports[i] for i in sorted(self.reports)]

    def _write(self, data: bytes) -> None:
        if self._dead is not None:
            raise DeviceDisconnected(self._dead, self.received())
        try:
            with self._wlock:
                self._port.write(data)
        except (serial.SerialException, OSError) as exc:
            self._fail(f"{self.url}: device disconnected (write failed: {exc})")
            raise DeviceDisconnected(self._dead or str(exc), self.received()) from None

    def _read_some(self) -> bytes:
        port = self._port
        first = port.read(1)
        if not first:
            return b""
        sock = getattr(port, "_socket", None)
        if isinstance(sock, socket.socket):
            try:
                rest = sock.recv(65536, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return first
            if not rest:
                raise serial.SerialException("socket disconnected")
            return first + rest
        n = port.in_waiting
        return first + port.read(n) if n else first

    def _read_loop(self) -> None:
        while not self._closing:
            try:
                data = self._read_some()
            except Exception as exc:  # noqa: BLE001 - any port failure is a disconnect
                if not self._closing:
                    self._fail(f"{self.url}: device disconnected: {exc}")
                return
            if data:
                self._rx_bytes += len(data)
                for frame in self._decoder.feed(data):
                    self._dispatch(frame)

    def _fail(self, message: str) -> None:
        with self._cond:
            if self._dead is None:
                self._dead = message
            self._cond.notify_all()

    def _dispatch(self, frame: p.Frame) -> None:
        self.stats.frames_received += 1
        typ = frame.type
        callback = None
        with self._cond:
            if typ >= 0x40:                 # only device frames carry ack/credit
                self._ack, self._credit = frame.ack, frame.credit
            if p.is_report(typ):
                try:
                    fields = p.decode_payload(typ, frame.payload)
                except p.ProtocolError:
                    return
                idx = fields["index"]
                if idx in self.reports or idx < self._contig:
                    self.stats.duplicate_reports += 1
                else:
                    self.reports[idx] = (typ, fields)
                    while self._contig in self.reports:
                        self._contig += 1
                    if typ == p.R_RUN_DONE:
                        self.runs_done += 1
                    callback = self.on_report
            elif typ == p.NAK:
                self.stats.naks += 1
                self._nak = True
            elif (p.is_response(typ) or typ == p.ERROR) and frame.seq in self._outstanding:
                if frame.seq not in self._responses:
                    if typ == p.RESET | p.RESPONSE_BIT:
                        self._clear_reports()
                    self._responses[frame.seq] = frame
            self._cond.notify_all()
        if callback is not None:
            callback(typ, fields)

    def _clear_reports(self) -> None:
        self.reports.clear()
        self._contig = 0
        self._delivered = 0
        self.runs_done = 0

    # ------------------------------------------------------------------ commands
    def connect(self, *, attempts: int = 3) -> dict[str, Any]:
        """The handshake: HELLO with this host's newest version; a device that answers
        -EPROTONOSUPPORT with an older version this host speaks gets a second HELLO in
        that version. Adopts the device's limits."""
        resp = self._hello(p.PROTO_VERSION, attempts)
        older = resp.get("proto")
        if resp["ret"] == -p.EPROTONOSUPPORT and older in p.PROTO_VERSIONS \
                and older != p.PROTO_VERSION:
            resp = self._hello(older, attempts)
        if resp["ret"] != 0 or resp.get("proto") not in p.PROTO_VERSIONS:
            raise CommandRejected(f"{self.url}: the device speaks protocol version "
                                  f"{resp.get('proto')}, this host "
                                  f"{', '.join(map(str, p.PROTO_VERSIONS))}", resp["ret"])
        self.hello = resp
        self.max_frame = max(p.MIN_MAX_FRAME, min(resp["max_frame"], p.MAX_FRAME_LIMIT))
        return resp

    def _hello(self, proto: int, attempts: int) -> dict[str, Any]:
        last: Exception | None = None
        for _ in range(attempts):
            try:
                return self._transact([(p.HELLO, {"proto": proto,
                                                  "host_max_frame": p.MAX_FRAME_LIMIT},
                                        None, 0.0)], hello=True)[0]
            except DeviceTimeout as exc:
                last = exc
        raise DeviceTimeout(f"{self.url}: no answer to HELLO; is a zsim shim or "
                            f"virtual board on the other end? ({last})", self.received())

    @property
    def window(self) -> int:
        """How many commands may be outstanding."""
        w = self.hello["rx_window"] if self.hello else 1
        if self.max_window:
            w = min(w, self.max_window)
        return max(1, min(w, 8))

    def command(self, typ: int, fields: dict[str, Any] | None = None, *,
                timeout: float | None = None, extra: float = 0.0) -> dict[str, Any]:
        """Send one command and return its response fields (``ret`` first).

        ``timeout`` overrides the per-try timeout; ``extra`` is time the device may spend
        before answering (a blocking SEND, a burst of re-sent reports)."""
        return self._transact([(typ, fields or {}, timeout, extra)])[0]

    def transact(self, commands: Sequence[tuple[int, dict[str, Any]]],
                 timeout: float | None = None) -> list[dict[str, Any]]:
        """Send commands in order, pipelined within the device's credit; their responses."""
        return self._transact([(t, f, timeout, 0.0) for t, f in commands])

    def _may_send(self, seq: int) -> bool:
        return ((seq - self._ack) & 0xFFFF) <= self._credit

    def _try_timeout(self, pend: _Pending) -> float:
        # exponential backoff from the measured round trip up to the configured timeout
        quick = self._rto * (2 ** pend.silent_tries)
        return min(pend.timeout, quick) + pend.extra

    def _acked(self, seq: int) -> bool:
        return ((self._ack - seq) & 0xFFFF) < 0x8000

    def _transact(self, items: list[tuple[int, dict[str, Any], float | None, float]],
                  hello: bool = False) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        queue: deque[_Pending] = deque()
        todo = deque(items)
        while todo or queue:
            resend: list[_Pending] = []
            with self._cond:
                while todo and (len(queue) < (1 if hello else self.window)) and (
                        hello or not queue or self._may_send(self._seq & 0xFFFF)):
                    typ, fields, tmo, extra = todo.popleft()
                    seq = self._seq & 0xFFFF
                    frame = p.make_frame(typ, fields, seq=seq)
                    body_len = len(frame.payload) + p.MIN_BODY
                    if body_len > self.max_frame:
                        raise p.ProtocolError(f"{p.type_name(typ)} needs a {body_len}-byte "
                                              f"frame; the device takes {self.max_frame}")
                    pend = _Pending(seq, typ, p.encode_frame(frame), tmo or self.timeout, extra)
                    self._seq = (self._seq + 1) & 0xFFFF
                    self._outstanding[seq] = pend
                    queue.append(pend)
                    self._send(pend)
                head = queue[0]

                def ready(head: _Pending = head) -> bool:
                    return (head.seq in self._responses or self._nak or self._dead is not None
                            or (not head.fast and not hello and self._acked(head.seq)))
                while not ready() and time.monotonic() < head.deadline:
                    self._cond.wait(max(0.0, head.deadline - time.monotonic()))
                if self._dead is not None:
                    self._outstanding.clear()
                    self._responses.clear()
                    raise DeviceDisconnected(self._dead, self._received_locked())
                now = time.monotonic()
                while queue and queue[0].seq in self._responses:
                    done = queue.popleft()
                    frame = self._responses.pop(done.seq)
                    del self._outstanding[done.seq]
                    if done.tries == 1:     # Karn: time only answers to a single send
                        sample = now - done.sent_at - done.extra
                        self._srtt = sample if self._srtt is None else \
                            0.875 * self._srtt + 0.125 * sample
                        self._rto = min(self.timeout, max(0.02, 3 * self._srtt + 0.01))
                    results.append(self._decode_response(done, frame))
                    if hello:
                        self._seq = (done.seq + 1) & 0xFFFF
                if not queue:
                    self._nak = False
                    continue
                if self._nak and now - self._goback >= self._rto / 2:
                    resend = list(queue)    # go-back-N (NAKs of an older burst are ignored)
                    self._goback = now
                elif now >= queue[0].deadline:
                    if self._rx_bytes == queue[0].rx_mark:
                        queue[0].silent_tries += 1
                    resend = list(queue)
                    self._goback = now
                elif not hello:             # a response overtaken by later frames was lost
                    resend = [q for q in queue if not q.fast and self._acked(q.seq)
                              and q.seq not in self._responses]
                    for q in resend:
                        q.fast = True
                self._nak = False
                head = queue[0]
                if head.silent_tries > self.retries or head.tries > 20 * (self.retries + 1):
                    for pend in queue:
                        self._outstanding.pop(pend.seq, None)
                    why = ("the device is silent" if head.silent_tries > self.retries
                           else "the link loses every answer")
                    raise DeviceTimeout(
                        f"{self.url}: no answer to {p.type_name(head.typ)} (seq {head.seq}) "
                        f"after {head.tries} tries: {why}", self._received_locked())
            for pend in resend:
                self.stats.retries += 1
                self._send(pend, keep_fast=pend.fast)
        return results

    def _send(self, pend: _Pending, keep_fast: bool = False) -> None:
        pend.tries += 1
        pend.fast = keep_fast
        pend.rx_mark = self._rx_bytes
        pend.sent_at = time.monotonic()
        pend.deadline = pend.sent_at + self._try_timeout(pend)
        self.stats.frames_sent += 1
        if self._dead is not None:
            return
        try:
            with self._wlock:
                self._port.write(pend.wire)
        except (serial.SerialException, OSError) as exc:
            if self._dead is None:
                self._dead = f"{self.url}: device disconnected (write failed: {exc})"

    def _received_locked(self) -> list[tuple[int, dict[str, Any]]]:
        return [self.reports[i] for i in sorted(self.reports)]

    def _decode_response(self, pend: _Pending, frame: p.Frame) -> dict[str, Any]:
        if frame.type == p.ERROR:
            fields = p.decode_payload(p.ERROR, frame.payload)
            fields["error"] = True
            return fields
        if frame.type != pend.typ | p.RESPONSE_BIT:
            raise p.ProtocolError(f"seq {pend.seq}: expected the response to "
                                  f"{p.type_name(pend.typ)}, got {frame.name}")
        return p.decode_payload(frame.type, frame.payload)

    # ------------------------------------------------------------------ reports
    def take_contiguous(self) -> list[tuple[int, dict[str, Any]]]:
        """Reports not handed out yet whose index is below the first gap, in order."""
        with self._cond:
            out = [self.reports.pop(i) for i in range(self._delivered, self._contig)]
            self._delivered = self._contig
        return out

    def first_missing(self) -> int:
        """The lowest report index not received."""
        return self._contig

    def sync_reports(self, *, batch: int = 64) -> dict[str, Any]:
        """GET_REPORTS until every report the device produced so far is held (or it runs);
        a device that re-sends nothing in ``8 * (retries + 1)`` rounds in a row is an error."""
        barren = 0
        while True:
            before = len(self.reports)
            mark = self._contig
            st = self.command(p.GET_REPORTS, {"from": self._contig, "max": batch},
                              extra=batch * self.report_time)
            if st.get("lost"):
                ring = (self.hello or {}).get("report_ring", "?")
                raise DeviceError(f"{self.url}: the device's report ring ({ring} reports) "
                                  f"overflowed: {st['lost']} report(s) lost", self.received())
            if st["oldest"] > self._contig:
                raise DeviceError(f"{self.url}: reports from {self._contig} were freed by the "
                                  f"device before they reached the host", self.received())
            self.stats.repaired_reports += len(self.reports) - before
            if self._contig >= st["total"]:
                return st
            if st["running"]:
                return st
            barren = barren + 1 if self._contig == mark else 0
            if barren > 8 * (self.retries + 1):
                raise DeviceError(f"{self.url}: the device reports {st['total']} reports but "
                                  f"does not re-send report {self._contig}", self.received())

    @property
    def report_time(self) -> float:
        """Seconds one report frame takes on the link (0 for sockets and loopbacks)."""
        if "://" in self.url and not self.url.startswith("rfc2217://"):
            return 0.0
        return 48 * 10 / max(1, self.baudrate)

    def run(self, ticks: int, *, wall_timeout: float, poll: float | None = None,
            progress: Callable[[], None] | None = None) -> None:
        """RUN for ``ticks`` ticks and wait until the run ended and every report arrived."""
        done_before = self.runs_done
        resp = self.command(p.RUN, {"ticks": ticks})
        if resp["ret"] != 0:
            raise CommandRejected(f"{self.url}: RUN refused ({resp['ret']})", resp["ret"])
        deadline = time.monotonic() + wall_timeout
        if poll is None:
            poll = min(0.25, max(0.02, 8 * (self._srtt or 0.25)))
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self.runs_done > done_before
                                    or self._dead is not None, timeout=poll)
                if self._dead is not None:
                    raise DeviceDisconnected(self._dead, self._received_locked())
            st = self.sync_reports()
            if progress is not None:
                progress()
            if not st["running"] and self._contig >= st["total"] \
                    and self.runs_done > done_before:
                return
            if time.monotonic() > deadline:
                raise DeviceTimeout(f"{self.url}: the run did not end within "
                                    f"{wall_timeout:g} s", self.received())


def open_device(url: str, **kwargs: Any) -> Device:
    """Open ``url`` and do the handshake; closes the port again if that fails."""
    dev = Device(url, **kwargs)
    try:
        dev.connect()
    except BaseException:
        dev.close()
        raise
    return dev
