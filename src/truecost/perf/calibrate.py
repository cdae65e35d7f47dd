"""Fit an engine profile's efficiency terms to measured points, and say how far the fit carries.

The inverse of the model. Measured points may be of three kinds, for one or several
architectures (each point may name its own model, GPU, precision, TP and KV dtype):

- ``serving``: a steady state at ``concurrency`` live sequences of ``isl``/``osl`` tokens with any
  of output tokens/s, TPOT and TTFT (the analytic TTFT has no queueing: use low-load TTFTs);
- ``decode``: one decode step of ``concurrency`` sequences holding ``isl`` tokens each (``step_s``);
- ``prefill``: one prefill of ``concurrency`` prompts of ``isl`` tokens (``step_s``).

The fit minimises the squared log error of every measured figure over the terms the points can
tell apart: η_m; the overhead per layer (and the fixed part when the points span two depths);
η_c of each matmul dtype; attention efficiency when prefill or TTFT figures are present. It is a
bounded Levenberg-Marquardt search with finite-difference Jacobians, restarted from a few points
(the per-op max() makes the loss piecewise smooth), deterministic and dependency-free.

A fit can mislead: a term pinned at its bound, a residual that stays large, a run of another
model, a deployment that could not hold the measured load. ``calibrate`` lists such problems and
refuses (``InputError``) unless ``force=True``, which keeps them in the profile's ``calibration``
record. With two or more architectures it reports the leave-one-architecture-out error: fitted
without an architecture, how well the profile predicts it.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from .. import catalog
from ..errors import DoesNotFitError, InputError
from ..paths import user_engine_dir
from ..progress import Progress, task as progress_task
from .deployment import Deployment, make_deployment
from .engine import EngineProfile, check_engine_name, engine as find_engine
from .memory import memory_plan
from .roofline import causal_pairs, step_time
from .serving import operating_point

__all__ = ["BOUNDS", "Calibration", "MeasuredPoint", "calibrate", "points_from_runs", "profile_path", "save_profile",
           "term_value", "user_engine_dir"]

Kind = Literal["serving", "decode", "prefill"]

# Searched ranges: wide enough for any engine, narrow enough to stay physical.
BOUNDS: dict[str, tuple[float, float]] = {
    "memory_efficiency": (0.05, 1.0), "compute_efficiency": (0.05, 1.0),
    "attention_compute_efficiency": (0.05, 1.0),
    "step_overhead_fixed_s": (0.0, 0.05), "step_overhead_per_layer_s": (0.0, 0.002),
}
MAX_RMS_LOG_ERROR = 0.25  # above this (≈ 28% typical error) the model does not explain the points
AT_BOUND = 0.005  # a term within 0.5% of its range from a bound sits at it
# Terms whose lower bound is a physical value, not a sign of a bad fit: an engine that overlaps
# scheduling and sampling with the GPU (async scheduling) has no fixed per-step overhead.
PHYSICAL_AT_ZERO = {"step_overhead_fixed_s"}


@dataclass(frozen=True, slots=True)
class MeasuredPoint:
    """One measured point (see the module docstring for ``kind``). Fields left ``None`` take the
    ``calibrate`` call's model, GPU, precision, TP and KV dtype."""

    concurrency: float
    isl: int
    osl: int = 1
    output_tokens_per_s: float | None = None
    tpot_s: float | None = None
    source: str = ""  # run id#point, or file:line
    ttft_s: float | None = None
    step_s: float | None = None
    kind: Kind = "serving"
    model: str | None = None
    gpu: str | None = None
    precision: str | None = None
    tp: int | None = None
    kv_dtype: str | None = None
    served_model: str | None = None  # the model name the measured endpoint reported

    def figures(self) -> dict[str, float]:
        """The measured figures of this point by name."""
        if self.kind == "serving":
            named = {"output_tokens_per_s": self.output_tokens_per_s, "tpot_s": self.tpot_s, "ttft_s": self.ttft_s}
        else:
            named = {"step_s": self.step_s}
        return {k: v for k, v in named.items() if v is not None}


@dataclass(frozen=True)
class Calibration:
    profile: EngineProfile
    rms_log_error_before: float
    rms_log_error_after: float
    rows: list[dict[str, float | str | None]]  # per point: measured, predicted before/after
    fitted: list[str] = field(default_factory=list)  # terms fitted ("compute_efficiency.fp8", ...)
    warnings: list[str] = field(default_factory=list)  # problems kept because of force=True
    # Leave-one-architecture-out: model -> rms log error of its points when fitted without them.
    held_out: dict[str, float] = field(default_factory=dict)

    @property
    def held_out_rms_log_error(self) -> float | None:
        """RMS over all architectures' held-out errors (None with a single architecture)."""
        if not self.held_out:
            return None
        return math.sqrt(sum(v * v for v in self.held_out.values()) / len(self.held_out))


@dataclass(frozen=True)
class _Target:
    """A point resolved to its deployment inputs."""

    point: MeasuredPoint
    model: str
    gpu: str
    precision: str
    tp: int
    kv_dtype: str | None


# ---- prediction ----------------------------------------------------------------------------

def _deployment(profile: EngineProfile, t: _Target) -> Deployment:
    return make_deployment(t.model, t.gpu, t.precision, t.tp, profile, t.kv_dtype)


def _predict(profile: EngineProfile, t: _Target) -> dict[str, float]:
    """The model's value of each figure ``t.point`` measured."""
    dep, p = _deployment(profile, t), t.point
    if p.kind == "decode":
        return {"step_s": step_time(dep, p.concurrency, p.isl).total_s}
    if p.kind == "prefill":
        b = p.concurrency
        return {"step_s": step_time(dep, 0, 0, b * p.isl, b * causal_pairs(p.isl), b).total_s}
    op = operating_point(dep, p.concurrency, p.isl, p.osl)
    return {"output_tokens_per_s": op.output_tokens_per_s, "tpot_s": op.tpot_s, "ttft_s": op.ttft_s}


def _residuals(profile: EngineProfile, targets: Sequence[_Target]) -> list[float]:
    out = []
    for t in targets:
        pred = _predict(profile, t)
        out.extend(math.log(pred[k] / v) for k, v in t.point.figures().items())
    return out


def _rms(res: Sequence[float]) -> float:
    return math.sqrt(sum(r * r for r in res) / len(res)) if res else 0.0


# ---- the terms a fit can move ----------------------------------------------------------------

def _terms(targets: Sequence[_Target], base: EngineProfile) -> list[str]:
    """Terms the points can tell apart, most identifiable first, at most one per measured figure."""
    dtypes = []
    for t in targets:
        dt = _deployment(base, t).precision.compute
        dt = "bf16" if dt == "fp16" else dt
        if dt not in dtypes:
            dtypes.append(dt)
    depths = {catalog.model(t.model).layers for t in targets}
    attention = any(t.point.kind == "prefill" or t.point.ttft_s is not None for t in targets)
    names = ["memory_efficiency", "step_overhead_per_layer_s", *(f"compute_efficiency.{d}" for d in dtypes)]
    if len(depths) > 1:
        names.append("step_overhead_fixed_s")
    if attention:
        names.append("attention_compute_efficiency")
    return names[:max(1, sum(_independent(t.point) for t in targets))]


def _independent(p: MeasuredPoint) -> int:
    """Independent figures of a point: throughput and TPOT of a steady state say the same thing
    (tokens/s = concurrency / TPOT), TTFT adds one."""
    if p.kind != "serving":
        return 1
    return int(p.output_tokens_per_s is not None or p.tpot_s is not None) + int(p.ttft_s is not None)


def _bounds(name: str) -> tuple[float, float]:
    return BOUNDS[name.split(".")[0]]


def term_value(profile: EngineProfile, name: str) -> float:
    """The value of a fitted term by name (``compute_efficiency.fp8`` for one dtype)."""
    if name.startswith("compute_efficiency."):
        return profile.matmul_efficiency(name.split(".", 1)[1])
    return float(getattr(profile, name))


def _set(profile: EngineProfile, values: dict[str, float]) -> EngineProfile:
    update: dict[str, object] = {}
    eff = dict(profile.compute_efficiency)
    for name, v in values.items():
        lo, hi = _bounds(name)
        v = min(max(v, lo), hi)
        if name.startswith("compute_efficiency."):
            eff[name.split(".", 1)[1]] = v
        else:
            update[name] = v
    update["compute_efficiency"] = eff
    return profile.model_copy(update=update)


# ---- the search ------------------------------------------------------------------------------

def _solve(a: list[list[float]], b: list[float]) -> list[float] | None:
    """Solve a·x = b by Gaussian elimination with partial pivoting (None if singular)."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        piv = max(range(c, n), key=lambda r: abs(m[r][c]))
        if abs(m[piv][c]) < 1e-300:
            return None
        m[c], m[piv] = m[piv], m[c]
        for r in range(c + 1, n):
            f = m[r][c] / m[c][c]
            for k in range(c, n + 1):
                m[r][k] -= f * m[c][k]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][k] * x[k] for k in range(r + 1, n))) / m[r][r]
    return x


def _levenberg_marquardt(f: Callable[[list[float]], list[float]], x0: list[float],
                         bounds: list[tuple[float, float]], iters: int = 40) -> list[float]:
    """Minimise Σ f(x)² within ``bounds`` (box-projected steps, forward-difference Jacobian)."""
    clamp = [lambda v, lo=lo, hi=hi: min(max(v, lo), hi) for lo, hi in bounds]
    x = [c(v) for c, v in zip(clamp, x0, strict=True)]
    r = f(x)
    cost = sum(v * v for v in r)
    lam = 1e-2
    for _ in range(iters):
        jac_cols = []
        for j, (lo, hi) in enumerate(bounds):
            h = max(1e-7, 1e-4 * (hi - lo))
            xh = list(x)
            xh[j] = x[j] + h if x[j] + h <= hi else x[j] - h
            step = xh[j] - x[j]
            rh = f(xh)
            jac_cols.append([(a - b) / step for a, b in zip(rh, r, strict=True)])
        n = len(x)
        jtj = [[sum(jac_cols[i][k] * jac_cols[j][k] for k in range(len(r))) for j in range(n)] for i in range(n)]
        jtr = [sum(jac_cols[i][k] * r[k] for k in range(len(r))) for i in range(n)]
        improved = False
        for _ in range(8):
            a = [[jtj[i][j] + (lam * (jtj[i][i] + 1e-12) if i == j else 0.0) for j in range(n)] for i in range(n)]
            delta = _solve(a, [-g for g in jtr])
            if delta is None:
                lam *= 10
                continue
            xn = [c(v + d) for c, v, d in zip(clamp, x, delta, strict=True)]
            rn = f(xn)
            cn = sum(v * v for v in rn)
            if cn < cost:
                small = cost - cn < 1e-12 * max(cost, 1e-30)
                x, r, cost, lam, improved = xn, rn, cn, max(lam / 3, 1e-9), True
                if small:
                    return x
                break
            lam *= 4
        if not improved:
            break
    return x


def _nelder_mead(f: Callable[[list[float]], float], x0: list[float], step: list[float], iters: int = 300,
                 tol: float = 1e-14) -> list[float]:
    """Minimise ``f`` from ``x0`` with the Nelder-Mead simplex (standard coefficients): it walks
    along the kinks of the per-op max() where a gradient step stalls."""
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


def _fit(base: EngineProfile, targets: Sequence[_Target], names: list[str]) -> EngineProfile:
    bounds = [_bounds(n) for n in names]

    def build(x: list[float]) -> EngineProfile:
        return _set(base, dict(zip(names, x, strict=True)))

    def f(x: list[float]) -> list[float]:
        return _residuals(build(x), targets)

    # The loss has local minima where an op changes its binding resource (η_m against the
    # overhead along a valley): start from the base profile and from a grid across η_m.
    typical = {"compute_efficiency": 0.5, "attention_compute_efficiency": 0.5, "step_overhead_fixed_s": 0.001}
    starts = [[term_value(base, n) for n in names]]
    for mem in (0.35, 0.55, 0.75, 0.95):
        for per_layer in (3e-5, 1.2e-4):
            grid = {"memory_efficiency": mem, "step_overhead_per_layer_s": per_layer, **typical}
            starts.append([grid[n.split(".")[0]] for n in names])
    # A few steps from every start, then the two most promising ones to convergence.
    rough = sorted((_levenberg_marquardt(f, s, bounds, iters=2) for s in starts), key=lambda x: _rms(f(x)))
    best = min((_levenberg_marquardt(f, x, bounds) for x in rough[:2]), key=lambda x: _rms(f(x)))

    def cost(x: list[float]) -> float:
        clamped = [min(max(v, lo), hi) for v, (lo, hi) in zip(x, bounds, strict=True)]
        return sum(r * r for r in f(clamped))

    if cost(best) > 1e-16:  # not an exact fit: polish across the kinks, then restart smaller
        for scale in (0.05, 0.01):
            best = _nelder_mead(cost, best, [scale * (hi - lo) for lo, hi in bounds], iters=120)
    return build([min(max(v, lo), hi) for v, (lo, hi) in zip(best, bounds, strict=True)])


# ---- checks ----------------------------------------------------------------------------------

def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower().rsplit("/", 1)[-1])


def _same_model(served: str, model: str) -> bool:
    """Whether an endpoint's model name plausibly serves the catalog ``model`` (its key, Hugging
    Face id or an alias is a prefix of the served name, ignoring case and punctuation:
    "meta-llama/Llama-3.1-8B-Instruct" serves llama-3.1-8b)."""
    try:
        arch = catalog.model(model)
    except Exception:  # noqa: BLE001 - a model given as a file: compare with its key only
        names = [model]
    else:
        names = [arch.key, arch.hf_id, *arch.aliases]
    s = _normal(served)
    return any(n and s.startswith(_normal(n)) for n in names)


def _problems(profile: EngineProfile, names: list[str], after: float, targets: Sequence[_Target]) -> list[str]:
    """What makes a fit misleading, most telling first: a run of another model, a deployment that
    cannot hold the measured load, terms pinned at a bound, a residual that stays large."""
    out = []
    seen: set[tuple[str, str]] = set()
    for t in targets:
        p = t.point
        if p.served_model and (p.served_model, t.model) not in seen:
            seen.add((p.served_model, t.model))
            if not _same_model(p.served_model, t.model):
                out.append(f"{p.source or 'a point'} measured model '{p.served_model}', not {t.model}")
    for t in targets:
        p = t.point
        if p.kind != "serving":
            continue
        dep = _deployment(profile, t)
        try:
            plan = memory_plan(dep, p.isl, p.osl)
        except DoesNotFitError as e:
            out.append(f"{p.source or 'a point'}: {e}")
            break
        if p.concurrency > plan.kv_capacity_sequences:
            out.append(f"{p.source or 'a point'}: {p.concurrency:g} live sequences exceed the "
                       f"{plan.kv_capacity_sequences} that fit on {dep.layout} ({dep.precision})")
            break
    for n in names:
        lo, hi = _bounds(n)
        v = term_value(profile, n)
        if v <= lo + AT_BOUND * (hi - lo) and n not in PHYSICAL_AT_ZERO:
            out.append(f"{n} {v:.4g} sits at its lower bound {lo:g}")
        elif v >= hi - AT_BOUND * (hi - lo):
            out.append(f"{n} {v:.4g} sits at its upper bound {hi:g}")
    if after > MAX_RMS_LOG_ERROR:
        out.append(f"rms log error stays {after:.2f} after the fit (> {MAX_RMS_LOG_ERROR}): the model does not "
                   "explain these points")
    return out


# ---- the verb --------------------------------------------------------------------------------

# Live sequences one measured point may hold: engines batch a few thousand at most (vLLM's
# max_num_seqs default 1024, TensorRT-LLM's published sweeps up to 2048); a million is a typo.
MAX_CONCURRENCY = 1_000_000
# Tokens in one prompt or answer: no model's context holds more than ten million (Llama 4 Scout's).
MAX_TOKENS = 10_000_000


def _resolve(points: Sequence[MeasuredPoint], model: str | None, gpu: str | None, precision: str, tp: int,
             kv_dtype: str | None) -> list[_Target]:
    out = []
    for p in points:
        where = p.source or f"point {len(out) + 1}"
        figures = p.figures()
        if not figures:
            raise InputError(f"measured point {where} has no measured figure "
                             f"({'output_tokens_per_s, tpot_s or ttft_s' if p.kind == 'serving' else 'step_s'})")
        for k, v in figures.items():
            if not (math.isfinite(v) and v > 0):
                raise InputError(f"measured point {where}: {k} must be a finite number > 0, got {v}")
        if not (math.isfinite(p.concurrency) and 0 < p.concurrency <= MAX_CONCURRENCY):
            raise InputError(f"measured point {where}: concurrency must be a number of live sequences above 0 and at most "
                             f"{MAX_CONCURRENCY:,}, got {p.concurrency:g}")
        if not (1 <= p.isl <= MAX_TOKENS and 1 <= p.osl <= MAX_TOKENS):
            raise InputError(f"measured point {where}: isl and osl must be from 1 to {MAX_TOKENS:,} tokens, got "
                             f"{p.isl:g} and {p.osl:g}")
        m, g = p.model or model, p.gpu or gpu
        if not m or not g:
            raise InputError(f"measured point {where} names no {'model' if not m else 'GPU'}; "
                             f"give --{'model' if not m else 'gpu'} or a {'model' if not m else 'gpu'} column")
        out.append(_Target(p, m, g, p.precision or precision, p.tp or tp, p.kv_dtype or kv_dtype))
    return out


def calibrate(points: Sequence[MeasuredPoint], model: str | None = None, gpu: str | None = None,
              precision: str = "bf16", tp: int = 1, base_engine: str | EngineProfile = "tuned",
              name: str | None = None, *, kv_dtype: str | None = None, force: bool = False,
              progress: Progress | None = None) -> Calibration:
    """Fit the engine terms the points can tell apart (see the module docstring) and return the
    calibrated profile. Raises ``InputError`` naming each problem unless ``force``. ``progress``
    gets one task: the fits done (the full fit, then one per architecture held out) of those planned.

        >>> pts = [MeasuredPoint(1, 512, 128, 95.0, 0.0105), MeasuredPoint(32, 512, 128, 2400.0)]
        >>> cal = calibrate(pts, "llama-3.1-8b", "h100-sxm")  # doctest: +SKIP
        >>> cal.profile.memory_efficiency, cal.rms_log_error_after  # doctest: +SKIP
    """
    if not points:
        raise InputError("calibrate needs at least one measured operating point")
    if name is not None:
        check_engine_name(name)
    base = find_engine(base_engine)
    targets = _resolve(points, model, gpu, precision, tp, kv_dtype)
    names = _terms(targets, base)
    before = _rms(_residuals(base, targets))
    archs = sorted({catalog.model(t.model).key for t in targets})
    held_out: dict[str, float] = {}
    fits = 1 + (len(archs) if len(archs) > 1 else 0)
    with progress_task(progress, f"calibrate: fitting {len(names)} terms to {len(points)} points",
                       fits) as bar:
        fitted = _fit(base, targets, names)
        bar.advance()
        if len(archs) > 1:
            for arch in archs:
                train = [t for t in targets if catalog.model(t.model).key != arch]
                test = [t for t in targets if catalog.model(t.model).key == arch]
                prof = _fit(base, train, _terms(train, base))
                held_out[arch] = _rms(_residuals(prof, test))
                bar.advance()
        after = _rms(_residuals(fitted, targets))
        problems = _problems(fitted, names, after, targets)
        label = name or _default_key(base, targets)
        if problems and not force:  # inside the task: a refused fit ends it as failed
            raise InputError(f"calibrate refuses to save '{label}': " + "; ".join(problems)
                             + "; check --model/--gpu/--precision/--tp or pass --force to save anyway")

    runs = sorted({p.source.split("#")[0] for p in points if p.source})
    today = date.today()
    record = (f"fitted {', '.join(names)} from {len(points)} measured points "
              f"({', '.join(runs) or 'unnamed runs'}) on {today}; rms log error {before:.3f} -> {after:.3f}")
    if held_out:
        record += "; held out by architecture " + ", ".join(f"{k} {v:.3f}" for k, v in held_out.items())
    if problems:
        record += "; saved with --force despite: " + "; ".join(problems)
    sources = dict(fitted.sources)
    for n in {n.split(".")[0] for n in names}:
        sources[n] = f"calibrated: {record}"
    what = ", ".join(archs) if len(archs) > 1 else archs[0]
    gpus = sorted({t.gpu for t in targets})
    profile = fitted.model_copy(update={
        "key": label, "name": f"{base.name}, calibrated for {what} on {', '.join(gpus)}",
        "retrieved": today, "sources": sources, "calibration": record})
    rows = []
    for t in targets:
        b, a = _predict(base, t), _predict(profile, t)
        p = t.point
        row: dict[str, float | str | None] = {"source": p.source, "kind": p.kind, "model": t.model,
                                              "concurrency": p.concurrency, "isl": p.isl}
        for k, v in p.figures().items():
            row[f"measured_{k}"], row[f"before_{k}"], row[f"after_{k}"] = v, b[k], a[k]
        rows.append(row)
    return Calibration(profile, before, after, rows, names, problems, held_out)


def _default_key(base: EngineProfile, targets: Sequence[_Target]) -> str:
    models = sorted({catalog.model(t.model).key for t in targets})
    gpus = sorted({_short(t.gpu) for t in targets})
    t0 = targets[0]
    if len(models) == 1 and len(gpus) == 1 and len({(t.precision, t.tp) for t in targets}) == 1:
        key = f"{base.key}-{_short(t0.model)}-{gpus[0]}-{t0.precision}-tp{t0.tp}"
    else:
        key = f"{base.key}-{'-'.join(gpus)}-{len(models)}models"
    return re.sub(r"[^A-Za-z0-9._-]", "-", key)[:64]


def points_from_runs(run_ids: Sequence[str], store_path: Path | str | None = None) -> list[MeasuredPoint]:
    """The measured operating points of stored ``truecost bench`` runs. Live sequences are the
    concurrency of a closed-loop point, or request rate × median E2E (Little's law) of an
    open-loop one. TTFT counts only where nothing queues (closed loop at 1 or 2 live sequences),
    since the analytic TTFT has no queueing; each point remembers the model the endpoint served."""
    from ..store import Store

    points = []
    with Store(store_path) as store:
        for run_id in run_ids:
            run = store.run(run_id)  # an unknown id lists the nearest ones
            for p in store.points(run_id):
                if not p.get("output_token_throughput"):
                    continue
                closed = p.get("mode") == "concurrency" and p.get("concurrency")
                live = p["concurrency"] if closed else None
                if live is None and p.get("request_throughput") and p.get("e2e_p50"):
                    live = p["request_throughput"] * p["e2e_p50"]
                if not live:
                    continue
                ttft = p.get("ttft_p50") if closed and live <= 2 else None
                points.append(MeasuredPoint(float(live), max(round(p["isl_mean"] or 1), 1),
                                            max(round(p["osl_mean"] or 1), 1), p["output_token_throughput"],
                                            p.get("tpot_p50"), source=f"{run_id}#{p['point']}", ttft_s=ttft,
                                            served_model=p.get("model") or run.get("model")))
    if not points:
        raise InputError(f"runs {', '.join(run_ids)} hold no measured operating point with throughput")
    return points


def _short(name: str) -> str:
    """A catalog key as is; a TOML path by its file name without ``.toml``."""
    return Path(name).name.removesuffix(".toml")


def profile_path(key: str, directory: Path | None = None, *, overwrite: bool = False) -> Path:
    """Where a profile named ``key`` is saved; raises ``InputError`` when ``key`` is not a plain
    identifier, names a shipped profile, or (unless ``overwrite``) a saved one already exists."""
    check_engine_name(key)
    path = (directory or user_engine_dir()) / f"{key}.toml"
    if path.exists() and not overwrite:
        raise InputError(f"engine profile '{key}' exists at {path}; pass --force to overwrite it "
                         "or choose another --name")
    return path


def save_profile(profile: EngineProfile, directory: Path | None = None, *, overwrite: bool = False) -> Path:
    """Write ``profile`` as a TOML engine file that ``engine(key)`` finds afterwards (see
    ``profile_path`` for the names it refuses). The write is atomic: a temporary file renamed
    over the target."""
    path = profile_path(profile.key, directory, overwrite=overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    d = profile.model_dump(exclude={"key", "sources"})
    lines = [f'["{profile.key}"]']
    for k, v in d.items():
        if v is None:
            continue
        lines.append(f"{k} = {_toml_value(v)}")
    if profile.sources:
        lines.append("")
        lines.append(f'["{profile.key}".sources]')
        lines.extend(f"{k} = {_toml_str(v)}" for k, v in profile.sources.items())
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, path)
    return path


def _toml_value(v: object) -> str:
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, date):
        return v.isoformat()
    return repr(v)


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

