"""Fixtures shared by the zsim test suite."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIM_SRC = ROOT / "firmware_bridge" / "shim" / "src"
SHIM_HOST_SOURCES = [SHIM_SRC / "core" / "shim_wire.c", SHIM_SRC / "core" / "shim_core.c",
                     SHIM_SRC / "host" / "mini_kernel.c", SHIM_SRC / "host" / "mini_packet_io.c",
                     SHIM_SRC / "host" / "host_main.c"]


@pytest.fixture(scope="session")
def shim_host_exe(tmp_path_factory) -> Path:
    """The firmware shim's host build (``shim_host``), compiled once with the system's C
    compiler (warnings are errors); skipped without one."""
    import shutil

    cc = next((c for c in ("cc", "gcc", "clang") if shutil.which(c)), None)
    if cc is None:
        pytest.skip("no C compiler (cc) on this machine")
    exe = tmp_path_factory.mktemp("shim") / "shim_host"
    cmd = [cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-O1",
           *map(str, SHIM_HOST_SOURCES), "-o", str(exe)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return exe


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


@pytest.fixture
def served():
    """Runs virtual board servers in threads: ``served(server)`` starts one and returns it;
    every one is stopped at the end of the test."""
    from firmware_bridge.virtual_board import start_in_thread

    running = []

    def start(server):
        running.append((server, start_in_thread(server)))
        return server
    try:
        yield start
    finally:
        for server, thread in running:
            server.close()
            thread.join(timeout=5)


@contextlib.contextmanager
def program_on_pty(argv: list[str]):
    """Run ``argv`` with a raw pseudo-terminal as its stdin and stdout; yields the terminal's
    path for the host side; the program is always killed."""
    import tty

    master, slave = os.openpty()
    tty.setraw(slave)
    proc = subprocess.Popen(argv, stdin=master, stdout=master, stderr=subprocess.DEVNULL,
                            close_fds=True)
    os.close(master)
    try:
        yield os.ttyname(slave)
    finally:
        proc.kill()
        proc.wait(timeout=10)
        os.close(slave)


@pytest.fixture(scope="session")
def on_pty():
    """``with on_pty(argv) as tty_path:``: a program behind a pseudo-terminal."""
    return program_on_pty


class LiveProcesses:
    """Live (not zombie) processes found through Linux /proc, by process group and/or an
    ``ENV=value`` entry of their environment."""

    def find(self, *, group: int | None = None, env: str | None = None) -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                environ = (entry / "environ").read_bytes() if env is not None else b""
            except OSError:
                continue
            if fields[0] == "Z" or (group is not None and int(fields[2]) != group):
                continue
            if env is not None and env.encode() not in environ.split(b"\0"):
                continue
            found.append(int(entry.name))
        return found

    def wait_gone(self, seconds: float = 10.0, **match: object) -> list[int]:
        """Wait (bounded) until no process matches; those still alive."""
        import time

        deadline = time.monotonic() + seconds
        while (alive := self.find(**match)) and time.monotonic() < deadline:
            time.sleep(0.05)
        return alive


@pytest.fixture
def live_processes() -> LiveProcesses:
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs Linux /proc")
    return LiveProcesses()
