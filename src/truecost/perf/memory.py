"""GPU memory of a deployment: weights, runtime reserve, KV cache, and how many sequences fit.

    kv_pool = kv_memory_fraction × (GPU memory − weights shard − runtime reserve)
    max_concurrency = dp × min(max_batch_size, kv_pool / KV bytes of one admitted sequence)

(each of the ``dp`` attention-DP groups holds the KV of its own sequences and schedules its own
batch).

A sequence is admitted for its full ISL+OSL (``kv_admission = "max_length"``, no eviction) or for
its mean live context ISL+OSL/2 (``"average"``, paged KV with preemption). That KV cap alone
explains much of the measured throughput gap between models and GPUs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import DoesNotFitError
from ..hardware import Precision
from .deployment import Deployment

__all__ = ["MemoryPlan", "memory_plan"]

GB = 1e9


@dataclass(frozen=True, slots=True)
class MemoryPlan:
    """Bytes per GPU."""

    gpu_bytes: float
    weights_bytes: float
    reserve_bytes: float
    kv_pool_bytes: float
    kv_bytes_per_sequence: float  # at the admission context
    admission_context: float
    kv_capacity_sequences: int  # how many sequences the KV pool holds
    max_concurrency: int
    limited_by: Literal["kv_capacity", "max_batch_size"]


def admission_context(dep: Deployment, isl: float, osl: float) -> float:
    return isl + osl if dep.engine.kv_admission == "max_length" else isl + osl / 2


def _fits(dep: Deployment, context: float) -> tuple[bool, float, float]:
    reserve = dep.engine.runtime_reserve_gib * 2**30
    free = dep.gpu.memory_bytes - dep.weights_bytes_per_gpu - reserve
    pool = max(free, 0.0) * dep.engine.kv_memory_fraction
    return pool >= dep.kv_bytes_per_gpu(context), pool, reserve


def memory_plan(dep: Deployment, isl: float, osl: float) -> MemoryPlan:
    """How ``dep``'s memory splits, and the most sequences of ISL/OSL it can run at once.
    Raises ``DoesNotFitError`` (with what would fit) when not even one sequence fits."""
    ctx = admission_context(dep, isl, osl)
    ok, pool, reserve = _fits(dep, ctx)
    if not ok:
        raise DoesNotFitError(_does_not_fit_message(dep, ctx, reserve))
    per_seq = dep.kv_bytes_per_gpu(ctx)
    cap = int(pool // per_seq)
    limit = min(cap, dep.engine.max_batch_size)
    return MemoryPlan(
        gpu_bytes=dep.gpu.memory_bytes, weights_bytes=dep.weights_bytes_per_gpu, reserve_bytes=reserve,
        kv_pool_bytes=pool, kv_bytes_per_sequence=per_seq, admission_context=ctx,
        kv_capacity_sequences=cap * dep.dp, max_concurrency=limit * dep.dp,
        limited_by="kv_capacity" if cap <= dep.engine.max_batch_size else "max_batch_size",
    )


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
        if _fits(Deployment(dep.model, dep.gpu, dep.precision, tp, dep.engine, dp=dep.dp, ep=ep), ctx)[0]:
            options.append(f"--tp {tp}")
            break
    for name in ("fp8", "int4"):
        if Precision.named(name, dep.gpu).weight_bytes >= dep.precision.weight_bytes:
            continue
        trial = Deployment(dep.model, dep.gpu, Precision.named(name, dep.gpu), dep.tp, dep.engine,
                           dp=dep.dp, ep=dep.ep)
        if _fits(trial, ctx)[0]:
            options.append(f"--precision {name}")
            break
    if not options:
        return "no single node of this GPU holds it; use a larger GPU or a shorter context"
    return "fits with " + " or ".join(options)
