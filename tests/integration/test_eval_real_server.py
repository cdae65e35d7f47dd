"""``truecost eval`` against a real inference server: llama.cpp's llama-server with the tiny
random-weight model of ``tinymodel.py``. Accuracy near 0 is expected; what is checked is the
plumbing: every answer stored with the server's usage (the tiny model never stops early, so each
reply is exactly ``max_tokens`` long), grades that agree with an independent reading of the
stored texts, and $ per task from the stored timestamps and the catalog price."""

from __future__ import annotations

import json
import re
import tomllib

import duckdb
import pytest

from truecost.eval.run import run_eval

from .conftest import REPO_SRC

pytestmark = pytest.mark.integration

QUESTIONS, MAX_TOKENS = 8, 16


def test_eval_on_gsm8k_against_llama_server(llama_server, tmp_path):
    db = tmp_path / "eval.duckdb"
    r = run_eval(llama_server.base_url, llama_server.model, "gsm8k-300", limit=QUESTIONS,
                 max_tokens=MAX_TOKENS, concurrency=4, gpu="h100-sxm", store=db)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            'SELECT a.question_id, a.answer, a.correct, a.reference, q.completion_tokens, '
            'q.prompt_tokens, q.error_kind, q.actual_send, q."end" FROM eval_answers a JOIN '
            'requests q USING (run_id, point, "index") ORDER BY a.question_id').fetchall()
    assert len(rows) == QUESTIONS, llama_server.log_tail()
    assert {q for q, *_ in rows} == {f"gsm8k-test-{i}" for i in range(QUESTIONS)}
    assert all(err is None for *_, err, _, _ in rows)
    assert [c for *_, c, _, _, _, _ in rows] == [MAX_TOKENS] * QUESTIONS
    # an independent reading: correct iff the last integer in the stored text is the reference
    for _, text, correct, ref, *_ in rows:
        nums = re.findall(r"-?\d+", text.replace(",", ""))
        assert correct == (bool(nums) and int(nums[-1]) == int(ref))
    o = r.overall
    assert (o.n, o.answered, o.graded) == (QUESTIONS, QUESTIONS, QUESTIONS)
    assert o.correct == sum(c for _, _, c, *_ in rows)
    assert o.output_tokens.mean == MAX_TOKENS and o.client_counted == 0
    assert o.prompt_tokens.mean == pytest.approx(sum(p for *_, p, _, _, _ in rows) / QUESTIONS)
    # $ per task: the GPU's catalog $/hour over the eval's wall time, per answer
    rent = tomllib.loads((REPO_SRC / "catalog/data/gpus.toml").read_text())["h100-sxm"]["usd_per_gpu_hour"]
    wall = max(r_[-1] for r_ in rows) - min(r_[-2] for r_ in rows)
    assert o.usd_per_task == pytest.approx(rent / 3600 * wall / QUESTIONS, rel=1e-9)
    if o.correct == 0:
        assert o.usd_per_correct is None  # no correct answer: no cost per correct answer
    assert json.loads(json.dumps(r.to_dict()))["n"] == QUESTIONS  # strict JSON


def test_eval_cli_against_llama_server(llama_server, cli):
    r = cli("eval", llama_server.base_url, "-m", llama_server.model, "-s", "gsm8k-300",
            "--limit", "4", "--max-tokens", "8", "--json", "--quiet")
    assert r.code == 0, r.stderr
    d = json.loads(r.stdout)
    assert (d["n"], d["answered"]) == (4, 4)
    assert d["tokens_per_task"]["output"] == 8
    assert "4 answers stopped at max_tokens=8" in r.stderr
