"""estimate(): the simulated operating points, what --batch/--context define, $/1M output tokens,
prefix caching, and the single-request figures the simulation tends to at vanishing load."""

import pytest

from truecost.perf.engine import engine
from truecost.perf.roofline import causal_pairs, step_time
from truecost.perf.serving import estimate, make_deployment, single_request


def test_usd_per_mtok_output_is_rent_over_output_tokens():
    # 2 H100s at the catalog's $2.99/GPU-hour: $/s = 2 × 2.99 / 3600, over the output tokens/s.
    e = estimate("llama-3.1-70b", "h100-sxm", precision="fp8", tp=2)
    assert e.usd_per_mtok_output == pytest.approx(2 * 2.99 / 3600 / e.output_tokens_per_s * 1e6)
    sim = estimate("llama-3.1-8b", "h100-sxm", precision="fp8", concurrency=16, requests=200)
    assert sim.usd_per_mtok_output == pytest.approx(2.99 / 3600 / sim.simulation.output_tokens_per_s * 1e6)


def test_batch_and_context_define_only_one_step():
    e = estimate("llama-3.1-8b", "h100-sxm", precision="fp8", batch=32, context=2048)
    dep = make_deployment("llama-3.1-8b", "h100-sxm", "fp8")
    assert e.decode_step_s == pytest.approx(step_time(dep, 32, 2048).total_s)
    assert e.output_tokens_per_s == pytest.approx(32 / step_time(dep, 32, 2048).total_s)
    assert (e.isl, e.osl, e.max_concurrency, e.ttft_s, e.tpot_s, e.requests_per_s, e.simulation) == \
        (None, None, None, None, None, None, None)
    assert e.context == 2048 and e.concurrency == 32


def test_concurrency_and_rate_run_a_simulation():
    c = estimate("llama-3.1-8b", "h100-sxm", precision="fp8", concurrency=200)
    assert c.simulation.requests == 2000  # ten per client when that is more than 1,000
    assert c.simulation.arrivals == "closed loop at concurrency 200"
    r = estimate("llama-3.1-8b", "h100-sxm", precision="fp8", rate=3.0, requests=300, seed=4)
    assert (r.simulation.requests, r.simulation.seed, r.simulation.arrivals) == (300, 4, "Poisson 3 req/s")
    assert estimate("llama-3.1-8b", "h100-sxm", precision="fp8").simulation is None


def test_prefix_cache_hits_skip_prefill():
    # Half of a 1000-token prompt cached: 500 tokens computed, each attending the 500 cached
    # ones and the new ones before it.
    dep = make_deployment("llama-3.1-8b", "h100-sxm", "fp8")
    e = estimate("llama-3.1-8b", "h100-sxm", precision="fp8", isl=1000, osl=100, cached_input_fraction=0.5)
    assert e.prefill_s == pytest.approx(step_time(dep, 0, 0, 500, causal_pairs(500, 500), 1).total_s)
    cold = estimate("llama-3.1-8b", "h100-sxm", precision="fp8", isl=1000, osl=100)
    assert e.ttft_s < cold.ttft_s and e.output_tokens_per_s > cold.output_tokens_per_s
    no_cache = engine("tuned").model_copy(update={"prefix_caching": False})
    off = estimate("llama-3.1-8b", "h100-sxm", precision="fp8", isl=1000, osl=100, cached_input_fraction=0.5,
                   engine=no_cache)
    assert off.prefill_s == pytest.approx(cold.prefill_s) and off.cached_input_fraction == 0
    assert off.notes == ["engine 'tuned' does not cache prefixes: cached input is prefilled again"]


def test_single_request_by_hand():
    # A 1000-token prompt fits one step's budget: TTFT = request overhead + one prefill step;
    # then two decode steps at contexts 1001 and 1002.
    dep = make_deployment("llama-3.1-8b", "h100-sxm", "fp8")
    one = single_request(dep, 1000, 3)
    prefill = step_time(dep, 0, 0, 1000, causal_pairs(1000), 1).total_s
    decodes = [step_time(dep, 1, 1001).total_s, step_time(dep, 1, 1002).total_s]
    assert one.ttft_s == pytest.approx(dep.engine.request_overhead_s + prefill)
    assert one.tpot_s == pytest.approx(sum(decodes) / 2)
    assert one.e2e_s == pytest.approx(one.ttft_s + sum(decodes))
    assert single_request(dep, 1000, 1).tpot_s is None
