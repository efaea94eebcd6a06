"""``--plot``: a PNG of queue depths and pools' buffers in use over virtual time, and each
sink's latency by percentile (drawn by ``zsim.export.plot_render``).

The levels come from ``BucketSeries`` (a fixed number of buckets, each with its minimum,
maximum and last value: the shaded band shows every spike) and the latencies from the
sinks' recorders (zsim/latency.py), so the plot agrees with the summary and Perfetto.

``PlotWorker`` draws in a child process started with the run: importing matplotlib (about
half a second) and drawing what does not depend on the data (``prepare``: titles, panels,
the time axis of a run whose end is known) happen while the run goes, on another core;
only the data, the level axes and the legends wait for the run's end.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ZsimError
from .atomic import write_bytes
from .plot_render import render_plot
from .series import BucketSeries

RENDER_TIMEOUT = 120.0      # wall seconds a child may take to draw once given the data
_RENDER = Path(__file__).with_name("plot_render.py")
# Runs plot_render.py by path: the child imports matplotlib, not zsim. It starts without
# the site module (-S, a twentieth of a second sooner) and with this process's sys.path
# (argv[2:]), so it finds the same matplotlib.
_BOOT = ("import sys; sys.path.extend(p for p in sys.argv[2:] if p not in sys.path); "
         "import importlib.util as u; s = u.spec_from_file_location('zsim_plot_render', "
         "sys.argv[1]); m = u.module_from_spec(s); s.loader.exec_module(m); "
         "sys.exit(m.serve())")

Latencies = Mapping[str, Sequence[tuple[float, int]]]
_LIVE: set[subprocess.Popen] = set()    # children not yet reaped


def end_children() -> None:
    """Kill every plot child still running (a second signal's immediate exit)."""
    for proc in list(_LIVE):
        try:
            proc.kill()
        except OSError:
            pass


class PlotError(ZsimError):
    """The plot could not be drawn (the child's error, or its wall-clock limit)."""


def plain_levels(levels: Mapping[str, BucketSeries]) -> dict[str, tuple[list, int]]:
    """``render_plot``'s form of the levels: per track, its buckets and its peak."""
    return {name: (s.points(), s.peak) for name, s in levels.items()}


def write_plot(path: str | os.PathLike, header: Mapping[str, Any],
               levels: Mapping[str, BucketSeries], latencies: Latencies,
               end_us: float) -> None:
    """Draw the plot in this process and write the PNG to ``path`` atomically."""
    write_bytes(path, render_plot(header, plain_levels(levels), latencies, end_us))


class PlotWorker:
    """A child process that imports matplotlib at once and draws the plot from the data
    ``submit`` gives it; ``result`` waits for the PNG. The child ignores the terminal's
    signals (its own session): an interrupted run still gets its plot. Without a child (it
    could not start), the plot is drawn in this process. ``discard`` ends the child; a
    parent that dies closes its stdin, and the child exits."""

    def __init__(self) -> None:
        self._args: tuple | None = None
        self._feeder: threading.Thread | None = None
        self._out: tuple[bytes, bytes] | BaseException | None = None
        try:
            self.proc: subprocess.Popen | None = subprocess.Popen(
                [sys.executable, "-S", "-c", _BOOT, str(_RENDER),
                 *(p for p in sys.path if p and isinstance(p, str))], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        except OSError:
            self.proc = None
        else:
            _LIVE.add(self.proc)

    def prepare(self, header: Mapping[str, Any], end_us: float) -> None:
        """Tell the child the run's header and planned end (virtual µs), so that it draws
        the figure's frame while the run goes. A run that ends elsewhere is drawn whole."""
        if self.proc is None or self._args is not None:
            return
        data = memoryview(pickle.dumps(("prepare", dict(header), end_us)))
        try:    # unbuffered: nothing is left to flush if the pipe is broken
            while data:
                data = data[os.write(self.proc.stdin.fileno(), data):]
        except OSError:     # the child has ended: result() says why
            pass

    def submit(self, header: Mapping[str, Any], levels: Mapping[str, BucketSeries],
               latencies: Latencies, end_us: float) -> None:
        """Hand the run's data to the child, which starts drawing (returns at once)."""
        self._args = (dict(header), plain_levels(levels),
                      {k: list(v) for k, v in latencies.items()}, end_us)
        if self.proc is not None:
            data = pickle.dumps(("draw", *self._args))
            self._feeder = threading.Thread(target=self._feed, args=(self.proc, data),
                                            name="zsim-plot", daemon=True)
            self._feeder.start()

    def _feed(self, proc: subprocess.Popen, data: bytes) -> None:
        try:
            self._out = proc.communicate(data)
        except BaseException as exc:  # noqa: BLE001 - handed to result()
            self._out = exc
        finally:
            if proc.returncode is not None:
                _LIVE.discard(proc)

    def result(self, timeout: float = RENDER_TIMEOUT) -> bytes:
        """The PNG image as bytes, once drawn (at most ``timeout`` wall seconds)."""
        if self._args is None:
            raise PlotError("no data was submitted for the plot")
        proc, self.proc = self.proc, None
        if proc is None:
            return render_plot(*self._args)
        try:
            self._feeder.join(timeout)
        except BaseException:
            self._stop(proc)
            raise
        if self._feeder.is_alive():
            self._stop(proc)
            raise PlotError(f"drawing the plot took over {timeout:g} s")
        if isinstance(self._out, BaseException):
            raise PlotError(f"drawing the plot failed: {self._out}")
        out, err = self._out
        if proc.returncode != 0 or not out:
            last = (err.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
            raise PlotError(f"drawing the plot failed (exit {proc.returncode}): {last}")
        return out

    def render(self, header: Mapping[str, Any], levels: Mapping[str, BucketSeries],
               latencies: Latencies, end_us: float,
               timeout: float = RENDER_TIMEOUT) -> bytes:
        """``submit`` then ``result``."""
        self.submit(header, levels, latencies, end_us)
        return self.result(timeout)

    def discard(self) -> None:
        """End the child, if it still runs (no plot is wanted any more)."""
        proc, self.proc = self.proc, None
        if proc is not None:
            self._stop(proc)

    def _stop(self, proc: subprocess.Popen) -> None:
        """Kill the child and reap it (through the feeding thread, when there is one)."""
        if self._feeder is None:
            _end(proc)
            return
        if proc.poll() is None:
            proc.kill()
        self._feeder.join(5)


def _end(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    try:
        proc.communicate(timeout=5)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        pass
    if proc.returncode is not None:
        _LIVE.discard(proc)


__all__ = ["PlotError", "PlotWorker", "end_children", "plain_levels", "render_plot",
           "write_plot"]
