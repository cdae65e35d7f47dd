"""plan, forecast and usage reprice at 80 and 150 columns (nothing wider than the terminal, no
"…", every option name and figure printed whole) and with `--format csv` (one row per option,
month, or group and option, carrying exactly the numbers of `--json`)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from truecost.cli.format import seconds, usd

from ..conftest import REPO
from .test_fit_and_formats import WIDTHS, assert_csv_is_json, fits, same, whole

CHAT = str(REPO / "examples" / "chat-assistant.toml")
EXPORT = str(REPO / "examples" / "openai-usage-export.csv")
PLAN = ("plan", CHAT, "--slo", "ttft_p95=2s,tpot_p99=80ms", "--gpus", "l40s,h100-sxm", "--engines", "tuned",
        "--precisions", "fp8,int8", "--max-batch", "256", "--quiet")
FORECAST = ("forecast", CHAT, "--months", "6", "--growth", "8%/month", "--diurnal", "business-hours")
REPRICE = ("usage", "reprice", "--as", "openai/gpt-4.1-mini,llama-3.1-8b@h100-sxm", "--ttft", "1",
           "--tpot", "0.05")


def printed(figure: str, text: str) -> bool:
    return re.search(rf"(^|\s){re.escape(figure)}(\s|$)", text, re.M) is not None


@pytest.fixture
def plan_doc(cli) -> dict:
    r = cli(*PLAN, "--json")
    assert r.code == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("width", WIDTHS)
def test_plan_fits_and_prints_every_frontier_figure_whole(cli, monkeypatch, plan_doc, width):
    monkeypatch.setenv("COLUMNS", str(width))
    r = cli(*PLAN)
    assert r.code == 0, r.stderr
    fits(r.stdout, width)
    assert plan_doc["frontier"], "the search should leave a frontier to print"
    for p in plan_doc["frontier"]:
        o, c = p["option"], p["config"]
        assert whole(c["model"], r.stdout) and whole(f"{c['layout']} {c['precision']}", r.stdout)
        for figure in (usd(o["usd_per_task"]), seconds(o["ttft_s"]), seconds(o["tpot_s"])):
            assert printed(figure, r.stdout), figure
    for p in (q for q in plan_doc["options"] if q["config"] is None):  # API offers: a line each
        assert f"  {p['option']['label']}: {usd(p['option']['usd_per_task'])}/task" in r.stdout
    assert "not shown" not in r.stdout  # the frontier spills rather than drops


def test_plan_csv_has_the_json_numbers(cli, plan_doc):
    r = cli(*PLAN, "--format", "csv")
    assert r.code == 0, r.stderr
    rows = assert_csv_is_json(r.stdout, plan_doc["options"])
    assert [row["option.label"] for row in rows] == [p["option"]["label"] for p in plan_doc["options"]]
    assert {row["config.gpu"] for row in rows if row["config.gpu"]} <= {"l40s", "h100-sxm"}


@pytest.mark.parametrize("width", WIDTHS)
def test_forecast_fits_and_prints_every_option_whole(cli, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    r = cli(*FORECAST)
    assert r.code == 0, r.stderr
    fits(r.stdout, width)
    d = json.loads(cli(*FORECAST, "--json").stdout)
    for o in d["options"]:
        assert whole(o["label"], r.stdout), o["label"]
        for plan, series in o["monthly_usd"].items():
            for figure in (usd(series[0]), usd(series[-1]), usd(sum(series))):
                assert printed(figure, r.stdout), (o["label"], plan, figure)
    for b in d["break_even"]:
        if b["tasks_per_day"] is not None:
            assert printed(f"{b['tasks_per_day']:,.0f}", r.stdout)


def test_forecast_csv_is_one_row_per_month_with_the_json_numbers(cli):
    d = json.loads(cli(*FORECAST, "--json").stdout)
    r = cli(*FORECAST, "--format", "csv")
    assert r.code == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [int(row["month"]) for row in rows] == list(range(1, 7))
    for m, row in enumerate(rows):
        assert same(row["tasks_per_day"], d["tasks_per_day"][m])
        for o in d["options"]:
            for plan, series in o["monthly_usd"].items():
                assert same(row[f"{o['label']}: {plan}"], series[m]), (o["label"], plan, m)
            for kind, series in o["replicas"].items():
                assert same(row[f"{o['label']}: replicas {kind}"], series[m])
    # every column is one of those: month, tasks/day, a plan's USD or a replica count
    expected = 2 + sum(len(o["monthly_usd"]) + len(o["replicas"]) for o in d["options"])
    assert len(rows[0]) == expected


@pytest.fixture
def imported(cli) -> None:
    r = cli("usage", "import", EXPORT, "--quiet")
    assert r.code == 0, r.stderr


@pytest.mark.parametrize("width", WIDTHS)
def test_reprice_fits_and_prints_every_option_whole(cli, monkeypatch, imported, width):
    monkeypatch.setenv("COLUMNS", str(width))
    for by in ((), ("--by", "model")):
        r = cli(*REPRICE, *by)
        assert r.code == 0, r.stderr
        fits(r.stdout, width)
        d = json.loads(cli(*REPRICE, *by, "--json").stdout)
        for o in d["options"]:
            assert whole(o["label"], r.stdout) and printed(usd(o["usd"]), r.stdout), o["label"]
            for group, v in o["by_group"].items() if by else ():
                assert group in r.stdout and printed(usd(v), r.stdout), (o["label"], group)


def test_reprice_csv_is_one_row_per_group_and_option(cli, imported):
    d = json.loads(cli(*REPRICE, "--json").stdout)
    r = cli(*REPRICE, "--format", "csv")
    assert r.code == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))  # no --by: one row per option
    assert [(row["group"], row["label"]) for row in rows] == [("all", o["label"]) for o in d["options"]]
    for row, o in zip(rows, d["options"]):
        assert same(row["usd"], o["usd"]) and row["kind"] == o["kind"]
    d = json.loads(cli(*REPRICE, "--by", "model", "--json").stdout)
    rows = list(csv.DictReader(io.StringIO(cli(*REPRICE, "--by", "model", "--format", "csv").stdout)))
    groups = list(d["options"][0]["by_group"])
    assert groups == ["gpt-4o", "gpt-4o-mini", "o4-mini"]  # the models of the example export
    assert [(row["model"], row["label"]) for row in rows] == [(g, o["label"]) for g in groups
                                                               for o in d["options"]]
    for row in rows:
        o = next(o for o in d["options"] if o["label"] == row["label"])
        assert same(row["usd"], o["by_group"][row["model"]])


@pytest.mark.parametrize("args", [PLAN, FORECAST, REPRICE])
def test_json_and_csv_disagree_in_one_line(cli, args):
    r = cli(*args, "--json", "--format", "csv")
    assert (r.code, r.stderr) == (1, "error: --json and --format csv disagree; give one of them\n")
