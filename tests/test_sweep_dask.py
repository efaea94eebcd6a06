"""zsim sweep on a Dask distributed cluster gives the rows of a local sweep."""

from __future__ import annotations

from pathlib import Path

import pytest

from zsim.cli import main
from zsim.sweep.results import read_rows

distributed = pytest.importorskip("distributed")

BURST = Path(__file__).resolve().parent.parent / "examples" / "burst_queue"
ARGS = ["sweep", str(BURST), "--param", "queues.network_queue.size=1,6", "--param",
        "CONFIG_LOG=y,n", "--board", "native_sim,nrf52840dk", "--duration", "1200ms"]


@pytest.fixture
def cluster():
    c = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                 host="127.0.0.1", protocol="tcp", dashboard_address=None)
    try:
        yield c
    finally:
        c.close()


def _without_wall(rows):
    return [{k: v for k, v in r.items() if k != "wall_s"} for r in rows]


def test_dask_rows_equal_local_rows(tmp_path, cluster, capsys):
    assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
    assert main([*ARGS, "-j", "2", "-O", str(tmp_path / "local")]) == 0
    assert main([*ARGS, "--dask-scheduler", cluster.scheduler_address,
                 "-O", str(tmp_path / "dask")]) == 0, capsys.readouterr().err
    local = read_rows(tmp_path / "local" / "results.json")
    remote = read_rows(tmp_path / "dask" / "results.json")
    assert len(local) == 8
    assert {r["board"] for r in local} == {"native_sim", "nrf52840dk"}
    assert _without_wall(remote) == _without_wall(local)
    assert any(r["drops"] for r in local) and any(r["drops"] == 0 for r in local)


def test_unreachable_scheduler_is_an_error():
    from zsim.sweep.runner import DaskRunner

    with pytest.raises(OSError):        # zsim.cli reports it: exit status 2
        DaskRunner("tcp://127.0.0.1:9", connect_timeout=1)
