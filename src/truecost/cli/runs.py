"""`truecost runs list|show|export`: benchmark runs kept in the result store. A thin client of
``truecost.bench.list_runs``, ``load_run`` and ``export_run``."""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from ..bench import export_run, list_runs, load_run
from .bench import emit_result
from .output import out_console, print_json

runs_app = typer.Typer(help="Benchmark runs in the result store ($TRUECOST_DB or "
                       "~/.truecost/truecost.duckdb): list, show, export.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON on stdout instead of a table.")]


class ExportFormat(str, Enum):
    json = "json"
    csv = "csv"
    parquet = "parquet"


def register(app: typer.Typer) -> None:
    if not any(g.name == "runs" for g in app.registered_groups):  # main() may run again
        app.add_typer(runs_app, name="runs")


@runs_app.command("list")
def list_(json_out: JsonOpt = False) -> None:
    """Stored runs, newest first."""
    runs = list_runs()
    if json_out:
        print_json(runs)
        return
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for c in ("run", "started", "status", "model", "url", "mode", "points", "requests", "ok"):
        t.add_column(c, justify="right" if c in ("points", "requests", "ok") else "left",
                     no_wrap=c != "url", overflow="fold")
    for r in runs:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["started_at"] or 0))
        t.add_row(r["run_id"], started, r["status"], r["model"], r["url"], r["mode"] or "-",
                  str(r["points"]), str(r["requests"]), str(r["ok"]))
    out_console().print(t if runs else "no runs stored yet (truecost bench URL --model M)")


@runs_app.command("show")
def show(run_id: Annotated[str, typer.Argument(help="Run id (see truecost runs list).")],
         json_out: JsonOpt = False) -> None:
    """A run's metrics per operating point, recomputed from its stored requests."""
    if any(r["run_id"] == run_id and r["mode"] == "eval" for r in list_runs()):
        from ..eval.results import load_eval
        from .eval import emit

        return emit(load_eval(run_id), json_out)  # an eval run: its accuracy and $ per answer
    emit_result(load_run(run_id), json_out)


@runs_app.command("export")
def export(run_id: Annotated[str, typer.Argument(help="Run id (see truecost runs list).")],
           fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="File format.")] =
           ExportFormat.json,
           out: Annotated[Path | None, typer.Option("--out", "-o", help="File to write "
                                                    "(default: RUN_ID.FORMAT here).")] = None) -> None:
    """Write a run's raw requests (and, in JSON, its run and points) to a file."""
    path = export_run(run_id, out or Path(f"{run_id}.{fmt.value}"), fmt.value)
    print(path)
