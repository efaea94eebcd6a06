"""YAML input files that keep their node tree, so errors can name the line they are about.

``read_yaml`` / ``parse_yaml`` load a document with PyYAML's safe loader and keep the
composed node tree beside the data. A JSON path (mapping keys and sequence indices, as in a
jsonschema error's ``absolute_path``) then leads to the node, its line, or the line of the
key naming it. Every document is checked before it is built: text that is not UTF-8, a key
given twice in one mapping, an alias used inside the node it names, and aliases that would
expand the document to more than :data:`EXPANSION_FACTOR` times its written size (at least
:data:`EXPANSION_FLOOR` nodes) are :class:`YamlSyntaxError`, as are syntax errors; callers
turn it, and schema errors, into their own exceptions and wording.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jsonschema
import yaml

__all__ = ["EXPANSION_FACTOR", "EXPANSION_FLOOR", "MAX_FILE_BYTES", "TextError",
           "YamlDocument", "YamlSyntaxError", "decode_text", "json_path", "parse_yaml",
           "read_text", "read_yaml", "unknown_keys"]

JsonPath = Iterable[Any]

MAX_FILE_BYTES = 16 * 1024 * 1024
"""The largest input file zsim reads (YAML files and prj.conf)."""
EXPANSION_FACTOR = 10
"""Aliases may expand a document to this many times the nodes written in it ..."""
EXPANSION_FLOOR = 10_000
"""... or to this many nodes, whichever is more."""
_MERGE_TAG = "tag:yaml.org,2002:merge"


class TextError(ValueError):
    """Input text that cannot be used: the 1-based ``line`` (None when unknown) and the
    ``problem``."""

    def __init__(self, line: int | None, problem: str) -> None:
        super().__init__(problem if line is None else f"line {line}: {problem}")
        self.line = line
        self.problem = problem


class YamlSyntaxError(TextError):
    """Text that is not valid YAML, or that zsim refuses to expand (see the module)."""


def decode_text(data: bytes) -> str:
    """UTF-8 ``data`` as text; :class:`TextError` naming the line and column of the first
    byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        raise TextError(line, f"not UTF-8 text: byte 0x{data[exc.start]:02x} at column "
                              f"{exc.start - start + 1} ({exc.reason})") from None


def read_text(path: str | os.PathLike[str], max_bytes: int = MAX_FILE_BYTES) -> str:
    """A UTF-8 text file's content; ``OSError`` when unreadable, :class:`TextError` when it
    is not UTF-8 or larger than ``max_bytes``."""
    with open(path, "rb") as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise TextError(None, f"file larger than {max_bytes} bytes: not an input zsim reads")
    return decode_text(data)


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


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, recording each alias and refusing recursive ones."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.aliases: list[tuple[yaml.Mark, str, yaml.Node]] = []
        self._open: list[str] = []      # anchors of the nodes being composed

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open:
                raise YamlSyntaxError(event.start_mark.line + 1,
                                      f"alias *{event.anchor} is used inside the node it "
                                      f"names (a recursive alias)")
            node = super().compose_node(parent, index)
            self.aliases.append((event.start_mark, event.anchor, node))
            return node
        if event.anchor is None:
            return super().compose_node(parent, index)
        self._open.append(event.anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._open.pop()


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _expanded_sizes(root: yaml.Node) -> dict[int, int]:
    """id(node) -> how many nodes it stands for once every alias in it is expanded, for
    every distinct node (the tree is acyclic: recursive aliases are refused)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        kids = _children(node)
        if done:
            sizes[id(node)] = 1 + sum(sizes[id(k)] for k in kids)
            continue
        stack.append((node, True))
        stack.extend((k, False) for k in kids if id(k) not in sizes)
    return sizes


def _check_expansion(root: yaml.Node, aliases: list[tuple[yaml.Mark, str, yaml.Node]]
                     ) -> list[yaml.Node]:
    """Refuse aliases that blow the document up; every distinct node of it."""
    sizes = _expanded_sizes(root)
    limit = max(EXPANSION_FLOOR, EXPANSION_FACTOR * len(sizes))
    total = sizes[id(root)]
    if total > limit:
        mark, anchor, node = max(aliases, key=lambda a: sizes[id(a[2])])
        raise YamlSyntaxError(
            mark.line + 1,
            f"aliases expand this document to {total} nodes from the {len(sizes)} written "
            f"(at most {limit} allowed); alias *{anchor} here alone stands for "
            f"{sizes[id(node)]}")
    seen: set[int] = set()
    nodes = []
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            nodes.append(node)
            stack.extend(_children(node))
    return nodes


def _check_duplicate_keys(loader: _Loader, nodes: list[yaml.Node]) -> None:
    """Refuse a key given twice in one mapping (merge keys ``<<`` may be overridden)."""
    for node in nodes:
        if not isinstance(node, yaml.MappingNode):
            continue
        seen: dict[Any, int] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
                continue
            value = loader.construct_object(key, deep=True)
            line = key.start_mark.line + 1
            if value in seen:
                raise YamlSyntaxError(line, f"duplicate key {value!r} (first defined at "
                                            f"line {seen[value]})")
            seen[value] = line


def _char(c: int | str) -> str:
    return f"U+{c if isinstance(c, int) else ord(c):04X}"


def _syntax_error(exc: yaml.YAMLError, text: str) -> YamlSyntaxError:
    if isinstance(exc, yaml.reader.ReaderError):
        pos = max(exc.position, 0)
        column = pos - text.rfind("\n", 0, pos)
        return YamlSyntaxError(text.count("\n", 0, pos) + 1,
                               f"character {_char(exc.character)} (column {column}) is "
                               f"not allowed in YAML text")
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return YamlSyntaxError(None if mark is None else mark.line + 1, problem)


def parse_yaml(text: str) -> YamlDocument:
    """Load YAML text (safe loader) with its node tree after the checks of the module;
    raises :class:`YamlSyntaxError`."""
    try:
        loader = _Loader(text)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, text) from None
    try:
        root = loader.get_single_node()
        if root is None:
            return YamlDocument(None, None)
        nodes = _check_expansion(root, loader.aliases)
        _check_duplicate_keys(loader, nodes)
        pristine = copy.deepcopy(root)   # building the data rewrites merged mappings
        data = loader.construct_document(root)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, text) from None
    except RecursionError:
        raise YamlSyntaxError(None, "nested too deeply") from None
    finally:
        loader.dispose()
    return YamlDocument(data, pristine)


def read_yaml(path: str | os.PathLike[str]) -> YamlDocument:
    """Read a UTF-8 YAML file with its node tree; raises ``OSError`` or
    :class:`YamlSyntaxError` (undecodable text included)."""
    try:
        text = read_text(path)
    except YamlSyntaxError:
        raise
    except TextError as exc:
        raise YamlSyntaxError(exc.line, exc.problem) from None
    return parse_yaml(text)


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
