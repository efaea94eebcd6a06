"""setup.py records a failed compile, and says so on stderr.

The build runs on a copy of setup.py and the compiled modules' sources with ``CC=false``,
a compiler that fails at once: each module's record entry names the failure, and
``zsim.build_info`` reports it as the reason the module runs as Python.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from zsim import build_info

ROOT = Path(__file__).resolve().parents[1]


def test_failed_compile_is_recorded_and_reported(tmp_path: Path) -> None:
    pytest.importorskip("Cython")
    pytest.importorskip("setuptools", minversion="77")
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(ROOT / "setup.py", tree)
    (tree / "zsim").mkdir()
    shutil.copy(ROOT / "zsim" / "build_info.py", tree / "zsim")
    for name in build_info.HOT_MODULES:
        rel = Path(*name.split(".")).with_suffix(".py")
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        for path in (rel, rel.with_suffix(".pxd")):
            shutil.copy(ROOT / path, tree / path)
    build = tmp_path / "build"
    env = {k: v for k, v in os.environ.items() if k != "ZSIM_PURE_PYTHON"}
    env.update(CC="false", LDSHARED="false")
    proc = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--build-lib",
                           str(build / "lib"), "--build-temp", str(build / "temp")],
                          cwd=tree, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]      # optional: the build goes on
    assert "zsim: WARNING: compiling zsim.kernel.core failed" in proc.stderr
    package = build / "lib" / "zsim"
    record = json.loads((package / build_info.RECORD).read_text())
    assert len(record) == len(build_info.HOT_MODULES)
    assert all(entry == {"failed": "false exited with status 1"}
               for entry in record.values()), record
    binary, reason = build_info.decide("zsim.net_buf", str(package))
    assert (binary, reason) == (None, "its build failed (false exited with status 1)")
