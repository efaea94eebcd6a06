"""``--plot``: a PNG of queue depths and pool occupancy over time, and a latency
histogram per sink (matplotlib, Agg backend)."""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterable, Mapping
from typing import Any

from ..summary import sink_latencies
from .atomic import write_bytes
from .series import pool_occupancy, queue_depths


def render_plot(header: Mapping[str, Any], events: Iterable[Mapping[str, Any]]) -> bytes:
    """The PNG image as bytes."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    events = list(events)
    queues, pools = queue_depths(events), pool_occupancy(events)
    latencies = {s: v for s, v in sink_latencies(events).items() if v}
    end_ms = max((float(ev.get("us", 0.0)) for ev in events), default=0.0) / 1000
    cols = 2
    hist_rows = max(math.ceil(len(latencies) / cols), 1)
    fig = Figure(figsize=(11, 3.2 * (2 + hist_rows)), layout="constrained")
    grid = fig.add_gridspec(2 + hist_rows, cols)
    title = f"zsim run: {header.get('scenario', '')} on {header.get('board', '?')}"
    fig.suptitle(title)
    for row, (series, what) in enumerate(((queues, "queue depth (events)"),
                                           (pools, "pool buffers in use"))):
        ax = fig.add_subplot(grid[row, :])
        for i, (name, points) in enumerate(series.items()):
            xs = [us / 1000 for us, _ in points] + [end_ms]
            ys = [v for _, v in points] + [points[-1][1]]
            ax.step(xs, ys, where="post", label=name, linewidth=max(2.4 - 0.6 * i, 0.8),
                    linestyle=("-", "--", ":", "-.")[i % 4])
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(what)
        ax.set_xlabel("virtual time (ms)")
        if series:
            ax.legend(loc="upper right", fontsize="small")
        else:
            ax.text(0.5, 0.5, "no events in the trace", ha="center", va="center",
                    transform=ax.transAxes)
    if not latencies:
        ax = fig.add_subplot(grid[2, :])
        ax.text(0.5, 0.5, "no handled packets", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
    for i, (sink, values) in enumerate(sorted(latencies.items())):
        ax = fig.add_subplot(grid[2 + i // cols, i % cols])
        ms = [v / 1000 for v in values]
        lo, hi = min(ms), max(ms)
        pad = max((hi - lo) * 0.05, hi * 0.01, 0.001)
        ax.hist(ms, bins=min(max(len(set(values)), 1), 40), range=(max(lo - pad, 0.0), hi + pad))
        ax.set_title(f"{sink} latency ({len(values)} packets)")
        ax.set_xlabel("send to end of handler (ms)")
        ax.set_ylabel("packets")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return buf.getvalue()


def write_plot(path: str | os.PathLike, header: Mapping[str, Any],
               events: Iterable[Mapping[str, Any]]) -> None:
    """Write the PNG to ``path`` atomically."""
    write_bytes(path, render_plot(header, events))
