"""`truecost plan`: the cheapest deployment that meets a workload's SLOs, and the Pareto frontier.
A thin client of ``truecost.plan``: text and tables (``cli/tables.py``), ``--json``, or ``--format csv``
(one row per option that meets the objectives, as ``--json``'s ``options``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError, TruecostError
from ..plan import MAX_BATCHES, Plan, PlanPoint, plan as run_plan
from .format import seconds, usd
from .output import out_console, print_json
from .progress import cli_progress
from .tables import Col, OutputFormat, Sources, output_format, print_csv, print_lines, print_table


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)


def _names(text: str | None) -> list[str] | None:
    return None if text is None else [t.strip() for t in text.split(",") if t.strip()]


def _ints(text: str) -> list[int]:
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise InputError(f"--max-batch: give whole numbers of sequences separated by commas (e.g. 64,256), "
                         f"got '{text}'") from None


def plan(
    workload: Annotated[Path, typer.Argument(help="Workload TOML file (see examples/).")],
    slo: Annotated[str | None, typer.Option(help="Replace the workload's SLO, e.g. ttft_p95=2s,tpot_p99=80ms "
                                                 "(METRIC[_pNN]=TIME; no pNN: a mean).")] = None,
    gpus: Annotated[str | None, typer.Option(help="GPU types to search, e.g. h100-sxm,h200,l40s "
                                                  "(default: every catalog GPU with a price).")] = None,
    engines: Annotated[str | None, typer.Option(help="Engine profiles to search, shipped or saved by "
                                                     "`truecost calibrate` (default: the shipped ones).")] = None,
    precisions: Annotated[str | None, typer.Option(help="Precisions to search (default: bf16,fp8,int8,int4,"
                                                        "nvfp4 and the model's native one).")] = None,
    max_batch: Annotated[str, typer.Option("--max-batch", help="Engine max batch sizes to search.")] =
        ",".join(str(b) for b in MAX_BATCHES),
    fmt: Annotated[OutputFormat | None, typer.Option("--format", help="table (default), json, or csv: "
                                                     "one row per option that meets the SLOs.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress on stderr.")] = False,
) -> None:
    """Search GPU type x count x layout x precision x engine x max batch x replicas (and the API
    offers) for the cheapest option that meets the SLOs at the peak rate."""
    out = output_format(fmt, json_out)
    bars = cli_progress(quiet)
    try:
        p = run_plan(workload, slo=slo, gpus=_names(gpus), engines=_names(engines), precisions=_names(precisions),
                     max_batches=_ints(max_batch), progress=bars)
    finally:
        if bars is not None:
            bars.stop()
    match out:
        case OutputFormat.json:
            print_json(p.to_dict())
        case OutputFormat.csv:
            print_csv(p.to_dict()["options"])
        case _:
            render(p)
    if p.unmet:
        raise TruecostError(p.unmet)


def _rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def _point_cells(p: PlanPoint, ref: int) -> tuple[str, str]:
    """The option cell (label, sizing, engine; price source ``[ref]``) and the binding cell."""
    o, c = p.option, p.config
    assert c is not None
    option = f"{c.model if o.label.startswith(c.model + ' @') else o.label}\n{o.replicas} x ({c.layout} {c.precision})" \
             f"\n{c.engine}, max batch {c.max_batch} [{ref}]"
    binds = f"{p.binding}\n({p.step_bound})" if p.step_bound else str(p.binding)
    return option, binds


def _summary(p: PlanPoint, stats: tuple[str, str], ref: int | None) -> str:
    o = p.option
    if p.config is None:
        return (f"{o.label}: {o.how}, {usd(o.usd_per_task)}/task, {usd(o.usd_per_month)}/month; latency not "
                "modelled")
    c = p.config
    return (f"{o.label} [{ref}]: {o.replicas} x ({c.layout} {c.precision}), engine {c.engine}, max batch {c.max_batch}; "
            f"{usd(o.usd_per_task)}/task, {usd(o.usd_per_month)}/month; TTFT {stats[0]} {seconds(o.ttft_s)}, "
            f"TPOT {stats[1]} {seconds(o.tpot_s)}; binds: {p.binding} ({p.step_bound})")


def render(p: Plan) -> None:
    con = out_console()

    def line(text: str) -> None:  # wrapped at the console's width, continuation lines indented
        print_lines(con, text, hang=2)
    s = p.searched
    line(f"{p.workload}: peak {_rate(p.peak_requests_per_s)} req/s; SLO {', '.join(p.objectives) or 'none'}")
    line(f"searched {s['configurations']:,} configurations: {s['fit']:,} fit in memory, "
         f"{s['within_slo_as_means']:,} meet the SLO as steady-state means; {s['simulated']} simulated, "
         f"{s['confirmed']} confirmed")
    stats = (p.ttft_stat, p.tpot_stat)
    sources = Sources()  # price provenance -> footnote, in order of first use
    ref = lambda pt: sources.number(pt.option.provenance["price"])  # noqa: E731
    if p.best is not None:
        line("")
        line(f"cheapest: {_summary(p.best, stats, ref(p.best) if p.best.config else None)}")
        if p.runner_up is not None:
            r = p.runner_up
            lo, hi = p.best.option.usd_per_task, r.option.usd_per_task
            more = hi / lo - 1 if lo > 0 else (0.0 if hi <= 0 else None)  # None: dearer than free
            by = (f"+{usd(hi)}/task" if more is None else "same $/task" if more < 1e-9
                  else f"{more:+.1%}/task" if more < 0.01 else f"{more:+.0%}/task")
            line(f"runner-up, {by}: {_summary(r, stats, ref(r) if r.config else None)}")
    if p.frontier:
        line("")
        cols = [Col("#", 0), Col("option", 0, "left", wrap=True), Col("$/task", 1), Col(f"TTFT {p.ttft_stat}", 1),
                Col(f"TPOT {p.tpot_stat}", 1), Col("binds", 2, "left", wrap=True)]
        rows = []
        for i, pt in enumerate(p.frontier, 1):
            option, binds = _point_cells(pt, ref(pt))
            rows.append([str(i), option, usd(pt.option.usd_per_task), seconds(pt.option.ttft_s),
                         seconds(pt.option.tpot_s), binds])
        print_table(con, cols, rows, spill=True, title=f"Pareto frontier: $/task vs TTFT {p.ttft_stat} and TPOT "
                                                       f"{p.tpot_stat} (simulated at the peak)")
        line("")
    apis = [pt for pt in p.options if pt.config is None]
    if apis:
        line("API offers (latency not modelled: measure it with `truecost bench`):")
        for pt in apis:
            line(f"  {pt.option.label}: {usd(pt.option.usd_per_task)}/task, {usd(pt.option.usd_per_month)}/month")
    for text in p.excluded:
        line(f"excluded: {text}")
    for why, keys in p.not_searched.items():
        line(f"not searched: {', '.join(keys)}: {why}")
    for a in p.assumptions:
        line(f"assumes: {a}")
    for text, n in sources.texts.items():
        line(f"price [{n}]: {text}")
