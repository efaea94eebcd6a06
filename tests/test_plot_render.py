"""The ``--plot`` figure (zsim.export.plot_render): three panels whatever the topology, a
latency curve that agrees with the summary's percentiles, and a frame drawn ahead of the
data that gives the same image as one drawn all at once."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from zsim.export.plot_render import NINES, Plot, _nines, percentile_curve, render_plot
from zsim.latency import summarize_recorder
from zsim.packet_io.stats import LatencyRecorder

HEADER = {"scenario": "s", "board": "native_sim"}
POINTS = [(0.0, 0, 0, 0), (1000.0, 0, 3, 1), (2000.0, 1, 1, 1)]


def curve_at(xs: list[float], ys: list[float], x: float) -> float:
    """The value matplotlib draws at ``x`` for steps ``where="pre"``: ``ys[i]`` on
    ``(xs[i-1], xs[i]]``."""
    for xi, yi in zip(xs[1:], ys[1:], strict=True):
        if x <= xi:
            return yi
    return ys[-1]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=5000), min_size=1, max_size=300))
def test_the_latency_curve_is_the_summarys_nearest_rank_percentiles(latencies):
    rec = LatencyRecorder()
    for v in latencies:
        rec.record(v)
    row = summarize_recorder(rec, 1_000_000)       # one unit = 1 µs
    values = [(float(v), n) for v, n in sorted(rec.counts.items())]
    xs, ys = percentile_curve(values)
    assert xs == sorted(xs) and xs[0] == 0.0 and xs[-1] == NINES
    ms = pytest.approx   # the curve is in ms, the summary in µs
    assert curve_at(xs, ys, _nines(0.5)) == ms(row["p50_us"] / 1000, rel=1e-12)
    assert curve_at(xs, ys, _nines(0.99)) == ms(row["p99_us"] / 1000, rel=1e-12)
    assert ys[-1] == ms(row["max_us"] / 1000, rel=1e-12) == max(latencies) / 1000
    assert ys[0] == ms(min(latencies) / 1000, rel=1e-12)


def test_three_panels_whatever_the_number_of_sinks():
    many = {f"sink{i}": [(100.0 * (i + 1), 5)] for i in range(12)}
    plot = Plot(HEADER, 3000.0)
    png = plot.finish({"queue q depth": (POINTS, 3), "pool p in use": (POINTS, 3)}, many)
    assert len(plot.canvas.figure.axes) == 3
    queues, pools, latency = plot.axes
    assert [t.get_text() for t in latency.get_legend().get_texts()][:2] == [
        "sink0: 5 packets, max 0.100 ms", "sink1: 5 packets, max 0.200 ms"]
    assert latency.get_xlim() == (0.0, 1.0)     # 5 packets: up to 90 %
    assert queues.get_ylim()[1] >= 3 and pools.get_xlim() == (0.0, 3.0)   # ms: a short run
    assert Image.open(io.BytesIO(png)).size == (990, 864)


def test_the_percentile_axis_follows_the_number_of_packets():
    for packets, nines in ((1, 1), (100, 2), (17_143, 5), (10**9, NINES)):
        plot = Plot(HEADER, 3000.0)
        plot.finish({}, {"sink": [(5.0, packets)]})
        assert plot.axes[2].get_xlim() == (0.0, float(nines))


def test_a_frame_drawn_ahead_gives_the_image_drawn_at_once():
    """``Plot(header, end)`` is what the child draws while the run goes; finishing it later
    gives the same bytes as ``render_plot`` (and a different end gives another image)."""
    data = ({"queue q depth": (POINTS, 3), "pool p in use": (POINTS, 2)},
            {"a": [(10.0, 3), (250.0, 1)]})
    ahead = Plot(HEADER, 3000.0)
    assert ahead.finish(*data) == render_plot(HEADER, *data, 3000.0)
    assert render_plot(HEADER, *data, 4000.0) != render_plot(HEADER, *data, 3000.0)


def test_empty_panels_say_so():
    plot = Plot(HEADER, 1000.0)
    plot.finish({}, {"idle": []})
    notes = [[t.get_text() for t in ax.texts] for ax in plot.axes]
    assert notes == [["none in this model"], ["none in this model"], ["no handled packets"]]
