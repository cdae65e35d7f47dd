"""sizing: the replica search, the bisection it shares with the steady-state sizing, and the
$/hour of a sized deployment, each against an oracle the test states.

``tail_replicas`` is tested on a stand-in for one replica's simulation whose answer is a rule
the test chooses (a replica serves its share of the peak iff the share is at most a set rate),
so the fewest replicas is a ceiling worked out by hand and the search's path (double from the
steady-state bound, then bisect) is traced by hand from its docstring. The real simulation is
tested in tests/unit/perf/test_simulate*.py; ``simulate_at`` is checked here for the seeded run
it documents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from tests import hand
from truecost import sizing
from truecost.perf.roofline import OpCost, StepTime
from truecost.perf.simulate import Objective
from truecost.sizing import GIVE_UP_FRACTION, TailSizing, failures, hourly_cost, largest_passing, serves, tail_replicas
from truecost.workload import SelfHostedCandidate

TTFT = Objective("ttft", "p95", 0.5)
TPOT = Objective("tpot", "p95", 0.05)


# ---- largest_passing: bisection against a scan ----

@pytest.mark.parametrize("c_max", range(1, 14))
def test_largest_passing_finds_the_edge_of_every_monotone_check(c_max):
    """A check that passes for c <= edge: the answer is the check's value at min(edge, c_max)
    (None when even c = 1 fails), found in at most 2 + ceil(log2(c_max)) checks."""
    for edge in range(0, c_max + 3):
        calls: list[int] = []

        def check(c: int, edge: int = edge, calls: list[int] = calls) -> str | None:
            calls.append(c)
            return f"at {c}" if c <= edge else None

        got = largest_passing(c_max, check)
        want = None if edge == 0 else f"at {min(edge, c_max)}"
        assert got == want, (c_max, edge)
        assert len(calls) <= 2 + math.ceil(math.log2(c_max)), (c_max, edge, calls)
        if edge == 0 or c_max == 1:
            assert calls == [1]  # one sequence decides: no further check is spent


def test_largest_passing_at_two_checks_two():
    assert largest_passing(2, lambda c: c if c <= 2 else None) == 2
    assert largest_passing(2, lambda c: c if c <= 1 else None) == 1


# ---- serves and failures ----

@dataclass
class Run:
    """A stand-in for ``Simulation``: the objectives it misses, whether it saturated, the per-
    replica rate it ran at. ``misses(None)`` is the run's own objectives' misses."""

    rate: float
    saturated: bool
    missed: tuple[Objective, ...] = ()
    own: tuple[Objective, ...] = (TTFT, TPOT)

    def misses(self, objectives=None) -> list[str]:
        objs = self.own if objectives is None else objectives
        return [f"{o.metric} {o.stat} missed" for o in objs if o in self.missed]

    def meets(self, objectives=None) -> bool:
        return not self.misses(objectives)


def test_a_saturated_run_does_not_serve_even_when_it_meets_its_objectives():
    assert serves(Run(1.0, saturated=False))
    assert not serves(Run(1.0, saturated=True))
    assert not serves(Run(1.0, saturated=False, missed=(TTFT,)))


def test_serves_and_failures_judge_the_objectives_given_not_the_runs_own():
    run = Run(1.0, saturated=False, missed=(TTFT,))
    assert not serves(run) and serves(run, [TPOT])  # TTFT missed, TPOT met
    assert failures(run, [TPOT]) == []
    assert failures(run) == ["ttft p95 missed"]
    assert failures(Run(1.0, saturated=True, missed=(TTFT,)), [TTFT, TPOT]) == [
        "ttft p95 missed", "saturated (arrivals outpace completions)"]
    assert failures(Run(1.0, saturated=True), [TPOT]) == ["saturated (arrivals outpace completions)"]


# ---- tail_replicas: the search, on a rule the test sets ----

class Replica:
    """One replica serves its share of the peak iff the share <= ``ok_rps``; above it misses
    TTFT (and TPOT above ``tpot_rps``) and saturates above ``saturate_rps``. Records every
    simulated replica count (peak / rate)."""

    def __init__(self, peak: float, ok_rps: float, tpot_rps: float = math.inf, saturate_rps: float = math.inf):
        self.peak, self.ok, self.tpot, self.sat = peak, ok_rps, tpot_rps, saturate_rps
        self.counts: list[float] = []

    def __call__(self, dep, rate, isl, osl, hit, objectives) -> Run:
        assert (dep, isl, osl, hit) == ("dep", 100, 10, 0.25)  # passed through as given
        assert tuple(objectives) == (TTFT, TPOT)
        self.counts.append(round(self.peak / rate, 9))
        missed = tuple(o for o, limit in ((TTFT, self.ok), (TPOT, self.tpot)) if rate > limit)
        return Run(rate, saturated=rate > self.sat, missed=missed)


def search(monkeypatch, replica: Replica, upper_rps: float, worth=lambda k: True) -> TailSizing:
    monkeypatch.setattr(sizing, "simulate_at", replica)
    return tail_replicas("dep", [TTFT, TPOT], 100, 10, 0.25, replica.peak, upper_rps, worth)


def test_the_bound_met_at_once_is_checked_one_replica_below(monkeypatch):
    """Peak 10 req/s, steady-state bound 5 req/s per replica: start at ceil(10 / 5) = 2 replicas
    at 5 req/s each, which the replica serves (ok up to 5). The answer is the fewest, so the
    bisection in (0, 2] tries 1 replica (10 req/s, miss): 2 it is, at the bound, so nothing raised
    it (the miss is below the bound, not a reason for more)."""
    r = Replica(10.0, ok_rps=5.0)
    got = search(monkeypatch, r, upper_rps=5.0)
    assert r.counts == [2, 1]
    assert (got.replicas, got.rate_rps, got.how) == (2, 5.0, "meets at 5 req/s, misses at 10")
    assert type(got.replicas) is int
    assert got.simulation is not None and got.simulation.rate == 5.0  # the run that met
    assert (got.raised_by, got.saturated_below) == ((), False)


def test_a_bound_met_below_it_is_lowered(monkeypatch):
    """Peak 10, bound 2.5 req/s → start at 4; the replica serves up to 5 req/s, so the fewest is
    2: bisection in (0, 4] tries 2 (5 req/s, meets), then 1 (10, miss). Fewer than the bound: not
    raised."""
    r = Replica(10.0, ok_rps=5.0)
    got = search(monkeypatch, r, upper_rps=2.5)
    assert r.counts == [4, 2, 1]
    assert (got.replicas, got.how, got.raised_by) == (2, "meets at 5 req/s, misses at 10", ())


def test_a_bound_under_one_replica_starts_at_one(monkeypatch):
    """Peak 4 req/s, bound 5 req/s: ceil(0.8) = 1 replica, which serves 4 req/s."""
    r = Replica(4.0, ok_rps=5.0)
    got = search(monkeypatch, r, upper_rps=5.0)
    assert r.counts == [1] and (got.replicas, got.rate_rps, got.how) == (1, 4.0, "meets at 4 req/s")


def test_simulation_raises_the_count_doubling_then_bisecting(monkeypatch):
    """Peak 10 req/s, bound 5 → start at 2. The replica serves at most 1.5 req/s, so the fewest
    is ceil(10 / 1.5) = 7. Doubling: 2 (5 req/s, miss), 4 (2.5, miss), 8 (1.25, meets); bisection
    in (4, 8]: 6 (1.667, miss), 7 (1.429, meets). With 6 replicas TTFT misses (> 1.5), TPOT
    holds (<= 3) and the replica saturates (> 1.6): TTFT raised the count."""
    r = Replica(10.0, ok_rps=1.5, tpot_rps=3.0, saturate_rps=1.6)
    got = search(monkeypatch, r, upper_rps=5.0)
    assert r.counts == [2, 4, 8, 6, 7]
    assert type(got.replicas) is int
    assert (got.replicas, got.rate_rps) == (7, pytest.approx(10 / 7))
    assert got.how == "meets at 1.43 req/s, misses at 1.67"
    assert got.simulation.rate == pytest.approx(10 / 7)
    assert got.raised_by == (TTFT,)
    assert got.saturated_below is True


def test_bisection_between_odd_ends_stays_on_whole_replicas(monkeypatch):
    """Peak 30, bound 10 → 3. Serves at most 2.9 req/s: fewest ceil(30 / 2.9) = ceil(10.34) = 11.
    Doubling 3 (10), 6 (5), 12 (2.5, meets); bisection in (6, 12]: 9 (3.33, miss), then
    (9 + 12) // 2 = 10 (3.0, miss), 11 (2.73, meets). Below, not saturated: raised by TTFT only."""
    r = Replica(30.0, ok_rps=2.9)
    got = search(monkeypatch, r, upper_rps=10.0)
    assert r.counts == [3, 6, 12, 9, 10, 11]
    assert type(got.replicas) is int and got.replicas == 11
    assert got.how == "meets at 2.73 req/s, misses at 3"
    assert (got.raised_by, got.saturated_below) == ((TTFT,), False)


def test_the_search_gives_up_below_a_64th_of_the_bound(monkeypatch):
    """Never served: peak 10, bound 5 req/s. It gives up at the first miss whose share is below
    5 / 64 = 0.078125 req/s. Doubling from 2: 10/128 = 0.078125 is not below it (one more try),
    10/256 = 0.0390625 is."""
    assert GIVE_UP_FRACTION == 1 / 64
    r = Replica(10.0, ok_rps=0.0, tpot_rps=0.0)
    got = search(monkeypatch, r, upper_rps=5.0)
    assert r.counts == [2, 4, 8, 16, 32, 64, 128, 256]
    assert (got.replicas, got.rate_rps) == (None, 0.0)
    assert got.how == "ttft p95 missed even at 0.0391 req/s"
    assert got.simulation is not None and got.simulation.rate == 10 / 256  # the last miss
    assert (got.raised_by, got.saturated_below) == ((), False)


def test_a_count_not_worth_trying_stops_the_search(monkeypatch):
    """``worth(k)`` False (k replicas cannot beat a cheaper configuration): no count, no reason,
    no simulation at that k."""
    r = Replica(10.0, ok_rps=1.5)
    assert search(monkeypatch, r, 5.0, worth=lambda k: k < 8) == TailSizing(None, 0.0, "")
    assert r.counts == [2, 4]
    r = Replica(10.0, ok_rps=5.0)
    assert search(monkeypatch, r, 5.0, worth=lambda k: False) == TailSizing(None, 0.0, "")
    assert r.counts == []


def test_a_bisection_step_not_worth_trying_keeps_the_last_meet(monkeypatch):
    """The path of test_simulation_raises_the_count_doubling_then_bisecting, with 6 replicas
    declared not worth trying: the bisection stops and the doubling's meet, 8, stands."""
    r = Replica(10.0, ok_rps=1.5, tpot_rps=3.0)
    got = search(monkeypatch, r, 5.0, worth=lambda k: k != 6)
    assert r.counts == [2, 4, 8]
    assert (got.replicas, got.rate_rps, got.how) == (8, 1.25, "meets at 1.25 req/s, misses at 2.5")
    assert got.raised_by == (TTFT,)


# ---- simulate_at: the seeded run every search sees ----

def test_simulate_at_is_the_documented_seeded_run():
    """600 requests, the first 100 left out, seed 0, the objectives given, the prefix hits given
    (on an engine that caches prefixes, prefilling 2,048 - 75% = 512 tokens instead of 2,048 is
    fewer 512-token steps, so a shorter TTFT)."""
    dep = hand.deployment(hand.FAST, prefix_caching=True)
    cold = sizing.simulate_at(dep, 2.0, 2048, 8, 0.0, [TTFT])
    assert (cold.requests, cold.warmup, cold.seed, cold.objectives) == (600, 100, 0, (TTFT,))
    assert cold.ttft.n == 500
    again = sizing.simulate_at(dep, 2.0, 2048, 8, 0.0, [TTFT])
    assert again.ttft.mean == cold.ttft.mean and again.e2e.p95 == cold.e2e.p95  # seeded
    warm = sizing.simulate_at(dep, 2.0, 2048, 8, 0.75, [TTFT])
    assert warm.ttft.mean < cold.ttft.mean


# ---- hourly_cost: owned replicas pay for the power at their mean load ----

def test_owned_replicas_pay_for_the_modelled_power_at_the_mean_load():
    """Hand GPU (1 kW TDP, 2 TB/s, $20,000), hand engine power terms: idle 0.15, memory 0.6,
    compute 1.55 of TDP. A 10 ms step moving 1e10 bytes with 1 ms of dense peak work:
    memory busy 1e10 / 0.01 / 2e12 = 0.5, compute busy 0.1 → 0.15 + 0.3 + 0.155 = 0.605 → 605 W;
    idle 150 W. Two replicas of 5 req/s carrying a mean of 4 req/s are busy 4 / 10 = 0.4 of the
    time: 150 + 0.4 × 455 = 332 W per GPU. Energy at PUE 1.5 and $0.10/kWh: 0.332 × 1.5 × 0.1 =
    $0.0498/h per GPU; capex 20,000 × 1.45 / (4 × 8,760) = $0.827626/h per GPU; 2 GPUs."""
    dep = hand.deployment(hand.MEMORY_BOUND)
    step = StepTime(ops={"linear": OpCost(flops=0.0, bytes=1e10, compute_s=0.0, memory_s=0.009, peak_s=0.001)},
                    comm_s=0.0, overhead_s=0.001, decode_seqs=8, prefill_tokens=0)
    assert step.total_s == pytest.approx(0.010)
    c = SelfHostedCandidate.model_validate({
        "model": "hand-2l", "basis": "own",
        "ownership": {"life_years": 4, "server_overhead_fraction": 0.45, "usd_per_kwh": 0.10, "pue": 1.5}})
    got = hourly_cost(c, dep, 2, SimpleNamespace(step=step), capacity_rps=5.0, mean_rps=4.0)
    assert got.gpus == 2
    assert got.breakdown["energy"] == pytest.approx(2 * 0.332 * 1.5 * 0.10)
    assert got.breakdown["capex"] == pytest.approx(2 * 20_000 * 1.45 / (4 * 8760))
    assert "332 W/GPU modelled" in got.provenance.detail


def test_rented_replicas_pay_the_given_rent_per_gpu():
    """Rent $3/GPU-hour given: 3 replicas × 1 GPU × $3 = $9/h whatever the load, on a GPU with
    no published TDP too (rent needs no power model)."""
    dep = hand.deployment(hand.gpu("hand-no-tdp", memory_tb_s=2.0, tdp_w=None))
    step = StepTime(ops={}, comm_s=0.0, overhead_s=0.001, decode_seqs=1, prefill_tokens=0)
    c = SelfHostedCandidate.model_validate({"model": "hand-2l", "usd_per_gpu_hour": 3.0})
    got = hourly_cost(c, dep, 3, SimpleNamespace(step=step), capacity_rps=5.0, mean_rps=4.0)
    assert (got.usd_per_hour, got.gpus) == (pytest.approx(9.0), 3)
