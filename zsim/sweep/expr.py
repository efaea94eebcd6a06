"""Conditions on a result row (``--where "drops == 0"``, ``--stop-when "status != 0"``).

A Python-like expression over the row's columns: numbers, strings, ``== != < <= > >=``,
``and or not``, ``+ - * /`` and parentheses. A column with dots is written as it is named
(``tcp_sink.p99_us < 200000``, ``queues.network_queue.size``).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Mapping
from typing import Any

from .params import SweepInputError

_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
        ast.Gt: operator.gt, ast.GtE: operator.ge}
_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Div: operator.truediv}


class Condition:
    """A checked condition; ``holds(row)`` evaluates it (a missing or empty column makes a
    comparison false)."""

    def __init__(self, text: str, option: str = "--where") -> None:
        self.text = text
        self.option = option
        try:
            self.tree = ast.parse(text, mode="eval").body
        except SyntaxError as exc:
            raise SweepInputError(f"{option} {text!r}: not an expression ({exc.msg} at "
                                  f"column {exc.offset})") from None
        self.names = set()
        self._check(self.tree)

    def _check(self, node: ast.AST) -> None:
        if isinstance(node, ast.BoolOp | ast.Compare | ast.BinOp | ast.UnaryOp):
            ops = ([node.op] if isinstance(node, ast.BoolOp | ast.BinOp | ast.UnaryOp)
                   else node.ops)
            allowed = (ast.And, ast.Or, ast.Not, ast.USub, *_CMP, *_BIN)
            bad = [o for o in ops if not isinstance(o, allowed)]
            if bad:
                raise SweepInputError(f"{self.option} {self.text!r}: operator "
                                      f"{type(bad[0]).__name__} is not allowed")
            for child in ast.iter_child_nodes(node):
                if not isinstance(child, ast.operator | ast.boolop | ast.cmpop | ast.unaryop):
                    self._check(child)
        elif isinstance(node, ast.Name | ast.Attribute):
            self.names.add(_dotted(node, self))
        elif isinstance(node, ast.Constant) and isinstance(node.value, int | float | str):
            pass
        else:
            raise SweepInputError(f"{self.option} {self.text!r}: "
                                  f"{ast.unparse(node)!r} is not allowed (use columns, "
                                  "numbers, comparisons, and/or/not, + - * /)")

    def holds(self, row: Mapping[str, Any]) -> bool:
        try:
            return bool(self._eval(self.tree, row))
        except (TypeError, ZeroDivisionError, _Missing):
            return False

    def _eval(self, node: ast.AST, row: Mapping[str, Any]) -> Any:
        if isinstance(node, ast.BoolOp):
            vals = (self._eval(v, row) for v in node.values)
            return all(vals) if isinstance(node.op, ast.And) else any(vals)
        if isinstance(node, ast.UnaryOp):
            v = self._eval(node.operand, row)
            return (not v) if isinstance(node.op, ast.Not) else -v
        if isinstance(node, ast.BinOp):
            return _BIN[type(node.op)](self._eval(node.left, row), self._eval(node.right, row))
        if isinstance(node, ast.Compare):
            left = self._eval(node.left, row)
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                right = self._eval(right_node, row)
                if not _CMP[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.Constant):
            return node.value
        name = _dotted(node, self)
        value = row.get(name)
        if value is None or value == "":
            raise _Missing(name)
        return value


class _Missing(Exception):
    """A column the row does not have (or has empty)."""


def _dotted(node: ast.AST, cond: Condition) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        raise SweepInputError(f"{cond.option} {cond.text!r}: {ast.unparse(node)!r} is not a "
                              "column name")
    parts.append(node.id)
    return ".".join(reversed(parts))


__all__ = ["Condition"]
