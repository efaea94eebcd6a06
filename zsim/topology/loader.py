"""Read ``topology.yaml`` (docs/scenario-format.md) into a checked ``Topology``.

Every mistake, from YAML syntax to a connection naming an unknown sink, is reported as
``path/to/topology.yaml:LINE: message``; all of a file's errors are reported at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ..config import check_value
from ..errors import ZsimError
from ..kernel.time_units import (
    K_FOREVER,
    K_MSEC,
    K_NO_WAIT,
    K_NSEC,
    K_TICKS,
    K_USEC,
    Timeout,
)
from ..yamlfile import (
    TextError,
    YamlDocument,
    YamlSyntaxError,
    json_path,
    parse_yaml,
    read_text,
    unknown_keys,
)
from .schema import BEHAVIOURS, SCRIPT_OPS, TOPOLOGY

FILE_NAME = "topology.yaml"
DEFAULT_PRIORITY = 7
DEFAULT_STACK = 1024
DEFAULT_QUEUE_SIZE = 10
DEFAULT_USER_DATA = 4
_DUR = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ns|us|ms|s|m|ticks?)?\s*$")
_UNITS = {"ns": (K_NSEC, 1), "us": (K_USEC, 1), "ms": (K_MSEC, 1), "s": (K_MSEC, 1000),
          "m": (K_MSEC, 60000)}
Path_ = Sequence[str | int]


class TopologyError(ZsimError, ValueError):
    """A topology file that cannot be used; ``errors`` lists each ``file:line: message``."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def parse_duration(value: Any, what: str = "duration") -> Timeout:
    """A topology duration: ``"200ms"``, ``"5ticks"``, a number of milliseconds, ``forever``."""
    if isinstance(value, Timeout):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
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
            make, scale = _UNITS[unit]
            amount = num * scale
            return make(int(amount) if amount.denominator == 1 else amount)
    raise TopologyError([f"{what}: {value!r} is not a duration (e.g. 200ms, 1s, 5ticks)"])


@dataclass
class Topology:
    """The objects, wiring and stimuli of one topology, normalised, in file order.

    Behaviour steps are dicts with ``op`` in record, drop, cpu_us, cpu_cycles, sleep,
    forward; stimuli have ``kind`` periodic or script; durations are ``Timeout``s.
    """

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
    config_where: dict[str, str] = field(default_factory=dict)
    doc: YamlDocument | None = field(default=None, repr=False, compare=False)

    def line(self, *path: str | int) -> int:
        """The line of the entry at a JSON path (``"pools", 0``) of the file."""
        return self.doc.key_line(path) if self.doc is not None else 1

    def where(self, *path: str | int) -> str:
        """``file:line`` of the entry at a JSON path of the file."""
        return f"{self.path}:{self.line(*path)}"


def _behaviour_msg(v: Any) -> str:
    if v in BEHAVIOURS:
        return f"behaviour {v!r} takes arguments, e.g. {{{v}: {{...}}}}"
    return f"unknown behaviour {v!r} (expected one of {', '.join(BEHAVIOURS)})"


MESSAGES: dict[str, Callable[[Any], str]] = {
    "ident": lambda v: f"{v!r} is not a name (a C identifier)",
    "duration": lambda v: f"{v!r} is not a duration (e.g. 200ms, 1s, 5ticks, forever)",
    "pattern": lambda v: f"{v!r} is not a pattern (counter, zeros, random or 0xNN)",
    "header": lambda v: f"{v!r} is not a header (a list of bytes, or {{seq16: true}})",
    "behaviour": _behaviour_msg,
    "one_step": lambda v: "a behaviour step has exactly one name, e.g. {cpu: {us: 100}}",
    "pair": lambda v: "a connection is [source, sink] or {source: ..., sink: ...}",
    "source": lambda v: f"{v!r} is not a source (a name, or {{name: NAME}})",
    "stimulus": lambda v: "a stimulus is {periodic: {...}} or {script: {...}}",
    "script_step": lambda v: ("a script step is {at: TIME, OP: {...}} with exactly one OP of "
                              + ", ".join(SCRIPT_OPS)),
    "version": lambda v: f"version {v!r} is not supported (this zsim reads version: 1)",
}


def _schema_errors(doc: YamlDocument) -> list[tuple[int, str]]:
    out = []
    validator = jsonschema.Draft202012Validator(TOPOLOGY)
    for err in validator.iter_errors(doc.data):
        path = list(err.absolute_path)
        key = None
        msg_id = err.schema.get("x-message") if isinstance(err.schema, dict) else None
        if msg_id in MESSAGES:
            msg = MESSAGES[msg_id](err.instance)
        elif err.validator == "additionalProperties" and isinstance(err.instance, dict):
            extra = unknown_keys(err)
            key = str(extra[0]) if extra else None
            allowed = ", ".join(err.schema.get("properties", {}))
            msg = (f"unknown key{'s' if len(extra) > 1 else ''} "
                   f"{', '.join(repr(x) for x in extra)} (expected: {allowed})")
        else:
            msg = err.message
        if err.validator == "propertyNames" and isinstance(err.instance, str):
            key = err.instance
        where = json_path(path)
        out.append((doc.line(path, key), f"{where}: {msg}" if where else msg))
    return out


# ------------------------------------------------------------------ normalising
class _Checker:
    """Cross-references between sections, collected as ``(line, message)``."""

    def __init__(self, lines: YamlDocument, file: str = FILE_NAME) -> None:
        self.lines = lines
        self.file = file
        self.errors: list[tuple[int, str]] = []

    def error(self, path: Path_, msg: str, key: str | None = None) -> None:
        where = json_path(path)
        self.errors.append((self.lines.line(path, key), f"{where}: {msg}"))

    def ref(self, name: str, known: dict[str, Any], what: str, path: Path_) -> None:
        if name not in known:
            have = ", ".join(known) or "none defined"
            self.error(path, f"unknown {what} {name!r} (known {what}s: {have})")

    def unique(self, names: list[tuple[str, Path_]], what: str) -> dict[str, Path_]:
        seen: dict[str, Path_] = {}
        for name, path in names:
            if name in seen:
                self.error(path, f"{what} {name!r} is defined twice (first at line "
                                 f"{self.lines.line(seen[name])})")
            else:
                seen[name] = path
        return seen


def _thread(raw: dict[str, Any] | None, default: str) -> dict[str, Any]:
    raw = raw or {}
    return {"name": raw.get("name", default), "priority": int(raw.get("priority",
                                                                      DEFAULT_PRIORITY)),
            "stack_size": int(raw.get("stack_size", DEFAULT_STACK))}


def _pattern(v: Any) -> tuple[str, int]:
    if v is None or v == "counter":
        return "counter", 0
    if v in ("zeros", "random"):
        return str(v), 0
    if isinstance(v, int):
        return "fill", v
    return "fill", int(v, 16)


def _send(raw: dict[str, Any]) -> dict[str, Any]:
    pattern, arg = _pattern(raw.get("pattern"))
    return {"source": raw["source"], "pool": raw["pool"], "size": int(raw["size"]),
            "pattern": pattern, "arg": arg, "timeout": parse_duration(raw.get("timeout", 0)),
            "consume": bool(raw.get("consume", True))}


def _step(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):
        return {"op": raw}
    (op, arg), = raw.items()
    if op in ("record", "drop"):
        return {"op": op}
    if op == "cpu":
        if "us" in arg:
            return {"op": "cpu_us", "us": int(arg["us"])}
        return {"op": "cpu_cycles", "cycles": int(arg["cycles"])}
    if op == "sleep":
        t = K_MSEC(arg["ms"]) if "ms" in arg else K_USEC(arg["us"])
        return {"op": "sleep", "timeout": t}
    hdr = arg.get("header", [])
    seq16 = isinstance(hdr, dict)
    return {"op": "forward", "source": arg["source"], "pool": arg["pool"],
            "timeout": parse_duration(arg.get("timeout", 0)), "seq16": seq16,
            "header": b"" if seq16 else bytes(hdr)}


def _normalise(data: dict[str, Any], topo: Topology, chk: _Checker) -> None:
    topo.config = dict(data.get("config") or {})
    for key, value in topo.config.items():
        line = chk.lines.key_line(("config", key))
        topo.config_where[str(key)] = f"{chk.file}:{line}"
        problem = check_value(str(key).removeprefix("CONFIG_"), value)[1]
        if problem:
            chk.errors.append((line, f"config.{key}: {problem}"))
    for p in data.get("pools") or []:
        topo.pools.append({"name": p["name"], "count": p["count"], "size": p["size"],
                           "user_data_size": p.get("user_data_size", DEFAULT_USER_DATA)})
    for q in data.get("queues") or []:
        topo.queues.append({"name": q["name"], "size": q.get("size", DEFAULT_QUEUE_SIZE),
                            "thread": _thread(q.get("thread"), f"{q['name']}_thread")})
    for s in data.get("sources") or []:
        topo.sources.append(s["name"] if isinstance(s, dict) else s)
    for s in data.get("sinks") or []:
        steps = s.get("behaviour")
        topo.sinks.append({"name": s["name"], "queue": s.get("queue"),
                           "behaviour": [_step(x) for x in steps] if steps is not None
                           else [{"op": "record"}]})
    for c in data.get("connections") or []:
        if isinstance(c, list):
            c = {"source": c[0], "sink": c[1]}
        topo.connections.append({
            "source": c["source"], "sink": c["sink"], "runtime": bool(c.get("runtime", False)),
            "add_at": parse_duration(c["add_at"]) if "add_at" in c else None,
            "remove_at": parse_duration(c["remove_at"]) if "remove_at" in c else None})
    for i, st in enumerate(data.get("stimuli") or []):
        (kind, raw), = st.items()
        if kind == "periodic":
            s = _send(raw)
            s.update(kind="periodic", every=parse_duration(raw["every"]),
                     start=parse_duration(raw.get("start", 0)), count=raw.get("count"),
                     thread=_thread(raw.get("thread"), f"stimulus{i}"))
            topo.stimuli.append(s)
            continue
        steps = []
        for step in raw["steps"]:
            op = next(k for k in step if k != "at")
            arg = step[op]
            at = parse_duration(step["at"])
            if op == "send":
                steps.append({"at": at, "op": "send", **_send(arg)})
            elif op == "process":
                steps.append({"at": at, "op": "process", "queue": arg["queue"],
                              "timeout": parse_duration(arg.get("timeout", 0))})
            else:
                steps.append({"at": at, "op": op, "source": arg["source"],
                              "sink": arg["sink"]})
        topo.stimuli.append({"kind": "script", "steps": steps,
                             "thread": _thread(raw.get("thread"), f"script{i}")})
    if data.get("duration") is not None:
        topo.duration = parse_duration(data["duration"])
    _cross_check(data, topo, chk)
    _never_works(topo, chk)


def _cross_check(data: dict[str, Any], topo: Topology, chk: _Checker) -> None:
    pools = chk.unique([(p["name"], ("pools", i, "name")) for i, p in enumerate(topo.pools)],
                       "pool")
    queues = chk.unique([(q["name"], ("queues", i, "name"))
                         for i, q in enumerate(topo.queues)], "queue")
    sources = chk.unique([(s, ("sources", i)) for i, s in enumerate(topo.sources)], "source")
    sinks = chk.unique([(s["name"], ("sinks", i, "name")) for i, s in enumerate(topo.sinks)],
                       "sink")
    sizes = {p["name"]: p["size"] for p in topo.pools}
    for i, s in enumerate(topo.sinks):
        if s["queue"] is not None:
            chk.ref(s["queue"], queues, "queue", ("sinks", i, "queue"))
        for j, st in enumerate(s["behaviour"]):
            if st["op"] != "forward":
                continue
            at = ("sinks", i, "behaviour", j, "forward")
            chk.ref(st["source"], sources, "source", (*at, "source"))
            chk.ref(st["pool"], pools, "pool", (*at, "pool"))
            need = 2 if st["seq16"] else len(st["header"])
            if st["pool"] in sizes and need > sizes[st["pool"]]:
                chk.error((*at, "header"), f"a {need}-byte header does not fit pool "
                                           f"{st['pool']!r} ({sizes[st['pool']]}-byte buffers)")
    pairs: dict[tuple[str, str], int] = {}
    for i, c in enumerate(topo.connections):
        raw = data["connections"][i]
        at: tuple = ("connections", i)
        src_at = (*at, 0) if isinstance(raw, list) else (*at, "source")
        snk_at = (*at, 1) if isinstance(raw, list) else (*at, "sink")
        chk.ref(c["source"], sources, "source", src_at)
        chk.ref(c["sink"], sinks, "sink", snk_at)
        key = (c["source"], c["sink"])
        if key in pairs:
            chk.error(at, f"{c['source']} -> {c['sink']} is connected twice (first at line "
                          f"{chk.lines.line(('connections', pairs[key]))})")
        pairs.setdefault(key, i)
        if not c["runtime"] and (c["add_at"] is not None or c["remove_at"] is not None):
            chk.error(at, "add_at/remove_at need runtime: true")
        for key in ("add_at", "remove_at"):
            if c[key] is not None and c[key].is_forever:
                chk.error((*at, key), f"{key}: forever is not an instant")
    for i, st in enumerate(topo.stimuli):
        if st["kind"] == "periodic":
            at = ("stimuli", i, "periodic")
            chk.ref(st["source"], sources, "source", (*at, "source"))
            chk.ref(st["pool"], pools, "pool", (*at, "pool"))
            for key in ("every", "start"):
                if st[key].is_forever:
                    chk.error((*at, key), f"{key}: forever is not a period or an instant")
            continue
        for j, step in enumerate(st["steps"]):
            if step["at"].is_forever:
                chk.error(("stimuli", i, "script", "steps", j, "at"),
                          "at: forever is not an instant")
            at = ("stimuli", i, "script", "steps", j, step["op"])
            if step["op"] == "send":
                chk.ref(step["source"], sources, "source", (*at, "source"))
                chk.ref(step["pool"], pools, "pool", (*at, "pool"))
            elif step["op"] == "process":
                chk.ref(step["queue"], queues, "queue", (*at, "queue"))
            else:
                chk.ref(step["source"], sources, "source", (*at, "source"))
                chk.ref(step["sink"], sinks, "sink", (*at, "sink"))


def _earlier(a: Timeout, b: Timeout) -> bool:
    """Whether instant ``a`` is surely before ``b`` (ticks compare only with ticks: their
    length depends on the board)."""
    if a.is_forever or b.is_forever or (a.per_sec == 0) != (b.per_sec == 0):
        return False
    if a.per_sec == 0:
        return a.num < b.num
    return Fraction(a.num) / a.per_sec < Fraction(b.num) / b.per_sec


def _never_works(topo: Topology, chk: _Checker) -> None:
    """Well-formed entries that can never do what they say."""
    sizes = {p["name"]: p["size"] for p in topo.pools}
    sends: list[tuple[dict[str, Any], Path_]] = []
    for i, st in enumerate(topo.stimuli):
        if st["kind"] == "periodic":
            at: Path_ = ("stimuli", i, "periodic")
            sends.append((st, at))
            if st["every"] == K_NO_WAIT:
                chk.error((*at, "every"), "every: 0 is not a period (at least one tick)")
            if st["count"] is None and topo.duration is not None and topo.duration.is_forever:
                chk.error(("duration",), f"duration: forever never ends: stimuli[{i}] "
                                         f"sends without a count")
            continue
        prev = None
        for j, step in enumerate(st["steps"]):
            at = ("stimuli", i, "script", "steps", j)
            if step["op"] == "send":
                sends.append((step, (*at, "send")))
            if prev is not None and _earlier(step["at"], prev):
                chk.error((*at, "at"), "at: earlier than the step before it (a script's steps "
                                       "run in order)")
            prev = step["at"]
    for st, at in sends:
        pool = sizes.get(st["pool"])
        if pool is not None and st["size"] > pool:
            chk.error((*at, "size"), f"a {st['size']}-byte payload does not fit pool "
                                     f"{st['pool']!r} ({pool}-byte buffers)")
    for i, c in enumerate(topo.connections):
        add, remove = c["add_at"], c["remove_at"]
        if add is not None and remove is not None and _earlier(remove, add):
            chk.error(("connections", i, "remove_at"), "remove_at: earlier than add_at")
    _immediate_cycles(topo, chk)


def _immediate_cycles(topo: Topology, chk: _Checker) -> None:
    """A forward that comes back to its own sink in the sender's context (immediate sinks
    only) recurses until the stack or the pool runs out."""
    immediate = {s["name"] for s in topo.sinks if s["queue"] is None}
    delivers: dict[str, set[str]] = {}       # source -> immediate sinks it reaches
    for c in topo.connections:
        if c["sink"] in immediate:
            delivers.setdefault(c["source"], set()).add(c["sink"])
    for st in topo.stimuli:
        for step in st.get("steps", []):
            if step["op"] == "connect" and step["sink"] in immediate:
                delivers.setdefault(step["source"], set()).add(step["sink"])
    forwards: dict[str, list[tuple[str, Path_]]] = {}   # immediate sink -> sources
    for i, s in enumerate(topo.sinks):
        if s["name"] in immediate:
            forwards[s["name"]] = [(st["source"], ("sinks", i, "behaviour", j, "forward"))
                                   for j, st in enumerate(s["behaviour"])
                                   if st["op"] == "forward"]
    for sink, outs in forwards.items():
        for source, at in outs:
            seen, todo = set(), [source]
            while todo:
                src = todo.pop()
                if src in seen:
                    continue
                seen.add(src)
                reached = delivers.get(src, set())
                if sink in reached:
                    chk.error(at, f"{sink} forwards to {source}, which delivers back to {sink} "
                                  f"in the sender's context: an endless recursion (make a sink "
                                  f"on the loop queued)")
                    break
                todo.extend(s2 for k in reached for s2, _ in forwards.get(k, []))


# ------------------------------------------------------------------ entry points
def find_topology_file(path: str | Path) -> Path:
    """The ``topology.yaml`` a path names (the file itself, or inside the directory)."""
    p = Path(path)
    if p.is_dir():
        p = p / FILE_NAME
    if not p.is_file():
        raise TopologyError([f"{path}: no {FILE_NAME} here"])
    return p


def parse_topology(text: str, file: str | Path = FILE_NAME, name: str | None = None
                   ) -> Topology:
    """Check and normalise the text of a topology file; ``file`` names it in errors."""
    file = str(file)
    try:
        doc = parse_yaml(text)
    except YamlSyntaxError as exc:
        raise TopologyError([f"{file}:{exc.line or 1}: YAML syntax: {exc.problem}"]) from None
    data = doc.data
    if not isinstance(data, dict):
        raise TopologyError([f"{file}:1: a topology is a mapping starting with version: 1"])
    errors = _schema_errors(doc)
    topo = Topology(name=str(data.get("name") or name or Path(file).parent.name or "topology"),
                    path=Path(file), doc=doc)
    if not errors:
        chk = _Checker(doc, file)
        _normalise(data, topo, chk)
        errors = chk.errors
    if errors:
        raise TopologyError([f"{file}:{line}: {msg}" for line, msg in sorted(errors)])
    return topo


def parse_topology_data(data: Any, name: str = "topology", path: Path | None = None
                        ) -> Topology:
    """Check and normalise already-loaded YAML data (errors carry no line numbers)."""
    return parse_topology(yaml.safe_dump(data, sort_keys=False), path or name, name=name)


def load_topology(path: str | Path) -> Topology:
    """Read and check a ``topology.yaml`` (or the one in a directory); the directory's
    ``prj.conf``, when present, is recorded as the default configuration."""
    file = find_topology_file(path)
    try:
        text = read_text(file)
    except OSError as exc:
        raise TopologyError([f"{file}: cannot read: {exc.strerror}"]) from None
    except TextError as exc:
        raise TopologyError([f"{file}:{exc.line or 1}: {exc.problem}"]) from None
    topo = parse_topology(text, file, name=file.parent.name)
    conf = file.parent / "prj.conf"
    topo.prj_conf = conf if conf.is_file() else None
    return topo


__all__ = ["Topology", "TopologyError", "find_topology_file", "load_topology",
           "parse_duration", "parse_topology", "parse_topology_data"]
