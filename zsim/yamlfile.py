"""YAML input files that keep their node tree, so errors can name the line they are about.

``read_yaml`` / ``parse_yaml`` load a document with PyYAML's safe loader and keep the
composed node tree beside the data. A JSON path (mapping keys and sequence indices, as in a
jsonschema error's ``absolute_path``) then leads to the node, its line, or the line of the
key naming it. Syntax errors become :class:`YamlSyntaxError`; callers turn it, and schema
errors, into their own exceptions and wording.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

__all__ = ["YamlDocument", "YamlSyntaxError", "json_path", "parse_yaml", "read_yaml",
           "unknown_keys"]

JsonPath = Iterable[Any]


class YamlSyntaxError(ValueError):
    """Text that is not valid YAML: the 1-based ``line`` (None when unknown) and the ``problem``."""

    def __init__(self, line: int | None, problem: str) -> None:
        super().__init__(problem if line is None else f"line {line}: {problem}")
        self.line = line
        self.problem = problem


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """A loaded YAML document: its ``data`` and its composed node tree ``root``."""

    data: Any
    root: yaml.Node | None

    def _walk(self, path: JsonPath) -> list[tuple[yaml.Node | None, yaml.Node]]:
        """(key node, or None for a sequence item; value node) of each step of ``path`` found."""
        steps: list[tuple[yaml.Node | None, yaml.Node]] = []
        node = self.root
        for part in path:
            step = None
            if isinstance(node, yaml.MappingNode):
                step = next(((k, v) for k, v in node.value if str(k.value) == str(part)), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                    and 0 <= part < len(node.value):
                step = (None, node.value[part])
            if step is None:
                break
            steps.append(step)
            node = step[1]
        return steps

    def node(self, path: JsonPath, key: Any = None) -> yaml.Node | None:
        """The node at ``path`` (the deepest one found); with ``key``, that key's node in it
        when it is a mapping holding ``key``."""
        steps = self._walk(path)
        node = steps[-1][1] if steps else self.root
        if key is not None and isinstance(node, yaml.MappingNode):
            found = next((k for k, _ in node.value if str(k.value) == str(key)), None)
            if found is not None:
                return found
        return node

    def line(self, path: JsonPath, key: Any = None) -> int:
        """The 1-based line of :meth:`node` (1 for an empty document)."""
        return _line(self.node(path, key))

    def key_line(self, path: JsonPath) -> int:
        """The line of the key naming the node at ``path`` (a sequence item's own line; the
        deepest found; the document's first line for an empty path)."""
        steps = self._walk(path)
        if not steps:
            return _line(self.root)
        key, value = steps[-1]
        return _line(value if key is None else key)


def _line(node: yaml.Node | None) -> int:
    return 1 if node is None else node.start_mark.line + 1


def parse_yaml(text: str) -> YamlDocument:
    """Load YAML text (safe loader) with its node tree; raises :class:`YamlSyntaxError`."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlSyntaxError(None if mark is None else mark.line + 1, problem) from None
    return YamlDocument(data, root)


def read_yaml(path: str | os.PathLike[str]) -> YamlDocument:
    """Read a UTF-8 YAML file with its node tree; raises ``OSError`` or
    :class:`YamlSyntaxError`."""
    return parse_yaml(Path(path).read_text(encoding="utf-8"))


def json_path(parts: JsonPath, root: str = "") -> str:
    """A path as text: ``root`` then ``.key`` / ``[index]`` steps (no dot before a first key
    when ``root`` is empty): ``pools[0].name``, ``$.costs.sem_take``."""
    out = root
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def unknown_keys(err: jsonschema.ValidationError) -> list[Any]:
    """The keys an ``additionalProperties: false`` error is about, sorted by their text
    ([] for any other error)."""
    if err.validator != "additionalProperties" or not isinstance(err.instance, dict):
        return []
    allowed = err.schema.get("properties", {})
    return sorted((k for k in err.instance if k not in allowed), key=str)
