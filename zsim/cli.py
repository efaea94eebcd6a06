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

from . import __version__, build_info
from .errors import ZsimError

_BUILTIN = ("zsim.commands.run", "zsim.commands.boards", "zsim.commands.sweep")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given ``argv``, only the command it names is loaded (a command's
    imports are its own: ``zsim run`` does not pay for the bridge or twister)."""
    p = argparse.ArgumentParser(prog="zsim", description="Simulate Zephyr packet_io firmware.")
    p.add_argument("--version", action=_Version, nargs=0,
                   help="show the version and which modules run compiled, then exit")
    sub = p.add_subparsers(dest="command", required=True)
    wanted = _command_name(argv)
    builtin = {m.rsplit(".", 1)[1]: m for m in _BUILTIN}
    if wanted in builtin:               # zsim's own command: no need to scan the installed
        __import__(builtin[wanted], fromlist=["register"]).register(sub)   # packages
        return p
    eps = sorted(entry_points(group="zsim.commands"), key=lambda e: e.name)
    if wanted not in {ep.name for ep in eps} | {m.rsplit(".", 1)[1] for m in _BUILTIN}:
        wanted = None                   # help, a typo: every command, for argparse's list
    registered = set()
    for ep in eps:
        if wanted is None or ep.name == wanted:
            ep.load()(sub)
        registered.add(ep.value.split(":")[0])
    for mod in _BUILTIN:                 # a source checkout run without installing
        if mod not in registered and (wanted is None or mod.endswith("." + wanted)):
            __import__(mod, fromlist=["register"]).register(sub)
    return p


class _Version(argparse.Action):
    """``--version``: the version and the core, then which hot modules run compiled."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        lines = [f"zsim {__version__} ({build_info.core_summary()})", *build_info.report()]
        print("\n".join(lines))
        parser.exit()


def _command_name(argv: Sequence[str] | None) -> str | None:
    """The subcommand ``argv`` names: its first word that is not an option."""
    words = sys.argv[1:] if argv is None else list(argv)
    return next((w for w in words if not w.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser(argv).parse_args(argv)
    try:
        return args.func(args)
    except (ZsimError, ValueError, OSError) as exc:
        print(f"zsim: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
