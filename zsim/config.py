"""Kconfig for the simulator: the symbols a packet_io firmware sets, with Zephyr v3.7 defaults.

Symbols are named without the ``CONFIG_`` prefix. A :class:`Config` answers for every symbol in
:data:`SYMBOLS` (the user's value, else the Kconfig default, some of which depend on the board or
on other symbols) and for any other symbol the user assigned.

``prj.conf`` files follow Kconfig's own syntax: ``CONFIG_NAME=value`` with no spaces around
``=``, ``# CONFIG_NAME is not set``, ``#`` comments, later assignments winning. Zephyr aborts the
build on an undefined symbol; zsim only knows a subset of Zephyr's symbols, so it keeps unknown
ones and warns instead (``file:line: unknown symbol CONFIG_X``), unless loaded with ``strict``,
which makes every warning an error. Every error of a file is reported at once
(:class:`KconfigError`).
"""

from __future__ import annotations

import os
import re
import sys
import warnings as _warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from zsim.boards import BoardProfile, load_board
from zsim.errors import ConfigError
from zsim.yamlfile import MAX_FILE_BYTES

__all__ = [
    "CHOICES",
    "SYMBOLS",
    "Assignments",
    "Config",
    "KconfigError",
    "KconfigWarning",
    "Symbol",
    "check_value",
    "load_config",
    "parse_assignment",
    "parse_prj_conf",
    "python_warning",
    "read_prj_conf",
    "warn_to_stderr",
]

Value = bool | int | str
Lookup = Callable[[str], Value]


class KconfigWarning(UserWarning):
    """A configuration that Kconfig would warn about (unknown symbol, unmet dependency...)."""


@dataclass(frozen=True, slots=True)
class Symbol:
    """A Kconfig symbol zsim knows: type, default and where Zephyr defines it."""

    type: str  # "bool" | "int" | "string"
    default: Value | Callable[[Lookup, BoardProfile], Value]
    defined_in: str
    range: tuple[int, int] | None = None
    depends_on: tuple[str, ...] = ()  # bool symbols: forced to n while a dependency is n


def _b(
    default: bool | Callable[[Lookup, BoardProfile], Value],
    where: str,
    depends_on: tuple[str, ...] = (),
) -> Symbol:
    return Symbol("bool", default, where, None, depends_on)


def _i(
    default: int | Callable[[Lookup, BoardProfile], Value],
    where: str,
    rng: tuple[int, int] | None = None,
) -> Symbol:
    return Symbol("int", default, where, rng)


_INT32_MAX = 2**31 - 1
# Sizes, delays and frequencies Kconfig leaves unbounded, but no build takes below 0.
_SIZE = (0, _INT32_MAX)
_K = "kernel/Kconfig"
_DBG = "subsys/debug/Kconfig"
_LOG = "subsys/logging/Kconfig.*"
_ZT = "subsys/testsuite/ztest/Kconfig"
_NB = "subsys/net/Kconfig (lib/net_buf/Kconfig in later releases)"
_PIO = "packet_io/Kconfig (packet_io module)"
_LIBC = "lib/libc/Kconfig"


def _main_stack(get: Lookup, board: BoardProfile) -> int:
    # kernel/Kconfig: 512 if ZTEST && !(RISCV || X86 || ARM || ARC), else 1024
    if get("ZTEST") and board.arch not in ("riscv", "x86", "arm", "arc"):
        return 512
    return 1024


def _idle_stack(get: Lookup, board: BoardProfile) -> int:
    # kernel/Kconfig: 512 RISCV; 320 ARC || (ARM && CPU_HAS_FPU) || (X86 && MMU); else 256.
    # qemu_x86 enables X86_MMU in its defconfig; an "f" suffix marks an Arm core with an FPU.
    if board.arch == "riscv":
        return 512
    if board.arch in ("arc", "x86") or (board.arch == "arm" and board.cpu.endswith("f")):
        return 320
    return 256


def _workq_prio(get: Lookup, board: BoardProfile) -> int:
    coop, preempt = get("NUM_COOP_PRIORITIES"), get("NUM_PREEMPT_PRIORITIES")
    if coop and not preempt:
        return -2
    return -1 if coop else 0


_LEVELS = ("OFF", "ERR", "WRN", "INF", "DBG")


def _log_module(mod: str, where: str) -> dict[str, Symbol]:
    """The symbols subsys/logging/Kconfig.template.log_config creates for module ``mod``."""
    members = [f"{mod}_LOG_LEVEL_{lvl}" for lvl in _LEVELS]

    def is_default(get: Lookup, board: BoardProfile) -> bool:
        return not any(get(m) for m in members)

    def level(get: Lookup, board: BoardProfile) -> int:
        chosen = [i for i, m in enumerate(members) if get(m)]
        return chosen[0] if chosen else int(get("LOG_DEFAULT_LEVEL"))

    syms = {m: _b(False, where, ("LOG",)) for m in members}
    syms[f"{mod}_LOG_LEVEL_DEFAULT"] = _b(is_default, where, ("LOG",))
    syms[f"{mod}_LOG_LEVEL"] = _i(level, where, (0, 4))
    return syms


SYMBOLS: dict[str, Symbol] = {
    # Kernel (kernel/Kconfig, Zephyr v3.7)
    "MULTITHREADING": _b(True, _K),
    "NUM_COOP_PRIORITIES": _i(16, _K, (0, 128)),
    "NUM_PREEMPT_PRIORITIES": _i(15, _K, (0, 127)),
    "MAIN_THREAD_PRIORITY": _i(lambda get, b: 0 if get("NUM_PREEMPT_PRIORITIES") else -2, _K),
    "MAIN_STACK_SIZE": _i(_main_stack, _K, _SIZE),
    "IDLE_STACK_SIZE": _i(_idle_stack, _K, _SIZE),
    "ISR_STACK_SIZE": _i(2048, _K, _SIZE),
    "PRIORITY_CEILING": _i(-127, _K),
    "NUM_METAIRQ_PRIORITIES": _i(0, _K),
    "SCHED_DEADLINE": _b(False, _K),
    "THREAD_STACK_INFO": _b(False, _K),
    "THREAD_CUSTOM_DATA": _b(False, _K),
    "THREAD_MONITOR": _b(False, _K),
    "THREAD_NAME": _b(False, _K),
    "THREAD_MAX_NAME_LEN": _i(lambda get, b: 64 if get("ZTEST") else 32, _K, (8, 128)),
    "THREAD_RUNTIME_STATS": _b(False, _K),
    "INIT_STACKS": _b(False, _K),
    "ERRNO": _b(True, _K),
    "BOOT_BANNER": _b(True, _K),
    "BOOT_BANNER_STRING": Symbol("string", "Booting Zephyr OS build", _K),
    "BOOT_DELAY": _i(0, _K, _SIZE),
    "SYSTEM_WORKQUEUE_STACK_SIZE": _i(1024, _K, _SIZE),
    "SYSTEM_WORKQUEUE_PRIORITY": _i(_workq_prio, _K),
    "SYSTEM_WORKQUEUE_NO_YIELD": _b(False, _K),
    "TIMESLICING": _b(lambda get, b: get("NUM_PREEMPT_PRIORITIES") != 0, _K),
    # v3.7 kernel/Kconfig: "default 0" (no slicing). The default became 20 in May 2025
    # (zephyrproject-rtos/zephyr pull request 89970), after v3.7.
    "TIMESLICE_SIZE": _i(0, _K, (0, _INT32_MAX)),
    "TIMESLICE_PRIORITY": _i(0, _K, (0, 127)),
    "TIMESLICE_PER_THREAD": _b(False, _K, ("TIMESLICING",)),
    "POLL": _b(False, _K),
    "EVENTS": _b(False, _K),
    "KERNEL_MEM_POOL": _b(True, _K),
    "HEAP_MEM_POOL_SIZE": _i(0, _K, _SIZE),
    "SYS_CLOCK_EXISTS": _b(True, _K),
    "SYS_CLOCK_TICKS_PER_SEC": _i(lambda get, b: b.ticks_per_sec, _K, (0, _INT32_MAX)),
    "SYS_CLOCK_HW_CYCLES_PER_SEC": _i(lambda get, b: b.hw_cycles_per_sec, _K, _SIZE),
    "TICKLESS_KERNEL": _b(True, _K),
    "TIMEOUT_64BIT": _b(True, _K),
    "XIP": _b(lambda get, b: b.xip, _K),
    "USERSPACE": _b(False, "arch/Kconfig"),
    "FPU": _b(False, "arch/Kconfig"),
    "MP_MAX_NUM_CPUS": _i(1, _K),
    "SMP": _b(False, _K),
    # Debug (subsys/debug/Kconfig); ZTEST selects TEST and ASSERT defaults to y with TEST.
    "DEBUG": _b(False, _DBG),
    "PRINTK": _b(True, _DBG),
    "EARLY_CONSOLE": _b(False, _DBG),
    "ASSERT": _b(lambda get, b: get("TEST"), _DBG),
    "ASSERT_LEVEL": _i(2, _DBG, (0, 2)),
    "ASSERT_VERBOSE": _b(True, _DBG),
    "SPIN_VALIDATE": _b(lambda get, b: get("ASSERT"), _DBG, ("ASSERT",)),
    "STACK_SENTINEL": _b(False, _DBG),
    "THREAD_ANALYZER": _b(False, _DBG),
    "DEBUG_OPTIMIZATIONS": _b(False, "Kconfig.zephyr"),
    "NO_OPTIMIZATIONS": _b(False, "Kconfig.zephyr"),
    "SPEED_OPTIMIZATIONS": _b(False, "Kconfig.zephyr"),
    "SIZE_OPTIMIZATIONS": _b(
        lambda get, b: (
            not (
                get("DEBUG_OPTIMIZATIONS") or get("NO_OPTIMIZATIONS") or get("SPEED_OPTIMIZATIONS")
            )
        ),
        "Kconfig.zephyr",
    ),
    # Console and UART. Every profiled board's defconfig sets CONSOLE=y; all but native_sim set
    # SERIAL=y, and native_sim defaults UART_CONSOLE to SERIAL (boards/native/native_sim/
    # Kconfig.defconfig).
    "CONSOLE": _b(True, "drivers/console/Kconfig"),
    "SERIAL": _b(lambda get, b: b.arch != "posix", "drivers/serial/Kconfig"),
    "UART_CONSOLE": _b(lambda get, b: get("SERIAL"), "drivers/console/Kconfig", ("SERIAL",)),
    "UART_INTERRUPT_DRIVEN": _b(False, "drivers/serial/Kconfig", ("SERIAL",)),
    "UART_ASYNC_API": _b(False, "drivers/serial/Kconfig", ("SERIAL",)),
    "UART_LINE_CTRL": _b(False, "drivers/serial/Kconfig", ("SERIAL",)),
    # lib/libc/Kconfig: not with a native build linking the host C library.
    "STDOUT_CONSOLE": _b(lambda get, b: b.libc != "external", _LIBC),
    "MINIMAL_LIBC": _b(lambda get, b: b.libc == "minimal", _LIBC),
    "PICOLIBC": _b(lambda get, b: b.libc == "picolibc", _LIBC),
    "NEWLIB_LIBC": _b(lambda get, b: b.libc == "newlib", _LIBC),
    "EXTERNAL_LIBC": _b(lambda get, b: b.libc == "external", _LIBC),
    "GPIO": _b(False, "drivers/gpio/Kconfig"),
    "SHELL": _b(False, "subsys/shell/Kconfig"),
    "NETWORKING": _b(False, "subsys/net/Kconfig"),
    "REBOOT": _b(False, "subsys/os/Kconfig"),
    "CPP": _b(False, "lib/cpp/Kconfig"),
    # Logging (subsys/logging/Kconfig.*): deferred mode by default.
    # Zephyr's default is n; zsim turns logging on unless told otherwise so that
    # log_module(...).inf(...) shows without extra configuration (docs/fidelity.md).
    "LOG": _b(True, _LOG),
    "LOG_DEFAULT_LEVEL": _i(3, _LOG, (0, 4)),
    "LOG_OVERRIDE_LEVEL": _i(0, _LOG, (0, 4)),
    "LOG_MAX_LEVEL": _i(4, _LOG, (0, 4)),
    "LOG_MODE_IMMEDIATE": _b(False, _LOG, ("LOG",)),
    "LOG_MODE_MINIMAL": _b(False, _LOG, ("LOG",)),
    "LOG_MODE_DEFERRED": _b(
        lambda get, b: not (get("LOG_MODE_IMMEDIATE") or get("LOG_MODE_MINIMAL")), _LOG, ("LOG",)
    ),
    "LOG_BACKEND_UART": _b(lambda get, b: get("UART_CONSOLE"), _LOG, ("LOG", "UART_CONSOLE")),
    # Test framework (subsys/testsuite/ztest/Kconfig)
    "ZTEST": _b(False, _ZT),
    "TEST": _b(lambda get, b: get("ZTEST"), "subsys/testsuite/Kconfig"),
    "ZTEST_STACK_SIZE": _i(lambda get, b: 2048 if b.arch == "x86" else 1024, _ZT, _SIZE),
    "ZTEST_ASSERT_VERBOSE": _i(1, _ZT),
    "ZTEST_SHUFFLE": _b(False, _ZT, ("ZTEST",)),
    "ZTEST_SUMMARY": _b(True, _ZT, ("ZTEST",)),
    "ZTEST_VERBOSE_OUTPUT": _b(True, _ZT, ("ZTEST",)),
    "ZTEST_VERBOSE_SUMMARY": _b(True, _ZT, ("ZTEST",)),
    "ZTEST_FAIL_FAST": _b(False, _ZT, ("ZTEST",)),
    "TEST_RANDOM_GENERATOR": _b(False, "subsys/random/Kconfig"),
    # net_buf. CONFIG_NET_BUF_USER_DATA_SIZE is gone: user data is sized per pool.
    "NET_BUF": _b(True, _NB),
    "NET_BUF_POOL_USAGE": _b(False, _NB, ("NET_BUF",)),
    "NET_BUF_LOG": _b(False, _NB, ("NET_BUF",)),
    # packet_io module
    "PACKET_IO": _b(True, _PIO, ("NET_BUF",)),
    "PACKET_IO_STATS": _b(False, _PIO, ("PACKET_IO",)),
    "PACKET_IO_NAMES": _b(False, _PIO, ("PACKET_IO",)),
    "PACKET_IO_RUNTIME_OBSERVERS": _b(False, _PIO, ("PACKET_IO",)),
    "PACKET_IO_RUNTIME_STACK_CHECK": _b(False, _PIO, ("PACKET_IO",)),
    "PACKET_IO_PRIORITY": _i(99, _PIO),
    "RING_BUFFER": _b(False, "lib/utils/Kconfig"),
    "CRC": _b(False, "lib/crc/Kconfig"),
    # Per-module log levels; <MODULE>_LOG_LEVEL follows LOG_DEFAULT_LEVEL (3) by default.
    **_log_module("PACKET_IO", _PIO),
    **_log_module("NET_BUF", _NB),
    **_log_module("KERNEL", _K),
}
"""Every symbol zsim models, name (no ``CONFIG_`` prefix) -> :class:`Symbol`."""

CHOICES: tuple[tuple[str, ...], ...] = (
    ("LOG_MODE_DEFERRED", "LOG_MODE_IMMEDIATE", "LOG_MODE_MINIMAL"),
    ("SIZE_OPTIMIZATIONS", "SPEED_OPTIMIZATIONS", "DEBUG_OPTIMIZATIONS", "NO_OPTIMIZATIONS"),
    ("MINIMAL_LIBC", "PICOLIBC", "NEWLIB_LIBC", "EXTERNAL_LIBC"),
    *(
        tuple(f"{m}_LOG_LEVEL_{lvl}" for lvl in (*_LEVELS, "DEFAULT"))
        for m in ("PACKET_IO", "NET_BUF", "KERNEL")
    ),
)
"""Kconfig choices: setting one member to y turns the others to n."""


# --- value handling ---------------------------------------------------------------------


def _strip(name: str) -> str:
    return name.removeprefix("CONFIG_")


_INT_RE = re.compile(r"[-+]?[0-9]+")
_HEX_RE = re.compile(r"0[xX][0-9a-fA-F]+")
_STR_RE = re.compile(r'"((?:[^"\\]|\\.)*)"')
_SET_RE = re.compile(r"CONFIG_([A-Za-z0-9_]+)=(.*)")
_UNSET_RE = re.compile(r"# CONFIG_([A-Za-z0-9_]+) is not set")
_NAME_RE = re.compile(r"[A-Za-z0-9_]+")


def _literal(text: str) -> tuple[str, Value] | None:
    """Classify a prj.conf value: ("bool"|"int"|"hex"|"string", value), or None if malformed."""
    if text in ("y", "n"):
        return "bool", text == "y"
    if _INT_RE.fullmatch(text):
        return "int", int(text, 10)
    if _HEX_RE.fullmatch(text):
        return "hex", int(text, 16)
    m = _STR_RE.fullmatch(text)
    if m:
        return "string", re.sub(r"\\(.)", r"\1", m.group(1))
    return None


_EXPECT = {"bool": "y or n", "int": "a decimal integer", "string": "a quoted string"}


def _known_problem(name: str, kind: str, value: Value, raw: str) -> str | None:
    """Why ``value`` (parsed as ``kind``) does not fit known symbol ``name``; None if it does."""
    sym = SYMBOLS[name]
    if kind != sym.type:
        article = "an" if sym.type == "int" else "a"
        return (f"CONFIG_{name} is {article} {sym.type} symbol: expected "
                f"{_EXPECT[sym.type]}, got {raw}")
    if sym.range and isinstance(value, int) and not sym.range[0] <= value <= sym.range[1]:
        lo, hi = sym.range
        return f"CONFIG_{name}={value} is out of its range {lo}..{hi}"
    return None


def check_value(name: str, value: object) -> tuple[Value | None, str | None]:
    """One mapping value for symbol ``name`` (no ``CONFIG_`` prefix; bool, int or str, and
    "y"/"n" mean booleans): (the value, None), or (None, what is wrong with it)."""
    if not _NAME_RE.fullmatch(name):
        return None, f"{name!r} is not a Kconfig symbol name"
    if value in ("y", "n") and isinstance(value, str):
        value = value == "y"
    if isinstance(value, bool):
        kind = "bool"
    elif isinstance(value, int):
        kind = "int"
    elif isinstance(value, str):
        kind = "string"
    else:
        return None, (f"CONFIG_{name}: expected bool, int or str, "
                      f"got {type(value).__name__} {value!r}")
    problem = _known_problem(name, kind, value, repr(value)) if name in SYMBOLS else None
    return (None, problem) if problem else (value, None)


def _unknown(where: str, name: str) -> str:
    return f"{where}: unknown symbol CONFIG_{name}"


class KconfigError(ConfigError):
    """Kconfig input that cannot be used; ``errors`` lists every ``file:line: what``."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = list(errors)


class Assignments(Mapping[str, object]):
    """Checked Kconfig assignments in the order made (symbol names without ``CONFIG_``),
    with where each symbol was last set (``where``: name -> ``file:line``) and the warnings
    met while reading them. Later assignments win; :meth:`overlay` layers another set."""

    def __init__(self, values: Mapping[str, Value] | None = None, *,
                 where: Mapping[str, str] | None = None, warnings: list[str] | None = None,
                 source: str | None = None) -> None:
        self._values: dict[str, Value] = dict(values or {})
        self.where: dict[str, str] = dict(where or {})
        self.warnings: list[str] = list(warnings or [])
        self.source = source

    @classmethod
    def from_mapping(cls, values: Mapping[str, object], origin: str = "config mapping",
                     where: Mapping[str, str] | None = None) -> Assignments:
        """Check a mapping of symbols (``CONFIG_`` prefixes allowed); every bad value is
        listed in one :class:`KconfigError`, each at ``where[key]`` (else ``origin``)."""
        out = cls(source=None)
        errors: list[str] = []
        for key, val in values.items():
            name = _strip(str(key))
            loc = (where or {}).get(str(key)) or (where or {}).get(name) or origin
            value, problem = check_value(name, val)
            if problem:
                errors.append(f"{loc}: {problem}")
                continue
            if name not in SYMBOLS:
                out.warnings.append(_unknown(loc, name))
            out._values.pop(name, None)
            out._values[name] = value  # type: ignore[assignment]
            out.where[name] = loc
        if errors:
            raise KconfigError(errors)
        return out

    def overlay(self, other: Mapping[str, object]) -> Assignments:
        """These assignments with ``other``'s made after them (a plain mapping is checked
        first, as :meth:`from_mapping`)."""
        if not isinstance(other, Assignments):
            other = Assignments.from_mapping(other)
        out = Assignments(self._values, where=self.where,
                          warnings=self.warnings + [w for w in other.warnings
                                                    if w not in self.warnings],
                          source=self.source or other.source)
        for name, value in other.items():
            out._values.pop(name, None)  # keep assignment order: a later choice member wins
            out._values[name] = value  # type: ignore[assignment]
            if name in other.where:
                out.where[name] = other.where[name]
        return out

    def __getitem__(self, name: str) -> Value:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Assignments({self._values!r}, source={self.source!r})"


# --- prj.conf ---------------------------------------------------------------------------


def _malformed(line: str, hint: str = "") -> str:
    extra = f" ({hint})" if hint else ""
    return f"expected CONFIG_<NAME>=<value>, got {line!r}{extra}"


def _lines(data: bytes) -> Iterator[tuple[int, str | None, str]]:
    """(line number, the line decoded, or None and why it is not UTF-8) for each line."""
    for lineno, raw in enumerate(data.splitlines(), 1):
        try:
            yield lineno, raw.decode("utf-8"), ""
        except UnicodeDecodeError as exc:
            yield lineno, None, (f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at column "
                                 f"{exc.start + 1} ({exc.reason})")


def _parse_line(line: str) -> tuple[str, str, Value, str, bool] | str | None:
    """One prj.conf line: None (blank or comment), (name, kind, value, raw, unset), or
    what is wrong with it."""
    line = line.rstrip()  # Kconfig ignores trailing whitespace
    unset = _UNSET_RE.fullmatch(line)
    if not line or (line.lstrip().startswith("#") and not unset):
        return None
    if unset:
        return unset.group(1), "bool", False, "is not set", True
    m = _SET_RE.fullmatch(line)
    if not m or not _NAME_RE.fullmatch(m.group(1)):
        hint = ""
        if re.match(r"\s*CONFIG_\w+\s*=", line):
            hint = "Kconfig allows no spaces around '=' or before CONFIG_"
        return _malformed(line, hint)
    name, raw = m.group(1), m.group(2)
    lit = _literal(raw)
    if lit is None:
        hint = "the value must be y, n, a number or a double-quoted string"
        if "#" in raw:
            hint = "comments must be on their own line"
        elif raw == "m":
            hint = "Zephyr has no loadable modules: use y or n"
        return _malformed(line, hint)
    return name, lit[0], lit[1], raw, False


def read_prj_conf(path: str | os.PathLike[str]) -> Assignments:
    """Read and check a Kconfig fragment. Every malformed line or bad value is listed in
    one :class:`KconfigError` (``file:line: what`` each); unknown symbols, symbols set
    twice and ``is not set`` on a non-bool symbol are warnings in ``warnings``."""
    fname = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise KconfigError([f"{fname}: cannot read Kconfig fragment: {exc.strerror}"]) from None
    if len(data) > MAX_FILE_BYTES:
        raise KconfigError([f"{fname}: larger than {MAX_FILE_BYTES} bytes: not a Kconfig "
                            f"fragment"])
    out = Assignments(source=fname)
    errors: list[str] = []
    for lineno, line, why in _lines(data):
        where = f"{fname}:{lineno}"
        parsed = _parse_line(line) if line is not None else why
        if parsed is None:
            continue
        if isinstance(parsed, str):
            errors.append(f"{where}: {parsed}")
            continue
        name, kind, value, raw, unset = parsed
        if name in SYMBOLS:
            if unset and SYMBOLS[name].type != "bool":
                out.warnings.append(f"{where}: '# CONFIG_{name} is not set' ignored: "
                                    f"{name} is a {SYMBOLS[name].type} symbol")
                continue
            problem = _known_problem(name, kind, value, raw)
            if problem:
                errors.append(f"{where}: {problem}")
                continue
        else:
            out.warnings.append(_unknown(where, name))
        if name in out.where:
            out.warnings.append(f"{where}: CONFIG_{name} set more than once (previously at "
                                f"{out.where[name]}); the later value wins")
        out._values.pop(name, None)  # keep assignment order: a later choice member wins
        out._values[name] = value
        out.where[name] = where
    if errors:
        raise KconfigError(errors)
    return out


def parse_assignment(line: str) -> tuple[str, object]:
    """One ``CONFIG_NAME=value`` assignment (a twister ``extra_configs`` entry): the symbol
    without its prefix and the value; ``ConfigError`` when malformed."""
    m = _SET_RE.fullmatch(line.strip())
    lit = _literal(m.group(2)) if m else None
    if m is None or lit is None:
        raise ConfigError("extra_configs: " + _malformed(
            line, "the value must be y, n, a number or a double-quoted string"))
    return m.group(1), lit[1]


def parse_prj_conf(path: str | os.PathLike[str]) -> tuple[dict[str, object], list[str]]:
    """Read a Kconfig fragment: ({symbol: value}, warnings); bad input raises
    :class:`KconfigError` listing every error (see :func:`read_prj_conf`).

    Values come back as ``bool`` (y/n and ``is not set``), ``int`` (decimal or 0x hex) or ``str``
    (quotes removed, ``\\"`` and ``\\\\`` unescaped).
    """
    conf = read_prj_conf(path)
    return dict(conf), list(conf.warnings)


# --- the resolved configuration ---------------------------------------------------------


class Config(Mapping[str, object]):
    """A resolved Kconfig: user assignments over the defaults of :data:`SYMBOLS`."""

    def __init__(
        self,
        values: Mapping[str, object] | None = None,
        board: BoardProfile | str | None = None,
        *,
        source: str | None = None,
        warnings: list[str] | None = None,
        where: Mapping[str, str] | None = None,
        strict: bool = False,
    ) -> None:
        self.board: BoardProfile = load_board(board if board is not None else "native_sim")
        self.strict = strict
        if not isinstance(values, Assignments):
            if where is not None:  # already parsed and checked (a rebuild)
                values = Assignments(values, where=where)  # type: ignore[arg-type]
            else:
                values = Assignments.from_mapping(values or {}, source or "config mapping")
        self.source = source if source is not None else values.source
        self.warnings: list[str] = list(warnings or [])
        for msg in values.warnings:
            self._warn(msg)
        self._where = dict(values.where)
        self._user: dict[str, Value] = dict(values)  # type: ignore[arg-type]
        self._implied: dict[str, bool] = {}
        for group in CHOICES:
            chosen = [n for n, v in self._user.items() if n in group and v is True]
            if chosen:
                self._implied.update((n, False) for n in group if n != chosen[-1])
        self._values: dict[str, Value] = {}
        for name in SYMBOLS:
            self._resolve(name, ())
        for name, val in self._user.items():
            self._values.setdefault(name, val)
        if strict and self.warnings:
            raise KconfigError(self.warnings)

    def _resolve(self, name: str, stack: tuple[str, ...]) -> Value:
        if name in self._values:
            return self._values[name]
        if name in stack:  # pragma: no cover - a bug in SYMBOLS, not user input
            raise RuntimeError(f"Kconfig default cycle: {' -> '.join((*stack, name))}")
        sym = SYMBOLS[name]

        def get(other: str) -> Value:
            return self._resolve(other, (*stack, name))

        if name in self._implied:
            value = self._implied[name]
        elif name in self._user:
            value = self._user[name]
        else:
            value = sym.default(get, self.board) if callable(sym.default) else sym.default
        unmet = [d for d in sym.depends_on if not get(d)]
        if sym.type == "bool" and value and unmet:
            if name in self._user:
                loc = self._where.get(name, self.source or "config mapping")
                self._warn(
                    f"{loc}: CONFIG_{name}=y has no effect: it depends on "
                    + " && ".join(f"CONFIG_{d}" for d in sym.depends_on)
                    + f", and {', '.join('CONFIG_' + d for d in unmet)} is n"
                )
            value = False
        self._values[name] = value
        return value

    def _warn(self, msg: str) -> None:
        if msg not in self.warnings:
            self.warnings.append(msg)

    # Mapping protocol
    def __getitem__(self, sym: str) -> object:
        return self._values[_strip(sym)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return (
            f"Config(board={self.board.identifier!r}, source={self.source!r}, "
            f"assigned={self._user!r})"
        )

    def enabled(self, sym: str) -> bool:
        """``IS_ENABLED(CONFIG_<sym>)``: the value's truth; False for an unknown, unset symbol."""
        return bool(self._values.get(_strip(sym), False))

    @property
    def errno_flavour(self) -> str:
        """Whose errno numbers the build uses: "linux" with the host C library, else "zephyr"."""
        return "linux" if self.enabled("EXTERNAL_LIBC") else "zephyr"

    @property
    def assigned(self) -> dict[str, object]:
        """The symbols the user set explicitly (mapping keys or prj.conf lines)."""
        return dict(self._user)

    def with_board(self, board: BoardProfile) -> Config:
        """The same assignments resolved for another board (board-dependent defaults change)."""
        return Config(
            self._user, board, source=self.source, warnings=self.warnings, where=self._where,
            strict=self.strict,
        )


Warn = Callable[[str], None]


def warn_to_stderr(msg: str) -> None:
    """Print one Kconfig warning as a command does: ``zsim: warning: file:line: what``."""
    print(f"zsim: warning: {msg}", file=sys.stderr)


_LOCATED = re.compile(r"(.+?):(\d+): (.*)", re.S)
_PACKAGE = str(Path(__file__).resolve().parent)


def python_warning(msg: str) -> None:
    """Issue one Kconfig warning as a :class:`KconfigWarning` located where it is about:
    the prj.conf line, else the first caller outside zsim."""
    m = _LOCATED.fullmatch(msg)
    if m:
        _warnings.warn_explicit(m.group(3), KconfigWarning, m.group(1), int(m.group(2)))
        return
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    _warnings.warn_explicit(msg, KconfigWarning, frame.f_code.co_filename, frame.f_lineno,
                            module=frame.f_globals.get("__name__"))


def load_config(
    config: Mapping[str, object] | str | os.PathLike[str] | Config | None,
    board: BoardProfile | str | None = None,
    *,
    strict: bool = False,
    warn: Warn | None = None,
) -> Config:
    """Build a :class:`Config` from nothing, a mapping (:class:`Assignments` included), a
    ``prj.conf`` path or a Config.

    Without a board, board-dependent defaults (tick rate, libc, XIP...) are native_sim's, the
    Kernel's default board. Every error is listed in one :class:`KconfigError`. Warnings
    (``file:line: what``: unknown symbols, symbols set twice, assignments without effect)
    are kept in ``Config.warnings`` and passed one by one to ``warn`` (a command passes
    :func:`warn_to_stderr`; by default :func:`python_warning`); with ``strict`` they are
    errors instead. A Config passed in is returned as it is (rebound to ``board``),
    without warning again.
    """
    if board is not None:
        board = load_board(board)
    if isinstance(config, Config):
        if board is None or board == config.board:
            return config
        return config.with_board(board)
    if config is None:
        cfg = Config({}, board, strict=strict)
    elif isinstance(config, (str, os.PathLike)):
        cfg = Config(read_prj_conf(config), board, strict=strict)
    elif isinstance(config, Mapping):
        cfg = Config(config, board, strict=strict)
    else:
        raise ConfigError(
            f"config must be None, a mapping of symbols or a prj.conf path, "
            f"not {type(config).__name__}"
        )
    for msg in cfg.warnings:
        (warn or python_warning)(msg)
    return cfg
