"""What the imported traffic cost, and what it would have cost on another option.

Re-pricing is one aggregate query: the usage rows in the window are summed once per group
(model, day, tag or user), logged model and *price tier* (a request's tier is set by its input
tokens, cached included: long-context prices switch at a threshold and then apply to all of a
request's tokens), and the sums are joined to a small table of prices built from the offers
(``Offer.tiers``). Ten million rows re-price in seconds (``benchmarks/usage_reprice.py``).

Options (``--as``):
- an API offer (``openai/gpt-4o-mini``; anything ``truecost.offer`` resolves, or a key of the
  offers file): every logged request at that offer's list price;
- a self-hosted deployment, ``MODEL@GPU`` (``llama-3.1-70b@h100-sxm``): a workload is built from
  the log (mean tokens per request, mean and peak-hour request rate) and sized by
  ``truecost.compare`` (precision, TP and replicas for the peak hour at the stated utilisation
  and SLO); the deployment is paid for every hour of the window.

The baseline is the log itself: each logged model at its own list price (and, for LiteLLM logs,
the spend LiteLLM recorded). Left out: batch discounts, cache-write charges, self-hosted
autoscaling (``truecost forecast`` models it), requests of an export bucket are priced at the
bucket's mean tokens per request.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from ..catalog import validation_message
from ..compare import Option, compare
from ..errors import InputError, UnknownNameError
from ..prices import GENAI_PRICES, Offer, load_offers, offer
from ..store import Store
from ..workload import SelfHostedCandidate, Slo, Tokens, Workload

__all__ = ["BY", "PEAK_TO_MEAN_DAILY", "RepricedOption", "Repricing", "Window", "hourly_profile", "reprice",
           "window"]

By = Literal["model", "day", "tag", "user"]
BY: tuple[str, ...] = ("model", "day", "tag", "user")
# When the log has only daily buckets (an OpenAI export), its busiest hour is unknown: assume it
# runs at this multiple of the day's mean rate (the default peak_to_mean of a workload).
PEAK_TO_MEAN_DAILY = Workload.model_fields["peak_to_mean"].default
LOGGED = "logged: list prices"
LOGGED_SPEND = "logged: spend in the log"

_GROUP_SQL = {None: "'all'", "model": "model", "day": "CAST(ts AS DATE)",
              "tag": "coalesce(tag, '(no tag)')", "user": "coalesce(\"user\", '(no user)')"}


@dataclass(frozen=True)
class Window:
    """The slice of the log re-priced: ``[since, until)`` in UTC, and what it holds."""

    since: datetime
    until: datetime
    rows: int
    requests: int
    input_tokens: int  # cached included
    cached_tokens: int
    output_tokens: int  # reasoning included
    reasoning_tokens: int
    peak_requests_per_s: float
    peak_source: str  # how the peak hour was found

    @property
    def hours(self) -> float:
        return (self.until - self.since).total_seconds() / 3600

    @property
    def mean_requests_per_s(self) -> float:
        return self.requests / (self.hours * 3600)


@dataclass(frozen=True)
class RepricedOption:
    """One option's cost of the window's traffic, in total and per group."""

    label: str
    kind: Literal["logged", "api", "self-hosted"]
    how: str
    usd: float | None  # None: excluded (``excluded`` says why)
    by_group: dict[str, float]
    provenance: dict[str, str]
    excluded: str | None = None


@dataclass(frozen=True)
class Repricing:
    window: Window
    by: str | None
    options: list[RepricedOption]  # the log's own cost first, then each --as option in order
    unpriced: dict[str, int]  # logged models with no offer -> requests (left out of "logged")
    assumptions: list[str] = field(default_factory=list)

    def per_1k(self, o: RepricedOption) -> float | None:
        return None if o.usd is None or not self.window.requests else o.usd / self.window.requests * 1e3

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        w = self.window
        d["window"].update(since=w.since.isoformat(), until=w.until.isoformat(), hours=w.hours,
                           mean_requests_per_s=w.mean_requests_per_s)
        for od, o in zip(d["options"], self.options):
            od["usd_per_1k_requests"] = self.per_1k(o)
        return d

    def group_rows(self) -> list[dict[str, Any]]:
        """One flat row per group and option (for CSV): the group (named by ``by``; ``group``
        = ``all`` without it, so one row per option), the option, and its USD for the group,
        as ``to_dict()``'s ``by_group`` holds it (None: the option was excluded)."""
        groups = list(dict.fromkeys(g for o in self.options for g in o.by_group)) or ["all"]
        return [{self.by or "group": g, "label": o.label, "kind": o.kind, "how": o.how,
                 "usd": None if o.usd is None else o.by_group.get(g, 0.0), "excluded": o.excluded}
                for g in groups for o in self.options]


def _parse_time(text: str | datetime | None, what: str) -> datetime | None:
    """A bound of the window as a naive UTC time (the store's timestamps are UTC): text in ISO
    8601 (a trailing Z or z is UTC), or a datetime, converted to UTC when it carries a zone (so
    --by day counts UTC dates, as the store groups them)."""
    if text is None:
        return None
    if isinstance(text, datetime):
        t = text
    else:
        try:
            t = datetime.fromisoformat(re.sub(r"[Zz]$", "+00:00", text.strip()))
        except ValueError:
            raise InputError(f"--{what} '{text}' is not a date or time (use 2025-01-31 or "
                             f"2025-01-31T12:00)") from None
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo is not None else t


def _where(since: datetime | None, until: datetime | None) -> tuple[str, list[Any]]:
    clauses, args = ["TRUE"], []
    if since is not None:
        clauses.append("ts >= ?")
        args.append(since)
    if until is not None:
        clauses.append("ts < ?")
        args.append(until)
    return " AND ".join(clauses), args


def window(con: Any, since: str | datetime | None = None, until: str | datetime | None = None) -> Window:
    """The window's totals and its peak hour. Without ``since``/``until`` the window runs from
    the hour of the first logged request to the end of the last one's hour (or bucket)."""
    s, u = _parse_time(since, "since"), _parse_time(until, "until")
    if s is not None and u is not None and u <= s:
        raise InputError(f"--until {u} is not after --since {s}")
    where, args = _where(s, u)
    row = con.execute(f"""SELECT count(*), sum(requests), sum(input_tokens), sum(cached_tokens),
        sum(output_tokens), sum(reasoning_tokens), min(date_trunc('hour', ts)),
        max(CASE WHEN bucket_s = 0 THEN date_trunc('hour', ts) + INTERVAL 1 HOUR
                 ELSE ts + to_seconds(bucket_s) END), max(bucket_s)
        FROM usage WHERE {where}""", args).fetchone()
    rows, requests, tin, tcached, tout, treason, first, last, max_bucket = row
    if not rows:
        span = f" between {s or 'the start'} and {u or 'the end'}" if s or u else ""
        raise InputError(f"no usage in the store{span}; import a log with `truecost usage import FILE`")
    since_v, until_v = s or first, u or last
    if max_bucket <= 3600:
        (peak,) = con.execute(f"SELECT max(r) FROM (SELECT sum(requests) AS r FROM usage WHERE {where} "
                              f"GROUP BY date_trunc('hour', ts))", args).fetchone()
        peak_rps, source = peak / 3600, "the busiest clock hour in the log"
    else:
        (peak,) = con.execute(f"SELECT max(r) FROM (SELECT sum(requests) AS r FROM usage WHERE {where} "
                              f"GROUP BY date_trunc('day', ts))", args).fetchone()
        peak_rps = peak / 86400 * PEAK_TO_MEAN_DAILY
        source = (f"the log has daily buckets: busiest day's mean rate x {PEAK_TO_MEAN_DAILY:g} "
                  f"(assumed peak hour / mean)")
    return Window(since_v, until_v, rows, int(requests), int(tin), int(tcached), int(tout),
                  int(treason), peak_rps, source)


def hourly_profile(*, since: str | datetime | None = None, until: str | datetime | None = None,
                   db: Path | str | None = None) -> tuple[list[float], str]:
    """Requests by hour of the day (UTC, hour 0 first) summed over the imported logs, and a line
    saying what they came from: the demand shape of ``truecost forecast --diurnal usage``."""
    with Store(db) as store:
        con = store.con
        con.execute("SET TimeZone = 'UTC'")
        w = window(con, since, until)
        where, args = _where(w.since, w.until)
        (coarse,) = con.execute(f"SELECT count(*) FROM usage WHERE {where} AND bucket_s > 3600",
                                args).fetchone()
        if coarse:
            raise InputError(f"{coarse:,} usage rows are buckets longer than an hour (a daily "
                             f"export): no hourly shape; use --diurnal flat, business-hours or a file")
        rows = dict(con.execute(f"SELECT hour(ts), sum(requests) FROM usage WHERE {where} "
                                f"GROUP BY ALL", args).fetchall())
    counts = [float(rows.get(h, 0)) for h in range(24)]
    source = (f"measured: {w.requests:,} logged requests by hour of day (UTC), "
              f"{w.since:%Y-%m-%d} to {w.until:%Y-%m-%d}")
    return counts, source


# -- options ------------------------------------------------------------------------------------
def _self_hosted_spec(text: str) -> tuple[str, str] | None:
    model, sep, gpu = text.partition("@")
    if not sep:
        return None
    if not model.strip() or not gpu.strip():
        raise InputError(f"--as '{text}': a self-hosted option is MODEL@GPU, e.g. llama-3.1-70b@h100-sxm")
    return model.strip(), gpu.strip()


def _tier_case(thresholds: list[int]) -> str:
    """SQL: the tier floor (largest threshold below a request's mean input tokens, else -1)."""
    x = "(input_tokens::DOUBLE / requests)"
    whens = " ".join(f"WHEN {x} > {t} THEN {t}" for t in sorted(thresholds, reverse=True))
    return f"CASE {whens} ELSE -1 END" if whens else "-1"


def price_rows(key: str, tiers: list, logged: tuple[str, str] | None = None) -> list[tuple]:
    """Rows of the prices table: one per tier, ``[lo, hi)`` of the tier floor; ``logged`` =
    (model, provider) when the prices apply to that logged model only."""
    bounds = [t.above_input_tokens for t in tiers] + [2**62]
    model, provider = logged or (None, None)
    return [(key, model, provider, t.above_input_tokens, bounds[i + 1], t.usd_per_mtok_input,
             t.usd_per_mtok_cached_input, t.usd_per_mtok_output, t.usd_per_request)
            for i, t in enumerate(tiers)]


def logged_offer(model: str, provider: str, extra: dict[str, Offer]) -> Offer | None:
    for name in ([f"{provider}/{model}"] if provider else []) + [model]:
        try:
            return offer(name, extra)
        except UnknownNameError:
            continue
    return None


def reprice(options: list[str] | tuple[str, ...] = (), *, since: str | datetime | None = None,
            until: str | datetime | None = None, by: By | None = None,
            offers_file: Path | str | None = None, utilisation: float | None = None,
            ttft_s: float | None = None, tpot_s: float | None = None,
            db: Path | str | None = None) -> Repricing:
    """The imported traffic in ``[since, until)`` priced as logged and on each of ``options``.

        >>> r = reprice(["openai/gpt-4o-mini", "llama-3.1-8b@h100-sxm"], by="day")  # doctest: +SKIP
        >>> [(o.label, o.usd) for o in r.options]  # doctest: +SKIP
    """
    if by is not None and by not in BY:
        raise InputError(f"--by '{by}' is not one of {', '.join(BY)}")
    extra = load_offers(offers_file) if offers_file else {}
    specs = []
    for text in options:
        sh = _self_hosted_spec(text)
        specs.append((text, sh, None if sh else offer(text.strip(), extra)))
    with Store(db) as store:
        con = store.con
        con.execute("SET TimeZone = 'UTC'")
        w = window(con, since, until)
        where, args = _where(w.since, w.until)
        logged_keys = con.execute(f"SELECT DISTINCT model, coalesce(provider, '') FROM usage "
                                  f"WHERE {where}", args).fetchall()
        logged = {(m, p): logged_offer(m, p, extra) for m, p in logged_keys}
        api = [(text, o) for text, sh, o in specs if o is not None]
        thresholds = tier_thresholds([*logged.values(), *(o for _, o in api)])
        sum_usage(con, where, args, _GROUP_SQL[by], thresholds)
        try:
            result = _price_all(con, w, by, logged, api, specs, extra, utilisation, ttft_s, tpot_s)
        finally:
            con.execute("DROP TABLE IF EXISTS _usage_sums")
    return result


def sum_usage(con: Any, where: str, args: list[Any], group_sql: str, thresholds: list[int]) -> None:
    """One pass over the usage rows: ``_usage_sums`` holds token sums per group, logged model,
    price tier and whether the log carries the rows' spend."""
    # grouped on the typed key (a DATE groups faster than its text), named as text after
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _usage_sums AS
        SELECT CAST(g AS VARCHAR) AS grp, * EXCLUDE (g) FROM (
            SELECT {group_sql} AS g, model, coalesce(provider, '') AS provider,
                   spend_usd IS NOT NULL AS has_spend, {_tier_case(thresholds)} AS tier,
                   sum(requests) AS requests, sum(input_tokens - cached_tokens) AS uncached,
                   sum(cached_tokens) AS cached, sum(output_tokens) AS output,
                   fsum(spend_usd) AS spend, count(*) AS rows
            FROM usage WHERE {where} GROUP BY ALL)""", args)


def tier_thresholds(offers: list[Offer | None]) -> list[int]:
    return sorted({t.above_input_tokens for o in offers if o is not None for t in o.tiers()} - {-1})


def priced_rows(con: Any, prices: list[tuple], where: str = "TRUE") -> list[tuple[str, str, str, float]]:
    """(option key, group, logged model, USD): ``_usage_sums`` rows matching ``where`` joined
    to the prices table (``price_rows``)."""
    if not prices:
        return []
    con.execute("CREATE OR REPLACE TEMP TABLE _usage_prices (key VARCHAR, model VARCHAR, "
                "provider VARCHAR, lo BIGINT, hi BIGINT, p_in DOUBLE, p_cached DOUBLE, "
                "p_out DOUBLE, p_req DOUBLE)")
    con.executemany("INSERT INTO _usage_prices VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", prices)
    # each row's dollars come back as a list and are added by math.fsum (exactly rounded, so
    # independent of the order DuckDB's threads produce them in): the same log prices to the
    # same last bit on every run
    rows = con.execute(f"""SELECT p.key, s.grp, s.model, list((s.uncached * p.p_in + s.cached * p.p_cached
                                 + s.output * p.p_out) / 1e6 + s.requests * p.p_req)
        FROM _usage_sums s JOIN _usage_prices p
          ON (p.model IS NULL OR (p.model = s.model AND p.provider = s.provider))
         AND s.tier >= p.lo AND s.tier < p.hi
        WHERE {where} GROUP BY ALL ORDER BY ALL""").fetchall()
    con.execute("DROP TABLE _usage_prices")
    return [(key, grp, model, math.fsum(usd)) for key, grp, model, usd in rows]


def _priced(con: Any, prices: list[tuple]) -> dict[str, dict[str, float]]:
    """option key -> group -> USD."""
    parts: dict[str, dict[str, list[float]]] = {}
    for key, grp, _, usd in priced_rows(con, prices):
        parts.setdefault(key, {}).setdefault(grp, []).append(usd)
    return {key: {grp: math.fsum(v) for grp, v in per.items()} for key, per in parts.items()}


def _price_all(con: Any, w: Window, by: str | None, logged: dict[tuple[str, str], Offer | None],
               api: list[tuple[str, Offer]], specs: list, extra: dict[str, Offer],
               utilisation: float | None, ttft_s: float | None, tpot_s: float | None) -> Repricing:
    groups = [g for (g,) in con.execute("SELECT DISTINCT grp FROM _usage_sums ORDER BY grp").fetchall()]
    if by == "day":
        groups = _days(w)
    # the log's own cost: each logged model at its own offer
    lp = [r for (m, p), o in logged.items() if o is not None
          for r in price_rows(LOGGED, o.tiers(), logged=(m, p))]
    by_group = _priced(con, lp).get(LOGGED, {})
    requests = {(m, p): int(n) for m, p, n in con.execute(
        "SELECT model, provider, sum(requests) FROM _usage_sums GROUP BY ALL").fetchall()}
    unpriced = {f"{p}/{m}" if p else m: requests[(m, p)] for (m, p), o in logged.items() if o is None}
    priced_models = sorted({o.key for o in logged.values() if o is not None})
    out = [RepricedOption(LOGGED, "logged", f"{len(priced_models)} model(s) at list price",
                          math.fsum(by_group.values()), _fill(by_group, groups),
                          {"price": f"catalog:{GENAI_PRICES} list prices of "
                                    + ", ".join(priced_models[:4]) + (", ..." if len(priced_models) > 4 else "")})]
    spend = con.execute("SELECT grp, fsum(spend), sum(rows) FILTER (WHERE has_spend) FROM _usage_sums "
                        "GROUP BY grp ORDER BY grp").fetchall()
    if any(n for _, _, n in spend):
        rows_with = sum(int(n or 0) for _, _, n in spend)
        out.append(RepricedOption(LOGGED_SPEND, "logged", "as recorded by the gateway",
                                  math.fsum(float(s or 0) for _, s, _ in spend),
                                  _fill({g: float(s or 0) for g, s, _ in spend}, groups),
                                  {"price": f"measured: spend column of the log ({rows_with:,} of "
                                            f"{w.rows:,} rows carry one)"}))
    api_usd = _priced(con, [r for text, o in api for r in price_rows(text, o.tiers())])
    sizing = _sizing_workload(w, utilisation, ttft_s, tpot_s)
    for text, sh, o in specs:
        if o is not None:
            per = api_usd.get(text, {})
            out.append(RepricedOption(o.key, "api", "API", math.fsum(per.values()), _fill(per, groups),
                                      {"price": str(o.provenance)}))
        else:
            out.append(_self_hosted(con, w, by, groups, sizing, *sh))
    assumptions = [
        f"window {w.since:%Y-%m-%d %H:%M} to {w.until:%Y-%m-%d %H:%M} UTC ({w.hours / 24:.1f} days); "
        f"peak hour {w.peak_requests_per_s:.3g} requests/s from {w.peak_source}",
        "API options: every logged request at the offer's list price (no batch discount)",
    ]
    if any(sh for _, sh, _ in specs):
        assumptions.append(
            f"self-hosted: sized by compare for the peak hour at {sizing.utilisation:.0%} utilisation, "
            f"mean tokens per request ({sizing.tokens.input:,.0f} in, {sizing.tokens.generated:,.0f} "
            f"out), {_slo_text(sizing.slo)}; paid every hour of the window"
            + ("; --by day: each day's hours, other groups: their share of modelled GPU time"
               if by else ""))
    return Repricing(w, by, out, unpriced, assumptions)


def _slo_text(slo: Slo) -> str:
    parts = [f"{k} {v:g} s" for k, v in (("TTFT", slo.ttft_s), ("TPOT", slo.tpot_s)) if v is not None]
    return "SLO " + ", ".join(parts) if parts else "no latency SLO (set --ttft/--tpot)"


def _days(w: Window) -> list[str]:
    day = w.since.replace(hour=0, minute=0, second=0, microsecond=0)
    out = []
    while day < w.until:
        out.append(day.strftime("%Y-%m-%d"))
        day += timedelta(days=1)
    return out


def _fill(per: dict[str, float], groups: list[str]) -> dict[str, float]:
    return {g: per.get(g, 0.0) for g in groups} | {g: v for g, v in per.items() if g not in groups}


def _sizing_workload(w: Window, utilisation: float | None, ttft_s: float | None,
                     tpot_s: float | None) -> Workload:
    """The log as a workload: its mean tokens per request and its peak hour."""
    n = w.requests
    mean_rps = w.mean_requests_per_s
    tokens = Tokens(input=w.input_tokens / n,
                    cached_input_fraction=w.cached_tokens / w.input_tokens if w.input_tokens else 0,
                    output=(w.output_tokens - w.reasoning_tokens) / n, reasoning=w.reasoning_tokens / n)
    data: dict[str, Any] = {
        "name": "usage log", "tasks_per_day": mean_rps * 86400, "tokens": tokens,
        "peak_to_mean": max(w.peak_requests_per_s / mean_rps, 1.0),
        "slo": Slo(ttft_s=ttft_s, tpot_s=tpot_s)}
    if utilisation is not None:
        data["utilisation"] = utilisation
    try:
        return Workload.model_validate(data)
    except ValidationError as e:
        if any(err["loc"] == ("utilisation",) for err in e.errors()):
            raise InputError(f"--utilisation must be from 0.01 to 1, got {utilisation}") from None
        raise InputError(validation_message("the usage log's traffic", e)) from None


def _self_hosted(con: Any, w: Window, by: str | None, groups: list[str], base: Workload,
                 model: str, gpu: str) -> RepricedOption:
    sized = base.model_copy(update={"self_hosted": [SelfHostedCandidate(model=model, gpus=[gpu])]})
    o: Option = compare(sized).options[0]
    label = f"{model}@{gpu}"
    if o.excluded:
        return RepricedOption(label, "self-hosted", "-", None, {}, {}, excluded=o.excluded)
    usd_per_hour = o.usd_per_replica_hour * o.replicas  # type: ignore[operator]
    total = usd_per_hour * w.hours
    if by == "day":
        per = {}
        for g in groups:
            start = max(datetime.fromisoformat(g), w.since)
            end = min(datetime.fromisoformat(g) + timedelta(days=1), w.until)
            per[g] = usd_per_hour * max((end - start).total_seconds(), 0) / 3600
    else:
        per = _gpu_time_shares(con, o, total)
    return RepricedOption(label, "self-hosted", o.how, total, per, dict(o.provenance))


def _gpu_time_shares(con: Any, o: Option, total: float) -> dict[str, float]:
    """Split a fixed deployment's cost over groups by modelled GPU time: compare's per-token
    prices of input (prefill) and output (decode) weigh each group's tokens."""
    w_in, w_out = o.usd_per_mtok_input or 0.0, o.usd_per_mtok_output or 0.0
    rows = con.execute("SELECT grp, sum(uncached + cached), sum(output) FROM _usage_sums "
                       "GROUP BY grp ORDER BY grp").fetchall()
    weight = {g: float(i) * w_in + float(out) * w_out for g, i, out in rows}
    denom = math.fsum(weight.values())
    if not denom or not math.isfinite(denom):
        return {g: total / len(weight) for g in weight} if weight else {}
    return {g: total * v / denom for g, v in weight.items()}
