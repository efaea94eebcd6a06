"""The ELF topology reader against small images built here with gcc.

The C sources under tests/data/elf/ define a packet_io topology with a stand-in header that
has packet_io's structure layouts, static initialisers and iterable section names; two
linker scripts place the connection area in RAM (ram.ld) or in flash on an XIP layout
(xip.ld). Images are built for x86-64, i386 (freestanding: no 32-bit C library needed) and,
when arm-none-eabi-gcc is installed, Cortex-M4 Thumb.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from firmware_bridge.elf import ElfTopologyError, read_topology, topology_to_yaml
from firmware_bridge.elf_cli import register_elf
from firmware_bridge.scenario import parse_scenario

DATA = Path(__file__).parent / "data" / "elf"
SOURCES = [DATA / "network.c", DATA / "sensors.c"]   # network.c first: link order != names
CFLAGS = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-ffreestanding", "-nostdlib", "-O0",
          "-fno-asynchronous-unwind-tables"]
LDFLAGS = ["-Wl,--build-id=none", "-Wl,--no-warn-rwx-segments"]

SOURCES_EXPECTED = ["processor_source", "sensor1_source", "sensor2_source", "spare_source"]
QUEUES_EXPECTED = {"idle_queue": 3, "processor_queue": 10, "tcp_queue": 4}
SINKS_EXPECTED = {
    # name: (mode, handler, queue, user_data)
    "audit_sink": ("immediate", "audit_handler", None, None),
    "orphan_sink": ("immediate", "udp_handler", None, None),
    "processor_sink": ("queued", "processor_handler", "processor_queue", None),
    "tcp_sink": ("queued", "tcp_handler", "tcp_queue", None),
    "udp_sink": ("immediate", "udp_handler", None, "udp_context"),
    "validator_sink": ("immediate", "validator_handler", None, None),
}
DECLARED = [  # in the order the sources declare them
    ("processor_source", "validator_sink"), ("processor_source", "udp_sink"),
    ("processor_source", "tcp_sink"), ("sensor2_source", "processor_sink"),
    ("sensor1_source", "processor_sink"), ("sensor1_source", "audit_sink"),
]
LINK_ORDER = sorted(DECLARED, key=lambda c: f"__connection_{c[0]}_{c[1]}")


def _works(cc: list[str], tmp: Path) -> bool:
    src = tmp / "probe.c"
    src.write_text("void _start(void) { for (;;) { } }\n")
    try:
        r = subprocess.run([*cc, *CFLAGS, *LDFLAGS, "-static", str(src), "-o",
                            str(tmp / "probe.elf")], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


@pytest.fixture(scope="session")
def build(tmp_path_factory):
    """``build(arch, *flags, script="ram.ld", strip=False)`` -> path of a linked image."""
    out = tmp_path_factory.mktemp("elf")
    compilers = {"x86_64": ["gcc", "-m64"], "i386": ["gcc", "-m32"],
                 "arm": ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb"]}
    strippers = {"x86_64": "strip", "i386": "strip", "arm": "arm-none-eabi-strip"}
    usable: dict[str, bool] = {}
    cache: dict[tuple, Path] = {}

    def make(arch: str, *flags: str, script: str = "ram.ld", strip: bool = False) -> Path:
        cc = compilers[arch]
        if arch not in usable:
            usable[arch] = shutil.which(cc[0]) is not None and _works(cc, out)
        if not usable[arch]:
            pytest.skip(f"{' '.join(cc)} cannot build freestanding images here"
                        + (" (apt package gcc-arm-none-eabi)" if arch == "arm" else ""))
        key = (arch, flags, script, strip)
        if key in cache:
            return cache[key]
        name = f"{arch}_{len(cache)}.elf"
        dest = out / name
        link = ["-static", "-fno-pie", "-no-pie"]
        if "-shared" in flags:
            link = ["-fPIC"]
        cmd = [*cc, *CFLAGS, *flags, *link, *LDFLAGS, f"-Wl,-T,{DATA / script}",
               *map(str, SOURCES), "-o", str(dest)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stderr}"
        if strip:
            tool = shutil.which(strippers[arch]) or shutil.which("strip")
            if tool is None:
                pytest.skip("no strip tool")
            subprocess.run([tool, "--strip-all", str(dest)], check=True, timeout=60)
        cache[key] = dest
        return dest

    return make


def _check_full(topo, names: bool) -> None:
    assert [s.name for s in topo.sources] == SOURCES_EXPECTED
    assert {q.name: q.size for q in topo.queues} == QUEUES_EXPECTED
    got = {k.name: (k.mode, k.handler, k.queue, k.user_data) for k in topo.sinks}
    assert got == SINKS_EXPECTED
    assert [(c.source, c.sink) for c in topo.connections] == LINK_ORDER
    assert topo.names is names


VARIANTS = [
    # id, arch, flags, script, names, xip, dwarf
    ("x86_64-dwarf-names-stats", "x86_64", ("-g", "-DPACKET_IO_NAMES", "-DPACKET_IO_STATS"),
     "ram.ld", True, False, True),
    ("x86_64-nodwarf", "x86_64", ("-g0",), "ram.ld", False, False, False),
    ("x86_64-nodwarf-names-spin", "x86_64", ("-g0", "-DPACKET_IO_NAMES", "-DSPIN_VALIDATE"),
     "xip.ld", True, True, False),
    ("i386-dwarf-xip", "i386", ("-g", "-DSPIN_VALIDATE"), "xip.ld", False, True, True),
    ("i386-nodwarf-stats", "i386", ("-g0", "-DPACKET_IO_STATS", "-DSPIN_VALIDATE"), "ram.ld",
     False, False, False),
    ("arm-dwarf-names-xip", "arm", ("-g", "-DPACKET_IO_NAMES", "-DPACKET_IO_STATS"), "xip.ld",
     True, True, True),
    ("arm-nodwarf", "arm", ("-g0",), "xip.ld", False, True, False),
]


@pytest.mark.parametrize("arch,flags,script,names,xip,dwarf",
                         [v[1:] for v in VARIANTS], ids=[v[0] for v in VARIANTS])
def test_topology_recovered(build, arch, flags, script, names, xip, dwarf):
    topo = read_topology(build(arch, *flags, script=script))
    _check_full(topo, names)
    assert topo.has_dwarf is dwarf
    assert topo.elf_class == (64 if arch == "x86_64" else 32)
    assert topo.connection_section == "packet_connection_area"
    assert topo.xip is xip
    flash = [w for w in topo.warnings if "in flash" in w]
    assert bool(flash) is xip, topo.warnings
    assert [w for w in topo.warnings if "in flash" not in w] == []


def test_link_order_is_by_section_name_not_declaration(build):
    topo = read_topology(build("x86_64", "-g"))
    order = [(c.source, c.sink) for c in topo.connections]
    assert order == LINK_ORDER != DECLARED
    assert [c.symbol for c in topo.connections] == [f"__connection_{s}_{k}" for s, k in order]
    addrs = [c.address for c in topo.connections]
    assert addrs == sorted(addrs)


def test_thumb_handlers_resolve_to_functions(build):
    topo = read_topology(build("arm", "-g0"))
    for sink in topo.sinks:
        assert sink.handler_address & 1            # a Thumb function pointer
        assert sink.handler == SINKS_EXPECTED[sink.name][1]


@pytest.mark.parametrize("arch", ["x86_64", "i386", "arm"])
def test_stripped_image_with_names(build, arch):
    topo = read_topology(build(arch, "-g0", "-DPACKET_IO_NAMES", script="xip.ld", strip=True))
    assert [s.name for s in topo.sources] == SOURCES_EXPECTED
    assert {q.name: q.size for q in topo.queues} == QUEUES_EXPECTED
    assert {k.name: (k.mode, k.queue) for k in topo.sinks} == {
        n: (v[0], v[2]) for n, v in SINKS_EXPECTED.items()}
    assert [(c.source, c.sink) for c in topo.connections] == LINK_ORDER
    assert all(c.symbol is None for c in topo.connections)


def test_stripped_image_without_names_keeps_the_wiring(build):
    topo = read_topology(build("i386", "-g0", strip=True))
    assert len(topo.connections) == len(LINK_ORDER)
    assert {q.size for q in topo.queues} == {10, 4}           # the queues sinks use
    assert any("only connected" in w for w in topo.warnings)
    by_name = {k.name: k for k in topo.sinks}
    queued = [k for k in by_name.values() if k.mode == "queued"]
    assert len(queued) == 2 and all(k.queue for k in queued)
    # the shape of the wiring is the same as with symbols
    srcs = [c.source for c in topo.connections]
    assert [srcs.count(s) for s in dict.fromkeys(srcs)] == [3, 2, 1]


def test_position_independent_image_relocations(build):
    topo = read_topology(build("x86_64", "-g0", "-DPACKET_IO_NAMES", "-shared"))
    _check_full(topo, names=True)


def test_faulty_connections_are_reported(build):
    topo = read_topology(build("x86_64", "-g", "-DWITH_FAULTS"))
    pairs = [(c.source, c.sink) for c in topo.connections]
    assert pairs.count(("sensor1_source", "audit_sink")) == 2
    assert any("NULL sink" in w and "__connection_spare_source_none" in w
               for w in topo.warnings)
    assert any("connected twice" in w for w in topo.warnings)


def test_yaml_is_a_scenario(build):
    topo = read_topology(build("x86_64", "-g", "-DPACKET_IO_NAMES"))
    text = topology_to_yaml(topo, name="fw")
    data = yaml.safe_load(text)
    assert data["version"] == 1 and data["name"] == "fw"
    assert "pools" not in data
    assert data["connections"] == [list(c) for c in LINK_ORDER]
    assert {q["name"]: q["size"] for q in data["queues"]} == QUEUES_EXPECTED
    for sink in data["sinks"]:
        assert sink["behaviour"] == ["record"]
        assert sink.get("queue") == SINKS_EXPECTED[sink["name"]][2]
    assert "# handler: processor_handler" in text
    sc = parse_scenario(data, name="fw")
    assert sc.sources == SOURCES_EXPECTED
    assert [(c["source"], c["sink"]) for c in sc.connections] == LINK_ORDER


def test_yaml_carries_warnings_as_comments(build):
    text = topology_to_yaml(read_topology(build("i386", "-g", script="xip.ld")))
    assert "# warning: packet_connection_area is in flash" in text
    yaml.safe_load(text)


def _cli(argv):
    p = argparse.ArgumentParser(prog="zsim")
    register_elf(p.add_subparsers(dest="command", required=True))
    args = p.parse_args(argv)
    return args.func(args)


def test_cli_writes_topology(build, tmp_path, capsys):
    elf = build("i386", "-g", script="xip.ld")
    out = tmp_path / "topology.yaml"
    assert _cli(["elf", "topology", str(elf), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "warning: packet_connection_area is in flash" in err
    assert "4 sources, 6 sinks, 3 queues, 6 static connections" in err
    assert yaml.safe_load(out.read_text())["connections"] == [list(c) for c in LINK_ORDER]


def test_cli_stdout_and_json(build, capsys):
    elf = build("x86_64", "-g")
    assert _cli(["elf", "topology", str(elf), "--name", "demo"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["name"] == "demo"
    assert _cli(["elf", "topology", str(elf), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["elf_class"] == 64 and data["machine"] == "EM_X86_64"
    assert [(c["source"], c["sink"]) for c in data["connections"]] == LINK_ORDER


def test_not_elf_or_not_packet_io(tmp_path):
    bad = tmp_path / "x.elf"
    bad.write_bytes(b"not an elf")
    with pytest.raises(ElfTopologyError, match="not an ELF"):
        read_topology(bad)
    with pytest.raises(ElfTopologyError):
        read_topology(tmp_path / "missing.elf")
    if not shutil.which("gcc") or not _works(["gcc", "-m64"], tmp_path):
        pytest.skip("gcc cannot build freestanding images here")
    with pytest.raises(ElfTopologyError, match="no packet_io objects"):
        read_topology(tmp_path / "probe.elf")


def test_big_endian_refused(build, tmp_path):
    data = bytearray(build("x86_64", "-g0").read_bytes())
    data[5] = 2                                     # EI_DATA = ELFDATA2MSB
    be = tmp_path / "be.elf"
    be.write_bytes(bytes(data))
    with pytest.raises(ElfTopologyError):
        read_topology(be)
