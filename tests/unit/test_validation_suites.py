"""truecost.validation: the suites behind `truecost validate`, their summary and their sources.

The serving rows' own bar (median |error| <= 25%, no row off by 2x) is held by
tests/unit/perf/test_validation.py and the training rows' by tests/unit/test_train.py; here:
the summary arithmetic against hand-computed values, the sources, the engine-profile switch,
and the errors.
"""

from __future__ import annotations

import csv
import statistics
from pathlib import Path

import pytest

from truecost import validate
from truecost.catalog import data_file
from truecost.errors import InputError, UnknownNameError
from truecost.perf.calibrate import save_profile
from truecost.perf.engine import engine
from truecost.perf.validation import ValidationRow
from truecost.validation import _row_sources, source_dates, summary_of


def _row(rid: str, metric: str, published: float, predicted: float | None) -> ValidationRow:
    return ValidationRow(rid, rid, metric, "u", published, predicted, "")


def test_summary_by_metric_by_hand() -> None:
    rows = [_row("a", "x", 100, 110), _row("b", "x", 100, 50), _row("c", "y", 10, 12),
            _row("d", "y", 10, None), _row("e", "z", 5, None)]
    s = summary_of(rows)
    # |errors| over rows with a prediction: 0.10, 0.50, 0.20 -> median 0.20; worst ratio 100/50 = 2
    assert (s.rows, s.median_abs_error, s.max_ratio) == (5, pytest.approx(0.2), pytest.approx(2.0))
    assert list(s.by_metric) == ["x", "y", "z"]
    assert s.by_metric["x"].median_abs_error == pytest.approx((0.1 + 0.5) / 2)
    assert s.by_metric["y"].max_ratio == pytest.approx(1.2) and s.by_metric["y"].rows == 2
    assert (s.by_metric["z"].median_abs_error, s.by_metric["z"].max_ratio) == (None, None)


def test_serving_report_matches_its_rows() -> None:
    r = validate("serving")
    errors = [abs(x.error) for x in r.rows]
    assert r.summary.median_abs_error == pytest.approx(statistics.median(errors))
    tput = [abs(x.error) for x in r.rows if x.metric == "output_throughput"]
    assert r.summary.by_metric["output_throughput"].median_abs_error == pytest.approx(
        statistics.median(tput))
    assert r.engine == "tuned" and r.to_dict()["summary"]["rows"] == len(r.rows)


def test_every_shipped_row_names_a_dated_source() -> None:
    dates = source_dates()
    for name in ("serving_published.csv", "training_published.csv"):
        for rid, text in _row_sources(data_file(f"validation/{name}")).items():
            assert text and text != "same", rid
            assert "retrieved" in dates.get(text, {}), f"{name} {rid}: '{text}' has no date in sources.toml"
    report = validate("training")
    assert report.sources["T7-usd"] == report.sources["T7"]
    assert report.sources["T4"] == "meta-llama Llama 2 model card (published 2023-07-18, retrieved 2026-11-25)"


def test_a_calibrated_profile_changes_the_predictions(tmp_path: Path) -> None:
    base = validate("serving")
    slow = engine("tuned").model_copy(update={"key": "slow-hbm", "memory_efficiency": 0.5,
                                              "calibration": "test: half the bandwidth"})
    save_profile(slow)  # under $TRUECOST_HOME/engines, as `truecost calibrate` saves it
    other = validate("serving", engine="slow-hbm")
    assert other.engine == "slow-hbm"
    # memory-bound rows get slower: V12b (ITL at 2 req/s) rises when HBM efficiency halves
    v12b = {r.id: r for r in base.rows}["V12b"], {r.id: r for r in other.rows}["V12b"]
    assert v12b[1].predicted > v12b[0].predicted * 1.3


def test_custom_csv(tmp_path: Path) -> None:
    src = data_file("validation/training_published.csv")
    with open(src, newline="") as f:
        rows = list(csv.DictReader(f))
    path = tmp_path / "mine.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerow(rows[3])  # T4 only
    r = validate("training", csv_path=path)
    assert [x.id for x in r.rows] == ["T4"] and r.summary.rows == 1


def test_errors() -> None:
    with pytest.raises(InputError, match="--engine applies to the serving suite only"):
        validate("training", engine="vllm")
    with pytest.raises(InputError, match="unknown validation suite 'fit'; choose serving, training or swarm"):
        validate("fit")
    with pytest.raises(UnknownNameError, match="unknown engine profile 'nope'"):
        validate("serving", engine="nope")
