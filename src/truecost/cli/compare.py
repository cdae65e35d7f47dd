"""`truecost compare`: cost per task and per month of each way of serving a workload."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.cells import cell_len
from rich.table import Table

from ..compare import Comparison, compare as run_compare
from .format import seconds, usd
from .output import out_console, print_json


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)


def compare(
    workload: Annotated[Path, typer.Argument(help="Workload TOML file (see examples/).")],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")] = False,
) -> None:
    """Rank API offers and self-hosted deployments by cost per task for a workload."""
    c = run_compare(workload)
    if json_out:
        print_json(c.to_dict())
    else:
        render(c)


def render(c: Comparison) -> None:
    con = out_console()
    t = Table(title=f"{c.workload}: {c.tasks_per_month:,.0f} tasks/month, peak {c.peak_requests_per_s:.3g} req/s",
              title_justify="left")
    for name, justify in (("#", "right"), ("option", "left"), ("how", "left"), ("$/task", "right"),
                          ("$/month", "right"), ("$/1M in", "right"), ("$/1M out", "right"),
                          ("GPUs", "right"), (f"TTFT {c.ttft_stat}", "right"), (f"TPOT {c.tpot_stat}", "right"),
                          ("sources", "left")):
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    notes: dict[str, int] = {}  # provenance text -> footnote number, in order of first use
    rows = []
    for i, o in enumerate(c.ranked, 1):
        refs = [f"{k}[{notes.setdefault(v, len(notes) + 1)}]" for k, v in o.provenance.items()]
        rows.append([str(i), o.label, o.how, usd(o.usd_per_task), usd(o.usd_per_month), usd(o.usd_per_mtok_input),
                     usd(o.usd_per_mtok_output), str(o.gpus or "-"), seconds(o.ttft_s), seconds(o.tpot_s),
                     " ".join(refs)])
        t.add_row(*rows[-1])
    # Rich squeezes a table to the width by wrapping and cutting cells; once the numbers alone (with
    # 12 columns each for option and how) no longer fit, it would cut them: drop columns instead.
    widths = [max(cell_len(x) for x in [str(col.header), *(r[i] for r in rows)]) + 3 for i, col in enumerate(t.columns)]
    if sum(widths) - widths[1] - widths[2] + 2 * (12 + 3) + 1 > con.width:
        _narrow(c, rows)
    else:
        con.print(t)
    for o in c.options:
        if o.excluded:
            con.print(f"excluded: {o.label}: {o.excluded}", soft_wrap=True, markup=False)
    for a in c.assumptions:
        con.print(f"assumes: {a}", soft_wrap=True, markup=False)
    for text, n in notes.items():
        con.print(f"[{n}] {text}", soft_wrap=True, markup=False)


def _narrow(c: Comparison, rows: list[list[str]]) -> None:
    """The table for a narrow terminal: ids and numbers never cut (option and how fold at words),
    the least important columns dropped with a note (shared helper of the catalog verbs; to be
    replaced by cli/tables.py)."""
    from .catalog import Col, render_table

    cols = [Col("#", "right"), Col("option", fold=True), Col("how", fold=True, drop=3), Col("$/task", "right"),
            Col("$/month", "right"), Col("$/1M in", "right", drop=5), Col("$/1M out", "right", drop=4),
            Col("GPUs", "right", drop=6), Col(f"TTFT {c.ttft_stat}", "right", drop=1),
            Col(f"TPOT {c.tpot_stat}", "right", drop=2), Col("sources", fold=True, drop=7)]
    render_table(cols, rows, title=f"{c.workload}: {c.tasks_per_month:,.0f} tasks/month, "
                                   f"peak {c.peak_requests_per_s:.3g} req/s")
