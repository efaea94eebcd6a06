"""The files one ``zsim run`` writes, fed while the run goes and committed at its end.

``--trace`` and ``--perfetto`` are streamed to temporary files as events happen;
``--plot`` keeps its levels in ``BucketSeries``, reads latencies from the sinks'
recorders and is drawn by a child process started with the run (``PlotWorker``);
``--graph`` is drawn from the kernel's objects at the end. ``commit`` puts every file in
place; ``discard`` removes every temporary file and leaves what was there before.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..output_paths import OutputPathError
from .series import Levels


class RunOutputs:
    """The requested output files of one run (None: not requested). The streamed files
    are opened (under temporary names) at once; ``start(header)`` once the run's header is
    known, before its first event."""

    def __init__(self, *, trace: str | os.PathLike | None = None,
                 perfetto: str | os.PathLike | None = None,
                 plot: str | os.PathLike | None = None,
                 graph: str | os.PathLike | None = None) -> None:
        from .jsonl import JsonlWriter
        from .perfetto import PerfettoFile

        self.trace, self.perfetto, self.plot, self.graph = trace, perfetto, plot, graph
        self.levels = Levels() if (plot or perfetto) else None
        self.header: dict[str, Any] = {}
        self._jsonl: Any = None
        self._perfetto: Any = None
        self._plotter: Any = None
        self._finished = False
        try:
            self._jsonl = _open("--trace", trace, JsonlWriter)
            self._perfetto = _open("--perfetto", perfetto, PerfettoFile)
            if plot:
                from .plot import PlotWorker
                self._plotter = PlotWorker()    # matplotlib loads while the run goes
        except BaseException:
            self.discard()
            raise
        if self._perfetto is not None:
            self.levels.then = self._perfetto.level

    @property
    def lines(self) -> Callable[[bytes], Any] | None:
        """Where the trace's JSON lines go (None without ``--trace``)."""
        return self._jsonl.write if self._jsonl is not None else None

    @property
    def raw(self) -> Callable[..., Any] | None:
        """What takes each event as its kind and values (Perfetto; None without it)."""
        return self._perfetto.raw if self._perfetto is not None else None

    @property
    def wants_switches(self) -> bool:
        return self._perfetto is not None

    def start(self, header: dict[str, Any], end_us: float | None = None) -> None:
        """The run's header: the trace's first line, Perfetto's metadata; ``end_us``: the
        virtual time the run is to end at, when known (the plot's frame is drawn ahead)."""
        self.header = dict(header)
        if self._plotter is not None and end_us:
            self._plotter.prepare(header, end_us)
        if self._jsonl is not None:
            self._jsonl.start(header)
        if self._perfetto is not None:
            self._perfetto.header = dict(header)

    def finish(self, kernel: Any, end_us: float) -> None:
        """The run has ended at ``end_us``: close the levels and start drawing the plot
        (in its child process, while the caller goes on); ``commit`` waits for it."""
        if self._finished:
            return
        self._finished = True
        try:
            if self.levels is not None:
                self.levels.close(end_us)
            if self._plotter is not None:
                self._plotter.submit(self.header, self.levels.series, _latencies(kernel),
                                     end_us)
        except BaseException:
            self.discard()
            raise

    def commit(self, kernel: Any, end_us: float) -> list[Path]:
        """Write the plot and graph and put every file in place; the paths written."""
        from .atomic import write_bytes
        from .graph import graph_of, write_graph

        self.finish(kernel, end_us)
        written: list[Path] = []
        try:
            if self._jsonl is not None and self._plotter is not None:
                self._jsonl.sync()          # the disk writes while the plot is drawn
            png = self._plotter.result() if self._plotter is not None else None
            if self._jsonl is not None:     # (after the plot, which may still fail)
                self._jsonl.commit()
                written.append(Path(self.trace))
            if self._perfetto is not None:
                self._perfetto.commit(end_us)
                written.append(Path(self.perfetto))
            if png is not None:
                write_bytes(self.plot, png)
                written.append(Path(self.plot))
            if self.graph and kernel is not None:
                written.extend(write_graph(self.graph, graph_of(kernel)))
        except BaseException:
            self.discard()
            raise
        return written

    def discard(self) -> None:
        """Remove the temporary files of the streamed outputs and end the plot's child."""
        for w in (self._jsonl, self._perfetto, self._plotter):
            if w is not None:
                w.discard()


def _open(opt: str, path: str | os.PathLike | None, kind: Callable[[Any], Any]) -> Any:
    """The writer of one streamed output (None when not requested); a file that cannot be
    created is bad input naming its option."""
    if not path:
        return None
    try:
        return kind(path)
    except OSError as exc:
        raise OutputPathError(f"{opt} {path}: cannot be written: "
                              f"{exc.strerror or exc}") from None


def _latencies(kernel: Any) -> dict[str, list[tuple[float, int]]]:
    from ..latency import recorded_values

    if kernel is None:
        return {}
    return {o.name: recorded_values(o._lat, kernel.units_per_sec)
            for o in kernel.objects if getattr(o, "_lat", None) is not None}


def graph_paths(graph: str | os.PathLike) -> list[Path]:
    """The files ``--graph`` writes: the SVG and its DOT beside it, or the DOT alone."""
    p = Path(graph)
    return [p] if p.suffix.lower() == ".dot" else [p, p.with_suffix(".dot")]
