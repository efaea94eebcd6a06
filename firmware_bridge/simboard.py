"""The protocol's command semantics (PROTOCOL.md §5-§10) executed on the zsim simulator.

``SimBoard`` is the device side without the wire: the virtual board puts it behind a
pseudo-terminal or socket, and the in-process simulator runner drives it directly. Each
command returns ``ret`` (and extra response fields); each report, numbered from 0 since
RESET, is passed to ``on_report`` (the caller keeps what it needs). What a command may
allocate is bounded (``LIMITS`` and the board's RAM): beyond that it gets ``-ENOMEM``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zsim import errno
from zsim.errors import ZsimError
from zsim.kernel.core import Kernel
from zsim.kernel.time_units import K_FOREVER, K_NO_WAIT, K_TICKS, Timeout
from zsim.net_buf import NetBuf, NetBufPool
from zsim.packet_io import PacketConnection, PacketEventQueue, PacketSink, PacketSource, connect
from zsim.topology import behaviours as bh

from . import protocol as p

ReportHook = Callable[[int, dict[str, Any]], None]

CAPACITY = {"max_pools": 32, "max_sources": 64, "max_sinks": 64, "max_queues": 32,
            "max_steps": 16, "max_stimuli": 32, "max_script_steps": 4096,
            "report_ring": 65535}
COMMAND_THREAD_PRIORITY = 0
LIMITS = {"pool_bytes": 16 << 20,       # payload bytes of all pools (and the board's RAM)
          "buffers": 16384,             # buffers of all pools
          "queue_slots": 16384,         # slots of all packet event queues
          "command_wait_s": 10}         # longest SEND/PROCESS wait (K_FOREVER included)


class CommandError(Exception):
    """A command refused with a negative errno."""

    def __init__(self, ret: int, message: str = "") -> None:
        super().__init__(message or f"ret {ret}")
        self.ret = ret


def timeout_of(t: int) -> Timeout:
    """A ``tmo`` field as a ``k_timeout_t``."""
    if t < 0:
        return K_FOREVER
    return K_TICKS(t) if t else K_NO_WAIT


def chain_bytes(buf: NetBuf) -> list[bytes]:
    """The bytes of each fragment of a chain, head first."""
    out = []
    b: NetBuf | None = buf
    while b is not None:
        out.append(bytes(b.data))
        b = b.frags
    return out


class SimBoard:
    """One simulated board executing protocol commands."""

    def __init__(self, board: str = "native_sim", *, queue_size_override: int | None = None,
                 build_id: str = "zsim-virtual", board_dirs: tuple[str, ...] = (),
                 on_report: ReportHook | None = None, costs: str = "board") -> None:
        self.board_name = board
        self.board_dirs = board_dirs
        self.queue_size_override = queue_size_override
        self.build_id = build_id
        self.costs = costs
        self.on_report = on_report
        self.k = Kernel(board=board, board_dirs=board_dirs, costs=costs)
        self.board_id = self.k.board.identifier
        self.ticks_per_sec = self.k.ticks_per_sec
        self.ram_bytes = int(self.k.board.ram_kib) * 1024
        self.link_baud = int(self.k.board.console_baud)
        self._reset_state(0, 3)
        self.k = None  # type: ignore[assignment]  # no scenario until RESET

    # --------------------------------------------------------------- state
    def _reset_state(self, seed: int, flags: int) -> None:
        self.seed = seed
        self.flags = flags
        self.pools: dict[int, NetBufPool] = {}
        self.sources: dict[int, PacketSource] = {}
        self.queues: dict[int, PacketEventQueue] = {}
        self.sinks: dict[int, PacketSink] = {}
        self.ids: dict[int, int] = {}          # id(object) -> protocol id
        self.conns: dict[tuple[int, int], PacketConnection] = {}
        self.stimuli: dict[int, dict[str, Any]] = {}
        self.script_steps = 0
        self.pool_bytes = 0                    # what the pools take (LIMITS)
        self.buffers = 0
        self.queue_slots = 0
        self.total = 0                         # reports produced since RESET
        self.started = False
        self.running = False
        self._run_ticks = 0                    # the run asked for (RUN)
        self._run_end: int | None = None       # its end on the scenario clock, once started
        self.t0 = 0
        self.forward_seq: dict[tuple[int, int], int] = {}
        self.direct_gen = p.PatternGen(seed=seed, stim=p.NO_ID)
        # handler runs in progress: (sink, buf) -> [(len, digest, bufref)], innermost last
        self._handled: dict[tuple[int, int], list[tuple[int, int, dict[str, int]]]] = {}
        self.error: str | None = None

    def hello_fields(self, proto: int = p.PROTO_VERSION) -> dict[str, Any]:
        """The HELLO response fields (after ``ret``) in the layout of ``proto`` (1 or 2);
        version 2 adds the link rate (the board profile's console baud, 0 for a pty) and
        the limits of ``LIMITS`` and the board's RAM."""
        out = {"proto": proto, "ticks_per_sec": self.ticks_per_sec,
               **CAPACITY, "features": p.FEAT_STATS | p.FEAT_RUNTIME | p.FEAT_NAMES
               | p.FEAT_VIRTUAL, "board": self.board_id[:31], "build_id": self.build_id[:31]}
        if proto >= 2:
            out.update(self.hello_limits())
        return out

    def hello_limits(self) -> dict[str, int]:
        """The protocol version 2 HELLO fields: link rate and creation limits."""
        buffers = min(LIMITS["buffers"], 0xFFFF)
        return {"link_baud": self.link_baud, "pool_buf_size": 0xFFFF,
                "pool_buf_count": buffers, "pool_user_data": 0xFF,
                "pool_total_bytes": min(LIMITS["pool_bytes"], self.ram_bytes),
                "pool_total_bufs": LIMITS["buffers"],
                "queue_max_size": min(LIMITS["queue_slots"], 0xFFFF),
                "queue_total_slots": LIMITS["queue_slots"], "max_connections": 0xFFFF,
                "max_header": 0xFF}

    def clock(self) -> int:
        """The scenario clock (§10)."""
        if self.k is None or not self.started:
            return 0
        return self.k.uptime_ticks() - self.t0

    def emit(self, typ: int, fields: dict[str, Any]) -> None:
        """Record a report (index and tick are added here)."""
        f = {"index": self.total, "tick": self.clock(), **fields}
        self.total += 1
        if self.on_report is not None:
            self.on_report(typ, f)

    # --------------------------------------------------------------- helpers
    def _need_kernel(self) -> Kernel:
        if self.k is None:
            raise CommandError(-errno.EINVAL, "no RESET yet")
        return self.k

    def _get(self, table: dict[int, Any], i: int, what: str) -> Any:
        obj = table.get(i)
        if obj is None:
            raise CommandError(-errno.ENOENT, f"no {what} {i}")
        return obj

    def _new_id(self, table: dict[int, Any], i: int, cap: str) -> None:
        if i in table:
            raise CommandError(-errno.EEXIST, f"id {i} in use")
        if i >= CAPACITY[cap]:
            raise CommandError(-errno.ENOMEM, f"id {i} over {cap}")
        if self.started:
            raise CommandError(-errno.EBUSY, "static objects are defined before the first RUN")

    def _reserve(self, what: str, **need: int) -> None:
        """Count ``need`` against LIMITS (pool bytes also against the board's RAM), or
        refuse with -ENOMEM before anything is allocated."""
        for key, n in need.items():
            used = getattr(self, key)
            limit = LIMITS[key] if key != "pool_bytes" else min(LIMITS[key], self.ram_bytes)
            if used + n > limit:
                raise CommandError(-errno.ENOMEM, f"{what}: {key} {used} + {n} over {limit}")
        for key, n in need.items():
            setattr(self, key, getattr(self, key) + n)

    def _bufref(self, buf: NetBuf) -> dict[str, int]:
        return {"pool": self.ids.get(id(buf.pool), p.NO_ID), "index": buf.index,
                "nth": buf.gen & 0xFFFFFFFF}

    def _measure(self, buf: NetBuf) -> tuple[int, int]:
        try:
            parts = chain_bytes(buf)
        except ZsimError:
            return 0, 0
        return sum(len(x) for x in parts), p.chain_digest(parts)

    # --------------------------------------------------------------- tracer
    def _trace(self, kind: str, *f: Any) -> None:
        ids = self.ids
        if kind == "send":
            src, buf, ret = f
            n, d = self._measure(buf)
            self.emit(p.R_SEND, {"source": ids[id(src)], "ret": ret, "len": n, "digest": d,
                                 "buf": self._bufref(buf)})
        elif kind in ("deliver", "fault"):
            src, sink, buf = f
            rec = self._pop(sink, buf)
            if kind == "deliver":
                n, d = (rec[1], rec[2]) if rec else self._measure(buf)
                self.emit(p.R_DELIVER, {"source": ids[id(src)], "sink": ids[id(sink)],
                                        "len": n, "digest": d, "buf": self._bufref(buf)})
            else:
                self.emit(p.R_FAULT, {"origin": 0, "id": ids[id(src)], "sink": ids[id(sink)],
                                      "buf": rec[3] if rec else self._bufref(buf)})
        elif kind == "enqueue":
            src, sink, buf = f
            self.emit(p.R_ENQUEUE, {"source": ids[id(src)], "sink": ids[id(sink)],
                                    "len": buf.frags_len(), "buf": self._bufref(buf)})
        elif kind == "drop":
            src, sink, buf, ret = f
            self.emit(p.R_DROP, {"source": ids[id(src)], "sink": ids[id(sink)], "ret": ret,
                                 "buf": self._bufref(buf)})
        elif kind == "handle":
            queue, sink, buf, ret = f
            rec = self._pop(sink, buf) if sink is not None else None
            n, d, ref = (rec[1], rec[2], rec[3]) if rec else (0, 0, {"pool": p.NO_ID,
                                                                     "index": 0, "nth": 0})
            sid = ids.get(id(sink), p.NO_ID)
            if ret == -errno.EFAULT:
                self.emit(p.R_FAULT, {"origin": 1, "id": ids[id(queue)], "sink": sid,
                                      "buf": ref})
            self.emit(p.R_HANDLE, {"queue": ids[id(queue)], "sink": sid, "ret": ret,
                                   "len": n, "digest": d, "buf": ref})

    def _pop(self, sink: PacketSink, buf: NetBuf) -> tuple | None:
        key = (id(sink), id(buf))
        stack = self._handled.get(key)
        if not stack:
            return None
        rec = stack.pop()
        if not stack:
            del self._handled[key]
        return (buf, *rec)

    def _console(self, line: str) -> None:
        self.emit(p.R_CONSOLE, {"text": line[:200]})

    # --------------------------------------------------------------- handlers
    def _make_handler(self, sid: int, steps: list[dict[str, Any]]) -> Callable:
        resolved = []
        for st in steps:
            op = st["op"]
            if op == "cpu_us":
                resolved.append(bh.Step(op, amount=st["us"]))
            elif op == "cpu_cycles":
                resolved.append(bh.Step(op, amount=st["cycles"]))
            elif op == "sleep":
                resolved.append(bh.Step(op, timeout=timeout_of(st["ticks"])))
            elif op == "forward":
                resolved.append(bh.Step(op, timeout=timeout_of(st["timeout"]),
                                        source=self.sources[st["source"]],
                                        pool=self.pools[st["pool"]], header=bytes(st["hdr"]),
                                        seq16=st["hdr_kind"] == 1))
            else:
                resolved.append(bh.Step(op))

        def alloc_fail(pool: NetBufPool) -> None:
            self.emit(p.R_ALLOC_FAIL, {"pool": self.ids[id(pool)], "origin": 2, "id": sid})
        run_steps = bh.make_handler(self.k, resolved, alloc_fail)

        def handler(sink: PacketSink, buf: NetBuf) -> None:
            n, d = self._measure(buf)
            self._handled.setdefault((id(sink), id(buf)), []).append((n, d, self._bufref(buf)))
            run_steps(sink, buf)
        return handler

    # --------------------------------------------------------------- sends
    def _send(self, src_id: int, pool_id: int, flags: int, tmo: int, size: int, pattern: int,
              arg: int, gen: p.PatternGen, data: bytes, origin: int, who: int) -> int:
        src = self._get(self.sources, src_id, "source")
        pool = self._get(self.pools, pool_id, "pool")
        if pattern == p.PAT_COUNTER and origin == 3:
            gen.n = arg

        def alloc_fail(_pool: NetBufPool) -> None:
            self.emit(p.R_ALLOC_FAIL, {"pool": pool_id, "origin": origin, "id": who})
        return bh.send_payload(src, pool, gen, size, pattern, arg, timeout_of(tmo),
                               bool(flags & p.FLAG_CONSUME), data, alloc_fail)

    def _process(self, qid: int, tmo: int) -> int:
        q = self._get(self.queues, qid, "queue")
        ret = q.process(timeout_of(tmo))
        if ret == -errno.EAGAIN or ret == -errno.EINVAL:
            self.emit(p.R_PROCESS, {"queue": qid, "ret": ret})
        return ret

    def _command_wait(self, tmo: int) -> int:
        """A command's ``tmo`` bounded by LIMITS (the board answers every command)."""
        cap = LIMITS["command_wait_s"] * self.ticks_per_sec
        return cap if tmo < 0 or tmo > cap else tmo

    def _in_kernel(self, fn: Callable[[], int]) -> int:
        k = self._need_kernel()
        try:
            return k.call(fn, priority=COMMAND_THREAD_PRIORITY, name="bridge_cmd")
        except ZsimError as exc:
            self._crashed(exc)
            raise CommandError(-errno.EFAULT, str(exc)) from None

    def _crashed(self, exc: BaseException) -> None:
        self.error = f"{type(exc).__name__}: {exc}"
        for line in str(exc).splitlines() or [type(exc).__name__]:
            self.emit(p.R_CONSOLE, {"text": f"FATAL: {line}"[:200]})

    # --------------------------------------------------------------- stimuli
    def _abs_sleep(self, target: int) -> None:
        bh.sleep_until(self.k, self.t0, target)

    def _start_stimuli(self) -> None:
        k = self.k
        for sid, st in sorted(self.stimuli.items()):
            if st["kind"] == "periodic":
                k.thread_create(self._periodic, sid, st, name=st["thread_name"],
                                priority=st["prio"], stack_size=st["stack_size"])
            else:
                k.thread_create(self._script, sid, st, name=st["thread_name"],
                                priority=st["prio"], stack_size=st["stack_size"])

    def _periodic(self, sid: int, st: dict[str, Any]) -> None:
        gen = p.PatternGen(seed=self.seed, stim=sid)
        count = None if st["count"] == p.COUNT_FOREVER else st["count"]
        bh.periodic(self.k, self.t0, st["start"], st["period"], count, lambda: self._send(
            st["source"], st["pool"], st["flags"], st["timeout"], st["size"], st["pattern"],
            st["arg"], gen, b"", 0, sid))

    def _script(self, sid: int, st: dict[str, Any]) -> None:
        gen = p.PatternGen(seed=self.seed, stim=sid)
        for i, (at, step) in enumerate(st["steps"]):
            self._abs_sleep(at)
            op = step["op"]
            try:
                if op == "send":
                    ret = self._send(step["source"], step["pool"], step["flags"],
                                     step["timeout"], step["size"], step["pattern"],
                                     step["arg"], gen, b"", 1, sid)
                    code = p.OP_SEND
                elif op == "process":
                    ret = self._process(step["queue"], step["timeout"])
                    code = p.OP_PROCESS
                elif op == "connect":
                    ret = self._connect_runtime(step["source"], step["sink"])
                    code = p.OP_CONNECT
                else:
                    ret = self._disconnect(step["source"], step["sink"])
                    code = p.OP_DISCONNECT
            except CommandError as exc:
                ret = exc.ret
                code = {"send": 1, "process": 2, "connect": 3, "disconnect": 4}[op]
            self.emit(p.R_STEP, {"stim": sid, "step": i, "op": code, "ret": ret})

    def _connect_runtime(self, src_id: int, sink_id: int) -> int:
        src = self._get(self.sources, src_id, "source")
        sink = self._get(self.sinks, sink_id, "sink")
        conn = self.conns.get((src_id, sink_id))
        if conn is None:
            conn = PacketConnection(src, sink)
            self.conns[(src_id, sink_id)] = conn
        try:
            return conn.add()
        except ZsimError:
            return -errno.ENOTSUP

    def _disconnect(self, src_id: int, sink_id: int) -> int:
        self._get(self.sources, src_id, "source")
        self._get(self.sinks, sink_id, "sink")
        conn = self.conns.get((src_id, sink_id))
        if conn is None:
            return -errno.ENOENT
        try:
            return conn.remove()
        except ZsimError:
            return -errno.ENOTSUP

    # --------------------------------------------------------------- commands
    def execute(self, typ: int, f: dict[str, Any]) -> tuple[int, dict[str, Any],
                                                            Callable[[], None] | None]:
        """Run one command: ``(ret, response fields, action to run after responding)``."""
        try:
            ret, extra, after = self._execute(typ, f)
        except CommandError as exc:
            return exc.ret, {}, None
        return ret, extra, after

    def _execute(self, typ: int, f: dict[str, Any]) -> tuple[int, dict[str, Any], Any]:
        if typ == p.HELLO:
            if f["proto"] in p.PROTO_VERSIONS:
                return 0, self.hello_fields(f["proto"]), None
            return -p.EPROTONOSUPPORT, self.hello_fields(), None
        if typ == p.PING:
            return 0, {"data": f["data"]}, None
        if typ == p.RESET:
            self._reset_state(f["seed"], f["flags"])
            cfg = {"PACKET_IO_STATS": bool(f["flags"] & 1),
                   "PACKET_IO_RUNTIME_OBSERVERS": bool(f["flags"] & 2)}
            self.k = Kernel(board=self.board_name, config=cfg, seed=f["seed"],
                            board_dirs=self.board_dirs, costs=self.costs)
            self.k.trace_to(self._trace)
            self.k.console.subscribe(self._console)
            self.direct_gen = p.PatternGen(seed=f["seed"], stim=p.NO_ID)
            return 0, {}, None
        if typ == p.READ_UPTIME:
            return 0, {"ticks": self.clock(), "running": int(self.running)}, None
        k = self._need_kernel()
        if typ == p.CREATE_POOL:
            self._new_id(self.pools, f["id"], "max_pools")
            if f["count"] < 1:
                raise CommandError(-errno.EINVAL, "a pool has at least one buffer")
            self._reserve(f"pool {f['name']!r}", buffers=f["count"],
                          pool_bytes=f["count"] * (f["size"] + f["user_data_size"]))
            try:
                pool = NetBufPool(k, f["name"], f["count"], f["size"], f["user_data_size"])
            except (ValueError, TypeError, ZsimError) as exc:
                self.buffers -= f["count"]
                self.pool_bytes -= f["count"] * (f["size"] + f["user_data_size"])
                ret = -errno.ENOMEM if "RAM" in str(exc) else -errno.EINVAL
                raise CommandError(ret, str(exc)) from None
            self.pools[f["id"]] = pool
            self.ids[id(pool)] = f["id"]
            return 0, {}, None
        if typ == p.CREATE_SOURCE:
            self._new_id(self.sources, f["id"], "max_sources")
            src = PacketSource(k, f["name"])
            self.sources[f["id"]] = src
            self.ids[id(src)] = f["id"]
            return 0, {}, None
        if typ == p.CREATE_QUEUE:
            self._new_id(self.queues, f["id"], "max_queues")
            size = self.queue_size_override or f["size"]
            if size < 1:
                raise CommandError(-errno.EINVAL, "a queue has at least one slot")
            self._reserve(f"queue {f['name']!r}", queue_slots=size)
            try:
                q = PacketEventQueue(k, f["name"], size)
            except (ValueError, TypeError, ZsimError) as exc:
                self.queue_slots -= size
                raise CommandError(-errno.EINVAL, str(exc)) from None
            self.queues[f["id"]] = q
            self.ids[id(q)] = f["id"]

            def loop(q: PacketEventQueue = q) -> None:
                while True:
                    q.process(K_FOREVER)
            k.thread_create(loop, name=f["thread_name"], priority=f["prio"],
                            stack_size=f["stack_size"])
            return 0, {}, None
        if typ == p.CREATE_SINK:
            self._new_id(self.sinks, f["id"], "max_sinks")
            if len(f["steps"]) > CAPACITY["max_steps"]:
                raise CommandError(-errno.ENOMEM, "too many steps")
            queue = None
            if f["queue"] != p.NO_ID:
                queue = self._get(self.queues, f["queue"], "queue")
            for st in f["steps"]:
                if st["op"] == "forward":
                    self._get(self.sources, st["source"], "source")
                    self._get(self.pools, st["pool"], "pool")
            sink = PacketSink(k, f["name"], self._make_handler(f["id"], f["steps"]),
                              queue=queue)
            self.sinks[f["id"]] = sink
            self.ids[id(sink)] = f["id"]
            return 0, {}, None
        if typ == p.CONNECT:
            if f["runtime"]:
                return self._connect_runtime(f["source"], f["sink"]), {}, None
            src = self._get(self.sources, f["source"], "source")
            sink = self._get(self.sinks, f["sink"], "sink")
            if self.started:
                raise CommandError(-errno.EBUSY)
            try:
                conn = connect(src, sink)
            except ZsimError:
                return -errno.EALREADY, {}, None
            self.conns[(f["source"], f["sink"])] = conn
            return 0, {}, None
        if typ == p.DISCONNECT:
            return self._disconnect(f["source"], f["sink"]), {}, None
        if typ == p.SEND:
            gen = self.direct_gen
            tmo = self._command_wait(f["timeout"])
            return self._in_kernel(lambda: self._send(
                f["source"], f["pool"], f["flags"], tmo, f["size"], f["pattern"],
                f["arg"], gen, f["data"], 3, p.NO_ID)), {}, None
        if typ == p.PROCESS:
            self._get(self.queues, f["queue"], "queue")
            tmo = self._command_wait(f["timeout"])
            return self._in_kernel(lambda: self._process(f["queue"], tmo)), {}, None
        if typ == p.ADD_PERIODIC:
            self._new_id(self.stimuli, f["stim"], "max_stimuli")
            self._get(self.sources, f["source"], "source")
            self._get(self.pools, f["pool"], "pool")
            if f["period"] == 0 and f["count"] > 1:     # sends forever at one instant
                raise CommandError(-errno.EINVAL, "a repeated stimulus needs a period")
            self.stimuli[f["stim"]] = {"kind": "periodic", **f}
            return 0, {}, None
        if typ == p.ADD_SCRIPT:
            self._new_id(self.stimuli, f["stim"], "max_stimuli")
            self.stimuli[f["stim"]] = {"kind": "script", "steps": [], **f}
            return 0, {}, None
        if typ == p.ADD_STEP:
            st = self._get(self.stimuli, f["stim"], "stimulus")
            if st["kind"] != "script" or self.started:
                raise CommandError(-errno.EINVAL if not self.started else -errno.EBUSY)
            if self.script_steps >= CAPACITY["max_script_steps"]:
                raise CommandError(-errno.ENOMEM)
            self.script_steps += 1
            st["steps"].append((f["at"], f["step"]))
            return 0, {}, None
        if typ == p.RUN:
            if self.running:
                return -errno.EBUSY, {}, None
            self.start_run(f["ticks"])
            return 0, {}, self.finish_run
        if typ == p.STOP:
            return 0, {}, None
        if typ == p.READ_STATS:
            return self._stats(f["kind"], f["id"])
        raise CommandError(-errno.ENOTSUP, f"unknown command 0x{typ:02X}")

    def start_run(self, n_ticks: int) -> None:
        """RUN accepted: a run of ``n_ticks`` ticks is in progress (``advance`` runs it)."""
        self.running = True
        self._run_ticks = n_ticks
        self._run_end = None

    def advance(self, max_ticks: int | None = None) -> bool:
        """Run the run in progress for at most ``max_ticks`` more ticks (None: to its end);
        True once it ended (R_RUN_DONE reported)."""
        if not self.running:
            return True
        k = self.k
        done = True
        try:
            if not self.started:
                self.started = True
                k.boot()
                self.t0 = k.uptime_ticks()
                self._start_stimuli()
            if self._run_end is None:
                self._run_end = self.clock() + self._run_ticks
            if self.error is None:
                before = self.clock()
                left = self._run_end - before
                n = left if max_ticks is None else min(left, max(1, max_ticks))
                if n > 0:
                    k.run(K_TICKS(n))
                # done at the end, or when the clock no longer moves
                done = self.clock() >= self._run_end or self.clock() == before
        except Exception as exc:  # a crash inside the firmware: reported, board survives
            self._crashed(exc)
            done = True
        if done:
            self.abort_run()
            self.emit(p.R_RUN_DONE, {})
        return done

    def finish_run(self) -> None:
        """Run the run in progress to its end."""
        while not self.advance():
            pass

    def abort_run(self) -> None:
        """Forget the run in progress (its host is gone), without a report."""
        self.running = False
        self._run_end = None

    def run(self, n_ticks: int) -> None:
        """RUN: advance the scenario by ``n_ticks`` ticks, then report R_RUN_DONE."""
        self.start_run(n_ticks)
        self.finish_run()

    def _stats(self, kind: int, i: int) -> tuple[int, dict[str, Any], None]:
        if kind == p.KIND_POOL:
            pool = self._get(self.pools, i, "pool")
            data = p.encode_stats(kind, {"free": pool.avail_count, "min_free": pool.min_avail})
            return 0, {"data": data}, None
        table = {p.KIND_SOURCE: self.sources, p.KIND_SINK: self.sinks,
                 p.KIND_QUEUE: self.queues}.get(kind)
        if table is None:
            raise CommandError(-errno.EINVAL)
        obj = self._get(table, i, "object")
        st = obj._stats
        if st is None:
            return -errno.ENOTSUP, {"data": b""}, None
        if kind == p.KIND_SOURCE:
            values = {"send_count": st.send_count, "queued_total": st.queued_total}
        elif kind == p.KIND_SINK:
            values = {"handled_count": st.handled_count, "dropped_count": st.dropped_count}
        else:
            values = {"processed_count": st.processed_count, "high_water": obj.high_water,
                      "depth": obj.depth}
        return 0, {"data": p.encode_stats(kind, values)}, None
