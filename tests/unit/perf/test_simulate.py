"""The serving simulation against hand-computed toy runs, closed forms and the analytic model.

Toy runs use a constant step time τ (``ConstantStep``): every step, whatever it holds, lasts τ,
so each expected time below is a count of steps worked out by hand in the test.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from truecost.errors import InputError
from truecost.perf.memory import memory_plan
from truecost.perf.serving import make_deployment, operating_point, single_request
from truecost.perf.simulate import EngineLimits, Objective, Replica, simulate
from truecost.perf.traffic import Burst, ClosedLoop, Constant, Empirical, Fixed, LogNormal, Poisson, Replay, Uniform

TAU = 0.01  # seconds per step in the toy engines


class ConstantStep:
    def step_s(self, decode_seqs, decode_context, prefill_tokens=0.0, prefill_attended=0.0):
        return TAU

    def decode_segment(self, decode_seqs, decode_context):
        return TAU, 0.0, math.inf


def toy(**limits) -> Replica:
    defaults = {"max_batch": 1000, "token_budget": 100_000, "kv_pool_tokens": 1e9}
    return Replica(ConstantStep(), EngineLimits(**{**defaults, **limits}), "toy")


def test_md1_queue_matches_pollaczek_khinchine():
    # One request at a time (max_batch 1), each a single step (ISL 1, OSL 1: the prefill step
    # yields its only token): an M/D/1 queue with service τ. Pollaczek-Khinchine for deterministic
    # service: mean wait Wq = ρ·τ / (2(1 − ρ)); at ρ = 0.6, Wq = 0.75 τ and TTFT = Wq + τ = 1.75 τ.
    rho = 0.6
    sim = simulate(toy(max_batch=1), Poisson(rho / TAU), Fixed(1, 1), requests=40_000, seed=3)
    assert sim.queue.mean == pytest.approx(0.75 * TAU, rel=0.05)  # 40k samples: ~2% noise at ρ = 0.6
    assert sim.ttft.mean == pytest.approx(1.75 * TAU, rel=0.03)
    assert sim.ttft.min == pytest.approx(TAU)  # an idle engine starts at once


def test_closed_loop_prefill_first_by_hand():
    # 8 clients, 16 requests of ISL 100 / OSL 3, budget 200 tokens a step, prefills first.
    # Wave 1 (sent at 0): prefill steps 1-4 take 2 prompts each (first tokens at 1τ..4τ); steps 5
    # and 6 decode all 8 (tokens 2 and 3), so all end at 6τ. Wave 2 (sent at 6τ) repeats: first
    # tokens at 7τ..10τ, ends at 12τ.
    sim = simulate(toy(token_budget=200, scheduling="prefill_first"), ClosedLoop(8), Fixed(100, 3), requests=16)
    t = sim.times
    wave = np.repeat([1, 2, 3, 4], 2) * TAU
    np.testing.assert_allclose(t.first_token - t.send, np.concatenate([wave, wave]))
    np.testing.assert_allclose(t.end, [6 * TAU] * 8 + [12 * TAU] * 8)
    assert sim.ttft.mean == pytest.approx(2.5 * TAU)
    assert sim.e2e.mean == pytest.approx(6 * TAU)
    # TPOT = (end − first) / 2: (6−1)/2, (6−2)/2, (6−3)/2, (6−4)/2 τ, two requests each.
    assert sim.tpot.mean == pytest.approx((2.5 + 2 + 1.5 + 1) / 4 * TAU)
    # Token gaps per wave: first gaps 4,4,3,3,2,2,1,1 τ (decodes wait for the prefills), then 8 of 1 τ.
    assert sim.itl.mean == pytest.approx((20 + 8) / 16 * TAU)
    assert sim.itl.p50 == pytest.approx(TAU) and sim.itl.max == pytest.approx(4 * TAU)
    assert sim.output_tokens_per_s == pytest.approx(16 * 3 / (12 * TAU))
    assert sim.steps == 12


def test_decode_first_never_stalls_a_decode_and_prefill_first_does():
    # With every step lasting τ, decode-first gives each decoder a token every step (every gap is
    # τ); prefill-first runs arriving prompts as steps of their own, so some gaps span 2τ or more.
    kw = {"requests": 400, "seed": 1}
    df = simulate(toy(scheduling="decode_first"), Poisson(20 / TAU / 50), Fixed(50, 50), **kw)
    pf = simulate(toy(scheduling="prefill_first"), Poisson(20 / TAU / 50), Fixed(50, 50), **kw)
    assert df.itl.max == pytest.approx(TAU) and df.itl.min == pytest.approx(TAU)
    assert pf.itl.max >= 2 * TAU - 1e-12
    assert pf.ttft.mean < df.ttft.mean or pf.ttft.mean == pytest.approx(df.ttft.mean)


def test_whole_prompts_wait_for_a_step_with_room_and_chunks_share_one():
    # Three prompts of 120 tokens at t = 0, OSL 1 (the prefill step yields the only token), budget
    # 200 tokens a step. Chunked: step 1 takes A's 120 + 80 of B, step 2 B's last 40 + C's 120, so
    # first tokens at 1τ, 2τ, 2τ. Whole prompts (TensorRT-LLM without chunked context): B's 120 do
    # not fit the 80 left beside A, so each prompt has a step of its own: 1τ, 2τ, 3τ.
    kw = {"requests": 3}
    chunked = simulate(toy(token_budget=200), Burst(), Fixed(120, 1), **kw)
    whole = simulate(toy(token_budget=200, chunked_prefill=False), Burst(), Fixed(120, 1), **kw)
    np.testing.assert_allclose(chunked.times.first_token, [TAU, 2 * TAU, 2 * TAU])
    np.testing.assert_allclose(whole.times.first_token, [TAU, 2 * TAU, 3 * TAU])
    assert (chunked.steps, whole.steps) == (2, 3)
    # Two prompts of 90 fit one step whole (180 <= 200): both first tokens at 1τ.
    both = simulate(toy(token_budget=200, chunked_prefill=False), Burst(), Fixed(90, 1), requests=2)
    np.testing.assert_allclose(both.times.first_token, [TAU, TAU])


def test_a_prompt_longer_than_the_budget_is_chunked_even_without_chunked_prefill():
    # 450 tokens with a budget of 200 could never run whole: pieces of 200, 200, 50, first token
    # at 3τ; a 160-token prompt sent with it does not fit beside the last 50 (150 left), so it gets
    # step 4 to itself.
    sim = simulate(toy(token_budget=200, chunked_prefill=False), Replay((0.0, 0.0)),
                   Empirical(((450, 1), (160, 1)), ordered=True), requests=2)
    np.testing.assert_allclose(sim.times.first_token, [3 * TAU, 4 * TAU])


def test_whole_prompts_leave_room_for_the_decoders():
    # Decode-first: a step's budget is the decoders' tokens first. Budget 200, one client decoding
    # (OSL 5) when a 199-token prompt arrives: 199 + 1 decode token fit, so it is prefilled in the
    # next step whole; a 200-token prompt does not fit beside the decoder, and is not split (it
    # fits the budget): it waits for the step after the decoder ends.
    def first_tokens(isl2):
        return simulate(toy(token_budget=200, chunked_prefill=False), Replay((0.0, 1.5 * TAU)),
                        Empirical(((10, 5), (isl2, 1)), ordered=True), requests=2).times.first_token
    # Request 1: prefill step 1 (first token 1τ), decode steps 2-5 (ends 5τ). Request 2 arrives at
    # 1.5τ, during step 2, so it can join step 3 at the earliest.
    np.testing.assert_allclose(first_tokens(199), [TAU, 3 * TAU])
    np.testing.assert_allclose(first_tokens(200), [TAU, 6 * TAU])


def test_reserve_admission_queues_for_kv_and_ttft_grows_with_osl():
    # Pool of 300 tokens; each request reserves ISL + OSL. With OSL 100 only one of two fits: the
    # second is admitted when the first ends (1 prefill + 99 decode steps = 100τ) and gets its
    # first token one step later (101τ). With OSL 200 the wait is 200τ.
    for osl, second_ttft in ((100, 101 * TAU), (190, 191 * TAU)):
        sim = simulate(toy(kv_pool_tokens=300), Burst(), Fixed(100, osl), requests=2)
        t = sim.times
        np.testing.assert_allclose(t.first_token - t.send, [TAU, second_ttft])
        assert sim.preemptions == 0


def test_paged_kv_preempts_the_newest_and_recomputes_it():
    # Pool 300, two requests of ISL 100 / OSL 100 admitted together (paged: 100 tokens each).
    # After the prefill step both hold 101 tokens; each decode step adds 2: after 49 decode steps
    # (t = 50τ) the pool is full (300), so the newer request is evicted having made 50 tokens.
    # The older one makes its last 50 tokens by 100τ; the evicted one recomputes 150 tokens in one
    # step (its 51st token at 101τ) and decodes 49 more: done at 150τ.
    sim = simulate(toy(kv_pool_tokens=300, admission="average"), Burst(), Fixed(100, 100), requests=2)
    t = sim.times
    np.testing.assert_allclose(t.end, [100 * TAU, 150 * TAU])
    np.testing.assert_allclose(t.first_token, [TAU, TAU])
    assert sim.preemptions == 1
    assert sim.itl.max == pytest.approx(51 * TAU)  # its gap across the eviction: 50τ → 101τ


def test_prefix_cache_hits_skip_prefill_tokens_in_the_budget():
    # Budget 100 tokens a step; prompts of 400 tokens. Uncached: 4 prefill steps → TTFT 4τ.
    # Three quarters cached: 100 tokens to compute → TTFT 1τ.
    cold = simulate(toy(token_budget=100), Burst(), Fixed(400, 2), requests=1)
    warm = simulate(toy(token_budget=100), Burst(), Fixed(400, 2), requests=1, prefix_hit_fraction=0.75)
    assert cold.ttft.mean == pytest.approx(4 * TAU)
    assert warm.ttft.mean == pytest.approx(1 * TAU)


def test_request_overhead_is_spent_before_the_engine():
    sim = simulate(toy(request_overhead_s=0.005), Constant(1.0), Fixed(10, 2), requests=3)
    assert sim.ttft.mean == pytest.approx(0.005 + TAU)
    assert sim.e2e.mean == pytest.approx(0.005 + 2 * TAU)


# ---- against the analytic model -------------------------------------------------------------
@pytest.mark.parametrize("model, gpu, precision, tp, isl, osl", [
    ("llama-3.1-8b", "h100-sxm", "fp8", 1, 1000, 200),
    ("llama-3.1-70b", "h100-sxm", "bf16", 4, 3000, 100),
    ("mixtral-8x7b", "h100-sxm", "fp8", 2, 500, 300),
])
def test_at_vanishing_rate_each_request_runs_alone(model, gpu, precision, tp, isl, osl):
    # One request every 1000 s: nothing queues and no step holds two requests, so TTFT and TPOT
    # are single_request()'s, summed from roofline.step_time directly (the simulation reads
    # interpolated tables: 2% is their documented accuracy).
    dep = make_deployment(model, gpu, precision, tp)
    alone = single_request(dep, isl, osl)
    sim = simulate(dep, Poisson(0.001), Fixed(isl, osl), requests=20)
    assert sim.ttft.mean == pytest.approx(alone.ttft_s, rel=0.02)
    assert sim.tpot.mean == pytest.approx(alone.tpot_s, rel=0.02)
    assert sim.e2e.mean == pytest.approx(alone.e2e_s, rel=0.02)
    assert sim.queue.max == 0


@pytest.mark.parametrize("model, precision, tp, isl, osl", [
    ("llama-3.1-8b", "fp8", 1, 1000, 1000),
    ("llama-3.1-70b", "fp8", 4, 467, 256),
    ("mixtral-8x7b", "fp8", 2, 1000, 1000),
])
def test_at_saturation_throughput_is_the_steady_states(model, precision, tp, isl, osl):
    # A closed loop holding every sequence that fits runs at estimate's max-throughput steady
    # state. Tolerance 3%: the simulation's prefill arrives in lumps (a whole prompt in one step)
    # where the steady state spreads it evenly, and its batch dips while replacements prefill.
    dep = make_deployment(model, "h100-sxm", precision, tp)
    c_max = memory_plan(dep, isl, osl).max_concurrency
    steady = operating_point(dep, c_max, isl, osl)
    sim = simulate(dep, ClosedLoop(c_max), Fixed(isl, osl), requests=8 * c_max, warmup=2 * c_max)
    assert sim.output_tokens_per_s == pytest.approx(steady.output_tokens_per_s, rel=0.03)


@pytest.mark.parametrize("arrivals, lengths", [
    (Poisson(12.0), LogNormal(800, 400)),
    (ClosedLoop(300), Fixed(2000, 500)),
    (Burst(), Fixed(300, 300)),
])
def test_littles_law_on_the_simulated_timeline(arrivals, lengths):
    # L (time-average requests in the engine, integrated step by step over the run) = λ·W
    # (requests per second of the run × their mean time from arriving to leaving). Both sides
    # come from independent bookkeeping: queue and batch counts vs per-request timestamps.
    dep = make_deployment("llama-3.1-8b", "h100-sxm", "fp8")
    sim = simulate(dep, arrivals, lengths, requests=3000, seed=2)
    t = sim.times
    lam = len(t.end) / sim.horizon_s
    w = float(np.mean(t.end - t.arrive))
    assert sim.mean_in_system == pytest.approx(lam * w, rel=1e-9)
    if sim.preemptions == 0:  # the running set: from admission to the end
        assert sim.mean_running == pytest.approx(lam * float(np.mean(t.end - t.admitted)), rel=1e-9)


def test_kv_capacity_queueing_raises_ttft_with_osl_at_fixed_concurrency():
    # Past the KV pool's capacity a closed loop's extra clients wait for a running request to end,
    # so TTFT grows with the output length; the steady-state formula cannot show it.
    dep = make_deployment("llama-3.1-70b", "h100-sxm", "fp8", 2)
    short = simulate(dep, ClosedLoop(200), Fixed(2000, 200), requests=1000)
    long = simulate(dep, ClosedLoop(200), Fixed(2000, 800), requests=1000)
    assert long.ttft.mean > 1.3 * short.ttft.mean  # the admission wait spans more decode steps
    assert long.queue.mean > 1.3 * short.queue.mean
    steady = [operating_point(dep, 200, 2000, osl).ttft_s for osl in (200, 800)]
    assert steady[1] < 1.1 * steady[0]  # the steady state barely moves


def test_objectives_goodput_and_saturation():
    dep = make_deployment("llama-3.1-8b", "h100-sxm", "fp8")
    objectives = [Objective("ttft", "p95", 0.5), Objective("tpot", "mean", 0.05)]
    ok = simulate(dep, Poisson(2.0), Fixed(500, 200), requests=500, objectives=objectives)
    assert ok.meets() and ok.misses() == []
    assert ok.good_fraction == pytest.approx(1.0)
    tight = [Objective("ttft", "p99", 1e-4)]
    assert ok.misses(tight) == [f"ttft p99 {ok.ttft.p99 * 1e3:.1f} ms > 0.1 ms"]
    over = simulate(dep, Poisson(500.0), Fixed(500, 200), requests=2000)
    assert over.saturated and not ok.saturated
    assert over.notes[0].startswith("saturated:")


def test_replay_and_empirical_lengths_are_followed():
    times = (100.0, 100.5, 103.0)
    sim = simulate(make_deployment("llama-3.1-8b", "h100-sxm"), Replay(times),
                   Empirical(((10, 5), (20, 6), (30, 7)), ordered=True), requests=3)
    np.testing.assert_allclose(sim.times.send, [0.0, 0.5, 3.0])
    assert sim.times.isl.tolist() == [10, 20, 30] and sim.times.osl.tolist() == [5, 6, 7]


def test_same_seed_same_run():
    dep = make_deployment("llama-3.1-8b", "h100-sxm")
    a = simulate(dep, Poisson(5), LogNormal(500, 200), requests=300, seed=7)
    b = simulate(dep, Poisson(5), LogNormal(500, 200), requests=300, seed=7)
    c = simulate(dep, Poisson(5), LogNormal(500, 200), requests=300, seed=8)
    assert a.ttft == b.ttft and a.ttft != c.ttft


@pytest.mark.parametrize("kwargs, message", [
    ({"requests": 0}, "a simulation needs at least 1 request, got 0"),
    ({"warmup": 10, "requests": 10}, "warmup must be within [0, 10), got 10"),
    ({"prefix_hit_fraction": 1.5}, "prefix hit fraction must be within [0, 1], got 1.5"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(InputError) as e:
        simulate(toy(), Poisson(1.0), Fixed(10, 10), **kwargs)
    assert str(e.value) == message


def test_a_request_larger_than_the_pool_is_an_error():
    with pytest.raises(InputError) as e:
        simulate(toy(kv_pool_tokens=100), Burst(), Fixed(90, 20), requests=1)
    assert str(e.value) == ("a request of 110 tokens (input + output) exceeds the KV pool of 100 tokens: it "
                            "could never finish; shorten the lengths or give the replica more memory (--tp, a "
                            "lower precision)")


@settings(max_examples=60, deadline=None)
@given(max_batch=st.integers(1, 6), budget=st.integers(1, 400), slack=st.integers(0, 600),
       admission=st.sampled_from(["max_length", "average"]), scheduling=st.sampled_from(["decode_first", "prefill_first"]),
       isl=st.tuples(st.integers(1, 150), st.integers(0, 150)), osl=st.tuples(st.integers(1, 60), st.integers(0, 60)),
       arrivals=st.sampled_from([Burst(), ClosedLoop(3), Poisson(40.0), Constant(100.0)]),
       hit=st.sampled_from([0.0, 0.5]), seed=st.integers(0, 3), chunked=st.booleans())
def test_any_engine_finishes_every_request_in_order(max_batch, budget, slack, admission, scheduling, isl, osl,
                                                    arrivals, hit, seed, chunked):
    # Whatever the limits and policy: every request ends, after its first token, after its send;
    # it takes at least its prefill chunks plus OSL − 1 decode steps; and Little's law holds.
    lengths = Uniform(isl[0], isl[0] + isl[1], osl[0], osl[0] + osl[1])
    pool = isl[0] + isl[1] + osl[0] + osl[1] + slack
    sim = simulate(toy(max_batch=max_batch, token_budget=budget, kv_pool_tokens=pool, admission=admission,
                       scheduling=scheduling, chunked_prefill=chunked), arrivals, lengths, requests=25, seed=seed,
                   prefix_hit_fraction=hit)
    t = sim.times
    assert np.all(t.arrive >= t.send) and np.all(t.first_token >= t.arrive + TAU - 1e-12)
    assert np.all(t.end >= t.first_token)
    least = (np.ceil(np.maximum(t.isl - t.cached, 1) / budget) + t.osl - 1) * TAU
    assert np.all(t.end - t.arrive >= least - 1e-9)
    lam = len(t.end) / sim.horizon_s
    assert sim.mean_in_system == pytest.approx(lam * float(np.mean(t.end - t.arrive)), rel=1e-9)
