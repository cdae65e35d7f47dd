"""The performance model over a batch of configurations (``Deployments``, numpy arrays) is the
one-deployment model: same step times, operating points and memory plans, row by row."""

import math

import numpy as np
import pytest

from truecost.catalog import gpu as find_gpu, model as find_model
from truecost.errors import DoesNotFitError
from truecost.perf import elementwise
from truecost.perf.deployment import Deployments, layouts, make_deployment
from truecost.perf.memory import memory_plan, memory_plans
from truecost.perf.roofline import causal_pairs, step_time
from truecost.perf.serving import _prefill_s, operating_point

# Same IEEE operations in the same order on both paths (element-wise numpy vs Python floats):
# the results agree to rounding of the last bit or so.
REL = 1e-12

MODELS = ("llama-3.1-8b", "mixtral-8x7b", "deepseek-v3", "gpt-oss-120b", "gemma-3-27b")


def _sample(model: str, n: int, rng: np.random.Generator) -> list:
    """``n`` random configurations of ``model``: GPU, precision, layout, engine."""
    m = find_model(model)
    out = []
    while len(out) < n:
        g = find_gpu(str(rng.choice(["h100-sxm", "a100-80gb", "l40s", "b200", "mi300x"])))
        tp, dp, ep = layouts(m, g, 8)[rng.integers(len(layouts(m, g, 8)))]
        out.append(make_deployment(m, g, str(rng.choice(["bf16", "fp8", "int4", "native"])), tp,
                                   str(rng.choice(["tuned", "vllm"])), dp=dp, ep=ep))
    return out


@pytest.mark.parametrize("model", MODELS)
def test_step_time_over_a_batch_is_the_step_time_of_each_row(model):
    rng = np.random.default_rng(1)
    deps = _sample(model, 24, rng)
    batch = Deployments.stack(deps)
    B = rng.integers(0, 300, len(deps)).astype(float)  # some rows decode nothing
    P = np.where(rng.random(len(deps)) < 0.3, 0.0, rng.integers(1, 5000, len(deps)).astype(float))
    A = np.array([causal_pairs(p, 700) for p in P])
    ps = np.where(P > 0, 1.0, 0.0)
    ctx = 1800.0
    for chunk in (None, 2048.0):
        s = step_time(batch, B, ctx, P, A, ps, prefill_chunk_tokens=chunk)
        for i, d in enumerate(deps):
            one = step_time(d, B[i], ctx, P[i], A[i], ps[i], prefill_chunk_tokens=chunk)
            assert s.total_s[i] == pytest.approx(one.total_s, rel=REL)
            assert (s.lower_s[i], s.upper_s[i]) == pytest.approx((one.lower_s, one.upper_s), rel=REL)
            assert s.binding[i] == one.binding
            for name, op in one.ops.items():
                assert s.ops[name].time_s[i] == pytest.approx(op.time_s, rel=REL, abs=1e-18)


@pytest.mark.parametrize("model", MODELS)
def test_operating_point_and_memory_plan_over_a_batch(model):
    rng = np.random.default_rng(2)
    deps = _sample(model, 24, rng)
    batch = Deployments.stack(deps)
    C = rng.integers(1, 400, len(deps)).astype(float)
    for isl, osl, cached in ((2000, 250, 1200.0), (30000, 500, 0.0), (100, 3000, 50.0)):
        op = operating_point(batch, C, isl, osl, cached=cached)
        plans = memory_plans(batch, isl, osl)
        for i, d in enumerate(deps):
            one = operating_point(d, C[i], isl, osl, cached=cached)
            for f in ("ttft_s", "tpot_s", "e2e_s", "output_tokens_per_s", "requests_per_s"):
                assert getattr(op, f)[i] == pytest.approx(getattr(one, f), rel=REL)
            try:
                mem = memory_plan(d, isl, osl)
            except DoesNotFitError:
                assert plans.kv_capacity_sequences[i] == 0
                continue
            assert (plans.max_concurrency[i], plans.kv_capacity_sequences[i], plans.limited_by[i]) == \
                (mem.max_concurrency, mem.kv_capacity_sequences, mem.limited_by)


def test_chunked_prefill_sum_is_the_sum_of_its_chunk_steps():
    """``_prefill_s`` sums the n chunk steps in closed form; the oracle is the explicit loop of
    ``step_time`` calls it replaced, chunk i attending the cache and the i chunks before it."""
    for model, tp in (("llama-3.1-8b", 1), ("mixtral-8x7b", 2), ("deepseek-v3", 8)):
        dep = make_deployment(model, "h200" if model == "deepseek-v3" else "h100-sxm", "fp8", tp)
        for others, new, cached in ((0.0, 30000.0, 0.0), (5000.0, 12000.0, 4000.0), (8191.0, 700.0, 10.0),
                                    (100.0, 90000.0, 0.0)):
            budget = max(dep.engine.max_num_tokens - others, 1.0)
            n = math.ceil(new / budget)
            chunk = new / n
            loop = sum(step_time(dep, others, 2000.0, chunk, causal_pairs(chunk, cached + i * chunk),
                                 1.0 if i == n - 1 else 0.0).total_s for i in range(n))
            assert _prefill_s(dep, others, 2000.0, new, cached) == pytest.approx(loop, rel=1e-9)  # n up to 700 terms
            assert n > 1  # every case runs several chunks (700 of one token in the third)


def test_take_sets_the_layout_and_max_batch_per_row():
    base = Deployments.stack([make_deployment("llama-3.1-70b", g, "fp8") for g in ("h100-sxm", "h200")])
    batch = base.take(np.array([0, 0, 1]), tp=np.array([1, 4, 2]), dp=np.ones(3), ep=np.ones(3),
                      max_batch_size=np.array([64, 128, 256]))
    for i, (g, tp, mb) in enumerate((("h100-sxm", 4 // 4, 64), ("h100-sxm", 4, 128), ("h200", 2, 256))):
        eng = make_deployment("llama-3.1-70b", g, "fp8").engine.model_copy(update={"max_batch_size": mb})
        one = make_deployment("llama-3.1-70b", g, "fp8", tp, eng)
        assert batch.weights_bytes_per_gpu[i] == pytest.approx(one.weights_bytes_per_gpu, rel=REL)
        assert batch.kv_shards[i] == one.kv_shards and batch.gpus[i] == one.gpus
        assert batch.engine.max_batch_size[i] == mb
    assert len(batch) == 3


def test_stack_refuses_deployments_of_two_models():
    with pytest.raises(ValueError):
        Deployments.stack([make_deployment("llama-3.1-8b", "h100-sxm"), make_deployment("llama-3.1-70b", "h200")])


def test_elementwise_keeps_plain_numbers_plain():
    assert type(elementwise.maximum(1.0, 2)) is int and elementwise.maximum(3.0, 2) == 3.0
    assert elementwise.minimum(2, 2.0) == 2 and type(elementwise.ceil(2.5)) is int
    assert elementwise.where(False, 1, 2) == 2
    np.testing.assert_array_equal(elementwise.maximum(np.array([1.0, 3.0]), 2.0), [2.0, 3.0])
    np.testing.assert_array_equal(elementwise.where(np.array([True, False]), 1.0, 2.0), [1.0, 2.0])


def test_elementwise_on_plain_numbers_is_python_max_min_floor_and_if():
    """The scalar path answers what max, min, math.floor and ``a if c else b`` answer, with their
    types: max and min keep the first of two equal values."""
    assert not elementwise.is_array(1.0, 2) and elementwise.is_array(1.0, np.array([2.0]))
    for a, b in ((2.0, 2), (2, 2.0), (1, 3.0), (3.0, 1)):
        assert type(elementwise.maximum(a, b)) is type(max(a, b)) and elementwise.maximum(a, b) == max(a, b)
        assert type(elementwise.minimum(a, b)) is type(min(a, b)) and elementwise.minimum(a, b) == min(a, b)
    assert type(elementwise.floor(2.5)) is int and elementwise.floor(2.5) == 2
    assert type(elementwise.where(False, 1, 2)) is int and type(elementwise.where(True, 1, 2.0)) is int
    # an array on either side makes the answer an array, whichever side it is on
    for got in (elementwise.where(False, np.array([1.0, 3.0]), 2.0), elementwise.where(True, 2.0, np.array([1.0, 3.0]))):
        assert got.shape == (2,) and got.tolist() == [2.0, 2.0]
    np.testing.assert_array_equal(elementwise.floor(np.array([2.5, -0.5])), [2.0, -1.0])


def test_chunked_prefill_sum_where_the_kv_write_binds_the_first_chunks_only():
    """The closed form's middle case: on a GPU of 1 PFLOP/s and 0.125 TB/s (hand engine: attention
    at 2.5e14 FLOP/s, memory at 6.25e10 B/s), 8 chunks of 512 tokens. Chunk 0 attends 131,328 pairs
    (4.3 µs of compute) and writes 512 × 2,048 bytes of KV (16.8 µs); each later chunk adds 512²
    pairs (8.6 µs), so the write binds chunks 0 and 1 and compute the other 6 (0 < k = 2 < n)."""
    from tests import hand as h

    dep = h.deployment(h.gpu("hand-balanced", bf16_tflops=1000.0, memory_tb_s=0.125))
    new, n, chunk = 4096.0, 8, 512.0
    c0 = causal_pairs(chunk) * 2 * 4096 / 2.5e14
    m = chunk * 2048 / 6.25e10
    delta = chunk * chunk * 2 * 4096 / 2.5e14
    assert (c0 < m < c0 + delta * 2) and (m > c0 + delta)  # k = ceil((m − c0) / δ) = 2
    loop = sum(step_time(dep, 0.0, 0.0, chunk, causal_pairs(chunk, i * chunk), 1.0 if i == n - 1 else 0.0).total_s
               for i in range(n))
    assert _prefill_s(dep, 0.0, 0.0, new, 0.0) == pytest.approx(loop, rel=1e-12)
