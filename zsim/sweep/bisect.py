"""``--find-min NAME --where COND``: the smallest value of one integer parameter for which
every point (all other parameters, boards and seeds) meets a condition, by bisection over
the parameter's values (the condition is taken to hold from some value upwards)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .expr import Condition
from .params import Param, SweepInputError

Rows = list[dict[str, Any]]


@dataclass
class FindMin:
    """The answer (None when no value meets the condition) and what was tried."""

    param: str
    condition: str
    value: int | None = None
    tried: dict[int, bool] = field(default_factory=dict)

    def text(self) -> str:
        if self.value is None:
            top = max(self.tried) if self.tried else "?"
            return (f"no value of {self.param} up to {top} meets {self.condition!r}")
        return f"smallest {self.param} with {self.condition}: {self.value}"


def check_target(params: Sequence[Param], name: str) -> Param:
    """The parameter ``--find-min`` names: swept, with integer values."""
    param = next((p for p in params if p.name == name), None)
    if param is None:
        raise SweepInputError(f"--find-min {name}: not a --param of this sweep (give its "
                              f"range, e.g. --param {name}=1..64)")
    if not param.values or not all(isinstance(v, int) and not isinstance(v, bool)
                                   for v in param.values):
        raise SweepInputError(f"--find-min {name}: its values are not all integers")
    return param


def find_min(param: Param, cond: Condition, run_value: Callable[[int], Rows | None]
             ) -> FindMin:
    """Bisect ``param``'s sorted values; ``run_value(v)`` runs every point with the
    parameter at ``v`` and gives their rows (None when the sweep was stopped)."""
    values = sorted(set(param.values))
    result = FindMin(param.name, cond.text)

    def meets(i: int) -> bool | None:
        rows = run_value(values[i])
        if rows is None:
            return None
        check_names(cond, rows)
        ok = bool(rows) and all(cond.holds(r) for r in rows)
        result.tried[values[i]] = ok
        return ok

    top = meets(len(values) - 1)
    if not top:
        return result
    lo, hi = -1, len(values) - 1        # values[hi] meets it; values[lo] does not (or none)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        ok = meets(mid)
        if ok is None:
            return result
        lo, hi = (lo, mid) if ok else (mid, hi)
    result.value = values[hi]
    return result


def check_names(cond: Condition, rows: Rows) -> None:
    """Refuse a condition naming a column the rows do not have (once there are rows)."""
    known = set().union(*(r.keys() for r in rows)) if rows else set()
    missing = sorted(n for n in cond.names if n not in known)
    if rows and missing:
        cols = ", ".join(sorted(k for k in known if k not in ("error", "point")))
        raise SweepInputError(f"{cond.option} {cond.text!r}: no column "
                              f"{', '.join(missing)} (the columns: {cols})")


__all__ = ["FindMin", "check_names", "check_target", "find_min"]
