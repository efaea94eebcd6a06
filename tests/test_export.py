"""Exporters of ``zsim run``: JSON Lines, Perfetto, PNG plot, DOT/SVG graph, atomic writes."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from zsim.export.atomic import AtomicFile, atomic_write, write_text
from zsim.export.graph import Edge, Graph, Node, graph_of, render_svg, to_dot, write_graph
from zsim.export.jsonl import write_jsonl
from zsim.export.perfetto import build_trace, write_perfetto
from zsim.export.plot import write_plot
from zsim.export.series import BucketSeries, Levels

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

HEADER = {"type": "header", "format": "zsim-trace", "version": 1, "target": "simulator",
          "board": "native_sim", "ticks_per_sec": 10000, "seed": 0, "scenario": "hand-built",
          "zsim": "0.1.0"}


def ev(kind, us, **fields):
    return {"type": kind, "tick": int(us // 100), "us": float(us), **fields}


def hand_trace():
    """Two packets: sensor sends to an immediate and a queued sink; proc handles later."""
    out = [ev("switch", 0, **{"from": "idle", "to": "sensor"})]
    for n, t in ((1, 0), (2, 1000)):
        buf = f"pool#{n - 1}@{n}"
        if t:
            out.append(ev("switch", t, **{"from": "idle", "to": "sensor"}))
        out += [ev("alloc", t + 10, pool="pool", buf=buf),
                ev("deliver", t + 30, source="src", sink="imm", buf=buf, len=8, digest="0"),
                ev("enqueue", t + 35, source="src", sink="qs", buf=buf, len=8),
                ev("send", t + 40, source="src", buf=buf, len=8, digest="0", ret=2)]
        out.append(ev("switch", t + 50, **{"from": "sensor", "to": "idle"}))
    out += [ev("switch", 1500, **{"from": "idle", "to": "proc"}),
            ev("handle", 1600, queue="q", sink="qs", buf="pool#0@1", len=8, digest="0", ret=0),
            ev("free", 1600, pool="pool", buf="pool#0@1"),
            ev("handle", 1700, queue="q", sink="qs", buf="pool#1@2", len=8, digest="0", ret=0),
            ev("free", 1700, pool="pool", buf="pool#1@2"),
            ev("switch", 1710, **{"from": "proc", "to": "idle"}),
            ev("console", 1720, line="done")]
    return out


def test_jsonl_header_first_then_every_event(tmp_path):
    events = hand_trace()
    path = tmp_path / "t.jsonl"
    assert write_jsonl(path, HEADER, events) == len(events)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0] == HEADER
    assert lines[1:] == events


LEVELS = [("queue q depth", 0.0, 0), ("pool pool in use", 0.0, 0),
          ("pool pool in use", 10.0, 1), ("queue q depth", 35.0, 1),
          ("pool pool in use", 1010.0, 2), ("queue q depth", 1035.0, 2),
          ("queue q depth", 1500.0, 1), ("queue q depth", 1600.0, 0),
          ("pool pool in use", 1600.0, 1), ("pool pool in use", 1700.0, 0)]


def test_bucket_series_keeps_min_max_last_per_bucket():
    s = BucketSeries(0, width_us=100.0, max_buckets=4)
    s.record(10.0, 3)       # a spike inside bucket 0
    s.record(20.0, 0)
    s.record(250.0, 2)      # bucket 2; bucket 1 holds the level carried over (0)
    assert s.points() == [(0.0, 0, 3, 0), (100.0, 0, 0, 0), (200.0, 0, 2, 2)]
    s.record(450.0, 1)      # beyond 4 buckets: the width doubles, neighbours merge
    assert s.width == 200.0
    assert s.points() == [(0.0, 0, 3, 0), (200.0, 0, 2, 2), (400.0, 1, 2, 1)]
    assert s.peak == 3
    s.close(800.0)
    assert len(s.points()) == 4 and s.points()[-1] == (600.0, 1, 1, 1)


def test_bucket_series_memory_does_not_grow_with_time():
    s = BucketSeries(0, width_us=1.0, max_buckets=64)
    for i in range(100_000):
        s.record(i * 10.0, i % 7)
    assert len(s.points()) <= 64 and s.peak == 6
    assert min(p[1] for p in s.points()) == 0


def test_levels_pass_changes_on_and_declare_tracks_at_zero():
    seen = []
    lv = Levels(then=lambda *a: seen.append(a))
    lv.declare("queue q depth")
    lv("queue q depth", 5.0, 0)         # no change: not passed on
    lv("queue q depth", 6.0, 2)
    assert seen == [("queue q depth", 0.0, 0), ("queue q depth", 6.0, 2)]
    assert lv.series["queue q depth"].peak == 2


def test_perfetto_threads_slices_and_counters(tmp_path):
    path = tmp_path / "p.json"
    write_perfetto(path, HEADER, hand_trace(), LEVELS)
    trace = json.loads(path.read_text())
    evs = trace["traceEvents"]
    assert evs and all(e["ph"] in ("B", "E", "X", "C", "M") for e in evs)
    assert all(isinstance(e["pid"], int) and isinstance(e["tid"], int) for e in evs)
    names = {e["args"]["name"]: e["tid"] for e in evs
             if e["ph"] == "M" and e["name"] == "thread_name"}
    assert set(names) == {"sensor", "proc"}
    assert len(set(names.values())) == 2 and 0 not in names.values()
    running = [(e["tid"], e["ts"], e["dur"]) for e in evs
               if e["ph"] == "X" and e["name"] == "running"]
    assert sorted(running) == sorted([(names["sensor"], 0.0, 50.0),
                                      (names["sensor"], 1000.0, 50.0),
                                      (names["proc"], 1500.0, 210.0)])
    handlers = [(e["name"], e["tid"], e["ts"], e["dur"]) for e in evs
                if e["ph"] == "X" and e["name"] != "running"]
    # an immediate handler on the sender's track, queued handlers on the processing thread
    assert ("imm", names["sensor"], 10.0, 20.0) in handlers
    assert ("qs", names["proc"], 1500.0, 100.0) in handlers
    assert ("qs", names["proc"], 1600.0, 100.0) in handlers
    # every slice lies inside a running interval of its thread
    for _, tid, ts, dur in handlers:
        assert any(t == tid and s <= ts and ts + dur <= s + d for t, s, d in running)
    counters = {e["name"] for e in evs if e["ph"] == "C"}
    assert counters == {"queue q depth", "pool pool in use"}
    depth = [e["args"]["value"] for e in evs if e["name"] == "queue q depth"]
    assert max(depth) == 2 and depth[-1] == 0


def test_perfetto_uses_start_us_when_the_trace_has_it():
    events = [ev("switch", 0, **{"from": "idle", "to": "t"}),
              ev("deliver", 30, source="s", sink="k", buf="b", len=1, digest="0",
                 start_us=12.0),
              ev("switch", 40, **{"from": "t", "to": "idle"})]
    trace = build_trace(HEADER, events)
    (slice_,) = [e for e in trace["traceEvents"] if e["name"] == "k"]
    assert (slice_["ts"], slice_["dur"]) == (12.0, 18.0)


def test_plot_is_a_png_made_by_matplotlib(tmp_path):
    path = tmp_path / "plot.png"
    levels = Levels()
    for name, us, value in LEVELS:
        levels(name, us, value)
    levels.close(1720.0)
    write_plot(path, HEADER, levels.series, {"qs": [(1565.0, 1), (1665.0, 1)], "imm": [(20.0, 2)]},
               1720.0)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert b"Matplotlib" in data[:4096]          # the Software tEXt chunk
    assert len(data) > 10_000


def sample_graph():
    g = Graph()
    g.nodes += [Node("source:src", "source", "src"), Node("sink:imm", "sink", "imm", "immediate"),
                Node("sink:qs", "sink", "qs", "queued via q"),
                Node("sink:late", "sink", "late", "immediate"),
                Node("queue:q", "queue", "q", "size 4")]
    g.edges += [Edge("source:src", "sink:imm", "#1"), Edge("source:src", "sink:qs", "#2"),
                Edge("source:src", "sink:late", "#3", runtime=True),
                Edge("sink:qs", "queue:q", "events", kind="queue")]
    return g


def test_dot_names_every_edge_and_dashes_runtime_connections():
    dot = to_dot(sample_graph())
    assert dot.startswith("digraph")
    for src, dst in (("source:src", "sink:imm"), ("source:src", "sink:qs"),
                     ("source:src", "sink:late"), ("sink:qs", "queue:q")):
        assert f'"{src}" -> "{dst}"' in dot
    (late,) = [line for line in dot.splitlines() if '-> "sink:late"' in line]
    assert "style=dashed" in late
    (imm,) = [line for line in dot.splitlines() if '-> "sink:imm"' in line]
    assert "dashed" not in imm


def test_pure_python_svg_parses_and_names_every_node():
    root = ET.fromstring(render_svg(sample_graph()))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"src", "imm", "qs", "late", "q", "immediate", "queued via q", "size 4"} <= texts
    dashed = [ln for ln in root.iter("{http://www.w3.org/2000/svg}line")
              if ln.get("stroke-dasharray") == "6 4"]
    assert len(dashed) == 1


def test_graph_of_kernel_objects(kernel):
    from zsim.packet_io import PacketConnection, PacketEventQueue, PacketSink, PacketSource, connect

    k = kernel(config={"PACKET_IO_RUNTIME_OBSERVERS": True})
    src = PacketSource(k, "src")
    q = PacketEventQueue(k, "q", size=3)
    connect(src, PacketSink(k, "b_sink", lambda s, b: None, queue=q))
    connect(src, PacketSink(k, "a_sink", lambda s, b: None))
    late = PacketSink(k, "late_sink", lambda s, b: None)
    assert PacketConnection(src, late).add() == 0
    g = graph_of(k)
    kinds = {n.name: (n.kind, n.detail) for n in g.nodes}
    assert kinds == {"src": ("source", ""), "b_sink": ("sink", "queued via q"),
                     "a_sink": ("sink", "immediate"), "late_sink": ("sink", "immediate"),
                     "q": ("queue", "size 3")}
    conns = [(e.dst, e.label, e.runtime) for e in g.edges if e.kind == "connection"]
    # static connections in link order (by symbol), the runtime one appended
    assert conns == [("sink:a_sink", "#1", False), ("sink:b_sink", "#2", False),
                     ("sink:late_sink", "#3", True)]


def test_write_graph_svg_and_dot_or_dot_alone(tmp_path):
    written = write_graph(tmp_path / "g.svg", sample_graph(), use_dot=False)
    assert written == [tmp_path / "g.svg", tmp_path / "g.dot"]
    ET.parse(tmp_path / "g.svg")
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    only = write_graph(tmp_path / "only.dot", sample_graph())
    assert only == [tmp_path / "only.dot"] and not (tmp_path / "only.svg").exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_graphviz_svg_names_every_sink(tmp_path):
    write_graph(tmp_path / "g.svg", sample_graph(), use_dot=True)
    root = ET.parse(tmp_path / "g.svg").getroot()
    text = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    for name in ("imm", "qs", "late"):
        assert name in text


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.json"
    write_text(target, "old")
    with pytest.raises(RuntimeError), atomic_write(target) as f:
        f.write("half a file")
        raise RuntimeError("crash while writing")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]
    with atomic_write(tmp_path / "new.bin", "wb") as f:
        f.write(b"\x00\x01")
    assert (tmp_path / "new.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.bin", "out.json"]


def test_a_synced_file_is_still_written_whole_or_not_at_all(tmp_path):
    """``sync`` (the trace's wait for the disk, while the plot is drawn) puts nothing in
    place: a discard after it leaves the old file, writes after it reach the commit."""
    target = tmp_path / "t.jsonl"
    write_text(target, "old\n")
    f = AtomicFile(target, "wb")
    f.file.write(b"half\n")
    f.sync()
    assert target.read_text() == "old\n"
    f.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.jsonl"]
    f = AtomicFile(target, "wb")
    f.file.write(b"one\n")
    f.sync()
    f.file.write(b"two\n")
    f.commit()
    assert target.read_text() == "one\ntwo\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.jsonl"]


@pytest.mark.parametrize("model", ["topology.yaml", "model.py"])
def test_graph_draws_a_forwarding_handler_as_sink_to_source(kernel, model):
    """The sample's processor sink sends on processor_source: an edge sink -> source, drawn
    bold in DOT and in the pure-Python SVG, and laying the source out after the sink."""
    from zsim.model import load_model

    m = load_model(EXAMPLES / "basic_packet_routing" / model)
    k = kernel(config=m.kernel_config())
    m.main(k)
    g = graph_of(k)
    fwd = [(e.src, e.dst) for e in g.edges if e.kind == "forward"]
    assert fwd == [("sink:processor_sink", "source:processor_source")]
    (line,) = [ln for ln in to_dot(g).splitlines()
               if '"sink:processor_sink" -> "source:processor_source"' in ln]
    assert "style=bold" in line
    svg = render_svg(g)
    assert 'class="edge forward"' in svg
    xs = {}
    for node in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}g"):
        if "node" in node.get("class", ""):
            xs[node.find("{http://www.w3.org/2000/svg}title").text] = float(
                node.find("{http://www.w3.org/2000/svg}rect").get("x"))
    assert xs["source:processor_source"] > xs["sink:processor_sink"] > xs["source:sensor1_source"]
