"""Engine profiles: the shipped ones, lookup by name, file and saved calibration, dtype fallback."""

import pytest

from tests import hand as h
from truecost.errors import CatalogError, InputError, UnknownNameError
from truecost.perf.engine import check_engine_name, engine, engines


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


def test_fp16_always_runs_at_the_bf16_level():
    # even where the profile lists its own fp16 level, fp16 matmuls use the bf16 one
    e = h.engine(compute_efficiency={"bf16": 0.6, "fp16": 0.3})
    assert e.matmul_efficiency("fp16") == 0.6


def test_step_overhead_is_fixed_plus_per_layer_times_layers():
    # 2 ms + 80 layers x 50 µs = 6 ms
    e = h.engine(step_overhead_fixed_s=0.002, step_overhead_per_layer_s=5e-5)
    assert e.overhead_s(80) == pytest.approx(0.002 + 80 * 5e-5, rel=1e-12)


def test_engines_lists_saved_profiles_after_the_shipped_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUECOST_HOME", str(tmp_path / "home"))
    saved = tmp_path / "home" / "engines"
    saved.mkdir(parents=True)
    h.engine_file(saved, "my-fit", step_overhead_fixed_s=0.007)
    h.engine_file(saved, "vllm", step_overhead_fixed_s=0.009)  # a shipped key: the shipped one wins
    (saved / "notes.txt").write_text("not a profile")
    shipped = engines(saved=False)
    everything = engines()
    assert "my-fit" not in shipped and engines(saved=True) == everything
    assert set(everything) == set(shipped) | {"my-fit"}
    assert everything["my-fit"].key == "my-fit" and everything["my-fit"].step_overhead_fixed_s == 0.007
    assert everything["vllm"] == shipped["vllm"] and everything["vllm"].step_overhead_fixed_s != 0.009


def test_a_name_ending_in_toml_or_with_a_slash_is_a_path_not_a_saved_profile(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUECOST_HOME", str(tmp_path / "home"))
    saved = tmp_path / "home" / "engines"
    saved.mkdir(parents=True)
    h.engine_file(saved, "mine", step_overhead_fixed_s=0.007)
    assert engine("mine").step_overhead_fixed_s == 0.007
    h.engine_file(saved, "mine.toml")  # saved as engines/mine.toml.toml: never reached by "mine.toml"
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CatalogError, match="^mine.toml: file not found$"):
        engine("mine.toml")  # read as a file in the working directory, where there is none
    # a saved profile named like a shipped one is not reached by that name
    h.engine_file(saved, "tuned", step_overhead_fixed_s=0.009)
    assert engine("tuned") == engines(saved=False)["tuned"]


@pytest.mark.parametrize("name", ["my-fit", "A.b_c-1", "x" * 64])
def test_plain_names_can_name_a_saved_profile(name):
    assert check_engine_name(name) == name


@pytest.mark.parametrize("name", ["", "-x", "a/b", "../up", "x" * 65, "fit.toml", "FIT.TOML"])
def test_other_names_cannot(name):
    with pytest.raises(InputError) as e:
        check_engine_name(name)
    assert str(e.value) == (f"engine name '{name}' is not a plain identifier; use letters, digits, "
                            "'.', '_' and '-' (at most 64, no path separators)")


@pytest.mark.parametrize("name", ["vllm", "VLLM", "tuned"])
def test_a_shipped_key_cannot_name_a_saved_profile(name):
    with pytest.raises(InputError) as e:
        check_engine_name(name)
    assert str(e.value) == (f"engine name '{name}' is a shipped profile and would be shadowed by it; "
                            "choose another --name")
