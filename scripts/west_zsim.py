"""``west zsim``: zsim's command line as a west extension command.

``west zsim ARGS`` behaves as ``zsim ARGS`` (same output, same exit status), with the
workspace's defaults filled in by ``zsim.workspace_args``. The zsim installed in west's
Python is used; without one, the sources of this checkout are (pure-Python core).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from west.commands import WestCommand

_CHECKOUT = Path(__file__).resolve().parent.parent

_DESCRIPTION = """\
Run zsim from a west workspace: `west zsim run`, `west zsim twister`,
`west zsim crosscheck`, `west zsim boards`, ... take the arguments of `zsim`
(see `west zsim --help`). Without a model, `run` and `crosscheck` take the
application in the current directory; relative paths not found from the current
directory are looked up from the workspace's top directory; without --board
(run) or -p (twister), the board of `west config build.board` is used. The
option zsim.board-dir (`west config zsim.board-dir DIR[:DIR...]`, relative to
the workspace) adds board profile directories."""


def _zsim() -> Any:
    """The zsim packages (``zsim.cli``, ``zsim.workspace_args``)."""
    try:
        import zsim.cli  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(_CHECKOUT))
        import zsim.cli  # noqa: F401
    import zsim.workspace_args  # noqa: F401
    return zsim


class ZsimCommand(WestCommand):
    """``west zsim``: every zsim command, run in the workspace."""

    def __init__(self) -> None:
        super().__init__("zsim", "simulate packet_io firmware, run twister suites on models, "
                         "cross-check boards", _DESCRIPTION, accepts_unknown_args=True)

    def do_add_parser(self, parser_adder: Any) -> argparse.ArgumentParser:
        # No options of its own: every argument, -h included, is zsim's.
        return parser_adder.add_parser(self.name, help=self.help, description=self.description,
                                       formatter_class=argparse.RawDescriptionHelpFormatter,
                                       add_help=False)

    def do_run(self, args: argparse.Namespace, unknown: list[str]) -> None:
        zsim = _zsim()
        topdir = Path(self.topdir) if self.topdir else None
        board = dirs = None
        if self.config is not None:
            board = self.config.get("build.board")
            dirs = self.config.get("zsim.board-dir")
        if dirs and topdir is not None:
            extra = [str(topdir / d) for d in dirs.split(os.pathsep) if d.strip()]
            os.environ["ZSIM_BOARD_DIR"] = os.pathsep.join(
                [*extra, *filter(None, [os.environ.get("ZSIM_BOARD_DIR")])])
        argv = zsim.workspace_args.workspace_argv(
            unknown, zsim.workspace_args.Workspace(topdir=topdir, board=board))
        status = zsim.cli.main(argv)
        if status:
            sys.exit(status)
