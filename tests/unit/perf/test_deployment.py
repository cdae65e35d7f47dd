"""A replica's weights, KV shards and achievable peaks, by hand on tests/hand.py, and the
errors of a deployment that cannot exist or does not fit."""

from datetime import date

import numpy as np
import pytest

from tests import hand as h
from truecost.arch import MLA, ModelArch, MoE
from truecost.errors import DoesNotFitError, InputError
from truecost.hardware import GPU, Precision, PrecisionName
from truecost.perf.deployment import (DEPLOYMENT_NUMBERS, ENGINE_NUMBERS, GPU_NUMBERS, PRECISION_NUMBERS,
                                      Columns, Deployment, Deployments, layouts, make_deployment, matmul_flops)
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
    # the deployment's own 16-bit dtype follows: an MoE at mxfp4 runs attention and its dense
    # layers in fp16 there (it once said bf16, since supports("bf16") is true on a shared peak)
    mx = Deployment(h.MOE_MODEL, fp16_only, Precision.named("mxfp4", fp16_only), 1, h.engine())
    assert (mx.half_dtype, mx.dense_compute) == ("fp16", "fp16")
    assert Deployment(h.MOE_MODEL, both, Precision.named("mxfp4", both), 1, h.engine()).half_dtype == "bf16"


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


# ---- the rest of a Deployment by hand, and a Deployments batch against the Deployments it holds ----


def test_matmul_flops_is_one_multiply_add_per_term():
    assert matmul_flops(2, 3, 5) == 2 * 2 * 3 * 5


def test_shared_experts_and_dense_layers_count_outside_the_routed_experts():
    # 2 layers, the first dense (MLP 3·1024·4096 = 12,582,912), the second 8 routed experts of
    # 3,145,728 + 1 shared expert of 3,145,728 + a router of 1024·8 = 8,192.
    m = ModelArch(key="hand-moe-shared", **{**h.MODEL_FIELDS, "hf_id": "x/s"},
                  moe=MoE(experts=8, active_experts=2, d_ff_expert=1024, shared_experts=1, dense_layers=1))
    dep = h.deployment(h.FAST, model=m)
    assert dep.dense_params == 2 * 2_621_440 + 12_582_912 + 8_192 + 3_145_728
    assert dep.routed_expert_params == 8 * 3_145_728


@pytest.mark.parametrize("model, tp, dp, ep, message", [
    (h.MODEL, 1, 3, 1, "--dp must be a power of two (1, 2, 4, 8), got 3"),
    (h.MODEL, 1, 1, 0, "--ep must be 1 or the replica's 1 GPUs (tp x dp), got 0"),
    (h.MODEL, 2, 1, 2, "--ep 2: hand-2l has no experts; expert parallelism needs an MoE model"),
    (h.MOE_MODEL, 2, 1, 4, "--ep must be 1 or the replica's 2 GPUs (tp x dp), got 4"),
    (ModelArch(key="hand-moe6", **{**h.MODEL_FIELDS, "hf_id": "x/6"},
               moe=MoE(experts=6, active_experts=2, d_ff_expert=1024)), 4, 1, 4,
     "--ep 4 does not divide hand-moe6's 6 experts"),
])
def test_impossible_layouts(model, tp, dp, ep, message):
    with pytest.raises(InputError) as e:
        Deployment(model, h.FAST, h.bf16(h.FAST), tp, h.engine(), dp=dp, ep=ep)
    assert str(e.value) == message


def test_rates_are_computed_once(monkeypatch):
    # matmul, expert peak, dense peak and 16-bit peak: four peaks, each read once however often
    # the rates are asked for (a step time reads each several times)
    calls = []
    peak = GPU.peak_flops
    monkeypatch.setattr(GPU, "peak_flops", lambda self, dt: calls.append(dt) or peak(self, dt))
    dep = h.deployment(h.gpu())
    for _ in range(3):
        rates = (dep.matmul_flops_per_s, dep.expert_peak_flops_per_s, dep.dense_flops_per_s,
                 dep.dense_peak_flops_per_s, dep.half_peak_flops_per_s, dep.attention_flops_per_s)
        assert rates == (5e14, 1e15, 5e14, 1e15, 1e15, 2.5e14)
    assert len(calls) == 4


def test_dense_layers_run_at_the_precision_unless_only_the_experts_are_quantised():
    # fp8 matmuls at η = 0.4 (bf16 0.5): a dense fp8 model runs its linear layers at 2,000 × 0.4
    # TFLOP/s; gpt-oss-style mxfp4 quantises only the experts, which multiply at the fp8 rate on
    # a GPU with fp4 tensor cores, while attention, router and LM head stay bf16 (1,000 × 0.5).
    eng = h.engine(compute_efficiency={"bf16": 0.5, "fp8": 0.4, "int8": 0.5})
    g = h.gpu("hand-fp4", dense_tflops={"bf16": 1000.0, "fp8": 2000.0, "fp4": 4000.0})
    fp8 = Deployment(h.MODEL, g, Precision.named("fp8", g), 1, eng)
    assert (fp8.dense_compute, fp8.dense_flops_per_s, fp8.dense_peak_flops_per_s) == ("fp8", 8e14, 2e15)
    mx = Deployment(h.MOE_MODEL, g, Precision.named("mxfp4", g), 1, eng)
    assert (mx.dense_compute, mx.dense_flops_per_s, mx.dense_peak_flops_per_s) == ("bf16", 5e14, 1e15)
    assert (mx.matmul_flops_per_s, mx.expert_peak_flops_per_s) == (8e14, 2e15)
    assert mx.dense_weight_bytes == 2.0 and fp8.dense_weight_bytes == 1


def test_sixteen_bit_parts_need_sixteen_bit_tensor_cores():
    assert h.deployment(h.FAST).half_dtype == "bf16"
    # a GPU with only fp8 tensor cores has nothing to run attention on: the error names the dtype
    g = h.gpu("hand-fp8-only", dense_tflops={"fp8": 100.0})
    dep = Deployment(h.MODEL, g, Precision(weights="fp8", kv="fp8", compute="fp8"), 1, h.engine())
    with pytest.raises(InputError) as e:
        dep.attention_flops_per_s
    assert str(e.value) == "hand-fp8-only has no fp16 tensor cores; supported: fp8"


def test_layout_names_dp_and_ep_only_when_used():
    assert h.deployment(h.FAST, tp=2).layout == "2x hand-fast"
    moe = [Deployment(h.MOE_MODEL, h.FAST, h.bf16(h.FAST), tp, h.engine(), dp=dp, ep=ep).layout
           for tp, dp, ep in ((1, 2, 1), (1, 2, 2), (2, 1, 2), (2, 2, 4))]
    assert moe == ["2x hand-fast tp1 dp2", "2x hand-fast tp1 dp2 ep2", "2x hand-fast tp2 dp1 ep2",
                   "4x hand-fast tp2 dp2 ep4"]


def test_layouts_searched():
    # dense: every power-of-two TP dividing the 8 heads, no attention DP
    assert layouts(h.MODEL, h.FAST, 8) == [(1, 1, 1), (2, 1, 1), (4, 1, 1), (8, 1, 1)]
    # MoE on up to 4 GPUs: every tp × dp = N, each with ep 1 and ep N (8 experts divide by N)
    moe = layouts(h.MOE_MODEL, h.FAST, 4)
    assert moe == [(1, 1, 1), (1, 2, 1), (1, 2, 2), (2, 1, 1), (2, 1, 2),
                   (1, 4, 1), (1, 4, 4), (2, 2, 1), (2, 2, 4), (4, 1, 1), (4, 1, 4)]
    assert all(type(x) is int for t in moe for x in t)
    for tp, dp, ep in moe:  # each is a deployment that can exist
        Deployment(h.MOE_MODEL, h.FAST, h.bf16(h.FAST), tp, h.engine(), dp=dp, ep=ep)
    # 16 GPUs in a node, 16 heads: TP 16 too
    m16 = ModelArch(key="hand-16h", **{**h.MODEL_FIELDS, "hf_id": "x/16", "heads": 16})
    assert layouts(m16, h.gpu("hand-16", max_gpus_per_node=16), 32)[-1] == (16, 1, 1)


def test_make_deployment_from_names_and_objects():
    dep = make_deployment(h.MODEL, h.FAST)  # bf16, TP 1, the tuned engine
    assert (dep.precision, dep.tp, dep.engine.key) == (Precision.named("bf16", h.FAST), 1, "tuned")
    fp8 = make_deployment(h.MODEL, h.FAST, PrecisionName.fp8, kv_dtype="BF16")
    assert (fp8.precision.weights, fp8.precision.compute, fp8.precision.kv) == ("fp8", "fp8", "bf16")
    kv_choices = "fp32, bf16, fp16, fp8, int8, fp4, int4, nvfp4"  # no tf32 or mxfp4 KV cache
    for kv in ("tf32", "mxfp4"):
        with pytest.raises(InputError) as e:
            make_deployment(h.MODEL, h.FAST, kv_dtype=kv)
        assert str(e.value) == f"unknown KV-cache dtype '{kv}'; choose one of {kv_choices}"
    with pytest.raises(InputError) as e:
        make_deployment(h.MODEL, h.FAST, "fp3")
    assert str(e.value) == "unknown precision 'fp3'; choose one of bf16, fp16, fp8, int8, int4, mxfp4, nvfp4, native"


def _three_moe_deployments() -> list[Deployment]:
    g = h.gpu()
    return [Deployment(h.MOE_MODEL, g, Precision.named("fp8", g), 1, h.engine(max_batch_size=64)),
            Deployment(h.MOE_MODEL, h.MEMORY_BOUND, h.bf16(h.MEMORY_BOUND), 2, h.engine(), dp=2, ep=4),
            Deployment(h.MOE_MODEL, h.COMPUTE_BOUND, Precision.named("int4", h.COMPUTE_BOUND), 4,
                       h.engine(kv_admission="average"))]


def _assert_row(batch: Deployments, i: int, dep: Deployment) -> None:
    """Row i of ``batch`` is ``dep``, number by number, every number a float64 array."""
    assert batch.model is dep.model
    for part, names in (("gpu", GPU_NUMBERS), ("engine", ENGINE_NUMBERS), ("precision", PRECISION_NUMBERS)):
        cols = getattr(batch, part)
        assert set(vars(cols)) == set(names)
        for n in names:
            a, want = getattr(cols, n), getattr(getattr(dep, part), n)
            assert a[i] == want, (part, n)
            assert a.dtype == (np.float64 if isinstance(want, (int, float)) else a.dtype), (part, n)
    for n in ("tp", "dp", "ep", *DEPLOYMENT_NUMBERS):
        a = getattr(batch, n)
        assert a[i] == getattr(dep, n) and a.dtype == np.float64, n


def test_a_stack_holds_its_deployments_and_take_gives_them_back():
    deps = _three_moe_deployments()
    base = Deployments.stack(deps)
    assert len(base) == 3
    for i, d in enumerate(deps):
        _assert_row(base, i, d)
    picked = base.take(np.array([2, 0, 2]))
    for i, d in enumerate((deps[2], deps[0], deps[2])):
        _assert_row(picked, i, d)
    one = Deployments.stack(deps[1:2])
    _assert_row(one, 0, deps[1])


def test_take_sets_the_layout_and_max_batch_per_row():
    deps = _three_moe_deployments()
    rows = np.array([0, 1, 0])
    # rows 0 and 1 swap layouts (tp1 dp1 ep1 and tp2 dp2 ep4); the third keeps its own
    batch = Deployments.stack(deps).take(rows, tp=np.array([2, 1, 1]), dp=np.array([2, 1, 1]),
                                         ep=np.array([4, 1, 1]), max_batch_size=np.array([8, 16, 32]))
    relaid = [Deployment(h.MOE_MODEL, deps[0].gpu, deps[0].precision, 2, h.engine(max_batch_size=8), dp=2, ep=4),
              Deployment(h.MOE_MODEL, deps[1].gpu, deps[1].precision, 1, h.engine(max_batch_size=16)),
              Deployment(h.MOE_MODEL, deps[0].gpu, deps[0].precision, 1, h.engine(max_batch_size=32))]
    for i, d in enumerate(relaid):
        _assert_row(batch, i, d)
    # the split of the weights follows the new layout (the scalar path is checked by hand above)
    assert batch.weights_bytes_per_gpu.tolist() == [d.weights_bytes_per_gpu for d in relaid]
    assert batch.kv_shards.tolist() == [d.kv_shards for d in relaid]


def test_stack_needs_deployments_of_one_model():
    deps = _three_moe_deployments()
    for bad in ([], [deps[0], h.deployment(h.FAST)]):
        with pytest.raises(ValueError) as e:
            Deployments.stack(bad)
        assert str(e.value) == "Deployments.stack needs deployments of one model"
    twin = ModelArch(key="hand-moe", **{**h.MODEL_FIELDS, "hf_id": "test/hand-moe"},
                     moe=MoE(experts=8, active_experts=2, d_ff_expert=1024))
    assert twin == h.MOE_MODEL and twin is not h.MOE_MODEL  # equal, not the same object: one model
    assert len(Deployments.stack([deps[0], Deployment(twin, h.FAST, h.bf16(h.FAST), 1, h.engine())])) == 2


def test_columns_are_float64():
    cols = Columns.of([h.engine(max_batch_size=3), h.engine(max_batch_size=5)], ["max_batch_size"])
    assert cols.max_batch_size.dtype == np.float64 and cols.max_batch_size.tolist() == [3.0, 5.0]
