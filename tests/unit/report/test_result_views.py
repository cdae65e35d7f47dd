"""The report's views of eval runs, routing, plans and forecasts, and the simulated percentiles
on a bench run's latency CDFs: each table carries exactly the numbers of the result its command
prints with ``--json``, and the figures a reader checks by hand (accuracy from the scripted
answers, the oracle from the outcomes file) come out as the hand arithmetic says."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.evalserver import EvalServer, Reply
from tests.fakeserver import MODEL
from truecost import estimate, forecast, plan, run_bench, simulate_route
from truecost.errors import InputError, TruecostError
from truecost.eval.results import load_eval
from truecost.eval.run import run_eval
from truecost.report import report
from truecost.report.plan import point_id
from truecost.report.view import kinds

from .page import at, read_page

REPO = Path(__file__).resolve().parents[3]
CHAT = REPO / "examples" / "chat-assistant.toml"
CODING = REPO / "examples" / "self-hosted-coding.toml"
OUTCOMES = REPO / "examples" / "routellm-gsm8k" / "outcomes.csv"


def test_views_are_registered():
    assert {"eval", "evals", "route", "plan", "forecast"} <= set(kinds())


@pytest.fixture
def eval_runs(tmp_path):
    """Two scripted eval runs of the same 6 questions (code: q0, q2, q4; maths: q1, q3, q5):
    'small' answers q0-q2 right, 'big' all six."""
    suite = tmp_path / "s.jsonl"
    suite.write_text("\n".join(json.dumps({
        "id": f"q{i}", "question": f"Number {i}: say {i}", "answer": i, "grader": "numeric",
        "domain": "maths" if i % 2 else "code"}) for i in range(6)))
    small = {f"Number {i}:": Reply(f"#### {i if i < 3 else 99}") for i in range(6)}
    big = {f"Number {i}:": Reply(f"#### {i}", reasoning_tokens=9) for i in range(6)}
    with EvalServer(small) as s:
        a = run_eval(s.base_url, "small", suite, offer="openai/gpt-4o-mini")
    with EvalServer(big) as s:
        b = run_eval(s.base_url, "big", suite, offer="openai/gpt-4o")
    return a, b


def test_eval_views_carry_each_runs_summaries(eval_runs):
    a, b = eval_runs
    r = report([a.run_id, b.run_id])
    assert [s.key for s in r.sections] == ["eval-1-eval", "eval-2-eval", "evals-accuracy-cost"]
    page = read_page(r.html)
    cells = page.cells["eval-1-eval"]
    # by hand: code q0, q2 right of q0, q2, q4; maths q1 right of q1, q3, q5; all 3 of 6
    assert cells["code"]["accuracy"] == pytest.approx(2 / 3)
    assert cells["maths"]["accuracy"] == pytest.approx(1 / 3)
    assert cells["all"]["accuracy"] == pytest.approx(1 / 2)
    shown = json.loads(json.dumps(load_eval(a.run_id).to_dict()))  # what `runs show --json` prints
    assert page.json["eval-1-eval"] == {f"truecost runs show {a.run_id} --json": shown}
    for domain in ("code", "maths"):
        d = shown["by_domain"][domain]
        for key in ("accuracy", "accuracy_ci.0", "accuracy_ci.1", "tokens_per_task.output",
                    "usd_per_task", "usd_per_correct"):
            assert cells[domain][key] == at(d, key), (domain, key)
    for key in ("accuracy", "usd_per_task", "usd_per_correct"):
        assert cells["all"][key] == shown[key]
    # big's reasoning: 9 tokens per answer, each domain
    assert page.cells["eval-2-eval"]["code"]["tokens_per_task.reasoning"] == 9
    compared = page.cells["evals-accuracy-cost"]
    assert compared[b.run_id]["accuracy"] == 1.0
    assert compared[a.run_id]["usd_per_task"] == shown["usd_per_task"]


def test_route_of_eval_runs_is_simulate_routes_result(eval_runs):
    a, b = eval_runs
    r = report(route=[a.run_id, b.run_id])
    page = read_page(r.html)
    doc = json.loads(json.dumps(simulate_route([a.run_id, b.run_id]).to_dict()))
    assert page.json["route-route"] == {f"truecost route simulate {a.run_id} {b.run_id} --json": doc}
    for p in doc["points"]:
        for key in ("strong_share", "accuracy", "usd_per_task"):
            assert page.cells["route-route"][p["label"]].get(key) == p[key], (p["label"], key)
    # the oracle: big is right wherever small is, so small where it is right (3), big elsewhere
    assert page.cells["route-route"]["oracle (cheapest correct)"]["accuracy"] == 1.0
    assert page.cells["route-route"]["oracle (cheapest correct)"]["strong_share"] == 0.5


def test_route_of_the_routellm_outcomes_by_hand():
    r = report(route=[OUTCOMES], route_usd_per_task={"mixtral": 1.0, "gpt-4": 10.0})
    assert r.command == (f"truecost report --route {OUTCOMES} --route-usd-per-task mixtral=1 "
                         f"--route-usd-per-task gpt-4=10")
    cells = read_page(r.html).cells["route-route"]
    with OUTCOMES.open() as f:
        rows = list(csv.reader(f))[1:]
    cheap = sum(r_[1] == "True" for r_ in rows) / len(rows)
    strong = sum(r_[2] == "True" for r_ in rows) / len(rows)
    either = sum("True" in r_[1:3] for r_ in rows) / len(rows)
    cheap_right = sum(r_[1] == "True" for r_ in rows)
    assert cells["mistralai/Mixtral-8x7B-Instruct-v0.1 alone"]["accuracy"] == pytest.approx(cheap)
    assert cells["gpt-4-1106-preview alone"]["accuracy"] == pytest.approx(strong)
    assert cells["oracle (cheapest correct)"]["accuracy"] == pytest.approx(either)
    # the oracle pays $1 where mixtral is right, $10 where only gpt-4 is, $1 where neither is
    wrong_both = sum("True" not in r_[1:3] for r_ in rows)
    only_strong = len(rows) - cheap_right - wrong_both
    assert cells["oracle (cheapest correct)"]["usd_per_task"] == pytest.approx(
        (cheap_right + 10 * only_strong + wrong_both) / len(rows))
    assert cells["random 50%"]["usd_per_task"] == pytest.approx(5.5)


def test_plan_view_carries_every_confirmed_option():
    r = report(plan=CODING)
    page = read_page(r.html)
    p = plan(CODING)
    doc = json.loads(json.dumps(p.to_dict()))
    assert page.json["plan-1-plan"] == {f"truecost plan {CODING} --json": doc}
    cells, texts = page.cells["plan-1-plan"], page.texts["plan-1-plan"]
    assert list(cells) == [point_id(x) for x in p.options]
    for x, o in zip(p.options, doc["options"]):
        for key in ("usd_per_task", "usd_per_month", "ttft_s", "tpot_s"):
            assert cells[point_id(x)].get(f"option.{key}") == o["option"][key], key
    front = {point_id(x) for x in p.frontier}
    assert front and {k for k, t in texts.items() if "on the frontier" in t["role"]} == front
    assert "cheapest" in texts[point_id(p.best)]["role"]
    assert all(texts[point_id(x)]["binds"] != "-" for x in p.options if x.config is not None)


def test_forecast_view_carries_every_month():
    r = report(forecast=CHAT, forecast_months=6, forecast_growth="10%/month")
    assert r.command == f"truecost report --forecast {CHAT} --forecast-months 6 --forecast-growth 10%/month"
    page = read_page(r.html)
    doc = json.loads(json.dumps(forecast(CHAT, months=6, growth="10%/month").to_dict()))
    cmd = f"truecost forecast {CHAT} --months 6 --growth 10%/month --json"
    assert page.json["forecast-1-forecast"] == {cmd: doc}
    cells = page.cells["forecast-1-forecast"]
    for o in doc["options"]:
        for plan_, months in o["monthly_usd"].items():
            row = cells[f"{o['label']} | {plan_}"]
            assert [row[f"month_{m}"] for m in range(1, 7)] == months
            assert row["total_usd"] == o["total_usd"][plan_]
    for b in doc["break_even"]:
        row = cells.get(f"{b['self_hosted']} | {b['api']} | {b['plan']}", {})  # 'never': no number
        assert row.get("tasks_per_day") == b["tasks_per_day"]
        assert page.texts["forecast-1-forecast"][f"{b['self_hosted']} | {b['api']} | {b['plan']}"][
            "tasks_per_day"] == ("never" if b["tasks_per_day"] is None else f"{b['tasks_per_day']:,.0f}")


def test_bad_route_and_forecast_inputs_are_one_line(tmp_path):
    with pytest.raises(TruecostError, match="nope"):
        report(route=["nope"])
    with pytest.raises(InputError):
        report(forecast=CHAT, forecast_growth="lots")


def test_bench_latency_view_shows_the_simulations_percentiles(fake):
    run = run_bench(fake.url("fast"), MODEL, concurrency=[1, 3], requests=12, isl=16, osl=4,
                    gpu="h100-sxm", gpus=1)
    r = report(run.run_id, model="llama-3.1-8b")
    page = read_page(r.html)
    lat = page.cells["run-1-latency"]
    for p in run.points:
        tok = p.summary.tokens
        e = estimate("llama-3.1-8b", "h100-sxm", concurrency=p.concurrency,
                     isl=round(tok.input_mean), osl=round(tok.output_mean))
        assert e.simulation is not None
        for m, q in (("ttft", 50), ("ttft", 95), ("ttft", 99), ("itl", 50)):
            assert lat[p.label][f"prediction[0].simulation.{m}.p{q}"] == getattr(getattr(e.simulation, m), f"p{q}")
    # the estimates are embedded beside the run, with the command that prints each
    docs = page.json["run-1-latency"]
    assert f"truecost runs show {run.run_id} --json" in docs
    assert sum(c.startswith("truecost estimate --model llama-3.1-8b") for c in docs) == len(run.points)


def test_result_objects_are_laid_out_as_they_are(eval_runs):
    a, b = eval_runs
    f = forecast(CHAT, months=3)
    ro = simulate_route([OUTCOMES], usd_per_task={"mixtral": 1.0, "gpt-4": 10.0})
    r = report([a, b], forecast=f, route=ro)
    assert [s.key for s in r.sections] == ["forecast-1-forecast", "eval-1-eval", "eval-2-eval",
                                           "evals-accuracy-cost", "route-route"]
    assert r.command == "truecost.report(...) (Python, from result objects)"
    page = read_page(r.html)
    assert page.json["forecast-1-forecast"] == {"truecost.forecast(...) (Python)": json.loads(json.dumps(f.to_dict()))}
    assert page.json["route-route"] == {"truecost.simulate_route(...) (Python)": json.loads(json.dumps(ro.to_dict()))}
    assert page.cells["eval-2-eval"]["all"]["accuracy"] == 1.0
