"""Schedules are pure: exact for constant rate, statistically right for Poisson (n = 10,000)."""

import itertools
import statistics

import pytest

from truecost.bench import schedule
from truecost.errors import InputError


def test_constant_is_exact_and_starts_where_asked():
    assert schedule.constant(4.0, 5, start=2000.0) == [2000.0, 2000.25, 2000.5, 2000.75, 2001.0]
    offsets = schedule.constant(7.0, 10_000)
    assert offsets[9_999] == pytest.approx(9_999 / 7.0, rel=1e-15)
    assert schedule.constant(3.0, 0) == []


def test_poisson_inter_arrivals_have_mean_one_over_rate_and_cv_one():
    rate, n = 20.0, 10_000
    t = schedule.poisson(rate, n, seed=42)
    gaps = [b - a for a, b in itertools.pairwise(t)]
    mean = statistics.fmean(gaps)
    # the mean of 9,999 exponential gaps has a relative standard error of 1/sqrt(9999) = 1%:
    # 3% is three standard errors
    assert mean == pytest.approx(1 / rate, rel=0.03)
    assert statistics.pstdev(gaps) / mean == pytest.approx(1.0, abs=0.05)  # CV of exponential = 1
    assert all(g >= 0 for g in gaps) and t[0] == 0.0


def test_poisson_is_seeded_and_shifted_by_start():
    a = schedule.poisson(5.0, 100, seed=1)
    assert schedule.poisson(5.0, 100, seed=1) == a
    assert schedule.poisson(5.0, 100, seed=2) != a
    b = schedule.poisson(5.0, 100, seed=1, start=2000.0)
    assert [y - 2000.0 for y in b] == pytest.approx(a, abs=1e-9)


def test_replay_sorts_and_compresses():
    assert schedule.replay([110.0, 100.0, 104.0], speed=2.0) == [0.0, 2.0, 5.0]
    assert schedule.replay([]) == []


def test_sweep_rates_step_up_to_the_maximum():
    assert schedule.sweep_rates(100.0, 4) == [25.0, 50.0, 75.0, 100.0]


def test_within_cuts_at_the_duration():
    assert schedule.within(schedule.constant(10.0, 100), 0.35) == [0.0, 0.1, 0.2, 0.3]


@pytest.mark.parametrize(("call", "message"), [
    (lambda: schedule.constant(0, 3), "request rate must be a positive number of requests/s, got 0"),
    (lambda: schedule.poisson(-1.0, 3, seed=0),
     "request rate must be a positive number of requests/s, got -1.0"),
    (lambda: schedule.replay([1.0], speed=0), "replay speed must be > 0, got 0"),
    (lambda: schedule.sweep_rates(10.0, 0), "sweep steps must be >= 1, got 0"),
])
def test_bad_schedules_are_input_errors(call, message):
    with pytest.raises(InputError) as e:
        call()
    assert str(e.value) == message
