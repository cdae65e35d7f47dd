"""Token profiles (published tokens per task), and compare candidates that take their tokens and
accuracy from a profile, an eval run, or per precision; the per-token trap marker."""

from __future__ import annotations

import json
import re

import pytest

from tests.evalserver import EvalServer, Reply
from truecost.compare import compare
from truecost.errors import InputError, UnknownNameError
from truecost.eval.profiles import profile, profiles
from truecost.eval.run import run_eval
from truecost.workload import Workload

from ...conftest import REPO

BASE = {"name": "t", "tasks_per_day": 1000, "tokens": {"input": 300, "output": 500}}


@pytest.fixture
def offers(tmp_path):
    f = tmp_path / "offers.toml"
    f.write_text('["test/cheap-tokens"]\nusd_per_mtok_input = 1.0\nusd_per_mtok_output = 2.0\n'
                 'source = "test"\nas_of = 2025-01-01\n'
                 '["test/dear-tokens"]\nusd_per_mtok_input = 2.0\nusd_per_mtok_output = 8.0\n'
                 'source = "test"\nas_of = 2025-01-01\n')
    return str(f)


def test_profiles_carry_the_study_figures():
    p = profile("token-economy/o4-mini-high-long/math")
    # TokenEconomy, o4-mini-high-long on its 6 math prompts: 1,410 completion tokens of which
    # 1,242 reasoning, every run correct (the figures the math-tutor example carried by hand)
    assert p.completion_tokens == pytest.approx(1410, abs=0.5)
    assert p.reasoning_tokens == pytest.approx(1242, abs=0.5)
    assert p.output_tokens == pytest.approx(168, abs=0.5) and p.accuracy == 1.0
    assert (p.prompts, p.runs) == (6, 30)
    table = profiles()
    assert len(table) == 26 * 4  # 26 models x (knowledge, math, logic_puzzle, all)
    for key, e in table.items():
        assert e.source and e.commit.startswith("d5cc353") and str(e.as_of) == "2025-08-07", key
        assert e.prompts == {"knowledge": 5, "math": 6, "logic_puzzle": 8, "all": 19}[key.rsplit("/", 1)[1]]
    with pytest.raises(UnknownNameError, match="did you mean .*token-economy/o4-mini-high-long/math"):
        profile("token-economy/o4-mini-high/math")


def test_compare_takes_tokens_and_accuracy_from_a_profile(offers):
    w = Workload.model_validate({**BASE, "offers_file": offers, "api": [
        {"offer": "test/cheap-tokens", "profile": "token-economy/gemini-2.5-flash-high/math"}]})
    (o,) = compare(w).options
    p = profile("token-economy/gemini-2.5-flash-high/math")
    # $1/M input x 300 + $2/M x (output + reasoning), reasoning billed as output
    assert o.usd_per_task == pytest.approx((300 * 1 + (p.output_tokens + p.reasoning_tokens) * 2) / 1e6)
    assert o.tokens["reasoning"] == p.reasoning_tokens and o.accuracy == p.accuracy
    assert o.provenance["tokens"].startswith("catalog:token-economy/gemini-2.5-flash-high/math:")
    assert o.provenance["accuracy"] == o.provenance["tokens"]


def test_compare_takes_them_from_an_eval_run(offers, tmp_path):
    suite = tmp_path / "s.jsonl"
    suite.write_text("\n".join(json.dumps({"id": i, "question": f"Item {i}: twice {i}?",
                                           "answer": 2 * i, "grader": "numeric"}) for i in range(4)))
    # 3 of 4 right; content 2 tokens ("#### N"), reasoning 10, 20, 30, 40 tokens
    replies = {f"Item {i}:": Reply(f"#### {2 * i if i else 5}", reasoning_tokens=10 * (i + 1))
               for i in range(4)}
    with EvalServer(replies) as s:
        r = run_eval(s.base_url, "mine", suite)  # the default store, as compare reads it
    w = Workload.model_validate({**BASE, "offers_file": offers, "api": [
        {"offer": "test/cheap-tokens", "eval_run": r.run_id, "label": "mine"}]})
    (o,) = compare(w).options
    assert o.tokens["reasoning"] == 25 and o.tokens["output"] == 2  # mean reasoning; 2 content
    assert o.accuracy == 0.75
    assert o.provenance["tokens"] == f"measured:{r.run_id} (mean of 4 answers)"
    assert o.provenance["accuracy"] == f"measured:{r.run_id} (3/4 correct)"
    assert o.usd_per_correct_answer == pytest.approx(o.usd_per_task / 0.75)
    # the same run as the int4 measurement of a self-hosted model: its figures replace the base's
    hosted = Workload.model_validate({**BASE, "self_hosted": [{
        "model": "llama-3.1-8b", "gpus": ["h100-sxm"], "precisions": ["bf16", "int4"], "max_tp": 1,
        "accuracy": 0.9, "reasoning_tokens": 7, "by_precision": {"int4": {"eval_run": r.run_id}}}]})
    opts = {o.label: o for o in compare(hosted).options}
    bf16, int4 = opts["llama-3.1-8b bf16 @ h100-sxm"], opts["llama-3.1-8b int4 @ h100-sxm"]
    assert (bf16.accuracy, bf16.tokens["reasoning"]) == (0.9, 7)
    assert (int4.accuracy, int4.tokens["reasoning"], int4.tokens["output"]) == (0.75, 25, 2)
    assert int4.provenance["tokens"] == f"measured:{r.run_id} (mean of 4 answers)"
    both = Workload.model_validate({**BASE, "offers_file": offers, "api": [
        {"offer": "test/cheap-tokens", "eval_run": r.run_id, "profile": "x", "label": "mine"}]})
    with pytest.raises(InputError, match="mine: give profile or eval_run, not both"):
        compare(both)


def test_accuracy_per_precision_judges_a_cheaper_precision_fairly():
    w = Workload.model_validate({**BASE, "self_hosted": [{
        "model": "llama-3.1-8b", "gpus": ["h100-sxm"], "precisions": ["fp8", "int4"],
        "max_tp": 1, "accuracy": 0.9,
        "by_precision": {"int4": {"accuracy": 0.6, "accuracy_source": "hypothetical recovery"}}}]})
    c = compare(w)
    by_label = {o.label: o for o in c.options}
    fp8, int4 = by_label["llama-3.1-8b fp8 @ h100-sxm"], by_label["llama-3.1-8b int4 @ h100-sxm"]
    assert "fp8" in fp8.how and "int4" in int4.how
    assert (fp8.accuracy, int4.accuracy) == (0.9, 0.6)
    assert int4.provenance["accuracy"] == "hypothetical recovery"
    assert fp8.usd_per_correct_answer == pytest.approx(fp8.usd_per_task / 0.9)
    assert int4.usd_per_correct_answer == pytest.approx(int4.usd_per_task / 0.6)
    bad = Workload.model_validate({**BASE, "self_hosted": [{
        "model": "llama-3.1-8b", "precisions": ["fp8"], "by_precision": {"int4": {"accuracy": 0.5}}}]})
    with pytest.raises(InputError, match=r"by_precision names int4, which is not in precisions \['fp8'\]"):
        compare(bad)


def test_the_per_token_trap_is_marked(offers):
    # cheap-tokens costs half per token but spends 6x the output: (300 + 3000 x 2) / 1e6 per task
    # against dear-tokens' (300 x 2 + 500 x 8) / 1e6: $0.0063 vs $0.0046
    w = Workload.model_validate({**BASE, "offers_file": offers, "api": [
        {"offer": "test/cheap-tokens", "reasoning_tokens": 2500},
        {"offer": "test/dear-tokens"}]})
    c = compare(w)
    cheap, dear = (next(o for o in c.options if o.label == k)
                   for k in ("test/cheap-tokens", "test/dear-tokens"))
    assert cheap.usd_per_task == pytest.approx(6300e-6) and dear.usd_per_task == pytest.approx(4600e-6)
    assert cheap.trap == ("cheaper per token than test/dear-tokens ($2.00 vs $8.00 per 1M output) "
                          "but 1.4x dearer per task; it generates 6.0x the tokens per task "
                          "(3,000 vs 500)")
    assert dear.trap is None
    same = Workload.model_validate({**BASE, "offers_file": offers, "api": [
        {"offer": "test/cheap-tokens"}, {"offer": "test/dear-tokens"}]})
    assert all(o.trap is None for o in compare(same).options)  # same tokens: no trap


def test_readme_trap_lines_are_current(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "150")
    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- trap-math:begin -->\n```text\n(.*?)\n```\n<!-- trap-math:end -->",
                      readme, re.S)
    assert block, "README lost its per-token trap block"
    r = cli("compare", str(REPO / "examples" / "math-tutor-reasoning.toml"))
    assert r.code == 0, r.stderr
    # a note wraps at the terminal's width: a trap note runs until the next note starts
    notes = re.split(r"\n(?=per-token trap: |excluded: |assumes: |\$/1M |\[\d+\] )", r.stdout)
    traps = [" ".join(n.split()) for n in notes if n.startswith("per-token trap:")]
    assert traps == block.group(1).splitlines()
