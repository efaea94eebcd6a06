"""``k_timeout_t`` and its constructors, converted to ticks exactly as Zephyr does.

A timeout made with ``K_MSEC(100)`` does not know the board yet: Zephyr evaluates the macro
at build time with ``CONFIG_SYS_CLOCK_TICKS_PER_SEC``, zsim when a kernel first uses it.
Conversions round up (``k_ms_to_ticks_ceil64`` and friends in include/zephyr/sys/time_units.h),
negative durations clamp to zero, and a zero duration equals ``K_NO_WAIT``.
"""

from __future__ import annotations

from fractions import Fraction

__all__ = [
    "Timeout", "K_NO_WAIT", "K_FOREVER", "K_TICKS_FOREVER", "K_TICKS", "K_NSEC", "K_USEC",
    "K_MSEC", "K_SECONDS", "K_MINUTES", "K_HOURS", "K_TIMEOUT_ABS_TICKS", "K_TIMEOUT_ABS_MS",
    "K_TIMEOUT_ABS_US", "ceil_div",
]

K_TICKS_FOREVER = -1
"""The tick count of ``K_FOREVER`` (include/zephyr/sys_clock.h)."""

_FOREVER = -1
_RELATIVE = 0
_ABSOLUTE = 1


def ceil_div(a: int, b: int) -> int:
    """Integer division rounding up, for non-negative ``a``."""
    return -(-a // b)


class Timeout:
    """A ``k_timeout_t``: relative or absolute, in some unit, converted per tick rate."""

    __slots__ = ("kind", "num", "per_sec", "_tps", "_ticks")

    def __init__(self, kind: int, num: int | Fraction, per_sec: int) -> None:
        self.kind = kind          # _FOREVER, _RELATIVE or _ABSOLUTE
        self.num = num            # amount in units of 1/per_sec seconds (0 for ticks: see per_sec)
        self.per_sec = per_sec    # 0 means "num is already in ticks"
        self._tps = 0
        self._ticks = 0

    def ticks(self, tps: int) -> int:
        """Ticks at ``tps`` ticks/s: ``-1`` for ``K_FOREVER``, the tick count otherwise."""
        if tps == self._tps:
            return self._ticks
        if self.kind == _FOREVER:
            t = K_TICKS_FOREVER
        elif self.per_sec == 0:
            t = int(self.num)
        else:
            n = max(self.num, 0) * tps
            t = ceil_div(n.numerator, n.denominator * self.per_sec) if isinstance(
                n, Fraction) else ceil_div(n, self.per_sec)
        self._tps, self._ticks = tps, t
        return t

    @property
    def is_forever(self) -> bool:
        return self.kind == _FOREVER

    @property
    def is_absolute(self) -> bool:
        return self.kind == _ABSOLUTE

    def is_no_wait(self, tps: int = 100) -> bool:
        """True for ``K_NO_WAIT`` and any relative timeout that converts to 0 ticks."""
        return self.kind == _RELATIVE and self.ticks(tps) == 0

    def _key(self) -> tuple:
        if self.kind == _FOREVER:
            return ("forever",)
        if self.kind == _RELATIVE and self.num <= 0:
            return ("no_wait",)
        return (self.kind, Fraction(self.num) / (self.per_sec or 1), self.per_sec == 0)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timeout) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        if self.kind == _FOREVER:
            return "K_FOREVER"
        if self.kind == _RELATIVE and self.num <= 0:
            return "K_NO_WAIT"
        unit = {0: "TICKS", 1_000_000_000: "NSEC", 1_000_000: "USEC", 1000: "MSEC", 1: "SECONDS"}
        name = unit.get(self.per_sec, f"/{self.per_sec}")
        prefix = "K_TIMEOUT_ABS_" if self.kind == _ABSOLUTE else "K_"
        return f"{prefix}{name}({self.num})"


def _num(value: int | float | Fraction, what: str) -> int | Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        raise TypeError(f"{what} takes a number, got {value!r}")
    if isinstance(value, float):
        value = Fraction(value)
        return int(value) if value.denominator == 1 else value
    return value


K_NO_WAIT = Timeout(_RELATIVE, 0, 0)
"""Do not wait (``K_NO_WAIT``)."""
K_FOREVER = Timeout(_FOREVER, -1, 0)
"""Wait forever (``K_FOREVER``)."""


def K_TICKS(t: int) -> Timeout:  # noqa: N802 - Zephyr's name
    """A relative timeout of ``t`` ticks; ``K_TICKS(K_TICKS_FOREVER)`` is ``K_FOREVER``."""
    if t == K_TICKS_FOREVER:
        return K_FOREVER
    if not isinstance(t, int) or isinstance(t, bool):
        raise TypeError(f"K_TICKS takes whole ticks, got {t!r}")
    return Timeout(_RELATIVE, max(t, 0), 0)


def K_NSEC(t: int | float) -> Timeout:  # noqa: N802
    """A relative timeout of ``t`` nanoseconds, rounded up to whole ticks."""
    return Timeout(_RELATIVE, _num(t, "K_NSEC"), 1_000_000_000)


def K_USEC(t: int | float) -> Timeout:  # noqa: N802
    """A relative timeout of ``t`` microseconds, rounded up to whole ticks."""
    return Timeout(_RELATIVE, _num(t, "K_USEC"), 1_000_000)


def K_MSEC(t: int | float) -> Timeout:  # noqa: N802
    """A relative timeout of ``t`` milliseconds, rounded up to whole ticks."""
    return Timeout(_RELATIVE, _num(t, "K_MSEC"), 1000)


def K_SECONDS(t: int | float) -> Timeout:  # noqa: N802
    """A relative timeout of ``t`` seconds (``K_MSEC(t * 1000)``)."""
    return Timeout(_RELATIVE, _num(t, "K_SECONDS") * 1000, 1000)


def K_MINUTES(t: int | float) -> Timeout:  # noqa: N802
    """A relative timeout of ``t`` minutes."""
    return K_SECONDS(_num(t, "K_MINUTES") * 60)


def K_HOURS(t: int | float) -> Timeout:  # noqa: N802
    """A relative timeout of ``t`` hours."""
    return K_MINUTES(_num(t, "K_HOURS") * 60)


def K_TIMEOUT_ABS_TICKS(t: int) -> Timeout:  # noqa: N802
    """An absolute timeout: expires when the uptime reaches tick ``t``."""
    return Timeout(_ABSOLUTE, max(int(t), 0), 0)


def K_TIMEOUT_ABS_MS(t: int) -> Timeout:  # noqa: N802
    """An absolute timeout at uptime ``t`` ms (rounded up to a tick)."""
    return Timeout(_ABSOLUTE, _num(t, "K_TIMEOUT_ABS_MS"), 1000)


def K_TIMEOUT_ABS_US(t: int) -> Timeout:  # noqa: N802
    """An absolute timeout at uptime ``t`` µs (rounded up to a tick)."""
    return Timeout(_ABSOLUTE, _num(t, "K_TIMEOUT_ABS_US"), 1_000_000)
