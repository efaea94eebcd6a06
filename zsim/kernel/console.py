"""The simulated console: ``printk`` and the logging subsystem's default output format.

Log lines follow subsys/logging/log_output.c with timestamps on:
``[hh:mm:ss.mmm,uuu] <inf> module: message`` (the timestamp is the virtual uptime).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from .core import Kernel

LOG_LEVEL_NONE, LOG_LEVEL_ERR, LOG_LEVEL_WRN, LOG_LEVEL_INF, LOG_LEVEL_DBG = 0, 1, 2, 3, 4
_TAGS = {LOG_LEVEL_ERR: "err", LOG_LEVEL_WRN: "wrn", LOG_LEVEL_INF: "inf", LOG_LEVEL_DBG: "dbg"}


class Console(list):
    """The console's complete lines, in order; ``partial`` holds a line not yet ended.

    ``echo`` (a text stream) prints each line as it completes; ``subscribe`` registers a
    callback called with each line (harnesses use it). ``keep`` (None: all) bounds the
    lines kept to about the last ``keep``, so a long run's memory stays flat.
    """

    def __init__(self, echo: TextIO | None = None, keep: int | None = None) -> None:
        super().__init__()
        self.keep = keep
        self.partial = ""
        self.echo = echo
        self._listeners: list[Callable[[str], None]] = []
        self._stamp_at = -1             # the log timestamp last formatted, and when
        self._stamp = ""

    def subscribe(self, fn: Callable[[str], None]) -> None:
        self._listeners.append(fn)

    def unsubscribe(self, fn: Callable[[str], None]) -> None:
        self._listeners.remove(fn)

    def write(self, text: str) -> None:
        """Write characters; every ``\\n`` completes a line (``\\r`` is dropped)."""
        if not self.partial and text.endswith("\n") and text.count("\n") == 1 \
                and "\r" not in text:  # one whole line, the common case
            self._emit(text[:-1])
            return
        text = self.partial + text.replace("\r", "")
        *lines, self.partial = text.split("\n")
        for line in lines:
            self._emit(line)

    def flush(self) -> None:
        """Complete a pending partial line (the characters did reach the UART)."""
        if self.partial:
            line, self.partial = self.partial, ""
            self._emit(line)

    def _emit(self, line: str) -> None:
        self.append(line)
        keep = self.keep
        if keep is not None and len(self) > 2 * keep:
            del self[:-keep]
        if self.echo is not None:
            print(line, file=self.echo)
        for fn in self._listeners:
            fn(line)

    @property
    def text(self) -> str:
        """The whole console as one string."""
        return "\n".join(self) + ("\n" + self.partial if self.partial else "")


def format_timestamp(cycles: int, freq: int) -> str:
    """``[hh:mm:ss.mmm,uuu]`` from a cycle count and its frequency (log_output.c)."""
    total_seconds, remainder = divmod(cycles, freq)
    hours, rest = divmod(total_seconds, 3600)
    mins, seconds = divmod(rest, 60)
    ms = remainder * 1000 // freq
    us = (1000 * (remainder * 1000 - ms * freq)) // freq
    # printf-style: formats these five fields in about half the time of an f-string
    return "[%02d:%02d:%02d.%03d,%03d]" % (hours, mins, seconds, ms, us)  # noqa: UP031


def _stamp_ms(ms: int) -> str:
    """``format_timestamp(ms, 1000)``, the microseconds being always zero."""
    seconds, ms = divmod(ms, 1000)
    mins, seconds = divmod(seconds, 60)
    hours, mins = divmod(mins, 60)
    return "[%02d:%02d:%02d.%03d,000]" % (hours, mins, seconds, ms)  # noqa: UP031


def _stamp_us(us: int) -> str:
    """``format_timestamp(us, 1_000_000)``."""
    seconds, us = divmod(us, 1_000_000)
    ms, us = divmod(us, 1000)
    mins, seconds = divmod(seconds, 60)
    hours, mins = divmod(mins, 60)
    return "[%02d:%02d:%02d.%03d,%03d]" % (hours, mins, seconds, ms, us)  # noqa: UP031


class Logger:
    """``LOG_MODULE_REGISTER(name, level)``: ``inf/wrn/err/dbg`` with printf-style arguments."""

    __slots__ = ("kernel", "name", "level", "_heads")

    def __init__(self, kernel: Kernel, name: str, level: int) -> None:
        self.kernel = kernel
        self.name = name
        self.level = level
        self._heads = {lvl: f" <{tag}> {name}: " for lvl, tag in _TAGS.items()}

    def _log(self, lvl: int, msg: str, args: tuple) -> None:
        if lvl > self.level:
            return
        if args:
            msg = msg % args
        if lvl == LOG_LEVEL_DBG:        # CONFIG_LOG_FUNC_NAME_PREFIX_DBG defaults to y
            msg = f"{sys._getframe(2).f_code.co_name}: {msg}"
        k = self.kernel
        con = k.console
        if con._stamp_at == k._now:     # lines logged at the same instant share a stamp
            stamp = con._stamp
        else:
            # log_core.c: the hardware cycle counter timestamps logs when it runs at 1 MHz
            # or less; a faster clock gives way to millisecond uptime.
            freq = k.hw_cycles_per_sec
            if freq > 1_000_000:
                stamp = _stamp_ms(k.uptime_get())
            elif freq == 1_000_000:
                stamp = _stamp_us(k._now // k._upc)     # k.cycle_get()
            else:
                stamp = format_timestamp(k.cycle_get(), freq)
            con._stamp_at = k._now
            con._stamp = stamp
        if con.partial or "\n" in msg or "\r" in msg:
            con.write(stamp + self._heads[lvl] + msg + "\n")
        else:                           # one whole line: what write would emit
            con._emit(stamp + self._heads[lvl] + msg)

    def err(self, msg: str, *args: object) -> None:
        """``LOG_ERR``."""
        if self.level >= LOG_LEVEL_ERR:     # a disabled level costs one comparison
            self._log(LOG_LEVEL_ERR, msg, args)

    def wrn(self, msg: str, *args: object) -> None:
        """``LOG_WRN``."""
        if self.level >= LOG_LEVEL_WRN:     # a disabled level costs one comparison
            self._log(LOG_LEVEL_WRN, msg, args)

    def inf(self, msg: str, *args: object) -> None:
        """``LOG_INF``."""
        if self.level >= LOG_LEVEL_INF:     # a disabled level costs one comparison
            self._log(LOG_LEVEL_INF, msg, args)

    def dbg(self, msg: str, *args: object) -> None:
        """``LOG_DBG``."""
        if self.level >= LOG_LEVEL_DBG:     # a disabled level costs one comparison
            self._log(LOG_LEVEL_DBG, msg, args)

    def enabled(self, lvl: int) -> bool:
        return lvl <= self.level
