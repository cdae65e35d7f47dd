import math

import pytest

from truecost.compare import compare
from truecost.cost import HOURS_PER_MONTH
from truecost.perf.serving import estimate
from truecost.prices import offer
from truecost.workload import Workload

from ..conftest import REPO

BASE = {
    "name": "t", "tasks_per_day": 86400, "peak_to_mean": 2.0, "utilisation": 0.5,
    "tokens": {"input": 1000, "output": 200, "cached_input_fraction": 0.5},
}


def test_examples_rank_by_cost_per_task():
    for path in sorted((REPO / "examples").glob("*.toml")):
        c = compare(path)
        costs = [o.usd_per_task for o in c.ranked]
        assert costs == sorted(costs), path
        assert c.ranked, path


def test_api_cost_per_task_and_month_by_hand():
    w = Workload.model_validate({**BASE, "requests_per_task": 3, "api": [{"offer": "openai/gpt-4o",
                                 "reasoning_tokens": 100, "accuracy": 0.8}]})
    o = compare(w).options[0]
    per_req = offer("openai/gpt-4o").request_usd(1000, 200, cached_input_tokens=500, reasoning_tokens=100)
    assert o.usd_per_task == pytest.approx(3 * per_req)
    assert o.usd_per_month == pytest.approx(3 * per_req * 86400 * HOURS_PER_MONTH / 24)
    assert o.usd_per_correct_answer == pytest.approx(3 * per_req / 0.8)


def test_self_hosted_is_sized_for_the_peak_and_paid_every_hour():
    w = Workload.model_validate({**BASE, "self_hosted": [{"model": "llama-3.1-8b", "gpus": ["h100-sxm"],
                                 "precisions": ["fp8"], "max_tp": 1}]})
    o = compare(w).options[0]
    cap = estimate("llama-3.1-8b", "h100-sxm", precision="fp8", isl=1000, osl=200).requests_per_s
    replicas = math.ceil(2.0 / (cap * 0.5))  # peak 2 req/s at 50% utilisation, no SLO
    assert o.gpus == replicas
    assert o.usd_per_month == pytest.approx(replicas * 2.99 * HOURS_PER_MONTH)
    assert o.usd_per_task == pytest.approx(o.usd_per_month / (86400 * HOURS_PER_MONTH / 24))


def test_quality_bar_and_slo_exclude_options():
    w = Workload.model_validate({**BASE, "min_accuracy": 0.9, "slo": {"tpot_s": 0.001},
                                 "api": [{"offer": "gpt-4o-mini", "accuracy": 0.7}],
                                 "self_hosted": [{"model": "llama-3.1-8b", "gpus": ["h100-sxm"]}]})
    c = compare(w)
    assert c.ranked == []
    reasons = {o.label: o.excluded for o in c.options}
    assert reasons["openai/gpt-4o-mini"] == "accuracy 70% below the bar of 90%"
    assert reasons["llama-3.1-8b @ h100-sxm"].endswith("misses the SLO even at one request")


def test_per_model_tokens_change_the_cost():
    w = Workload.model_validate({**BASE, "api": [{"offer": "gpt-4o-mini", "label": "short"},
                                                 {"offer": "gpt-4o-mini", "label": "long", "reasoning_tokens": 2000}]})
    by = {o.label: o.usd_per_task for o in compare(w).options}
    assert by["long"] > 5 * by["short"]
