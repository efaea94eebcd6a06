"""Acceptance: ``zsim crosscheck`` agrees at tolerance 0 against ``shim_host`` (one process
for all scenarios, in order, with its default 128-report ring) and against the virtual
board, on the seed sample, a blocking-send scenario and a mixed one (priorities, forwards,
runtime connect/disconnect, pool exhaustion)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmware_bridge import cli

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = [
    (str(ROOT / "examples" / "basic_packet_routing" / "topology.yaml"), "3s"),
    (str(ROOT / "tests" / "data" / "bridge_blocking"), "2s"),
    (str(ROOT / "tests" / "data" / "bridge_mixed"), "1s"),
]


@pytest.fixture(scope="module")
def shim_host(shim_host_exe, on_pty):
    """One ``shim_host`` behind a pseudo-terminal for the whole module; always killed."""
    with on_pty([str(shim_host_exe)]) as tty_path:
        yield tty_path


def _crosscheck(device: str, scenario: str, duration: str, capsys) -> dict:
    rc = cli.main(["crosscheck", scenario, "--device", device, "--duration", duration,
                   "--tolerance-ticks", "0", "--json", "--timeout", "2"])
    result = json.loads(capsys.readouterr().out)
    assert rc == 0 and result["divergences"] == [], (scenario, result["divergences"][:5])
    return result


def test_shim_host_agrees_on_every_scenario_in_a_row(shim_host, capsys):
    # several scenarios on one device: RESET must hand every buffer back and zero every
    # counter, or the pools and counters of the later ones diverge
    for scenario, duration in SCENARIOS:
        _crosscheck(shim_host, scenario, duration, capsys)
    # and the first again, after the others
    _crosscheck(shim_host, *SCENARIOS[0], capsys)


def test_virtual_board_agrees_on_every_scenario(serve, capsys):
    url = serve("--tcp", "127.0.0.1:0")
    for scenario, duration in SCENARIOS:
        result = _crosscheck(url, scenario, duration, capsys)
        assert result["targets"] == ["simulator", "virtual-board"]
