"""Fixtures shared by the zsim test suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def kernel():
    """Factory for fresh simulated systems: ``kernel(config=None, board="native_sim", **kw)``.

    Each call builds a new ``zsim.Kernel``, so a test owns every object it defines, as a
    firmware image does.
    """
    from zsim import Kernel

    def make(config=None, board="native_sim", **kwargs):
        return Kernel(board=board, config=config, **kwargs)

    return make


@pytest.fixture
def serve():
    """Start ``board serve`` on loopback with extra options; yields its URL; always killed."""
    procs: list[subprocess.Popen] = []

    def start(*options: str) -> str:
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get(
            "PYTHONPATH", ""))
        proc = subprocess.Popen(
            [sys.executable, "-m", "firmware_bridge.cli", "board", "serve", *options],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        procs.append(proc)
        line = proc.stdout.readline().strip()
        assert line, proc.stderr.read()
        return line
    try:
        yield start
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            for stream in (proc.stdout, proc.stderr):
                stream.close()
