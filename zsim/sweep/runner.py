"""Running points: local worker processes (one fresh process per point), or a Dask
distributed cluster. Both give each finished row to ``on_row`` as it arrives and poll
``stop()`` at least every :data:`POLL_S` seconds; every wait is bounded."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from multiprocessing.connection import wait
from typing import Any

from .worker import STATUS_CRASH, finish_row

POLL_S = 0.2
GRACE_S = 30.0          # beyond a point's wall timeout before its process is killed
DEFAULT_WALL_S = 3600.0  # a point's wall-clock limit when none is given
OnRow = Callable[[dict[str, Any]], None]
Stop = Callable[[], bool]


def default_jobs() -> int:
    """The number of local workers by default: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _limit(spec: dict[str, Any]) -> float:
    return (spec.get("wall_timeout") or DEFAULT_WALL_S) + GRACE_S


def _lost(spec: dict[str, Any], why: str, started: float) -> dict[str, Any]:
    return finish_row(spec, {"status": STATUS_CRASH, "error": why}, time.monotonic() - started)


class LocalRunner:
    """Runs each point in a new process, ``jobs`` at a time (forked from a clean server
    process that has zsim loaded, so a point starts in milliseconds)."""

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = max(1, jobs or default_jobs())
        self._running: dict[Any, tuple[Any, dict[str, Any], float]] = {}
        try:
            self._ctx = multiprocessing.get_context("forkserver")
            self._ctx.set_forkserver_preload(["zsim.sweep.worker", "zsim.sim_executor"])
        except ValueError:                       # no forkserver on this platform
            self._ctx = multiprocessing.get_context("spawn")

    def run(self, specs: Iterable[dict[str, Any]], on_row: OnRow, stop: Stop) -> None:
        """Run ``specs`` (taken from the iterable only as workers free up); returns when all
        are done or ``stop()`` says so (the points still running are then ended and give no
        row)."""
        from .worker import child_main

        todo = iter(specs)
        more = True
        try:
            while (more or self._running) and not stop():
                while more and len(self._running) < self.jobs:
                    spec = next(todo, None)
                    if spec is None:
                        more = False
                        break
                    recv, send = self._ctx.Pipe(duplex=False)
                    proc = self._ctx.Process(target=child_main, args=(spec, send),
                                             name=f"zsim-sweep-{spec['index']}", daemon=True)
                    proc.start()
                    send.close()
                    self._running[recv] = (proc, spec, time.monotonic())
                self._collect(on_row)
        finally:
            self.kill_all()

    def _collect(self, on_row: OnRow) -> None:
        ready = wait(list(self._running), timeout=POLL_S)
        for conn in ready:
            proc, spec, started = self._running.pop(conn)
            try:
                row = conn.recv()
            except (EOFError, OSError):
                proc.join(timeout=5)
                row = _lost(spec, f"the worker process died (exit code {proc.exitcode})",
                            started)
            conn.close()
            proc.join(timeout=5)
            on_row(row)
        now = time.monotonic()
        for conn, (proc, spec, started) in list(self._running.items()):
            if now - started > _limit(spec):
                self._end(proc)
                del self._running[conn]
                conn.close()
                on_row(_lost(spec, f"no result after {now - started:.0f} s of wall time: "
                                   "the worker was stopped", started))

    @staticmethod
    def _end(proc: Any) -> None:
        proc.terminate()
        proc.join(timeout=2)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=2)

    def kill_all(self) -> None:
        """End every worker process still running (no row for them)."""
        for conn, (proc, _spec, _t) in list(self._running.items()):
            self._end(proc)
            conn.close()
        self._running.clear()


def run_point_subprocess(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one point in a new Python process (``python -m zsim.sweep.worker``): a Dask
    task, so that each point has a process of its own there too."""
    started = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "zsim.sweep.worker"],
                              input=json.dumps(spec), capture_output=True, text=True,
                              timeout=_limit(spec), check=False)
    except subprocess.TimeoutExpired:
        return _lost(spec, f"no result after {_limit(spec):.0f} s of wall time", started)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode == 0 and lines:
        try:
            return json.loads(lines[-1])
        except ValueError:
            pass
    tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
    return _lost(spec, f"the worker process failed (exit code {proc.returncode}): {tail[0]}",
                 started)


class DaskRunner:
    """Submits each point as a task to a Dask distributed scheduler (``tcp://HOST:PORT``,
    or a ``Client``); each task runs its point in a new process."""

    WINDOW = 1000

    def __init__(self, scheduler: Any, connect_timeout: float = 30.0) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise ImportError('--dask-scheduler needs Dask: pip install "zsim[dask]"') from None
        self._own = not isinstance(scheduler, Client)
        self.client = (Client(scheduler, timeout=connect_timeout) if self._own
                       else scheduler)

    def run(self, specs: Iterable[dict[str, Any]], on_row: OnRow, stop: Stop) -> None:
        """Run ``specs`` on the cluster, at most :data:`WINDOW` tasks submitted at a time;
        on ``stop()`` the tasks not finished are cancelled."""
        from distributed import wait as dask_wait

        todo = iter(specs)
        more = True
        futures: dict[Any, dict[str, Any]] = {}
        progress = time.monotonic()
        try:
            while (more or futures) and not stop():
                while more and len(futures) < self.WINDOW:
                    spec = next(todo, None)
                    if spec is None:
                        more = False
                        break
                    key = f"zsim-sweep-{os.getpid()}-{time.monotonic_ns()}-{spec['index']}"
                    futures[self.client.submit(run_point_subprocess, spec, pure=False,
                                               key=key)] = spec
                try:
                    done, _ = dask_wait(list(futures), timeout=POLL_S,
                                        return_when="FIRST_COMPLETED")
                except (TimeoutError, asyncio.TimeoutError):  # one class from 3.11 on
                    done = set()
                patience = max(_limit(s) for s in futures.values()) if futures else GRACE_S
                if not done:
                    if time.monotonic() - progress > patience:   # a hung or lost cluster
                        for spec in futures.values():
                            on_row(_lost(spec, "no result from the cluster in "
                                         f"{patience:.0f} s", progress))
                        self.client.cancel(list(futures))
                        futures.clear()
                        more = False
                    continue
                progress = time.monotonic()
                for fut in done:
                    spec = futures.pop(fut)
                    try:
                        row = fut.result(timeout=patience)
                    except Exception as exc:  # noqa: BLE001 - a lost task is the point's row
                        row = _lost(spec, f"the cluster lost the task: {exc}", progress)
                    on_row(row)
        finally:
            if futures:
                self.client.cancel(list(futures))

    def close(self) -> None:
        if self._own:
            self.client.close(timeout=10)


__all__ = ["DaskRunner", "LocalRunner", "default_jobs", "run_point_subprocess"]
