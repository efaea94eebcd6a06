"""``ZSIM_PURE_PYTHON=1``: load zsim's modules from their ``.py`` sources even where a
compiled core is installed beside them (see setup.py), to compare the two or debug.

Without it, a compiled module is loaded only when its build record matches the binary and
its sources (``zsim/build_info.py``); otherwise its source runs."""

from __future__ import annotations

import importlib.util
import os
import sys
from importlib.machinery import ModuleSpec

from . import build_info


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


class CheckedFinder:
    """A meta path finder giving a hot module's ``.py`` source when its compiled module does
    not match its build record (``build_info.decide``), and leaving the rest to the others."""

    @staticmethod
    def find_spec(name: str, path: list[str] | None = None,
                  target: object = None) -> ModuleSpec | None:
        if name not in build_info.HOT_MODULES:
            return None
        binary, _ = build_info.decision(name)
        source = os.path.join(build_info.PACKAGE_DIR, *name.split(".")[1:]) + ".py"
        if binary is not None or not os.path.isfile(source):
            return None
        return importlib.util.spec_from_file_location(name, source)


def install() -> None:
    """Put the source finder first when ``ZSIM_PURE_PYTHON`` is set (non-empty, not ``0``),
    the build-checking finder otherwise."""
    finder = SourceFinder if build_info.pure_requested() else CheckedFinder
    if not any(isinstance(f, finder) for f in sys.meta_path):
        sys.meta_path.insert(0, finder())


install()
