"""Which ``topology.yaml`` a suite runs on a board, or why it cannot run on one.

A board runs topologies through the firmware shim (firmware_bridge), never Python. A suite
runs on a board through: its ``topology.yaml`` model; the file its ``model.py`` names with a
module-level ``DEVICE_SCENARIO = "file.yaml"`` (the scenario the model builds, relative to
``model.py``); or a ``topology.yaml`` beside its ``model.py``. Otherwise it is ``skipped``
on a board, with a reason that says why.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from .discovery import Scenario
from .filters import Instance
from .statuses import BLOCK, ERROR, SKIP

DECLARATION = "DEVICE_SCENARIO"
TOPOLOGY = "topology.yaml"
NO_SCENARIO = ("Python model: a device runs topology.yaml scenarios through the firmware "
               f"shim, and model.py names none ({DECLARATION} = \"file.yaml\") nor is there "
               f"a {TOPOLOGY} beside it")


@dataclass(frozen=True)
class DevicePlan:
    """The scenario file a board runs (``path``), or the status and reason of a suite
    that does not run on one."""

    path: Path | None
    status: str | None = None
    reason: str = ""


def declared_scenario(model: Path) -> tuple[str, int] | None:
    """The string ``model.py`` assigns to ``DEVICE_SCENARIO`` at module level, with its
    line; None when it assigns none. A ``ValueError`` naming the file and line when the
    value is not a string literal or the file does not parse."""
    try:
        tree = ast.parse(model.read_text(encoding="utf-8"), filename=str(model))
    except SyntaxError as exc:
        raise ValueError(f"{model}:{exc.lineno or 1}: {exc.msg}") from None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign) and node.value else []
        if not any(isinstance(t, ast.Name) and t.id == DECLARATION for t in targets):
            continue
        value = node.value
        if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
            raise ValueError(f"{model}:{node.lineno}: {DECLARATION} must be a string "
                             "literal naming a topology.yaml file (relative to model.py)")
        return value.value, node.lineno
    return None


def device_scenario(sc: Scenario) -> DevicePlan:
    """Where ``sc`` runs on a board, or why it does not (see the module's rules)."""
    model = Path(sc.model)
    if model.suffix in (".yaml", ".yml"):
        return DevicePlan(model)
    try:
        declared = declared_scenario(model)
    except (OSError, ValueError) as exc:
        return DevicePlan(None, ERROR, str(exc))
    if declared is not None:
        name, line = declared
        path = model.parent / name
        if not path.is_file():
            return DevicePlan(None, ERROR, f"{model}:{line}: {DECLARATION} names {name!r}, "
                                           f"but {path} is not a file")
        return DevicePlan(path)
    beside = model.parent / TOPOLOGY
    if beside.is_file():
        return DevicePlan(beside)
    return DevicePlan(None, SKIP, NO_SCENARIO)


def settle_off_device(inst: Instance) -> bool:
    """When ``inst`` cannot run on a board, settle it (``skipped``, or ``error`` for a bad
    declaration; its cases likewise) and return True; else False."""
    plan = device_scenario(inst.scenario)
    if plan.path is not None:
        return False
    inst.status = plan.status
    inst.reason = plan.reason
    inst.add_missing_case_status(SKIP if plan.status == SKIP else BLOCK, plan.reason)
    return True


__all__ = ["DECLARATION", "DevicePlan", "NO_SCENARIO", "declared_scenario",
           "device_scenario", "settle_off_device"]
