"""``ZSIM_PURE_PYTHON=1``: load zsim's modules from their ``.py`` sources even where a
compiled core is installed beside them (see setup.py), to compare the two or debug."""

from __future__ import annotations

import importlib.util
import os
import sys
from importlib.machinery import ModuleSpec


class SourceFinder:
    """A meta path finder giving ``zsim.*`` modules from ``.py`` files, never from ``.so``."""

    @staticmethod
    def find_spec(name: str, path: list[str] | None = None,
                  target: object = None) -> ModuleSpec | None:
        if not name.startswith("zsim.") or not path:
            return None
        leaf = name.rpartition(".")[2]
        for entry in path:
            source = os.path.join(entry, leaf + ".py")
            if os.path.isfile(source):
                return importlib.util.spec_from_file_location(name, source)
        return None


def install() -> None:
    """Put the finder first when ``ZSIM_PURE_PYTHON`` is set (non-empty, not ``0``)."""
    if os.environ.get("ZSIM_PURE_PYTHON", "0") not in ("", "0") and not any(
            isinstance(f, SourceFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, SourceFinder())


install()
