"""Engine profiles: the shipped ones, lookup by name, file and saved calibration, dtype fallback."""

import pytest

from tests import hand as h
from truecost.errors import UnknownNameError
from truecost.perf.engine import engine, engines


def test_shipped_profiles_are_sourced():
    shipped = engines()
    assert {"tuned", "vllm"} <= set(shipped)
    for key, e in shipped.items():
        assert e.key == key and e.source.strip() and e.retrieved.year >= 2024, key
        assert e.calibration is None  # shipped profiles are not fitted to anything
    assert engine() == shipped["tuned"]  # the default
    assert engine("VLLM") == shipped["vllm"]


def test_matmul_efficiency_by_dtype():
    e = h.engine(compute_efficiency={"bf16": 0.6, "fp8": 0.4})
    assert e.matmul_efficiency("fp8") == 0.4
    assert e.matmul_efficiency("fp16") == 0.6  # fp16 runs at the bf16 level
    assert e.matmul_efficiency("int8") == 0.6  # no int8 level given: the 16-bit one


def test_profiles_from_a_file_and_from_the_saved_calibrations(tmp_path, monkeypatch):
    path = h.engine_file(tmp_path, "mine", step_overhead_fixed_s=0.004)
    assert engine(path).step_overhead_fixed_s == 0.004
    assert engine(h.engine()) == h.engine()  # a profile object is used as given
    monkeypatch.setenv("TRUECOST_HOME", str(tmp_path / "home"))
    saved = tmp_path / "home" / "engines"
    saved.mkdir(parents=True)
    h.engine_file(saved, "my-fit", step_overhead_fixed_s=0.007)
    assert engine("my-fit").step_overhead_fixed_s == 0.007
    with pytest.raises(UnknownNameError, match="unknown engine profile 'nope'"):
        engine("nope")
