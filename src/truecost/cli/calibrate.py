"""`truecost calibrate`: fit an engine profile to measured operating points."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..errors import CatalogError
from ..hardware import PrecisionName
from ..errors import InputError
from ..perf.calibrate import Calibration, MeasuredPoint, calibrate as run_calibrate, points_from_runs, save_profile
from .output import out_console, print_json
from .progress import cli_progress

COLUMNS = ("concurrency", "isl", "osl", "output_tokens_per_s")


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate)


def read_points(path: Path) -> list[MeasuredPoint]:
    """Measured points from a CSV: concurrency, isl, osl, output_tokens_per_s[, tpot_s, source]."""
    try:
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError:
        raise CatalogError(f"{path}: file not found") from None
    missing = [c for c in COLUMNS if rows and c not in rows[0]]
    if not rows or missing:
        raise CatalogError(f"{path}: needs the columns {', '.join(COLUMNS)} (optional: tpot_s, source); "
                           f"missing {', '.join(missing) or 'all rows'}")
    try:
        return [MeasuredPoint(float(r["concurrency"]), int(r["isl"]), int(r["osl"]), float(r["output_tokens_per_s"]),
                              float(r["tpot_s"]) if r.get("tpot_s") else None, r.get("source") or f"{path.name}:{i + 2}")
                for i, r in enumerate(rows)]
    except ValueError as e:
        raise CatalogError(f"{path}: {e}") from None


def calibrate(
    model: Annotated[str, typer.Option(help="Model that was measured.")],
    gpu: Annotated[str, typer.Option(help="GPU it ran on.")],
    runs: Annotated[list[str] | None, typer.Argument(help="Stored `truecost bench` run ids.")] = None,
    points: Annotated[Path | None, typer.Option(help="CSV of measured points: concurrency,isl,osl,output_tokens_per_s[,tpot_s,source].")] = None,
    precision: Annotated[PrecisionName, typer.Option()] = PrecisionName.bf16,
    tp: Annotated[int, typer.Option(help="Tensor-parallel GPUs.")] = 1,
    base: Annotated[str, typer.Option(help="Engine profile to start from.")] = "tuned",
    name: Annotated[str | None, typer.Option(help="Name of the calibrated profile (for --engine).")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
) -> None:
    """Fit the performance model's efficiency terms to measurements; save them as an engine profile."""
    if bool(runs) == bool(points):
        raise InputError("give stored run ids (truecost calibrate RUN...) or --points FILE.csv, one of the two")
    measured = points_from_runs(runs) if runs else read_points(points)  # type: ignore[arg-type]
    progress = cli_progress(quiet)
    try:
        cal = run_calibrate(measured, model, gpu, precision.value, tp, base, name, progress=progress)
    finally:
        if progress is not None:
            progress.stop()
    path = save_profile(cal.profile)
    if json_out:
        print_json({"profile": cal.profile.model_dump(mode="json"), "saved_to": str(path),
                    "rms_log_error_before": cal.rms_log_error_before,
                    "rms_log_error_after": cal.rms_log_error_after, "points": cal.rows})
    else:
        render(cal, path)


def render(cal: Calibration, path: Path) -> None:
    con = out_console()
    t = Table(title=f"calibrated profile '{cal.profile.key}'", title_justify="left")
    for c in ("point", "concurrency", "measured tok/s", "before", "after"):
        t.add_column(c, justify="left" if c == "point" else "right")
    for r in cal.rows:
        t.add_row(str(r["source"]), f"{r['concurrency']:g}", f"{r['measured_tokens_per_s']:,.0f}",
                  f"{r['before_tokens_per_s']:,.0f}", f"{r['after_tokens_per_s']:,.0f}")
    con.print(t)
    p = cal.profile
    con.print(f"memory_efficiency {p.memory_efficiency:.3f}, compute_efficiency {p.compute_efficiency}, "
              f"step_overhead_s {p.step_overhead_s:.4f}", soft_wrap=True, markup=False)
    con.print(f"rms log error {cal.rms_log_error_before:.3f} -> {cal.rms_log_error_after:.3f}; "
              f"saved to {path}; use it with --engine {p.key}", soft_wrap=True, markup=False)
