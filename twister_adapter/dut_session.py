"""What the pytest harness and the pytest plugin agree on: the ``dut`` scopes, and a pytest
session that ends itself when the process that started it is gone."""

from __future__ import annotations

import os
import threading

DUT_SCOPES = ("function", "class", "module", "package", "session")
PARENT_ENV = "ZSIM_PYTEST_PARENT"
"""When set to a process id, the pytest session ends itself once that process is gone."""
WATCH_PERIOD = 0.5
"""Seconds between two looks at the parent process."""


def _watch(pid: int) -> None:
    pause = threading.Event()
    while True:
        pause.wait(WATCH_PERIOD)
        if os.getppid() != pid:          # the harness that started this session is gone
            os._exit(1)


def watch_parent() -> None:
    """When ``ZSIM_PYTEST_PARENT`` names a process, end this one (exit status 1) once its
    parent is no longer that process."""
    parent = os.environ.get(PARENT_ENV, "")
    if parent.isdigit():
        threading.Thread(target=_watch, args=(int(parent),), daemon=True,
                         name="zsim-parent-watch").start()


__all__ = ["DUT_SCOPES", "PARENT_ENV", "WATCH_PERIOD", "watch_parent"]
