"""View of a ``Forecast`` (``truecost forecast W.toml ... --json``): each option's cost month by
month under each of its plans (on-demand, autoscaled, reserved, hybrid; an API has one), with the
months in which a self-hosted option first costs no more than an API marked, and the break-even
volumes in tasks/day.

The series are the forecast's ``monthly_usd``; the marks are its ``break_even`` entries (a mark
sits on the self-hosted plan's line in the month the forecast names). Nothing is recomputed.
Left out: the sensitivity table (in ``--json`` and the terminal output).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..cli.format import usd
from ..forecast import BreakEven, Forecast, OptionForecast
from .chart import Axis, Bar, Mark, Series, hbars, money, xy
from .view import Column, Figure, Section, Table, tip, view

__all__ = ["ForecastSubject"]


@dataclass(frozen=True, slots=True)
class ForecastSubject:
    forecast: Forecast
    command: str  # truecost forecast W.toml ... --json
    key: str


def _tasks(x: float | None) -> str:
    return "never" if x is None else f"{x:,.0f}"


def _option_tip(f: Forecast, o: OptionForecast, plan: str, m: int | None = None) -> str:
    series = o.monthly_usd[plan]
    return tip(f"{o.label}, {plan}" + (f", month {m}: {usd(series[m - 1])}" if m else ""),
               f"{o.how}; {f.months} months {usd(sum(series))}" + (" (its cheapest plan)" if plan == o.best_plan
                                                                  and len(o.monthly_usd) > 1 else ""),
               f"month {m}: {f.tasks_per_day[m - 1]:,.0f} tasks/day" if m else None,
               *(f"{k}: {v}" for k, v in o.provenance.items()))


def _even_tip(b: BreakEven) -> str:
    return tip(f"{b.self_hosted} ({b.plan}) vs {b.api}: no dearer from {_tasks(b.tasks_per_day)} tasks/day"
               + (f", at every volume above {_tasks(b.always_from)}" if b.always_from and b.tasks_per_day
                  and b.always_from > b.tasks_per_day * 1.0001 else ""),
               f"first forecast month: {b.month}" if b.month else "not within the forecast", b.note or None)


@view("forecast")
def monthly_cost(s: ForecastSubject) -> Section:
    f = s.forecast
    months = list(range(1, f.months + 1))
    series = []
    for i, o in enumerate(f.options):
        for plan in sorted(o.monthly_usd, key=lambda p: p != o.best_plan):  # the cheapest plan first
            best = plan == o.best_plan
            marks = tuple(Mark(m, o.monthly_usd[plan][m - 1], _option_tip(f, o, plan, m)) for m in months)
            series.append(Series(f"{o.label}" + (f" ({plan})" if len(o.monthly_usd) > 1 else ""), marks,
                                 dashed=not best, dots=f.months <= 36, color=i, legend=best))
    by_label = {o.label: o for o in f.options}
    evens = [b for b in f.break_even if b.month is not None]
    if evens:
        series.append(Series("break-even month (self-hosted no dearer than an API)", tuple(
            Mark(b.month, by_label[b.self_hosted].monthly_usd[b.plan][b.month - 1], _even_tip(b))  # type: ignore[index]
            for b in evens), line=False, color=6))
    values = [v for o in f.options for xs in o.monthly_usd.values() for v in xs if v > 0]
    log_y = bool(values) and max(values) / min(values) > 50
    chart = xy(series, Axis("month", lo=1, hi=max(f.months, 2), fmt=lambda v: f"{v:g}"),
               Axis("cost per month (USD" + (", log scale)" if log_y else ")"), log=log_y, fmt=money),
               title=f"{f.workload}: cost per month, {f.growth_per_month:+.1%}/month growth", height=420)
    cols = (Column("label", "option", numeric=False), Column("plan", "plan", numeric=False),
            *(Column(f"month_{m}", f"month {m}", usd) for m in months), Column("total_usd", f"{f.months} months", usd))
    rows = []
    for o in f.options:
        for plan, xs in o.monthly_usd.items():
            row: dict[str, Any] = {"_id": f"{o.label} | {plan}", "_tip": _option_tip(f, o, plan),
                                   "label": o.label, "plan": plan + (" *" if plan == o.best_plan and
                                                                     len(o.monthly_usd) > 1 else ""),
                                   "total_usd": o.total_usd(plan)}
            row |= {f"month_{m}": xs[m - 1] for m in months}
            rows.append(row)
    figures = [Figure((chart,), Table(cols, tuple(rows)),
                      caption="Solid: each option's cheapest plan (* in the table); dashed: its other plans. "
                              "Rings: the first month in which a self-hosted plan costs no more than an API.")]
    if f.break_even:
        pairs = [b for b in f.break_even if b.tasks_per_day is not None]
        charts = ()
        if pairs:
            bars = [Bar(f"{b.self_hosted} vs {b.api}", b.plan, b.tasks_per_day, _even_tip(b))  # type: ignore[arg-type]
                    for b in pairs]
            charts = (hbars(bars, Axis("tasks/day from which self-hosting is no dearer"),
                            title="Break-even volume, self-hosted vs each API", label_px=330),)
        even_cols = (Column("self_hosted", "self-hosted", numeric=False), Column("api", "API", numeric=False),
                     Column("plan", "plan", numeric=False), Column("tasks_per_day", "from tasks/day", _tasks),
                     Column("always_from", "at every volume above", _tasks),
                     Column("month", "first month", lambda m: f"{m:g}"))
        even_rows = tuple({"_id": f"{b.self_hosted} | {b.api} | {b.plan}", "_tip": _even_tip(b),
                           "self_hosted": b.self_hosted, "api": b.api, "plan": b.plan,
                           "tasks_per_day": b.tasks_per_day, "tasks_per_day#text": _tasks(b.tasks_per_day),
                           "always_from": b.always_from, "month": b.month} for b in f.break_even)
        figures.append(Figure(charts, Table(even_cols, even_rows),
                              caption=f"Month 1: {f.tasks_per_day[0]:,.0f} tasks/day; month {f.months}: "
                                      f"{f.tasks_per_day[-1]:,.0f}. 'never': even with every replica busy, "
                                      "self-hosting costs more per task than the API."))
    return Section(
        key=f"{s.key}-forecast", title=f"Forecast: {f.workload}, {f.months} months",
        intro=(f"Each option's cost month by month as traffic grows {f.growth_per_month:+.1%}/month from "
               f"{f.tasks_per_day[0]:,.0f} tasks/day; the cheapest over the horizon is {f.cheapest.label} "
               f"({f.cheapest.best_plan}, {usd(f.cheapest.total_usd())}). Hover a point for its month, "
               "plan and where the figures came from."),
        figures=tuple(figures), sources=((s.command, f.to_dict()),),
        notes=(*f.notes, *(f"excluded: {k}: {v}" for k, v in f.excluded.items()),
               *(f"assumes: {a}" for a in f.assumptions)))
