"""How many decode steps cover the time to the next arrival (simulate._steps_to_cover), against
a brute-force count of the steps themselves, and the engine limits a replica takes from its
profile."""

from __future__ import annotations

import importlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import hand

sim_module = importlib.import_module("truecost.perf.simulate")


def _brute(gap: float, t0: float, slope: float) -> int:
    """Add up steps t0, t0 + slope, t0 + 2·slope, ... (as _decode_run's k·t0 + slope·k(k−1)/2)
    until they reach the gap."""
    k = 1
    while k * t0 + slope * k * (k - 1) / 2 < gap:
        k += 1
    return k


@pytest.mark.parametrize("gap, t0, slope, k", [
    (6.0, 2.0, 0.0, 3),  # 3 steps of 2 s
    (0.5, 0.01, 0.0, 50),  # 50 steps of 10 ms
    # 0.01·k + 1e-4·k(k−1)/2 ≥ 1: k = 73 gives 0.73 + 0.2628 = 0.9928, k = 74 gives 0.74 + 0.2701 = 1.0101
    (1.0, 0.01, 1e-4, 74),
    # a slope just above the 1e-15 cut-off on 65.5 ms steps: 4 steps cover 0.2620510 s, short of
    # 0.2621437 s, so 5 (the textbook root formula lost all its digits here and said 4)
    (0.26214366873998807, 0.0655127413042176, 1e-15, 5),
    # steps growing faster than twice t0 (b = t0 − slope/2 < 0): 1, 4, 7 -> 1, 5, 12
    (5.0, 1.0, 3.0, 2), (5.5, 1.0, 3.0, 3),
])
def test_steps_to_cover_by_hand(gap, t0, slope, k):
    assert sim_module._steps_to_cover(gap, t0, slope) == k == _brute(gap, t0, slope)


@settings(max_examples=300, deadline=None)
@given(t0=st.floats(1e-4, 1.0), rel_slope=st.one_of(st.floats(0.0, 2.0), st.floats(1e-15, 1e-9)),
       steps=st.floats(0.0, 2000.0))
def test_steps_to_cover_agrees_with_counting_the_steps(t0, rel_slope, steps):
    slope = rel_slope * t0
    gap = steps * t0
    assert sim_module._steps_to_cover(gap, t0, slope) == _brute(gap, t0, slope)


def test_a_replica_takes_its_limits_from_the_engine_profile():
    dep = hand.deployment(hand.FAST, chunked_prefill=False, max_batch_size=4096, max_num_tokens=512)
    lim = sim_module.Replica.of(dep, 100, 100).limits
    # the running batch cannot pass the step's token budget (one token per decoding sequence)
    assert (lim.max_batch, lim.token_budget, lim.chunked_prefill) == (512, 512, False)
    assert (lim.admission, lim.scheduling, lim.request_overhead_s) == ("max_length", "decode_first", 0.01)
