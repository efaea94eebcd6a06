"""The ``--plot`` image from plain data: queue depths and pools' buffers in use over virtual
time, and each sink's latency by percentile (matplotlib, Agg backend).

It imports nothing from zsim: ``zsim.export.plot.PlotWorker`` runs this file by path in a
child process (``serve``), which imports matplotlib and draws the figure's frame while the
run goes, and draws the data once it comes in on its standard input.
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
LATENCY_LABEL = "latency by percentile (send to end of handler)"
TICKS = 5       # at most this many intervals between ticks on an axis: a readable, quick plot
NINES = 5       # the percentile axis ends at 99.999 % at most
STYLES = ("-", "--", ":", "-.")
DPI = 90
HEIGHT = 9.6    # inches, for three panels
COMPRESS = 3    # the PNG's zlib level: on the sample's plot 4 % larger than 6, a fifth quicker

Points = Sequence[tuple[float, int, int, int]]
Levels = Mapping[str, tuple[Points, int]]
Latencies = Mapping[str, Sequence[tuple[float, int]]]


class Plot:
    """The figure in two steps. ``Plot(header, end_us)`` draws what depends only on the
    run's header and end (title, panels, time axis): a child process does it while the run
    goes. ``finish(levels, latencies)`` adds the data, the level and percentile axes and the
    legends, and returns the PNG.

    Three panels, whatever the number of queues, pools and sinks: matplotlib's cost is
    mostly per panel and per label, and drawing the data on a prepared figure is what is
    left once the run has ended."""

    def __init__(self, header: Mapping[str, Any], end_us: float) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator

        self.header = dict(header)
        self.end_us = end_us
        self.unit, self.per_us = ("s", 1e-6) if end_us >= 10e6 else ("ms", 1e-3)
        fig = Figure(figsize=(11, HEIGHT), dpi=DPI)     # a fixed layout: nothing moves
        self.canvas = FigureCanvasAgg(fig)
        grid = fig.add_gridspec(3, 1, left=0.07, right=0.96, hspace=0.45,
                                bottom=0.55 / HEIGHT, top=1 - 0.75 / HEIGHT)
        fig.suptitle(f"zsim run: {header.get('scenario', '')} on {header.get('board', '?')}")
        queues = fig.add_subplot(grid[0, 0])
        pools = fig.add_subplot(grid[1, 0], sharex=queues)     # one time axis
        latency = fig.add_subplot(grid[2, 0])
        self.axes = (queues, pools, latency)
        for ax, title in zip(self.axes, (QUEUE_LABEL, POOL_LABEL, LATENCY_LABEL),
                             strict=True):
            ax.set_title(title, fontsize="medium", y=1.0)
            ax.yaxis.set_visible(False)     # drawn with the data
        pools.xaxis.set_major_locator(MaxNLocator(nbins=TICKS))
        pools.set_xlim(0, end_us * self.per_us)
        pools.set_xlabel(f"virtual time ({self.unit})")
        queues.tick_params(labelbottom=False)
        latency.xaxis.set_visible(False)   # its range follows the number of packets
        self.canvas.draw()
        self._drawn = {id(a) for ax in self.axes for a in ax.get_children()
                       if a.get_visible()}

    def finish(self, levels: Levels, latencies: Latencies) -> bytes:
        """Draw the data on the prepared figure; the PNG image as bytes. ``levels``: per
        track (``queue NAME depth`` or ``pool NAME in use``) its buckets ``(start_us, min,
        max, last)`` and its peak (``BucketSeries.points()`` and ``.peak``);
        ``latencies``: per sink, ``(latency_us, packets)`` in increasing order of latency."""
        queues = {n[len("queue "):-len(" depth")]: s for n, s in levels.items()
                  if n.startswith("queue ") and n.endswith(" depth")}
        pools = {n[len("pool "):-len(" in use")]: s for n, s in levels.items()
                 if n.startswith("pool ") and n.endswith(" in use")}
        q_ax, p_ax, l_ax = self.axes
        self._levels(q_ax, queues, "events")
        self._levels(p_ax, pools, "buffers")
        self._percentiles(l_ax, {s: v for s, v in sorted(latencies.items()) if v})
        import matplotlib
        from PIL import Image, PngImagePlugin

        image = Image.frombuffer("RGBA", self.canvas.get_width_height(),
                                 self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        info = PngImagePlugin.PngInfo()     # as matplotlib's savefig labels its PNGs
        info.add_text("Software", f"Matplotlib version{matplotlib.__version__}, "
                                  "https://matplotlib.org/")
        out = io.BytesIO()
        image.convert("RGB").save(out, format="png", compress_level=COMPRESS, pnginfo=info)
        return out.getvalue()

    def _levels(self, ax: Any, series: Levels, unit: str) -> None:
        from matplotlib.ticker import MaxNLocator

        per_us = self.per_us
        end_t = self.end_us * per_us
        for i, (name, (pts, peak)) in enumerate(series.items()):
            xs = [p[0] * per_us for p in pts] + [max(end_t, pts[-1][0] * per_us)]
            lasts = [p[3] for p in pts]
            line = ax.step(xs, lasts + lasts[-1:], where="post", label=f"{name} (peak {peak})",
                           linewidth=max(2.0 - 0.5 * i, 0.8), linestyle=STYLES[i % 4])[0]
            if any(p[1] != p[2] for p in pts):    # spikes within a bucket
                ax.fill_between(xs, [p[1] for p in pts] + [pts[-1][1]],
                                [p[2] for p in pts] + [pts[-1][2]], step="post",
                                alpha=0.25, color=line.get_color(), linewidth=0)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=TICKS, integer=True))
        peak = max((p for _, p in series.values()), default=0)
        ax.set_ylim(0, max(peak, 1) * 1.08)
        ax.set_ylabel(unit)
        self._draw(ax, bool(series), "none in this model")

    def _percentiles(self, ax: Any, lat: Latencies) -> None:
        """Each sink's latency (ms) against the share of its packets at or below it, with
        one nine per power of ten of packets (99 % for 11 to 100 packets), five at most."""
        from matplotlib.ticker import FixedFormatter, FixedLocator, MaxNLocator

        top = 0.0
        for i, (sink, values) in enumerate(lat.items()):
            xs, ys = percentile_curve(values)
            top = max(top, ys[-1])
            ax.step(xs, ys, where="pre", linewidth=max(2.0 - 0.5 * i, 0.8),
                    linestyle=STYLES[i % 4],
                    label=f"{sink}: {sum(n for _, n in values)} packets, max {ys[-1]:.3f} ms")
        most = max((sum(n for _, n in v) for v in lat.values()), default=1)
        nines = min(max(math.ceil(math.log10(max(most, 2))), 1), NINES)
        ax.xaxis.set_major_locator(FixedLocator(range(nines + 1)))
        ax.xaxis.set_major_formatter(FixedFormatter(
            ["0 %"] + [f"{100 - 10.0 ** (2 - t):.{max(t - 2, 0)}f} %"
                       for t in range(1, nines + 1)]))
        ax.set_xlim(0, nines)
        ax.set_xlabel("packets at or below the latency")
        ax.xaxis.set_visible(True)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=TICKS))
        ax.set_ylim(0, max(top, 0.001) * 1.08)
        ax.set_ylabel("ms")
        self._draw(ax, bool(lat), "no handled packets")

    def _draw(self, ax: Any, any_lines: bool, note: str) -> None:
        """Draw the panel's data, its level axis and its legend (or ``note``) on it."""
        if any_lines:
            ax.legend(loc="upper right", fontsize="small")
        else:
            ax.text(0.5, 0.5, note, ha="center", va="center", transform=ax.transAxes)
        ax.yaxis.set_visible(True)
        for artist in sorted(ax.get_children(), key=lambda a: a.get_zorder()):
            if id(artist) not in self._drawn:
                ax.draw_artist(artist)


def render_plot(header: Mapping[str, Any], levels: Levels, latencies: Latencies,
                end_us: float) -> bytes:
    """The PNG image as bytes (``Plot(header, end_us).finish(levels, latencies)``)."""
    return Plot(header, end_us).finish(levels, latencies)


def percentile_curve(values: Sequence[tuple[float, int]]) -> tuple[list[float], list[float]]:
    """A sink's latency by percentile from its ``(latency_us, packets)`` in increasing
    order: points ``(x, ms)`` for steps drawn ``where="pre"``, ``x`` being the share of
    packets on the percentile axis (``_nines``). At share ``q`` the curve is the smallest
    latency that at least ``q`` of the packets do not exceed: the summary's nearest-rank
    percentiles (zsim/latency.py), p50 and p99 included."""
    total = sum(n for _, n in values)
    xs = [0.0]
    ys = [values[0][0] / 1000]
    seen = 0
    for us, n in values:
        seen += n
        xs.append(_nines(seen / total))
        ys.append(us / 1000)
    return xs, ys


def _nines(q: float) -> float:
    """Share ``q`` (0 to 1) on the percentile axis: ``-log10(1 - q)``, so that 90 %, 99 %,
    99.9 % ... are evenly spaced (HdrHistogram's percentile distribution plot)."""
    return NINES if q >= 1.0 else min(-math.log10(1.0 - q), NINES)


def warm_up() -> None:
    """Import what drawing needs (matplotlib with its Agg canvas, PIL's PNG writer). The
    frame (``Plot``), drawn next while the run goes, loads the fonts."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.backends import backend_agg  # noqa: F401
    from matplotlib.figure import Figure  # noqa: F401
    from PIL import Image, PngImagePlugin  # noqa: F401


def serve() -> int:
    """The child process: warm up, then read pickled messages from standard input:
    ``("prepare", header, end_us)`` (optional: draw what does not depend on the data) and
    ``("draw", header, levels, latencies, end_us)``, after which the PNG goes to standard
    output. No message (the run was abandoned): exit 0 with no output. Once the PNG is out
    the process ends at once (``os._exit``: the parent waits for the end of its output, and
    unloading matplotlib takes a tenth of a second)."""
    warm_up()
    stdin = sys.stdin.buffer
    plot = None
    while True:
        try:
            message = pickle.load(stdin)     # noqa: S301 - from the parent process
        except EOFError:
            return 0
        what, header, *data, end_us = message
        if plot is None or plot.end_us != end_us or plot.header != header:
            plot = Plot(header, end_us)     # not prepared, or for another end
        if what == "draw":
            break
    png = plot.finish(*data)
    sys.stdout.buffer.write(png)
    sys.stdout.buffer.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(serve())
