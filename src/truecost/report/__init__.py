"""``truecost report``: one self-contained HTML page of what truecost measured and modelled.

Views (one module per family, registered in ``view.py``'s registry): cost per task by option and
accuracy vs cost with the Pareto front (``compare``), plan's Pareto frontier of $/task vs TTFT
and TPOT with binding constraints (``plan``), cost month by month with break-even points
(``forecast``), throughput vs latency with the model's prediction and latency CDFs with the
prediction's simulated percentiles (``bench``), accuracy, tokens and $ per task and per correct
answer by domain, and across eval runs (``eval``), the routing cost-accuracy curves (``route``),
the training cost breakdown (``train``), and model vs published rows (``validation``). Each view
lays out a public result object and shows a table of the same numbers the matching command
prints with ``--json``; the page states the tool version, date and those commands. Charts are
inline SVG with a few lines of inline script for hover; the page loads nothing (its
Content-Security-Policy forbids it).

    >>> r = report(workload=["examples/chat-assistant.toml"], output="report.html")  # doctest: +SKIP
    >>> [s.title for s in r.sections]  # doctest: +SKIP
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..bench import BenchResult
from ..compare import Comparison
from ..errors import InputError
from ..eval.results import EvalResult
from ..forecast import Forecast
from ..plan import Plan
from ..route import RouteResult
from ..train import TrainEstimate
from ..validation import ValidationReport
from ..workload import Workload
from . import (bench as _bench, compare as _compare, eval as _eval, forecast as _forecast,  # noqa: F401  (register views)
               plan as _plan, route as _route, train as _train, validation as _validation)
from .eval import EvalsSubject
from .inputs import (DEFAULT_ENGINE, bench_subject, cli_arg, compare_subject, eval_subject, forecast_subject,
                     is_eval_run, plan_subject, route_flags, route_subject, train_subject, validation_subject)
from .page import render_page
from .view import Section, build

__all__ = ["Report", "report"]


@dataclass(frozen=True)
class Report:
    """The page (``html``), its views in order, and where it was written (None: not written)."""

    html: str
    sections: tuple[Section, ...]
    command: str
    path: Path | None = None

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        if path.is_dir():
            raise InputError(f"{path} is a directory; give a file name, e.g. {path / 'report.html'}")
        if not path.parent.is_dir():
            raise InputError(f"cannot write {path}: the folder {path.parent} does not exist")
        try:
            path.write_text(self.html, encoding="utf-8")
        except OSError as e:
            raise InputError(f"cannot write {path}: {e.strerror or e}") from None
        return path


_ONE = (str, Path, Workload, Comparison, BenchResult, EvalResult, ValidationReport, Forecast, Plan)


def _seq(x: Any) -> list[Any]:
    if x is None:
        return []
    return [x] if isinstance(x, _ONE) else list(x)


WorkloadLike = str | Path | Workload


def report(runs: str | BenchResult | EvalResult | Sequence[str | BenchResult | EvalResult] = (), *,
           workload: WorkloadLike | Comparison | Sequence[WorkloadLike | Comparison] = (),
           plan: WorkloadLike | Plan | Sequence[WorkloadLike | Plan] = (),
           plan_slo: str | None = None, plan_gpus: Sequence[str] | None = None,
           forecast: WorkloadLike | Forecast | Sequence[WorkloadLike | Forecast] = (),
           forecast_months: int | None = None, forecast_growth: str | float | None = None,
           forecast_diurnal: str | None = None,
           route: Sequence[str | Path] | RouteResult = (), route_offers: Mapping[str, str] | None = None,
           route_tokens: Mapping[str, tuple[float, float]] | None = None,
           route_usd_per_task: Mapping[str, float] | None = None,
           train: str | Path | Mapping[str, Any] | TrainEstimate | None = None,
           validate: str | ValidationReport | Sequence[str | ValidationReport] = (),
           model: str | None = None, precision: str = "bf16", engine: Sequence[str] = (),
           store: str | Path | None = None, output: str | Path | None = None,
           title: str = "truecost report") -> Report:
    """Build the HTML report of stored ``runs`` (bench and eval run ids), ``workload`` files
    (compared), ``plan`` and ``forecast`` workload files, ``route`` (eval run ids and/or outcome
    CSVs, routed), ``train`` (a TOML of ``train_cost`` arguments, a mapping, or a
    ``TrainEstimate``) and ``validate`` suites (``"serving"``, ``"training"``, ``"swarm"``);
    result objects (``BenchResult``, ``EvalResult``, ``Comparison``, ``Plan``, ``Forecast``,
    ``RouteResult``, ...) are accepted as they are.

    ``plan_slo``/``plan_gpus`` are ``plan``'s ``slo`` and ``gpus``; ``forecast_months``,
    ``forecast_growth``, ``forecast_diurnal`` are ``forecast``'s ``months``, ``growth`` and
    ``diurnal``; ``route_offers``, ``route_tokens``, ``route_usd_per_task`` price the routed
    models as ``simulate_route``'s ``offers``, ``tokens`` and ``usd_per_task``. Bench
    predictions: ``model`` names the served model's architecture when the run's model name is
    not a catalog name; ``precision`` its weights; ``engine`` adds profiles to the default one (a
    profile calibrated on the run is added by itself). ``output`` writes the page.
    """
    run_list, workloads, suites = _seq(runs), _seq(workload), _seq(validate)
    plans, forecasts = _seq(plan), _seq(forecast)
    routed = [] if isinstance(route, RouteResult) else [str(x) for x in _seq(route)]
    engines = [engine] if isinstance(engine, str) else list(engine)
    if not (run_list or workloads or plans or forecasts or routed or isinstance(route, RouteResult)
            or train is not None or suites):
        raise InputError("nothing to report: give bench or eval run ids, --workload W.toml, --plan W.toml, "
                         "--forecast W.toml, --route OUTCOMES, --train ARGS.toml or --validate SUITE")
    sections: list[Section] = []
    for i, w in enumerate(workloads, 1):
        sections += build("comparison", compare_subject(w, f"compare-{i}"))
    for i, w in enumerate(plans, 1):
        sections += build("plan", plan_subject(w, f"plan-{i}", slo=plan_slo, gpus=plan_gpus))
    for i, w in enumerate(forecasts, 1):
        sections += build("forecast", forecast_subject(w, f"forecast-{i}", months=forecast_months,
                                                       growth=forecast_growth, diurnal=forecast_diurnal))
    bench_runs = [r for r in run_list if not (isinstance(r, EvalResult) or
                                                isinstance(r, str) and is_eval_run(r, store))]
    for i, r in enumerate(bench_runs, 1):
        sections += build("bench", bench_subject(r, f"run-{i}", store=store, model=model,
                                                 precision=precision, engines_=engines))
    evals = [eval_subject(r, f"eval-{i}", store) for i, r in
             enumerate((r for r in run_list if r not in bench_runs), 1)]
    for e in evals:
        sections += build("eval", e)
    sections += build("evals", EvalsSubject(tuple(evals), "evals"))
    if routed or isinstance(route, RouteResult):
        sections += build("route", route_subject(route if isinstance(route, RouteResult) else routed, "route",
                                                 offers=route_offers, tokens=route_tokens,
                                                 usd_per_task=route_usd_per_task, store=store))
    if train is not None:
        sections += build("train", train_subject(train, "train"))
    for s in suites:
        name = s.suite if isinstance(s, ValidationReport) else s
        sections += build("validation", validation_subject(s, f"validate-{name}",
                                                           engines[0] if engines else DEFAULT_ENGINE))
    command = _command(dict(
        run_list=run_list, workloads=workloads, plans=plans, forecasts=forecasts, suites=suites, route=route,
        routed=routed, route_offers=route_offers, route_tokens=route_tokens, route_usd_per_task=route_usd_per_task,
        plan_slo=plan_slo, plan_gpus=plan_gpus, forecast_months=forecast_months, forecast_growth=forecast_growth,
        forecast_diurnal=forecast_diurnal, train=train, model=model, precision=precision, engines=engines,
        output=output))
    from .. import __version__

    html = render_page(sections, title=title, version=__version__,
                       generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                       command=command)
    out = Report(html, tuple(sections), command)
    if output is not None:
        out = Report(html, out.sections, command, out.write(output))
    return out


def _command(given: Mapping[str, Any]) -> str:
    """The ``truecost report`` command line that builds this page (objects given from Python
    have none)."""
    g = given
    files = [*g["run_list"], *g["workloads"], *g["plans"], *g["forecasts"], *g["suites"]]
    plain = all(isinstance(x, (str, Path)) for x in files) and not isinstance(g["route"], RouteResult) and (
        g["train"] is None or isinstance(g["train"], (str, Path)))
    if not plain:
        return "truecost.report(...) (Python, from result objects)"
    args = ["truecost", "report", *map(str, g["run_list"])]
    for flag, values in (("--workload", g["workloads"]), ("--plan", g["plans"]), ("--forecast", g["forecasts"]),
                         ("--route", g["routed"])):
        for v in values:
            args += [flag, str(v)]
    args += route_flags("--route-", g["route_offers"], g["route_tokens"], g["route_usd_per_task"])
    for flag, v in (("--plan-slo", g["plan_slo"]), ("--plan-gpus", ",".join(g["plan_gpus"] or []) or None),
                    ("--forecast-months", g["forecast_months"]), ("--forecast-growth", g["forecast_growth"]),
                    ("--forecast-diurnal", g["forecast_diurnal"])):
        if v is not None:
            args += [flag, cli_arg(v)]
    if g["train"] is not None:
        args += ["--train", str(g["train"])]
    for s in g["suites"]:
        args += ["--validate", str(s)]
    if g["model"]:
        args += ["--model", g["model"]]
    if g["precision"] != "bf16":
        args += ["--precision", g["precision"]]
    for e in g["engines"]:
        args += ["--engine", e]
    return shlex.join(args + (["-o", str(g["output"])] if g["output"] is not None else []))
