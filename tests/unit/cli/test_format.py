"""The human formatters: ordinary figures as people write them, absurd ones still one short token."""

import pytest

from truecost.cli.format import percent, seconds, times, usd


@pytest.mark.parametrize("x, text", [
    (None, "-"), (0.0, "$0"), (0.000215, "$0.000215"), (0.5, "$0.50"), (1_307.4, "$1,307"),
    (9.99e14, "$999,000,000,000,000"),   # under a quadrillion: every digit
    (1e15, "$1e+15"), (2.2e302, "$2.2e+302"),  # from a quadrillion: mantissa and exponent
    (float("inf"), "-"),
])
def test_usd(x, text):
    assert usd(x) == text


@pytest.mark.parametrize("x, text", [
    (None, "-"), (0.0547, "54.7 ms"), (1.0, "1.00 s"), (999_999.0, "999999.00 s"),
    (1e6, "1e+06 s"), (2.2011616934e302, "2.2e+302 s"),
])
def test_seconds(x, text):
    assert seconds(x) == text


@pytest.mark.parametrize("x, text", [
    (0.0, "0%"), (0.934, "93%"), (1.5, "150%"), (9_999.0, "999900%"), (1e4, "1e+06%"),
    (9.3e298, "9.3e+300%"),
])
def test_percent(x, text):
    assert percent(x) == text


@pytest.mark.parametrize("x, text", [
    (0.16, "0.16x"), (1.0, "1.00x"), (23_920.0, "23,920.00x"), (1e6, "1e+06x"),
])
def test_times(x, text):
    assert times(x) == text
