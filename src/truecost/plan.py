"""Plan: the cheapest way to serve a workload within its latency SLOs, found by screening a whole
search space with the analytic model and confirming the finalists by simulation.

Search space, for each self-hosted candidate model of the workload: GPU type (every catalog GPU
that can be priced, or ``gpus``) × GPUs per replica and their layout (``perf.deployment.layouts``:
TP; for MoE models attention DP and EP too; up to the candidate's ``max_tp`` GPUs) × precision ×
engine profile × max batch (the profile's ``max_batch_size`` overridden); the replica count
follows. The workload's API offers are priced beside them, as ``compare`` prices them.

1. **Screen** every configuration at once (numpy over a ``Deployments`` batch, through the same
   roofline, memory and steady-state formulas as one deployment): does one sequence fit; the
   most live sequences at which every objective holds as a steady-state mean (integer bisection,
   all configurations together); the request rate there, an upper bound on the capacity within
   the objectives (a percentile is at least the mean, and the steady state leaves queueing out);
   hence a lower bound on the replicas and on $/hour (owned GPUs at their idle power).
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
(no room for another sequence), ``max batch`` (the engine's cap), or an objective (``tpot p95``:
one more live sequence breaks it in the steady state, or the simulation needed more replicas than
the steady state did); with the resource its engine step is bound by there (``compute``,
``memory`` bandwidth, ``interconnect``, ``overhead``).

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

from .arch import ModelArch
from .catalog import gpu as find_gpu, gpus as catalog_gpus, model as find_model
from .compare import DAYS_PER_MONTH, Option, _api_option, _apply_quality_bar, _stat
from .cost import HOURS_PER_MONTH, deployment_cost
from .errors import InputError
from .hardware import GPU, Precision
from .perf.deployment import Deployment, Deployments, layouts
from .perf.engine import EngineProfile, engine as find_engine, engines as shipped_engines
from .perf.memory import memory_plan, memory_plans
from .perf.serving import OperatingPoint, estimate, operating_point
from .perf.simulate import Objective, Simulation
from .prices import load_offers
from .progress import Progress, task
from .sizing import (SIM_REQUESTS, SIM_SEED, SIM_WARMUP, failures, hourly_cost, mean_slo_point, serves,
                     simulate_at, steady_value, tail_replicas)
from .workload import SelfHostedCandidate, Slo, Tokens, Workload, load_workload

__all__ = ["MAX_BATCHES", "PRECISIONS", "Config", "Plan", "PlanPoint", "parse_slo", "plan"]

MAX_BATCHES = (64, 128, 256, 512, 1024, 2048)  # engine max_batch_size values searched
PRECISIONS = ("bf16", "fp8", "int8", "int4", "nvfp4")  # nvfp4 only where the GPU has fp4 tensor cores
FRONTIER_FINALISTS = 16  # configurations of the screen's frontier confirmed by simulation
CLOSEST_RETRIES = 4  # closest screen misses simulated when nothing passes the screen
REPORT_BUMPS = 4  # extra replicas tried when the run at the peak itself misses (see _confirm)
# A frontier point must beat every cheaper point by more than this on TTFT or TPOT (near-ties of
# simulated percentiles, a few % apart, are noise of 500 measured requests, not a choice).
FRONTIER_MARGIN = 0.05
NEAR_RATE_STEPS = 2  # fixed-point steps towards the steady state at a rate (screen ranking only)


@dataclass(frozen=True)
class Config:
    """One self-hosted configuration: a replica's GPUs and layout, precision, engine, max batch."""

    model: str
    gpu: str
    precision: str  # as searched ("fp8"); ``dtypes`` is what it means on this GPU
    dtypes: str  # "w:fp8 kv:fp8 mm:fp8"
    tp: int
    dp: int
    ep: int
    engine: str
    max_batch: int
    layout: str  # "2x h100-sxm", "8x h200 tp1 dp8 ep8"

    @property
    def gpus(self) -> int:
        return self.tp * self.dp

    def describe(self) -> str:
        return f"{self.layout} {self.precision}, {self.engine}, batch {self.max_batch}"


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


# ---- the screen ----------------------------------------------------------------------------
@dataclass
class Screen:
    """One candidate model's search space and the screen's figures, one element per row."""

    c: SelfHostedCandidate
    model: ModelArch
    tokens: Tokens
    isl: int
    osl: int
    hit: float  # prefix-cache hit fraction on engines that cache prefixes
    bases: list[Deployment]  # one per (GPU, precision, engine), tp = dp = 1
    base_precision: list[str]
    base_usd_gpu_hour: np.ndarray  # $/GPU-hour lower bound (rent; owned at idle power)
    base: np.ndarray  # row -> base index
    tp: np.ndarray
    dp: np.ndarray
    ep: np.ndarray
    batch: np.ndarray
    fits: np.ndarray
    need_ratio: np.ndarray  # memory needed for one sequence / memory present (> 1: does not fit)
    conc: np.ndarray  # most live sequences within the objectives as means (0: misses at one)
    miss_ratio: np.ndarray  # at one sequence: worst objective's steady-state value / its limit
    capacity_rps: np.ndarray
    replicas: np.ndarray  # bound
    usd_hour: np.ndarray  # bound (inf where infeasible)
    ttft_s: np.ndarray  # steady state at the per-replica peak rate (nan where infeasible)
    tpot_s: np.ndarray
    binding: np.ndarray
    step_bound: np.ndarray

    def __len__(self) -> int:
        return len(self.base)

    def deployment(self, row: int) -> Deployment:
        """The real (validated) deployment of ``row``, its engine's max batch set."""
        b = self.bases[self.base[row]]
        batch = int(self.batch[row])
        eng = b.engine if b.engine.max_batch_size == batch else b.engine.model_copy(update={"max_batch_size": batch})
        return Deployment(self.model, b.gpu, b.precision, int(self.tp[row]), eng, dp=int(self.dp[row]),
                          ep=int(self.ep[row]))

    def config(self, row: int) -> Config:
        dep = self.deployment(row)
        return Config(self.model.key, dep.gpu.key, self.base_precision[self.base[row]], str(dep.precision), dep.tp,
                      dep.dp, dep.ep, self.bases[self.base[row]].engine.key, int(self.batch[row]), dep.layout)


def _gpu_hour_floor(c: SelfHostedCandidate, g: GPU, e: EngineProfile) -> float:
    """$/GPU-hour no deployment on ``g`` undercuts: the rent, or ownership at idle power."""
    idle = None if g.tdp_w is None else g.tdp_w * e.power_idle_fraction
    return deployment_cost(g, 1, c.basis, usd_per_gpu_hour=c.usd_per_gpu_hour, ownership=c.ownership,
                           power_w_per_gpu=idle).usd_per_hour


def _bases(model: ModelArch, c: SelfHostedCandidate, gpus: Sequence[GPU], precisions: Sequence[str],
           engines: Sequence[EngineProfile], skipped: dict[str, set[str]]) -> tuple[list[Deployment], list[str],
                                                                                 list[float]]:
    """One tp = 1 deployment per (GPU, precision, engine) that can be priced and run; what
    cannot goes into ``skipped`` (why -> GPU keys)."""
    bases, names, prices = [], [], []
    for g in gpus:
        floor: dict[str, float] = {}
        for e in engines:
            try:
                floor[e.key] = _gpu_hour_floor(c, g, e)
            except InputError as err:  # no price on this basis
                skipped.setdefault(str(err).removeprefix(f"{g.key} "), set()).add(g.key)
        seen: set[Precision] = set()
        for name in precisions:
            name = model.native_dtype if name == "native" else name
            if name == "nvfp4" and not g.supports("fp4"):
                continue  # weight-only emulation: int4's cost with more bytes
            prec = Precision.named(name, g)
            if prec in seen:
                continue
            seen.add(prec)
            for e in engines:
                if e.key not in floor:
                    continue
                try:
                    dep = Deployment(model, g, prec, 1, e)
                    _rates(dep)
                except InputError as err:  # a dtype the GPU lacks
                    skipped.setdefault(str(err).removeprefix(f"{g.key} "), set()).add(g.key)
                    continue
                bases.append(dep)
                names.append(name)
                prices.append(floor[e.key])
    return bases, names, prices


def _rates(dep: Deployment) -> tuple[float, ...]:
    """Every rate the formulas read (raises InputError now for a dtype the GPU does not have)."""
    return (dep.dense_flops_per_s, dep.matmul_flops_per_s, dep.attention_flops_per_s, dep.expert_peak_flops_per_s)


def _rows(model: ModelArch, bases: Sequence[Deployment], max_gpus: int,
          batches: Sequence[int]) -> tuple[np.ndarray, ...]:
    """The configurations: each base × each layout of its GPU × each max batch, as index arrays
    (base, tp, dp, ep, max batch)."""
    by_gpu: dict[str, np.ndarray] = {}
    for d in bases:
        if d.gpu.key not in by_gpu:
            by_gpu[d.gpu.key] = np.array(layouts(model, d.gpu, max_gpus), dtype=float).reshape(-1, 3)
    per_base = [by_gpu[d.gpu.key] for d in bases]
    counts = np.array([len(x) for x in per_base])
    lay = np.concatenate(per_base)  # (layouts of every base, 3)
    nb = len(batches)
    base = np.repeat(np.repeat(np.arange(len(bases)), counts), nb)
    lay = np.repeat(lay, nb, axis=0)
    size = np.tile(np.asarray(batches, dtype=float), len(lay) // nb)
    return base, lay[:, 0], lay[:, 1], lay[:, 2], size


def _within(batch: Deployments, objectives: Sequence[Objective], C: Any, isl: int, osl: int,
            cached: np.ndarray) -> tuple[np.ndarray, np.ndarray, OperatingPoint]:
    """Which rows meet every objective as a steady-state mean with ``C`` live sequences, and the
    worst objective's value / limit − 1 (≤ 0 where met; it steers the search below)."""
    op = operating_point(batch, C, isl, osl, cached=cached)
    ok = np.ones(len(batch), dtype=bool)
    margin = np.full(len(batch), -1.0)
    for o in objectives:
        value = steady_value(op, o.metric)
        ok &= value <= o.limit_s
        margin = np.maximum(margin, value / o.limit_s - 1)
    return ok, margin, op


def _slo_concurrency(batch: Deployments, objectives: Sequence[Objective], isl: int, osl: int, cached: np.ndarray,
                     c_max: np.ndarray) -> tuple[np.ndarray, OperatingPoint, np.ndarray, OperatingPoint]:
    """``sizing.mean_slo_point`` for every row at once: the most live sequences (integers up to
    ``c_max``) at which every objective holds as a mean, 0 where one sequence misses; the
    operating point at one sequence; which rows hold at ``c_max``, and the point there.

    Every objective grows with C, so "holds at C" is true up to an edge and false after it;
    ``mean_slo_point`` bisects for the edge. Here each round tests a pair of neighbours, C and
    C + 1, inside the bracket — where the objectives' margin, interpolated linearly between the
    bracket's ends, crosses zero (steady-state latencies are nearly linear in C, so one or two
    rounds find the edge), every other round at the bracket's middle instead (so no round is
    worse than bisection). The edge found is the same; only the number of rounds differs."""
    ones = np.ones(len(batch))
    ok1, g_lo, op1 = _within(batch, objectives, ones, isl, osl, cached)
    top, g_hi, op_top = _within(batch, objectives, c_max, isl, osl, cached)
    lo, hi = ones.copy(), c_max.astype(float)
    active = ok1 & ~top & (hi - lo > 1)
    rounds = 0
    while active.any():
        i = np.flatnonzero(active)
        if rounds % 2 == 0:  # where the margin's chord crosses zero
            guess = lo[i] + (hi[i] - lo[i]) * (-g_lo[i]) / np.maximum(g_hi[i] - g_lo[i], 1e-300)
        else:
            guess = (lo[i] + hi[i]) / 2
        c = np.clip(np.floor(guess), lo[i], hi[i] - 1)  # tests c (if above lo) and c + 1 (if below hi)
        both = np.concatenate([i, i])
        ok, g, _ = _within(batch.take(both), objectives, np.concatenate([c, c + 1]), isl, osl, cached[both])
        m = len(i)
        for probe, held, margin in ((c, ok[:m], g[:m]), (c + 1, ok[m:], g[m:])):
            inside = (probe > lo[i]) & (probe < hi[i])
            up, down = inside & held, inside & ~held
            lo[i] = np.where(up, probe, lo[i])
            g_lo[i] = np.where(up, margin, g_lo[i])
            hi[i] = np.where(down, probe, hi[i])
            g_hi[i] = np.where(down, margin, g_hi[i])
        active[i] = hi[i] - lo[i] > 1
        rounds += 1
    return np.where(top, c_max, np.where(ok1, lo, 0.0)), op1, top, op_top


def _near_rate(batch: Deployments, rate: np.ndarray, isl: int, osl: int, cached: np.ndarray, c_max: np.ndarray,
               e2e_one: np.ndarray) -> OperatingPoint:
    """The steady state near an offered ``rate``, every row at once: fixed-point steps of
    Little's law C ← rate × E2E(C) from one live sequence. E2E grows with C, so the steps climb
    towards the fixed point from below; a few are enough to rank configurations for simulation
    (the figures plan reports are simulated)."""
    e2e = e2e_one  # at one live sequence
    for _ in range(NEAR_RATE_STEPS):
        op = operating_point(batch, np.minimum(rate * e2e, c_max), isl, osl, cached=cached)
        e2e = op.e2e_s
    return op


def screen(w: Workload, c: SelfHostedCandidate, gpus: Sequence[GPU], precisions: Sequence[str],
           engines: Sequence[EngineProfile], batches: Sequence[int], objectives: Sequence[Objective],
           excluded: list[str] | None = None, skipped: dict[str, set[str]] | None = None) -> Screen | None:
    """Screen every configuration of candidate ``c`` of ``w`` at once (step 1 of the module
    docstring): None when none can be built (the reason goes to ``excluded``, or GPUs that cannot
    be priced or run to ``skipped``, why -> keys)."""
    excluded = [] if excluded is None else excluded
    skipped = {} if skipped is None else skipped
    model = find_model(c.model)
    t = c.tokens(w.tokens)
    isl, osl = max(round(t.input), 1), max(round(t.generated), 1)
    if isl + osl > model.max_context:
        excluded.append(f"{_label(c)}: {isl:,} input + {osl:,} output tokens exceed its context of "
                        f"{model.max_context:,} tokens")
        return None
    bases, precision_names, prices = _bases(model, c, gpus, precisions, engines, skipped)
    if not bases:
        return None
    base, tp, dp, ep, batch_size = _rows(model, bases, c.max_tp, batches)
    batch = Deployments.stack(bases).take(base, tp=tp, dp=dp, ep=ep, max_batch_size=batch_size)
    n = len(base)
    mem = memory_plans(batch, isl, osl)
    fits = mem.kv_capacity_sequences >= 1
    need = mem.weights_bytes + mem.reserve_bytes + mem.kv_bytes_per_sequence / batch.engine.kv_memory_fraction
    hit = t.cached_input_fraction * c.prefix_cache_hit_rate
    caching = np.array([b.engine.prefix_caching for b in bases])[base]
    cached_all = np.where(caching, math.floor(isl * hit), 0.0)

    conc, miss_ratio = np.zeros(n), np.full(n, np.inf)
    capacity, replicas, usd_hour = np.zeros(n), np.zeros(n), np.full(n, np.inf)
    ttft, tpot = np.full(n, np.nan), np.full(n, np.nan)
    binding, step_bound = np.full(n, "", dtype=object), np.full(n, "", dtype=object)
    # The steady state does not read the engine's max batch (only the memory plan's cap does) and
    # every objective grows with C, so each structure — GPU, precision, engine, layout: the rows
    # that differ only in max batch, consecutive — is bisected once up to its KV capacity, and a
    # row then holds the smaller of that and its own cap (what ``mean_slo_point`` finds for it).
    nb = len(batches)
    first = np.arange(0, n, nb)
    first = first[fits[first]]  # a structure fits, or not, whatever its max batch
    if len(first):
        sb, s_cached = batch.take(first), cached_all[first]
        as_means = [Objective(o.metric, "mean", o.limit_s) for o in objectives]
        # No row holds more than its KV capacity nor its largest max batch per attention-DP group.
        s_cap_max = np.minimum(mem.kv_capacity_sequences[first], batch.dp[first] * max(batches))
        Cs, op1, top, op_top = _slo_concurrency(sb, as_means, isl, osl, s_cached, s_cap_max)
        ratio = np.zeros(len(first))
        for o in objectives:
            ratio = np.maximum(ratio, steady_value(op1, o.metric) / o.limit_s)
        # Each structure's point at its Cs, and the objective one more sequence breaks there.
        s_cap, s_bound = op_top.requests_per_s.copy(), op_top.step.binding.copy()
        s_binding = np.full(len(first), "KV capacity", dtype=object)
        below = np.flatnonzero((Cs >= 1) & ~top)
        if len(below):
            op = operating_point(sb.take(below), Cs[below], isl, osl, cached=s_cached[below])
            s_cap[below], s_bound[below] = op.requests_per_s, op.step.binding
            s_binding[below] = _slo_binding(sb.take(below), objectives, Cs[below] + 1, isl, osl, s_cached[below])
        # Every row of those structures.
        s = np.repeat(np.arange(len(first)), nb)
        r = (first[:, None] + np.arange(nb)).ravel()
        c_row = mem.max_concurrency[r]
        miss_ratio[r] = ratio[s]
        ok = Cs[s] >= 1
        C = np.where(ok, np.minimum(Cs[s], c_row), 0.0)
        capped = ok & (c_row <= Cs[s])  # the row's own memory cap binds
        cap, bound = s_cap[s], s_bound[s]
        new = np.flatnonzero(capped & (c_row < Cs[s]))
        if len(new):
            op = operating_point(batch.take(r[new]), c_row[new], isl, osl, cached=cached_all[r[new]])
            cap[new], bound[new] = op.requests_per_s, op.step.binding
        names = np.where(mem.limited_by[r] == "kv_capacity", "KV capacity", "max batch")
        rows, C, cap, bound, names = r[ok], C[ok], cap[ok], bound[ok], np.where(capped, names, s_binding[s])[ok]
    if len(first) and len(rows):
        k = np.ceil(w.requests_per_s_peak / (cap * w.utilisation))
        conc[rows], capacity[rows], replicas[rows], step_bound[rows], binding[rows] = C, cap, k, bound, names
        usd_hour[rows] = k * batch.gpus[rows] * np.asarray(prices)[base[rows]]
        # Near-peak latencies (to rank for simulation): once per structure, replica count and cap.
        key = np.stack([s[ok], k, mem.max_concurrency[rows]], axis=1)
        _, pick, back = np.unique(key, axis=0, return_index=True, return_inverse=True)
        at = _near_rate(batch.take(rows[pick]), w.requests_per_s_peak / k[pick], isl, osl, cached_all[rows[pick]],
                        mem.max_concurrency[rows[pick]], op1.e2e_s[s[ok][pick]])
        ttft[rows], tpot[rows] = at.ttft_s[back.ravel()], at.tpot_s[back.ravel()]
    return Screen(c, model, t, isl, osl, hit, bases, precision_names, np.asarray(prices), base, tp, dp, ep,
                  batch_size, fits, need / mem.gpu_bytes, conc, miss_ratio, capacity, replicas, usd_hour, ttft, tpot,
                  binding, step_bound)


def _slo_binding(batch: Deployments, objectives: Sequence[Objective], C: np.ndarray, isl: int, osl: int,
                 cached: np.ndarray) -> np.ndarray:
    """The first objective each row breaks (as a mean) with ``C`` live sequences."""
    op = operating_point(batch, C, isl, osl, cached=cached)
    out = np.full(len(batch), "", dtype=object)
    for o in reversed(objectives):  # the first objective broken wins
        out = np.where(steady_value(op, o.metric) > o.limit_s, _objective_name(o), out)
    return out


def _objective_name(o: Objective) -> str:
    return f"{o.metric} {o.stat}"


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
    label = f"{_label(c)} @ {cfg.gpu}"
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
    capacity = peak_u / k if k != sized.replicas else sized.rate_rps
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
        usd_per_correct_answer=None if c.accuracy is None or c.accuracy == 0 else per_task / c.accuracy,
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
        binding = _objective_name(sized.raised_by[0])
    elif screened:
        binding = str(sp.binding[row]) or "-"
    else:
        binding = _objective_name(_worst(sim, objectives)[1]) if objectives else "-"
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
        return list(shipped_engines(saved=False).values())
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
    profiles; saved calibrated ones by name), ``precisions`` (default ``PRECISIONS`` and the
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
                raise InputError(f"{_label(cand)}: usd_per_gpu_hour gives one price to every GPU type "
                                 f"and plan searches {len(gpu_list)}; name one with --gpus, or remove it to use "
                                 "the catalog's prices")
            if w.min_accuracy is not None and cand.accuracy is not None and cand.accuracy < w.min_accuracy:
                # compare's quality bar (_apply_quality_bar), before any search
                excluded.append(f"{_label(cand)}: accuracy {cand.accuracy:.0%} below the bar of "
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


def _label(c: SelfHostedCandidate) -> str:
    return c.label or find_model(c.model).key


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
    ]

