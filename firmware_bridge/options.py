"""Checked command-line numbers of the bridge's commands (argparse ``type=`` functions).

Each raises ``argparse.ArgumentTypeError`` with what was expected, so a value out of range
is bad input (exit status 2) before anything runs.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from zsim.durations import parse_duration
from zsim.kernel.time_units import Timeout


def _number(text: str, kind: type) -> float | int:
    try:
        value = kind(text)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def int_range(lo: int, hi: int | None = None) -> Callable[[str], int]:
    """An integer in ``lo .. hi`` (``hi`` None: no upper bound)."""
    def parse(text: str) -> int:
        value = int(_number(text, int))
        if value < lo or (hi is not None and value > hi):
            want = f"from {lo} to {hi}" if hi is not None else f">= {lo}"
            raise argparse.ArgumentTypeError(f"expected an integer {want}, got {text}")
        return value
    parse.__name__ = "integer"
    return parse


def positive_float(text: str) -> float:
    """A number of seconds (or a rate) greater than 0."""
    value = float(_number(text, float))
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return value


def rate(text: str) -> float:
    """A probability in [0, 1)."""
    value = float(_number(text, float))
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {text}")
    return value


def duration(text: str) -> Timeout:
    """A positive duration as ``zsim run`` takes it (``10s``, ``500ms``, ``100ticks``)."""
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value.is_forever or value.ticks(1_000_000) <= 0:
        raise argparse.ArgumentTypeError(f"expected a duration > 0 (e.g. 10s), got {text!r}")
    return value


__all__ = ["duration", "int_range", "positive_float", "rate"]
