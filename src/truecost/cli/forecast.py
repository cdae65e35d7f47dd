"""`truecost forecast`: each option's monthly cost as traffic grows, break-even volumes and the
assumption that moves the answer most. A thin client of ``truecost.forecast``: tables that fit
the terminal (``cli/tables.py``), ``--json``, or ``--format csv`` (one row per month)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..forecast import Forecast, forecast as run_forecast
from .format import usd
from .output import out_console, print_json
from .tables import Col, OutputFormat, Sources, output_format, print_csv, print_lines, print_table

_DEFAULTS = run_forecast.__kwdefaults__  # the API owns the defaults; help only quotes them


def register(app: typer.Typer) -> None:
    app.command("forecast")(forecast)


def forecast(
    workload: Annotated[Path, typer.Argument(help="Workload TOML file (see examples/).")],
    months: Annotated[int, typer.Option(help="Months to forecast.")] = _DEFAULTS["months"],
    growth: Annotated[str, typer.Option(help="Monthly traffic growth: 8%/month, 8% or 0.08.")]
    = str(_DEFAULTS["growth"]),
    diurnal: Annotated[str | None, typer.Option(help="The day's demand shape: flat, "
                                                "business-hours, usage (your imported logs) or a "
                                                "CSV of hour,weight. Default: none (fixed fleets "
                                                "sized with the workload's peak_to_mean).")] = None,
    scale_step: Annotated[int, typer.Option(help="Autoscaling adds replicas in steps of this.")]
    = _DEFAULTS["scale_step"],
    min_replicas: Annotated[int, typer.Option(help="Replicas that always run.")] = _DEFAULTS["min_replicas"],
    fmt: Annotated[OutputFormat | None, typer.Option("--format", help="table (default), json, or csv: "
                                                     "one row per month.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="JSON on stdout instead of tables.")] = False,
) -> None:
    """Month-by-month cost of each option with traffic growth and a daily demand shape."""
    out = output_format(fmt, json_out)
    f = run_forecast(workload, months=months, growth=growth, diurnal=diurnal, scale_step=scale_step,
                     min_replicas=min_replicas)
    match out:
        case OutputFormat.json:
            print_json(f.to_dict())
        case OutputFormat.csv:
            print_csv(f.monthly_rows())
        case _:
            render(f)


def note(text: str) -> None:
    print_lines(out_console(), text)


def _tasks(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f}"


def _plural(n: float, word: str) -> str:
    return f"{n:g} {word}" + ("" if n == 1 else "s")


def render(f: Forecast) -> None:
    n = f.months
    con = out_console()
    note(f"{f.workload}: {n} months from {f.tasks_per_day[0]:,.0f} tasks/day, "
         f"{f.growth_per_month:+.1%}/month ({f.tasks_per_day[-1]:,.0f} tasks/day in month {n})")
    months = sorted({1, n})
    cols = [Col("option", 0, "left", wrap=True), Col("plan", 0, "left"), *(Col(f"month {m}", 1) for m in months),
            Col(f"{n} months", 1)]
    sources = Sources()
    rows: list[list[str]] = []
    for o in f.options:
        refs = " ".join(f"[{sources.number(v)}]" for v in o.provenance.values())
        plans = sorted(o.monthly_usd.items(), key=lambda kv: sum(kv[1]))
        if rows:
            rows.append([""] * len(cols))  # a blank line between options
        for i, (plan, series) in enumerate(plans):
            label = o.label if i == 0 else ("  " + refs if i == 1 else "")
            best = " *" if len(plans) > 1 and plan == o.best_plan else ""
            rows.append([label, plan + best, *(usd(series[m - 1]) for m in months), usd(sum(series))])
        if len(plans) == 1:
            rows.append(["  " + refs, "", *("" for _ in months), ""])
    print_table(con, cols, rows)
    note("* the option's cheapest plan (monthly figures for every month: --json or --format csv)")
    for o in f.options:
        if o.kind == "self-hosted":
            peak = o.replicas["peak"]
            print_lines(con, f"  {o.label}: replicas of {o.how}; {_plural(peak[0], 'replica')} at the "
                             f"peak in month 1, {peak[-1]:g} in month {n}", hang=2)
    for x in f.notes:
        note(f"note: {x}")
    for label, why in f.excluded.items():
        note(f"excluded: {label}: {why}")
    _render_break_even(f)
    _render_sensitivity(f)
    for a in f.assumptions:
        note(f"assumes: {a}")
    for line in sources.lines():
        note(line)


def _render_break_even(f: Forecast) -> None:
    if not f.break_even:
        return
    note("")
    note("break-even: tasks/day from which each self-hosted option, on demand, costs no more "
         "than each API; month: the first forecast month in which it does")
    plans = [p for p in ("on-demand", "autoscaled") if any(b.plan == p for b in f.break_even)]
    cols = [Col("self-hosted vs API", 0, "left", wrap=True), *(Col(p, 1) for p in plans), Col("month", 1)]
    cells: dict[tuple[str, str], dict[str, object]] = {}
    for b in f.break_even:
        cell = "never" if b.tasks_per_day is None else _tasks(b.tasks_per_day)
        if b.always_from is not None and b.tasks_per_day is not None \
                and b.always_from > b.tasks_per_day * 1.0001:
            cell += f"\n(all >{_tasks(b.always_from)})"
        r = cells.setdefault((b.self_hosted, b.api), {})
        r[b.plan] = cell
        months = [m for m in (r.get("month"), b.month) if isinstance(m, int)]
        r["month"] = min(months) if months else None
    rows: list[list[str]] = []
    last = None
    for (sh, api), r in cells.items():
        if sh != last:
            if last is not None:
                rows.append([""] * len(cols))
            rows.append([sh, *("" for _ in plans), ""])
            last = sh
        rows.append(["  " + api, *(str(r.get(p, "-")) for p in plans), str(r["month"]) if r["month"] else "-"])
    print_table(out_console(), cols, rows)
    if any(b.tasks_per_day is None for b in f.break_even):
        note("never: even with every replica busy, self-hosting costs more per task than the API")
    if any(b.always_from is not None and b.tasks_per_day is not None
           and b.always_from > b.tasks_per_day * 1.0001 for b in f.break_even):
        note("(all >N): cheaper from the first volume, but a fleet that just added a replica can "
             "cost more again until N tasks/day")


def _render_sensitivity(f: Forecast) -> None:
    if not f.sensitivity:
        return
    base = f.cheapest
    note("")
    note(f"sensitivity: {f.months}-month total of the cheapest option, one assumption at a time "
         f"(base: {base.label}, {base.best_plan}, {usd(base.total_usd())})")
    cols = [Col("assumption", 0, "left"), Col("change", 0), Col("cheapest option, plan", 2, "left", wrap=True),
            Col("total", 1), Col("vs base", 1)]
    rows = []
    last = None
    for s in f.sensitivity:
        rows.append([s.assumption if s.assumption != last else "", f"{s.change:+.0%}", s.cheapest,
                     usd(s.total_usd), f"{s.vs_base:+.1%}"])
        last = s.assumption
    print_table(out_console(), cols, rows)
    top = f.sensitivity[0]
    note(f"moves the answer most: {top.assumption} "
         f"({max(abs(s.vs_base) for s in f.sensitivity if s.assumption == top.assumption):.0%} "
         f"swing); utilisation is capped at 100%")
