"""``--graph``: the topology (sources, sinks, queues, connections) as DOT and SVG.

The graph is read from the kernel's objects after the run: every source with its
connections in list order (the order ``send`` visits them), runtime connections dashed;
every sink with its mode; every queue with its size and the sinks it serves. SVG comes from
Graphviz ``dot -Tsvg`` when it is installed, otherwise from a layered layout drawn here.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .atomic import write_text


@dataclass
class Node:
    """A source, sink or queue."""

    id: str
    kind: str            # "source" | "sink" | "queue"
    name: str
    detail: str = ""     # "immediate", "queued", "size 8", ...


@dataclass
class Edge:
    """A connection (source to sink), a queued sink's queue (sink to queue) or a handler
    that sends on a source (sink to source)."""

    src: str
    dst: str
    label: str = ""
    runtime: bool = False
    kind: str = "connection"   # "connection" | "queue" | "forward"


@dataclass
class Graph:
    """Nodes and edges in definition order."""

    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)


def graph_of(k: Any) -> Graph:
    """The topology of the packet_io objects registered on kernel ``k``."""
    from ..packet_io import PacketEventQueue, PacketSink, PacketSource

    g = Graph()
    sources = [o for o in k.objects if isinstance(o, PacketSource)]
    sinks = [o for o in k.objects if isinstance(o, PacketSink)]
    queues = [o for o in k.objects if isinstance(o, PacketEventQueue)]
    for s in sources:
        g.nodes.append(Node(f"source:{s.name}", "source", s.name))
    for s in sinks:
        mode = s.mode.name.lower()
        q = s.queue if mode == "queued" else None
        detail = f"{mode} via {q.name}" if q is not None else mode
        g.nodes.append(Node(f"sink:{s.name}", "sink", s.name, detail))
    for q in queues:
        g.nodes.append(Node(f"queue:{q.name}", "queue", q.name, f"size {q.size}"))
    for s in sources:
        for i, conn in enumerate(s.conns, 1):
            if conn.sink is None:
                continue
            g.edges.append(Edge(f"source:{s.name}", f"sink:{conn.sink.name}", f"#{i}",
                                runtime=not conn.static))
    for s in sinks:
        q = s.queue if s.mode.name == "QUEUED" else None
        if q is not None:
            g.edges.append(Edge(f"sink:{s.name}", f"queue:{q.name}", "events", kind="queue"))
    names = {s.name for s in sources}
    for s in sinks:
        # A handler says where it sends through a ``forwards_to`` attribute (the topology
        # builder sets it from ``forward`` behaviours; a model.py handler may set it too).
        for target in getattr(s.handler, "forwards_to", ()):
            name = getattr(target, "name", target)
            if name in names:
                g.edges.append(Edge(f"sink:{s.name}", f"source:{name}", "forwards",
                                    kind="forward"))
    return g


_SHAPES = {"source": "box", "sink": "ellipse", "queue": "cylinder"}
_FILL = {"source": "#dbeafe", "sink": "#dcfce7", "queue": "#fef3c7"}


def _dot_str(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _dot_id(text: str) -> str:
    return f'"{_dot_str(text)}"'


def to_dot(g: Graph, name: str = "topology") -> str:
    """The graph in Graphviz DOT."""
    lines = [f"digraph {_dot_id(name)} {{", "  rankdir=LR;",
             '  node [fontname="Helvetica", style=filled];',
             '  edge [fontname="Helvetica", fontsize=10];']
    for n in g.nodes:
        label = _dot_str(n.name) + (f"\\n{_dot_str(n.detail)}" if n.detail else "")
        lines.append(f'  {_dot_id(n.id)} [label="{label}"'
                     f", shape={_SHAPES[n.kind]}, fillcolor={_dot_id(_FILL[n.kind])}];")
    for e in g.edges:
        attrs = [f"label={_dot_id(e.label)}"] if e.label else []
        if e.runtime:
            attrs.append("style=dashed")
        if e.kind == "queue":
            attrs.append("style=dotted")
            attrs.append("arrowhead=none")
        elif e.kind == "forward":
            attrs.append("style=bold")
            attrs.append('color="#7c3aed"')
        lines.append(f"  {_dot_id(e.src)} -> {_dot_id(e.dst)} [{', '.join(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------- SVG, no Graphviz
_W, _H, _GAP_X, _GAP_Y, _PAD = 190, 52, 90, 28, 24


def _layers(g: Graph) -> dict[str, int]:
    """Longest-path layering (sources first), tolerant of cycles."""
    layer = {n.id: 0 for n in g.nodes}
    for _ in range(len(g.nodes)):
        changed = False
        for e in g.edges:
            if e.src in layer and e.dst in layer and layer[e.dst] < layer[e.src] + 1:
                if layer[e.src] + 1 < len(g.nodes):
                    layer[e.dst] = layer[e.src] + 1
                    changed = True
        if not changed:
            break
    return layer


def render_svg(g: Graph) -> str:
    """The graph as SVG, laid out in layers from left to right."""
    layer = _layers(g)
    columns: dict[int, list[Node]] = {}
    for n in g.nodes:
        columns.setdefault(layer[n.id], []).append(n)
    order: dict[str, float] = {}
    preds: dict[str, list[str]] = {}
    for e in g.edges:
        preds.setdefault(e.dst, []).append(e.src)
    for col in sorted(columns):              # barycentre ordering: fewer crossings
        nodes = columns[col]
        if col:
            def key(n: Node, i: int) -> float:
                ps = [order[p] for p in preds.get(n.id, []) if p in order]
                return sum(ps) / len(ps) if ps else float(i)
            keyed = [(key(n, i), i, n) for i, n in enumerate(nodes)]
            nodes[:] = [n for _, _, n in sorted(keyed, key=lambda t: (t[0], t[1]))]
        for i, n in enumerate(nodes):
            order[n.id] = float(i)
    pos: dict[str, tuple[float, float]] = {}
    rows = max((len(c) for c in columns.values()), default=1)
    height = _PAD * 2 + rows * _H + (rows - 1) * _GAP_Y
    for col, nodes in columns.items():
        span = len(nodes) * _H + (len(nodes) - 1) * _GAP_Y
        top = (height - span) / 2
        for i, n in enumerate(nodes):
            pos[n.id] = (_PAD + col * (_W + _GAP_X), top + i * (_H + _GAP_Y))
    width = _PAD * 2 + max(len(columns), 1) * _W + max(len(columns) - 1, 0) * _GAP_X
    esc = html.escape
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
           f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
           'font-family="Helvetica, Arial, sans-serif">',
           "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
           "markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\">"
           "<path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#444\"/></marker></defs>",
           f'<rect width="{width:.0f}" height="{height:.0f}" fill="white"/>']
    for e in g.edges:
        if e.src not in pos or e.dst not in pos:
            continue
        (x1, y1), (x2, y2) = pos[e.src], pos[e.dst]
        ax, ay, bx, by = x1 + _W, y1 + _H / 2, x2, y2 + _H / 2
        if bx <= ax:                       # an edge backwards or within a layer
            ax, bx = x1 + _W / 2, x2 + _W / 2
            ay, by = (y1 + _H, y2) if y2 > y1 else (y1, y2 + _H)
        dash = ' stroke-dasharray="6 4"' if e.runtime else (
            ' stroke-dasharray="2 3"' if e.kind == "queue" else "")
        marker = "" if e.kind == "queue" else ' marker-end="url(#arrow)"'
        stroke = "#7c3aed" if e.kind == "forward" else "#444"
        out.append(f'<g class="edge {e.kind}"><title>{esc(e.src)} -&gt; {esc(e.dst)}</title>'
                   f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" y2="{by:.1f}" '
                   f'stroke="{stroke}" stroke-width="1.4"{dash}{marker}/>')
        if e.label:
            out.append(f'<text x="{(ax + bx) / 2:.1f}" y="{(ay + by) / 2 - 4:.1f}" '
                       f'font-size="10" text-anchor="middle" fill="#444">{esc(e.label)}</text>')
        out.append("</g>")
    for n in g.nodes:
        x, y = pos[n.id]
        rx = {"source": 4, "sink": _H / 2, "queue": 10}[n.kind]
        out.append(f'<g class="node {n.kind}"><title>{esc(n.id)}</title>'
                   f'<rect x="{x:.1f}" y="{y:.1f}" width="{_W}" height="{_H}" rx="{rx}" '
                   f'fill="{_FILL[n.kind]}" stroke="#333"/>'
                   f'<text x="{x + _W / 2:.1f}" y="{y + 22:.1f}" font-size="13" '
                   f'text-anchor="middle">{esc(n.name)}</text>'
                   f'<text x="{x + _W / 2:.1f}" y="{y + 39:.1f}" font-size="10" '
                   f'text-anchor="middle" fill="#555">{esc(n.detail or n.kind)}</text></g>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def svg_of(g: Graph, *, use_dot: bool | None = None) -> str:
    """SVG from Graphviz when ``dot`` is installed (or ``use_dot``), else ``render_svg``."""
    dot = shutil.which("dot") if use_dot is not False else None
    if dot:
        done = subprocess.run([dot, "-Tsvg"], input=to_dot(g), capture_output=True,
                              text=True, timeout=60, check=False)
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout
    return render_svg(g)


def write_graph(path: str | os.PathLike, g: Graph, *, use_dot: bool | None = None) -> list[Path]:
    """Write ``path``: DOT alone for a ``.dot`` suffix, otherwise the SVG and the DOT beside
    it (same name, ``.dot``). Returns the files written."""
    target = Path(path)
    if target.suffix.lower() == ".dot":
        write_text(target, to_dot(g))
        return [target]
    dot_path = target.with_suffix(".dot")
    svg = svg_of(g, use_dot=use_dot)
    write_text(target, svg)
    write_text(dot_path, to_dot(g))
    return [target, dot_path]
