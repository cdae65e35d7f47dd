"""Modelled board power and energy per token: a hand-computed step, the cap, the busy-share
scaling compare uses, and the published measurements (ML.ENERGY and others) it is checked on."""

import pytest

from truecost.perf.deployment import make_deployment
from truecost.perf.power import PUBLISHED_ENERGY, mean_power_w_per_gpu, step_power, validate_energy
from truecost.perf.roofline import OpCost, StepTime
from truecost.perf.validation import summarise


def _dep(**update):
    from truecost.perf.engine import engine

    prof = engine("tuned").model_copy(update={"power_idle_fraction": 0.1, "power_memory_fraction": 0.5,
                                              "power_compute_fraction": 1.5, **update})
    return make_deployment("llama-3.1-8b", "h100-sxm", "bf16", 1, prof)


def test_power_of_a_hand_built_step():
    dep = _dep()
    # 10 ms step: one op moving 16.75 GB and doing work worth 1.5 ms of dense peak, + 2 ms overhead.
    op = OpCost(flops=0.0, bytes=16.75e9, compute_s=0.0, memory_s=0.008, peak_s=0.0015)
    step = StepTime(ops={"linear": op}, comm_s=0.0, overhead_s=0.002, decode_seqs=64, prefill_tokens=0)
    assert step.total_s == pytest.approx(0.010)
    u_mem = 16.75e9 / 0.010 / 3.35e12  # 0.5 of HBM peak
    u_math = 0.0015 / 0.010  # 0.15 of the tensor cores' peak
    watts = 700 * (0.1 + 0.5 * u_mem + 1.5 * u_math)  # 0.1 + 0.25 + 0.225 = 0.575 of TDP
    draw = step_power(dep, step)
    assert draw.watts_per_gpu == pytest.approx(402.5)
    assert draw.watts_per_gpu == pytest.approx(watts)
    assert draw.idle_watts_per_gpu == pytest.approx(70.0)
    # 64 tokens every 10 ms = 6,400 tokens/s: 402.5 W / 6400 = 0.0629 J per token
    assert draw.joules_per_token(6400) == pytest.approx(402.5 / 6400)
    # A replica busy 40% of the time: idle 70 W + 40% of the 332.5 W above it = 203 W.
    assert mean_power_w_per_gpu(draw, 0.4) == pytest.approx(70 + 0.4 * 332.5)


def test_power_is_capped_at_tdp():
    dep = _dep(power_compute_fraction=3.0)
    op = OpCost(flops=0.0, bytes=0.0, compute_s=0.01, memory_s=0.0, peak_s=0.007)
    step = StepTime(ops={"linear": op}, comm_s=0.0, overhead_s=0.0, decode_seqs=1, prefill_tokens=0)
    assert step_power(dep, step).watts_per_gpu == 700


def test_estimate_reports_power_and_energy_per_output_token():
    from truecost import estimate

    e = estimate("llama-3.1-8b", "h100-sxm", isl=500, osl=500, concurrency=32)
    # Energy per output token is the replica's power over its output tokens per second.
    assert e.energy_j_per_output_token == pytest.approx(e.power_w / e.output_tokens_per_s)
    assert e.idle_power_w == pytest.approx(700 * 0.15)
    assert e.idle_power_w < e.power_w <= 700
    tp2 = estimate("llama-3.1-70b", "h100-sxm", precision="fp8", tp=2, isl=500, osl=500, concurrency=32)
    assert tp2.idle_power_w == pytest.approx(2 * 700 * 0.15)  # the whole replica


def test_against_published_energy_measurements():
    """Measured power per GPU and energy per output token (ML.ENERGY Leaderboard v3.0 and blog, a
    vLLM user's power readings; energy_published.csv). The power terms come from two other
    ML.ENERGY readings (benchmarks/power_anchors.py), not these rows. Energy per token also
    carries the throughput model's error, which is larger for vLLM at 500-2,000 sequences."""
    rows = validate_energy(PUBLISHED_ENERGY)
    assert len(rows) == 7
    print(f"\n{'id':4} {'metric':26} {'published':>10} {'predicted':>10} {'error':>7}  row")
    for r in rows:
        print(f"{r.id:4} {r.metric:26} {r.published:>10.4g} {r.predicted:>10.4g} {r.error:>+7.1%}  {r.description}")
    power = summarise([r for r in rows if r.metric == "gpu_power_w"])
    energy = summarise([r for r in rows if r.metric == "energy_per_output_token_j"])
    print(f"power: median |error| {power['median_abs_error']:.1%}, worst {power['max_ratio']:.2f}x; "
          f"energy/token: median |error| {energy['median_abs_error']:.1%}, worst {energy['max_ratio']:.2f}x")
    assert power["median_abs_error"] <= 0.30 and power["max_ratio"] <= 1.5
    assert energy["median_abs_error"] <= 0.45 and energy["max_ratio"] <= 2.0
