"""Compare the ways of serving a workload: API offers and self-hosted open models, ranked by cost
per task, each sized for the workload's peak rate and checked against its SLO and quality bar.

Self-hosted sizing searches GPU type × precision × tensor parallelism. For each configuration it
finds the most live sequences at which the modelled TTFT and TPOT still meet the SLO, takes that
operating point's request rate as one replica's capacity, and runs ``ceil(peak / (capacity ×
utilisation))`` replicas around the clock (sized for the peak hour, paid every hour). The
cheapest configuration per GPU type is reported. Left out: autoscaling between peak and trough,
prefix caching on self-hosted engines (conservative: cached input is recomputed), API latency
(not in any price catalog: measure it with ``truecost bench``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from .cost import HOURS_PER_MONTH, deployment_cost, usd_per_correct_answer
from .errors import DoesNotFitError, InputError
from .hardware import GPU
from .perf.memory import memory_plan
from .perf.serving import OperatingPoint, estimate, make_deployment, operating_point
from .prices import Offer, load_offers, offer
from .workload import ApiCandidate, SelfHostedCandidate, Tokens, Workload, load_workload

__all__ = ["Comparison", "Option", "compare"]

DAYS_PER_MONTH = HOURS_PER_MONTH / 24


@dataclass(frozen=True)
class Option:
    """One way of serving the workload, with what it costs and where each figure came from."""

    label: str
    kind: Literal["api", "self-hosted"]
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


@dataclass(frozen=True)
class Comparison:
    workload: str
    tasks_per_month: float
    peak_requests_per_s: float
    options: list[Option]  # ranked by $/task, excluded ones last
    assumptions: list[str] = field(default_factory=list)

    @property
    def ranked(self) -> list[Option]:
        return [o for o in self.options if o.excluded is None]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare(workload: Workload | Path | str) -> Comparison:
    """Rank every candidate of ``workload`` (a ``Workload`` or a TOML path) by cost per task.

        >>> c = compare("examples/chat-assistant.toml")  # doctest: +SKIP
        >>> c.ranked[0].label, c.ranked[0].usd_per_task  # doctest: +SKIP
    """
    w = workload if isinstance(workload, Workload) else load_workload(workload)
    extra = load_offers(w.offers_file) if w.offers_file else {}
    tasks_month = w.tasks_per_day * DAYS_PER_MONTH
    options = [_api_option(w, c, extra, tasks_month) for c in w.api]
    for c in w.self_hosted:
        options.extend(_self_hosted_options(w, c, tasks_month))
    options = [_apply_quality_bar(w, o) for o in options]
    options.sort(key=lambda o: (o.excluded is not None, o.usd_per_task))
    assumptions = [
        f"traffic: {w.tasks_per_day:,.0f} tasks/day x {w.requests_per_task:g} requests, "
        f"peak hour {w.peak_to_mean:g}x the mean = {w.requests_per_s_peak:.3g} requests/s",
        f"self-hosted: replicas sized for the peak at {w.utilisation:.0%} utilisation, up 730 h/month; "
        "no prefix caching",
        "API latency is not modelled (measure it with `truecost bench`)",
    ]
    return Comparison(w.name, tasks_month, w.requests_per_s_peak, options, assumptions)


def _apply_quality_bar(w: Workload, o: Option) -> Option:
    if o.excluded or w.min_accuracy is None or o.accuracy is None or o.accuracy >= w.min_accuracy:
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
    tok_src = "input: workload" + (", per-model token override" if c.output_tokens or c.reasoning_tokens else "")
    return Option(
        label=c.label or o.key, kind="api", how="API" + (" batch" if c.batch else ""),
        usd_per_request=per_req, usd_per_task=per_task, usd_per_month=per_task * tasks_month,
        usd_per_correct_answer=_per_correct(per_task, c.accuracy),
        usd_per_mtok_input=o.usd_per_mtok_input, usd_per_mtok_output=o.usd_per_mtok_output,
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


def _slo_operating_point(dep, w: Workload, isl: float, osl: float, c_max: int) -> OperatingPoint | None:  # noqa: ANN001
    """The operating point with the most live sequences at which the modelled TTFT and TPOT meet
    the SLO (None if even one sequence misses it). Both grow with concurrency, so bisection finds
    the edge."""

    def within(c: int) -> OperatingPoint | None:
        op = operating_point(dep, c, isl, osl)
        meets = ((w.slo.ttft_s is None or op.ttft_s <= w.slo.ttft_s)
                 and (w.slo.tpot_s is None or op.tpot_s <= w.slo.tpot_s))
        return op if meets else None

    best = within(1)
    if best is None:
        return None
    top = within(c_max)
    if top is not None:
        return top
    lo, hi = 1, c_max
    while hi - lo > 1:
        mid = (lo + hi) // 2
        op = within(mid)
        if op is not None:
            lo, best = mid, op
        else:
            hi = mid
    return best


def _self_hosted_options(w: Workload, c: SelfHostedCandidate, tasks_month: float) -> list[Option]:
    t = c.tokens(w.tokens)
    isl, osl = max(round(t.input), 1), max(round(t.generated), 1)
    out = []
    for gpu in c.gpus:
        best: _Sized | None = None
        reasons: list[str] = []
        for precision in c.precisions:
            for tp in (1, 2, 4, 8):
                if tp > c.max_tp:
                    continue
                try:
                    dep = make_deployment(c.model, gpu, precision, tp, c.engine)
                    plan = memory_plan(dep, isl, osl)
                except (DoesNotFitError, InputError) as e:
                    reasons.append(str(e))
                    continue
                op = _slo_operating_point(dep, w, isl, osl, plan.max_concurrency)
                if op is None:
                    reasons.append(f"{tp}x {dep.gpu.key} {precision}: misses the SLO even at one request")
                    continue
                cap = op.requests_per_s
                replicas = math.ceil(w.requests_per_s_peak / (cap * w.utilisation))
                hourly = deployment_cost(dep.gpu, tp * replicas, c.basis, usd_per_gpu_hour=c.usd_per_gpu_hour,
                                         ownership=c.ownership)
                sized = _Sized(dep.gpu.key, dep.gpu, precision, tp, replicas, cap, hourly.usd_per_hour,
                               str(hourly.provenance))
                if best is None or sized.usd_per_hour < best.usd_per_hour:
                    best = sized
        label = c.label or c.model
        if best is None:
            why = reasons[-1] if reasons else "no configuration tried"
            out.append(_excluded_self_hosted(label, gpu, t, why))
            continue
        out.append(_self_hosted_option(w, c, label, best, t, isl, osl, tasks_month))
    return out


def _self_hosted_option(w: Workload, c: SelfHostedCandidate, label: str, s: _Sized, t: Tokens,
                        isl: int, osl: int, tasks_month: float) -> Option:
    per_replica_rate = w.requests_per_s_peak / s.replicas
    est = estimate(c.model, s.spec, precision=s.precision, tp=s.tp, isl=isl, osl=osl, rate=per_replica_rate,
                   engine=c.engine)
    monthly = s.usd_per_hour * HOURS_PER_MONTH
    per_task = monthly / tasks_month
    per_req = per_task / w.requests_per_task
    requests_month = tasks_month * w.requests_per_task
    share = est.prefill_time_share
    mtok_in = monthly * share / (requests_month * t.input) * 1e6 if t.input else None
    mtok_out = monthly * (1 - share) / (requests_month * t.generated) * 1e6 if t.generated else None
    how = f"{s.replicas} x ({s.tp}x {s.gpu} {s.precision})"
    return Option(
        label=f"{label} @ {s.gpu}", kind="self-hosted", how=how, usd_per_request=per_req,
        usd_per_task=per_task, usd_per_month=monthly, usd_per_correct_answer=_per_correct(per_task, c.accuracy),
        usd_per_mtok_input=mtok_in, usd_per_mtok_output=mtok_out, gpus=s.tp * s.replicas,
        ttft_s=est.ttft_s, tpot_s=est.tpot_s, accuracy=c.accuracy, tokens=_tokens_dict(t),
        replicas=s.replicas, gpus_per_replica=s.tp, capacity_requests_per_s=s.capacity_rps,
        usd_per_replica_hour=s.usd_per_hour / s.replicas,
        provenance={"price": s.price_provenance,
                    "perf": f"{est.provenance}; capacity {s.capacity_rps:.3g} req/s per replica within the SLO",
                    **({"accuracy": c.accuracy_source or "input: workload"} if c.accuracy is not None else {})},
    )


def _excluded_self_hosted(label: str, gpu: str, t: Tokens, why: str) -> Option:
    return Option(label=f"{label} @ {gpu}", kind="self-hosted", how="-", usd_per_request=math.inf,
                  usd_per_task=math.inf, usd_per_month=math.inf, usd_per_correct_answer=None,
                  usd_per_mtok_input=None, usd_per_mtok_output=None, gpus=None, ttft_s=None, tpot_s=None,
                  accuracy=None, tokens=_tokens_dict(t), provenance={}, excluded=why)
