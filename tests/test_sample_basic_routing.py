"""The seed's basic_packet_routing sample, run as a model on profiled boards."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import yaml

from zsim import K_SECONDS, Kernel

SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "basic_packet_routing"


def _load():
    spec = importlib.util.spec_from_file_location("bpr_model", SAMPLE / "model.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _run(board: str, seconds: int = 5, leaky: bool = False):
    mod = _load()
    mod.LEAKY_PROCESSOR = leaky
    k = Kernel(board=board, config=str(SAMPLE / "prj.conf"))
    ns = mod.main(k)
    k.run(until=K_SECONDS(seconds))
    return k, ns


@pytest.mark.parametrize("board", ["native_sim", "nrf52840dk/nrf52840"])
def test_sample_console_matches_its_harness(board: str) -> None:
    k, ns = _run(board)
    conf = yaml.safe_load((SAMPLE / "sample.yaml").read_text())
    regexes = conf["tests"]["sample.packet_io.basic_routing"]["harness_config"]["regex"]
    for rx in regexes:
        assert any(re.search(rx, line) for line in k.console), rx
    # One sensor packet per k_sleep(K_MSEC(200)), which lasts ceil(200 ms in ticks) + 1
    # ticks (zephyr-reference.md, "Time"): 21 ticks of 10 ms on native_sim (24 packets in
    # 5 s), 6554 ticks of 1/32768 s on the nRF52840 (25 packets).
    period = -(-200 * k.ticks_per_sec // 1000) + 1
    expected = (5 * k.ticks_per_sec - 1) // period + 1
    assert expected == {"native_sim": 24, "nrf52840dk/nrf52840": 25}[board]
    assert ns.validator_state["valid"] == expected
    assert ns.validator_state["failed"] == 0
    assert not any("Sequence gap" in line or "<err>" in line for line in k.console)
    assert ns.tcp_sink.stats.handled_count == expected
    assert k.faults == []


@pytest.mark.parametrize("board", ["native_sim", "nrf52840dk/nrf52840"])
def test_sample_leaks_nothing_and_copies_only_the_sensor_payloads(board: str) -> None:
    k, ns = _run(board)
    # Everything sent has been handled: no buffer is held once the pipeline is idle.
    assert k.leaks() == []
    # The sensors copy their payloads into buffers (add_mem); routing copies nothing.
    sends1 = ns.sensor1_source.stats.send_count
    sends2 = ns.sensor2_source.stats.send_count
    assert k.bytes_copied == sends1 * 256 + sends2 * 384


def test_the_c_processor_leak_is_reported() -> None:
    # The C sample forwards with packet_source_send and never releases the header chain:
    # each routed packet keeps a header buffer and its payload, so the sensor pool (8
    # buffers) runs dry and zsim lists the held buffers with where they were allocated.
    k, ns = _run("native_sim", seconds=5, leaky=True)
    leaks = k.leaks()
    pools = {b.pool.name for b in leaks}
    assert pools == {"sensor_pool", "processor_pool"}
    assert sum(b.pool.name == "sensor_pool" for b in leaks) == 8
    assert ns.validator_state["valid"] == 8          # then the sensors get no buffers
    report = k.leak_report()
    assert any("model.py" in line and "processor_handler()" in line for line in report)


def test_same_seed_same_console() -> None:
    a, _ = _run("nrf52840dk/nrf52840", seconds=2)
    b, _ = _run("nrf52840dk/nrf52840", seconds=2)
    assert list(a.console) == list(b.console)
