"""Output paths that can never destroy an input.

Every command checks the paths it will write before it runs anything: an output that is,
contains or lies inside one of its inputs (a model directory, a topology, a prj.conf, a
suite root), an output directory that is the working directory or an ancestor of an input,
an existing directory given as a file name, a missing or unwritable parent directory, or
two outputs naming the same file, is bad input (:class:`OutputPathError`, exit status 2).

Directories zsim writes (twister's output directory) carry a marker file,
:data:`MARKER`; only a directory holding it may ever be removed or renamed by zsim.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from .errors import ZsimError

MARKER = ".zsim-output"
"""The file that marks a directory as written by zsim (and so removable by zsim)."""

PathLike = str | os.PathLike


class OutputPathError(ZsimError, ValueError):
    """An output path that would overwrite, remove or clobber an input, or cannot be written."""


def _resolve(p: PathLike) -> Path:
    return Path(os.path.abspath(os.fspath(p))).resolve()


def _inside(child: Path, parent: Path) -> bool:
    """``child`` is ``parent`` or lies below it."""
    return child == parent or parent in child.parents


def check_file_outputs(outputs: Mapping[str, PathLike | None],
                       inputs: Iterable[PathLike] = ()) -> None:
    """Refuse file outputs (``{"--trace": "run.jsonl", ...}``) that could harm an input.

    Each output must not be an existing directory, must have an existing writable parent,
    must not be, contain or lie inside any of ``inputs``, and must differ from every other
    output. Raises :class:`OutputPathError` naming the option and the path.
    """
    ins = [(p, _resolve(p)) for p in inputs if p is not None]
    seen: dict[Path, str] = {}
    for opt, value in outputs.items():
        if value is None:
            continue
        if not os.fspath(value):
            raise OutputPathError(f"{opt}: empty path (expected a file name)")
        target = _resolve(value)
        if target.is_dir():
            raise OutputPathError(f"{opt} {value}: is a directory (expected a file name)")
        for raw, inp in ins:
            if target == inp:
                raise OutputPathError(f"{opt} {value}: is the input {raw}; zsim never "
                                      "overwrites its inputs")
            if inp.is_dir() and _inside(target, inp):
                raise OutputPathError(f"{opt} {value}: lies inside the input directory "
                                      f"{raw}; write outputs outside the model or suite")
        parent = target.parent
        if not parent.is_dir():
            raise OutputPathError(f"{opt} {value}: directory {parent} does not exist")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise OutputPathError(f"{opt} {value}: directory {parent} is not writable")
        if target.exists() and not os.access(target, os.W_OK) and not os.access(
                parent, os.W_OK):
            raise OutputPathError(f"{opt} {value}: is not writable")
        if target in seen:
            raise OutputPathError(f"{opt} {value}: the same file as {seen[target]}")
        seen[target] = opt


def check_output_dir(opt: str, value: PathLike, inputs: Iterable[PathLike] = ()) -> Path:
    """Refuse an output directory that is the working directory, an ancestor of an input,
    an input, or inside an input; returns it resolved."""
    if not os.fspath(value):
        raise OutputPathError(f"{opt}: empty path (expected a directory)")
    target = _resolve(value)
    cwd = _resolve(os.getcwd())
    if target == cwd or _inside(cwd, target):
        raise OutputPathError(f"{opt} {value}: is the working directory or one of its "
                              "parents; name a directory of its own (e.g. twister-out)")
    if target.exists() and not target.is_dir():
        raise OutputPathError(f"{opt} {value}: is a file, not a directory")
    for raw in inputs:
        if raw is None:
            continue
        inp = _resolve(raw)
        if _inside(inp, target):
            raise OutputPathError(f"{opt} {value}: contains the input {raw}; zsim never "
                                  "writes over its inputs")
        if _inside(target, inp):
            raise OutputPathError(f"{opt} {value}: lies inside the input {raw}; write "
                                  "outputs outside the suite tree")
    return target


def is_zsim_output_dir(path: PathLike) -> bool:
    """The directory was written by zsim (it holds :data:`MARKER`)."""
    return (Path(path) / MARKER).is_file()


def mark_output_dir(path: PathLike) -> None:
    """Mark a directory zsim created, so a later ``-c`` may remove it."""
    marker = Path(path) / MARKER
    if not marker.exists():
        marker.write_text("This directory was written by zsim; zsim may remove or replace "
                          "it (twister -c). Delete this file to protect it.\n",
                          encoding="utf-8")


__all__ = ["MARKER", "OutputPathError", "check_file_outputs", "check_output_dir",
           "is_zsim_output_dir", "mark_output_dir"]
