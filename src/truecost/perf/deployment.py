"""A model served on ``tp`` GPUs of one type at a precision by an engine profile."""

from __future__ import annotations

from dataclasses import dataclass

from ..arch import ModelArch
from ..errors import InputError
from ..hardware import GPU, Precision
from .engine import EngineProfile

__all__ = ["Deployment", "matmul_flops"]


def matmul_flops(m: float, k: float, n: float) -> float:
    """FLOPs of (m×k) @ (k×n): one multiply and one add per term."""
    return 2.0 * m * k * n


@dataclass(frozen=True, slots=True)
class Deployment:
    """One model replica: ``tp`` GPUs in tensor parallel (the only parallelism modelled; a larger
    fleet is several replicas)."""

    model: ModelArch
    gpu: GPU
    precision: Precision
    tp: int
    engine: EngineProfile

    def __post_init__(self) -> None:
        if self.tp < 1 or self.tp & (self.tp - 1):
            raise InputError(f"--tp must be a power of two (1, 2, 4, 8), got {self.tp}")
        if self.tp > self.gpu.max_gpus_per_node:
            raise InputError(f"--tp {self.tp} exceeds the {self.gpu.max_gpus_per_node} "
                             f"{self.gpu.key} GPUs of one node; tensor parallelism stays in a node")
        if self.model.heads % self.tp:
            raise InputError(f"--tp {self.tp} does not divide {self.model.key}'s "
                             f"{self.model.heads} attention heads")

    # ---- weights ---------------------------------------------------------------------------
    @property
    def matmul_weight_params(self) -> int:
        """Quantisable weights (every linear layer except embeddings and LM head), all experts."""
        p = self.model.params
        return p.attention + p.mlp_dense + p.experts_total + p.router

    @property
    def unquantised_params(self) -> int:
        """Embeddings, LM head and norms: kept in 16 bit by fp8/int8/int4 recipes."""
        p = self.model.params
        return p.embedding + p.lm_head + p.norms

    @property
    def weights_bytes(self) -> float:
        """All weights of the replica (every GPU's shard together)."""
        return (self.matmul_weight_params * self.precision.weight_bytes
                + self.unquantised_params * 2.0)

    @property
    def weights_bytes_per_gpu(self) -> float:
        return self.weights_bytes / self.tp

    # ---- KV cache --------------------------------------------------------------------------
    @property
    def kv_shards(self) -> int:
        """GPUs the KV cache is split over: KV heads are split by TP (replicated once TP exceeds
        them); MLA's single latent is replicated on every rank."""
        if self.model.mla is not None:
            return 1
        return min(self.tp, self.model.kv_heads)

    def kv_bytes_per_gpu(self, context_tokens: float) -> float:
        """KV bytes one sequence of ``context_tokens`` holds on each GPU."""
        return self.model.kv_bytes(context_tokens, self.precision.kv_bytes) / self.kv_shards

    # ---- peaks -----------------------------------------------------------------------------
    @property
    def matmul_flops_per_s(self) -> float:
        """Achievable GEMM FLOP/s of one GPU at the deployment's matmul dtype."""
        dt = self.precision.compute
        return self.gpu.peak_flops(dt) * self.engine.matmul_efficiency(dt)

    @property
    def attention_flops_per_s(self) -> float:
        half = "bf16" if self.gpu.supports("bf16") else "fp16"
        return self.gpu.peak_flops(half) * self.engine.attention_compute_efficiency

    @property
    def hbm_bytes_per_s(self) -> float:
        return self.gpu.hbm_bytes_per_s * self.engine.memory_efficiency

    def describe(self) -> str:
        return f"{self.model.key} on {self.tp}x {self.gpu.key} ({self.precision}), engine {self.engine.key}"
