"""``--footprint-report RAM`` and ``--show-footprint``: static RAM from zsim's RAM model.

The figures are ``Kernel.memory_report()``'s (zsim/kernel/memory.py): kernel stacks,
threads, net_buf pools, queues and every other object, sized from Zephyr's struct
layouts for the board. They are laid out as twister's footprint data: ``ram.json`` in the
build directory and ``footprint.RAM`` in twister.json hold the tree of
scripts/footprint/size_report (``{"symbols": {name, identifier, size, children}, ...}``),
here grouped by kind of object; ``used_ram`` / ``available_ram`` are the totals. The deltas
against ``--compare-report`` follow twister's ``Reporting.footprint_reports``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zsim.kernel.memory import MemoryReport

from .discovery import TwisterConfigError
from .filters import Instance

METRICS = ("used_ram", "used_rom")
"""The twister.json metrics compared, lower being better."""


def ram_tree(report: MemoryReport) -> dict[str, Any]:
    """The RAM entries of ``report`` as size_report's JSON: Root > kind > object."""
    kinds: dict[str, list[dict[str, Any]]] = {}
    for e in report.entries:
        if e.region == "RAM":
            kinds.setdefault(e.kind, []).append(
                {"name": e.name, "identifier": f"{e.kind}/{e.name}", "size": e.bytes,
                 "children": []})
    children = [{"name": kind, "identifier": kind, "size": sum(c["size"] for c in objs),
                 "children": objs} for kind, objs in sorted(kinds.items())]
    return {"symbols": {"name": "Root", "identifier": "root", "size": report.ram_used,
                        "children": children},
            "total_size": report.ram_used}


def footprint(report: MemoryReport) -> dict[str, Any]:
    """What an instance keeps: ``used_ram``, ``available_ram`` (board RAM - used) and the
    ``RAM`` tree."""
    return {"used_ram": report.ram_used,
            "available_ram": report.ram_bytes - report.ram_used,
            "RAM": ram_tree(report)}


@dataclass(frozen=True)
class Delta:
    """One metric of one instance that changed against the baseline."""

    inst: Instance
    metric: str
    value: int
    delta: int

    @property
    def percentage(self) -> float:
        return self.delta / (self.value - self.delta) if self.value > self.delta else 0.0


def load_baseline(path: str | Path) -> dict[tuple[str, str], dict[str, Any]]:
    """The metrics per (suite name, platform) of the twister.json at ``path`` (read before
    anything runs, so an error is bad input)."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise TwisterConfigError(f"--compare-report {path}: cannot read: "
                                 f"{exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise TwisterConfigError(f"--compare-report {path}:{exc.lineno}: invalid JSON: "
                                 f"{exc.msg}") from None
    suites = doc.get("testsuites") if isinstance(doc, dict) else None
    if not isinstance(suites, list):
        raise TwisterConfigError(f"--compare-report {path}: expected a twister.json "
                                 "(an object with a 'testsuites' list)")
    return {(str(ts.get("name")), str(ts.get("platform"))):
            {m: ts.get(m, 0) for m in METRICS}
            for ts in suites if isinstance(ts, dict)}


def deltas(instances: Sequence[Instance],
           saved: dict[tuple[str, str], dict[str, Any]]) -> list[Delta]:
    """Every metric that changed against the baseline (:func:`load_baseline`)."""
    out = []
    for inst in instances:
        old = saved.get((inst.scenario.name, inst.platform.name))
        if old is None or inst.footprint is None:
            continue
        for metric in METRICS:
            if metric not in inst.footprint or old[metric] in ("", None):
                continue
            value = int(inst.footprint[metric])
            delta = value - int(old[metric])
            if delta:
                out.append(Delta(inst, metric, value, delta))
    return out


def delta_lines(found: Sequence[Delta], *, show: bool, all_deltas: bool,
                threshold: float) -> tuple[list[tuple[str, str]], int]:
    """(level, line) pairs to log and the number of deltas counted, as twister: only
    increases of at least ``threshold`` percent unless ``all_deltas``."""
    lines = []
    warnings = 0
    for d in found:
        if not all_deltas and (d.delta < 0 or d.percentage < threshold / 100.0):
            continue
        if show:
            lines.append(("INFO" if all_deltas else "WARNING",
                          f"{d.inst.platform.name:<25} {d.inst.scenario.name:<60} {d.metric} "
                          f"{d.delta:<+4}, is now {d.value:6} {d.percentage:+.2%}"))
        warnings += 1
    return lines, warnings


__all__ = ["Delta", "METRICS", "delta_lines", "deltas", "footprint", "load_baseline",
           "ram_tree"]
