"""zsim.yamlfile: YAML documents that keep their node tree, and the lines errors point at."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from twister_adapter.discovery import TwisterConfigError, load_suite_file
from zsim.boards import load_board
from zsim.errors import BoardError
from zsim.yamlfile import YamlSyntaxError, json_path, parse_yaml, read_yaml, unknown_keys

TEXT = """\
# a comment first
board:
  name: demo
  costs:
    sem_take: 3
items:
  - first
  -
    deep: 1
    1: numeric key
"""


def test_lines_of_nodes_and_keys() -> None:
    doc = parse_yaml(TEXT)
    assert doc.data["items"][1] == {"deep": 1, 1: "numeric key"}
    assert doc.line([]) == 2                          # the document starts at its first key
    assert doc.line(["board", "costs", "sem_take"]) == 5
    assert doc.line(["board", "costs"]) == 5          # a block mapping starts at its first key
    assert doc.key_line(["board", "costs"]) == 4      # ... its key is the line before
    assert doc.line(["items", 1, "deep"]) == 9
    assert doc.key_line(["items", 1]) == 9            # a sequence item names itself
    assert doc.line(["items", 1], key="deep") == 9
    assert doc.line(["items", 1, 1]) == 10            # keys YAML reads as numbers are found
    assert doc.node(["items", 0]).value == "first"


def test_missing_parts_fall_back_to_the_deepest_node_found() -> None:
    doc = parse_yaml(TEXT)
    assert doc.line(["board", "nope", "x"]) == doc.line(["board"]) == 3
    assert doc.key_line(["board", "nope"]) == 2
    assert doc.line(["items", 7]) == doc.line(["items"]) == 7
    assert doc.line(["items", -1]) == 7
    assert doc.line(["board"], key="nope") == 3       # an absent key: the mapping's own line
    assert doc.line(["board", "name"], key="x") == 3  # a key asked of a scalar: the scalar


def test_an_empty_document_is_line_one() -> None:
    doc = parse_yaml("# nothing\n")
    assert (doc.data, doc.root) == (None, None)
    assert doc.line(["a"]) == doc.key_line(["a"]) == doc.line([]) == 1


@pytest.mark.parametrize("text,line,problem", [
    ("a: [1, 2\nb: 3\n", 2, "expected ',' or ']', but got ':'"),
    ("a: 1\n  b: 2\n", 2, "mapping values are not allowed here"),
    ("a: *nope\n", 1, "found undefined alias 'nope'"),
    ("a: !custom 1\n", 1, "could not determine a constructor for the tag '!custom'"),
    ("a: 1\nb: \x01\n", 2, "character U+0001 (column 4) is not allowed in YAML text"),
])
def test_syntax_errors_carry_line_and_problem(text: str, line: int, problem: str) -> None:
    with pytest.raises(YamlSyntaxError) as exc:
        parse_yaml(text)
    assert exc.value.line == line
    assert exc.value.problem == problem


def test_read_yaml(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("k: é\n", encoding="utf-8")
    assert read_yaml(path).data == {"k": "é"}
    with pytest.raises(OSError):
        read_yaml(tmp_path / "missing.yaml")


def test_json_path_text() -> None:
    assert json_path(["pools", 0, "name"]) == "pools[0].name"
    assert json_path([0, "a"]) == "[0].a"
    assert json_path([]) == ""
    assert json_path(["costs", "sem_take"], "$") == "$.costs.sem_take"
    assert json_path([], "$") == "$"


def test_unknown_keys_sorted_by_text() -> None:
    schema = {"type": "object", "properties": {"a": {}}, "additionalProperties": False}
    (err,) = jsonschema.Draft202012Validator(schema).iter_errors({"a": 1, "zz": 1, 10: 1, 2: 1})
    assert unknown_keys(err) == [10, 2, "zz"]
    (err,) = jsonschema.Draft202012Validator({"type": "string"}).iter_errors(1)
    assert unknown_keys(err) == []


def _board_text() -> str:
    return (Path(__file__).resolve().parent.parent / "board_profiles" / "qemu_x86.yaml"
            ).read_text(encoding="utf-8")


def test_numeric_unknown_key_in_a_board_profile_is_reported(tmp_path: Path) -> None:
    text = _board_text() + "7: seven\nzz: 1\n"
    path = tmp_path / "b.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BoardError) as exc:
        load_board(path)
    line = text.splitlines().index("7: seven") + 1
    assert f"{path}:{line}: $[7]: unknown key(s) 7, zz (expected only: aliases," in str(exc.value)


def test_numeric_unknown_key_in_a_suite_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "testcase.yaml"
    path.write_text("tests:\n  a.b: {}\n\n12: x\n", encoding="utf-8")
    with pytest.raises(TwisterConfigError) as exc:
        load_suite_file(path)
    assert str(exc.value) == f"{path}:4: (top level): unknown key 12"
