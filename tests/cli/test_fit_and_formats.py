"""Every result table at 80 and 150 columns: nothing wider than the terminal, no "…", every
number, run id and option name printed whole, a note naming what a narrow terminal leaves out;
and `--format csv` carrying exactly the numbers of `--json` (compare, bench, runs show, train)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator

import pytest

from tests.fakeserver import MODEL, FakeServer
from truecost.cli.format import seconds, usd
from truecost.cli.tables import _split_word
from truecost.rows import flatten

from ..conftest import REPO

EXAMPLES = sorted((REPO / "examples").glob("*.toml"))
WIDTHS = (80, 150)


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


def fits(text: str, width: int) -> None:
    assert "…" not in text
    too_wide = [line for line in text.splitlines() if len(line) > width]
    assert not too_wide, too_wide


def whole(name: str, text: str) -> bool:
    """Every word of ``name`` printed whole (a name may only break at a space or after a "/")."""
    return all(piece in text for word in name.split() for piece in _split_word(word))


def same(cell: str, value: object) -> bool:
    """A CSV cell holds the JSON value: empty for null, true/false, numbers to the last bit."""
    if value is None:
        return cell == ""
    if isinstance(value, bool):
        return cell == str(value).lower()
    if isinstance(value, (int, float)):
        return float(cell) == value
    if isinstance(value, (list, dict)):
        return json.loads(cell) == value
    return cell == value


def assert_csv_is_json(text: str, items: list[dict]) -> list[dict]:
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(items)
    for row, item in zip(rows, items):
        flat = flatten(item)
        assert set(flat) <= set(row), set(flat) - set(row)
        for key, value in flat.items():
            assert same(row[key], value), (key, row[key], value)
    return rows


# ---- compare -------------------------------------------------------------------------------

@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_compare_fits_and_prints_every_figure_whole(cli, monkeypatch, path, width):
    monkeypatch.setenv("COLUMNS", str(width))
    r = cli("compare", str(path))
    assert r.code == 0, r.stderr
    fits(r.stdout, width)
    options = json.loads(cli("compare", str(path), "--json").stdout)["options"]
    for o in (o for o in options if o["excluded"] is None):
        assert whole(o["label"], r.stdout), o["label"]
        for figure in (usd(o["usd_per_task"]), usd(o["usd_per_month"]),
                       usd(o["usd_per_mtok_output"]), seconds(o["ttft_s"])):
            assert re.search(rf"(^|\s){re.escape(figure)}(\s|$)", r.stdout, re.M), figure
    assert "not shown" not in r.stdout  # compare spills into a continuation table instead


def test_compare_at_80_columns_is_two_tables_keyed_by_option(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    out = cli("compare", str(REPO / "examples" / "chat-assistant.toml")).stdout
    heads = [line.split() for line in out.splitlines() if line.startswith("#   option")]
    assert heads == [["#", "option", "how", "$/task", "$/month", "sources"],
                     ["#", "option", "split", "split", "GPUs", "TTFT", "p95", "TPOT", "p95"]]
    assert re.search(r"^ +\$/1M in +\$/1M out$", out, re.M)  # 2nd table, first header line
    monkeypatch.setenv("COLUMNS", "150")
    wide = cli("compare", str(REPO / "examples" / "chat-assistant.toml")).stdout
    assert [line.split() for line in wide.splitlines() if line.startswith("#   option")] == [
        ["#", "option", "how", "$/task", "$/month", "split", "split", "GPUs", "TTFT", "p95", "TPOT", "p95",
         "sources"]]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_compare_csv_has_the_json_numbers(cli, path):
    d = json.loads(cli("compare", str(path), "--json").stdout)
    r = cli("compare", str(path), "--format", "csv")
    assert r.code == 0, r.stderr
    rows = assert_csv_is_json(r.stdout, d["options"])
    assert [row["label"] for row in rows] == [o["label"] for o in d["options"]]  # ranked order


def test_json_and_another_format_disagree_in_one_line(cli):
    r = cli("compare", str(EXAMPLES[0]), "--json", "--format", "csv")
    assert (r.code, r.stderr) == (1, "error: --json and --format csv disagree; give one of them\n")


# ---- bench and runs show ---------------------------------------------------------------------

def bench(cli, fake) -> str:
    r = cli("bench", fake.url("normal"), "--model", MODEL, "--concurrency", "1,2", "--requests",
            "6", "--isl", "16", "--osl", "4", "--gpu", "h100-sxm", "--slo", "ttft_p95=1s",
            "--json")
    assert r.code == 0, r.stderr
    return json.loads(r.stdout)["run_id"]


def test_bench_tables_fit_and_keep_the_run_id(cli, fake, monkeypatch):
    run_id = bench(cli, fake)
    d = json.loads(cli("runs", "show", run_id, "--json").stdout)
    for width in WIDTHS:
        monkeypatch.setenv("COLUMNS", str(width))
        out = cli("runs", "show", run_id).stdout
        fits(out, width)
        assert f"measured:{run_id}." in out
        for p in d["points"]:
            s = p["summary"]
            for figure in (f"{s['ok']}/{s['requests']}", f"{s['request_throughput']:.2f}",
                           seconds(s["ttft"]["p95"]), seconds(s["e2e"]["p95"]),
                           usd(p["cost"]["usd_per_mtok_output"])):
                assert re.search(rf"(^|\s){re.escape(figure)}(\s|$)", out, re.M), figure
        heads = [line.split()[1:] for line in out.splitlines() if line.startswith("load ")]
        columns = [c for h in heads for c in h]
        for c in ("ok/sent", "req/s", "p50", "p95", "good/s", "$/1k", "reasoning", "excluded"):
            assert c in columns, c  # spilled, not dropped
        assert len(heads) == (2 if width == 150 else 5)
    assert "lag" not in out  # closed loop: no send schedule, so no lag columns


def test_bench_header_says_per_token_cost_is_all_in(cli, fake, monkeypatch):
    monkeypatch.setenv("COLUMNS", "150")
    run_id = bench(cli, fake)
    lines = cli("runs", "show", run_id).stdout.splitlines()
    assert lines[1].split() == ["$/1M", "out"] and lines[2].split()[-3:] == ["all-in", "$/1k", "req"]


def test_runs_show_and_bench_csv_have_the_json_numbers(cli, fake):
    run_id = bench(cli, fake)
    d = json.loads(cli("runs", "show", run_id, "--json").stdout)
    r = cli("runs", "show", run_id, "--format", "csv")
    assert r.code == 0, r.stderr
    rows = assert_csv_is_json(r.stdout, d["points"])
    assert {row["run_id"] for row in rows} == {run_id}
    assert [row["label"] for row in rows] == ["c=1", "c=2"]
    live = cli("bench", fake.url("normal"), "--model", MODEL, "--requests", "4", "--isl", "16",
               "--osl", "4", "--format", "csv")
    assert live.code == 0, live.stderr
    (row,) = csv.DictReader(io.StringIO(live.stdout))
    assert row["label"] == "c=1" and float(row["summary.ok"]) == 3  # drain 1 of 4


def test_runs_list_keeps_the_run_id_and_names_what_it_leaves_out(cli, fake, monkeypatch):
    run_id = bench(cli, fake)
    for width in (80, 100, 150):
        monkeypatch.setenv("COLUMNS", str(width))
        out = cli("runs", "list").stdout
        fits(out, width)
        assert re.search(rf"^{run_id}\s+complete\s+{MODEL}\s+2\s+12\s+12\s", out, re.M), out
    monkeypatch.setenv("COLUMNS", "80")
    assert cli("runs", "list").stdout.splitlines()[-2:] == [
        "not shown at 80 columns: started, mode, url (a wider terminal or --json shows",
        "them)"]
    monkeypatch.setenv("COLUMNS", "150")
    assert "not shown" not in cli("runs", "list").stdout


# ---- train ----------------------------------------------------------------------------------

TRAIN = ("train", "--model", "llama-3.1-70b", "--tokens", "15e12", "--gpus", "16384",
         "--seq-len", "8192")


@pytest.mark.parametrize("width", WIDTHS)
def test_train_fits(cli, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    r = cli(*TRAIN)
    assert r.code == 0, r.stderr
    fits(r.stdout, width)
    # 6 · 70,553,706,496 · 15e12 = 6.350e24 dense + attention 12·80·8192²·15e12 = 0.966e24
    # = 7.316e24; / (989.4e12 · 0.40) / 3600 = 5.135M GPU-hours; × R&D 1/0.178 = 5.618: 28.85M
    assert re.search(r"^FLOPs, total\s+7\.32e24\s+4\.11e25\s", r.stdout, re.M)
    assert re.search(r"^GPU-hours\s+5\.14M\s+28\.8M\s", r.stdout, re.M)
    for name in ("chinchilla", "implied-mfu", "trend"):
        args = {"chinchilla": ("--compute-flops", "1e24"),
                "implied-mfu": ("--gpu-hours", "2.788e6", "--params-total", "671e9",
                                "--params-active", "37e9", "--tokens", "14.8e12", "--gpu", "h800",
                                "--precision", "fp8"),
                "trend": ("--base-usd", "40e6", "--base-year", "2023", "--to-year", "2027")}[name]
        sub = cli("train", name, *args)
        assert sub.code == 0, sub.stderr
        fits(sub.stdout, width)


def test_train_csv_has_the_json_numbers(cli):
    d = json.loads(cli(*TRAIN, "--json").stdout)
    r = cli(*TRAIN, "--format", "csv")
    assert r.code == 0, r.stderr
    items = [{"section": s, "figure": k, **f} for s in ("assumptions", "final_run", "with_rnd")
             for k, f in d[s].items()]
    assert_csv_is_json(r.stdout, items)
    trend = cli("train", "trend", "--base-usd", "40e6", "--base-year", "2023", "--to-year", "2025",
                "--format", "csv")
    # 40e6 · 2.4^k (Cottier et al. 2024's 2.4x/year default)
    assert [round(float(row["usd"])) for row in csv.DictReader(io.StringIO(trend.stdout))] == [
        40_000_000, 96_000_000, 230_400_000]


def test_the_cli_flags_are_the_api_keyword_names(cli):
    """One name everywhere: train_cost(params_total=, params_active=) is --params-total and
    --params-active; the old spellings are unknown options."""
    r = cli("train", "--params-total", "7e9", "--params-active", "1e9", "--tokens", "1e12",
            "--json")
    assert r.code == 0, r.stderr
    assert json.loads(r.stdout)["assumptions"]["params_active"]["value"] == 1e9
    assert cli("train", "--params", "7e9", "--tokens", "1e12").code == 2
    r = cli("train", "--tokens", "1e12")
    assert r.stderr == "error: give a model (--model) or its parameter count (--params-total)\n"
