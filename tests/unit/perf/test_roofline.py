"""Step time per op (perf.roofline) against hand arithmetic on the round-numbered inputs of
``tests/hand.py``: 5e14 matmul FLOP/s and 2.5e14 attention FLOP/s on COMPUTE_BOUND,
1e12 bytes/s on MEMORY_BOUND, a 1 ms fixed overhead, 2 layers, D = 1024, V = 1024."""

from datetime import date

import pytest

from tests import hand as h
from truecost.arch import MLA, ModelArch
from truecost.perf.deployment import matmul_flops
from truecost.perf.roofline import causal_pairs, collectives_s, experts_touched, step_time
from truecost.perf.serving import make_deployment

REL = 1e-9
T = 0.001
MM, ATT, BW = 5e14, 2.5e14, 1e12


def test_matmul_rule():
    assert matmul_flops(2, 3, 4) == 48  # one multiply and one add per term


def test_single_sequence_decode_is_weight_streaming():
    dep = make_deployment("llama-3.1-8b", "h100-sxm", "bf16")
    s = step_time(dep, decode_seqs=1, decode_context=1)
    e = dep.engine
    # batch 1: every weight (16-bit) is read once; compute is negligible next to it.
    expected = (dep.weights_bytes - dep.model.params.embedding * 2) / (3.35e12 * e.memory_efficiency)
    kv = dep.model.kv_bytes(1, 2) / (3.35e12 * e.memory_efficiency)
    assert s.total_s == pytest.approx(expected + kv + e.step_overhead_fixed_s + 32 * e.step_overhead_per_layer_s, rel=1e-3)
    assert s.binding == "memory"
    assert s.lower_s <= s.total_s <= s.upper_s


def test_causal_pairs_closed_form():
    assert causal_pairs(4) == 4 + 3 + 2 + 1  # token i sees i tokens (itself included)
    assert causal_pairs(3, cached_tokens=10) == 3 * 10 + 6


def test_compute_bound_decode_step_every_op_by_hand():
    # B = 64 sequences at context 1,000, no prefill.
    s = step_time(h.deployment(h.COMPUTE_BOUND), decode_seqs=64, decode_context=1000)
    assert s.ops["linear"].flops == 2 * 64 * 30_408_704
    assert s.ops["linear"].compute_s == pytest.approx(2 * 64 * 30_408_704 / MM, rel=REL)
    assert s.ops["lm_head"].flops == 2 * 64 * 1024 * 1024  # (B × D) @ (D × V)
    # attention: 64 sequences × 2 layers × 1,000 keys × 4,096 FLOPs per (query, key) per layer
    assert s.ops["attention_decode"].flops == 64 * 2 * 1000 * 4096
    assert s.ops["attention_decode"].compute_s == pytest.approx(64 * 2 * 1000 * 4096 / ATT, rel=REL)
    total = T + (2 * 64 * 30_408_704 + 2 * 64 * 1024 * 1024) / MM + 64 * 2 * 1000 * 4096 / ATT
    assert s.total_s == pytest.approx(total, rel=REL)
    assert s.binding == "overhead"  # 1 ms fixed vs 0.07 ms of FLOPs
    assert step_time(h.deployment(h.COMPUTE_BOUND, step_overhead_fixed_s=0.0), 64, 1000).binding == "compute"
    assert s.breakdown() == pytest.approx({**{k: op.time_s for k, op in s.ops.items()},
                                           "collectives": 0.0, "step_overhead": T})


def test_prefill_chunk_by_hand():
    # 100 prompt tokens after 300 cached ones, finishing one prompt (one row of logits).
    pairs = 100 * 300 + 100 * 101 / 2  # 35,050 (query, key) pairs
    s = step_time(h.deployment(h.COMPUTE_BOUND), 0, 0, prefill_tokens=100, prefill_attended=pairs,
                  prefill_seqs=1)
    assert "attention_decode" not in s.ops
    assert s.ops["attention_prefill"].flops == pytest.approx(35_050 * 2 * 4096, rel=REL)
    assert s.ops["lm_head"].flops == 2 * 1 * 1024 * 1024
    total = T + (2 * 100 * 30_408_704 + 2 * 1024 * 1024) / MM + 35_050 * 2 * 4096 / ATT
    assert s.total_s == pytest.approx(total, rel=REL)
    assert s.ops["attention_prefill"].bytes == pytest.approx(100 * 2048, rel=REL)  # KV written once


def test_memory_bound_single_sequence_streams_every_weight_once():
    s = step_time(h.deployment(h.MEMORY_BOUND), 1, 1)
    # every matmul weight (16-bit) + the LM head + one token of KV; the embedding is a lookup
    assert s.total_s == pytest.approx(T + (60_817_408 + 2_097_152 + 2048) / BW, rel=REL)
    assert s.binding == "overhead"
    slow = step_time(h.deployment(h.MEMORY_BOUND, step_overhead_fixed_s=0.0), 1, 1)
    assert slow.binding == "memory"


def test_fp8_weights_halve_the_linear_bytes_but_not_the_lm_head():
    from truecost.hardware import Precision
    from truecost.perf.deployment import Deployment

    g = h.MEMORY_BOUND
    dep = Deployment(h.MODEL, g, Precision.named("fp8", g), 1, h.engine())
    s = step_time(dep, 1, 1)
    assert s.ops["linear"].bytes == 30_408_704  # one byte per weight
    assert s.ops["lm_head"].bytes == 2_097_152  # kept in 16 bit
    assert s.ops["attention_decode"].bytes == 1024  # fp8 KV: one byte per element
    assert dep.weights_bytes == 30_408_704 + 2 * (2 * 1_048_576 + 5_120)


def test_tensor_parallel_shards_and_adds_two_ring_allreduces_per_layer():
    # TP 4 on COMPUTE_BOUND, 8 decode tokens: message = 8 × 1024 × 2 bytes = 16,384; a ring moves
    # 2·(4−1)/4 of it over links of 100 GB/s × 0.5; 2 all-reduces × 2 layers, 10 µs latency each.
    dep = h.deployment(h.COMPUTE_BOUND, tp=4)
    s = step_time(dep, 8, 100)
    per = 1e-5 + 2 * 3 / 4 * 16_384 / 5e10
    assert s.comm_s == pytest.approx(2 * 2 * per, rel=REL)
    assert s.ops["linear"].flops == pytest.approx(2 * 8 * 30_408_704 / 4, rel=REL)
    assert s.ops["linear"].bytes == pytest.approx(60_817_408 / 4, rel=REL)
    assert s.ops["lm_head"].bytes == pytest.approx(2_097_152 / 4, rel=REL)  # vocab-parallel
    # 2 KV heads over 4 ranks: split twice, then replicated
    assert dep.kv_shards == 2
    assert s.ops["attention_decode"].bytes == pytest.approx(8 * 2048 * 100 / 2, rel=REL)
    assert step_time(h.deployment(h.COMPUTE_BOUND, tp=1), 8, 100).comm_s == 0
    assert s.total_s == pytest.approx(sum(op.time_s for op in s.ops.values()) + s.comm_s + T, rel=REL)
    assert s.binding == "overhead"  # 1 ms fixed vs 42 µs of all-reduces
    no_fixed = step_time(h.deployment(h.COMPUTE_BOUND, tp=4, step_overhead_fixed_s=0.0), 8, 100)
    assert no_fixed.binding == "interconnect"  # 42 µs vs 0.24 µs of matmuls


def test_experts_touched_closed_form():
    assert experts_touched(8, 2, 1) == pytest.approx(2)  # one token touches exactly k experts
    assert experts_touched(8, 2, 2) == pytest.approx(8 * (1 - (6 / 8) ** 2))  # 3.5
    assert experts_touched(8, 2, 10_000) == pytest.approx(8)  # a big batch touches all of them
    assert experts_touched(256, 8, 0) == 0


def test_moe_step_reads_touched_experts_and_computes_active_ones():
    # hand-moe: 2 layers of 8 experts (3,145,728 params each), 2 active; router 1024 × 8 per layer.
    dep = h.deployment(h.MEMORY_BOUND, model=h.MOE_MODEL)
    one = step_time(dep, 1, 10)
    assert one.ops["experts"].bytes == pytest.approx(2 * 2 * 3_145_728 * 2, rel=REL)  # 2 layers, 2 experts
    assert one.ops["experts"].flops == pytest.approx(2 * 1 * 2 * 2 * 3_145_728, rel=REL)
    two = step_time(dep, 2, 10)  # two tokens touch 3.5 experts per layer on average
    assert two.ops["experts"].bytes == pytest.approx(2 * 3.5 * 3_145_728 * 2, rel=REL)
    # attention projections + router are the dense "linear" op
    assert one.ops["linear"].bytes == pytest.approx((2 * 2_621_440 + 2 * 8_192) * 2, rel=REL)


def test_mla_attention_works_on_the_latent():
    mla = ModelArch(key="hand-mla", name="x", hf_id="x/y", layers=2, d_model=1024, heads=8, kv_heads=8,
                    head_dim=128, d_ff=4096, vocab=1024, tied_embeddings=False, max_context=100_000,
                    source="test", retrieved=date(2026, 1, 1),
                    mla=MLA(q_lora_rank=None, kv_lora_rank=512, qk_nope_head_dim=128,
                            qk_rope_head_dim=64, v_head_dim=128))
    dep = h.deployment(h.COMPUTE_BOUND, model=mla)
    s = step_time(dep, 1, 100)
    # per (query, key) pair and layer: scores over r + rope = 576 dims, values over r = 512, 8 heads
    per_pair = 2 * 576 * 8 + 2 * 512 * 8
    assert s.ops["attention_decode"].flops == pytest.approx(1 * 2 * 100 * per_pair, rel=REL)
    # the latent cache (512 + 64 per token per layer) is replicated on every TP rank
    assert h.deployment(h.COMPUTE_BOUND, tp=2, model=mla).kv_bytes_per_gpu(100) == 100 * 576 * 2 * 2


def test_sliding_window_layers_attend_at_most_their_window():
    sw = ModelArch(key="hand-sw", **{**h.MODEL_FIELDS, "hf_id": "x/sw"}, sliding_window=128, global_every=2)
    s = step_time(h.deployment(h.COMPUTE_BOUND, model=sw), 1, 1000)
    # layer 1 windowed (128 keys), layer 2 global (1,000 keys)
    assert s.ops["attention_decode"].flops == pytest.approx((128 + 1000) * 4096, rel=REL)
    assert s.ops["attention_decode"].bytes == pytest.approx((128 + 1000) * 2 * 128 * 2 * 2, rel=REL)


def test_moe_with_dense_layers_and_a_shared_expert():
    # 2 layers: the first dense (MLP 4096), the second 8 routed experts of 1024 + 1 shared of 2048
    from truecost.arch import MoE

    m = ModelArch(key="hand-moe-shared", **{**h.MODEL_FIELDS, "hf_id": "x/ms"},
                  moe=MoE(experts=8, active_experts=2, d_ff_expert=1024, shared_experts=1, d_ff_shared=2048,
                          dense_layers=1))
    shared = 3 * 1024 * 2048
    assert m.shared_expert_params == shared
    assert m.params.mlp_dense == 3 * 1024 * 4096  # one dense layer
    assert m.params.experts_total == 8 * 3_145_728 + shared
    # The shared expert and the router run for every token: they are dense linear weights.
    #   attention 2 × 2,621,440 + dense MLP 12,582,912 + shared 6,291,456 + router 1024·8 = 24,125,440
    dep = h.deployment(h.gpu("hand-both"), model=m)  # 5e14 FLOP/s and 1e12 bytes/s achievable
    assert dep.dense_params == 24_125_440
    s = step_time(dep, 1, 10)
    assert s.ops["linear"].bytes == pytest.approx(24_125_440 * 2, rel=REL)
    # One token picks 2 of 8 routed experts in the one MoE layer: touched = 8·(1 − (6/8)^1) = 2.
    assert s.ops["experts"].flops == pytest.approx(2 * 2 * 3_145_728, rel=REL)  # 2·(T·k)·P_e
    assert s.ops["experts"].bytes == pytest.approx(2 * 3_145_728 * 2, rel=REL)  # touched · P_e · 2 B
    # The grouped GEMM pays m₀ = 4 tokens per touched expert: 2·(T·k + touched·m₀)·P_e FLOPs at
    # η_c, and it streams the weights then multiplies (no overlap): compute + memory.
    compute = 2 * (2 + 2 * 4) * 3_145_728 / MM
    memory = 2 * 3_145_728 * 2 / BW
    assert s.ops["experts"].compute_s == pytest.approx(compute, rel=REL)
    assert s.ops["experts"].time_s == pytest.approx(compute + memory, rel=REL)


def test_an_empty_step_costs_only_its_overhead_and_the_lm_head():
    s = step_time(h.deployment(h.COMPUTE_BOUND, tp=2), 0, 0)
    assert s.comm_s == 0 and "attention_decode" not in s.ops and "attention_prefill" not in s.ops
    assert s.ops["linear"].flops == 0
    assert s.compute_s + s.memory_s == pytest.approx(sum(op.time_s for op in s.ops.values()), rel=REL)


def test_attention_dp_groups_each_run_their_share_by_hand():
    # DP 2, TP 1: 64 decoding sequences at context 1,000 and a 100-token prompt chunk after 300
    # cached tokens (35,050 pairs, tests above) that finishes one prompt. Each group's GPU runs
    # half: (64 + 100) / 2 = 82 tokens through the linear layers, 32 sequences' decode attention,
    # 50 prompt tokens, and (64 + 1) / 2 rows of logits.
    from truecost.perf.deployment import Deployment

    dep = Deployment(h.MODEL, h.COMPUTE_BOUND, h.bf16(h.COMPUTE_BOUND), 1, h.engine(), dp=2)
    s = step_time(dep, 64, 1000, prefill_tokens=100, prefill_attended=35_050, prefill_seqs=1)
    assert s.ops["linear"].flops == pytest.approx(2 * 82 * 30_408_704, rel=REL)
    assert s.ops["lm_head"].flops == pytest.approx(2 * 32.5 * 1024 * 1024, rel=REL)
    assert s.ops["attention_decode"].flops == pytest.approx(32 * 2 * 1000 * 4096, rel=REL)
    assert s.ops["attention_decode"].bytes == pytest.approx(32 * 1000 * 2048, rel=REL)
    assert s.ops["attention_prefill"].flops == pytest.approx(35_050 / 2 * 2 * 4096, rel=REL)
    assert s.ops["attention_prefill"].bytes == pytest.approx(50 * 2048, rel=REL)


def test_tensor_parallel_splits_attention_and_the_lm_head_by_hand():
    # TP 2: each GPU has 4 of the 8 query heads and 1 of the 2 KV heads, and half the vocabulary.
    dep = h.deployment(h.COMPUTE_BOUND, tp=2)
    s = step_time(dep, 64, 1000, prefill_tokens=100, prefill_attended=35_050, prefill_seqs=1)
    assert s.ops["lm_head"].flops == pytest.approx(2 * 65 * 1024 * 1024 / 2, rel=REL)
    assert s.ops["attention_decode"].flops == pytest.approx(64 * 2 * 1000 * 4096 / 2, rel=REL)
    assert s.ops["attention_decode"].bytes == pytest.approx(64 * 1000 * 2048 / 2, rel=REL)
    assert s.ops["attention_prefill"].flops == pytest.approx(35_050 * 2 * 4096 / 2, rel=REL)
    assert s.ops["attention_prefill"].bytes == pytest.approx(100 * 2048 / 2, rel=REL)  # KV written once


# ---- the compute/memory split, peak FLOPs for power, and the collectives' guards, by hand ------
# (mutation survivors of 2026-11-26; h.gpu() is 1e15 bf16 FLOP/s peak and 2 TB/s: 5e14 FLOP/s and
# 1e12 bytes/s achievable, attention 2.5e14)

def test_an_op_at_the_ridge_point_counts_once_as_compute_bound():
    # 500 decode tokens: the linear layers do 2·500·30,408,704 FLOPs / 5e14 = 6.0817408e-5 s and
    # read 60,817,408 bytes / 1e12 = 6.0817408e-5 s, a tie; the LM head likewise
    # (2·500·1024·1024 / 5e14 = 2,097,152 / 1e12 = 2.097152e-6 s); decode attention at context 1
    # reads 500 × 2,048 bytes (1.024e-6 s) for 500·2·4,096 FLOPs (1.6384e-8 s): memory-bound.
    s = step_time(h.deployment(h.gpu("hand-both"), step_overhead_fixed_s=0.0), 500, 1)
    linear, head, attn = s.ops["linear"], s.ops["lm_head"], s.ops["attention_decode"]
    assert linear.compute_s == linear.memory_s == pytest.approx(6.0817408e-5, rel=REL)  # exact tie
    assert head.compute_s == head.memory_s == pytest.approx(2.097152e-6, rel=REL)
    assert s.compute_s == pytest.approx(6.0817408e-5 + 2.097152e-6, rel=REL)  # ties: compute
    assert s.memory_s == pytest.approx(1.024e-6, rel=REL)
    # FLOPs at the full dense bf16 peak (1e15), for the power model
    assert linear.peak_s == pytest.approx(2 * 500 * 30_408_704 / 1e15, rel=REL)
    assert head.peak_s == pytest.approx(2 * 500 * 1024 * 1024 / 1e15, rel=REL)
    assert attn.peak_s == pytest.approx(500 * 2 * 4096 / 1e15, rel=REL)


def test_expert_op_peak_time_and_chunks_larger_than_the_chunk_size():
    dep = h.deployment(h.MEMORY_BOUND, model=h.MOE_MODEL)
    # one token, k = 2 of 8 experts in each of 2 layers: 2·(1·2)·(2·3,145,728) FLOPs at 1e15
    both = h.deployment(h.gpu("hand-both"), model=h.MOE_MODEL)
    assert step_time(both, 1, 10).ops["experts"].peak_s == pytest.approx(2 * 2 * 2 * 3_145_728 / 1e15, rel=REL)
    # 8 prefill tokens in chunks of 4: every step carries a prefill (share min(1, 8/4) = 1) of
    # max(8, 4) = 8 tokens next to the 1 decode token: 9 tokens touch 8·(1 − (6/8)^9) experts
    s = step_time(dep, 1, 10, prefill_tokens=8, prefill_attended=36, prefill_chunk_tokens=4)
    touched = 8 * (1 - 0.75**9)  # 7.399
    assert s.ops["experts"].bytes == pytest.approx(touched * 2 * 3_145_728 * 2, rel=REL)


def test_prefill_pairs_default_to_none_the_kv_write_alone():
    s = step_time(h.deployment(h.COMPUTE_BOUND), 0, 0, prefill_tokens=100)
    assert s.ops["attention_prefill"].flops == 0
    assert s.ops["attention_prefill"].bytes == pytest.approx(100 * 2048, rel=REL)


def test_a_batch_leaves_out_an_op_no_row_has():
    import numpy as np

    from truecost.perf.deployment import Deployments

    dep = h.deployment(h.COMPUTE_BOUND)
    batch = Deployments.stack([dep, dep])
    assert "attention_decode" not in step_time(batch, np.array([0.0, 0.0]), 100).ops
    one = step_time(batch, np.array([1.0, 0.0]), 100).ops["attention_decode"]
    assert one.flops.tolist() == pytest.approx([1 * 2 * 100 * 4096, 0.0], rel=REL)


def test_allreduce_of_nothing_or_of_a_byte():
    # ring all-reduce over 2 GPUs: 10 µs + 2·(2−1)/2 · bytes / 5e10 bytes/s; nothing to send: 0
    import numpy as np

    from truecost.perf.roofline import _allreduce_s

    dep = h.deployment(h.COMPUTE_BOUND, tp=2)
    ring = [0.0, 1e-5 + 1 / 5e10, 1e-5 + 2048 / 5e10]
    assert _allreduce_s(dep, 0.0, 2) == 0.0
    assert _allreduce_s(dep, 1.0, 2) == pytest.approx(ring[1], rel=REL)
    msg = np.array([0.0, 1.0, 2048.0])
    assert _allreduce_s(dep, msg, np.array([2.0, 2.0, 2.0])).tolist() == pytest.approx(ring, rel=REL)
    assert _allreduce_s(dep, msg, 2).tolist() == pytest.approx(ring, rel=REL)  # ranks a number
    # one rank moves nothing; the message a number, the ranks an array
    assert _allreduce_s(dep, 2048.0, np.array([1.0, 2.0])).tolist() == pytest.approx([0.0, ring[2]], rel=REL)


def test_tp_collectives_of_fractional_and_array_token_counts():
    # TP 2, dense: 4 all-reduces per step (after attention and after the MLP, 2 layers) of
    # tokens·1024·2 bytes each. A step averaged over many may carry a fraction of a token.
    import numpy as np

    from truecost.perf.deployment import Deployments

    def ar(nbytes):
        return 1e-5 + 2 * (2 - 1) / 2 * nbytes / 5e10

    dep = h.deployment(h.COMPUTE_BOUND, tp=2)
    assert collectives_s(dep, 1 / 2048) == pytest.approx(4 * ar(1.0), rel=REL)  # a 1-byte message
    assert collectives_s(dep, 1) == pytest.approx(4 * ar(2048), rel=REL)
    got = collectives_s(dep, np.array([0.0, 1 / 4096, 8.0]))  # one deployment, many step sizes
    assert got.tolist() == pytest.approx([0.0, 4 * ar(0.5), 4 * ar(16_384)], rel=REL)
    # a batch of deployments (TP 1 and TP 2) at one step size: TP 1 has no collective
    batch = Deployments.stack([h.deployment(h.COMPUTE_BOUND), dep])
    assert collectives_s(batch, 8.0).tolist() == pytest.approx([0.0, 4 * ar(16_384)], rel=REL)


def test_moe_collectives_per_layout_by_hand():
    # hand-moe: 2 layers, both MoE (8 experts, k = 2), D = 1024, 16-bit activations; 8 tokens.
    from truecost.arch import MoE
    from truecost.perf.deployment import Deployment

    def dep(tp=1, dp=1, ep=1, model=h.MOE_MODEL):
        return Deployment(model, h.COMPUTE_BOUND, h.bf16(h.COMPUTE_BOUND), tp, h.engine(), dp=dp, ep=ep)

    # TP 2 (no DP, no EP): after attention an all-reduce of 8·1024·2 = 16,384 bytes; the experts
    # are tensor-parallel too: one more all-reduce per layer. 4 in all.
    ar = 1e-5 + 2 * (2 - 1) / 2 * 16_384 / 5e10
    assert collectives_s(dep(tp=2), 8) == pytest.approx(4 * ar, rel=REL)
    # DP 2 without EP: no TP all-reduce; all-gather + reduce-scatter of all 8 tokens over 2 GPUs
    # per MoE layer: 2·(10 µs + (1/2)·8·2048 / 5e10)
    gather = 2 * (1e-5 + 1 / 2 * 8 * 2048 / 5e10)
    assert collectives_s(dep(dp=2), 8) == pytest.approx(2 * gather, rel=REL)
    assert collectives_s(dep(dp=2), 0) == 0.0  # nothing to gather
    # DP 2 with EP 2 on a model whose first layer is dense: one MoE layer; each GPU sends its 4
    # tokens to k = 2 experts, half of them remote: 4·2·1024·2·(1/2) = 8,192 bytes, dispatch and
    # combine at the all-to-all's 20 µs latency.
    first_dense = ModelArch(key="hand-moe-1d", **{**h.MODEL_FIELDS, "hf_id": "x/m1d"},
                            moe=MoE(experts=8, active_experts=2, d_ff_expert=1024, dense_layers=1))
    alltoall = 2 * (2e-5 + 8_192 / 5e10)
    assert collectives_s(dep(dp=2, ep=2, model=first_dense), 8) == pytest.approx(alltoall, rel=REL)


def test_ep_collectives_of_an_empty_row_are_zero():
    # hand-moe on DP 2 / EP 2: per MoE layer (2) an all-to-all dispatch and combine,
    # 2·(20 µs + tokens/2·2·1024·2·(1/2) / 5e10); a row with no tokens sends nothing.
    import numpy as np

    from truecost.perf.deployment import Deployment

    dep = Deployment(h.MOE_MODEL, h.COMPUTE_BOUND, h.bf16(h.COMPUTE_BOUND), 1, h.engine(), dp=2, ep=2)

    def per_step(tokens):
        return 2 * 2 * (2e-5 + tokens * 1024 / 5e10)

    got = collectives_s(dep, np.array([0.0, 0.5, 8.0]))
    assert got.tolist() == pytest.approx([0.0, per_step(0.5), per_step(8.0)], rel=REL)
