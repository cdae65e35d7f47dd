"""Views of eval runs (``EvalResult``, as ``truecost runs show RUN_ID --json`` prints an eval run):
per run, accuracy with its 95% interval, tokens per task and $ per task and per correct answer,
by domain; across runs, accuracy against $ per task (which model is worth its price).

The figures are the result's own summaries (overall and per domain); nothing is recomputed. A run
without a price shows accuracy and tokens and says it is not priced. Left out: per-question
answers (``truecost runs export``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..cli.format import seconds, usd
from ..eval.results import EvalResult, EvalSummary
from .chart import Axis, Bar, Mark, Series, hbars, money, number, xy
from .view import Column, Figure, Section, Table, tip, view

__all__ = ["EvalSubject", "EvalsSubject"]

HALF = 580  # px: two charts side by side


@dataclass(frozen=True, slots=True)
class EvalSubject:
    result: EvalResult
    command: str  # truecost runs show RUN_ID --json
    key: str


@dataclass(frozen=True, slots=True)
class EvalsSubject:
    """Several eval runs on one page, compared."""

    runs: tuple[EvalSubject, ...]
    key: str


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _tokens(x: float | None) -> str:
    return "-" if x is None else f"{x:,.1f}"


def _rows(r: EvalResult) -> list[tuple[str, EvalSummary]]:
    """Each domain, then "all" (the run's overall summary) when there are several."""
    return list(r.by_domain.items()) + ([("all", r.overall)] if len(r.by_domain) != 1 else [])


def _ci(s: EvalSummary) -> str:
    return "-" if s.accuracy_ci is None else f"{s.accuracy_ci[0]:.1%}-{s.accuracy_ci[1]:.1%}"


def _domain_tip(r: EvalResult, name: str, s: EvalSummary) -> str:
    return tip(f"{name}: {s.correct}/{s.graded} correct, accuracy {_pct(s.accuracy)} (95% CI {_ci(s)})",
               f"tokens per task: {_tokens(s.prompt_tokens.mean)} prompt, {_tokens(s.output_tokens.mean)} "
               f"output ({_tokens(s.reasoning_tokens.mean)} reasoning)",
               f"$/task {usd(s.usd_per_task)}, $/correct {usd(s.usd_per_correct)}",
               f"errors: {sum(s.errors.values())}" if s.errors else None,
               f"accuracy: {r.provenance}; suite {r.suite_source}",
               f"price: {r.price}" if r.price else "price: not priced")


# keys as `truecost runs show RUN --json` names them within a domain's (or the run's) object
_COLUMNS = (
    Column("domain", "domain", numeric=False), Column("n", "questions", str), Column("correct", "correct", str),
    Column("accuracy", "accuracy", _pct), Column("accuracy_ci.0", "95% CI low", _pct),
    Column("accuracy_ci.1", "95% CI high", _pct), Column("tokens_per_task.prompt", "prompt tokens", _tokens),
    Column("tokens_per_task.output", "output tokens", _tokens),
    Column("tokens_per_task.reasoning", "reasoning tokens", _tokens),
    Column("latency_s.ttft.median", "TTFT p50", seconds), Column("latency_s.e2e.median", "E2E p50", seconds),
    Column("usd_per_task", "$/task", usd), Column("usd_per_correct", "$/correct", usd))


def _get(d: Any, path: str) -> Any:
    for part in path.split("."):
        if d is None:
            return None
        d = d[int(part)] if isinstance(d, list) else d.get(part)
    return d


@view("eval")
def eval_by_domain(s: EvalSubject) -> Section | None:
    r = s.result
    rows = _rows(r)
    if not rows:
        return None
    doc = r.to_dict()
    charts = []
    acc = [Bar(name, "accuracy", x.accuracy * 100, _domain_tip(r, name, x),
               (x.accuracy_ci[0] * 100, x.accuracy_ci[1] * 100) if x.accuracy_ci else None)
           for name, x in rows if x.accuracy is not None]
    if acc:
        charts.append(hbars(acc, Axis("accuracy (%), with its 95% Wilson interval", lo=0, hi=100,
                                      fmt=lambda v: f"{v:g}%"),
                            title="Accuracy by domain", label_px=120, width=HALF))
    tokens = [Bar(name, kind, mean, _domain_tip(r, name, x)) for name, x in rows
              for kind, mean in (("prompt", x.prompt_tokens.mean), ("output", x.output_tokens.mean),
                                 ("reasoning", x.reasoning_tokens.mean)) if mean is not None]
    if tokens:
        charts.append(hbars(tokens, Axis("tokens per task (mean)", fmt=number),
                            title="Tokens per task (output includes reasoning)", label_px=120, width=HALF))
    cost = [Bar(name, what, v, _domain_tip(r, name, x)) for name, x in rows
            for what, v in (("$/task", x.usd_per_task), ("$/correct answer", x.usd_per_correct)) if v is not None]
    if cost:
        charts.append(hbars(cost, Axis("USD", fmt=money), title="Cost per task and per correct answer",
                            label_px=120, width=HALF))
    table_rows = []
    for name, x in rows:
        d = doc if name == "all" and len(r.by_domain) != 1 else doc["by_domain"][name]
        row: dict[str, Any] = {"_id": name, "_tip": _domain_tip(r, name, x), "domain": name}
        row |= {c.key: _get(d, c.key) for c in _COLUMNS[1:]}
        table_rows.append(row)
    o = r.overall
    priced = (f"priced at {r.price}" if r.price else "not priced (the run was given no --offer or --gpu)")
    return Section(
        key=f"{s.key}-eval", title=f"Eval: {r.model} on {r.suite} ({r.run_id or 'not stored'})",
        intro=(f"{o.n} questions, {o.correct} correct of {o.graded} graded: accuracy {_pct(o.accuracy)} "
               f"(95% Wilson interval {_ci(o)}); {priced}. $/correct answer = $/task / accuracy (the cost "
               "of pass). Hover a bar or a row for its counts and where each figure came from."),
        figures=(Figure(tuple(charts), Table(_COLUMNS, tuple(table_rows))),),
        sources=((s.command, doc),), notes=tuple(r.notes))


@view("evals")
def accuracy_vs_cost(s: EvalsSubject) -> Section | None:
    """Each run's overall accuracy (with its interval) against its $/task; needs two priced runs."""
    runs = [e for e in s.runs if e.result.overall.accuracy is not None and e.result.overall.usd_per_task]
    if len(runs) < 2:
        return None

    def name(e: EvalSubject) -> str:
        return f"{e.result.model} ({e.result.run_id})"

    series = []
    for i, e in enumerate(runs):
        o = e.result.overall
        t = _domain_tip(e.result, name(e), o)
        pts = [Mark(o.usd_per_task, o.accuracy * 100, t)]  # type: ignore[arg-type, operator]
        series.append(Series(name(e), tuple(pts), line=False, color=i))
        if o.accuracy_ci:  # the interval as a vertical segment through the point
            series.append(Series(f"{name(e)} 95% CI", (Mark(o.usd_per_task, o.accuracy_ci[0] * 100, t),  # type: ignore[arg-type]
                                                       Mark(o.usd_per_task, o.accuracy_ci[1] * 100, t)),  # type: ignore[arg-type]
                                 dots=False, color=i, legend=False))
    costs = [e.result.overall.usd_per_task for e in runs]
    log_x = max(costs) / min(costs) > 20  # type: ignore[type-var, operator]
    svg = xy(series, Axis("cost per task (USD" + (", log scale)" if log_x else ")"), log=log_x, fmt=money),
             Axis("accuracy (%)", lo=0, hi=100), title="Eval runs: accuracy vs cost per task")
    cols = (Column("label", "run", numeric=False), Column("accuracy", "accuracy", _pct),
            Column("accuracy_ci.0", "95% CI low", _pct), Column("accuracy_ci.1", "95% CI high", _pct),
            Column("usd_per_task", "$/task", usd), Column("usd_per_correct", "$/correct", usd))
    rows = []
    for e in runs:
        d = e.result.to_dict()
        rows.append({"_id": e.result.run_id, "_tip": _domain_tip(e.result, name(e), e.result.overall),
                     "label": name(e), **{c.key: _get(d, c.key) for c in cols[1:]}})
    return Section(
        key=f"{s.key}-accuracy-cost", title="Eval runs compared: accuracy vs cost per task",
        intro=("Each eval run's accuracy over all its questions (the vertical line: its 95% Wilson "
               "interval) against what a task cost; up and to the left is better. Runs on different "
               "suites are not comparable."),
        figures=(Figure((svg,), Table(cols, tuple(rows))),),
        sources=tuple((e.command, e.result.to_dict()) for e in runs))
