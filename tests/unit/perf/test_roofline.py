"""Step-time model against hand-computed answers."""

import pytest

from truecost.perf.deployment import matmul_flops
from truecost.perf.roofline import experts_touched, step_time
from truecost.perf.serving import make_deployment


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


def test_large_batch_linear_layers_are_compute_bound():
    dep = make_deployment("llama-3.1-8b", "h100-sxm", "fp8")
    s = step_time(dep, decode_seqs=4096, decode_context=10)
    lin = s.ops["linear"]
    dense = dep.model.params.attention + dep.model.params.mlp_dense
    assert lin.flops == pytest.approx(2 * 4096 * dense)
    assert lin.compute_s == pytest.approx(lin.flops / (1978.9e12 * dep.engine.compute_efficiency["fp8"]))
    assert lin.compute_s > lin.memory_s


def test_tensor_parallel_adds_two_allreduces_per_layer():
    dep1 = make_deployment("llama-3.1-70b", "h100-sxm", "fp8", tp=1)
    dep4 = make_deployment("llama-3.1-70b", "h100-sxm", "fp8", tp=4)
    assert step_time(dep1, 8, 100).comm_s == 0
    e = dep4.engine
    msg = 8 * 8192 * 2
    per = e.allreduce_latency_s + 2 * 3 / 4 * msg / (450e9 * e.link_efficiency)
    assert step_time(dep4, 8, 100).comm_s == pytest.approx(2 * 80 * per)
    # The shard of weights each GPU reads is a quarter.
    assert step_time(dep4, 1, 1).ops["linear"].bytes == pytest.approx(step_time(dep1, 1, 1).ops["linear"].bytes / 4)


def test_experts_touched_limits():
    assert experts_touched(8, 2, 1) == pytest.approx(2)  # one token touches exactly k experts
    assert experts_touched(8, 2, 10_000) == pytest.approx(8)  # a big batch touches all of them
    assert experts_touched(256, 8, 0) == 0


def test_moe_decode_reads_only_touched_experts():
    dep = make_deployment("mixtral-8x7b", "h100-sxm", "bf16", tp=2)
    one = step_time(dep, 1, 100).ops["experts"]
    many = step_time(dep, 512, 100).ops["experts"]
    m = dep.model
    assert one.bytes == pytest.approx(32 * 2 * m.expert_params * 2 / 2)  # 32 layers, 2 experts, 2 B, TP2
    assert many.bytes == pytest.approx(32 * 8 * m.expert_params * 2 / 2, rel=1e-6)
    assert one.flops == pytest.approx(2 * m.params.experts_active / 2)
