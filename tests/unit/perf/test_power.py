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


def test_an_empty_step_draws_the_idle_floor_on_every_gpu():
    """A step of zero seconds runs nothing: each GPU draws TDP x idle fraction = 700 x 0.1 = 70 W."""
    dep = make_deployment("llama-3.1-70b", "h100-sxm", "fp8", 2, _dep().engine)
    step = StepTime(ops={}, comm_s=0.0, overhead_s=0.0, decode_seqs=0, prefill_tokens=0)
    draw = step_power(dep, step)
    assert (draw.watts_per_gpu, draw.idle_watts_per_gpu, draw.gpus) == (70.0, 70.0, 2)
    assert (draw.compute_busy, draw.memory_busy) == (0.0, 0.0)
    assert (draw.watts, draw.idle_watts) == (140.0, 140.0)  # the replica: 2 x 70 W


def test_busy_shares_of_a_hand_built_step():
    """The hand step above: 16.75 GB in 10 ms of a 3.35 TB/s HBM = 0.5; 1.5 ms of peak in 10 ms = 0.15."""
    op = OpCost(flops=0.0, bytes=16.75e9, compute_s=0.0, memory_s=0.008, peak_s=0.0015)
    step = StepTime(ops={"linear": op}, comm_s=0.0, overhead_s=0.002, decode_seqs=64, prefill_tokens=0)
    draw = step_power(_dep(), step)
    assert draw.memory_busy == pytest.approx(0.5)
    assert draw.compute_busy == pytest.approx(0.15)


def test_busy_fraction_outside_0_1_is_clamped():
    """A GPU cannot be busier than always or less than never: 402.5 W busy, 70 W idle."""
    op = OpCost(flops=0.0, bytes=16.75e9, compute_s=0.0, memory_s=0.008, peak_s=0.0015)
    draw = step_power(_dep(), StepTime(ops={"linear": op}, comm_s=0.0, overhead_s=0.002, decode_seqs=64,
                                       prefill_tokens=0))
    assert mean_power_w_per_gpu(draw, 1.5) == pytest.approx(402.5)
    assert mean_power_w_per_gpu(draw, -0.5) == pytest.approx(70.0)


_HEADER = "id,model,gpu,gpus,tp,precision,engine,max_num_seqs,batch,isl,osl,metric,value,unit\n"


def _rows(tmp_path, *lines):
    p = tmp_path / "energy.csv"
    p.write_text(_HEADER + "".join(line + "\n" for line in lines))
    return validate_energy(p)


def test_validation_rows_carry_their_setup(tmp_path):
    (r,) = _rows(tmp_path, "X1,llama-3.1-8b,h100-sxm,1,1,bf16,tuned,,1,100,100,gpu_power_w,300,W")
    assert r.id == "X1" and r.metric == "gpu_power_w" and r.unit == "W" and r.published == 300.0
    assert r.description == "llama-3.1-8b 1xh100-sxm bf16 tuned batch 1 100/100"
    # one 8B sequence on an H100 streams its 16 GB of weights every step: memory-bound
    assert r.binding == "memory"


def test_validation_rows_use_the_rows_precision_tp_isl_and_batch_cap(tmp_path):
    """Each column of a row changes the setup it predicts, checked by what must follow from it."""
    # 70B needs ~141 GB at bf16: it fits 1 H100 only at fp8, 2 at bf16 (so precision and tp are used)
    fp8, tp2 = _rows(tmp_path, "A,llama-3.1-70b,h100-sxm,1,1,fp8,tuned,,8,100,100,gpu_power_w,1,W",
                     "B,llama-3.1-70b,h100-sxm,2,2,bf16,tuned,,8,100,100,gpu_power_w,1,W")
    assert fp8.predicted > 0 and tp2.predicted > 0
    # energy per output token includes the prompt's prefill: a 4,000-token prompt costs more per
    # output token than a 100-token one
    short, long = _rows(tmp_path, "S,llama-3.1-8b,h100-sxm,1,1,bf16,tuned,,8,100,100,energy_per_output_token_j,1,J",
                        "L,llama-3.1-8b,h100-sxm,1,1,bf16,tuned,,8,4000,100,energy_per_output_token_j,1,J")
    assert long.predicted > short.predicted
    # max_num_seqs 1 caps 64 requested sequences at 1: the same power as batch 1
    capped, one, free = _rows(tmp_path, "C,llama-3.1-8b,h100-sxm,1,1,bf16,tuned,1,64,100,100,gpu_power_w,1,W",
                              "O,llama-3.1-8b,h100-sxm,1,1,bf16,tuned,,1,100,100,gpu_power_w,1,W",
                              "F,llama-3.1-8b,h100-sxm,1,1,bf16,tuned,,64,100,100,gpu_power_w,1,W")
    assert capped.predicted == pytest.approx(one.predicted)
    assert free.predicted > one.predicted * 1.05


def test_validation_errors_are_one_line(tmp_path):
    from truecost.errors import InputError

    with pytest.raises(InputError) as e:
        _rows(tmp_path, "X2,llama-3.1-8b,h100-sxm,1,1,bf16,tuned,,1,100,100,tokens_per_s,1,W")
    assert str(e.value) == ("row X2: unknown metric 'tokens_per_s'; known: gpu_power_w, "
                            "energy_per_output_token_j")
    with pytest.raises(InputError) as e:
        _rows(tmp_path, "X3,llama-3.1-8b,tpu-v5e,1,1,fp8,tuned,,1,100,100,gpu_power_w,1,W")
    assert str(e.value) == "row X3: tpu-v5e has no published TDP to model power from"
