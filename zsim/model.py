"""Models: a directory or file holding ``model.py`` (with ``main(k)``) or ``topology.yaml``.

``load_model(path)`` returns a ``Model`` whose ``main(k)`` defines the firmware on a kernel:
a Python model's own function (the module is imported under a private name, as two models
may share file names), or, for a topology, one that builds it (zsim.topology). When a
directory holds both, ``model.py`` wins. A directory's ``prj.conf`` is the model's default
configuration, as in a Zephyr app; a topology's ``config:`` applies after it.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from .boards import BoardProfile, load_board
from .config import Assignments, Config, Warn, load_config, read_prj_conf
from .errors import ZsimError
from .topology import Topology, build, load_topology, uses_runtime_connections
from .topology.loader import FILE_NAME as TOPOLOGY_FILE

_counter = itertools.count()
MODEL_FILE = "model.py"


class ModelError(ZsimError):
    """A model that cannot be found or loaded."""


@dataclass
class Model:
    """A loaded model: its ``main(k)``, where it came from, and its default prj.conf.

    ``kind`` is ``"python"`` or ``"topology"``; a topology model keeps its ``topology`` and
    its ``config:`` in ``config`` and what it needs unless told otherwise in ``defaults``.
    """

    path: Path
    module: ModuleType | None
    main: Callable
    prj_conf: Path | None
    kind: str = "python"
    topology: Topology | None = None
    config: dict[str, Any] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)

    def kernel_config(self, config: Mapping[str, object] | str | os.PathLike | None = None
                      ) -> Mapping[str, object] | str | None:
        """The configuration to build the kernel with: the model's ``defaults``, then the
        prj.conf (``config`` when it is a path, else the directory's), then the model's own
        ``config``; a mapping given as ``config`` applies last, over all of them.

        A path (or None) when there is nothing to layer, else checked
        :class:`~zsim.config.Assignments` that remember the ``file:line`` of each symbol;
        bad values raise :class:`~zsim.config.KconfigError` listing all of them."""
        base: str | None
        if isinstance(config, (str, os.PathLike)):
            base = os.fspath(config)
        elif self.prj_conf is not None:  # a mapping overlays the prj.conf (as -DCONFIG_...)
            base = str(self.prj_conf)
        else:
            base = None
        extra = dict(config) if isinstance(config, Mapping) else {}
        if not self.config and not self.defaults and not extra:
            return base
        conf = Assignments.from_mapping(self.defaults, f"{self.path} (default)")
        if base is not None:
            conf = conf.overlay(read_prj_conf(base))
        if self.config:
            where = self.topology.config_where if self.topology is not None else None
            conf = conf.overlay(Assignments.from_mapping(self.config, str(self.path), where))
        return conf.overlay(extra) if extra else conf

    def load_config(self, config: Mapping[str, object] | str | os.PathLike | None = None,
                    board: str | BoardProfile = "native_sim", *, strict: bool = False,
                    warn: Warn | None = None,
                    board_dirs: Iterable[str | os.PathLike[str]] = ()) -> Config:
        """The resolved configuration of :meth:`kernel_config` on ``board``, to pass as
        ``Kernel(config=...)``. Every error is listed in one ``KconfigError``; warnings
        (``file:line: what``) go to ``warn`` (``zsim.config.warn_to_stderr`` in a command),
        and are errors with ``strict``."""
        return load_config(self.kernel_config(config), load_board(board, board_dirs),
                           strict=strict, warn=warn)


def find_model_file(path: str | Path) -> Path:
    """The ``model.py`` or ``topology.yaml`` a path names (the file itself, or inside the
    directory; ``model.py`` first)."""
    p = Path(path)
    if p.is_dir():
        for name in (MODEL_FILE, TOPOLOGY_FILE):
            if (p / name).is_file():
                return p / name
        raise ModelError(f"{p}: no {MODEL_FILE} or {TOPOLOGY_FILE} in this directory (a model "
                         f"is a directory holding {MODEL_FILE} with main(k), or a "
                         f"{TOPOLOGY_FILE})")
    if p.is_file() and p.suffix in (".py", ".yaml", ".yml"):
        return p
    if not p.exists():
        raise ModelError(f"{p}: no such file or directory")
    raise ModelError(f"{p}: not a model (expected a directory with {MODEL_FILE} or "
                     f"{TOPOLOGY_FILE}, a .py or a .yaml file)")


def load_topology_model(file: Path) -> Model:
    """A model that builds the topology in ``file`` (a ``TopologyError`` if it is bad)."""
    topo = load_topology(file)
    defaults: dict[str, Any] = {"PACKET_IO_STATS": True}
    if uses_runtime_connections(topo):
        defaults["PACKET_IO_RUNTIME_OBSERVERS"] = True

    def main(k: Any) -> Any:
        return build(k, topo)
    return Model(file, None, main, topo.prj_conf, kind="topology", topology=topo,
                 config=dict(topo.config), defaults=defaults)


def load_model(path: str | Path) -> Model:
    """Load a model and check it defines ``main(k)`` (or is a valid topology)."""
    file = find_model_file(path)
    if file.suffix in (".yaml", ".yml"):
        return load_topology_model(file)
    file = file.resolve()
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


__all__ = ["Model", "ModelError", "find_model_file", "load_model"]
