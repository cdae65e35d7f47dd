"""Traffic for the simulation: length distributions keep their stated means, and a stored bench
run replays request by request."""

import numpy as np
import pytest

from truecost.bench.record import RequestRecord
from truecost.errors import InputError
from truecost.perf.traffic import Empirical, Fixed, LogNormal, Poisson, Uniform, from_run
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
