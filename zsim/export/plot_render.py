"""The ``--plot`` image from plain data: queue depths and pools' buffers in use over virtual
time, and a latency histogram per sink (matplotlib, Agg backend).

It imports nothing from zsim: ``zsim.export.plot.PlotWorker`` runs this file by path in a
child process (``serve``), which imports matplotlib while the run goes and draws once the
run's data comes in on its standard input.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import sys
from collections.abc import Mapping, Sequence
from typing import Any

QUEUE_LABEL = "queue depth (events waiting, not counting the one being handled)"
POOL_LABEL = "pool buffers in use"


Points = Sequence[tuple[float, int, int, int]]
TICKS = 5       # at most this many intervals between ticks on an axis: a readable, quick plot


def render_plot(header: Mapping[str, Any], levels: Mapping[str, tuple[Points, int]],
                latencies: Mapping[str, Sequence[tuple[float, int]]],
                end_us: float) -> bytes:
    """The PNG image as bytes. ``levels``: per track (``queue NAME depth`` or ``pool NAME
    in use``) its buckets ``(start_us, min, max, last)`` and its peak
    (``BucketSeries.points()`` and ``.peak``); ``latencies``: per sink, ``(latency_us,
    packets)``."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    queues = {n[len("queue "):-len(" depth")]: s for n, s in levels.items()
              if n.startswith("queue ") and n.endswith(" depth")}
    pools = {n[len("pool "):-len(" in use")]: s for n, s in levels.items()
             if n.startswith("pool ") and n.endswith(" in use")}
    lat = {s: v for s, v in latencies.items() if v}
    unit, per_us = ("s", 1e-6) if end_us >= 10e6 else ("ms", 1e-3)   # virtual time axis
    end_t = end_us * per_us
    cols = 2
    hist_rows = max(math.ceil(len(lat) / cols), 1)
    height = 3.2 * (2 + hist_rows)
    fig = Figure(figsize=(11, height))      # a fixed layout: drawn once, not twice
    grid = fig.add_gridspec(2 + hist_rows, cols, left=0.07, right=0.98, hspace=0.45,
                            wspace=0.2, bottom=0.55 / height, top=1 - 0.75 / height)
    fig.suptitle(f"zsim run: {header.get('scenario', '')} on {header.get('board', '?')}")
    top = None
    for row, (series, what) in enumerate(((queues, QUEUE_LABEL), (pools, POOL_LABEL))):
        ax = top = fig.add_subplot(grid[row, :], sharex=top)   # one time axis, drawn once
        for i, (name, (pts, peak)) in enumerate(series.items()):
            xs = [p[0] * per_us for p in pts] + [max(end_t, pts[-1][0] * per_us)]
            lasts = [p[3] for p in pts]
            line = ax.step(xs, lasts + lasts[-1:], where="post", label=f"{name} (peak {peak})",
                           linewidth=max(2.0 - 0.5 * i, 0.8),
                           linestyle=("-", "--", ":", "-.")[i % 4])[0]
            if any(p[1] != p[2] for p in pts):    # spikes within a bucket
                ax.fill_between(xs, [p[1] for p in pts] + [pts[-1][1]],
                                [p[2] for p in pts] + [pts[-1][2]], step="post",
                                alpha=0.25, color=line.get_color(), linewidth=0)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=TICKS))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=TICKS, integer=True))
        peak = max((p for _, p in series.values()), default=0)
        ax.set_ylim(0, max(peak, 1) * 1.08)
        ax.set_ylabel(what if row else "queue depth (events)")
        ax.set_title(what, fontsize="medium", y=1.0)
        if row:
            ax.set_xlabel(f"virtual time ({unit})")
        else:
            ax.tick_params(labelbottom=False)
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
        ax.set_title(f"{sink} latency ({sum(weights)} packets)", y=1.0)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=TICKS))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=TICKS, integer=True))
        ax.set_xlabel("send to end of handler (ms)")
        ax.set_ylabel("packets")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return buf.getvalue()


def warm_up() -> None:
    """Import matplotlib and draw a small figure once (fonts and renderer loaded)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2))
    ax = fig.add_subplot()
    ax.set_title("zsim")
    ax.step([0, 1], [0, 1], where="post")
    ax.hist([1.0, 2.0], bins=2)
    fig.savefig(io.BytesIO(), format="png", dpi=30)


def serve() -> int:
    """The child process: warm up, then read the pickled ``render_plot`` arguments from
    standard input and write the PNG to standard output. No input (the run was abandoned):
    exit 0 with no output. Once the PNG is out the process ends at once (``os._exit``: the
    parent waits for the end of its output, and unloading matplotlib takes a tenth of a
    second)."""
    warm_up()
    data = sys.stdin.buffer.read()
    if not data:
        return 0
    png = render_plot(*pickle.loads(data))     # noqa: S301 - from the parent process
    sys.stdout.buffer.write(png)
    sys.stdout.buffer.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(serve())
