"""Compare the ways of serving a workload: API offers and self-hosted open models, ranked by cost
per task, each sized for the workload's peak rate and checked against its SLO and quality bar.

Self-hosted sizing searches GPU type × precision × parallel layout (tensor parallelism; for MoE
models also attention data parallelism and expert parallelism). One replica's capacity is
the highest request rate at which it meets the SLO: for mean objectives (``ttft_s``) the steady
state with the most live sequences whose modelled means hold; for percentile objectives
(``ttft_p95_s``) the highest Poisson rate at which a simulation of the replica (``perf/
simulate.py``: queueing, chunked prefill, KV admission) keeps up and meets them — found by
bisection, seeded (``sizing.py``, shared with ``plan``), each configuration screened first by its
steady-state bound so that only those that could be the cheapest are simulated. Then ``ceil(peak / (capacity × utilisation))`` replicas run around the
clock (sized for the peak hour, paid every hour); the cheapest configuration per GPU type is
reported. Owned GPUs pay for their modelled power (``perf/power.py``) at the mean load they
carry. On engines that cache prefixes, the workload's cached input (× the candidate's hit
rate) is not prefilled. Left out: autoscaling between peak and trough, length spread (requests
are simulated at the workload's mean lengths), API latency (not in any price catalog: measure it
with ``truecost bench``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from .checks import finite_result
from .cost import HOURS_PER_MONTH, HourlyCost, usd_per_correct_answer
from .errors import DoesNotFitError, InputError
from .hardware import GPU
from .catalog import gpu as find_gpu, model as find_model
from .perf.deployment import Deployment, layouts
from .perf.engine import engine as find_engine
from .perf.memory import memory_plan
from .perf.links import link
from .perf.offload import estimate_offload
from .perf.serving import OperatingPoint, estimate, make_deployment
from .perf.simulate import Objective, Stat
from .perf.swarm import Server, estimate_swarm, parse_servers
from .prices import Offer, load_offers, offer
from .eval.profiles import resolve_candidates
from .sizing import SIM_REQUESTS, SIM_SEED, SIM_WARMUP, hourly_cost, largest_passing, mean_slo_point, tail_replicas
from .workload import (ApiCandidate, OffloadCandidate, SelfHostedCandidate, SwarmCandidate, Tokens, Workload,
                       load_workload)

__all__ = ["Comparison", "Option", "compare"]

DAYS_PER_MONTH = HOURS_PER_MONTH / 24
RankBy = Literal["task", "correct", "month"]  # $/task, $/correct answer, $/month


@dataclass(frozen=True)
class Option:
    """One way of serving the workload, with what it costs and where each figure came from."""

    label: str
    kind: Literal["api", "self-hosted", "swarm", "offload"]
    how: str  # the offer, or the deployment (GPUs, TP, precision, replicas)
    usd_per_request: float
    usd_per_task: float
    usd_per_month: float
    usd_per_correct_answer: float | None
    usd_per_mtok_input: float | None
    usd_per_mtok_output: float | None
    gpus: int | None
    ttft_s: float | None
    tpot_s: float | None
    accuracy: float | None
    tokens: dict[str, float]
    provenance: dict[str, str]  # figure -> provenance
    excluded: str | None = None  # why it is not ranked (quality bar, SLO, memory)
    # Self-hosted sizing (None for APIs): replicas run for the peak, GPUs in one replica, the
    # request rate one replica sustains within the SLO, and one replica's $/hour.
    replicas: int | None = None
    gpus_per_replica: int | None = None
    capacity_requests_per_s: float | None = None
    usd_per_replica_hour: float | None = None
    # Set when this option is cheaper per token than another yet dearer per task: the trap of
    # comparing price per token when models spend different numbers of tokens on a task.
    trap: str | None = None


@dataclass(frozen=True)
class Comparison:
    workload: str
    tasks_per_month: float
    peak_requests_per_s: float
    options: list[Option]  # ranked by rank_by, excluded ones last
    assumptions: list[str] = field(default_factory=list)
    # What self-hosted ttft_s / tpot_s are: "mean" (steady-state model), or the percentile of the
    # SLO's simulation ("p95", "p99", ...).
    ttft_stat: str = "mean"
    tpot_stat: str = "mean"
    rank_by: RankBy = "task"

    @property
    def ranked(self) -> list[Option]:
        return [o for o in self.options if o.excluded is None]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare(workload: Workload | Path | str, *, rank_by: RankBy = "task") -> Comparison:
    """Rank every candidate of ``workload`` (a ``Workload`` or a TOML path) by cost per task,
    per correct answer (``rank_by="correct"``: options without an accuracy follow, by $/task)
    or per month.

        >>> c = compare("examples/chat-assistant.toml")  # doctest: +SKIP
        >>> c.ranked[0].label, c.ranked[0].usd_per_task  # doctest: +SKIP
    """
    if rank_by not in get_args(RankBy):
        raise InputError(f"rank by task, correct or month, not '{rank_by}'")
    w = workload if isinstance(workload, Workload) else load_workload(workload)
    w = resolve_candidates(w)  # token profiles, eval runs, per-precision accuracy
    extra = load_offers(w.offers_file) if w.offers_file else {}
    tasks_month = finite_result(w.tasks_per_day * DAYS_PER_MONTH, "tasks per month",
                                "give a smaller tasks_per_day")
    finite_result(w.requests_per_s_peak, "peak requests/s",
                  "give a smaller tasks_per_day, requests_per_task or peak_to_mean")
    options = [_api_option(w, c, extra, tasks_month) for c in w.api]
    for c in w.self_hosted:
        options.extend(_self_hosted_options(w, c, tasks_month))
    options.extend(_swarm_option(w, c, tasks_month) for c in w.swarm)
    options.extend(_offload_option(w, c, g, tasks_month) for c in w.offload for g in c.gpus)
    options = [_apply_quality_bar(w, o) for o in options]
    for o in options:
        if o.excluded is None:
            for what, usd in (("$/request", o.usd_per_request), ("$/task", o.usd_per_task),
                              ("$/month", o.usd_per_month)):
                finite_result(usd, f"{o.label} {what}",
                              "check the workload's traffic and token counts")
    options.sort(key=_rank_key(rank_by, options))
    options = _mark_traps(options)
    tails = tuple(o for o in w.slo.objectives() if o.stat != "mean")
    assumptions = [
        f"traffic: {w.tasks_per_day:,.0f} tasks/day x {w.requests_per_task:g} requests, "
        f"peak hour {w.peak_to_mean:g}x the mean = {w.requests_per_s_peak:.3g} requests/s",
        f"self-hosted: replicas sized for the peak at {w.utilisation:.0%} utilisation, up 730 h/month; "
        + _caching_assumption(w),
        *([_slo_assumption(w)] if w.slo.objectives() and w.self_hosted else []),
        *([_shared_assumption(w)] if w.swarm or w.offload else []),
        "API latency is not modelled (measure it with `truecost bench`)",
    ]
    stats = ("p95", "p95") if tails else ("mean", "mean")
    if tails:
        stats = (_stat(tails, "ttft"), _stat(tails, "tpot"))
    if rank_by == "correct" and any(o.usd_per_correct_answer is None for o in options):
        assumptions.append("ranked by $/correct answer; options without an accuracy follow, "
                           "by $/task")
    return Comparison(w.name, tasks_month, w.requests_per_s_peak, options, assumptions, *stats, rank_by=rank_by)


def _caching_assumption(w: Workload) -> str:
    if not w.tokens.cached_input_fraction or not w.self_hosted:
        return "no cached input"
    cachers = [c for c in w.self_hosted if find_engine(c.engine).prefix_caching]
    caching = sorted({c.engine for c in cachers})
    rates = sorted({c.prefix_cache_hit_rate for c in cachers})  # a candidate that does not cache has none
    if not caching:
        return "engines without prefix caching recompute the cached input"
    return (f"prefix caching ({', '.join(caching)}) skips the prefill of the cached "
            f"{w.tokens.cached_input_fraction:.0%} of input x hit rate {'/'.join(f'{r:.0%}' for r in rates)}")


def _slo_assumption(w: Workload) -> str:
    objectives = w.slo.objectives()
    text = ", ".join(str(o) for o in objectives)
    parts = []
    if any(o.stat == "mean" for o in objectives):
        parts.append("means from the steady-state model")
    if any(o.stat != "mean" for o in objectives):
        parts.append(f"percentiles from simulating one replica at its share of the peak (Poisson, "
                     f"{SIM_REQUESTS} requests, first {SIM_WARMUP} left out, seed {SIM_SEED})")
    return f"SLO {text}: " + "; ".join(parts)


def _rank_key(rank_by: RankBy, options: list[Option]) -> Any:
    if rank_by == "month":
        return lambda o: (o.excluded is not None, o.usd_per_month)
    if rank_by == "correct":
        if not any(o.usd_per_correct_answer is not None for o in options):
            raise InputError("ranking by $/correct answer needs accuracy on the candidates: add "
                             "accuracy = 0.9 (and accuracy_source) to [[api]] and "
                             "[[self_hosted]] entries")
        return lambda o: (o.excluded is not None, o.usd_per_correct_answer is None,
                          o.usd_per_task if o.usd_per_correct_answer is None
                          else o.usd_per_correct_answer)
    return lambda o: (o.excluded is not None, o.usd_per_task)


def _apply_quality_bar(w: Workload, o: Option) -> Option:
    if o.excluded or not w.min_accuracy:  # None or 0: no bar to meet
        return o
    if o.accuracy is None:  # a bar it cannot be checked against: not silently passed
        return _replace(o, excluded=f"no accuracy stated, and the workload's min_accuracy is "
                                    f"{w.min_accuracy:.0%} (add accuracy = ... to the candidate)")
    if o.accuracy >= w.min_accuracy:
        return o
    return _replace(o, excluded=f"accuracy {o.accuracy:.0%} below the bar of {w.min_accuracy:.0%}")


def _replace(o: Option, **kw: Any) -> Option:
    return Option(**{**asdict(o), **kw})


def _tokens_dict(t: Tokens) -> dict[str, float]:
    return {"input": t.input, "cached_input": t.cached_input, "output": t.output, "reasoning": t.reasoning}


def _api_option(w: Workload, c: ApiCandidate, extra: dict[str, Offer], tasks_month: float) -> Option:
    o = offer(c.offer, extra)
    t = c.tokens(w.tokens)
    per_req = o.request_usd(t.input, t.output, cached_input_tokens=t.cached_input,
                            reasoning_tokens=t.reasoning, batch=c.batch)
    per_task = per_req * w.requests_per_task
    tok_src = c.tokens_source or ("input: workload" + (", per-model token override"
                                                       if c.output_tokens or c.reasoning_tokens else ""))
    mtok_in, mtok_out = o.usd_per_mtok(batch=c.batch)  # the prices this row is costed at
    return Option(
        label=c.label or o.key, kind="api", how="API" + (" batch" if c.batch else ""),
        usd_per_request=per_req, usd_per_task=per_task, usd_per_month=per_task * tasks_month,
        usd_per_correct_answer=_per_correct(per_task, c.accuracy),
        usd_per_mtok_input=mtok_in, usd_per_mtok_output=mtok_out,
        gpus=None, ttft_s=None, tpot_s=None, accuracy=c.accuracy, tokens=_tokens_dict(t),
        provenance={"price": str(o.provenance), "tokens": tok_src,
                    **({"accuracy": c.accuracy_source or "input: workload"} if c.accuracy is not None else {})},
    )


def _per_correct(per_task: float, accuracy: float | None) -> float | None:
    return None if accuracy is None else usd_per_correct_answer(per_task, accuracy)


@dataclass(frozen=True)
class _Sized:
    gpu: str
    spec: GPU  # the GPU itself: a user's GPU file has a key no catalog lookup knows
    precision: str
    tp: int
    replicas: int
    capacity_rps: float
    usd_per_hour: float
    price_provenance: str
    capacity_note: str  # how the capacity was found (steady-state means, or simulations)
    dp: int = 1
    ep: int = 1
    layout: str = ""

    @property
    def gpus_per_replica(self) -> int:
        return self.tp * self.dp


@dataclass(frozen=True)
class _Screened:
    """A configuration that fits, with its capacity within the mean objectives (an upper bound
    on its capacity within any percentile objective) and the $/hour that bound implies."""

    dep: Deployment
    precision: str
    op: OperatingPoint
    usd_per_hour_bound: float


def _self_hosted_options(w: Workload, c: SelfHostedCandidate, tasks_month: float) -> list[Option]:
    t = c.tokens(w.tokens)
    isl, osl = max(round(t.input), 1), max(round(t.generated), 1)
    objectives = w.slo.objectives()
    tails = tuple(o for o in objectives if o.stat != "mean")
    as_means = tuple(Objective(o.metric, "mean", o.limit_s) for o in objectives)
    hit = t.cached_input_fraction * c.prefix_cache_hit_rate
    out = []
    for gpu in c.gpus:
        reasons: list[str] = []
        screened: list[_Screened] = []
        for precision in c.precision_choices:
            tried = [(tp, dp, ep) for tp, dp, ep in layouts(find_model(c.model), find_gpu(gpu), c.tp or c.max_tp)
                     if c.tp is None or (tp == c.tp and dp == 1)]  # a pinned tensor-parallel size
            if not tried and c.tp is not None:  # a TP no layout allows: the deployment says why
                tried = [(c.tp, 1, 1)]
            for tp, dp, ep in tried:
                try:
                    dep = make_deployment(c.model, gpu, precision, tp, c.engine, dp=dp, ep=ep)
                    if isl + osl > dep.model.max_context:
                        raise InputError(f"{isl:,} input + {osl:,} output tokens exceed "
                                         f"{dep.model.key}'s context of "
                                         f"{dep.model.max_context:,} tokens")
                    plan = memory_plan(dep, isl, osl)
                except (DoesNotFitError, InputError) as e:
                    reasons.append(str(e))
                    continue
                cached = math.floor(isl * hit) if dep.engine.prefix_caching else 0
                # A percentile is at least the mean, and the steady state's mean at most the
                # simulated one (it leaves queueing out): holding every limit as a mean bounds the
                # capacity from above.
                op = mean_slo_point(dep, as_means, isl, osl, plan.max_concurrency, cached)
                if op is None:
                    reasons.append(f"{dep.layout} {precision}: misses the SLO even at one request")
                    continue
                bound = math.ceil(w.requests_per_s_peak / (op.requests_per_s * w.utilisation))
                hourly = _hourly(c, dep, bound, op, op.requests_per_s, w)
                screened.append(_Screened(dep, precision, op, hourly.usd_per_hour))
        best: _Sized | None = None
        # Cheapest bound first; a configuration whose bound cannot beat the best found is skipped.
        for sc in sorted(screened, key=lambda s: s.usd_per_hour_bound):
            if best is not None and sc.usd_per_hour_bound >= best.usd_per_hour:
                break
            cap, how = sc.op.requests_per_s, "steady-state model"
            replicas = math.ceil(w.requests_per_s_peak / (cap * w.utilisation))
            if tails:
                def worth(k: int, sc: _Screened = sc) -> bool:
                    return best is None or _hourly(c, sc.dep, k, sc.op, cap, w).usd_per_hour < best.usd_per_hour

                # Sized at the utilisation target: k replicas each take peak / (k·u) of offered load.
                sized = tail_replicas(sc.dep, tails, isl, osl, _hit(sc.dep, hit),
                                      w.requests_per_s_peak / w.utilisation, cap, worth)
                found, rate, why = sized.replicas, sized.rate_rps, sized.how
                if found is None:
                    if why:
                        reasons.append(f"{sc.dep.layout} {sc.precision}: {why}")
                    continue
                replicas, cap, how = found, rate, f"simulated: {why}"
            if c.replicas is not None and c.replicas < replicas:  # pinned, and too few
                reasons.append(f"{c.replicas} x ({sc.dep.layout} {sc.precision}) carry "
                               f"{c.replicas * cap * w.utilisation:.3g} req/s within the SLO at "
                               f"{w.utilisation:.0%} utilisation; the peak is "
                               f"{w.requests_per_s_peak:.3g} req/s (needs {replicas})")
                continue
            replicas = c.replicas or replicas
            hourly = _hourly(c, sc.dep, replicas, sc.op, cap, w)
            if best is None or hourly.usd_per_hour < best.usd_per_hour:
                best = _Sized(sc.dep.gpu.key, sc.dep.gpu, sc.precision, sc.dep.tp, replicas, cap, hourly.usd_per_hour,
                              str(hourly.provenance), how, sc.dep.dp, sc.dep.ep, sc.dep.layout)
        label = c.label or c.model
        if best is None:
            why = reasons[-1] if reasons else "no configuration tried"
            out.append(_excluded_self_hosted(label, find_gpu(gpu).key, t, why))  # the key, as a priced row
            continue
        out.append(_self_hosted_option(w, c, label, best, t, isl, osl, tasks_month, hit, tails))
    return out


def _hit(dep: Deployment, hit: float) -> float:
    return hit if dep.engine.prefix_caching else 0.0


def _hourly(c: SelfHostedCandidate, dep: Deployment, replicas: int, op: OperatingPoint, capacity_rps: float,
            w: Workload) -> HourlyCost:
    return hourly_cost(c, dep, replicas, op, capacity_rps, w.requests_per_s_mean)


def _self_hosted_option(w: Workload, c: SelfHostedCandidate, label: str, s: _Sized, t: Tokens,
                        isl: int, osl: int, tasks_month: float, hit: float, tails: tuple[Objective, ...]) -> Option:
    per_replica_rate = w.requests_per_s_peak / s.replicas
    est = estimate(c.model, s.spec, precision=s.precision, tp=s.tp, isl=isl, osl=osl, rate=per_replica_rate,
                   engine=c.engine, cached_input_fraction=hit, requests=SIM_REQUESTS, warmup=SIM_WARMUP,
                   seed=SIM_SEED, dp=s.dp, ep=s.ep)
    ttft, tpot = est.ttft_s, est.tpot_s
    bound = "at least " if tails else ""  # the replica search stops at the rate that fixes the count
    perf = (f"{est.provenance}; capacity {bound}{s.capacity_rps:.3g} req/s per replica within the SLO "
            f"({s.capacity_note})")
    if tails and est.simulation is not None:  # the same run as the search's at this rate
        sim = est.simulation
        ttft, tpot = sim.value("ttft", _stat(tails, "ttft")), sim.value("tpot", _stat(tails, "tpot"))
        perf += (f"; latency simulated: {sim.requests} requests, {sim.arrivals}, {sim.lengths}, "
                 f"seed {sim.seed}")
    if c.pins:
        perf += f"; pinned: {', '.join(c.pins)}"
    monthly = s.usd_per_hour * HOURS_PER_MONTH
    per_task = monthly / tasks_month
    per_req = per_task / w.requests_per_task
    requests_month = tasks_month * w.requests_per_task
    share = est.prefill_time_share or 0.0
    mtok_in = monthly * share / (requests_month * t.input) * 1e6 if t.input else None
    mtok_out = monthly * (1 - share) / (requests_month * t.generated) * 1e6 if t.generated else None
    how = f"{s.replicas} x ({s.layout} {s.precision})"
    return Option(
        label=f"{label} @ {s.gpu}", kind="self-hosted", how=how, usd_per_request=per_req,
        usd_per_task=per_task, usd_per_month=monthly, usd_per_correct_answer=_per_correct(per_task, c.accuracy),
        usd_per_mtok_input=mtok_in, usd_per_mtok_output=mtok_out, gpus=s.gpus_per_replica * s.replicas,
        ttft_s=ttft, tpot_s=tpot, accuracy=c.accuracy, tokens=_tokens_dict(t),
        replicas=s.replicas, gpus_per_replica=s.gpus_per_replica, capacity_requests_per_s=s.capacity_rps,
        usd_per_replica_hour=s.usd_per_hour / s.replicas,
        provenance={"price": s.price_provenance, "perf": perf,
                    **({"tokens": c.tokens_source} if c.tokens_source else {}),
                    **({"accuracy": c.accuracy_source or "input: workload"} if c.accuracy is not None else {})},
    )


def _stat(tails: tuple[Objective, ...], metric: str) -> Stat:
    """The statistic reported for ``metric``: its objective's (the highest percentile if several),
    else p95."""
    stats = [o.stat for o in tails if o.metric == metric]
    return max(stats, key=lambda s: float(s[1:])) if stats else "p95"


def _mark_traps(options: list[Option]) -> list[Option]:
    """Mark each ranked option that is cheaper per token (input and output) than another
    ranked option, yet dearer per task; the note names the cheapest such other option."""
    ranked = [o for o in options if o.excluded is None]
    out = []
    for a in options:
        b = next((b for b in ranked if a.excluded is None and b is not a
                  and b.usd_per_task < a.usd_per_task
                  and None not in (a.usd_per_mtok_output, b.usd_per_mtok_output,
                                   a.usd_per_mtok_input, b.usd_per_mtok_input)
                  and a.usd_per_mtok_output < b.usd_per_mtok_output  # type: ignore[operator]
                  and a.usd_per_mtok_input <= b.usd_per_mtok_input), None)  # type: ignore[operator]
        if b is None:
            out.append(a)
            continue
        gen_a = a.tokens["output"] + a.tokens["reasoning"]
        gen_b = b.tokens["output"] + b.tokens["reasoning"]
        why = (f"; it generates {gen_a / gen_b:.1f}x the tokens per task ({gen_a:,.0f} vs "
               f"{gen_b:,.0f})" if gen_b and abs(gen_a - gen_b) > 0.5 else "")
        out.append(_replace(a, trap=(
            f"cheaper per token than {b.label} ({_money(a.usd_per_mtok_output)} vs "
            f"{_money(b.usd_per_mtok_output)} per 1M output) but "
            f"{a.usd_per_task / b.usd_per_task:.2g}x dearer per task{why}")))
    return out


def _money(x: float | None) -> str:
    return "-" if x is None else f"${x:,.2f}" if x >= 0.1 else f"${x:.3g}"


def _excluded_self_hosted(label: str, gpu: str, t: Tokens, why: str) -> Option:
    return Option(label=f"{label} @ {gpu}", kind="self-hosted", how="-", usd_per_request=math.inf,
                  usd_per_task=math.inf, usd_per_month=math.inf, usd_per_correct_answer=None,
                  usd_per_mtok_input=None, usd_per_mtok_output=None, gpus=None, ttft_s=None, tpot_s=None,
                  accuracy=None, tokens=_tokens_dict(t), provenance={}, excluded=why)


# ---- swarms and offloading --------------------------------------------------------------------------

def _shared_assumption(w: Workload) -> str:
    text = ("swarm/offload: sized like replicas (a swarm of servers, or one offloading GPU, each) at the "
            "most concurrent sequences whose modelled mean latencies meet the SLO (no simulation")
    if any(o.stat != "mean" for o in w.slo.objectives()):
        text += "; percentile limits are held by the means, an optimistic check"
    return text + "); volunteers pay electricity only while busy"


def _meets(means: tuple[Objective, ...], ttft: float, tpot: float, osl: int) -> bool:
    value = {"ttft": ttft, "tpot": tpot, "itl": tpot, "e2e": ttft + (osl - 1) * tpot}
    return all(value[o.metric] <= o.limit_s for o in means)


def _largest_within(means: tuple[Objective, ...], osl: int, c_max: int,
                    at: Callable[[int], tuple[float, float, float] | None]) -> tuple[int, float, float, float] | None:
    """The most concurrent sequences (at most ``c_max``) whose (TTFT, TPOT, tokens/s) from ``at``
    meet every mean objective; latencies grow with concurrency, so bisection finds the edge."""
    def ok(c: int) -> tuple[int, float, float, float] | None:
        r = at(c)
        return None if r is None or not _meets(means, r[0], r[1], osl) else (c, *r)

    return largest_passing(c_max, ok)


def _at_load(at: Callable[[int], tuple[float, float, float] | None], rate: float, osl: int,
             c_max: int) -> tuple[int, float, float]:
    """(concurrency, TTFT, TPOT) at an offered ``rate``: Little's law C = rate × E2E(C), by
    fixed-point iteration from one sequence (latencies grow with C, so it settles)."""
    c = 1
    for _ in range(30):
        r = at(c)
        assert r is not None  # every C up to the sized one fits
        nxt = min(c_max, max(1, math.ceil(rate * (r[0] + (osl - 1) * r[1]))))
        if nxt == c:
            break
        c = nxt
    r = at(c)
    assert r is not None
    return c, r[0], r[1]


def _shared_option(w: Workload, c: SwarmCandidate | OffloadCandidate, kind: Literal["swarm", "offload"], label: str,
                   how: str, sized: tuple[int, float, float, float], at: Callable[[int], tuple[float, float, float] | None],
                   usd_per_hour: float, volunteer: bool, units: int, price: str, perf: str, prefill_share: float,
                   tasks_month: float) -> Option:
    concurrency, _, _, tokens_s = sized
    t = c.tokens(w.tokens)
    osl = max(round(t.generated), 1)
    cap = tokens_s / osl
    replicas = math.ceil(w.requests_per_s_peak / (cap * w.utilisation))
    live, ttft, tpot = _at_load(at, w.requests_per_s_peak / replicas, osl, concurrency)
    busy = w.requests_per_s_mean / (replicas * cap)
    # Rented servers are paid every hour; volunteers' electricity only while they serve.
    monthly = usd_per_hour * replicas * HOURS_PER_MONTH * (busy if volunteer else 1.0)
    requests_month = tasks_month * w.requests_per_task
    per_task = monthly / tasks_month
    mtok_in = monthly * prefill_share / (requests_month * t.input) * 1e6 if t.input else None
    mtok_out = monthly * (1 - prefill_share) / (requests_month * t.generated) * 1e6 if t.generated else None
    perf += (f"; capacity {cap:.3g} req/s per {kind} at {concurrency} concurrent sequences within the SLO "
             f"(modelled means); latency at the peak: {live} sequence(s) in flight")
    return Option(
        label=label, kind=kind, how=f"{replicas} x ({how})", usd_per_request=per_task / w.requests_per_task,
        usd_per_task=per_task, usd_per_month=monthly, usd_per_correct_answer=_per_correct(per_task, c.accuracy),
        usd_per_mtok_input=mtok_in, usd_per_mtok_output=mtok_out, gpus=units * replicas, ttft_s=ttft, tpot_s=tpot,
        accuracy=c.accuracy, tokens=_tokens_dict(t), replicas=replicas, gpus_per_replica=units,
        capacity_requests_per_s=cap, usd_per_replica_hour=usd_per_hour,
        provenance={"price": price, "perf": perf,
                    **({"accuracy": c.accuracy_source or "input: workload"} if c.accuracy is not None else {})})


def _excluded_shared(kind: str, label: str, t: Tokens, why: str) -> Option:
    o = _excluded_self_hosted(label, "", t, why)
    return _replace(o, kind=kind, label=label)


def _swarm_option(w: Workload, c: SwarmCandidate, tasks_month: float) -> Option:
    """The cheapest precision of swarm ``c``, sized for the workload's peak."""
    t = c.tokens(w.tokens)
    isl, osl = max(round(t.input), 1), max(round(t.generated), 1)
    means = tuple(Objective(o.metric, "mean", o.limit_s) for o in w.slo.objectives())
    label = c.label or f"{c.model} swarm"
    net = link(c.network, rtt_ms=c.rtt_ms, mbit_s=c.mbit_s)
    kw = dict(engine=c.engine, isl=isl, osl=osl, network=net, server_network=c.server_network, routing=c.routing,
              client=c.client, share=c.share, basis=c.basis)
    best, reasons = None, []
    for precision in c.precisions:
        try:
            base = estimate_swarm(c.model, _priced(c), precision=precision, concurrency=1, **kw)  # type: ignore[arg-type]
        except (DoesNotFitError, InputError) as e:
            reasons.append(f"{precision}: {e}")
            continue
        if base.usd_per_hour is None:
            raise InputError(f"{label}: {base.cost_note}")

        def at(n: int, precision: str = precision, base=base) -> tuple[float, float, float]:  # noqa: ANN001
            e = estimate_swarm(c.model, _priced(c), precision=precision, concurrency=n, **kw)  # type: ignore[arg-type]
            return base.ttft_s + 0.5 * e.batch_round_s, e.batch_round_s, e.batch_tokens_per_s

        got = _sized(w, means, osl, precision, base.ttft_s, base.decode_step_s, base.usd_per_hour,
                     base.max_sequences, at, sum(s.prefill_s for s in base.slices), reasons)
        if got is not None and (best is None or got[:2] < best[:2]):
            best = (*got, precision, base, at)
    if best is None:
        return _excluded_shared("swarm", label, t, "; ".join(reasons) or "no precision tried")
    _, _, sized, share, precision, base, at = best
    how = f"swarm {c.server_list()} {precision}"
    perf = f"{base.provenance}; {len(base.slices)} servers, {base.routing} over {base.network}, {base.client} client"
    return _shared_option(w, c, "swarm", label, how, sized, at, base.usd_per_hour,  # type: ignore[arg-type]
                          c.basis == "volunteer", base.servers, base.cost_note, perf, share, tasks_month)


def _sized(w: Workload, means: tuple[Objective, ...], osl: int, precision: str, ttft_s: float, tpot_s: float,
           usd_per_hour: float, c_max: int, at: Callable[[int], tuple[float, float, float] | None], prefill_s: float,
           reasons: list[str]) -> tuple[float, float, tuple[int, float, float, float], float] | None:
    """($/hour for the peak, -capacity, the sized point, the input share of time) of one precision,
    ordered so that the smallest is the cheapest and, at a tie, the faster; None (with the reason
    added) when even one sequence misses the SLO. ``ttft_s``/``tpot_s``: one sequence alone."""
    sized = _largest_within(means, osl, c_max, at)
    if sized is None:
        reasons.append(f"{precision}: misses the SLO even at one sequence (TTFT {ttft_s:.2f} s, TPOT {tpot_s:.2f} s)")
        return None
    cap = sized[3] / osl
    hourly = usd_per_hour * math.ceil(w.requests_per_s_peak / (cap * w.utilisation))
    share = prefill_s / (prefill_s + osl * sized[2] / sized[0])  # the prompt vs its tokens' share of time
    return hourly, -cap, sized, share


def _priced(c: SwarmCandidate) -> str | list[Server]:
    """The candidate's servers, every GPU's rent replaced by its ``usd_per_gpu_hour`` when given."""
    if c.usd_per_gpu_hour is None:
        return c.server_list()
    return [Server(s.gpu, c.share, None, c.usd_per_gpu_hour) for s in parse_servers(c.server_list())]


def _offload_option(w: Workload, c: OffloadCandidate, gpu: str, tasks_month: float) -> Option:
    """The cheapest precision of offloading ``c`` on one ``gpu``, sized for the workload's peak."""
    t = c.tokens(w.tokens)
    isl, osl = max(round(t.input), 1), max(round(t.generated), 1)
    means = tuple(Objective(o.metric, "mean", o.limit_s) for o in w.slo.objectives())
    label = c.label or f"{c.model} offload @ {gpu}"
    kw = dict(engine=c.engine, isl=isl, osl=osl, host_ram_gb=c.host_ram_gb, overlap=c.overlap, basis=c.basis,
              usd_per_gpu_hour=c.usd_per_gpu_hour, host_link_gb_s=c.host_link_gb_s)
    best, reasons = None, []
    for precision in c.precisions:
        try:
            base = estimate_offload(c.model, gpu, precision=precision, batch=1, **kw)  # type: ignore[arg-type]
        except (DoesNotFitError, InputError) as e:
            reasons.append(f"{precision}: {e}")
            continue

        def at(n: int, precision: str = precision, base=base) -> tuple[float, float, float] | None:  # noqa: ANN001
            try:
                e = estimate_offload(c.model, gpu, precision=precision, batch=n, **kw)  # type: ignore[arg-type]
            except DoesNotFitError:
                return None
            return base.ttft_s + 0.5 * e.batch_step_s, e.batch_step_s, e.batch_tokens_per_s

        c_max = estimate_offload(c.model, gpu, precision=precision, **kw).batch  # the most tokens/s  # type: ignore[arg-type]
        got = _sized(w, means, osl, precision, base.ttft_s, base.decode_step_s, base.usd_per_hour, c_max, at,
                     base.ttft_s, reasons)
        if got is not None and (best is None or got[:2] < best[:2]):
            best = (*got, precision, base, at)
    if best is None:
        return _excluded_shared("offload", label, t, "; ".join(reasons) or "no precision tried")
    _, _, sized, share, precision, base, at = best
    how = f"{gpu} + {c.host_ram_gb:g} GB RAM {precision}"
    return _shared_option(w, c, "offload", label, how, sized, at, base.usd_per_hour, False, 1,  # type: ignore[arg-type]
                          base.cost_note, str(base.provenance), share, tasks_month)
