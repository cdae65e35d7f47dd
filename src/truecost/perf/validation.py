"""Check the performance model against published serving measurements.

Reads CSVs with the columns of the shipped ``catalog/data/validation/serving_published.csv`` (id,
model, gpu, gpus, tp, precision, isl, osl, load, metric, value, unit, engine, source) and returns
the model's prediction and its error for each row. The load column is parsed, not looked up:

- "offline (...)": the steady state at the most sequences that fit (max throughput); its
  latency means are the steady state's (its percentiles are not modelled: no prediction);
- "Poisson R req/s ... (N requests)": a simulation of N Poisson arrivals at R req/s;
- "all at once (N requests)": a simulation of N requests sent at t = 0;
- "concurrency C ... (N requests)": a simulation of a closed loop of C clients (N requests,
  default ten per client and at least 1,000).

Loaded rows are predicted by the serving simulation (``simulate.py``), so TTFT includes queueing.
Errors are summarised overall and by metric group (throughput, TPOT/ITL, TTFT, E2E), because a
model can be good at one and off at another: ``summarise_by_metric``.
"""

from __future__ import annotations

import csv
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..catalog import data_file
from ..errors import InputError
from .serving import Estimate, estimate

__all__ = ["PUBLISHED_SERVING", "PUBLISHED_SERVING_FILES", "PUBLISHED_SERVING_UNDER_LOAD", "ValidationRow",
           "summarise", "summarise_by_metric", "validate_serving"]

PUBLISHED_SERVING = data_file("validation/serving_published.csv")
PUBLISHED_SERVING_UNDER_LOAD = data_file("validation/serving_under_load.csv")
PUBLISHED_SERVING_FILES = (PUBLISHED_SERVING, PUBLISHED_SERVING_UNDER_LOAD)

# CSV metric -> (metric group, where the prediction comes from, factor from seconds/units to the
# CSV's unit). "sim:<metric>.<stat>" reads the simulation; anything else is an Estimate field.
_METRICS = {
    "output_throughput": ("throughput", "output_tokens_per_s", 1.0),
    "request_throughput": ("throughput", "requests_per_s", 1.0),
    "ttft_mean": ("ttft", "sim:ttft.mean", 1e3),
    "ttft_p50": ("ttft", "sim:ttft.p50", 1e3),
    "ttft_p99": ("ttft", "sim:ttft.p99", 1e3),
    "itl_mean": ("tpot", "sim:itl.mean", 1e3),
    "tpot_mean": ("tpot", "sim:tpot.mean", 1e3),
    "e2e_mean": ("e2e", "sim:e2e.mean", 1e3),
}
_STEADY = {"throughput": None, "tpot": "tpot_s", "ttft": "ttft_s", "e2e": "e2e_s"}  # Estimate's mean
GROUPS = ("throughput", "tpot", "ttft", "e2e")


@dataclass(frozen=True, slots=True)
class ValidationRow:
    id: str
    description: str
    metric: str
    unit: str
    published: float
    predicted: float | None
    binding: str
    source: str = ""
    steady_state: float | None = None  # the steady-state (analytic) figure, to see what simulating adds

    @property
    def group(self) -> str:
        """throughput, tpot (TPOT and ITL), ttft or e2e."""
        return _METRICS[self.metric][0]

    @property
    def error(self) -> float | None:
        """Signed relative error, (predicted − published) / published."""
        return None if self.predicted is None else self.predicted / self.published - 1

    @property
    def ratio(self) -> float | None:
        """max(pred/pub, pub/pred): 2.0 means off by 2x either way."""
        if not self.predicted:
            return None
        return max(self.predicted / self.published, self.published / self.predicted)


def _precision(text: str) -> str:
    low = text.lower()
    for name in ("fp8", "int8", "int4", "bf16", "fp16"):
        if low.startswith(name):
            return name
    raise InputError(f"unknown precision '{text}' in validation row")


def _requests(low: str) -> int | None:
    m = re.search(r"\((\d+) requests\)", low)
    return int(m.group(1)) if m else None


def _operating_point(load: str) -> dict[str, object]:
    """estimate() keywords for a load description."""
    low = load.lower()
    if low.startswith("offline"):
        return {}
    if m := re.match(r"poisson ([\d.]+) req/s", low):
        return {"rate": float(m.group(1)), "requests": _requests(low)}
    if m := re.match(r"concurrency (\d+)", low):
        return {"concurrency": int(m.group(1)), "requests": _requests(low)}
    if low.startswith("all at once") and (n := _requests(low)):
        return {"burst": n}
    raise InputError(f"cannot read the load '{load}' (expected offline, Poisson R req/s (N requests), "
                     "concurrency C (N requests), or all at once (N requests))")


def predict(row: dict[str, str], engine: str = "tuned") -> tuple[Estimate, float | None]:
    """The model's figure for one CSV row (and the Estimate it came from)."""
    group, where, factor = _METRICS[row["metric"]]
    tp = int(row.get("tp") or row["gpus"])
    kw = _operating_point(row["load"])
    burst = kw.pop("burst", None)
    if burst is not None:  # every request at t = 0: a closed loop as wide as the batch of requests
        kw = {"concurrency": burst, "requests": burst}
    est = estimate(row["model"], row["gpu"], precision=_precision(row["precision"]), tp=tp,
                   isl=int(row["isl"]), osl=int(row["osl"]), engine=engine, **kw)  # type: ignore[arg-type]
    if est.simulation is not None and where in ("output_tokens_per_s", "requests_per_s"):
        value = getattr(est.simulation, where)  # under load, the throughput of the simulated run
    elif where.startswith("sim:") and est.simulation is not None:
        metric, stat = where[4:].split(".")
        value = getattr(getattr(est.simulation, metric), stat)
    elif where.endswith(".mean"):  # an offline row: the steady state's mean at the most that fit
        value = getattr(est, _STEADY[group])  # type: ignore[arg-type]
    elif where.startswith("sim:"):  # a percentile of an offline row: not modelled
        value = None
    else:
        value = getattr(est, where)
    return est, None if value is None else value * factor


def _rows(paths: Iterable[Path | str]) -> Iterable[dict[str, str]]:
    for path in paths:
        with open(path, newline="") as f:
            yield from csv.DictReader(f)


def validate_serving(csv_path: Path | str | None = None, engine: str = "tuned") -> list[ValidationRow]:
    """Predict every row of ``csv_path`` (default: every shipped published CSV) with engine
    profile ``engine``."""
    rows = []
    for row in _rows(PUBLISHED_SERVING_FILES if csv_path is None else (csv_path,)):
        if row["metric"] not in _METRICS:
            raise InputError(f"row {row['id']}: unknown metric '{row['metric']}'; known: {', '.join(_METRICS)}")
        est, value = predict(row, engine)
        desc = (f"{row['model']} {row['gpus']}x{row['gpu']} {row['precision']} "
                f"{row['isl']}/{row['osl']} {row['load']}")
        group, where, factor = _METRICS[row["metric"]]
        steady = getattr(est, _STEADY[group] or where)
        rows.append(ValidationRow(row["id"], desc, row["metric"], row["unit"], float(row["value"]),
                                  value, est.binding, row.get("source", ""),
                                  None if steady is None else steady * factor))
    return rows


def summarise(rows: list[ValidationRow]) -> dict[str, float | None]:
    """Median absolute relative error, the worst ratio and the median signed error (bias: below
    zero, the model predicts low) over rows with a prediction."""
    errs = [r.error for r in rows if r.error is not None]
    ratios = [r.ratio for r in rows if r.ratio is not None]
    if not errs:
        return {"rows": len(rows), "median_abs_error": None, "max_ratio": None, "median_error": None}
    return {"rows": len(rows), "median_abs_error": statistics.median(abs(e) for e in errs),
            "max_ratio": max(ratios), "median_error": statistics.median(errs)}


def summarise_by_metric(rows: list[ValidationRow]) -> dict[str, dict[str, float | None]]:
    """``summarise`` for each metric group present (throughput, tpot, ttft, e2e), in that order."""
    return {g: summarise([r for r in rows if r.group == g]) for g in GROUPS if any(r.group == g for r in rows)}
