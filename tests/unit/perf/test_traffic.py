"""Traffic for the simulation: length distributions keep their stated means, and a stored bench
run replays request by request."""

import numpy as np
import pytest

from truecost.bench.record import RequestRecord
from truecost.errors import InputError
from truecost.perf.traffic import (
    Burst, ClosedLoop, Constant, Empirical, Fixed, LogNormal, Poisson, Replay, Uniform, from_run,
)
from truecost.store import Store


def test_log_normal_keeps_its_means_and_spread():
    # μ = ln(mean) − σ²/2 makes E[X] = mean; 50,000 draws: the sample mean is within ~1% (σ 0.8
    # gives a coefficient of variation sqrt(e^0.64 − 1) = 0.94, so the standard error is 0.4%).
    isl, osl = LogNormal(1000, 200, sigma=0.8).draw(50_000, np.random.default_rng(0))
    assert isl.mean() == pytest.approx(1000, rel=0.02) and osl.mean() == pytest.approx(200, rel=0.02)
    assert np.std(np.log(isl)) == pytest.approx(0.8, rel=0.03)
    assert isl.min() >= 1


def test_uniform_and_empirical():
    isl, osl = Uniform(10, 20, 5, 5).draw(1000, np.random.default_rng(1))
    assert isl.min() == 10 and isl.max() == 20 and set(osl.tolist()) == {5}
    pairs = ((100, 7), (300, 9))
    isl, osl = Empirical(pairs).draw(400, np.random.default_rng(2))
    assert set(zip(isl.tolist(), osl.tolist(), strict=True)) == set(pairs)  # pairs stay together
    assert Fixed(5, 6).means == (5.0, 6.0) and Empirical(pairs).means == (200.0, 8.0)


@pytest.mark.parametrize("make, message", [
    (lambda: Fixed(0, 10), "input and output lengths must be at least 1 token, got 0"),
    (lambda: Uniform(10, 5, 1, 1), "uniform lengths need min <= max"),
    (lambda: LogNormal(100, 100, sigma=5), "log-normal sigma must be within [0, 3], got 5"),
    (lambda: Empirical(()), "empirical lengths need at least one (input, output) pair"),
    (lambda: Poisson(-1).send_times(3, 0), "request rate must be a positive number of requests/s, got -1"),
])
def test_bad_traffic(make, message):
    with pytest.raises(InputError) as e:
        make()
    assert str(e.value) == message


def rec(i: int, send: float, prompt: int, completion: int, ok: bool = True) -> RequestRecord:
    return RequestRecord(point=0, index=i, intended_send=send, actual_send=send + 0.001, end=send + 1,
                         first_token=send + 0.1, prompt_tokens=prompt, completion_tokens=completion,
                         error_kind=None if ok else "http_500")


def test_a_stored_run_replays_request_by_request():
    records = [rec(0, 1000.0, 120, 30), rec(1, 1000.5, 80, 10, ok=False), rec(2, 1002.0, 200, 50)]
    with Store() as s:
        s.add_requests("run-x", [r.to_row() for r in records])
    replay, lengths = from_run("run-x")
    assert replay.send_times(2, 0) == [0.0, 2.0]  # the failed request is left out
    assert lengths.pairs == ((120, 30), (200, 50)) and lengths.ordered
    with pytest.raises(InputError) as e:
        from_run("nope")
    assert str(e.value) == "run nope has no successful requests with server-reported token counts to replay"


# ---- every arrival process and length distribution, by hand ------------------------------------

def test_closed_loop_takes_one_client_and_refuses_none():
    assert str(ClosedLoop(1)) == "closed loop at concurrency 1"
    with pytest.raises(InputError) as e:
        ClosedLoop(0)
    assert str(e.value) == "concurrency must be at least 1, got 0"


def test_open_loop_send_times():
    # constant 4 req/s: a send every 1/4 s from t = 0
    assert Constant(4).send_times(3, seed=99) == [0.0, 0.25, 0.5]
    assert str(Constant(4)) == "constant 4 req/s" and str(Poisson(2.5)) == "Poisson 2.5 req/s"
    a, b = Poisson(2.0).send_times(20_000, 7), Poisson(2.0).send_times(20_000, 7)
    assert a == b and a != Poisson(2.0).send_times(20_000, 8)  # seeded: the same run, the same sends
    assert len(a) == 20_000 and a[0] == 0.0
    # exponential gaps of mean 1/2 s: 19,999 of them average 0.5 within ~4 standard errors (0.7%)
    assert (a[-1] - a[0]) / 19_999 == pytest.approx(0.5, rel=0.03)
    assert Burst().send_times(3, 0) == [0.0, 0.0, 0.0] and str(Burst()) == "all at once"


def test_replay_offsets_speed_and_too_few_sends():
    # logged at 100, 104 and 110 s: offsets 0, 4 and 10 s; at 2x, 0, 2 and 5 s
    assert Replay((104.0, 100.0, 110.0)).send_times(3, 0) == [0.0, 4.0, 10.0]
    assert Replay((104.0, 100.0, 110.0), speed=2).send_times(2, 0) == [0.0, 2.0]
    assert str(Replay((1.0,) * 1200)) == "replay of 1,200 sends"
    assert str(Replay((1.0, 2.0), speed=2)) == "replay of 2 sends at 2x"
    with pytest.raises(InputError) as e:
        Replay((1.0, 2.0)).send_times(3, 0)
    assert str(e.value) == "the replay has 2 send times; asked for 3 requests"


def test_fixed_and_uniform_lengths():
    isl, osl = Fixed(5, 6).draw(3, np.random.default_rng(0))
    assert isl.tolist() == [5, 5, 5] and osl.tolist() == [6, 6, 6]
    assert isl.dtype == np.int64 and osl.dtype == np.int64
    assert str(Fixed(5, 6)) == "ISL 5 / OSL 6"
    with pytest.raises(InputError, match="got 0"):
        Fixed(5, 0)
    # (10 + 20) / 2 = 15 and (4 + 8) / 2 = 6
    assert Uniform(10, 20, 4, 8).means == (15.0, 6.0)
    assert str(Uniform(10, 20, 4, 8)) == "ISL 10-20 / OSL 4-8 uniform"
    assert Uniform(1, 1, 1, 1).draw(2, np.random.default_rng(0))[0].tolist() == [1, 1]  # min = max
    for bad, msg in [((0, 5, 1, 1), "input and output lengths must be at least 1 token, got 0"),
                     ((5, 5, 0, 1), "input and output lengths must be at least 1 token, got 0"),
                     ((5, 5, 3, 2), "uniform lengths need min <= max")]:
        with pytest.raises(InputError) as e:
            Uniform(*bad)
        assert str(e.value) == msg


def test_log_normal_bounds_and_the_one_token_floor():
    # sigma 0: every draw is the mean itself, rounded; a mean of 1 stays 1 (the floor is 1 token)
    isl, osl = LogNormal(100.4, 1, sigma=0).draw(4, np.random.default_rng(0))
    assert isl.tolist() == [100] * 4 and osl.tolist() == [1] * 4 and isl.dtype == np.int64
    assert LogNormal(10, 20, sigma=3).means == (10.0, 20.0)
    assert str(LogNormal(1000, 200)) == "ISL ~1000 / OSL ~200 log-normal (sigma 0.8)"
    for kw, msg in [({"isl_mean": 0.5, "osl_mean": 5}, "mean lengths must be at least 1 token, got 0.5"),
                    ({"isl_mean": 5, "osl_mean": 0.5}, "mean lengths must be at least 1 token, got 0.5"),
                    ({"isl_mean": 5, "osl_mean": 5, "sigma": -0.1}, "log-normal sigma must be within [0, 3], got -0.1"),
                    ({"isl_mean": 5, "osl_mean": 5, "sigma": 3.1}, "log-normal sigma must be within [0, 3], got 3.1")]:
        with pytest.raises(InputError) as e:
            LogNormal(**kw)
        assert str(e.value) == msg


def test_empirical_in_order_and_sampled():
    pairs = ((1, 2), (3, 4), (5, 6))
    isl, osl = Empirical(pairs, ordered=True).draw(5, np.random.default_rng(0))
    assert isl.tolist() == [1, 3, 5, 1, 3] and osl.tolist() == [2, 4, 6, 2, 4]  # cycles in order
    isl, _ = Empirical(pairs).draw(300, np.random.default_rng(0))
    assert isl.tolist() != [1, 3, 5] * 100 and set(isl.tolist()) == {1, 3, 5}  # sampled, not cycled
    assert Empirical(((1, 10), (3, 30))).means == (2.0, 20.0)
    assert str(Empirical(((1, 1),) * 1200)) == "1,200 measured lengths"
    assert str(Empirical(pairs, ordered=True)) == "3 measured lengths in order"
    for bad in (((5, 5), (7, 0)), ((5, 5), (0, 7))):  # either length of any pair
        with pytest.raises(InputError) as e:
            Empirical(bad)
        assert str(e.value) == "input and output lengths must be at least 1 token, got 0"


def test_a_stored_run_point_by_point_from_an_open_store():
    records = [rec(0, 1000.0, 120, 30), rec(1, 1003.0, 200, 50)]
    records.append(RequestRecord(point=1, index=2, intended_send=None, actual_send=2000.0, end=2001.0,
                                 first_token=2000.1, prompt_tokens=7, completion_tokens=9))
    records.append(RequestRecord(point=1, index=3, intended_send=None, actual_send=2000.5, end=2001.0,
                                 first_token=2000.6, prompt_tokens=8, completion_tokens=3))
    with Store() as s:
        s.add_requests("run-y", [r.to_row() for r in records])
        replay, lengths = from_run("run-y", point=1, store=s)
        # no intended send time (a closed loop): the actual ones, 2000 and 2000.5 s
        assert replay.send_times(2, 0) == [0.0, 0.5] and lengths.pairs == ((7, 9), (8, 3))
        replay, _ = from_run("run-y", store=s)  # every point
        assert replay.send_times(4, 0) == [0.0, 3.0, 1000.0, 1000.5]
    replay, lengths = from_run("run-y", point=0)
    # intended sends 1000 and 1003 s (the actual ones are 1 ms later)
    assert replay.send_times(2, 0) == [0.0, 3.0] and lengths.pairs == ((120, 30), (200, 50))


def test_lengths_are_whole_tokens_even_from_float_inputs():
    # a length given as 5.0 (e.g. read from JSON) is still drawn as int64 tokens
    isl, osl = Fixed(5.0, 6.0).draw(2, np.random.default_rng(0))
    assert isl.dtype == np.int64 and osl.dtype == np.int64 and isl.tolist() == [5, 5]
    isl, osl = Empirical(((7.0, 9.0),), ordered=True).draw(2, np.random.default_rng(0))
    assert isl.dtype == np.int64 and osl.dtype == np.int64 and osl.tolist() == [9, 9]
