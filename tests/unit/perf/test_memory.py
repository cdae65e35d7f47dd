import pytest

from truecost.errors import DoesNotFitError
from truecost.perf.memory import memory_plan
from truecost.perf.serving import make_deployment


def test_kv_capacity_caps_concurrency():
    dep = make_deployment("llama-3.1-8b", "h100-sxm", "fp8")
    plan = memory_plan(dep, 1000, 1000)
    e = dep.engine
    pool = (80 * 2**30 - dep.weights_bytes_per_gpu - e.runtime_reserve_gib * 2**30) * e.kv_memory_fraction
    per_seq = 2000 * 2 * 32 * 8 * 128 * 1  # max_length admission, fp8 KV
    assert plan.kv_bytes_per_sequence == per_seq
    assert plan.max_concurrency == int(pool // per_seq)
    assert plan.limited_by == "kv_capacity"


def test_gqa_kv_splits_over_tp_until_heads_run_out():
    dep8 = make_deployment("llama-3.1-70b", "h100-sxm", "fp8", tp=8)
    assert dep8.kv_bytes_per_gpu(1) == pytest.approx(2 * 80 * 8 * 128 / 8)
    assert dep8.weights_bytes_per_gpu == pytest.approx(dep8.weights_bytes / 8)


def test_does_not_fit_says_bytes_needed_and_what_fits():
    dep = make_deployment("llama-3.1-70b", "h100-sxm", "bf16")
    with pytest.raises(DoesNotFitError) as e:
        memory_plan(dep, 1000, 1000)
    assert str(e.value) == (
        "llama-3.1-70b at bf16 does not fit on 1x h100-sxm: needs 146.1 GB per GPU (weights 141.1 + "
        "runtime 4.3 + KV for one 2,000-token sequence 0.66), has 85.9 GB; fits with --tp 2 or --precision fp8")
