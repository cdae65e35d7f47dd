"""How far to trust the models: truecost's predictions against published measurements.

Two suites ship in ``catalog/data/validation/`` (each row names its source; the sources' dates are
in ``sources.toml``):

- **serving** — measured throughput and latency of real engines (TensorRT-LLM's published
  runs), predicted by the performance model (``truecost.perf.validation``) with an engine profile
  (the shipped ``tuned`` one, or one you calibrated);
- **training** — reported GPU-hours of published training runs, predicted as 6·N·D at the run's
  reported MFU or the catalog default (``truecost.train``), and DeepSeek-V3's reported $ at its
  stated $2/GPU-hour;
- **swarm** — single-sequence steps/s of Petals swarms and of RAM offloading from the Petals papers
  (``truecost.perf.swarm``, ``truecost.perf.offload``), with their hardware and network as the
  papers state them (and the assumptions where they do not, in each row's note), and the speed-up
  of a swarm over offloading.

``validate()`` returns every row's prediction and error and a summary (median |error|, worst
ratio), overall and by metric. Nothing here is fitted to these rows: they are a regression suite.

    >>> report = validate("training")
    >>> round(report.summary.median_abs_error, 3)  # doctest: +SKIP
    0.16
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from .catalog import data_file
from .errors import InputError
from .perf.links import link
from .perf.offload import estimate_offload
from .perf.swarm import estimate_swarm
from .perf.validation import PUBLISHED_SERVING_FILES, ValidationRow, summarise, validate_serving
from .train import train_cost

__all__ = ["PUBLISHED_SWARM", "PUBLISHED_TRAINING", "KNOWN_MISSES", "Summary", "ValidationReport", "summary_of",
           "validate", "validate_swarm", "validate_training"]

PUBLISHED_TRAINING = data_file("validation/training_published.csv")
PUBLISHED_SWARM = data_file("validation/swarm_published.csv")
SOURCES = data_file("validation/sources.toml")

Suite = Literal["serving", "training", "swarm"]
COST_ROW_SUFFIX = "-usd"  # a training row's reported cost is checked as its own row, "T7-usd"

# The CSV's hardware column -> (catalog GPU, training precision).
TRAINING_HARDWARE = {
    "H100-80GB (700 W)": ("h100-sxm", "bf16"),
    "A100-80GB (400 W)": ("a100-80gb", "bf16"),
    "H800 (FP8 training)": ("h800", "fp8"),
}

# Rows an honest default cannot reach, and why (reported, never tuned away). Their reported
# GPU-hours imply MFUs far below any published H100 run (0.14 and 0.25 on 6·N·D), most likely
# because the Llama 3.1 card's per-model totals include more than the pre-training run.
KNOWN_MISSES = {
    "T1": "card hours imply MFU 0.14 for 8B; default 0.40 (Llama 3 405B)",
    "T2": "card hours imply MFU 0.25 for 70B; default 0.40 (Llama 3 405B)",
}


@dataclass(frozen=True, slots=True)
class Summary:
    """Median absolute relative error and worst ratio (max of pred/pub, pub/pred) over the rows
    with a prediction, overall and per metric."""

    rows: int
    median_abs_error: float | None
    max_ratio: float | None
    by_metric: dict[str, Summary] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """One suite's rows, their notes (a known miss, the MFU used), sources and summary."""

    suite: Suite
    engine: str | None  # serving only: the engine profile that made the predictions
    rows: list[ValidationRow]
    notes: dict[str, str]  # row id -> note
    sources: dict[str, str]  # row id -> "source (published DATE, retrieved DATE)"
    summary: Summary

    def to_dict(self) -> dict[str, object]:
        def summary(s: Summary) -> dict[str, object]:
            return {"rows": s.rows, "median_abs_error": s.median_abs_error, "max_ratio": s.max_ratio}

        return {
            "suite": self.suite, "engine": self.engine,
            "summary": summary(self.summary) | {
                "by_metric": {m: summary(s) for m, s in self.summary.by_metric.items()}},
            "rows": [{"id": r.id, "description": r.description, "metric": r.metric, "unit": r.unit,
                      "published": r.published, "predicted": r.predicted, "error": r.error,
                      "ratio": r.ratio, "binding": r.binding or None,
                      "note": self.notes.get(r.id), "source": self.sources.get(r.id)}
                     for r in self.rows],
        }


def summary_of(rows: list[ValidationRow]) -> Summary:
    """Overall and per-metric summary (metrics in order of first appearance)."""
    def one(group: list[ValidationRow]) -> Summary:
        if not any(r.error is not None for r in group):
            return Summary(len(group), None, None)
        s = summarise(group)
        return Summary(len(group), s["median_abs_error"], s["max_ratio"])

    metrics = list(dict.fromkeys(r.metric for r in rows))
    overall = one(rows)
    by_metric = {m: one([r for r in rows if r.metric == m]) for m in metrics}
    return Summary(overall.rows, overall.median_abs_error, overall.max_ratio, by_metric)


# ---- sources ------------------------------------------------------------------------------------

def _row_sources(csv_path: Path | str) -> dict[str, str]:
    """Each row's source, with "same" (and "same; more") resolved against the row above."""
    out, previous = {}, ""
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            text = (row.get("source") or "").strip()
            if text == "same" or text.startswith("same;"):
                text = previous + text[4:]
            out[row["id"]], previous = text, text
    return out


def source_dates() -> dict[str, dict[str, date]]:
    """``sources.toml``: each source text -> its ``retrieved`` (and ``published``) dates."""
    with SOURCES.open("rb") as f:
        return {e["source"]: {k: v for k, v in e.items() if k in ("published", "retrieved")}
                for e in tomllib.load(f)["source"]}


def _dated(sources: dict[str, str]) -> dict[str, str]:
    dates = source_dates()
    out = {}
    for rid, text in sources.items():
        d = dates.get(text, {})
        when = ", ".join(f"{k} {v}" for k, v in sorted(d.items())) or "undated"
        out[rid] = f"{text} ({when})"
    return out


# ---- training -----------------------------------------------------------------------------------

def _reported_mfu(text: str) -> float | None:
    """'0.38-0.43 (by stage)' -> 0.405, the middle of the reported range."""
    if not text.strip():
        return None
    lo, _, hi = text.split()[0].partition("-")
    return (float(lo) + float(hi or lo)) / 2


def validate_training(csv_path: Path | str = PUBLISHED_TRAINING) -> tuple[list[ValidationRow], dict[str, str]]:
    """Predicted vs reported GPU-hours for every row of ``csv_path`` (6·N·D with the row's
    parameter counts, at its reported MFU or the catalog default for its GPU), plus the
    reported cost where a row gives one (at the row's stated $2/GPU-hour, final run only).
    Returns the rows and a note per row (the MFU used; why a known miss misses)."""
    rows, notes = [], {}
    with open(csv_path, newline="") as f:
        for r in csv.DictReader(f):
            if r["hardware"] not in TRAINING_HARDWARE:
                raise InputError(f"row {r['id']}: unknown hardware '{r['hardware']}'; known: "
                                 f"{', '.join(TRAINING_HARDWARE)}")
            gpu, precision = TRAINING_HARDWARE[r["hardware"]]
            reported_mfu = _reported_mfu(r["reported_mfu"])
            est = train_cost(params_total=float(r["params_total"]),
                             params_active=float(r["params_active"]), tokens=float(r["tokens"]),
                             gpu=gpu, precision=precision, mfu=reported_mfu)
            mfu = f"MFU {est.mfu.value:.3g} {'reported' if reported_mfu else 'default'}"
            desc = f"{r['model']} {gpu} {precision}, {mfu}"
            rows.append(ValidationRow(r["id"], desc, "gpu_hours", "GPU-h", float(r["gpu_hours"]),
                                      est.gpu_hours.value, ""))
            notes[r["id"]] = KNOWN_MISSES.get(r["id"], "")
            if r.get("reported_cost_usd"):
                # the row's own price basis: DeepSeek-V3 states $2 per H800-hour, final run only
                at_2 = train_cost(params_total=float(r["params_total"]),
                                  params_active=float(r["params_active"]), tokens=float(r["tokens"]),
                                  gpu=gpu, precision=precision, mfu=reported_mfu,
                                  usd_per_gpu_hour=2.0, rnd_multiplier="final-only")
                rid = f"{r['id']}{COST_ROW_SUFFIX}"
                rows.append(ValidationRow(rid, f"{desc}, $2/GPU-hour", "cost_usd", "USD",
                                          float(r["reported_cost_usd"]), at_2.usd_rent.value, ""))
                notes[rid] = ""
    return rows, {k: v for k, v in notes.items() if v}


# ---- swarm and offload ----------------------------------------------------------------------------

def _predict_shared(r: dict[str, str]) -> tuple[float, str, str]:
    """(steps/s, binding, setup) of one swarm or offload row."""
    isl, osl = int(r["isl"]), int(r["osl"])
    if r["deployment"] == "swarm":
        net = link("same-region", rtt_ms=float(r["rtt_ms"]), mbit_s=float(r["mbit_s"]))
        e = estimate_swarm(r["model"], r["servers"], precision=r["precision"], engine=r["engine"], isl=isl,
                           osl=osl, network=net, routing=r["routing"], client=r["client"])  # type: ignore[arg-type]
        setup = (f"{r['model']} swarm {r['servers']} {r['precision']}, {r['rtt_ms']} ms, {r['mbit_s']} Mbit/s, "
                 f"{r['routing']}, {r['client']} client, {isl + osl} tokens")
        return e.tokens_per_s, e.binding, setup
    if r["deployment"] == "offload":
        o = estimate_offload(r["model"], r["servers"], precision=r["precision"], engine=r["engine"], isl=isl,
                             osl=osl, host_link_gb_s=float(r["host_link_gb_s"]), overlap=r["overlap"] == "yes",
                             host_ram_gb=1024)
        setup = (f"{r['model']} offload 1x {r['servers']} {r['precision']}, host link {r['host_link_gb_s']} GB/s, "
                 f"{'overlapped' if r['overlap'] == 'yes' else 'serial'}, {isl + osl} tokens")
        return o.tokens_per_s, o.binding, setup
    raise InputError(f"row {r['id']}: unknown deployment '{r['deployment']}'; known: swarm, offload, ratio")


def validate_swarm(csv_path: Path | str = PUBLISHED_SWARM) -> tuple[list[ValidationRow], dict[str, str]]:
    """Predicted vs published steps/s for every swarm and offload row of ``csv_path``, and each
    ratio row (``ratio_of = A/B``) as the ratio of the two rows' predictions. Returns the rows and
    each row's note (the setup the paper states, and what truecost assumed)."""
    with open(csv_path, newline="") as f:
        raw = list(csv.DictReader(f))
    predicted: dict[str, float] = {}
    rows, notes = [], {}
    for r in raw:
        if r["deployment"] == "ratio":
            a, _, b = r["ratio_of"].partition("/")
            if a not in predicted or b not in predicted:
                raise InputError(f"row {r['id']}: ratio_of '{r['ratio_of']}' needs two rows above it")
            value, binding = predicted[a] / predicted[b], ""
            setup = f"{r['model']}: row {a} / row {b}"
        else:
            value, binding, setup = _predict_shared(r)
        predicted[r["id"]] = value
        rows.append(ValidationRow(r["id"], setup, r["metric"], r["unit"], float(r["value"]), value, binding))
        notes[r["id"]] = r.get("note", "")
    return rows, {k: v for k, v in notes.items() if v}


# ---- all suites -----------------------------------------------------------------------------------

def validate(suite: Suite | str = "serving", *, engine: str = "tuned",
             csv_path: Path | str | None = None) -> ValidationReport:
    """Run a validation suite: ``"serving"`` (performance model with engine profile ``engine``:
    a shipped name, a calibrated profile's name, or a TOML file), ``"training"`` or ``"swarm"``
    (Petals swarms and offloading; each row names its engine). ``csv_path`` replaces the shipped
    rows with your own CSV of the same columns."""
    if suite == "serving":
        paths = (csv_path,) if csv_path else PUBLISHED_SERVING_FILES
        rows = validate_serving(csv_path, engine=engine)
        notes: dict[str, str] = {}
    elif suite in ("training", "swarm"):
        if engine != "tuned":
            why = "training has no engine" if suite == "training" else "each swarm row names its engine"
            raise InputError(f"--engine applies to the serving suite only ({why})")
        paths = (csv_path or (PUBLISHED_TRAINING if suite == "training" else PUBLISHED_SWARM),)
        rows, notes = (validate_training if suite == "training" else validate_swarm)(paths[0])
    else:
        raise InputError(f"unknown validation suite '{suite}'; choose serving, training or swarm")
    sources = _dated({k: v for path in paths for k, v in _row_sources(path).items()})
    sources |= {r.id: sources[r.id.removesuffix(COST_ROW_SUFFIX)] for r in rows
                if r.id not in sources and r.id.removesuffix(COST_ROW_SUFFIX) in sources}
    return ValidationReport(suite, engine if suite == "serving" else None, rows, notes, sources,
                            summary_of(rows))
