"""`truecost usage import|reprice|budget`: real traffic in the store, re-priced and budgeted.
A thin client of ``truecost.usage``: parse, call, render (tables that fit the terminal, through
``cli/tables.py``; ``reprice --format csv``: one row per group and option)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .. import usage as api
from ..errors import InputError
from ..workload import Workload
from .format import percent, times, usd
from .output import err_console, out_console, print_json
from .progress import cli_progress
from .tables import Col, OutputFormat, Sources, output_format, print_csv, print_lines, print_table

usage_app = typer.Typer(help="Usage logs: import them into the result store, re-price them on "
                        "other options, check a month against a budget.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON on stdout instead of tables.")]
DbOpt = Annotated[Path | None, typer.Option("--db", help="Store file (default: $TRUECOST_DB or "
                                            "~/.truecost/truecost.duckdb).")]
OffersOpt = Annotated[Path | None, typer.Option("--offers", help="Extra API offers (TOML, as a "
                                                "workload's offers_file).")]


_UTILISATION = Workload.model_fields["utilisation"].default  # the workload owns the default
# closed sets from the API, as enums so that --help lists them and a bad value names them
Format = Enum("Format", {f: f for f in api.FORMATS}, type=str)  # type: ignore[misc]
By = Enum("By", {b: b for b in api.BY}, type=str)  # type: ignore[misc]


def note(text: str) -> None:
    """A line of text on stdout, wrapped at the terminal's width."""
    print_lines(out_console(), text)


def register(app: typer.Typer) -> None:
    if not any(g.name == "usage" for g in app.registered_groups):  # main() may run again
        app.add_typer(usage_app, name="usage")


@usage_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="Usage log: .csv, .jsonl or .parquet (.gz too).")],
    fmt: Annotated[Format | None, typer.Option("--format", help="Log format (default: recognised "
                                               "by its columns).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
    db: DbOpt = None, json_out: JsonOpt = False,
) -> None:
    """Read an OpenAI usage export, LiteLLM spend logs or a generic log into the store."""
    bar = cli_progress(quiet)
    try:
        r = api.import_usage(file, fmt.value if fmt else None, db=db, progress=bar)
    finally:
        if bar:
            bar.stop()
    for e in [] if r.already_imported else r.errors:
        err_console.print(f"warning: {e}", markup=False)
    if r.bad_rows > len(r.errors) and not r.already_imported:
        err_console.print(f"warning: ... and {r.bad_rows - len(r.errors):,} more malformed rows",
                          markup=False)
    if json_out:
        print_json(r)
        return
    if r.already_imported:
        note(f"already imported as {r.import_id} ({r.rows:,} rows), nothing to do: {file}")
        return
    note(f"imported {r.import_id} ({r.format} log): {file}")
    note(f"rows: {r.rows:,} ({r.requests:,} requests), {(r.first_ts or '-')[:16]} to "
         f"{(r.last_ts or '-')[:16]} UTC")
    skipped = [f"{r.bad_rows:,} malformed"] + [f"{n:,} {why}" for why, n in r.skipped.items()]
    if r.duplicate_rows:
        skipped.append(f"{r.duplicate_rows:,} already stored (same request id)")
    note("skipped: " + "; ".join(skipped))


def _split(values: list[str]) -> list[str]:
    return [v.strip() for text in values for v in text.split(",") if v.strip()]


@usage_app.command("reprice")
def reprice(
    as_: Annotated[list[str], typer.Option("--as", help="Option(s) to price the traffic on: an "
                                           "API offer (openai/gpt-4o-mini) or MODEL@GPU "
                                           "(llama-3.1-70b@h100-sxm); comma-separated or "
                                           "repeated.")] = [],  # noqa: B006 - typer reads it
    since: Annotated[str | None, typer.Option(help="From this date/time (UTC, inclusive).")] = None,
    until: Annotated[str | None, typer.Option(help="To this date/time (UTC, exclusive).")] = None,
    by: Annotated[By | None, typer.Option(help="Also break costs down by this.")] = None,
    utilisation: Annotated[float | None, typer.Option(help="Self-hosted: highest load a replica "
                                                      f"is sized for (default {_UTILISATION:g}).")] = None,
    ttft: Annotated[float | None, typer.Option(help="Self-hosted: TTFT objective, s.")] = None,
    tpot: Annotated[float | None, typer.Option(help="Self-hosted: TPOT objective, s.")] = None,
    offers: OffersOpt = None, db: DbOpt = None,
    fmt: Annotated[OutputFormat | None, typer.Option("--format", help="table (default), json, or csv: one "
                                                     "row per group (--by) and option.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """What the imported traffic cost as logged, and what it would have cost on other options."""
    out = output_format(fmt, json_out)
    r = api.reprice(_split(as_), since=since, until=until, by=by.value if by else None,
                    offers_file=offers, utilisation=utilisation, ttft_s=ttft, tpot_s=tpot, db=db)
    match out:
        case OutputFormat.json:
            print_json(r.to_dict())
        case OutputFormat.csv:
            print_csv(r.group_rows())
        case _:
            render_reprice(r)


def render_reprice(r: api.Repricing) -> None:
    w = r.window
    n = w.requests
    note(f"usage {w.since:%Y-%m-%d %H:%M} to {w.until:%Y-%m-%d %H:%M} UTC ({w.hours / 24:.1f} "
          f"days): {n:,} requests, peak hour {w.peak_requests_per_s:.3g} req/s")
    reasoning = f" ({w.reasoning_tokens / n:,.0f} reasoning)" if w.reasoning_tokens else ""
    note(f"per request: {w.input_tokens / n:,.0f} input ({w.cached_tokens / max(w.input_tokens, 1):.0%} "
          f"cached), {w.output_tokens / n:,.0f} output{reasoning}")
    base = r.options[0].usd
    sources = Sources()
    con = out_console()
    rows = []
    for o in r.options:
        refs = " ".join(f"[{sources.number(v)}]" for v in o.provenance.values())
        ratio = times(o.usd / base) if o.usd is not None and base else "-"
        label = o.label if o.kind == "api" else f"{o.label}\n  {o.how}"
        rows.append([label, usd(o.usd), usd(r.per_1k(o)), ratio, refs])
    print_table(con, [Col("option", 0, "left", wrap=True), Col("cost", 1), Col("per 1k req", 1),
                      Col("vs logged", 2), Col("sources", 1, "left", wrap=True)], rows)
    if r.by:
        groups = list(r.options[0].by_group)
        for o in r.options[1:]:
            groups += [k for k in o.by_group if k not in groups]
        rows = []
        for k in groups:
            if rows:
                rows.append(["", "", "", ""])  # a blank line between groups
            logged = r.options[0].by_group.get(k, 0.0)
            for i, o in enumerate(r.options):
                if o.usd is None:
                    continue
                v = o.by_group.get(k, 0.0)
                rows.append([k if i == 0 else "", o.label, usd(v), times(v / logged) if logged else "-"])
        print_table(con, [Col(r.by, 0, "left"), Col("option", 0, "left", wrap=True), Col("cost", 1),
                          Col("vs logged", 1)], rows)
    for o in r.options:
        if o.excluded:
            note(f"excluded: {o.label}: {o.excluded}")
    for model, requests in r.unpriced.items():
        note(f"not priced: {model} ({requests:,} requests): no offer; add one with --offers FILE")
    for a in r.assumptions:
        note(f"assumes: {a}")
    for line in sources.lines():
        note(line)


def _model_budgets(values: list[str]) -> dict[str, float]:
    out = {}
    for text in _split(values):
        model, sep, amount = text.rpartition("=")
        try:
            out[model.strip()] = float(amount)
        except ValueError:
            sep = ""
        if not sep or not model.strip():
            raise InputError(f"--model-budget '{text}': use MODEL=USD, e.g. gpt-4o=2000")
    return out


@usage_app.command("budget")
def budget(
    monthly: Annotated[float, typer.Option("--monthly", help="Monthly budget, USD.")],
    month: Annotated[str | None, typer.Option(help="YYYY-MM (default: the month of the latest "
                                              "logged request).")] = None,
    model_budget: Annotated[list[str], typer.Option("--model-budget", help="A model's own "
                                                    "monthly budget, MODEL=USD (repeatable).")] = [],  # noqa: B006
    offers: OffersOpt = None, db: DbOpt = None, json_out: JsonOpt = False,
) -> None:
    """A month's spend against a budget: days and models over it, month-end projection."""
    b = api.budget(monthly, month=month, model_budgets=_model_budgets(model_budget),
                   offers_file=offers, db=db)
    if json_out:
        print_json(b.to_dict())
    else:
        render_budget(b)


def render_budget(b: api.Budget) -> None:
    note(f"budget {b.month}: {usd(b.monthly_usd)}/month = {usd(b.daily_usd)}/day over "
          f"{b.days_in_month} days")
    share = b.projected_usd / b.monthly_usd
    verdict = (f"over by {usd(b.projected_usd - b.monthly_usd)}" if b.over
               else f"{usd(b.monthly_usd - b.projected_usd)} to spare")
    note(f"spent {usd(b.spent_usd)} in {b.elapsed_days:.1f} days (to {b.as_of:%Y-%m-%d %H:%M} UTC); "
          f"at this pace the month ends at {usd(b.projected_usd)}, {percent(share)} of the budget "
          f"({verdict})")
    over = [d for d in b.days if d.over]
    note(f"days over {usd(b.daily_usd)}: {len(over)} of {len(b.days)}")
    con = out_console()
    if over:
        print_table(con, [Col("day", 0, "left"), Col("spent", 1), Col("of daily budget", 1)],
                    [[d.day, usd(d.usd), percent(d.usd / b.daily_usd)] for d in over])
    note("by model, projected at the month's pace:")
    print_table(con, [Col("model", 0, "left", wrap=True), Col("spent", 1), Col("projected", 1), Col("budget", 1),
                      Col("status", 1, "left")],
                [[x.model, usd(x.usd), usd(x.projected_usd), usd(x.budget_usd),
                  "-" if x.over is None else ("over" if x.over else "within")] for x in b.models])
    for model, requests in b.unpriced.items():
        note(f"not priced: {model} ({requests:,} requests): no spend in the log and no offer; "
              f"add one with --offers FILE")
    for s in b.sources:
        note(f"spend from: {s}")
