"""A ``topology.yaml`` scenario (docs/scenario-format.md) as plain, checked data.

One format, one loader: this module names zsim.topology's loader the way the bridge uses
it. ``load_scenario`` accepts a scenario file or a directory holding ``topology.yaml``;
errors read ``path/to/topology.yaml:LINE: message``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zsim.topology.loader import (
    Topology,
    TopologyError,
    find_topology_file,
    load_topology,
    parse_duration,
    parse_topology_data,
)

Scenario = Topology
ScenarioError = TopologyError


def find_scenario_file(path: str | Path) -> Path:
    """The ``topology.yaml`` a path names."""
    return find_topology_file(path)


def parse_scenario(data: Any, name: str = "scenario", path: Path | None = None) -> Scenario:
    """Check already-loaded YAML data and normalise it."""
    return parse_topology_data(data, name=name, path=path)


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a ``topology.yaml`` (or the one in a directory)."""
    return load_topology(path)


__all__ = ["Scenario", "ScenarioError", "find_scenario_file", "load_scenario",
           "parse_duration", "parse_scenario"]
