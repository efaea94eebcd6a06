"""What a scenario needs of a device, checked against its HELLO (protocol version 2).

``check_limits`` refuses a plan that cannot fit the limits HELLO states, before anything
is sent to the device; ``estimate_report_rate`` counts the reports a plan produces per
second of scenario time from its topology, and ``link_warning`` compares their bytes with
the link rate HELLO states. A HELLO of protocol version 1 states neither: nothing is
checked up front then (the device still refuses what does not fit, at creation).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from . import protocol as p

#: Bits on the line per byte: 8N1 (start bit, 8 data bits, stop bit).
BITS_PER_BYTE = 10

# what to raise on a shim, and on the virtual board, for each limit
_SHIM_OPTION = {
    "pool_buf_size": "CONFIG_SHIM_POOL_BUF_SIZE", "pool_buf_count": "CONFIG_SHIM_POOL_BUF_COUNT",
    "pool_user_data": "CONFIG_SHIM_POOL_USER_DATA_SIZE",
    "pool_total_bytes": "CONFIG_SHIM_MAX_POOLS or CONFIG_SHIM_POOL_BUF_SIZE",
    "pool_total_bufs": "CONFIG_SHIM_MAX_POOLS or CONFIG_SHIM_POOL_BUF_COUNT",
    "queue_max_size": "CONFIG_SHIM_QUEUE_MAX_EVENTS",
    "queue_total_slots": "CONFIG_SHIM_MAX_QUEUES or CONFIG_SHIM_QUEUE_MAX_EVENTS",
    "max_connections": "CONFIG_SHIM_MAX_CONNECTIONS", "max_header": "CONFIG_SHIM_MAX_HEADER",
    "max_steps": "CONFIG_SHIM_MAX_STEPS",
}
_VIRTUAL_HINT = {
    "pool_total_bytes": "the board profile's ram_kib (or simboard.LIMITS)",
}


class LimitError(ValueError):
    """A scenario that cannot fit the device's limits (bad input: nothing was run)."""


def _hint(hello: dict[str, Any], key: str) -> str:
    if hello.get("features", 0) & p.FEAT_VIRTUAL:
        return "a limit of the virtual board: " + _VIRTUAL_HINT.get(key, "simboard.LIMITS")
    return f"raise {_SHIM_OPTION[key]}"


def check_limits(commands: list[tuple[int, dict[str, Any]]], hello: dict[str, Any]) -> None:
    """Raise ``LimitError`` naming every object of ``commands`` over a limit of ``hello``
    (what it needs, the device's limit and the option to raise); nothing for a HELLO
    without the version 2 fields."""
    if hello.get("proto", 1) < 2 or "pool_buf_size" not in hello:
        return
    over: list[str] = []

    def need(key: str, value: int, what: str) -> None:
        if value > hello[key]:
            over.append(f"{what} (the device's limit is {hello[key]}; {_hint(hello, key)})")

    pool_bytes = pool_bufs = slots = conns = 0
    for typ, f in commands:
        if typ == p.CREATE_POOL:
            name = f"pool {f['name']!r}"
            need("pool_buf_size", f["size"], f"{name} needs {f['size']}-byte buffers")
            need("pool_buf_count", f["count"], f"{name} needs {f['count']} buffers")
            need("pool_user_data", f["user_data_size"],
                 f"{name} needs {f['user_data_size']} bytes of user data")
            pool_bytes += f["count"] * (f["size"] + f["user_data_size"])
            pool_bufs += f["count"]
        elif typ == p.CREATE_QUEUE:
            need("queue_max_size", f["size"], f"queue {f['name']!r} needs {f['size']} slots")
            slots += f["size"]
        elif typ == p.CREATE_SINK:
            if "max_steps" in hello:
                need("max_steps", len(f["steps"]),
                     f"sink {f['name']!r} needs {len(f['steps'])} behaviour steps")
            for st in f["steps"]:
                if st["op"] == "forward" and st["hdr_kind"] == 0:
                    need("max_header", len(st["hdr"]),
                         f"sink {f['name']!r} forwards a {len(st['hdr'])}-byte header")
        elif typ == p.CONNECT:
            conns += 1
    need("pool_total_bytes", pool_bytes,
         f"the pools need {pool_bytes} bytes of buffers and user data in all")
    need("pool_total_bufs", pool_bufs, f"the pools need {pool_bufs} buffers in all")
    need("queue_total_slots", slots, f"the queues need {slots} slots in all")
    need("max_connections", conns, f"{conns} connections are made before the run")
    if over:
        raise LimitError(f"the scenario does not fit the device {hello.get('board', '?')}: "
                         + "; ".join(over) + ". Nothing was run.")


# ---------------------------------------------------------------------- report rate
def _report_wire(typ: int) -> int:
    """Bytes one report of ``typ`` takes on the line (its COBS frame and delimiter)."""
    fields: dict[str, Any] = {name: 0 for name, _ in p.schema(typ)}
    fields["buf"] = {}
    return len(p.encode_frame(p.make_frame(typ, fields)))


@dataclass(frozen=True)
class RateEstimate:
    """Reports and their bytes per second of scenario time."""

    reports_per_s: float
    bytes_per_s: float


def estimate_report_rate(commands: list[tuple[int, dict[str, Any]]], tps: int,
                         run_ticks: int) -> RateEstimate:
    """The reports a plan's commands produce per second over a run of ``run_ticks``.

    Each send reports R_SEND, then per connected sink (every connection the scenario
    makes, at any time) R_DELIVER for an immediate sink or R_ENQUEUE + R_HANDLE for a
    queued one, plus the sends of its FORWARD steps (to a depth of 16); each script step
    reports R_STEP. Drops and allocation failures are not predicted."""
    sinks_of: dict[int, list[int]] = defaultdict(list)
    queued: dict[int, bool] = {}
    forwards: dict[int, list[int]] = defaultdict(list)
    for typ, f in commands:
        if typ == p.CONNECT:
            sinks_of[f["source"]].append(f["sink"])
        elif typ == p.ADD_STEP and f["step"]["op"] == "connect":
            sinks_of[f["step"]["source"]].append(f["step"]["sink"])
        elif typ == p.CREATE_SINK:
            queued[f["id"]] = f["queue"] != p.NO_ID
            forwards[f["id"]] = [st["source"] for st in f["steps"] if st["op"] == "forward"]
    size = {t: _report_wire(t) for t in (p.R_SEND, p.R_DELIVER, p.R_ENQUEUE, p.R_HANDLE,
                                          p.R_STEP)}

    def per_send(source: int, depth: int = 0) -> tuple[float, float]:
        n, b = 1.0, float(size[p.R_SEND])
        if depth >= 16:
            return n, b
        for sink in dict.fromkeys(sinks_of.get(source, ())):
            if queued.get(sink):
                n, b = n + 2, b + size[p.R_ENQUEUE] + size[p.R_HANDLE]
            else:
                n, b = n + 1, b + size[p.R_DELIVER]
            for fwd in forwards.get(sink, ()):
                fn, fb = per_send(fwd, depth + 1)
                n, b = n + fn, b + fb
        return n, b

    total_n = total_b = 0.0
    run_ticks = max(1, run_ticks)
    for typ, f in commands:
        if typ == p.ADD_PERIODIC:
            if f["start"] >= run_ticks:
                continue
            sends = (run_ticks - 1 - f["start"]) // max(1, f["period"]) + 1
            if f["count"] != p.COUNT_FOREVER:
                sends = min(sends, f["count"])
            n, b = per_send(f["source"])
        elif typ == p.ADD_STEP and f["at"] < run_ticks:
            sends = 1
            n, b = 1.0, float(size[p.R_STEP])
            if f["step"]["op"] == "send":
                sn, sb = per_send(f["step"]["source"])
                n, b = n + sn, b + sb
        else:
            continue
        total_n += sends * n
        total_b += sends * b
    seconds = run_ticks / tps
    return RateEstimate(total_n / seconds, total_b / seconds)


def link_warning(rate: RateEstimate, hello: dict[str, Any]) -> str | None:
    """A warning when ``rate`` needs more bytes per second than the link HELLO states
    carries (None when it fits or the link rate is unknown: 0, or a version 1 HELLO)."""
    baud = int(hello.get("link_baud", 0) or 0)
    if baud <= 0:
        return None
    capacity = baud / BITS_PER_BYTE
    if rate.bytes_per_s <= capacity:
        return None
    factor = rate.bytes_per_s / capacity
    return (f"the scenario produces about {rate.reports_per_s:.0f} reports/s "
            f"({rate.bytes_per_s:.0f} bytes/s) of scenario time, {factor:.1f} times what "
            f"the device's {baud}-baud link carries ({capacity:.0f} bytes/s): reports will "
            f"queue on the line, so the device's timing may be shifted and its report ring "
            f"may overflow; shorten the run, lower the rate or use a faster link")
