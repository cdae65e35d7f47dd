"""truecost.checks: the one layer every number, name, file and secret passes through."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from truecost.checks import (api_key, choice, finite_numbers, finite_result, number, read_text,
                             scrub, show, write_atomic)
from truecost.errors import InputError


@pytest.mark.parametrize(("value", "kwargs", "message"), [
    (math.nan, {}, "--x must be a finite number, got nan"),
    (-math.inf, {"gt": 0}, "--x must be a finite number > 0, got -inf"),
    (0, {"gt": 0, "le": 1}, "--x must be a finite number > 0 and <= 1, got 0"),
    (2.5, {"ge": 0, "lt": 1, "unit": "s"}, "--x must be a finite number >= 0 and < 1 s, got 2.5"),
    (10**400, {}, "--x must be a finite number, got a 401-digit number"),
    (True, {}, "--x must be a finite number, got True"),
    ("3", {}, "--x must be a finite number, got '3'"),
])
def test_number_refuses_with_the_option_and_the_range(value, kwargs, message):
    with pytest.raises(InputError) as e:
        number(value, "--x", **kwargs)
    assert str(e.value) == message


def test_number_returns_a_float_within_range():
    assert number(3, "--x", gt=0, le=3) == 3.0 and isinstance(number(3, "--x"), float)


def test_show_quotes_values_briefly():
    assert [show(x) for x in (7, 10**20, 1e-9, "a")] == ["7", "1e+20", "1e-09", "'a'"]


def test_finite_numbers_checks_every_numeric_argument_and_keeps_defaults():
    @finite_numbers(timeout_s="--timeout")
    def f(a, *, timeout_s=600.0, sizes=(), name="x"):
        return a

    assert f(1, timeout_s=2, sizes=[1, 2], name="n") == 1
    assert f.__kwdefaults__ == {"timeout_s": 600.0, "sizes": (), "name": "x"}  # the CLI quotes them
    for kwargs, message in (({"timeout_s": math.inf}, "--timeout must be a finite number, got inf"),
                            ({"sizes": [1, math.nan]}, "--sizes must be a finite number, got nan")):
        with pytest.raises(InputError) as e:
            f(1, **kwargs)
        assert str(e.value) == message
    with pytest.raises(InputError, match="^--a must be a finite number, got -inf$"):
        f(-math.inf)


def test_finite_result_names_what_overflowed():
    assert finite_result(1e308, "x", "hint") == 1e308
    with pytest.raises(InputError) as e:
        finite_result(1e308 * 10, "training FLOPs", "give fewer --tokens")
    assert str(e.value) == "the result overflows: training FLOPs is beyond 1.8e308, the largest number this arithmetic holds; give fewer --tokens"


def test_choice_ignores_case_and_lists_the_choices():
    assert choice("FP8", ["bf16", "fp8"], "precision") == "fp8"
    with pytest.raises(InputError) as e:
        choice("fp6", ["bf16", "fp8"], "precision")
    assert str(e.value) == "unknown precision 'fp6'; choose one of bf16, fp8"


def test_api_key_is_stripped_taken_from_the_environment_and_refused_with_inner_space(monkeypatch):
    assert api_key(None) is None and api_key("  ") is None
    monkeypatch.setenv("OPENAI_API_KEY", "sk-open\n")
    assert api_key() == "sk-open"
    monkeypatch.setenv("TRUECOST_API_KEY", " sk-tc ")
    assert api_key() == "sk-tc" and api_key("sk-given") == "sk-given"
    monkeypatch.setenv("TRUECOST_API_KEY", "sk-a\rb")
    with pytest.raises(InputError) as e:
        api_key()
    assert str(e.value) == ("TRUECOST_API_KEY has whitespace or a control character inside it; "
                            "set it to the key alone")


def test_scrub_masks_the_key_in_every_form():
    key = "sk-Ab/c+d"
    text = (f"a {key} b {key.upper()} c {key.lower()} d sk-Ab%2Fc%2Bd e "
            f'{{"k": "sk-Ab/c+d"}} f SK-AB%2FC%2BD')
    assert scrub(text, key) == 'a *** b *** c *** d *** e {"k": "***"} f ***'
    assert scrub(text, None) == text


def test_files_must_be_regular_utf8_text(tmp_path):
    (tmp_path / "t.txt").write_text("héllo")
    assert read_text(tmp_path / "t.txt") == "héllo"
    (tmp_path / "b.bin").write_bytes(b"ok\xff")
    with pytest.raises(InputError) as e:
        read_text(tmp_path / "b.bin", "CSV")
    assert str(e.value) == f"{tmp_path / 'b.bin'}: not a UTF-8 text file (byte 2 is not text); give a CSV file"


def test_write_atomic_replaces_whole_files_or_leaves_them_be(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")

    def fails(tmp: Path) -> None:
        tmp.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(InputError) as e:
        write_atomic(target, fails)
    assert str(e.value) == f"cannot write {target}: no space left on device"
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]
    assert write_atomic(target, lambda tmp: tmp.write_text("new")) == target
    assert target.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_finite_result_nan_is_undefined_not_an_overflow():
    with pytest.raises(InputError) as e:
        finite_result(math.inf - math.inf, "tokens", "give a smaller --tokens-per-param")
    assert str(e.value) == "the result is undefined: tokens is not a number; give a smaller --tokens-per-param"
