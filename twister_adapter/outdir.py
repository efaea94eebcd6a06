"""twister's output directory, handled so that nothing zsim did not write is ever lost.

:func:`check_outdir` runs before anything is written: the directory must not be the
working directory, an ancestor of it, an input or inside one
(``zsim.output_paths.check_output_dir``), and an existing one must hold zsim's marker
(or be empty). :func:`prepare_outdir` then renames an older marked directory to
``OUTDIR.1``, ``.2``, ... as twister does, deletes it with ``-c``, or reuses it with
``--no-clean``, and marks the directory it leaves in place.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from zsim.output_paths import (
    MARKER,
    OutputPathError,
    PathLike,
    check_output_dir,
    is_zsim_output_dir,
    mark_output_dir,
)


def check_outdir(outdir: PathLike, inputs: Iterable[PathLike]) -> None:
    """Refuse ``-O`` when writing there could harm an input or a directory zsim did not
    create; raises ``OutputPathError`` (bad input, nothing written)."""
    check_output_dir("-O", outdir, inputs)
    path = Path(outdir)
    if path.is_dir() and not is_zsim_output_dir(path) and any(path.iterdir()):
        raise OutputPathError(
            f"-O {outdir}: exists and was not written by zsim (it holds no {MARKER} file); "
            "zsim never removes, renames or writes into such a directory. Name a new "
            "output directory, or empty this one")


def _free_name(outdir: Path) -> Path:
    i = 1
    while True:
        cand = outdir.with_name(f"{outdir.name}.{i}")
        if not os.path.lexists(cand):
            return cand
        i += 1


def prepare_outdir(outdir: PathLike, *, no_clean: bool = False,
                   clobber: bool = False) -> str | None:
    """Make ``outdir`` ready (after :func:`check_outdir`); what was done to an older one
    (``"renamed to X"``, ``"deleted"``) or None."""
    path = Path(outdir)
    done = None
    if path.is_dir() and is_zsim_output_dir(path) and not no_clean:
        if clobber:
            shutil.rmtree(path)
            done = "deleted"
        else:
            target = _free_name(path)
            path.rename(target)
            done = f"renamed to {target}"
    path.mkdir(parents=True, exist_ok=True)
    mark_output_dir(path)
    return done


__all__ = ["check_outdir", "prepare_outdir"]
