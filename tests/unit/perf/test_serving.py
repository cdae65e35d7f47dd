import pytest

from truecost.errors import InputError
from truecost.perf.roofline import step_time
from truecost.perf.serving import estimate, make_deployment


def test_below_capacity_a_rate_is_served_and_littles_law_holds():
    e = estimate("llama-3.1-8b", "h100-sxm", isl=467, osl=256, rate=2.0)
    assert e.requests_per_s == 2.0
    assert e.output_tokens_per_s == 2.0 * 256
    assert e.concurrency == pytest.approx(2.0 * e.e2e_s, rel=1e-3)


def test_saturated_rate_reports_capacity_and_no_latency():
    e = estimate("llama-3.1-8b", "h100-sxm", isl=467, osl=256, rate=1000.0)
    cap = estimate("llama-3.1-8b", "h100-sxm", isl=467, osl=256)
    assert e.ttft_s is None and e.e2e_s is None
    assert e.requests_per_s == pytest.approx(cap.requests_per_s)
    assert e.notes[0].startswith("saturated: offered 1000 req/s exceeds capacity")


def test_throughput_grows_and_tpot_worsens_with_concurrency():
    rows = [estimate("llama-3.1-8b", "h100-sxm", concurrency=c) for c in (1, 8, 64, 256)]
    tps = [r.output_tokens_per_s for r in rows]
    tpot = [r.tpot_s for r in rows]
    assert tps == sorted(tps) and tpot == sorted(tpot)
    assert rows[0].binding == "memory"


def test_batch_and_context_price_one_step():
    e = estimate("llama-3.1-8b", "h100-sxm", precision="fp8", batch=64, context=4096)
    dep = make_deployment("llama-3.1-8b", "h100-sxm", "fp8")
    assert e.decode_step_s == pytest.approx(step_time(dep, 64, 4096).total_s)
    assert e.prefill_s == pytest.approx(step_time(dep, 0, 0, 64 * 4096, 64 * 4096 * 4097 / 2, 64).total_s)
    assert e.mode == "batch"


def test_fp8_beats_bf16_and_tp_scales_throughput():
    bf16 = estimate("llama-3.1-8b", "h100-sxm", precision="bf16")
    fp8 = estimate("llama-3.1-8b", "h100-sxm", precision="fp8")
    assert fp8.max_concurrency > bf16.max_concurrency  # fp8 KV holds twice the tokens
    assert fp8.output_tokens_per_s > bf16.output_tokens_per_s
    tp2 = estimate("llama-3.1-70b", "h100-sxm", precision="fp8", tp=2)
    tp4 = estimate("llama-3.1-70b", "h100-sxm", precision="fp8", tp=4)
    assert tp4.output_tokens_per_s > tp2.output_tokens_per_s


@pytest.mark.parametrize("kwargs, message", [
    ({"isl": 0}, "--isl must be at least 1 token, got 0"),
    ({"concurrency": 4, "rate": 1.0}, "give at most one of --concurrency and --rate"),
    ({"batch": 4}, "--batch and --context go together: one decode step of B sequences of L tokens"),
    ({"tp": 3}, "--tp must be a power of two (1, 2, 4, 8), got 3"),
    ({"precision": "fp6"}, "unknown precision 'fp6'; choose one of bf16, fp16, fp8, int8, int4, mxfp4, nvfp4, native"),
    ({"isl": 130000, "osl": 2000}, "isl+osl = 132000 exceeds llama-3.1-8b's context of 131072 tokens"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(InputError) as e:
        estimate("llama-3.1-8b", "h100-sxm", **kwargs)
    assert str(e.value) == message
