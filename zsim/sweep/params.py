"""Sweep parameters: ``--param NAME=V1,V2,...`` parsed, checked against the model, applied.

NAME is ``seed``, a Kconfig symbol (``CONFIG_X``, laid over the model's prj.conf) or a
topology field by path (``queues.network_queue.size``: named lists are indexed by name,
other lists by position). Values are a comma-separated list of items; an item may be an
integer range ``A..B`` (step 1), ``A..B:+K`` (step K) or ``A..B:xK`` (times K).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from ..config import check_value
from ..errors import ZsimError

KCONFIG = "kconfig"
TOPOLOGY = "topology"
SEED = "seed"
RESERVED = ("board", "status", "drops", "leaks", "wall_s", "error", "point")
MAX_VALUES = 100_000
_RANGE = re.compile(r"^\s*([-+]?\d+)\s*\.\.\s*([-+]?\d+)\s*(?::\s*([x+*]?)\s*(\d+)\s*)?$")
_KCONFIG_NAME = re.compile(r"^CONFIG_[A-Za-z0-9_]+$")


class SweepInputError(ZsimError, ValueError):
    """A ``--param`` (or another sweep option) that cannot be used: exit status 2."""


@dataclass
class Param:
    """One swept parameter: its name as given, its kind, and its values (typed once the
    model has been read: :func:`resolve`)."""

    name: str
    kind: str
    texts: list[str]
    values: list[Any]
    path: tuple[str, ...] = ()

    @property
    def symbol(self) -> str:
        """The Kconfig symbol without ``CONFIG_``."""
        return self.name.removeprefix("CONFIG_")


def expand_values(name: str, text: str) -> list[str]:
    """The items of a value list, ranges expanded (``1..4,16`` -> 1, 2, 3, 4, 16)."""
    out: list[str] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            raise SweepInputError(f"--param {name}={text}: empty value in the list "
                                  "(expected V1,V2,... or a range A..B)")
        if ".." in item:
            out.extend(str(v) for v in _expand_range(name, item))
        else:
            out.append(item)
        if len(out) > MAX_VALUES:
            raise SweepInputError(f"--param {name}={text}: more than {MAX_VALUES} values")
    return out


def _expand_range(name: str, item: str) -> list[int]:
    m = _RANGE.match(item)
    if not m:
        raise SweepInputError(f"--param {name}: {item!r} is not a range (expected A..B, "
                              "A..B:+K or A..B:xK with integers)")
    lo, hi, op, step = int(m.group(1)), int(m.group(2)), m.group(3) or "+", m.group(4)
    k = int(step) if step is not None else (2 if op in "x*" and op else 1)
    if lo > hi:
        raise SweepInputError(f"--param {name}: range {item!r} is empty ({lo} > {hi})")
    if op in ("x", "*"):
        if k < 2 or lo < 1:
            raise SweepInputError(f"--param {name}: range {item!r}: a geometric range needs "
                                  "a start of at least 1 and a factor of at least 2")
        vals, v = [], lo
        while v <= hi:
            vals.append(v)
            v *= k
        return vals
    if k < 1:
        raise SweepInputError(f"--param {name}: range {item!r}: the step must be at least 1")
    if (hi - lo) // k + 1 > MAX_VALUES:
        raise SweepInputError(f"--param {name}: range {item!r} has more than {MAX_VALUES} "
                              "values")
    return list(range(lo, hi + 1, k))


def parse_param(text: str) -> Param:
    """A ``--param NAME=V1,V2,...`` as given (values still text)."""
    name, sep, values = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise SweepInputError(f"--param {text!r}: expected NAME=V1,V2,... (e.g. "
                              "queues.network_queue.size=1..16 or CONFIG_FOO=1,2)")
    if name in RESERVED:
        raise SweepInputError(f"--param {name}: {name!r} names a result column; "
                              + ("use --board" if name == "board" else "choose another name"))
    texts = expand_values(name, values)
    if name == "seed":
        return Param(name, SEED, texts, [_seed(t) for t in texts])
    if name.startswith("CONFIG_"):
        if not _KCONFIG_NAME.match(name):
            raise SweepInputError(f"--param {name}: not a Kconfig symbol name")
        return Param(name, KCONFIG, texts, [])
    path = tuple(name.split("."))
    if any(not part for part in path):
        raise SweepInputError(f"--param {name}: empty part in the field path (expected e.g. "
                              "queues.network_queue.size)")
    return Param(name, TOPOLOGY, texts, [], path)


def _seed(text: str) -> int:
    if not re.fullmatch(r"\d+", text):
        raise SweepInputError(f"--param seed: {text!r} is not a seed (expected an integer "
                              ">= 0)")
    return int(text)


def check_unique(params: Sequence[Param]) -> None:
    """Refuse a parameter given twice."""
    seen: set[str] = set()
    for p in params:
        if p.name in seen:
            raise SweepInputError(f"--param {p.name}: given twice (list all its values in "
                                  "one --param)")
        seen.add(p.name)


# ------------------------------------------------------------------ Kconfig values
def kconfig_value(param: Param, text: str) -> Any:
    """A Kconfig value from the command line: y/n, an integer, or a string (quoted or not)."""
    if text in ("y", "n"):
        value: Any = text == "y"
    elif re.fullmatch(r"[-+]?0[xX][0-9a-fA-F]+", text):
        value = int(text, 16)
    elif re.fullmatch(r"[-+]?\d+", text):
        value = int(text, 10)
    elif len(text) >= 2 and text[0] == text[-1] == '"':
        value = text[1:-1]
    else:
        value = text
    checked, problem = check_value(param.symbol, value)
    if problem:
        raise SweepInputError(f"--param {param.name}={text}: {problem}")
    return checked


# ------------------------------------------------------------------ topology fields
def _locate(data: Any, path: Sequence[str], name: str) -> tuple[Any, Any]:
    """The container holding the field at ``path`` and the key or index of the field."""
    node = data
    for depth, part in enumerate(path):
        last = depth == len(path) - 1
        where = ".".join(path[:depth]) or "the topology"
        if isinstance(node, dict):
            if part not in node and not last:
                have = ", ".join(str(k) for k in node) or "nothing"
                raise SweepInputError(f"--param {name}: {where} has no {part!r} (it has "
                                      f"{have})")
            key: Any = part
        elif isinstance(node, list):
            key = _list_index(node, part, name, where)
        else:
            raise SweepInputError(f"--param {name}: {where} is a value, not a mapping or "
                                  f"list: nothing to index with {part!r}")
        if last:
            return node, key
        node = node[key]
    raise SweepInputError(f"--param {name}: empty field path")


def _list_index(node: list, part: str, name: str, where: str) -> int:
    if re.fullmatch(r"\d+", part):
        i = int(part)
        if i >= len(node):
            raise SweepInputError(f"--param {name}: {where} has {len(node)} entries, no "
                                  f"index {i}")
        return i
    names = [x.get("name") if isinstance(x, dict) else x for x in node]
    if part in names:
        return names.index(part)
    have = ", ".join(str(n) for n in names if n is not None) or "no named entries"
    raise SweepInputError(f"--param {name}: {where} has no entry named {part!r} "
                          f"(it has {have})")


def _typed(current: Any, text: str, name: str) -> Any:
    """``text`` as the type of the field's current value (YAML's reading when unset)."""
    try:
        if isinstance(current, bool):
            if text.lower() in ("true", "y", "yes", "1"):
                return True
            if text.lower() in ("false", "n", "no", "0"):
                return False
            raise ValueError
        if isinstance(current, int):
            return int(text, 0)
        if isinstance(current, float):
            return float(text)
        if isinstance(current, str):
            return text
        if current is None:
            return yaml.safe_load(text)
    except (ValueError, yaml.YAMLError):
        kind = {bool: "true or false", int: "an integer", float: "a number"}[type(current)]
        raise SweepInputError(f"--param {name}={text}: expected {kind} (the topology has "
                              f"{current!r})") from None
    raise SweepInputError(f"--param {name}: is a {type(current).__name__}, not a single "
                          "value (name a field inside it)")


def topology_value(param: Param, data: dict, text: str) -> Any:
    """The value of ``text`` for topology field ``param``, typed as the field is."""
    node, key = _locate(data, param.path, param.name)
    current = node[key] if isinstance(node, list) or key in node else None
    return _typed(current, text, param.name)


def apply_topology(data: dict, assignments: Sequence[tuple[Param, Any]]) -> dict:
    """A copy of topology ``data`` with each ``(param, value)`` set."""
    out = copy.deepcopy(data)
    for param, value in assignments:
        node, key = _locate(out, param.path, param.name)
        node[key] = value
    return out


def check_topology(data: dict, param: Param, text: str) -> None:
    """Refuse a value the topology loader rejects (its message, without line numbers)."""
    from ..topology.loader import TopologyError, parse_topology

    try:
        parse_topology(yaml.safe_dump(data, sort_keys=False), "<sweep>")
    except TopologyError as exc:
        msgs = [re.sub(r"^<sweep>:\d+: ", "", e) for e in exc.errors]
        raise SweepInputError(f"--param {param.name}={text}: " + "; ".join(msgs)) from None


__all__ = ["KCONFIG", "SEED", "TOPOLOGY", "Param", "SweepInputError", "apply_topology",
           "check_topology", "check_unique", "expand_values", "kconfig_value", "parse_param",
           "topology_value"]
