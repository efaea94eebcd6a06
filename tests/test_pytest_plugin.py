"""The pytest plugin's ``dut`` fixture on the simulator and on a virtual board.

Each test runs an inner pytest session (pytester) on a small test file using ``dut``.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "basic_packet_routing"
ZTEST_EXAMPLE = ROOT / "examples" / "ztest_basic"
BRIDGE_SCENARIO = ROOT / "tests" / "data" / "bridge_basic"


def run_inner(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:cacheprovider", "-s", *args)


SEED_TESTS = """
    import pytest
    from twister_adapter.dut import DutTimeout

    pytestmark = pytest.mark.zsim_model(%r)

    def test_routing(dut):
        assert dut.kind == "simulator"
        lines = dut.readlines_until(regex="TCP Stats: [0-9]+ packets", timeout=5)
        assert "Sensor module started" in "\\n".join(lines)
        assert dut.now() < 1.0              # stopped at the match, not at the timeout
        nxt = dut.readline(timeout=1)
        assert nxt.startswith("[00:00:")
        three = dut.readlines_until(num_of_lines=3, timeout=1)
        assert len(three) == 3

    def test_timeout_is_virtual_and_clear(dut):
        with pytest.raises(DutTimeout, match=r"no line matching 'NO SUCH LINE' "
                                             r"\\(within 2 s of virtual time"):
            dut.readlines_until(regex="NO SUCH LINE", timeout=2)
        assert 2.0 <= dut.now() < 2.2
        assert dut.readlines()              # the lines read meanwhile stay unread

    def test_reset_and_clear_buffer(dut):
        dut.readlines_until(regex="Validator: Checked", timeout=5)
        dut.reset()
        assert dut.now() == 0 and dut.readlines() == []
        dut.readlines_until(regex="Packet processor started", timeout=1)
        dut.clear_buffer()
        assert dut.readlines() == []

    def test_waits_in_vain(dut):
        dut.readlines_until(regex="never printed", timeout=0.5)
"""

ZTEST_TESTS = """
    def test_ztest_report(dut):
        lines = dut.readlines_until(regex="PROJECT EXECUTION", timeout=5)
        assert lines[-1] == "PROJECT EXECUTION SUCCESSFUL"
        assert "TESTSUITE packet_io_basic succeeded" in lines
"""

ECHO_MODEL = """
def console_input(k, data):
    k.printk("echo: %s\\n", data.decode())

def main(k):
    pass
"""

ECHO_TESTS = """
    def test_echo(dut):
        dut.readlines_until(regex="Booting Zephyr OS", timeout=1)   # the boot banner
        dut.write(b"hello")
        assert dut.readline(timeout=1) == "echo: hello"
"""

LOCAL_TESTS = """
    import pytest

    @pytest.mark.zsim_model(%r)
    def test_local(dut):
        assert dut.kind == "simulated board"
        dut.readlines_until(regex=r"deliver .*sink=validator_sink", timeout=1)
"""


def test_dut_on_simulated_devices(pytester):
    """One inner session: the seed sample, the ztest example found next to its test file,
    console input, a topology on an in-process board, a timeout and a missing model."""
    pytester.makepyfile(test_seed=SEED_TESTS % str(SEED),
                        test_local=LOCAL_TESTS % str(BRIDGE_SCENARIO),
                        test_none="def test_none(dut):\n    pass\n")
    zdir = pytester.mkpydir("zt")
    for f in ("model.py", "prj.conf", "testcase.yaml"):
        shutil.copy(ZTEST_EXAMPLE / f, zdir / f)
    (zdir / "test_ztest.py").write_text(textwrap.dedent(ZTEST_TESTS))
    edir = pytester.mkpydir("echo")
    (edir / "model.py").write_text(ECHO_MODEL)
    (edir / "test_echo.py").write_text(textwrap.dedent(ECHO_TESTS))
    result = run_inner(pytester, "-rfE", "--tb=short")
    result.assert_outcomes(passed=6, failed=1, errors=1)
    result.stdout.fnmatch_lines_random([
        "FAILED test_seed.py::test_waits_in_vain*",
        "E *DutTimeout: simulator: no line matching 'never printed' (within 0.5 s of "
        "virtual time*",
        "ERROR test_none.py::test_none*",
        "E *DutError: *test_none.py: no model.py or topology.yaml at or above the test file*",
    ])


def test_unused_plugin_stays_out_of_the_way(pytester):
    pytester.makepyfile(test_plain="""
        import sys

        def test_plain():
            assert "twister_adapter.dut" not in sys.modules
            assert "firmware_bridge" not in sys.modules
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


@pytest.fixture
def virtual_board(serve):
    """``zsim board serve`` on a loopback port, stopped even when the test fails."""
    url = serve("--tcp", "127.0.0.1:0")
    assert url.startswith("socket://127.0.0.1:"), url
    return url


def test_dut_on_a_virtual_board(pytester, virtual_board):
    pytester.makepyfile(test_board="""
        import pytest
        from twister_adapter.dut import DutError, DutTimeout

        def test_deliveries(dut):
            assert dut.kind == "virtual board"
            lines = dut.readlines_until(regex=r"deliver .*sink=validator_sink", timeout=2)
            assert lines[-1].startswith("[tick ")
            first = dut.now()
            dut.reset()
            assert dut.now() == 0
            again = dut.readlines_until(regex=r"deliver .*sink=validator_sink", timeout=2)
            assert again == lines               # the same scenario, from power-on
            assert dut.now() == first
            with pytest.raises(DutTimeout, match="within 0.3 s of board time"):
                dut.readlines_until(regex="no such report", timeout=0.3)
            with pytest.raises(DutError, match="takes no console input"):
                dut.write(b"x")
    """)
    result = run_inner(pytester, "--zsim-device", virtual_board,
                       "--zsim-model", str(BRIDGE_SCENARIO))
    result.assert_outcomes(passed=1)
