"""Plan: the cheapest way to serve a workload within its latency SLOs, found by screening a whole
search space with the analytic model and confirming the finalists by simulation.

Search space, for each self-hosted candidate model of the workload: GPU type (every catalog GPU
that can be priced, or ``gpus``) × GPUs per replica and their layout (``perf.deployment.layouts``:
TP; for MoE models attention DP and EP too; up to the candidate's ``max_tp`` GPUs) × precision ×
engine profile × max batch (the profile's ``max_batch_size`` overridden); the replica count
follows. The workload's API offers are priced beside them, as ``compare`` prices them.

1. **Screen** every configuration at once (``screen.py``: numpy over a ``Deployments`` batch,
   through the same roofline, memory and steady-state formulas as one deployment): does one
   sequence fit; the most live sequences at which every objective holds as a steady-state mean;
   the request rate there, an upper bound on the capacity within the objectives (a percentile is
   at least the mean, and the steady state leaves queueing out); hence a lower bound on the
   replicas and on $/hour (owned GPUs at their idle power).
2. **Confirm** by simulation (``sizing.tail_replicas``, compare's search): the screen's Pareto
   frontier (bound $/hour vs steady-state TTFT and TPOT at the replica's share of the peak), then
   every configuration in order of its bound until the next cannot beat the cheapest confirmed.
   Every objective, means included, is judged on simulated runs: at the replica's share of the
   peak at the utilisation target (the sizing), and at its share of the peak itself, whose
   percentiles are reported.
3. **Report** the cheapest option, the Pareto frontier of the confirmed configurations ($/task vs
   TTFT and TPOT percentiles), each point's binding constraint, and the runner-up that lost by
   the least; or, when nothing meets the objectives, which one binds and the closest miss.

A configuration's binding constraint is what stops one replica taking more load: ``KV capacity``
(no room for another sequence), ``max batch`` (the engine's cap), an objective (``tpot p95``:
one more live sequence breaks it in the steady state, or the simulation needed more replicas than
the steady state did for it) or ``throughput`` (with one replica fewer the simulated queue grew
without bound); with the resource its engine step is bound by there (``compute``, ``memory``
bandwidth, ``interconnect``, ``overhead``).

Left out: fleets that mix configurations, autoscaling between peak and trough, length spread
(requests at the workload's mean lengths), API latency (not modelled: measure it with ``truecost
bench``). The screen is the steady-state model's bound, not a proof: at one live sequence it adds
half a decode step to TTFT that a lone request does not wait for, so an objective within a few
ms of a lone request's latency can screen out a configuration that simulation would pass; when
nothing passes the screen, its closest misses are simulated before plan reports a miss.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .catalog import gpu as find_gpu, gpus as catalog_gpus
from .compare import DAYS_PER_MONTH, Option, _api_option, _apply_quality_bar, _stat
from .cost import HOURS_PER_MONTH, usd_per_correct_answer
from .errors import InputError
from .hardware import GPU
from .perf.engine import EngineProfile, engine as find_engine, engines as shipped_engines
from .perf.memory import memory_plan
from .perf.serving import estimate, operating_point
from .perf.simulate import Objective, Simulation
from .prices import load_offers
from .progress import Progress, task
from .screen import Config, Screen, candidate_label, objective_name, screen
from .sizing import (SIM_REQUESTS, SIM_SEED, SIM_WARMUP, failures, hourly_cost, mean_slo_point, serves,
                     simulate_at, tail_replicas)
from .workload import Slo, Workload, load_workload

__all__ = ["MAX_BATCHES", "PRECISIONS", "Config", "Plan", "PlanPoint", "Screen", "parse_slo", "plan", "screen"]

MAX_BATCHES = (64, 128, 256, 512, 1024, 2048)  # engine max_batch_size values searched
PRECISIONS = ("bf16", "fp8", "int8", "int4", "nvfp4")  # nvfp4 only where the GPU has fp4 tensor cores
FRONTIER_FINALISTS = 16  # configurations of the screen's frontier confirmed by simulation
CLOSEST_RETRIES = 4  # closest screen misses simulated when nothing passes the screen
REPORT_BUMPS = 4  # extra replicas tried when the run at the peak itself misses (see _confirm)
# A frontier point must beat every cheaper point by more than this on TTFT or TPOT (near-ties of
# simulated percentiles, a few % apart, are noise of 500 measured requests, not a choice).
FRONTIER_MARGIN = 0.05


@dataclass(frozen=True)
class PlanPoint:
    """An option with how plan found it. ``config`` and the bindings are None for API offers."""

    option: Option
    config: Config | None = None
    binding: str | None = None  # "KV capacity", "max batch", "tpot p95", ...
    step_bound: str | None = None  # compute, memory, interconnect or overhead at its operating point
    screen_usd_per_task: float | None = None  # the screen's lower bound


@dataclass(frozen=True)
class Plan:
    """What ``plan`` found. ``options`` holds every option that meets the objectives (confirmed
    self-hosted configurations and API offers), cheapest first; ``frontier`` the confirmed
    configurations no other beats on $/task, TTFT and TPOT at once; ``unmet`` says, when no option
    meets, which objective binds and the closest miss."""

    workload: str
    tasks_per_month: float
    peak_requests_per_s: float
    objectives: list[str]
    ttft_stat: str
    tpot_stat: str
    best: PlanPoint | None
    runner_up: PlanPoint | None
    frontier: list[PlanPoint]
    options: list[PlanPoint]
    searched: dict[str, int]
    assumptions: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)  # options left out, and why
    not_searched: dict[str, list[str]] = field(default_factory=dict)  # why -> GPU keys (no price, ...)
    unmet: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---- SLO override -----------------------------------------------------------------------------
_SLO_ITEM = re.compile(r"(ttft|tpot|itl|e2e)(?:_(p50|p90|p95|p99))?(?:_s)?")
_DURATION = re.compile(r"([0-9]*\.?[0-9]+(?:e-?[0-9]+)?)\s*(ms|s)?")


def parse_slo(text: str) -> Slo:
    """``"ttft_p95=2s,tpot_p99=80ms"`` as an ``Slo`` (a bare number is seconds; a key without a
    percentile is a mean)."""
    values: dict[str, float] = {}
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        key, eq, value = item.partition("=")
        m = _SLO_ITEM.fullmatch(key.strip().lower())
        if not eq or m is None:
            raise InputError(f"--slo: '{item}' is not an objective; write METRIC[_pNN]=TIME with METRIC one "
                             "of ttft, tpot, itl, e2e and pNN one of p50, p90, p95, p99 (e.g. ttft_p95=2s)")
        d = _DURATION.fullmatch(value.strip().lower())
        seconds = float(d.group(1)) / (1000 if d.group(2) == "ms" else 1) if d else math.nan
        if not (seconds > 0 and math.isfinite(seconds)):
            raise InputError(f"--slo: '{item}': give a time above zero such as 2s or 80ms")
        name = f"{m.group(1)}_{m.group(2)}_s" if m.group(2) else f"{m.group(1)}_s"
        if name in values:
            raise InputError(f"--slo: {name[:-2]} is given twice")
        values[name] = seconds
    if not values:
        raise InputError("--slo: no objective given; e.g. --slo ttft_p95=2s,tpot_p95=80ms")
    return Slo(**values)


# ---- confirmation ----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Miss:
    """A configuration no replica count served within the objectives (for the closest-miss line)."""

    label: str
    ratio: float  # worst objective's simulated value / its limit
    objective: Objective
    detail: str


def _worst(sim: Simulation, objectives: Sequence[Objective]) -> tuple[float, Objective]:
    """The objective ``sim`` misses by most, and by how much (value / limit)."""
    def ratio(o: Objective) -> float:
        v = sim.value(o.metric, o.stat)
        return math.inf if v is None else v / o.limit_s
    o = max(objectives, key=ratio)
    return ratio(o), o


def _confirm(w: Workload, sp: Screen, row: int, objectives: Sequence[Objective], stats: tuple[str, str],
             tasks_month: float, best_usd_hour: float) -> PlanPoint | _Miss | None:
    """Size ``row`` by simulation (``sizing.tail_replicas``) and price it; None when it cannot
    beat ``best_usd_hour``; a ``_Miss`` when no replica count meets the objectives."""
    c, isl, osl = sp.c, sp.isl, sp.osl
    dep = sp.deployment(row)
    mem = memory_plan(dep, isl, osl)
    hit = sp.hit if dep.engine.prefix_caching else 0.0
    cached = math.floor(isl * hit)
    as_means = [Objective(o.metric, "mean", o.limit_s) for o in objectives]
    op = mean_slo_point(dep, as_means, isl, osl, mem.max_concurrency, cached)
    screened = op is not None
    op = op or operating_point(dep, 1, isl, osl, cached=cached)  # a screen miss, simulated anyway
    peak_u = w.requests_per_s_peak / w.utilisation
    mean_rps = w.requests_per_s_mean

    def worth(k: int) -> bool:
        return hourly_cost(c, dep, k, op, op.requests_per_s, mean_rps).usd_per_hour < best_usd_hour

    cfg = sp.config(row)
    label = f"{candidate_label(c)} @ {cfg.gpu}"
    sized = tail_replicas(dep, objectives, isl, osl, hit, peak_u, op.requests_per_s, worth)
    if sized.replicas is None:
        if not sized.how or sized.simulation is None:
            return None
        ratio, o = _worst(sized.simulation, objectives)
        return _Miss(f"{label}: {cfg.describe()}", ratio, o, sized.how)
    k = sized.replicas
    for _ in range(REPORT_BUMPS + 1):
        # The run at the replica's share of the peak gives the latencies shown; it must serve too
        # (a lower rate than the sizing's, so it nearly always does). One more replica when it
        # does not, checked again at the utilisation target.
        sizing_ok = k == sized.replicas or serves(simulate_at(dep, peak_u / k, isl, osl, hit, objectives))
        est = estimate(sp.model, dep.gpu, precision=sp.base_precision[sp.base[row]], tp=dep.tp, isl=isl, osl=osl,
                       rate=w.requests_per_s_peak / k, engine=dep.engine, cached_input_fraction=hit,
                       requests=SIM_REQUESTS, warmup=SIM_WARMUP, seed=SIM_SEED, dp=dep.dp, ep=dep.ep)
        sim = est.simulation
        assert sim is not None
        if sizing_ok and serves(sim, objectives):
            break
        k += 1
    else:
        ratio, o = _worst(sim, objectives)
        return _Miss(f"{label}: {cfg.describe()}", ratio, o, f"{failures(sim, objectives)[0]} at the peak")
    capacity = peak_u / k  # the per-replica rate its sizing run was verified at
    hourly = hourly_cost(c, dep, k, op, capacity, mean_rps)
    monthly = hourly.usd_per_hour * HOURS_PER_MONTH
    per_task = monthly / tasks_month
    requests_month = tasks_month * w.requests_per_task
    share = est.prefill_time_share or 0.0
    t = sp.tokens
    perf = (f"{est.provenance}; capacity at least {capacity:.3g} req/s per replica within the SLO "
            f"(simulated: {sized.how}); latency simulated: {sim.requests} requests, {sim.arrivals}, "
            f"{sim.lengths}, seed {sim.seed}")
    option = Option(
        label=label, kind="self-hosted", how=f"{k} x ({cfg.describe()})", usd_per_request=per_task / w.requests_per_task,
        usd_per_task=per_task, usd_per_month=monthly,
        usd_per_correct_answer=None if c.accuracy is None else usd_per_correct_answer(per_task, c.accuracy),
        usd_per_mtok_input=monthly * share / (requests_month * t.input) * 1e6 if t.input else None,
        usd_per_mtok_output=monthly * (1 - share) / (requests_month * t.generated) * 1e6 if t.generated else None,
        gpus=dep.gpus * k, ttft_s=sim.value("ttft", stats[0]), tpot_s=sim.value("tpot", stats[1]),  # type: ignore[arg-type]
        accuracy=c.accuracy, tokens={"input": t.input, "cached_input": t.cached_input, "output": t.output,
                                     "reasoning": t.reasoning},
        provenance={"price": str(hourly.provenance), "perf": perf,
                    **({"accuracy": c.accuracy_source or "input: workload"} if c.accuracy is not None else {})},
        replicas=k, gpus_per_replica=dep.gpus, capacity_requests_per_s=capacity,
        usd_per_replica_hour=hourly.usd_per_hour / k)
    if sized.raised_by:
        binding = objective_name(sized.raised_by[0])
    elif sized.saturated_below:  # one replica fewer could not keep up, objectives met or not
        binding = "throughput"
    elif screened:
        binding = str(sp.binding[row]) or "-"
    else:
        binding = objective_name(_worst(sim, objectives)[1]) if objectives else "-"
    screen = sp.usd_hour[row] * HOURS_PER_MONTH / tasks_month if math.isfinite(sp.usd_hour[row]) else None
    return PlanPoint(option, cfg, binding, str(op.step.binding), screen)


# ---- the search ------------------------------------------------------------------------------
def _pareto(points: Sequence[tuple[float, float, float]], margin: float = 0.0) -> list[int]:
    """Indices of the points (cost, latency, latency) that no cheaper-or-equal kept point matches
    on both latencies, by cost. With ``margin`` a point must also be faster than every cheaper kept
    point by more than that fraction on one latency at least (an ε-frontier: near-ties left out)."""
    order = sorted(range(len(points)), key=lambda i: points[i])
    kept: list[int] = []
    for i in order:
        _, a, b = points[i]
        if not any(a >= points[j][1] * (1 - margin) and b >= points[j][2] * (1 - margin) for j in kept):
            kept.append(i)
    return kept


def _screen_frontier(sp: Screen) -> list[int]:
    rows = np.flatnonzero(np.isfinite(sp.usd_hour))
    if not len(rows):
        return []
    pts = np.stack([sp.usd_hour[rows], sp.ttft_s[rows], sp.tpot_s[rows]], axis=1)
    # Few points can be on a three-way frontier; sweep by cost, keeping those with a latency
    # lower than every cheaper kept point's on one axis at least.
    order = np.lexsort((pts[:, 2], pts[:, 1], -sp.capacity_rps[rows], pts[:, 0]))  # equal cost: most capacity
    kept: list[int] = []
    for i in order:
        if kept:
            k = pts[kept]
            if np.any((k[:, 1] <= pts[i, 1]) & (k[:, 2] <= pts[i, 2])):
                continue
        kept.append(int(i))
    if len(kept) > FRONTIER_FINALISTS:  # spread over the cost range, cheapest and fastest kept
        pick = np.linspace(0, len(kept) - 1, FRONTIER_FINALISTS).round().astype(int)
        kept = [kept[i] for i in sorted(set(pick))]
    return [int(rows[i]) for i in kept]


def _available_gpus(names: Sequence[str] | None) -> list[GPU]:
    if names is None:
        return list(catalog_gpus().values())
    if not names:
        raise InputError("--gpus: give at least one GPU (e.g. --gpus h100-sxm,l40s)")
    return [find_gpu(n.strip()) for n in names]


def _engines(names: Sequence[str | EngineProfile] | None) -> list[EngineProfile]:
    if names is None:
        return [e for e in shipped_engines(saved=False).values() if e.plan_default]
    if not names:
        raise InputError("--engines: give at least one engine profile (e.g. --engines tuned,vllm)")
    return [find_engine(n.strip() if isinstance(n, str) else n) for n in names]


def _precisions(names: Sequence[str] | None) -> list[str]:
    out = list(PRECISIONS) + ["native"] if names is None else [n.strip().lower() for n in names]
    known = ("bf16", "fp16", "fp8", "int8", "int4", "mxfp4", "nvfp4", "native")
    for n in out:
        if n not in known:
            raise InputError(f"--precisions: unknown precision '{n}'; choose from {', '.join(known)}")
    if not out:
        raise InputError("--precisions: give at least one precision (e.g. --precisions fp8,int4)")
    return out


def _batches(values: Sequence[int]) -> list[int]:
    if not values or any(int(v) != v or v < 1 for v in values):
        raise InputError(f"--max-batch: give whole numbers of sequences, at least 1 (e.g. 64,256), got "
                         f"{','.join(str(v) for v in values) or 'none'}")
    return sorted({int(v) for v in values})


def plan(workload: Workload | Path | str, *, slo: Slo | str | None = None, gpus: Sequence[str] | None = None,
         engines: Sequence[str | EngineProfile] | None = None, precisions: Sequence[str] | None = None,
         max_batches: Sequence[int] = MAX_BATCHES, progress: Progress | None = None) -> Plan:
    """The cheapest option for ``workload`` (a ``Workload`` or a TOML path) that meets its SLOs at
    its peak rate, with the Pareto frontier of $/task vs TTFT and TPOT percentiles.

    ``slo`` replaces the workload's ``[slo]`` (an ``Slo`` or ``"ttft_p95=2s,tpot_p99=80ms"``);
    ``gpus`` (default: every catalog GPU that can be priced), ``engines`` (default: the shipped
    serving profiles, not the Petals swarm server's; saved calibrated ones by name), ``precisions`` (default ``PRECISIONS`` and the
    model's native dtype) and ``max_batches`` bound the search; the candidates' own ``gpus``,
    ``precisions`` and ``engine`` lists are compare's and are not used.

        >>> p = plan("examples/chat-assistant.toml", gpus=["h100-sxm", "l40s"])  # doctest: +SKIP
        >>> p.best.option.how, p.best.option.usd_per_task, p.best.binding  # doctest: +SKIP
    """
    w = workload if isinstance(workload, Workload) else load_workload(workload)
    if slo is not None:
        w = w.model_copy(update={"slo": parse_slo(slo) if isinstance(slo, str) else slo})
    gpu_list, engine_list = _available_gpus(gpus), _engines(engines)
    precision_list, batch_list = _precisions(precisions), _batches(max_batches)
    objectives = list(w.slo.objectives())
    tails = tuple(o for o in objectives if o.stat != "mean")
    stats = (_stat(tails, "ttft"), _stat(tails, "tpot"))
    tasks_month = w.tasks_per_day * DAYS_PER_MONTH
    excluded: list[str] = []
    skipped: dict[str, set[str]] = {}

    # API offers, as compare prices them (their latency is not modelled).
    extra = load_offers(w.offers_file) if w.offers_file else {}
    api = [_apply_quality_bar(w, _api_option(w, a, extra, tasks_month)) for a in w.api]
    excluded += [f"{o.label}: {o.excluded}" for o in api if o.excluded]
    points = [PlanPoint(o) for o in api if not o.excluded]

    spaces: list[Screen] = []
    with task(progress, "screening configurations") as bar:
        for cand in w.self_hosted:
            if cand.usd_per_gpu_hour is not None and len(gpu_list) > 1:
                raise InputError(f"{candidate_label(cand)}: usd_per_gpu_hour gives one price to every GPU type "
                                 f"and plan searches {len(gpu_list)}; name one with --gpus, or remove it to use "
                                 "the catalog's prices")
            if w.min_accuracy is not None and cand.accuracy is not None and cand.accuracy < w.min_accuracy:
                # compare's quality bar (_apply_quality_bar), before any search
                excluded.append(f"{candidate_label(cand)}: accuracy {cand.accuracy:.0%} below the bar of "
                                f"{w.min_accuracy:.0%}")
                continue
            sp = screen(w, cand, gpu_list, precision_list, engine_list, batch_list, objectives, excluded, skipped)
            if sp is not None:
                spaces.append(sp)
                bar.advance(len(sp))
    searched = {"configurations": sum(len(s) for s in spaces), "fit": int(sum(s.fits.sum() for s in spaces)),
                "within_slo_as_means": int(sum((s.conc >= 1).sum() for s in spaces)), "simulated": 0,
                "confirmed": 0}

    confirmed: list[PlanPoint] = []
    misses: list[_Miss] = []
    done: set[tuple[int, int]] = set()
    best = math.inf

    with task(progress, "simulating finalists") as bar:
        def run(si: int, row: int, prune: bool) -> None:
            nonlocal best
            if (si, row) in done:
                return
            done.add((si, row))
            searched["simulated"] += 1
            out = _confirm(w, spaces[si], row, objectives, stats, tasks_month, best if prune else math.inf)
            bar.advance()
            if isinstance(out, _Miss):
                misses.append(out)
            elif out is not None:
                confirmed.append(out)
                hourly = out.option.usd_per_month / HOURS_PER_MONTH
                best = min(best, hourly)

        for si, sp in enumerate(spaces):  # the screen's frontier: the latency side of the answer
            for row in _screen_frontier(sp):
                run(si, row, prune=False)
        # Then the cheapest, in order of their bound; among equal bounds the most capacity first
        # (the headroom of a larger max batch costs nothing when the replica count is the same).
        queue = sorted((float(sp.usd_hour[r]), -float(sp.capacity_rps[r]), float(sp.ttft_s[r]), si, int(r))
                       for si, sp in enumerate(spaces) for r in np.flatnonzero(np.isfinite(sp.usd_hour)))
        for bound, _, _, si, row in queue:
            if bound >= best:
                break
            run(si, row, prune=True)
        if not confirmed:  # the screen's closest misses, by simulation (see the module docstring)
            near = sorted((float(sp.miss_ratio[r]), si, int(r)) for si, sp in enumerate(spaces)
                          for r in np.flatnonzero(sp.fits & (sp.conc < 1)))
            for _, si, row in near[:CLOSEST_RETRIES]:
                run(si, row, prune=False)
    searched["confirmed"] = len(confirmed)

    # Cheapest first; at equal cost the faster (TTFT, then TPOT; API latency is unknown: last).
    options = sorted(points + confirmed, key=lambda p: (p.option.usd_per_task, p.option.ttft_s or math.inf,
                                                        p.option.tpot_s or math.inf))
    frontier_idx = _pareto([(p.option.usd_per_task, p.option.ttft_s or 0.0, p.option.tpot_s or 0.0)
                            for p in confirmed], FRONTIER_MARGIN)
    frontier = sorted((confirmed[i] for i in frontier_idx), key=lambda p: p.option.usd_per_task)
    top = options[0] if options else None
    runner = next((p for p in options[1:] if top is not None and _differs(p, top)), None)
    assumptions = _assumptions(w, objectives, gpu_list, engine_list, precision_list, batch_list)
    not_searched = {why: sorted(keys) for why, keys in sorted(skipped.items())}
    unmet = None if top is not None else _unmet(spaces, misses, not_searched, excluded)
    return Plan(w.name, tasks_month, w.requests_per_s_peak, [str(o) for o in objectives], stats[0], stats[1], top,
                runner, frontier, options, searched, assumptions, excluded, not_searched, unmet)


def _differs(a: PlanPoint, b: PlanPoint) -> bool:
    """Whether ``a`` is another way of serving, not ``b`` with only another max batch."""
    if a.config is None or b.config is None:
        return a.option.label != b.option.label
    strip = {"max_batch": 0}
    return (asdict(a.config) | strip, a.option.replicas) != (asdict(b.config) | strip, b.option.replicas)


def _unmet(spaces: list[Screen], misses: list[_Miss], not_searched: dict[str, list[str]], excluded: list[str]) -> str:
    """Why no option meets: the binding objective and the closest miss, or what stopped the search."""
    if misses:
        m = min(misses, key=lambda m: m.ratio)
        if not m.ratio > 1:  # every objective met, but the replica could not keep up
            return f"no option keeps up with the load; the closest is {m.label}, {m.detail}"
        return (f"no option meets the SLO; {m.objective} binds: the closest miss is {m.label}, "
                f"{m.detail} ({m.ratio:.2f}x the limit)")
    fitting = [(float(sp.need_ratio[r]), sp, int(r)) for sp in spaces for r in range(len(sp))]
    if fitting and not any(sp.fits.any() for sp in spaces):
        ratio, sp, row = min(fitting, key=lambda x: x[0])
        cfg, dep = sp.config(row), sp.deployment(row)
        return (f"no configuration fits in memory: the closest, {sp.model.key} on {cfg.layout} {cfg.precision} "
                f"({cfg.engine}), needs {ratio * dep.gpu.memory_bytes / 1e9:.3g} GB per GPU for one "
                f"{sp.isl + sp.osl:,}-token sequence, has {dep.gpu.memory_bytes / 1e9:.3g} GB; "
                "allow more GPUs per replica (max_tp) or shorter requests")
    if not spaces and not_searched:
        why, keys = next(iter(not_searched.items()))
        return f"no GPU could be searched: {', '.join(keys)} {why}"
    if excluded:
        return f"no option left: {excluded[-1]}"
    return "no option: the workload has no candidates that plan can search"


def _assumptions(w: Workload, objectives: Sequence[Objective], gpus: Sequence[GPU], engines: Sequence[EngineProfile],
                 precisions: Sequence[str], batches: Sequence[int]) -> list[str]:
    slo = ", ".join(str(o) for o in objectives) or "none"
    return [
        f"traffic: {w.tasks_per_day:,.0f} tasks/day x {w.requests_per_task:g} requests, peak hour "
        f"{w.peak_to_mean:g}x the mean = {w.requests_per_s_peak:.3g} requests/s",
        f"searched: {len(gpus)} GPU types x GPUs per replica and layout x precisions {', '.join(precisions)} x "
        f"engines {', '.join(e.key for e in engines)} x max batch {', '.join(str(b) for b in batches)}",
        f"SLO {slo}: judged on simulations of one replica (Poisson, {SIM_REQUESTS} requests, first "
        f"{SIM_WARMUP} left out, seed {SIM_SEED}) at its share of the peak at {w.utilisation:.0%} utilisation "
        "(sizing) and at its share of the peak (the latencies shown)",
        "self-hosted replicas run for the peak, 730 h/month; API latency is not modelled (measure it with "
        "`truecost bench`)",
        "performance modelled (roofline, steady state, serving simulation) with GPU and model figures from the "
        "catalog and engine terms " + "; ".join(f"{e.key}: {e.calibration or 'uncalibrated engine defaults'}"
                                                for e in engines),
    ]

