"""`truecost runs list|show|export|tag|delete`: benchmark runs kept in the result store. A thin
client of ``truecost.bench.list_runs``, ``load_run``, ``export_run``, ``tag_run`` and
``delete_run``."""

from __future__ import annotations

import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..bench import delete_run, export_run, list_runs, load_run, tag_run
from ..errors import InputError
from .bench import emit_result
from .output import out_console, print_json
from .tables import Col, OutputFormat, output_format, print_lines, print_table

runs_app = typer.Typer(help="Benchmark runs in the result store ($TRUECOST_DB or "
                       "~/.truecost/truecost.duckdb): list, show, export, tag, delete.",
                       no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON on stdout instead of a table.")]
RunArg = Annotated[str, typer.Argument(help="Run id (see truecost runs list).")]


class ExportFormat(str, Enum):
    json = "json"
    csv = "csv"
    parquet = "parquet"


def register(app: typer.Typer) -> None:
    if not any(g.name == "runs" for g in app.registered_groups):  # main() may run again
        app.add_typer(runs_app, name="runs")


@runs_app.command("list")
def list_(tag: Annotated[list[str] | None, typer.Option(
              help="Only runs with this tag (repeat: runs with every tag given).")] = None,
          json_out: JsonOpt = False) -> None:
    """Stored runs, newest first."""
    runs = list_runs(tag=tag)
    if json_out:
        print_json(runs)
        return
    con = out_console()
    if not runs:
        print_lines(con, "no runs stored yet (truecost bench URL --model M)" if not tag else
                    f"no run carries the tag{'s' if len(tag) > 1 else ''} {', '.join(tag)}")
        return
    cols = [Col("run", 0, "left"), Col("status", 1, "left"), Col("model", 1, "left"),
            Col("points", 2), Col("requests", 2), Col("ok", 2), Col("tags", 3, "left", wrap=True),
            Col("started", 4, "left"), Col("mode", 4, "left"), Col("url", 5, "left", wrap=True)]
    rows = [[r["run_id"], r["status"], r["model"], str(r["points"]), str(r["requests"]),
             str(r["ok"]), " ".join(r["tags"]) or "-",
             time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["started_at"] or 0)),
             r["mode"] or "-", r["url"]] for r in runs]
    print_table(con, cols, rows)


@runs_app.command("show")
def show(run_id: RunArg,
         fmt: Annotated[OutputFormat | None, typer.Option(
             "--format", help="table (default), json, or csv: one row per operating point.")]
         = None,
         json_out: JsonOpt = False) -> None:
    """A run's metrics per operating point, recomputed from its stored requests."""
    out = output_format(fmt, json_out)
    if any(r["run_id"] == run_id and r["mode"] == "eval" for r in list_runs()):
        from ..eval.results import load_eval
        from .eval import emit

        return emit(load_eval(run_id), out is OutputFormat.json)  # an eval run: accuracy, $ per answer
    emit_result(load_run(run_id), out)


@runs_app.command("export")
def export(run_id: RunArg,
           fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="File format.")] =
           ExportFormat.json,
           out: Annotated[Path | None, typer.Option("--out", "-o", help="File to write "
                                                    "(default: RUN_ID[-summary].FORMAT here).")]
           = None,
           summary: Annotated[bool, typer.Option("--summary", help="One row per operating point "
                                                 "(the metrics of runs show), not per "
                                                 "request.")] = False) -> None:
    """Write a run's raw requests (and, in JSON, its run and points) to a file, or with
    --summary its metrics, one row per operating point."""
    default = Path(f"{run_id}{'-summary' if summary else ''}.{fmt.value}")
    print(export_run(run_id, out or default, fmt.value, summary=summary))


@runs_app.command("tag")
def tag(run_id: RunArg,
        tags: Annotated[list[str], typer.Argument(help="Tags to add, e.g. vllm-0.8 baseline.")],
        remove: Annotated[bool, typer.Option("--remove", help="Remove these tags "
                                             "instead.")] = False) -> None:
    """Label a run (truecost runs list --tag TAG finds it again)."""
    now = tag_run(run_id, tags, remove=remove)
    print(f"{run_id}: {' '.join(now) if now else 'no tags'}")


@runs_app.command("delete")
def delete(run_ids: Annotated[list[str], typer.Argument(help="Run ids (see truecost runs list).")],
           yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask; needed when "
                                             "stdin is not a terminal.")] = False) -> None:
    """Remove runs, their points, requests, energy samples and tags from the store for good."""
    known = {r["run_id"]: r for r in list_runs()}
    for run_id in run_ids:
        if run_id not in known:
            load_run(run_id)  # the one-line error naming the nearest ids
    if not yes:
        if not sys.stdin.isatty():
            raise InputError("runs delete removes measurements for good; add --yes to confirm")
        n = sum(known[r]["requests"] for r in run_ids)
        typer.confirm(f"delete {len(run_ids)} run(s) and their {n} requests for good?",
                      abort=True)
    for run_id in dict.fromkeys(run_ids):
        print(f"deleted {run_id} ({delete_run(run_id)} requests)")
