"""How many replicas of a deployment serve a peak request rate within latency objectives, and
what they cost per hour: the sizing ``compare`` and ``plan`` share.

Mean objectives (``ttft_s``) are judged on the steady-state model: the most live sequences at
which every modelled mean holds (``mean_slo_point``). Percentile objectives (``ttft_p95_s``) are
judged on simulations of one replica (``perf/simulate.py``) under Poisson arrivals at its share of
the peak: ``tail_replicas`` searches the replica count directly, from the steady-state bound up,
doubling until a simulation meets every objective, then bisecting between the last miss and the
first meet. Runs are seeded (``SIM_SEED``), so every search sees the same arrivals. Left out:
length spread (requests are simulated at the workload's mean lengths) and autoscaling.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from .cost import HourlyCost, deployment_cost
from .perf.deployment import Deployment
from .perf.power import mean_power_w_per_gpu, step_power
from .perf.serving import OperatingPoint, operating_point
from .perf.simulate import Objective, Simulation, simulate
from .perf.traffic import Fixed, Poisson
from .workload import SelfHostedCandidate

__all__ = ["SIM_REQUESTS", "SIM_SEED", "SIM_WARMUP", "TailSizing", "failures", "hourly_cost", "largest_passing",
           "mean_slo_point", "serves", "simulate_at", "steady_value", "tail_replicas"]

# Percentile SLOs are judged on simulations of one replica under Poisson arrivals at the per-
# replica peak rate: this many requests (the first SIM_WARMUP, sent into an empty engine, left out
# of the percentiles), seeded, so every run of the search sees the same arrivals. The search is
# over the replica count, so it needs no finer rate than the one that changes the cost.
SIM_REQUESTS = 600
SIM_WARMUP = 100
SIM_SEED = 0
# The search gives up on a configuration that misses even at this fraction of its steady-state
# capacity bound (the objective is out of reach of queueing-free service, not of load).
GIVE_UP_FRACTION = 1 / 64

# Steady-state field of each objective's metric (ITL's mean is TPOT's in the steady state).
_STEADY_FIELD = {"ttft": "ttft_s", "tpot": "tpot_s", "itl": "tpot_s", "e2e": "e2e_s"}


def steady_value(op: OperatingPoint, metric: str) -> float:
    """The steady-state mean of ``metric`` ("ttft", "tpot", "itl", "e2e") at ``op``."""
    return getattr(op, _STEADY_FIELD[metric])


def mean_slo_point(dep: Deployment, means: Sequence[Objective], isl: float, osl: float, c_max: int,
                   cached: float) -> OperatingPoint | None:
    """The steady-state operating point with the most live sequences (at most ``c_max``) at
    which every objective holds as a mean (None if even one sequence misses one). TTFT, TPOT and
    E2E all grow with concurrency, so bisection finds the edge."""

    def within(c: int) -> OperatingPoint | None:
        op = operating_point(dep, c, isl, osl, cached=cached)
        return op if all(steady_value(op, o.metric) <= o.limit_s for o in means) else None

    return largest_passing(c_max, within)


T = TypeVar("T")


def largest_passing(c_max: int, check: Callable[[int], T | None]) -> T | None:
    """``check(c)`` at the largest c in 1..``c_max`` where it passes (is not None), for a check
    that passes up to an edge and fails beyond it (latencies grow with concurrency): bisection."""
    best = check(1)
    if best is None or c_max <= 1:
        return best
    top = check(c_max)
    if top is not None:
        return top
    lo, hi = 1, c_max
    while hi - lo > 1:
        mid = (lo + hi) // 2
        r = check(mid)
        if r is not None:
            lo, best = mid, r
        else:
            hi = mid
    return best


def serves(sim: Simulation, objectives: Sequence[Objective] | None = None) -> bool:
    """Whether one replica's run keeps up with its arrivals and meets every objective (the run's
    own when ``objectives`` is None). A saturated run (its queue grows with the run's length)
    does not serve its load whatever its objectives say: a TPOT objective alone is met by a
    replica whose queue grows without bound."""
    return not sim.saturated and sim.meets(objectives)


def failures(sim: Simulation, objectives: Sequence[Objective] | None = None) -> list[str]:
    """What a run that does not ``serve`` got wrong (``objectives``: the run's own), for messages."""
    return sim.misses(objectives) + (["saturated (arrivals outpace completions)"] if sim.saturated else [])


def simulate_at(dep: Deployment, rate: float, isl: int, osl: int, hit: float,
                objectives: Sequence[Objective]) -> Simulation:
    """One replica of ``dep`` under Poisson arrivals at ``rate`` (the sizing's seeded run)."""
    return simulate(dep, Poisson(rate), Fixed(isl, osl), requests=SIM_REQUESTS, warmup=SIM_WARMUP, seed=SIM_SEED,
                    objectives=tuple(objectives), prefix_hit_fraction=hit)


@dataclass(frozen=True)
class TailSizing:
    """The outcome of ``tail_replicas``. ``replicas`` None: no count was found (``how`` says why,
    or is empty when the search stopped because the configuration could not win)."""

    replicas: int | None
    rate_rps: float  # the per-replica rate the count was verified at (0 when none)
    how: str
    simulation: Simulation | None = None  # the run that met at ``rate_rps`` (or the last miss)
    # When simulation raised the count above the steady-state bound: the objectives missed with
    # one replica fewer (they bind), and whether that run could not keep up. Empty and False when
    # the bound's count met.
    raised_by: tuple[Objective, ...] = ()
    saturated_below: bool = False


def tail_replicas(dep: Deployment, tails: Sequence[Objective], isl: int, osl: int, hit: float, peak_rps: float,
                  upper_rps: float, worth: Callable[[int], bool]) -> TailSizing:
    """The fewest replicas whose share of the peak, ``peak_rps / k``, one replica serves (keeps
    up with, ``serves``) with its simulated figures within ``tails``: k from the steady-state bound (``upper_rps`` per
    replica) up, doubling until one meets, then bisection between the last miss and the first
    meet. Stops early when ``worth(k)`` says k replicas cannot beat a cheaper configuration.
    Gives up when even ``GIVE_UP_FRACTION`` of the bound misses."""
    k = bound = max(1, math.ceil(peak_rps / upper_rps))
    missed, miss_sim = 0, None
    while True:
        if not worth(k):
            return TailSizing(None, 0.0, "")
        sim = simulate_at(dep, peak_rps / k, isl, osl, hit, tails)
        if serves(sim):
            met_sim = sim
            break
        if peak_rps / k < upper_rps * GIVE_UP_FRACTION:
            return TailSizing(None, 0.0, f"{failures(sim)[0]} even at {peak_rps / k:.3g} req/s", sim)
        missed, miss_sim, k = k, sim, 2 * k
    while k - missed > 1:  # the answer is in (missed, k]
        mid = (missed + k) // 2
        if not worth(mid):
            break
        sim = simulate_at(dep, peak_rps / mid, isl, osl, hit, tails)
        if serves(sim):
            k, met_sim = mid, sim
        else:
            missed, miss_sim = mid, sim
    how = f"meets at {peak_rps / k:.3g} req/s" + (f", misses at {peak_rps / missed:.3g}" if missed else "")
    raised = miss_sim is not None and k > bound  # simulation needed more replicas than the bound
    raised_by = tuple(o for o in tails if not miss_sim.meets([o])) if raised else ()
    return TailSizing(k, peak_rps / k, how, met_sim, raised_by, raised and miss_sim.saturated)


def hourly_cost(c: SelfHostedCandidate, dep: Deployment, replicas: int, op: OperatingPoint, capacity_rps: float,
                mean_rps: float) -> HourlyCost:
    """$/hour of ``replicas`` replicas of ``dep``, rented or owned as candidate ``c`` says. Owned
    GPUs pay for the modelled power at the load they carry on average (busy share = the mean
    rate ``mean_rps`` / the replicas' capacity)."""
    draw = step_power(dep, op.step)
    watts = None if draw is None else mean_power_w_per_gpu(draw, mean_rps / (replicas * capacity_rps))
    return deployment_cost(dep.gpu, dep.gpus * replicas, c.basis, usd_per_gpu_hour=c.usd_per_gpu_hour,
                           ownership=c.ownership, power_w_per_gpu=watts)
