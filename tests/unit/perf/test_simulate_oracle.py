"""The serving simulation's timelines, worked out by hand step by step, and its helpers against
closed forms.

Every toy engine here takes a fixed time per step (τ = 1/8 s, exact in binary, so times compare
exactly), and a recording stub keeps the arguments each step was priced with: the decode batch,
its mean context, the prefill tokens and the (query, key) pairs they attend. Each expected value
is traced in the comments from the engine's rules (module docstring of ``perf/simulate.py``):
admission, token budget, chunked or whole prompts, decode-first or prefill-first, paged KV with
preemption and recompute, prefix-cache hits, closed and open loops.
"""

import math

import numpy as np
import pytest

from truecost.errors import InputError, TruecostError
from truecost.perf import simulate as sim_module
from truecost.perf.engine import engine
from truecost.perf.memory import memory_plan
from truecost.perf.serving import make_deployment
from truecost.perf.simulate import EngineLimits, Objective, Replica, RequestTimes, simulate
from truecost.perf.traffic import Burst, ClosedLoop, Constant, Empirical, Fixed, Replay

TAU = 0.125  # seconds per step


class Recorder:
    """A step model of constant steps (``tau``; a decode run's steps grow by ``slope`` each) that
    keeps its calls. ``reach`` is how far (in context tokens) the decode line stays straight."""

    def __init__(self, tau=TAU, slope=0.0, reach=math.inf):
        self.tau, self.slope, self.reach = tau, slope, reach
        self.steps, self.segments = [], []

    def step_s(self, decode_seqs, decode_context, prefill_tokens=0.0, prefill_attended=0.0):
        self.steps.append((decode_seqs, decode_context, prefill_tokens, prefill_attended))
        return self.tau

    def decode_segment(self, decode_seqs, decode_context):
        self.segments.append((decode_seqs, decode_context))
        return self.tau, self.slope, decode_context + self.reach


def toy(rec=None, **limits) -> Replica:
    defaults = {"max_batch": 1000, "token_budget": 100, "kv_pool_tokens": 1e9}
    return Replica(rec if rec is not None else Recorder(), EngineLimits(**{**defaults, **limits}), "toy")


def pairs(new, cached=0):
    # causal (query, key) pairs, by hand: each new token sees the cached ones and the new ones up
    # to itself: new·cached + new(new+1)/2.
    return new * cached + new * (new + 1) // 2


# ---- limits, objectives -------------------------------------------------------------------
@pytest.mark.parametrize("max_batch, budget, pool", [(0, 1, 1), (1, 0, 1), (1, 1, 0.5), (1, 1, math.nan)])
def test_engine_limits_need_one_sequence_token_and_slot(max_batch, budget, pool):
    with pytest.raises(InputError) as e:
        EngineLimits(max_batch=max_batch, token_budget=budget, kv_pool_tokens=pool)
    assert str(e.value) == "engine limits must allow at least one sequence, one token and one KV slot"


def test_engine_limits_at_the_bounds_and_defaults():
    lim = EngineLimits(max_batch=1, token_budget=1, kv_pool_tokens=1)
    assert (lim.admission, lim.scheduling, lim.request_overhead_s, lim.chunked_prefill) == \
        ("max_length", "decode_first", 0.0, True)
    assert Replica(Recorder(), lim).label == "replica"


@pytest.mark.parametrize("obj, key, text", [
    (Objective("ttft", "p95", 0.5), "ttft_p95_s", "ttft p95 <= 500 ms"),
    (Objective("tpot", "mean", 0.03), "tpot_s", "tpot mean <= 30 ms"),
    (Objective("e2e", "p99", 1.0), "e2e_p99_s", "e2e p99 <= 1 s"),  # 1000 ms is not < 1000: seconds
    (Objective("itl", "p50", 0.9995), "itl_p50_s", "itl p50 <= 999.5 ms"),
    (Objective("ttft", "mean", 2.5), "ttft_s", "ttft mean <= 2.5 s"),
])
def test_objective_key_and_text(obj, key, text):
    assert obj.key == key and str(obj) == text


# ---- one request, step by step --------------------------------------------------------------
def test_one_request_timeline_and_what_each_step_is_priced_with():
    # ISL 5, OSL 4, budget 100. Step 1 prefills the 5 prompt tokens alone (no decoders, context 0,
    # 5·6/2 = 15 pairs): first token at τ. It then decodes tokens 2-4 in one run of 3 steps whose
    # context starts at 5 prompt + 1 generated = 6 tokens: ends at 4τ.
    rec = Recorder()
    s = simulate(toy(rec), Burst(), Fixed(5, 4), requests=1)
    assert rec.steps == [(0, 0.0, 5, 15)] and rec.segments == [(1, 6.0)]
    t = s.times
    assert (t.send.tolist(), t.arrive.tolist(), t.admitted.tolist()) == ([0.0], [0.0], [0.0])
    assert (t.first_token.tolist(), t.end.tolist(), t.cached.tolist()) == ([TAU], [4 * TAU], [0])
    assert (t.isl.tolist(), t.osl.tolist()) == ([5], [4])
    assert s.steps == 4 and s.preemptions == 0
    assert (s.ttft.mean, s.e2e.mean, s.queue.mean) == (TAU, 4 * TAU, 0.0)
    assert s.tpot.mean == TAU  # (4τ − τ) / (4 − 1)
    # ITL: 3 gaps of τ (the first from the first token, then the run's two steps, weight 2).
    assert (s.itl.n, s.itl.mean, s.itl.min, s.itl.max) == (3, TAU, TAU, TAU)
    assert s.output_tokens_per_s == 4 / (4 * TAU) and s.requests_per_s == 1 / (4 * TAU)
    assert (s.offered_requests_per_s, s.saturated, s.notes) == (None, False, ())  # all sends at 0
    assert (s.mean_in_system, s.mean_running, s.horizon_s) == (1.0, 1.0, 4 * TAU)
    assert (s.objectives, s.goodput_requests_per_s, s.good_fraction) == ((), None, None)
    assert (s.requests, s.warmup, s.seed, s.replica) == (1, 0, 0, "toy")
    assert (s.arrivals, s.lengths) == ("all at once", "ISL 5 / OSL 4")


def test_a_decode_run_follows_the_step_time_line_and_stops_where_it_bends():
    # Steps of a run last τ, τ+σ, τ+2σ: 3 decode steps take 3τ + 3σ. The first token's gap is the
    # first step (τ); the other two share the rest: (2τ + 3σ)/2 each.
    sigma = 1 / 64
    rec = Recorder(slope=sigma)
    s = simulate(toy(rec), Burst(), Fixed(5, 4), requests=1)
    assert rec.segments == [(1, 6.0)]
    assert s.times.end.tolist() == [TAU + 3 * TAU + 3 * sigma]
    assert (s.itl.min, s.itl.max) == (TAU, TAU + 1.5 * sigma)
    assert s.itl.mean == pytest.approx(TAU + sigma, rel=1e-12)  # (τ + 2(τ + 1.5σ)) / 3
    # A line straight for 1.5 more tokens of context: runs of ceil(1.5) = 2 steps, then 1.
    rec = Recorder(reach=1.5)
    simulate(toy(rec), Burst(), Fixed(5, 4), requests=1)
    assert rec.segments == [(1, 6.0), (1, 8.0)]
    # Straight for no further token (reach 0): at least one step per run.
    rec = Recorder(reach=0.0)
    s = simulate(toy(rec), Burst(), Fixed(5, 4), requests=1)
    assert rec.segments == [(1, 6.0), (1, 7.0), (1, 8.0)] and s.steps == 4
    assert s.times.end.tolist() == [4 * TAU]


# ---- scheduling -----------------------------------------------------------------------------
def two_requests(scheduling):
    # A: ISL 4 / OSL 3 sent at 0; B: ISL 6 / OSL 2 sent at 1.5τ; budget 100.
    rec = Recorder()
    s = simulate(toy(rec, scheduling=scheduling), Replay((0.0, 1.5 * TAU)),
                 Empirical(((4, 3), (6, 2)), ordered=True), requests=2)
    return rec, s


def test_decode_first_cuts_a_decode_run_at_an_arrival_and_prefills_beside_the_decoder():
    # Step 1 (0→τ): A's prompt, 4·5/2 = 10 pairs. A decodes; B arrives at 1.5τ, within the next
    # step, so the run stops after 1 step (2τ). Step 3 (2τ→3τ): A's 3rd token beside B's prompt
    # (A's context 4 + 2 = 6; 21 pairs): A ends at 3τ, B's first token at 3τ. Step 4: B decodes
    # at context 6 + 1 = 7 and ends at 4τ.
    rec, s = two_requests("decode_first")
    assert rec.steps == [(0, 0.0, 4, 10), (1, 6.0, 6, 21)]
    assert rec.segments == [(1, 5.0), (1, 7.0)]
    t = s.times
    assert t.first_token.tolist() == [TAU, 3 * TAU] and t.end.tolist() == [3 * TAU, 4 * TAU]
    assert t.admitted.tolist() == [0.0, 2 * TAU] and t.arrive.tolist() == [0.0, 1.5 * TAU]
    assert s.queue.max == 0.5 * TAU and s.queue.min == 0.0
    assert (s.ttft.min, s.ttft.max) == (TAU, 1.5 * TAU) and (s.e2e.min, s.e2e.max) == (2.5 * TAU, 3 * TAU)
    assert s.steps == 4 and (s.itl.n, s.itl.max) == (3, TAU)
    assert s.offered_requests_per_s == 1 / (1.5 * TAU)  # (2 − 1) sends over 1.5τ
    # In the engine: A 0 → 3τ, B 1.5τ → 4τ: 5.5τ over the 4τ run (B's wait before the step that
    # sees it counts too).
    assert s.mean_in_system == 5.5 / 4


def test_prefill_first_stalls_the_decoder_for_a_prompt():
    # As above to 2τ; then B's prompt runs alone (no decode batch priced, A waits): B's first token
    # at 3τ. Step 4 decodes both: A's context 4 + 2 = 6, B's 6 + 1 = 7, mean 6.5; both end at 4τ.
    # A's gap across the stall: 2τ → 4τ.
    rec, s = two_requests("prefill_first")
    assert rec.steps == [(0, 0.0, 4, 10), (0, 6.0, 6, 21)]
    assert rec.segments == [(1, 5.0), (2, 6.5)]
    assert s.times.end.tolist() == [4 * TAU, 4 * TAU]
    assert s.tpot.max == 1.5 * TAU  # A: (4τ − τ) / 2
    assert (s.itl.n, s.itl.max, s.itl.min) == (3, 2 * TAU, TAU)
    assert s.itl.mean == pytest.approx(4 / 3 * TAU, rel=1e-12)  # gaps τ, 2τ, τ


@pytest.mark.parametrize("scheduling", ["decode_first", "prefill_first"])
def test_decoders_take_their_tokens_from_the_budget_only_when_they_go_first(scheduling):
    # Budget 6. A (ISL 2, OSL 4) is decoding when B (ISL 6, OSL 1, sent at 0.5τ) is admitted at τ.
    rec = Recorder()
    s = simulate(toy(rec, token_budget=6, scheduling=scheduling), Replay((0.0, 0.5 * TAU)),
                 Empirical(((2, 4), (6, 1)), ordered=True), requests=2)
    t = s.times
    if scheduling == "decode_first":
        # A's token takes 1 of the 6: B's prompt goes 5 then 1 (the last one attends the 5 before
        # it: 1·5 + 1 pairs), beside A at contexts 3 and 4. B's only token at 3τ; A's last decode
        # step (context 5) ends at 4τ.
        assert rec.steps == [(0, 0.0, 2, 3), (1, 3.0, 5, 15), (1, 4.0, 1, 6)]
        assert rec.segments == [(1, 5.0)]
        assert t.first_token.tolist() == [TAU, 3 * TAU] and t.end.tolist() == [4 * TAU, 3 * TAU]
    else:
        # B's 6 tokens run whole in a step of their own (τ→2τ); A then decodes 3 steps: ends 5τ.
        assert rec.steps == [(0, 0.0, 2, 3), (0, 3.0, 6, 21)]
        assert rec.segments == [(1, 3.0)]
        assert t.first_token.tolist() == [TAU, 2 * TAU] and t.end.tolist() == [5 * TAU, 2 * TAU]
        assert s.itl.max == 2 * TAU  # A's first gap: τ → 3τ
    assert s.queue.max == 0.5 * TAU  # B waits from 0.5τ to the step at τ


@pytest.mark.parametrize("max_batch", [1, 2])
def test_the_batch_limit_holds_an_arrival_and_only_an_admissible_one_cuts_a_decode_run(max_batch):
    # A: ISL 1 / OSL 4 at 0; B: ISL 1 / OSL 1 at 1.5τ. With room for 2, A's run stops at B's
    # arrival (2τ), B is prefilled beside A (first and last token at 3τ) and A ends at 4τ. With
    # room for 1, A decodes straight to 4τ; B is admitted then and done at 5τ.
    rec = Recorder()
    s = simulate(toy(rec, max_batch=max_batch), Replay((0.0, 1.5 * TAU)),
                 Empirical(((1, 4), (1, 1)), ordered=True), requests=2)
    t = s.times
    if max_batch == 2:
        assert len(rec.segments) == 2 and t.end.tolist() == [4 * TAU, 3 * TAU]
        assert t.admitted.tolist() == [0.0, 2 * TAU]
    else:
        assert len(rec.segments) == 1 and t.end.tolist() == [4 * TAU, 5 * TAU]
        assert t.admitted.tolist() == [0.0, 4 * TAU] and s.queue.max == 2.5 * TAU


# ---- prefill shapes -------------------------------------------------------------------------
def test_whole_prompt_exactly_the_budget_runs_in_one_step_and_one_token_more_is_chunked():
    # Without chunked prefill a prompt of exactly the budget (8) is one step; 9 tokens can never
    # run whole, so they go 8 + 1 (the second piece attends the first 8: 1·8 + 1 pairs).
    rec = Recorder()
    simulate(toy(rec, token_budget=8, chunked_prefill=False), Burst(), Fixed(8, 1), requests=1)
    assert rec.steps == [(0, 0.0, 8, 36)]
    rec = Recorder()
    s = simulate(toy(rec, token_budget=8, chunked_prefill=False), Burst(), Fixed(9, 1), requests=1)
    assert rec.steps == [(0, 0.0, 8, 36), (0, 0.0, 1, 9)] and s.ttft.mean == 2 * TAU


def test_whole_prompts_behind_a_partial_one_wait_but_chunks_fill_the_step():
    # Budget 8, prompts of 5 and 5 at once. Chunked: step 1 takes 5 + 3, step 2 the last 2 (after
    # 3 done: 2·3 + 3 pairs). Whole: the second does not fit the 3 left, so it waits a step.
    rec = Recorder()
    s = simulate(toy(rec, token_budget=8), Burst(), Fixed(5, 1), requests=2)
    assert rec.steps == [(0, 0.0, 8, 15 + 6), (0, 0.0, 2, 9)]
    assert s.times.first_token.tolist() == [TAU, 2 * TAU]
    rec = Recorder()
    s = simulate(toy(rec, token_budget=8, chunked_prefill=False), Burst(), Fixed(5, 1), requests=2)
    assert rec.steps == [(0, 0.0, 5, 15), (0, 0.0, 5, 15)]
    assert s.times.admitted.tolist() == [0.0, TAU]


@pytest.mark.parametrize("admission", ["max_length", "average"])
def test_prefix_cache_hits_are_not_prefilled_but_attended(admission):
    # ISL 5, half cached: floor(2.5) = 2 cached, 3 computed, each seeing the 2 cached tokens:
    # 3·2 + 6 = 12 pairs. The decode context is still the whole 5 + 1 = 6.
    rec = Recorder()
    s = simulate(toy(rec, admission=admission), Burst(), Fixed(5, 2), requests=1, prefix_hit_fraction=0.5)
    assert rec.steps == [(0, 0.0, 3, pairs(3, 2))] and rec.segments == [(1, 6.0)]
    assert s.times.cached.tolist() == [2]
    # Budget 2: the 3 uncached tokens go 2 (after the 2 cached) then 1 (after 2 + 2).
    rec = Recorder()
    s = simulate(toy(rec, admission=admission, token_budget=2, kv_pool_tokens=7), Burst(), Fixed(5, 2),
                 requests=1, prefix_hit_fraction=0.5)
    assert rec.steps == [(0, 0.0, 2, pairs(2, 2)), (0, 0.0, 1, pairs(1, 4))] and s.ttft.mean == 2 * TAU
    # All cached: one token is still computed (the first output needs a forward pass).
    rec = Recorder()
    s = simulate(toy(rec, admission=admission), Burst(), Fixed(5, 2), requests=1, prefix_hit_fraction=1.0)
    assert rec.steps == [(0, 0.0, 1, pairs(1, 5))] and s.times.cached.tolist() == [5]


@pytest.mark.parametrize("pool, firsts", [(8, [1, 1]), (7, [1, 2])])
def test_paged_admission_counts_cached_tokens_as_held(pool, firsts):
    # ISL 4 / OSL 1, half cached (2 held, 2 computed each). A holds 2 cached + 2 computing; B would
    # add 2 + 2: 8 tokens. A pool of 8 takes both in step 1; of 7, B waits for step 2.
    s = simulate(toy(kv_pool_tokens=pool, admission="average"), Burst(), Fixed(4, 1), requests=2,
                 prefix_hit_fraction=0.5)
    assert s.times.first_token.tolist() == [f * TAU for f in firsts]


# ---- KV admission ---------------------------------------------------------------------------
@pytest.mark.parametrize("pool, ends", [
    # Pool 10 holds two reservations of 2 + 3: A and B run together (prefill τ, 2 decode steps:
    # 3τ); C is admitted when they end and takes 3 steps more: 6τ.
    (10, [3, 3, 6]),
    # Pool 9 holds one: each request runs alone, 3 steps each.
    (9, [3, 6, 9]),
])
def test_max_length_admission_reserves_isl_plus_osl(pool, ends):
    s = simulate(toy(kv_pool_tokens=pool), Burst(), Fixed(2, 3), requests=3)
    assert s.times.end.tolist() == [e * TAU for e in ends]
    assert s.times.admitted.tolist() == [0.0, (ends[0] if pool == 9 else 0) * TAU, ends[1 if pool == 9 else 0] * TAU]
    assert s.preemptions == 0 and s.steps == (6 if pool == 10 else 9)


def test_paged_kv_preempts_the_newest_and_recomputes_prompt_and_tokens():
    # Pool 12, two requests ISL 4 / OSL 4 at once (paged: admitted on the 4 + 4 they prefill).
    # Step 1 (→τ): both prompts (10 pairs each). Both decode holding 5 each (10): the pool leaves
    # room for (12 − 10) // 2 = 1 step (→2τ, 12 held). The next step would need 14 > 12: B (the
    # newer) is evicted having made 2 tokens. B's recompute (4 + 2 = 6) does not fit beside A (6
    # held + 1 + 6 = 13 > 12), so A decodes its last 2 tokens alone (context 6; →4τ). B then
    # recomputes 6 tokens (→5τ: its 3rd token, 3τ after its 2nd at 2τ) and decodes its 4th at
    # context 4 + 3 = 7 (→6τ).
    rec = Recorder()
    s = simulate(toy(rec, kv_pool_tokens=12, admission="average"), Burst(), Fixed(4, 4), requests=2)
    assert rec.steps == [(0, 0.0, 8, 20), (0, 0.0, 6, 21)]
    assert rec.segments == [(2, 5.0), (1, 6.0), (1, 7.0)]
    t = s.times
    assert t.first_token.tolist() == [TAU, TAU] and t.end.tolist() == [4 * TAU, 6 * TAU]
    assert t.admitted.tolist() == [0.0, 0.0]  # the first admission counts
    assert s.preemptions == 1 and s.steps == 6
    # Gaps: τ, τ (step 2), A's τ, τ, B's 3τ across the eviction, B's last τ: 6 = Σ(OSL − 1).
    assert (s.itl.n, s.itl.max, s.itl.p50, s.itl.p90) == (6, 3 * TAU, TAU, 3 * TAU)
    assert s.itl.mean == pytest.approx(8 / 6 * TAU, rel=1e-12)
    # In the engine: 2, 2, then B waiting beside A for 2 steps (2 × 2τ), then 1, 1 over 6τ.
    assert s.mean_in_system == pytest.approx(10 / 6, rel=1e-12)
    # Running (prefilling or decoding): 2, 2, 1, 1, 1, 1 per τ.
    assert s.mean_running == pytest.approx(8 / 6, rel=1e-12)


def test_an_evicted_request_s_old_finish_step_is_skipped():
    # Pool 10; A: ISL 2 / OSL 8, B: ISL 2 / OSL 4. Both prefill (→τ; 3 pairs each) and decode
    # holding 3 + 3: room for (10 − 6) // 2 = 2 steps (→3τ, 10 held). B, the newer, is evicted
    # with 3 tokens made, before its old finish step (3); its recompute (2 + 3 = 5) does not fit
    # beside A (5 held + 1 + 5 = 11 > 10). A decodes straight to its end: 5 steps (→8τ) at
    # context 5, not stopping at B's stale finish. B recomputes (→9τ), which yields its 4th and
    # last token: a gap of 6τ since its 3rd at 3τ.
    rec = Recorder()
    s = simulate(toy(rec, kv_pool_tokens=10, admission="average"), Burst(),
                 Empirical(((2, 8), (2, 4)), ordered=True), requests=2)
    assert rec.steps == [(0, 0.0, 4, 6), (0, 0.0, 5, 15)]
    assert rec.segments == [(2, 3.0), (1, 5.0)]
    assert s.times.end.tolist() == [8 * TAU, 9 * TAU]
    assert s.preemptions == 1 and s.steps == 9
    assert (s.itl.n, s.itl.max) == (10, 6 * TAU)
    assert s.itl.mean == pytest.approx(15 / 10 * TAU, rel=1e-12)  # nine gaps of τ and one of 6τ


def test_paged_kv_evicts_a_request_still_prefilling():
    # Pool 10, budget 4, two requests ISL 5 / OSL 5 at once. Step 1: A's first 4 tokens. Step 2:
    # A's last one (after 4: 1·4 + 1 = 5 pairs) and B's first 3 (6 pairs); A's first token at 2τ.
    # Held: B's 3 + A's 6 = 9, so B's next chunk gets 10 − 9 − 1 (A's next token) = 0: A decodes
    # one step alone (context 6; →3τ), after which 3 + 7 + 1 > 10: B, still prefilling, is evicted
    # and its 3 tokens freed. B's 5 do not fit beside A's 7 + 1, so A decodes its last 3 (context
    # 7; →6τ). B is prefilled again from scratch (4, then 1: first token at 8τ) and decodes 4
    # steps from context 6 (→12τ). Its admission time is its first (τ).
    rec = Recorder()
    s = simulate(toy(rec, kv_pool_tokens=10, token_budget=4, admission="average"), Burst(), Fixed(5, 5), requests=2)
    assert rec.steps == [(0, 0.0, 4, 10), (0, 0.0, 4, pairs(1, 4) + pairs(3)), (0, 0.0, 4, 10), (0, 0.0, 1, 5)]
    assert rec.segments == [(1, 6.0), (1, 7.0), (1, 6.0)]
    t = s.times
    assert t.admitted.tolist() == [0.0, TAU] and t.first_token.tolist() == [2 * TAU, 8 * TAU]
    assert t.end.tolist() == [6 * TAU, 12 * TAU]
    assert (s.preemptions, s.steps) == (1, 12)
    assert (s.itl.n, s.itl.min, s.itl.max) == (8, TAU, TAU)  # evicted before its first token: no gap


def test_eviction_skips_finished_requests_and_can_hit_a_readmitted_one_again():
    # Pool 11; A1, A2: ISL 2 / OSL 6; C: ISL 1 / OSL 2, all at once. Step 1 prefills all three
    # (3 + 3 + 1 = 7 pairs; first tokens at τ). They decode one step together (3 + 3 + 2 held, room
    # for (11 − 8) // 3 = 1 step; mean context 8/3): C ends at 2τ. A1, A2 hold 4 + 4: room for
    # (11 − 8) // 2 = 1 step (context 4; →3τ). Then 5 + 5 + 2 > 11: the newest admitted, C, has
    # ended, so A2 (3 tokens made) is evicted. Its recompute (2 + 3 = 5) fits beside A1 (5 held +
    # 1 + 5 = 11): prefilled beside A1's decode (context 5; →4τ, its 4th token, τ after its 3rd).
    # Now 6 + 6 + 2 > 11 again: A2 is evicted at once (4 tokens made); its 6 do not fit beside A1,
    # which decodes its last 2 (context 6; →6τ). A2 recomputes 6 (→7τ, its 5th token 3τ after its
    # 4th) and decodes its 6th at context 2 + 5 = 7 (→8τ).
    rec = Recorder()
    s = simulate(toy(rec, kv_pool_tokens=11, admission="average"), Burst(),
                 Empirical(((2, 6), (2, 6), (1, 2)), ordered=True), requests=3)
    assert rec.steps == [(0, 0.0, 5, 7), (1, 5.0, 5, 15), (0, 0.0, 6, 21)]
    assert rec.segments == [(3, pytest.approx(8 / 3, rel=1e-12)), (2, 4.0), (1, 6.0), (1, 7.0)]
    t = s.times
    assert t.first_token.tolist() == [TAU] * 3 and t.end.tolist() == [6 * TAU, 8 * TAU, 2 * TAU]
    assert (s.preemptions, s.steps) == (2, 8)
    # Gaps (weights): 3 of τ, 2 of τ, A1's τ, A2's τ, A1's 2 of τ, A2's 3τ, A2's τ: 13τ over 11.
    assert (s.itl.n, s.itl.max, s.itl.p90, s.itl.p95) == (11, 3 * TAU, TAU, 3 * TAU)
    assert s.itl.mean == pytest.approx(13 / 11 * TAU, rel=1e-12)


def test_a_request_evicted_before_it_decodes_measures_its_gap_from_its_own_last_token():
    # Prefill-first, pool 8. D: ISL 2 / OSL 6 at 0; X: ISL 2 / OSL 3 at 1.5τ. D: prefill (→τ), one
    # decode step (the run stops for X's arrival; →2τ). X's prompt runs alone (→3τ, its first
    # token; D waits). D 4 + X 3 held + 2 next tokens = 9 > 8: X, the newest, is evicted before it
    # decodes. Its recompute (2 + 1) fits (4 + 1 + 3 = 8): its 2nd token at 4τ, τ after its 1st,
    # not 2τ after D's last decode step. Evicted again (4 + 4 + 2 > 8) and its 4 do not fit
    # beside D, which decodes its last 4 (→8τ; its first gap 2τ → 5τ). X recomputes 4 (→9τ): its
    # 3rd token, 5τ after its 2nd (4τ).
    rec = Recorder()
    s = simulate(toy(rec, kv_pool_tokens=8, admission="average", scheduling="prefill_first"),
                 Replay((0.0, 1.5 * TAU)), Empirical(((2, 6), (2, 3)), ordered=True), requests=2)
    assert rec.steps == [(0, 0.0, 2, 3), (0, 4.0, 2, 3), (0, 4.0, 3, pairs(3)), (0, 0.0, 4, pairs(4))]
    assert rec.segments == [(1, 3.0), (1, 4.0)]
    assert s.times.first_token.tolist() == [TAU, 3 * TAU] and s.times.end.tolist() == [8 * TAU, 9 * TAU]
    assert (s.preemptions, s.steps) == (2, 9)
    # Gaps: D τ, 3τ, τ, τ, τ; X τ, 5τ: 13τ over 7.
    assert (s.itl.n, s.itl.max, s.itl.p50, s.itl.p90) == (7, 5 * TAU, TAU, 5 * TAU)
    assert s.itl.mean == pytest.approx(13 / 7 * TAU, rel=1e-12)


# ---- loops, warm-up, objectives -------------------------------------------------------------
def test_closed_loop_sends_at_each_end_and_pays_the_request_overhead():
    # One client, 3 requests of ISL 1 / OSL 2, overhead τ/2: each arrives τ/2 after its send, takes
    # a prefill and a decode step, and the next is sent when it ends.
    s = simulate(toy(request_overhead_s=TAU / 2), ClosedLoop(1), Fixed(1, 2), requests=3)
    t = s.times
    assert t.send.tolist() == [0.0, 2.5 * TAU, 5 * TAU]
    assert t.arrive.tolist() == [0.5 * TAU, 3 * TAU, 5.5 * TAU]
    assert t.first_token.tolist() == [1.5 * TAU, 4 * TAU, 6.5 * TAU]
    assert t.end.tolist() == [2.5 * TAU, 5 * TAU, 7.5 * TAU]
    assert (s.ttft.mean, s.e2e.mean, s.steps, s.offered_requests_per_s) == (1.5 * TAU, 2.5 * TAU, 6, None)
    assert s.arrivals == "closed loop at concurrency 1"
    # Each request is in the engine 2τ of the 7.5τ run.
    assert s.mean_in_system == pytest.approx(6 / 7.5, rel=1e-12)
    # More clients than requests: every request is sent at once.
    s = simulate(toy(), ClosedLoop(5), Fixed(1, 2), requests=2)
    assert s.times.send.tolist() == [0.0, 0.0] and s.times.end.tolist() == [2 * TAU, 2 * TAU]


def test_open_loop_idles_between_requests_and_warmup_leaves_the_first_out():
    # Sends at 0, 3τ, 4τ; ISL 1 / OSL 2. A: τ, 2τ; the engine idles to 3τ; B: 4τ, 5τ; C arrives at
    # 4τ and is prefilled beside B's decode: 5τ, then 6τ.
    s = simulate(toy(), Replay((0.0, 3 * TAU, 4 * TAU)), Fixed(1, 2), requests=3, warmup=1)
    t = s.times
    assert t.first_token.tolist() == [TAU, 4 * TAU, 5 * TAU] and t.end.tolist() == [2 * TAU, 5 * TAU, 6 * TAU]
    assert s.offered_requests_per_s == 2 / (4 * TAU)  # (3 − 1) sends over 4τ, all sends
    assert s.ttft.n == 2 and s.e2e.n == 2 and s.warmup == 1
    # Measured window: B's send (3τ) to C's end (6τ): 2 requests and 4 tokens over 3τ.
    assert s.requests_per_s == pytest.approx(2 / (3 * TAU), rel=1e-12)
    assert s.output_tokens_per_s == pytest.approx(4 / (3 * TAU), rel=1e-12)
    assert s.horizon_s == 6 * TAU and s.steps == 5
    assert s.mean_in_system == 1.0  # 3 requests × 2τ in the engine over 6τ; idle time counts 0


def test_goodput_counts_requests_within_every_limit():
    # A: ISL 2 / OSL 1 (no TPOT); B: ISL 2 / OSL 3. Both prefill at once (→τ); A ends at τ, B
    # decodes 2 steps: ends 3τ, TPOT τ. A request without a TPOT meets a TPOT limit.
    def run(*objectives):
        return simulate(toy(), Burst(), Empirical(((2, 1), (2, 3)), ordered=True), requests=2,
                        objectives=objectives)
    ok = run(Objective("tpot", "p99", TAU))  # B's τ ≤ τ
    assert (ok.good_fraction, ok.goodput_requests_per_s) == (1.0, 2 / (3 * TAU))
    assert ok.objectives == (Objective("tpot", "p99", TAU),) and ok.meets() and ok.misses() == []
    assert run(Objective("itl", "p50", TAU)).good_fraction == 1.0  # per request, ITL is TPOT
    assert run(Objective("tpot", "mean", TAU - 1e-9)).good_fraction == 0.5
    e2e = run(Objective("e2e", "mean", TAU))  # A's τ ≤ τ, B's 3τ > τ
    assert (e2e.good_fraction, e2e.goodput_requests_per_s) == (0.5, 1 / (3 * TAU))
    assert e2e.misses() == ["e2e mean 250.0 ms > 125.0 ms"]  # mean (τ + 3τ)/2 = 2τ
    both = run(Objective("ttft", "p50", TAU), Objective("e2e", "p99", 2.5 * TAU))
    assert both.good_fraction == 0.5  # both TTFTs τ ≤ τ; B's E2E 3τ over
    # E2E p99 between τ and 3τ: τ + 0.99 · 2τ = 2.98τ = 372.5 ms > 312.5 ms.
    assert both.misses() == ["e2e p99 372.5 ms > 312.5 ms"]
    assert both.value("e2e", "max") == 3 * TAU and both.value("ttft", "p50") == TAU
    assert not both.meets() and both.meets([Objective("ttft", "mean", TAU)])
    assert both.misses([Objective("ttft", "p50", TAU / 2)]) == ["ttft p50 125.0 ms > 62.5 ms"]


def test_misses_print_seconds_from_one_and_a_dash_for_no_value():
    s = simulate(toy(Recorder(tau=1.0)), Burst(), Fixed(1, 3), requests=1)  # E2E 3 s, TPOT 1 s
    assert s.misses([Objective("e2e", "p50", 1.0), Objective("e2e", "mean", 0.9995)]) == [
        "e2e p50 3.00 s > 1.00 s", "e2e mean 3.00 s > 999.5 ms"]
    assert s.misses([Objective("tpot", "mean", 0.999)]) == ["tpot mean 1.00 s > 999.0 ms"]
    one = simulate(toy(), Burst(), Fixed(1, 1), requests=1)  # OSL 1: no TPOT at all
    assert one.tpot.n == 0 and one.tpot.skipped == 1 and one.tpot.mean is None
    assert one.misses([Objective("tpot", "mean", 0.01)]) == ["tpot mean - > 10.0 ms"]
    assert one.itl.n == 0 and one.itl.mean is None


def test_summary_names_every_figure():
    s = simulate(toy(), Burst(), Fixed(5, 4), requests=1, seed=3, objectives=[Objective("ttft", "p95", 1.0)])
    d = s.summary()
    assert list(d) == ["requests", "warmup", "seed", "arrivals", "lengths", "output_tokens_per_s", "requests_per_s",
                       "offered_requests_per_s", "saturated", "mean_in_system", "mean_running", "horizon_s", "steps",
                       "preemptions", "goodput_requests_per_s", "good_fraction", "ttft", "tpot", "itl", "e2e",
                       "queue", "objectives", "notes", "provenance"]
    assert (d["requests"], d["warmup"], d["seed"], d["steps"], d["preemptions"]) == (1, 0, 3, 4, 0)
    assert (d["arrivals"], d["lengths"]) == ("all at once", "ISL 5 / OSL 4")
    assert (d["output_tokens_per_s"], d["requests_per_s"], d["horizon_s"]) == (8.0, 2.0, 0.5)
    assert (d["offered_requests_per_s"], d["saturated"], d["mean_in_system"], d["mean_running"]) == \
        (None, False, 1.0, 1.0)
    assert (d["goodput_requests_per_s"], d["good_fraction"]) == (2.0, 1.0)
    assert d["ttft"] == {"n": 1, "mean": TAU, "p50": TAU, "p90": TAU, "p95": TAU, "p99": TAU, "max": TAU}
    assert d["e2e"]["max"] == 0.5 and d["queue"]["mean"] == 0.0 and d["itl"]["n"] == 3 and d["tpot"]["p99"] == TAU
    assert (d["objectives"], d["notes"]) == (["ttft_p95_s"], [])
    assert d["provenance"] == ("modelled:discrete-event simulation of toy: 1 requests, all at once, ISL 5 / OSL 4, "
                               "seed 3")
    big = simulate(toy(token_budget=2000), Burst(), Fixed(1, 1), requests=1000)
    assert big.provenance.kind == "modelled" and "toy: 1,000 requests," in big.provenance.detail
    assert big.steps == 1 and big.ttft.max == TAU  # 1,000 one-token prompts in one step


def test_an_engine_whose_steps_take_no_time_has_unbounded_throughput():
    s = simulate(toy(Recorder(tau=0.0)), Burst(), Fixed(1, 2), requests=2, objectives=[Objective("ttft", "mean", 1)])
    assert (s.output_tokens_per_s, s.requests_per_s) == (math.inf, math.inf)
    assert (s.goodput_requests_per_s, s.good_fraction) == (None, 1.0)
    assert (s.horizon_s, s.mean_in_system, s.mean_running, s.steps) == (0.0, 0.0, 0.0, 2)


# ---- saturation -----------------------------------------------------------------------------
def times_of(send, end):
    n = len(send)
    z = np.zeros(n)
    return RequestTimes(np.asarray(send, float), z, z, z, np.asarray(end, float), z, z, z)


@pytest.mark.parametrize("done, extra_end, saturated", [
    # 60 sends at 0..59: lo = 12th sorted (12), hi = 48th (48); sent in [12, 48) = 36, and
    # saturation is fewer than 0.9 × 36 = 32.4 completions in the window.
    (32, None, True),
    (33, None, False),
    (33, 12.0, False),  # an end exactly at lo counts: 32 at 13..44 and one at 12 make 33
    (32, 48.0, True),  # an end exactly at hi does not: 32 at 13..44, the one at 48 left out
])
def test_saturation_counts_completions_in_the_middle_three_fifths(done, extra_end, saturated):
    send = np.arange(60.0)
    end = np.full(60, 1000.0)
    end[:done] = 13.0 + np.arange(done)
    if extra_end is not None:
        end[done] = extra_end
    if extra_end == 12.0:  # keep the count at 33 with the lo end: drop one of the 33
        end[done - 1] = 1000.0
    assert sim_module._saturated(times_of(send, end), 60) is saturated


def test_saturation_is_strictly_fewer_than_nine_tenths():
    # 50 sends: lo = 10, hi = 40, 30 sent in the window; exactly 27 = 0.9 × 30 done is not saturated.
    end = np.full(50, 1000.0)
    end[:27] = 10.0 + np.arange(27)
    assert sim_module._saturated(times_of(np.arange(50.0), end), 50) is False
    end[26] = 1000.0
    assert sim_module._saturated(times_of(np.arange(50.0), end), 50) is True


def test_saturation_needs_fifty_sends_spread_in_time():
    none_done = np.full(50, 1000.0)
    assert sim_module._saturated(times_of(np.arange(50.0), none_done), 50) is True
    assert sim_module._saturated(times_of(np.arange(49.0), none_done[:49]), 49) is False
    assert sim_module._saturated(times_of(np.zeros(60), np.full(60, 1000.0)), 60) is False


def test_an_open_loop_past_capacity_says_it_is_saturated():
    # One request at a time, one step (τ) each; sends every τ/4: four times what it serves.
    over = simulate(toy(max_batch=1), Constant(4 / TAU), Fixed(1, 1), requests=60)
    assert over.saturated is True
    assert over.notes == ("saturated: arrivals outpace completions, so the queue (and TTFT) grows with the run's "
                          "length",)
    assert over.offered_requests_per_s == pytest.approx(4 / TAU, rel=1e-12)
    assert over.times.end.tolist() == [(i + 1) * TAU for i in range(60)]  # back to back
    calm = simulate(toy(max_batch=1), Constant(0.5 / TAU), Fixed(1, 1), requests=60)
    assert (calm.saturated, calm.notes, calm.queue.max) == (False, (), 0.0)


# ---- helpers against closed forms ---------------------------------------------------------------
def test_distribution_interpolates_between_order_statistics():
    # Sorted 1, 2, 3, 4 (NaN skipped): position (n − 1)·q/100 = 3q/100; p50 at 1.5 → 2.5, p90 at
    # 2.7 → 3.7, p95 at 2.85 → 3.85, p99 at 2.97 → 3.97.
    d = sim_module._distribution(np.array([4.0, 1.0, math.nan, 3.0, 2.0]))
    assert (d.n, d.skipped, d.mean, d.min, d.max) == (4, 1, 2.5, 1.0, 4.0)
    assert [d.p50, d.p90, d.p95, d.p99] == pytest.approx([2.5, 3.7, 3.85, 3.97], rel=1e-12)
    two = sim_module._distribution(np.array([10.0, 0.0]))  # p at 0.5, 0.9, 0.95, 0.99 of the way
    assert [two.p50, two.p90, two.p95, two.p99] == pytest.approx([5.0, 9.0, 9.5, 9.9], rel=1e-12)
    one = sim_module._distribution(np.array([5.0]))
    assert (one.n, one.skipped, one.mean, one.p50, one.p99, one.min, one.max) == (1, 0, 5.0, 5.0, 5.0, 5.0, 5.0)
    empty = sim_module._distribution(np.array([math.nan, math.nan]))
    assert (empty.n, empty.skipped, empty.mean, empty.p50, empty.p90, empty.p95, empty.p99, empty.min,
            empty.max) == (0, 2, None, None, None, None, None, None, None)


def test_weighted_distribution_takes_the_first_value_whose_cumulative_weight_reaches_q():
    # Values 1, 2, 3 with weights 2, 1, 1: cumulative 2, 3, 4 of 4. p50 = 2 of 4 → value 1 (its
    # weight reaches exactly 2); p90 = 3.6 → 3; mean (2 + 2 + 3)/4 = 1.75.
    d = sim_module._weighted_distribution([3.0, 1.0, 2.0], [1.0, 2.0, 1.0])
    assert (d.n, d.skipped, d.mean, d.p50, d.p90, d.p95, d.p99, d.min, d.max) == \
        (4, 0, 1.75, 1.0, 3.0, 3.0, 3.0, 1.0, 3.0)
    # Weights 1, 1, 2 on 1, 2, 3: p50 = 2 of 4 → value 2.
    assert sim_module._weighted_distribution([1.0, 2.0, 3.0], [1.0, 1.0, 2.0]).p50 == 2.0
    e = sim_module._weighted_distribution([], [])
    assert (e.n, e.skipped, e.mean, e.p50, e.p90, e.p95, e.p99, e.min, e.max) == \
        (0, 0, None, None, None, None, None, None, None)


@pytest.mark.parametrize("gap, t0, slope, k", [
    (0.0, 1.0, 0.0, 1), (-2.0, 1.0, 1.0, 1),
    (0.5, 1.0, 0.0, 1), (2.5, 1.0, 0.0, 3), (3.0, 1.0, 0.0, 3),
    # Steps 1, 2, 3, 4: cumulative 1, 3, 6, 10.
    (0.5, 1.0, 1.0, 1), (1.5, 1.0, 1.0, 2), (3.0, 1.0, 1.0, 2), (3.5, 1.0, 1.0, 3), (6.0, 1.0, 1.0, 3),
    (6.5, 1.0, 1.0, 4),
    # Shrinking steps 2, 1, 0: cumulative 2, 3, 3; the quadratic has no root past 3.125
    # (discriminant 2.5² − 2·gap ≤ 0): then gap / t0 steps.
    (1.0, 2.0, -1.0, 1), (2.5, 2.0, -1.0, 2), (3.125, 2.0, -1.0, 2), (4.0, 2.0, -1.0, 2),
])
def test_steps_to_cover_a_gap(gap, t0, slope, k):
    assert sim_module._steps_to_cover(gap, t0, slope) == k


# ---- guards and bounds ------------------------------------------------------------------------
def test_a_run_that_makes_no_progress_is_stopped_with_a_report(monkeypatch):
    # Budget 1 token: each request of ISL 3 takes 3 events (prefill steps, the last yielding its
    # only token). Two requests one at a time: 3 events between completions, never more.
    monkeypatch.setattr(sim_module, "STALL_ITERATIONS", 3)
    s = simulate(toy(max_batch=1, token_budget=1), Burst(), Fixed(3, 1), requests=2)
    assert s.times.end.tolist() == [3 * TAU, 6 * TAU]
    monkeypatch.setattr(sim_module, "STALL_ITERATIONS", 2)
    with pytest.raises(TruecostError) as e:
        simulate(toy(max_batch=1, token_budget=1), Burst(), Fixed(3, 1), requests=2)
    assert str(e.value) == ("internal error: the serving simulation made no progress in 2 events (0 preemptions); "
                            "please report it with the command that ran")
    monkeypatch.setattr(sim_module, "STALL_ITERATIONS", 1000)
    with pytest.raises(TruecostError, match=r"no progress in 1,000 events \(0 preemptions\)"):
        simulate(toy(token_budget=1), Burst(), Fixed(1001, 1), requests=1)


@pytest.mark.parametrize("kwargs, message", [
    ({"warmup": -1, "requests": 5}, "warmup must be within [0, 5), got -1"),
    ({"prefix_hit_fraction": -0.1}, "prefix hit fraction must be within [0, 1], got -0.1"),
    ({"requests": -3}, "a simulation needs at least 1 request, got -3"),
])
def test_bad_arguments_have_exact_messages(kwargs, message):
    with pytest.raises(InputError) as e:
        simulate(toy(), Burst(), Fixed(1, 1), **kwargs)
    assert str(e.value) == message


def test_arguments_at_their_bounds_run():
    assert simulate(toy(), Burst(), Fixed(1, 1), requests=1).ttft.n == 1
    assert simulate(toy(), Burst(), Fixed(1, 1), requests=3, warmup=2).ttft.n == 1
    # A request of exactly the pool (90 + 10 = 100 tokens) fits; a pool of 1 token per request too.
    assert simulate(toy(kv_pool_tokens=100), Burst(), Fixed(90, 10), requests=1).times.end[0] == 10 * TAU
    with pytest.raises(InputError, match=r"^a request of 1,001 tokens \(input \+ output\) exceeds the KV pool of "
                                         r"1,000 tokens"):
        simulate(toy(kv_pool_tokens=1000), Burst(), Fixed(1000, 1), requests=1)


def test_a_deployment_checks_the_model_context_and_its_engine_s_prefix_cache():
    dep = make_deployment("llama-3.1-8b", "h100-sxm", "fp8")
    with pytest.raises(InputError) as e:
        simulate(dep, Burst(), Fixed(131_000, 73), requests=1)
    assert str(e.value) == "a request of 131,073 tokens exceeds llama-3.1-8b's context of 131,072 tokens"
    at_limit = simulate(dep, Burst(), Fixed(131_000, 72), requests=1)  # exactly the context: runs
    assert at_limit.times.end[0] > 0 and at_limit.replica == dep.describe()
    # tuned caches prefixes: half of 100 tokens is a hit; an engine that does not cache ignores it.
    assert simulate(dep, Burst(), Fixed(100, 2), requests=1, prefix_hit_fraction=0.5).times.cached.tolist() == [50]
    cold = make_deployment("llama-3.1-8b", "h100-sxm", "fp8",
                           engine=engine("tuned").model_copy(update={"prefix_caching": False}))
    assert simulate(cold, Burst(), Fixed(100, 2), requests=1, prefix_hit_fraction=0.5).times.cached.tolist() == [0]


def test_replica_of_a_deployment_takes_its_engine_profile_times_attention_dp():
    # Two attention-DP groups: twice the batch (max_batch_size, capped by the token budget, which
    # is the most sequences a step can hold), twice the budget and twice the pool, in tokens of a
    # sequence of the mean length.
    prof = engine("tuned").model_copy(update={
        "max_batch_size": 9000, "max_num_tokens": 4096, "kv_admission": "average", "scheduling": "prefill_first",
        "request_overhead_s": 0.007, "chunked_prefill": True})
    dep = make_deployment("gpt-oss-20b", "h100-sxm", "native", engine=prof, dp=2)
    r = Replica.of(dep, 1000.0, 200.0)
    per_token = dep.kv_bytes_per_gpu(1200.0) / 1200.0
    lim = r.limits
    assert (lim.max_batch, lim.token_budget) == (2 * 4096, 2 * 4096)
    assert lim.kv_pool_tokens == pytest.approx(2 * memory_plan(dep, 1000.0, 200.0).kv_pool_bytes / per_token,
                                               rel=1e-12)
    assert (lim.admission, lim.scheduling, lim.request_overhead_s, lim.chunked_prefill) == \
        ("average", "prefill_first", 0.007, True)
    assert r.label == dep.describe()
    small = engine("tuned").model_copy(update={"max_batch_size": 64, "max_num_tokens": 4096})
    dep1 = make_deployment("gpt-oss-20b", "h100-sxm", "native", engine=small)
    lim1 = Replica.of(dep1, 1000.0, 200.0).limits
    assert (lim1.max_batch, lim1.token_budget) == (64, 4096)
    assert lim1.kv_pool_tokens == pytest.approx(
        memory_plan(dep1, 1000.0, 200.0).kv_pool_bytes / (dep1.kv_bytes_per_gpu(1200.0) / 1200.0), rel=1e-12)
