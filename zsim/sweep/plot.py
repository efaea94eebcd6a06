"""``sweep.png``: drops and the worst sink's p99 latency against the swept parameters.

One swept parameter: line plots (a line per board). Two: heatmaps. More (or several boards
with two): one row of panels per combination of the extra values, up to :data:`MAX_ROWS`.
Several seeds are summarised by their worst value (most drops, highest p99).
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..export.atomic import write_bytes

MAX_ROWS = 12
METRICS = (("drops", "drops (all sinks)"), ("p99_ms", "worst sink p99 latency (ms)"))


def _p99_ms(row: dict[str, Any]) -> float | None:
    vals = [v for k, v in row.items() if k.endswith(".p99_us") and v is not None]
    return max(vals) / 1000 if vals else None


def _worst(rows: Sequence[dict[str, Any]], metric: str) -> float | None:
    vals = [(_p99_ms(r) if metric == "p99_ms" else r.get(metric)) for r in rows]
    vals = [v for v in vals if v is not None]
    return max(vals) if vals else None


def _axis(values: Sequence[Any]) -> tuple[list[Any], bool]:
    """The distinct values in order, and whether they are all numbers."""
    distinct = list(dict.fromkeys(values))
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in distinct)
    return (sorted(distinct) if numeric else distinct), numeric


def write_plot(path: Path, swept: Sequence[str], rows: Sequence[dict[str, Any]]) -> bool:
    """Write the plot of ``rows`` against the parameters ``swept`` (the names with more
    than one value); False when there is nothing to plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in rows if r.get("status") in (0, 4, 5)]
    if not rows:
        return False
    boards = list(dict.fromkeys(r["board"] for r in rows))
    axes_params = list(swept[:2]) or ["seed"]
    extra = list(swept[2:]) + (["board"] if len(boards) > 1 and len(axes_params) == 2 else [])
    groups = list(itertools.product(*[_axis([r[e] for r in rows])[0] for e in extra]))
    groups = groups[:MAX_ROWS]
    fig, axes = plt.subplots(len(groups), 2, figsize=(11, 3.6 * len(groups)), squeeze=False)
    for gi, group in enumerate(groups):
        sel = [r for r in rows if all(r[e] == v for e, v in zip(extra, group, strict=True))]
        title = ", ".join(f"{e}={v}" for e, v in zip(extra, group, strict=True))
        for mi, (metric, label) in enumerate(METRICS):
            ax = axes[gi][mi]
            if len(axes_params) == 1:
                _lines(ax, sel, axes_params[0], metric, boards)
            else:
                _heatmap(fig, ax, sel, axes_params, metric)
            ax.set_title(f"{label}" + (f"\n{title}" if title else ""), fontsize=9)
    fig.suptitle(f"zsim sweep: {len(rows)} points", fontsize=11)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    write_bytes(path, buf.getvalue())
    return True


def _lines(ax: Any, rows: Sequence[dict[str, Any]], x: str, metric: str,
           boards: Sequence[str]) -> None:
    xs, numeric = _axis([r[x] for r in rows])
    for board in boards:
        pts = [(i, v, _worst([r for r in rows if r[x] == v and r["board"] == board], metric))
               for i, v in enumerate(xs)]
        pts = [p for p in pts if p[2] is not None]
        if pts:
            ax.plot([v if numeric else i for i, v, _ in pts], [y for _, _, y in pts],
                    marker="o", label=board)
    if not numeric:
        ax.set_xticks(range(len(xs)), [str(v) for v in xs], rotation=30, fontsize=8)
    ax.set_xlabel(x)
    ax.grid(True, alpha=0.3)
    if len(boards) > 1:
        ax.legend(fontsize=8)


def _heatmap(fig: Any, ax: Any, rows: Sequence[dict[str, Any]], params: Sequence[str],
             metric: str) -> None:
    import numpy as np

    xs, _ = _axis([r[params[0]] for r in rows])
    ys, _ = _axis([r[params[1]] for r in rows])
    grid = np.full((len(ys), len(xs)), np.nan)
    for yi, y in enumerate(ys):
        for xi, x in enumerate(xs):
            v = _worst([r for r in rows if r[params[0]] == x and r[params[1]] == y], metric)
            if v is not None:
                grid[yi, xi] = v
    im = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(xs)), [str(v) for v in xs], rotation=30, fontsize=8)
    ax.set_yticks(range(len(ys)), [str(v) for v in ys], fontsize=8)
    ax.set_xlabel(params[0])
    ax.set_ylabel(params[1])
    fig.colorbar(im, ax=ax)


__all__ = ["write_plot"]
