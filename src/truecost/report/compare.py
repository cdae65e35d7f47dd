"""Views of a ``Comparison`` (``truecost compare``): cost per task by option, and accuracy vs
cost per task with the Pareto front when options carry an accuracy.

The numbers are the ``Comparison``'s own (``truecost compare W.toml --json``); the only thing
worked out here is which options are on the Pareto front (no other option is both cheaper per
task and at least as accurate). Options excluded for memory or SLO have no cost and are listed
under the chart; options below the quality bar still appear on the accuracy plot, marked.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..cli.format import seconds, usd
from ..compare import Comparison, Option
from .chart import Axis, Bar, Mark, Series, hbars, money, xy
from .view import Column, Figure, Section, Table, tip, view

__all__ = ["CompareSubject", "pareto_front"]


@dataclass(frozen=True, slots=True)
class CompareSubject:
    comparison: Comparison
    command: str  # e.g. "truecost compare examples/chat-assistant.toml --json"
    key: str  # unique on the page


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the (cost, accuracy) points no other point dominates: none is at most as
    costly and at least as accurate, and better in one. Sorted by cost."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front: list[int] = []
    best = -math.inf
    for i in order:
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _option_tip(o: Option) -> str:
    sizing = (f"{o.replicas} replicas x {o.gpus_per_replica} GPUs, {o.capacity_requests_per_s:.3g} "
              f"req/s per replica" if o.replicas else None)
    return tip(f"{o.label} ({o.how})",
               f"$/task {usd(o.usd_per_task)}, $/month {usd(o.usd_per_month)}",
               f"$/correct answer {usd(o.usd_per_correct_answer)}" if o.usd_per_correct_answer else None,
               f"GPUs {o.gpus}" if o.gpus else "GPUs: none (API)",
               sizing,
               f"TTFT {seconds(o.ttft_s)}, TPOT {seconds(o.tpot_s)}" if o.ttft_s is not None
               else "latency: not modelled for APIs",
               *(f"{k}: {v}" for k, v in o.provenance.items()))


_COLUMNS = (
    Column("label", "option", numeric=False), Column("how", "how", numeric=False),
    Column("usd_per_task", "$/task", usd), Column("usd_per_month", "$/month", usd),
    Column("usd_per_mtok_input", "$/1M in", usd), Column("usd_per_mtok_output", "$/1M out", usd),
    Column("gpus", "GPUs", str), Column("ttft_s", "TTFT", seconds), Column("tpot_s", "TPOT", seconds),
)


def _row(o: Option, **extra: Any) -> dict[str, Any]:
    return {"_id": o.label, "_tip": _option_tip(o), "label": o.label, "how": o.how,
            "usd_per_task": o.usd_per_task, "usd_per_month": o.usd_per_month,
            "usd_per_mtok_input": o.usd_per_mtok_input, "usd_per_mtok_output": o.usd_per_mtok_output,
            "gpus": o.gpus, "ttft_s": o.ttft_s, "tpot_s": o.tpot_s,
            "accuracy": o.accuracy, "usd_per_correct_answer": o.usd_per_correct_answer, **extra}


@view("comparison")
def cost_per_task(s: CompareSubject) -> Section:
    c = s.comparison
    ranked = c.ranked
    bars = [Bar(o.label, o.kind, o.usd_per_task, _option_tip(o)) for o in ranked]
    svg = hbars(bars, Axis("cost per task (USD)", fmt=money), title=f"{c.workload}: cost per task",
                colors={"api": 0, "self-hosted": 1})
    notes = tuple(f"excluded: {o.label}: {o.excluded}" for o in c.options if o.excluded)
    return Section(
        key=f"{s.key}-cost", title=f"Cost per task: {c.workload}",
        intro=(f"{c.tasks_per_month:,.0f} tasks/month, peak {c.peak_requests_per_s:.3g} requests/s. "
               "Bars: API offers and self-hosted deployments (each sized by the tool), cheapest "
               "first; hover a bar or a row for $/month, GPUs, TTFT/TPOT and where each figure "
               "came from."),
        figures=(Figure((svg,), Table(_COLUMNS, tuple(_row(o) for o in ranked))),),
        sources=((s.command, c.to_dict()),),
        notes=notes + tuple(f"assumes: {a}" for a in c.assumptions))


@view("comparison")
def accuracy_vs_cost(s: CompareSubject) -> Section | None:
    c = s.comparison
    scored = [o for o in c.options if o.accuracy is not None and math.isfinite(o.usd_per_task)]
    if not scored:
        return None
    front = set(pareto_front([(o.usd_per_task, o.accuracy) for o in scored]))  # type: ignore[misc]
    on_front = [o for i, o in enumerate(scored) if i in front]

    def mark(o: Option) -> Mark:
        return Mark(o.usd_per_task, o.accuracy * 100, tip(  # type: ignore[operator]
            f"{o.label}: accuracy {_pct(o.accuracy)}, $/task {usd(o.usd_per_task)}",  # type: ignore[arg-type]
            f"$/correct answer {usd(o.usd_per_correct_answer)}",
            "on the Pareto front" if o in on_front else "dominated",
            f"below the quality bar: {o.excluded}" if o.excluded else None,
            *(f"{k}: {v}" for k, v in o.provenance.items())))

    series = [Series("API", tuple(mark(o) for o in scored if o.kind == "api"), line=False, color=0),
              Series("self-hosted", tuple(mark(o) for o in scored if o.kind != "api"), line=False,
                     color=1),
              Series("Pareto front", tuple(mark(o) for o in sorted(on_front, key=lambda o: o.usd_per_task)),
                     step=True, dots=False, color=6, dashed=True)]
    costs = [o.usd_per_task for o in scored]
    log_x = max(costs) / max(min(costs), 1e-12) > 20
    svg = xy(series, Axis("cost per task (USD" + (", log scale)" if log_x else ")"), log=log_x, fmt=money),
             Axis("accuracy (%)", lo=0, hi=100), title=f"{c.workload}: accuracy vs cost per task",
             highlight=[mark(o) for o in on_front])
    cols = (Column("label", "option", numeric=False), Column("usd_per_task", "$/task", usd),
            Column("accuracy", "accuracy", _pct),
            Column("usd_per_correct_answer", "$/correct answer", usd),
            Column("pareto", "Pareto front", numeric=False), Column("excluded", "excluded", numeric=False))
    rows = tuple(_row(o, pareto="yes" if o in on_front else "no", excluded=o.excluded or "")
                 for o in sorted(scored, key=lambda o: o.usd_per_task))
    return Section(
        key=f"{s.key}-accuracy", title=f"Accuracy vs cost per task: {c.workload}",
        intro=("Each option's accuracy (with its source on hover) against its cost per task. The "
               "Pareto front (ringed, dashed) holds the options no other option beats on both; "
               "options below the workload's quality bar are shown and marked in the table."),
        figures=(Figure((svg,), Table(cols, rows)),), sources=((s.command, c.to_dict()),))
