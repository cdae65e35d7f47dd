"""Latency, throughput and token metrics, computed from raw request records after the run.

Definitions are pinned in DESIGN.md ("Metric definitions"); every function takes plain
timestamps/token counts and returns ``float | None``, where ``None`` means "not defined" (ITL of a
one-token reply). Aggregates skip ``None`` and say how many they skipped; they never average a
fake 0. Latencies are in seconds.

- TTFT = first non-empty content *or* reasoning token − actual send
- TTFO = first non-reasoning output token − actual send (equals TTFT for non-reasoning models)
- ITL  = (last token − first token) / (output tokens − 1); None when output tokens ≤ 1
- ICL  = gaps between consecutive token-bearing chunks (a chunk may carry several tokens)
- TPOT = (E2E − TTFT) / (output tokens − 1); None when output tokens ≤ 1
- E2E  = end − actual send; ``*_from_intended`` measure from the *intended* send instead, which
  counts the time a late sender made a request wait (coordinated omission)
- output throughput = Σ output tokens / (last end − first send), over measured requests only
- goodput = requests meeting every SLO / the same duration; the good fraction divides by all
  measured requests, errors included

"Output tokens" are the server's ``completion_tokens`` (reasoning included) when it reports
usage, else the client's chunk count. ``summarize`` is a pure function of the records, so records
merged from several clients aggregate the same way.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from ..errors import InputError
from .record import RequestRecord

__all__ = ["Distribution", "PointSummary", "Slo", "TokenStats", "e2e", "e2e_from_intended", "icl",
           "itl", "measured", "parse_slos", "percentile", "send_lag", "summarize", "tpot", "ttfo",
           "ttft", "ttft_from_intended"]

PERCENTILES = (50, 90, 95, 99)


# -- per request -----------------------------------------------------------------------------
def ttft(r: RequestRecord) -> float | None:
    return r.first_token - r.actual_send if r.ok and r.first_token is not None else None


def ttfo(r: RequestRecord) -> float | None:
    return r.first_output - r.actual_send if r.ok and r.first_output is not None else None


def e2e(r: RequestRecord) -> float | None:
    return r.end - r.actual_send if r.ok else None


def itl(r: RequestRecord) -> float | None:
    n = r.output_tokens
    if not r.ok or n <= 1 or r.first_token is None or r.last_token is None:
        return None
    return (r.last_token - r.first_token) / (n - 1)


def tpot(r: RequestRecord) -> float | None:
    n, first = r.output_tokens, ttft(r)
    if n <= 1 or first is None:
        return None
    return (r.end - r.actual_send - first) / (n - 1)


def icl(r: RequestRecord) -> list[float]:
    """Gaps between consecutive token-bearing chunks (empty for fewer than two chunks)."""
    t = r.chunk_times if r.ok else []
    return [b - a for a, b in pairwise(t)]


def ttft_from_intended(r: RequestRecord) -> float | None:
    if r.intended_send is None or r.first_token is None or not r.ok:
        return None
    return r.first_token - r.intended_send


def e2e_from_intended(r: RequestRecord) -> float | None:
    return r.end - r.intended_send if r.ok and r.intended_send is not None else None


def send_lag(r: RequestRecord) -> float | None:
    """Actual − intended send: how late the load generator was (open loop only)."""
    return r.actual_send - r.intended_send if r.intended_send is not None else None


# -- aggregates ------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile with linear interpolation between order statistics (numpy's default
    ``method="linear"``). ``values`` must be non-empty."""
    if not values:
        raise ValueError("percentile of no values")
    s = sorted(values)
    pos = (len(s) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


@dataclass(frozen=True, slots=True)
class Distribution:
    """Summary of one metric over requests: ``n`` defined values, ``skipped`` undefined ones.
    Statistics are None when ``n`` is 0."""

    n: int
    skipped: int
    mean: float | None
    p50: float | None
    p90: float | None
    p95: float | None
    p99: float | None
    min: float | None
    max: float | None

    @classmethod
    def of(cls, values: Iterable[float | None]) -> Distribution:
        vals, skipped = [], 0
        for v in values:
            if v is None:
                skipped += 1
            else:
                vals.append(v)
        if not vals:
            return cls(0, skipped, None, None, None, None, None, None, None)
        vals.sort()
        return cls(len(vals), skipped, math.fsum(vals) / len(vals),
                   *(percentile(vals, q) for q in PERCENTILES), vals[0], vals[-1])


# -- SLOs ------------------------------------------------------------------------------------
_PER_REQUEST: dict[str, Callable[[RequestRecord], float | None]] = {
    "ttft": ttft, "ttfo": ttfo, "itl": itl, "tpot": tpot, "e2e": e2e}
_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6}
_SLO = re.compile(r"^(?P<metric>[a-z0-9]+?)(?:_p(?P<q>\d+(?:\.\d+)?))?=(?P<v>\d+(?:\.\d*)?|\.\d+)"
                  r"(?P<unit>[a-z]*)$")


@dataclass(frozen=True, slots=True)
class Slo:
    """A latency objective: each request's ``metric`` ≤ ``threshold_s`` (this defines goodput),
    and the operating point meets it when that ``percentile`` of the metric (the maximum when
    None) is ≤ ``threshold_s``."""

    metric: str
    threshold_s: float
    percentile: float | None = None

    def __str__(self) -> str:
        ms = self.threshold_s * 1e3
        value = f"{ms:g}ms" if ms < 1000 else f"{self.threshold_s:g}s"
        return f"{self.metric}{f'_p{self.percentile:g}' if self.percentile else ''}={value}"

    def met_by(self, r: RequestRecord) -> bool:
        """Errors never meet an SLO. An undefined ITL/TPOT (≤ 1 token) meets it; an undefined
        TTFT/TTFO (no token at all) does not."""
        if not r.ok:
            return False
        v = _PER_REQUEST[self.metric](r)
        if v is None:
            return self.metric in ("itl", "tpot")
        return v <= self.threshold_s


def parse_slos(text: str | Sequence[Slo] | None) -> tuple[Slo, ...]:
    """``"ttft_p95=1s,itl_p95=50ms"`` → SLOs. Metrics: ttft, ttfo, itl, tpot, e2e; units s, ms, us."""
    if text is None:
        return ()
    if not isinstance(text, str):
        return tuple(text)
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        m = _SLO.match(part.lower())
        if not m or m["metric"] not in _PER_REQUEST:
            raise InputError(f"bad SLO '{part}'; write METRIC[_pNN]=VALUE with a unit, e.g. "
                             f"ttft_p95=1s,itl_p95=50ms (metrics: {', '.join(_PER_REQUEST)})")
        if m["unit"] not in _UNITS:
            raise InputError(f"SLO '{part}' needs a unit: s, ms or us (e.g. {part}ms)")
        if not math.isfinite(float(m["v"])):
            raise InputError(f"SLO '{part}': the value is too large to be a time")
        q = float(m["q"]) if m["q"] else None
        if q is not None and not 0 < q <= 100:
            raise InputError(f"SLO '{part}': percentile must be within (0, 100]")
        out.append(Slo(m["metric"], float(m["v"]) * _UNITS[m["unit"]], q))
    return tuple(out)


# -- one operating point ---------------------------------------------------------------------
def measured(records: Iterable[RequestRecord], warmup: int = 0,
             drain: int = 0) -> list[RequestRecord]:
    """Records in send order without the first ``warmup`` and the last ``drain`` sent."""
    s = sorted(records, key=lambda r: (r.actual_send, r.index))
    return s[warmup:len(s) - drain] if drain else s[warmup:]


@dataclass(frozen=True, slots=True)
class TokenStats:
    """Token counts over the successful measured requests. Means are per request."""

    input_mean: float | None  # server prompt_tokens, else the workload's own count
    output_mean: float | None  # completion tokens (reasoning included)
    reasoning_mean: float | None
    cached_mean: float | None
    usage_reported: int  # requests whose server reported usage
    # client vs server: (Σ client − Σ server) / Σ server over requests that have both
    output_discrepancy: float | None  # chunk count vs completion_tokens
    input_discrepancy: float | None  # workload's prompt size vs prompt_tokens


@dataclass(frozen=True, slots=True)
class PointSummary:
    """Every metric of one operating point. Throughputs are per second of the measured window."""

    requests: int  # measured requests, errors included
    ok: int
    errors: dict[str, int]  # by kind
    excluded_warmup: int
    excluded_drain: int
    window_start: float | None  # first send of the measured requests (epoch s)
    window_end: float | None  # last end of the measured requests (epoch s)
    request_throughput: float | None  # successful requests / s
    output_token_throughput: float | None
    total_token_throughput: float | None  # input + output tokens / s
    mean_concurrency: float | None  # Σ request time / window: requests in flight (Little's law)
    goodput: float | None  # requests meeting every SLO / s (None without SLOs)
    good_fraction: float | None  # requests meeting every SLO / all measured requests
    slos: tuple[Slo, ...]
    slo_met: bool | None  # every SLO's percentile holds at this point (None without SLOs)
    ttft: Distribution
    ttfo: Distribution
    itl: Distribution
    icl: Distribution
    tpot: Distribution
    e2e: Distribution
    ttft_from_intended: Distribution
    e2e_from_intended: Distribution
    send_lag: Distribution
    tokens: TokenStats
    throttled: int = 0  # 429/503 answers with Retry-After waited out and resent (measured requests)

    @property
    def duration_s(self) -> float | None:
        """The measured window: last end − first send of the measured requests."""
        if self.window_start is None or self.window_end is None:
            return None
        return self.window_end - self.window_start

    @property
    def error_rate(self) -> float | None:
        return (self.requests - self.ok) / self.requests if self.requests else None


def _mean(xs: list[float]) -> float | None:
    return math.fsum(xs) / len(xs) if xs else None


def _discrepancy(pairs: list[tuple[int, int]]) -> float | None:
    server = sum(s for _, s in pairs)
    return (sum(c for c, _ in pairs) - server) / server if server else None


def token_stats(ok: list[RequestRecord]) -> TokenStats:
    usage = [r for r in ok if r.completion_tokens is not None]
    inputs = [r.input_tokens for r in ok if r.input_tokens is not None]
    return TokenStats(
        input_mean=_mean(inputs),
        output_mean=_mean([r.output_tokens for r in ok]),
        reasoning_mean=_mean([r.reasoning for r in ok]),
        cached_mean=_mean([r.cached_tokens for r in ok if r.cached_tokens is not None]),
        usage_reported=len(usage),
        output_discrepancy=_discrepancy([(r.client_output_tokens, r.completion_tokens)
                                         for r in usage]),  # type: ignore[misc]
        input_discrepancy=_discrepancy([(r.client_prompt_tokens, r.prompt_tokens) for r in ok
                                        if r.client_prompt_tokens is not None
                                        and r.prompt_tokens is not None]))  # type: ignore[misc]


def summarize(records: Iterable[RequestRecord], *, warmup: int = 0, drain: int = 0,
              slos: Sequence[Slo] = ()) -> PointSummary:
    """All metrics of one operating point from its raw records (a pure function): the first
    ``warmup`` and last ``drain`` requests sent are left out, errors count in the good fraction.
    Usage: ``summarize(records, warmup=10, drain=16, slos=parse_slos("ttft_p95=1s")).goodput``.
    """
    records = list(records)
    m = measured(records, warmup, drain)
    ok = [r for r in m if r.ok]
    start = min(r.actual_send for r in m) if m else None
    end = max(r.end for r in m) if m else None
    duration = end - start if start is not None and end is not None else None

    def rate(x: float | None) -> float | None:
        return x / duration if duration and x is not None else None

    out_tokens = sum(r.output_tokens for r in ok)
    in_tokens = sum(r.input_tokens or 0 for r in ok)
    good = sum(all(s.met_by(r) for s in slos) for r in m) if slos else None
    dists = {name: Distribution.of(f(r) for r in ok) for name, f in (
        ("ttft", ttft), ("ttfo", ttfo), ("itl", itl), ("tpot", tpot), ("e2e", e2e),
        ("ttft_from_intended", ttft_from_intended), ("e2e_from_intended", e2e_from_intended))}
    slo_met = all((v := _percentile_of(ok, s)) is not None and v <= s.threshold_s
                  for s in slos) if slos else None
    return PointSummary(
        requests=len(m), ok=len(ok),
        errors=dict(Counter(r.error_kind for r in m if not r.ok)),  # type: ignore[arg-type]
        excluded_warmup=min(warmup, len(records)),
        excluded_drain=min(drain, max(0, len(records) - warmup)),
        window_start=start, window_end=end, request_throughput=rate(len(ok)),
        output_token_throughput=rate(out_tokens), total_token_throughput=rate(out_tokens + in_tokens),
        mean_concurrency=rate(math.fsum(r.end - r.actual_send for r in m)),
        goodput=rate(good) if good is not None else None,
        good_fraction=(good / len(m) if m else None) if good is not None else None,
        slos=tuple(slos), slo_met=slo_met,
        icl=Distribution.of(g for r in ok for g in icl(r)),
        send_lag=Distribution.of(send_lag(r) for r in m),
        tokens=token_stats(ok), throttled=sum(r.throttled for r in m), **dists)


def _percentile_of(ok: list[RequestRecord], s: Slo) -> float | None:
    """The SLO's percentile of its metric (the maximum when it states none)."""
    vals = [v for r in ok if (v := _PER_REQUEST[s.metric](r)) is not None]
    return percentile(vals, s.percentile or 100) if vals else None
