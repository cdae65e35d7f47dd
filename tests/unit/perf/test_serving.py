"""Continuous batching in steady state (perf.serving) against hand arithmetic.

Every expected value is worked out below from the round numbers of ``tests/hand.py`` (2-layer
model, GPUs where one resource alone costs time, every engine term set by the test). The
formulas checked are the module's contract: at C live sequences a step decodes C tokens at mean
context ISL + OSL/2 and prefills C·ISL/OSL prompt tokens; TTFT = request overhead + half a step
+ the chunked prefill; E2E = TTFT + (OSL − 1) steps; an offered rate is met at C = λ·E2E(C)."""

import math

import pytest

from tests import hand as h
from truecost.errors import InputError
from truecost.perf.roofline import step_time
from truecost.perf.serving import estimate, operating_point

REL = 1e-9  # float rounding only: every expected value is exact arithmetic

# ---- overhead-only GPU: a step costs exactly step_overhead_s = 1 ms ---------------------------
T = 0.001  # step_overhead_s
R = 0.01  # request_overhead_s


def test_fast_gpu_step_is_the_fixed_overhead():
    s = step_time(h.deployment(h.FAST), decode_seqs=64, decode_context=1000, prefill_tokens=500,
                  prefill_attended=125_250, prefill_seqs=1)
    assert s.total_s == pytest.approx(T, rel=1e-12)


def test_ttft_is_overhead_plus_half_a_step_plus_the_prefill_steps():
    # C = 4, ISL 1000, OSL 200, token budget 8192: the prompt fits one chunk beside 3 decoders.
    op = operating_point(h.deployment(h.FAST, max_num_tokens=8192), 4, 1000, 200)
    assert op.tpot_s == pytest.approx(T, rel=REL)
    assert op.ttft_s == pytest.approx(R + 0.5 * T + 1 * T, rel=REL)  # 11.5 ms
    # E2E: the first token comes with TTFT, the other OSL − 1 = 199 one step each.
    assert op.e2e_s == pytest.approx(R + 0.5 * T + T + 199 * T, rel=REL)  # 210.5 ms
    assert op.output_tokens_per_s == pytest.approx(4 / T, rel=REL)  # 4,000 tokens/s
    assert op.requests_per_s == pytest.approx(4 / (200 * T), rel=REL)  # 20 requests/s


def test_prefill_is_chunked_by_the_token_budget_left_beside_the_decoders():
    # budget 512 tokens per step, 100 live sequences: 99 decode, 413 left for the prompt;
    # ceil(1000 / 413) = 3 chunks, 3 steps.
    op = operating_point(h.deployment(h.FAST, max_num_tokens=512), 100, 1000, 200)
    assert math.ceil(1000 / (512 - 99)) == 3
    assert op.ttft_s == pytest.approx(R + 0.5 * T + 3 * T, rel=REL)
    # a budget smaller than the decoders still leaves one token per step: 1000 steps
    op = operating_point(h.deployment(h.FAST, max_num_tokens=512), 600, 1000, 200)
    assert op.ttft_s == pytest.approx(R + 0.5 * T + 1000 * T, rel=REL)


def test_an_offered_rate_is_met_where_littles_law_holds():
    # With a constant 1 ms step, E2E does not depend on C: 10 + 0.5 + 1 + 199 = 210.5 ms.
    # λ = 100 requests/s ⇒ C = λ·E2E = 21.05 live sequences; served: 100 req/s, 20,000 tokens/s.
    e = estimate(h.MODEL, h.FAST, isl=1000, osl=200, rate=100.0, engine=h.engine(max_num_tokens=8192))
    assert e.concurrency == pytest.approx(100 * 0.2105, rel=1e-6)  # bisection to 2^-60 of C_max
    assert e.e2e_s == pytest.approx(0.2105, rel=1e-6)
    assert e.ttft_s == pytest.approx(0.0115, rel=1e-6)
    assert e.requests_per_s == 100.0 and e.output_tokens_per_s == 100.0 * 200


def test_a_rate_above_capacity_saturates_at_max_concurrency():
    # max_batch_size 64 binds (the KV pool holds far more): capacity = 64 / (200 · 1 ms) = 320 req/s.
    eng = h.engine(max_batch_size=64, max_num_tokens=8192)
    e = estimate(h.MODEL, h.FAST, isl=1000, osl=200, rate=400.0, engine=eng)
    assert e.ttft_s is None and e.e2e_s is None
    assert e.concurrency == 64
    assert e.requests_per_s == pytest.approx(320.0, rel=REL)
    assert e.output_tokens_per_s == pytest.approx(64 / T, rel=REL)
    assert e.notes[0] == ("saturated: offered 400 req/s exceeds capacity 320 req/s; the queue grows "
                          "without bound, so steady-state TTFT/E2E are undefined")  # then the simulation's
    # just below capacity the rate is served
    below = estimate(h.MODEL, h.FAST, isl=1000, osl=200, rate=300.0, engine=eng)
    assert below.requests_per_s == 300.0 and below.concurrency == pytest.approx(300 * 0.2105, rel=1e-6)


# ---- memory-bound GPU: every op costs bytes / 1e12 s -----------------------------------------
BW = 1e12  # 2 TB/s × η_m 0.5


def test_steady_step_reads_weights_and_the_kv_at_mean_context_isl_plus_half_osl():
    # C = 16, ISL 1000, OSL 200: mean live context 1000 + 200/2 = 1,100 tokens; 16/200 = 0.08
    # sequences finish per step, so 0.08 × 1000 = 80 prompt tokens are prefilled in it.
    op = operating_point(h.deployment(h.MEMORY_BOUND), 16, 1000, 200)
    ops = op.step.ops
    assert ops["attention_decode"].bytes == pytest.approx(16 * 2048 * 1100, rel=REL)  # 36,044,800
    assert ops["attention_prefill"].bytes == pytest.approx(80 * 2048, rel=REL)  # KV written once
    assert ops["linear"].bytes == pytest.approx(h.DENSE_BYTES_BF16, rel=REL)  # 60,817,408
    assert ops["lm_head"].bytes == pytest.approx(h.LM_HEAD_BYTES, rel=REL)  # 2,097,152
    step = T + (60_817_408 + 2_097_152 + 36_044_800 + 163_840) / BW  # 1.0991232 ms
    assert op.tpot_s == pytest.approx(step, rel=REL)
    assert step == pytest.approx(1.0991232e-3, rel=1e-12)
    assert op.output_tokens_per_s == pytest.approx(16 / step, rel=REL)
    assert op.requests_per_s == pytest.approx(16 / (200 * step), rel=REL)


def test_ttft_and_e2e_memory_bound_by_hand():
    # Same point. Prefill: budget 512 − 15 decoders = 497 tokens ⇒ ceil(1000/497) = 3 chunks of
    # 333.3 tokens; each chunk step streams the weights, the LM head, the 15 others' KV at 1,100
    # tokens, and writes 333.3 tokens of KV.
    op = operating_point(h.deployment(h.MEMORY_BOUND), 16, 1000, 200)
    step = T + (60_817_408 + 2_097_152 + 16 * 2048 * 1100 + 80 * 2048) / BW
    chunk_step = T + (60_817_408 + 2_097_152 + 15 * 2048 * 1100 + 1000 / 3 * 2048) / BW
    assert op.ttft_s == pytest.approx(R + 0.5 * step + 3 * chunk_step, rel=REL)
    assert op.e2e_s == pytest.approx(R + 0.5 * step + 3 * chunk_step + 199 * step, rel=REL)


def test_estimate_prefill_alone_and_the_prefill_time_share():
    e = estimate(h.MODEL, h.MEMORY_BOUND, isl=1000, osl=200, concurrency=16, engine=h.engine())
    # prefill of one 1000-token prompt alone: weights + LM head + 1000 tokens of KV written
    assert e.prefill_s == pytest.approx(T + (60_817_408 + 2_097_152 + 1000 * 2048) / BW, rel=REL)
    # The step's 96 tokens (16 decode + 80 prompt) share the linear layers, whose time here is
    # their weight bytes; prompt tokens own 80/96 of it plus all of the prefill attention.
    step = T + (60_817_408 + 2_097_152 + 16 * 2048 * 1100 + 80 * 2048) / BW
    share = (80 / 96 * 60_817_408 / BW + 80 * 2048 / BW) / step
    assert e.prefill_time_share == pytest.approx(share, rel=REL)  # 0.0463
    assert e.decode_step_s == pytest.approx(step, rel=REL)
    assert e.binding == "overhead"  # 1 ms fixed vs 0.099 ms of memory traffic


def test_bounds_are_overlap_and_no_overlap_of_compute_and_memory():
    # A balanced GPU: 5e14 FLOP/s matmul, 1e12 bytes/s. One decode step of 4,096 sequences at
    # context 1: linear 2·4096·30,408,704 FLOPs (0.498 ms) vs 60,817,408 bytes (0.061 ms) is
    # compute-bound; decode attention 4096 × 2,048 KV bytes (8.4 µs) vs 33.6 MFLOPs is memory-bound.
    dep = h.deployment(h.gpu(bf16_tflops=1000.0, memory_tb_s=2.0))
    s = step_time(dep, 4096, 1)
    compute = sum(op.compute_s for op in s.ops.values())
    memory = sum(op.memory_s for op in s.ops.values())
    assert s.ops["linear"].compute_s == pytest.approx(2 * 4096 * 30_408_704 / 5e14, rel=REL)
    assert s.ops["attention_decode"].memory_s == pytest.approx(4096 * 2048 / 1e12, rel=REL)
    assert s.ops["attention_decode"].compute_s == pytest.approx(4096 * 2 * 1 * 4096 / 2.5e14, rel=REL)
    assert s.ops["linear"].memory_s == pytest.approx(60_817_408 / 1e12, rel=REL)
    assert s.lower_s == pytest.approx(max(compute, memory) + T, rel=REL)
    assert s.upper_s == pytest.approx(compute + memory + T, rel=REL)
    assert s.lower_s < s.total_s < s.upper_s
    e = estimate(h.MODEL, dep.gpu, isl=100, osl=100, concurrency=8, engine=dep.engine)
    assert e.output_tokens_per_s_lower == pytest.approx(8 / e.decode_step_s_upper, rel=REL)
    assert e.output_tokens_per_s_upper == pytest.approx(8 / e.decode_step_s_lower, rel=REL)


# ---- memory plan → max throughput ------------------------------------------------------------
GIB = 2**30


def test_max_throughput_runs_as_many_sequences_as_the_kv_pool_admits():
    # pool = 0.5 × (64 GiB − 65,021,952 bytes of weights − 4 GiB reserve) = 32,179,743,744 bytes
    # max_length admission: one sequence holds (1000 + 200) × 2,048 = 2,457,600 bytes ⇒ 13,093
    pool = 0.5 * (64 * GIB - 65_021_952 - 4 * GIB)
    assert pool == 32_179_743_744
    e = estimate(h.MODEL, h.FAST, isl=1000, osl=200, engine=h.engine(max_batch_size=100_000))
    assert e.kv_pool_bytes_per_gpu == pool
    assert e.max_concurrency == 32_179_743_744 // 2_457_600 == 13_093
    assert e.binding == "kv_capacity" and e.mode == "max_throughput"
    assert e.output_tokens_per_s == pytest.approx(13_093 / T, rel=REL)
    # "average" admission packs by the mean live context 1000 + 100: 2,252,800 bytes ⇒ 14,284
    avg = estimate(h.MODEL, h.FAST, isl=1000, osl=200, engine=h.engine(kv_admission="average",
                                                                             max_batch_size=100_000))
    assert avg.max_concurrency == 32_179_743_744 // 2_252_800 == 14_284


def test_concurrency_above_what_fits_is_capped_with_a_note():
    e = estimate(h.MODEL, h.FAST, isl=1000, osl=200, concurrency=100, engine=h.engine(max_batch_size=50))
    assert e.concurrency == 50
    assert e.notes[0] == ("concurrency 100 exceeds the 50 sequences that fit (max_batch_size); "
                          "in the steady state the rest wait, in the simulation they queue")
    assert e.output_tokens_per_s == pytest.approx(50 / T, rel=REL)


def test_batch_and_context_price_one_step_and_one_prefill():
    # batch 4 of context 2048 on the memory-bound GPU: decode reads 4 × 2048 tokens of KV;
    # prefill of 4 prompts of 2048 writes 4 × 2048 tokens of KV.
    e = estimate(h.MODEL, h.MEMORY_BOUND, batch=4, context=2048, engine=h.engine())
    assert e.mode == "batch"
    assert e.decode_step_s == pytest.approx(T + (60_817_408 + 2_097_152 + 4 * 2048 * 2048) / BW, rel=REL)
    assert e.prefill_s == pytest.approx(T + (60_817_408 + 2_097_152 + 4 * 2048 * 2048) / BW, rel=REL)
    # on the compute-bound GPU the prefill pays the causal pairs: 4 × 2048·2049/2 per layer
    c = estimate(h.MODEL, h.COMPUTE_BOUND, batch=4, context=2048, engine=h.engine())
    linear = 2 * 8192 * 30_408_704 / 5e14
    lm_head = 2 * 4 * 1024 * 1024 / 5e14  # logits for each prompt's last token only
    attention = 4 * 2048 * 2049 / 2 * 2 * 4096 / 2.5e14
    assert c.prefill_s == pytest.approx(T + linear + lm_head + attention, rel=REL)


@pytest.mark.parametrize("kwargs, message", [
    ({"isl": 0}, "--isl must be at least 1 token, got 0"),
    ({"concurrency": 4, "rate": 1.0}, "give at most one of --concurrency and --rate"),
    ({"batch": 4}, "--batch and --context go together: one decode step of B sequences of L tokens"),
    ({"tp": 3}, "--tp must be a power of two (1, 2, 4, 8), got 3"),
    ({"precision": "fp6"}, "unknown precision 'fp6'; choose one of bf16, fp16, fp8, int8, int4, mxfp4, nvfp4, native"),
    ({"isl": 130000, "osl": 2000}, "isl+osl = 132000 exceeds llama-3.1-8b's context of 131072 tokens"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(InputError) as e:
        estimate("llama-3.1-8b", "h100-sxm", **kwargs)
    assert str(e.value) == message


def test_every_field_of_an_estimate_by_hand():
    e = estimate(h.MODEL, h.MEMORY_BOUND, isl=1000, osl=200, concurrency=16, engine=h.engine())
    step = T + (60_817_408 + 2_097_152 + 16 * 2048 * 1100 + 80 * 2048) / BW
    assert (e.model, e.gpu, e.gpus, e.precision, e.engine, e.isl, e.osl, e.mode) == (
        "hand-2l", "hand-memory", 1, "w:bf16 kv:bf16 mm:bf16", "hand-engine", 1000, 200, "concurrency")
    assert (e.weights_bytes, e.weights_bytes_per_gpu, e.kv_bytes_per_token) == (65_021_952, 65_021_952, 2048)
    assert e.kv_pool_bytes_per_gpu == 32_179_743_744 and e.max_concurrency == 4096  # max_batch_size binds
    assert e.concurrency == 16 and e.notes == []
    assert e.tpot_s == pytest.approx(step, rel=REL) and e.requests_per_s == pytest.approx(16 / (200 * step), rel=REL)
    assert e.breakdown_s == pytest.approx({"linear": 60_817_408 / BW, "lm_head": 2_097_152 / BW,
                                           "attention_decode": 16 * 2048 * 1100 / BW,
                                           "attention_prefill": 80 * 2048 / BW,
                                           "collectives": 0.0, "step_overhead": T}, rel=REL)
    assert str(e.provenance) == ("modelled:roofline+continuous batching; engine 'hand-engine' (uncalibrated "
                                 "engine defaults); gpu hand-made for tests@2026-01-01; model hand-made for "
                                 "tests@2026-01-01")
    d = e.to_dict()
    assert d["provenance"] == str(e.provenance) and d["tpot_s"] == e.tpot_s
    fitted = estimate(h.MODEL, h.MEMORY_BOUND, isl=1000, osl=200, concurrency=16,
                      engine=h.engine(calibration="fitted from 3 runs on 2026-01-02"))
    assert "engine 'hand-engine' (fitted from 3 runs on 2026-01-02)" in str(fitted.provenance)


@pytest.mark.parametrize("kwargs, message", [
    ({"concurrency": 0}, "--concurrency must be at least 1, got 0"),
    ({"rate": 0.0}, "--rate must be > 0 requests/s, got 0.0"),
    ({"batch": 0, "context": 10}, "--batch and --context must be at least 1"),
    ({"batch": 2, "context": 0}, "--batch and --context must be at least 1"),
    ({"osl": 0}, "--osl must be at least 1 token, got 0"),
])
def test_bad_operating_points(kwargs, message):
    with pytest.raises(InputError) as e:
        estimate(h.MODEL, h.FAST, engine=h.engine(), **kwargs)
    assert str(e.value) == message


def test_one_token_prompts_and_replies_are_valid():
    e = estimate(h.MODEL, h.FAST, isl=1, osl=1, concurrency=1, engine=h.engine())
    assert e.e2e_s == pytest.approx(e.ttft_s, rel=REL)  # OSL − 1 = 0 further steps
    assert e.ttft_s == pytest.approx(R + 0.5 * T + T, rel=REL)


def test_light_and_exactly_full_loads():
    eng = h.engine(max_batch_size=64, max_num_tokens=8192)
    # 1 req/s: fewer than one sequence in flight on average, C = 1 × 0.2105 s
    light = estimate(h.MODEL, h.FAST, isl=1000, osl=200, rate=1.0, engine=eng)
    assert light.concurrency == pytest.approx(0.2105, rel=1e-6)
    # offered exactly what 64 sequences sustain: served, not saturated
    full = operating_point(h.deployment(h.FAST, max_batch_size=64, max_num_tokens=8192), 64, 1000, 200)
    rate = 64 / full.e2e_s
    assert rate * full.e2e_s == 64  # exact in floating point for these numbers
    e = estimate(h.MODEL, h.FAST, isl=1000, osl=200, rate=rate, engine=eng)
    assert e.notes == [] and e.ttft_s is not None and e.requests_per_s == rate


def test_defaults_are_a_1000_token_prompt_and_reply_at_max_throughput():
    e = estimate(h.MODEL, h.FAST, engine=h.engine())
    assert (e.isl, e.osl, e.mode, e.engine) == (1000, 1000, "max_throughput", "hand-engine")
    assert estimate("llama-3.1-8b", "h100-sxm").engine == "tuned"


def test_prefill_share_counts_prompt_tokens_in_experts_and_all_reduces():
    # MoE on TP 2: the prompt tokens' share of the token-parallel ops (linear, experts, TP
    # all-reduce) plus all of the prefill attention, over the step
    e = estimate(h.MOE_MODEL, h.MEMORY_BOUND, tp=2, isl=1000, osl=200, concurrency=16, engine=h.engine())
    b = e.breakdown_s
    assert {"linear", "experts", "collectives", "attention_prefill"} <= set(b)
    frac = 80 / (16 + 80)  # 16 decode tokens, 16/200 × 1000 = 80 prompt tokens
    share = (frac * (b["linear"] + b["experts"] + b["collectives"]) + b["attention_prefill"]) / e.decode_step_s
    assert e.prefill_time_share == pytest.approx(share, rel=1e-12)


# ---- --batch/--context: the KV pool and what fits, by hand ---------------------------------------
# Hand GPU: 64 GiB = 68,719,476,736 bytes; weights 65,021,952 bytes; reserve 4 GiB =
# 4,294,967,296 bytes; KV fraction 0.5 → pool (68,719,476,736 − 65,021,952 − 4,294,967,296) × 0.5
# = 32,179,743,744 bytes. A 1,000-token sequence holds 2,048,000 bytes of KV: 15,712 fit
# (32,179,743,744 / 2,048,000 = 15,712.8).
POOL = (68_719_476_736 - 65_021_952 - 4_294_967_296) * 0.5


def test_batch_estimate_reports_the_kv_pool_and_its_deployment():
    e = estimate(h.MODEL, h.MEMORY_BOUND, batch=15_712, context=1000, engine=h.engine())
    assert e.kv_pool_bytes_per_gpu == POOL == 32_179_743_744
    assert (e.model, e.gpu, e.gpus, e.precision, e.engine, e.context) == (
        "hand-2l", "hand-memory", 1, "w:bf16 kv:bf16 mm:bf16", "hand-engine", 1000)
    assert (e.isl, e.osl, e.max_concurrency, e.concurrency) == (None, None, None, 15_712.0)
    assert (e.weights_bytes, e.weights_bytes_per_gpu, e.kv_bytes_per_token) == (65_021_952, 65_021_952, 2048)
    assert (e.ttft_s, e.tpot_s, e.e2e_s, e.requests_per_s, e.prefill_time_share) == (None,) * 5
    assert e.notes == [] and e.cached_input_fraction == 0.0
    assert e.output_tokens_per_s == pytest.approx(15_712 / e.decode_step_s, rel=REL)
    # $2/GPU-hour over its output tokens/s, per 1M tokens
    assert e.usd_per_mtok_output == pytest.approx(2.0 / 3600 / e.output_tokens_per_s * 1e6, rel=REL)


def test_batch_beyond_the_pool_says_what_fits():
    with pytest.raises(Exception) as e:
        estimate(h.MODEL, h.MEMORY_BOUND, batch=15_713, context=1000, engine=h.engine())
    # 15,713 × 2,048,000 = 32,180,224,000 bytes > the pool's 32,179,743,744
    assert type(e.value).__name__ == "DoesNotFitError"
    assert str(e.value) == ("15,713 sequences of 1,000 tokens do not fit on 1x hand-memory: their KV cache needs "
                            "32.2 GB per GPU, the KV pool has 32.2 GB (15,712 such sequences fit); lower --batch "
                            "or --context")
    with pytest.raises(Exception) as e:
        estimate(h.MODEL, h.MEMORY_BOUND, batch=40_000, context=1000, engine=h.engine())
    assert "their KV cache needs 81.9 GB per GPU, the KV pool has 32.2 GB (15,712 such" in str(e.value)


@pytest.mark.parametrize("batch, context, message", [
    (0, 10, "--batch and --context must be at least 1"),
    (10, 0, "--batch and --context must be at least 1"),
    (1, 1_000_001, "--context 1,000,001 exceeds hand-2l's context of 1,000,000 tokens"),
])
def test_batch_and_context_bounds(batch, context, message):
    with pytest.raises(InputError) as e:
        estimate(h.MODEL, h.MEMORY_BOUND, batch=batch, context=context, engine=h.engine())
    assert str(e.value) == message


def test_one_sequence_of_one_token_and_the_full_context_are_priced():
    one = estimate(h.MODEL, h.MEMORY_BOUND, batch=1, context=1, engine=h.engine())
    assert one.decode_step_s == pytest.approx(T + (60_817_408 + 2_097_152 + 2048) / BW, rel=REL)
    full = estimate(h.MODEL, h.MEMORY_BOUND, batch=1, context=1_000_000, engine=h.engine())
    assert full.context == 1_000_000


# ---- prefix-cache hits at an offered rate, one request alone, to_dict ----------------------------

def test_an_offered_rate_with_prefix_hits_meets_littles_law_on_the_uncached_prompt():
    """FAST GPU, 2,048-token prompts, half of each found in the prefix cache, OSL 100, 2,500
    req/s. At C > 512 live sequences the token budget beside the decoders is max(512 − (C − 1), 1)
    = 1 token, so the 1,024 uncached tokens take 1,024 steps: TTFT = 10 + 0.5 + 1,024 = 1,034.5 ms,
    E2E = 1,034.5 + 99 = 1,133.5 ms, C = 2,500 × 1.1335 = 2,833.75 (> 512: consistent). The
    capacity at the 4,096 sequences that fit is 4,096 / 1.1335 = 3,614 req/s: 2,500 is served.
    Without the hits (2,048 steps), capacity would be 4,096 / 2.1575 = 1,898 req/s."""
    e = estimate(h.MODEL, h.FAST, isl=2048, osl=100, rate=2500.0, cached_input_fraction=0.5,
                 engine=h.engine(prefix_caching=True), requests=20)
    assert e.max_concurrency == 4096
    assert not any(n.startswith("saturated") for n in e.notes)
    assert e.ttft_s == pytest.approx(1.0345, rel=1e-6)
    assert e.e2e_s == pytest.approx(1.1335, rel=1e-6)
    assert e.concurrency == pytest.approx(2833.75, rel=1e-6)


def test_one_request_alone_by_hand():
    """single_request on FAST: TTFT = 10 ms + one 1 ms step per 512-token chunk of the uncached
    prompt; each of the OSL − 1 decode steps 1 ms. 2,048 tokens with 1,024 cached → 2 chunks:
    TTFT 12 ms, E2E 12 + 9 = 21 ms at OSL 10. OSL 2: one decode step, TPOT 1 ms."""
    from truecost.perf.serving import single_request

    dep = h.deployment(h.FAST)
    one = single_request(dep, 2048, 10, cached=1024)
    assert (one.ttft_s, one.tpot_s, one.e2e_s) == (pytest.approx(0.012, rel=REL), pytest.approx(T, rel=REL),
                                                   pytest.approx(0.021, rel=REL))
    two = single_request(dep, 2048, 2)
    assert (two.ttft_s, two.tpot_s, two.e2e_s) == (pytest.approx(0.014, rel=REL), pytest.approx(T, rel=REL),
                                                   pytest.approx(0.015, rel=REL))


def test_a_one_token_prompt_alone_on_the_compute_bound_gpu():
    """One prompt token: 1 ms + linear 2 × 30,408,704 FLOPs + LM head 2 × 1024 × 1024 at 5e14 FLOP/s
    + attention 1 pair × 2 layers × 4,096 FLOPs at 2.5e14, after the 10 ms request overhead."""
    from truecost.perf.serving import single_request

    one = single_request(h.deployment(h.COMPUTE_BOUND), 1, 1)
    want = R + T + (2 * 30_408_704 + 2 * 1024 * 1024) / 5e14 + 2 * 4096 / 2.5e14
    assert one.ttft_s == pytest.approx(want, rel=REL)
    assert one.tpot_s is None and one.e2e_s == one.ttft_s


def test_to_dict_is_plain_data_with_the_simulation_summary():
    import json

    e = estimate(h.MODEL, h.FAST, isl=100, osl=10, concurrency=2, engine=h.engine(), requests=20)
    d = e.to_dict()
    from dataclasses import fields

    from truecost.perf.serving import Estimate

    assert set(d) == {f.name for f in fields(Estimate)}  # one key per field, no other
    assert d["breakdown_s"] == e.breakdown_s and type(d["breakdown_s"]) is dict
    assert d["notes"] == list(e.notes) and type(d["notes"]) is list
    assert d["simulation"] == e.simulation.summary()
    assert d["provenance"] == str(e.provenance)
    json.dumps(d)  # plain data
    assert estimate(h.MODEL, h.FAST, isl=100, osl=10, engine=h.engine()).to_dict()["simulation"] is None


def test_batch_estimate_every_other_field():
    """Batch 10 of context 1,000 on MEMORY_BOUND: the step is 1 ms + (60,817,408 linear +
    2,097,152 LM head + 10 × 1,000 × 2,048 KV) bytes / 1e12 = 1.08339456 ms; compute is free, so
    the overlap (lower) and no-overlap (upper) bounds are the same step; the 1 ms overhead binds."""
    e = estimate(h.MODEL, h.MEMORY_BOUND, batch=10, context=1000, engine=h.engine())
    step = T + (60_817_408 + 2_097_152 + 10 * 1000 * 2048) / BW
    assert (e.decode_step_s, e.decode_step_s_lower, e.decode_step_s_upper) == pytest.approx((step,) * 3, rel=REL)
    assert (e.output_tokens_per_s_lower, e.output_tokens_per_s_upper) == pytest.approx((10 / step,) * 2, rel=REL)
    assert e.binding == "overhead"
    assert e.breakdown_s == pytest.approx({"linear": 60_817_408 / BW, "lm_head": 2_097_152 / BW,
                                           "attention_decode": 10 * 1000 * 2048 / BW, "collectives": 0.0,
                                           "step_overhead": T}, rel=REL)
    assert e.usd_per_gpu_hour == 2.0 and e.notes == []
    assert str(e.provenance).startswith("modelled:roofline+continuous batching; engine 'hand-engine'")
    assert e.power_w is not None and e.idle_power_w == pytest.approx(150.0)  # 1 kW × 0.15
    assert e.energy_j_per_output_token == pytest.approx(e.power_w / e.output_tokens_per_s, rel=REL)


def test_a_batch_that_fills_the_pool_exactly_fits():
    """A reserve of 4 GiB + 2,048 bytes leaves (68,719,476,736 − 65,021,952 − 4,294,969,344) × 0.5
    = 32,179,742,720 bytes = 15,712,765 one-token sequences of 2,048 bytes, exactly."""
    e = estimate(h.MODEL, h.MEMORY_BOUND, batch=15_712_765, context=1,
                 engine=h.engine(runtime_reserve_gib=4 + 2**-19))
    assert e.kv_pool_bytes_per_gpu == 32_179_742_720 == 15_712_765 * 2048


def test_attention_dp_splits_the_batch_and_counts_what_fits_per_group():
    """MoE with attention DP 2: each group holds ceil(B / 2) sequences; what fits is twice one
    group's pool over one sequence's KV."""
    kw = dict(tp=1, dp=2, ep=2, context=1000, engine=h.engine())
    pool = estimate(h.MOE_MODEL, h.MEMORY_BOUND, batch=2, **kw).kv_pool_bytes_per_gpu
    per_group = int(pool // 2_048_000)
    assert estimate(h.MOE_MODEL, h.MEMORY_BOUND, batch=2 * per_group, **kw).concurrency == 2 * per_group
    with pytest.raises(Exception) as e:
        estimate(h.MOE_MODEL, h.MEMORY_BOUND, batch=2 * per_group + 1, **kw)
    assert f"({2 * per_group:,} such sequences fit)" in str(e.value)
    assert "on 2x hand-memory tp1 dp2 ep2:" in str(e.value)


def test_a_replica_slower_than_a_token_a_second_is_still_priced():
    """A GPU of 1e-6 TFLOP/s: one token of 32.5M parameters takes minutes; $2/h over it."""
    slow = h.gpu("hand-slow", bf16_tflops=1e-6, memory_tb_s=h.UNBOUNDED_TB_S)
    e = estimate(h.MODEL, slow, batch=1, context=1, engine=h.engine())
    assert e.output_tokens_per_s < 1
    assert e.usd_per_mtok_output == pytest.approx(2.0 / 3600 / e.output_tokens_per_s * 1e6, rel=REL)
    unpriced = h.gpu("hand-unpriced", usd_per_gpu_hour=None)
    assert estimate(h.MODEL, unpriced, batch=1, context=1, engine=h.engine()).usd_per_mtok_output is None


@pytest.mark.parametrize("kwargs, message", [
    ({"batch": 4, "context": 100, "concurrency": 2}, "--batch/--context price one step; they exclude --concurrency "
                                                     "and --rate"),
    ({"batch": 4, "context": 100, "rate": 1.0}, "--batch/--context price one step; they exclude --concurrency and "
                                                "--rate"),
    ({"concurrency": 2, "requests": 0}, "--requests must be at least 1, got 0"),
    ({"cached_input_fraction": 1.5}, "--cached-input-fraction must be within [0, 1], got 1.5"),
    ({"isl": 999_001, "osl": 1000}, "isl+osl = 1000001 exceeds hand-2l's context of 1000000 tokens"),
])
def test_more_bad_input(kwargs, message):
    with pytest.raises(InputError) as e:
        estimate(h.MODEL, h.FAST, engine=h.engine(), **kwargs)
    assert str(e.value) == message


def test_the_edges_of_the_input_ranges_are_accepted():
    """One request, every prompt token cached, a prompt and reply that fill the context."""
    one = estimate(h.MODEL, h.FAST, isl=100, osl=10, concurrency=1, requests=1, engine=h.engine())
    assert one.simulation.requests == 1
    assert estimate(h.MODEL, h.FAST, isl=100, osl=10, cached_input_fraction=1.0, engine=h.engine()).ttft_s > 0
    assert estimate(h.MODEL, h.FAST, isl=999_000, osl=1000, engine=h.engine()).max_concurrency == 15
    # 32,179,743,744 / (2,048 × 1,000,000) = 15.7 sequences of the whole context


def test_the_simulation_runs_the_seed_warmup_hits_and_requests_asked():
    """Defaults: 1,000 requests (10 per client below 100 clients), seed 0, no warmup."""
    kw = dict(isl=2048, osl=10, engine=h.engine(prefix_caching=True))
    for load in ({"concurrency": 2}, {"rate": 5.0}):
        d = estimate(h.MODEL, h.FAST, **kw, **load).simulation
        assert (d.requests, d.seed, d.warmup) == (1000, 0, 0)
        s = estimate(h.MODEL, h.FAST, **kw, **load, requests=30, seed=5, warmup=4).simulation
        assert (s.requests, s.seed, s.warmup) == (30, 5, 4)
        cold = estimate(h.MODEL, h.FAST, **kw, **load, requests=30).simulation
        warm = estimate(h.MODEL, h.FAST, **kw, **load, requests=30, cached_input_fraction=0.5).simulation
        assert warm.ttft.mean < cold.ttft.mean  # 1,024 tokens to prefill instead of 2,048


def test_prefix_hits_shorten_the_steady_state_ttft_at_every_load():
    """FAST, 2,048-token prompts half cached, OSL 100. Concurrency 2: the budget beside 1 decoder
    is 511 tokens, so 1,024 uncached tokens take ceil(1,024 / 511) = 3 steps: TTFT = 10 + 0.5 + 3
    = 13.5 ms. Max throughput: 4,096 sequences leave a 1-token budget: 1,024 steps, 1,034.5 ms."""
    kw = dict(isl=2048, osl=100, cached_input_fraction=0.5, engine=h.engine(prefix_caching=True))
    assert estimate(h.MODEL, h.FAST, concurrency=2, requests=20, **kw).ttft_s == pytest.approx(0.0135, rel=REL)
    top = estimate(h.MODEL, h.FAST, **kw)
    assert top.concurrency == 4096 and top.ttft_s == pytest.approx(1.0345, rel=REL)


def test_kv_dtype_and_the_parallel_layout_reach_the_deployment():
    assert estimate(h.MODEL, h.FAST, kv_dtype="fp8", engine=h.engine()).kv_bytes_per_token == 1024
    moe = estimate(h.MOE_MODEL, h.MEMORY_BOUND, tp=1, dp=2, ep=2, isl=100, osl=10, engine=h.engine())
    assert moe.layout == "2x hand-memory tp1 dp2 ep2" and moe.gpus == 2


def test_a_load_the_kv_pool_limits_reports_the_step_binding_below_it():
    """100,000-token prompts: 32,179,743,744 / (2,048 × 101,000) = 155 fit (KV-limited). At 2
    live sequences the step, not the KV pool, binds; at max throughput the pool does."""
    kw = dict(isl=100_000, osl=1000, engine=h.engine())
    two = estimate(h.MODEL, h.MEMORY_BOUND, concurrency=2, requests=4, **kw)
    assert two.max_concurrency == 155 and two.binding == "overhead"
    assert estimate(h.MODEL, h.MEMORY_BOUND, **kw).binding == "kv_capacity"


def test_concurrency_exactly_at_what_fits_takes_no_note():
    e = estimate(h.MODEL, h.FAST, isl=1000, osl=200, concurrency=50, requests=50,
                 engine=h.engine(max_batch_size=50))
    assert e.max_concurrency == 50 and not any(n.startswith("concurrency") for n in e.notes)


def test_prefill_alone_on_the_compute_bound_gpu_emits_one_prompts_logits():
    """ISL 1,000 with 400 cached: 600 new tokens: 1 ms + linear 2 × 600 × 30,408,704 + LM head
    2 × 1 × 1024 × 1024 FLOPs at 5e14 + attention over 600 × 400 + 600 × 601 / 2 pairs × 2 layers
    × 4,096 FLOPs at 2.5e14."""
    e = estimate(h.MODEL, h.COMPUTE_BOUND, isl=1000, osl=10, cached_input_fraction=0.4,
                 engine=h.engine(prefix_caching=True))
    pairs = 600 * 400 + 600 * 601 / 2
    want = T + (2 * 600 * 30_408_704 + 2 * 1024 * 1024) / 5e14 + pairs * 2 * 4096 / 2.5e14
    assert e.prefill_s == pytest.approx(want, rel=REL)


def test_steady_step_prefills_the_uncached_tokens_of_the_finishing_requests_on_compute():
    """COMPUTE_BOUND, C = 10, ISL 1,000 with 400 cached, OSL 100: per step 10 decode tokens at
    mean context 1,050, and 10 / 100 = 0.1 requests replaced, each prefilling 600 new tokens that
    attend 600 × 400 + 600 × 601 / 2 = 420,300 pairs, with 0.1 prompts' logits. FLOPs: linear
    2 × 30,408,704 × (10 + 60); LM head 2 × 1024 × 1024 × 10.1 at 5e14; attention
    (10 × 1,050 + 0.1 × 420,300) × 2 layers × 4,096 at 2.5e14; + 1 ms."""
    op = operating_point(h.deployment(h.COMPUTE_BOUND, prefix_caching=True), 10, 1000, 100, cached=400)
    linear = 2 * 30_408_704 * 70 / 5e14
    lm_head = 2 * 1024 * 1024 * 10.1 / 5e14
    attention = (10 * 1050 + 0.1 * 420_300) * 2 * 4096 / 2.5e14
    assert op.step.total_s == pytest.approx(T + linear + lm_head + attention, rel=REL)


def test_one_live_sequence_has_the_whole_token_budget_for_its_prompt():
    """C = 1: no other sequence decodes beside the prompt, so a 512-token prompt is one 512-token
    chunk: TTFT = 10 + 0.5 + 1 ms on FAST (a budget of 511 would take two chunks)."""
    op = operating_point(h.deployment(h.FAST), 1, 512, 10)
    assert op.ttft_s == pytest.approx(R + 0.5 * T + T, rel=REL)


def test_ttft_prefills_the_uncached_tokens_after_the_cached_ones_on_compute():
    """COMPUTE_BOUND, C = 1, ISL 1,000 with 400 cached, a 1,024-token budget: one chunk of 600
    tokens attending 600 × 400 + 600 × 601 / 2 = 420,300 pairs, with its logits:
    TTFT − R − t_iter / 2 = 1 ms + (2 × 600 × 30,408,704 + 2 × 1024 × 1024) / 5e14
    + 420,300 × 2 × 4,096 / 2.5e14. With 999 of 1,000 cached: one token attending 1,000 pairs."""
    dep = h.deployment(h.COMPUTE_BOUND, prefix_caching=True, max_num_tokens=1024)
    op = operating_point(dep, 1, 1000, 100, cached=400)
    prefill = T + (2 * 600 * 30_408_704 + 2 * 1024 * 1024) / 5e14 + 420_300 * 2 * 4096 / 2.5e14
    assert op.ttft_s - R - 0.5 * op.step.total_s == pytest.approx(prefill, rel=REL)
    one = operating_point(dep, 1, 1000, 100, cached=999)
    prefill = T + (2 * 30_408_704 + 2 * 1024 * 1024) / 5e14 + 1000 * 2 * 4096 / 2.5e14
    assert one.ttft_s - R - 0.5 * one.step.total_s == pytest.approx(prefill, rel=REL)
    # its steady step: 1 decode token at context 1,050; 0.01 requests replaced, 1 token each
    # attending 1,000 pairs; logits for 1.01 rows
    step = T + (2 * 30_408_704 * 1.01 + 2 * 1024 * 1024 * 1.01) / 5e14 + (1050 + 0.01 * 1000) * 2 * 4096 / 2.5e14
    assert one.step.total_s == pytest.approx(step, rel=REL)


def test_an_estimate_reports_the_catalog_rent_it_priced():
    e = estimate(h.MODEL, h.FAST, isl=100, osl=10, engine=h.engine())
    assert e.usd_per_gpu_hour == 2.0
    assert e.usd_per_mtok_output == pytest.approx(2.0 / 3600 / e.output_tokens_per_s * 1e6, rel=REL)


def test_a_saturating_rate_runs_at_the_max_throughput_point_prefix_hits_included():
    """Beyond capacity the steady-state figures are those of max throughput (C = what fits),
    with the same prefix-cache hits: on the compute-bound GPU the prefill of the 600 uncached
    tokens of 1,000, not of all 1,000, is in every step."""
    kw = dict(isl=1000, osl=100, cached_input_fraction=0.4, engine=h.engine(prefix_caching=True))
    over = estimate(h.MODEL, h.COMPUTE_BOUND, rate=1e9, requests=20, **kw)
    top = estimate(h.MODEL, h.COMPUTE_BOUND, **kw)
    assert over.notes[0].startswith("saturated: offered 1e+09 req/s exceeds capacity")
    assert (over.concurrency, over.decode_step_s, over.tpot_s) == (top.concurrency, top.decode_step_s, top.tpot_s)
    cold = estimate(h.MODEL, h.COMPUTE_BOUND, isl=1000, osl=100, engine=h.engine(prefix_caching=True))
    assert top.decode_step_s < cold.decode_step_s


def test_moe_steady_step_counts_experts_per_prefill_chunk_of_the_token_budget():
    """The steady step is roofline's step of C decoders at ISL + OSL/2 plus C/OSL prompts of ISL
    tokens (module docstring), prefill arriving in chunks of min(ISL, max_num_tokens) = 512
    tokens, which sets how many experts a prefill step touches (roofline, tested on its own)."""
    from truecost.perf.roofline import causal_pairs

    dep = h.deployment(h.COMPUTE_BOUND, model=h.MOE_MODEL)
    op = operating_point(dep, 10, 1000, 100)
    chunked = step_time(dep, 10, 1050, 0.1 * 1000, 0.1 * causal_pairs(1000), 0.1, prefill_chunk_tokens=512)
    whole = step_time(dep, 10, 1050, 0.1 * 1000, 0.1 * causal_pairs(1000), 0.1)
    assert op.step.total_s == pytest.approx(chunked.total_s, rel=REL)
    assert chunked.total_s != pytest.approx(whole.total_s, rel=1e-6)  # the chunk matters here
