"""``--plot``: a PNG of queue depths and pools' buffers in use over virtual time, and a
latency histogram per sink (matplotlib, Agg backend).

The levels come from ``BucketSeries`` (a fixed number of buckets, each with its minimum,
maximum and last value: the shaded band shows every spike) and the latencies from the
sinks' recorders (zsim/latency.py), so the plot agrees with the summary and Perfetto.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

from .atomic import write_bytes
from .series import BucketSeries

QUEUE_LABEL = "queue depth (events waiting, not counting the one being handled)"
POOL_LABEL = "pool buffers in use"


def render_plot(header: Mapping[str, Any], levels: Mapping[str, BucketSeries],
                latencies: Mapping[str, Sequence[tuple[float, int]]],
                end_us: float) -> bytes:
    """The PNG image as bytes. ``levels``: tracks named ``queue NAME depth`` and
    ``pool NAME in use``; ``latencies``: per sink, ``(latency_us, packets)``."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    queues = {n[len("queue "):-len(" depth")]: s for n, s in levels.items()
              if n.startswith("queue ") and n.endswith(" depth")}
    pools = {n[len("pool "):-len(" in use")]: s for n, s in levels.items()
             if n.startswith("pool ") and n.endswith(" in use")}
    lat = {s: v for s, v in latencies.items() if v}
    end_ms = end_us / 1000
    cols = 2
    hist_rows = max(math.ceil(len(lat) / cols), 1)
    height = 3.2 * (2 + hist_rows)
    fig = Figure(figsize=(11, height))      # a fixed layout: drawn once, not twice
    grid = fig.add_gridspec(2 + hist_rows, cols, left=0.07, right=0.98, hspace=0.55,
                            wspace=0.2, bottom=0.55 / height, top=1 - 0.75 / height)
    fig.suptitle(f"zsim run: {header.get('scenario', '')} on {header.get('board', '?')}")
    for row, (series, what) in enumerate(((queues, QUEUE_LABEL), (pools, POOL_LABEL))):
        ax = fig.add_subplot(grid[row, :])
        for i, (name, s) in enumerate(series.items()):
            pts = s.points()
            xs = [p[0] / 1000 for p in pts] + [max(end_ms, pts[-1][0] / 1000)]
            lasts = [p[3] for p in pts]
            line = ax.step(xs, lasts + lasts[-1:], where="post", label=f"{name} (peak {s.peak})",
                           linewidth=max(2.0 - 0.5 * i, 0.8),
                           linestyle=("-", "--", ":", "-.")[i % 4])[0]
            if any(p[1] != p[2] for p in pts):    # spikes within a bucket
                ax.fill_between(xs, [p[1] for p in pts] + [pts[-1][1]],
                                [p[2] for p in pts] + [pts[-1][2]], step="post",
                                alpha=0.25, color=line.get_color(), linewidth=0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        peak = max((s.peak for s in series.values()), default=0)
        ax.set_ylim(0, max(peak, 1) * 1.08)
        ax.set_ylabel(what if row else "queue depth (events)")
        ax.set_title(what, fontsize="medium")
        ax.set_xlabel("virtual time (ms)")
        if series:
            ax.legend(loc="upper right", fontsize="small")
        else:
            ax.text(0.5, 0.5, "none in this model", ha="center", va="center",
                    transform=ax.transAxes)
    if not lat:
        ax = fig.add_subplot(grid[2, :])
        ax.text(0.5, 0.5, "no handled packets", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
    for i, (sink, values) in enumerate(sorted(lat.items())):
        ax = fig.add_subplot(grid[2 + i // cols, i % cols])
        ms = [v / 1000 for v, _ in values]
        weights = [n for _, n in values]
        lo, hi = min(ms), max(ms)
        pad = max((hi - lo) * 0.05, hi * 0.01, 0.001)
        ax.hist(ms, bins=min(max(len(ms), 1), 40), weights=weights,
                range=(max(lo - pad, 0.0), hi + pad))
        ax.set_title(f"{sink} latency ({sum(weights)} packets)")
        ax.set_xlabel("send to end of handler (ms)")
        ax.set_ylabel("packets")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return buf.getvalue()


def write_plot(path: str | os.PathLike, header: Mapping[str, Any],
               levels: Mapping[str, BucketSeries],
               latencies: Mapping[str, Sequence[tuple[float, int]]], end_us: float) -> None:
    """Write the PNG to ``path`` atomically."""
    write_bytes(path, render_plot(header, levels, latencies, end_us))
