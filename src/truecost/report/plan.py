"""View of a ``Plan`` (``truecost plan W.toml ... --json``): every confirmed self-hosted
configuration's $/task against its simulated TTFT and TPOT percentiles, the Pareto frontier
ringed and joined, the cheapest marked, and each point's binding constraint (what caps one
replica's load, and the resource its engine step is bound by there).

The points are the plan's ``options`` (confirmed by simulation) and ``frontier``; nothing is
recomputed. API offers have no modelled latency: they are in the table, not on the charts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..cli.format import seconds, usd
from ..plan import Plan, PlanPoint
from .chart import Axis, Mark, Series, money, xy
from .view import Column, Figure, Section, Table, tip, view

__all__ = ["PlanSubject", "point_id"]

HALF = 580  # px: two charts side by side


@dataclass(frozen=True, slots=True)
class PlanSubject:
    plan: Plan
    command: str  # truecost plan W.toml ... --json
    key: str


def point_id(p: PlanPoint) -> str:
    """A configuration as one line (the table row's id): label, replicas x layout, precision,
    engine and max batch; an API offer is its label."""
    c, o = p.config, p.option
    if c is None:
        return o.label
    return f"{o.label}: {o.replicas} x ({c.layout} {c.precision}), {c.engine}, max batch {c.max_batch}"


def _binds(p: PlanPoint) -> str:
    return "-" if p.binding is None else p.binding + (f" ({p.step_bound})" if p.step_bound else "")


def _tip(pl: Plan, p: PlanPoint, role: str) -> str:
    o = p.option
    return tip(f"{point_id(p)}{role}",
               f"$/task {usd(o.usd_per_task)}, $/month {usd(o.usd_per_month)}, {o.gpus} GPUs" if o.gpus
               else f"$/task {usd(o.usd_per_task)}, $/month {usd(o.usd_per_month)}",
               f"TTFT {pl.ttft_stat} {seconds(o.ttft_s)}, TPOT {pl.tpot_stat} {seconds(o.tpot_s)} (simulated at "
               f"the peak)" if o.ttft_s is not None else "latency not modelled (an API offer)",
               f"binds: {_binds(p)}" if p.binding else None, *(f"{k}: {v}" for k, v in o.provenance.items()))


@view("plan")
def plan_frontier(s: PlanSubject) -> Section | None:
    pl = s.plan
    hosted = [p for p in pl.options if p.config is not None and p.option.ttft_s is not None]
    if not pl.options:
        return None
    front = {point_id(p) for p in pl.frontier}
    best = point_id(pl.best) if pl.best is not None else None

    def role(p: PlanPoint) -> str:
        return (" (cheapest)" if point_id(p) == best else "") + (" (on the frontier)" if point_id(p) in front else "")

    charts = []
    if hosted:
        costs = [p.option.usd_per_task for p in hosted]
        log_x = max(costs) / min(costs) > 20
        x = Axis("cost per task (USD" + (", log scale)" if log_x else ")"), log=log_x, fmt=money)
        for stat, attr, what in ((pl.ttft_stat, "ttft_s", "TTFT"), (pl.tpot_stat, "tpot_s", "TPOT")):
            def mark(p: PlanPoint) -> Mark:
                return Mark(p.option.usd_per_task, getattr(p.option, attr) * 1e3, _tip(pl, p, role(p)))
            ordered = sorted(pl.frontier, key=lambda p: p.option.usd_per_task)
            series = [Series("confirmed configurations", tuple(mark(p) for p in hosted if point_id(p) not in front),
                             line=False, color=5),
                      Series("Pareto frontier", tuple(mark(p) for p in ordered), color=0),
                      Series("cheapest", tuple(mark(p) for p in hosted if point_id(p) == best), line=False,
                             color=3)]
            values = [getattr(p.option, attr) * 1e3 for p in hosted]
            log_y = max(values) / max(min(values), 1e-9) > 30
            charts.append(xy(series, x, Axis(f"{what} {stat} (ms" + (", log scale)" if log_y else ")"), log=log_y,
                                              fmt=lambda v: f"{v:g}"),
                             title=f"$/task vs {what} {stat}", width=HALF,
                             highlight=[mark(p) for p in pl.frontier]))
    cols = (Column("label", "option", numeric=False), Column("config", "configuration", numeric=False),
            Column("option.replicas", "replicas", str), Column("option.gpus", "GPUs", str),
            Column("option.usd_per_task", "$/task", usd), Column("option.usd_per_month", "$/month", usd),
            Column("option.ttft_s", f"TTFT {pl.ttft_stat}", seconds),
            Column("option.tpot_s", f"TPOT {pl.tpot_stat}", seconds),
            Column("binds", "binding constraint", numeric=False), Column("role", "", numeric=False))
    rows = []
    for p in pl.options:
        c = p.config
        row: dict[str, Any] = {
            "_id": point_id(p), "_tip": _tip(pl, p, role(p)), "label": p.option.label,
            "config": "API offer" if c is None else f"{p.option.replicas} x ({c.layout} {c.precision}), "
                                                     f"{c.engine}, max batch {c.max_batch}",
            "binds": _binds(p), "role": role(p).replace(") (", ", ").strip(" ()")}
        row |= {k.key: _value(getattr(p.option, k.key.removeprefix("option."))) for k in cols
                if k.key.startswith("option.")}
        rows.append(row)
    searched = pl.searched
    summary = (f"searched {searched.get('configurations', 0):,} configurations: {searched.get('fit', 0):,} fit in "
               f"memory, {searched.get('simulated', 0)} simulated, {searched.get('confirmed', 0)} confirmed")
    cheapest = (f"the cheapest is {point_id(pl.best)} at {usd(pl.best.option.usd_per_task)}/task"
                if pl.best is not None else "no option meets the SLO")
    return Section(
        key=f"{s.key}-plan", title=f"Plan: {pl.workload}",
        intro=(f"SLO {', '.join(pl.objectives) or 'none'} at the peak ({pl.peak_requests_per_s:.3g} req/s); "
               f"{summary}; {cheapest}. Each point is a configuration confirmed by simulation: its $/task "
               f"against the TTFT {pl.ttft_stat} and TPOT {pl.tpot_stat} simulated at the peak; the "
               "Pareto frontier (ringed, joined) holds those no other beats on cost and both latencies. "
               "Hover for the binding constraint and where each figure came from."),
        figures=(Figure(tuple(charts), Table(cols, tuple(rows))),), sources=((s.command, pl.to_dict()),),
        notes=(*(f"excluded: {t}" for t in pl.excluded), *(f"not searched: {', '.join(k)}: {w}"
                                                          for w, k in pl.not_searched.items()),
               *((pl.unmet,) if pl.unmet else ()), *(f"assumes: {a}" for a in pl.assumptions)))


def _value(v: Any) -> Any:
    """A figure as JSON has it: a float (a numpy scalar from the screen becomes one), None for an
    unbounded one."""
    if v is None:
        return None
    v = float(v) if not isinstance(v, int) else v
    return v if math.isfinite(v) else None
