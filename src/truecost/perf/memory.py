"""GPU memory of a deployment: weights, runtime reserve, KV cache, and how many sequences fit.

    kv_pool = kv_memory_fraction × (GPU memory − weights shard − runtime reserve)
    max_concurrency = dp × min(max_batch_size, kv_pool / KV bytes of one admitted sequence)

(each of the ``dp`` attention-DP groups holds the KV of its own sequences and schedules its own
batch).

A sequence is admitted for its full ISL+OSL (``kv_admission = "max_length"``, no eviction) or for
its mean live context ISL+OSL/2 (``"average"``, paged KV with preemption). That KV cap alone
explains much of the measured throughput gap between models and GPUs.

``memory_plans`` is the same arithmetic over a ``Deployments`` batch (arrays, one element per
configuration; a configuration that does not fit has ``kv_capacity_sequences`` 0 instead of an
error).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..errors import DoesNotFitError
from ..hardware import Precision
from .deployment import Deployment, Deployments
from .elementwise import floor, maximum, minimum, where

__all__ = ["MemoryPlan", "memory_plan", "memory_plans"]

GB = 1e9


@dataclass(frozen=True, slots=True)
class MemoryPlan:
    """Bytes per GPU (each an array over configurations for a batch)."""

    gpu_bytes: float
    weights_bytes: float
    reserve_bytes: float
    kv_pool_bytes: float
    kv_bytes_per_sequence: float  # at the admission context
    admission_context: float
    kv_capacity_sequences: int  # how many sequences the KV pool holds
    max_concurrency: int
    limited_by: Literal["kv_capacity", "max_batch_size"]


def admission_context(dep: Deployment | Deployments, isl: float, osl: float) -> Any:
    return where(dep.engine.kv_admission == "max_length", isl + osl, isl + osl / 2)


def _fits(dep: Deployment | Deployments, kv_bytes: Any) -> tuple[Any, Any, Any]:
    """Whether a sequence of ``kv_bytes`` per GPU fits in the KV pool; the pool; the reserve."""
    reserve = dep.engine.runtime_reserve_gib * 2**30
    free = dep.gpu.memory_bytes - dep.weights_bytes_per_gpu - reserve
    pool = maximum(free, 0.0) * dep.engine.kv_memory_fraction
    return pool >= kv_bytes, pool, reserve


def _plan(dep: Deployment | Deployments, isl: float, osl: float) -> tuple[Any, MemoryPlan]:
    ctx = admission_context(dep, isl, osl)
    # KV bytes of one admitted sequence (each context a number: the batch's engines may differ)
    per_seq = where(dep.engine.kv_admission == "max_length", dep.kv_bytes_per_gpu(isl + osl),
                    dep.kv_bytes_per_gpu(isl + osl / 2))
    ok, pool, reserve = _fits(dep, per_seq)
    cap = floor(pool // per_seq)  # sequences in one attention-DP group's pool
    limit = minimum(cap, dep.engine.max_batch_size)
    return ok, MemoryPlan(
        gpu_bytes=dep.gpu.memory_bytes, weights_bytes=dep.weights_bytes_per_gpu, reserve_bytes=reserve,
        kv_pool_bytes=pool, kv_bytes_per_sequence=per_seq, admission_context=ctx,
        kv_capacity_sequences=cap * dep.dp, max_concurrency=limit * dep.dp,
        limited_by=where(cap <= dep.engine.max_batch_size, "kv_capacity", "max_batch_size"),
    )


def memory_plan(dep: Deployment, isl: float, osl: float) -> MemoryPlan:
    """How ``dep``'s memory splits, and the most sequences of ISL/OSL it can run at once.
    Raises ``DoesNotFitError`` (with what would fit) when not even one sequence fits."""
    ok, plan = _plan(dep, isl, osl)
    if not ok:
        raise DoesNotFitError(_does_not_fit_message(dep, plan.admission_context, plan.reserve_bytes))
    return plan


def memory_plans(batch: Deployments, isl: float, osl: float) -> MemoryPlan:
    """``memory_plan`` of every configuration of ``batch`` at once; where not even one
    sequence fits, ``max_concurrency`` is 0 (no error)."""
    return _plan(batch, isl, osl)[1]


def _does_not_fit_message(dep: Deployment, ctx: float, reserve: float) -> str:
    need = (dep.weights_bytes_per_gpu + reserve
            + dep.kv_bytes_per_gpu(ctx) / dep.engine.kv_memory_fraction)
    head = (f"{dep.model.key} at {dep.precision.weights} does not fit on {dep.layout}: "
            f"needs {need / GB:.1f} GB per GPU (weights {dep.weights_bytes_per_gpu / GB:.1f} + "
            f"runtime {reserve / GB:.1f} + KV for one {ctx:,.0f}-token sequence "
            f"{dep.kv_bytes_per_gpu(ctx) / GB:.2f}), has {dep.gpu.memory_bytes / GB:.1f} GB")
    return f"{head}; {suggest_fit(dep, ctx)}"


def suggest_fit(dep: Deployment, ctx: float) -> str:
    """What would fit: the smallest TP at this precision, and the widest precision at this TP."""
    options = []
    for tp in (2, 4, 8):
        if tp <= dep.tp or tp * dep.dp > dep.gpu.max_gpus_per_node or dep.model.heads % tp:
            continue
        ep = tp * dep.dp if dep.ep > 1 else 1
        wider = Deployment(dep.model, dep.gpu, dep.precision, tp, dep.engine, dp=dep.dp, ep=ep)
        if _fits(wider, wider.kv_bytes_per_gpu(ctx))[0]:
            options.append(f"--tp {tp}")
            break
    for name in ("fp8", "int4"):
        if Precision.named(name, dep.gpu).weight_bytes >= dep.precision.weight_bytes:
            continue
        trial = Deployment(dep.model, dep.gpu, Precision.named(name, dep.gpu), dep.tp, dep.engine,
                           dp=dep.dp, ep=dep.ep)
        if _fits(trial, trial.kv_bytes_per_gpu(ctx))[0]:
            options.append(f"--precision {name}")
            break
    if not options:
        return "no single node of this GPU holds it; use a larger GPU or a shorter context"
    return "fits with " + " or ".join(options)
