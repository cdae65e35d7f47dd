"""compare's choices: rank by $/task, $/correct answer or $/month; batch rows costed (and shown)
at batch prices; a pinned self-hosted deployment (tp, precision, replicas)."""

from __future__ import annotations

import json
import math

import pytest

from truecost.compare import compare
from truecost.errors import InputError
from truecost.perf.serving import estimate
from truecost.workload import Workload

from ..conftest import REPO

BASE = {"name": "t", "tasks_per_day": 86400, "peak_to_mean": 2.0, "utilisation": 0.5,
        "tokens": {"input": 1000, "output": 1000}}

OFFERS = """
["x/cheap"]
usd_per_mtok_input = 1.0
usd_per_mtok_output = 1.0
batch_discount = 0.5
source = "test"
as_of = 2026-01-01
["x/good"]
usd_per_mtok_input = 2.0
usd_per_mtok_output = 2.0
source = "test"
as_of = 2026-01-01
["x/free"]
usd_per_mtok_input = 0.25
usd_per_mtok_output = 0.25
source = "test"
as_of = 2026-01-01
"""

# Per task (1,000 in + 1,000 out): cheap $0.002 at 40% accuracy -> $0.005 per correct answer;
# good $0.004 at 100% -> $0.004; free $0.0005, no accuracy stated; cheap in batch, $0.001.
WORKLOAD = """
name = "choices"
tasks_per_day = 1000
offers_file = "offers.toml"
[tokens]
input = 1000
output = 1000
[[api]]
offer = "x/cheap"
accuracy = 0.4
[[api]]
offer = "x/good"
accuracy = 1.0
[[api]]
offer = "x/free"
[[api]]
offer = "x/cheap"
label = "cheap, batch"
batch = true
"""


@pytest.fixture
def workload(tmp_path):
    (tmp_path / "offers.toml").write_text(OFFERS)
    path = tmp_path / "w.toml"
    path.write_text(WORKLOAD)
    return path


def test_rank_by_task_correct_and_month(workload):
    by_task = compare(workload)
    assert [o.label for o in by_task.ranked] == ["x/free", "cheap, batch", "x/cheap", "x/good"]
    assert [o.usd_per_task for o in by_task.ranked] == pytest.approx([0.0005, 0.001, 0.002, 0.004])
    by_correct = compare(workload, rank_by="correct")
    assert [o.label for o in by_correct.ranked][:2] == ["x/good", "x/cheap"]  # $0.004 < $0.005
    assert [o.label for o in by_correct.ranked[2:]] == ["x/free", "cheap, batch"]  # then $/task
    assert by_correct.rank_by == "correct"
    assert by_correct.assumptions[-1] == ("ranked by $/correct answer; options without an "
                                          "accuracy follow, by $/task")
    by_month = compare(workload, rank_by="month")  # months are tasks × a constant: same order
    assert [o.label for o in by_month.ranked] == [o.label for o in by_task.ranked]


def test_rank_by_needs_a_known_key_and_accuracy(tmp_path):
    w = Workload.model_validate({**BASE, "api": [{"offer": "gpt-4o-mini"}]})
    with pytest.raises(InputError, match="^rank by task, correct or month, not 'cost'$"):
        compare(w, rank_by="cost")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"^ranking by \$/correct answer needs accuracy"):
        compare(w, rank_by="correct")


def test_cli_rank_by_and_the_correct_column(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "150")
    path = str(REPO / "examples" / "math-tutor-reasoning.toml")
    r = cli("compare", path, "--rank-by", "correct")
    assert r.code == 0, r.stderr
    assert "ranked by $/correct" in r.stdout.splitlines()[0]
    assert "$/correct" in r.stdout.splitlines()[2].split()
    r = cli("compare", str(REPO / "examples" / "chat-assistant.toml"), "--rank-by", "correct")
    assert (r.code, r.stderr) == (1, "error: ranking by $/correct answer needs accuracy on the "
                                     "candidates: add accuracy = 0.9 (and accuracy_source) to "
                                     "[[api]] and [[self_hosted]] entries\n")
    assert "$/correct" not in cli("compare", str(REPO / "examples" / "chat-assistant.toml")).stdout


def test_batch_rows_show_the_batch_prices_they_are_costed_at(workload, cli):
    batch = next(o for o in compare(workload).options if o.label == "cheap, batch")
    assert (batch.usd_per_mtok_input, batch.usd_per_mtok_output) == pytest.approx((0.5, 0.5))
    assert batch.usd_per_task == pytest.approx((1000 * 0.5 + 1000 * 0.5) / 1e6)
    # genai-prices: OpenAI's Batch API is half the list price (gpt-4.1-mini: $0.40 / $1.60 per
    # 1M tokens, openai.com/api/pricing), so 6,000 in + 400 out cost 6000·0.2e-6 + 400·0.8e-6
    d = json.loads(cli("compare", str(REPO / "examples" / "batch-summarisation.toml"),
                       "--json").stdout)
    row = next(o for o in d["options"] if o["label"] == "gpt-4.1-mini (batch)")
    assert (row["usd_per_mtok_input"], row["usd_per_mtok_output"]) == pytest.approx((0.2, 0.8))
    assert row["usd_per_task"] == pytest.approx(0.00152)


def pinned(**pins):
    return Workload.model_validate({**BASE, "self_hosted": [
        {"model": "llama-3.1-8b", "gpus": ["h100-sxm"], **pins}]})


def test_a_pinned_deployment_is_costed_as_given():
    o = compare(pinned(tp=2, precision="fp8", replicas=3)).options[0]
    assert (o.how, o.gpus, o.replicas, o.gpus_per_replica) == ("3 x (2x h100-sxm fp8)", 6, 3, 2)
    assert o.usd_per_month == pytest.approx(6 * 2.99 * 730)  # 6 GPUs at the $2.99 catalog rent
    assert o.provenance["perf"].endswith("; pinned: tp=2, precision=fp8, replicas=3")


def test_too_few_pinned_replicas_exclude_the_row_and_say_how_many_it_needs():
    w = pinned(tp=1, precision="fp8", replicas=1).model_copy(update={"tasks_per_day": 86400 * 100})
    cap = estimate("llama-3.1-8b", "h100-sxm", precision="fp8", isl=1000, osl=1000).requests_per_s
    needs = math.ceil(200 / (cap * 0.5))  # peak 2 x 100 req/s at 50% utilisation, no SLO
    (o,) = compare(w).options
    assert o.excluded == (f"1 x (1x h100-sxm fp8) carry {cap * 0.5:.3g} req/s within the SLO at "
                          f"50% utilisation; the peak is 200 req/s (needs {needs})")


def test_a_pin_and_a_search_of_the_same_choice_conflict(cli, tmp_path):
    path = tmp_path / "w.toml"
    path.write_text('name = "w"\ntasks_per_day = 10\n[tokens]\ninput = 10\noutput = 5\n'
                    '[[self_hosted]]\nmodel = "llama-3.1-8b"\nprecision = "fp8"\n'
                    'precisions = ["bf16"]\n')
    r = cli("compare", str(path))
    assert (r.code, r.stderr) == (1, f"error: {path}: self_hosted.0: give precision (pinned) or "
                                     f"precisions (searched), not both\n")
