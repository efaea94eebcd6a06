"""Every YAML input is checked before it is used: duplicate keys, alias bombs, recursive
aliases and undecodable text are errors naming the file and the line."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from twister_adapter.discovery import TwisterConfigError, load_suite_file
from twister_adapter.hardware_map import load_hardware_map
from zsim.boards import load_board, shipped_board_dir
from zsim.errors import BoardError
from zsim.topology import TopologyError, load_topology
from zsim.yamlfile import (
    EXPANSION_FACTOR,
    EXPANSION_FLOOR,
    YamlSyntaxError,
    parse_yaml,
    read_yaml,
)

TOPOLOGY = """\
version: 1
pools:
  - {name: p, count: 4, size: 64}
sources: [src]
sinks: [{name: s}]
connections: [[src, s]]
"""


def bomb(levels: int, width: int = 9) -> str:
    """A billion-laughs document: each level lists ``width`` aliases of the one before."""
    text = 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for i in range(1, levels + 1):
        text += f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]\n"
    return text


def test_a_key_given_twice_names_both_lines() -> None:
    with pytest.raises(YamlSyntaxError) as exc:
        parse_yaml("a: 1\nb:\n  c: 2\n  d: 3\n  c: 4\n")
    assert exc.value.line == 5
    assert exc.value.problem == "duplicate key 'c' (first defined at line 3)"


def test_keys_are_compared_as_yaml_reads_them() -> None:
    with pytest.raises(YamlSyntaxError, match=r"duplicate key 1 \(first defined at line 1\)"):
        parse_yaml("1: a\n0x1: b\n")
    assert parse_yaml("1: a\n'1': b\n").data == {1: "a", "1": "b"}


def test_a_merge_key_may_be_overridden() -> None:
    doc = parse_yaml("base: &b {k: 1, j: 2}\nd:\n  <<: *b\n  k: 3\n")
    assert doc.data["d"] == {"k": 3, "j": 2}
    assert doc.line(["d", "k"]) == 4                  # lines come from the file as written


def test_an_alias_bomb_is_refused_before_it_is_expanded() -> None:
    text = bomb(9)                                    # 9 ** 10 strings once expanded
    tracemalloc.start()
    try:
        with pytest.raises(YamlSyntaxError) as exc:
            parse_yaml(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert exc.value.line == 10                       # the line of the biggest alias
    assert "alias *l8 here alone stands for" in exc.value.problem
    assert peak < 20 * len(text) * 1024               # nothing near the expansion is built


def test_aliases_that_expand_a_little_are_fine() -> None:
    doc = parse_yaml(bomb(2))                          # 9 + 81 + 729 strings
    assert len(doc.data["l2"]) == 9 and doc.data["l2"][0][0] == doc.data["l0"]


def test_the_expansion_limit() -> None:
    # root, key a, a's list of 8, key b, b's list of `width` aliases of 9 nodes each
    def doc(width: int) -> str:
        return "a: &a [1, 2, 3, 4, 5, 6, 7, 8]\nb: [" + ", ".join(["*a"] * width) + "]\n"

    most = (EXPANSION_FLOOR - 13) // 9                 # few nodes written: the floor applies
    assert len(parse_yaml(doc(most)).data["b"]) == most
    with pytest.raises(YamlSyntaxError, match=rf"at most {EXPANSION_FLOOR} allowed"):
        parse_yaml(doc(most + 1))
    # a document with more nodes of its own may expand to EXPANSION_FACTOR times them
    written = EXPANSION_FLOOR // EXPANSION_FACTOR * 2
    own = "c: [" + ", ".join(["0"] * written) + "]\n"
    width = EXPANSION_FACTOR * written * 8 // 10 // 9   # 80 % of the limit, over the floor
    assert 9 * width > EXPANSION_FLOOR
    assert len(parse_yaml(doc(width) + own).data["b"]) == width


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(YamlSyntaxError) as exc:
        parse_yaml("a: 1\nb: &x\n  - 1\n  - *x\n")
    assert exc.value.line == 4 and "recursive alias" in exc.value.problem


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(YamlSyntaxError, match="nested too deeply"):
        parse_yaml("a: " + "[" * 1000 + "]" * 1000 + "\n")


def test_undecodable_text_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(YamlSyntaxError) as exc:
        read_yaml(path)
    assert exc.value.line == 2
    assert exc.value.problem.startswith("not UTF-8 text: byte 0xe9 at column 7")


# --- every reader goes through the same checks ----------------------------------------------


def _profile(tmp_path: Path, extra: str) -> Path:
    text = (shipped_board_dir() / "qemu_x86.yaml").read_text(encoding="utf-8")
    path = tmp_path / "b.yaml"
    path.write_text(text + extra, encoding="utf-8")
    return path


@pytest.mark.parametrize("extra,expect", [
    ("xip: false\n", "duplicate key 'xip' (first defined at line"),
    ("zz: &z [1, 2]\nyy: &y [*z, *z, *z, *z]\n", None),     # then only an unknown-key error
])
def test_board_profiles(tmp_path: Path, extra: str, expect: str | None) -> None:
    path = _profile(tmp_path, extra)
    with pytest.raises(BoardError) as exc:
        load_board(path)
    lines = (path.read_text().count("\n"))
    if expect is not None:
        assert f"{path}:{lines}: invalid YAML: {expect}" in str(exc.value)
    else:
        assert "unknown key(s) yy, zz" in str(exc.value)


def test_board_profile_alias_bomb_and_bad_bytes(tmp_path: Path) -> None:
    path = _profile(tmp_path, bomb(9).replace("l", "x_l"))
    with pytest.raises(BoardError, match=rf"{path}:\d+: invalid YAML: aliases expand"):
        load_board(path)
    path.write_bytes(path.read_bytes().replace(b"arch:", b"\xffarch:"))
    with pytest.raises(BoardError, match=rf"{path}:\d+: invalid YAML: not UTF-8 text"):
        load_board(path)


def test_topology_files(tmp_path: Path) -> None:
    path = tmp_path / "topology.yaml"
    path.write_text(TOPOLOGY + "sources: [other]\n")
    with pytest.raises(TopologyError) as exc:
        load_topology(path)
    assert exc.value.errors == [f"{path}:7: YAML syntax: duplicate key 'sources' (first "
                                f"defined at line 4)"]
    path.write_bytes(TOPOLOGY.encode().replace(b"src]", b"sr\xffc]"))
    with pytest.raises(TopologyError) as exc:
        load_topology(path)
    assert exc.value.errors[0].startswith(f"{path}:4: not UTF-8 text: byte 0xff at column 13")


def test_suite_files_and_hardware_maps(tmp_path: Path) -> None:
    suite = tmp_path / "testcase.yaml"
    suite.write_text("tests:\n  a.b: {}\n  a.c: {}\n  a.b: {tags: x}\n")
    with pytest.raises(TwisterConfigError, match=rf"^{suite}:4: invalid YAML: duplicate key "
                                                 r"'a.b' \(first defined at line 2\)"):
        load_suite_file(suite)
    hwmap = tmp_path / "map.yaml"
    hwmap.write_text("- id: one\n  platform: qemu_x86\n  serial: /dev/null\n  id: two\n")
    with pytest.raises(TwisterConfigError, match=rf"^{hwmap}:4: invalid YAML: duplicate key"):
        load_hardware_map(hwmap)
