"""zsim in a throwaway west workspace: a local manifest repository lists a clone of this
checkout by file URL with ``import: true``; ``west init -l`` and ``west update`` set it up
offline, then ``west zsim ...`` must behave as ``zsim ...``.

``west update`` clones committed files only: the checkout's west.yml and scripts/ must be
committed for these tests to pass.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import zsim

pytest.importorskip("west", reason="west is not installed (pip install west)")
if shutil.which("git") is None:
    pytest.skip("git is not installed", allow_module_level=True)

junitparser = pytest.importorskip("junitparser")

HERE = Path(__file__).resolve().parent
WEST = [sys.executable, "-m", "west"]
TIMEOUT = 120                       # wall-clock seconds for any one command


def _run(cmd: list[str], cwd: Path, env: dict[str, str],
         check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` bounded by TIMEOUT (subprocess.run kills it when the time is up)."""
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
    if check and proc.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} exited {proc.returncode}\nstdout:\n{proc.stdout}\n"
                    f"stderr:\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """(workspace top directory, environment) with zsim at ``<top>/zsim``."""
    tmp = tmp_path_factory.mktemp("west")
    home = tmp / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WEST_", "ZEPHYR_", "GIT_", "ZSIM_"))}
    env.update(HOME=str(home), WEST_CONFIG_GLOBAL=str(home / "westconfig"),
               GIT_CONFIG_NOSYSTEM="1", PYTHONDONTWRITEBYTECODE="1", COLUMNS="100")
    top_proc = _run(["git", "rev-parse", "--show-toplevel"], HERE, env, check=False)
    if top_proc.returncode != 0:
        pytest.fail(f"{HERE} is not in a git checkout: the workspace test clones the "
                    f"checkout it runs in ({top_proc.stderr.strip()})")
    repo = Path(top_proc.stdout.strip())
    head = _run(["git", "rev-parse", "HEAD"], repo, env).stdout.strip()
    tracked = _run(["git", "ls-files", "west.yml", "scripts/west-commands.yml",
                    "scripts/west_zsim.py", "zsim/workspace_args.py"], repo, env).stdout.split()
    if len(tracked) < 4:
        pytest.fail(f"west.yml, scripts/ and zsim/workspace_args.py must be committed in "
                    f"{repo}: west update clones committed files only (tracked: {tracked})")

    ws = tmp / "ws"
    manifest = ws / "manifest"
    manifest.mkdir(parents=True)
    (manifest / "west.yml").write_text(
        "manifest:\n"
        "  projects:\n"
        "    - name: zsim\n"
        f"      url: {repo.as_uri()}\n"
        f"      revision: {head}\n"
        "      path: zsim\n"
        "      import: true\n"
        "  self:\n"
        "    path: manifest\n", encoding="utf-8")
    git = ["git", "-c", "user.name=zsim test", "-c", "user.email=zsim@example.invalid"]
    _run([*git, "init", "-q"], manifest, env)
    _run([*git, "add", "west.yml"], manifest, env)
    _run([*git, "commit", "-q", "-m", "manifest"], manifest, env)
    _run([*WEST, "init", "-l", "manifest"], ws, env)
    _run([*WEST, "update"], ws, env)
    assert (ws / "zsim" / "scripts" / "west_zsim.py").is_file()
    return ws, env


def test_west_lists_zsim_with_a_one_line_description(workspace):
    ws, env = workspace
    out = _run([*WEST, "help"], ws, env).stdout
    line = next((ln for ln in out.splitlines() if ln.strip().startswith("zsim:")), None)
    assert line is not None, out
    assert "simulate packet_io firmware" in line


def test_west_zsim_version_is_zsims(workspace):
    ws, env = workspace
    proc = _run([*WEST, "zsim", "--version"], ws / "zsim", env)
    assert proc.stdout.startswith(f"zsim {zsim.__version__} (")


def test_west_zsim_run_prints_what_zsim_run_prints(workspace):
    ws, env = workspace
    args = ["run", "examples/basic_packet_routing", "--duration", "1s", "--quiet"]
    west = _run([*WEST, "zsim", *args], ws / "zsim", env)
    direct = _run([sys.executable, "-m", "zsim", *args], ws / "zsim", env)
    assert "zsim summary: native_sim, 1000 ms of virtual time" in west.stdout
    assert west.stdout == direct.stdout


def test_west_zsim_run_takes_a_path_from_the_workspace_top(workspace):
    ws, env = workspace
    proc = _run([*WEST, "zsim", "run", "zsim/examples/basic_packet_routing", "--duration",
                 "1s", "--quiet"], ws / "manifest", env)
    assert "1000 ms of virtual time" in proc.stdout


def test_west_zsim_run_exit_status_is_zsims(workspace):
    ws, env = workspace
    proc = _run([*WEST, "zsim", "run", "examples/basic_packet_routing", "--board",
                 "no_such_board"], ws / "zsim", env, check=False)
    assert proc.returncode == 2
    assert "unknown board 'no_such_board'" in proc.stderr


def test_west_zsim_twister_writes_twister_reports(workspace):
    ws, env = workspace
    out = ws / "OUT"
    _run([*WEST, "zsim", "twister", "-T", "examples", "-p", "native_sim", "-O", str(out)],
         ws / "zsim", env)
    doc = json.loads((out / "twister.json").read_text(encoding="utf-8"))
    suites = doc["testsuites"]
    assert suites and {s["platform"] for s in suites} == {"native_sim"}
    assert all(s["status"] == "passed" for s in suites), suites
    xml = junitparser.JUnitXml.fromfile(str(out / "twister.xml"))
    cases = [c for suite in xml for c in suite]
    assert len(cases) == len(suites)
    assert all(c.is_passed for c in cases)
