"""Suite discovery: ``testcase.yaml`` / ``sample.yaml`` files next to a zsim model.

Under each root, a directory holding ``testcase.yaml`` or ``sample.yaml`` and a model
(``model.py`` or ``topology.yaml``) is a suite. Each key of its ``tests:`` mapping is a
scenario, with the ``common:`` keys merged in as twister merges them
(scripts/pylib/twister/twisterlib/config_parser.py). A scenario's name is its directory
relative to the root joined with its identifier, as twister's ``TestSuite.get_unique``
forms it for suites outside ZEPHYR_BASE.
"""

from __future__ import annotations

import ast
import copy
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from zsim.config import parse_assignment
from zsim.errors import ConfigError, ZsimError
from zsim.output_paths import MARKER
from zsim.yamlfile import YamlDocument, YamlSyntaxError, read_yaml, unknown_keys

from .filter_expr import FilterSyntaxError, parse_filter

SUITE_FILES = ("testcase.yaml", "sample.yaml")
MODEL_FILES = ("model.py", "topology.yaml")


class TwisterConfigError(ZsimError):
    """A suite file that cannot be used: which file, which line, what was expected."""


_STR_OR_LIST = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
_INT = {"type": "integer"}
_SIZE = {"type": "integer", "minimum": 0}
_BOOL = {"type": "boolean"}
_STR = {"type": "string"}

_HARNESS_CONFIG = {
    "type": "object",
    "properties": {
        "type": {"enum": ["one_line", "multi_line"]},
        "ordered": _BOOL,
        "regex": {"type": "array", "items": _STR},
        "record": {
            "type": "object",
            "properties": {
                "regex": {"anyOf": [_STR, {"type": "array", "items": _STR}]},
                "merge": _BOOL,
                "as_json": {"type": "array", "items": _STR},
            },
            "additionalProperties": False,
        },
        "fixture": _STR,
        "repeat": {"type": "integer", "minimum": 1},
        "pytest_root": {"anyOf": [_STR, {"type": "array", "items": _STR}]},
        "pytest_args": {"type": "array", "items": _STR},
        "pytest_dut_scope": {"enum": ["function", "class", "module", "package", "session"]},
    },
    # Other harnesses' keys (pytest_*, robot_*, bsim_*, ...) are accepted and not used.
    "additionalProperties": True,
}

# The per-scenario keys of scripts/schemas/twister/testsuite-schema.yaml.
_SCENARIO_KEYS: dict[str, Any] = {
    "arch_allow": _STR_OR_LIST, "arch_exclude": _STR_OR_LIST,
    "build_only": _BOOL, "build_on_all": _BOOL, "depends_on": _STR_OR_LIST,
    "expect_reboot": _BOOL, "extra_args": _STR_OR_LIST, "extra_configs": {"type": "array"},
    "extra_conf_files": {"type": "array"}, "extra_overlay_confs": {"type": "array"},
    "extra_dtc_overlay_files": {"type": "array"}, "extra_sections": _STR_OR_LIST,
    "filter": _STR, "harness": _STR, "harness_config": _HARNESS_CONFIG,
    "ignore_faults": _BOOL, "ignore_qemu_crash": _BOOL,
    "integration_platforms": _STR_OR_LIST, "integration_toolchains": _STR_OR_LIST,
    "levels": _STR_OR_LIST, "min_flash": _SIZE, "min_ram": _SIZE, "modules": _STR_OR_LIST,
    "platform_allow": _STR_OR_LIST, "platform_exclude": _STR_OR_LIST,
    "platform_key": _STR_OR_LIST, "platform_type": _STR_OR_LIST,
    "required_snippets": _STR_OR_LIST, "required_applications": {"type": "array"},
    "simulation_exclude": _STR_OR_LIST, "skip": _BOOL, "slow": _BOOL, "sysbuild": _BOOL,
    "tags": _STR_OR_LIST, "testcases": {"type": "array", "items": _STR},
    "timeout": {"type": "number", "exclusiveMinimum": 0}, "toolchain_allow": _STR_OR_LIST,
    "toolchain_exclude": _STR_OR_LIST, "type": _STR, "vendor_allow": _STR_OR_LIST,
    "vendor_exclude": _STR_OR_LIST, "source_dir": _STR, "min_ram_kb": _SIZE,
}

SUITE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["tests"],
    "additionalProperties": False,
    "properties": {
        "sample": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": _STR, "description": _STR},
            "additionalProperties": True,
        },
        "common": {"type": "object", "properties": _SCENARIO_KEYS, "additionalProperties": False},
        "tests": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "anyOf": [
                    {"type": "null"},
                    {"type": "object", "properties": _SCENARIO_KEYS,
                     "additionalProperties": False},
                ]
            },
        },
    },
}
"""JSON Schema for a suite file (the subset of twister's schema zsim reads, all keys known)."""

_VALIDATOR = jsonschema.Draft202012Validator(SUITE_SCHEMA)

_LIST_KEYS = ("arch_allow", "arch_exclude", "platform_allow", "platform_exclude",
              "integration_platforms", "depends_on", "levels", "platform_type",
              "extra_args", "modules", "vendor_allow", "vendor_exclude")


@dataclass
class Scenario:
    """One scenario (a ``tests:`` entry) of a suite, with ``common:`` merged in."""

    id: str                       # the yaml key, e.g. sample.packet_io.basic_routing
    name: str                     # <dir relative to root>/<id>
    source_dir: Path
    yaml_file: Path
    model: Path                   # model.py or topology.yaml
    line: int = 1                 # the line of its key in yaml_file
    tags: set[str] = field(default_factory=set)
    platform_allow: list[str] = field(default_factory=list)
    platform_exclude: list[str] = field(default_factory=list)
    integration_platforms: list[str] = field(default_factory=list)
    arch_allow: list[str] = field(default_factory=list)
    arch_exclude: list[str] = field(default_factory=list)
    harness: str = ""
    harness_config: dict[str, Any] = field(default_factory=dict)
    timeout: float = 60
    build_only: bool = False
    skip: bool = False
    min_ram: int = -1
    min_flash: int = -1
    testcases: list[str] = field(default_factory=list)    # declared or scanned case names
    ignore_faults: bool = False
    filter: str = ""              # twister's filter expression (filter_expr.py)
    extra_configs: dict[str, Any] = field(default_factory=dict)   # CONFIG_X=... entries
    depends_on: list[str] = field(default_factory=list)    # board features it needs
    platform_key: list[str] = field(default_factory=list)  # run once per distinct key
    keys: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The suite directory as reported (twister's ``source_dir_rel``)."""
        return _rel(self.source_dir)


def _rel(p: Path) -> str:
    try:
        return Path(os.path.relpath(p.resolve(), Path.cwd().resolve())).as_posix()
    except ValueError:  # another drive
        return p.resolve().as_posix()


def _describe(err: jsonschema.ValidationError, doc: YamlDocument) -> tuple[int, str]:
    parts = list(err.absolute_path)
    where = " > ".join(str(p) for p in parts) or "(top level)"
    extra = unknown_keys(err)
    if extra:
        return doc.key_line([*parts, extra[0]]), f"{where}: unknown key {extra[0]!r}"
    return doc.key_line(parts), f"{where}: {err.message}"


def read_config(path: Path, unreadable: str = "cannot read") -> YamlDocument:
    """Read one twister YAML file; ``unreadable`` starts the message when it cannot be read,
    and a syntax error names the file and line."""
    try:
        return read_yaml(path)
    except OSError as exc:
        raise TwisterConfigError(f"{path}: {unreadable}: {exc.strerror}") from None
    except YamlSyntaxError as exc:
        raise TwisterConfigError(f"{path}:{exc.line or 1}: invalid YAML: {exc.problem}") from None
    except ValueError as exc:     # any other check of the YAML reader (names its line)
        line = getattr(exc, "line", None) or 1
        raise TwisterConfigError(f"{path}:{line}: invalid YAML: {exc}") from None


def load_suite_file(path: Path, doc: YamlDocument | None = None) -> dict[str, Any]:
    """Parse and check one suite file (already read as ``doc``, or read here); errors
    name the file and line."""
    doc = doc if doc is not None else read_config(path)
    data = doc.data
    if not isinstance(data, dict):
        raise TwisterConfigError(f"{path}:1: expected a mapping with a 'tests:' key")
    best = jsonschema.exceptions.best_match     # the most precise error within each one
    errors = sorted({_describe(best([e]), doc) for e in _VALIDATOR.iter_errors(data)})
    if errors:                          # every error, each at its line
        raise TwisterConfigError("\n".join(f"{path}:{line}: {msg}" for line, msg in errors))
    for name in data["tests"]:
        if len(str(name).split(".")) < 2:
            line = doc.key_line(["tests", name])
            raise TwisterConfigError(
                f"{path}:{line}: bad test name {name!r}: expected the category and subsystem "
                "separated by a dot (e.g. sample.basic.hello)")
        merged = merge_common(data.get("common") or {}, data["tests"][name] or {})
        _check_filter_and_configs(path, doc, data, name, merged)
        if merged.get("harness") == "console" and not merged.get("harness_config"):
            line = doc.key_line(["tests", name])
            raise TwisterConfigError(f"{path}:{line}: scenario {name}: console harness "
                                     "defined without a harness_config")
        if merged.get("harness") == "console" and not merged["harness_config"].get("regex"):
            line = doc.key_line(["tests", name, "harness_config"])
            raise TwisterConfigError(f"{path}:{line}: scenario {name}: console harness "
                                     "needs harness_config.regex (a list of patterns)")
    return data


def _check_filter_and_configs(path: Path, doc: YamlDocument, data: dict[str, Any], name: str,
                              merged: dict[str, Any]) -> None:
    """A ``filter`` that twister could not parse, or an ``extra_configs`` entry that is not
    ``CONFIG_NAME=value``, fails with the line of the key that holds it."""
    def line_of(key: str) -> int:
        own = (data["tests"][name] or {})
        at = ["tests", name, key] if key in own else ["common", key]
        return doc.key_line(at)

    timeout = merged.get("timeout")
    if isinstance(timeout, float) and not math.isfinite(timeout):
        raise TwisterConfigError(f"{path}:{line_of('timeout')}: scenario {name}: timeout "
                                 f"{timeout}: expected a finite number of seconds above 0")
    if merged.get("filter"):
        try:
            parse_filter(str(merged["filter"]))
        except FilterSyntaxError as exc:
            raise TwisterConfigError(f"{path}:{line_of('filter')}: scenario {name}: filter "
                                     f"{merged['filter']!r}: {exc}") from None
    for entry in merged.get("extra_configs") or []:
        try:
            parse_assignment(str(entry))
        except ConfigError:
            raise TwisterConfigError(
                f"{path}:{line_of('extra_configs')}: scenario {name}: extra_configs entry "
                f"{entry!r}: expected CONFIG_<NAME>=<value> (y, n, a number or a "
                "double-quoted string)") from None


def merge_common(common: dict[str, Any], scenario: dict[str, Any]) -> dict[str, Any]:
    """Merge ``common:`` into one scenario as twister's config parser does: lists and
    space-separated strings concatenate, ``filter`` expressions are and-ed, other keys of
    the scenario win."""
    out = copy.deepcopy(common)
    for k, v in (scenario or {}).items():
        if k not in out:
            out[k] = copy.deepcopy(v)
            continue
        cur = out[k]
        if k == "filter":
            out[k] = f"({cur}) and ({v})"
        elif isinstance(cur, list) and isinstance(v, list):
            out[k] = cur + v
        elif isinstance(cur, str) and isinstance(v, list):
            out[k] = cur.split() + v
        elif isinstance(cur, list) and isinstance(v, str):
            out[k] = cur + v.split()
        elif isinstance(cur, str) and isinstance(v, str) and k != "harness":
            out[k] = f"{cur} {v}"
        else:
            out[k] = copy.deepcopy(v)
    return out


def _as_list(v: Any) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return v.split()
    return [str(x) for x in v]


def scan_ztest_cases(model: Path) -> list[str]:
    """``<suite>.<name>`` of every test a Python ztest model declares (``name`` without its
    ``test_`` prefix), found by reading the source as twister scans C sources for ZTEST()."""
    if model.suffix != ".py":
        return []
    try:
        tree = ast.parse(model.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return []
    suites: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            fn = node.value.func
            fname = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", None)
            args = node.value.args
            if fname == "suite" and args and isinstance(args[0], ast.Constant) \
                    and isinstance(args[0].value, str):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        suites[t.id] = args[0].value
    cases: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        for dec in node.decorator_list:
            target = dec.func if isinstance(dec, ast.Call) else dec
            if isinstance(target, ast.Attribute) and target.attr == "test" \
                    and isinstance(target.value, ast.Name) and target.value.id in suites:
                name = node.name[5:] if node.name.startswith("test_") else node.name
                cases.append((node.lineno, f"{suites[target.value.id]}.{name}"))
    return list(dict.fromkeys(name for _, name in sorted(cases)))


def _scenario(sid: str, keys: dict[str, Any], root: Path, directory: Path, yaml_file: Path,
              model: Path, line: int = 1) -> Scenario:
    workdir = os.path.relpath(directory.resolve(), root.resolve())
    name = os.path.normpath(os.path.join(workdir, sid)).replace(os.sep, "/")
    hc = keys.get("harness_config") or {}
    harness = keys.get("harness", "")
    sc = Scenario(
        id=sid, name=name, source_dir=directory, yaml_file=yaml_file, model=model, line=line,
        tags=set(_as_list(keys.get("tags"))),
        platform_allow=_as_list(keys.get("platform_allow")),
        platform_exclude=_as_list(keys.get("platform_exclude")),
        integration_platforms=_as_list(keys.get("integration_platforms")),
        arch_allow=_as_list(keys.get("arch_allow")),
        arch_exclude=_as_list(keys.get("arch_exclude")),
        harness=harness, harness_config=dict(hc),
        timeout=float(keys.get("timeout", 60)),
        build_only=bool(keys.get("build_only", False)),
        skip=bool(keys.get("skip", False)),
        min_ram=int(keys.get("min_ram", -1)), min_flash=int(keys.get("min_flash", -1)),
        ignore_faults=bool(keys.get("ignore_faults", False)),
        filter=str(keys.get("filter") or ""),
        extra_configs=dict(parse_assignment(str(c)) for c in keys.get("extra_configs") or []),
        depends_on=_as_list(keys.get("depends_on")),
        platform_key=_as_list(keys.get("platform_key")),
        keys=keys,
    )
    declared = _as_list(keys.get("testcases"))
    if declared:
        sc.testcases = declared
    elif harness in ("", "ztest", "test"):
        sc.testcases = scan_ztest_cases(model)
    return sc


def discover(roots: Iterable[str | Path]) -> list[Scenario]:
    """Every scenario under ``roots`` (each root once), in path order then file order.
    Directories zsim wrote (holding its output marker) are not searched."""
    out: list[Scenario] = []
    seen: set[Path] = set()
    for r in roots:
        root = Path(r)
        if not root.is_dir():
            raise TwisterConfigError(f"{root}: test root is not a directory")
        if root.resolve() in seen:
            continue
        seen.add(root.resolve())
        for dirpath, dirnames, filenames in os.walk(root):
            if MARKER in filenames:
                dirnames[:] = []
                continue
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                                 and d != "__pycache__")
            yaml_name = next((f for f in SUITE_FILES if f in filenames), None)
            model_name = next((f for f in MODEL_FILES if f in filenames), None)
            if yaml_name is None or model_name is None:
                continue
            directory = Path(dirpath)
            yaml_file = directory / yaml_name
            doc = read_config(yaml_file)
            data = load_suite_file(yaml_file, doc)
            common = data.get("common") or {}
            for sid, keys in data["tests"].items():
                merged = merge_common(common, keys or {})
                out.append(_scenario(str(sid), merged, root, directory, yaml_file,
                                     directory / model_name,
                                     doc.key_line(["tests", sid])))
    return out


__all__ = ["Scenario", "TwisterConfigError", "discover", "load_suite_file", "merge_common",
           "read_config", "scan_ztest_cases", "SUITE_SCHEMA"]
