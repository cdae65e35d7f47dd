"""Continuous batching in steady state: throughput, TTFT and TPOT of a deployment.

At a mean of C live sequences, every engine step decodes one token for each, and C/OSL
sequences finish and are replaced per step, so the step also prefills C·ISL/OSL prompt tokens
(chunked prefill mixed into decode steps). With t_iter that step's time (roofline module):

    output tokens/s = C / t_iter          TPOT ≈ t_iter          requests/s = C / (OSL · t_iter)

TTFT = request overhead + half a step (waiting for the running step) + the steps that prefill
the prompt in chunks of the token budget left beside the decoders. An offered rate λ is met at
the C that solves Little's law C = λ·E2E(C); beyond capacity (C_max / E2E(C_max)) the queue grows
without bound. Left out: queueing delay below saturation, prefix caching, speculative decoding.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .. import catalog
from ..arch import ModelArch
from ..checks import choice, finite_numbers
from ..errors import DoesNotFitError, InputError
from ..hardware import BYTES_PER_ELEM, GPU, Precision, PrecisionName
from ..provenance import Provenance
from .deployment import Deployment
from .engine import EngineProfile, engine as find_engine
from .memory import MemoryPlan, memory_plan
from .roofline import StepTime, causal_pairs, step_time

__all__ = ["Estimate", "OperatingPoint", "estimate", "operating_point"]

Mode = Literal["max_throughput", "concurrency", "rate", "batch"]


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    concurrency: float
    step: StepTime
    ttft_s: float
    tpot_s: float
    e2e_s: float
    output_tokens_per_s: float
    requests_per_s: float


def _steady_step(dep: Deployment, C: float, isl: float, osl: float) -> StepTime:
    finishing = C / osl  # sequences replaced per step
    return step_time(dep, decode_seqs=C, decode_context=isl + osl / 2, prefill_tokens=finishing * isl,
                     prefill_attended=finishing * causal_pairs(isl), prefill_seqs=finishing)


def _ttft(dep: Deployment, C: float, isl: float, osl: float, t_iter: float) -> float:
    others = max(C - 1, 0.0)
    budget = max(dep.engine.max_num_tokens - others, 1.0)
    chunks = math.ceil(isl / budget)
    chunk = isl / chunks
    t = 0.0
    for i in range(chunks):
        attended = causal_pairs(chunk, cached_tokens=i * chunk)
        t += step_time(dep, others, isl + osl / 2, chunk, attended, 1.0 if i == chunks - 1 else 0.0).total_s
    return dep.engine.request_overhead_s + 0.5 * t_iter + t


def operating_point(dep: Deployment, C: float, isl: float, osl: float) -> OperatingPoint:
    """Steady state with ``C`` live sequences on average."""
    step = _steady_step(dep, C, isl, osl)
    t_iter = step.total_s
    ttft = _ttft(dep, C, isl, osl, t_iter)
    e2e = ttft + (osl - 1) * t_iter
    return OperatingPoint(C, step, ttft, t_iter, e2e, C / t_iter, C / (osl * t_iter))


def _at_rate(dep: Deployment, rate: float, isl: float, osl: float, c_max: int) -> OperatingPoint | None:
    """The operating point where C = rate · E2E(C), or None when ``rate`` exceeds capacity."""
    top = operating_point(dep, c_max, isl, osl)
    if rate * top.e2e_s > c_max:
        return None
    lo, hi = 1e-9, float(c_max)
    for _ in range(60):  # bisection: E2E grows with C, so rate·E2E(C) − C changes sign once
        mid = (lo + hi) / 2
        if rate * operating_point(dep, mid, isl, osl).e2e_s > mid:
            lo = mid
        else:
            hi = mid
    return operating_point(dep, hi, isl, osl)


@dataclass(frozen=True)
class Estimate:
    """Modelled serving performance of one replica. Times in seconds, bytes in bytes.

    ``decode_step_s`` is one decode step at the operating point (or of ``batch`` sequences of
    ``context`` tokens); ``prefill_s`` one prefill of an ISL-token prompt alone (or of ``batch``
    prompts of ``context`` tokens). ``binding`` names the resource that dominates the step."""

    model: str
    gpu: str
    gpus: int
    precision: str
    engine: str
    isl: int
    osl: int
    mode: Mode
    weights_bytes: float
    weights_bytes_per_gpu: float
    kv_bytes_per_token: float
    kv_pool_bytes_per_gpu: float
    max_concurrency: int
    concurrency: float
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
    requests_per_s: float
    binding: str
    prefill_time_share: float  # share of the step spent on prompt tokens (to split $ in vs out)
    breakdown_s: dict[str, float]
    provenance: Provenance
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["provenance"] = str(self.provenance)
        return d


def _prefill_share(step: StepTime) -> float:
    """Share of a step's time due to prompt tokens: their share of the token-parallel ops
    (linear layers, experts) plus prefill attention. Used to split $ between input and output."""
    tokens = step.decode_seqs + step.prefill_tokens
    if tokens == 0:
        return 0.0
    frac = step.prefill_tokens / tokens
    by_op = step.breakdown()
    prefill = frac * (by_op.get("linear", 0) + by_op.get("experts", 0) + by_op.get("tp_allreduce", 0))
    prefill += by_op.get("attention_prefill", 0)
    return prefill / step.total_s


def _provenance(dep: Deployment) -> Provenance:
    e = dep.engine
    cal = e.calibration or "uncalibrated engine defaults"
    return Provenance("modelled", f"roofline+continuous batching; engine '{e.key}' ({cal}); "
                      f"gpu {dep.gpu.source}@{dep.gpu.retrieved}; model {dep.model.source}@{dep.model.retrieved}")


def _check_batch_fits(dep: Deployment, plan: MemoryPlan, batch: int, context: int) -> None:
    """``batch`` sequences of ``context`` tokens must fit the model's context and the KV pool."""
    if context > dep.model.max_context:
        raise InputError(f"--context {context:,} exceeds {dep.model.key}'s context of "
                         f"{dep.model.max_context:,} tokens")
    need = batch * dep.kv_bytes_per_gpu(context)
    if need > plan.kv_pool_bytes:
        fit = int(plan.kv_pool_bytes // dep.kv_bytes_per_gpu(context))
        raise DoesNotFitError(f"{batch:,} sequences of {context:,} tokens do not fit on {dep.tp}x "
                              f"{dep.gpu.key}: their KV cache needs {need / 1e9:,.1f} GB per GPU, "
                              f"the KV pool has {plan.kv_pool_bytes / 1e9:,.1f} GB "
                              f"({fit:,} such sequences fit); lower --batch or --context")


def make_deployment(model: str | ModelArch, gpu: str | GPU, precision: PrecisionName | str = "bf16",
                    tp: int = 1, engine: str | EngineProfile = "tuned", kv_dtype: str | None = None) -> Deployment:
    g = catalog.gpu(gpu)
    precision = choice(precision, [p.value for p in PrecisionName], "precision")
    if kv_dtype is not None:
        kv_dtype = choice(kv_dtype, [d for d in BYTES_PER_ELEM if d not in ("tf32", "mxfp4")],
                          "KV-cache dtype")
    prec = Precision.named(precision, g, kv=kv_dtype)
    return Deployment(catalog.model(model), g, prec, tp, find_engine(engine))


@finite_numbers()
def estimate(model: str | ModelArch, gpu: str | GPU, *, precision: PrecisionName | str = "bf16", tp: int = 1,
             isl: int = 1000, osl: int = 1000, concurrency: int | None = None, rate: float | None = None,
             batch: int | None = None, context: int | None = None, engine: str | EngineProfile = "tuned",
             kv_dtype: str | None = None) -> Estimate:
    """Modelled throughput and latency of ``model`` on ``tp`` GPUs of type ``gpu``.

    Operating point: ``concurrency`` live sequences (closed loop), an offered ``rate`` in
    requests/s (open loop), or — by default — the most sequences that fit (max throughput).
    ``batch`` and ``context`` price one decode step of ``batch`` sequences holding ``context``
    tokens each, and one prefill of ``batch`` prompts of ``context`` tokens.

        >>> e = estimate("llama-3.1-8b", "h100-sxm", precision="fp8", isl=1000, osl=1000)
        >>> e.binding, round(e.output_tokens_per_s, -3)  # doctest: +SKIP
    """
    for name, v in (("isl", isl), ("osl", osl)):
        if v < 1:
            raise InputError(f"--{name} must be at least 1 token, got {v}")
    if sum(x is not None for x in (concurrency, rate)) > 1:
        raise InputError("give at most one of --concurrency and --rate")
    if (batch is None) != (context is None):
        raise InputError("--batch and --context go together: one decode step of B sequences of L tokens")
    dep = make_deployment(model, gpu, precision, tp, engine, kv_dtype)
    if isl + osl > dep.model.max_context:
        raise InputError(f"isl+osl = {isl + osl} exceeds {dep.model.key}'s context of {dep.model.max_context} tokens")
    plan: MemoryPlan = memory_plan(dep, isl, osl)
    notes: list[str] = []
    if concurrency is not None:
        if concurrency < 1:
            raise InputError(f"--concurrency must be at least 1, got {concurrency}")
        mode: Mode = "concurrency"
        C = float(concurrency)
        if concurrency > plan.max_concurrency:
            notes.append(f"concurrency {concurrency} exceeds the {plan.max_concurrency} sequences that fit "
                         f"({plan.limited_by}); the rest wait in the queue")
            C = float(plan.max_concurrency)
        op = operating_point(dep, C, isl, osl)
    elif rate is not None:
        if rate <= 0:
            raise InputError(f"--rate must be > 0 requests/s, got {rate}")
        mode = "rate"
        op = _at_rate(dep, rate, isl, osl, plan.max_concurrency)
        if op is None:
            op = operating_point(dep, plan.max_concurrency, isl, osl)
            notes.append(f"saturated: offered {rate:g} req/s exceeds capacity {op.requests_per_s:.3g} req/s; "
                         "the queue grows without bound, so TTFT/E2E are undefined")
    else:
        mode = "max_throughput"
        op = operating_point(dep, plan.max_concurrency, isl, osl)
    saturated = any(n.startswith("saturated") for n in notes)

    step = op.step
    prefill = step_time(dep, 0, 0, isl, causal_pairs(isl), 1)
    if batch is not None and context is not None:
        mode = "batch"
        if batch < 1 or context < 1:
            raise InputError("--batch and --context must be at least 1")
        _check_batch_fits(dep, plan, batch, context)
        step = step_time(dep, batch, context)
        prefill = step_time(dep, 0, 0, batch * context, batch * causal_pairs(context), batch)

    C = op.concurrency
    out_tps, rps = op.output_tokens_per_s, op.requests_per_s
    if mode == "rate" and not saturated:  # below capacity, the deployment serves what is offered
        rps, out_tps = float(rate), float(rate) * osl  # type: ignore[arg-type]
    return Estimate(
        model=dep.model.key, gpu=dep.gpu.key, gpus=dep.tp, precision=str(dep.precision),
        engine=dep.engine.key, isl=isl, osl=osl, mode=mode,
        weights_bytes=dep.weights_bytes, weights_bytes_per_gpu=dep.weights_bytes_per_gpu,
        kv_bytes_per_token=dep.model.kv_bytes_per_token(dep.precision.kv_bytes),
        kv_pool_bytes_per_gpu=plan.kv_pool_bytes, max_concurrency=plan.max_concurrency, concurrency=C,
        prefill_s=prefill.total_s, decode_step_s=step.total_s, decode_step_s_lower=step.lower_s,
        decode_step_s_upper=step.upper_s,
        ttft_s=None if saturated else op.ttft_s, tpot_s=op.tpot_s, e2e_s=None if saturated else op.e2e_s,
        output_tokens_per_s=out_tps,
        output_tokens_per_s_lower=C / op.step.upper_s, output_tokens_per_s_upper=C / op.step.lower_s,
        requests_per_s=rps,
        binding=("kv_capacity" if mode == "max_throughput" and plan.limited_by == "kv_capacity"
                 else step.binding),
        prefill_time_share=_prefill_share(op.step),
        breakdown_s=step.breakdown(), provenance=_provenance(dep), notes=notes,
    )
