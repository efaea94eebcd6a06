"""The sweep plan: the model read once, every parameter checked, and the cross product of
parameter values, boards and seeds as points, each with the spec its worker runs."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .params import (
    KCONFIG,
    SEED,
    TOPOLOGY,
    Param,
    SweepInputError,
    apply_topology,
    check_topology,
    check_unique,
    kconfig_value,
    topology_value,
)

MAX_POINTS = 100_000


@dataclass(frozen=True)
class Point:
    """One run of the sweep: its place in the cross product and what it sets."""

    index: int
    values: tuple[tuple[str, Any], ...]       # (parameter name, value), in --param order
    board: str
    seed: int

    def label(self) -> str:
        """``name=value ... board seed`` for messages."""
        parts = [f"{n}={v}" for n, v in self.values]
        return " ".join([*parts, f"board={self.board}", f"seed={self.seed}"])


@dataclass
class Plan:
    """A checked sweep: the model, its parameters, boards, seeds and run options."""

    model: Path
    kind: str                                  # "python" | "topology"
    params: list[Param]
    boards: list[str]
    seeds: list[int]
    duration: str
    board_dirs: list[str] = field(default_factory=list)
    costs: str = "board"
    wall_timeout: float | None = None
    strict: bool = False
    topology: dict | None = None               # the topology's YAML data
    topology_text: str | None = None
    prj_conf_text: str | None = None

    @property
    def swept(self) -> list[Param]:
        """The parameters given (seed too, when given as ``--param seed=``)."""
        return self.params

    def points(self, only: dict[str, Any] | None = None) -> Iterator[Point]:
        """The cross product in order: parameters (first --param outermost), then boards,
        then seeds; ``only`` fixes some parameters to one value."""
        lists = [[(p.name, v) for v in p.values if only is None or p.name not in only
                  or v == only[p.name]] for p in self.params if p.kind != SEED]
        for i, (combo, board, seed) in enumerate(itertools.product(
                itertools.product(*lists), self.boards, self.seeds)):
            yield Point(i, tuple(combo), board, seed)

    def count(self) -> int:
        n = len(self.boards) * len(self.seeds)
        for p in self.params:
            if p.kind != SEED:
                n *= len(p.values)
        return n

    def spec(self, point: Point) -> dict[str, Any]:
        """What a worker needs to run ``point`` (plain data: it may travel to a cluster)."""
        by_name = {p.name: p for p in self.params}
        config = {by_name[n].symbol: v for n, v in point.values if by_name[n].kind == KCONFIG}
        topo = [(by_name[n], v) for n, v in point.values if by_name[n].kind == TOPOLOGY]
        files = None
        if self.kind == "topology":
            text = (self.topology_text if not topo else
                    yaml.safe_dump(apply_topology(self.topology or {}, topo), sort_keys=False))
            files = {"topology.yaml": text}
            if self.prj_conf_text is not None:
                files["prj.conf"] = self.prj_conf_text
        return {"index": point.index, "values": [list(x) for x in point.values],
                "model": str(self.model), "files": files, "config": config,
                "board": point.board, "seed": point.seed, "duration": self.duration,
                "board_dirs": list(self.board_dirs), "costs": self.costs,
                "wall_timeout": self.wall_timeout, "strict": self.strict}


def make_plan(model: str | os.PathLike, params: Sequence[Param], boards: Iterable[str],
              seeds: int | None, duration: str, *, board_dirs: Sequence[str] = (),
              costs: str = "board", wall_timeout: float | None = None,
              strict: bool = False) -> Plan:
    """Read the model and check every parameter value, board and option: any mistake is a
    :class:`SweepInputError` (or the loader's own error) before anything runs."""
    from ..boards import load_board
    from ..durations import parse_duration
    from ..model import load_model
    from ..yamlfile import read_text

    parse_duration(duration)
    params = list(params)
    check_unique(params)
    m = load_model(model)
    kind = m.kind
    seed_param = next((p for p in params if p.kind == SEED), None)
    if seed_param is not None and seeds is not None:
        raise SweepInputError("--seeds and --param seed=... both give the seeds: use one")
    seed_list = (seed_param.values if seed_param is not None
                 else list(range(seeds)) if seeds is not None else [0])
    if not seed_list:
        raise SweepInputError("--seeds: expected at least 1")
    plan = Plan(model=m.path.resolve(), kind=kind, params=params,
                boards=_boards(boards), seeds=seed_list, duration=duration,
                board_dirs=list(board_dirs), costs=costs, wall_timeout=wall_timeout,
                strict=strict)
    if kind == "topology":
        plan.topology_text = read_text(m.path)
        plan.topology = yaml.safe_load(plan.topology_text)
        if not plan.topology.get("name"):      # keep the name the directory gave it
            plan.topology["name"] = m.topology.name if m.topology else m.path.parent.name
            plan.topology_text = yaml.safe_dump(plan.topology, sort_keys=False)
        if m.prj_conf is not None:
            plan.prj_conf_text = read_text(m.prj_conf)
    for p in params:
        if p.kind == KCONFIG:
            p.values = [kconfig_value(p, t) for t in p.texts]
        elif p.kind == TOPOLOGY:
            if plan.topology is None:
                raise SweepInputError(f"--param {p.name}: {m.path} is a Python model; "
                                      "topology fields need a topology.yaml (sweep Kconfig "
                                      "symbols, CONFIG_..., that model.py reads)")
            p.values = []
            for t in p.texts:
                v = topology_value(p, plan.topology, t)
                check_topology(apply_topology(plan.topology, [(p, v)]), p, t)
                p.values.append(v)
    for b in plan.boards:
        load_board(b, board_dirs)
        m.load_config(None, b, strict=strict, board_dirs=board_dirs)
    if plan.count() > MAX_POINTS:
        raise SweepInputError(f"{plan.count():,} points: more than {MAX_POINTS:,}; sweep "
                              "fewer values")
    return plan


def _boards(boards: Iterable[str]) -> list[str]:
    out: list[str] = []
    for b in boards:
        for name in b.split(","):
            name = name.strip()
            if not name:
                raise SweepInputError(f"--board {b!r}: empty board name (see `zsim boards`)")
            if name not in out:
                out.append(name)
    return out or ["native_sim"]


__all__ = ["MAX_POINTS", "Plan", "Point", "make_plan"]
