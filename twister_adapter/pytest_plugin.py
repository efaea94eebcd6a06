"""pytest plugin (entry point ``pytest11: zsim``): a ``dut`` fixture for zsim devices.

Options: ``--zsim-model PATH`` (a directory with ``model.py`` or ``topology.yaml``; default:
the nearest one at or above the test file), ``--zsim-board NAME`` (board profile for the
simulator), ``--zsim-device URL`` (a virtual or real board through firmware_bridge),
``--zsim-baud N``, ``--zsim-seed N``, ``--zsim-timeout SECONDS`` (default wait of
``readlines_until``), ``--zsim-dut-scope SCOPE`` (how long one ``dut`` lives). Nothing is
imported or started unless a test asks for ``dut``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .dut_session import DUT_SCOPES, watch_parent


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("zsim", "zsim device under test (dut fixture)")
    group.addoption("--zsim-model", metavar="PATH", default=None,
                    help="model directory (model.py or topology.yaml) the dut runs; default: "
                         "the nearest one at or above the test file")
    group.addoption("--zsim-board", metavar="NAME", default=None,
                    help="board profile of the simulated dut (default native_sim)")
    group.addoption("--zsim-device", metavar="URL", default=None,
                    help="run the dut on a board at this pyserial URL (zsim board serve, or "
                         "a board with the firmware shim) instead of the simulator")
    group.addoption("--zsim-baud", metavar="N", type=int, default=115200,
                    help="baud rate of --zsim-device (default 115200)")
    group.addoption("--zsim-seed", metavar="N", type=int, default=0,
                    help="seed of the simulation (default 0)")
    group.addoption("--zsim-timeout", metavar="SECONDS", type=float, default=60.0,
                    help="default timeout of readlines_until, in device seconds (virtual "
                         "time on simulated devices; default 60)")
    group.addoption("--zsim-dut-scope", metavar="SCOPE", choices=DUT_SCOPES,
                    default="function",
                    help="scope of the dut fixture: one device per function (default), "
                         "class, module, package or session")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "zsim_model(path): the model the dut fixture runs for this test")
    watch_parent()


def _dut_scope(fixture_name: str, config: pytest.Config) -> str:
    return str(config.getoption("--zsim-dut-scope"))


def _where(request: pytest.FixtureRequest) -> Path:
    """The test file, module, class or package the dut serves (rootdir for a session)."""
    return Path(getattr(request.node, "path", None) or request.config.rootpath)


@pytest.fixture(scope=_dut_scope)
def dut(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The device under test, launched for its scope (a test by default) and closed after."""
    from .dut import DutError, find_model, open_dut

    opt = request.config.getoption
    where = _where(request)
    here = where if where.is_dir() else where.parent
    model = opt("--zsim-model")
    marker = request.node.get_closest_marker("zsim_model") \
        if request.scope != "session" else None
    if marker is not None and marker.args:
        model = here / str(marker.args[0])
    if model is None:
        model = find_model(here, request.config.rootpath)
    if model is None and not opt("--zsim-device"):
        raise DutError(f"{where}: no model.py or topology.yaml at or above the test "
                       "file; give --zsim-model PATH or --zsim-device URL")
    device = open_dut(model=model, device=opt("--zsim-device"), board=opt("--zsim-board"),
                      baudrate=opt("--zsim-baud"), seed=opt("--zsim-seed"),
                      timeout=opt("--zsim-timeout"))
    try:
        yield device
    finally:
        device.close()
