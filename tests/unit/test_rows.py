"""Flat rows (``truecost.rows``): dotted keys, full-precision floats, empty cells for null and
infinity, and the same rows through CSV, JSON and Parquet."""

import csv
import io
import json

import duckdb
import pytest

from truecost.errors import InputError
from truecost.rows import csv_text, flatten, write_rows

ROWS = [flatten({"label": "c=1", "summary": {"ttft": {"p50": 0.1 + 0.2, "n": 3}, "slos": ["a"]},
                 "ok": True, "cost": None}),
        flatten({"label": "c=2", "summary": {"ttft": {"p50": float("inf"), "n": 4}}, "extra": 7})]


def test_flatten_joins_nested_keys_with_dots():
    assert list(ROWS[0]) == ["label", "summary.ttft.p50", "summary.ttft.n", "summary.slos", "ok",
                             "cost"]


def test_csv_keeps_every_bit_and_leaves_missing_cells_empty():
    rows = list(csv.DictReader(io.StringIO(csv_text(ROWS))))
    assert rows[0]["summary.ttft.p50"] == "0.30000000000000004"  # repr: round-trips exactly
    assert (rows[0]["ok"], rows[0]["cost"], rows[0]["summary.slos"]) == ("true", "", '["a"]')
    assert (rows[1]["summary.ttft.p50"], rows[1]["extra"], rows[0]["extra"]) == ("", "7", "")


def test_the_three_formats_hold_the_same_rows(tmp_path):
    j = json.loads(write_rows(ROWS, tmp_path / "r.json", "json").read_text())
    assert j[0]["summary.ttft.p50"] == 0.1 + 0.2 and j[1]["summary.ttft.p50"] is None
    p = write_rows(ROWS, tmp_path / "r.parquet", "parquet")
    got = duckdb.connect().execute(f"SELECT \"summary.ttft.p50\", \"summary.ttft.n\", extra, ok "
                                   f"FROM read_parquet('{p}')").fetchall()
    assert got == [(0.1 + 0.2, 3, None, True), (None, 4, 7, None)]
    with pytest.raises(InputError, match="^unknown format 'xls'; use json, csv or parquet$"):
        write_rows(ROWS, tmp_path / "r.xls", "xls")  # type: ignore[arg-type]


def test_numpy_scalars_are_written_as_the_numbers_they_hold():
    """plan's figures come from a vectorised screen: a numpy float must reach the CSV as its
    digits (``repr`` of a numpy scalar is ``np.float64(...)``), a numpy int as an integer."""
    np = pytest.importorskip("numpy")
    (row,) = csv.DictReader(io.StringIO(csv_text([{"usd": np.float64(0.1 + 0.2), "n": np.int64(7)}])))
    assert row == {"usd": "0.30000000000000004", "n": "7"}
