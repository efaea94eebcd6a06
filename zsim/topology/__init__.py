"""Topologies: ``topology.yaml`` models (docs/scenario-format.md).

``load_topology`` reads and checks a file (errors as ``file:line: message``); ``build``
creates it on a ``Kernel``. The virtual board (firmware_bridge) reads the same files with
the same loader and runs the same behaviours.
"""

from __future__ import annotations

from .builder import Built, build, check_fits, uses_runtime_connections
from .loader import (
    Topology,
    TopologyError,
    find_topology_file,
    load_topology,
    parse_duration,
    parse_topology,
)
from .patterns import PatternGen

__all__ = ["Built", "PatternGen", "Topology", "TopologyError", "build", "check_fits",
           "find_topology_file", "load_topology", "parse_duration", "parse_topology",
           "uses_runtime_connections"]
