"""The virtual board: the zsim simulator behind the wire protocol.

``VirtualBoard`` is the device-side protocol engine (sequence numbers, response cache,
credits, report log) around a ``SimBoard``; ``serve_pty`` and ``serve_tcp`` put it behind
a pseudo-terminal or a loopback TCP socket. Fault injection corrupts bytes (``noise``),
loses bytes (``drop``) in both directions, and cuts the connection after the board has
sent ``disconnect_after`` frames.
"""

from __future__ import annotations

import contextlib
import os
import random
import select
import socket
import threading
import tty
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from zsim import errno

from . import protocol as p
from .simboard import SimBoard


@dataclass
class Faults:
    """What the board does wrong on purpose."""

    noise: float = 0.0              # probability that a byte is corrupted
    drop: float = 0.0               # probability that a byte is lost
    disconnect_after: int | None = None   # frames sent before the board hangs up
    seed: int = 0


class VirtualBoard:
    """Protocol engine of the virtual board (PROTOCOL.md §4, §8)."""

    def __init__(self, board: str = "native_sim", *, faults: Faults | None = None,
                 queue_size_override: int | None = None, rx_window: int = 4,
                 max_frame: int = p.MAX_FRAME_LIMIT, build_id: str = "zsim-virtual-board",
                 board_dirs: tuple[str, ...] = ()) -> None:
        self.faults = faults or Faults()
        self.rng = random.Random(self.faults.seed)
        self.rx_window = rx_window
        self.max_frame = max_frame
        self.sim = SimBoard(board, queue_size_override=queue_size_override, build_id=build_id,
                            board_dirs=board_dirs, on_report=self._on_report)
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
        self._send(p.Frame(typ, 0, self.last, self.rx_window, 0,
                           p.encode_payload(typ, fields)))

    # ------------------------------------------------------------------ input
    def feed(self, data: bytes, out: Callable[[bytes], None]) -> None:
        """Handle received bytes, writing answers with ``out``; afterwards
        ``disconnected`` tells whether the board hung up (fault injection)."""
        self._out = out
        with self.lock:
            for frame in self.decoder.feed(self._mangle(data)):
                self._handle(frame)

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
                try:
                    ret, extra, after = self.sim.execute(typ, fields)
                except Exception as exc:  # noqa: BLE001 - the board must keep answering
                    self.sim.emit(p.R_CONSOLE, {"text": f"FATAL: {exc}"[:200]})
                    ret, extra, after = -errno.EFAULT, {}, None
                if typ == p.HELLO:
                    extra.update(max_frame=self.max_frame, rx_window=self.rx_window)
                resp = p.Frame(typ | p.RESPONSE_BIT, frame.seq, 0, 0, 0,
                               p.encode_filled(typ | p.RESPONSE_BIT, {"ret": ret, **extra}))
        self.last = frame.seq              # the ack advances with the response (§12.4)
        self._remember(resp)
        self._send(self._stamp(resp))
        if after is not None:
            after()

    def _get_reports(self, seq: int, f: dict[str, Any]) -> p.Frame:
        sim = self.sim
        sim.ack_reports(f["from"])
        for typ, fields in sim.held_reports(f["from"], f["max"]):
            self._send(p.Frame(typ, 0, self.last, self.rx_window, 0,
                               p.encode_payload(typ, fields)))
        body = {"ret": 0, "total": sim.total, "oldest": sim.oldest,
                "running": int(sim.running), "lost": 0}
        return p.Frame(p.GET_REPORTS | p.RESPONSE_BIT, seq, 0, 0, 0,
                       p.encode_payload(p.GET_REPORTS | p.RESPONSE_BIT, body))


# ---------------------------------------------------------------------- transports
def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [], 1.0)
            continue
        view = view[n:]


def open_pty() -> tuple[int, int, str]:
    """A raw pseudo-terminal: ``(master fd, slave fd, slave path)``."""
    master, slave = os.openpty()
    tty.setraw(slave)
    return master, slave, os.ttyname(slave)


def serve_fd(vb: VirtualBoard, fd: int, stop: threading.Event | None = None) -> str:
    """Serve the board on a file descriptor until EOF, a fault disconnect or ``stop``."""
    stop = stop or threading.Event()

    def out(data: bytes) -> None:
        _write_all(fd, data)

    while not stop.is_set():
        r, _, _ = select.select([fd], [], [], 0.1)
        if not r:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:
            return "eof"
        if not data:
            return "eof"
        try:
            vb.feed(data, out)
        except OSError:
            return "eof"
        if vb.disconnected:
            return "disconnect"
    return "stopped"


def serve_socket(vb: VirtualBoard, conn: socket.socket,
                 stop: threading.Event | None = None) -> str:
    """Serve the board on one connected socket."""
    stop = stop or threading.Event()
    conn.setblocking(True)
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while not stop.is_set():
        r, _, _ = select.select([conn], [], [], 0.1)
        if not r:
            continue
        try:
            data = conn.recv(65536)
        except OSError:
            return "eof"
        if not data:
            return "eof"
        try:
            vb.feed(data, conn.sendall)
        except OSError:
            return "eof"
        if vb.disconnected:
            return "disconnect"
    return "stopped"


def parse_tcp(spec: str) -> tuple[str, int]:
    """``127.0.0.1:PORT`` (or ``:PORT``, ``PORT``) → address; loopback addresses only."""
    host, _, port = spec.rpartition(":")
    host = host or "127.0.0.1"
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"--tcp {spec}: the virtual board listens on loopback only "
                         "(127.0.0.1)")
    try:
        return ("127.0.0.1" if host == "localhost" else host), int(port)
    except ValueError:
        raise ValueError(f"--tcp {spec}: expected 127.0.0.1:PORT") from None


class TcpServer:
    """A loopback listener serving one client at a time."""

    def __init__(self, vb: VirtualBoard, host: str = "127.0.0.1", port: int = 0) -> None:
        self.vb = vb
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(1)
        self.host = host
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()

    @property
    def url(self) -> str:
        """The pyserial URL to connect to."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"socket://{host}:{self.port}"

    def serve(self) -> str:
        """Accept and serve clients until stopped or a fault disconnect."""
        try:
            while not self.stop.is_set():
                r, _, _ = select.select([self.sock], [], [], 0.1)
                if not r:
                    continue
                conn, _ = self.sock.accept()
                try:
                    result = serve_socket(self.vb, conn, self.stop)
                finally:
                    with contextlib.suppress(OSError):
                        conn.shutdown(socket.SHUT_RDWR)
                    conn.close()
                if result == "disconnect":
                    return result
            return "stopped"
        finally:
            self.sock.close()

    def close(self) -> None:
        """Stop serving."""
        self.stop.set()


class PtyServer:
    """The board behind a pseudo-terminal; ``path`` is the device to open."""

    def __init__(self, vb: VirtualBoard) -> None:
        self.vb = vb
        self.master, self.slave, self.path = open_pty()
        self.stop = threading.Event()

    @property
    def url(self) -> str:
        return self.path

    def serve(self) -> str:
        """Serve until stopped or a fault disconnect (then the pty is closed)."""
        try:
            return serve_fd(self.vb, self.master, self.stop)
        finally:
            for fd in (self.master, self.slave):
                with contextlib.suppress(OSError):
                    os.close(fd)

    def close(self) -> None:
        """Stop serving."""
        self.stop.set()


def start_in_thread(server: TcpServer | PtyServer) -> threading.Thread:
    """Run ``server.serve()`` in a daemon thread (tests, in-process use)."""
    t = threading.Thread(target=server.serve, name="zsim-virtual-board", daemon=True)
    t.start()
    return t
