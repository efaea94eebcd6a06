"""zsim's arguments as typed in a west workspace, completed with the workspace's defaults.

``west zsim ARGS`` runs ``zsim ARGS`` with three additions, and nothing else changed:

- ``run`` and ``crosscheck`` without a model take the application in the current directory
  (one holding ``model.py`` or ``topology.yaml``);
- a relative model path or ``-T`` root that does not exist from the current directory but
  does from the workspace's top directory is taken from there;
- without ``--board`` (``run``) or ``-p`` (``twister``), the board of
  ``west config build.board`` is used, as ``west build`` does.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

MODEL_FILES = ("model.py", "topology.yaml")

_MODEL_ARG = {"run": "path", "crosscheck": "scenario"}
_BOARD_FLAG = {"run": "--board", "twister": "-p"}    # crosscheck's default: the device's
_ROOT_FLAGS = ("-T", "--testsuite-root")


@dataclass(frozen=True)
class Workspace:
    """What the workspace contributes: its top directory and ``build.board``."""

    topdir: Path | None = None
    board: str | None = None


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices.get(name)
    return None


def _given(sub: argparse.ArgumentParser, words: list[str]) -> argparse.Namespace | None:
    """The values ``words`` set explicitly (None where a default would apply), or None
    when they cannot be read (zsim will then report the error itself)."""
    for action in sub._actions:
        action.default = None
        action.required = False
        if not action.option_strings and action.nargs is None:
            action.nargs = "?"
    sub.exit_on_error = False
    try:
        return sub.parse_known_args(words)[0]
    except (argparse.ArgumentError, SystemExit):
        return None


def _from_topdir(value: str, cwd: Path, topdir: Path | None) -> str:
    """``value``, or its path from the workspace's top directory when only that exists."""
    if topdir is None or os.path.isabs(value) or (cwd / value).exists():
        return value
    alt = topdir / value
    return str(alt) if alt.exists() else value


def _replace_last(words: list[str], old: str, new: str) -> None:
    for i in range(len(words) - 1, -1, -1):
        if words[i] == old:
            words[i] = new
            return


def _roots_from_topdir(words: list[str], cwd: Path, topdir: Path | None) -> list[str]:
    out = list(words)
    for i, word in enumerate(out):
        if word in _ROOT_FLAGS and i + 1 < len(out):
            out[i + 1] = _from_topdir(out[i + 1], cwd, topdir)
        elif word.startswith("--testsuite-root="):
            out[i] = "--testsuite-root=" + _from_topdir(word.split("=", 1)[1], cwd, topdir)
    return out


def workspace_argv(argv: Sequence[str], workspace: Workspace,
                   cwd: str | os.PathLike[str] | None = None) -> list[str]:
    """``argv`` for ``zsim`` with the workspace's defaults filled in (module docstring)."""
    from zsim.cli import build_parser

    words = list(argv)
    here = Path.cwd() if cwd is None else Path(cwd)
    if "-h" in words or "--help" in words:
        return words
    parser = build_parser(words)
    command = next((w for w in words if not w.startswith("-")), None)
    sub = _subparser(parser, command) if command else None
    if sub is None or command not in (*_MODEL_ARG, *_BOARD_FLAG):
        return words
    at = words.index(command)
    head, rest = words[:at + 1], words[at + 1:]
    given = _given(sub, rest)
    if given is None:
        return words
    if command in _MODEL_ARG:
        model = getattr(given, _MODEL_ARG[command])
        if model is None:
            if any((here / f).is_file() for f in MODEL_FILES):
                rest.insert(0, ".")
        else:
            _replace_last(rest, model, _from_topdir(model, here, workspace.topdir))
    else:
        rest = _roots_from_topdir(rest, here, workspace.topdir)
    board_given = given.platform if command == "twister" else getattr(given, "board", None)
    needs_board = command in _BOARD_FLAG and not board_given and not (
        command == "twister" and (given.hardware_map or given.only_failed or given.load_tests
                                  or given.list_tests))
    if needs_board and workspace.board:
        rest += [_BOARD_FLAG[command], workspace.board]
    return head + rest


__all__ = ["MODEL_FILES", "Workspace", "workspace_argv"]
