"""Load schedules: pure, seeded functions that return absolute send offsets in seconds.

The sender only *follows* a schedule (``runner.py``) and records intended vs actual send time, so
a schedule is testable without an event loop or a clock. Closed-loop (fixed concurrency) load
needs no schedule: a new request goes out when one finishes. ``constant_times`` and
``poisson_times`` are the endless, lazy forms the sender reads one offset at a time (a schedule
of a billion sends costs nothing until it is sent); ``constant`` and ``poisson`` are their first
``n`` offsets as a list.

    >>> constant(4.0, 3)
    [0.0, 0.25, 0.5]
    >>> len(poisson(10.0, 1000, seed=1))
    1000

Deliberately left out: ramps and bursts (a replayed log covers real traffic shapes).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from itertools import count, islice

from ..errors import InputError

__all__ = ["constant", "constant_times", "poisson", "poisson_times", "replay", "sweep_rates",
           "within"]


def _check(rate: float, n: int) -> None:
    if not rate > 0 or not math.isfinite(rate):
        raise InputError(f"request rate must be a positive number of requests/s, got {rate}")
    if n < 0:
        raise InputError(f"number of requests must be >= 0, got {n}")


def constant_times(rate: float, start: float = 0.0) -> Iterator[float]:
    """Sends at exactly ``rate`` per second, endlessly: ``start + i / rate``."""
    _check(rate, 0)
    return (start + i / rate for i in count())


def poisson_times(rate: float, seed: int, start: float = 0.0) -> Iterator[float]:
    """Sends of a Poisson process of ``rate`` per second, endlessly: exponential gaps of mean
    ``1/rate`` (coefficient of variation 1). The first send is at ``start``."""
    _check(rate, 0)  # here, not in the generator: a bad rate fails when the schedule is made
    return _poisson(rate, random.Random(seed), start)


def _poisson(rate: float, rng: random.Random, t: float) -> Iterator[float]:
    while True:
        yield t
        t += rng.expovariate(rate)


def constant(rate: float, n: int, start: float = 0.0) -> list[float]:
    """``n`` sends at exactly ``rate`` per second: ``start + i / rate``."""
    _check(rate, n)
    return list(islice(constant_times(rate, start), n))


def poisson(rate: float, n: int, seed: int, start: float = 0.0) -> list[float]:
    """The first ``n`` sends of ``poisson_times``."""
    _check(rate, n)
    return list(islice(poisson_times(rate, seed, start), n))


def replay(timestamps: Sequence[float], speed: float = 1.0, start: float = 0.0) -> list[float]:
    """Offsets of logged request times (epoch seconds, any order), compressed by ``speed``
    (2.0 replays twice as fast), the first at ``start``. Returned in time order."""
    if not speed > 0:
        raise InputError(f"replay speed must be > 0, got {speed}")
    if not timestamps:
        return []
    ts = sorted(timestamps)
    return [start + (t - ts[0]) / speed for t in ts]


def sweep_rates(max_rate: float, steps: int) -> list[float]:
    """``steps`` rates evenly spaced up to ``max_rate``: ``max_rate * k / steps``, k = 1..steps."""
    if steps < 1:
        raise InputError(f"sweep steps must be >= 1, got {steps}")
    _check(max_rate, 0)
    return [max_rate * k / steps for k in range(1, steps + 1)]


def within(offsets: Sequence[float], duration_s: float) -> list[float]:
    """The offsets that fall before ``duration_s`` (a duration stop condition)."""
    return [t for t in offsets if t < duration_s]
