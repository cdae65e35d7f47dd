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


# ---- messages and edges, by hand -----------------------------------------------------------------

def test_show_quotes_values_in_short_form():
    from truecost.checks import show

    assert show(10**15 - 1) == "999999999999999"  # below 1e15: every digit
    assert show(10**15) == "1e+15"  # from 1e15: three significant digits
    assert show(2**998) == "2.68e+300"  # 999 bits: still a float
    # from 1,000 bits, a count of digits: 2**999 = 5.36e300 has 301 (it once said 302, from
    # 1000 bits × log10 2 = 301.03, + 1); 10**400 has 401, 10**400 − 1 has 400
    assert show(2**999) == "a 301-digit number" and show(-(2**999)) == "a 301-digit number"
    assert show(10**400) == "a 401-digit number" and show(10**400 - 1) == "a 400-digit number"
    assert show(10**5000) == "a 5,001-digit number"  # past str()'s 4,300-digit limit
    assert show("x") == "'x'" and show(None) == "None" and show(True) == "True" and show(0.5) == "0.5"


def test_read_text_says_why_not_in_one_line(tmp_path):
    import os

    from truecost.errors import CatalogError

    missing = tmp_path / "missing.csv"
    with pytest.raises(InputError) as e:
        read_text(missing)
    assert str(e.value) == f"{missing}: file not found"
    afile = tmp_path / "a.txt"
    afile.write_text("x")
    with pytest.raises(InputError) as e:
        read_text(afile / "b.csv")
    assert str(e.value) == f"{afile / 'b.csv'}: file not found (a part of the path is not a folder)"
    with pytest.raises(CatalogError) as e:  # the error type is the caller's
        read_text(tmp_path, "usage log", CatalogError)
    assert str(e.value) == f"{tmp_path}: cannot read a folder; give the usage log file inside it"
    with pytest.raises(InputError) as e:
        read_text(tmp_path)
    assert str(e.value) == f"{tmp_path}: cannot read a folder; give the input file inside it"
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputError) as e:
        read_text(fifo, "suite")
    assert str(e.value) == f"{fifo}: not a regular file (a pipe or device); give a suite file"
    binary = tmp_path / "b.bin"
    binary.write_bytes(b"ok\xff")
    with pytest.raises(CatalogError) as e:
        read_text(binary, "catalog", CatalogError)
    assert str(e.value) == f"{binary}: not a UTF-8 text file (byte 2 is not text); give a catalog file"
    looped = tmp_path / "loop"
    looped.symlink_to(looped)  # a link to itself: stat fails with "too many levels of symbolic links"
    with pytest.raises(InputError) as e:
        read_text(looped)
    assert str(e.value) == f"{looped}: cannot read it (too many levels of symbolic links)"


def test_api_key_names_where_a_bad_key_came_from(monkeypatch):
    monkeypatch.delenv("TRUECOST_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(InputError) as e:
        api_key("sk-a b")
    assert str(e.value) == "the API key has whitespace or a control character inside it; set it to the key alone"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-a\tb")
    with pytest.raises(InputError) as e:
        api_key()
    assert str(e.value).startswith("OPENAI_API_KEY has whitespace")


def test_scrub_removes_every_written_form_of_the_key():
    from truecost.checks import scrub

    key = 'k"e/y'
    # as sent, as JSON writes it (k\"e/y), as a URL writes it (k%22e%2Fy), in any case
    text = 'raw k"e/y json "k\\"e/y" url ?key=k%22e%2Fy upper K"E/Y'
    assert scrub(text, key) == 'raw *** json "***" url ?key=*** upper ***'
    # the longer form first: a key inside its own JSON escape is masked whole, not in part
    assert scrub('a\\"b', 'a"b') == "***"
    assert scrub("", key) == "" and scrub("text", None) == "text"


def test_write_atomic_writes_a_hidden_temporary_beside_the_target(tmp_path):
    seen = []

    def write(p: Path) -> None:
        seen.append(p)
        p.write_text("done")

    target = tmp_path / "sub" / "out.json"
    assert write_atomic(target, write) == target and target.read_text() == "done"
    (tmp,) = seen  # beside the target (so the rename is atomic), hidden, marked .tmp, then gone
    assert tmp.parent == target.parent and tmp.name.startswith(".out.json.") and tmp.name.endswith(".tmp")
    assert not tmp.exists()

    def fails(p: Path) -> None:
        raise OSError()  # no strerror: the error's type names it

    with pytest.raises(InputError) as e:
        write_atomic(tmp_path / "x.json", fails)
    assert str(e.value) == f"cannot write {tmp_path / 'x.json'}: oserror"
    assert list(tmp_path.glob(".x.json.*")) == []  # no half-written file left


def test_scrub_masks_the_longest_form_first():
    from truecost.checks import scrub

    # key "x%": its URL form "x%25" starts with the key itself; masking the key first would leave
    # "***25" behind
    assert scrub("token=x%25 end", "x%") == "token=*** end"
