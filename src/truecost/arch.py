"""Model architectures, and the parameter counts and KV-cache sizes derived from them.

Counts are derived from the architecture, never typed in: ``tests/unit/test_arch.py`` checks
them against published totals (Llama-3-8B: 8,030,261,248). Dimension letters used in comments:
D model width, F MLP width, H query heads, K key/value heads, Dh head width, V vocabulary,
E experts, L layers, S context tokens.

Assumptions, each a field of the architecture rather than a hidden constant:
- gated MLP (SwiGLU/GeGLU) has three D×F matrices, a plain MLP two;
- RMSNorm has D weights, LayerNorm with bias 2·D;
- MLA (DeepSeek-V2/V3) caches the compressed latent plus the shared RoPE key per token
  (the "absorbed" layout used by vLLM and SGLang), and that cache is replicated across TP ranks;
- sliding-window layers keep at most ``sliding_window`` tokens of KV.
Left out: vision towers and multi-token-prediction heads (counted by some model cards, not by
the text model that serves tokens).
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

__all__ = ["MLA", "ModelArch", "MoE", "ParamCounts"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class MoE(BaseModel):
    """Mixture-of-experts MLP: ``experts`` routed experts of width ``d_ff_expert``, ``active_experts``
    of them per token, plus ``shared_experts`` always-on experts; the first ``dense_layers`` layers
    use a dense MLP of width ``d_ff`` instead."""

    model_config = _FROZEN
    experts: PositiveInt
    active_experts: PositiveInt
    d_ff_expert: PositiveInt
    shared_experts: int = Field(0, ge=0)
    d_ff_shared: PositiveInt | None = None  # width of each shared expert; None = d_ff_expert
    dense_layers: int = Field(0, ge=0)
    router_bias: bool = False
    expert_bias: bool = False  # biases on the expert matrices (gpt-oss)


class MLA(BaseModel):
    """Multi-head latent attention (DeepSeek-V2/V3)."""

    model_config = _FROZEN
    q_lora_rank: PositiveInt | None
    kv_lora_rank: PositiveInt
    qk_nope_head_dim: PositiveInt
    qk_rope_head_dim: PositiveInt
    v_head_dim: PositiveInt


class ParamCounts(BaseModel):
    """Parameter counts by component; ``total`` and ``active`` are sums of the breakdown."""

    model_config = ConfigDict(frozen=True)
    embedding: int
    lm_head: int
    attention: int
    mlp_dense: int
    experts_total: int
    experts_active: int
    router: int
    norms: int

    @property
    def total(self) -> int:
        return (self.embedding + self.lm_head + self.attention + self.mlp_dense
                + self.experts_total + self.router + self.norms)

    @property
    def active(self) -> int:
        return (self.embedding + self.lm_head + self.attention + self.mlp_dense
                + self.experts_active + self.router + self.norms)


class ModelArch(BaseModel):
    """A decoder-only transformer, as its ``config.json`` describes it."""

    model_config = ConfigDict(frozen=True, extra="forbid", ignored_types=(cached_property,))

    key: str
    name: str
    hf_id: str | None = None  # the Hub repo ("meta-llama/Llama-3.1-8B"), when there is one
    aliases: list[str] = []
    layers: PositiveInt
    d_model: PositiveInt
    heads: PositiveInt
    kv_heads: PositiveInt
    head_dim: PositiveInt
    d_ff: PositiveInt  # dense MLP width (for MoE models: the dense layers' width)
    vocab: PositiveInt
    tied_embeddings: bool
    max_context: PositiveInt
    mlp: Literal["gated", "plain"] = "gated"
    norm: Literal["rmsnorm", "layernorm"] = "rmsnorm"
    norms_per_layer: PositiveInt = 2  # Gemma 2/3 have four (pre and post, attention and MLP)
    embedding_norm: bool = False  # a norm right after the embedding (BLOOM's word_embeddings_layernorm)
    qkv_bias: bool = False  # Qwen2/2.5, gpt-oss
    o_bias: bool = False  # gpt-oss
    mlp_bias: bool = False
    qk_norm: bool = False  # per-head RMSNorm on q and k (Qwen3, Gemma 3)
    attention_sinks: bool = False  # one learned logit per head (gpt-oss)
    sliding_window: PositiveInt | None = None
    # One full-attention layer in every N, the rest windowed; 0: every layer windowed (Mistral 7B
    # v0.1). Only the count of full layers (layers // N) matters to KV size and attention cost.
    global_every: int = Field(1, ge=0)
    moe: MoE | None = None
    mla: MLA | None = None
    native_dtype: Literal["bf16", "fp16", "fp8", "mxfp4"] = "bf16"
    published_params_total: PositiveInt | None = None
    published_params_active: PositiveInt | None = None
    params_source: str | None = None
    source: str
    retrieved: date

    @model_validator(mode="after")
    def _check(self) -> ModelArch:
        if self.heads % self.kv_heads:
            raise ValueError(f"heads ({self.heads}) must be a multiple of kv_heads ({self.kv_heads})")
        if self.global_every != 1 and self.sliding_window is None:
            raise ValueError(f"global_every = {self.global_every} needs sliding_window")
        if self.moe and self.moe.active_experts > self.moe.experts:
            raise ValueError("moe.active_experts exceeds moe.experts")
        return self

    # ---- parameters -------------------------------------------------------------------------
    @cached_property
    def params(self) -> ParamCounts:
        D, V, L = self.d_model, self.vocab, self.layers
        attn = self._attention_params_per_layer() * L
        norm_w = D * (2 if self.norm == "layernorm" else 1)
        norms = L * self.norms_per_layer * norm_w + norm_w  # + final norm
        if self.embedding_norm:
            norms += norm_w
        mlp_dense = expert_total = expert_active = router = 0
        moe = self.moe
        if moe is None:
            mlp_dense = L * self._mlp_params(self.d_ff, self.mlp_bias)
        else:
            moe_layers = L - moe.dense_layers
            mlp_dense = moe.dense_layers * self._mlp_params(self.d_ff, self.mlp_bias)
            shared, one = self.shared_expert_params, self.expert_params
            expert_total = moe_layers * (moe.experts * one + shared)
            expert_active = moe_layers * (moe.active_experts * one + shared)
            router = moe_layers * (D * moe.experts + (moe.experts if moe.router_bias else 0))
        return ParamCounts(
            embedding=V * D,
            lm_head=0 if self.tied_embeddings else V * D,
            attention=attn,
            mlp_dense=mlp_dense,
            experts_total=expert_total,
            experts_active=expert_active,
            router=router,
            norms=norms,
        )

    @property
    def params_total(self) -> int:
        return self.params.total

    @property
    def params_active(self) -> int:
        return self.params.active

    @property
    def matmul_params_active(self) -> int:
        """Weights that take part in a matmul for each token: everything active except the
        embedding lookup (a gather, not a matmul), norms and biases' negligible adds.
        Tied embeddings still cost a V×D matmul in the LM head."""
        p = self.params
        return p.attention + p.mlp_dense + p.experts_active + p.router + self.vocab * self.d_model

    @property
    def expert_params(self) -> int:
        """One routed expert of one layer (0 for dense models)."""
        return self._mlp_params(self.moe.d_ff_expert, self.moe.expert_bias) if self.moe else 0

    @property
    def shared_expert_params(self) -> int:
        """All shared (always-on) experts of one layer."""
        if not self.moe:
            return 0
        return self.moe.shared_experts * self._mlp_params(self.moe.d_ff_shared or self.moe.d_ff_expert, False)

    def _mlp_params(self, d_ff: int, bias: bool) -> int:
        mats = 3 if self.mlp == "gated" else 2
        n = mats * self.d_model * d_ff
        if bias:
            n += (mats - 1) * d_ff + self.d_model
        return n

    def _attention_params_per_layer(self) -> int:
        D, H = self.d_model, self.heads
        if self.mla is not None:
            m = self.mla
            qk = m.qk_nope_head_dim + m.qk_rope_head_dim
            if m.q_lora_rank:
                q = D * m.q_lora_rank + m.q_lora_rank + m.q_lora_rank * H * qk  # down, norm, up
            else:
                q = D * H * qk
            kv = D * (m.kv_lora_rank + m.qk_rope_head_dim) + m.kv_lora_rank  # down (+rope k), norm
            kv += m.kv_lora_rank * H * (m.qk_nope_head_dim + m.v_head_dim)  # up to k_nope and v
            return q + kv + H * m.v_head_dim * D
        Dh, K = self.head_dim, self.kv_heads
        n = D * H * Dh + 2 * D * K * Dh + H * Dh * D  # q, k, v, o
        if self.qkv_bias:
            n += H * Dh + 2 * K * Dh
        if self.o_bias:
            n += D
        if self.qk_norm:
            n += 2 * Dh
        if self.attention_sinks:
            n += H
        return n

    # ---- KV cache --------------------------------------------------------------------------
    @property
    def kv_elems_per_token_per_layer(self) -> int:
        """Cached elements per token per layer: K and V for every KV head (GQA), or MLA's latent
        plus its RoPE key."""
        if self.mla is not None:
            return self.mla.kv_lora_rank + self.mla.qk_rope_head_dim
        return 2 * self.kv_heads * self.head_dim

    @property
    def global_layers(self) -> int:
        """Layers that attend to the whole context (the rest are sliding-window layers)."""
        if self.sliding_window is None:
            return self.layers
        return self.layers // self.global_every if self.global_every else 0

    def kv_bytes_per_token(self, bytes_per_elem: float) -> float:
        """KV bytes one token adds while the context is within every layer's window.
        Llama-2-7B in fp16: 2 (K,V) × 32 layers × 4096 × 2 bytes = 524,288."""
        return self.kv_elems_per_token_per_layer * self.layers * bytes_per_elem

    def kv_bytes(self, context_tokens: float, bytes_per_elem: float) -> float:
        """KV bytes held by one sequence of ``context_tokens`` tokens (sliding windows capped)."""
        per_layer = self.kv_elems_per_token_per_layer * bytes_per_elem
        local_layers = self.layers - self.global_layers
        local_tokens = min(context_tokens, self.sliding_window or context_tokens)
        return per_layer * (self.global_layers * context_tokens + local_layers * local_tokens)

    def attended_tokens(self, context_tokens: float) -> float:
        """Context tokens attended per layer, averaged over layers (windows capped)."""
        local = self.layers - self.global_layers
        w = min(context_tokens, self.sliding_window or context_tokens)
        return (self.global_layers * context_tokens + local * w) / self.layers
