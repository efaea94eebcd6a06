"""Models: a directory or file holding ``model.py`` with ``main(k)``.

``load_model(path)`` imports the module under a private name (two models may share file
names) and returns it; ``main(k)`` defines the firmware's objects and threads on a kernel.
A directory's ``prj.conf`` is the model's default configuration, as in a Zephyr app.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from .errors import ZsimError

_counter = itertools.count()


class ModelError(ZsimError):
    """A model that cannot be found or loaded."""


@dataclass
class Model:
    """A loaded model: its ``main(k)``, where it came from, and its default prj.conf."""

    path: Path
    module: ModuleType
    main: Callable
    prj_conf: Path | None


def find_model_file(path: str | Path) -> Path:
    """The ``model.py`` a path names (the file itself, or inside the directory)."""
    p = Path(path)
    if p.is_dir():
        candidate = p / "model.py"
        if candidate.is_file():
            return candidate
        raise ModelError(f"{p}: no model.py in this directory (a model is a directory "
                         "holding model.py with main(k))")
    if p.is_file() and p.suffix == ".py":
        return p
    if not p.exists():
        raise ModelError(f"{p}: no such file or directory")
    raise ModelError(f"{p}: not a model (expected a directory with model.py, or a .py file)")


def load_model(path: str | Path) -> Model:
    """Import a model and check it defines ``main(k)``."""
    file = find_model_file(path).resolve()
    name = f"zsim_model_{next(_counter)}_{file.parent.name}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ModelError(f"{file}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        sys.modules.pop(name, None)
        raise
    main = getattr(module, "main", None)
    if not callable(main):
        raise ModelError(f"{file}: defines no main(k) function")
    conf = file.parent / "prj.conf"
    return Model(file, module, main, conf if conf.is_file() else None)
