"""`truecost calibrate`: fit an engine profile to measured points; refuse fits that mislead."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Annotated, get_args

import typer

from ..errors import CatalogError, InputError
from ..hardware import PrecisionName
from ..perf.calibrate import (Calibration, Kind, MeasuredPoint, calibrate as run_calibrate, points_from_runs,
                              profile_path, save_profile, term_value)
from .output import err_console, out_console, print_json
from .progress import cli_progress
from .tables import Col, print_lines, print_table

REQUIRED = ("concurrency", "isl")
FIGURES = ("output_tokens_per_s", "tpot_s", "ttft_s", "step_s")
OPTIONAL = ("kind", "osl", *FIGURES, "model", "gpu", "precision", "tp", "kv_dtype", "source")


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate)


def _number(path: Path, line: int, col: str, text: str, integer: bool = False) -> float:
    try:
        v = float(text)
    except ValueError:
        raise CatalogError(f"{path}:{line}: {col} '{text}' is not a number") from None
    if not math.isfinite(v) or v <= 0:
        raise CatalogError(f"{path}:{line}: {col} must be a finite number > 0, got {text}")
    if integer and v != int(v):
        raise CatalogError(f"{path}:{line}: {col} must be a whole number of tokens, got {text}")
    return v


def read_points(path: Path) -> list[MeasuredPoint]:
    """Measured points from a CSV with a header row: ``concurrency, isl`` and at least one of
    ``output_tokens_per_s, tpot_s, ttft_s, step_s``; optional ``kind`` (serving, decode, prefill),
    ``osl``, ``model, gpu, precision, tp, kv_dtype`` (per-point deployment) and ``source``."""
    if not path.is_file():
        raise CatalogError(f"{path}: file not found" if not path.exists() else f"{path}: not a regular file")
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = [h.strip() for h in next(reader, [])]
            rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as e:
        raise CatalogError(f"{path}: not a readable CSV file ({e})") from None
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if missing or not any(c in header for c in FIGURES):
        need = ", ".join(REQUIRED) + " and one of " + ", ".join(FIGURES)
        raise CatalogError(f"{path}: needs the columns {need}; missing "
                           f"{', '.join(missing) or 'a measured figure'}")
    if unknown:
        raise CatalogError(f"{path}: unknown column '{unknown[0]}'; known: {', '.join(REQUIRED + OPTIONAL)}")
    points = []
    for i, cells in enumerate(rows, start=2):
        if not any(c.strip() for c in cells):
            continue  # a blank line
        if len(cells) != len(header):
            raise CatalogError(f"{path}:{i}: has {len(cells)} fields, the header has {len(header)}")
        r = {h: c.strip() for h, c in zip(header, cells, strict=True)}
        kind = r.get("kind") or "serving"
        if kind not in get_args(Kind):
            raise CatalogError(f"{path}:{i}: kind '{kind}' is not one of {', '.join(get_args(Kind))}")
        fig = {k: _number(path, i, k, r[k]) for k in FIGURES if r.get(k)}
        if not fig:
            raise CatalogError(f"{path}:{i}: no measured figure ({', '.join(FIGURES)})")
        points.append(MeasuredPoint(
            concurrency=_number(path, i, "concurrency", r["concurrency"]),
            isl=int(_number(path, i, "isl", r["isl"], integer=True)),
            osl=int(_number(path, i, "osl", r["osl"], integer=True)) if r.get("osl") else 1,
            kind=kind, source=r.get("source") or f"{path.name}:{i}",  # type: ignore[arg-type]
            model=r.get("model") or None, gpu=r.get("gpu") or None, precision=r.get("precision") or None,
            tp=int(_number(path, i, "tp", r["tp"], integer=True)) if r.get("tp") else None,
            kv_dtype=r.get("kv_dtype") or None, **fig))
    if not points:
        raise CatalogError(f"{path}: no measured points (only a header)")
    return points


def calibrate(
    runs: Annotated[list[str] | None, typer.Argument(help="Stored `truecost bench` run ids.")] = None,
    model: Annotated[str | None, typer.Option(help="Model that was measured (or a model column in --points).")] = None,
    gpu: Annotated[str | None, typer.Option(help="GPU it ran on (or a gpu column in --points).")] = None,
    points: Annotated[Path | None, typer.Option(help="CSV of measured points (see the README).")] = None,
    precision: Annotated[PrecisionName, typer.Option()] = PrecisionName.bf16,
    tp: Annotated[int, typer.Option(help="Tensor-parallel GPUs.")] = 1,
    kv_dtype: Annotated[str | None, typer.Option(help="KV-cache dtype of the measured engine (bf16, fp8).")] = None,
    base: Annotated[str, typer.Option(help="Engine profile to start from.")] = "tuned",
    name: Annotated[str | None, typer.Option(help="Name of the calibrated profile (for --engine).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Save despite warnings; overwrite a saved profile.")] = False,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
) -> None:
    """Fit the performance model's efficiency terms to measurements; save them as an engine profile."""
    if bool(runs) == bool(points):
        raise InputError("give stored run ids (truecost calibrate RUN...) or --points FILE.csv, one of the two")
    if name is not None:
        profile_path(name, overwrite=force)  # refuse a bad or taken name before fitting
    measured = points_from_runs(runs) if runs else read_points(points)  # type: ignore[arg-type]
    progress = cli_progress(quiet)
    try:
        cal = run_calibrate(measured, model, gpu, precision.value, tp, base, name, kv_dtype=kv_dtype, force=force,
                            progress=progress)
    finally:
        if progress is not None:
            progress.stop()
    path = save_profile(cal.profile, overwrite=force)
    for w in cal.warnings:
        err_console.print(f"warning: {w}", markup=False, soft_wrap=True)
    if json_out:
        print_json({"profile": cal.profile.model_dump(mode="json"), "saved_to": str(path), "fitted": cal.fitted,
                    "rms_log_error_before": cal.rms_log_error_before, "rms_log_error_after": cal.rms_log_error_after,
                    "held_out_rms_log_error": cal.held_out_rms_log_error, "held_out": cal.held_out,
                    "warnings": cal.warnings, "points": cal.rows})
    else:
        render(cal, path)


def render(cal: Calibration, path: Path) -> None:
    con = out_console()
    rows = []
    for r in cal.rows:
        for k in (k.removeprefix("measured_") for k in r if k.startswith("measured_")):
            fmt = "{:,.0f}" if k == "output_tokens_per_s" else "{:.4g}"
            rows.append([str(r["source"]), k, *(fmt.format(r[f"{w}_{k}"]) for w in ("measured", "before", "after"))])
    print_table(con, [Col("point", 0, "left", wrap=True), Col("figure", 0, "left"), Col("measured", 1),
                      Col("before", 1), Col("after", 1)], rows, title=f"calibrated profile '{cal.profile.key}'")
    p = cal.profile
    terms = ", ".join(f"{n} {term_value(p, n):.4g}" for n in cal.fitted)
    print_lines(con, f"fitted: {terms}")
    line = f"rms log error {cal.rms_log_error_before:.3f} -> {cal.rms_log_error_after:.3f}"
    if cal.held_out:
        line += (f"; held out by architecture {cal.held_out_rms_log_error:.3f} ("
                 + ", ".join(f"{k} {v:.3f}" for k, v in cal.held_out.items()) + ")")
    print_lines(con, line)
    print_lines(con, f"saved to {path}; use it with --engine {p.key}")
