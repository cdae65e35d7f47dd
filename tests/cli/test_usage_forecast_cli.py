"""CLI: usage import/reprice/budget and forecast at 80 columns, strict JSON, one-line errors."""

from __future__ import annotations

import json

import pytest

from ..conftest import REPO

EXPORT = REPO / "examples" / "openai-usage-export.csv"


def _strict(text: str) -> object:
    def bad(c: str) -> None:
        raise AssertionError(f"non-finite number {c} in JSON")
    return json.loads(text, parse_constant=bad)


def _fits(text: str, width: int = 80) -> None:
    long = [line for line in text.splitlines() if len(line) > width]
    assert not long, long


@pytest.fixture
def narrow(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")


def test_import_reprice_budget(cli, narrow, tmp_path):
    r = cli("usage", "import", str(EXPORT), "--quiet")
    assert r.code == 0, r.stderr
    assert r.stdout.startswith("imported u-") and "(openai log):" in r.stdout
    assert "rows: 1,008 (2,086,397 requests), 2025-03-01 00:00 to 2025-03-14 23:00 UTC\n" in r.stdout
    assert r.stderr == ""  # --quiet, and no malformed rows
    again = cli("usage", "import", str(EXPORT), "--quiet")
    assert again.stdout.startswith("already imported as u-")
    r = cli("usage", "reprice", "--as", "openai/gpt-4.1-mini,llama-3.1-8b@h100-sxm", "--by", "day",
            "--ttft", "1", "--tpot", "0.05")
    assert r.code == 0, r.stderr
    _fits(r.stdout)
    assert "logged: list prices" in r.stdout and "2025-03-14" in r.stdout
    d = _strict(cli("usage", "reprice", "--as", "openai/gpt-4.1-mini", "--json").stdout)
    assert [o["label"] for o in d["options"]] == ["logged: list prices", "openai/gpt-4.1-mini"]
    assert d["window"]["requests"] == 2_086_397
    r = cli("usage", "budget", "--monthly", "10000", "--model-budget", "gpt-4o=6000")
    assert r.code == 0, r.stderr
    _fits(r.stdout)
    assert "gpt-4o" in r.stdout and "over" in r.stdout
    d = _strict(cli("usage", "budget", "--monthly", "10000", "--json").stdout)
    assert d["month"] == "2025-03" and d["days_in_month"] == 31


def test_import_warns_on_stderr_and_keeps_stdout_clean(cli, tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("timestamp,model,input_tokens,output_tokens\n2025-01-01T00:00:00Z,m,1,x\n"
                   "2025-01-01T00:00:00Z,m,1,1\n")
    r = cli("usage", "import", str(log), "--json", "-q")
    assert r.code == 0
    assert r.stderr == f"warning: {log}:2: output_tokens 'x' is not a whole number >= 0\n"
    assert _strict(r.stdout)["rows"] == 1


def test_forecast_fits_80_columns_and_json_is_strict(cli, narrow):
    args = ("forecast", str(REPO / "examples" / "chat-assistant.toml"), "--growth", "8%/month",
            "--diurnal", "business-hours")
    r = cli(*args)
    assert r.code == 0, r.stderr
    _fits(r.stdout)
    for part in ("month 24", "break-even", "sensitivity", "moves the answer most"):
        assert part in r.stdout
    d = _strict(cli(*args, "--json").stdout)
    assert len(d["tasks_per_day"]) == 24
    assert d["options"][0]["best_plan"] in ("on-demand", "autoscaled", "reserved", "hybrid", "API")


@pytest.mark.parametrize("args, line", [
    (["usage", "import", "nope.csv"], "error: nope.csv: file not found"),
    (["usage", "reprice", "--as", "openai/gpt-4o"],
     "error: no usage in the store; import a log with `truecost usage import FILE`"),
    (["usage", "budget", "--monthly", "100", "--model-budget", "gpt-4o"],
     "error: --model-budget 'gpt-4o': use MODEL=USD, e.g. gpt-4o=2000"),
    (["usage", "budget", "--monthly", "-5"], "error: --monthly must be a positive amount of USD, got -5.0"),
    (["forecast", str(REPO / "examples" / "chat-assistant.toml"), "--growth", "fast"],
     "error: --growth 'fast' is not a monthly rate; use e.g. 8%/month, 8% or 0.08"),
    (["forecast", str(REPO / "examples" / "chat-assistant.toml"), "--months", "500"],
     "error: --months must be a whole number from 1 to 120, got 500"),
])
def test_user_errors_are_one_line(cli, args, line):
    r = cli(*args)
    assert r.code == 1 and r.stderr == line + "\n" and r.stdout == ""
