"""A compiled module loads only when its build record matches its binary and sources.

Each test lays out a small package of hot modules in a temporary directory (sources,
``.pxd`` files, stand-in binaries and a build record written as setup.py writes it) and asks
``zsim.build_info.decide`` which file of a module would load, and why.
"""

from __future__ import annotations

import json
import re
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

from zsim import build_info

ROOT = Path(__file__).resolve().parents[1]
SUFFIX = EXTENSION_SUFFIXES[0]
CORE, THREAD, NET_BUF = "zsim.kernel.core", "zsim.kernel.thread", "zsim.net_buf"


def module_path(pkg: Path, name: str) -> Path:
    return pkg.joinpath(*name.split(".")[1:])


def layout(pkg: Path, failed: dict[str, str] | None = None) -> Path:
    """Every hot module with a source, a ``.pxd`` (net_buf's cimports the core, the core's
    the thread) and a binary, all recorded; the modules in ``failed`` recorded as failed
    builds with no binary."""
    cimports = {NET_BUF: [CORE], CORE: [THREAD]}
    for name in build_info.HOT_MODULES:
        base = module_path(pkg, name)
        base.parent.mkdir(parents=True, exist_ok=True)
        base.with_suffix(".py").write_text(f"NAME = {name!r}\n")
        lines = [f"from {dep} cimport X\n" for dep in cimports.get(name, [])]
        base.with_suffix(".pxd").write_text("cimport cython\n" + "".join(lines))
    record = {}
    for name in build_info.HOT_MODULES:
        base = module_path(pkg, name)
        key = build_info.record_key(name, str(base) + SUFFIX)
        if failed and name in failed:
            record[key] = {"failed": failed[name]}
            continue
        binary = Path(str(base) + SUFFIX)
        binary.write_bytes(b"\x7fELF " + name.encode())
        record[key] = {"source": build_info.source_digest(str(base) + ".py", str(pkg)),
                       "binary": build_info.file_digest(str(binary))}
    (pkg / build_info.RECORD).write_text(json.dumps(record))
    return pkg


@pytest.fixture(autouse=True)
def not_pure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZSIM_PURE_PYTHON", raising=False)


def decide(pkg: Path, name: str) -> tuple[str | None, str]:
    return build_info.decide(name, str(pkg))


def test_setup_compiles_exactly_the_hot_modules() -> None:
    listed = re.findall(r'"(zsim/[\w/]+)\.py"', (ROOT / "setup.py").read_text())
    assert sorted(p.replace("/", ".") for p in listed) == sorted(build_info.HOT_MODULES)


def test_matching_record_loads_every_binary(tmp_path: Path) -> None:
    pkg = layout(tmp_path)
    for name in build_info.HOT_MODULES:
        binary, reason = decide(pkg, name)
        assert reason == "compiled"
        assert binary == str(module_path(pkg, name)) + SUFFIX


def test_changed_source_runs_the_source_and_its_users_too(tmp_path: Path) -> None:
    pkg = layout(tmp_path)
    with open(module_path(pkg, THREAD).with_suffix(".py"), "a") as f:
        f.write("# edited after the build\n")
    binary, reason = decide(pkg, THREAD)
    assert binary is None and "built from other sources" in reason
    assert decide(pkg, CORE) == (None, f"it uses {THREAD}, which runs as Python")
    assert decide(pkg, NET_BUF) == (None, f"it uses {CORE}, which runs as Python")
    assert decide(pkg, "zsim.kernel.msgq")[1] == "compiled"     # no cimport of the thread


def test_changed_pxd_makes_every_module_stale(tmp_path: Path) -> None:
    pkg = layout(tmp_path)
    with open(module_path(pkg, "zsim.packet_io.stats").with_suffix(".pxd"), "a") as f:
        f.write("cdef class Extra:\n    pass\n")
    for name in build_info.HOT_MODULES:
        assert decide(pkg, name)[0] is None, name


def test_binary_that_is_not_the_recorded_one_is_not_loaded(tmp_path: Path) -> None:
    pkg = layout(tmp_path)
    Path(str(module_path(pkg, NET_BUF)) + SUFFIX).write_bytes(b"\x7fELF another build")
    binary, reason = decide(pkg, NET_BUF)
    assert binary is None and "is not the binary its build recorded" in reason


def test_binary_without_record_is_not_loaded(tmp_path: Path) -> None:
    pkg = layout(tmp_path)
    (pkg / build_info.RECORD).unlink()
    binary, reason = decide(pkg, CORE)
    assert binary is None and "has no build record" in reason


def test_failed_build_is_named(tmp_path: Path) -> None:
    pkg = layout(tmp_path, failed={NET_BUF: "gcc failed with exit code 1"})
    assert decide(pkg, NET_BUF) == (None, "its build failed (gcc failed with exit code 1)")
    assert decide(pkg, "zsim.packet_io.queue")[1] == "compiled"   # its .pxd here: no cimport


def test_failed_build_beside_an_older_binary(tmp_path: Path) -> None:
    pkg = layout(tmp_path, failed={CORE: "no compiler"})
    Path(str(module_path(pkg, CORE)) + SUFFIX).write_bytes(b"\x7fELF from an earlier build")
    binary, reason = decide(pkg, CORE)
    assert binary is None and reason.startswith("its build failed (no compiler)")


def test_no_binary_is_not_built(tmp_path: Path) -> None:
    pkg = layout(tmp_path)
    Path(str(module_path(pkg, THREAD)) + SUFFIX).unlink()
    assert decide(pkg, THREAD) == (None, "not built")


def test_pure_python_requested(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = layout(tmp_path)
    monkeypatch.setenv("ZSIM_PURE_PYTHON", "1")
    assert decide(pkg, CORE) == (None, "ZSIM_PURE_PYTHON=1")
    monkeypatch.setenv("ZSIM_PURE_PYTHON", "0")
    assert decide(pkg, CORE)[1] == "compiled"


def test_summary_and_report_name_every_module(monkeypatch: pytest.MonkeyPatch) -> None:
    status = dict.fromkeys(build_info.HOT_MODULES, "compiled")
    status[NET_BUF] = "not built"
    status["zsim.packet_io.queue"] = f"it uses {NET_BUF}, which runs as Python"
    monkeypatch.setattr(build_info, "status", lambda: status)
    assert build_info.core_summary() == "partly compiled core (10 of 12 modules)"
    lines = build_info.report()
    compiled = lines[0].removeprefix("compiled: ").split(", ")
    assert sorted(compiled) == sorted(n for n, r in status.items() if r == "compiled")
    assert f"pure Python: {NET_BUF} (not built)" in lines
    assert not build_info.all_compiled()
    monkeypatch.setattr(build_info, "status", lambda: dict.fromkeys(status, "not built"))
    assert build_info.core_summary() == "pure-Python core"
