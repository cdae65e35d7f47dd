"""`truecost validate [serving|training] [--engine NAME] [--json]`."""

from __future__ import annotations

import json

import pytest

from truecost import validate
from truecost.perf.calibrate import save_profile
from truecost.perf.engine import engine


@pytest.mark.parametrize("width", [80, 150])
@pytest.mark.parametrize("suite", ["serving", "training"])
def test_table_fits_and_prints_the_apis_summary(cli, monkeypatch, width, suite) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    r = cli("validate", suite)
    assert r.code == 0 and r.stderr == ""
    assert "…" not in r.stdout
    report = validate(suite)
    lines = r.stdout.splitlines()
    for row in report.rows:
        line = next(ln for ln in lines if ln.split() and ln.split()[0] == row.id)
        assert len(line.rstrip()) <= width and f"{row.error:+.1%}" in line
    s = report.summary
    assert (f"all rows: {s.rows} rows, median |error| {s.median_abs_error:.1%}, "
            f"worst ratio {s.max_ratio:.2f}x") in r.stdout
    for metric, m in s.by_metric.items():
        assert f"{metric} (" in r.stdout and f"median |error| {m.median_abs_error:.1%}" in r.stdout
    assert "sources:" in r.stdout and "retrieved 2026-11-25" in r.stdout


def test_training_names_its_known_misses(cli) -> None:
    out = cli("validate", "training").stdout
    assert "T1: card hours imply MFU 0.14 for 8B; default 0.40 (Llama 3 405B)" in out
    assert "T7-usd" in out and "$2/GPU-hour" in out


def test_json_is_strict_and_complete(cli) -> None:
    r = cli("validate", "serving", "--json")
    data = json.loads(r.stdout, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert data["suite"] == "serving" and data["engine"] == "tuned"
    assert len(data["rows"]) == data["summary"]["rows"] == len(validate("serving").rows)
    assert all(row["source"] and row["error"] is not None for row in data["rows"])
    assert set(data["summary"]["by_metric"]) >= {"output_throughput", "itl_mean"}


def test_a_calibrated_profile_by_name(cli) -> None:
    save_profile(engine("tuned").model_copy(update={"key": "mine", "step_overhead_fixed_s": 0.01,
                                                    "calibration": "test"}))
    base = json.loads(cli("validate", "--json").stdout)
    mine = json.loads(cli("validate", "--engine", "mine", "--json").stdout)
    assert mine["engine"] == "mine"
    assert mine["summary"]["median_abs_error"] != base["summary"]["median_abs_error"]
    assert cli("validate", "--engine", "mine").stdout.startswith(
        "truecost validate: serving, engine profile 'mine' vs published measurements")


@pytest.mark.parametrize(("args", "line"), [
    (("validate", "training", "--engine", "vllm"),
     "error: --engine applies to the serving suite only (training has no engine)"),
    (("validate", "--engine", "nope"), "error: unknown engine profile 'nope'; did you mean tuned, petals?"),
])
def test_errors_are_one_line(cli, args, line) -> None:
    r = cli(*args)
    assert r.code == 1 and r.stderr.strip() == line and r.stdout == ""
