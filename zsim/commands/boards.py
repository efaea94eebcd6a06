"""``zsim boards [list|show NAME]``: the board profiles."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console as RichConsole
from rich.table import Table


def register(sub: argparse._SubParsersAction) -> None:
    boards = sub.add_parser("boards", help="list board profiles, or show one")
    boards.add_argument("action", nargs="?", choices=["list", "show"], default="list")
    boards.add_argument("name", nargs="?")
    boards.add_argument("--board-dir", action="append", help="extra directory of board profiles")
    boards.set_defaults(func=_cmd_boards)


def _cmd_boards(args: argparse.Namespace) -> int:
    from ..boards import known_boards, load_board

    out = RichConsole()
    if args.action == "show":
        if not args.name:
            print("zsim boards show: name a board", file=sys.stderr)
            return 2
        b = load_board(args.name, args.board_dir or ())
        t = Table("field", "value", title=b.identifier)
        for field in ("identifier", "aliases", "arch", "cpu", "cpu_clock_hz", "ticks_per_sec",
                      "hw_cycles_per_sec", "ram_kib", "flash_kib", "pointer_size",
                      "endianness", "libc", "errno_flavour", "xip", "console_uart",
                      "console_baud", "path"):
            t.add_row(field, str(getattr(b, field)))
        for key, value in b.costs.items():
            t.add_row(f"cost.{key}", str(value))
        out.print(t)
        for src in b.sources:
            out.print(f"  source: {src}")
        return 0
    t = Table("identifier", "arch", "CPU clock", "ticks/s", "RAM KiB", "flash KiB",
              title="board profiles")
    for ident, b in sorted(known_boards(args.board_dir or ()).items()):
        t.add_row(ident, b.arch, f"{b.cpu_clock_hz / 1e6:g} MHz", str(b.ticks_per_sec),
                  str(b.ram_kib), str(b.flash_kib))
    out.print(t)
    return 0
