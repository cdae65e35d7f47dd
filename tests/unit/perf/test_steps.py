"""The tabulated step time against roofline.step_time itself, on random steps of every kind of
architecture the roofline models (dense GQA, MoE, MLA + MoE, sliding windows)."""

import random

import pytest

from truecost.perf.roofline import causal_pairs, step_time
from truecost.perf.serving import make_deployment
from truecost.perf.steps import StepTable

DEPLOYMENTS = [
    ("llama-3.1-8b", "h100-sxm", "fp8", 1),
    ("llama-3.1-70b", "h100-sxm", "bf16", 4),
    ("mixtral-8x7b", "h100-sxm", "fp8", 2),
    ("deepseek-v3", "h200", "fp8", 8),
    ("gpt-oss-120b", "h100-sxm", "fp8", 1),
    ("gemma-3-27b", "h100-sxm", "bf16", 1),
]


@pytest.mark.parametrize("model, gpu, precision, tp", DEPLOYMENTS)
def test_table_matches_step_time(model, gpu, precision, tp):
    # Linear interpolation between knots spaced 9-19% apart cuts a roofline kink (compute vs
    # memory bound) by a few % of one op: 3% of the whole step is the bound (measured worst 2.4%).
    dep = make_deployment(model, gpu, precision, tp)
    table = StepTable(dep)
    rng = random.Random(0)
    for _ in range(300):
        b = rng.choice([0, rng.randint(1, 40), rng.randint(1, 800)])
        p = rng.choice([0, rng.randint(1, 300), rng.randint(1, 8192)])
        b = 1 if b == 0 and p == 0 else b
        ctx = rng.uniform(1, 30000)
        cached = rng.choice([0, rng.randint(0, 20000)])
        attended = causal_pairs(p, cached) if p else 0.0
        want = step_time(dep, b, ctx, p, attended, 1 if p else 0).total_s
        assert table.step_s(b, ctx, p, attended) == pytest.approx(want, rel=0.03), (b, ctx, p, cached)


def test_decode_segment_sums_a_run_of_steps():
    # k decode steps from context L0 (one more token each step) = k·t0 + slope·k(k−1)/2 while the
    # run stays on one straight piece; compared with summing step_time step by step.
    dep = make_deployment("llama-3.1-8b", "h100-sxm", "fp8")
    table = StepTable(dep)
    b, l0, k = 48, 1500.0, 200
    t0, slope, end = table.decode_segment(b, l0)
    assert l0 + k < end
    direct = sum(step_time(dep, b, l0 + j).total_s for j in range(k))
    assert k * t0 + slope * k * (k - 1) / 2 == pytest.approx(direct, rel=0.01)


def test_sliding_window_is_a_knot():
    # Gemma 3's local layers stop growing their KV at the window: the decode-attention line bends
    # there, so the window is a knot and each side is exact.
    dep = make_deployment("gemma-3-27b", "h100-sxm", "bf16")
    table = StepTable(dep)
    w = dep.model.sliding_window
    for ctx in (w / 2, w, 2 * w):
        assert table.step_s(16, ctx) == pytest.approx(step_time(dep, 16, ctx).total_s, rel=1e-9)
