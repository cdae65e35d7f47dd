"""Routing policies and RouteLLM's measures. On RouteLLM's GSM8K outcomes the oracle and the
random line are recomputed here from the CSV with independent code and checked against the
published figures (Mixtral 63.8%, GPT-4 85.7%; a random router's CPT(50%) = 50%); cascades are
checked on small hand-made outcomes."""

from __future__ import annotations

import csv
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.evalserver import EvalServer, Reply
from truecost.errors import InputError, UnknownNameError
from truecost.eval.run import run_eval
from truecost.prices import Offer
from truecost.provenance import Provenance
from truecost.route import PolicyPoint, load_outcomes, simulate_route

from ..conftest import REPO

ROUTELLM = REPO / "examples" / "routellm-gsm8k" / "outcomes.csv"
WEAK, STRONG = "mistralai/Mixtral-8x7B-Instruct-v0.1", "gpt-4-1106-preview"
# RouteLLM (Ong et al. 2024) states GPT-4 at $24.7 and Mixtral at $0.24 per 1M tokens; at an
# assumed 1,000 tokens per task these are the $ per task used below.
USD = {"mixtral": 0.24e-3, "gpt-4": 24.7e-3}


def _csv_columns():
    with ROUTELLM.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return [r[WEAK] == "True" for r in rows], [r[STRONG] == "True" for r in rows]


def test_routellm_models_oracle_and_random_line():
    weak, strong = _csv_columns()
    n = len(weak)
    r = simulate_route([ROUTELLM], usd_per_task=USD)
    assert (r.questions, r.cheap, r.strong) == (1319, WEAK, STRONG)
    alone = {p.label: p for p in r.points if p.policy == "alone"}
    # published: Mixtral 63.8%, GPT-4 85.7% on GSM8K (RouteLLM)
    assert round(alone[f"{WEAK} alone"].accuracy, 3) == 0.638
    assert round(alone[f"{STRONG} alone"].accuracy, 3) == 0.857
    assert alone[f"{WEAK} alone"].accuracy == sum(weak) / n
    # oracle: the cheap model when it is right, else GPT-4 when it is right, else the cheap one
    oracle = next(p for p in r.points if p.policy == "oracle")
    to_strong = sum(not w and s for w, s in zip(weak, strong))
    assert oracle.accuracy == sum(w or s for w, s in zip(weak, strong)) / n
    assert oracle.strong_share == to_strong / n
    assert oracle.usd_per_task == pytest.approx((n - to_strong) / n * USD["mixtral"]
                                                + to_strong / n * USD["gpt-4"])
    # random mix at 30%: 0.7 x weak + 0.3 x strong, in accuracy and in $
    p30 = next(p for p in r.points if p.label == "random 30%")
    assert p30.accuracy == pytest.approx(0.7 * sum(weak) / n + 0.3 * sum(strong) / n)
    assert p30.usd_per_task == pytest.approx(0.7 * USD["mixtral"] + 0.3 * USD["gpt-4"])
    (rand,) = [c for c in r.curves if c.policy == "random"]
    # a random router recovers the gap linearly: APGR 0.5, CPT(50%) = 50%, CPT(80%) = 80%
    assert rand.apgr == pytest.approx(0.5) and rand.cpt50 == pytest.approx(0.5)
    assert rand.cpt80 == pytest.approx(0.8)
    # within 1 point of GPT-4: share s = (acc_s - 0.01 - acc_w) / (acc_s - acc_w) of GPT-4 calls
    aw, as_ = sum(weak) / n, sum(strong) / n
    s = (as_ - 0.01 - aw) / (as_ - aw)
    cost = (1 - s) * USD["mixtral"] + s * USD["gpt-4"]
    assert rand.usd_saved_within_1pt == pytest.approx(1 - cost / USD["gpt-4"])


def _write(path, header, rows):
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_cascades_by_hand(tmp_path):
    # 5 questions. cheap right on 0, 1, 2; strong right on 0, 2, 3, 4. The cheap model gave no
    # answer on 3 and 4; its confidence score is 0.9, 0.8, 0.7, 0.2, 0.1.
    f = _write(tmp_path / "o.csv", ["id", "cheap", "strong", "cheap:answer", "conf"], [
        ["q0", "True", "True", "1", "0.9"], ["q1", "True", "False", "2", "0.8"],
        ["q2", "True", "True", "3", "0.7"], ["q3", "False", "True", "", "0.2"],
        ["q4", "False", "True", "", "0.1"]])
    r = simulate_route([f], usd_per_task={"cheap": 1.0, "strong": 10.0}, score="conf")
    no_answer = next(p for p in r.points if p.policy == "cascade:no-answer")
    # escalate q3, q4: right on q0-q4 = 5/5; $ = 5 x 1 (cheap always) + 2 x 10 = 25 over 5 tasks
    assert (no_answer.strong_share, no_answer.accuracy, no_answer.usd_per_task) == (0.4, 1.0, 5.0)
    sweep = [p for p in r.points if p.policy == "cascade:score"]
    assert sweep[0].strong_share == 0 and sweep[-1].strong_share == 1
    below_075 = next(p for p in sweep if p.strong_share == 0.6)  # escalate q2, q3, q4
    assert below_075.accuracy == 1.0 and below_075.usd_per_task == pytest.approx(1 + 0.6 * 10)
    everything = sweep[-1]  # escalate all: strong's answers (4/5), both paid
    assert everything.accuracy == 0.8 and everything.usd_per_task == pytest.approx(11.0)
    (curve,) = [c for c in r.curves if c.policy == "cascade:score"]
    # the cheap model alone is 3/5, the strong 4/5: the gap is 0.2 and escalating q3, q4 (40%)
    # already recovers all of it (and more); 50% of the gap (0.7) is reached between 0% and 20%
    # of strong calls: at 20% (q4 escalated) accuracy is 0.8, so by interpolation at 10%.
    assert curve.cpt50 == pytest.approx(0.1)
    oracle = next(p for p in r.points if p.policy == "oracle")
    assert (oracle.accuracy, oracle.strong_share) == (1.0, 0.4)
    assert oracle.usd_per_task == pytest.approx((3 * 1 + 2 * 10) / 5)


def test_disagreement_cascade_with_a_second_sample(tmp_path):
    main = _write(tmp_path / "a.csv", ["id", "cheap", "strong", "cheap:answer"], [
        ["q0", "True", "True", "1"], ["q1", "False", "True", "7"], ["q2", "True", "False", "3"]])
    second = _write(tmp_path / "b.csv", ["id", "cheap", "cheap:answer"], [
        ["q0", "True", "1"], ["q1", "False", "8"], ["q2", "False", "4"]])
    r = simulate_route([main], usd_per_task={"cheap": 1.0, "strong": 10.0}, cheap_sample=second)
    p = next(p for p in r.points if p.policy == "cascade:disagree")
    # q1 and q2 disagree -> strong: right on q0 (cheap), q1 (strong), not q2 = 2/3;
    # $ = 3 x (1 + 1 second sample) + 2 x 10 = 26 over 3
    assert (p.strong_share, p.accuracy) == (pytest.approx(2 / 3), pytest.approx(2 / 3))
    assert p.usd_per_task == pytest.approx(26 / 3)


def test_eval_runs_as_outcomes_priced_per_question(tmp_path):
    db = tmp_path / "t.duckdb"
    suite = tmp_path / "s.jsonl"
    suite.write_text("\n".join(json.dumps({"id": f"q{i}", "question": f"Number {i}: say {i}",
                                           "answer": i, "grader": "numeric"}) for i in range(4)))
    offer = Offer("t/m", "t", "m", 1.0, 1.0, None, Provenance("input", "test"))
    small = {f"Number {i}:": Reply(f"#### {i if i < 2 else 99}") for i in range(4)}  # 2/4 right
    big = {f"Number {i}:": Reply(f"#### {i}", reasoning_tokens=9) for i in range(4)}  # 4/4
    with EvalServer(small) as s:
        a = run_eval(s.base_url, "small", suite, offer=offer, store=db)
    with EvalServer(big) as s:
        b = run_eval(s.base_url, "big", suite, offer=offer, store=db)
    r = simulate_route([a.run_id, b.run_id], store=db)
    assert (r.cheap, r.strong) == ("small", "big")
    # each prompt is 4 words; small answers with 2 tokens, big with 2 + 9 reasoning: $ = tokens/1e6
    small_alone = next(p for p in r.points if p.label == "small alone")
    assert small_alone.usd_per_task == pytest.approx((4 + 2) / 1e6)
    oracle = next(p for p in r.points if p.policy == "oracle")
    assert oracle.accuracy == 1.0 and oracle.usd_per_task == pytest.approx((2 * 6 + 2 * 15) / 4e6)
    # re-priced with a given $ per task instead
    r2 = simulate_route([a.run_id, b.run_id], usd_per_task={"small": 0.5, "big": 1.5}, store=db)
    assert next(p for p in r2.points if p.label == "random 50%").usd_per_task == pytest.approx(1.0)


def test_bad_inputs(tmp_path):
    with pytest.raises(UnknownNameError, match="unknown model 'claude'"):
        simulate_route([ROUTELLM], usd_per_task={"claude": 1.0})
    with pytest.raises(InputError, match="'i' matches several models"):
        simulate_route([ROUTELLM], usd_per_task={"i": 1.0})
    f = _write(tmp_path / "x.csv", ["id", "prompt"], [["a", "hello"]])
    with pytest.raises(InputError, match=r"x.csv: no model column \(a column of True/False"):
        simulate_route([f])
    g = _write(tmp_path / "y.csv", ["id", "m1"], [["zz", "True"]])
    with pytest.raises(InputError, match="share no question id"):
        simulate_route([ROUTELLM, g])
    with pytest.raises(InputError, match="needs its tokens per task: --tokens 'mixtral=IN:OUT'"):
        simulate_route([ROUTELLM], offers={"mixtral": "openai/gpt-4o-mini"})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.lists(st.sampled_from(["True", "False", "1", "0", "", "x", "0.5", "nan",
                                                 "-3", "1e308"]), min_size=3, max_size=3),
                      min_size=1, max_size=8))
def test_any_outcomes_csv_simulates_or_fails_with_one_line(tmp_path, cells):
    f = _write(tmp_path / "h.csv", ["a", "b", "c"], cells)
    try:
        r = simulate_route([f])
    except InputError as e:
        assert "\n" not in str(e)
        return
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))  # strict JSON: no NaN or Infinity
    assert 0 <= min(p["accuracy"] for p in d["points"]) <= max(p["accuracy"] for p in d["points"]) <= 1


# -- hand-made outcomes: every figure below is counted by hand from the table the test writes ---
Z95 = 1.959963984540054  # the two-sided 95% normal quantile


def _wilson_by_hand(k, n):
    # Wilson score interval: centre (p + z²/2n) / (1 + z²/n), half z·sqrt(p(1−p)/n + z²/4n²) / (1 + z²/n)
    p, d = k / n, 1 + Z95 ** 2 / n
    centre = (p + Z95 ** 2 / (2 * n)) / d
    half = Z95 * (p * (1 - p) / n + Z95 ** 2 / (4 * n * n)) ** 0.5 / d
    return [centre - half, centre + half]


def test_to_dict_every_key_and_value(tmp_path):
    # 4 questions. cheap right on q0, q1 (2/4), no answer on q2, $1 each from its :usd column;
    # strong right on q0, q2, q3 (3/4) at a given $10 per task.
    f = _write(tmp_path / "o.csv", ["id", "cheap", "strong", "cheap:answer", "cheap:usd"], [
        ["q0", "True", "True", "1", "1"], ["q1", "True", "False", "2", "1"],
        ["q2", "False", "True", "", "1"], ["q3", "False", "True", "5", "1"]])
    d = simulate_route([f], usd_per_task={"strong": 10.0}).to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert list(d) == ["questions", "cheap", "strong", "models", "points", "curves", "notes"]
    assert (d["questions"], d["cheap"], d["strong"], d["notes"]) == (4, "cheap", "strong", [])
    cheap, strong = d["models"]
    assert list(cheap) == ["name", "accuracy", "accuracy_ci", "usd_per_task", "source", "price"]
    assert (cheap["name"], cheap["accuracy"], cheap["usd_per_task"]) == ("cheap", 0.5, 1.0)
    assert (cheap["source"], cheap["price"]) == (f"file:{f}", f"file:{f} (cheap:usd)")
    assert cheap["accuracy_ci"] == pytest.approx(_wilson_by_hand(2, 4))
    assert (strong["name"], strong["accuracy"], strong["usd_per_task"]) == ("strong", 0.75, 10.0)
    assert (strong["source"], strong["price"]) == (f"file:{f}", "input: $10 per task")
    assert strong["accuracy_ci"] == pytest.approx(_wilson_by_hand(3, 4))
    # points: each alone, random 10%..90%, the no-answer cascade, the oracle
    labels = [p["label"] for p in d["points"]]
    assert labels == (["cheap alone", "strong alone"] + [f"random {k}%" for k in range(10, 100, 10)]
                      + ["cascade: no answer", "oracle (cheapest correct)"])
    assert [p["policy"] for p in d["points"]] == (["alone"] * 2 + ["random"] * 9
                                                  + ["cascade:no-answer", "oracle"])
    by = {p["label"]: p for p in d["points"]}
    assert list(by["cheap alone"]) == ["policy", "label", "strong_share", "accuracy", "usd_per_task",
                                       "usd_per_correct"]
    assert [by["cheap alone"][k] for k in ("strong_share", "accuracy", "usd_per_task",
                                           "usd_per_correct")] == [0.0, 0.5, 1.0, 2.0]
    assert [by["strong alone"][k] for k in ("strong_share", "accuracy", "usd_per_task")] == [1.0, 0.75, 10.0]
    assert by["strong alone"]["usd_per_correct"] == pytest.approx(10 / 0.75)
    for k in range(1, 10):  # the straight line: acc 0.5 + 0.25 s, $ 1 + 9 s
        p, s = by[f"random {10 * k}%"], k / 10
        assert (p["strong_share"], p["accuracy"], p["usd_per_task"], p["usd_per_correct"]) == (
            pytest.approx(s), pytest.approx(0.5 + 0.25 * s), pytest.approx(1 + 9 * s),
            pytest.approx((1 + 9 * s) / (0.5 + 0.25 * s)))
    # cascade on no answer: q2 escalated -> right on q0, q1 (cheap), q2 (strong), not q3 = 3/4;
    # $ = 4 x 1 + 10 = 14 over 4 = 3.5
    na = by["cascade: no answer"]
    assert (na["strong_share"], na["accuracy"], na["usd_per_task"]) == (0.25, 0.75, 3.5)
    assert na["usd_per_correct"] == pytest.approx(3.5 / 0.75)
    # oracle: cheap on q0, q1 ($1), strong on q2, q3 ($10): 4/4 right, $22 over 4
    o = by["oracle (cheapest correct)"]
    assert (o["strong_share"], o["accuracy"], o["usd_per_task"], o["usd_per_correct"]) == (
        0.5, 1.0, 5.5, 5.5)
    (c,) = d["curves"]
    assert list(c) == ["policy", "apgr", "cpt50", "cpt80", "usd_saved_within_1pt"]
    assert c["policy"] == "random"
    assert (c["apgr"], c["cpt50"], c["cpt80"]) == (pytest.approx(0.5), pytest.approx(0.5),
                                                    pytest.approx(0.8))
    # within 1 point of 0.75 = 0.74 at share (0.74 - 0.5) / 0.25 = 0.96: $ 1 + 9 x 0.96 = 9.64
    assert c["usd_saved_within_1pt"] == pytest.approx(1 - 9.64 / 10)


def test_usd_per_correct_none_at_zero_accuracy_or_no_price():
    assert PolicyPoint("x", "x", 0.0, 0.0, 1.0).usd_per_correct is None
    assert PolicyPoint("x", "x", 0.0, 0.5, None).usd_per_correct is None
    assert PolicyPoint("x", "x", 0.0, 1.0, 3.0).usd_per_correct == 3.0
    assert PolicyPoint("x", "x", 0.0, 0.25, 3.0).usd_per_correct == 12.0


def test_csv_columns_models_scores_and_ids(tmp_path):
    # columns with ':' are never models or scores, even when they look like them; "id" is not a
    # model; True/False cells are case- and space-insensitive (true/false, yes/no, 1/0); a column
    # of numbers (empty cells allowed, not all empty, nothing else) is a score
    f = _write(tmp_path / "o.csv",
               ["a:answer", "id", "a", "b", "conf", "note", "blank", "nanny", "b:usd", "part"], [
                   ["1", "x", " TRUE ", "0", "0.5", "hi", "", "nan", "1", "1"],
                   ["0", "", "no", "1", "", "", "", "1.5", "2", "0"],
                   ["1", "z", "Yes", "FALSE", "2", "3", "", "", "3.5", ""]])
    o = load_outcomes([f])
    assert o.ids == ("x", "row-1", "z")  # an empty id is numbered by its row
    assert [m.name for m in o.models] == ["a", "b"]
    a, b = o.models
    assert a.correct == (True, False, True) and b.correct == (False, True, False)
    assert a.answers == ("1", "0", "1") and b.answers is None
    assert (a.usd, a.price, a.source) == (None, None, f"file:{f}")
    assert (b.usd, b.price, b.source) == ((1.0, 2.0, 3.5), f"file:{f} (b:usd)", f"file:{f}")
    assert o.scores == {"conf": (0.5, None, 2.0), "part": (1.0, 0.0, None)}
    assert o.notes == ()
    # no id column: rows are numbered from 0
    g = _write(tmp_path / "g.csv", ["m", "n"], [["1", "0"], ["0", "1"]])
    assert load_outcomes([g]).ids == ("row-0", "row-1")


def test_csv_single_row_and_short_rows(tmp_path):
    one = tmp_path / "one.csv"  # one row: $0 is a price (>= 0), the answer is stripped
    one.write_text("id,m,n,m:answer,m:usd\nq1,yes,no,  42 ,0\n")
    o = load_outcomes([one])
    m = o.model("m")
    assert (m.correct, m.answers, m.usd, m.price) == ((True,), ("42",), (0.0,), f"file:{one} (m:usd)")
    assert o.model("n").correct == (False,)
    short = tmp_path / "short.csv"  # the last row stops early: no answer, no score there
    short.write_text("id,m,n,m:answer,s\nq1,True,False,7,0.5\nq2,False,True\n")
    o = load_outcomes([short])
    assert o.model("m").answers == ("7", None) and o.scores == {"s": (0.5, None)}
    half = tmp_path / "half.csv"  # a $ amount below 1 is a price too
    half.write_text("id,m,n,m:usd\nq1,1,0,0.25\nq2,0,1,0.75\n")
    assert load_outcomes([half]).model("m").usd == (0.25, 0.75)


def test_csv_keeps_line_breaks_inside_quoted_fields(tmp_path):
    f = tmp_path / "q.csv"  # the csv module reads files opened with newline="" (its docs)
    f.write_bytes(b'id,"cheap\r\nv1",strong\r\nq1,True,False\r\nq2,False,True\r\n')
    o = load_outcomes([f])
    assert [m.name for m in o.models] == ["cheap\r\nv1", "strong"]


def test_csv_errors_are_one_line_and_say_how_to_fix(tmp_path):
    def err(path) -> str:
        with pytest.raises(InputError) as e:
            load_outcomes([path])
        return str(e.value)

    with pytest.raises(InputError) as e:
        load_outcomes([])
    assert str(e.value) == "give outcomes: eval run ids or CSV files (one True/False column per model)"
    missing = tmp_path / "missing.csv"  # a .csv name is read as a file even when there is none
    assert err(missing) == f"{missing}: cannot read: No such file or directory"
    folder = tmp_path / "dir.csv"
    folder.mkdir()
    assert err(folder) == f"{folder}: cannot read: Is a directory"
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"\xff\xfeid,m\n")
    assert err(latin).startswith(f"{latin}: not a CSV file ('utf-8' codec can't decode byte 0xff")
    huge = tmp_path / "huge.csv"
    huge.write_text("id,m\nq1," + "x" * 200_000 + "\n")
    assert err(huge) == f"{huge}: not a CSV file (field larger than field limit (131072))"
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert err(empty) == f"{empty}: no rows"
    header = tmp_path / "header.csv"
    header.write_text("id,m,n\n")
    assert err(header) == f"{header}: no rows"
    dup = _write(tmp_path / "dup.csv", ["id", "m", "n"], [["q1", "1", "0"], ["q1", "0", "1"]])
    assert err(dup) == f"{dup}: the id column repeats ids; each row must be one question"
    none = _write(tmp_path / "none.csv", ["id", "m:answer", "blank"], [["q1", "1", ""]])
    assert err(none) == f"{none}: no model column (a column of True/False per question)"
    for bad in ("-1", "", "inf", "nan", "$3"):
        f = _write(tmp_path / "usd.csv", ["id", "m", "n", "m:usd"], [["q1", "1", "0", "1"],
                                                                      ["q2", "0", "1", bad]])
        assert err(f) == f"{f}: column 'm:usd' needs a $ amount >= 0 on every row"
    # a file that is not named .csv is still read as one when it exists
    txt = tmp_path / "outcomes.txt"
    txt.write_text("id,m,n\nq1,1,0\n")
    assert [m.name for m in load_outcomes([txt]).models] == ["m", "n"]


def test_join_on_shared_ids_names_repeats_and_notes_the_dropped(tmp_path):
    a = _write(tmp_path / "a.csv", ["id", "m", "conf"], [
        ["q1", "1", "0.1"], ["q2", "1", "0.2"], ["q3", "0", "0.3"], ["q4", "0", "0.4"]])
    b = _write(tmp_path / "b.csv", ["id", "m", "m:answer", "m:usd"], [
        ["q4", "1", "d", "4"], ["q3", "1", "c", "3"], ["q2", "0", "b", "2"]])
    c = _write(tmp_path / "c.csv", ["id", "m"], [["q2", "0"], ["q3", "1"], ["q5", "1"]])
    o = load_outcomes([a, b, c])
    # q2, q3 are in all three, in the first source's order; 4 - 2 = 2 questions dropped
    assert o.ids == ("q2", "q3")
    assert [m.name for m in o.models] == ["m", "m#2", "m#3"]
    m1, m2, m3 = o.models
    assert (m1.correct, m2.correct, m3.correct) == ((True, False), (False, True), (False, True))
    assert (m2.answers, m2.usd, m2.price) == (("b", "c"), (2.0, 3.0), f"file:{b} (m:usd)")
    assert (m1.source, m2.source, m3.source) == (f"file:{a}", f"file:{b}", f"file:{c}")
    assert o.scores == {"conf": (0.2, 0.3)}
    assert o.notes == ("2 questions are not in every source; simulated on the 2 they share",)
    r = simulate_route([a, b])  # q2, q3, q4 shared; 4 - 3 = 1 dropped
    assert r.questions == 3 and r.notes[0] == (
        "1 questions are not in every source; simulated on the 3 they share")


def test_model_names_match_exactly_or_by_unique_substring(tmp_path):
    f = _write(tmp_path / "o.csv", ["id", "Llama-3-8B", "llama-3-70b", "gpt-4o"], [
        ["q1", "1", "1", "1"], ["q2", "0", "1", "1"], ["q3", "0", "0", "1"]])
    o = load_outcomes([f])
    assert o.model("GPT").name == "gpt-4o" and o.model("llama-3-8b").name == "Llama-3-8B"
    assert o.model("llama-3-70b").name == "llama-3-70b"
    with pytest.raises(InputError) as e:
        o.model("LLAMA")
    assert str(e.value) == ("'LLAMA' matches several models (Llama-3-8B, llama-3-70b); give more "
                            "of the name")
    with pytest.raises(UnknownNameError) as e2:
        o.model("gtp-4o")
    assert str(e2.value) == "unknown model 'gtp-4o'; did you mean gpt-4o?"
    r = simulate_route([f], cheap="8b", strong="GPT")
    assert (r.cheap, r.strong) == ("Llama-3-8B", "gpt-4o")
    with pytest.raises(InputError, match="^the cheap and the strong model must differ$"):
        simulate_route([f], cheap="gpt", strong="4o")


def _three(tmp_path):
    # x right on q0-q2 (3/4), y on all (4/4), z on q0, q1 (2/4)
    return _write(tmp_path / "m.csv", ["id", "x", "y", "z"], [
        ["q0", "1", "1", "1"], ["q1", "1", "1", "1"], ["q2", "1", "1", "0"], ["q3", "0", "1", "0"]])


def test_which_model_is_cheap_and_which_strong(tmp_path):
    f = _three(tmp_path)
    # priced: strong = the most accurate (y); cheap = the cheapest of the rest even when it is
    # the more accurate (x at $1 beats z at $2)
    r = simulate_route([f], usd_per_task={"x": 1.0, "y": 5.0, "z": 2.0})
    assert (r.cheap, r.strong) == ("x", "y")
    assert r.notes == ("cascade on 'no answer' needs the cheap model's extracted answers (x has none)",)
    # the same $ per task: the less accurate is the cheap one
    r = simulate_route([f], usd_per_task={"x": 1.0, "y": 5.0, "z": 1.0})
    assert (r.cheap, r.strong) == ("z", "y")
    # unpriced: the least accurate is the cheap one, and the note says what is missing
    r = simulate_route([f], usd_per_task={"x": 0.5})
    assert (r.cheap, r.strong) == ("z", "y")
    assert r.notes == ("no price for y, z: costs are left out (give --usd-per-task MODEL=X, or "
                       "--offer MODEL=PROVIDER/MODEL)",
                       "cascade on 'no answer' needs the cheap model's extracted answers (z has none)")
    assert all(p.usd_per_task is None for p in r.points if p.policy != "alone")
    # a tie in accuracy: the dearer model is the strong one
    g = _write(tmp_path / "t.csv", ["id", "a", "b"], [["q0", "1", "0"], ["q1", "0", "1"]])
    for prices, strong in (({"a": 2.0, "b": 1.0}, "a"), ({"a": 1.0, "b": 2.0}, "b")):
        r = simulate_route([g], usd_per_task=prices)
        assert r.strong == strong
        assert r.notes == ("cascade on 'no answer' needs the cheap model's extracted answers "
                           f"({r.cheap} has none)",
                           f"{r.cheap} is at least as accurate as {strong}: no mix improves on it")
        (curve,) = r.curves  # no gap: no APGR and no CPT
        assert (curve.apgr, curve.cpt50, curve.cpt80) == (None, None, None)
    # a cheap model more accurate than the strong one chosen
    r = simulate_route([f], cheap="y", strong="x", usd_per_task={"y": 1.0, "x": 1.0, "z": 1.0})
    assert r.notes[-1] == "y is at least as accurate as x: no mix improves on it"


def test_prices_per_task_and_per_token_offers(tmp_path):
    f = _three(tmp_path)
    # $0 is a price; the strong model's $0 leaves nothing to save
    r = simulate_route([f], usd_per_task={"x": 0.0, "y": 0.0, "z": 0.0})
    assert [m.price for m in r.models] == ["input: $0 per task"] * 3
    assert r.curves[0].usd_saved_within_1pt is None
    for bad, shown in ((-1.0, "-1.0"), (float("nan"), "nan"), (float("inf"), "inf")):
        with pytest.raises(InputError) as e:
            simulate_route([f], usd_per_task={"x": bad})
        assert str(e.value) == f"$ per task of 'x' must be >= 0, got {shown}"
    # unknown names fail before any value is checked
    with pytest.raises(UnknownNameError, match="^unknown model 'w'"):
        simulate_route([f], usd_per_task={"x": -1.0, "w": 1.0})
    with pytest.raises(UnknownNameError, match="^unknown model 'w'"):
        simulate_route([f], offers={"x": OFFER}, tokens={"w": (1.0, 1.0)})
    # the $ ceiling: $1e9 per task is the dearest a route prices, a cent more is refused
    assert simulate_route([f], usd_per_task={"x": 1e9, "y": 1e9, "z": 1e9}).models[0].usd == (1e9,) * 4
    with pytest.raises(InputError) as e:
        simulate_route([f], usd_per_task={"y": 1e9 + 0.01})
    assert str(e.value) == ("'y' costs $1e+09 per task (input: $1e+09 per task), more than the "
                            "$1,000,000,000 a route prices; check the price or the tokens per task")
    # an offer with given tokens per task (names by substring): $2/M in, $10/M out;
    # 1000 in + 100 out = (2000 + 1000) / 1e6 = $0.003
    r = simulate_route([f], offers={"X": OFFER}, tokens={"x": (1000.0, 100.0)},
                       usd_per_task={"y": 1.0, "z": 1.0})
    x = r.models[0]
    assert x.usd == pytest.approx((0.003,) * 4)
    assert x.price == "input:test offer, 1000 in + 100 out tokens per task"
    for bad in ((-1.0, 100.0), (1000.0, float("nan"))):
        with pytest.raises(InputError) as e:
            simulate_route([f], offers={"x": OFFER}, tokens={"x": bad})
        assert str(e.value) == f"tokens per task of 'x' must be >= 0, got {bad[0]:g}:{bad[1]:g}"
    with pytest.raises(InputError) as e:
        simulate_route([f], offers={"x": OFFER})
    assert str(e.value) == ("pricing 'x' with an offer needs its tokens per task: --tokens "
                            "'x=IN:OUT' (a CSV has no token counts)")


OFFER = Offer("t/o", "t", "o", 2.0, 10.0, 1.0, Provenance("input", "test offer"))


def test_score_cascade_sweeps_the_deciles(tmp_path):
    # 22 questions: 21 with score 1..21, one with none (it always escalates). The cheap model
    # is right on scores 11..21 (11/22), the strong one on all (22/22). Deciles of 21 values:
    # every other one, 1, 3, ..., 21, then infinity (everything escalates).
    rows = [[f"q{i}", "1" if i >= 11 else "0", "1", str(i)] for i in range(1, 22)]
    f = _write(tmp_path / "s.csv", ["id", "cheap", "strong", "s"], rows + [["q0", "0", "1", ""]])
    r = simulate_route([f], usd_per_task={"cheap": 1.0, "strong": 10.0}, score="s")
    sweep = [p for p in r.points if p.policy == "cascade:score"]
    assert [p.label for p in sweep] == [f"s < {t}" for t in range(1, 22, 2)] + ["s < inf"]
    # below t: t - 1 scores plus the missing one escalate (t of 22), all right; the cheap model
    # is right on scores max(t, 11)..21; both models are paid on escalated questions
    for p, t in zip(sweep, [*range(1, 22, 2), 22]):
        assert p.strong_share == pytest.approx(t / 22)
        assert p.accuracy == pytest.approx((t + 22 - max(t, 11)) / 22)
        assert p.usd_per_task == pytest.approx(1 + 10 * t / 22)
    (curve,) = [c for c in r.curves if c.policy == "cascade:score"]
    # the curve rises on a straight line from (1/22, 12/22) to (11/22, 1), then stays at 1:
    # area 10/22 x (12/22 + 1)/2 + 11/22 x 1 = 824/968 over a span of 21/22
    span = 21 / 22
    assert curve.apgr == pytest.approx((824 / 968 - 0.5 * span) / (0.5 * span))
    # accuracy (t + 11)/22 at share t/22: 75% (CPT50) at t = 5.5, 90% (CPT80) at t = 8.8
    assert curve.cpt50 == pytest.approx(5.5 / 22) and curve.cpt80 == pytest.approx(8.8 / 22)
    # 0.99 at t = 10.78: $ 1 + 10 x 10.78/22 = 5.9 of the strong model's $10
    assert curve.usd_saved_within_1pt == pytest.approx(1 - 5.9 / 10)


def test_score_cascade_errors(tmp_path):
    f = _write(tmp_path / "s.csv", ["id", "cheap", "strong", "s", "t"], [
        ["q0", "1", "0", "", "0.5"], ["q1", "0", "1", "", "1"]])
    with pytest.raises(UnknownNameError) as e:
        simulate_route([f], score="u")
    assert str(e.value) == "unknown score column 'u'; known score columns: t"
    g = _write(tmp_path / "g.csv", ["id", "cheap", "strong"], [["q0", "1", "0"], ["q1", "0", "1"]])
    with pytest.raises(InputError) as e:
        simulate_route([g], score="s")
    assert str(e.value) == ("no score column in the outcomes for --score s: give a CSV with a column "
                            "of numbers per question")


# -- eval runs from the store: small (priced), big (priced), a second sample of small (unpriced)
RUN_OFFER = Offer("t/m", "t", "m", 1.0, 100.0, 0.5, Provenance("input", "test"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("route-runs")
    db, suite, judged = tmp / "t.duckdb", tmp / "s.jsonl", tmp / "j.jsonl"
    qs = [{"id": f"q{i}", "question": f"Number {i}: say {i}", "answer": i, "grader": "numeric"}
          for i in range(4)]
    judge_q = {"id": "q4", "question": "Number 4: judge me", "answer": "x", "grader": "judge"}
    suite.write_text("\n".join(json.dumps(q) for q in [*qs, judge_q]))
    judged.write_text(json.dumps(judge_q))
    # the evalserver counts a prompt's words as input tokens (4 here) and a reply's words plus
    # its reasoning tokens as output tokens
    small = {"Number 0:": Reply("#### 0"), "Number 1:": Reply("#### 1"), "Number 2:": Reply("#### 99"),
             "Number 3:": Reply("", reasoning_tokens=3), "Number 4:": Reply("x")}
    big = {f"Number {i}:": Reply(f"#### {i}", reasoning_tokens=9) for i in range(4)}
    again = {"Number 0:": Reply("#### 0"), "Number 1:": Reply("#### 7"), "Number 2:": Reply("#### 99"),
             "Number 3:": Reply("#### 3")}
    ids = {}
    for name, replies, s, offer in (("small", small, suite, RUN_OFFER), ("big", big, suite, RUN_OFFER),
                                    ("again", again, suite, None), ("judged", small, judged, None)):
        with EvalServer(replies) as srv:
            ids[name] = run_eval(srv.base_url, "small" if name == "again" else name, s,
                                 offer=offer, store=db).run_id
    return db, ids


def test_eval_runs_keep_graded_answers_tokens_and_prices(runs):
    db, ids = runs
    o = load_outcomes([ids["small"], ids["big"]], store=db)
    assert o.ids == ("q0", "q1", "q2", "q3")  # q4 (judge, ungraded) is left out
    small, big = o.models
    assert (small.name, small.correct, small.answers) == (
        "small", (True, True, False, False), ("0", "1", "99", None))
    # tokens (in, out without reasoning, reasoning, cached): "#### 0" is 2 words; q3 is 3
    # reasoning tokens and no content
    assert small.tokens == ((4, 2, 0, 0),) * 3 + ((4, 0, 3, 0),)
    assert big.tokens == ((4, 2, 9, 0),) * 4
    # the run's offer, $1/M in and $100/M out: (4 + 2 x 100)/1e6, q3 (4 + 3 x 100)/1e6
    assert small.usd == pytest.approx((204e-6,) * 3 + (304e-6,))
    assert big.usd == pytest.approx((1104e-6,) * 4)
    assert (small.source, small.price) == (f"measured:{ids['small']}", "input:test")
    assert (big.source, big.price) == (f"measured:{ids['big']}", "input:test")
    again = load_outcomes([ids["again"], ids["big"]], store=db).models[0]
    assert (again.name, again.usd, again.price) == ("small", None, None)
    # re-priced per measured tokens with another offer, $2/M in, $10/M out, $1/M cached
    r = simulate_route([ids["small"], ids["big"]], store=db, offers={"small": OFFER, "big": OFFER})
    assert r.models[0].usd == pytest.approx(((8 + 20) * 1e-6,) * 3 + ((8 + 30) * 1e-6,))
    assert r.models[1].usd == pytest.approx(((8 + 110) * 1e-6,) * 4)
    assert r.models[0].price == "input:test offer, tokens measured per question"
    # no-answer cascade: q3 escalates -> right on q0, q1, q3 = 3/4
    na = next(p for p in r.points if p.policy == "cascade:no-answer")
    assert (na.strong_share, na.accuracy) == (0.25, 0.75)
    assert na.usd_per_task == pytest.approx((3 * 28 + 38 + 118) / 4 * 1e-6)


def test_disagreement_cascade_on_eval_runs(runs, tmp_path):
    db, ids = runs
    r = simulate_route([ids["small"], ids["big"]], store=db, cheap_sample=ids["again"])
    p = next(p for p in r.points if p.policy == "cascade:disagree")
    # samples: 0/0 agree, 1/7 differ, 99/99 agree, none/3 differ -> q1, q3 to big: right on q0,
    # q1, q3 = 3/4. The unpriced second sample costs what the first did: $ = 2 x (3 x 204 + 304)
    # + 2 x 1104, over 4, per million
    assert (p.label, p.strong_share, p.accuracy) == ("cascade: 2 samples disagree", 0.5, 0.75)
    assert p.usd_per_task == pytest.approx((2 * (3 * 204 + 304) + 2 * 1104) / 4 * 1e-6)
    # a second sample that is a CSV, priced per answer, answering in another order
    second = _write(tmp_path / "b.csv", ["id", "small", "small:answer", "small:usd"], [
        ["q3", "0", "", "1e-6"], ["q2", "0", "98", "2e-6"], ["q1", "1", "1", "3e-6"],
        ["q0", "1", "0", "4e-6"]])
    r = simulate_route([ids["small"], ids["big"]], store=db, cheap_sample=second)
    p = next(p for p in r.points if p.policy == "cascade:disagree")
    # none/none differs (nothing to compare), 99/98 differ: q2, q3 to big -> right on q0, q1, q2
    # (big), q3 (big) = 4/4; $ = (3 x 204 + 304) + (4 + 3 + 2 + 1) + 2 x 1104, per million
    assert (p.strong_share, p.accuracy) == (0.5, 1.0)
    assert p.usd_per_task == pytest.approx((916 + 10 + 2208) / 4 * 1e-6)
    # no price anywhere: no $
    g = _write(tmp_path / "g.csv", ["id", "small", "small:answer"], [
        ["q0", "1", "0"], ["q1", "1", "1"], ["q2", "0", "99"], ["q3", "0", "3"]])
    r = simulate_route([ids["again"], ids["big"]], store=db, cheap_sample=g, usd_per_task={"big": 1.0})
    p = next(p for p in r.points if p.policy == "cascade:disagree")
    # only q1 differs (7 vs 1): big is right there; "again" is right on q0, q3, wrong on q2 = 3/4
    assert (p.strong_share, p.accuracy, p.usd_per_task) == (0.25, 0.75, None)


def test_disagreement_and_eval_errors(runs, tmp_path):
    db, ids = runs
    lacking = _write(tmp_path / "l.csv", ["id", "small", "small:answer"], [
        ["q0", "1", "0"], ["q2", "0", "99"]])
    with pytest.raises(InputError) as e:
        simulate_route([ids["small"], ids["big"]], store=db, cheap_sample=lacking)
    assert str(e.value) == ("the second sample lacks 2 of the questions (first: q1); it must "
                            "answer the same questions")
    plain = _write(tmp_path / "p.csv", ["id", "small"], [["q0", "1"], ["q1", "1"], ["q2", "0"], ["q3", "0"]])
    no_answers = ("the 'disagree' cascade needs extracted answers from both samples of the cheap "
                  "model (eval runs, or CSV ':answer' columns)")
    with pytest.raises(InputError, match=f"^{re.escape(no_answers)}$"):
        simulate_route([ids["small"], ids["big"]], store=db, cheap_sample=plain)
    main = _write(tmp_path / "m.csv", ["id", "small", "big"], [
        ["q0", "1", "1"], ["q1", "1", "1"], ["q2", "0", "1"], ["q3", "0", "1"]])
    with pytest.raises(InputError, match=f"^{re.escape(no_answers)}$"):
        simulate_route([main], cheap="small", cheap_sample=ids["again"], store=db)
    with pytest.raises(InputError) as e:
        load_outcomes([ids["judged"], ids["big"]], store=db)
    assert str(e.value) == f"eval run {ids['judged']} has no graded answers to route"
    typo = ids["small"][:-1] + ("x" if ids["small"][-1] != "x" else "y")
    with pytest.raises(InputError) as e:
        load_outcomes([typo], store=db)
    assert str(e.value).startswith(f"'{typo}' is neither a CSV file nor a stored eval run; did you "
                                   f"mean ") and ids["small"] in str(e.value)
    with pytest.raises(InputError) as e:
        load_outcomes([ids["small"]], store=tmp_path / "none.duckdb")
    assert str(e.value) == (f"'{ids['small']}' is neither a CSV file nor a stored eval run; see "
                            "truecost runs list")
