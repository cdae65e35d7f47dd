"""Traffic offered to a simulated replica: when requests arrive and how long they are.

Arrival processes (send times in seconds from the start of the run):
- ``ClosedLoop(C)``: C clients, each sends its next request the moment its last one ends; all C
  start at t = 0 (the burst start of ``vllm bench serve --max-concurrency``, ``genai-perf
  --concurrency``, ``truecost bench --concurrency``).
- ``Poisson(rate)``, ``Constant(rate)``: open loop, the same seeded schedules ``truecost bench``
  sends (``bench/schedule.py``), so a simulated and a measured run see the same send times.
- ``Burst()``: every request at t = 0 ("all at once", offline benchmarks).
- ``Replay(times_s)``: logged send times (a stored bench run, a usage log), optionally sped up.

Lengths (input and output tokens of each request, drawn with the run's seed):
- ``Fixed(isl, osl)``; ``Uniform(isl_min, isl_max, osl_min, osl_max)``;
- ``LogNormal(isl_mean, osl_mean, sigma)`` (means preserved: μ = ln(mean) − σ²/2);
- ``Empirical(pairs)``: (input, output) pairs sampled with replacement (their correlation kept),
  or taken in order with ``ordered=True`` (to replay a run request by request).

``from_run(run_id)`` gives the (Replay, Empirical) of a stored ``truecost bench`` run. Left out:
client think time between a closed-loop client's requests, and time-varying rates (a diurnal
shape is a replay, or one simulation per hour).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..bench import schedule
from ..errors import InputError

__all__ = ["Arrivals", "Burst", "ClosedLoop", "Constant", "Empirical", "Fixed", "Lengths", "LogNormal",
           "Poisson", "Replay", "Uniform", "from_run"]


@dataclass(frozen=True, slots=True)
class ClosedLoop:
    concurrency: int

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise InputError(f"concurrency must be at least 1, got {self.concurrency}")

    def __str__(self) -> str:
        return f"closed loop at concurrency {self.concurrency}"


@dataclass(frozen=True, slots=True)
class Poisson:
    rate: float

    def send_times(self, n: int, seed: int) -> list[float]:
        return schedule.poisson(self.rate, n, seed)

    def __str__(self) -> str:
        return f"Poisson {self.rate:.4g} req/s"


@dataclass(frozen=True, slots=True)
class Constant:
    rate: float

    def send_times(self, n: int, seed: int) -> list[float]:
        return schedule.constant(self.rate, n)

    def __str__(self) -> str:
        return f"constant {self.rate:.4g} req/s"


@dataclass(frozen=True, slots=True)
class Burst:
    def send_times(self, n: int, seed: int) -> list[float]:
        return [0.0] * n

    def __str__(self) -> str:
        return "all at once"


@dataclass(frozen=True, slots=True)
class Replay:
    times_s: tuple[float, ...]
    speed: float = 1.0

    def send_times(self, n: int, seed: int) -> list[float]:
        if len(self.times_s) < n:
            raise InputError(f"the replay has {len(self.times_s)} send times; asked for {n} requests")
        return schedule.replay(self.times_s, self.speed)[:n]

    def __str__(self) -> str:
        return f"replay of {len(self.times_s):,} sends" + (f" at {self.speed:g}x" if self.speed != 1 else "")


Arrivals = ClosedLoop | Poisson | Constant | Burst | Replay


def _positive(name: str, *values: float) -> None:
    for v in values:
        if not v >= 1:
            raise InputError(f"{name} must be at least 1 token, got {v}")


@dataclass(frozen=True, slots=True)
class Fixed:
    isl: int
    osl: int

    def __post_init__(self) -> None:
        _positive("input and output lengths", self.isl, self.osl)

    def draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return np.full(n, self.isl, dtype=np.int64), np.full(n, self.osl, dtype=np.int64)

    @property
    def means(self) -> tuple[float, float]:
        return float(self.isl), float(self.osl)

    def __str__(self) -> str:
        return f"ISL {self.isl} / OSL {self.osl}"


@dataclass(frozen=True, slots=True)
class Uniform:
    isl_min: int
    isl_max: int
    osl_min: int
    osl_max: int

    def __post_init__(self) -> None:
        _positive("input and output lengths", self.isl_min, self.osl_min)
        if self.isl_max < self.isl_min or self.osl_max < self.osl_min:
            raise InputError("uniform lengths need min <= max")

    def draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return (rng.integers(self.isl_min, self.isl_max + 1, n), rng.integers(self.osl_min, self.osl_max + 1, n))

    @property
    def means(self) -> tuple[float, float]:
        return (self.isl_min + self.isl_max) / 2, (self.osl_min + self.osl_max) / 2

    def __str__(self) -> str:
        return f"ISL {self.isl_min}-{self.isl_max} / OSL {self.osl_min}-{self.osl_max} uniform"


@dataclass(frozen=True, slots=True)
class LogNormal:
    isl_mean: float
    osl_mean: float
    sigma: float = 0.8  # ShareGPT-like spread: lengths vary about 2x either way (assumption)

    def __post_init__(self) -> None:
        _positive("mean lengths", self.isl_mean, self.osl_mean)
        if not 0 <= self.sigma <= 3:
            raise InputError(f"log-normal sigma must be within [0, 3], got {self.sigma}")

    def draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        def one(mean: float) -> np.ndarray:
            mu = np.log(mean) - self.sigma ** 2 / 2
            return np.maximum(np.rint(rng.lognormal(mu, self.sigma, n)), 1).astype(np.int64)
        return one(self.isl_mean), one(self.osl_mean)

    @property
    def means(self) -> tuple[float, float]:
        return float(self.isl_mean), float(self.osl_mean)

    def __str__(self) -> str:
        return f"ISL ~{self.isl_mean:g} / OSL ~{self.osl_mean:g} log-normal (sigma {self.sigma:g})"


@dataclass(frozen=True, slots=True)
class Empirical:
    pairs: tuple[tuple[int, int], ...]
    ordered: bool = False

    def __post_init__(self) -> None:
        if not self.pairs:
            raise InputError("empirical lengths need at least one (input, output) pair")
        for i, o in self.pairs:
            _positive("input and output lengths", i, o)

    def draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        arr = np.asarray(self.pairs, dtype=np.int64)
        idx = np.arange(n) % len(arr) if self.ordered else rng.integers(0, len(arr), n)
        return arr[idx, 0], arr[idx, 1]

    @property
    def means(self) -> tuple[float, float]:
        arr = np.asarray(self.pairs, dtype=np.float64)
        return float(arr[:, 0].mean()), float(arr[:, 1].mean())

    def __str__(self) -> str:
        return f"{len(self.pairs):,} measured lengths" + (" in order" if self.ordered else "")


Lengths = Fixed | Uniform | LogNormal | Empirical


def from_run(run_id: str, point: int | None = None, store: Any = None) -> tuple[Replay, Empirical]:
    """The send times and (prompt, completion) tokens of a stored ``truecost bench`` run's
    successful requests (every operating point, or one), to replay them through a simulation."""
    from ..store import Store

    if store is None:
        with Store() as s:
            records = s.requests(run_id, point)
    else:  # the caller's open store stays open
        records = store.requests(run_id, point)
    records = [r for r in records if r.ok and r.prompt_tokens and r.completion_tokens]
    if not records:
        raise InputError(f"run {run_id} has no successful requests with server-reported token counts to replay")
    records.sort(key=lambda r: r.actual_send)
    times = tuple(r.intended_send if r.intended_send is not None else r.actual_send for r in records)
    pairs = tuple((int(r.prompt_tokens), int(r.completion_tokens)) for r in records)
    return Replay(times), Empirical(pairs, ordered=True)
