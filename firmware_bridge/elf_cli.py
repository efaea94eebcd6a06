"""``zsim elf topology FIRMWARE.elf [-o topology.yaml]``: a firmware's static topology."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register_elf(sub: argparse._SubParsersAction) -> None:
    elf = sub.add_parser("elf", help="read packet_io firmware ELF images")
    esub = elf.add_subparsers(dest="elf_command", required=True)
    topo = esub.add_parser(
        "topology",
        help="recover the static packet_io topology (sources, sinks, queues, connections)",
        description="Recover the static packet_io topology of a linked firmware image: "
                    "sources, sinks with their modes and handlers, queues and their sizes, "
                    "and the static connections in link order. Writes a topology.yaml "
                    "(docs/scenario-format.md); warnings go to standard error.")
    topo.add_argument("firmware", metavar="FIRMWARE.elf", help="a linked ELF image (zephyr.elf)")
    topo.add_argument("-o", "--output", metavar="FILE",
                      help="write to FILE instead of standard output")
    topo.add_argument("--name", help="the scenario name (default: the file name)")
    topo.add_argument("--json", action="store_true",
                      help="write everything found (addresses, handlers, warnings) as JSON")
    topo.set_defaults(func=_cmd_topology)


def _cmd_topology(args: argparse.Namespace) -> int:
    from .elf import read_topology, topology_to_yaml

    topo = read_topology(args.firmware)
    if args.json:
        text = json.dumps(topo.to_dict(), indent=2) + "\n"
    else:
        text = topology_to_yaml(topo, name=args.name)
    for w in topo.warnings:
        print(f"zsim elf: warning: {w}", file=sys.stderr)
    if args.output:
        Path(args.output).write_text(text)
        print(f"{args.output}: {len(topo.sources)} sources, {len(topo.sinks)} sinks, "
              f"{len(topo.queues)} queues, {len(topo.connections)} static connections",
              file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
