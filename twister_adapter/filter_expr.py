"""twister's ``filter:`` expressions, parsed and evaluated against a scenario's Kconfig.

The language is that of twister's expression parser (scripts/pylib/twister/expr_parser.py):
``or`` binds loosest, then ``and``, then ``not``; a term is a comparison of a symbol with a
string or number (``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``), membership in a list
(``SYM in ["a", "b"]``), a regular-expression match (``SYM : "regex"``), a bare symbol (true
when it has a non-empty value), a parenthesised expression, or a function call. Symbols are
the ``CONFIG_*`` values of the scenario's configuration as a ``.config`` holds them (``y``
for an enabled bool, absent when disabled), ``ARCH``, ``PLATFORM`` and the environment.
zsim boards have no devicetree, so every ``dt_*`` function is false.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<num>0[xX][0-9a-fA-F]+|\d+)
    | (?P<op>==|!=|<=|>=|<|>|:|\(|\)|\[|\]|,)
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""", re.VERBOSE)
_KEYWORDS = {"and", "or", "not", "in"}
_COMPARE = {"==", "!=", "<", "<=", ">", ">="}


class FilterSyntaxError(ValueError):
    """A ``filter:`` expression that does not parse; the message says where and why."""


@dataclass(frozen=True)
class _Tok:
    kind: str       # "str" | "num" | "op" | "word" | "kw" | "end"
    value: Any
    at: int


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            out.append(_Tok("end", None, pos))
            return out
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise FilterSyntaxError(f"unexpected {text[pos]!r} at column {pos + 1}")
        kind = m.lastgroup or ""
        raw, start = m.group(kind), m.start(kind)
        if kind == "str":
            value: Any = bytes(raw[1:-1], "utf-8").decode("unicode_escape")
        elif kind == "num":
            value = int(raw, 0)
        else:
            value = raw
        if kind == "word" and raw in _KEYWORDS:
            kind = "kw"
        out.append(_Tok(kind, value, start))
        pos = m.end()


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, kind: str, value: Any = None) -> _Tok:
        tok = self.take()
        if tok.kind != kind or (value is not None and tok.value != value):
            want = repr(value) if value is not None else kind
            got = "the end" if tok.kind == "end" else repr(tok.value)
            raise FilterSyntaxError(f"expected {want} at column {tok.at + 1}, got {got}")
        return tok

    def parse(self) -> tuple:
        node = self.or_()
        self.expect("end")
        return node

    def _chain(self, word: str, operand: Any) -> tuple:
        node = operand()
        while self.peek().kind == "kw" and self.peek().value == word:
            self.take()
            node = (word, node, operand())
        return node

    def or_(self) -> tuple:
        return self._chain("or", self.and_)

    def and_(self) -> tuple:
        return self._chain("and", self.not_)

    def _items(self, close: str) -> list[Any]:
        """Comma-separated literals up to and including ``close``."""
        items: list[Any] = []
        while not (self.peek().kind == "op" and self.peek().value == close):
            items.append(self.literal())
            if self.peek().kind == "op" and self.peek().value == ",":
                self.take()
        self.expect("op", close)
        return items

    def not_(self) -> tuple:
        if self.peek().kind == "kw" and self.peek().value == "not":
            self.take()
            return ("not", self.not_())
        return self.term()

    def term(self) -> tuple:
        tok = self.take()
        if tok.kind == "op" and tok.value == "(":
            node = self.or_()
            self.expect("op", ")")
            return node
        if tok.kind != "word":
            got = "the end" if tok.kind == "end" else repr(tok.value)
            raise FilterSyntaxError(f"expected a symbol at column {tok.at + 1}, got {got}")
        nxt = self.peek()
        if nxt.kind == "op" and nxt.value == "(":
            self.take()
            return ("call", tok.value, self._items(")"))
        if nxt.kind == "op" and nxt.value in _COMPARE:
            self.take()
            return (nxt.value, tok.value, self.literal())
        if nxt.kind == "op" and nxt.value == ":":
            self.take()
            return (":", tok.value, self.expect("str").value)
        if nxt.kind == "kw" and nxt.value == "in":
            self.take()
            self.expect("op", "[")
            return ("in", tok.value, self._items("]"))
        return ("exists", tok.value)

    def literal(self) -> Any:
        tok = self.take()
        if tok.kind in ("str", "num", "word"):
            return tok.value
        got = "the end" if tok.kind == "end" else repr(tok.value)
        raise FilterSyntaxError(f"expected a string or number at column {tok.at + 1}, "
                                f"got {got}")


def parse_filter(text: str) -> tuple:
    """The syntax tree of a filter expression; ``FilterSyntaxError`` when it is invalid."""
    return _Parser(text).parse()


def _num(value: str) -> int | None:
    try:
        return int(value, 0)
    except ValueError:
        return None


def evaluate(tree: tuple, env: Mapping[str, str]) -> bool:
    """Evaluate a parsed filter against symbol values (strings, as a .config holds them)."""
    op = tree[0]
    if op == "or":
        return evaluate(tree[1], env) or evaluate(tree[2], env)
    if op == "and":
        return evaluate(tree[1], env) and evaluate(tree[2], env)
    if op == "not":
        return not evaluate(tree[1], env)
    if op == "call":                    # dt_* and friends: no devicetree in zsim
        return False
    value = env.get(tree[1], "")
    if op == "exists":
        return value != ""
    if op == ":":
        return re.match(tree[2], value) is not None
    if op == "in":
        return value in [str(x) for x in tree[2]]
    rhs = tree[2]
    if op in ("==", "!="):
        same = value == str(rhs) or (isinstance(rhs, int) and _num(value) == rhs)
        return same if op == "==" else not same
    lhs, r = _num(value), rhs if isinstance(rhs, int) else _num(str(rhs))
    if lhs is None or r is None:
        return False
    return {"<": lhs < r, "<=": lhs <= r, ">": lhs > r, ">=": lhs >= r}[op]


def filter_env(config: Mapping[str, object], arch: str, platform: str) -> dict[str, str]:
    """Symbols a filter sees: the environment, then ``ARCH``/``PLATFORM``, then every Kconfig
    symbol as ``CONFIG_<NAME>`` the way a ``.config`` has it (disabled bools left out)."""
    env: dict[str, str] = dict(os.environ)
    env["ARCH"] = arch
    env["PLATFORM"] = platform
    for name, value in config.items():
        if value is False or value is None:
            continue
        env[f"CONFIG_{name}"] = "y" if value is True else str(value)
    return env
