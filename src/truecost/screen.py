"""The screen: every configuration of a search space through the analytic model at once.

For one self-hosted candidate of a workload, the rows are GPU type × precision × engine profile
(a ``Deployment`` each, tp = 1, that can be priced and run) × GPUs per replica and layout
(``perf.deployment.layouts``) × engine max batch, evaluated together as a ``Deployments`` batch by
the same roofline, memory and steady-state formulas as one deployment (``perf/elementwise.py``).
For each row: does one sequence fit; the most live sequences at which every objective holds as a
steady-state mean (``sizing.mean_slo_point``, all rows together); the request rate there, an
upper bound on the capacity within the objectives; hence the replicas and $/hour that bound
implies (owned GPUs at their idle power: a lower bound); what caps the replica there; and a
near-peak steady state to rank configurations for simulation (``plan``).

The steady state does not read the engine's max batch (only the memory plan's cap does) and every
objective grows with the live sequences, so the rows that differ only in max batch share one
search up to their structure's cap, each then holding the smaller of that and its own cap — what
``mean_slo_point`` finds for it (``tests/unit/test_plan.py`` checks every row of three spaces).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .arch import ModelArch
from .catalog import model as find_model
from .cost import deployment_cost
from .errors import InputError
from .hardware import GPU, Precision
from .perf.deployment import Deployment, Deployments, layouts
from .perf.engine import EngineProfile
from .perf.memory import memory_plans
from .perf.serving import OperatingPoint, operating_point
from .perf.simulate import Objective
from .sizing import steady_value
from .workload import SelfHostedCandidate, Tokens, Workload

__all__ = ["Config", "Screen", "candidate_label", "objective_name", "screen"]

NEAR_RATE_STEPS = 2  # fixed-point steps towards the steady state at a rate (ranking only)


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
        return f"{self.layout} {self.precision}, {self.engine}, max batch {self.max_batch}"


@dataclass
class Screen:
    """One candidate model's search space and the screen's figures, one element per row (a
    configuration: ``bases[base]`` laid out as ``tp``/``dp``/``ep`` with max batch ``batch``).
    ``usd_hour`` and ``replicas`` are the screen's bounds; rows that do not fit, or miss an
    objective at one live sequence, have ``conc`` 0 and ``usd_hour`` inf."""

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
        excluded.append(f"{candidate_label(c)}: {isl:,} input + {osl:,} output tokens exceed its context of "
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
        out = np.where(steady_value(op, o.metric) > o.limit_s, objective_name(o), out)
    return out


def objective_name(o: Objective) -> str:
    """``tpot p95``: how a binding objective is named."""
    return f"{o.metric} {o.stat}"


def candidate_label(c: SelfHostedCandidate) -> str:
    """How a self-hosted candidate is named in results: its label, else its model's key."""
    return c.label or find_model(c.model).key
