"""Durations on the command line: ``10s``, ``500ms``, ``250us``, ``2m``, ``100ticks``."""

from __future__ import annotations

import re
from fractions import Fraction

from .kernel.time_units import K_MSEC, K_NSEC, K_TICKS, K_USEC, Timeout

_UNITS = {"ns": (K_NSEC, 1), "us": (K_USEC, 1), "ms": (K_MSEC, 1), "s": (K_MSEC, 1000),
          "m": (K_MSEC, 60_000), "min": (K_MSEC, 60_000), "h": (K_MSEC, 3_600_000)}
_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ns|us|ms|s|m|min|h|ticks?)?\s*$")


def parse_duration(text: str) -> Timeout:
    """A ``k_timeout_t`` from text; a bare number is seconds."""
    m = _RE.match(text)
    if not m:
        raise ValueError(f"bad duration {text!r}: expected a number with a unit such as "
                         "10s, 500ms, 250us, 2m or 100ticks")
    value, unit = Fraction(m.group(1)), m.group(2) or "s"
    if unit.startswith("tick"):
        if value.denominator != 1:
            raise ValueError(f"bad duration {text!r}: ticks are whole numbers")
        return K_TICKS(int(value))
    make, scale = _UNITS[unit]
    amount = value * scale
    return make(int(amount) if amount.denominator == 1 else amount)
