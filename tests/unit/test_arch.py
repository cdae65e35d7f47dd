"""Derived parameter counts and KV-cache sizes of the shipped architectures.

Parameter counts are derived from each model's transcribed ``config.json`` (truecost.arch) and
checked against the published figure in its catalog entry. Run ``pytest -s`` to see the table.
"""

from __future__ import annotations

from datetime import date

import pytest

from truecost import catalog
from truecost.arch import ModelArch

# Published figures that are rounded: the largest error the rounding allows, i.e. half a unit in
# the last published digit (absolute parameters). Every other published figure is an exact integer
# (safetensors totals on the Hub) and must be matched exactly: the derivation counts every weight
# of the checkpoint, so an off-by-anything means a transcription or formula error.
HALF_UNIT: dict[str, dict[str, float]] = {
    # model card: "22B activated" -> +-0.5B (2.3%)
    "qwen3-235b-a22b": {"active": 0.5e9},
    # paper: "671B" -> +-0.5B (0.075%); README_WEIGHTS: "36.6B" activated -> +-0.05B (0.14%)
    "deepseek-v3": {"total": 0.5e9, "active": 0.05e9},
    # gpt-oss model card Table 1: "20.91B"/"3.61B", "116.83B"/"5.13B" -> +-0.005B
    # (0.024%/0.14% and 0.0043%/0.097%)
    "gpt-oss-20b": {"total": 0.005e9, "active": 0.005e9},
    "gpt-oss-120b": {"total": 0.005e9, "active": 0.005e9},
}

# Published active counts that leave out the input embedding (a table lookup, no FLOPs): DeepSeek's
# "36.6B (including 0.9B for the output head)" and the gpt-oss card's active-per-token counts.
# For these, the derived figure compared is params_active minus the embedding.
ACTIVE_WITHOUT_EMBEDDING = {"deepseek-v3", "gpt-oss-20b", "gpt-oss-120b"}


def _rows() -> list[tuple[str, str, int, int, float]]:
    """(model, which, derived, published, allowed absolute error) for every published figure."""
    rows = []
    for key, m in catalog.models().items():
        units = HALF_UNIT.get(key, {})
        if m.published_params_total is not None:
            rows.append((key, "total", m.params_total, m.published_params_total, units.get("total", 0)))
        if m.published_params_active is not None:
            active = m.params_active
            if key in ACTIVE_WITHOUT_EMBEDDING:
                active -= m.params.embedding
            rows.append((key, "active", active, m.published_params_active, units.get("active", 0)))
    return rows


def test_derived_parameter_counts_match_published() -> None:
    rows = _rows()
    print(f"\n{'model':<18} {'count':<6} {'derived':>17} {'published':>17} {'error':>9} {'allowed':>9}")
    bad = []
    for key, which, derived, published, half_unit in rows:
        err = (derived - published) / published
        allowed = f"{half_unit / published:.4%}" if half_unit else "exact"
        print(f"{key:<18} {which:<6} {derived:>17,} {published:>17,} {err:>+9.4%} {allowed:>9}")
        if abs(derived - published) > half_unit:
            bad.append(f"{key} {which}: derived {derived:,} vs published {published:,} ({err:+.4%})")
    assert not bad, "\n".join(bad)


def test_every_shipped_model_has_a_published_total_and_tolerances_name_real_models() -> None:
    models = catalog.models()
    assert [k for k, m in models.items() if m.published_params_total is None] == []
    assert set(HALF_UNIT) <= set(models)
    assert ACTIVE_WITHOUT_EMBEDDING <= set(models)
    # an active count only makes sense for a mixture of experts
    assert all(m.moe is not None for m in models.values() if m.published_params_active is not None)


def test_moe_active_counts_only_the_routed_experts_in_use() -> None:
    m = catalog.model("mixtral-8x7b")
    p = m.params
    per_expert = 3 * 4096 * 14336
    assert p.experts_total == 32 * 8 * per_expert
    assert p.experts_active == 32 * 2 * per_expert
    assert m.params_total - m.params_active == 32 * 6 * per_expert


# ---- KV cache ---------------------------------------------------------------------------------

LLAMA2_7B = ModelArch(
    key="llama-2-7b", name="Llama 2 7B", hf_id="meta-llama/Llama-2-7b-hf",
    layers=32, d_model=4096, heads=32, kv_heads=32, head_dim=128, d_ff=11008, vocab=32000,
    tied_embeddings=False, max_context=4096, source="test", retrieved=date(2026, 11, 22),
)


def test_kv_bytes_per_token_llama2_7b_fp16() -> None:
    # 2 (K, V) x 32 layers x 32 heads x 128 x 2 bytes
    assert LLAMA2_7B.kv_bytes_per_token(2) == 524_288
    assert LLAMA2_7B.kv_bytes(1000, 2) == 1000 * 524_288


def test_kv_bytes_per_token_llama31_8b_bf16() -> None:
    # GQA: 8 KV heads instead of 32 -> a quarter of Llama 2's
    assert catalog.model("llama-3.1-8b").kv_bytes_per_token(2) == 131_072


def test_kv_bytes_per_token_deepseek_v3_mla_bf16() -> None:
    # MLA caches the 512-wide latent plus the 64-wide shared RoPE key, per layer
    assert catalog.model("deepseek-v3").kv_bytes_per_token(2) == (512 + 64) * 61 * 2


@pytest.mark.parametrize(("key", "global_layers", "window"), [
    ("gemma-3-27b", 10, 1024),  # 62 layers, one global in every 6
    ("gpt-oss-120b", 18, 128),  # 36 layers alternating banded/full
    ("gpt-oss-20b", 12, 128),
])
def test_sliding_window_kv_grows_only_on_global_layers(key: str, global_layers: int, window: int) -> None:
    m = catalog.model(key)
    assert m.sliding_window == window
    assert m.global_layers == global_layers
    per_layer_token = m.kv_elems_per_token_per_layer * 2  # bf16
    # within the window every layer keeps every token
    assert m.kv_bytes(window, 2) == window * m.kv_bytes_per_token(2)
    assert m.kv_bytes(window // 2, 2) == (window // 2) * m.layers * per_layer_token
    # past the window, each further token adds KV on the global layers only
    assert m.kv_bytes(5000, 2) - m.kv_bytes(4000, 2) == 1000 * global_layers * per_layer_token
    assert m.kv_bytes(4000, 2) == per_layer_token * (
        global_layers * 4000 + (m.layers - global_layers) * window)
    # and a dense model of the same shape would hold far more
    assert m.kv_bytes(4000, 2) < 4000 * m.kv_bytes_per_token(2)


# ---- counts of every architecture option, by hand on a 2-layer model (tests/hand.py) ------
def _hand(**over) -> ModelArch:
    from tests import hand as h

    return ModelArch(key="hand-variant", **{**h.MODEL_FIELDS, **over})


def test_mla_attention_params_by_hand() -> None:
    from truecost.arch import MLA

    mla = dict(kv_lora_rank=512, qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128)
    # q: D·H·(nope + rope) = 1024·8·192; kv: D·(r + rope) + r (norm) + r·H·(nope + v); o: H·v·D
    no_q_lora = 1024 * 8 * 192 + (1024 * 576 + 512) + 512 * 8 * 256 + 8 * 128 * 1024
    assert _hand(mla=MLA(q_lora_rank=None, **mla)).params.attention == 2 * no_q_lora == 2 * 4_260_352
    # with a 256-wide q LoRA: D·256 + 256 (norm) + 256·H·192 replaces D·H·192
    q_lora = no_q_lora - 1024 * 8 * 192 + (1024 * 256 + 256 + 256 * 8 * 192)
    assert _hand(mla=MLA(q_lora_rank=256, **mla)).params.attention == 2 * q_lora
    m = _hand(mla=MLA(q_lora_rank=None, **mla))
    assert m.kv_elems_per_token_per_layer == 576 and m.kv_bytes_per_token(1) == 576 * 2


def test_every_attention_and_mlp_option_by_hand() -> None:
    base = 2 * (1024 * 1024 + 2 * 1024 * 256 + 1024 * 1024)  # q, k, v, o of 2 layers
    assert _hand().params.attention == base
    opts = _hand(qkv_bias=True, o_bias=True, qk_norm=True, attention_sinks=True)
    # per layer: q,k,v biases 1024 + 2·256, o bias 1024, q/k norms 2·128, one sink per head (8)
    assert opts.params.attention == base + 2 * (1024 + 512 + 1024 + 256 + 8)
    plain = _hand(mlp="plain", mlp_bias=True)
    assert plain.params.mlp_dense == 2 * (2 * 1024 * 4096 + 4096 + 1024)  # up, down + their biases
    gated_bias = _hand(mlp_bias=True)
    assert gated_bias.params.mlp_dense == 2 * (3 * 1024 * 4096 + 2 * 4096 + 1024)
    ln = _hand(norm="layernorm", norms_per_layer=4)
    assert ln.params.norms == 2 * 4 * 2048 + 2048  # weight and bias, 4 per layer, + the final one
    tied = _hand(tied_embeddings=True)
    assert tied.params.lm_head == 0 and tied.params.embedding == 1024 * 1024
    assert tied.matmul_params_active == base + 2 * 3 * 1024 * 4096 + 1024 * 1024  # the LM head still multiplies


def test_moe_options_by_hand() -> None:
    from truecost.arch import MoE

    m = _hand(moe=MoE(experts=4, active_experts=1, d_ff_expert=512, shared_experts=2, router_bias=True,
                      expert_bias=True))
    one = 3 * 1024 * 512 + 2 * 512 + 1024  # gated expert with biases on its matrices
    shared = 2 * 3 * 1024 * 512  # d_ff_shared unset: the routed width; shared experts have no bias
    assert m.expert_params == one and m.shared_expert_params == shared
    assert m.params.router == 2 * (1024 * 4 + 4)
    assert m.params.experts_total == 2 * (4 * one + shared)
    assert m.params.experts_active == 2 * (1 * one + shared)
    with pytest.raises(ValueError, match="moe.active_experts exceeds moe.experts"):
        _hand(moe=MoE(experts=2, active_experts=3, d_ff_expert=8))


def test_windowed_layers_attend_their_window() -> None:
    sw = _hand(sliding_window=100, global_every=2)
    assert sw.global_layers == 1
    assert sw.attended_tokens(1000) == (1000 + 100) / 2
    assert sw.attended_tokens(50) == 50
    # K and V of 2 heads × 128 at 2 bytes = 1,024 bytes per token per layer: 1,000 + 100 tokens
    assert sw.kv_bytes(1000, 2) == (2 * 2 * 128 * 2) * (1000 + 100)
    every = _hand(sliding_window=100)  # global_every 1: every layer is global despite the window field
    assert every.global_layers == 2 and every.attended_tokens(1000) == 1000


def test_dense_first_layers_of_a_moe_and_the_embedding_norm_by_hand() -> None:
    from truecost.arch import MoE

    # 2 layers, the first dense (gated, d_ff 4096), the second a MoE of 4 experts of width 512,
    # 1 active, no shared expert, no router bias. An RMSNorm after the embedding adds D = 1,024.
    m = _hand(moe=MoE(experts=4, active_experts=1, d_ff_expert=512, dense_layers=1), embedding_norm=True)
    one = 3 * 1024 * 512
    assert m.params.mlp_dense == 1 * 3 * 1024 * 4096
    assert m.params.experts_total == 1 * 4 * one and m.params.experts_active == 1 * one
    assert m.params.router == 1 * 1024 * 4  # no bias: D weights per expert, nothing more
    assert m.shared_expert_params == 0
    assert m.params.norms == 2 * 2 * 1024 + 1024 + 1024  # 2 per layer, final, embedding
    attention = 2 * (1024 * 1024 + 2 * 1024 * 256 + 1024 * 1024)
    # matmuls per token: attention, the dense MLP, one expert, the router and the V×D LM head
    assert m.matmul_params_active == attention + 3 * 1024 * 4096 + one + 4096 + 1024 * 1024
    dense = _hand()
    assert dense.expert_params == 0 and dense.shared_expert_params == 0


def test_untied_lm_head_and_rmsnorm_by_hand() -> None:
    # tests/hand.py's model: V = 1,024, D = 1,024, untied, RMSNorm (D weights), 2 norms a layer
    m = _hand(tied_embeddings=False)
    assert m.params.lm_head == 1024 * 1024 and m.params.embedding == 1024 * 1024
    assert _hand(norm="rmsnorm").params.norms == 2 * 2 * 1024 + 1024


def test_every_layer_windowed_keeps_only_the_window() -> None:
    # global_every = 0: no full-attention layer (Mistral 7B v0.1); 2 layers x the 100-token window
    w = _hand(sliding_window=100, global_every=0)
    assert w.global_layers == 0
    assert w.kv_bytes(1000, 2) == (2 * 2 * 128 * 2) * 2 * 100


def test_dense_layers_of_a_moe_carry_the_mlp_bias() -> None:
    from truecost.arch import MoE

    # the one dense layer's gated MLP with biases: 3·D·F + 2·F (gate, up) + D (down)
    m = _hand(moe=MoE(experts=4, active_experts=1, d_ff_expert=512, dense_layers=1), mlp_bias=True)
    assert m.params.mlp_dense == 3 * 1024 * 4096 + 2 * 4096 + 1024
