"""Time of one engine step: a batch of decoding sequences plus a chunk of prefill tokens.

Dimension letters: B decoding sequences, L their mean context, P prefill tokens in the step,
D model width, H heads, Dh head width, t tensor-parallel degree, E experts, k active experts.

Each op (linear layers, MoE experts, attention over the KV cache, prefill attention, LM head)
takes ``max(FLOPs / achievable FLOP/s, bytes / achievable bytes/s)`` (a roofline per op, since
ops run one after another), then TP all-reduces and a fixed per-step overhead are added:

    t_step = Σ_op max(F_op / (η_c·peak), M_op / (η_m·HBM)) + n_ar·(lat + 2(t−1)/t·bytes/(η_l·link)) + t_fixed

Bounds: ``lower`` assumes compute and memory traffic overlap across the whole step
(max of the sums); ``upper`` assumes no overlap inside an op (sum of both). Left out: pipeline
and expert parallelism, speculative decoding, CPU-side stalls beyond ``step_overhead_s``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..arch import ModelArch
from .deployment import Deployment, matmul_flops

__all__ = ["OpCost", "StepTime", "causal_pairs", "step_time"]

Binding = Literal["compute", "memory", "interconnect", "overhead"]


@dataclass(frozen=True, slots=True)
class OpCost:
    flops: float  # on one GPU
    bytes: float  # HBM bytes moved on one GPU
    compute_s: float
    memory_s: float

    @property
    def time_s(self) -> float:
        return max(self.compute_s, self.memory_s)


@dataclass(frozen=True, slots=True)
class StepTime:
    """One step's time with its per-op breakdown and bounds."""

    ops: dict[str, OpCost]
    comm_s: float
    overhead_s: float
    decode_seqs: float
    prefill_tokens: float
    total_s: float = field(init=False)
    lower_s: float = field(init=False)
    upper_s: float = field(init=False)

    def __post_init__(self) -> None:
        fixed = self.comm_s + self.overhead_s
        total = sum(op.time_s for op in self.ops.values()) + fixed
        compute = sum(op.compute_s for op in self.ops.values())
        memory = sum(op.memory_s for op in self.ops.values())
        object.__setattr__(self, "total_s", total)
        object.__setattr__(self, "lower_s", max(compute, memory) + fixed)
        object.__setattr__(self, "upper_s", compute + memory + fixed)

    @property
    def compute_s(self) -> float:
        """Time of the ops whose compute term dominates."""
        return sum(op.time_s for op in self.ops.values() if op.compute_s >= op.memory_s)

    @property
    def memory_s(self) -> float:
        return sum(op.time_s for op in self.ops.values() if op.compute_s < op.memory_s)

    @property
    def binding(self) -> Binding:
        terms = {"compute": self.compute_s, "memory": self.memory_s,
                 "interconnect": self.comm_s, "overhead": self.overhead_s}
        return max(terms, key=terms.__getitem__)  # type: ignore[return-value]

    def breakdown(self) -> dict[str, float]:
        """Seconds by op, plus communication and overhead; sums to ``total_s``."""
        out = {name: op.time_s for name, op in self.ops.items()}
        out["tp_allreduce"] = self.comm_s
        out["step_overhead"] = self.overhead_s
        return out


def _op(dep: Deployment, flops: float, nbytes: float, flops_per_s: float) -> OpCost:
    return OpCost(flops, nbytes, flops / flops_per_s, nbytes / dep.hbm_bytes_per_s)


def causal_pairs(new_tokens: float, cached_tokens: float = 0.0) -> float:
    """(query, key) pairs a causal prefill of ``new_tokens`` attends after ``cached_tokens``
    already in the cache: each new token sees the cache and the new tokens up to itself."""
    return new_tokens * cached_tokens + new_tokens * (new_tokens + 1) / 2


def experts_touched(experts: int, active: int, tokens: float) -> float:
    """Expected distinct experts hit in one layer when ``tokens`` tokens each pick ``active`` of
    ``experts`` uniformly: E·(1 − (1 − k/E)^T). Real routers are not uniform; this is the
    upper end of weight traffic for a given batch."""
    if tokens <= 0:
        return 0.0
    return experts * (1.0 - (1.0 - active / experts) ** tokens)


def step_time(dep: Deployment, decode_seqs: float, decode_context: float, prefill_tokens: float = 0.0,
              prefill_attended: float = 0.0, prefill_seqs: float = 0.0) -> StepTime:
    """One step on ``dep``: ``decode_seqs`` sequences of mean context ``decode_context`` each
    produce a token, and ``prefill_tokens`` prompt tokens are processed.

    ``prefill_attended`` is the number of (query, key) pairs the prefill attends, e.g. one prompt
    of S tokens from scratch: ``causal_pairs(S)``. ``prefill_seqs`` prompts finish in this step and need
    logits (the LM head runs on decode tokens and on each prompt's last token only).
    """
    m, t, w = dep.model, dep.tp, dep.precision.weight_bytes
    B, P = decode_seqs, prefill_tokens
    T = B + P  # tokens through the linear layers
    D = m.d_model
    p = m.params
    ops: dict[str, OpCost] = {}

    # Dense linear layers: attention projections, dense MLPs, router. Weights read once per step.
    dense = p.attention + p.mlp_dense + p.router
    ops["linear"] = _op(dep, matmul_flops(T, dense, 1) / t, dense * w / t, dep.matmul_flops_per_s)

    if m.moe is not None:
        moe = m.moe
        layers = m.layers - moe.dense_layers
        touched = experts_touched(moe.experts, moe.active_experts, T)
        weights = layers * (touched * m.expert_params + m.shared_expert_params)
        ops["experts"] = _op(dep, matmul_flops(T, p.experts_active, 1) / t, weights * w / t,
                             dep.matmul_flops_per_s)

    # LM head (vocab-parallel over TP), 16-bit weights.
    logits_tokens = B + prefill_seqs
    ops["lm_head"] = _op(dep, matmul_flops(logits_tokens, D, m.vocab) / t, m.vocab * D * 2.0 / t,
                         dep.matmul_flops_per_s)

    # Decode attention: each sequence reads its whole KV cache once per step.
    if B > 0:
        qk_dims = _attention_dims(m)
        attn_flops = B * m.layers * m.attended_tokens(decode_context) * qk_dims / t
        kv = B * dep.kv_bytes_per_gpu(decode_context)
        ops["attention_decode"] = _op(dep, attn_flops, kv, dep.attention_flops_per_s)

    # Prefill attention: causal pairs × (QK + PV) per head; KV written once.
    if P > 0:
        attn_flops = prefill_attended * m.layers * _attention_dims(m) / t
        kv_write = P * dep.model.kv_bytes_per_token(dep.precision.kv_bytes) / dep.kv_shards
        ops["attention_prefill"] = _op(dep, attn_flops, kv_write, dep.attention_flops_per_s)

    return StepTime(ops=ops, comm_s=_allreduce_s(dep, T), overhead_s=dep.engine.step_overhead_s,
                    decode_seqs=B, prefill_tokens=P)


def _attention_dims(m: ModelArch) -> float:
    """FLOPs per (query, key) pair per layer, all heads: QKᵀ and PV are each one multiply-add
    per head dimension. MLA (absorbed) attends over the latent: (r + rope) for scores, r for
    values."""
    if m.mla is not None:
        mla = m.mla
        return matmul_flops(1, mla.kv_lora_rank + mla.qk_rope_head_dim, m.heads) + \
            matmul_flops(1, mla.kv_lora_rank, m.heads)
    return 2 * matmul_flops(1, m.head_dim, m.heads)


def _allreduce_s(dep: Deployment, tokens: float) -> float:
    """Two all-reduces per layer (after attention and after the MLP) of tokens×D 16-bit
    activations; ring all-reduce moves 2(t−1)/t of the message over each GPU's link."""
    t = dep.tp
    if t == 1 or tokens <= 0:
        return 0.0
    e = dep.engine
    msg = tokens * dep.model.d_model * 2.0
    per = e.allreduce_latency_s + 2 * (t - 1) / t * msg / (dep.gpu.link_bytes_per_s * e.link_efficiency)
    return 2 * dep.model.layers * per
