"""`truecost validate [serving|training|swarm]`: the model against published measurements, row by row."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from ..validation import Summary, ValidationReport, validate as run_validate
from .catalog import render_table
from .output import out_console, print_json
from .tables import Col, Sources, print_lines


class SuiteName(str, Enum):
    serving = "serving"
    training = "training"
    swarm = "swarm"


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)


def validate(
    suite: Annotated[SuiteName, typer.Argument(help="Which published measurements.")] = SuiteName.serving,
    engine: Annotated[str, typer.Option(
        help="Engine profile for serving: shipped, calibrated (its name) or a TOML file.")] = "tuned",
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")] = False,
) -> None:
    """Predict every published measurement and print the error of each and the summary."""
    report = run_validate(suite.value, engine=engine)
    if json_out:
        print_json(report.to_dict())
    else:
        render(report)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:+.1%}"


def _value(x: float | None) -> str:
    if x is None:
        return "-"
    if abs(x) >= 1e6:
        return f"{x / 1e6:,.4g}M"
    return f"{x:,.0f}" if abs(x) >= 1e3 else f"{x:,.1f}"


def _small(x: float | None) -> str:
    return "-" if x is None else f"{x:#.3g}"  # 2.00, not 2


def render(report: ValidationReport) -> None:
    setups, sources = Sources(), Sources()
    serving = report.engine is not None
    cols = [Col("id", 0, "left"), Col("metric", 1, "left"), Col("unit", 4, "left"), Col("published"),
            Col("predicted"), Col("error"), *([Col("bound", 5, "left")] if report.suite != "training" else []),
            Col("setup"), Col("src")]
    fmt = _small if report.suite == "swarm" else _value  # steps/s and ratios are small numbers
    rows = [[r.id, r.metric, r.unit, fmt(r.published), fmt(r.predicted), _pct(r.error),
             *([r.binding or "-"] if report.suite != "training" else []), setups.ref(r.description),
             sources.ref(report.sources.get(r.id, ""))] for r in report.rows]
    what = (f"serving, engine profile '{report.engine}'" if serving
            else "training GPU-hours (6·N·D) and cost" if report.suite == "training"
            else "Petals swarms and offloading, single-sequence steps/s")
    units = {r.metric: r.unit for r in report.rows}
    con = out_console()
    print_lines(con, f"truecost validate: {what} vs published measurements")
    render_table(cols, rows, footer=[
        _summary_line("all rows", report.summary),
        *(_summary_line(f"{m} ({units[m]})", s) for m, s in report.summary.by_metric.items()),
        *(f"{rid}: {text}" for rid, text in report.notes.items()),
        "error = predicted / published - 1; ratio = max(pred/pub, pub/pred)",
        "setups:", *setups.lines(), "sources:", *sources.lines()])


def _summary_line(name: str, s: Summary) -> str:
    rows = f"{s.rows} row{'s' if s.rows != 1 else ''}"
    if s.median_abs_error is None:
        return f"{name}: {rows}, no predictions"
    return f"{name}: {rows}, median |error| {s.median_abs_error:.1%}, worst ratio {s.max_ratio:.2f}x"
