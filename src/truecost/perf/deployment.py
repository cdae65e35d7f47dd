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
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import catalog
from ..arch import ModelArch
from ..checks import choice
from ..errors import InputError
from ..hardware import BYTES_PER_ELEM, GPU, Precision, PrecisionName
from .engine import EngineProfile, engine as find_engine

__all__ = ["Deployment", "layouts", "make_deployment", "matmul_flops"]

HALF_BYTES = 2.0  # embeddings, LM head and norms stay 16-bit in every quantisation recipe


def matmul_flops(m: float, k: float, n: float) -> float:
    """FLOPs of (m×k) @ (k×n): one multiply and one add per term."""
    return 2.0 * m * k * n


@dataclass(frozen=True, slots=True)
class Deployment:
    """One model replica of ``tp × dp`` GPUs (see the module docstring for the layout)."""

    model: ModelArch
    gpu: GPU
    precision: Precision
    tp: int
    engine: EngineProfile
    dp: int = 1
    ep: int = 1

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

    @property
    def gpus(self) -> int:
        """GPUs in the replica."""
        return self.tp * self.dp

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
    def weights_bytes(self) -> float:
        """One copy of the model's weights."""
        return (self.dense_params * self.dense_weight_bytes
                + self.routed_expert_params * self.precision.weight_bytes
                + self.unquantised_params * HALF_BYTES)

    @property
    def weights_bytes_per_gpu(self) -> float:
        return ((self.dense_params * self.dense_weight_bytes + self.unquantised_params * HALF_BYTES) / self.tp
                + self.routed_expert_params * self.precision.weight_bytes / self.gpus)

    # ---- KV cache --------------------------------------------------------------------------
    @property
    def kv_shards(self) -> int:
        """GPUs one sequence's KV cache is split over: KV heads are split by TP (replicated once
        TP exceeds them); MLA's single latent is replicated on every rank."""
        if self.model.mla is not None:
            return 1
        return min(self.tp, self.model.kv_heads)

    def kv_bytes_per_gpu(self, context_tokens: float) -> float:
        """KV bytes one sequence of ``context_tokens`` holds on each GPU of its DP group."""
        return self.model.kv_bytes(context_tokens, self.precision.kv_bytes) / self.kv_shards

    # ---- peaks -----------------------------------------------------------------------------
    @property
    def matmul_flops_per_s(self) -> float:
        """Achievable GEMM FLOP/s of one GPU at the matmul dtype of the quantised layers (the
        experts of an experts-only recipe, every linear layer otherwise)."""
        dt = self.precision.compute
        return self.gpu.peak_flops(dt) * self.engine.matmul_efficiency(dt)

    @property
    def half_dtype(self) -> str:
        """The 16-bit dtype of attention and unquantised matmuls on this GPU."""
        return "bf16" if self.gpu.supports("bf16") else "fp16"

    @property
    def hbm_bytes_per_s(self) -> float:
        return self.gpu.hbm_bytes_per_s * self.engine.memory_efficiency

    def describe(self) -> str:
        return f"{self.model.key} on {self.layout} ({self.precision}), engine {self.engine.key}"

    @property
    def layout(self) -> str:
        """``2x h100-sxm`` or, with attention DP / EP, ``8x h100-sxm tp1 dp8 ep8``."""
        head = f"{self.gpus}x {self.gpu.key}"
        if self.dp == 1 and self.ep == 1:
            return head
        return f"{head} tp{self.tp} dp{self.dp}" + (f" ep{self.ep}" if self.ep > 1 else "")


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
