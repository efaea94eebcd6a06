"""twister hardware maps: a YAML list of connected boards
(scripts/schemas/twister/hwmap-schema.yaml): ``id``, ``platform``, ``product``, ``runner``,
``serial``, ``baud``, ``connected``, ``fixtures``, ..."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from .discovery import TwisterConfigError, read_config

_STR = {"type": "string"}
HWMAP_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["platform", "connected"],
        "properties": {
            "id": {"type": ["string", "integer"]},
            "platform": {"anyOf": [_STR, {"type": "array", "items": _STR}]},
            "product": _STR, "runner": _STR, "runner_params": {"type": "array"},
            "serial": _STR, "serial_pty": _STR, "baud": {"type": "integer", "minimum": 1},
            "connected": {"type": "boolean"},
            "fixtures": {"type": "array", "items": _STR},
            "probe_id": _STR, "notes": _STR, "pre_script": _STR, "post_script": _STR,
            "post_flash_script": _STR, "script_param": {"type": "object"},
            "flash_timeout": {"type": "integer"}, "flash_with_test": {"type": "boolean"},
            "flash_before": {"type": "boolean"},
        },
        "additionalProperties": False,
    },
}


@dataclass
class DUT:
    """One board of the map."""

    id: str
    platforms: list[str]
    serial: str
    baud: int = 115200
    product: str = ""
    runner: str = ""
    connected: bool = True
    fixtures: list[str] = field(default_factory=list)


def load_hardware_map(path: str | Path) -> list[DUT]:
    """Read and check a hardware map; errors name the file and line."""
    p = Path(path)
    doc = read_config(p, "cannot read hardware map")
    data = doc.data
    errors = []
    for top in jsonschema.Draft202012Validator(HWMAP_SCHEMA).iter_errors(data):
        err = jsonschema.exceptions.best_match([top])
        parts = list(err.absolute_path)
        line = doc.line(parts[:1]) if parts else 1
        where = ".".join(str(x) for x in parts) or "(top level)"
        errors.append((line, f"hardware map entry {where}: {err.message}"))
    if errors:                          # every error, each at its line
        raise TwisterConfigError("\n".join(f"{p}:{line}: {msg}"
                                           for line, msg in sorted(set(errors))))
    duts = []
    for i, e in enumerate(data or []):
        serial = e.get("serial") or e.get("serial_pty")
        if not serial:
            raise TwisterConfigError(f"{p}:{doc.line([i])}: hardware map entry {i}: no 'serial'")
        plats = e["platform"] if isinstance(e["platform"], list) else [e["platform"]]
        duts.append(DUT(id=str(e.get("id", serial)), platforms=plats, serial=serial,
                        baud=int(e.get("baud", 115200)), product=e.get("product", ""),
                        runner=e.get("runner", ""), connected=bool(e["connected"]),
                        fixtures=list(e.get("fixtures", []))))
    return duts


def connected_boards(duts: list[DUT], platform: str) -> list[DUT]:
    """The connected boards of ``platform``, in the map's order."""
    return [d for d in duts if d.connected and platform in d.platforms]


def connected_for(duts: list[DUT], platform: str) -> DUT | None:
    """The first connected board of ``platform``."""
    boards = connected_boards(duts, platform)
    return boards[0] if boards else None


__all__ = ["DUT", "HWMAP_SCHEMA", "connected_boards", "connected_for", "load_hardware_map"]
