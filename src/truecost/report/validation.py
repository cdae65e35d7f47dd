"""View of a ``ValidationReport`` (``truecost validate SUITE --json``): each published row's
signed error (predicted / published − 1), coloured by metric, with the summary and every row's
source on hover."""

from __future__ import annotations

from dataclasses import dataclass

from ..validation import ValidationReport
from .chart import Axis, Bar, hbars, number
from .view import Column, Figure, Section, Table, tip, view

__all__ = ["ValidationSubject"]


@dataclass(frozen=True, slots=True)
class ValidationSubject:
    report: ValidationReport
    command: str  # truecost validate SUITE --json
    key: str


def _signed(x: float) -> str:
    return f"{x:+.1%}"


@view("validation")
def validation_errors(s: ValidationSubject) -> Section | None:
    v = s.report
    if not v.rows:
        return None
    metrics = list(dict.fromkeys(r.metric for r in v.rows))
    bars = [Bar(r.id, r.metric, r.error * 100, tip(  # error in % on the axis
        f"{r.id} {r.metric}: predicted {number(r.predicted)} vs published {number(r.published)} "  # type: ignore[arg-type]
        f"{r.unit}, error {_signed(r.error)}", r.description, v.notes.get(r.id),
        f"source: {v.sources.get(r.id, 'unknown')}"))
        for r in v.rows if r.error is not None]
    what = f"engine profile '{v.engine}'" if v.engine else "6·N·D at the reported or default MFU"
    svg = hbars(bars, Axis("error: predicted / published - 1 (%)", fmt=lambda x: f"{x:+.0f}%"),
                title=f"{v.suite}: {what} vs published measurements", bar_px=12, label_px=70,
                colors={m: i for i, m in enumerate(metrics)})
    sm = v.summary
    rows = tuple({"_id": r.id, "_tip": tip(r.description, v.notes.get(r.id),
                                           f"source: {v.sources.get(r.id, 'unknown')}"),
                  "id": r.id, "metric": r.metric, "unit": r.unit, "published": r.published,
                  "predicted": r.predicted, "error": r.error, "ratio": r.ratio} for r in v.rows)
    cols = (Column("id", "id", numeric=False), Column("metric", "metric", numeric=False),
            Column("unit", "unit", numeric=False), Column("published", "published", number),
            Column("predicted", "predicted", number), Column("error", "error", _signed),
            Column("ratio", "ratio", lambda x: f"{x:.2f}x"))
    med = "-" if sm.median_abs_error is None else f"{sm.median_abs_error:.1%}"
    worst = "-" if sm.max_ratio is None else f"{sm.max_ratio:.2f}x"
    by = "; ".join(f"{m}: {x.rows} rows, median |error| "
                   f"{'-' if x.median_abs_error is None else f'{x.median_abs_error:.1%}'}"
                   for m, x in sm.by_metric.items())
    return Section(
        key=f"{s.key}-validation", title=f"Validation ({v.suite}): model vs published rows",
        intro=(f"{sm.rows} published rows, median |error| {med}, worst ratio {worst} ({by}). "
               "Nothing is fitted to these rows. Hover a bar or a row for its setup and source."),
        figures=(Figure((svg,), Table(cols, rows)),), sources=((s.command, v.to_dict()),))
