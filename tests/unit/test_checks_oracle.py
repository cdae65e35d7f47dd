"""checks, against closed forms and the operating system: the digit count of huge ints against
Python's own decimal conversion, the bounds' edges, the quoting of values, the defaults named in
file messages, and a read that fails after the file was found (``/proc/self/mem``, readable by
stat, not by read)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path

import pytest

from truecost.checks import _digits, choice, number, read_bytes, show, write_atomic
from truecost.errors import InputError


@pytest.fixture
def any_int_str():
    """str() of ints of any size (Python stops at 4,300 digits by default), for the oracle only."""
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    yield
    sys.set_int_max_str_digits(old)


def test_digits_agree_with_decimal_conversion(any_int_str):
    # 10^k has k + 1 digits and 10^k - 1 has k; powers of two and their neighbours cross every
    # bit length: the first estimate from the bit length is off by one at many of them
    cases = [10**k + e for k in range(1, 400) for e in (-1, 0, 1)]
    cases += [2**b + e for b in range(1, 3000) for e in (-1, 0)]
    for v in cases:
        assert _digits(v) == len(str(v)), v
        assert _digits(-v) == len(str(v))


def test_show_quotes_text_and_prints_the_rest():
    assert show("a b") == "'a b'"
    assert show(None) == "None"
    assert show(Path("x/y")) == "x/y"  # str(), not repr() (PosixPath('x/y'))


def test_number_bounds_are_inclusive_and_exclusive_as_named():
    assert number(0, "--x", ge=0) == 0.0  # >= 0 admits 0
    assert number(0.5, "--x", lt=1) == 0.5
    with pytest.raises(InputError) as e:
        number(1, "--x", lt=1)  # < 1 does not admit 1
    assert str(e.value) == "--x must be a finite number < 1, got 1"


def test_choice_reads_an_enums_value():
    class Kind(Enum):
        A = "Alpha"

    assert choice(Kind.A, ["beta", "alpha"], "kind") == "alpha"  # str(Kind.A) would be 'Kind.A'


def test_file_messages_name_the_default_roles(tmp_path):
    with pytest.raises(InputError) as e:
        read_bytes(tmp_path)
    assert str(e.value) == f"{tmp_path}: cannot read a folder; give the input file inside it"
    with pytest.raises(InputError) as e:
        write_atomic(" ", lambda p: p.write_text("x"))
    assert str(e.value) == "give a file name for the output"
    with pytest.raises(InputError) as e:
        write_atomic(tmp_path, lambda p: p.write_text("x"))
    assert str(e.value) == f"{tmp_path}: is a folder; give a file name for the output"


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="Linux /proc only")
def test_a_read_that_fails_after_stat():
    # /proc/self/mem is a regular file to stat(); reading it from offset 0 fails with EIO
    with pytest.raises(InputError) as e:
        read_bytes("/proc/self/mem")
    assert str(e.value) == "/proc/self/mem: cannot read it (input/output error)"
