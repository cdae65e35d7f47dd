"""compare: percentile SLOs sized by simulation (the fewest replicas that meet them), prefix
caching in self-hosted sizing, and the statistic each latency column reports."""

import math

import pytest

from truecost.compare import SIM_REQUESTS, SIM_SEED, SIM_WARMUP, compare
from truecost.perf.serving import make_deployment
from truecost.perf.simulate import Objective, simulate
from truecost.perf.traffic import Fixed, Poisson
from truecost.workload import Workload

BASE = {
    "name": "t", "tasks_per_day": 3_000_000, "peak_to_mean": 2.0, "utilisation": 0.8,
    "tokens": {"input": 1000, "output": 200},
    "self_hosted": [{"model": "llama-3.1-8b", "gpus": ["h100-sxm"], "precisions": ["fp8"], "max_tp": 1}],
}
TAILS = [Objective("ttft", "p95", 0.3), Objective("tpot", "p95", 0.03)]


def run(rate: float, tails=TAILS):
    dep = make_deployment("llama-3.1-8b", "h100-sxm", "fp8")
    return simulate(dep, Poisson(rate), Fixed(1000, 200), requests=SIM_REQUESTS, warmup=SIM_WARMUP, seed=SIM_SEED,
                    objectives=tails)


def test_percentile_slo_sizes_the_fewest_replicas_that_meet_it():
    w = Workload.model_validate({**BASE, "slo": {"ttft_p95_s": 0.3, "tpot_p95_s": 0.03}})
    c = compare(w)
    o = c.options[0]
    assert o.excluded is None and (c.ttft_stat, c.tpot_stat) == ("p95", "p95")
    k = o.replicas
    load = w.requests_per_s_peak / w.utilisation  # each replica must hold peak / (k·u) within the SLO
    assert k > 1 and run(load / k).meets()
    assert not run(load / (k - 1)).meets()
    assert o.capacity_requests_per_s == pytest.approx(load / k)
    # The columns are the SLO's percentiles at the real per-replica rate, peak / k.
    at_share = run(w.requests_per_s_peak / k)
    assert (o.ttft_s, o.tpot_s) == (at_share.ttft.p95, at_share.tpot.p95)
    assert "at least" in o.provenance["perf"] and "simulated: meets at" in o.provenance["perf"]


def test_mean_slo_keys_stay_on_the_steady_state():
    w = Workload.model_validate({**BASE, "slo": {"ttft_s": 0.3, "tpot_s": 0.03}})
    c = compare(w)
    assert (c.ttft_stat, c.tpot_stat) == ("mean", "mean")
    assert "steady-state model" in c.options[0].provenance["perf"]
    assert any(a.startswith("SLO ttft mean <= 300 ms, tpot mean <= 30 ms: means from the steady-state model")
               for a in c.assumptions)


def test_an_impossible_percentile_excludes_with_the_miss():
    w = Workload.model_validate({**BASE, "slo": {"ttft_p99_s": 0.001}})
    o = compare(w).options[0]
    assert o.excluded is not None and "misses the SLO even at one request" in o.excluded


def test_prefix_caching_lowers_self_hosted_cost_and_hit_rate_zero_is_no_cache():
    long_input = {**BASE, "tokens": {"input": 4000, "output": 100}}
    plain = compare(Workload.model_validate(long_input)).options[0]
    warm = compare(Workload.model_validate({**long_input, "tokens": {**long_input["tokens"],
                                                                     "cached_input_fraction": 0.8}})).options[0]
    assert warm.usd_per_task < plain.usd_per_task
    assert warm.capacity_requests_per_s > plain.capacity_requests_per_s
    cold_hits = {**long_input, "tokens": {**long_input["tokens"], "cached_input_fraction": 0.8},
                 "self_hosted": [{**BASE["self_hosted"][0], "prefix_cache_hit_rate": 0.0}]}
    zero = compare(Workload.model_validate(cold_hits)).options[0]
    assert zero.capacity_requests_per_s == pytest.approx(plain.capacity_requests_per_s)
    assert math.isclose(zero.usd_per_task, plain.usd_per_task)


def test_assumptions_say_what_prefix_caching_does():
    w = Workload.model_validate({**BASE, "tokens": {**BASE["tokens"], "cached_input_fraction": 0.6}})
    assert ("self-hosted: replicas sized for the peak at 80% utilisation, up 730 h/month; prefix caching "
            "(tuned) skips the prefill of the cached 60% of input x hit rate 100%") in compare(w).assumptions
    assert any(a.endswith("; no cached input") for a in compare(Workload.model_validate(BASE)).assumptions)
