"""`truecost runs tag|list --tag|delete|export --summary` and their API (``truecost.bench``):
tags in a side table, a delete that empties every table of the run and nothing else, and one
summary row per operating point with the numbers of `runs show --json`."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

import duckdb
import pytest

from tests.fakeserver import MODEL, FakeServer
from truecost.bench import delete_run, list_runs, run_bench, tag_run
from truecost.store import Store
from truecost.errors import UnknownNameError

from .test_fit_and_formats import assert_csv_is_json


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


@pytest.fixture
def two_runs(fake) -> tuple[str, str]:
    a = run_bench(fake.url("fast"), MODEL, concurrency=[1, 2], requests=5, isl=8, osl=4, seed=1)
    b = run_bench(fake.url("fast"), MODEL, requests=4, isl=8, osl=4, seed=2, gpu="h100-sxm")
    return a.run_id, b.run_id


def test_tags_label_runs_and_filter_the_list(cli, two_runs):
    a, b = two_runs
    assert tag_run(a, ["baseline", "vllm-0.8"]) == ["baseline", "vllm-0.8"]
    r = cli("runs", "tag", b, "vllm-0.8")
    assert (r.code, r.stdout) == (0, f"{b}: vllm-0.8\n")
    assert [x["run_id"] for x in list_runs(tag="baseline")] == [a]
    assert {x["run_id"] for x in list_runs(tag="vllm-0.8")} == {a, b}
    listed = json.loads(cli("runs", "list", "--tag", "vllm-0.8", "--tag", "baseline",
                            "--json").stdout)
    assert [(x["run_id"], x["tags"]) for x in listed] == [(a, ["baseline", "vllm-0.8"])]
    assert cli("runs", "list", "--tag", "nope").stdout == "no run carries the tag nope\n"
    r = cli("runs", "tag", a, "baseline", "--remove")
    assert r.stdout == f"{a}: vllm-0.8\n"
    assert list_runs(tag="baseline") == []
    with Store() as s:  # a side table: the runs table has no tag column
        assert "tags" not in [d[0] for d in s.con.execute("SELECT * FROM runs").description]


@pytest.mark.parametrize(("args", "line"), [
    (["runs", "tag", "RUN", "has space"], "error: bad tag 'has space': use 1-64 letters, digits "
                                          "and . _ : / = + - (starting with a letter or digit)"),
    (["runs", "tag", "nope", "x"], "error: unknown run 'nope'; known runs: "),
    (["runs", "delete", "RUN"], "error: runs delete removes measurements for good; add --yes to "
                                "confirm"),
    (["runs", "delete", "nope", "--yes"], "error: unknown run 'nope'; known runs: "),
    (["runs", "export", "RUN", "--summary", "-f", "csv", "-o", "/dev/null/x.csv"],
     "error: cannot write /dev/null/x.csv: File exists"),
    (["runs", "export", "RUN", "-f", "parquet", "-o", "/dev/null/x.parquet"], None),
])
def test_runs_housekeeping_errors_are_one_line(cli, two_runs, args, line):
    a, b = two_runs
    r = cli(*[a if x == "RUN" else x for x in args])
    assert r.code == 1
    if line is None:
        assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1
    elif "known runs" in line:
        assert r.stderr.startswith(line) and a in r.stderr and r.stderr.count("\n") == 1
    else:
        assert r.stderr == line + "\n"


def test_delete_removes_a_run_from_every_table_and_keeps_the_others(cli, two_runs):
    a, b = two_runs
    tag_run(a, ["old"])
    tag_run(b, ["keep"])
    with Store() as s:
        tables = [t for (t,) in s.con.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'run_id'"
        ).fetchall()]
        before = {t: s.con.execute(f"SELECT count(*) FROM {t} WHERE run_id = ?", [b]).fetchone()
                  for t in tables}
    assert {"runs", "points", "requests", "run_tags"} <= set(tables)
    r = cli("runs", "delete", a, "--yes")
    assert (r.code, r.stdout) == (0, f"deleted {a} (10 requests)\n")  # 2 points x 5 requests
    with Store() as s:
        for t in tables:
            assert s.con.execute(f"SELECT count(*) FROM {t} WHERE run_id = ?", [a]).fetchone() == (0,)
            assert s.con.execute(f"SELECT count(*) FROM {t} WHERE run_id = ?", [b]).fetchone() \
                == before[t]
    assert [x["run_id"] for x in list_runs()] == [b]
    with pytest.raises(UnknownNameError):
        delete_run(a)
    assert delete_run(b) == 4 and list_runs() == []


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_export_summary_is_one_row_per_operating_point(cli, two_runs, tmp_path, fmt):
    a, _ = two_runs
    shown = json.loads(cli("runs", "show", a, "--json").stdout)
    out = tmp_path / f"s.{fmt}"
    r = cli("runs", "export", a, "--summary", "-f", fmt, "-o", str(out))
    assert (r.code, r.stdout) == (0, f"{out}\n")
    if fmt == "csv":
        rows = assert_csv_is_json(out.read_text(), shown["points"])
    elif fmt == "json":
        rows = json.loads(out.read_text())
        for row, p in zip(rows, shown["points"], strict=True):
            assert row["summary.ttft.p50"] == p["summary"]["ttft"]["p50"]
            assert row["summary.tokens.output_mean"] == p["summary"]["tokens"]["output_mean"]
    else:
        con = duckdb.connect()
        rows = [dict(zip([d[0] for d in cur.description], v)) for cur in
                [con.execute(f"SELECT * FROM read_parquet('{out}') ORDER BY \"index\"")]
                for v in cur.fetchall()]
        assert [row["summary.request_throughput"] for row in rows] == [
            p["summary"]["request_throughput"] for p in shown["points"]]
    assert [row["label"] for row in rows] == ["c=1", "c=2"]
    assert {row["run_id"] for row in rows} == {a}


def test_export_summary_default_file_name(cli, two_runs, tmp_path, monkeypatch):
    a, _ = two_runs
    monkeypatch.chdir(tmp_path)
    assert cli("runs", "export", a, "--summary", "-f", "csv").stdout == f"{a}-summary.csv\n"
    text = (tmp_path / f"{a}-summary.csv").read_text()
    assert len(list(csv.DictReader(text.splitlines()))) == 2
