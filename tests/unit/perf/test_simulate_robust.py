"""A hunt for hangs, NaNs and broken invariants in the serving simulation, on real step tables.

``test_simulate.py`` checks toy engines (a constant step) by hand; here hypothesis drives real
deployments (dense and MoE, TP and attention DP) through every policy — admission, scheduling,
chunked or whole-prompt prefill, prefix hits, request overhead — with small KV pools and token
budgets that force queueing, preemption and prompts longer than the budget. Each run must end
(the simulation raises rather than loop past ``STALL_ITERATIONS``), every figure must be finite,
and the timeline must keep its order and conservation laws:

- send ≤ arrive ≤ admitted < first token ≤ end, for every request;
- Little's law over the whole run (time-average in system = throughput × mean time in system);
- output tokens per second = Σ OSL / measured window; ITL weights = Σ (OSL − 1) tokens.
"""

import math
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from truecost.perf.serving import make_deployment
from truecost.perf.simulate import EngineLimits, Replica, simulate
from truecost.perf.steps import step_table
from truecost.perf.traffic import Burst, ClosedLoop, Constant, LogNormal, Poisson, Uniform

DEPLOYMENTS = {
    "8b": ("llama-3.1-8b", "h100-sxm", "fp8", 1, 1),
    "70b-tp4": ("llama-3.1-70b", "h100-sxm", "fp8", 4, 1),
    "mixtral-tp2": ("mixtral-8x7b", "h100-sxm", "fp8", 2, 1),
    "mixtral-dp2": ("mixtral-8x7b", "h100-sxm", "fp8", 1, 2),
}


@lru_cache(maxsize=None)
def steps_of(key: str):
    model, gpu, precision, tp, dp = DEPLOYMENTS[key]
    return step_table(make_deployment(model, gpu, precision, tp, dp=dp))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(sorted(DEPLOYMENTS)), max_batch=st.integers(1, 64), budget=st.integers(16, 4096),
       pool_slack=st.integers(0, 20_000), admission=st.sampled_from(["max_length", "average"]),
       scheduling=st.sampled_from(["decode_first", "prefill_first"]), chunked=st.booleans(),
       overhead=st.sampled_from([0.0, 0.003]),
       arrivals=st.sampled_from([Burst(), ClosedLoop(1), ClosedLoop(7), ClosedLoop(40), Poisson(5.0),
                                 Poisson(200.0), Constant(50.0)]),
       lengths=st.sampled_from([Uniform(1, 3000, 1, 400), LogNormal(1500, 200, 1.0), Uniform(1, 1, 1, 1),
                                Uniform(4000, 9000, 1, 50)]),
       hit=st.sampled_from([0.0, 0.3, 1.0]), seed=st.integers(0, 5))
def test_any_real_engine_run_ends_finite_and_ordered(key, max_batch, budget, pool_slack, admission, scheduling,
                                                     chunked, overhead, arrivals, lengths, hit, seed):
    rng = np.random.default_rng(seed)
    isl, osl = lengths.draw(60, rng)  # the simulation draws the same lengths from the same seed
    pool = float((isl + osl).max() + pool_slack)
    limits = EngineLimits(max_batch=max_batch, token_budget=budget, kv_pool_tokens=pool, admission=admission,
                          scheduling=scheduling, request_overhead_s=overhead, chunked_prefill=chunked)
    sim = simulate(Replica(steps_of(key), limits, key), arrivals, lengths, requests=60, seed=seed,
                   prefix_hit_fraction=hit)
    t = sim.times
    np.testing.assert_array_equal(t.isl, isl)
    for a in (t.send, t.arrive, t.admitted, t.first_token, t.end):
        assert np.all(np.isfinite(a))
    assert np.all(t.arrive == pytest.approx(t.send + overhead))
    assert np.all(t.admitted >= t.arrive) and np.all(t.first_token > t.admitted)
    assert np.all(t.end >= t.first_token)
    for d in (sim.ttft, sim.e2e, sim.queue):
        assert d.n == 60 and all(math.isfinite(v) for v in (d.mean, d.p50, d.p99, d.max))
    assert math.isfinite(sim.output_tokens_per_s) and sim.output_tokens_per_s > 0
    window = float(t.end.max() - t.send.min())
    assert sim.output_tokens_per_s == pytest.approx(float(osl.sum()) / window, rel=1e-9)
    # Every output token after the first has exactly one gap: Σ (OSL − 1) weights.
    assert sim.itl.n == int((osl - 1).sum())
    if sim.itl.n:
        assert math.isfinite(sim.itl.mean) and sim.itl.min > 0
    lam = 60 / sim.horizon_s
    assert sim.mean_in_system == pytest.approx(lam * float(np.mean(t.end - t.arrive)), rel=1e-9)
    if admission == "max_length":
        assert sim.preemptions == 0  # reserving the whole length never needs to evict


@pytest.mark.parametrize("chunked", [True, False])
def test_prompts_longer_than_the_budget_beside_full_batches_finish(chunked):
    # The corner the whole-prompt rule must not deadlock on: every prompt longer than the token
    # budget, the batch nearly as large as the budget, decodes first, paged KV tight enough to
    # preempt. Each request still ends, and its prefill took at least ceil(ISL / budget) steps.
    limits = EngineLimits(max_batch=60, token_budget=64, kv_pool_tokens=20_000, admission="average",
                          scheduling="decode_first", chunked_prefill=chunked)
    sim = simulate(Replica(steps_of("8b"), limits, "8b"), ClosedLoop(40), Uniform(100, 400, 50, 300),
                   requests=200, seed=1)
    t = sim.times
    assert np.all(np.isfinite(t.end)) and sim.ttft.n == 200
    fastest_step = steps_of("8b").step_s(0, 1.0, 1.0, 1.0)
    assert np.all(t.first_token - t.admitted >= np.ceil(t.isl / 64) * fastest_step * 0.99)
