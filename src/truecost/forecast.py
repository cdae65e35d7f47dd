"""The bill month by month: each option's cost as traffic grows and swings through the day.

For a workload, ``compare`` prices every option once: an API's cost per task, and a self-hosted
deployment's configuration (GPU, precision, TP), one replica's capacity within the SLO and its
$/hour. The forecast then runs the traffic forward: month m has ``tasks_per_day × (1 + growth)^(m
- 1)`` tasks a day, spread over the 24 hours by a demand shape (hourly weights with mean 1), and
prices each self-hosted option four ways:

- **on demand, fixed**: replicas for the peak hour, up every hour (``compare``'s assumption);
- **on demand, autoscaled**: each hour runs the replicas that hour needs, rounded up to the
  scale-up step and never below the minimum (replica counts change on the hour);
- **reserved, fixed**: the peak fleet at the GPU catalog's reserved (committed-use) rate;
  a reservation is never dropped before its term ends;
- **hybrid**: the trough's replicas reserved, the rest autoscaled on demand.

One replica serves ``capacity × utilisation`` requests/s (the headroom ``compare`` sizes with);
an hour needing r requests/s runs ``ceil(r / (capacity × utilisation))`` replicas. A month is
730/12 days. The break-even volume is the first tasks/day at which a self-hosted plan costs no
more per day than an API (found exactly over the step function of replica counts), and the
month is the first forecast month in which it does. The sensitivity table moves one assumption
at a time by ±50% and reports the horizon's cheapest option and total.

Left out: the configuration is chosen once, for month 1 (more traffic could favour another);
capacity within an hour is the steady-state one (bursts inside the hour are covered only by
the utilisation headroom); reservations running past the horizon are not charged; prices do
not change over time.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from . import catalog
from .compare import DAYS_PER_MONTH, Option, compare
from .cost import PriceBasis
from .errors import CatalogError, InputError
from .workload import MAX_PEAK_REQUESTS_PER_S, Workload, load_workload

__all__ = ["PLANS", "BreakEven", "Forecast", "OptionForecast", "Sensitivity", "Shape", "forecast",
           "parse_growth", "shape"]

PLANS = ("on-demand", "autoscaled", "reserved", "hybrid")
MAX_MONTHS = 120
_MAX_PIECES = 200_000  # break-even search: steps of the replica count examined at most


# -- the demand shape over a day ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Shape:
    """24 hourly demand weights, mean 1 (hour 0 first; which hour is which does not change the
    cost, only how the day's demand is spread), and where they came from."""

    name: str
    weights: tuple[float, ...]
    source: str

    @property
    def peak_to_mean(self) -> float:
        return max(self.weights)


def _normalise(name: str, weights: list[float], source: str) -> Shape:
    mean = sum(weights) / len(weights)
    return Shape(name, tuple(w / mean for w in weights), source)


def _shape_file(path: Path, name: str, source: str | None = None) -> Shape:
    """A CSV of ``hour,weight`` (hours 0-23 once each, weights >= 0); ``#`` lines are comments
    (the shipped shapes name their source there)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        raise InputError(f"--diurnal {path}: file not found (or use flat, business-hours, usage)") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file of hour,weight rows") from None
    comments = [ln.lstrip("# ").strip() for ln in text.splitlines() if ln.startswith("#")]
    stated = [c.split(":", 1)[1].strip() for c in comments if c.lower().startswith("source:")]
    rows = [r for r in csv.reader(io.StringIO("\n".join(ln for ln in text.splitlines()
                                                        if ln.strip() and not ln.startswith("#"))))]
    if rows and rows[0] and rows[0][0].strip().lower() == "hour":
        rows = rows[1:]
    weights: dict[int, float] = {}
    for i, r in enumerate(rows, 1):
        try:
            hour, weight = int(r[0]), float(r[1])
        except (ValueError, IndexError):
            raise InputError(f"{path}: row {i} is not 'hour,weight' ({','.join(r)[:40]})") from None
        if not 0 <= hour <= 23 or hour in weights:
            raise InputError(f"{path}: hour {hour} is not one of 0-23 once each")
        if not (weight >= 0 and math.isfinite(weight)):
            raise InputError(f"{path}: hour {hour} has weight {r[1]}; weights must be >= 0")
        weights[hour] = weight
    if len(weights) != 24:
        raise InputError(f"{path}: {len(weights)} hours; a shape needs all 24 (hour,weight rows 0-23)")
    if not sum(weights.values()) > 0:
        raise InputError(f"{path}: all weights are 0")
    return _normalise(name, [weights[h] for h in range(24)], source or "; ".join(stated) or str(path))


def shape(spec: str | Path | Shape, *, db: Path | str | None = None) -> Shape:
    """A demand shape: ``flat``, ``business-hours`` (shipped, an assumption stated in its file),
    ``usage`` (the hour-of-day profile of the imported usage logs) or a CSV file of
    ``hour,weight`` rows."""
    if isinstance(spec, Shape):
        return spec
    text = str(spec)
    if text == "flat":
        return Shape("flat", (1.0,) * 24, "assumption: the same demand every hour")
    if text == "business-hours":
        return _shape_file(catalog.data_file("diurnal/business-hours.csv"), "business-hours")
    if text == "usage":
        from .usage import hourly_profile

        counts, source = hourly_profile(db=db)
        return _normalise("usage", counts, source)
    return _shape_file(Path(text), Path(text).stem)


def parse_growth(text: str | float) -> float:
    """Monthly traffic growth as a fraction: ``"8%/month"``, ``"8%"`` or ``0.08``."""
    if isinstance(text, int | float):
        g = float(text)
    else:
        m = re.fullmatch(r"\s*([+-]?\d+(?:\.\d*)?|[+-]?\.\d+)\s*(%?)\s*(?:/\s*(?:month|mo))?\s*", text)
        if not m:
            raise InputError(f"--growth '{text}' is not a monthly rate; use e.g. 8%/month, 8% or 0.08")
        g = float(m.group(1)) / (100 if m.group(2) else 1)
    if not (-1 < g <= 10) or not math.isfinite(g):
        raise InputError(f"--growth {g:+.0%}/month is out of range; use more than -100% and at most "
                         f"+1000% a month")
    return g


# -- results --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OptionForecast:
    """One option over the horizon: monthly USD per plan (an API has one plan, ``API``)."""

    label: str
    kind: Literal["api", "self-hosted"]
    how: str  # an API, or one replica's configuration (GPUs, TP, precision)
    monthly_usd: dict[str, list[float]]  # plan -> one figure per month
    replicas: dict[str, list[float]]  # self-hosted: peak fleet and mean autoscaled per month
    provenance: dict[str, str]
    notes: list[str] = field(default_factory=list)

    @property
    def best_plan(self) -> str:
        return min(self.monthly_usd, key=lambda p: sum(self.monthly_usd[p]))

    def total_usd(self, plan: str | None = None) -> float:
        return sum(self.monthly_usd[plan or self.best_plan])


@dataclass(frozen=True)
class BreakEven:
    """Where a self-hosted plan stops costing more than an API (tasks/day; None: never)."""

    self_hosted: str
    api: str
    plan: str
    tasks_per_day: float | None  # the first volume at which self-hosting is no dearer
    always_from: float | None  # ... and from which it stays so at every higher volume
    month: int | None  # first forecast month in which it is no dearer (None: not in the horizon)
    note: str = ""


@dataclass(frozen=True)
class Sensitivity:
    assumption: str
    change: float  # -0.5 or +0.5
    cheapest: str  # "option (plan)"
    total_usd: float
    vs_base: float  # relative change of the cheapest total


@dataclass(frozen=True)
class Forecast:
    workload: str
    months: int
    growth_per_month: float
    shape: Shape | None  # None: no daily shape given, the workload's peak_to_mean sizes the fleet
    peak_to_mean: float
    tasks_per_day: list[float]
    options: list[OptionForecast]  # ranked by their best plan's total
    excluded: dict[str, str]  # option -> why compare excluded it
    break_even: list[BreakEven]
    sensitivity: list[Sensitivity]  # the assumption that moves the answer most first
    assumptions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # plans that could not be priced, and why

    @property
    def cheapest(self) -> OptionForecast:
        return self.options[0]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for od, o in zip(d["options"], self.options):
            od["best_plan"] = o.best_plan
            od["total_usd"] = {p: sum(v) for p, v in o.monthly_usd.items()}
        return d

    def monthly_rows(self) -> list[dict[str, Any]]:
        """One flat row per month (for CSV): tasks/day, each option's USD per plan under
        ``"OPTION: PLAN"`` and a self-hosted option's replicas under ``"OPTION: replicas KIND"``;
        the numbers of ``to_dict()``'s series, month by month."""
        rows = []
        for m, volume in enumerate(self.tasks_per_day):
            row: dict[str, Any] = {"month": m + 1, "tasks_per_day": volume}
            for o in self.options:
                row |= {f"{o.label}: {plan}": series[m] for plan, series in o.monthly_usd.items()}
                row |= {f"{o.label}: replicas {kind}": series[m] for kind, series in o.replicas.items()}
            rows.append(row)
        return rows


# -- the arithmetic -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Terms:
    """What an option's cost depends on, as numbers the sensitivity analysis can scale."""

    label: str
    kind: str
    how: str
    usd_per_task: float = 0.0  # API
    capacity_rps: float = 0.0  # self-hosted: one replica within the SLO
    usd_per_replica_hour: float = 0.0
    usd_per_replica_hour_reserved: float | None = None
    reserved_term_months: int | None = None
    provenance: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()
    gpu: str = ""  # self-hosted: the GPU's catalog key
    per_replica: str = ""  # self-hosted: one replica's configuration
    owned: bool = False  # self-hosted on owned GPUs (no reserved rent)


@dataclass(frozen=True, slots=True)
class _Traffic:
    requests_per_task: float
    utilisation: float
    peak_to_mean: float  # used when there is no shape
    hourly: tuple[float, ...] | None  # demand weights, mean 1
    step: int  # autoscaling: replicas are added in multiples of this
    minimum: int  # ... and never fewer than this run


def _replicas(rate_rps: float, t: _Terms, tr: _Traffic, step: int = 1) -> int:
    need = math.ceil(rate_rps / (t.capacity_rps * tr.utilisation))  # compare's sizing rule
    return max(tr.minimum, step * math.ceil(need / step))


def _fleet(volume: float, t: _Terms, tr: _Traffic) -> tuple[int, list[int]]:
    """Replicas for the peak hour, and for each hour of the day when autoscaled."""
    mean_rps = volume * tr.requests_per_task / 86400
    peak = tr.peak_to_mean if tr.hourly is None else max(tr.hourly)
    fixed = _replicas(mean_rps * peak, t, tr)
    hourly = [] if tr.hourly is None else [_replicas(mean_rps * s, t, tr, tr.step) for s in tr.hourly]
    return fixed, hourly


def _daily(volume: float, t: _Terms, tr: _Traffic, plan: str) -> float:
    """USD a day of a self-hosted ``plan`` at ``volume`` tasks/day (reservations as sized that
    day; ``_series`` keeps them for their term)."""
    fixed, hourly = _fleet(volume, t, tr)
    if plan == "on-demand":
        return fixed * 24 * t.usd_per_replica_hour
    return sum(hourly) * t.usd_per_replica_hour  # autoscaled


def _series(volumes: list[float], t: _Terms, tr: _Traffic) -> tuple[dict[str, list[float]],
                                                                      dict[str, list[float]]]:
    """Monthly USD per plan of a self-hosted option, and its replica counts."""
    h, h_res = t.usd_per_replica_hour, t.usd_per_replica_hour_reserved
    term = t.reserved_term_months or 1
    plans: dict[str, list[float]] = {p: [] for p in PLANS}
    fleets = [_fleet(v, t, tr) for v in volumes]
    for m, (fixed, hourly) in enumerate(fleets):
        window = fleets[max(0, m - term + 1):m + 1]  # reservations made within the term still run
        plans["on-demand"].append(fixed * 24 * h * DAYS_PER_MONTH)
        if hourly:
            plans["autoscaled"].append(sum(hourly) * h * DAYS_PER_MONTH)
        if h_res is not None:
            reserved = max(f for f, _ in window)
            plans["reserved"].append(reserved * 24 * h_res * DAYS_PER_MONTH)
            if hourly:
                base = max(min(hr) for _, hr in window)
                burst = sum(max(n - base, 0) for n in hourly)
                plans["hybrid"].append((base * 24 * h_res + burst * h) * DAYS_PER_MONTH)
    replicas = {"peak": [float(f) for f, _ in fleets]}
    if fleets and fleets[0][1]:
        replicas["autoscaled mean"] = [sum(hr) / 24 for _, hr in fleets]
    return {p: v for p, v in plans.items() if v}, replicas


def _option(t: _Terms, volumes: list[float], tr: _Traffic) -> OptionForecast:
    if t.kind == "api":
        monthly = {"API": [t.usd_per_task * v * DAYS_PER_MONTH for v in volumes]}
        return OptionForecast(t.label, "api", t.how, monthly, {}, dict(t.provenance), list(t.notes))
    monthly, replicas = _series(volumes, t, tr)
    return OptionForecast(t.label, "self-hosted", t.per_replica, monthly, replicas, dict(t.provenance),
                          list(t.notes))


def _break_even(t: _Terms, tr: _Traffic, plan: str, usd_per_task: float) -> tuple[float | None,
                                                                                    float | None, str]:
    """(first volume, volume from which always) at which ``plan`` of ``t`` costs no more a day
    than an API at ``usd_per_task``. The daily cost is a step function of volume: it changes
    only where some hour's replica count steps up, so it is examined piece by piece, up to the
    volume beyond which the step function can no longer exceed the API line."""
    weights = [tr.peak_to_mean if tr.hourly is None else max(tr.hourly)] if plan == "on-demand" \
        else list(tr.hourly or ())
    hours_each = 24 / len(weights)  # fixed: one weight for all 24 hours
    step = 1 if plan == "on-demand" else tr.step
    # replicas per (task/day) in each hour, unrounded
    k = [tr.requests_per_task * s / (86400 * t.capacity_rps * tr.utilisation) for s in weights]
    usd_inf = t.usd_per_replica_hour * hours_each * sum(k)  # USD per task when fully packed
    if usd_per_task <= 0 or usd_inf >= usd_per_task:
        return None, None, (f"never: self-hosted costs at least ${usd_inf:.3g}/task even when every "
                            f"replica is full, the API ${usd_per_task:.3g}/task")
    # cost <= V·usd_inf + (replicas rounding: step + minimum per hour) -> cheaper beyond v_bound
    v_bound = t.usd_per_replica_hour * 24 * (step + tr.minimum) / (usd_per_task - usd_inf)
    # volumes where some hour's replica count steps up, up to v_bound (beyond it: always cheaper)
    points = sorted({j / kh for kh in k if kh > 0 for j in range(1, math.floor(v_bound * kh) + 1)}
                    | {v_bound})
    if len(points) > _MAX_PIECES:
        return v_bound, v_bound, "approximate: too many replica steps to examine one by one"
    first, expensive_until = None, 0.0
    for lo, hi in zip([0.0, *points], points):
        cost = _daily((lo + hi) / 2, t, tr, plan)  # constant on (lo, hi]
        x = cost / usd_per_task  # self-hosted is no dearer from volume x on
        if x < hi and first is None:
            first = max(x, lo)
        if x > lo:
            expensive_until = min(x, hi)
    return first, max(expensive_until, first or 0.0), ""


def _first_month(a: list[float], b: list[float]) -> int | None:
    return next((m + 1 for m, (x, y) in enumerate(zip(a, b)) if x <= y), None)


# -- from a workload -----------------------------------------------------------------------------
def _terms(w: Workload) -> tuple[list[_Terms], dict[str, str]]:
    """Each candidate priced by ``compare``, one (candidate, GPU) at a time so that the GPU of
    every self-hosted option is known."""
    out, excluded = [], {}
    for c in w.api:
        o = compare(w.model_copy(update={"api": [c], "self_hosted": []})).options[0]
        if o.excluded:
            excluded[o.label] = o.excluded
            continue
        out.append(_Terms(o.label, "api", o.how, usd_per_task=o.usd_per_task,
                          provenance=tuple(o.provenance.items())))
    for c in w.self_hosted:
        for g in c.gpus:
            one = c.model_copy(update={"gpus": [g]})
            o = compare(w.model_copy(update={"api": [], "self_hosted": [one]})).options[0]
            if o.excluded:
                excluded[o.label] = o.excluded
                continue
            out.append(_self_hosted_terms(o, catalog.gpu(g), c.basis))
    return out, excluded


def _self_hosted_terms(o: Option, gpu: Any, basis: PriceBasis) -> _Terms:
    assert o.capacity_requests_per_s and o.usd_per_replica_hour and o.gpus_per_replica
    prov = dict(o.provenance)
    res = term = None
    if basis is PriceBasis.rent and gpu.usd_per_gpu_hour_reserved is not None:
        res = gpu.usd_per_gpu_hour_reserved * o.gpus_per_replica
        term = max(1, round((gpu.reserved_term_years or 1) * 12))
        prov["reserved price"] = (f"catalog:{gpu.reserved_price_source or gpu.price_source}"
                                  f"@{gpu.price_as_of}; term {term} months")
    notes = () if res is not None else (
        ("owned GPUs: no reserved plan",) if basis is not PriceBasis.rent else
        (f"no reserved price for {gpu.key} in the GPU catalog: no reserved or hybrid plan",))
    # compare's how, "N x (config)", is sized for the workload's own peak; keep the config
    m = re.fullmatch(r"\d+ x \((.*)\)", o.how)
    return _Terms(o.label, "self-hosted", o.how, capacity_rps=o.capacity_requests_per_s,
                  usd_per_replica_hour=o.usd_per_replica_hour, usd_per_replica_hour_reserved=res,
                  reserved_term_months=term, provenance=tuple(prov.items()), notes=notes,
                  gpu=gpu.key, per_replica=m.group(1) if m else o.how, owned=basis is not PriceBasis.rent)


def _run(terms: list[_Terms], volumes: list[float], tr: _Traffic) -> list[OptionForecast]:
    opts = [_option(t, volumes, tr) for t in terms]
    return sorted(opts, key=lambda o: o.total_usd())


def _scaled_tokens(w: Workload, f: float) -> Workload:
    def tok(t: Any) -> Any:
        return t.model_copy(update={"input": t.input * f, "output": t.output * f,
                                    "reasoning": t.reasoning * f})

    def cand(c: Any) -> Any:
        return c.model_copy(update={k: getattr(c, k) * f for k in ("output_tokens", "reasoning_tokens")
                                    if getattr(c, k) is not None})

    return w.model_copy(update={"tokens": tok(w.tokens), "api": [cand(c) for c in w.api],
                                "self_hosted": [cand(c) for c in w.self_hosted]})


def _sensitivity(w: Workload, terms: list[_Terms], volumes: list[float], tr: _Traffic,
                 base: float) -> list[Sensitivity]:
    def scale_gpu(f: float) -> list[_Terms]:
        return [replace(t, usd_per_replica_hour=t.usd_per_replica_hour * f,
                        usd_per_replica_hour_reserved=None if t.usd_per_replica_hour_reserved is None
                        else t.usd_per_replica_hour_reserved * f) if t.kind != "api" else t for t in terms]

    def scale_api(f: float) -> list[_Terms]:
        return [replace(t, usd_per_task=t.usd_per_task * f) if t.kind == "api" else t for t in terms]

    cases: list[tuple[str, Callable[[float], tuple[list[_Terms], _Traffic]]]] = [
        ("GPU price", lambda f: (scale_gpu(f), tr)),
        ("utilisation", lambda f: (terms, replace(tr, utilisation=min(tr.utilisation * f, 1.0)))),
        ("tokens per task", lambda f: (_terms(_scaled_tokens(w, f))[0], tr)),
        ("API price", lambda f: (scale_api(f), tr)),
    ]
    rows = []
    for name, make in cases:
        for f in (0.5, 1.5):
            ts, trf = make(f)
            if not ts:
                continue
            best = _run(ts, volumes, trf)[0]
            total = best.total_usd()
            rows.append(Sensitivity(name, f - 1, f"{best.label}, {best.best_plan}", total,
                                    total / base - 1 if base else 0.0))
    swing = {n: max(abs(r.vs_base) for r in rows if r.assumption == n) for n, _ in cases
             if any(r.assumption == n for r in rows)}
    return sorted(rows, key=lambda r: (-swing[r.assumption], r.assumption, r.change))


def forecast(workload: Workload | Path | str, *, months: int = 24, growth: float | str = 0.0,
             diurnal: str | Path | Shape | None = None, scale_step: int = 1, min_replicas: int = 1,
             db: Path | str | None = None) -> Forecast:
    """Month-by-month cost of each of the workload's options over ``months`` months.

    ``growth``: monthly traffic growth (``0.08`` or ``"8%/month"``); ``diurnal``: the day's
    demand shape (``flat``, ``business-hours``, ``usage``, a CSV of ``hour,weight``, or a
    ``Shape``); without one the fleet is sized with the workload's ``peak_to_mean`` and only
    the fixed plans are priced. ``scale_step``/``min_replicas``: autoscaling granularity and floor.

        >>> f = forecast("examples/chat-assistant.toml", growth="8%/month", diurnal="business-hours")  # doctest: +SKIP
        >>> f.cheapest.label, f.cheapest.best_plan, f.break_even[0].tasks_per_day  # doctest: +SKIP
    """
    w = workload if isinstance(workload, Workload) else load_workload(workload)
    if not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        raise InputError(f"--months must be a whole number from 1 to {MAX_MONTHS}, got {months}")
    for name, v in (("--scale-step", scale_step), ("--min-replicas", min_replicas)):
        if not isinstance(v, int) or v < 1:
            raise InputError(f"{name} must be a whole number >= 1, got {v}")
    g = parse_growth(growth)
    s = shape(diurnal, db=db) if diurnal is not None else None
    tr = _Traffic(w.requests_per_task, w.utilisation, w.peak_to_mean, s.weights if s else None,
                  scale_step, min_replicas)
    volumes = [w.tasks_per_day * (1 + g) ** m for m in range(months)]
    shape_peak = s.peak_to_mean if s else w.peak_to_mean
    for m, v in enumerate(volumes, 1):  # the workload's own bound, on every month's traffic
        if not (peak_rps := v * w.requests_per_task * shape_peak / 86400) <= MAX_PEAK_REQUESTS_PER_S:
            raise InputError(f"at {g:+.1%}/month the peak passes the {MAX_PEAK_REQUESTS_PER_S:,.0f} requests/s "
                             f"truecost sizes in month {m} ({peak_rps:.3g} requests/s); give a lower --growth "
                             f"or fewer --months")
    terms, excluded = _terms(w)
    if not terms:
        raise CatalogError(f"{w.name}: no option can serve this workload ("
                           + "; ".join(f"{k}: {v}" for k, v in excluded.items()) + ")")
    options = _run(terms, volumes, tr)
    by_label = {t.label: t for t in terms}
    even = []
    for sh in (o for o in options if o.kind == "self-hosted"):
        for api in (o for o in options if o.kind == "api"):
            for plan in ("on-demand", "autoscaled"):
                if plan not in sh.monthly_usd:
                    continue
                first, always, note = _break_even(by_label[sh.label], tr, plan,
                                                  by_label[api.label].usd_per_task)
                even.append(BreakEven(sh.label, api.label, plan, first, always,
                                      _first_month(sh.monthly_usd[plan], api.monthly_usd["API"]), note))
    base = options[0].total_usd()
    peak = s.peak_to_mean if s else w.peak_to_mean
    assumptions = [
        f"traffic: {w.tasks_per_day:,.0f} tasks/day x {w.requests_per_task:g} requests in month 1, "
        f"{g:+.1%}/month; {DAYS_PER_MONTH:.2f} days a month",
        (f"day shape: {s.name} (peak hour {peak:.2f}x the mean; {s.source})" if s else
         f"day shape: none given; fleets sized for the workload's peak hour ({peak:g}x the mean), "
         f"no autoscaled or hybrid plans (pass --diurnal)"),
        f"self-hosted: replicas sized at {w.utilisation:.0%} utilisation of one replica's capacity "
        f"within the SLO (compare); autoscaling on the hour in steps of {scale_step}, at least "
        f"{min_replicas} running; configuration chosen for month 1",
    ]
    rented = [t for t in terms if t.kind == "self-hosted" and not t.owned]
    no_reserved = sorted({t.gpu for t in rented if t.usd_per_replica_hour_reserved is None})
    notes = ([f"no reserved price in the GPU catalog for {', '.join(no_reserved)}: no reserved or "
              f"hybrid plan on them"] if no_reserved else [])
    if any(t.owned for t in terms):
        notes.append("owned GPUs (basis = own): no reserved plan")
    return Forecast(w.name, months, g, s, peak, volumes, options, excluded, even,
                    _sensitivity(w, terms, volumes, tr, base), assumptions, notes)
