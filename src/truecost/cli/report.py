"""`truecost report`: one self-contained HTML page of bench runs, comparisons, a training
estimate and the validation suites. A thin client of ``truecost.report``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..hardware import PrecisionName
from ..report import report as build_report
from .output import print_json

_D = build_report.__kwdefaults__  # the API owns the defaults; help only quotes them


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def report(
    runs: Annotated[list[str] | None, typer.Argument(help="Stored `truecost bench` run ids.")] = None,
    workload: Annotated[list[Path] | None, typer.Option(
        help="Workload TOML to compare (repeatable).")] = None,
    train: Annotated[Path | None, typer.Option(
        help="TOML of `train` arguments (model, tokens, gpu, gpus, ...).")] = None,
    validate: Annotated[list[str] | None, typer.Option(
        help="Validation suite to show: serving or training (repeatable).")] = None,
    model: Annotated[str | None, typer.Option(
        help="Architecture of the benchmarked model for the prediction overlay (catalog name, "
             "config.json or TOML), when the run's model name is not in the catalog.")] = None,
    precision: Annotated[PrecisionName | None, typer.Option(
        help=f"Weights precision for the prediction (default {_D['precision']}).")] = None,
    engine: Annotated[list[str] | None, typer.Option(
        help="Extra engine profile for the prediction (repeatable); a profile calibrated on "
             "the run is added by itself.")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path("report.html"),
    title: Annotated[str | None, typer.Option(help=f"Page title (default '{_D['title']}').")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print what was written as JSON.")] = False,
) -> None:
    """Write one self-contained HTML report: charts with hover provenance, tables, commands."""
    kwargs = {k: v for k, v in dict(precision=precision and precision.value,
                                    title=title).items() if v is not None}
    r = build_report(runs or [], workload=workload or [], train=train, validate=validate or [],
                     model=model, engine=engine or [], output=output, **kwargs)
    views = [{"id": s.key, "title": s.title, "commands": [c for c, _ in s.sources]}
             for s in r.sections]
    if json_out:
        print_json({"path": str(r.path), "bytes": len(r.html.encode()), "command": r.command,
                    "views": views})
    else:
        print(f"wrote {r.path}: {len(views)} views, {len(r.html.encode()) / 1024:,.0f} KiB, "
              f"self-contained (open it in a browser)")
        for v in views:
            print(f"  {v['title']}")
