"""Calibration recovers known efficiency terms from synthetic measurements."""

import pytest

from truecost.errors import InputError
from truecost.perf.calibrate import MeasuredPoint, calibrate, save_profile
from truecost.perf.engine import engine
from truecost.perf.serving import estimate, make_deployment, operating_point


def _measure(profile, concurrencies, isl=512, osl=256):
    dep = make_deployment("llama-3.1-8b", "h100-sxm", "bf16", 1, profile)
    out = []
    for c in concurrencies:
        op = operating_point(dep, c, isl, osl)
        out.append(MeasuredPoint(c, isl, osl, op.output_tokens_per_s, op.tpot_s, source=f"run-c{c}"))
    return out


def test_recovers_the_terms_that_generated_the_data():
    truth = engine("tuned").model_copy(update={
        "memory_efficiency": 0.55, "step_overhead_per_layer_s": 0.0002,
        "compute_efficiency": {**engine("tuned").compute_efficiency, "bf16": 0.4}})
    points = _measure(truth, [1, 4, 16, 64, 256])
    cal = calibrate(points, "llama-3.1-8b", "h100-sxm", "bf16", 1)
    assert cal.rms_log_error_before > 0.2  # the defaults are far from this engine
    assert cal.rms_log_error_after < 0.01
    assert cal.profile.memory_efficiency == pytest.approx(0.55, rel=0.05)
    assert cal.profile.step_overhead_per_layer_s == pytest.approx(0.0002, rel=0.1)
    assert cal.profile.compute_efficiency["bf16"] == pytest.approx(0.4, rel=0.1)
    assert "from 5 measured points (run-c1, run-c16" in cal.profile.calibration


def test_saved_profile_is_used_by_estimate(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUECOST_HOME", str(tmp_path))
    truth = engine("tuned").model_copy(update={"memory_efficiency": 0.5})
    cal = calibrate(_measure(truth, [1, 8]), "llama-3.1-8b", "h100-sxm", name="my-h100")
    path = save_profile(cal.profile)
    assert path == tmp_path / "engines" / "my-h100.toml"
    e = estimate("llama-3.1-8b", "h100-sxm", isl=512, osl=256, concurrency=1, engine="my-h100")
    assert e.engine == "my-h100"
    assert "fitted" in str(e.provenance)
    assert e.tpot_s == pytest.approx(_measure(truth, [1])[0].tpot_s, rel=0.02)


def test_needs_points():
    with pytest.raises(InputError, match="at least one measured operating point"):
        calibrate([], "llama-3.1-8b", "h100-sxm")
