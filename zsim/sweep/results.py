"""``results.csv`` and ``results.json``: one row per point, in cross-product order."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..export.atomic import write_text

FIRST = ("board", "seed", "status", "drops", "leaks", "faults")
LAST = ("wall_s", "error")


def columns(param_names: Sequence[str], rows: Iterable[dict[str, Any]]) -> list[str]:
    """The point number, parameters (named as given), board, seed, status, totals, then
    each object's columns in the order first seen, then wall seconds and the error."""
    cols = ["point", *(n for n in param_names if n != "seed"), *FIRST]
    seen = set(cols) | set(LAST)
    for row in rows:
        for key in row:
            if key not in seen:
                seen.add(key)
                cols.append(key)
    return cols + list(LAST)


def ordered(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows sorted by their point number (the order points finish in does not matter)."""
    return sorted(rows, key=lambda r: r["point"])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "y" if value else "n"
    return str(value)


def csv_text(cols: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(cols)
    for row in rows:
        w.writerow([_cell(row.get(c)) for c in cols])
    return out.getvalue()


def write_results(out_dir: Path, param_names: Sequence[str], rows: Iterable[dict[str, Any]],
                  meta: dict[str, Any]) -> list[Path]:
    """Write ``results.csv`` and ``results.json`` (each whole or not at all)."""
    rows = ordered(rows)
    cols = columns(param_names, rows)
    csv_path, json_path = out_dir / "results.csv", out_dir / "results.json"
    write_text(csv_path, csv_text(cols, rows))
    doc = {**meta, "columns": cols, "rows": [{c: r.get(c) for c in cols} for r in rows]}
    write_text(json_path, json.dumps(doc, indent=1) + "\n")
    return [csv_path, json_path]


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a ``results.json``."""
    return json.loads(Path(path).read_text(encoding="utf-8"))["rows"]


__all__ = ["columns", "csv_text", "ordered", "read_rows", "write_results"]
