"""A model replica: GPUs of one type, its parallel layout, precision and engine profile.

Layout (one node; a larger fleet is several replicas):
- ``tp``: tensor parallelism of attention, dense MLPs and the LM head (heads split ``tp`` ways);
- ``dp``: attention data parallelism: ``dp`` groups of ``tp`` GPUs, each running attention for
  its own share of the sequences with a full copy of the attention weights (and its own KV);
  the replica spans ``tp × dp`` GPUs;
- ``ep``: expert parallelism of MoE layers: 1 (experts tensor-parallel over every GPU of the
  replica) or all ``tp × dp`` GPUs (whole experts spread over them, tokens sent to their experts
  by an all-to-all), as vLLM's ``--enable-expert-parallel`` and SGLang's ``--ep-size`` lay it out.
Left out: pipeline parallelism, expert layouts spanning nodes, expert replication (EPLB).

``Deployments`` holds many configurations of one model as numpy arrays, with the same names as a
``Deployment``'s numbers: the roofline, memory and steady-state formulas run over it unchanged
(``elementwise`` module), which is how ``truecost.plan`` screens a whole search space at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from .. import catalog
from ..arch import ModelArch
from ..checks import choice
from ..errors import InputError
from ..hardware import BYTES_PER_ELEM, GPU, Precision, PrecisionName
from .elementwise import minimum
from .engine import EngineProfile, engine as find_engine

__all__ = ["Columns", "Deployment", "Deployments", "layouts", "make_deployment", "matmul_flops"]

HALF_BYTES = 2.0  # embeddings, LM head and norms stay 16-bit in every quantisation recipe


def matmul_flops(m: float, k: float, n: float) -> float:
    """FLOPs of (m×k) @ (k×n): one multiply and one add per term."""
    return 2.0 * m * k * n


class _Shards:
    """How a replica's weights and KV cache split over its ``tp × dp`` GPUs: arithmetic on the
    layout (``tp``, ``dp``), the model and the precision's byte sizes, shared by ``Deployment``
    (numbers) and ``Deployments`` (arrays)."""

    __slots__ = ()
    model: ModelArch
    tp: Any
    dp: Any
    precision: Any  # Precision, or Columns of weight_bytes and kv_bytes
    dense_weight_bytes: Any

    @property
    def gpus(self) -> Any:
        """GPUs in the replica."""
        return self.tp * self.dp

    @property
    def dense_params(self) -> int:
        """Linear weights outside the routed experts (attention, dense MLPs, router, shared
        experts): tensor-parallel over ``tp``, copied in each of the ``dp`` groups."""
        p, m = self.model.params, self.model
        shared = (m.layers - m.moe.dense_layers) * m.shared_expert_params if m.moe else 0
        return p.attention + p.mlp_dense + p.router + shared

    @property
    def routed_expert_params(self) -> int:
        """Routed expert weights of every layer (0 for dense models): spread over all GPUs."""
        m = self.model
        return (m.layers - m.moe.dense_layers) * m.moe.experts * m.expert_params if m.moe else 0

    @property
    def unquantised_params(self) -> int:
        """Embeddings, LM head and norms: kept in 16 bit by fp8/int8/int4/fp4 recipes."""
        p = self.model.params
        return p.embedding + p.lm_head + p.norms

    @property
    def weights_bytes(self) -> Any:
        """One copy of the model's weights."""
        return (self.dense_params * self.dense_weight_bytes
                + self.routed_expert_params * self.precision.weight_bytes
                + self.unquantised_params * HALF_BYTES)

    @property
    def weights_bytes_per_gpu(self) -> Any:
        return ((self.dense_params * self.dense_weight_bytes + self.unquantised_params * HALF_BYTES) / self.tp
                + self.routed_expert_params * self.precision.weight_bytes / self.gpus)

    @property
    def kv_shards(self) -> Any:
        """GPUs one sequence's KV cache is split over: KV heads are split by TP (replicated once
        TP exceeds them); MLA's single latent is replicated on every rank."""
        if self.model.mla is not None:
            return 1
        return minimum(self.tp, self.model.kv_heads)

    def kv_bytes_per_gpu(self, context_tokens: float) -> Any:
        """KV bytes one sequence of ``context_tokens`` holds on each GPU of its DP group."""
        return self.model.kv_bytes(context_tokens, self.precision.kv_bytes) / self.kv_shards


@dataclass(frozen=True, slots=True)
class Deployment(_Shards):
    """One model replica of ``tp × dp`` GPUs (see the module docstring for the layout)."""

    model: ModelArch
    gpu: GPU
    precision: Precision
    tp: int
    engine: EngineProfile
    dp: int = 1
    ep: int = 1
    # Rates computed on first use (a step time reads each several times).
    _memo: dict[str, float] = field(default_factory=dict, init=False, repr=False, compare=False)

    def _memoised(self, name: str, compute: Callable[[], float]) -> float:
        v = self._memo.get(name)
        if v is None:
            v = self._memo[name] = compute()
        return v

    def __post_init__(self) -> None:
        for flag, v in (("tp", self.tp), ("dp", self.dp)):
            if v < 1 or v & (v - 1):
                raise InputError(f"--{flag} must be a power of two (1, 2, 4, 8), got {v}")
        if self.gpus > self.gpu.max_gpus_per_node:
            raise InputError(f"--tp {self.tp} x --dp {self.dp} = {self.gpus} GPUs exceeds the "
                             f"{self.gpu.max_gpus_per_node} {self.gpu.key} GPUs of one node; a replica stays in a node")
        if self.model.heads % self.tp:
            raise InputError(f"--tp {self.tp} does not divide {self.model.key}'s "
                             f"{self.model.heads} attention heads")
        if self.ep != 1:
            moe = self.model.moe
            if moe is None and self.ep > 1:
                raise InputError(f"--ep {self.ep}: {self.model.key} has no experts; expert parallelism needs an MoE model")
            if self.ep != self.gpus or moe is None:
                raise InputError(f"--ep must be 1 or the replica's {self.gpus} GPUs (tp x dp), got {self.ep}")
            if moe.experts % self.ep:
                raise InputError(f"--ep {self.ep} does not divide {self.model.key}'s {moe.experts} experts")

    # ---- weights ---------------------------------------------------------------------------
    @property
    def _quantised_dense(self) -> bool:
        """Whether the non-expert linear layers carry the precision's weight dtype (not when the
        recipe quantises only the experts of an MoE model)."""
        return not (self.precision.experts_only and self.model.moe is not None)

    @property
    def dense_weight_bytes(self) -> float:
        """Bytes per weight of attention, dense MLP, router and shared-expert matrices."""
        return self.precision.weight_bytes if self._quantised_dense else HALF_BYTES

    @property
    def dense_compute(self) -> str:
        """Matmul dtype of the non-expert linear layers."""
        return self.precision.compute if self._quantised_dense else self.half_dtype

    # ---- rates: peaks of the dtype each op runs at, times the engine's efficiency ----------
    @property
    def matmul_flops_per_s(self) -> float:
        """Achievable GEMM FLOP/s of one GPU at the matmul dtype of the quantised layers (the
        experts of an experts-only recipe, every linear layer otherwise)."""
        dt = self.precision.compute
        return self._memoised("matmul", lambda: self.gpu.peak_flops(dt) * self.engine.matmul_efficiency(dt))

    @property
    def expert_peak_flops_per_s(self) -> float:
        """Dense peak at the experts' matmul dtype (for power: FLOPs over their peak)."""
        return self._memoised("expert_peak", lambda: self.gpu.peak_flops(self.precision.compute))

    @property
    def dense_flops_per_s(self) -> float:
        """Achievable FLOP/s of the non-expert linear layers and the LM head."""
        return self._memoised("dense", lambda: self.dense_peak_flops_per_s
                              * self.engine.matmul_efficiency(self.dense_compute))

    @property
    def dense_peak_flops_per_s(self) -> float:
        return self._memoised("dense_peak", lambda: self.gpu.peak_flops(self.dense_compute))

    @property
    def attention_flops_per_s(self) -> float:
        """Achievable FLOP/s of attention kernels (16-bit)."""
        return self.half_peak_flops_per_s * self.engine.attention_compute_efficiency

    @property
    def half_peak_flops_per_s(self) -> float:
        return self._memoised("half_peak", lambda: self.gpu.peak_flops(self.half_dtype))

    @property
    def half_dtype(self) -> str:
        """The 16-bit dtype of attention and unquantised matmuls on this GPU: fp16 on GPUs without
        bf16 (V100, T4), whose ``supports("bf16")`` is true only because the two share a peak
        (the same rule as ``Precision.named``)."""
        tflops = self.gpu.dense_tflops
        if "bf16" in tflops or ("fp16" not in tflops and self.gpu.supports("bf16")):
            return "bf16"
        return "fp16"

    @property
    def hbm_bytes_per_s(self) -> float:
        return self.gpu.hbm_bytes_per_s * self.engine.memory_efficiency

    @property
    def link_bytes_per_s(self) -> float:
        """Achievable GPU-to-GPU bytes/s (each direction) of the collectives."""
        return self.gpu.link_bytes_per_s * self.engine.link_efficiency

    @property
    def step_overhead_s(self) -> float:
        """Per-step overhead of this model on this engine (fixed + per layer)."""
        return self.engine.overhead_s(self.model.layers)

    def describe(self) -> str:
        return f"{self.model.key} on {self.layout} ({self.precision}), engine {self.engine.key}"

    @property
    def layout(self) -> str:
        """``2x h100-sxm`` or, with attention DP / EP, ``8x h100-sxm tp1 dp8 ep8``."""
        head = f"{self.gpus}x {self.gpu.key}"
        if self.dp == 1 and self.ep == 1:
            return head
        return f"{head} tp{self.tp} dp{self.dp}" + (f" ep{self.ep}" if self.ep > 1 else "")


class Columns:
    """Named arrays, one element per configuration: the numbers a formula reads from the
    ``gpu``, ``engine`` or ``precision`` of a ``Deployment``, for a ``Deployments`` batch."""

    def __init__(self, **arrays: np.ndarray) -> None:
        self.__dict__.update(arrays)

    @classmethod
    def of(cls, objects: Sequence[Any], names: Sequence[str]) -> Columns:
        """Numbers as float64 (mixed int/float arithmetic would convert on every use)."""
        arrays = {n: np.array([getattr(o, n) for o in objects]) for n in names}
        return cls(**{n: a.astype(float) if a.dtype.kind in "iub" else a for n, a in arrays.items()})

    def take(self, rows: np.ndarray, **replace: np.ndarray) -> Columns:
        return Columns(**{n: replace.get(n, a[rows]) for n, a in self.__dict__.items()})


# What the formulas read from each part of a deployment (roofline, memory, serving): a batch
# carries exactly these, so a formula that reads anything else fails loudly on a batch.
GPU_NUMBERS = ("memory_bytes",)
ENGINE_NUMBERS = ("max_num_tokens", "max_batch_size", "request_overhead_s", "allreduce_latency_s",
                  "alltoall_latency_s", "moe_tile_tokens", "kv_memory_fraction", "runtime_reserve_gib",
                  "kv_admission")
PRECISION_NUMBERS = ("weight_bytes", "kv_bytes")
DEPLOYMENT_NUMBERS = ("dense_weight_bytes", "matmul_flops_per_s", "expert_peak_flops_per_s", "dense_flops_per_s",
                      "dense_peak_flops_per_s", "attention_flops_per_s", "half_peak_flops_per_s",
                      "hbm_bytes_per_s", "link_bytes_per_s", "step_overhead_s")


@dataclass(frozen=True)
class Deployments(_Shards):
    """Many configurations of one model, each number an array with one element per
    configuration (the names of ``Deployment``'s, see ``*_NUMBERS``). Rows are taken from real
    ``Deployment``s (``stack``), so every per-configuration number is derived by the one-deployment
    code; the layout (``tp``, ``dp``, ``ep``) and the engine's ``max_batch_size`` may then be set
    per row (``take``), with the weight and KV split following from ``_Shards``.

        >>> base = Deployments.stack([make_deployment("llama-3.1-8b", g) for g in ("h100-sxm", "a100-80gb")])
        >>> batch = base.take(np.array([0, 0, 1]), tp=np.array([1, 2, 1]))
        >>> batch.weights_bytes_per_gpu.round(-9).tolist()
        [16000000000.0, 8000000000.0, 16000000000.0]
    """

    model: ModelArch
    tp: np.ndarray
    dp: np.ndarray
    ep: np.ndarray
    gpu: Columns
    engine: Columns
    precision: Columns
    dense_weight_bytes: np.ndarray
    matmul_flops_per_s: np.ndarray
    expert_peak_flops_per_s: np.ndarray
    dense_flops_per_s: np.ndarray
    dense_peak_flops_per_s: np.ndarray
    attention_flops_per_s: np.ndarray
    half_peak_flops_per_s: np.ndarray
    hbm_bytes_per_s: np.ndarray
    link_bytes_per_s: np.ndarray
    step_overhead_s: np.ndarray

    @classmethod
    def stack(cls, deps: Sequence[Deployment]) -> Deployments:
        """One row per deployment (all of one model)."""
        if not deps or any(d.model is not deps[0].model and d.model != deps[0].model for d in deps):
            raise ValueError("Deployments.stack needs deployments of one model")
        return cls(deps[0].model, *(np.array([getattr(d, n) for d in deps], dtype=float) for n in ("tp", "dp", "ep")),
                   Columns.of([d.gpu for d in deps], GPU_NUMBERS),
                   Columns.of([d.engine for d in deps], ENGINE_NUMBERS),
                   Columns.of([d.precision for d in deps], PRECISION_NUMBERS),
                   *(np.array([getattr(d, n) for d in deps], dtype=float) for n in DEPLOYMENT_NUMBERS))

    def take(self, rows: np.ndarray, *, tp: np.ndarray | None = None, dp: np.ndarray | None = None,
             ep: np.ndarray | None = None, max_batch_size: np.ndarray | None = None) -> Deployments:
        """Rows ``rows`` (an index array), with the layout and the engine's max batch replaced
        where given (each an array as long as ``rows``)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "model":
                out[f.name] = v
            elif f.name == "engine":
                batch = {} if max_batch_size is None else {"max_batch_size": np.asarray(max_batch_size, dtype=float)}
                out[f.name] = v.take(rows, **batch)
            elif isinstance(v, Columns):
                out[f.name] = v.take(rows)
            else:
                given = {"tp": tp, "dp": dp, "ep": ep}.get(f.name)
                out[f.name] = v[rows] if given is None else np.asarray(given, dtype=float)
        return Deployments(**out)

    def __len__(self) -> int:
        return len(self.tp)


def make_deployment(model: str | ModelArch, gpu: str | GPU, precision: PrecisionName | str = "bf16",
                    tp: int = 1, engine: str | EngineProfile = "tuned", kv_dtype: str | None = None,
                    *, dp: int = 1, ep: int = 1) -> Deployment:
    """A ``Deployment`` from catalog names (or objects). ``precision="native"`` takes the
    model's checkpoint dtype (gpt-oss: mxfp4)."""
    g = catalog.gpu(gpu)
    m = catalog.model(model)
    name = precision.value if isinstance(precision, PrecisionName) else str(precision)
    if name.lower() == "native":
        name = m.native_dtype
    if kv_dtype is not None:
        kv_dtype = choice(kv_dtype, [d for d in BYTES_PER_ELEM if d not in ("tf32", "mxfp4")], "KV-cache dtype")
    try:
        prec = Precision.named(name.lower(), g, kv=kv_dtype)
    except ValueError:
        raise InputError(f"unknown precision '{precision}'; choose one of "
                         f"{', '.join(p.value for p in PrecisionName)}") from None
    return Deployment(m, g, prec, tp, find_engine(engine), dp=dp, ep=ep)


def layouts(model: ModelArch, gpu: GPU, max_gpus: int) -> list[tuple[int, int, int]]:
    """The ``(tp, dp, ep)`` layouts worth searching for ``model`` on up to ``max_gpus`` GPUs of
    ``gpu``: every power-of-two TP that divides the heads; for MoE models also attention DP and
    expert parallelism over the same GPUs (tp × dp = N, ep ∈ {1, N})."""
    cap = min(max_gpus, gpu.max_gpus_per_node)
    out = []
    n = 1
    while n <= cap:
        for tp in (t for t in (1, 2, 4, 8, 16) if t <= n and n % t == 0):
            dp = n // tp
            if model.heads % tp or (dp > 1 and model.moe is None):
                continue
            out.append((tp, dp, 1))
            if model.moe is not None and n > 1 and model.moe.experts % n == 0:
                out.append((tp, dp, n))
        n *= 2
    return out
