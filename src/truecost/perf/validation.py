"""Check the performance model against published serving measurements.

Reads a CSV with the columns of the shipped ``catalog/data/validation/serving_published.csv`` (model, gpu, gpus,
tp, precision, isl, osl, load, metric, value, unit) and returns the model's prediction and its
error for each row. The load column is parsed, not looked up: "offline (...)" is the max-throughput
operating point, "Poisson R req/s ..." an open-loop rate, "all at once (N requests)" N live
sequences (capped by what fits).
"""

from __future__ import annotations

import csv
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from ..catalog import data_file
from ..errors import InputError
from .serving import Estimate, estimate

__all__ = ["PUBLISHED_SERVING", "ValidationRow", "summarise", "validate_serving"]

PUBLISHED_SERVING = data_file("validation/serving_published.csv")

_METRICS = {  # CSV metric -> (Estimate field, factor from its unit to the CSV unit)
    "output_throughput": ("output_tokens_per_s", 1.0),
    "request_throughput": ("requests_per_s", 1.0),
    "ttft_mean": ("ttft_s", 1e3),
    "itl_mean": ("tpot_s", 1e3),
    "tpot_mean": ("tpot_s", 1e3),
}


@dataclass(frozen=True, slots=True)
class ValidationRow:
    id: str
    description: str
    metric: str
    unit: str
    published: float
    predicted: float | None
    binding: str

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


def _operating_point(load: str) -> dict[str, float]:
    low = load.lower()
    if low.startswith("offline"):
        return {}
    if m := re.match(r"poisson ([\d.]+) req/s", low):
        return {"rate": float(m.group(1))}
    if m := re.match(r"all at once \((\d+) requests\)", low):
        return {"concurrency": int(m.group(1))}
    raise InputError(f"cannot read the load '{load}' (expected offline, Poisson R req/s, or all at once (N requests))")


def predict(row: dict[str, str], engine: str = "tuned") -> tuple[Estimate, float | None]:
    field, factor = _METRICS[row["metric"]]
    tp = int(row.get("tp") or row["gpus"])
    est = estimate(row["model"], row["gpu"], precision=_precision(row["precision"]), tp=tp,
                   isl=int(row["isl"]), osl=int(row["osl"]), engine=engine, **_operating_point(row["load"]))
    value = getattr(est, field)
    return est, None if value is None else value * factor


def validate_serving(csv_path: Path | str = PUBLISHED_SERVING, engine: str = "tuned") -> list[ValidationRow]:
    """Predict every row of ``csv_path`` (default: the shipped published rows) with engine
    profile ``engine``."""
    rows = []
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            if row["metric"] not in _METRICS:
                raise InputError(f"row {row['id']}: unknown metric '{row['metric']}'; "
                                 f"known: {', '.join(_METRICS)}")
            est, value = predict(row, engine)
            desc = (f"{row['model']} {row['gpus']}x{row['gpu']} {row['precision']} "
                    f"{row['isl']}/{row['osl']} {row['load']}")
            rows.append(ValidationRow(row["id"], desc, row["metric"], row["unit"], float(row["value"]),
                                      value, est.binding))
    return rows


def summarise(rows: list[ValidationRow]) -> dict[str, float]:
    """Median absolute relative error and the worst ratio over rows with a prediction."""
    errs = [abs(r.error) for r in rows if r.error is not None]
    ratios = [r.ratio for r in rows if r.ratio is not None]
    return {"rows": len(rows), "median_abs_error": statistics.median(errs), "max_ratio": max(ratios)}
