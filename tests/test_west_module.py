"""The files that make zsim a west project and a Zephyr module: zephyr/module.yml against
the module schema of Zephyr's scripts/zephyr_module.py, with every path it names present;
west.yml against west's own manifest schema; scripts/west-commands.yml naming a file and
a WestCommand class that exist."""

from __future__ import annotations

import ast
from pathlib import Path

import jsonschema
import pytest

from zsim.yamlfile import read_yaml

ROOT = Path(__file__).resolve().parent.parent

_PATH = {"type": "string", "minLength": 1}
_PATHS = {"type": "array", "items": _PATH}
# zephyr_module.py's METADATA_SCHEMA (pykwalify), as JSON Schema: the keys a module names
# paths with, and the name's rule.
MODULE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": r"^[A-Za-z0-9_-]+$"},
        "build": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "cmake": _PATH, "kconfig": _PATH, "cmake-ext": {"type": "boolean"},
                "kconfig-ext": {"type": "boolean"}, "sysbuild-cmake": _PATH,
                "sysbuild-kconfig": _PATH, "sysbuild-cmake-ext": {"type": "boolean"},
                "sysbuild-kconfig-ext": {"type": "boolean"}, "depends": _PATHS,
                "settings": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {k: _PATH for k in (
                        "board_root", "dts_root", "snippet_root", "soc_root", "arch_root",
                        "module_ext_root", "sca_root")},
                },
            },
        },
        "samples": _PATHS,
        "tests": _PATHS,
        "boards": _PATHS,
    },
}


def _module_paths(data: dict) -> list[str]:
    build = data.get("build", {})
    paths = [build[k] for k in ("cmake", "kconfig", "sysbuild-cmake", "sysbuild-kconfig")
             if k in build]
    paths += list(build.get("settings", {}).values())
    for key in ("samples", "tests", "boards"):
        paths += data.get(key, [])
    return paths


def test_module_yml_follows_the_module_schema_and_names_existing_paths():
    data = read_yaml(ROOT / "zephyr" / "module.yml").data
    jsonschema.validate(data, MODULE_SCHEMA)
    assert data["name"] == "zsim"
    missing = [p for p in _module_paths(data) if not (ROOT / p).exists()]
    assert not missing, f"zephyr/module.yml names paths that do not exist: {missing}"


def test_module_yml_schema_check_rejects_a_bad_module():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "zsim", "build": {"cmake_dir": "."}}, MODULE_SCHEMA)
    assert _module_paths({"build": {"cmake": "x", "settings": {"board_root": "y"}},
                          "samples": ["z"]}) == ["x", "y", "z"]


def test_the_shim_is_a_zephyr_application_the_module_readme_shows_how_to_build():
    shim = ROOT / "firmware_bridge" / "shim"
    assert "find_package(Zephyr" in (shim / "CMakeLists.txt").read_text(encoding="utf-8")
    readme = (shim / "README.md").read_text(encoding="utf-8")
    assert "west build -b nrf52840dk/nrf52840 zsim/firmware_bridge/shim\nwest flash" in readme


def test_west_yml_is_a_valid_manifest_naming_the_west_commands_file():
    west_manifest = pytest.importorskip("west.manifest", reason="west is not installed")
    data = read_yaml(ROOT / "west.yml").data
    west_manifest.validate(data)
    commands = data["manifest"]["self"]["west-commands"]
    assert (ROOT / commands).is_file()


def test_west_commands_name_a_west_command_class_that_exists():
    data = read_yaml(ROOT / "scripts" / "west-commands.yml").data
    [entry] = data["west-commands"]
    source = ROOT / entry["file"]
    tree = ast.parse(source.read_text(encoding="utf-8"))
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    [command] = entry["commands"]
    assert command["name"] == "zsim"
    assert "\n" not in command["help"] and len(command["help"]) < 80
    cls = classes[command["class"]]
    assert [b.id for b in cls.bases if isinstance(b, ast.Name)] == ["WestCommand"]
