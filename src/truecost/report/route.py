"""View of a routing simulation (``RouteResult``, as ``truecost route simulate ... --json`` prints
it): the cost-accuracy curve of each policy — each model alone, the random mix between the cheap
and the strong model (the line any router must beat), the cascades, and the oracle (the cheapest
correct model per question, a bound no router reaches) — and the same points against the share of
questions sent to the strong model, with RouteLLM's measures (APGR, CPT) of each curve.

Every point is one of the result's ``points``; nothing is recomputed. Without prices (no model
carries a $/task) the first chart is left out and the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..cli.format import usd
from ..route import PolicyPoint, RouteResult
from .chart import Axis, Mark, Series, money, xy
from .view import Column, Figure, Section, Table, tip, view

__all__ = ["RouteSubject"]

HALF = 580  # px: two charts side by side


@dataclass(frozen=True, slots=True)
class RouteSubject:
    result: RouteResult
    command: str  # truecost route simulate SOURCES ... --json
    key: str


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _family(p: PolicyPoint) -> str:
    """The curve a point belongs to: random, one cascade per signal, the oracle, or alone."""
    return "random" if p.policy == "random" else p.policy


def _label(r: RouteResult, p: PolicyPoint) -> str:
    if p.policy != "alone":
        return p.label
    name = p.label.removesuffix(" alone")
    return f"{'cheap' if name == r.cheap else 'strong' if name == r.strong else 'other'}: {name}"


def _tip(r: RouteResult, p: PolicyPoint) -> str:
    m = {x.name: x for x in r.models}
    sources = [f"{x.name}: outcomes {x.source}" + (f"; price {x.price}" if x.price else "") for x in m.values()]
    return tip(f"{_label(r, p)}: accuracy {_pct(p.accuracy)}, {_pct(p.strong_share)} of questions to the "
               f"strong model", f"$/task {usd(p.usd_per_task)}, $/correct {usd(p.usd_per_correct)}"
               if p.usd_per_task is not None else "not priced", *sources)


@view("route")
def route_curves(s: RouteSubject) -> Section:
    r = s.result
    alone = {_label(r, p): p for p in r.points if p.policy == "alone"}
    cheap = next(p for p in r.points if p.policy == "alone" and p.label == f"{r.cheap} alone")
    strong = next(p for p in r.points if p.policy == "alone" and p.label == f"{r.strong} alone")
    families: dict[str, list[PolicyPoint]] = {}
    for p in r.points:
        if p.policy not in ("alone", "oracle"):
            families.setdefault(_family(p), []).append(p)
    priced = all(p.usd_per_task is not None for p in r.points)

    def series(x_of: Any) -> list[Series]:
        out = []
        for i, (fam, pts) in enumerate(families.items()):  # each curve runs from cheap to strong alone
            line = sorted(pts, key=lambda p: p.strong_share)
            ends = [cheap, *line, strong] if fam == "random" else line
            out.append(Series(fam, tuple(Mark(x_of(p), p.accuracy * 100, _tip(r, p)) for p in ends),
                              dashed=fam == "random", color=1 + i))
        out.append(Series("each model alone", tuple(Mark(x_of(p), p.accuracy * 100, _tip(r, p))
                                                    for p in alone.values()), line=False, color=0))
        oracle = [p for p in r.points if p.policy == "oracle"]
        out.append(Series("oracle (bound)", tuple(Mark(x_of(p), p.accuracy * 100, _tip(r, p)) for p in oracle),
                          line=False, color=6))
        return out

    acc = Axis("accuracy (%)", lo=0, hi=100)
    charts = []
    if priced:
        costs = [p.usd_per_task for p in r.points if p.usd_per_task]
        log_x = bool(costs) and max(costs) / min(costs) > 20  # type: ignore[type-var, operator]
        charts.append(xy(series(lambda p: p.usd_per_task), Axis("cost per task (USD" + (", log scale)" if log_x
                                                                                      else ")"), log=log_x, fmt=money),
                         acc, title="Accuracy vs cost per task", width=HALF))
    charts.append(xy(series(lambda p: p.strong_share * 100),
                     Axis("questions sent to the strong model (%)", lo=0, hi=100, fmt=lambda v: f"{v:g}%"),
                     acc, title="Accuracy vs share of strong-model calls", width=HALF))
    cols = (Column("label", "policy", numeric=False), Column("strong_share", "strong calls", _pct),
            Column("accuracy", "accuracy", _pct), Column("usd_per_task", "$/task", usd),
            Column("usd_per_correct", "$/correct", usd))
    doc = r.to_dict()
    rows = tuple({"_id": p["label"], "_tip": _tip(r, q), "label": _label(r, q),
                  **{c.key: p[c.key] for c in cols[1:]}} for p, q in zip(doc["points"], r.points))
    curve_cols = (Column("policy", "curve", numeric=False), Column("apgr", "APGR", lambda x: f"{x:.3f}"),
                  Column("cpt50", "CPT(50%)", _pct), Column("cpt80", "CPT(80%)", _pct),
                  Column("usd_saved_within_1pt", "$ saved within 1 pt of strong", _pct))
    curve_rows = tuple({"_id": c["policy"], "_tip": tip(f"{c['policy']}: RouteLLM's measures (Ong et al. 2024)"),
                        **{k.key: c[k.key] for k in curve_cols}} for c in doc["curves"])
    models = "; ".join(f"{'cheap' if m.name == r.cheap else 'strong' if m.name == r.strong else 'other'} "
                       f"{m.name} {_pct(m.accuracy)}" + (f" at {usd(m.usd_per_task)}/task" if m.usd_per_task
                                                          is not None else "") for m in r.models)
    return Section(
        key=f"{s.key}-route", title=f"Routing: {r.cheap} and {r.strong}",
        intro=(f"{r.questions:,} questions answered by every model ({models}). Random (dashed): sending "
               "that share of questions to the strong model at random, the line a router must beat; "
               "cascades: the cheap model answers all, the strong one those a signal flags (both paid); "
               "oracle: the cheapest correct model per question, a bound. "
               + ("" if priced else "No price for every model: the cost chart is left out.")),
        figures=(Figure(tuple(charts), Table(cols, rows)),
                 Figure((), Table(curve_cols, curve_rows),
                        caption="RouteLLM's measures of each curve (Ong et al. 2024): APGR, the average "
                                "share of the accuracy gap recovered; CPT(x%), the share of strong calls "
                                "that recovers x% of it; $ saved within 1 accuracy point of the strong "
                                "model.")),
        sources=((s.command, doc),), notes=tuple(r.notes))
