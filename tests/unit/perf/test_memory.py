"""KV pool and admission (perf.memory) by hand: the hand-made model and GPU, and the vLLM profile
on Llama-3.1-8B / H100 with every catalog number written out."""

import pytest

from tests import hand as h
from truecost.errors import DoesNotFitError
from truecost.perf.engine import engine
from truecost.perf.memory import memory_plan
from truecost.perf.serving import estimate, make_deployment

GIB = 2**30


def test_kv_pool_and_max_length_admission_by_hand():
    # 64 GiB − 65,021,952 bytes of bf16 weights − 4 GiB reserve = 64,359,487,488; × 0.5 to KV
    plan = memory_plan(h.deployment(h.FAST, max_batch_size=100_000), 1000, 200)
    assert plan.weights_bytes == 65_021_952
    assert plan.reserve_bytes == 4 * GIB
    assert plan.kv_pool_bytes == 32_179_743_744
    assert plan.admission_context == 1200
    assert plan.kv_bytes_per_sequence == 1200 * 2048
    assert plan.kv_capacity_sequences == plan.max_concurrency == 13_093  # floor(pool / 2,457,600)
    assert plan.limited_by == "kv_capacity"


def test_max_batch_size_caps_what_the_pool_would_hold():
    plan = memory_plan(h.deployment(h.FAST, max_batch_size=256), 1000, 200)
    assert (plan.kv_capacity_sequences, plan.max_concurrency, plan.limited_by) == (13_093, 256, "max_batch_size")


def test_tp_splits_weights_and_kv_heads_until_they_run_out():
    # TP 4: weights a quarter each; 2 KV heads split over 2 ranks, replicated beyond.
    dep = h.deployment(h.FAST, tp=4, max_batch_size=100_000)
    plan = memory_plan(dep, 1000, 200)
    assert plan.weights_bytes == pytest.approx(65_021_952 / 4)
    assert plan.kv_bytes_per_sequence == pytest.approx(1200 * 2048 / 2)
    assert plan.kv_pool_bytes == pytest.approx(0.5 * (64 * GIB - 65_021_952 / 4 - 4 * GIB))


def test_vllm_profile_admits_by_mean_context():
    """The vLLM profile packs sequences by their mean live context ISL + OSL/2 (paged KV with
    preemption). Llama-3.1-8B on one H100 SXM at fp8, ISL = OSL = 1000, worked by hand:

    weights: matmul params 8,030,261,248 − 2 × 525,336,576 (embedding, LM head: 128,256 × 4,096)
             − 266,240 norms (32 × 2 × 4,096 + 4,096) = 6,979,321,856 at 1 byte, the rest at 2:
             6,979,321,856 + 2 × (1,050,673,152 + 266,240) = 9,081,200,640 bytes
    KV:      2 × 32 layers × 8 KV heads × 128 × 1 byte (fp8) = 65,536 bytes per token
    """
    # the memory terms of the vLLM profile (vLLM's gpu_memory_utilization 0.90, a 3 GiB runtime
    # reserve, max_num_seqs 1024), written here so the arithmetic below stays checkable
    e = engine("vllm").model_copy(update={"kv_memory_fraction": 0.90, "runtime_reserve_gib": 3.0,
                                          "max_batch_size": 1024})
    assert e.kv_admission == "average"
    dep = make_deployment("llama-3.1-8b", "h100-sxm", "fp8", 1, e)
    assert dep.gpu.memory_gib == 80  # catalog: H100 SXM 80 GB (80 GiB as nvidia-smi counts)
    assert dep.weights_bytes == 9_081_200_640
    # 0.9 × (85,899,345,920 − 9,081,200,640 − 3,221,225,472) = 66,237,227,827.2 bytes
    pool = 0.9 * (80 * GIB - 9_081_200_640 - 3 * GIB)
    per_seq = (1000 + 1000 / 2) * 65_536  # 98,304,000 bytes at the mean context of 1,500 tokens
    plan = memory_plan(dep, 1000, 1000)
    assert plan.kv_pool_bytes == pytest.approx(pool, rel=1e-12)
    assert plan.kv_bytes_per_sequence == per_seq
    assert plan.max_concurrency == 673  # max_length admission (2,000 tokens) would give 505
    est = estimate("llama-3.1-8b", "h100-sxm", precision="fp8", isl=1000, osl=1000, engine=e)
    assert (est.max_concurrency, est.concurrency) == (673, 673)
    # the shipped profile admits the same way
    assert engine("vllm").kv_admission == "average"


def test_does_not_fit_says_bytes_needed_and_what_fits():
    dep = make_deployment("llama-3.1-70b", "h100-sxm", "bf16")
    with pytest.raises(DoesNotFitError) as e:
        memory_plan(dep, 1000, 1000)
    assert str(e.value) == (
        "llama-3.1-70b at bf16 does not fit on 1x h100-sxm: needs 146.1 GB per GPU (weights 141.1 + "
        "runtime 4.3 + KV for one 2,000-token sequence 0.66), has 85.9 GB; fits with --tp 2 or --precision fp8")


def test_does_not_fit_by_hand():
    # A 1 GiB GPU: 1,073,741,824 − 65,021,952 weights − 4 GiB reserve < 0: nothing fits.
    tiny = h.gpu("hand-tiny", memory_gib=1)
    with pytest.raises(DoesNotFitError, match=r"needs 4\.4 GB per GPU \(weights 0\.1 \+ runtime 4\.3 \+ "
                                              r"KV for one 1,200-token sequence 0\.00\), has 1\.1 GB"):
        memory_plan(h.deployment(tiny), 1000, 200)


def test_capacity_equal_to_the_batch_cap_is_a_kv_limit():
    at = memory_plan(h.deployment(h.FAST, max_batch_size=13_093), 1000, 200)
    below = memory_plan(h.deployment(h.FAST, max_batch_size=13_092), 1000, 200)
    assert (at.max_concurrency, at.limited_by) == (13_093, "kv_capacity")
    assert (below.max_concurrency, below.limited_by) == (13_092, "max_batch_size")


def test_a_pool_exactly_one_sequence_big_holds_it():
    # free memory = weights + one 2-token sequence exactly (65,021,952 + 4,096 bytes; exact in binary)
    g = h.gpu("hand-exact", memory_gib=65_026_048 / 2**30)
    plan = memory_plan(h.deployment(g, runtime_reserve_gib=0.0, kv_memory_fraction=1.0), 1, 1)
    assert (plan.kv_pool_bytes, plan.kv_bytes_per_sequence, plan.max_concurrency) == (4096, 4096, 1)
    assert plan.gpu_bytes == 65_026_048
