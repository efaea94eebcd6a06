"""Translate a scenario into protocol commands, and device reports back into trace events.

``build_plan`` assigns the protocol ids, converts durations to the board's ticks and lists
the commands that build the scenario; ``Plan.event`` turns one decoded report into a
docs/trace-format.md event with names instead of ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zsim.kernel.time_units import Timeout

from . import protocol as p
from .limits import check_limits
from .scenario import Scenario

PATTERNS = {"zeros": p.PAT_ZEROS, "counter": p.PAT_COUNTER, "random": p.PAT_RANDOM,
            "fill": p.PAT_FILL, "explicit": p.PAT_EXPLICIT}
CONNECTION_SCRIPT_THREAD = "conn_timeline"
CONNECTION_SCRIPT_PRIORITY = -1


class PlanError(ValueError):
    """A scenario that does not fit the device (capacities, names)."""


def tmo(timeout: Timeout, tps: int) -> int:
    """A ``tmo`` field: ticks, 0 for K_NO_WAIT, -1 for K_FOREVER."""
    if timeout.is_forever:
        return -1
    return max(0, int(timeout.ticks(tps)))


def ticks(timeout: Timeout, tps: int) -> int:
    """A duration or instant in whole ticks (K_NO_WAIT is 0)."""
    if timeout.is_forever:
        raise PlanError("forever is not a valid instant")
    return max(0, int(timeout.ticks(tps)))


@dataclass
class Plan:
    """The commands of one scenario, and the id ↔ name maps to read its reports."""

    tps: int
    commands: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    pools: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    queues: list[str] = field(default_factory=list)
    sinks: list[str] = field(default_factory=list)
    stimuli: list[str] = field(default_factory=list)
    stats_enabled: bool = True
    runtime_observers: bool = False

    def _name(self, table: list[str], i: int) -> str:
        return table[i] if 0 <= i < len(table) else f"#{i}"

    def buf_name(self, ref: dict[str, int]) -> str:
        """``pool#index@nth`` from a bufref."""
        return f"{self._name(self.pools, ref['pool'])}#{ref['index']}@{ref['nth']}"

    def event(self, typ: int, f: dict[str, Any]) -> dict[str, Any] | None:
        """The trace event of a report (None for R_RUN_DONE)."""
        tick = f["tick"]
        ev: dict[str, Any] = {"tick": tick, "us": tick * 1e6 / self.tps}
        src = self._name
        if typ == p.R_SEND:
            ev.update(type="send", source=src(self.sources, f["source"]),
                      buf=self.buf_name(f["buf"]), len=f["len"], digest=f"{f['digest']:08x}",
                      ret=f["ret"])
        elif typ == p.R_DELIVER:
            ev.update(type="deliver", source=src(self.sources, f["source"]),
                      sink=src(self.sinks, f["sink"]), buf=self.buf_name(f["buf"]),
                      len=f["len"], digest=f"{f['digest']:08x}")
        elif typ == p.R_ENQUEUE:
            ev.update(type="enqueue", source=src(self.sources, f["source"]),
                      sink=src(self.sinks, f["sink"]), buf=self.buf_name(f["buf"]),
                      len=f["len"])
        elif typ == p.R_DROP:
            ev.update(type="drop", source=src(self.sources, f["source"]),
                      sink=src(self.sinks, f["sink"]), buf=self.buf_name(f["buf"]),
                      ret=f["ret"])
        elif typ == p.R_HANDLE:
            ev.update(type="handle", queue=src(self.queues, f["queue"]),
                      sink=src(self.sinks, f["sink"]), buf=self.buf_name(f["buf"]),
                      len=f["len"], digest=f"{f['digest']:08x}", ret=f["ret"])
        elif typ == p.R_FAULT:
            key, table = ("source", self.sources) if f["origin"] == 0 else ("queue", self.queues)
            ev.update(type="fault", sink=src(self.sinks, f["sink"]),
                      buf=self.buf_name(f["buf"]))
            ev[key] = src(table, f["id"])
        elif typ == p.R_PROCESS:
            ev.update(type="process", queue=src(self.queues, f["queue"]), ret=f["ret"])
        elif typ == p.R_CONSOLE:
            ev.update(type="console", line=f["text"])
        elif typ == p.R_ALLOC_FAIL:
            origin = {0: "periodic", 1: "script", 2: "forward", 3: "send"}.get(f["origin"], "?")
            who = (src(self.sinks, f["id"]) if f["origin"] == 2
                   else src(self.stimuli, f["id"]) if f["origin"] in (0, 1) else "host")
            ev.update(type="alloc_fail", pool=src(self.pools, f["pool"]), origin=origin,
                      by=who)
        elif typ == p.R_STEP:
            ev.update(type="step", stimulus=src(self.stimuli, f["stim"]), step=f["step"],
                      op={1: "send", 2: "process", 3: "connect", 4: "disconnect"}.get(
                          f["op"], "?"), ret=f["ret"])
        else:
            return None
        return ev


def _check(name: str, table: list[str], what: str) -> int:
    try:
        return table.index(name)
    except ValueError:
        raise PlanError(f"unknown {what} {name!r}") from None


def _send_fields(s: dict[str, Any], plan: Plan) -> dict[str, Any]:
    return {"source": _check(s["source"], plan.sources, "source"),
            "pool": _check(s["pool"], plan.pools, "pool"),
            "flags": p.FLAG_CONSUME if s.get("consume", True) else 0,
            "timeout": tmo(s["timeout"], plan.tps), "size": int(s["size"]),
            "pattern": PATTERNS[s["pattern"]], "arg": int(s.get("arg", 0))}


def build_plan(sc: Scenario, tps: int, *, seed: int = 0,
               config: dict[str, Any] | None = None,
               hello: dict[str, Any] | None = None) -> Plan:
    """The protocol commands that build ``sc`` on a board ticking at ``tps``.

    ``config`` is the merged Kconfig mapping (it decides the RESET flags); ``hello`` the
    device's HELLO answer, whose capacities are checked when given.
    """
    cfg = dict(sc.config)
    cfg.update(config or {})
    plan = Plan(tps=tps)
    plan.stats_enabled = bool(cfg.get("PACKET_IO_STATS", True))
    uses_runtime = any(c["runtime"] for c in sc.connections) or any(
        st["op"] in ("connect", "disconnect") for s in sc.stimuli if s["kind"] == "script"
        for st in s["steps"])
    plan.runtime_observers = bool(cfg.get("PACKET_IO_RUNTIME_OBSERVERS", uses_runtime))
    flags = (1 if plan.stats_enabled else 0) | (2 if plan.runtime_observers else 0)
    cmds = plan.commands
    cmds.append((p.RESET, {"seed": seed & 0xFFFFFFFF, "flags": flags}))
    plan.pools = [x["name"] for x in sc.pools]
    plan.sources = list(sc.sources)
    plan.queues = [x["name"] for x in sc.queues]
    plan.sinks = [x["name"] for x in sc.sinks]
    for i, pool in enumerate(sc.pools):
        cmds.append((p.CREATE_POOL, {"id": i, "count": pool["count"], "size": pool["size"],
                                     "user_data_size": pool["user_data_size"],
                                     "name": pool["name"]}))
    for i, name in enumerate(sc.sources):
        cmds.append((p.CREATE_SOURCE, {"id": i, "name": name}))
    for i, q in enumerate(sc.queues):
        th = q["thread"]
        cmds.append((p.CREATE_QUEUE, {"id": i, "size": q["size"], "prio": th["priority"],
                                      "stack_size": th["stack_size"], "name": q["name"],
                                      "thread_name": th["name"]}))
    for i, s in enumerate(sc.sinks):
        steps = []
        for st in s["behaviour"]:
            op = st["op"]
            if op in ("record", "drop"):
                steps.append({"op": op})
            elif op == "cpu_us":
                steps.append({"op": op, "us": st["us"]})
            elif op == "cpu_cycles":
                steps.append({"op": op, "cycles": st["cycles"]})
            elif op == "sleep":
                steps.append({"op": "sleep", "ticks": tmo(st["timeout"], tps)})
            elif op == "forward":
                steps.append({"op": "forward",
                              "source": _check(st["source"], plan.sources, "source"),
                              "pool": _check(st["pool"], plan.pools, "pool"),
                              "timeout": tmo(st["timeout"], tps),
                              "hdr_kind": 1 if st["seq16"] else 0,
                              "hdr": b"" if st["seq16"] else st["header"]})
        queue = p.NO_ID if s["queue"] is None else _check(s["queue"], plan.queues, "queue")
        cmds.append((p.CREATE_SINK, {"id": i, "queue": queue, "name": s["name"],
                                     "steps": steps}))
    timeline: list[dict[str, Any]] = []
    for c in sc.connections:
        src = _check(c["source"], plan.sources, "source")
        snk = _check(c["sink"], plan.sinks, "sink")
        if not c["runtime"]:
            cmds.append((p.CONNECT, {"source": src, "sink": snk, "runtime": 0}))
            continue
        if c["add_at"] is None:
            cmds.append((p.CONNECT, {"source": src, "sink": snk, "runtime": 1}))
        else:
            timeline.append({"at": ticks(c["add_at"], tps), "op": "connect", "source": src,
                             "sink": snk})
        if c["remove_at"] is not None:
            timeline.append({"at": ticks(c["remove_at"], tps), "op": "disconnect",
                             "source": src, "sink": snk})
    for st in sc.stimuli:
        stim = len(plan.stimuli)
        th = st["thread"]
        plan.stimuli.append(th["name"])
        if st["kind"] == "periodic":
            f = _send_fields(st, plan)
            count = p.COUNT_FOREVER if st["count"] is None else st["count"]
            cmds.append((p.ADD_PERIODIC, {
                "stim": stim, "source": f["source"], "pool": f["pool"],
                "prio": th["priority"], "stack_size": th["stack_size"],
                "start": ticks(st["start"], tps), "period": max(1, ticks(st["every"], tps)),
                "count": count, "size": f["size"], "pattern": f["pattern"], "arg": f["arg"],
                "timeout": f["timeout"], "flags": f["flags"], "thread_name": th["name"]}))
        else:
            cmds.append((p.ADD_SCRIPT, {"stim": stim, "prio": th["priority"],
                                        "stack_size": th["stack_size"],
                                        "thread_name": th["name"]}))
            for step in st["steps"]:
                at = ticks(step["at"], tps)
                op = step["op"]
                if op == "send":
                    body = {"op": "send", **_send_fields(step, plan)}
                elif op == "process":
                    body = {"op": "process",
                            "queue": _check(step["queue"], plan.queues, "queue"),
                            "timeout": tmo(step["timeout"], tps)}
                else:
                    body = {"op": op, "source": _check(step["source"], plan.sources, "source"),
                            "sink": _check(step["sink"], plan.sinks, "sink")}
                cmds.append((p.ADD_STEP, {"stim": stim, "at": at, "step": body}))
    if timeline:
        stim = len(plan.stimuli)
        plan.stimuli.append(CONNECTION_SCRIPT_THREAD)
        cmds.append((p.ADD_SCRIPT, {"stim": stim, "prio": CONNECTION_SCRIPT_PRIORITY,
                                    "stack_size": 512,
                                    "thread_name": CONNECTION_SCRIPT_THREAD}))
        for step in sorted(timeline, key=lambda s: s["at"]):
            cmds.append((p.ADD_STEP, {"stim": stim, "at": step["at"], "step": {
                "op": step["op"], "source": step["source"], "sink": step["sink"]}}))
    if hello:
        _check_capacity(plan, hello)
        check_limits(cmds, hello)
    return plan


def _check_capacity(plan: Plan, hello: dict[str, Any]) -> None:
    over = []
    for what, n, key in (("pools", len(plan.pools), "max_pools"),
                         ("sources", len(plan.sources), "max_sources"),
                         ("sinks", len(plan.sinks), "max_sinks"),
                         ("queues", len(plan.queues), "max_queues"),
                         ("stimuli", len(plan.stimuli), "max_stimuli")):
        if n > hello.get(key, 255):
            over.append(f"{n} {what} (the device holds {hello[key]})")
    steps = sum(1 for t, _ in plan.commands if t == p.ADD_STEP)
    if steps > hello.get("max_script_steps", 65535):
        over.append(f"{steps} script steps (the device holds {hello['max_script_steps']})")
    if over:
        raise PlanError("the scenario does not fit the device: " + "; ".join(over))
