"""``run_eval`` against the scripted server (tests/evalserver.py), whose answers, reasoning
tokens and share of correct answers are known, so every figure has a hand-worked value."""

from __future__ import annotations

import json

import duckdb
import pytest

from tests.evalserver import EvalServer, Reply
from truecost.errors import EndpointError, InputError
from truecost.eval import load_eval, run_eval
from truecost.prices import Offer
from truecost.provenance import Provenance

CORRECT = {0, 1, 2, 3, 4, 6, 7}  # 7 of 10: q0-q5 are math (5 of 6 right), q6-q9 logic (2 of 4)
# $1 per 1M input tokens, $2 per 1M output tokens (reasoning billed as output)
OFFER = Offer("test/model", "test", "model", 1.0, 2.0, None, Provenance("input", "test prices"))


def _suite(tmp_path, n=10, extra=()):
    lines = [json.dumps({"id": f"q{i}", "question": f"Question number {i}: what is {i} + {i}?",
                         "answer": 2 * i, "grader": "numeric",
                         "domain": "math" if i < 6 else "logic"}) for i in range(n)]
    f = tmp_path / "suite.jsonl"
    f.write_text("\n".join([*lines, *extra]) + "\n")
    return f


def _replies(**changes):
    # 7 content words each ("So the sum is N. #### N") and 10*i reasoning tokens
    return {f"Question number {i}:": Reply(
        f"So the sum is {2 * i if i in CORRECT else 2 * i + 1}. #### "
        f"{2 * i if i in CORRECT else 2 * i + 1}", reasoning_tokens=10 * i, **changes)
        for i in range(10)}


def test_accuracy_tokens_and_cost_are_exact(tmp_path):
    db = tmp_path / "t.duckdb"
    with EvalServer(_replies()) as s:
        r = run_eval(s.base_url, "scripted", _suite(tmp_path), offer=OFFER, concurrency=3,
                     temperature=0, store=db)
        assert all(b["temperature"] == 0 for b in s.bodies)
    o = r.overall
    assert (o.n, o.answered, o.graded, o.correct) == (10, 10, 10, 7)
    assert o.accuracy == 0.7
    assert o.accuracy_ci == pytest.approx((0.396759, 0.892197), abs=5e-5)  # hand-worked, graders test
    # each prompt "Question number i: what is i + i?" is 8 words; output = 7 words + 10*i reasoning
    assert o.prompt_tokens.mean == 8
    assert o.output_tokens.mean == 7 + 45 and o.reasoning_tokens.mean == 45
    assert o.output_tokens.p90 == pytest.approx(7 + 81)  # 10*i over i=0..9: p90 = 81 (linear)
    # $ per answer = (8 x $1 + (7 + 10i) x $2) / 1e6 = (22 + 20i) / 1e6; mean over i = 112e-6
    assert o.usd_per_task == pytest.approx(112e-6, rel=1e-12)
    assert o.usd_per_correct == pytest.approx(112e-6 / 0.7, rel=1e-12)
    math_, logic = r.by_domain["math"], r.by_domain["logic"]
    assert (math_.correct, math_.graded, logic.correct, logic.graded) == (5, 6, 2, 4)
    assert math_.usd_per_task == pytest.approx((22 + 20 * 2.5) * 1e-6)  # mean i over 0..5 = 2.5
    assert logic.usd_per_correct == pytest.approx((22 + 20 * 7.5) * 1e-6 / 0.5)
    assert r.price == "input:test prices"
    # the store: one answer row per question, graded as scripted, tokens from server usage
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT question_id, correct, extracted, token_source, status FROM "
                           "eval_answers ORDER BY question_id").fetchall()
        mode = con.execute("SELECT mode, status FROM runs").fetchall()
        n_requests = con.execute("SELECT count(*) FROM requests").fetchone()[0]
    assert [(q, c) for q, c, *_ in rows] == [(f"q{i}", i in CORRECT) for i in range(10)]
    assert {(t, st) for *_, t, st in rows} == {("usage", "graded")}
    assert rows[5][2] == "11"  # q5 answered 2*5+1
    assert mode == [("eval", "complete")] and n_requests == 10
    again = load_eval(r.run_id, db)  # what `runs show` prints: the same figures from the store
    assert again.overall == o


def test_judge_grades_free_form_answers_at_its_own_cost(tmp_path):
    suite = tmp_path / "judge.jsonl"
    suite.write_text("\n".join(json.dumps(x) for x in [
        {"id": "j1", "question": "Monty: donkey behind one door, cars behind two; keep or switch?",
         "answer": "Answer states to keep the existing door", "grader": "judge"},
        {"id": "j2", "question": "Monty classic: car behind one door; keep or switch?",
         "answer": "Answer states to switch doors", "grader": "judge"},
        {"id": "n1", "question": "Numeric: 2 + 2?", "answer": 4, "grader": "numeric"}]) + "\n")
    replies = {"Monty:": Reply("Keep the door you picked."), "Monty classic": Reply("Keep it."),
               "Numeric": Reply("#### 4")}

    def judge(prompt: str) -> str:  # a judge that checks the answer against the criterion
        keep = "Keep" in prompt.split("Answer:\n")[1]
        wants_keep = "keep the existing door" in prompt
        return "Looks fine.\nVERDICT: " + ("CORRECT" if keep == wants_keep else "INCORRECT")

    with EvalServer(replies, judge=judge) as s:
        unjudged = run_eval(s.base_url, "scripted", suite, store=tmp_path / "a.duckdb")
        r = run_eval(s.base_url, "scripted", suite, judge_url=s.base_url, judge_model="judge",
                     judge_offer=OFFER, store=tmp_path / "b.duckdb")
        judge_prompts = [p for p in s.prompts if p.startswith("You grade an answer")]
    assert (unjudged.overall.graded, unjudged.overall.correct) == (1, 1)
    assert any("2 answers need an LLM judge" in n for n in unjudged.notes)
    assert (r.overall.graded, r.overall.correct) == (3, 2)  # j1 right, j2 wrong, n1 right
    assert {a.question_id: a.correct for a in r.answers} == {"j1": True, "j2": False, "n1": True}
    j = r.judge
    assert (j.requests, j.verdicts) == (2, 2)
    words = sum(len(p.split()) for p in judge_prompts)
    assert j.prompt_tokens == words and j.output_tokens == 2 * 4  # "Looks fine. VERDICT: X"
    assert j.usd == pytest.approx((words * 1 + 8 * 2) / 1e6)
    assert r.overall.usd_per_task is None  # the judge's cost is not the model's


def test_an_outage_keeps_every_graded_answer_and_resume_asks_only_the_rest(tmp_path):
    db, suite = tmp_path / "t.duckdb", _suite(tmp_path)
    with EvalServer(_replies(), fail_after=4) as s:  # answers 4 questions, then HTTP 503
        first = run_eval(s.base_url, "scripted", suite, concurrency=1, store=db)
    assert (first.overall.answered, first.overall.errors) == (4, {"http_503": 6})
    assert any(f"resume with --resume {first.run_id}" in n for n in first.notes)
    with EvalServer(_replies()) as s:
        done = run_eval(s.base_url, "scripted", suite, concurrency=2, resume=first.run_id, store=db)
        asked = sorted(p.split(":")[0] for p in s.prompts)
    assert asked == [f"Question number {i}" for i in range(4, 10)]  # only the 6 unanswered
    assert done.run_id == first.run_id
    assert (done.overall.graded, done.overall.correct, done.overall.errors) == (10, 7, {})
    with duckdb.connect(str(db), read_only=True) as con:
        graded = con.execute("SELECT question_id, count(*) FROM eval_answers WHERE status = "
                             "'graded' GROUP BY ALL").fetchall()
        points = con.execute("SELECT point, count(*) FROM requests GROUP BY ALL ORDER BY 1").fetchall()
        status = con.execute("SELECT status FROM runs").fetchone()[0]
    assert sorted(graded) == [(f"q{i}", 1) for i in range(10)]  # never a question twice
    assert points == [(0, 10), (1, 6)] and status == "complete"


def test_a_refused_connection_fails_with_the_resume_hint(tmp_path):
    db, suite = tmp_path / "t.duckdb", _suite(tmp_path)
    with EvalServer({}) as s:
        dead = s.base_url  # nothing listens here once the server stopped
    with pytest.raises(EndpointError, match=r"cannot connect to .*connection refused .*; the "
                                            r"answers so far are stored: resume with --resume \S+$"):
        run_eval(dead, "scripted", suite, store=db)
    with duckdb.connect(str(db), read_only=True) as con:
        run_id, status = con.execute("SELECT run_id, status FROM runs").fetchone()
    assert status == "failed"
    with EvalServer(_replies()) as s:
        r = run_eval(s.base_url, "scripted", suite, resume=run_id, store=db)
    assert (r.overall.graded, r.overall.correct) == (10, 7)


def test_resume_checks_model_and_suite(tmp_path):
    db, suite = tmp_path / "t.duckdb", _suite(tmp_path)
    with EvalServer(_replies()) as s:
        r = run_eval(s.base_url, "scripted", suite, store=db)
        with pytest.raises(InputError, match=f"run {r.run_id} evaluated model 'scripted' on suite "
                                             f"'suite' \\(limit None\\); resume it with the same"):
            run_eval(s.base_url, "other", suite, resume=r.run_id, store=db)
        with pytest.raises(InputError, match="resume it with the same --model, --suite and --limit"):
            run_eval(s.base_url, "scripted", suite, limit=3, resume=r.run_id, store=db)


def test_faults_per_question_and_client_counts(tmp_path):
    replies = _replies()
    replies["Question number 2:"] = Reply("So the sum is 4. #### 4", drop_after=2)
    replies["Question number 3:"] = Reply("boom", status=500)
    replies["Question number 5:"] = Reply("So the sum is 11. #### 11", reasoning_tokens=50,
                                          usage=False)
    with EvalServer(replies) as s:
        r = run_eval(s.base_url, "scripted", _suite(tmp_path, extra=["{oops"]), offer=OFFER,
                     store=False)
    o = r.overall
    assert o.errors == {"disconnect": 1, "http_500": 1} and o.answered == 8
    assert (o.graded, o.correct, o.client_counted) == (8, 5, 1)  # q2 and q3 failed
    q5 = next(a for a in r.answers if a.question_id == "q5")
    # no usage: output = chunks (7 content + 50 reasoning deltas), prompt = its 8 words
    assert q5.token_source == "client" and q5.record.output_tokens == 57
    assert q5.usd == pytest.approx((8 + 2 * 57) / 1e6)
    assert any("suite.jsonl:11: not a JSON object" in n for n in r.notes)
    assert any("no usage for 1 answers" in n for n in r.notes)
    assert any("2 of 10 questions have no answer (2 failed)" in n for n in r.notes)


def test_gpu_price_shares_the_wall_time(tmp_path):
    db = tmp_path / "t.duckdb"
    with EvalServer(_replies()) as s:
        r = run_eval(s.base_url, "scripted", _suite(tmp_path), gpu="h100-sxm",
                     usd_per_gpu_hour=3.6, concurrency=4, store=db)
    with duckdb.connect(str(db), read_only=True) as con:
        first, last = con.execute('SELECT min(actual_send), max("end") FROM requests').fetchone()
    # $3.60/hour = $0.001/s over the eval's wall time, over 10 answers
    assert r.overall.usd_per_task == pytest.approx(0.001 * (last - first) / 10, rel=1e-9)
    assert sum(a.usd for a in r.answers) == pytest.approx(0.001 * (last - first), rel=1e-9)
