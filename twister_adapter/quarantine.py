"""``--quarantine-list``: twister's quarantine YAML and which instances it matches.

A quarantine file is a list of entries with ``scenarios``, ``platforms``,
``architectures``, ``simulations`` (lists of regular expressions, each matched against the
whole value; ``all`` matches everything) and a ``comment`` (scripts/pylib/twister/
twisterlib/quarantine.py). An entry matches an instance when every list it gives matches;
at least one list must be given. The first matching entry gives the comment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from zsim.yamlfile import unknown_keys

from .discovery import TwisterConfigError, read_config
from .filters import Instance
from .statuses import NONE, SKIP

_LIST = {"type": "array", "items": {"type": "string"}}
QUARANTINE_SCHEMA: dict[str, Any] = {
    "type": ["array", "null"],
    "items": {
        "type": "object",
        "properties": {"scenarios": _LIST, "platforms": _LIST, "architectures": _LIST,
                       "simulations": _LIST, "comment": {"type": "string"}},
        "additionalProperties": False,
        "anyOf": [{"required": [k]} for k in ("scenarios", "platforms", "architectures",
                                                "simulations")],
    },
}
_KEYS = ("scenarios", "platforms", "architectures", "simulations")
SIMULATION = "zsim"
"""The simulation name quarantine ``simulations`` are matched against on the simulator
(``na`` on boards, as twister names no simulation)."""


@dataclass
class QuarantineEntry:
    """One entry: compiled patterns per key (empty: any value) and its comment."""

    patterns: dict[str, list[re.Pattern[str]]] = field(default_factory=dict)
    comment: str = "NA"

    def matches(self, values: dict[str, str]) -> bool:
        return all(any(p.fullmatch(values[k]) for p in pats)
                   for k, pats in self.patterns.items() if pats)


def load_quarantine(paths: Iterable[str | Path]) -> list[QuarantineEntry]:
    """Every entry of the quarantine files, in order; errors name the file and line."""
    out: list[QuarantineEntry] = []
    for path in map(Path, paths):
        doc = read_config(path, "cannot read quarantine list")
        errors = []
        for top in jsonschema.Draft202012Validator(QUARANTINE_SCHEMA).iter_errors(doc.data):
            err = jsonschema.exceptions.best_match([top])
            parts = list(err.absolute_path)
            msg, line = err.message, doc.key_line(parts[:2]) if parts else 1
            if err.validator == "anyOf" and isinstance(err.instance, dict):
                msg = f"expected at least one of {', '.join(_KEYS)}"
            extra = unknown_keys(err)
            if extra:
                msg, line = f"unknown key {extra[0]!r}", doc.key_line([*parts, extra[0]])
            where = ".".join(str(x) for x in parts) or "(top level)"
            errors.append((line, f"quarantine entry {where}: {msg}"))
        if errors:
            raise TwisterConfigError("\n".join(f"{path}:{line}: {msg}"
                                               for line, msg in sorted(set(errors))))
        for i, row in enumerate(doc.data or []):
            entry = QuarantineEntry(comment=str(row.get("comment", "NA")))
            for key in _KEYS:
                values = list(row.get(key) or [])
                if "all" in values:
                    values = []
                try:
                    entry.patterns[key] = [re.compile(v) for v in values]
                except re.error as exc:
                    raise TwisterConfigError(
                        f"{path}:{doc.key_line([i, key])}: quarantine entry {i}.{key}: bad "
                        f"regular expression: {exc}") from None
            out.append(entry)
    return out


def match(entries: Sequence[QuarantineEntry], inst: Instance,
          simulation: str = SIMULATION) -> QuarantineEntry | None:
    """The first entry matching ``inst`` (scenario identifier, platform, arch), or None."""
    values = {"scenarios": inst.scenario.id, "platforms": inst.platform.name,
              "architectures": inst.platform.arch, "simulations": simulation}
    return next((e for e in entries if e.matches(values)), None)


def apply_quarantine(instances: Sequence[Instance], entries: Sequence[QuarantineEntry], *,
                     verify: bool = False, simulation: str = SIMULATION) -> None:
    """Quarantined instances become ``skipped`` with ``Quarantine: <comment>``; with
    ``verify`` the others are filtered (``Not under quarantine``) and the quarantined run."""
    for inst in instances:
        if inst.status != NONE:
            continue
        entry = match(entries, inst, simulation)
        if entry is not None and not verify:
            inst.status = SKIP
            inst.reason = f"Quarantine: {entry.comment}"
            inst.run = False
            inst.add_missing_case_status(SKIP)
        elif entry is None and verify:
            inst.add_filter("Not under quarantine")
            inst.run = False
            inst.add_missing_case_status(inst.status)


__all__ = ["QUARANTINE_SCHEMA", "QuarantineEntry", "apply_quarantine", "load_quarantine",
           "match"]
