"""Per-layer overhead, attention DP / expert parallelism, the MoE expert term and fp4 precisions,
each against hand arithmetic (the numbers a reader can redo with a calculator)."""

import pytest

from truecost.errors import InputError
from truecost.perf.deployment import layouts, make_deployment
from truecost.perf.engine import engine
from truecost.perf.memory import memory_plan
from truecost.perf.roofline import causal_pairs, collectives_s, experts_touched, step_time

H100_LINK = 450e9  # NVLink 4, per GPU and direction (gpus.toml)
H100_HBM = 3.35e12


def _profile(**update):
    return engine("tuned").model_copy(update=update)


# ---- per-layer overhead --------------------------------------------------------------------

def test_overhead_is_fixed_plus_per_layer_and_not_summed_over_ranks():
    prof = _profile(step_overhead_fixed_s=0.001, step_overhead_per_layer_s=0.0002)
    s8 = step_time(make_deployment("llama-3.1-8b", "h100-sxm", "fp8", 1, prof), 4, 100)
    s70 = step_time(make_deployment("llama-3.1-70b", "h100-sxm", "fp8", 4, prof), 4, 100)
    assert s8.overhead_s == pytest.approx(0.001 + 32 * 0.0002)  # 7.4 ms
    assert s70.overhead_s == pytest.approx(0.001 + 80 * 0.0002)  # 17.0 ms
    # TP ranks run the same launches side by side: TP8 pays the same overhead as TP1.
    s8_tp8 = step_time(make_deployment("llama-3.1-8b", "h100-sxm", "fp8", 8, prof), 4, 100)
    assert s8_tp8.overhead_s == pytest.approx(0.0074)


def test_legacy_profile_with_one_overhead_loads_as_the_fixed_part(tmp_path):
    f = tmp_path / "old.toml"
    f.write_text('["old"]\nname = "old"\ncompute_efficiency = { bf16 = 0.6 }\nattention_compute_efficiency = 0.5\n'
                 'memory_efficiency = 0.8\nstep_overhead_s = 0.003\nallreduce_latency_s = 0.00002\n'
                 'link_efficiency = 0.8\nruntime_reserve_gib = 4.0\nkv_memory_fraction = 0.9\n'
                 'kv_admission = "average"\nmax_batch_size = 256\nmax_num_tokens = 8192\n'
                 'request_overhead_s = 0.01\nsource = "mine"\nretrieved = 2026-01-01\n')
    old = engine(str(f))
    assert (old.step_overhead_fixed_s, old.step_overhead_per_layer_s) == (0.003, 0.0)
    assert old.overhead_s(80) == 0.003


# ---- expert parallelism and attention DP ---------------------------------------------------

def test_alltoall_traffic_of_expert_parallelism():
    prof = _profile(alltoall_latency_s=20e-6, link_efficiency=0.8)
    dep = make_deployment("mixtral-8x7b", "h100-sxm", "fp8", 1, prof, dp=8, ep=8)
    T = 800
    # Each GPU dispatches its 100 tokens to k=2 experts, 7/8 of them on other GPUs, 16-bit D=4096:
    sent = 100 * 2 * 4096 * 2 * 7 / 8  # 1,433,600 bytes
    per_layer = 2 * (20e-6 + sent / (H100_LINK * 0.8))  # dispatch + combine
    assert collectives_s(dep, T) == pytest.approx(32 * per_layer)  # tp=1: no all-reduce


def test_attention_dp_without_ep_gathers_and_scatters_the_tokens():
    prof = _profile(allreduce_latency_s=6e-6, link_efficiency=0.8)
    dep = make_deployment("mixtral-8x7b", "h100-sxm", "fp8", 2, prof, dp=4)
    T = 800
    # Inside each TP pair: an all-reduce of the group's 200 tokens after attention (2(t-1)/t = 1).
    attn = 6e-6 + 1.0 * 200 * 4096 * 2 / (H100_LINK * 0.8)
    # Before/after the experts: all-gather + reduce-scatter of all 800 tokens over 8 GPUs (7/8 each).
    moe = 2 * (6e-6 + 7 / 8 * 800 * 4096 * 2 / (H100_LINK * 0.8))
    assert collectives_s(dep, T) == pytest.approx(32 * (attn + moe))


def test_weights_per_gpu_and_kv_capacity_with_dp_and_ep():
    dp8 = make_deployment("mixtral-8x7b", "h100-sxm", "fp8", 1, dp=8, ep=8)
    m = dp8.model
    experts = 32 * 8 * 3 * 4096 * 14336  # layers × experts × gated MLP (3·D·F)
    dense = m.params.attention + m.params.router  # no shared experts, no dense layers
    half = m.params.embedding + m.params.lm_head + m.params.norms
    # attention copied on every GPU (tp=1), experts spread over all 8, fp8 = 1 byte, 16-bit rest
    assert dp8.weights_bytes_per_gpu == pytest.approx(dense * 1 + half * 2 + experts * 1 / 8)
    tp8 = make_deployment("mixtral-8x7b", "h100-sxm", "fp8", 8)
    assert tp8.weights_bytes_per_gpu == pytest.approx((dense + half * 2 + experts) / 8)
    # Each DP group keeps its own sequences' KV: capacity is 8 groups × one GPU's pool.
    plan = memory_plan(dp8, 1000, 1000)
    assert plan.max_concurrency == 8 * min(int(plan.kv_pool_bytes // plan.kv_bytes_per_sequence),
                                           dp8.engine.max_batch_size)


def test_layout_errors_are_one_line():
    with pytest.raises(InputError, match=r"^--ep must be 1 or the replica's 8 GPUs \(tp x dp\), got 4$"):
        make_deployment("mixtral-8x7b", "h100-sxm", "fp8", 2, dp=4, ep=4)
    with pytest.raises(InputError, match="llama-3.1-8b has no experts"):
        make_deployment("llama-3.1-8b", "h100-sxm", "fp8", 1, dp=2, ep=2)
    with pytest.raises(InputError, match="exceeds the 8 h100-sxm GPUs of one node"):
        make_deployment("mixtral-8x7b", "h100-sxm", "fp8", 4, dp=4)


def test_layouts_searched_for_moe_and_dense():
    from truecost.catalog import gpu, model

    # Dense: TP only. MoE (8 experts, 32 heads) on up to 4 GPUs: every tp·dp = N with ep ∈ {1, N}.
    assert layouts(model("llama-3.1-8b"), gpu("h100-sxm"), 4) == [(1, 1, 1), (2, 1, 1), (4, 1, 1)]
    assert layouts(model("mixtral-8x7b"), gpu("h100-sxm"), 4) == [
        (1, 1, 1), (1, 2, 1), (1, 2, 2), (2, 1, 1), (2, 1, 2),
        (1, 4, 1), (1, 4, 4), (2, 2, 1), (2, 2, 4), (4, 1, 1), (4, 1, 4)]


# ---- the MoE expert term -------------------------------------------------------------------

def test_experts_touched_closed_form():
    assert experts_touched(8, 2, 1) == pytest.approx(2)  # one token: exactly its k experts
    assert experts_touched(8, 2, 2) == pytest.approx(8 * (1 - 0.75**2))  # 3.5
    assert experts_touched(256, 8, 10_000) == pytest.approx(256)


def test_expert_op_streams_touched_weights_then_computes_with_tile_losses():
    prof = _profile(moe_tile_tokens=64, memory_efficiency=0.85, compute_efficiency={"bf16": 0.7, "fp8": 0.5})
    dep = make_deployment("mixtral-8x7b", "h100-sxm", "fp8", 2, prof)
    pe = 3 * 4096 * 14336  # one expert
    op = step_time(dep, 4, 100).ops["experts"]
    touched = 8 * (1 - 0.75**4)  # 4 tokens, k=2 of 8
    assert op.bytes == pytest.approx(32 * touched * pe * 1 / 2)  # fp8, split over 2 GPUs
    assert op.memory_s == pytest.approx(op.bytes / (H100_HBM * 0.85))
    # Compute: 2·P_e·(T·k + touched·64) per layer over 2 GPUs at 0.5 of the 1978.9 TFLOP/s fp8 peak.
    assert op.compute_s == pytest.approx(32 * 2 * pe * (4 * 2 + touched * 64) / 2 / (1978.9e12 * 0.5))
    assert op.time_s == pytest.approx(op.memory_s + op.compute_s)  # no overlap at few tokens per expert
    # Past full coverage (every expert touched), the term keeps growing with the tokens.
    big, bigger = (step_time(dep, b, 100).ops["experts"] for b in (512, 2048))
    assert big.bytes == pytest.approx(bigger.bytes)
    assert bigger.compute_s - big.compute_s == pytest.approx(32 * 2 * pe * (1536 * 2) / 2 / (1978.9e12 * 0.5))


def test_steady_state_prefill_counts_in_whole_chunks_not_smeared():
    """4 prefill tokens per step, arriving as one 1000-token chunk in 0.4% of the steps, touch
    far fewer experts on average than 4 extra tokens in every step would."""
    dep = make_deployment("deepseek-v3", "h200", "fp8", 8)
    E, k = 256, 8
    chunked = step_time(dep, 4, 1000, 4, causal_pairs(4), 0.004, prefill_chunk_tokens=1000).ops["experts"]
    smeared = step_time(dep, 4, 1000, 4, causal_pairs(4), 0.004).ops["experts"]
    per_expert = 58 * dep.model.expert_params * 1 / 8  # 58 MoE layers, fp8, over 8 GPUs
    expected = 0.996 * experts_touched(E, k, 4) + 0.004 * experts_touched(E, k, 1004)
    assert chunked.bytes == pytest.approx(expected * per_expert)
    assert smeared.bytes == pytest.approx(experts_touched(E, k, 8) * per_expert)
    assert chunked.bytes < 0.6 * smeared.bytes


# ---- fp4 -----------------------------------------------------------------------------------

def test_mxfp4_is_4_25_bits_on_the_experts_of_gpt_oss():
    dep = make_deployment("gpt-oss-120b", "h100-sxm", "native")
    m = dep.model
    assert dep.precision.weights == "mxfp4" and dep.precision.experts_only
    experts = 36 * 128 * m.expert_params
    rest = m.params.total - experts
    assert dep.weights_bytes == pytest.approx(experts * 4.25 / 8 + rest * 2)  # 16-bit attention etc.
    assert 60e9 < dep.weights_bytes < 66e9  # the published checkpoint is ~65 GB (OpenAI model card)
    # H100 has no fp4 tensor cores: weight-only, 16-bit matmuls.
    assert dep.precision.compute == "bf16"
    # B200: MXFP4 weights x MXFP8 activations (TensorRT-LLM gpt-oss guide), at the fp8 rate.
    assert make_deployment("gpt-oss-120b", "b200", "mxfp4").precision.compute == "fp8"


def test_nvfp4_is_4_5_bits_and_uses_fp4_tensor_cores_where_they_exist():
    b200 = make_deployment("llama-3.1-70b", "b200", "nvfp4")
    p = b200.model.params
    linear = p.attention + p.mlp_dense
    assert b200.weights_bytes == pytest.approx(linear * 4.5 / 8 + (p.embedding + p.lm_head + p.norms) * 2)
    assert (b200.precision.compute, b200.precision.kv) == ("fp4", "fp8")
    assert b200.matmul_flops_per_s == pytest.approx(9000e12 * b200.engine.matmul_efficiency("fp4"))
    h100 = make_deployment("llama-3.1-70b", "h100-sxm", "nvfp4")
    assert (h100.precision.compute, h100.precision.kv) == ("bf16", "bf16")  # weight-only emulation
