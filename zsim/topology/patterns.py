"""Payload patterns of scenario sends (firmware_bridge/PROTOCOL.md §9).

Every executor fills its payloads with the same bytes for a given seed, so the simulator,
the virtual board and a real board running the shim produce identical packets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PAT_ZEROS, PAT_COUNTER, PAT_RANDOM, PAT_FILL, PAT_EXPLICIT = 0, 1, 2, 3, 4
PATTERNS = {"zeros": PAT_ZEROS, "counter": PAT_COUNTER, "random": PAT_RANDOM,
            "fill": PAT_FILL, "explicit": PAT_EXPLICIT}
DIRECT_STIMULUS = 0xFF       # the stimulus id of sends that come from no stimulus


class PatternError(ValueError):
    """An unknown payload pattern."""


def xorshift_state(seed: int, stim: int) -> int:
    """Initial RANDOM-pattern state of stimulus ``stim`` (255 for direct sends)."""
    x = (seed ^ (0x9E3779B9 * (stim + 1))) & 0xFFFFFFFF
    return x or 0x6D2B79F5


@dataclass
class PatternGen:
    """The payload bytes of one stimulus: its send counter and its random stream."""

    seed: int = 0
    stim: int = DIRECT_STIMULUS
    n: int = 0
    state: int = field(default=0)

    def __post_init__(self) -> None:
        if not self.state:
            self.state = xorshift_state(self.seed, self.stim)

    def make(self, size: int, pattern: int, arg: int = 0, data: bytes = b"") -> bytes:
        """The next payload; advances the send counter (and the random stream)."""
        if pattern == PAT_ZEROS:
            out = bytes(size)
        elif pattern == PAT_COUNTER:
            n = self.n
            out = bytes((n + i) & 0xFF for i in range(size))
        elif pattern == PAT_FILL:
            out = bytes([arg & 0xFF]) * size
        elif pattern == PAT_RANDOM:
            x = self.state
            b = bytearray(size)
            for i in range(size):
                x ^= (x << 13) & 0xFFFFFFFF
                x ^= x >> 17
                x ^= (x << 5) & 0xFFFFFFFF
                b[i] = x & 0xFF
            self.state = x
            out = bytes(b)
        elif pattern == PAT_EXPLICIT:
            out = bytes(data)
        else:
            raise PatternError(f"unknown payload pattern {pattern}")
        self.n += 1
        return out


__all__ = ["DIRECT_STIMULUS", "PATTERNS", "PAT_COUNTER", "PAT_EXPLICIT", "PAT_FILL",
           "PAT_RANDOM", "PAT_ZEROS", "PatternError", "PatternGen", "xorshift_state"]
