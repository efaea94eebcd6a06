"""topology.yaml loading: normalised content, and every mistake reported as file:line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from firmware_bridge.scenario import ScenarioError, load_scenario
from zsim.cli import main as zsim_main
from zsim.kernel.time_units import K_FOREVER, K_MSEC, K_NO_WAIT, K_TICKS
from zsim.topology import TopologyError, load_topology, parse_duration

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "basic_packet_routing" / "topology.yaml"

GOOD = """\
version: 1
pools:
  - {name: p, count: 4, size: 64}
queues:
  - name: q
    thread: {name: worker, priority: 5}
sources:
  - src
sinks:
  - name: queued
    queue: q
    behaviour:
      - cpu: {us: 10}
      - forward: {source: src, pool: p, header: {seq16: true}}
  - name: direct
connections:
  - [src, direct]
  - {source: src, sink: queued, runtime: true, add_at: 5ms}
stimuli:
  - periodic: {source: src, pool: p, every: 10ms, size: 8, pattern: 0x5A}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "topology.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def replace_line(text: str, old: str, new: str) -> tuple[str, int]:
    """``text`` with the line containing ``old`` replaced; that line's number."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if old in line:
            lines[i] = line.replace(old, new)
            return "\n".join(lines) + "\n", i + 1
    raise AssertionError(old)


def load_error(path: Path) -> TopologyError:
    with pytest.raises(TopologyError) as info:
        load_topology(path)
    return info.value


def test_a_good_file_is_normalised(tmp_path):
    topo = load_topology(write(tmp_path, GOOD))
    assert topo.name == tmp_path.name
    assert topo.queues == [{"name": "q", "size": 10,
                            "thread": {"name": "worker", "priority": 5, "stack_size": 1024}}]
    assert topo.sources == ["src"]
    assert topo.sinks[1] == {"name": "direct", "queue": None, "behaviour": [{"op": "record"}]}
    fwd = topo.sinks[0]["behaviour"][1]
    assert fwd["op"] == "forward" and fwd["seq16"] and fwd["timeout"] == K_NO_WAIT
    assert topo.connections[1]["add_at"] == K_MSEC(5) and topo.connections[1]["runtime"]
    st = topo.stimuli[0]
    assert (st["kind"], st["pattern"], st["arg"], st["count"]) == ("periodic", "fill", 0x5A,
                                                                  None)
    assert st["thread"]["name"] == "stimulus0" and st["consume"] is True


def test_the_sample_topology_loads():
    topo = load_topology(SAMPLE.parent / "topology.yaml")
    assert [s["name"] for s in topo.sinks] == ["processor_sink", "tcp_sink", "validator_sink"]
    assert topo.prj_conf == SAMPLE.parent / "prj.conf"
    assert [len(s["behaviour"]) for s in topo.sinks] == [1, 2, 1]


def test_durations():
    assert parse_duration("200ms") == K_MSEC(200)
    assert parse_duration("5ticks") == K_TICKS(5)
    assert parse_duration(0) == K_NO_WAIT
    assert parse_duration("forever") == K_FOREVER
    assert parse_duration("1.5s") == K_MSEC(1500)
    with pytest.raises(ValueError):
        parse_duration("soon")


@pytest.mark.parametrize("old,new,expect", [
    ("- cpu: {us: 10}", "- blink: {us: 10}", "unknown behaviour 'blink'"),
    ("queue: q", "queue: nowhere", "unknown queue 'nowhere'"),
    ("- [src, direct]", "- [ghost, direct]", "unknown source 'ghost'"),
    ("- [src, direct]", "- [src, ghost]", "unknown sink 'ghost'"),
    ("pool: p, every", "pool: nopool, every", "unknown pool 'nopool'"),
    ("forward: {source: src, pool: p,", "forward: {source: src, pool: pp,",
     "unknown pool 'pp'"),
    ("every: 10ms", "every: soon", "'soon' is not a duration"),
    ("every: 10ms", "every: forever", "forever is not a period"),
    ("add_at: 5ms", "add_at: forever", "add_at: forever is not an instant"),
    ("pattern: 0x5A", "pattern: stripes", "'stripes' is not a pattern"),
    ("thread: {name: worker, priority: 5}", "thread: {name: worker, prio: 5}",
     "unknown key 'prio'"),
    ("- name: direct", "- name: 9direct", "'9direct' is not a name"),
    ("- name: direct", "- name: queued", "sink 'queued' is defined twice"),
])
def test_errors_name_the_file_and_line(tmp_path, old, new, expect):
    text, line = replace_line(GOOD, old, new)
    path = write(tmp_path, text)
    err = load_error(path)
    assert err.errors[0].startswith(f"{path}:{line}: "), err.errors
    assert expect in err.errors[0]


def test_a_bare_step_that_needs_arguments(tmp_path):
    text, line = replace_line(GOOD, "- cpu: {us: 10}", "- cpu")
    err = load_error(write(tmp_path, text))
    assert f":{line}: sinks[0].behaviour[0]: behaviour 'cpu' takes arguments" in str(err)


def test_every_error_is_reported_at_once(tmp_path):
    text, line1 = replace_line(GOOD, "queue: q", "queue: nowhere")
    text, line2 = replace_line(text, "- [src, direct]", "- [ghost, direct]")
    err = load_error(write(tmp_path, text))
    assert [e.split(": ")[0].rsplit(":", 1)[1] for e in err.errors] == [str(line1), str(line2)]


def test_syntax_errors_and_missing_version(tmp_path):
    path = write(tmp_path, "version: 1\nsinks: [a, b\n")
    assert load_error(path).errors[0].startswith(f"{path}:")
    assert "YAML syntax" in str(load_error(path))
    path = write(tmp_path, "pools: []\n")
    assert str(load_error(path)) == f"{path}:1: 'version' is a required property"
    path = write(tmp_path, "version: 2\n")
    assert "version 2 is not supported" in str(load_error(path))
    with pytest.raises(TopologyError, match="no topology.yaml"):
        load_topology(tmp_path / "missing")


def test_header_must_fit_its_pool(tmp_path):
    text, line = replace_line(GOOD, "header: {seq16: true}", "header: [1, 2, 3]")
    text = text.replace("{name: p, count: 4, size: 64}", "{name: p, count: 4, size: 2}")
    err = load_error(write(tmp_path, text))
    assert f":{line}: " in err.errors[0] and "3-byte header does not fit pool 'p'" in str(err)


def test_the_bridge_reads_through_the_same_loader(tmp_path):
    text, line = replace_line(GOOD, "- [src, direct]", "- [ghost, direct]")
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == str(load_error(path))
    assert f"{path}:{line}: " in str(info.value)


def test_zsim_run_fails_with_file_line_and_writes_nothing(tmp_path, capsys):
    text, line = replace_line(GOOD, "- cpu: {us: 10}", "- blink: {us: 10}")
    model = tmp_path / "model"
    model.mkdir()
    path = write(model, text)
    out = tmp_path / "out"
    out.mkdir()
    rc = zsim_main(["run", str(model), "--duration", "100ms", "--quiet",
                    "--trace", str(out / "t.jsonl"), "--perfetto", str(out / "p.json")])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"{path}:{line}: sinks[0].behaviour[0]: unknown behaviour 'blink'" in err
    assert list(out.iterdir()) == []
