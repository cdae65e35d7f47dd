"""`truecost report`: one self-contained HTML page of bench and eval runs, comparisons, plans,
forecasts, a routing simulation, a training estimate and the validation suites. A thin client of
``truecost.report``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError
from ..hardware import PrecisionName
from ..report import report as build_report
from .output import print_json
from .route import parse_number, parse_pairs, parse_tokens

_D = build_report.__kwdefaults__  # the API owns the defaults; help only quotes them
# report's flags that pass a value to another command's option: that command's error names its
# own flag, which the user did not type here
_BORROWED = {"--months": "--forecast-months", "--growth": "--forecast-growth",
             "--diurnal": "--forecast-diurnal", "--slo": "--plan-slo", "--gpus": "--plan-gpus"}


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def report(
    runs: Annotated[list[str] | None, typer.Argument(help="Stored `truecost bench` and `truecost eval` run "
                                                    "ids.")] = None,
    workload: Annotated[list[Path] | None, typer.Option(
        help="Workload TOML to compare (repeatable).")] = None,
    plan: Annotated[list[Path] | None, typer.Option(help="Workload TOML to plan (repeatable).")] = None,
    plan_slo: Annotated[str | None, typer.Option(help="--plan: replace the workload's SLO, as `truecost plan "
                                                 "--slo`.")] = None,
    plan_gpus: Annotated[str | None, typer.Option(help="--plan: GPU types to search, e.g. h100-sxm,l40s "
                                                  "(default: every catalog GPU with a price).")] = None,
    forecast: Annotated[list[Path] | None, typer.Option(help="Workload TOML to forecast (repeatable).")] = None,
    forecast_months: Annotated[int | None, typer.Option(help="--forecast: months to forecast.")] = None,
    forecast_growth: Annotated[str | None, typer.Option(help="--forecast: monthly traffic growth, e.g. "
                                                        "8%/month.")] = None,
    forecast_diurnal: Annotated[str | None, typer.Option(help="--forecast: the day's demand shape, as "
                                                         "`truecost forecast --diurnal`.")] = None,
    route: Annotated[list[str] | None, typer.Option(help="Eval run id or outcomes CSV to route, as `truecost "
                                                   "route simulate` (repeatable).")] = None,
    route_offer: Annotated[list[str] | None, typer.Option(help="--route: price a model's tokens with an API "
                                                          "offer, MODEL=PROVIDER/MODEL.")] = None,
    route_tokens: Annotated[list[str] | None, typer.Option(help="--route: tokens per task for --route-offer "
                                                           "on a CSV, MODEL=IN:OUT.")] = None,
    route_usd_per_task: Annotated[list[str] | None, typer.Option(help="--route: a model's $ per task, "
                                                                 "MODEL=0.002.")] = None,
    train: Annotated[Path | None, typer.Option(
        help="TOML of `train` arguments (model, tokens, gpu, gpus, ...).")] = None,
    validate: Annotated[list[str] | None, typer.Option(
        help="Validation suite to show: serving, training or swarm (repeatable).")] = None,
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
    plan_gpu_list = None if plan_gpus is None else [g.strip() for g in plan_gpus.split(",") if g.strip()]
    if plan_gpu_list == []:
        raise InputError(f"--plan-gpus {plan_gpus!r} names no GPU; give at least one (e.g. --plan-gpus h100-sxm,l40s) "
                         "or leave it out to search every priced GPU")
    try:
        r = build_report(
            runs or [], workload=workload or [], plan=plan or [], plan_slo=plan_slo, plan_gpus=plan_gpu_list,
            forecast=forecast or [], forecast_months=forecast_months, forecast_growth=forecast_growth,
            forecast_diurnal=forecast_diurnal, route=route or [],
            route_offers=parse_pairs(route_offer, "--route-offer"),
            route_tokens={k: parse_tokens(v, "--route-tokens") for k, v in
                          parse_pairs(route_tokens, "--route-tokens").items()},
            route_usd_per_task={k: parse_number(v, "--route-usd-per-task") for k, v in
                                parse_pairs(route_usd_per_task, "--route-usd-per-task").items()},
            train=train, validate=validate or [], model=model, engine=engine or [], output=output, **kwargs)
    except InputError as e:
        msg = str(e)
        flag = next((f for f in _BORROWED if msg.startswith((f + " ", f + ":"))), None)
        if flag is None:
            raise
        raise InputError(_BORROWED[flag] + msg[len(flag):]) from None
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
