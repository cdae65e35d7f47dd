"""The tabulated step time against roofline.step_time itself, on random steps of every kind of
architecture the roofline models (dense GQA, MoE, MLA + MoE, sliding windows)."""

import math
import random
from collections import OrderedDict

import pytest

from tests import hand as h
from truecost.perf import steps
from truecost.perf.roofline import causal_pairs, step_time
from truecost.perf.serving import make_deployment
from truecost.perf.steps import StepTable, step_table

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


# ---- the table against step_time on the hand model (tests/hand.py) ----------------------------
# On COMPUTE_BOUND every op costs its FLOPs, on MEMORY_BOUND its bytes: each part of a step is then
# a straight line in B, P, A and B·L (the LM head runs on B + 1 rows once a prompt finishes), so
# linear interpolation is exact between any knots and the table must give step_time itself, to
# rounding, anywhere with P = 0 or P ≥ 1 (P = 1 is the first prompt knot). On KINK the prefill's
# attention turns compute-bound at 1.5 pairs a token and the linear layers at 12 tokens: the table
# is exact on the knots only (B ≤ 32 or 32·2^(k/8), P = 2^(k/6), A/P = 2^(k/4), L a knot).

KINK = h.gpu("hand-kink", bf16_tflops=24.0, memory_tb_s=2.0)  # attention: 6e12 FLOP/s, 1e12 B/s


def _dep(g):
    return h.deployment(g, step_overhead_fixed_s=0.0)  # no overhead: every second is an op's


def _want(dep, b, ctx, p=0.0, a=0.0):
    return step_time(dep, b, ctx, p, a, 1.0 if p > 0 else 0.0).total_s


@pytest.mark.parametrize("g", [h.COMPUTE_BOUND, h.MEMORY_BOUND], ids=["compute", "memory"])
def test_table_is_step_time_where_every_op_is_linear(g):
    dep = _dep(g)
    table = StepTable(dep)
    for b in (0, 0.5, 1, 3, 7.25, 32, 45.3, 300):
        for ctx in (0, 100, 256, 3000, 70_000, 300_000, 2_000_000):
            for p in (0, 1, 1.5, 20, 777):
                for r in ((0,) if p == 0 else (0, 0.5, 1, 1.1, 3.7, 900)):
                    got = table.step_s(b, ctx, p, r * p)
                    assert got == pytest.approx(_want(dep, b, ctx, p, r * p), rel=1e-9, abs=1e-18), (b, ctx, p, r)
        # the prompt's pairs default to none
        assert table.step_s(b, 500, 20) == pytest.approx(_want(dep, b, 500, 20), rel=1e-9)


def test_table_is_step_time_on_the_knots_of_a_kinked_roofline():
    dep = _dep(KINK)
    table = StepTable(dep)
    for b in (0, 1, 2, 5, 32, 64):
        for ctx in (0, 256, 1024, 4096, 262_144):
            for p in (0, 1, 2 ** (21 / 6), 2 ** (22 / 6), 1024):
                for r in ((0,) if p == 0 else (0, 1, 2 ** 0.25, 2 ** 0.5, 2 ** 0.75, 2, 2 ** 2.5, 1024)):
                    got = table.step_s(b, ctx, p, r * p)
                    assert got == pytest.approx(_want(dep, b, ctx, p, r * p), rel=1e-9, abs=1e-18), (b, ctx, p, r)


@pytest.mark.parametrize("g", [h.COMPUTE_BOUND, h.MEMORY_BOUND, KINK], ids=["compute", "memory", "kink"])
def test_the_three_parts_are_their_definitions(g):
    # module docstring: decode_attention(B, L) = step_time(B, L) − step_time(B, 0);
    # prefill_attention(P, A) = step_time(0, 0, P, A) − step_time(0, 0, P, 0) (homogeneous in P, A);
    # base(B, P) = step_time(B, 0, P, 0, 1 prompt finishing if P > 0). KINK: on the knots only.
    dep = _dep(g)
    table = StepTable(dep)
    for b in (1, 5, 64):
        for ctx in (0, 256, 4096, 262_144, 1_048_576):
            want = step_time(dep, b, ctx).total_s - step_time(dep, b, 0).total_s
            assert table.decode_attention(b, ctx) == pytest.approx(want, rel=1e-9, abs=1e-18), (b, ctx)
        for p in (0, 1, 2 ** (22 / 6), 1024):
            assert table.base(b, p) == pytest.approx(_want(dep, b, 0, p), rel=1e-9), (b, p)
    for p in (1, 2 ** (22 / 6), 1024):
        for r in (0, 2 ** -0.5, 1, 2 ** 0.25, 2 ** 0.5, 2 ** 0.75, 2, 1024):
            want = step_time(dep, 0, 0, p, r * p).total_s - step_time(dep, 0, 0, p).total_s
            assert table.prefill_attention(p, r * p) == pytest.approx(want, rel=1e-9, abs=1e-18), (p, r)
    assert table.prefill_attention(0, 0) == 0.0 and table.decode_attention(0, 5000) == 0.0


def test_between_knots_where_every_op_is_linear():
    dep = _dep(h.COMPUTE_BOUND)
    table = StepTable(dep)
    for b in (0.5, 2.5, 40.0):
        for ctx in (100, 3000, 2_000_000):
            want = step_time(dep, b, ctx).total_s - step_time(dep, b, 0).total_s
            assert table.decode_attention(b, ctx) == pytest.approx(want, rel=1e-9)
        for p in (1.5, 33.3):
            assert table.base(b, p) == pytest.approx(_want(dep, b, 0, p), rel=1e-9), (b, p)
    for p in (0.5, 1, 1.5, 33.3):
        for r in (0.3, 1.2, 7.7):
            want = step_time(dep, 0, 0, p, r * p).total_s - step_time(dep, 0, 0, p).total_s
            assert table.prefill_attention(p, r * p) == pytest.approx(want, rel=1e-9), (p, r)


def test_decode_segments_end_at_the_next_knot():
    table = StepTable(_dep(h.MEMORY_BOUND))  # context knots 0, 256, 1024, ..., 262,144, 1,048,576
    ends = [table.decode_segment(8, ctx)[2] for ctx in (0, 100, 256, 1000, 100_000, 262_144, 500_000, 2e6)]
    assert ends == [256, 256, 1024, 1024, 262_144, math.inf, math.inf, math.inf]
    # no decoding sequences: one flat line for ever, the cost of an empty step
    assert table.decode_segment(0, 100) == (step_time(table.dep, 0, 0).total_s, 0.0, math.inf)
    assert table.step_s(0, 100) == step_time(table.dep, 0, 0).total_s


def _counting(monkeypatch):
    calls = []

    def counted(*args, **kw):
        calls.append(args)
        return step_time(*args, **kw)
    monkeypatch.setattr(steps, "step_time", counted)
    return calls


def test_each_knot_is_evaluated_once_and_only_the_knots_needed(monkeypatch):
    calls = _counting(monkeypatch)
    table = StepTable(_dep(h.COMPUTE_BOUND))
    table.base(4, 0)  # on a knot: that knot alone
    assert len(calls) == 1
    table.base(4.5, 0)  # between B knots 4 and 5, on a P knot: (5, 0) is new
    assert len(calls) == 2
    table.base(4.5, 0), table.base(4, 0)
    assert len(calls) == 2
    table.decode_line(4, 300)  # the decode knots at L = 256 and 1024 (base(4, 0) is known)
    assert len(calls) == 4
    table.decode_line(4, 300)
    assert len(calls) == 4
    # decode attention is 0 at L = 0 or B = 0: knots (4, 0), (0, 256), (0, 1024) cost no call;
    # B = 0.5 needs (1, 256), (1, 1024) and base(1, 0): three
    table.decode_line(4, 100), table.decode_line(0.5, 300)
    assert len(calls) == 7
    table.prefill_attention(10, 12)  # A/P = 1.2: g at knots 2^(1/4) and 2^(2/4), two calls each
    assert len(calls) == 11
    table.prefill_attention(10, 12)
    assert len(calls) == 11


def test_a_steps_prefill_share_and_decode_line_are_kept(monkeypatch):
    table = StepTable(_dep(h.COMPUTE_BOUND))
    table.step_s(3, 300.0, 20, 400)
    seen = []
    for name in ("base", "prefill_attention", "decode_line"):
        f = getattr(table, name)
        monkeypatch.setattr(table, name, lambda *a, _f=f, _n=name: seen.append(_n) or _f(*a))
    assert table.step_s(3, 300.0, 20, 400) == pytest.approx(_want(table.dep, 3, 300.0, 20, 400), rel=1e-9)
    assert table.step_s(3, 310.0) == pytest.approx(_want(table.dep, 3, 310.0), rel=1e-9)
    assert seen == []


def test_step_tables_are_shared_per_deployment_and_the_least_recently_used_goes(monkeypatch):
    monkeypatch.setattr(steps, "_TABLES", OrderedDict())
    monkeypatch.setattr(steps, "_TABLES_MAX", 2)
    d1, d2, d3 = (h.deployment(g) for g in (h.FAST, h.MEMORY_BOUND, h.COMPUTE_BOUND))
    t1 = step_table(d1)
    assert t1.dep is d1 and step_table(d1) is t1
    t2 = step_table(d2)
    assert t2 is not t1 and step_table(d1) is t1  # two kept; d1 used last
    t3 = step_table(d3)  # evicts d2
    assert step_table(d3) is t3 and step_table(d1) is t1
    assert step_table(d2) is not t2  # rebuilt, evicting d3
    assert step_table(d1) is t1


def test_the_b_and_p_index_lookups_are_kept(monkeypatch):
    seen = []
    for name in ("_b_locate", "_p_locate"):
        f = getattr(StepTable, name)
        monkeypatch.setattr(StepTable, name, staticmethod(lambda x, _f=f, _n=name: seen.append(_n) or _f(x)))
    table = StepTable(_dep(h.COMPUTE_BOUND))
    assert table.base(4.5, 20) == table.base(4.5, 20) == pytest.approx(_want(table.dep, 4.5, 0, 20), rel=1e-9)
    assert seen == ["_b_locate", "_p_locate"]
