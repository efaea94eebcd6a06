"""Fixtures shared by the zsim test suite."""

from __future__ import annotations

import pytest


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
