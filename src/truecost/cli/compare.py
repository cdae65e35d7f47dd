"""`truecost compare`: cost per task and per month of each way of serving a workload."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..compare import Comparison, compare as run_compare
from .format import seconds, usd
from .output import out_console, print_json
from .tables import Col, OutputFormat, output_format, print_csv, print_lines, print_table


class RankBy(str, Enum):
    task = "task"
    correct = "correct"
    month = "month"


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)


def compare(
    workload: Annotated[Path, typer.Argument(help="Workload TOML file (see examples/).")],
    rank_by: Annotated[RankBy, typer.Option(help="Rank by $/task, $/correct answer (candidates "
                                            "with accuracy) or $/month.")] = RankBy.task,
    fmt: Annotated[OutputFormat | None, typer.Option("--format", help="table (default), json, "
                                                     "or csv: one row per option.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")] = False,
) -> None:
    """Rank API offers and self-hosted deployments by cost per task for a workload."""
    c = run_compare(workload, rank_by=rank_by.value)
    match output_format(fmt, json_out):
        case OutputFormat.json:
            print_json(c.to_dict())
        case OutputFormat.csv:
            print_csv(c.to_dict()["options"])
        case _:
            render(c)


# What "$/1M in/out" mean in compare; bench's per-token cost is all-in (whole cost / output).
SPLIT_NOTE = ("$/1M in/out split: API rows, the price charged (the batch price on batch rows); "
              "self-hosted rows, the GPU cost split by the modelled prefill/decode time share")


def render(c: Comparison) -> None:
    con = out_console()
    has_correct = any(o.usd_per_correct_answer is not None for o in c.ranked)
    first = {"task": "$/task", "correct": "$/correct", "month": "$/month"}[c.rank_by]
    cols = [Col("#", 0), Col("option", 0, "left", wrap=True), Col("how", 2, "left", wrap=True),
            Col("$/task", 1 if first == "$/task" else 2),
            *([Col("$/correct", 1 if first == "$/correct" else 2)] if has_correct else []),
            Col("$/month", 1 if first == "$/month" else 2),
            Col("$/1M in\nsplit", 4), Col("$/1M out\nsplit", 4), Col("GPUs", 6),
            Col(f"TTFT {c.ttft_stat}", 5), Col(f"TPOT {c.tpot_stat}", 5), Col("sources", 3, "left", wrap=True)]
    notes: dict[str, int] = {}  # provenance text -> footnote number, in order of first use
    rows = []
    for i, o in enumerate(c.ranked, 1):
        refs = [f"{k}[{notes.setdefault(v, len(notes) + 1)}]" for k, v in o.provenance.items()]
        rows.append([str(i), o.label, o.how, usd(o.usd_per_task),
                     *([usd(o.usd_per_correct_answer)] if has_correct else []),
                     usd(o.usd_per_month), usd(o.usd_per_mtok_input), usd(o.usd_per_mtok_output),
                     str(o.gpus or "-"), seconds(o.ttft_s), seconds(o.tpot_s), " ".join(refs)])
    title = (f"{c.workload}: {c.tasks_per_month:,.0f} tasks/month, peak "
             f"{c.peak_requests_per_s:.3g} req/s, ranked by {first}")
    print_table(con, cols, rows, title=title, spill=True)
    lines = [f"per-token trap: {o.label} is {o.trap}" for o in c.ranked if o.trap]
    lines += [f"excluded: {o.label}: {o.excluded}" for o in c.options if o.excluded]
    lines += [f"assumes: {a}" for a in c.assumptions] + [SPLIT_NOTE]
    lines += [f"[{n}] {text}" for text, n in notes.items()]
    for line in lines:
        print_lines(con, line)
