"""The ``zsim`` command line.

Each subcommand lives in its own module with a ``register(subparsers)`` function, listed
under the ``zsim.commands`` entry point group, so a layer adds commands without this module
knowing it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points

from . import COMPILED, __version__
from .errors import ZsimError

_BUILTIN = ("zsim.commands.run", "zsim.commands.boards")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="zsim", description="Simulate Zephyr packet_io firmware.")
    core = "compiled core" if COMPILED else "pure-Python core"
    p.add_argument("--version", action="version", version=f"zsim {__version__} ({core})")
    sub = p.add_subparsers(dest="command", required=True)
    registered = set()
    for ep in sorted(entry_points(group="zsim.commands"), key=lambda e: e.name):
        ep.load()(sub)
        registered.add(ep.value.split(":")[0])
    for mod in _BUILTIN:                 # a source checkout run without installing
        if mod not in registered:
            __import__(mod, fromlist=["register"]).register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ZsimError, ValueError, OSError) as exc:
        print(f"zsim: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
