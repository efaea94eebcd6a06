"""The simulated kernel: virtual clock, timeout queue, scheduler and thread API.

One ``Kernel`` is one single-core Zephyr system. Threads are greenlets; the scheduler runs a
thread until it blocks, yields, sleeps, or a kernel call readies a more urgent thread while
it is preemptible and has interrupts unmasked (kernel/sched.c). Virtual time advances only
when every thread is idle, or when the running thread consumes CPU time (``busy_wait`` and
the board's cost model); timeouts expire at tick boundaries (kernel/timeout.c).

Time is kept in integer units fine enough to hold both a tick and a hardware cycle exactly.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from math import lcm
from typing import Any, TextIO

from greenlet import GreenletExit, greenlet

try:
    import cython
except ImportError:             # no Cython: the sources run as they are
    from .. import _nocython as cython
if cython.compiled:
    PyGreenlet_Import()  # noqa: F821 - .pxd

from .. import errno
from ..boards import BoardProfile, load_board
from ..config import Config, load_config
from ..errors import ContextError, DeadlockError, KernelAssertionError, ZsimError
from .console import Console, Logger
from .memory import Layout, MemoryEntry, MemoryReport
from .thread import DEAD, PENDING, PRESTART, READY, SLEEPING, SUSPENDED, RunLevel, Thread
from .time_units import K_MSEC, K_NO_WAIT, K_TICKS_FOREVER, K_USEC, Timeout, ceil_div
from .wait_q import WaitQ

_NEG_EAGAIN = -errno.EAGAIN    # what a pend returns when its timeout expires
_MAX_UNITS = (1 << 63) - 1     # virtual time is kept in a signed 64-bit count of units
_NEVER = _MAX_UNITS             # "no timeout queued", as an instant
ZEPHYR_VERSION = "v3.7.0"   # BANNER_VERSION: the Zephyr release zsim follows (git describe)


MAX_FAULTS = 1000                # fault messages kept (memory stays flat in long runs)


class _Timeout:
    """``struct _timeout``: an entry of the timeout queue, due at tick ``deadline``."""

    __slots__ = ("active", "fn", "arg", "deadline", "due", "seq", "index")

    def __init__(self, fn: Callable[[Any], None], arg: Any, deadline: int) -> None:
        self.active = False             # queued (set by Kernel._file)
        self.fn = fn
        self.arg = arg
        self.deadline = deadline
        self.due = 0                    # the deadline in time units, while queued
        self.seq = 0                    # arming order, among timeouts due at one instant
        self.index = -1                 # place in the timeout queue's heap, while queued


class RunResult:
    """Why ``Kernel.run`` returned, and the threads that can never run again."""

    __slots__ = ("reason", "uptime_ticks", "blocked")

    def __init__(self, reason: str, uptime_ticks: int, blocked: list[Thread]) -> None:
        self.reason = reason            # "until": duration reached; "idle": nothing can
        #                                 happen; "stopped": k.stop() was called
        self.uptime_ticks = uptime_ticks
        self.blocked = blocked          # threads blocked forever (only when reason == "idle")

    def __repr__(self) -> str:
        names = ", ".join(f"{t.name} on {_describe(t.waiting_on)}" for t in self.blocked)
        return f"<RunResult {self.reason} at tick {self.uptime_ticks}" + (
            f"; blocked forever: {names}>" if names else ">")


def _describe(obj: object) -> str:
    if obj is None:
        return "nothing (suspended)"
    name = getattr(obj, "name", None)
    return f"{type(obj).__name__} {name!r}" if name else type(obj).__name__


class Kernel:
    """One simulated Zephyr system on a profiled board."""

    def __init__(self, board: str | BoardProfile = "native_sim",
                 config: Mapping[str, object] | str | os.PathLike | Config | None = None,
                 seed: int = 0, *, echo: bool | TextIO = False,
                 board_dirs: Iterable[str | os.PathLike] = (),
                 costs: str | Mapping[str, float] = "board",
                 record_latency: bool = False) -> None:
        self.board = load_board(board, board_dirs)
        self.config = load_config(config, self.board)
        cfg = self.config
        self.ticks_per_sec = int(cfg.get("SYS_CLOCK_TICKS_PER_SEC") or self.board.ticks_per_sec)
        self.hw_cycles_per_sec = int(cfg.get("SYS_CLOCK_HW_CYCLES_PER_SEC")
                                     or self.board.hw_cycles_per_sec)
        self.cpu_clock_hz = int(self.board.cpu_clock_hz)
        units = lcm(self.ticks_per_sec, self.hw_cycles_per_sec, self.cpu_clock_hz)
        self.units_per_sec = units
        self._upt = units // self.ticks_per_sec      # time units per tick
        self._upc = units // self.hw_cycles_per_sec  # time units per hardware cycle
        self._ucpu = units // self.cpu_clock_hz      # time units per CPU cycle
        # Time is a 64-bit count of units (k_ticks_t and the cycle counter are 64-bit
        # too); a deadline beyond it is refused rather than wrapped (_beyond_time).
        self._max_tick = (_MAX_UNITS // self._upt) // 2
        self.seed = seed
        self.random = random.Random(seed)
        self.asserts = cfg.enabled("ASSERT")
        self.spin_validate = self.asserts and cfg.get("SPIN_VALIDATE", True) is not False
        self.console = Console(sys.stdout if echo is True else (echo or None))

        self._now = 0                   # current time in units
        # The timeout queue: a binary heap of the armed timeouts, earliest first and, at
        # one instant, in the order they were armed (kernel/timeout.c keeps that order
        # too). Each timeout knows its place, so arming, expiry and cancelling all cost
        # O(log n) and a cancelled timeout leaves nothing behind.
        self._heap: list[_Timeout] = []
        self._armed = 0                 # timeouts armed so far (their arming order)
        self._seq = 0
        self._rq: dict[int, RunLevel] = {}      # run queues by priority
        self._rq_first: RunLevel | None = None  # the non-empty ones, most urgent first
        self._current: Thread | None = None
        self._in_isr = False
        self._threads: list[Thread] = []
        self._static: list[Thread] = []
        self._booted = False
        self._boot_hooks: list[tuple[int, int, Callable[[Kernel], None]]] = []
        self._hub = greenlet(self._hub_main)
        self._start_g: greenlet | None = None     # a new thread the hub must start
        self._started = 0                          # threads started so far
        self._sleep_fn = self._sleep_expired     # one bound method: sleeps are told apart
        self._caller: greenlet | None = None
        self._stop: tuple | None = None
        self._stop_at: int | None = None
        self._call_thread: Thread | None = None
        self._idle_units = 0
        self._msec: dict[int, Timeout] = {}     # msleep's timeouts, by milliseconds
        self._msec_last: object = None          # the last of them, and its duration
        self._msec_last_to: Timeout | None = None
        self._isr_units = 0
        self._slice_ticks = 0
        if cfg.enabled("TIMESLICING") and int(cfg.get("TIMESLICE_SIZE") or 0) > 0:
            self._slice_ticks = ceil_div(int(cfg["TIMESLICE_SIZE"]) * self.ticks_per_sec, 1000)
        self._slice_prio = int(cfg.get("TIMESLICE_PRIORITY") or 0)
        self._set_costs(costs)
        self._tracer: Callable[..., None] | None = None
        self._trace_sched = True        # the tracer is told of switches and timeouts
        self.trace: list[tuple] = []
        self.bytes_copied = 0           # payload bytes copied by net_buf operations
        self._pools: list[Any] = []     # net_buf pools, for leak reports
        self._sys_work_q = None
        log_on = cfg.enabled("LOG")
        self._log_level = int(cfg.get("LOG_DEFAULT_LEVEL", 3)) if log_on else 0
        self._loggers: dict[str, Logger] = {}
        self.objects: list[Any] = []    # kernel and packet_io objects, in definition order
        self.link_symbols: set[str] = set()  # names that must be unique at link time
        self.faults: list[tuple[int, str]] = []  # (uptime ticks, message) of reported errors
        self.faults_total = 0           # all of them; ``faults`` keeps the first MAX_FAULTS
        # zsim's own measurement: packet_io sinks created from now on count their latencies
        self.record_latency = record_latency

    # ------------------------------------------------------------- cost model
    def _set_costs(self, costs: str | Mapping[str, float]) -> None:
        """Kernel-operation costs in CPU cycles: the board's (``"board"``), none
        (``"zero"``), or a mapping overriding some of the board's."""
        if costs == "zero":
            table: dict[str, float] = {}
        elif costs == "board":
            table = dict(self.board.costs)
        elif isinstance(costs, Mapping):
            table = {**self.board.costs, **costs}
        else:
            raise ValueError(f"costs must be 'board', 'zero' or a mapping, got {costs!r}")
        u = self._ucpu
        self._c_switch = round(table.get("thread_switch", 0) * u)
        self._c_msgq_put = round(table.get("msgq_put", 0) * u)
        self._c_msgq_get = round(table.get("msgq_get", 0) * u)
        self._c_sem_give = round(table.get("sem_give", 0) * u)
        self._c_sem_take = round(table.get("sem_take", 0) * u)
        self._c_alloc = round(table.get("net_buf_alloc", 0) * u)
        self._c_unref = round(table.get("net_buf_unref", 0) * u)
        self._c_isr = round(table.get("isr_entry_exit", 0) * u)
        self._c_timeout = round(table.get("timeout_add", 0) * u)
        bpc = float(table.get("copy_bytes_per_cycle", float("inf")) or float("inf"))
        self._c_copy_per_byte = 0.0 if bpc == float("inf") else u / bpc
        self.costs_enabled = any((self._c_switch, self._c_msgq_put, self._c_msgq_get,
                                  self._c_sem_give, self._c_sem_take, self._c_alloc,
                                  self._c_unref, self._c_isr, self._c_timeout,
                                  self._c_copy_per_byte))

    def _charge(self, units: int) -> None:
        """Advance time for kernel work done with interrupts masked (switch, ISR entry,
        timeout bookkeeping): interrupts falling due are taken at the next point."""
        self._now += units
        cur = self._current
        if cur is not None and not self._in_isr:
            cur.cpu_units += units
        else:
            self._idle_units += units if cur is None and not self._in_isr else 0
            self._isr_units += units if self._in_isr else 0

    def charge_copy(self, nbytes: int) -> None:
        """Charge a copy of ``nbytes`` at the board's bytes per cycle."""
        if self._c_copy_per_byte:
            self.consume(round(nbytes * self._c_copy_per_byte))

    # ------------------------------------------------------------------ time
    def uptime_ticks(self) -> int:
        """``k_uptime_ticks``: whole ticks since boot."""
        return self._now // self._upt

    def uptime_get(self) -> int:
        """``k_uptime_get``: milliseconds since boot, rounded down."""
        return (self._now // self._upt) * 1000 // self.ticks_per_sec

    def uptime_get_32(self) -> int:
        """``k_uptime_get_32``."""
        return self.uptime_get() & 0xFFFFFFFF

    def cycle_get(self) -> int:
        """``k_cycle_get_64``: hardware cycles since boot."""
        return self._now // self._upc

    def cycle_get_32(self) -> int:
        """``k_cycle_get_32``."""
        return self.cycle_get() & 0xFFFFFFFF

    @property
    def now_us(self) -> float:
        """Virtual time in microseconds (for reports, not for firmware logic)."""
        return self._now / self.units_per_sec * 1_000_000

    def ticks_of(self, timeout: Timeout) -> int:
        """The tick count of a timeout on this kernel's tick rate (-1 for ``K_FOREVER``)."""
        if not isinstance(timeout, Timeout):
            raise TypeError(f"expected a k_timeout_t such as K_MSEC(10), got {timeout!r}")
        to = timeout                    # a Timeout now (typed so in core.pxd)
        return to.ticks(self.ticks_per_sec)

    def _timepoint(self, timeout: Timeout, start: int) -> int | None:
        """``sys_timepoint_calc``: the tick a time budget of ``timeout`` from the instant
        ``start`` (time units) ends at; None for ``K_FOREVER``, 0 for no waiting."""
        ticks = self.ticks_of(timeout)
        if ticks == K_TICKS_FOREVER:
            return None
        to = timeout                    # a Timeout now (typed so in core.pxd)
        if to.kind == 1:                # absolute
            return ticks
        if ticks == 0:
            return 0
        return start // self._upt + ticks

    def _deadline(self, timeout: Timeout) -> int:
        """Expiry tick of a (non-forever) timeout queued now (kernel/timeout.c, z_add_timeout)."""
        t = timeout.ticks(self.ticks_per_sec)
        now = self._now // self._upt
        if timeout.kind == 1:           # absolute
            return now + max(1, t - now)
        return now + t + 1

    # --------------------------------------------------------------- timeouts
    def _add_timeout(self, deadline: int, fn: Callable[[Any], None], arg: Any) -> _Timeout:
        if deadline > self._max_tick:
            raise _beyond_time(self, deadline)
        to = _Timeout(fn, arg, deadline)
        if self._c_timeout:
            self._charge(self._c_timeout)
        self._file(to)
        return to

    def _file(self, to: _Timeout) -> None:
        """Queue a timeout (its ``deadline`` set) behind the others due at the same instant."""
        to.due = to.deadline * self._upt
        self._armed += 1
        to.seq = self._armed
        to.active = True
        h = self._heap
        h.append(to)
        self._sift_up(to, len(h) - 1)

    def _sift_up(self, to: _Timeout, i: int) -> None:
        """Move ``to`` from slot ``i`` of the heap towards the root until it is in order."""
        h = self._heap
        due = to.due
        while i > 0:
            j = (i - 1) >> 1
            up = h[j]
            if up.due < due or (up.due == due and up.seq < to.seq):
                break
            h[i] = up
            up.index = i
            i = j
        h[i] = to
        to.index = i

    def _sift_down(self, to: _Timeout, i: int) -> None:
        """Move ``to`` from slot ``i`` of the heap towards the leaves until it is in order."""
        h = self._heap
        n = len(h)
        due = to.due
        while True:
            j = 2 * i + 1
            if j >= n:
                break
            child = h[j]
            if j + 1 < n:
                other = h[j + 1]
                if other.due < child.due or (other.due == child.due and other.seq < child.seq):
                    j += 1
                    child = other
            if due < child.due or (due == child.due and to.seq < child.seq):
                break
            h[i] = child
            child.index = i
            i = j
        h[i] = to
        to.index = i

    def _unfile(self, to: _Timeout) -> None:
        """Take a queued timeout out of the heap."""
        h = self._heap
        i = to.index
        last = h.pop()
        to.index = -1
        to.active = False
        if last is not to:
            self._sift_up(last, i)
            if last.index == i:         # not before its parent: it may belong lower
                self._sift_down(last, i)

    def _cancel_timeout(self, to: _Timeout | None) -> None:
        if to is not None and to.active:
            self._unfile(to)

    def _next_due(self) -> int:
        """Time (units) of the earliest timeout; ``_NEVER`` when none is queued."""
        h = self._heap
        if h:
            first = h[0]
            return first.due
        return _NEVER

    def _next_event(self) -> int | None:
        """Time (units) of the earliest timeout, or None."""
        return self._heap[0].due if self._heap else None

    def _timer_due(self) -> bool:
        """Whether a timeout has fallen due (interrupts were masked meanwhile)."""
        h = self._heap
        if h:
            first = h[0]
            return first.due <= self._now
        return False

    def _announce(self) -> None:
        """``sys_clock_announce``: fire, in ISR context, every timeout due by now."""
        h = self._heap
        prev, self._in_isr = self._in_isr, True
        if self._c_isr:
            self._charge(self._c_isr)
        sleep_fn = self._sleep_fn
        try:
            while h:
                to = h[0]
                if to.due > self._now:
                    break
                self._unfile(to)        # (an expiry function may cancel the ones after it)
                if self._tracer is not None and self._trace_sched:
                    self._tracer("timeout", getattr(to.fn, "__name__", "?"))
                if to.fn is sleep_fn:   # _sleep_expired, inlined
                    t = to.arg
                    t.timeout = None
                    t.sleep_to = to     # spent: the thread's next sleep reuses it
                    self._ready(t)
                else:
                    to.fn(to.arg)
        except GreenletExit:
            raise
        except BaseException as exc:  # an ISR (timer expiry function) raised
            self._crash(None, exc)
        finally:
            self._in_isr = prev

    # -------------------------------------------------------------- run queue
    def _place(self, t: Thread) -> None:
        """Point a thread at the run queue of its priority."""
        lv = self._rq.get(t.prio)
        if lv is None:
            lv = self._rq[t.prio] = RunLevel(t.prio)
        t.rq = lv

    def _ready(self, t: Thread) -> None:
        """Make ``t`` ready: last of its priority (kernel/sched.c, ``z_priq_dumb_add``)."""
        t.state = READY
        lv = t.rq
        tail = lv.tail
        lv.tail = t                     # (t.q_prev and t.q_next are None while unqueued)
        if tail is not None:
            t.q_prev = tail
            tail.q_next = t
            return
        lv.head = t                     # the level was empty: link it in by priority
        prev = None
        nxt = self._rq_first
        while nxt is not None and nxt.prio < lv.prio:
            prev = nxt
            nxt = nxt.next
        lv.prev = prev
        lv.next = nxt
        if prev is None:
            self._rq_first = lv
        else:
            prev.next = lv
        if nxt is not None:
            nxt.prev = lv

    def _unready(self, t: Thread) -> None:
        lv = t.rq
        prv = t.q_prev
        nxt = t.q_next
        if nxt is None:
            lv.tail = prv
        else:
            nxt.q_prev = prv
            t.q_next = None
        if prv is not None:
            prv.q_next = nxt
            t.q_prev = None
            return
        lv.head = nxt
        if nxt is None:                 # the level is empty: unlink it
            before = lv.prev
            after = lv.next
            lv.prev = lv.next = None
            if before is None:
                self._rq_first = after
            else:
                before.next = after
            if after is not None:
                after.prev = before

    def _best(self) -> Thread | None:
        lv = self._rq_first
        return None if lv is None else lv.head

    # ------------------------------------------------------------- switching
    def _switch_to(self, nxt: Thread | None) -> None:
        if self._tracer is not None and self._trace_sched and (
                self._current is not None or nxt is not None):
            cur = self._current
            self._tracer("switch", cur.name if cur else "idle", nxt.name if nxt else "idle")
        if nxt is None:
            self._current = None
            self._hub.switch()
            return
        if self._c_switch:
            self._charge(self._c_switch)
        nxt.slice_start = self._now
        self._current = nxt
        nxt_g = nxt.g
        if nxt_g:
            if cython.compiled:
                _gswitch(nxt_g)  # noqa: F821 - .pxd
            else:
                nxt_g.switch()
        elif greenlet.getcurrent() is not self._hub:
            # A thread's first run starts from the hub: started from another thread's
            # stack, greenlets would nest and hundreds of threads exhaust the recursion limit.
            self._start_g = nxt_g
            self._hub.switch()
        else:
            self._first_run(nxt_g)

    def _first_run(self, g: greenlet) -> None:
        """Give a new thread its first run, from the hub.

        Compiled, successive threads start at staggered depths of the C stack: a greenlet
        switch saves what of the running thread's C stack lies where the next one's is,
        so threads that do not overlap there switch with half the copying."""
        self._started += 1
        if cython.compiled:
            zsim_start_deeper(g, (self._started & 3) * 4096)  # noqa: F821 - .pxd
        else:
            g.switch()

    def _swap(self) -> None:
        """The current thread gives up the CPU (it blocked or yielded): run the best one.

        When no thread is ready, the idle loop runs right here (advancing time to the next
        timeout and taking it) instead of in the hub, which saves a greenlet switch per
        idle period and none at all when the thread wakes itself."""
        cur = self._current
        if self._stop is not None:      # k.stop() or a crash: the hub hands back
            self._switch_to(None)
            return
        lv = self._rq_first
        if lv is not None:
            nxt = lv.head
        else:
            nxt = self._idle_here()
            if nxt is cur and nxt is not None:
                if self._tracer is not None and self._trace_sched:
                    self._tracer("switch", "idle", cur.name)
                if self._c_switch:
                    self._charge(self._c_switch)
                cur.slice_start = self._now
                self._current = cur
                return
        if nxt is not cur:
            self._switch_to(nxt)

    def _idle_here(self) -> Thread | None:
        """Idle until a thread is ready; None when the hub must take over (nothing can
        happen, the run's end is reached, or the run stops)."""
        if self._tracer is not None and self._trace_sched:
            self._tracer("switch", self._current.name if self._current else "idle", "idle")
        self._current = None
        while self._stop is None:
            nxt = self._next_due()
            if nxt == _NEVER:
                return None
            if self._stop_at is not None and nxt >= self._stop_at:
                return None
            if nxt > self._now:
                self._idle_units += nxt - self._now
                self._now = nxt
            self._announce()
            lv = self._rq_first
            if lv is not None:
                return lv.head
        return None

    def _resched(self, preempt_ok: bool = False) -> None:
        """A reschedule point (``z_reschedule``): switch if a more urgent thread is ready."""
        cur = self._current
        if cur is None or self._in_isr or cur.irq_locks:
            return
        if cur.prio < 0 and not preempt_ok and cur.state is READY:
            return
        nxt = self._best()
        if nxt is not cur:
            self._switch_to(nxt)

    def _halt(self) -> None:
        """Stop the world from inside a thread (after a crash): hand control to the hub."""
        self._current = None
        self._hub.switch()

    def _hub_main(self) -> None:
        while True:
            g = self._start_g
            if g is not None:
                self._start_g = None
                self._first_run(g)
                continue
            if self._stop is not None:
                self._hand_back()
                continue
            if self._stop_at is not None and self._now >= self._stop_at:
                self._hand_back(("until",))
                continue
            nxt = self._next_event()
            if nxt is not None and nxt <= self._now:
                self._announce()        # interrupts that fell due during masked work
                continue
            t = self._best()
            if t is not None:
                self._switch_to(t)
                continue
            self._current = None
            if nxt is None:
                stop_at = self._stop_at     # nothing can happen: idle to the run's end
                if stop_at is not None and stop_at > self._now:
                    self._idle_units += stop_at - self._now
                    self._now = stop_at
                self._hand_back(("idle",))
                continue
            stop_at = self._stop_at
            if stop_at is not None and nxt >= stop_at:
                if stop_at > self._now:
                    self._idle_units += stop_at - self._now
                    self._now = stop_at
                self._hand_back(("until",))
                continue
            if nxt > self._now:
                self._idle_units += nxt - self._now
                self._now = nxt
            self._announce()

    def _hand_back(self, reason: tuple | None = None) -> None:
        if reason is None:
            reason, self._stop = self._stop, None
        self._current = None
        self._caller.switch(reason)

    def _crash(self, t: Thread | None, exc: BaseException) -> None:
        if self._stop is None or self._stop[0] != "crash":
            self._stop = ("crash", t, exc)

    # ---------------------------------------------------------------- running
    def boot(self) -> None:
        """Finish start-up: run init hooks, then start ``@k.thread`` threads (by name)."""
        if self._booted:
            return
        self._booted = True
        self.memory_report().check()    # the link step: static RAM must fit the board
        self._boot_banner()
        for _level, _seq, hook in sorted(self._boot_hooks, key=lambda h: h[:2]):
            hook(self)
        # K_THREAD_DEFINE data lives in an iterable section sorted by name (kernel/init.c,
        # z_init_static_threads); threads are started in that order.
        for t in sorted(self._static, key=lambda t: t.name):
            self._schedule_new(t, t.delay)
        self._static.clear()

    def _boot_banner(self) -> None:
        """kernel/banner.c ``boot_banner()``: ``BOOT_DELAY`` ms of busy wait with its notice,
        then ``*** <BOOT_BANNER_STRING> <version><delay postfix> ***``."""
        cfg = self.config
        delay = cfg["BOOT_DELAY"]
        if delay > 0:
            self.printk(f"***** delaying boot {delay}ms (per build configuration) *****\n")
            self.busy_wait(delay * 1000)
        if cfg.enabled("BOOT_BANNER") and cfg.enabled("PRINTK"):
            postfix = f" (delayed boot {delay}ms)" if delay > 0 else ""
            self.printk(f"*** {cfg.get('BOOT_BANNER_STRING')} {ZEPHYR_VERSION}{postfix} ***\n")

    def add_boot_hook(self, fn: Callable[[Kernel], None], level: int = 0) -> None:
        """Run ``fn(k)`` at boot (a ``SYS_INIT`` analogue); lower ``level`` first."""
        if self._booted:
            fn(self)
        else:
            self._seq += 1
            self._boot_hooks.append((level, self._seq, fn))

    def _enter(self) -> tuple:
        self._caller = greenlet.getcurrent()
        try:
            reason = self._hub.switch()
        finally:
            self.console.flush()
        if reason[0] == "crash":
            _, t, exc = reason
            where = f"thread '{t.name}'" if t is not None else "an ISR (timer expiry function)"
            _name_context(exc, where)
            raise exc
        return reason

    def run(self, until: Timeout | None = None) -> RunResult:
        """Run the simulation for the duration ``until``, or until nothing can happen again.

        Events due exactly at the end of the duration are left for the next ``run``.
        """
        if self._current is not None or self._in_isr:
            raise ContextError("k.current is None", "zsim", "k.run() is called from inside "
                               "the simulation; call it from the test or the host program")
        self.boot()
        if until is None or (isinstance(until, Timeout) and until.is_forever):
            self._stop_at = None
        else:
            ticks = self.ticks_of(until)
            if until.is_absolute:
                stop_at = ticks * self._upt
            else:
                stop_at = self._now + ticks * self._upt
            if stop_at // self._upt > self._max_tick:
                raise _beyond_time(self, stop_at // self._upt)
            self._stop_at = stop_at
        self._call_thread = None
        reason = self._enter()[0]
        blocked = self.blocked_threads() if reason == "idle" else []
        return RunResult(reason, self.uptime_ticks(), blocked)

    def stop(self) -> None:
        """End the current ``run``/``call`` at the next reschedule point (reason
        ``"stopped"``); a later ``run`` continues from there. Harnesses use it once they
        have seen what they wait for."""
        if self._stop is None:
            self._stop = ("stopped",)

    def call(self, fn: Callable[..., Any], *args: Any, priority: int = 0,
             name: str | None = None) -> Any:
        """Run ``fn(*args)`` in a new thread, simulate until it returns, return its result."""
        if self._current is not None or self._in_isr:
            raise ContextError("k.current is None", "zsim", "k.call() is called from inside "
                               "the simulation; call the function directly instead")
        self.boot()
        t = self._new_thread(fn, args, name or getattr(fn, "__name__", "call"), priority, 1024)
        t.harness = True                # the test body's thread, not the firmware's
        self._call_thread = t
        self._stop_at = None
        self._schedule_new(t, K_NO_WAIT)
        try:
            reason = self._enter()
        finally:
            self._call_thread = None
        if t.state is not DEAD:
            raise DeadlockError(f"k.call({t.name}): the thread can never return: it is "
                                f"{t.state} on {_describe(t.waiting_on)} and nothing else "
                                f"can happen (reason: {reason[0]})")
        return t.result

    def blocked_threads(self) -> list[Thread]:
        """Threads waiting with no timeout (blocked forever when nothing else can happen)."""
        return [t for t in self._threads
                if t.state in (PENDING, SUSPENDED) and t.timeout is None and not t.service]

    @property
    def threads(self) -> list[Thread]:
        """Every thread created, in creation order."""
        return list(self._threads)

    @property
    def current(self) -> Thread | None:
        """``k_current_get``: the running thread (None outside threads)."""
        return self._current

    @property
    def in_isr(self) -> bool:
        """``k_is_in_isr``."""
        return self._in_isr

    # ---------------------------------------------------------------- threads
    def _new_thread(self, fn: Callable[..., Any], args: tuple, name: str | None, priority: int,
                    stack_size: int) -> Thread:
        if not callable(fn):
            raise TypeError(f"thread entry must be callable, got {fn!r}")
        if not isinstance(priority, int):
            raise TypeError(f"thread priority must be an int, got {priority!r}")
        t = Thread(self, fn, args, name or getattr(fn, "__name__", "thread"), priority,
                   stack_size)
        t.created_at = self._now
        self._place(t)
        self._threads.append(t)
        return t

    def thread_create(self, fn: Callable[..., Any], *args: Any, name: str | None = None,
                      priority: int = 0, stack_size: int = 1024,
                      delay: Timeout = K_NO_WAIT) -> Thread:
        """``k_thread_create``: a thread that starts now, after ``delay``, or (K_FOREVER) on
        ``start()``. Created from a thread, a more urgent new thread runs at once."""
        t = self._new_thread(fn, args, name, priority, stack_size)
        self._schedule_new(t, delay)
        return t

    def thread(self, fn: Callable[..., Any] | None = None, *, name: str | None = None,
               priority: int = 0, stack_size: int = 1024, delay: Timeout = K_NO_WAIT,
               args: tuple = ()) -> Any:
        """Decorator, the ``K_THREAD_DEFINE`` analogue; returns the ``Thread``.

        Threads defined before the kernel boots start at boot in order of name, as the
        linker sorts ``K_THREAD_DEFINE`` data.
        """
        def define(f: Callable[..., Any]) -> Thread:
            t = self._new_thread(f, tuple(args), name, priority, stack_size)
            t.is_static = True
            t.delay = delay
            if self._booted:
                self._schedule_new(t, delay)
            else:
                self._static.append(t)
            return t
        return define(fn) if fn is not None else define

    def main_thread(self, fn: Callable[..., Any], *args: Any) -> Thread:
        """The firmware's ``main()``: a thread named ``main`` at
        ``CONFIG_MAIN_THREAD_PRIORITY`` on the ``CONFIG_MAIN_STACK_SIZE`` stack the kernel
        already reserves; it starts at once, ahead of equal-priority static threads."""
        cfg = self.config
        t = self._new_thread(fn, args, "main", int(cfg.get("MAIN_THREAD_PRIORITY", 0)),
                             int(cfg.get("MAIN_STACK_SIZE", 1024)))
        t.is_main = True
        self._schedule_new(t, K_NO_WAIT)
        return t

    def _schedule_new(self, t: Thread, delay: Timeout) -> None:
        ticks = self.ticks_of(delay)
        if ticks == K_TICKS_FOREVER:
            t.state = PRESTART
        elif ticks == 0 and not delay.is_absolute:
            self._start(t)
        else:
            t.state = PRESTART
            t.timeout = self._add_timeout(self._deadline(delay), self._start_timeout, t)

    def _start_timeout(self, t: Thread) -> None:
        t.timeout = None
        self._start(t)

    def _start(self, t: Thread) -> None:
        t.g = greenlet(partial(self._entry, t), parent=self._hub)
        if self._tracer is not None:
            self._tracer("thread_start", t.name)
        self._ready(t)
        self._resched()

    def thread_start(self, t: Thread) -> None:
        """``k_thread_start``."""
        if t.state is PRESTART:
            self._cancel_timeout(t.timeout)
            t.timeout = None
            self._start(t)

    def _entry(self, t: Thread) -> None:
        try:
            t.result = t.fn(*t.args)
        except GreenletExit:
            raise
        except _Abort:
            pass
        except BaseException as exc:
            t.exc = exc
            self._crash(t, exc)
        self._exit(t)

    def _exit(self, t: Thread) -> None:
        if t.state is READY:
            self._unready(t)
        t.state = DEAD
        if self._tracer is not None:
            self._tracer("thread_exit", t.name)
        if t.joiners:
            while t.joiners:
                self._wake(t.joiners.first(), 0)
        if t is self._call_thread and self._stop is None:
            self._stop = ("done",)

    def thread_abort(self, t: Thread) -> None:
        """``k_thread_abort``."""
        if t.state is DEAD:
            return
        if t is self._current and not self._in_isr:
            raise _Abort()
        if t.state is READY:
            self._unready(t)
        elif t.waitq is not None:
            t.waitq.remove(t)
            t.waitq = None
        self._cancel_timeout(t.timeout)
        t.timeout = None
        self._exit(t)
        t.g = None
        self._resched()

    def thread_join(self, t: Thread, timeout: Timeout) -> int:
        """``k_thread_join``."""
        if t.state is DEAD:
            return 0
        if self.ticks_of(timeout) == 0:
            return -errno.EBUSY
        if t is self._current or (self._current is not None
                                  and self._current.waiting_on is t):
            return -errno.EDEADLK
        if t.joiners is None:
            t.joiners = WaitQ(t)
        return self._pend(t.joiners, timeout)

    def thread_priority_set(self, t: Thread, prio: int) -> None:
        """``k_thread_priority_set``: requeue at the back of the new priority, reschedule."""
        self._set_prio(t, prio)
        t.base_prio = prio
        self._resched(preempt_ok=True)

    def _set_prio(self, t: Thread, prio: int) -> bool:
        """``z_thread_prio_set``; True if the thread is ready (a reschedule is needed)."""
        if t.state is READY:
            self._unready(t)
            t.prio = prio
            self._place(t)
            self._ready(t)
            return True
        t.prio = prio
        self._place(t)
        if t.state is PENDING and t.waitq is not None:
            t.waitq.reprioritise(t)
        return False

    def thread_suspend(self, t: Thread) -> None:
        """``k_thread_suspend``."""
        if t.state is READY:
            self._unready(t)
        elif t.state in (SLEEPING, PRESTART):
            self._cancel_timeout(t.timeout)
            t.timeout = None
        elif t.state is not SUSPENDED:
            return  # pending threads are suspended after they wake in Zephyr; kept simple
        t.state = SUSPENDED
        if t is self._current:
            self._swap()

    def thread_resume(self, t: Thread) -> None:
        """``k_thread_resume``."""
        if t.state is SUSPENDED:
            self._ready(t)
            self._resched()

    # ---------------------------------------------------------- thread calls
    def _thread_only(self, what: str) -> Thread:
        cur = self._current
        if self._in_isr:
            raise ContextError("!arch_is_in_isr()", "kernel/sched.c", f"{what} called from an "
                               "ISR (a timer expiry function runs in ISR context)")
        if cur is None:
            raise ContextError("_current != NULL", "zsim", f"{what} called outside any "
                               "simulated thread; run the code in a thread (k.call, "
                               "k.thread_create or @k.thread)")
        return cur

    def sleep(self, timeout: Timeout) -> int:
        """``k_sleep``: 0, or the milliseconds left when woken early by ``wakeup``."""
        cur = self._current
        if cur is None or self._in_isr:
            cur = self._thread_only("k_sleep")
        if timeout.__class__ is Timeout and timeout._tps == self.ticks_per_sec:
            ticks = timeout._ticks      # Timeout.ticks, already converted at this rate
        else:
            ticks = self.ticks_of(timeout)
        if ticks == K_TICKS_FOREVER:
            self.thread_suspend(cur)
            return K_TICKS_FOREVER
        left = self._tick_sleep(cur, timeout, ticks)
        return ceil_div(left * 1000, self.ticks_per_sec) if left else 0

    def msleep(self, ms: int) -> int:
        """``k_msleep``."""
        if ms is self._msec_last:       # the same duration as last time (most loops)
            timeout = self._msec_last_to
        else:
            timeout = self._msec.get(ms)
            if timeout is None:
                timeout = K_MSEC(ms)
                if len(self._msec) < 4096:
                    self._msec[ms] = timeout
            self._msec_last = ms
            self._msec_last_to = timeout
        cur = self._current
        tps = timeout._tps
        if (cur is not None and not self._in_isr and timeout._ticks > 0
                and (tps is self.ticks_per_sec or tps == self.ticks_per_sec)):
            left = self._tick_sleep(cur, timeout, timeout._ticks)
            return ceil_div(left * 1000, self.ticks_per_sec) if left else 0
        return self.sleep(timeout)

    def usleep(self, us: int) -> int:
        """``k_usleep``: 0, or the microseconds left when woken early."""
        cur = self._thread_only("k_usleep")
        timeout = K_USEC(us)
        left = self._tick_sleep(cur, timeout, self.ticks_of(timeout))
        return ceil_div(left * 1_000_000, self.ticks_per_sec)

    def _tick_sleep(self, cur: Thread, timeout: Timeout, ticks: int) -> int:
        """``z_tick_sleep``: a zero sleep yields; returns ticks left before the wake-up."""
        if ticks == 0 and timeout.kind != 1:     # relative zero: a yield
            self.yield_()
            return 0
        if ticks > self._max_tick:
            raise _beyond_time(self, ticks)
        now = self._now // self._upt
        if timeout.kind == 1:           # absolute
            expected, deadline = ticks, now + max(1, ticks - now)
        else:
            expected, deadline = now + ticks, now + ticks + 1
        if cur.irq_locks and self.spin_validate:
            raise _switch_under_lock()
        lv = self._rq_first
        if (lv is cur.rq and lv.next is None and not self.costs_enabled   # only cur's level
                and (self._tracer is None or not self._trace_sched) and self._stop is None):
            # Nothing else is ready: when this wake-up is also the next event, idle in place
            # (no timeout record, no switch); the same as sleeping and being woken by it.
            due = deadline * self._upt
            if (self._next_due() > due and (self._stop_at is None or due < self._stop_at)
                    and cur.q_prev is None and cur.q_next is None):
                self._idle_units += due - self._now
                self._now = due
                cur.slice_start = due
                return max(expected - deadline, 0)
        self._unready(cur)
        cur.state = SLEEPING
        to = cur.sleep_to               # _add_timeout, reusing the thread's spent timeout
        if to is None:
            to = _Timeout(self._sleep_fn, cur, deadline)
        else:
            cur.sleep_to = None
            to.active = True
            to.deadline = deadline
        if self._c_timeout:
            self._charge(self._c_timeout)
        cur.timeout = to
        self._file(to)
        lv = self._rq_first
        if lv is not None and self._stop is None:   # _swap's common case: one is ready
            self._switch_to(lv.head)
        else:
            self._swap()
        return max(expected - self._now // self._upt, 0)

    def _sleep_expired(self, t: Thread) -> None:
        t.timeout = None
        self._ready(t)

    def wakeup(self, t: Thread) -> None:
        """``k_wakeup``: end a sleep early (a ``K_FOREVER`` sleep, a suspension, too)."""
        if t.state is SLEEPING:
            self._cancel_timeout(t.timeout)
            t.timeout = None
            self._ready(t)
            self._resched()
        elif t.state is SUSPENDED:      # z_impl_k_wakeup un-suspends a non-pending thread
            self._ready(t)
            self._resched()

    def yield_(self) -> None:
        """``k_yield``: go behind the other ready threads of the same priority."""
        cur = self._thread_only("k_yield")
        if cur.irq_locks and self.spin_validate:
            raise _switch_under_lock()
        self._unready(cur)
        self._ready(cur)
        self._swap()

    def busy_wait(self, us: int | float) -> None:
        """``k_busy_wait``: spin for ``us`` µs of CPU time (hardware cycles, rounded down).

        More urgent threads woken by timer interrupts meanwhile still preempt."""
        cycles = int(us * self.hw_cycles_per_sec // 1_000_000)
        self.consume(cycles * self._upc)

    def consume_cycles(self, cycles: int) -> None:
        """Charge ``cycles`` CPU cycles (at the board's CPU clock) to the running context,
        like a handler's cost; more urgent threads woken meanwhile still preempt."""
        self.consume(round(cycles * self._ucpu))

    def consume_us(self, us: float) -> None:
        """Charge ``us`` microseconds of CPU time to the running context."""
        self.consume(round(us * self.units_per_sec / 1_000_000))

    def consume(self, units: int) -> None:
        """Advance virtual time by ``units`` of CPU work in the running context."""
        if units <= 0:
            return
        cur = self._current
        end = self._now + units
        if cur is None or self._in_isr:
            self._now = end             # an ISR (or code outside threads) spins
            return
        while True:
            nxt = None if cur.irq_locks else self._next_event()
            slice_end = None
            if self._slice_ticks and cur.prio >= 0 and cur.prio >= self._slice_prio:
                slice_end = (cur.slice_start // self._upt + self._slice_ticks) * self._upt
                if slice_end <= self._now:
                    slice_end = None
            if slice_end is not None and (nxt is None or slice_end < nxt):
                nxt, is_slice = slice_end, True
            else:
                is_slice = False
            stop_at = self._stop_at
            if stop_at is not None and stop_at < end and (nxt is None or stop_at <= nxt):
                # The run's end falls inside this work: pause here; the next run resumes.
                if stop_at > self._now:
                    cur.cpu_units += stop_at - self._now
                    self._now = stop_at
                self._current = None
                left = end - self._now
                self._hub.switch()
                end = self._now + left
                continue
            if nxt is None or nxt > end:
                if end > self._now:
                    cur.cpu_units += end - self._now
                    self._now = end
                return
            if nxt > self._now:
                cur.cpu_units += nxt - self._now
                self._now = nxt
            if is_slice:
                cur.slice_start = self._now
                self._unready(cur)
                self._ready(cur)
            else:
                self._announce()
                if self._stop is not None:
                    self._halt()
            left = end - self._now
            self._resched()
            if left <= 0:
                return
            end = self._now + left      # time others ran while preempted is not this work

    def _irq_unlocked(self) -> None:
        """Interrupts were unmasked: take timer interrupts that fell due meanwhile."""
        if self._timer_due():
            self._announce()
            if self._stop is not None:
                self._halt()
            self._resched()

    # ----------------------------------------------------------- wait queues
    def _pend(self, waitq: WaitQ, timeout: Timeout, data: Any = None) -> int:
        """``z_pend_curr``: block the current thread on ``waitq``; returns the wake result
        (``-EAGAIN`` when the timeout expires first)."""
        cur = self._current
        if cur is None or self._in_isr:
            self._thread_only(f"a blocking call on {_describe(waitq.owner)}")
        if cur.irq_locks and self.spin_validate:
            raise _switch_under_lock()
        self._unready(cur)
        cur.state = PENDING
        cur.waitq = waitq
        cur.retval = _NEG_EAGAIN
        cur.data = data                 # ``swap_data``: what a pended sender offers
        waitq.add(cur)
        if timeout.kind != -1:          # not K_FOREVER
            cur.timeout = self._add_timeout(self._deadline(timeout), self._pend_expired, cur)
        self._swap()
        return cur.retval

    def _pend_expired(self, t: Thread) -> None:
        t.timeout = None
        if t.waitq is not None:
            t.waitq.remove(t)
            t.waitq = None
        t.retval = _NEG_EAGAIN
        self._ready(t)

    def _unpend(self, t: Thread) -> None:
        if t.waitq is not None:
            t.waitq.remove(t)
            t.waitq = None
        if t.timeout is not None:
            self._cancel_timeout(t.timeout)
            t.timeout = None

    def _wake_first(self, waitq: WaitQ, retval: int, data: Any = None) -> Thread:
        """Wake the most urgent waiter of a non-empty ``waitq`` (no reschedule)."""
        t = waitq.pop()
        t.waitq = None
        if t.timeout is not None:
            self._cancel_timeout(t.timeout)
            t.timeout = None
        t.retval = retval
        t.data = data
        self._ready(t)
        return t

    def _wake(self, t: Thread, retval: int, data: Any = None) -> Thread:
        """Unpend ``t`` and make it ready with ``retval`` (no reschedule)."""
        self._unpend(t)
        t.retval = retval
        t.data = data
        self._ready(t)
        return t

    def _check_isr_timeout(self, timeout: Timeout, what: str) -> None:
        """Zephyr's ``__ASSERT(!arch_is_in_isr() || K_TIMEOUT_EQ(timeout, K_NO_WAIT))``."""
        if self._in_isr and self.asserts and timeout.ticks(self.ticks_per_sec) != 0:
            raise ContextError("!arch_is_in_isr() || K_TIMEOUT_EQ(timeout, K_NO_WAIT)",
                               what, "a blocking timeout given in ISR context")

    # ------------------------------------------------------------ console
    def printk(self, fmt: str, *args: object) -> None:
        """``printk``: write to the console (printf-style arguments)."""
        self.console.write(fmt % args if args else fmt)

    def log_module(self, name: str, level: int | None = None) -> Logger:
        """``LOG_MODULE_REGISTER(name, level)``: a logger writing Zephyr-format lines."""
        lvl = self._log_level if level is None else (min(level, 4) if self._log_level else 0)
        logger = Logger(self, name, lvl)
        self._loggers[name] = logger
        return logger

    def trace_to(self, sink: Callable[..., None] | None = None, *,
                 sched: bool = True) -> list[tuple]:
        """Record kernel events (switches, timeouts, starts, exits, deliveries) as tuples
        ``(time_units, kind, *fields)``; into ``k.trace`` unless ``sink`` is given.
        ``sched=False``: the sink is not told of switches and timeouts (and a thread that
        sleeps with nothing else to run idles in place, as in an untraced run)."""
        self._trace_sched = sched
        if sink is None:
            self.trace = []
            append = self.trace.append

            def sink(kind: str, *fields: object) -> None:
                append((self._now, kind) + tuple(_trace_value(f) for f in fields))
        self._tracer = sink
        return self.trace

    def fault(self, message: str) -> None:
        """Record an error the firmware reports without crashing (shown in summaries); the
        first ``MAX_FAULTS`` are kept with their message, the rest only counted."""
        self.faults_total += 1
        if len(self.faults) < MAX_FAULTS:
            self.faults.append((self.uptime_ticks(), message))

    def register(self, obj: Any) -> None:
        """Record a kernel or packet_io object (for memory and summary reports)."""
        self.objects.append(obj)

    # ------------------------------------------------------------- work queue
    @property
    def sys_work_q(self) -> Any:
        """The system work queue (``k_sys_work_q``), started on first use."""
        if self._sys_work_q is None:
            from .work import WorkQueue
            q = WorkQueue(self, "sysworkq")
            q.start(priority=int(self.config.get("SYSTEM_WORKQUEUE_PRIORITY", -1)),
                    stack_size=int(self.config.get("SYSTEM_WORKQUEUE_STACK_SIZE", 1024)))
            q.thread.service = True
            self._sys_work_q = q
        return self._sys_work_q

    # ------------------------------------------------------------- reports
    def memory_report(self) -> MemoryReport:
        """Static RAM (and ROM) of the firmware: kernel stacks, threads and every object."""
        cfg = self.config
        lay = Layout(self.board.pointer_size, cfg)
        rep = MemoryReport(self.board.identifier, self.board.ram_kib * 1024,
                           self.board.flash_kib * 1024)
        add = rep.entries.append
        th = lay.thread

        def stack(n: object) -> int:
            return lay.round_up(int(n or 0), 8)

        add(MemoryEntry("main", "thread", stack(cfg.get("MAIN_STACK_SIZE", 1024)) + th,
                        "CONFIG_MAIN_STACK_SIZE + k_thread"))
        add(MemoryEntry("idle", "thread", stack(cfg.get("IDLE_STACK_SIZE", 320)) + th,
                        "CONFIG_IDLE_STACK_SIZE + k_thread"))
        add(MemoryEntry("interrupt stack", "stack", stack(cfg.get("ISR_STACK_SIZE", 2048)),
                        "CONFIG_ISR_STACK_SIZE"))
        add(MemoryEntry("sysworkq", "thread",
                        stack(cfg.get("SYSTEM_WORKQUEUE_STACK_SIZE", 1024)) + th,
                        "CONFIG_SYSTEM_WORKQUEUE_STACK_SIZE + k_thread"))
        if int(cfg.get("HEAP_MEM_POOL_SIZE") or 0):
            add(MemoryEntry("system heap", "heap", int(cfg["HEAP_MEM_POOL_SIZE"]),
                            "CONFIG_HEAP_MEM_POOL_SIZE"))
        if cfg.enabled("LOG") and not cfg.enabled("LOG_MODE_IMMEDIATE"):
            add(MemoryEntry("log buffer", "log", int(cfg.get("LOG_BUFFER_SIZE") or 1024),
                            "CONFIG_LOG_BUFFER_SIZE (deferred logging)"))
        for t in self._threads:
            if not (t.service or t.harness or t.is_main):
                add(MemoryEntry(t.name, "thread", stack(t.stack_size) + th,
                                f"{t.stack_size} B stack + k_thread"))
        for obj in self.objects:
            usage = getattr(obj, "ram_usage", None)
            if usage is not None:
                rep.entries.extend(usage(lay))
        return rep

    def leaks(self) -> list[Any]:
        """Every net_buf still held, each with where it was allocated."""
        return [buf for pool in self._pools for buf in pool.outstanding()]

    def leak_report(self) -> list[str]:
        """One line per net_buf still held: pool, index, count, and where it was allocated
        (file:line in function, by which thread, at what uptime)."""
        lines = []
        for buf in self.leaks():
            file, line, func = buf.alloc_site or ("?", 0, "?")
            who = buf.alloc_thread.name if buf.alloc_thread is not None else "no thread"
            ms = buf.alloc_time * 1000 / self.units_per_sec
            lines.append(f"net_buf #{buf.index} of pool {buf.pool.name!r} (ref {buf.refcount}, "
                         f"len {buf.len}) allocated at {file}:{line} in {func}() by {who} "
                         f"at {ms:.3f} ms")
        return lines

    def cpu_report(self) -> dict[str, float]:
        """CPU time (µs) consumed by each thread, plus ``idle``; threads sharing a name are
        told apart as ``name#2``, ``name#3`` in creation order."""
        per: dict[str, float] = {}
        for t in self._threads:
            key, n = t.name, 1
            while key in per:
                n += 1
                key = f"{t.name}#{n}"
            per[key] = t.cpu_units * 1e6 / self.units_per_sec
        per["idle"] = self._idle_units * 1e6 / self.units_per_sec
        return per


def _trace_value(value: object) -> object:
    """A trace field as plain data: objects by their trace id or name."""
    if value is None or isinstance(value, (int, float, str)):
        return value
    tid = getattr(value, "trace_id", None)
    if tid is not None:
        return tid
    return getattr(value, "name", repr(value))


class _Abort(BaseException):
    """Raised inside a thread that aborts itself."""


def _beyond_time(k: Kernel, ticks: int) -> OverflowError:
    years = k._max_tick / k.ticks_per_sec / (365.25 * 86400)
    return OverflowError(f"tick {ticks} is beyond the time zsim can represent on this board "
                         f"({k._max_tick} ticks, {years:,.0f} years of uptime)")


def _switch_under_lock() -> KernelAssertionError:
    return KernelAssertionError(
        "arch_irq_unlocked(key) || _current->base.thread_state & (_THREAD_DUMMY)",
        "kernel/include/kswap.h", "Context switching while holding lock!")


def _name_context(exc: BaseException, where: str) -> None:
    """Make the exception's message name the thread or ISR it was raised in."""
    if getattr(exc, "zsim_context", None):
        return
    exc.zsim_context = where
    tag = f"[in {where}] "
    args = exc.args
    if args and isinstance(args[0], str):
        exc.args = (tag + args[0],) + tuple(args[1:])
    elif not args:
        exc.args = (tag.strip(),)
    if hasattr(exc, "add_note"):
        exc.add_note(f"raised in {where} of the zsim simulation")


__all__ = ["Kernel", "RunResult", "ZsimError"]
