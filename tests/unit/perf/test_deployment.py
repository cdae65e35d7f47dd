"""A replica's weights, KV shards and achievable peaks, by hand on tests/hand.py, and the
errors of a deployment that cannot exist or does not fit."""

from datetime import date

import pytest

from tests import hand as h
from truecost.arch import MLA, ModelArch
from truecost.errors import DoesNotFitError, InputError
from truecost.hardware import Precision
from truecost.perf.deployment import Deployment
from truecost.perf.memory import memory_plan


def test_weights_by_precision():
    g = h.MEMORY_BOUND
    for name, per_weight in (("bf16", 2), ("fp8", 1), ("int8", 1), ("int4", 0.5)):
        dep = Deployment(h.MODEL, g, Precision.named(name, g), 2, h.engine())
        assert dep.dense_params == 30_408_704 and dep.routed_expert_params == 0
        assert dep.unquantised_params == 2 * 1_048_576 + 5_120  # embedding, LM head, norms at 16 bit
        assert dep.weights_bytes == 30_408_704 * per_weight + (2 * 1_048_576 + 5_120) * 2, name
        assert dep.weights_bytes_per_gpu == dep.weights_bytes / 2


def test_achievable_peaks():
    dep = h.deployment(h.gpu(bf16_tflops=1000.0, memory_tb_s=2.0))
    assert dep.matmul_flops_per_s == 1000e12 * 0.5
    assert dep.attention_flops_per_s == 1000e12 * 0.25
    assert dep.hbm_bytes_per_s == 2e12 * 0.5
    fp16_only = h.gpu("hand-fp16", dense_tflops={"fp16": 400.0})
    dep = Deployment(h.MODEL, fp16_only, Precision.named("fp16", fp16_only), 1, h.engine())
    assert dep.precision.compute == "fp16" and dep.attention_flops_per_s == 400e12 * 0.25
    assert dep.matmul_flops_per_s == 400e12 * 0.5
    fp8 = Deployment(h.MODEL, dep.gpu, Precision.named("fp8", dep.gpu), 1, h.engine())
    assert fp8.precision.weights == "fp8" and fp8.precision.compute != "fp8"  # weight-only fp8
    assert dep.describe() == "hand-2l on 1x hand-fp16 (w:fp16 kv:fp16 mm:fp16), engine hand-engine"


def test_a_gpu_without_bf16_runs_every_16_bit_part_in_fp16():
    # V100 and T4 have fp16 tensor cores and no bf16: a weight-only or 16-bit part of any recipe
    # is fp16 there, never bf16 (their peaks are shared, so only the label would show it).
    fp16_only = h.gpu("hand-fp16", dense_tflops={"fp16": 400.0, "int8": 800.0})
    got = {name: str(Precision.named(name, fp16_only)) for name in ("fp8", "int8", "int4", "mxfp4", "nvfp4")}
    assert got == {"fp8": "w:fp8 kv:fp16 mm:fp16", "int8": "w:int8 kv:fp16 mm:int8",
                   "int4": "w:int4 kv:fp16 mm:fp16", "mxfp4": "w:mxfp4 (experts) kv:fp16 mm:fp16",
                   "nvfp4": "w:nvfp4 kv:fp16 mm:fp16"}
    both = h.gpu("hand-both16")  # bf16 (and fp8) tensor cores: the 16-bit parts stay bf16
    assert str(Precision.named("int4", both)) == "w:int4 kv:bf16 mm:bf16"


def test_kv_shards_follow_kv_heads_and_mla_replicates():
    assert [h.deployment(h.FAST, tp=t).kv_shards for t in (1, 2, 4, 8)] == [1, 2, 2, 2]
    mla = ModelArch(key="m", **{**h.MODEL_FIELDS, "hf_id": "x/m"},
                    mla=MLA(q_lora_rank=None, kv_lora_rank=64, qk_nope_head_dim=32, qk_rope_head_dim=16,
                            v_head_dim=32))
    assert h.deployment(h.FAST, tp=8, model=mla).kv_shards == 1


@pytest.mark.parametrize("tp, gpu, message", [
    (3, h.FAST, "--tp must be a power of two (1, 2, 4, 8), got 3"),
    (0, h.FAST, "--tp must be a power of two (1, 2, 4, 8), got 0"),
    (4, h.gpu("hand-pair", max_gpus_per_node=2), "--tp 4 x --dp 1 = 4 GPUs exceeds the 2 hand-pair GPUs of "
                                                 "one node; a replica stays in a node"),
    (16, h.gpu("hand-16", max_gpus_per_node=16), "--tp 16 does not divide hand-2l's 8 attention heads"),
])
def test_impossible_deployments(tp, gpu, message):
    with pytest.raises(InputError) as e:
        h.deployment(gpu, tp=tp)
    assert str(e.value) == message


def test_what_would_fit_is_suggested():
    # 0.25 GiB GPU, 0.05 GiB reserve: bf16 weights (65 MB) + KV do not fit on one, fit on two
    small = h.gpu("hand-small", memory_gib=0.1)
    dep = h.deployment(small, runtime_reserve_gib=0.0, kv_memory_fraction=1.0)
    with pytest.raises(DoesNotFitError) as e:
        memory_plan(dep, 30_000, 10_000)  # 40,000 tokens × 2,048 = 81.9 MB of KV
    assert str(e.value).endswith("; fits with --tp 2 or --precision fp8")
    tiny = h.gpu("hand-tiny", memory_gib=0.01, max_gpus_per_node=1)
    with pytest.raises(DoesNotFitError) as e:
        memory_plan(h.deployment(tiny, runtime_reserve_gib=0.0), 1000, 1000)
    assert str(e.value).endswith("; no single node of this GPU holds it; use a larger GPU or a shorter context")


@pytest.mark.parametrize("fields, message", [
    ({"heads": 8, "kv_heads": 3}, "heads (8) must be a multiple of kv_heads (3)"),
    ({"global_every": 2}, "global_every = 2 needs sliding_window"),
])
def test_impossible_architectures(fields, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ModelArch(key="bad", **{**h.MODEL_FIELDS, **fields})


def test_moe_counts_by_hand():
    # hand-moe: 2 layers × 8 experts of 3 × 1024 × 1024, 2 active; router 1024 × 8 per layer
    p = h.MOE_MODEL.params
    assert p.experts_total == 2 * 8 * 3_145_728
    assert p.experts_active == 2 * 2 * 3_145_728
    assert p.router == 2 * 8_192 and p.mlp_dense == 0
    assert h.MOE_MODEL.params_active == p.total - 2 * 6 * 3_145_728
    assert h.MOE_MODEL.matmul_params_active == 2 * 2_621_440 + 2 * 2 * 3_145_728 + 2 * 8_192 + 1024 * 1024


# ---- "does not fit" says what would: hand-sized GPUs (0.1 GiB = 107,374,182.4 bytes, no reserve,
# all free memory to KV). Weights per GPU: bf16 65,021,952 / TP; fp8 34,613,248; int4 19,408,896.
# KV: 2,048 bytes a token (1,024 at fp8), split over at most 2 ranks (2 KV heads).
def _suggestion(isl: int, osl: int, *, tp: int = 1, max_gpus: int = 8, memory_gib: float = 0.1,
                precision: str = "bf16", kv: str | None = None) -> str:
    g = h.gpu("hand-s", memory_gib=memory_gib, max_gpus_per_node=max_gpus)
    dep = Deployment(h.MODEL, g, Precision.named(precision, g, kv=kv), tp,
                     h.engine(runtime_reserve_gib=0.0, kv_memory_fraction=1.0))
    with pytest.raises(DoesNotFitError) as e:
        memory_plan(dep, isl, osl)
    return str(e.value).split("; ", 1)[1]


def test_the_smallest_tp_that_fits_is_suggested():
    # 85,326 tokens = 174,747,648 bytes of KV, 87,373,824 per GPU from TP 2 on. TP 2 leaves
    # 74,863,206 bytes (some pool, not enough), TP 4 leaves 91,118,694: fits. fp8 on one GPU
    # leaves 72,760,934 for 87,373,824 (no); int4 87,965,286 for 174,747,648 (no).
    assert _suggestion(80_000, 5_326) == "fits with --tp 4"
    # 93,138 tokens: 95,373,312 per GPU; TP 4 leaves 91,118,694 (no), TP 8 99,246,438 (fits)
    assert _suggestion(90_000, 3_138) == "fits with --tp 8"
    assert _suggestion(90_000, 3_138, max_gpus=4) == \
        "no single node of this GPU holds it; use a larger GPU or a shorter context"
    # already on TP 2: TP 4 fits, and so does fp8 on TP 2 (17,306,624 of weights, 43,686,912 of KV)
    assert _suggestion(80_000, 5_326, tp=2) == "fits with --tp 4 or --precision fp8"
    # one GPU per node: fp8 leaves some pool, not enough; nothing fits
    assert _suggestion(80_000, 5_326, max_gpus=1) == \
        "no single node of this GPU holds it; use a larger GPU or a shorter context"


def test_a_narrower_precision_is_suggested_only_if_it_fits():
    # 25,000,000 bytes, 100 tokens: fp8 weights alone overflow it, int4 (16-bit KV) fits
    assert _suggestion(50, 50, max_gpus=1, memory_gib=25_000_000 / 2**30, precision="fp8") == \
        "fits with --precision int4"
    # fp8 weights with a bf16 KV cache (--kv-dtype bf16): 50,000 tokens need 102,400,000 bytes,
    # 72,760,934 are free. The same precision is not suggested again, though fp8 KV would fit.
    assert _suggestion(25_000, 25_000, max_gpus=1, precision="fp8", kv="bf16") == \
        "no single node of this GPU holds it; use a larger GPU or a shorter context"
