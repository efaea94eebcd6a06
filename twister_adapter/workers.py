"""Tasks in worker processes that can be killed: a wall-clock limit per task, a stop check.

``WorkerPool(fn, jobs)`` keeps up to ``jobs`` processes (started with ``spawn``), each
running ``fn(payload)`` for one task at a time. A task that outlives its limit, or is
running when ``stop()`` says so, has its process killed (a fresh one replaces it); a
process that dies reports its task as ``died``. Every wait is bounded: the pool polls
``stop()`` at least every ``poll`` seconds. A worker that loses its parent ends when its
task's limit (plus a margin) has passed (``SIGALRM``) or when it next waits for work.
"""

from __future__ import annotations

import math
import multiprocessing
import signal
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from zsim.errors import ZsimError

from .interrupts import ignore_stop_signals_in_worker, signal_name, signals_blocked

START_TIMEOUT = 120.0
"""Wall seconds a new worker process may take to start."""
ORPHAN_MARGIN = 30
"""Seconds past its task's limit after which a worker ends itself (its parent is gone)."""


class WorkerStartError(ZsimError):
    """A worker process could not be started."""


@dataclass
class Finished:
    """How one task ended: ``done`` (``value`` is the result), ``raised`` (``value`` is
    the traceback), ``timeout``, ``died`` (``detail`` says how) or ``stopped``
    (``started``: it was running)."""

    index: int
    kind: str
    value: Any = None
    detail: str = ""
    started: bool = True


def _serve(conn: Connection, fn: Callable[[Any], Any]) -> None:
    """A worker process: run ``fn`` on each task received until told to stop."""
    ignore_stop_signals_in_worker()
    alarm = getattr(signal, "alarm", None)
    conn.send(("ready",))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        index, payload, limit = msg
        if alarm is not None:
            alarm(max(1, math.ceil(limit)) + ORPHAN_MARGIN)
        try:
            reply: tuple[Any, ...] = ("done", index, fn(payload))
        except BaseException:  # noqa: BLE001 - reported to the parent, whatever it is
            reply = ("raised", index, traceback.format_exc())
        if alarm is not None:
            alarm(0)
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return
        except Exception:  # noqa: BLE001 - the result could not be pickled
            conn.send(("raised", index, traceback.format_exc()))


@dataclass
class _Worker:
    proc: Any
    conn: Connection
    spawned: float
    ready: bool = False
    task: int | None = None
    deadline: float = math.inf


def _how_it_ended(proc: Any) -> str:
    code = proc.exitcode
    if code is None:
        return "still running"
    if code < 0:
        return f"killed by {signal_name(-code)}"
    return f"exit status {code}"


class WorkerPool:
    """Up to ``jobs`` worker processes running ``fn`` (a module-level function)."""

    def __init__(self, fn: Callable[[Any], Any], jobs: int, *, poll: float = 0.1) -> None:
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}")
        self.fn = fn
        self.jobs = jobs
        self.poll = poll
        self._ctx = multiprocessing.get_context("spawn")
        self._workers: list[_Worker] = []

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ processes
    def _spawn(self) -> None:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_serve, args=(child, self.fn), daemon=True,
                                 name="zsim-twister-worker")
        with signals_blocked():
            proc.start()
        child.close()
        self._workers.append(_Worker(proc, parent, time.monotonic()))

    def _kill(self, w: _Worker) -> None:
        if w.proc.is_alive():
            w.proc.kill()
        w.proc.join(5)
        w.conn.close()
        self._workers.remove(w)

    def close(self) -> None:
        """Stop every worker: idle ones are asked to leave, busy ones are killed."""
        for w in list(self._workers):
            if w.task is None and w.ready:
                try:
                    w.conn.send(None)
                except OSError:
                    pass
                w.proc.join(2)
            self._kill(w)

    # ------------------------------------------------------------------ running
    def run(self, tasks: Sequence[tuple[Any, float]], on_finished: Callable[[Finished], None],
            stop: Callable[[], bool] = lambda: False) -> bool:
        """Run ``tasks`` (payload, wall-clock limit in seconds), calling ``on_finished`` as
        each ends; True when ``stop()`` cut the run short (every task not finished is then
        reported ``stopped``)."""
        pending = deque(range(len(tasks)))
        while pending or any(w.task is not None for w in self._workers):
            if stop():
                for w in [w for w in self._workers if w.task is not None]:
                    index = w.task
                    self._kill(w)
                    on_finished(Finished(index, "stopped", started=True))
                for index in pending:
                    on_finished(Finished(index, "stopped", started=False))
                return True
            busy = sum(1 for w in self._workers if w.task is not None)
            while len(self._workers) < min(self.jobs, busy + len(pending)):
                self._spawn()
            now = time.monotonic()
            for w in self._workers:
                if w.ready and w.task is None and pending:
                    index = pending.popleft()
                    payload, limit = tasks[index]
                    try:
                        w.conn.send((index, payload, limit))
                    except OSError:          # it died while idle: it is replaced below
                        pending.appendleft(index)
                        w.ready = False
                        continue
                    w.task, w.deadline = index, now + limit
            self._wait(now)
            self._collect(on_finished, stop)
        return False

    def _wait(self, now: float) -> None:
        nearest = min((w.deadline for w in self._workers if w.task is not None),
                      default=math.inf)
        timeout = max(0.0, min(self.poll, nearest - now))
        handles: list[Any] = [w.conn for w in self._workers]
        handles += [w.proc.sentinel for w in self._workers]
        if handles:
            wait(handles, timeout)
        else:
            time.sleep(timeout)

    def _collect(self, on_finished: Callable[[Finished], None],
                 stop: Callable[[], bool]) -> None:
        for w in list(self._workers):
            while w.conn.poll():
                try:
                    msg = w.conn.recv()
                except (EOFError, OSError):
                    break
                if msg[0] == "ready":
                    w.ready = True
                    continue
                kind, index, value = msg
                w.task, w.deadline = None, math.inf
                on_finished(Finished(index, kind, value))
            if not w.proc.is_alive():
                if stop():       # a signal to the process group: reported as stopped
                    continue
                w.proc.join(1)
                index = w.task
                detail = _how_it_ended(w.proc)
                started_ok = w.ready
                self._kill(w)
                if index is not None:
                    on_finished(Finished(index, "died", detail=detail))
                elif not started_ok:
                    raise WorkerStartError(f"a worker process ended while starting "
                                           f"({detail})")
        now = time.monotonic()
        for w in list(self._workers):
            if w.task is not None and now >= w.deadline:
                index = w.task
                self._kill(w)
                on_finished(Finished(index, "timeout"))
            elif not w.ready and now - w.spawned > START_TIMEOUT:
                self._kill(w)
                raise WorkerStartError(f"a worker process did not start within "
                                       f"{START_TIMEOUT:g} s")


__all__ = ["Finished", "WorkerPool", "WorkerStartError"]
