"""One sweep point, run where it is sent: a process of its own on this machine, or a
subprocess of a Dask worker (``python -m zsim.sweep.worker`` reads the spec as JSON on
stdin and writes the row as JSON on stdout).

The point runs through ``SimulatorExecutor(keep=False, trace=False, record_latency=True)``
(as ``zsim run`` does), so nothing is held per event. A topology travels in the spec and is
written to a temporary directory of its own, so a cluster's workers need not see the
model's files; a Python model must be at the same path on every machine.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

STATUS_CRASH = 3
KEEP_ERROR = 2000               # characters of a point's error message kept in its row


def run_point(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one point; its row (never raises for the point's own failures)."""
    t0 = time.monotonic()
    tmp = None
    try:
        model = spec["model"]
        if spec.get("files"):
            tmp = tempfile.mkdtemp(prefix="zsim-sweep-")
            for name, text in spec["files"].items():
                (Path(tmp) / name).write_text(text, encoding="utf-8")
            model = str(Path(tmp) / "topology.yaml")
        row = _run(spec, model)
    except Exception as exc:  # noqa: BLE001 - any failure of the point is its row
        row = {"status": _bad_input_status(exc), "error": f"{type(exc).__name__}: {exc}"}
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return finish_row(spec, row, time.monotonic() - t0)


def _bad_input_status(exc: BaseException) -> int:
    from ..errors import ZsimError

    return 2 if isinstance(exc, (ZsimError, ValueError, OSError)) else STATUS_CRASH


def finish_row(spec: dict[str, Any], row: dict[str, Any], wall: float) -> dict[str, Any]:
    """The point's parameters, board and seed first, then its results and wall seconds."""
    out: dict[str, Any] = {"point": spec["index"]}
    out.update({name: value for name, value in spec["values"]})
    out.update(board=spec["board"], seed=spec["seed"])
    out.update(row)
    out["wall_s"] = round(wall, 3)
    out.setdefault("error", "")
    out["error"] = (out["error"] or "")[:KEEP_ERROR]
    return out


def _run(spec: dict[str, Any], model: str) -> dict[str, Any]:
    from ..commands.run import exit_status
    from ..durations import parse_duration
    from ..run_guard import RunGuard
    from ..sim_executor import SimulatorExecutor

    executor = SimulatorExecutor(board_dirs=spec.get("board_dirs") or (),
                                 costs=spec.get("costs", "board"), echo=None, trace=False,
                                 keep=False, record_latency=True, strict=spec.get("strict",
                                                                                 False))
    guard = RunGuard(spec.get("wall_timeout"))

    def started(k: Any, header: dict) -> None:
        guard.stop = k.stop

    executor.on_kernel = started
    with guard:
        signal.signal(signal.SIGINT, signal.SIG_IGN)    # the sweep's to handle, not the point's
        try:
            outcome = executor.run(model, board=spec["board"],
                                   duration=parse_duration(spec["duration"]),
                                   seed=spec["seed"], config=spec.get("config") or None)
        finally:
            guard.finished()
            executor.close()
    summary = outcome.summary
    error = outcome.error
    if guard.timed_out:
        error = error or (f"wall-clock limit of {guard.wall_timeout:g} s reached at "
                          f"{summary.get('uptime_ms', 0)} ms of virtual time")
    status = exit_status(error, summary, outcome.error_type)
    if guard.signum is not None:
        status = 128 + guard.signum
    return {"status": status, **summary_columns(summary), "error": error or ""}


def summary_columns(summary: dict[str, Any]) -> dict[str, Any]:
    """The row's result columns from a run summary (zsim.summary)."""
    sinks = summary.get("sinks", [])
    dropped = [s["dropped"] for s in sinks if s.get("dropped") is not None]
    out: dict[str, Any] = {"drops": sum(dropped) if dropped or not sinks else None,
                           "leaks": len(summary.get("leaks", [])),
                           "faults": summary.get("faults_total", len(summary.get("faults",
                                                                                 [])))}
    latency = summary.get("latency") or {}
    for s in sinks:
        out[f"{s['name']}.handled"] = s.get("handled")
        out[f"{s['name']}.dropped"] = s.get("dropped")
        lat = latency.get(s["name"])
        for key in ("p50_us", "p99_us", "max_us"):
            out[f"{s['name']}.{key}"] = lat[key] if lat else None
    for q in summary.get("queues", []):
        out[f"{q['name']}.high_water"] = q["high_water"]
    for p in summary.get("pools", []):
        out[f"{p['name']}.min_free"] = p["min_free"]
    return out


def child_main(spec: dict[str, Any], conn: Any) -> None:
    """A local worker process: run the point, send its row back (Ctrl-C is the parent's
    to handle: it stops its workers itself)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        conn.send(run_point(spec))
    finally:
        with contextlib.suppress(OSError):
            conn.close()


def main() -> int:
    """``python -m zsim.sweep.worker``: a spec on stdin, its row on stdout."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    spec = json.loads(sys.stdin.read())
    row = run_point(spec)
    sys.stdout.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
