"""The virtual board: the zsim simulator behind the wire protocol.

``VirtualBoard`` is the device-side protocol engine (sequence numbers, response cache,
credits, report ring) around a ``SimBoard``; ``PtyServer`` and ``TcpServer`` put it behind
a pseudo-terminal or a loopback TCP socket. Fault injection corrupts bytes (``noise``),
loses bytes (``drop``) in both directions, and cuts the connection after the board has
sent ``disconnect_after`` frames.

Whatever a client sends, the board's memory stays bounded: frames by ``max_frame``, the
response cache by ``rx_window``, reports by the ring HELLO advertises (overflow counts
``lost``), objects by ``SimBoard``'s capacities and ``LIMITS`` (-ENOMEM beyond). A RUN
advances in slices between which the board reads and answers commands, so a host can
poll during a run and a server notices a client that left; a run pauses while the report
ring is more than half full. A client silent for ``idle_timeout`` seconds is dropped, and
a write the client does not take within ``write_timeout`` seconds ends its connection.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import select
import socket
import threading
import time
import tty
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from zsim import errno

from . import protocol as p
from .report_ring import ReportRing
from .simboard import SimBoard

DEFAULT_REPORT_RING = 4096
DEFAULT_IDLE_TIMEOUT = 30.0
DEFAULT_WRITE_TIMEOUT = 10.0
POLL_S = 0.1                    # the servers' longest wait for input when idle
Log = Callable[[str], None]


@dataclass
class Faults:
    """What the board does wrong on purpose."""

    noise: float = 0.0              # probability that a byte is corrupted
    drop: float = 0.0               # probability that a byte is lost
    disconnect_after: int | None = None   # frames sent before the board hangs up
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("noise", "drop"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name} is a probability in [0, 1), not {value}")
        if self.disconnect_after is not None and self.disconnect_after < 0:
            raise ValueError(f"disconnect_after is a number of frames >= 0, not "
                             f"{self.disconnect_after}")


class VirtualBoard:
    """Protocol engine of the virtual board (PROTOCOL.md §4, §8)."""

    def __init__(self, board: str = "native_sim", *, faults: Faults | None = None,
                 queue_size_override: int | None = None, rx_window: int = 4,
                 max_frame: int = p.MAX_FRAME_LIMIT, build_id: str = "zsim-virtual-board",
                 board_dirs: tuple[str, ...] = (), report_ring: int = DEFAULT_REPORT_RING,
                 sliced: bool = True) -> None:
        if not 1 <= rx_window <= 8:
            raise ValueError(f"rx_window is 1..8 commands, not {rx_window}")
        if not p.MIN_MAX_FRAME <= max_frame <= p.MAX_FRAME_LIMIT:
            raise ValueError(f"max_frame is {p.MIN_MAX_FRAME}..{p.MAX_FRAME_LIMIT} bytes, "
                             f"not {max_frame}")
        if not 1 <= report_ring <= 0xFFFF:
            raise ValueError(f"report_ring is 1..65535 reports, not {report_ring}")
        if queue_size_override is not None and not 1 <= queue_size_override <= 0xFFFF:
            raise ValueError(f"queue_size_override is 1..65535 slots, not "
                             f"{queue_size_override}")
        self.faults = faults or Faults()
        self.rng = random.Random(self.faults.seed)
        self.rx_window = rx_window
        self.max_frame = max_frame
        self.ring = ReportRing(report_ring)
        self.sim = SimBoard(board, queue_size_override=queue_size_override, build_id=build_id,
                            board_dirs=board_dirs, on_report=self._on_report)
        self.sliced = sliced
        self.run_slice = max(1, self.sim.ticks_per_sec // 50)   # 20 ms of board time
        self.decoder = p.FrameDecoder(max_frame)
        self.last = 0
        self.cache: OrderedDict[int, p.Frame] = OrderedDict()
        self.frames_sent = 0
        self.lock = threading.Lock()
        self._out: Callable[[bytes], None] | None = None
        self.disconnected = False

    # ------------------------------------------------------------------ output
    def _mangle(self, data: bytes) -> bytes:
        f = self.faults
        if not (f.noise or f.drop):
            return data
        rng = self.rng
        out = bytearray()
        for b in data:
            if f.drop and rng.random() < f.drop:
                continue
            if f.noise and rng.random() < f.noise:
                b ^= 1 << rng.randrange(8)
            out.append(b)
        return bytes(out)

    def _send(self, frame: p.Frame) -> None:
        if self._out is None or self.disconnected:
            return
        limit = self.faults.disconnect_after
        if limit is not None and self.frames_sent >= limit:
            self.disconnected = True       # the transport hangs up after this feed()
            return
        self.frames_sent += 1
        self._out(self._mangle(p.encode_frame(frame)))

    def _stamp(self, frame: p.Frame) -> p.Frame:
        return p.Frame(frame.type, frame.seq, self.last, self.rx_window, 0, frame.payload)

    def _on_report(self, typ: int, fields: dict[str, Any]) -> None:
        payload = p.encode_payload(typ, fields)
        self.ring.push((typ, payload))
        self._send(p.Frame(typ, 0, self.last, self.rx_window, 0, payload))

    # ------------------------------------------------------------------ input
    @property
    def busy(self) -> bool:
        """A run is in progress that ``pump`` advances."""
        return self.sliced and self.sim.running

    @property
    def paused(self) -> bool:
        """The run waits for the host to acknowledge reports (ring more than half full)."""
        return len(self.ring) * 2 > self.ring.capacity

    def feed(self, data: bytes, out: Callable[[bytes], None]) -> None:
        """Handle received bytes, writing answers with ``out``; afterwards
        ``disconnected`` tells whether the board hung up (fault injection)."""
        self._out = out
        with self.lock:
            for frame in self.decoder.feed(self._mangle(data)):
                self._handle(frame)

    def pump(self, out: Callable[[bytes], None]) -> bool:
        """Advance the run in progress by one slice (unless paused); True if it did."""
        self._out = out
        with self.lock:
            if not self.busy or self.paused:
                return False
            self.sim.advance(self.run_slice)
            return True

    def new_client(self) -> None:
        """A client connected: nothing of a previous client's partial frame remains."""
        with self.lock:
            self.decoder.reset()

    def end_client(self) -> None:
        """The client is gone: its run in progress stops, nothing more is sent."""
        with self.lock:
            self._out = None
            self.sim.abort_run()

    def _handle(self, frame: p.Frame) -> None:
        typ, seq = frame.type, frame.seq
        if not 0x01 <= typ <= 0x3F:
            return                              # not a command (an echo, a report...)
        if typ == p.HELLO:
            self.cache.clear()
            self._execute(frame)
            return
        if seq == (self.last + 1) & 0xFFFF:
            self._execute(frame)
            return
        cached = self.cache.get(seq)
        if cached is not None:
            self._send(self._stamp(cached))
            return
        self._send(p.Frame(p.NAK, seq, self.last, self.rx_window, 0,
                           p.encode_payload(p.NAK, {"ret": -p.EILSEQ,
                                                    "reason": p.NAK_OUT_OF_SEQUENCE})))

    def _remember(self, frame: p.Frame) -> None:
        self.cache[frame.seq] = frame
        while len(self.cache) > self.rx_window:
            self.cache.popitem(last=False)

    def _execute(self, frame: p.Frame) -> None:
        typ = frame.type
        after = None
        if typ not in p.COMMAND_NAMES:
            resp = p.Frame(p.ERROR, frame.seq, 0, 0, 0,
                           p.encode_payload(p.ERROR, {"ret": -errno.ENOTSUP}))
        else:
            try:
                fields = p.decode_payload(typ, frame.payload)
            except p.ProtocolError:
                fields = None
            if fields is None:
                resp = p.Frame(p.ERROR, frame.seq, 0, 0, 0,
                               p.encode_payload(p.ERROR, {"ret": -p.EBADMSG}))
            elif typ == p.GET_REPORTS:
                resp = self._get_reports(frame.seq, fields)
            else:
                if typ == p.RESET:
                    self.ring.clear()
                try:
                    ret, extra, after = self.sim.execute(typ, fields)
                except Exception as exc:  # noqa: BLE001 - the board must keep answering
                    self.sim.emit(p.R_CONSOLE, {"text": f"FATAL: {exc}"[:200]})
                    ret, extra, after = -errno.EFAULT, {}, None
                if typ == p.HELLO:
                    extra.update(max_frame=self.max_frame, rx_window=self.rx_window,
                                 report_ring=self.ring.capacity)
                if typ == p.RUN and self.sliced:
                    after = None                # pump() runs it, slice by slice
                resp = p.Frame(typ | p.RESPONSE_BIT, frame.seq, 0, 0, 0,
                               p.encode_filled(typ | p.RESPONSE_BIT, {"ret": ret, **extra}))
        self.last = frame.seq              # the ack advances with the response (§12.4)
        self._remember(resp)
        self._send(self._stamp(resp))
        if after is not None:
            after()

    def _get_reports(self, seq: int, f: dict[str, Any]) -> p.Frame:
        ring = self.ring
        ring.ack(min(f["from"], ring.total))
        for typ, payload in ring.held(f["from"], f["max"]):
            self._send(p.Frame(typ, 0, self.last, self.rx_window, 0, payload))
        body = {"ret": 0, "total": ring.total, "oldest": ring.oldest,
                "running": int(self.sim.running), "lost": ring.lost}
        return p.Frame(p.GET_REPORTS | p.RESPONSE_BIT, seq, 0, 0, 0,
                       p.encode_payload(p.GET_REPORTS | p.RESPONSE_BIT, body))


# ---------------------------------------------------------------------- transports
def _write_all(fd: int, data: bytes, timeout: float) -> None:
    """Write everything to a non-blocking ``fd`` within ``timeout`` seconds, else
    ``TimeoutError``."""
    view = memoryview(data)
    deadline = time.monotonic() + timeout
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"the client took no data for {timeout:g} s") from None
            select.select([], [fd], [], min(left, POLL_S))
            continue
        view = view[n:]


def open_pty() -> tuple[int, int, str]:
    """A raw pseudo-terminal: ``(master fd, slave fd, slave path)``."""
    master, slave = os.openpty()
    tty.setraw(slave)
    return master, slave, os.ttyname(slave)


def _serve(vb: VirtualBoard, fileno: int, read: Callable[[], bytes],
           out: Callable[[bytes], None], stop: threading.Event,
           idle_timeout: float | None) -> str:
    """The serving loop of one client: ``eof``, ``disconnect`` (fault injection), ``idle``
    (silent for ``idle_timeout`` s) or ``stopped``."""
    vb.new_client()
    last = time.monotonic()
    try:
        while not stop.is_set():
            running = vb.busy and not vb.paused
            r, _, _ = select.select([fileno], [], [], 0 if running else POLL_S)
            if r:
                try:
                    data = read()
                except OSError:
                    return "eof"
                if not data:
                    return "eof"
                last = time.monotonic()
                try:
                    vb.feed(data, out)
                except OSError:
                    return "eof"
            elif idle_timeout is not None and time.monotonic() - last > idle_timeout:
                return "idle"
            if running:
                try:
                    vb.pump(out)
                except OSError:
                    return "eof"
            if vb.disconnected:
                return "disconnect"
        return "stopped"
    finally:
        vb.end_client()


def serve_fd(vb: VirtualBoard, fd: int, stop: threading.Event | None = None, *,
             idle_timeout: float | None = None,
             write_timeout: float = DEFAULT_WRITE_TIMEOUT) -> str:
    """Serve the board on a file descriptor until EOF, a fault disconnect, ``idle`` or
    ``stop``."""
    os.set_blocking(fd, False)

    def read() -> bytes:
        try:
            return os.read(fd, 65536)
        except BlockingIOError:
            return b"\x00"                  # nothing after all: an empty frame, ignored

    return _serve(vb, fd, read, lambda data: _write_all(fd, data, write_timeout),
                  stop or threading.Event(), idle_timeout)


def serve_socket(vb: VirtualBoard, conn: socket.socket,
                 stop: threading.Event | None = None, *,
                 idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
                 write_timeout: float = DEFAULT_WRITE_TIMEOUT) -> str:
    """Serve the board on one connected socket."""
    conn.settimeout(write_timeout)
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return _serve(vb, conn.fileno(), lambda: conn.recv(65536), conn.sendall,
                  stop or threading.Event(), idle_timeout)


def parse_tcp(spec: str) -> tuple[str, int]:
    """``127.0.0.1:PORT`` (or ``:PORT``, ``PORT``) → address; loopback addresses only."""
    host, _, port = spec.rpartition(":")
    host = host or "127.0.0.1"
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"--tcp {spec}: the virtual board listens on loopback only "
                         "(127.0.0.1)")
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 <= number <= 0xFFFF:
        raise ValueError(f"--tcp {spec}: expected 127.0.0.1:PORT with PORT 0..65535")
    return ("127.0.0.1" if host == "localhost" else host), number


class TcpServer:
    """A loopback listener serving one client at a time; a client silent for
    ``idle_timeout`` seconds is dropped so the next can connect."""

    def __init__(self, vb: VirtualBoard, host: str = "127.0.0.1", port: int = 0, *,
                 idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
                 write_timeout: float = DEFAULT_WRITE_TIMEOUT, log: Log | None = None) -> None:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ValueError(f"{host}: the virtual board listens on loopback only")
        _check_timeouts(idle_timeout, write_timeout)
        self.vb = vb
        self.idle_timeout = idle_timeout
        self.write_timeout = write_timeout
        self.log = log
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(1)
        self.host = host
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.dropped = 0                    # clients dropped for being idle

    @property
    def url(self) -> str:
        """The pyserial URL to connect to."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"socket://{host}:{self.port}"

    def serve(self) -> str:
        """Accept and serve clients until stopped or a fault disconnect."""
        try:
            while not self.stop.is_set():
                r, _, _ = select.select([self.sock], [], [], POLL_S)
                if not r:
                    continue
                conn, peer = self.sock.accept()
                try:
                    result = serve_socket(self.vb, conn, self.stop,
                                          idle_timeout=self.idle_timeout,
                                          write_timeout=self.write_timeout)
                finally:
                    with contextlib.suppress(OSError):
                        conn.shutdown(socket.SHUT_RDWR)
                    conn.close()
                if result == "idle":
                    self.dropped += 1
                    if self.log is not None:
                        self.log(f"zsim: dropped client {peer[0]}:{peer[1]}: silent for "
                                 f"{self.idle_timeout:g} s (--idle-timeout)")
                if result == "disconnect":
                    return result
            return "stopped"
        finally:
            self.sock.close()

    def close(self) -> None:
        """Stop serving."""
        self.stop.set()


class PtyServer:
    """The board behind a pseudo-terminal; ``path`` is the device to open. A client silent
    for ``idle_timeout`` seconds loses its run in progress and partial frame."""

    def __init__(self, vb: VirtualBoard, *, idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
                 write_timeout: float = DEFAULT_WRITE_TIMEOUT) -> None:
        _check_timeouts(idle_timeout, write_timeout)
        self.vb = vb
        self.idle_timeout = idle_timeout
        self.write_timeout = write_timeout
        self.master, self.slave, self.path = open_pty()
        self.stop = threading.Event()
        self.dropped = 0

    @property
    def url(self) -> str:
        return self.path

    def serve(self) -> str:
        """Serve until stopped or a fault disconnect (then the pty is closed)."""
        try:
            while True:
                result = serve_fd(self.vb, self.master, self.stop,
                                  idle_timeout=self.idle_timeout,
                                  write_timeout=self.write_timeout)
                if result != "idle":
                    return result
                self.dropped += 1
        finally:
            for fd in (self.master, self.slave):
                with contextlib.suppress(OSError):
                    os.close(fd)

    def close(self) -> None:
        """Stop serving."""
        self.stop.set()


def _check_timeouts(idle_timeout: float | None, write_timeout: float) -> None:
    if idle_timeout is not None and not idle_timeout > 0:
        raise ValueError(f"idle_timeout is a number of seconds > 0, not {idle_timeout}")
    if not write_timeout > 0:
        raise ValueError(f"write_timeout is a number of seconds > 0, not {write_timeout}")


def start_in_thread(server: TcpServer | PtyServer) -> threading.Thread:
    """Run ``server.serve()`` in a daemon thread (tests, in-process use)."""
    t = threading.Thread(target=server.serve, name="zsim-virtual-board", daemon=True)
    t.start()
    return t
