"""Board profiles: the per-board facts the simulator needs (clocks, memory, ABI, costs).

A profile is one YAML file in a board directory. The shipped profiles live in the top-level
``board_profiles/`` directory (inside the wheel: ``zsim/board_profiles``); users add or override
boards with directories passed as ``extra`` or listed in ``ZSIM_BOARD_DIR``. Every file is
checked against :data:`BOARD_SCHEMA` before use.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.resources
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema

from zsim.errors import BoardError
from zsim.yamlfile import YamlDocument, YamlSyntaxError, json_path, read_yaml, unknown_keys

__all__ = [
    "BOARD_SCHEMA",
    "COST_KEYS",
    "ENV_VAR",
    "ZERO_COSTS",
    "BoardProfile",
    "board_dirs",
    "known_boards",
    "load_board",
    "shipped_board_dir",
]

ENV_VAR = "ZSIM_BOARD_DIR"

COST_KEYS = (
    "thread_switch",
    "msgq_put",
    "msgq_get",
    "sem_give",
    "sem_take",
    "net_buf_alloc",
    "net_buf_unref",
    "isr_entry_exit",
    "timeout_add",
)
"""Kernel operations every profile prices, in CPU cycles."""

_COUNT = {"type": "integer", "minimum": 1}

BOARD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "zsim board profile",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "identifier",
        "aliases",
        "arch",
        "cpu",
        "cpu_clock_hz",
        "sys_clock_ticks_per_sec",
        "sys_clock_hw_cycles_per_sec",
        "ram_kib",
        "flash_kib",
        "pointer_size",
        "endianness",
        "libc",
        "errno_flavour",
        "console",
        "xip",
        "costs",
        "sources",
    ],
    "properties": {
        # Twister platform name: board[/soc[/cluster[/variant]]]; empty segments as in
        # "native_sim//64" are accepted by Zephyr's board-target syntax.
        "identifier": {"type": "string", "pattern": r"^[A-Za-z0-9_.+-]+(/[A-Za-z0-9_.+-]*)*$"},
        "aliases": {
            "type": "array",
            "uniqueItems": True,
            "items": {"type": "string", "pattern": r"^[A-Za-z0-9_.+-]+(/[A-Za-z0-9_.+-]*)*$"},
        },
        "arch": {
            "enum": [
                "arc",
                "arm",
                "arm64",
                "mips",
                "posix",
                "riscv",
                "rx",
                "sparc",
                "x86",
                "xtensa",
            ],
        },
        "cpu": {"type": "string", "minLength": 1},
        "cpu_clock_hz": _COUNT,
        "sys_clock_ticks_per_sec": _COUNT,
        "sys_clock_hw_cycles_per_sec": _COUNT,
        "ram_kib": _COUNT,
        "flash_kib": _COUNT,
        "pointer_size": {"enum": [4, 8]},
        "endianness": {"enum": ["little", "big"]},
        # "external" is the host C library a native_sim build links by default.
        "libc": {"enum": ["minimal", "picolibc", "newlib", "external"]},
        # "zephyr": the numbers of lib/libc/minimal/include/errno.h (picolibc and newlib agree);
        # "linux": the host's glibc numbers.
        "errno_flavour": {"enum": ["zephyr", "linux"]},
        "console": {
            "type": "object",
            "additionalProperties": False,
            "required": ["uart", "baud"],
            "properties": {
                "uart": {"type": "string", "minLength": 1},
                "baud": {"type": "integer", "minimum": 0},  # 0: not a real line (a pty)
            },
        },
        "xip": {"type": "boolean"},
        # twister's `supported:` features (a suite's `depends_on` is checked against them)
        "supported": {"type": "array", "items": {"type": "string", "minLength": 1},
                      "uniqueItems": True},
        # Cycles per kernel operation, or "zero": no costs at all (a pure-logic board).
        "costs": {
            "anyOf": [
                {"const": "zero"},
                {
                    "type": "object",
                    "required": [*COST_KEYS, "copy_bytes_per_cycle"],
                    "properties": {
                        "copy_bytes_per_cycle": {"type": "number", "exclusiveMinimum": 0},
                    },
                    "additionalProperties": {"type": "number", "minimum": 0},
                },
            ],
        },
        "sources": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "minLength": 1},
        },
    },
}
"""JSON Schema every board profile file must satisfy."""

ZERO_COSTS: Mapping[str, float] = MappingProxyType(
    {**dict.fromkeys(COST_KEYS, 0), "copy_bytes_per_cycle": float("inf")})
"""What ``costs: zero`` stands for: free kernel operations and free copies."""

# Files are checked with "costs: zero" already expanded, so that an error inside a costs
# mapping is reported against its own key rather than as "not valid under any schema".
_STRICT = {**BOARD_SCHEMA, "properties": {**BOARD_SCHEMA["properties"],
                                          "costs": BOARD_SCHEMA["properties"]["costs"]["anyOf"][1]}}
# YAML's 64.0 is a float: counts, clocks and sizes must be written as integers.
_TYPES = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", lambda _checker, v: isinstance(v, int) and not isinstance(v, bool))
_VALIDATOR = jsonschema.validators.extend(jsonschema.Draft202012Validator,
                                          type_checker=_TYPES)(_STRICT)


@dataclass(frozen=True, slots=True)
class BoardProfile:
    """One board: clocks, memory, ABI, console and kernel-operation costs (in CPU cycles)."""

    identifier: str
    aliases: tuple[str, ...]
    arch: str
    cpu: str
    cpu_clock_hz: int
    ticks_per_sec: int
    hw_cycles_per_sec: int
    ram_kib: int
    flash_kib: int
    pointer_size: int
    endianness: str
    libc: str
    errno_flavour: str
    console_uart: str
    console_baud: int
    xip: bool
    costs: Mapping[str, float] = field(hash=False)
    sources: tuple[str, ...] = ()
    path: str | None = None
    supported: tuple[str, ...] = ()     # twister's board features (``depends_on``)

    def __post_init__(self) -> None:
        object.__setattr__(self, "aliases", tuple(self.aliases))
        object.__setattr__(self, "supported", tuple(self.supported))
        object.__setattr__(self, "sources", tuple(self.sources))
        object.__setattr__(self, "costs", MappingProxyType(dict(self.costs)))

    def with_overrides(self, **fields: Any) -> BoardProfile:
        """A copy with some fields replaced (``dataclasses.replace``), e.g. ``ram_kib=128``."""
        try:
            return dataclasses.replace(self, **fields)
        except TypeError as exc:
            raise BoardError(f"board {self.identifier}: bad override: {exc}") from None

    @property
    def errno(self) -> Mapping[str, int]:
        """The errno name → number table a build for this board uses (its libc's)."""
        from zsim.errno import numbers

        return numbers(self.errno_flavour)

    def cost(self, op: str) -> float:
        """Cycles for kernel operation ``op`` (0 when the profile does not price it)."""
        return float(self.costs.get(op, 0))


# --- locating profile directories -------------------------------------------------------


def shipped_board_dir() -> Path:
    """The directory of the profiles shipped with zsim (wheel first, then source checkout)."""
    try:
        packaged = importlib.resources.files("zsim") / "board_profiles"
        if packaged.is_dir():
            return Path(str(packaged))
    except (ModuleNotFoundError, NotADirectoryError, TypeError, ValueError):  # pragma: no cover
        pass
    return Path(__file__).resolve().parent.parent / "board_profiles"


def board_dirs(extra: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
    """Profile directories, highest priority first: ``extra``, ``$ZSIM_BOARD_DIR``, shipped."""
    if isinstance(extra, (str, os.PathLike)):
        extra = [extra]
    dirs = [Path(d) for d in extra]
    dirs += [Path(d) for d in os.environ.get(ENV_VAR, "").split(os.pathsep) if d.strip()]
    dirs.append(shipped_board_dir())
    return dirs


# --- reading and validating one file ----------------------------------------------------


def _describe(err: jsonschema.ValidationError, doc: YamlDocument) -> tuple[int, str]:
    """(line, "key: problem") for one schema error."""
    parts = list(err.absolute_path)
    extra = unknown_keys(err)
    line = doc.line(parts, extra[0] if extra else None)
    if err.validator == "required":
        missing = next((r for r in err.validator_value if r not in err.instance), "?")
        return line, f"{json_path([*parts, missing], '$')}: missing required key"
    if extra:
        names = ", ".join(map(str, extra))
        expected = ", ".join(sorted(err.schema.get("properties", {})))
        msg = f"unknown key(s) {names} (expected only: {expected})"
        return line, f"{json_path([*parts, extra[0]], '$')}: {msg}"
    if err.validator == "enum":
        choices = ", ".join(repr(c) for c in err.validator_value)
        return line, f"{json_path(parts, '$')}: expected one of {choices}, got {err.instance!r}"
    if err.validator == "type":
        msg = f"expected {err.validator_value}, got {err.instance!r}"
        return line, f"{json_path(parts, '$')}: {msg}"
    return line, f"{json_path(parts, '$')}: {err.message}"


_CACHE: dict[str, tuple[tuple[int, int, int, int], BoardProfile]] = {}


def _read_profile(path: Path) -> BoardProfile:
    """Load and validate one file (cached while its size and mtime are unchanged)."""
    where = str(path)
    try:
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_size)
    except OSError:
        stamp = None
    cached = _CACHE.get(where)
    if stamp is not None and cached is not None and cached[0] == stamp:
        return cached[1]
    prof = _parse_profile(path)
    if stamp is not None:
        _CACHE[where] = (stamp, prof)
    return prof


def _parse_profile(path: Path) -> BoardProfile:
    where = str(path)
    try:
        doc = read_yaml(path)
    except OSError as exc:
        raise BoardError(f"{where}: cannot read board profile: {exc.strerror}") from None
    except YamlSyntaxError as exc:
        line = "" if exc.line is None else f":{exc.line}"
        raise BoardError(f"{where}{line}: invalid YAML: {exc.problem}") from None
    data = doc.data
    if not isinstance(data, dict):
        raise BoardError(
            f"{where}:1: $: expected a mapping of board fields, got {type(data).__name__}"
        )
    problems = _finite_costs(data, doc)
    if data.get("costs") == "zero":
        data["costs"] = dict(ZERO_COSTS)
    problems += [_describe(e, doc) for e in _VALIDATOR.iter_errors(data)]
    if not problems:
        problems = _cross_check(data, doc)
    problems.sort()
    if problems:
        lines = "\n".join(f"{where}:{line}: {msg}" for line, msg in problems)
        raise BoardError(f"invalid board profile {where}:\n{lines}")
    return BoardProfile(
        identifier=data["identifier"],
        aliases=tuple(data["aliases"]),
        arch=data["arch"],
        cpu=data["cpu"],
        cpu_clock_hz=data["cpu_clock_hz"],
        ticks_per_sec=data["sys_clock_ticks_per_sec"],
        hw_cycles_per_sec=data["sys_clock_hw_cycles_per_sec"],
        ram_kib=data["ram_kib"],
        flash_kib=data["flash_kib"],
        pointer_size=data["pointer_size"],
        endianness=data["endianness"],
        libc=data["libc"],
        errno_flavour=data["errno_flavour"],
        console_uart=data["console"]["uart"],
        console_baud=data["console"]["baud"],
        xip=data["xip"],
        costs=data["costs"],
        sources=tuple(data["sources"]),
        path=where,
        supported=tuple(data.get("supported", ())),
    )


_ERRNO_OF_LIBC = {"minimal": "zephyr", "picolibc": "zephyr", "newlib": "zephyr",
                  "external": "linux"}
"""The errno numbers each C library brings: Zephyr's three libraries share
lib/libc/minimal/include/errno.h's numbers; the host's (native_sim) has its own."""


def _finite_costs(data: dict[str, Any], doc: YamlDocument) -> list[tuple[int, str]]:
    """Costs written as ``.nan``, or ``.inf`` cycles (the schema's minimum lets them
    through); ``copy_bytes_per_cycle: .inf`` (free copies) is allowed."""
    costs = data.get("costs")
    if not isinstance(costs, dict):
        return []
    return [(doc.line(["costs", k]), f"$.costs.{k}: expected a finite number, got {v!r}")
            for k, v in costs.items()
            if isinstance(v, float) and (math.isnan(v) or (math.isinf(v)
                                                           and k != "copy_bytes_per_cycle"))]


def _cross_check(data: dict[str, Any], doc: YamlDocument) -> list[tuple[int, str]]:
    """Checks the schema cannot express: the errno flavour follows the C library, the tick
    comes from the hardware timer, and memory fits the address space."""
    out = []
    want = _ERRNO_OF_LIBC[data["libc"]]
    if data["errno_flavour"] != want:
        out.append((doc.line(["errno_flavour"]), f"$.errno_flavour: expected {want!r} for "
                    f"libc {data['libc']!r}, got {data['errno_flavour']!r}"))
    ticks, cycles = data["sys_clock_ticks_per_sec"], data["sys_clock_hw_cycles_per_sec"]
    if ticks > cycles:
        out.append((doc.line(["sys_clock_ticks_per_sec"]),
                    f"$.sys_clock_ticks_per_sec: {ticks} ticks per second is faster than the "
                    f"hardware timer ({cycles} cycles per second)"))
    space_kib = 2 ** (8 * data["pointer_size"]) // 1024
    for key in ("ram_kib", "flash_kib"):
        if data[key] > space_kib:
            out.append((doc.line([key]), f"$.{key}: {data[key]} KiB does not fit the "
                        f"{8 * data['pointer_size']}-bit address space ({space_kib} KiB)"))
    return out


# --- the board registry -----------------------------------------------------------------


def _profiles_in(directory: Path) -> dict[str, BoardProfile]:
    if not directory.is_dir():
        raise BoardError(
            f"board directory {directory} does not exist (from the extra argument or ${ENV_VAR})"
        )
    found: dict[str, BoardProfile] = {}
    for path in sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml")):
        prof = _read_profile(path)
        if prof.identifier in found:
            raise BoardError(
                f"{path}: identifier {prof.identifier!r} is already defined by "
                f"{found[prof.identifier].path}"
            )
        found[prof.identifier] = prof
    return found


def _registry(
    extra: Iterable[str | os.PathLike[str]],
) -> tuple[dict[str, BoardProfile], dict[str, BoardProfile]]:
    """(identifier -> profile, alias -> profile); higher-priority directories win both."""
    boards: dict[str, BoardProfile] = {}
    rank: dict[str, int] = {}
    for prio, directory in enumerate(reversed(board_dirs(extra))):
        for ident, prof in _profiles_in(directory).items():
            boards[ident] = prof
            rank[ident] = prio
    aliases: dict[str, BoardProfile] = {}
    for prof in sorted(boards.values(), key=lambda p: rank[p.identifier]):
        aliases.update(dict.fromkeys(prof.aliases, prof))
    return dict(sorted(boards.items())), aliases


def known_boards(extra: Iterable[str | os.PathLike[str]] = ()) -> dict[str, BoardProfile]:
    """Every known board, identifier -> profile; a user directory overrides the shipped one."""
    return _registry(extra)[0]


_NAME_RE = re.compile(BOARD_SCHEMA["properties"]["identifier"]["pattern"])


def _norm(name: str) -> str:
    return name.replace("/", "_")


def load_board(
    board: str | BoardProfile | os.PathLike[str],
    extra: Iterable[str | os.PathLike[str]] = (),
) -> BoardProfile:
    """Resolve a profile, a ``.yaml`` path, a twister identifier or an alias to a profile.

    Names are case-sensitive; ``/`` and ``_`` spellings are interchangeable
    (``nrf52840dk_nrf52840`` finds ``nrf52840dk/nrf52840``); hardware-model-v2 names
    west uses are accepted with a revision (``nrf52840dk@2.0.0/nrf52840``) and as the
    board name alone when one profile is of that board (``nrf5340dk``).
    """
    if isinstance(board, BoardProfile):
        return board
    if isinstance(board, os.PathLike) or (
        isinstance(board, str) and board.endswith((".yaml", ".yml"))
    ):
        return _read_profile(Path(board))
    if not isinstance(board, str):
        raise BoardError(
            f"board must be a name, a profile or a .yaml path, not {type(board).__name__}"
        )
    boards, by_alias = _registry(extra)
    if not _NAME_RE.fullmatch(_without_revision(board)):
        what = "an empty board name" if not board.strip() else f"{board!r} is not a board name"
        raise BoardError(
            f"{what}: expected a board identifier such as nrf52840dk/nrf52840 (letters, "
            f"digits, _.+- and /); known boards: {', '.join(boards)}"
        )
    found = _lookup(board, boards, by_alias)
    if found is not None:
        return found
    raise BoardError(_unknown_board_message(board, boards, by_alias))


_REVISION_RE = re.compile(r"^([^/@]+)@[A-Za-z0-9_.+-]+(?=/|$)")


def _without_revision(board: str) -> str:
    """``nrf52840dk@2.0.0/nrf52840`` without its board revision: ``nrf52840dk/nrf52840``."""
    return _REVISION_RE.sub(r"\1", board, count=1)


def _lookup(board: str, boards: dict[str, BoardProfile],
            by_alias: dict[str, BoardProfile]) -> BoardProfile | None:
    """The profile a name denotes: an identifier or alias (``/`` or ``_`` spelling), with a
    hardware-model-v2 revision (``nrf52840dk@2.0.0/nrf52840``) ignored, or a board name
    alone (``nrf5340dk``) when exactly one profile is of that board."""
    name = _without_revision(board)
    by_norm_id = {_norm(i): p for i, p in boards.items()}
    by_norm_alias = {_norm(a): p for a, p in by_alias.items()}
    for table, key in (
        (boards, name),
        (by_alias, name),
        (by_norm_id, _norm(name)),
        (by_norm_alias, _norm(name)),
    ):
        if key in table:
            return table[key]
    if "/" not in name:
        same = {p.identifier: p for n, p in [*boards.items(), *by_alias.items()]
                if n.split("/", 1)[0] == name}
        if len(same) == 1:
            return next(iter(same.values()))
    return None


def _unknown_board_message(board: str, boards: dict[str, BoardProfile],
                           by_alias: dict[str, BoardProfile]) -> str:
    """The error for a board without a profile: the closest profiles and how to add one."""
    names = {**{i: p for i, p in boards.items()}, **by_alias}
    close = difflib.get_close_matches(_norm(board), [_norm(n) for n in names], n=6, cutoff=0.4)
    by_norm = {_norm(n): p.identifier for n, p in names.items()}
    closest = list(dict.fromkeys(by_norm[c] for c in close))[:3]
    model = boards[closest[0]] if closest else next(iter(boards.values()), None)
    near = f"closest profiles: {', '.join(closest)}; " if closest else ""
    how = (f"to add one, copy a profile such as {model.path} (`zsim boards show "
           f"{model.identifier}` shows it), set its identifier to {board!r} and its numbers "
           "from the board's documentation, and pass its directory with --board-dir DIR or "
           f"${ENV_VAR} (or pass the .yaml path itself)") if model is not None else \
        f"to add one, write a profile and pass its directory with --board-dir DIR or ${ENV_VAR}"
    return (f"unknown board {board!r}: zsim has no profile for it; {near}"
            f"known boards: {', '.join(boards)}; {how}")
