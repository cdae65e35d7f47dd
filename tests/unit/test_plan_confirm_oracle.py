"""plan's confirmation step when the run at the peak itself misses: one more replica, the sizing
re-checked at the new share of the peak, and after REPORT_BUMPS more a miss "... at the peak".

The hand FAST GPU (tests/hand.py) never misses on its own at these loads, so the report run's
verdict is replaced (``serves`` with objectives: the run at the peak; without: the sizing run).
Expected values follow from the unpatched plan's replica count k (one more replica costs one
more $2 GPU-hour, and the verified capacity is the peak over utilisation shared by one more),
and the sizing re-check is spied on for its rate. Also the $/Mtok split on a workload with no
input or no output tokens, and provenance without an accuracy."""

from __future__ import annotations

import importlib

import pytest

from truecost.compare import DAYS_PER_MONTH
from truecost.plan import REPORT_BUMPS, plan
from truecost.workload import Workload

from .. import hand

plan_mod = importlib.import_module("truecost.plan")  # the module (truecost.plan is also the function)

PEAK = 10_000.0  # 345,600,000 tasks/day / 86,400 s = 4,000 req/s mean, x 2.5 at the peak
TASKS_MONTH = 345_600_000 * DAYS_PER_MONTH


def _workload(model: str, tokens=None, **over) -> Workload:
    return Workload.model_validate({
        "name": "oracle", "tasks_per_day": 345_600_000, "peak_to_mean": 2.5, "utilisation": 0.8,
        "tokens": tokens or {"input": 100, "output": 100}, "slo": {"ttft_s": 0.012, "tpot_s": 0.002},
        "self_hosted": [{"model": model, "max_tp": 1}], **over})


@pytest.fixture
def setup(tmp_path):
    return _workload(hand.model_file(tmp_path)), hand.gpu_file(tmp_path, hand.FAST)


def _plan(w, gpu):
    return plan(w, gpus=[gpu], engines=[hand.engine()], precisions=["bf16"], max_batches=[1024])


def test_a_miss_at_the_peak_adds_one_replica_and_rechecks_the_sizing(setup, monkeypatch):
    w, gpu = setup
    k = _plan(w, gpu).best.option.replicas  # what the sizing settles on when the peak run serves

    real_serves, real_simulate_at = plan_mod.serves, plan_mod.simulate_at
    peak_runs, sizing_rates = [], []

    def serves(sim, objectives=None):
        if objectives is not None:  # the run at the peak: miss the first time
            peak_runs.append(sim)
            if len(peak_runs) == 1:
                return False
        return real_serves(sim, objectives)

    def simulate_at(dep, rate, isl, osl, hit, objectives):
        sizing_rates.append(rate)
        return real_simulate_at(dep, rate, isl, osl, hit, objectives)

    monkeypatch.setattr(plan_mod, "serves", serves)
    monkeypatch.setattr(plan_mod, "simulate_at", simulate_at)
    o = _plan(w, gpu).best.option
    assert o.replicas == k + 1 and o.gpus == k + 1 and len(peak_runs) >= 2
    # the sizing is re-checked at the peak over utilisation shared by k + 1 replicas
    assert PEAK / 0.8 / (k + 1) == pytest.approx(sizing_rates[-1], rel=1e-12)
    assert o.capacity_requests_per_s == pytest.approx(PEAK / 0.8 / (k + 1), rel=1e-12)
    assert o.how == f"{k + 1} x (1x hand-fast bf16, hand-engine, max batch 1024)"
    assert o.usd_per_month == pytest.approx((k + 1) * 2.0 * 730, rel=1e-12)
    assert o.usd_per_task == pytest.approx((k + 1) * 2.0 * 730 / TASKS_MONTH, rel=1e-12)


def test_a_sizing_recheck_that_fails_adds_another_replica(setup, monkeypatch):
    w, gpu = setup
    k = _plan(w, gpu).best.option.replicas
    real_serves = plan_mod.serves
    calls = {"peak": 0, "sizing": 0}

    def serves(sim, objectives=None):
        if objectives is not None:
            calls["peak"] += 1
            return calls["peak"] > 1 and real_serves(sim, objectives)  # the first peak run misses
        calls["sizing"] += 1
        return calls["sizing"] > 1 and real_serves(sim)  # ... and the first re-check at k + 1

    monkeypatch.setattr(plan_mod, "serves", serves)
    o = _plan(w, gpu).best.option
    assert o.replicas == k + 2 and o.capacity_requests_per_s == pytest.approx(PEAK / 0.8 / (k + 2), rel=1e-12)


def test_misses_at_every_count_end_in_a_miss_at_the_peak(setup, monkeypatch):
    w, gpu = setup
    peak_runs = []

    def serves(sim, objectives=None):
        if objectives is not None:
            peak_runs.append(sim)
            return False
        return True

    monkeypatch.setattr(plan_mod, "serves", serves)
    monkeypatch.setattr(plan_mod, "failures", lambda sim, objectives=None: ["ttft mean 20 ms > 12 ms"])
    p = _plan(w, gpu)
    assert p.best is None and p.options == [] and p.searched["confirmed"] == 0
    # the frontier row tried at k, k + 1, ..., k + REPORT_BUMPS: five peak runs
    assert len(peak_runs) == REPORT_BUMPS + 1
    # the real runs meet the objectives (worst ratio <= 1), so the closest miss is one that did
    # not keep up, with the (patched) first failure of its last peak run
    assert p.unmet == ("no option keeps up with the load; the closest is hand-2l @ hand-fast: 1x hand-fast "
                       "bf16, hand-engine, max batch 1024, ttft mean 20 ms > 12 ms at the peak")


def test_per_mtok_input_is_none_without_input_tokens(tmp_path):
    gpu = hand.gpu_file(tmp_path, hand.FAST)
    # no input tokens: nothing to divide the prefill share of the month by
    o = _plan(_workload(hand.model_file(tmp_path), tokens={"input": 0, "output": 100}), gpu).best.option
    assert o.usd_per_mtok_input is None and o.usd_per_mtok_output > 0
    # without an accuracy the provenance has no accuracy line
    assert "accuracy" not in o.provenance and o.usd_per_correct_answer is None
