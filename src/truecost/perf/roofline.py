"""Time of one engine step: a batch of decoding sequences plus a chunk of prefill tokens.

Dimension letters: B decoding sequences, L their mean context, P prefill tokens in the step,
T = B + P tokens, D model width, H heads, Dh head width, t tensor-parallel degree, d attention
data-parallel groups, g = t·d GPUs of the replica, E experts, k active experts per token.

Each op (linear layers, MoE experts, attention over the KV cache, prefill attention, LM head)
takes ``max(compute time, bytes / achievable bytes/s)`` (a roofline per op, since ops run one
after another), then the collectives and the per-step overhead are added:

    t_step = Σ_op max(C_op, M_op / (η_m·HBM)) + collectives + t_fixed + t_layer · layers

- Linear layers, attention and LM head run on each DP group's share (B/d, P/d) of the batch,
  split t ways; C_op = F_op / (η_c·peak).
- MoE experts see all T tokens of the replica, spread over its g GPUs. Weights are read once per
  expert that at least one token picks: E·(1 − (1 − k/E)^T) experts per layer for uniform
  routing. A grouped GEMM loses efficiency when few tokens reach an expert: an expert with m
  tokens runs at η_c·m/(m + m₀) (m₀ = ``moe_tile_tokens``), so expert compute is
  2·P_e·(T·k + touched·m₀)/(η_c·peak) and keeps growing with T after every expert is touched.
  With few tokens per expert the kernel streams an expert's weights and then multiplies (too
  few rows to pipeline one behind the other), so the op costs weights + compute, not the max:
  published fused-MoE kernel timings grow this way past full expert coverage (vLLM PR #24700,
  Qwen3-30B-A3B fp8: 274 us at 128 tokens, 392 at 512, 912 at 2048; SGLang PR #11730,
  Qwen3-235B fp8 TP8 on H200).
  When a step stands for the average of many (steady state), prefill arrives in whole chunks
  (``prefill_chunk_tokens``): a share f = P/chunk of steps carries one, and the experts touched
  are averaged over steps, not computed for a smeared-out P (which would touch far more).
- Collectives per layer: TP all-reduces of each group's activations (after attention and after a
  dense MLP); for MoE layers, an all-reduce over the GPUs (no DP, no EP), an all-gather and a
  reduce-scatter of the tokens (DP without EP), or an all-to-all dispatch and combine of each
  token to its k experts (EP): each ``latency + bytes / (η_l·link)``.
- Overhead: ``step_overhead_fixed_s + step_overhead_per_layer_s × layers`` (kernel launches and
  small kernels per layer), the same on every rank.

Bounds: ``lower`` assumes compute and memory traffic overlap across the whole step (max of the
sums); ``upper`` assumes no overlap inside an op (sum of both).

The formulas are written once, for one deployment (numbers) and for a batch of many
(``Deployments``: every term an array, one element per configuration; ``elementwise`` module);
decode/prefill sizes may be arrays too, the decode context is one number. Left out: pipeline parallelism,
speculative decoding, EP load imbalance (expert replication assumed to balance it), CPU stalls
beyond the overhead terms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..arch import ModelArch
from .deployment import Deployment, Deployments, matmul_flops
from .elementwise import is_array, maximum, minimum, where

__all__ = ["OpCost", "StepTime", "causal_pairs", "experts_touched", "lm_head", "step_time"]

Binding = Literal["compute", "memory", "interconnect", "overhead"]

ACTIVATION_BYTES = 2.0  # activations and collectives move 16-bit values


@dataclass(frozen=True, slots=True)
class OpCost:
    """One op on one GPU (each figure an array over configurations for a batch)."""

    flops: float  # on one GPU
    bytes: float  # HBM bytes moved on one GPU
    compute_s: float
    memory_s: float
    overlap: bool = True  # False: the op streams its bytes, then computes (grouped MoE GEMMs)
    peak_s: float = 0.0  # the op's FLOPs at the full dense peak of its dtype (for power)

    @property
    def time_s(self) -> float:
        return maximum(self.compute_s, self.memory_s) if self.overlap else self.compute_s + self.memory_s


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
        object.__setattr__(self, "lower_s", minimum(maximum(compute, memory) + fixed, total))
        object.__setattr__(self, "upper_s", compute + memory + fixed)

    @property
    def compute_s(self) -> float:
        """Time of the ops whose compute term dominates."""
        return sum(where(op.compute_s >= op.memory_s, op.time_s, 0.0) for op in self.ops.values())

    @property
    def memory_s(self) -> float:
        return sum(where(op.compute_s < op.memory_s, op.time_s, 0.0) for op in self.ops.values())

    @property
    def binding(self) -> Binding:
        """The largest of compute, memory, interconnect and overhead time (for a batch: an array
        of those names)."""
        terms = {"compute": self.compute_s, "memory": self.memory_s,
                 "interconnect": self.comm_s, "overhead": self.overhead_s}
        if is_array(*terms.values()):
            stacked = np.stack(np.broadcast_arrays(*terms.values()))
            return np.array(list(terms))[np.argmax(stacked, axis=0)]  # type: ignore[return-value]
        return max(terms, key=terms.__getitem__)  # type: ignore[return-value]

    def breakdown(self) -> dict[str, float]:
        """Seconds by op, plus communication and overhead; sums to ``total_s``."""
        out = {name: op.time_s for name, op in self.ops.items()}
        out["collectives"] = self.comm_s
        out["step_overhead"] = self.overhead_s
        return out


Dep = Deployment | Deployments


def _op(dep: Dep, flops: Any, nbytes: Any, flops_per_s: Any, peak_flops_per_s: Any) -> OpCost:
    """An op of ``flops`` at an achievable ``flops_per_s`` (of a dense peak ``peak_flops_per_s``)
    moving ``nbytes`` of HBM."""
    return OpCost(flops, nbytes, flops / flops_per_s, nbytes / dep.hbm_bytes_per_s, peak_s=flops / peak_flops_per_s)


def causal_pairs(new_tokens: float, cached_tokens: float = 0.0) -> float:
    """(query, key) pairs a causal prefill of ``new_tokens`` attends after ``cached_tokens``
    already in the cache: each new token sees the cache and the new tokens up to itself."""
    return new_tokens * cached_tokens + new_tokens * (new_tokens + 1) / 2


def experts_touched(experts: int, active: int, tokens: Any) -> Any:
    """Expected distinct experts hit in one layer when ``tokens`` tokens each pick ``active`` of
    ``experts`` uniformly: E·(1 − (1 − k/E)^T). Real routers are not uniform; this is the
    upper end of weight traffic for a given batch."""
    return experts * (1.0 - (1.0 - active / experts) ** maximum(tokens, 0.0))


def step_time(dep: Dep, decode_seqs: Any, decode_context: float, prefill_tokens: Any = 0.0,
              prefill_attended: Any = 0.0, prefill_seqs: Any = 0.0, *,
              prefill_chunk_tokens: Any = None) -> StepTime:
    """One step on ``dep``: ``decode_seqs`` sequences of mean context ``decode_context`` each
    produce a token, and ``prefill_tokens`` prompt tokens are processed (replica totals).

    ``prefill_attended`` is the number of (query, key) pairs the prefill attends, e.g. one prompt
    of S tokens from scratch: ``causal_pairs(S)``. ``prefill_seqs`` prompts finish in this step and need
    logits (the LM head runs on decode tokens and on each prompt's last token only).
    ``prefill_chunk_tokens``: the step is an average over steps in which prefill arrives in
    chunks of this many tokens (steady state), which matters for the experts an MoE step touches.
    With ``dep`` a ``Deployments`` batch (and any size an array), every figure of the result is
    an array over its rows.

        >>> from truecost.perf.deployment import make_deployment
        >>> round(step_time(make_deployment("llama-3.1-8b", "h100-sxm"), 1, 1).total_s * 1e3, 1)
        8.5
    """
    m, t, d = dep.model, dep.tp, dep.dp
    B, P = decode_seqs, prefill_tokens
    T = B + P  # tokens through the linear layers, replica-wide
    Tg = T / d  # tokens of one attention-DP group
    ops: dict[str, OpCost] = {}

    # Dense linear layers: attention projections, dense MLPs, router, shared experts; each DP
    # group holds them split t ways and reads them once per step.
    dense = dep.dense_params
    dense_rate, dense_peak = dep.dense_flops_per_s, dep.dense_peak_flops_per_s
    ops["linear"] = _op(dep, matmul_flops(Tg, dense, 1) / t, dense * dep.dense_weight_bytes / t, dense_rate, dense_peak)

    if m.moe is not None:
        ops["experts"] = _experts(dep, B, P, prefill_chunk_tokens)

    ops["lm_head"] = lm_head(dep, B + prefill_seqs)

    # Decode attention: each sequence reads its whole KV cache once per step.
    if _any_positive(B):
        attn_flops = B / d * m.layers * m.attended_tokens(decode_context) * _attention_dims(m) / t
        kv = B / d * dep.kv_bytes_per_gpu(decode_context)
        ops["attention_decode"] = _op(dep, attn_flops, kv, dep.attention_flops_per_s, dep.half_peak_flops_per_s)

    # Prefill attention: causal pairs × (QK + PV) per head; KV written once.
    if _any_positive(P):
        attn_flops = prefill_attended / d * m.layers * _attention_dims(m) / t
        kv_write = P / d * m.kv_bytes_per_token(dep.precision.kv_bytes) / dep.kv_shards
        ops["attention_prefill"] = _op(dep, attn_flops, kv_write, dep.attention_flops_per_s,
                                       dep.half_peak_flops_per_s)

    return StepTime(ops=ops, comm_s=collectives_s(dep, T),
                    overhead_s=dep.step_overhead_s, decode_seqs=B, prefill_tokens=P)


def lm_head(dep: Dep, rows: Any) -> OpCost:
    """The LM head on ``rows`` tokens (replica-wide: decoding sequences plus prompts that finish
    in the step): vocab-parallel over TP, 16-bit weights, run by each DP group on its share."""
    m, t = dep.model, dep.tp
    return _op(dep, matmul_flops(rows / dep.dp, m.d_model, m.vocab) / t, m.vocab * m.d_model * 2.0 / t,
               dep.dense_flops_per_s, dep.dense_peak_flops_per_s)


def _any_positive(x: Any) -> bool:
    """Whether some configuration has any of this work (an op absent everywhere is left out of
    the breakdown; where a batch has it for some rows only, the others add zero)."""
    return bool(np.any(x > 0)) if is_array(x) else x > 0


def _experts(dep: Dep, decode_tokens: Any, prefill_tokens: Any, chunk: Any) -> OpCost:
    """Routed experts of every MoE layer, per GPU (see the module docstring)."""
    m = dep.model
    moe = m.moe
    assert moe is not None
    k, m0 = moe.active_experts, dep.engine.moe_tile_tokens
    T = decode_tokens + prefill_tokens
    if chunk is not None:
        # A share f = min(1, P/chunk) of steps carries a prefill, of P/f = max(P, chunk) tokens.
        share = minimum(1.0, prefill_tokens / chunk)
        touched = ((1 - share) * experts_touched(moe.experts, k, decode_tokens)
                   + share * experts_touched(moe.experts, k, decode_tokens + maximum(prefill_tokens, chunk)))
    else:
        touched = experts_touched(moe.experts, k, T)
    layers = m.layers - moe.dense_layers
    per_gpu = layers * m.expert_params / dep.gpus
    flops = matmul_flops(T * k, per_gpu, 1)
    # Each touched expert costs m₀ tokens' worth of compute on top of its real tokens.
    effective = matmul_flops(T * k + touched * m0, per_gpu, 1)
    nbytes = touched * per_gpu * dep.precision.weight_bytes
    return OpCost(flops, nbytes, effective / dep.matmul_flops_per_s, nbytes / dep.hbm_bytes_per_s, overlap=False,
                  peak_s=flops / dep.expert_peak_flops_per_s)


def _attention_dims(m: ModelArch) -> float:
    """FLOPs per (query, key) pair per layer, all heads: QKᵀ and PV are each one multiply-add
    per head dimension. MLA (absorbed) attends over the latent: (r + rope) for scores, r for
    values."""
    if m.mla is not None:
        mla = m.mla
        return matmul_flops(1, mla.kv_lora_rank + mla.qk_rope_head_dim, m.heads) + \
            matmul_flops(1, mla.kv_lora_rank, m.heads)
    return 2 * matmul_flops(1, m.head_dim, m.heads)


def _allreduce_s(dep: Dep, msg_bytes: Any, ranks: Any) -> Any:
    """Ring all-reduce of ``msg_bytes`` over ``ranks`` GPUs: each moves 2(r−1)/r of it (none
    on one GPU or with nothing to send)."""
    if not is_array(msg_bytes, ranks) and (ranks == 1 or msg_bytes <= 0):
        return 0.0
    t = dep.engine.allreduce_latency_s + 2 * (ranks - 1) / ranks * msg_bytes / dep.link_bytes_per_s
    return where((ranks > 1) & (msg_bytes > 0), t, 0.0) if is_array(t) else t


def collectives_s(dep: Dep, tokens: Any) -> Any:
    """Collective time of one step of ``tokens`` tokens (replica-wide); see the module docstring."""
    batch = is_array(tokens, dep.tp)
    if not batch and (tokens <= 0 or dep.gpus == 1):
        return 0.0
    m, e = dep.model, dep.engine
    link = dep.link_bytes_per_s
    D = m.d_model
    group_msg = tokens / dep.dp * D * ACTIVATION_BYTES
    moe_layers = m.layers - m.moe.dense_layers if m.moe else 0
    # After attention (every layer) and after each dense MLP: all-reduce inside the TP group.
    t = (m.layers + m.layers - moe_layers) * _allreduce_s(dep, group_msg, dep.tp)
    if moe_layers:
        g = dep.gpus
        # EP: dispatch + combine, each token to its k experts, (ep−1)/ep of them remote
        sent = tokens / g * m.moe.active_experts * D * ACTIVATION_BYTES * (dep.ep - 1) / dep.ep  # type: ignore[union-attr]
        alltoall = 2 * (e.alltoall_latency_s + sent / link)
        # attention DP without EP: all-gather the tokens before the experts, reduce-scatter after
        gather = 2 * (e.allreduce_latency_s + (g - 1) / g * tokens * D * ACTIVATION_BYTES / link)
        t += moe_layers * where(dep.ep > 1, alltoall, where(dep.dp > 1, gather, _allreduce_s(dep, group_msg, dep.tp)))
    return where((tokens > 0) & (dep.gpus > 1), t, 0.0) if batch else t
