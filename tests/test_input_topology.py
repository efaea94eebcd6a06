"""A topology that can never work is refused at load (or, for what depends on the board
and configuration, before anything is built), naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from zsim import Kernel, NetBufPool
from zsim.cli import main as zsim_main
from zsim.kernel.memory import Layout, LinkError, RamOverflowError
from zsim.topology import TopologyError, build, check_fits, load_topology

GOOD = """\
version: 1
duration: 1s
pools:
  - {name: p, count: 4, size: 64}
  - {name: hdr, count: 4, size: 4}
queues:
  - {name: q, size: 4, thread: {name: worker, priority: 5}}
sources: [src, out]
sinks:
  - name: direct
    behaviour:
      - forward: {source: out, pool: hdr, header: [1, 2]}
  - {name: queued, queue: q}
connections:
  - [src, direct]
  - [out, queued]
  - {source: src, sink: queued, runtime: true, add_at: 5ms, remove_at: 8ms}
stimuli:
  - periodic: {source: src, pool: p, every: 10ms, size: 64}
  - script:
      steps:
        - {at: 1ms, send: {source: src, pool: p, size: 8}}
        - {at: 2ms, send: {source: src, pool: p, size: 8}}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "topology.yaml"
    path.write_text(text)
    return path


def edit(old: str, new: str, text: str = GOOD) -> tuple[str, int]:
    """``text`` with the one line holding ``old`` changed; that line's number."""
    lines = text.splitlines()
    (i,) = [i for i, line in enumerate(lines) if old in line]
    lines[i] = lines[i].replace(old, new)
    return "\n".join(lines) + "\n", i + 1


def errors(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(TopologyError) as exc:
        load_topology(write(tmp_path, text))
    return exc.value.errors


def test_the_good_file_loads_and_builds(tmp_path: Path) -> None:
    topo = load_topology(write(tmp_path, GOOD))
    built = build(Kernel("nrf52840dk"), topo)
    assert set(built.pools) == {"p", "hdr"}


@pytest.mark.parametrize("old,new,expect", [
    ("every: 10ms, size: 64}", "every: 10ms, size: 65}",
     "stimuli[0].periodic.size: a 65-byte payload does not fit pool 'p' (64-byte buffers)"),
    ("{at: 2ms, send: {source: src, pool: p, size: 8}}",
     "{at: 2ms, send: {source: src, pool: hdr, size: 5}}",
     "stimuli[1].script.steps[1].send.size: a 5-byte payload does not fit pool 'hdr'"),
    ("{name: p, count: 4, size: 64}", "{name: p, count: 4, size: 0}", "pools[0].size: 0 is "
     "less than the minimum of 1"),
    ("{name: p, count: 4, size: 64}", "{name: p, count: 0, size: 64}", "pools[0].count: 0 is "
     "less than the minimum of 1"),
    ("{name: p, count: 4, size: 64}", "{name: p, count: 4, size: 65536}", "pools[0].size: "
     "65536 is greater than the maximum of 65535"),
    ("{name: hdr, count: 4, size: 4}", "{name: hdr, count: 4, size: 4, user_data_size: 256}",
     "pools[1].user_data_size: 256 is greater than the maximum of 255"),
    ("header: [1, 2]", "header: [1, 2, 3, 4, 5]",
     "a 5-byte header does not fit pool 'hdr' (4-byte buffers)"),
    ("every: 10ms", "every: 0", "stimuli[0].periodic.every: every: 0 is not a period"),
    ("{at: 2ms,", "{at: 500us,", "stimuli[1].script.steps[1].at: at: earlier than the step "
     "before it"),
    ("remove_at: 8ms", "remove_at: 4ms", "connections[2].remove_at: remove_at: earlier than "
     "add_at"),
    ("duration: 1s", "duration: forever", "duration: forever never ends: stimuli[0] sends "
     "without a count"),
])
def test_what_can_never_work_is_refused_at_its_line(tmp_path: Path, old: str, new: str,
                                                    expect: str) -> None:
    text, line = edit(old, new)
    errs = errors(tmp_path, text)
    assert len(errs) == 1, errs
    assert errs[0].startswith(f"{tmp_path / 'topology.yaml'}:{line}: "), errs
    assert expect in errs[0]


def test_what_looks_odd_but_works_is_accepted(tmp_path: Path) -> None:
    text, _ = edit("every: 10ms, size: 64}", "every: 10ms, size: 64, count: 3}")
    text, _ = edit("duration: 1s", "duration: forever", text)          # ends: a count
    text, _ = edit("{at: 2ms,", "{at: 2ticks,", text)                  # ticks vs ms: unknown
    text, _ = edit("- {name: queued, queue: q}", "- {name: queued, queue: q, behaviour: "
                   "[{forward: {source: src, pool: hdr}}]}", text)    # a loop through a queue
    topo = load_topology(write(tmp_path, text))
    assert topo.duration.is_forever and topo.stimuli[0]["count"] == 3


@pytest.mark.parametrize("old,new", [
    ("- [out, queued]", "- [out, direct]"),                     # a static loop
    ("source: out, pool: hdr", "source: src, pool: hdr"),       # through a runtime connection
])
def test_a_forward_back_to_its_immediate_sink_is_refused_at_the_forward(
        tmp_path: Path, old: str, new: str) -> None:
    text, _ = edit(old, new)
    _, line = edit("forward:", "forward:", text)
    errs = errors(tmp_path, text)
    assert len(errs) == 1 and errs[0].startswith(f"{tmp_path / 'topology.yaml'}:{line}: ")
    assert "sinks[0].behaviour[0].forward: direct forwards to " in errs[0]
    assert "in the sender's context: an endless recursion" in errs[0]


# --- what depends on the board and the configuration: checked before building -------------


def test_priorities_the_configuration_lacks(tmp_path: Path) -> None:
    text, line = edit("priority: 5", "priority: 20")
    topo = load_topology(write(tmp_path, text))
    k = Kernel()
    with pytest.raises(TopologyError) as exc:
        build(k, topo)
    assert exc.value.errors == [
        f"{tmp_path / 'topology.yaml'}:{line}: thread 'worker': priority 20 is outside -16..14 "
        f"(CONFIG_NUM_COOP_PRIORITIES=16, CONFIG_NUM_PREEMPT_PRIORITIES=15)"]
    assert k.objects == [] or not any(getattr(o, "name", "") == "p" for o in k.objects)
    check_fits(Kernel(config={"NUM_PREEMPT_PRIORITIES": 21}), topo)


def test_pools_over_the_boards_ram_are_refused_before_allocation(tmp_path: Path) -> None:
    text, line = edit("{name: p, count: 4, size: 64}", "{name: p, count: 65535, size: 65535}")
    topo = load_topology(write(tmp_path, text))
    k = Kernel("native_sim")
    with pytest.raises(TopologyError) as exc:
        build(k, topo)
    (err,) = exc.value.errors
    need = Layout(4, k.config).fixed_pool(65535, 65535, 4)
    assert err.startswith(f"{tmp_path / 'topology.yaml'}:{line}: pool 'p' (65535 x 65535 B) "
                          f"needs {need} bytes of RAM")
    assert "region 'RAM' overflowed by" in err and "(67108864 bytes on native_sim)" in err
    assert k._pools == []                                   # nothing was created


def test_the_sum_decides_and_names_the_entry_that_overflows(tmp_path: Path) -> None:
    k = Kernel("qemu_cortex_m3")                            # 64 KiB
    lay = Layout(4, k.config)
    free = 64 * 1024 - k.memory_report().ram_used
    size = (free - lay.fixed_pool(1, 0, 4)) // 2            # two of these cannot both fit
    text = GOOD.replace("{name: p, count: 4, size: 64}", f"{{name: p, count: 1, size: {size}}}")
    text, line = edit("{name: hdr, count: 4, size: 4}",
                      f"{{name: hdr, count: 1, size: {size}}}", text)
    text = text.replace("header: [1, 2]", "header: []")
    with pytest.raises(TopologyError) as exc:
        build(k, load_topology(write(tmp_path, text)))
    (err,) = exc.value.errors
    assert f":{line}: pool 'hdr'" in err and "bytes used before it" in err


def test_a_netbufpool_over_ram_is_refused_before_allocation() -> None:
    k = Kernel("qemu_cortex_m3")                            # 64 KiB of RAM
    need = Layout(4, k.config).fixed_pool(1000, 1000, 4)
    with pytest.raises(RamOverflowError) as exc:
        NetBufPool(k, "big", 1000, 1000)
    assert str(exc.value) == (f"NetBufPool 'big' (1000 x 1000 B) needs {need} bytes of RAM: "
                              f"region 'RAM' overflowed by {need - 65536} bytes (65536 bytes "
                              f"on qemu_cortex_m3)")
    assert isinstance(exc.value, LinkError) and isinstance(exc.value, ValueError)
    assert k._pools == []
    NetBufPool(k, "a", 40, 1000)                            # 40 kB fits 64 KiB ...
    with pytest.raises(RamOverflowError, match="bytes used before it"):
        NetBufPool(k, "b", 30, 1000)                        # ... but not beside another 30


def test_zsim_run_refuses_a_bad_topology_with_exit_2(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    text, line = edit("every: 10ms, size: 64}", "every: 10ms, size: 100}")
    path = write(tmp_path, text)
    assert zsim_main(["run", str(tmp_path), "--quiet"]) == 2
    assert f"{path}:{line}: stimuli[0].periodic.size: a 100-byte payload" in \
        capsys.readouterr().err
