"""Fit an engine profile's efficiency terms to measured operating points.

The inverse of the model: given measured throughput (and TPOT where known) at several
concurrencies for one model/GPU/precision/TP, find the memory efficiency η_m, the matmul
efficiency η_c of the deployment's dtype and the per-step overhead that minimise the squared log
error of the predictions. Each term stays inside a physical range; the fit is a
Nelder-Mead simplex search, deterministic and dependency-free. The
result is a new engine profile whose ``calibration`` field records the runs, date and residual;
``estimate --engine NAME`` and workloads (``engine = "NAME"``) then use it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..errors import InputError
from ..paths import user_engine_dir
from ..progress import Progress, task as progress_task
from .engine import EngineProfile, engine as find_engine
from .serving import make_deployment, operating_point

__all__ = ["Calibration", "MeasuredPoint", "calibrate", "points_from_runs", "save_profile", "user_engine_dir"]

# Searched ranges: wide enough for any engine, narrow enough to stay physical.
BOUNDS = {"memory_efficiency": (0.05, 1.0), "compute_efficiency": (0.05, 1.0), "step_overhead_s": (0.0, 0.2)}


@dataclass(frozen=True, slots=True)
class MeasuredPoint:
    """One measured operating point (from ``truecost bench`` or elsewhere)."""

    concurrency: float
    isl: int
    osl: int
    output_tokens_per_s: float
    tpot_s: float | None = None
    source: str = ""  # run id


@dataclass(frozen=True)
class Calibration:
    profile: EngineProfile
    rms_log_error_before: float
    rms_log_error_after: float
    rows: list[dict[str, float | str | None]]  # per point: measured, predicted before/after


def _predict(profile: EngineProfile, target: tuple, p: MeasuredPoint) -> tuple[float, float]:
    model, gpu, precision, tp = target
    dep = make_deployment(model, gpu, precision, tp, profile)
    op = operating_point(dep, p.concurrency, p.isl, p.osl)
    return op.output_tokens_per_s, op.tpot_s


def _loss(profile: EngineProfile, target: tuple, points: Sequence[MeasuredPoint]) -> float:
    errs = []
    for p in points:
        tps, tpot = _predict(profile, target, p)
        errs.append(math.log(tps / p.output_tokens_per_s))
        if p.tpot_s:
            errs.append(math.log(tpot / p.tpot_s))
    return math.sqrt(sum(e * e for e in errs) / len(errs))


def _with(profile: EngineProfile, name: str, value: float, dtype: str) -> EngineProfile:
    if name == "compute_efficiency":
        return profile.model_copy(update={"compute_efficiency": {**profile.compute_efficiency, dtype: value}})
    return profile.model_copy(update={name: value})


def _nelder_mead(f, x0: list[float], step: list[float], iters: int = 400, tol: float = 1e-10) -> list[float]:  # noqa: ANN001
    """Minimise ``f`` from ``x0`` with the Nelder-Mead simplex (standard coefficients)."""
    n = len(x0)
    simplex = [list(x0)] + [[x0[j] + (step[j] if j == i else 0.0) for j in range(n)] for i in range(n)]
    values = [f(x) for x in simplex]
    for _ in range(iters):
        order = sorted(range(n + 1), key=values.__getitem__)
        simplex, values = [simplex[i] for i in order], [values[i] for i in order]
        if values[-1] - values[0] < tol:
            break
        centroid = [sum(x[j] for x in simplex[:-1]) / n for j in range(n)]
        worst = simplex[-1]

        def towards(t: float) -> list[float]:
            return [c + t * (w - c) for c, w in zip(centroid, worst, strict=True)]

        reflected = towards(-1.0)
        fr = f(reflected)
        if fr < values[0]:
            expanded = towards(-2.0)
            fe = f(expanded)
            simplex[-1], values[-1] = (expanded, fe) if fe < fr else (reflected, fr)
        elif fr < values[-2]:
            simplex[-1], values[-1] = reflected, fr
        else:
            contracted = towards(0.5)
            fc = f(contracted)
            if fc < values[-1]:
                simplex[-1], values[-1] = contracted, fc
            else:  # shrink towards the best
                best = simplex[0]
                simplex = [best] + [[b + 0.5 * (x - b) for b, x in zip(best, xs, strict=True)] for xs in simplex[1:]]
                values = [values[0]] + [f(x) for x in simplex[1:]]
    return simplex[min(range(n + 1), key=values.__getitem__)]


def calibrate(points: Sequence[MeasuredPoint], model: str, gpu: str, precision: str = "bf16", tp: int = 1,
              base_engine: str | EngineProfile = "tuned", name: str | None = None,
              progress: Progress | None = None) -> Calibration:
    """Fit η_m, η_c (of the deployment's matmul dtype) and the step overhead to ``points``.
    ``progress`` gets one task: the simplex searches done of those planned.

        >>> pts = [MeasuredPoint(1, 512, 128, 95.0, 0.0105), MeasuredPoint(32, 512, 128, 2400.0)]
        >>> cal = calibrate(pts, "llama-3.1-8b", "h100-sxm")  # doctest: +SKIP
        >>> cal.profile.memory_efficiency, cal.rms_log_error_after  # doctest: +SKIP
    """
    if not points:
        raise InputError("calibrate needs at least one measured operating point")
    for p in points:
        if p.output_tokens_per_s <= 0 or p.concurrency <= 0:
            raise InputError(f"measured point {p.source or p} has no throughput; was the run empty?")
    base = find_engine(base_engine)
    target = (model, gpu, precision, tp)
    dtype = make_deployment(model, gpu, precision, tp, base).precision.compute
    dtype = "bf16" if dtype == "fp16" else dtype
    before = _loss(base, target, points)
    # Fit only what the points can tell apart: with a single point, only memory efficiency.
    names = ["memory_efficiency", "step_overhead_s", "compute_efficiency"][: max(1, min(3, len(points)))]

    def build(x: list[float]) -> EngineProfile:
        prof = base
        for n, v in zip(names, x, strict=True):
            lo, hi = BOUNDS[n]
            prof = _with(prof, n, min(max(v, lo), hi), dtype)  # clamp into the physical range
        return prof

    def start(n: str) -> float:
        return base.matmul_efficiency(dtype) if n == "compute_efficiency" else getattr(base, n)

    restarts = 4  # restart from the best point: the η_m / overhead valley is long and narrow

    def fit_from(x0: list[float]) -> list[float]:
        steps = [0.2 if n != "step_overhead_s" else 0.005 for n in names]
        x = x0
        for _ in range(restarts):
            x = _nelder_mead(lambda v: _loss(build(v), target, points), x, steps)
            steps = [s / 4 for s in steps]
            bar.advance()
        return x

    # Per-op max() makes the loss piecewise smooth with local minima: start from the profile's
    # values and from a few spread-out points, keep the best.
    starts = [[start(n) for n in names]] + [
        [{"memory_efficiency": m, "compute_efficiency": c, "step_overhead_s": o}[n] for n in names]
        for m, c, o in ((0.3, 0.3, 0.001), (0.9, 0.7, 0.01), (0.6, 0.5, 0.004))]
    with progress_task(progress, f"calibrate: fitting {len(names)} terms to {len(points)} points",
                       len(starts) * restarts) as bar:
        x = min((fit_from(x0) for x0 in starts), key=lambda v: _loss(build(v), target, points))
    current = build(x)
    after = _loss(current, target, points)
    runs = sorted({p.source for p in points if p.source})
    key = name or f"{base.key}-{_short(model)}-{_short(gpu)}-{precision}-tp{tp}"
    profile = current.model_copy(update={
        "key": key, "name": f"{base.name}, calibrated for {model} on {tp}x {gpu} {precision}",
        "retrieved": date.today(),
        "calibration": (f"fitted {', '.join(names)} from {len(points)} measured points "
                        f"({', '.join(runs) or 'unnamed runs'}) on {date.today()}; "
                        f"rms log error {before:.3f} -> {after:.3f}"),
    })
    rows = []
    for p in points:
        b_tps, _ = _predict(base, target, p)
        a_tps, a_tpot = _predict(profile, target, p)
        rows.append({"source": p.source, "concurrency": p.concurrency, "measured_tokens_per_s": p.output_tokens_per_s,
                     "before_tokens_per_s": b_tps, "after_tokens_per_s": a_tps,
                     "measured_tpot_s": p.tpot_s, "after_tpot_s": a_tpot})
    return Calibration(profile, before, after, rows)


def points_from_runs(run_ids: Sequence[str], store_path: Path | str | None = None) -> list[MeasuredPoint]:
    """The measured operating points of stored ``truecost bench`` runs. Live sequences are the
    concurrency of a closed-loop point, or request rate × median E2E (Little's law) of an
    open-loop one."""
    from ..store import Store

    points = []
    with Store(store_path) as store:
        for run_id in run_ids:
            store.run(run_id)  # an unknown id lists the nearest ones
            for p in store.points(run_id):
                if not p.get("output_token_throughput"):
                    continue
                live = p["concurrency"] if p.get("mode") == "concurrency" and p.get("concurrency") else None
                if live is None and p.get("request_throughput") and p.get("e2e_p50"):
                    live = p["request_throughput"] * p["e2e_p50"]
                if not live:
                    continue
                points.append(MeasuredPoint(float(live), max(round(p["isl_mean"] or 1), 1),
                                            max(round(p["osl_mean"] or 1), 1), p["output_token_throughput"],
                                            p.get("tpot_p50"), source=f"{run_id}#{p['point']}"))
    if not points:
        raise InputError(f"runs {', '.join(run_ids)} hold no measured operating point with throughput")
    return points


def _short(name: str) -> str:
    """A catalog key as is; a TOML path by its file name without ``.toml``."""
    return Path(name).name.removesuffix(".toml")


def save_profile(profile: EngineProfile, directory: Path | None = None) -> Path:
    """Write ``profile`` as a TOML engine file that ``engine(key)`` finds afterwards."""
    directory = directory or user_engine_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{profile.key}.toml"
    d = profile.model_dump(exclude={"key"})
    lines = [f'["{profile.key}"]']
    for k, v in d.items():
        if v is None:
            continue
        if isinstance(v, dict):
            lines.append(f"{k} = {{ " + ", ".join(f"{kk} = {vv!r}" for kk, vv in v.items()) + " }")
        elif isinstance(v, str):
            lines.append(f"{k} = {_toml_str(v)}")
        elif isinstance(v, bool):
            lines.append(f"{k} = {'true' if v else 'false'}")
        elif isinstance(v, date):
            lines.append(f"{k} = {v.isoformat()}")
        else:
            lines.append(f"{k} = {v!r}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
