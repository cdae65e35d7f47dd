"""Continuous batching in steady state: throughput, TTFT and TPOT of a deployment.

At a mean of C live sequences, every engine step decodes one token for each, and C/OSL
sequences finish and are replaced per step, so the step also prefills C·ISL/OSL prompt tokens
(chunked prefill mixed into decode steps). With t_iter that step's time (roofline module):

    output tokens/s = C / t_iter          TPOT ≈ t_iter          requests/s = C / (OSL · t_iter)

TTFT = request overhead + half a step (waiting for the running step) + the steps that prefill
the prompt in chunks of the token budget left beside the decoders. An offered rate λ is met at
the C that solves Little's law C = λ·E2E(C); beyond capacity (C_max / E2E(C_max)) the queue grows
without bound. Prompt tokens found in the prefix cache (``cached``) are not prefilled.

These are means of a steady state. Under load the queueing the steady state leaves out (admission
waits, several prompts sharing a step's budget, a benchmark's burst start) comes from the
discrete-event simulation (``simulate.py``): ``estimate(concurrency=...)`` and ``rate=...`` run
it and report its percentiles beside these figures. Left out here: speculative decoding.

``operating_point`` takes a ``Deployments`` batch as well as one deployment (and ``C``, ``cached``
as arrays): every figure is then an array over the batch (``truecost.plan``'s screen).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from ..arch import ModelArch
from ..checks import finite_numbers
from ..errors import DoesNotFitError, InputError
from ..hardware import GPU, PrecisionName
from ..provenance import Provenance
from .deployment import Deployment, Deployments, make_deployment
from .elementwise import ceil, is_array, maximum, minimum, where
from .engine import EngineProfile
from .memory import MemoryPlan, memory_plan
from .power import step_power
from .roofline import StepTime, causal_pairs, lm_head, step_time
from .simulate import Simulation, simulate
from .traffic import ClosedLoop, Fixed, Poisson

__all__ = ["Estimate", "OperatingPoint", "SingleRequest", "estimate", "make_deployment", "operating_point",
           "single_request"]

Mode = Literal["max_throughput", "concurrency", "rate", "batch"]


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    """Steady state at ``concurrency`` live sequences (each figure an array for a batch)."""

    concurrency: float
    step: StepTime
    ttft_s: float
    tpot_s: float
    e2e_s: float
    output_tokens_per_s: float
    requests_per_s: float


Dep = Deployment | Deployments


def _steady_step(dep: Dep, C: Any, isl: float, osl: float, cached: Any) -> StepTime:
    finishing = C / osl  # sequences replaced per step
    new = maximum(isl - cached, 1.0)  # prompt tokens computed: the prefix-cache hits are not
    return step_time(dep, decode_seqs=C, decode_context=isl + osl / 2, prefill_tokens=finishing * new,
                     prefill_attended=finishing * causal_pairs(new, isl - new), prefill_seqs=finishing,
                     prefill_chunk_tokens=minimum(new, dep.engine.max_num_tokens))


def _prefill_s(dep: Dep, others: Any, context: float, new: Any, cached: Any) -> Any:
    """Seconds to prefill ``new`` prompt tokens after ``cached`` ones, in n = ⌈new / budget⌉
    equal chunks of the token budget left beside ``others`` decoding sequences of mean
    ``context``.

    The n chunk steps differ only in what the chunk attends — chunk i attends the cache and the
    i chunks before it, a₀ + i·chunk² pairs — and in the LM head (the last chunk emits the first
    token). So their sum is n steps of the first chunk, plus the last chunk's logits, with the
    prefill-attention op summed exactly: its compute time cᵢ = c₀ + i·δ grows linearly in i and
    its KV write m is the same each time, so Σᵢ max(cᵢ, m) = k·m + Σ_{i≥k} cᵢ with k the chunks
    where the write is the longer."""
    budget = maximum(dep.engine.max_num_tokens - others, 1.0)
    n = ceil(new / budget)
    chunk = new / n
    pairs = causal_pairs(chunk, cached_tokens=cached)
    first = step_time(dep, others, context, chunk, pairs, 1.0)  # the first chunk, with the prompt's logits
    if not is_array(n) and n == 1:
        return first.total_s
    logits = lm_head(dep, others + 1.0).time_s - lm_head(dep, others).time_s  # the last chunk's only
    attn = first.ops["attention_prefill"]
    c0, m = attn.compute_s, attn.memory_s
    delta = c0 * chunk * chunk / pairs  # compute time per chunk-index step: linear in the pairs
    k = minimum(maximum(ceil((m - c0) / delta), 0), n)
    attention = k * m + (n - k) * c0 + delta * (n * (n - 1) / 2 - k * (k - 1) / 2)
    summed = n * (first.total_s - logits - attn.time_s) + attention + logits
    return where(n == 1, first.total_s, summed)


def operating_point(dep: Dep, C: Any, isl: float, osl: float, *, cached: Any = 0.0) -> OperatingPoint:
    """Steady state with ``C`` live sequences on average; ``cached`` prompt tokens of each
    request are prefix-cache hits. ``dep`` may be a ``Deployments`` batch (``C`` and
    ``cached`` then numbers or arrays over it)."""
    step = _steady_step(dep, C, isl, osl, cached)
    t_iter = step.total_s
    new = maximum(isl - cached, 1.0)
    ttft = dep.engine.request_overhead_s + 0.5 * t_iter + _prefill_s(dep, maximum(C - 1, 0.0), isl + osl / 2,
                                                                      new, isl - new)
    e2e = ttft + (osl - 1) * t_iter
    return OperatingPoint(C, step, ttft, t_iter, e2e, C / t_iter, C / (osl * t_iter))


@dataclass(frozen=True, slots=True)
class SingleRequest:
    """One request alone on an idle engine: what a simulation tends to as the rate goes to 0."""

    ttft_s: float  # request overhead + the chunked prefill of the prompt
    tpot_s: float | None  # mean of its OSL − 1 decode steps (None for one output token)
    e2e_s: float


def single_request(dep: Deployment, isl: int, osl: int, *, cached: int = 0) -> SingleRequest:
    """TTFT, TPOT and E2E of one request with nothing else running: no queue, no other prompt in
    its steps, its context growing by one token per decode step."""
    new = max(isl - cached, 1)
    ttft = dep.engine.request_overhead_s + _prefill_s(dep, 0.0, 0.0, new, isl - new)
    decode = math.fsum(step_time(dep, 1, isl + j).total_s for j in range(1, osl))
    return SingleRequest(ttft, decode / (osl - 1) if osl > 1 else None, ttft + decode)


def _at_rate(dep: Deployment, rate: float, isl: float, osl: float, c_max: int,
             cached: float = 0.0) -> OperatingPoint | None:
    """The operating point where C = rate · E2E(C), or None when ``rate`` exceeds capacity."""
    top = operating_point(dep, c_max, isl, osl, cached=cached)
    if rate * top.e2e_s > c_max:
        return None
    lo, hi = 1e-9, float(c_max)
    for _ in range(60):  # bisection: E2E grows with C, so rate·E2E(C) − C changes sign once
        mid = (lo + hi) / 2
        if rate * operating_point(dep, mid, isl, osl, cached=cached).e2e_s > mid:
            lo = mid
        else:
            hi = mid
    return operating_point(dep, hi, isl, osl, cached=cached)


@dataclass(frozen=True)
class Estimate:
    """Modelled serving performance of one replica. Times in seconds, bytes in bytes.

    Steady-state (analytic) figures: ``ttft_s``, ``tpot_s``, ``e2e_s`` are means;
    ``output_tokens_per_s`` and ``requests_per_s`` the throughput at the operating point.
    ``simulation`` (with ``concurrency`` or ``rate``) is the discrete-event run of that load: its
    percentiles include the queueing the steady state leaves out. ``decode_step_s`` is one decode
    step at the operating point (or of ``batch`` sequences of ``context`` tokens); ``prefill_s``
    one prefill of an ISL-token prompt alone (or of ``batch`` prompts of ``context`` tokens).
    With ``batch``/``context`` only what those define is set: the rest is None.
    ``usd_per_mtok_output`` is all-in: the replica's rent over the output tokens it produces."""

    model: str
    gpu: str
    gpus: int
    precision: str
    engine: str
    isl: int | None
    osl: int | None
    mode: Mode
    weights_bytes: float
    weights_bytes_per_gpu: float
    kv_bytes_per_token: float
    kv_pool_bytes_per_gpu: float
    max_concurrency: int | None
    concurrency: float | None
    prefill_s: float
    decode_step_s: float
    decode_step_s_lower: float
    decode_step_s_upper: float
    ttft_s: float | None
    tpot_s: float | None
    e2e_s: float | None
    output_tokens_per_s: float
    output_tokens_per_s_lower: float
    output_tokens_per_s_upper: float
    requests_per_s: float | None
    binding: str
    prefill_time_share: float | None  # share of the step spent on prompt tokens (to split $ in vs out)
    breakdown_s: dict[str, float]
    usd_per_gpu_hour: float | None
    usd_per_mtok_output: float | None
    cached_input_fraction: float
    provenance: Provenance
    simulation: Simulation | None = field(default=None, repr=False)
    notes: list[str] = field(default_factory=list)
    context: int | None = None  # --batch/--context mode: tokens each sequence holds
    # Modelled board power of the replica at the operating point (perf/power.py), its idle
    # floor, and the energy per output token (prompt processing included).
    # None where the GPU has no published TDP.
    power_w: float | None = None
    idle_power_w: float | None = None
    energy_j_per_output_token: float | None = None
    layout: str = ""  # "8x h200 tp1 dp8 ep8" (GPUs and their parallel layout)

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["breakdown_s"] = dict(self.breakdown_s)
        d["notes"] = list(self.notes)
        d["provenance"] = str(self.provenance)
        d["simulation"] = self.simulation.summary() if self.simulation else None
        return d


def _prefill_share(step: StepTime) -> float:
    """Share of a step's time due to prompt tokens: their share of the token-parallel ops
    (linear layers, experts, collectives) plus prefill attention. Used to split $ between input and output."""
    tokens = step.decode_seqs + step.prefill_tokens
    if tokens == 0:
        return 0.0
    frac = step.prefill_tokens / tokens
    by_op = step.breakdown()
    prefill = frac * (by_op.get("linear", 0) + by_op.get("experts", 0) + by_op.get("collectives", 0))
    prefill += by_op.get("attention_prefill", 0)
    return prefill / step.total_s


def _provenance(dep: Deployment) -> Provenance:
    e = dep.engine
    cal = e.calibration or "uncalibrated engine defaults"
    return Provenance("modelled", f"roofline+continuous batching; engine '{e.key}' ({cal}); "
                      f"gpu {dep.gpu.source}@{dep.gpu.retrieved}; model {dep.model.source}@{dep.model.retrieved}")


def _check(isl: int, osl: int, concurrency: int | None, rate: float | None, batch: int | None,
           context: int | None, requests: int | None, cached_input_fraction: float) -> None:
    for name, v in (("isl", isl), ("osl", osl)):
        if v < 1:
            raise InputError(f"--{name} must be at least 1 token, got {v}")
    if sum(x is not None for x in (concurrency, rate)) > 1:
        raise InputError("give at most one of --concurrency and --rate")
    if (batch is None) != (context is None):
        raise InputError("--batch and --context go together: one decode step of B sequences of L tokens")
    if batch is not None and (concurrency is not None or rate is not None):
        raise InputError("--batch/--context price one step; they exclude --concurrency and --rate")
    if concurrency is not None and concurrency < 1:
        raise InputError(f"--concurrency must be at least 1, got {concurrency}")
    if rate is not None and not (rate > 0 and math.isfinite(rate)):
        raise InputError(f"--rate must be > 0 requests/s, got {rate}")
    if requests is not None and requests < 1:
        raise InputError(f"--requests must be at least 1, got {requests}")
    if not 0 <= cached_input_fraction <= 1:
        raise InputError(f"--cached-input-fraction must be within [0, 1], got {cached_input_fraction}")


def estimate(model: str | ModelArch, gpu: str | GPU, *, precision: PrecisionName | str = "bf16", tp: int = 1,
             isl: int = 1000, osl: int = 1000, concurrency: int | None = None, rate: float | None = None,
             batch: int | None = None, context: int | None = None, engine: str | EngineProfile = "tuned",
             kv_dtype: str | None = None, cached_input_fraction: float = 0.0, requests: int | None = None,
             warmup: int = 0, seed: int = 0, dp: int = 1, ep: int = 1) -> Estimate:
    """Modelled throughput and latency of ``model`` on ``tp`` GPUs of type ``gpu``.

    Operating point: ``concurrency`` live sequences (closed loop), an offered ``rate`` in
    requests/s (Poisson, open loop), or — by default — the most sequences that fit (max
    throughput). With ``concurrency`` or ``rate`` a discrete-event simulation of ``requests``
    requests (default: 1,000, at least 10 per client) runs that load with ``seed`` and its
    percentiles (without the first ``warmup`` requests sent) are in ``simulation``. ``batch`` and ``context`` price one decode step of
    ``batch`` sequences holding ``context`` tokens each, and one prefill of ``batch`` prompts of
    ``context`` tokens. ``cached_input_fraction`` of each prompt is a prefix-cache hit (engines
    that cache prefixes skip its prefill).

        >>> e = estimate("llama-3.1-8b", "h100-sxm", precision="fp8", concurrency=64)
        >>> e.ttft_s, e.simulation.ttft.p95  # doctest: +SKIP
    """
    _check(isl, osl, concurrency, rate, batch, context, requests, cached_input_fraction)
    dep = make_deployment(model, gpu, precision, tp, engine, kv_dtype, dp=dp, ep=ep)
    if batch is not None and context is not None:
        return _batch_estimate(dep, batch, context)
    if isl + osl > dep.model.max_context:
        raise InputError(f"isl+osl = {isl + osl} exceeds {dep.model.key}'s context of {dep.model.max_context} tokens")
    plan: MemoryPlan = memory_plan(dep, isl, osl)
    hit = cached_input_fraction if dep.engine.prefix_caching else 0.0
    cached = math.floor(isl * hit)
    notes: list[str] = []
    if cached_input_fraction and not dep.engine.prefix_caching:
        notes.append(f"engine '{dep.engine.key}' does not cache prefixes: cached input is prefilled again")
    sim = None
    if concurrency is not None:
        mode: Mode = "concurrency"
        C = float(concurrency)
        if concurrency > plan.max_concurrency:
            notes.append(f"concurrency {concurrency} exceeds the {plan.max_concurrency} sequences that fit "
                         f"({plan.limited_by}); in the steady state the rest wait, in the simulation they queue")
            C = float(plan.max_concurrency)
        op = operating_point(dep, C, isl, osl, cached=cached)
        n = requests or max(1000, 10 * concurrency)
        sim = simulate(dep, ClosedLoop(concurrency), Fixed(isl, osl), requests=n, seed=seed,
                       prefix_hit_fraction=hit, warmup=warmup)
    elif rate is not None:
        mode = "rate"
        at_rate = _at_rate(dep, rate, isl, osl, plan.max_concurrency, cached)
        if at_rate is None:
            op = operating_point(dep, plan.max_concurrency, isl, osl, cached=cached)
            notes.append(f"saturated: offered {rate:g} req/s exceeds capacity {op.requests_per_s:.3g} req/s; "
                         "the queue grows without bound, so steady-state TTFT/E2E are undefined")
        else:
            op = at_rate
        sim = simulate(dep, Poisson(rate), Fixed(isl, osl), requests=requests or 1000, seed=seed,
                       prefix_hit_fraction=hit, warmup=warmup)
    else:
        mode = "max_throughput"
        op = operating_point(dep, plan.max_concurrency, isl, osl, cached=cached)
    saturated = any(n.startswith("saturated") for n in notes)
    if sim is not None:
        notes.extend(sim.notes)

    step = op.step
    prefill = step_time(dep, 0, 0, isl - cached, causal_pairs(isl - cached, cached), 1)
    out_tps, rps = op.output_tokens_per_s, op.requests_per_s
    if mode == "rate" and not saturated:  # below capacity, the deployment serves what is offered
        rps, out_tps = float(rate), float(rate) * osl  # type: ignore[arg-type]
    tps_paid = sim.output_tokens_per_s if sim is not None else out_tps
    draw = step_power(dep, step)
    return Estimate(
        model=dep.model.key, gpu=dep.gpu.key, gpus=dep.gpus, precision=str(dep.precision),
        engine=dep.engine.key, isl=isl, osl=osl, mode=mode,
        weights_bytes=dep.weights_bytes, weights_bytes_per_gpu=dep.weights_bytes_per_gpu,
        kv_bytes_per_token=dep.model.kv_bytes_per_token(dep.precision.kv_bytes),
        kv_pool_bytes_per_gpu=plan.kv_pool_bytes, max_concurrency=plan.max_concurrency, concurrency=op.concurrency,
        prefill_s=prefill.total_s, decode_step_s=step.total_s, decode_step_s_lower=step.lower_s,
        decode_step_s_upper=step.upper_s,
        ttft_s=None if saturated else op.ttft_s, tpot_s=op.tpot_s, e2e_s=None if saturated else op.e2e_s,
        output_tokens_per_s=out_tps,
        output_tokens_per_s_lower=op.concurrency / op.step.upper_s,
        output_tokens_per_s_upper=op.concurrency / op.step.lower_s,
        requests_per_s=rps,
        binding=("kv_capacity" if mode == "max_throughput" and plan.limited_by == "kv_capacity"
                 else step.binding),
        prefill_time_share=_prefill_share(op.step), breakdown_s=step.breakdown(),
        usd_per_gpu_hour=dep.gpu.usd_per_gpu_hour, usd_per_mtok_output=_usd_per_mtok(dep, tps_paid),
        cached_input_fraction=hit, provenance=_provenance(dep), simulation=sim, notes=notes,
        **_power_fields(dep, draw, out_tps),
    )


# Applied by assignment, not as ``@``: mutmut skips decorated functions (mutation/README.md).
estimate = finite_numbers()(estimate)


def _usd_per_mtok(dep: Deployment, output_tokens_per_s: float) -> float | None:
    """The replica's catalog rent over its output tokens/s, per million tokens (None without a
    published rent)."""
    if dep.gpu.usd_per_gpu_hour is None or not output_tokens_per_s > 0:
        return None
    return dep.gpu.usd_per_gpu_hour * dep.gpus / 3600 / output_tokens_per_s * 1e6


def _power_fields(dep: Deployment, draw, output_tokens_per_s: float) -> dict[str, Any]:  # noqa: ANN001
    return {"power_w": None if draw is None else draw.watts,
            "idle_power_w": None if draw is None else draw.idle_watts,
            "energy_j_per_output_token": None if draw is None else draw.joules_per_token(output_tokens_per_s),
            "layout": dep.layout}


def _batch_estimate(dep: Deployment, batch: int, context: int) -> Estimate:
    """One decode step of ``batch`` sequences at ``context`` tokens, and one prefill of ``batch``
    prompts of ``context`` tokens: only what those define (no ISL/OSL, no operating point)."""
    if batch < 1 or context < 1:
        raise InputError("--batch and --context must be at least 1")
    if context > dep.model.max_context:
        raise InputError(f"--context {context:,} exceeds {dep.model.key}'s context of "
                         f"{dep.model.max_context:,} tokens")
    step = step_time(dep, batch, context)
    prefill = step_time(dep, 0, 0, batch * context, batch * causal_pairs(context), batch)
    reserve = dep.engine.runtime_reserve_gib * 2**30
    pool = max(dep.gpu.memory_bytes - dep.weights_bytes_per_gpu - reserve, 0.0) * dep.engine.kv_memory_fraction
    notes: list[str] = []
    per_seq = dep.kv_bytes_per_gpu(context)
    need = math.ceil(batch / dep.dp) * per_seq  # each attention-DP group holds its share
    if need > pool:
        fit = int(pool // per_seq) * dep.dp
        raise DoesNotFitError(f"{batch:,} sequences of {context:,} tokens do not fit on {dep.layout}: their KV "
                              f"cache needs {need / 1e9:,.1f} GB per GPU, the KV pool has {pool / 1e9:,.1f} GB "
                              f"({fit:,} such sequences fit); lower --batch or --context")
    tps = batch / step.total_s
    return Estimate(
        model=dep.model.key, gpu=dep.gpu.key, gpus=dep.gpus, precision=str(dep.precision), engine=dep.engine.key,
        isl=None, osl=None, mode="batch", weights_bytes=dep.weights_bytes,
        weights_bytes_per_gpu=dep.weights_bytes_per_gpu,
        kv_bytes_per_token=dep.model.kv_bytes_per_token(dep.precision.kv_bytes), kv_pool_bytes_per_gpu=pool,
        max_concurrency=None, concurrency=float(batch), prefill_s=prefill.total_s, decode_step_s=step.total_s,
        decode_step_s_lower=step.lower_s, decode_step_s_upper=step.upper_s, ttft_s=None, tpot_s=None, e2e_s=None,
        output_tokens_per_s=tps, output_tokens_per_s_lower=batch / step.upper_s,
        output_tokens_per_s_upper=batch / step.lower_s, requests_per_s=None, binding=step.binding,
        prefill_time_share=None, breakdown_s=step.breakdown(), usd_per_gpu_hour=dep.gpu.usd_per_gpu_hour,
        usd_per_mtok_output=_usd_per_mtok(dep, tps), cached_input_fraction=0.0,
        provenance=_provenance(dep), notes=notes, context=context, **_power_fields(dep, step_power(dep, step), tps),
    )
