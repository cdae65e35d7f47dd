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


# ---- what fits instead: suggest_fit on the hand model, by hand --------------------------------
# Weights per GPU of the hand model (32,510,976 parameters; tests/hand.py), split evenly by TP:
#   bf16: 2 bytes each = 65,021,952 -> TP 2: 32,510,976, TP 4: 16,255,488, TP 8: 8,127,744
#   int4: the 30,408,704 matmul weights (all but embedding, LM head: 2 x 1,048,576, and 5,120 norm
#         weights) at 0.5 byte + the other 2,102,272 at 2 bytes = 15,204,352 + 4,204,544 = 19,408,896
#   fp8:  30,408,704 + 4,204,544 = 34,613,248
# The KV of one 2-token sequence (ISL 1, OSL 1) is 4,096 bytes at most. With no reserve and the
# whole rest for KV, a configuration fits when its weights + KV <= the GPU's memory.
def _suggestion(memory_bytes: float, max_gpus_per_node: int = 8, dp: int = 1) -> str:
    from truecost.perf.deployment import Deployment

    g = h.gpu("hand-small", memory_gib=memory_bytes / GIB, max_gpus_per_node=max_gpus_per_node)
    dep = Deployment(h.MODEL, g, h.bf16(g), 1, h.engine(runtime_reserve_gib=0.0, kv_memory_fraction=1.0),
                     dp=dp)
    with pytest.raises(DoesNotFitError) as e:
        memory_plan(dep, 1, 1)
    return str(e.value).split("; ", 1)[1]


NOWHERE = "no single node of this GPU holds it; use a larger GPU or a shorter context"


@pytest.mark.parametrize(("memory_bytes", "max_gpus_per_node", "dp", "expected"), [
    # 20 MB: TP 4 (16.3 MB) is the smallest TP that fits; int4 (19.4 MB) fits at TP 1, fp8 (34.6 MB) not
    (20e6, 8, 1, "fits with --tp 4 or --precision int4"),
    # 10 MB: only TP 8 (8.1 MB) fits, and it fills the 8-GPU node exactly
    (10e6, 8, 1, "fits with --tp 8"),
    # the same on a 4-GPU node: TP 8 is not offered (a replica stays in one node)
    (10e6, 4, 1, NOWHERE),
    # two attention-DP groups: TP 8 would take 16 GPUs of an 8-GPU node; TP 4 (16.3 MB) does not fit
    (10e6, 8, 2, NOWHERE),
    # 5 MB: not even TP 8 at bf16, nor int4 at TP 1
    (5e6, 8, 1, NOWHERE),
])
def test_suggest_fit_by_hand(memory_bytes, max_gpus_per_node, dp, expected):
    assert _suggestion(memory_bytes, max_gpus_per_node, dp) == expected


def test_suggest_fit_starts_above_the_tp_given():
    # At TP 2 (32.5 MB > 20 MB) the next TP tried is 4, which fits; precisions are tried at the
    # TP given: fp8 at TP 2 is 34,613,248 / 2 = 17.3 MB, which fits.
    from truecost.perf.deployment import Deployment

    g = h.gpu("hand-small", memory_gib=20e6 / GIB)
    dep = Deployment(h.MODEL, g, h.bf16(g), 2, h.engine(runtime_reserve_gib=0.0, kv_memory_fraction=1.0))
    with pytest.raises(DoesNotFitError, match=r"; fits with --tp 4 or --precision fp8$"):
        memory_plan(dep, 1, 1)


def test_vllm_average_admission_context_is_isl_plus_half_osl():
    plan = memory_plan(h.deployment(h.FAST, kv_admission="average", max_batch_size=100_000), 1000, 200)
    assert plan.admission_context == 1000 + 200 / 2
    assert plan.kv_bytes_per_sequence == 1100 * 2048


def test_attention_dp_groups_each_hold_a_pool():
    # dp = 2: each group's GPUs hold the whole (TP 1) weights and their own pool of 13,093
    # sequences (test_kv_pool_and_max_length_admission_by_hand): twice that in all, and twice the
    # batch cap when that binds.
    from truecost.perf.deployment import Deployment

    dep = Deployment(h.MODEL, h.FAST, h.bf16(h.FAST), 1, h.engine(max_batch_size=100_000), dp=2)
    plan = memory_plan(dep, 1000, 200)
    assert (plan.kv_capacity_sequences, plan.max_concurrency) == (2 * 13_093, 2 * 13_093)
    capped = Deployment(h.MODEL, h.FAST, h.bf16(h.FAST), 1, h.engine(max_batch_size=256), dp=2)
    assert memory_plan(capped, 1000, 200).max_concurrency == 2 * 256


def test_a_batch_that_does_not_fit_has_an_empty_pool_not_an_error():
    from truecost.perf.deployment import Deployments
    from truecost.perf.memory import memory_plans

    # 1 GiB GPU: 1,073,741,824 − 65,021,952 − 4 GiB < 0 → pool 0, no sequence; the 64 GiB GPU:
    # 32,179,743,744 bytes of pool and 13,093 sequences (as above)
    tiny = h.gpu("hand-tiny", memory_gib=1)
    batch = Deployments.stack([h.deployment(tiny, max_batch_size=100_000),
                               h.deployment(h.FAST, max_batch_size=100_000)])
    plans = memory_plans(batch, 1000, 200)
    assert list(plans.kv_pool_bytes) == [0.0, 32_179_743_744]
    assert list(plans.max_concurrency) == [0, 13_093]


def _suggestion_for(dep) -> str:
    with pytest.raises(DoesNotFitError) as e:
        memory_plan(dep, 1, 1)
    return str(e.value).split("; ", 1)[1]


def test_suggest_fit_needs_room_for_a_sequence_not_just_a_pool():
    from truecost.perf.deployment import Deployment
    from truecost.hardware import Precision

    def at(memory_bytes: float, precision: str = "bf16", tp: int = 1) -> Deployment:
        g = h.gpu("hand-small", memory_gib=memory_bytes / GIB)
        return Deployment(h.MODEL, g, Precision.named(precision, g), tp,
                          h.engine(runtime_reserve_gib=0.0, kv_memory_fraction=1.0))

    # TP 2 leaves 1,000 bytes, less than one 2-token sequence's 2,048 bytes of KV per GPU: TP 4
    # is the offer; int4 (19.4 MB) fits at TP 1
    assert _suggestion_for(at(32_510_976 + 1_000)) == "fits with --tp 4 or --precision int4"
    # fp8 at TP 1 leaves 1,000 bytes, less than its 2,048 bytes of fp8 KV: int4 is the offer; TP 2 fits
    assert _suggestion_for(at(34_613_248 + 1_000)) == "fits with --tp 2 or --precision int4"
    # a deployment already at fp8 is offered a narrower precision (int4), not fp8 again; and TP 2
    # (34,613,248 / 2 = 17.3 MB) fits in 20 MB
    assert _suggestion_for(at(20e6, "fp8")) == "fits with --tp 2 or --precision int4"


def test_suggest_fit_keeps_expert_parallelism_across_the_dp_groups():
    # The hand MoE (tests/hand.py: 8 experts of 3,145,728 parameters in each of 2 layers), bf16,
    # TP 1 x DP 2 with EP over both GPUs. Per GPU: the non-expert weights (attention 5,242,880 +
    # router 16,384 + embedding, LM head, norms 2,102,272 = 7,361,536 parameters, 14,723,072
    # bytes) split by TP, the experts (50,331,648 parameters, 100,663,296 bytes) over TP x DP GPUs:
    #   TP 1: 14,723,072 + 50,331,648 = 65,054,720   TP 2: 7,361,536 + 25,165,824 = 32,527,360
    #   TP 4: 3,680,768 + 12,582,912 = 16,263,680    (TP 8 would need 16 GPUs)
    #   int4 at TP 1: (5,259,264 x 0.5 + 2,102,272 x 2) + 100,663,296 / 4 / 2
    #                 = 6,834,176 + 12,582,912 = 19,417,088; fp8: 9,463,808 + 25,165,824 = 34,629,632
    from truecost.perf.deployment import Deployment

    g = h.gpu("hand-small", memory_gib=20e6 / GIB)
    dep = Deployment(h.MOE_MODEL, g, h.bf16(g), 1, h.engine(runtime_reserve_gib=0.0, kv_memory_fraction=1.0),
                     dp=2, ep=2)
    assert _suggestion_for(dep) == "fits with --tp 4 or --precision int4"
