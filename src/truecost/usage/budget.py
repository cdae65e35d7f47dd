"""A month of imported usage against a monthly budget: the days and models over it, and where
the month will end at its current pace.

Spend is what the log recorded where it carries a spend (LiteLLM), else each logged model's
list price (``truecost.offer``). The daily budget is the monthly budget spread evenly over the
month's days. The month-end projection is the run rate of the month so far (spend ÷ elapsed
days × days in the month), the month so far ending with the last logged hour (or bucket).
Left out: trends within the month (a linear run rate), weekday/weekend patterns, refunds and
credits.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..prices import Offer, load_offers
from ..store import Store
from .reprice import logged_offer, price_rows, priced_rows, sum_usage, tier_thresholds

__all__ = ["Budget", "BudgetDay", "BudgetModel", "budget"]


@dataclass(frozen=True)
class BudgetDay:
    day: str  # YYYY-MM-DD (UTC)
    usd: float
    over: bool  # spent more than the daily budget


@dataclass(frozen=True)
class BudgetModel:
    model: str
    usd: float  # month so far
    projected_usd: float  # at the month's run rate
    budget_usd: float | None  # its own monthly budget, if one was given
    over: bool | None  # projected above its budget (None without one)


@dataclass(frozen=True)
class Budget:
    month: str  # YYYY-MM
    monthly_usd: float
    days_in_month: int
    as_of: datetime  # end of the month so far (UTC)
    spent_usd: float
    days: list[BudgetDay]  # every day of the month so far
    models: list[BudgetModel]  # by spend, largest first
    unpriced: dict[str, int]  # logged models with neither a spend nor an offer -> requests
    sources: list[str] = field(default_factory=list)

    @property
    def daily_usd(self) -> float:
        return self.monthly_usd / self.days_in_month

    @property
    def elapsed_days(self) -> float:
        start = datetime.strptime(self.month, "%Y-%m")
        return (self.as_of - start).total_seconds() / 86400

    @property
    def projected_usd(self) -> float:
        return self.spent_usd / self.elapsed_days * self.days_in_month if self.elapsed_days else 0.0

    @property
    def over(self) -> bool:
        return self.projected_usd > self.monthly_usd

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(as_of=self.as_of.isoformat(), daily_usd=self.daily_usd,
                 elapsed_days=self.elapsed_days, projected_usd=self.projected_usd, over=self.over)
        return d


def _month_bounds(con: Any, month: str | None) -> tuple[datetime, datetime]:
    if month is None:
        (last,) = con.execute("SELECT max(ts) FROM usage").fetchone()
        if last is None:
            raise InputError("no usage in the store; import a log with `truecost usage import FILE`")
        start = last.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    else:
        try:
            start = datetime.strptime(month.strip(), "%Y-%m")
        except ValueError:
            raise InputError(f"--month '{month}' is not a month; use YYYY-MM (2025-01)") from None
    days = calendar.monthrange(start.year, start.month)[1]
    return start, start + timedelta(days=days)


def budget(monthly_usd: float, *, month: str | None = None,
           model_budgets: dict[str, float] | None = None, offers_file: Path | str | None = None,
           db: Path | str | None = None) -> Budget:
    """The month (``YYYY-MM``; default: the month of the latest logged request) against
    ``monthly_usd``, with optional per-model monthly budgets.

        >>> b = budget(5000)  # doctest: +SKIP
        >>> b.spent_usd, b.projected_usd, [d.day for d in b.days if d.over]  # doctest: +SKIP
    """
    if not monthly_usd > 0 or monthly_usd == float("inf"):
        raise InputError(f"--monthly must be a positive amount of USD, got {monthly_usd}")
    for m, v in (model_budgets or {}).items():
        if not v > 0 or v == float("inf"):
            raise InputError(f"the budget of {m} must be a positive amount of USD, got {v}")
    extra = load_offers(offers_file) if offers_file else {}
    with Store(db) as store:
        con = store.con
        con.execute("SET TimeZone = 'UTC'")
        start, end = _month_bounds(con, month)
        args = [start, end]
        where = "ts >= ? AND ts < ?"
        (as_of,) = con.execute(f"""SELECT max(CASE WHEN bucket_s = 0
                                   THEN date_trunc('hour', ts) + INTERVAL 1 HOUR
                                   ELSE ts + to_seconds(bucket_s) END) FROM usage WHERE {where}""",
                               args).fetchone()
        if as_of is None:
            raise InputError(f"no usage logged in {start:%Y-%m}; import that month's log first")
        as_of = min(as_of, end)
        keys = con.execute(f"SELECT DISTINCT model, coalesce(provider, '') FROM usage WHERE {where} "
                           f"AND spend_usd IS NULL", args).fetchall()
        offers: dict[tuple[str, str], Offer | None] = {k: logged_offer(*k, extra) for k in keys}
        sum_usage(con, where, args, "CAST(ts AS DATE)", tier_thresholds(list(offers.values())))
        try:
            spend = con.execute("SELECT grp, model, fsum(spend) FROM _usage_sums WHERE has_spend "
                                "GROUP BY ALL ORDER BY ALL").fetchall()
            prices = [r for (m, p), o in offers.items() if o is not None
                      for r in price_rows("list", o.tiers(), logged=(m, p))]
            listed = priced_rows(con, prices, where="NOT s.has_spend")
            unpriced = {f"{p}/{m}" if p else m: int(n) for m, p, n in con.execute(
                "SELECT model, provider, sum(requests) FROM _usage_sums WHERE NOT has_spend "
                "GROUP BY ALL").fetchall() if offers.get((m, p)) is None}
        finally:
            con.execute("DROP TABLE IF EXISTS _usage_sums")
    cells = [(g, m, float(u)) for g, m, u in spend] + [(g, m, u) for _, g, m, u in listed]
    return _summarise(start, end, as_of, monthly_usd, model_budgets or {}, cells, unpriced,
                      bool(spend), bool(listed))


def _summarise(start: datetime, end: datetime, as_of: datetime, monthly_usd: float,
               model_budgets: dict[str, float], cells: list[tuple[str, str, float]],
               unpriced: dict[str, int], from_spend: bool, from_list: bool) -> Budget:
    days_in_month = (end - start).days
    # exactly rounded sums (math.fsum): the same log gives the same last bit on every run
    day_parts: dict[str, list[float]] = {}
    model_parts: dict[str, list[float]] = {}
    for day, model, usd in cells:
        day_parts.setdefault(day, []).append(usd)
        model_parts.setdefault(model, []).append(usd)
    by_day = {k: math.fsum(v) for k, v in day_parts.items()}
    by_model = {k: math.fsum(v) for k, v in model_parts.items()}
    daily = monthly_usd / days_in_month
    days = []
    day = start
    while day < as_of:
        key = day.strftime("%Y-%m-%d")
        days.append(BudgetDay(key, by_day.get(key, 0.0), by_day.get(key, 0.0) > daily))
        day += timedelta(days=1)
    elapsed = (as_of - start).total_seconds() / 86400
    scale = days_in_month / elapsed if elapsed else 0.0
    unknown = set(model_budgets) - set(by_model)
    if unknown:
        raise InputError(f"no usage of {', '.join(sorted(unknown))} in {start:%Y-%m}; logged models: "
                         f"{', '.join(sorted(by_model)) or 'none'}")
    models = [BudgetModel(m, usd, usd * scale, model_budgets.get(m),
                          usd * scale > model_budgets[m] if m in model_budgets else None)
              for m, usd in sorted(by_model.items(), key=lambda kv: (-kv[1], kv[0]))]
    sources = (["spend recorded in the log"] if from_spend else []) + \
        (["list prices (genai-prices) of the logged models where the log has no spend"] if from_list else [])
    return Budget(start.strftime("%Y-%m"), monthly_usd, days_in_month, as_of,
                  math.fsum(by_day.values()), days, models, unpriced, sources)
