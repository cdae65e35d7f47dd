"""Calibrate from several kinds of points and architectures, the leave-one-architecture-out
report, and the fits it refuses to save.

The synthetic measurements come from the model itself run with known terms: that tests the
fitter (does it find the terms that made the data?), not the model."""

import math

import pytest

from truecost.errors import InputError
from truecost.perf.calibrate import MeasuredPoint, calibrate, profile_path, save_profile
from truecost.perf.engine import engine
from truecost.perf.roofline import causal_pairs, step_time
from truecost.perf.serving import make_deployment, operating_point

TRUTH = engine("tuned").model_copy(update={
    "memory_efficiency": 0.7, "step_overhead_per_layer_s": 0.00008, "step_overhead_fixed_s": 0.0015,
    "attention_compute_efficiency": 0.35, "compute_efficiency": {**engine("tuned").compute_efficiency, "fp8": 0.5}})


def _points(truth, models=(("llama-3.1-8b", 1), ("llama-3.1-70b", 4), ("qwen2.5-14b", 1))):
    pts = []
    for model, tp in models:
        dep = make_deployment(model, "h100-sxm", "fp8", tp, truth)
        for c in (1, 64, 256):
            op = operating_point(dep, c, 1000, 200)
            pts.append(MeasuredPoint(c, 1000, 200, op.output_tokens_per_s, op.tpot_s, source=f"{model}-c{c}",
                                     model=model, tp=tp))
        pts.append(MeasuredPoint(16, 2000, kind="decode", step_s=step_time(dep, 16, 2000).total_s,
                                 model=model, tp=tp, source=f"{model}-decode"))
        prefill = step_time(dep, 0, 0, 4000, causal_pairs(4000), 1).total_s
        pts.append(MeasuredPoint(1, 4000, kind="prefill", step_s=prefill, model=model, tp=tp, source=f"{model}-prefill"))
    return pts


def test_recovers_fixed_and_per_layer_overhead_from_three_depths():
    cal = calibrate(_points(TRUTH), gpu="h100-sxm", precision="fp8")
    p = cal.profile
    assert cal.fitted == ["memory_efficiency", "step_overhead_per_layer_s", "compute_efficiency.fp8",
                          "step_overhead_fixed_s", "attention_compute_efficiency"]
    assert cal.rms_log_error_before > 0.05 and cal.rms_log_error_after < 1e-6
    assert p.memory_efficiency == pytest.approx(0.7, rel=1e-3)
    assert p.step_overhead_per_layer_s == pytest.approx(0.00008, rel=1e-3)
    assert p.step_overhead_fixed_s == pytest.approx(0.0015, rel=1e-3)
    assert p.attention_compute_efficiency == pytest.approx(0.35, rel=1e-3)
    assert p.compute_efficiency["fp8"] == pytest.approx(0.5, rel=1e-3)
    assert p.sources["memory_efficiency"].startswith("calibrated: fitted memory_efficiency")
    assert p.key == "tuned-h100-sxm-3models"


def test_leave_one_architecture_out_shows_what_does_not_carry_over():
    """Three architectures share the truth except llama-3.1-70b, which runs slower (η_m 0.5).
    Fitted without it, the profile is the shared truth; its held-out error is then exactly the
    error of that truth on its points: log(0.5/0.7) on every memory-bound figure."""
    odd = TRUTH.model_copy(update={"memory_efficiency": 0.5})
    pts = (_points(TRUTH, (("llama-3.1-8b", 1), ("qwen2.5-14b", 1)))
           + _points(odd, (("llama-3.1-70b", 4),)))
    cal = calibrate(pts, gpu="h100-sxm", precision="fp8", force=True)
    assert set(cal.held_out) == {"llama-3.1-8b", "llama-3.1-70b", "qwen2.5-14b"}
    # The oracle: the shared truth predicting the odd architecture's points.
    odd_points = [p for p in pts if p.model == "llama-3.1-70b"]
    errs = []
    for p in odd_points:
        dep = make_deployment("llama-3.1-70b", "h100-sxm", "fp8", 4, TRUTH)
        if p.kind == "serving":
            op = operating_point(dep, p.concurrency, p.isl, p.osl)
            errs += [math.log(op.output_tokens_per_s / p.output_tokens_per_s), math.log(op.tpot_s / p.tpot_s)]
        elif p.kind == "decode":
            errs.append(math.log(step_time(dep, p.concurrency, p.isl).total_s / p.step_s))
        else:
            errs.append(math.log(step_time(dep, 0, 0, p.isl, causal_pairs(p.isl), 1).total_s / p.step_s))
    oracle = math.sqrt(sum(e * e for e in errs) / len(errs))
    assert cal.held_out["llama-3.1-70b"] == pytest.approx(oracle, rel=1e-3)
    assert oracle > 0.1  # a real gap, far above the others
    assert cal.held_out["llama-3.1-8b"] < cal.held_out["llama-3.1-70b"] / 3


def test_single_architecture_has_no_held_out_report():
    cal = calibrate(_points(TRUTH, (("llama-3.1-8b", 1),)), gpu="h100-sxm", precision="fp8")
    assert cal.held_out == {} and cal.held_out_rms_log_error is None
    # One depth cannot tell the fixed overhead from the per-layer one: only the latter is fitted.
    assert "step_overhead_fixed_s" not in cal.fitted


def test_kv_dtype_changes_what_is_fitted_against():
    """Points measured with an fp8 KV cache on bf16 weights: fitted with the KV dtype they ran
    with, the terms come back; ignoring it, they do not."""
    truth = engine("tuned").model_copy(update={"memory_efficiency": 0.7, "step_overhead_per_layer_s": 0.00008})
    dep = make_deployment("llama-3.1-8b", "h100-sxm", "bf16", 1, truth, "fp8")
    pts = [MeasuredPoint(c, 4000, 500, tpot_s=operating_point(dep, c, 4000, 500).tpot_s) for c in (1, 16, 64)]
    right = calibrate(pts, "llama-3.1-8b", "h100-sxm", kv_dtype="fp8", force=True)
    assert right.profile.memory_efficiency == pytest.approx(0.7, rel=1e-3)
    wrong = calibrate(pts, "llama-3.1-8b", "h100-sxm", force=True)
    assert wrong.profile.memory_efficiency != pytest.approx(0.7, rel=0.02)


@pytest.mark.parametrize("points, problem", [
    # 8B bf16 streams 16 GB a step: 1 ms TPOT needs more than the H100's bandwidth.
    ([MeasuredPoint(1, 512, 128, tpot_s=0.001), MeasuredPoint(8, 512, 128, tpot_s=0.0012),
      MeasuredPoint(64, 512, 128, tpot_s=0.002)], "memory_efficiency 1 sits at its upper bound 1"),
    # Throughput falling as concurrency rises: no physical engine terms explain it.
    ([MeasuredPoint(1, 512, 128, 100.0), MeasuredPoint(64, 512, 128, 50.0), MeasuredPoint(16, 512, 128, 3000.0)],
     "rms log error stays 1.74 after the fit (> 0.25): the model does not explain these points"),
    ([MeasuredPoint(1, 512, 128, tpot_s=0.0105, served_model="Qwen/Qwen2.5-7B-Instruct", source="r1#0")],
     "r1#0 measured model 'Qwen/Qwen2.5-7B-Instruct', not llama-3.1-8b"),
    ([MeasuredPoint(5000, 512, 128, 20000.0, source="p1")],
     "p1: 5000 live sequences exceed the 742 that fit on 1x h100-sxm (w:bf16 kv:bf16 mm:bf16)"),
])
def test_refuses_misleading_fits_unless_forced(points, problem):
    with pytest.raises(InputError) as e:
        calibrate(points, "llama-3.1-8b", "h100-sxm")
    assert str(e.value).startswith("calibrate refuses to save 'tuned-llama-3.1-8b-h100-sxm-bf16-tp1': ")
    assert problem in str(e.value)
    cal = calibrate(points, "llama-3.1-8b", "h100-sxm", force=True)
    assert problem in cal.warnings
    assert problem in cal.profile.calibration


def test_served_model_names_that_match():
    dep = make_deployment("llama-3.1-8b", "h100-sxm", "bf16", 1, TRUTH)
    tpot = operating_point(dep, 1, 512, 128).tpot_s
    for served in ("meta-llama/Llama-3.1-8B-Instruct", "llama-3.1-8b", "Meta-Llama-3.1-8B"):
        pt = MeasuredPoint(1, 512, 128, tpot_s=tpot, served_model=served)
        if served == "Meta-Llama-3.1-8B":  # not a prefix of any name the catalog knows
            with pytest.raises(InputError, match="measured model 'Meta-Llama-3.1-8B'"):
                calibrate([pt], "llama-3.1-8b", "h100-sxm")
        else:
            assert calibrate([pt], "llama-3.1-8b", "h100-sxm").warnings == []


def test_names_and_overwrites(tmp_path):
    cal = calibrate(_points(TRUTH, (("llama-3.1-8b", 1),)), gpu="h100-sxm", precision="fp8", name="my-h100")
    path = save_profile(cal.profile, tmp_path)
    assert path == tmp_path / "my-h100.toml"
    with pytest.raises(InputError, match=f"^engine profile 'my-h100' exists at {path}; pass --force"):
        save_profile(cal.profile, tmp_path)
    assert save_profile(cal.profile, tmp_path, overwrite=True) == path
    # The saved file reads back with its sources and terms.
    back = engine(str(path))
    assert back.sources == cal.profile.sources and back.memory_efficiency == cal.profile.memory_efficiency
    for bad in ("tuned", "VLLM", "../x", "a/b", "x.toml", ""):
        with pytest.raises(InputError, match="^engine name"):
            profile_path(bad, tmp_path)
    with pytest.raises(InputError, match="^engine name 'tuned' is a shipped profile"):
        calibrate(_points(TRUTH, (("llama-3.1-8b", 1),)), gpu="h100-sxm", name="tuned")


def test_points_need_a_finite_figure():
    with pytest.raises(InputError, match="^measured point p: output_tokens_per_s must be a finite number > 0, got nan$"):
        calibrate([MeasuredPoint(1, 512, 128, float("nan"), source="p")], "llama-3.1-8b", "h100-sxm")
    with pytest.raises(InputError, match="^measured point p has no measured figure"):
        calibrate([MeasuredPoint(1, 512, 128, source="p")], "llama-3.1-8b", "h100-sxm")
    with pytest.raises(InputError, match="^measured point p names no model"):
        calibrate([MeasuredPoint(1, 512, 128, 100.0, source="p")], gpu="h100-sxm")
