"""What a report is built from: stored bench runs, workload files, training arguments and
validation suites, turned into the subjects the views lay out — by calling the same public
functions the commands call (``load_run``, ``compare``, ``train_cost``, ``validate``,
``estimate``), so the page shows the numbers the commands print.

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
from ..perf.engine import engine as find_engine, engines
from ..perf.serving import Estimate, estimate
from ..train import TrainEstimate, train_cost
from ..validation import ValidationReport, validate
from ..workload import Workload
from .bench import BenchSubject, Prediction, latencies
from .compare import CompareSubject
from .train import TrainSubject
from .validation import ValidationSubject

__all__ = ["TrainArgs", "bench_subject", "compare_subject", "load_train_args", "train_subject",
           "validation_subject"]

DEFAULT_ENGINE = "tuned"  # the uncalibrated prediction: estimate()'s own default profile


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
        flags = {"params_total": "--params", "params_active": "--active-params"}
        args = ["truecost", "train"]
        for k, v in self.given().items():
            args += [flags.get(k, "--" + k.replace("_", "-")), f"{v:g}" if isinstance(v, float) else str(v)]
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
        args += ["--" + k.replace("_", "-"), f"{v:g}" if isinstance(v, float) else str(v)]
    return shlex.join(args + ["--json"])
