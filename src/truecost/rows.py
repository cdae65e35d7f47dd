"""Flat rows for spreadsheets: a result's JSON document, one row per option or operating point.

A row is the JSON object of one item with nested keys joined by dots (``summary.ttft.p50``), so
every number in a CSV or Parquet file is the number ``--json`` prints under that path. Lists stay
one cell (their JSON text); infinities and NaN become empty cells (``null`` in JSON). Left out:
units in column names beyond those the JSON keys already carry (``ttft_s``, ``usd_per_task``).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any, Literal

__all__ = ["csv_text", "flatten", "write_rows"]


def flatten(obj: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}, "c": [1, 2]}`` → ``{"a.b": 1, "c": [1, 2]}``."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out |= flatten(value, name + ".")
        else:
            out[name] = value
    return out


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every key of every row, in order of first appearance (rows may differ: a point with
    energy has columns a point without it lacks)."""
    return list(dict.fromkeys(k for r in rows for k in r))


def _scalar(v: Any) -> Any:
    """A cell: None for missing, infinite or NaN; lists as their JSON text; a numpy scalar (a
    figure from a vectorised screen) as the Python number it holds."""
    if isinstance(v, Enum):
        v = v.value
    if type(v).__module__ == "numpy" and hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(v, default=str, allow_nan=False)
    return v


def csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """CSV with a header row (nested rows are flattened first); floats at full precision
    (``repr``, as JSON writes them).

        >>> csv_text(compare("examples/chat-assistant.toml").to_dict()["options"])  # doctest: +SKIP
    """
    rows = [flatten(r) for r in rows]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    cols = _columns(rows)
    w.writerow(cols)
    for r in rows:
        cells = [_scalar(r.get(c)) for c in cols]
        w.writerow(["" if v is None else ("true" if v is True else "false" if v is False else
                                          repr(v) if isinstance(v, float) else v) for v in cells])
    return buf.getvalue()


def _duckdb_type(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "BOOLEAN"
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "BIGINT"
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return "DOUBLE"
    return "VARCHAR"


def write_rows(rows: Sequence[Mapping[str, Any]], path: str | Path,
               format: Literal["json", "csv", "parquet"] = "csv") -> Path:
    """Write ``rows`` (flattened) to ``path`` as CSV, JSON (a list of objects) or Parquet."""
    rows = [flatten(r) for r in rows]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if format == "csv":
        path.write_text(csv_text(rows), encoding="utf-8")
    elif format == "json":
        doc = [{k: _scalar(v) if not isinstance(v, (list, tuple)) else v for k, v in r.items()}
               for r in rows]
        path.write_text(json.dumps(doc, indent=1, default=str) + "\n", encoding="utf-8")
    elif format == "parquet":
        import duckdb

        cols = _columns(rows)
        cells = [[_scalar(r.get(c)) for c in cols] for r in rows]
        types = [_duckdb_type([row[i] for row in cells]) for i in range(len(cols))]
        con = duckdb.connect()
        q = [('"' + c.replace('"', '""') + '"') for c in cols]
        con.execute(f"CREATE TABLE t ({', '.join(f'{n} {t}' for n, t in zip(q, types))})")
        if cells:
            con.executemany(f"INSERT INTO t VALUES ({', '.join('?' * len(cols))})",
                            [[str(v) if t == "VARCHAR" and v is not None else v
                              for v, t in zip(row, types)] for row in cells])
        target = "'" + str(path).replace("'", "''") + "'"
        con.execute(f"COPY t TO {target} (FORMAT parquet)")
        con.close()
    else:
        from .errors import InputError

        raise InputError(f"unknown format '{format}'; use json, csv or parquet")
    return path
