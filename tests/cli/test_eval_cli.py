"""`truecost eval` and eval runs in `truecost runs`: the tables, strict JSON, and each bad input
as one exact line on stderr with exit status 1."""

from __future__ import annotations

import json
import re

import pytest

from tests.evalserver import EvalServer, Reply


@pytest.fixture
def suite(tmp_path):
    f = tmp_path / "suite.jsonl"
    f.write_text("\n".join([
        '{"id": "a", "question": "What is 6 x 7?", "answer": 42, "grader": "numeric", "domain": "math"}',
        '{"id": "b", "question": "What is 2 + 2?", "answer": 4, "grader": "numeric", "domain": "math"}',
        '{"id": "c", "question": "Capital of France?", "answer": "Paris", "grader": "exact", "domain": "geo"}',
        'not json',
        '{"id": "d", "question": "Pick the prime", "choices": ["4", "6", "7"], "answer": "C", "grader": "choice", "domain": "geo"}',
    ]) + "\n")
    return f


@pytest.fixture
def server():
    with EvalServer({"6 x 7": Reply("6 x 7 = 42 #### 42", reasoning_tokens=5),
                     "2 + 2": Reply("It is 5"), "France": Reply("Paris."),
                     "prime": Reply("Answer: C")}) as s:
        yield s


def test_eval_tables_json_and_runs(cli, server, suite, tmp_path):
    r = cli("eval", server.base_url, "-m", "scripted", "-s", str(suite), "--quiet")
    assert r.code == 0, r.stderr
    lines = [ln.strip() for ln in r.stdout.splitlines()]
    assert lines[0] == f"scripted at {server.base_url}/chat/completions"
    assert lines[1] == "suite suite: 4 questions"
    assert re.match(r"domain +correct +accuracy +95% CI +\$/task +\$/correct$", lines[2])
    # geo: 2 of 2 (Wilson 95% for 2/2: 2/(2+z^2) = 0.342 .. 1); math: 1 of 2; all: 3 of 4
    assert re.match(r"geo +2/2 +100\.0% +34\.2%-100\.0% +- +-$", lines[4])
    assert re.match(r"math +1/2 +50\.0% +9\.5%-90\.5% +- +-$", lines[5])
    assert re.match(r"all +3/4 +75\.0% +30\.1%-95\.4% +- +-$", lines[6])
    assert "cost: not priced (give --offer, or --gpu with --gpus)." in r.stdout
    assert r.stderr == (f"note: suite: {suite}:4: not a JSON object (Expecting value) "
                        f"(line skipped)\n")

    j = cli("eval", server.base_url, "-m", "scripted", "-s", str(suite), "--offer",
            "openai/gpt-4o-mini", "--json", "--quiet")
    assert j.code == 0, j.stderr
    d = json.loads(j.stdout)
    for key in ("run_id", "n", "correct", "accuracy", "accuracy_ci", "tokens_per_task",
                "usd_per_task", "usd_per_correct", "by_domain"):
        assert key in d
    assert (d["n"], d["correct"], d["accuracy"]) == (4, 3, 0.75)
    assert set(d["tokens_per_task"]) == {"prompt", "output", "reasoning"}
    assert d["usd_per_correct"] == pytest.approx(d["usd_per_task"] / 0.75)
    assert d["by_domain"]["geo"]["accuracy"] == 1.0

    listed = json.loads(cli("runs", "list", "--json").stdout)
    assert [r["mode"] for r in listed] == ["eval", "eval"]
    shown = cli("runs", "show", d["run_id"], "--json")
    assert json.loads(shown.stdout)["usd_per_task"] == pytest.approx(d["usd_per_task"])
    out = tmp_path / "x.json"
    assert cli("runs", "export", d["run_id"], "-o", str(out)).code == 0
    doc = json.loads(out.read_text())
    assert sorted(a["question_id"] for a in doc["answers"]) == ["a", "b", "c", "d"]


def test_eval_errors_are_one_line(cli, server, suite):
    def err(*args: str) -> str:
        r = cli("eval", *args, "--quiet")
        assert r.code == 1 and r.stdout == "", r.stdout
        return r.stderr

    url = server.base_url
    assert err(url, "-m", "x", "-s", "nosuch") == (
        "error: suite 'nosuch' is neither a file nor a built-in suite; give a JSONL file or one "
        "of gsm8k, gsm8k-300, token-economy, gsm8k:PATH\n")
    assert err(url, "-m", "x", "-s", str(suite), "--judge", url) == (
        "error: an LLM judge needs both --judge URL and --judge-model M\n")
    assert err(url, "-m", "x", "-s", str(suite), "--gpu", "h100-sxm", "--offer", "openai/gpt-4o") == (
        "error: price a run with --gpu (self-hosted) or --offer (API), not both\n")
    assert err(url, "-m", "x", "-s", str(suite), "--concurrency", "0") == (
        "error: --concurrency must be >= 1, got 0\n")
    for flag in ("--timeout-s", "--timeout"):  # bench's name, and the one eval first had
        assert err(url, "-m", "x", "-s", str(suite), flag, "-1") == (
            "error: --timeout-s must be a finite number > 0 s, got -1\n")
    b = cli("bench", url, "--model", "scripted", "--requests", "2", "--isl", "4", "--osl", "4")
    assert b.code == 0, b.stderr
    (bench_run,) = [r["run_id"] for r in json.loads(cli("runs", "list", "--json").stdout)]
    assert err(url, "-m", "scripted", "-s", str(suite), "--resume", bench_run) == (
        f"error: run {bench_run} is not an eval run (mode concurrency)\n")
    with EvalServer({}) as gone:
        dead = gone.base_url
    e = err(dead, "-m", "scripted", "-s", str(suite))
    run_id = json.loads(cli("runs", "list", "--json").stdout)[0]["run_id"]
    assert e == (f"error: cannot connect to {dead}/chat/completions: connection refused (is the "
                 f"server running?); the answers so far are stored: resume with --resume "
                 f"{run_id}\n")
