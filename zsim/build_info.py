"""Which of zsim's hot modules run compiled, and why not the others.

setup.py records, in ``zsim/_build.json``, each compiled module it built: a hash of the
``.py`` and ``.pxd`` it came from and a hash of the binary, or why its build failed. A
compiled module is loaded only when its record matches both the binary and the sources
beside it; otherwise its ``.py`` source runs (``zsim/_pure.py``) and :func:`status` says why.
This module imports nothing from zsim: setup.py loads it by path.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from importlib.machinery import EXTENSION_SUFFIXES

HOT_MODULES = (
    "zsim.kernel.time_units", "zsim.kernel.thread", "zsim.kernel.wait_q", "zsim.kernel.core",
    "zsim.kernel.msgq", "zsim.net_buf", "zsim.packet_io.stats", "zsim.packet_io.sink",
    "zsim.packet_io.queue", "zsim.packet_io.source", "zsim.trace_events",
    "zsim.export.series",
)
"""The modules setup.py compiles (its ``COMPILED``), in the order ``--version`` lists them."""

RECORD = "_build.json"
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
PURE_ENV = "ZSIM_PURE_PYTHON"


def pure_requested() -> bool:
    """``ZSIM_PURE_PYTHON`` is set (non-empty, not ``0``)."""
    return os.environ.get(PURE_ENV, "0") not in ("", "0")


_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_digest(path: str) -> str:
    """SHA-256 of a file's bytes, in hex (once per file version in a process)."""
    st = os.stat(path)
    key = (path, st.st_mtime_ns, st.st_size)
    if key not in _DIGESTS:
        with open(path, "rb") as f:
            _DIGESTS[key] = hashlib.sha256(f.read()).hexdigest()
    return _DIGESTS[key]


def source_digest(source: str, package_dir: str = PACKAGE_DIR) -> str:
    """The hash a compiled module records: its ``.py`` and every hot module's ``.pxd`` (a
    module compiles against the ``.pxd`` files it cimports)."""
    h = hashlib.sha256()
    pxds = [_module_path(name, package_dir) + ".pxd" for name in HOT_MODULES]
    for path in (source, *pxds):
        h.update(os.path.relpath(path, package_dir).encode() + b"\0")
        if os.path.isfile(path):
            with open(path, "rb") as f:
                h.update(f.read())
        h.update(b"\0")
    return h.hexdigest()


def record_key(name: str, filename: str) -> str:
    """The record's key for module ``name`` built as ``filename`` (``kernel/core.*.so``)."""
    return "/".join([*name.split(".")[1:-1], os.path.basename(filename)])


def read_record(package_dir: str = PACKAGE_DIR) -> dict[str, dict[str, str]]:
    """The build record in ``package_dir``; empty when there is none or it is unreadable."""
    try:
        with open(os.path.join(package_dir, RECORD), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _module_path(name: str, package_dir: str) -> str:
    return os.path.join(package_dir, *name.split(".")[1:])


def cimports(name: str, package_dir: str = PACKAGE_DIR) -> list[str]:
    """The hot modules whose types module ``name`` uses (``from zsim.x cimport`` in its
    ``.pxd``): compiled code that cannot load while they run as Python."""
    try:
        with open(_module_path(name, package_dir) + ".pxd", encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return []
    return re.findall(r"^from (zsim\.[\w.]+) cimport", text, re.MULTILINE)


def decide(name: str, package_dir: str = PACKAGE_DIR,
           record: dict[str, dict[str, str]] | None = None) -> tuple[str | None, str]:
    """Which file of hot module ``name`` to load: the compiled one (its path, ``"compiled"``)
    or none, meaning its source (``None``, why it is not compiled)."""
    if pure_requested():
        return None, f"{PURE_ENV}=1"
    record = read_record(package_dir) if record is None else record
    return _decide(name, package_dir, record, {})


def _decide(name: str, package_dir: str, record: dict[str, dict[str, str]],
            memo: dict[str, tuple[str | None, str]]) -> tuple[str | None, str]:
    """:func:`decide`, remembering each module's answer in ``memo``."""
    if name not in memo:
        binary, reason = _check_binary(name, package_dir, record)
        for dep in cimports(name, package_dir) if binary is not None else ():
            if _decide(dep, package_dir, record, memo)[0] is None:
                binary, reason = None, f"it uses {dep}, which runs as Python"
                break
        memo[name] = (binary, reason)
    return memo[name]


def _check_binary(name: str, package_dir: str,
                  record: dict[str, dict[str, str]]) -> tuple[str | None, str]:
    """:func:`decide` for the module alone: its binary and record against its sources."""
    base = _module_path(name, package_dir)
    binary = next((base + s for s in EXTENSION_SUFFIXES if os.path.isfile(base + s)), None)
    if binary is None:
        failed = [record.get(record_key(name, base + s), {}).get("failed")
                  for s in EXTENSION_SUFFIXES]
        reason = next((f for f in failed if f), None)
        return None, f"its build failed ({reason})" if reason else "not built"
    entry = record.get(record_key(name, binary), {})
    if not os.path.isfile(base + ".py"):
        return binary, "compiled"             # nothing else to load: trust the binary
    if "failed" in entry:
        return None, f"its build failed ({entry['failed']}); {os.path.basename(binary)} is older"
    if "binary" not in entry:
        return None, f"{os.path.basename(binary)} has no build record: rebuild it"
    if entry["binary"] != file_digest(binary):
        return None, f"{os.path.basename(binary)} is not the binary its build recorded"
    if entry.get("source") != source_digest(base + ".py", package_dir):
        return None, f"{os.path.basename(binary)} was built from other sources: rebuild it"
    return binary, "compiled"


_DECISIONS: dict[str, tuple[str | None, str]] = {}


def decision(name: str) -> tuple[str | None, str]:
    """:func:`decide` for the installed package, made once per process."""
    if name not in _DECISIONS:
        if pure_requested():
            return None, f"{PURE_ENV}=1"
        _decide(name, PACKAGE_DIR, read_record(), _DECISIONS)
    return _DECISIONS[name]


def status() -> dict[str, str]:
    """Each hot module and ``"compiled"`` or why it runs from its source."""
    return {name: decision(name)[1] for name in HOT_MODULES}


def all_compiled() -> bool:
    """Every hot module runs compiled."""
    return all(reason == "compiled" for reason in status().values())


def core_summary() -> str:
    """``compiled core``, ``partly compiled core (7 of 10 modules)`` or ``pure-Python core``."""
    compiled = sum(reason == "compiled" for reason in status().values())
    if compiled == len(HOT_MODULES):
        return "compiled core"
    if compiled == 0:
        return "pure-Python core"
    return f"partly compiled core ({compiled} of {len(HOT_MODULES)} modules)"


def report() -> list[str]:
    """The lines ``zsim --version`` prints under its first: which modules are compiled, and
    why each other one runs from its source."""
    st = status()
    compiled = [n for n, r in st.items() if r == "compiled"]
    lines = [f"compiled: {', '.join(compiled) if compiled else 'none'}"]
    reasons: dict[str, list[str]] = {}
    for name, reason in st.items():
        if reason != "compiled":
            reasons.setdefault(reason, []).append(name)
    lines += [f"pure Python: {', '.join(names)} ({reason})" for reason, names in reasons.items()]
    return lines
