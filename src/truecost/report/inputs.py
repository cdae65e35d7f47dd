"""What a report is built from: stored bench and eval runs, workload files (compared, forecast,
planned), training arguments, routing outcomes and validation suites, turned into the subjects
the views lay out — by calling the same public functions the commands call (``load_run``,
``load_eval``, ``compare``, ``forecast``, ``plan``, ``simulate_route``, ``train_cost``,
``validate``, ``estimate``), so the page shows the numbers the commands print, and naming the
command line that prints them.

A training-arguments TOML holds ``train_cost``'s keyword arguments (``model``, ``tokens``,
``gpu``, ``gpus``, ...; see ``TrainArgs``); unknown keys are errors. Bench predictions use the
run's model (or ``model``), its GPU and GPU count as stored with the run, and the token counts it
measured; a model the catalog does not know leaves the prediction out with a note.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import catalog
from ..bench import BenchResult, load_run
from ..compare import Comparison, compare
from ..errors import CatalogError, DoesNotFitError, InputError, UnknownNameError
from ..eval.results import EvalResult, load_eval
from ..forecast import Forecast, forecast
from ..perf.engine import engine as find_engine, engines
from ..perf.serving import Estimate, estimate
from ..plan import Plan, plan
from ..route import RouteResult, simulate_route
from ..train import TrainEstimate, train_cost
from ..validation import ValidationReport, validate
from ..workload import Workload
from .bench import BenchSubject, Prediction, latencies
from .compare import CompareSubject
from .eval import EvalSubject
from .forecast import ForecastSubject
from .plan import PlanSubject
from .route import RouteSubject
from .train import TrainSubject
from .validation import ValidationSubject

__all__ = ["TrainArgs", "bench_subject", "cli_arg", "compare_subject", "eval_subject", "forecast_subject",
           "is_eval_run", "load_train_args", "plan_subject", "route_flags", "route_subject", "train_subject",
           "validation_subject"]

DEFAULT_ENGINE = "tuned"  # the uncalibrated prediction: estimate()'s own default profile


def cli_arg(v: Any) -> str:
    """A value as a command-line argument that parses back to the same number: ``15e12`` as
    ``1.5e+13``, ``0.1234567891`` in full (``:g`` would round it to 6 figures)."""
    if isinstance(v, float):
        return f"{v:g}" if float(f"{v:g}") == v else repr(v)
    return str(v)


# -- compare ----------------------------------------------------------------------------------
def compare_subject(w: str | Path | Workload | Comparison, key: str) -> CompareSubject:
    if isinstance(w, Comparison):
        return CompareSubject(w, "truecost.compare(...) (Python)", key)
    if isinstance(w, Workload):
        return CompareSubject(compare(w), f"truecost.compare(Workload {w.name!r}) (Python)", key)
    return CompareSubject(compare(w), shlex.join(["truecost", "compare", str(w), "--json"]), key)


# -- training ---------------------------------------------------------------------------------
class TrainArgs(BaseModel):
    """``train_cost``'s keyword arguments, as a TOML file gives them; a key left out takes the
    API's default (none is restated here)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = None
    params_total: float | None = Field(default=None, gt=0)
    params_active: float | None = Field(default=None, gt=0)
    tokens: float = Field(gt=0)
    gpu: str | None = None
    gpus: int | None = Field(default=None, ge=1)
    mfu: float | None = Field(default=None, gt=0, le=1)
    precision: str | None = None
    basis: str | None = None
    usd_per_gpu_hour: float | None = Field(default=None, gt=0)
    usd_per_kwh: float | None = Field(default=None, gt=0)
    pue: float | None = Field(default=None, ge=1)
    grid: float | str | None = None
    rnd_multiplier: float | str | None = None
    seq_len: int | None = Field(default=None, ge=1)

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)

    def command(self) -> str:
        """The ``truecost train`` command line with these arguments."""
        args = ["truecost", "train"]  # the CLI's flags are the keyword names (params_total: --params-total)
        for k, v in self.given().items():
            args += ["--" + k.replace("_", "-"), cli_arg(v)]
        return shlex.join(args + ["--json"])


def load_train_args(source: str | Path | Mapping[str, Any]) -> TrainArgs:
    """Training arguments from a TOML file (or a mapping), validated: one-line errors."""
    where = str(source) if not isinstance(source, Mapping) else "training arguments"
    data = catalog.load_toml(source) if not isinstance(source, Mapping) else dict(source)
    try:
        return TrainArgs.model_validate(data)
    except ValidationError as e:
        raise CatalogError(catalog.validation_message(where, e)) from None


def train_subject(source: str | Path | Mapping[str, Any] | TrainEstimate, key: str) -> TrainSubject:
    if isinstance(source, TrainEstimate):
        return TrainSubject(source, "truecost.train_cost(...) (Python)", key)
    args = load_train_args(source)
    return TrainSubject(train_cost(**args.given()), args.command(), key)


# -- validation -------------------------------------------------------------------------------
def validation_subject(suite: str | ValidationReport, key: str, engine: str = DEFAULT_ENGINE
                       ) -> ValidationSubject:
    if isinstance(suite, ValidationReport):
        return ValidationSubject(suite, f"truecost.validate({suite.suite!r}) (Python)", key)
    args = ["truecost", "validate", suite] + (["--engine", engine] if engine != DEFAULT_ENGINE
                                              and suite == "serving" else [])
    report = validate(suite, **({"engine": engine} if suite == "serving" else {}))
    return ValidationSubject(report, shlex.join(args + ["--json"]), key)


# -- forecast and plan --------------------------------------------------------------------------
def _flags(**given: Any) -> list[str]:
    """``--name value`` for each keyword given (not None), in order; lists comma-joined."""
    out: list[str] = []
    for k, v in given.items():
        if v is not None:
            out += ["--" + k.replace("_", "-"), ",".join(map(str, v)) if isinstance(v, (list, tuple)) else cli_arg(v)]
    return out


def forecast_subject(w: str | Path | Workload | Forecast, key: str, *, months: int | None = None,
                     growth: str | float | None = None, diurnal: str | None = None) -> ForecastSubject:
    """``forecast`` of a workload file (or a ``Forecast`` as it is), with the options given."""
    if isinstance(w, Forecast):
        return ForecastSubject(w, "truecost.forecast(...) (Python)", key)
    given = {k: v for k, v in dict(months=months, growth=growth, diurnal=diurnal).items() if v is not None}
    f = forecast(w, **given)  # type: ignore[arg-type]
    if isinstance(w, Workload):
        return ForecastSubject(f, f"truecost.forecast(Workload {w.name!r}) (Python)", key)
    return ForecastSubject(f, shlex.join(["truecost", "forecast", str(w), *_flags(**given), "--json"]), key)


def plan_subject(w: str | Path | Workload | Plan, key: str, *, slo: str | None = None,
                 gpus: Sequence[str] | None = None) -> PlanSubject:
    """``plan`` of a workload file (or a ``Plan`` as it is): ``slo`` replaces the workload's,
    ``gpus`` limits the GPU types searched."""
    if isinstance(w, Plan):
        return PlanSubject(w, "truecost.plan(...) (Python)", key)
    p = plan(w, slo=slo, gpus=list(gpus) if gpus else None)
    if isinstance(w, Workload):
        return PlanSubject(p, f"truecost.plan(Workload {w.name!r}) (Python)", key)
    return PlanSubject(p, shlex.join(["truecost", "plan", str(w), *_flags(slo=slo, gpus=gpus or None), "--json"]),
                       key)


# -- eval and route -----------------------------------------------------------------------------
def is_eval_run(run_id: str, store: str | Path | None = None) -> bool:
    """Whether a stored run is an eval run (else a bench run, or unknown: ``load_run`` says so)."""
    from ..store import Store, default_path

    path = Path(store) if store is not None else default_path()
    if not path.exists():
        return False
    with Store(path) as s:
        return any(r["run_id"] == run_id and r.get("mode") == "eval" for r in s.runs())


def eval_subject(run: str | EvalResult, key: str, store: str | Path | None = None) -> EvalSubject:
    if isinstance(run, EvalResult):
        return EvalSubject(run, "truecost.run_eval(...) (Python)", key)
    return EvalSubject(load_eval(run, store), shlex.join(["truecost", "runs", "show", run, "--json"]), key)


def route_subject(sources: Sequence[str | Path] | RouteResult, key: str, *,
                  offers: Mapping[str, str] | None = None,
                  tokens: Mapping[str, tuple[float, float]] | None = None,
                  usd_per_task: Mapping[str, float] | None = None,
                  store: str | Path | None = None) -> RouteSubject:
    """``simulate_route`` over eval run ids and/or outcome CSVs, priced as ``truecost route
    simulate`` prices them (``--offer``, ``--tokens``, ``--usd-per-task``)."""
    if isinstance(sources, RouteResult):
        return RouteSubject(sources, "truecost.simulate_route(...) (Python)", key)
    r = simulate_route(list(sources), offers=dict(offers or {}), tokens=dict(tokens or {}),
                       usd_per_task=dict(usd_per_task or {}), store=store)
    args = ["truecost", "route", "simulate", *map(str, sources), *route_flags("--", offers, tokens, usd_per_task)]
    return RouteSubject(r, shlex.join(args + ["--json"]), key)


def route_flags(prefix: str, offers: Mapping[str, str] | None, tokens: Mapping[str, tuple[float, float]] | None,
                usd_per_task: Mapping[str, float] | None) -> list[str]:
    """The pricing flags of ``route simulate`` (``prefix`` ``--``) or ``report`` (``--route-``):
    ``--offer MODEL=OFFER``, ``--tokens MODEL=IN:OUT``, ``--usd-per-task MODEL=USD``."""
    args = []
    for flag, pairs in (("offer", dict(offers or {})),
                        ("tokens", {k: f"{cli_arg(float(i))}:{cli_arg(float(o))}" for k, (i, o) in (tokens or {}).items()}),
                        ("usd-per-task", {k: cli_arg(float(v)) for k, v in (usd_per_task or {}).items()})):
        for k, v in pairs.items():
            args += [prefix + flag, f"{k}={v}"]
    return args


# -- bench ------------------------------------------------------------------------------------
def bench_subject(run: str | BenchResult, key: str, *, store: str | Path | None = None,
                  model: str | None = None, precision: str = "bf16",
                  engines_: Sequence[str] = ()) -> BenchSubject:
    """A stored run (by id) with its raw requests (for the CDFs) and the model's predictions;
    a ``BenchResult`` given as an object is shown with what it carries."""
    from ..store import Store, default_path

    if isinstance(run, BenchResult):
        return BenchSubject(run, "truecost.run_bench(...) (Python)", key,
                            notes=("latency distributions and predictions need a stored run "
                                   "(give its run id)",))
    path = Path(store) if store is not None else default_path()
    if not path.exists():
        raise UnknownNameError("run", run, [])
    result = load_run(run, path)
    with Store(path) as s:
        config = s.run(run).get("config") or {}
        records = s.requests(run)
    preds, notes = _predictions(result, config, model, precision, engines_)
    return BenchSubject(result, shlex.join(["truecost", "runs", "show", run, "--json"]), key,
                        latencies(result, records), tuple(preds), tuple(notes))


def _predictions(result: BenchResult, config: Mapping[str, Any], model: str | None,
                 precision: str, named: Sequence[str]) -> tuple[list[Prediction], list[str]]:
    gpu, gpus = config.get("gpu"), int(config.get("gpus") or 1)
    if gpu is None:
        return [], ["no model prediction: the run was not priced with --gpu, so its GPU is unknown"]
    arch = model or result.model
    try:
        catalog.model(arch)
    except UnknownNameError:
        if model is not None:
            raise
        return [], [f"no model prediction: '{arch}' is not a catalog model; give the report "
                    f"--model NAME (a catalog name, config.json or TOML) for the served model"]
    # the default profile, those named, and any profile calibrated on this very run
    calibrated = [k for k, p in engines().items() if p.calibration and result.run_id
                  and result.run_id in p.calibration]
    profiles = list(dict.fromkeys([DEFAULT_ENGINE, *named, *calibrated]))
    preds, notes = [], []
    for profile in profiles:
        estimates: dict[int, Estimate] = {}
        commands: dict[int, str] = {}
        for p in result.points:
            load = _load(p)
            t = p.summary.tokens
            if load is None or not t.input_mean or not t.output_mean:
                continue
            isl, osl = max(round(t.input_mean), 1), max(round(t.output_mean), 1)
            kw = dict(precision=precision, tp=gpus, isl=isl, osl=osl, engine=profile, **load)
            try:
                estimates[p.index] = estimate(arch, gpu, **kw)
            except (DoesNotFitError, InputError) as e:
                notes.append(f"no {profile} prediction at {p.label}: {e}")
                continue
            commands[p.index] = _estimate_command(arch, gpu, kw)
        if estimates:
            cal = " (calibrated)" if find_engine(profile).calibration else ""
            preds.append(Prediction(f"model, engine '{profile}'{cal}", f"model: {profile}{cal}",
                                    estimates, commands))
    return preds, notes


def _load(p: Any) -> dict[str, Any] | None:
    """The point's load as ``estimate`` takes it: live sequences of a closed loop, or the rate
    of an open loop; None for a replayed log (no steady load)."""
    if p.mode in ("concurrency", "throughput") and p.concurrency:
        return {"concurrency": int(p.concurrency)}
    if p.mode in ("rate", "poisson") and p.rate and math.isfinite(p.rate):
        return {"rate": float(p.rate)}
    return None


def _estimate_command(model: str, gpu: str, kw: Mapping[str, Any]) -> str:
    args = ["truecost", "estimate", "--model", model, "--gpu", gpu]
    for k, v in kw.items():
        args += ["--" + k.replace("_", "-"), cli_arg(v)]
    return shlex.join(args + ["--json"])
