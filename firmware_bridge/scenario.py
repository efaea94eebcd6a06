"""A ``topology.yaml`` scenario (docs/scenario-format.md) as plain, checked data.

This is the bridge's own reader, limited to what the protocol carries; ``load_scenario``
accepts a scenario file or a directory holding ``topology.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from zsim.kernel.time_units import (
    K_FOREVER,
    K_MSEC,
    K_NO_WAIT,
    K_NSEC,
    K_TICKS,
    K_USEC,
    Timeout,
)

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DUR = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ns|us|ms|s|m|ticks?)?\s*$")


class ScenarioError(ValueError):
    """A scenario file that cannot be used, with the file and what is wrong."""


def parse_duration(value: Any, what: str = "duration") -> Timeout:
    """A scenario duration: ``"200ms"``, ``"5ticks"``, a number of milliseconds, ``forever``."""
    if isinstance(value, Timeout):
        return value
    if isinstance(value, bool):
        raise ScenarioError(f"{what}: {value!r} is not a duration")
    if isinstance(value, (int, float)):
        return K_MSEC(value) if value else K_NO_WAIT
    if isinstance(value, str):
        if value.strip() == "forever":
            return K_FOREVER
        m = _DUR.match(value)
        if m:
            num = Fraction(m.group(1))
            unit = m.group(2) or "ms"
            if num == 0:
                return K_NO_WAIT
            if unit.startswith("tick"):
                return K_TICKS(int(num))
            scale = {"ns": (K_NSEC, 1), "us": (K_USEC, 1), "ms": (K_MSEC, 1),
                     "s": (K_MSEC, 1000), "m": (K_MSEC, 60000)}[unit]
            amount = num * scale[1]
            return scale[0](int(amount) if amount.denominator == 1 else amount)
    raise ScenarioError(f"{what}: {value!r} is not a duration (e.g. 200ms, 1s, 5ticks)")


@dataclass
class Scenario:
    """The objects, wiring and stimuli of one scenario, in file order."""

    name: str
    path: Path | None
    config: dict[str, Any] = field(default_factory=dict)
    pools: list[dict[str, Any]] = field(default_factory=list)
    queues: list[dict[str, Any]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    sinks: list[dict[str, Any]] = field(default_factory=list)
    connections: list[dict[str, Any]] = field(default_factory=list)
    stimuli: list[dict[str, Any]] = field(default_factory=list)
    duration: Timeout | None = None
    prj_conf: Path | None = None


def find_scenario_file(path: str | Path) -> Path:
    """The ``topology.yaml`` a path names."""
    p = Path(path)
    if p.is_dir():
        p = p / "topology.yaml"
    if not p.is_file():
        raise ScenarioError(f"{path}: no topology.yaml here")
    return p


def _name(v: Any, what: str) -> str:
    if not isinstance(v, str) or not _IDENT.match(v):
        raise ScenarioError(f"{what}: {v!r} is not a C identifier")
    return v


def _steps(raw: Any, where: str) -> list[dict[str, Any]]:
    if raw is None:
        return [{"op": "record"}]
    if not isinstance(raw, list):
        raise ScenarioError(f"{where}: behaviour must be a list of steps")
    out: list[dict[str, Any]] = []
    for step in raw:
        if isinstance(step, str):
            if step not in ("record", "drop"):
                raise ScenarioError(f"{where}: step {step!r} needs arguments")
            out.append({"op": step})
            continue
        if not isinstance(step, dict) or len(step) != 1:
            raise ScenarioError(f"{where}: bad behaviour step {step!r}")
        (op, arg), = step.items()
        if op in ("record", "drop"):
            out.append({"op": op})
        elif op == "cpu":
            if "us" in arg:
                out.append({"op": "cpu_us", "us": int(arg["us"])})
            elif "cycles" in arg:
                out.append({"op": "cpu_cycles", "cycles": int(arg["cycles"])})
            else:
                raise ScenarioError(f"{where}: cpu takes {{us: N}} or {{cycles: N}}")
        elif op == "sleep":
            if "ms" in arg:
                out.append({"op": "sleep", "timeout": K_MSEC(arg["ms"])})
            elif "us" in arg:
                out.append({"op": "sleep", "timeout": K_USEC(arg["us"])})
            else:
                raise ScenarioError(f"{where}: sleep takes {{ms: N}} or {{us: N}}")
        elif op == "forward":
            hdr = arg.get("header", [])
            seq16 = isinstance(hdr, dict) and bool(hdr.get("seq16"))
            if not seq16 and (not isinstance(hdr, list)
                              or not all(isinstance(b, int) and 0 <= b < 256 for b in hdr)):
                raise ScenarioError(f"{where}: forward header must be a list of bytes or "
                                    "{seq16: true}")
            out.append({"op": "forward", "source": _name(arg.get("source"), where),
                        "pool": _name(arg.get("pool"), where),
                        "timeout": parse_duration(arg.get("timeout", 0), where),
                        "seq16": seq16, "header": b"" if seq16 else bytes(hdr)})
        else:
            raise ScenarioError(f"{where}: unknown behaviour step {op!r}")
    return out


def _pattern(v: Any, where: str) -> tuple[str, int]:
    if v is None or v == "counter":
        return "counter", 0
    if v in ("zeros", "random"):
        return str(v), 0
    if isinstance(v, int) and 0 <= v < 256:
        return "fill", v
    if isinstance(v, str) and re.match(r"^0[xX][0-9a-fA-F]{1,2}$", v):
        return "fill", int(v, 16)
    raise ScenarioError(f"{where}: pattern must be counter, zeros, random or 0xNN")


def _send(raw: dict[str, Any], where: str) -> dict[str, Any]:
    pattern, arg = _pattern(raw.get("pattern"), where)
    return {"source": _name(raw.get("source"), where), "pool": _name(raw.get("pool"), where),
            "size": int(raw.get("size", 0)), "pattern": pattern, "arg": arg,
            "timeout": parse_duration(raw.get("timeout", 0), where),
            "consume": bool(raw.get("consume", True))}


def _thread(raw: Any, default: str, where: str) -> dict[str, Any]:
    raw = raw or {}
    return {"name": _name(raw.get("name", default), where),
            "priority": int(raw.get("priority", 7)),
            "stack_size": int(raw.get("stack_size", 1024))}


def parse_scenario(data: Any, name: str = "scenario", path: Path | None = None) -> Scenario:
    """Check a loaded YAML mapping and normalise it."""
    where = str(path or name)
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: a scenario is a mapping")
    if data.get("version") != 1:
        raise ScenarioError(f"{where}: version: 1 is required")
    sc = Scenario(name=str(data.get("name") or name), path=path,
                  config=dict(data.get("config") or {}))
    for p in data.get("pools") or []:
        sc.pools.append({"name": _name(p.get("name"), f"{where}: pool"),
                         "count": int(p["count"]), "size": int(p["size"]),
                         "user_data_size": int(p.get("user_data_size", 4))})
    for q in data.get("queues") or []:
        qn = _name(q.get("name"), f"{where}: queue")
        sc.queues.append({"name": qn, "size": int(q.get("size", 10)),
                          "thread": _thread(q.get("thread"), f"{qn}_thread", where)})
    for s in data.get("sources") or []:
        sc.sources.append(_name(s.get("name") if isinstance(s, dict) else s,
                                f"{where}: source"))
    queues = {q["name"] for q in sc.queues}
    for s in data.get("sinks") or []:
        sn = _name(s.get("name"), f"{where}: sink")
        q = s.get("queue")
        if q is not None and q not in queues:
            raise ScenarioError(f"{where}: sink {sn!r} names an unknown queue {q!r}")
        sc.sinks.append({"name": sn, "queue": q,
                         "behaviour": _steps(s.get("behaviour"), f"{where}: sink {sn}")})
    sinks = {s["name"] for s in sc.sinks}
    sources = set(sc.sources)
    for c in data.get("connections") or []:
        if isinstance(c, list) and len(c) == 2:
            c = {"source": c[0], "sink": c[1]}
        if not isinstance(c, dict):
            raise ScenarioError(f"{where}: bad connection {c!r}")
        if c.get("source") not in sources or c.get("sink") not in sinks:
            raise ScenarioError(f"{where}: connection {c!r} names an unknown source or sink")
        runtime = bool(c.get("runtime", False))
        sc.connections.append({
            "source": c["source"], "sink": c["sink"], "runtime": runtime,
            "add_at": parse_duration(c["add_at"], where) if "add_at" in c else None,
            "remove_at": parse_duration(c["remove_at"], where) if "remove_at" in c else None})
    for i, st in enumerate(data.get("stimuli") or []):
        if not isinstance(st, dict) or len(st) != 1:
            raise ScenarioError(f"{where}: bad stimulus {st!r}")
        (kind, raw), = st.items()
        w = f"{where}: stimulus {i}"
        if kind == "periodic":
            s = _send(raw, w)
            s.update(kind="periodic", every=parse_duration(raw["every"], w),
                     start=parse_duration(raw.get("start", 0), w),
                     count=int(raw["count"]) if raw.get("count") is not None else None,
                     thread=_thread(raw.get("thread"), f"stimulus{i}", w))
            sc.stimuli.append(s)
        elif kind == "script":
            steps = []
            for step in raw.get("steps") or []:
                at = parse_duration(step.get("at", 0), w)
                ops = [k for k in step if k != "at"]
                if len(ops) != 1:
                    raise ScenarioError(f"{w}: each step has `at` and one operation")
                op, arg = ops[0], step[ops[0]]
                if op == "send":
                    steps.append({"at": at, "op": "send", **_send(arg, w)})
                elif op == "process":
                    steps.append({"at": at, "op": "process", "queue": arg["queue"],
                                  "timeout": parse_duration(arg.get("timeout", 0), w)})
                elif op in ("connect", "disconnect"):
                    steps.append({"at": at, "op": op, "source": arg["source"],
                                  "sink": arg["sink"]})
                else:
                    raise ScenarioError(f"{w}: unknown script operation {op!r}")
            sc.stimuli.append({"kind": "script", "steps": steps,
                               "thread": _thread(raw.get("thread"), f"script{i}", w)})
        else:
            raise ScenarioError(f"{w}: unknown stimulus kind {kind!r}")
    if "duration" in data:
        sc.duration = parse_duration(data["duration"], f"{where}: duration")
    return sc


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a ``topology.yaml`` (or the one in a directory)."""
    file = find_scenario_file(path)
    try:
        data = yaml.safe_load(file.read_text())
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{file}: {exc}") from None
    sc = parse_scenario(data, name=file.parent.name, path=file)
    conf = file.parent / "prj.conf"
    sc.prj_conf = conf if conf.is_file() else None
    return sc
