"""`truecost bench` and `truecost runs`: output shapes, each bad input as one exact line on stderr
with exit status 1 (partial results kept), and the API key never written anywhere."""

from __future__ import annotations

import json
import re
import secrets
import socket
from collections.abc import Iterator

import duckdb
import pytest

from tests.fakeserver import MODEL, FakeServer, Script

from ..conftest import REPO

FAST = ("--isl", "16", "--osl", "4")


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


def runs(cli) -> list[dict]:
    r = cli("runs", "list", "--json")
    assert r.code == 0, r.stderr
    return json.loads(r.stdout)


def test_bench_table_json_and_the_runs_commands(cli, fake, tmp_path):
    r = cli("bench", fake.url("normal"), "--model", MODEL, "--concurrency", "1,2", "--requests", "8",
            "--warmup", "1", *FAST, "--gpu", "h100-sxm", "--gpus", "2", "--slo", "ttft_p95=1s",
            "--quiet")
    assert r.code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"{MODEL} at {fake.url('normal')}/chat/completions")
    assert lines[1].strip() == "$/1M out"  # over "all-in": the whole cost per output token
    assert re.match(r"load +ok/sent +req/s +out tok/s +TTFT p50 +TTFT p95 +ITL p50 +ITL p95 +"
                    r"TPOT p50 +E2E p50 +E2E p95 +good/s +good +all-in +\$/1k req", lines[2].strip())
    assert re.match(r"c=1 +6/6 ", lines[4].strip()) and re.match(r"c=2 +5/5 ", lines[5].strip())
    assert "SLOs ttft_p95=1s: c=1 met, c=2 met." in r.stdout
    assert r.stderr == ("note: prompt sizes are approximate (one word counted as one token); "
                        "pass --tokenizer for exact sizes\n")
    (run,) = runs(cli)
    assert (run["status"], run["requests"], run["points"]) == ("complete", 16, 2)

    shown = cli("runs", "show", run["run_id"], "--json")
    assert shown.code == 0, shown.stderr
    d = json.loads(shown.stdout)
    assert [p["label"] for p in d["points"]] == ["c=1", "c=2"]
    assert d["provenance"] == f"measured:{run['run_id']}"
    assert d["points"][0]["cost"]["usd_per_hour"] == pytest.approx(2 * 2.99)

    for fmt in ("json", "csv", "parquet"):
        out = tmp_path / f"x.{fmt}"
        e = cli("runs", "export", run["run_id"], "--format", fmt, "--out", str(out))
        assert (e.code, e.stdout) == (0, f"{out}\n")
    rows = duckdb.connect().execute(f"SELECT count(*), count(DISTINCT point) FROM "
                                    f"read_parquet('{tmp_path / 'x.parquet'}')").fetchone()
    assert rows == (16, 2)


def test_bench_json_output(cli, fake):
    r = cli("bench", fake.url("reasoning"), "--model", MODEL, "--rate", "40", "--requests", "6",
            *FAST, "--json")
    assert r.code == 0, r.stderr
    d = json.loads(r.stdout)
    (p,) = d["points"]
    assert (p["mode"], p["rate"], p["drain"], p["summary"]["requests"]) == ("rate", 40.0, 0, 6)
    assert p["summary"]["tokens"]["reasoning_mean"] == 4
    assert p["summary"]["ttfo"]["p50"] > p["summary"]["ttft"]["p50"]
    assert {"ttft", "ttfo", "itl", "icl", "tpot", "e2e", "ttft_from_intended", "send_lag",
            "goodput", "output_token_throughput", "duration_s"} <= p["summary"].keys()


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize(("script", "model", "message"), [
    ("normal", "nope", "{url} does not serve model 'nope' (HTTP 404: The model `nope` does not "
                       "exist.); check --model"),
    ("json", MODEL, "{url} ignored stream=true and answered with application/json; truecost "
                    "needs a streaming (SSE) endpoint to time tokens"),
    ("malformed", MODEL, "{url} sent a malformed event stream: '{{\"id\": \"cmpl-1\", "
                         "\"choices\": [{{\"delta\": {{\"content\": \"tok\"'"),
    ("429", MODEL, "all 5 requests failed (http_429 x5); most common: HTTP 429: scripted 429"),
    ("missing", MODEL, "{url} was not found (HTTP 404); give the server's OpenAI-compatible "
                       "base URL, e.g. http://HOST:8000/v1"),
])
def test_bad_endpoints_are_one_line_and_keep_what_was_measured(cli, fake, script, model, message):
    url = fake.url(script)
    r = cli("bench", url, "--model", model, "--requests", "5", *FAST, "--quiet")
    assert (r.code, r.stdout) == (1, "")
    assert r.stderr == "error: " + message.format(url=url + "/chat/completions") + "\n"
    (run,) = runs(cli)
    assert run["status"] == "failed" and run["requests"] >= 1  # the failing requests are kept


def test_unreachable_endpoint(cli):
    port = closed_port()
    r = cli("bench", f"http://127.0.0.1:{port}/v1", "--model", MODEL, "--requests", "3", "--quiet")
    assert (r.code, r.stderr) == (1, f"error: cannot connect to http://127.0.0.1:{port}/v1/chat/"
                                     f"completions: connection refused (is the server running?)\n")


def test_auth_failure(cli, fake):
    fake.api_key = "sk-needed"
    r = cli("bench", fake.url("normal"), "--model", MODEL, "--requests", "3", "--quiet")
    assert (r.code, r.stderr) == (1, f"error: {fake.url('normal')}/chat/completions refused the "
                                     f"request (HTTP 401): no API key is set; set "
                                     f"TRUECOST_API_KEY or OPENAI_API_KEY\n")


def test_a_failure_mid_run_keeps_the_partial_results(cli, fake):
    fake.add("revoked", Script(limit=3, then=Script(kind="status", status=403)))
    r = cli("bench", fake.url("revoked"), "--model", MODEL, "--requests", "10", *FAST, "--quiet")
    assert r.code == 1 and r.stderr.startswith("error: ") and r.stderr.count("\n") == 1
    (run,) = runs(cli)
    assert (run["status"], run["requests"], run["ok"]) == ("failed", 4, 3)
    shown = cli("runs", "show", run["run_id"])
    assert shown.code == 0 and "point 0 (incomplete)" in shown.stdout
    assert "note: run failed: " in shown.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--rate", "5", "--concurrency", "2"], "--rate is open loop and --concurrency closed loop: "
                                            "choose one (--sweep finds the rates itself)"),
    (["--isl", "big"], "bad input length 'big'; write N (fixed), LOW-HIGH (uniform) or MEAN:SD "
                       "(normal), all at least 1"),
    (["--slo", "ttft=fast"], "bad SLO 'ttft=fast'; write METRIC[_pNN]=VALUE with a unit, e.g. "
                             "ttft_p95=1s,itl_p95=50ms (metrics: ttft, ttfo, itl, tpot, e2e)"),
    (["--gpu", "h100-sxn"], "unknown GPU 'h100-sxn'; did you mean h100-sxm, h100-nvl, h100-pcie?"),
    (["--energy-gpus", "0,a"], "--energy-gpus takes GPU indices separated by commas, got '0,a'"),
    (["--prompts", "/nonexistent.jsonl"], "/nonexistent.jsonl: file not found"),
])
def test_bad_options_are_one_line(cli, args, message):
    r = cli("bench", "http://127.0.0.1:9/v1", "--model", MODEL, *args)
    assert (r.code, r.stderr) == (1, f"error: {message}\n")


def test_runs_show_unknown_and_empty_store(cli):
    assert cli("runs", "list").stdout == "no runs stored yet (truecost bench URL --model M)\n"
    r = cli("runs", "show", "nope")
    assert (r.code, r.stderr) == (1, "error: unknown run 'nope'; there are no runs yet\n")


def test_energy_is_skipped_with_one_line_without_nvml(cli, fake, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pynvml", None)
    r = cli("bench", fake.url("fast"), "--model", MODEL, "--requests", "3", *FAST, "--energy")
    assert r.code == 0
    assert ("note: energy: skipped, the nvidia-ml-py package is not installed (needs an NVIDIA "
            "GPU with NVML on this machine)\n") in r.stderr


def test_the_api_key_is_never_written(cli, fake, monkeypatch, tmp_path):
    key = f"sk-test-SECRET-{secrets.token_hex(8)}"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    fake.api_key = key
    ok = cli("bench", fake.url("normal") + "?api_key=" + key, "--model", MODEL, "--requests", "4",
             *FAST, "--json")
    assert ok.code == 0, ok.stderr
    assert fake.received[-1].authorization == f"Bearer {key}"  # it was sent ...
    fake.api_key = "sk-other"
    bad = cli("bench", fake.url("normal"), "--model", MODEL, "--requests", "4", *FAST)
    assert bad.code == 1 and "rejected" in bad.stderr
    run_id = json.loads(ok.stdout)["run_id"]
    outputs = [ok.stdout, ok.stderr, bad.stdout, bad.stderr]
    for fmt in ("json", "csv", "parquet"):
        out = tmp_path / f"e.{fmt}"
        outputs.append(cli("runs", "export", run_id, "-f", fmt, "-o", str(out)).stdout)
    outputs += [cli("runs", "show", run_id).stdout, cli("runs", "list", "--json").stdout]
    assert not any(key in text for text in outputs)  # ... and never printed
    home = tmp_path / "truecost-home"  # TRUECOST_HOME (conftest): the store and anything else
    files = [p for p in [*home.rglob("*"), *tmp_path.glob("e.*")] if p.is_file()]
    assert any(p.suffix == ".duckdb" for p in files)
    for p in files:  # the DuckDB file, its WAL, exports, any log: not a byte of the key
        assert key.encode() not in p.read_bytes(), p


@pytest.mark.snapshot
def test_docs_table_matches_the_renderer():
    """The README's bench section shows a real table; its header must be what `bench` prints now."""
    doc = (REPO / "README.md").read_text()
    block = re.search(r"<!-- bench-table:begin -->\n```text\n(.*?)\n```", doc, re.S)
    assert block, "README.md lost its bench table"
    header = block.group(1).splitlines()[2].split()
    assert header[:4] == ["load", "ok/sent", "req/s", "out"]
