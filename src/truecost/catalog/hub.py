"""Model architectures from Hugging Face ``config.json`` files: a local file, or fetched from the
Hub (``hf:ORG/NAME[@REVISION]``).

Each supported ``model_type`` maps its config keys onto ``ModelArch``; keys a config leaves out
take the default of that model's ``transformers`` configuration class (``GemmaConfig.head_dim`` is
256, ``MistralConfig.sliding_window`` is 4096, ...), because that is what the model runs with.
The mapping is checked by ``tests/unit/test_hub.py``: the configs of the shipped models give the
shipped architectures exactly, parameter for parameter.

Supported families: Llama (``llama``), BLOOM (``bloom``), Mistral/Mixtral, Qwen2/2.5 (q/k/v biases), Qwen3 dense and
MoE (q/k norms), DeepSeek-V2/V3 (MLA + shared experts), gpt-oss (attention sinks, biased
experts, banded attention), Gemma 1/2/3 (GeGLU, four norms from Gemma 2, text model only).
Left out: vision towers of multimodal checkpoints (only ``text_config`` is read), DeepSeek's
multi-token-prediction layers, and any model_type not listed (it is an error, not a guess).

Fetching honours ``HF_ENDPOINT`` (a mirror), ``HF_TOKEN`` (gated repos; sent only to that
endpoint, never printed) and ``HF_HUB_OFFLINE``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError

from ..arch import ModelArch
from ..errors import CatalogError, InputError

__all__ = ["HF_ENDPOINT", "arch_from_config", "fetch_config", "load_config", "looks_like_repo",
           "model_from_hub"]

HF_ENDPOINT = "https://huggingface.co"
MAX_CONFIG_BYTES = 4 * 2**20  # real config.json files are a few KB; a bigger answer is not one
MAX_LAYERS = 10_000  # the deepest published decoders have ~100-200 layers
FETCH_TIMEOUT_S = 20.0
_REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_REVISION = re.compile(r"[A-Za-z0-9._/-]{1,200}")


# ---- reading a config ---------------------------------------------------------------------------

class _Config:
    """A config dict with the family's defaults, whose reads say which key is wrong."""

    def __init__(self, data: dict[str, Any], defaults: dict[str, Any], where: str) -> None:
        self.data, self.defaults, self.where = data, defaults, where

    def get(self, key: str, default: Any = None) -> Any:
        """The config's value; an explicit null means ``default`` (transformers' own fallback,
        e.g. ``sliding_window: null`` = no window); a missing key the family's default."""
        if key in self.data:
            return default if self.data[key] is None else self.data[key]
        return self.defaults.get(key, default)

    def int(self, key: str, default: int | None = None) -> int:
        value = self.get(key, default)
        if value is None:
            raise CatalogError(f"{self.where}: missing key '{key}'")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise CatalogError(f"{self.where}: '{key}' should be a non-negative integer, got {value!r}")
        return value

    def layers(self, key: str = "num_hidden_layers") -> int:
        """``num_hidden_layers`` (BLOOM: ``n_layer``), bounded: per-layer patterns are built from it."""
        n = self.int(key)
        if not 0 < n <= MAX_LAYERS:
            raise CatalogError(f"{self.where}: {key} {n} is outside 1..{MAX_LAYERS}")
        return n

    def bool(self, key: str, default: bool = False) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise CatalogError(f"{self.where}: '{key}' should be true or false, got {value!r}")
        return value


def _is_sliding(c: _Config, layers: int, default: Callable[[int], bool] | None) -> list[bool]:
    """Which layers use windowed attention: from ``layer_types`` when the config has it, else
    the family's rule (``default``), else none."""
    types = c.data.get("layer_types")
    if types is not None:
        if not isinstance(types, list) or len(types) != layers:
            raise CatalogError(f"{c.where}: 'layer_types' should list one type per layer ({layers})")
        known = {"full_attention", "sliding_attention"}
        if bad := [t for t in types if t not in known]:
            raise CatalogError(f"{c.where}: layer type {bad[0]!r} is not supported; "
                               f"supported: {', '.join(sorted(known))}")
        return [t == "sliding_attention" for t in types]
    return [default(i) for i in range(layers)] if default else [False] * layers


def _window(c: _Config, sliding: list[bool]) -> dict[str, Any]:
    """``sliding_window`` and ``global_every`` for a per-layer pattern. Only the number of
    full-attention layers matters, so any pattern with layers // N of them is one in every N."""
    if not any(sliding):
        return {}
    window = c.int("sliding_window")
    layers, full = len(sliding), sliding.count(False)
    if full == 0:
        return {"sliding_window": window, "global_every": 0}
    every = next((n for n in range(1, layers + 1) if layers // n == full), None)
    if every is None:
        raise CatalogError(f"{c.where}: {full} full-attention layers of {layers} is not a pattern "
                           f"truecost can model (one full layer in every N)")
    return {"sliding_window": window, "global_every": every}


def _native_dtype(c: _Config) -> str:
    quant = c.data.get("quantization_config")
    method = quant.get("quant_method") if isinstance(quant, dict) else None
    if method in ("fp8", "mxfp4"):
        return method
    # Other quantised checkpoints (AWQ, GPTQ, ...) keep the config's shapes; the serving precision
    # is chosen with --precision, so the 16-bit dtype stands in.
    return {"float16": "fp16"}.get(c.get("torch_dtype") or c.get("dtype"), "bf16")


def _dense(c: _Config, **extra: Any) -> dict[str, Any]:
    """The keys every supported family shares."""
    D, H = c.int("hidden_size"), c.int("num_attention_heads")
    return {
        "layers": c.layers(), "d_model": D, "heads": H,
        "kv_heads": c.int("num_key_value_heads", H),
        "head_dim": c.int("head_dim", D // H if H else None),
        "d_ff": c.int("intermediate_size"), "vocab": c.int("vocab_size"),
        "tied_embeddings": c.bool("tie_word_embeddings"),
        "max_context": c.int("max_position_embeddings"),
        "native_dtype": _native_dtype(c),
    } | extra


def _llama(c: _Config) -> dict[str, Any]:
    bias = c.bool("attention_bias")
    layers = c.layers()
    # Mistral windows every layer when sliding_window is set (v0.1: 4096; v0.3: null).
    rule = (lambda i: True) if c.get("sliding_window") else None
    return _dense(c, qkv_bias=bias, o_bias=bias, mlp_bias=c.bool("mlp_bias")) | _window(
        c, _is_sliding(c, layers, rule))


def _mixtral(c: _Config) -> dict[str, Any]:
    moe = {"experts": c.int("num_local_experts"), "active_experts": c.int("num_experts_per_tok"),
           "d_ff_expert": c.int("intermediate_size")}
    return _llama(c) | {"moe": moe}


def _qwen2(c: _Config) -> dict[str, Any]:
    # Qwen2's q/k/v projections always carry biases (the o projection none); windowed attention
    # only with use_sliding_window, on the layers from max_window_layers up.
    layers = c.layers()
    start = c.int("max_window_layers")
    rule = (lambda i: i >= start) if c.bool("use_sliding_window") else None
    return _dense(c, qkv_bias=True) | _window(c, _is_sliding(c, layers, rule))


def _qwen3(c: _Config) -> dict[str, Any]:
    bias = c.bool("attention_bias")
    layers = c.layers()
    start = c.int("max_window_layers")
    rule = (lambda i: i >= start) if c.bool("use_sliding_window") else None
    out = _dense(c, qkv_bias=bias, o_bias=bias, qk_norm=True) | _window(c, _is_sliding(c, layers, rule))
    if c.get("model_type") == "qwen3_moe":
        sparse_step, dense_only = c.int("decoder_sparse_step"), c.get("mlp_only_layers") or []
        if not isinstance(dense_only, list):
            raise CatalogError(f"{c.where}: 'mlp_only_layers' should be a list of layer indices")
        moe_layers = sum(1 for i in range(layers) if i not in dense_only and c.int("num_experts") > 0
                         and sparse_step and (i + 1) % sparse_step == 0)
        out["moe"] = {"experts": c.int("num_experts"), "active_experts": c.int("num_experts_per_tok"),
                      "d_ff_expert": c.int("moe_intermediate_size"), "dense_layers": layers - moe_layers}
    return out


def _deepseek(c: _Config) -> dict[str, Any]:
    layers, first_dense, freq = (c.layers(), c.int("first_k_dense_replace"),
                                 c.int("moe_layer_freq"))
    moe_layers = sum(1 for i in range(layers) if i >= first_dense and freq and i % freq == 0)
    mla = {"q_lora_rank": c.get("q_lora_rank") and c.int("q_lora_rank"),
           "kv_lora_rank": c.int("kv_lora_rank"), "qk_nope_head_dim": c.int("qk_nope_head_dim"),
           "qk_rope_head_dim": c.int("qk_rope_head_dim"), "v_head_dim": c.int("v_head_dim")}
    # DeepSeek-V3's "noaux_tc" routing adds a learned bias per expert (e_score_correction_bias).
    moe = {"experts": c.int("n_routed_experts"), "active_experts": c.int("num_experts_per_tok"),
           "d_ff_expert": c.int("moe_intermediate_size"), "shared_experts": c.int("n_shared_experts"),
           "dense_layers": layers - moe_layers, "router_bias": c.get("topk_method") == "noaux_tc"}
    # head_dim is the value width (MLA has no single head width); MLA has no GQA: kv_heads = heads.
    return _dense(c, head_dim=mla["v_head_dim"], mla=mla, moe=moe)


def _gpt_oss(c: _Config) -> dict[str, Any]:
    layers, bias = c.layers(), c.bool("attention_bias")
    active = c.int("num_experts_per_tok", c.get("experts_per_token"))
    moe = {"experts": c.int("num_local_experts"), "active_experts": active,
           "d_ff_expert": c.int("intermediate_size"), "router_bias": True, "expert_bias": True}
    # The reference implementation starts with a banded layer and alternates.
    sliding = _is_sliding(c, layers, lambda i: i % 2 == 0)
    return _dense(c, qkv_bias=bias, o_bias=bias, attention_sinks=True, moe=moe) | _window(c, sliding)


def _gemma(c: _Config) -> dict[str, Any]:
    kind = c.get("model_type")
    layers = c.layers()
    out = _dense(c)
    if kind == "gemma":
        return out
    out["norms_per_layer"] = 4  # pre and post norms around attention and the MLP
    if kind == "gemma2":  # every other layer windowed, starting with the first
        return out | _window(c, _is_sliding(c, layers, lambda i: i % 2 == 0))
    # Gemma 3: one global layer in every sliding_window_pattern, the last of each group.
    pattern = c.int("sliding_window_pattern", c.get("_sliding_window_pattern"))
    return out | {"qk_norm": True} | _window(
        c, _is_sliding(c, layers, lambda i: bool(pattern) and (i + 1) % pattern != 0))


# transformers' configuration defaults for keys that real config.json files leave out
# (configuration_<family>.py, transformers 4.5x).
_LLAMA_DEFAULTS = {"max_position_embeddings": 2048, "tie_word_embeddings": False,
                   "attention_bias": False, "mlp_bias": False}
def _bloom(c: _Config) -> dict[str, Any]:
    """BLOOM: multi-head attention with ALiBi (no position weights), LayerNorm with bias (one
    more right after the embedding), biases everywhere, a GELU MLP of ``n_inner`` (null: 4·D)."""
    D, H = c.int("hidden_size"), c.int("n_head")
    return {"layers": c.layers("n_layer"), "d_model": D, "heads": H, "kv_heads": H,
            "head_dim": D // H if H else 0, "d_ff": c.int("n_inner", 4 * D), "vocab": c.int("vocab_size"),
            "tied_embeddings": c.bool("tie_word_embeddings"), "max_context": c.int("max_position_embeddings"),
            "mlp": "plain", "norm": "layernorm", "embedding_norm": True, "qkv_bias": True, "o_bias": True,
            "mlp_bias": True, "native_dtype": _native_dtype(c)}


_FAMILIES: dict[str, tuple[Callable[[_Config], dict[str, Any]], dict[str, Any]]] = {
    "llama": (_llama, _LLAMA_DEFAULTS),
    "mistral": (_llama, _LLAMA_DEFAULTS | {"max_position_embeddings": 131072, "sliding_window": 4096}),
    "mixtral": (_mixtral, _LLAMA_DEFAULTS | {"max_position_embeddings": 131072,
                                             "num_local_experts": 8, "num_experts_per_tok": 2}),
    "qwen2": (_qwen2, {"tie_word_embeddings": False, "use_sliding_window": False,
                       "sliding_window": 4096, "max_window_layers": 28}),
    "qwen3": (_qwen3, {"tie_word_embeddings": False, "attention_bias": False, "head_dim": 128,
                       "use_sliding_window": False, "sliding_window": 4096, "max_window_layers": 28}),
    "qwen3_moe": (_qwen3, {"tie_word_embeddings": False, "attention_bias": False,
                           "use_sliding_window": False, "sliding_window": 4096,
                           "max_window_layers": 28, "decoder_sparse_step": 1, "num_experts": 128,
                           "num_experts_per_tok": 8, "moe_intermediate_size": 768}),
    "deepseek_v2": (_deepseek, {"tie_word_embeddings": False, "first_k_dense_replace": 0,
                                "moe_layer_freq": 1, "n_shared_experts": 0}),
    "deepseek_v3": (_deepseek, {"tie_word_embeddings": False, "first_k_dense_replace": 3,
                                "moe_layer_freq": 1, "n_shared_experts": 1,
                                "topk_method": "noaux_tc"}),
    "gpt_oss": (_gpt_oss, {"tie_word_embeddings": False, "attention_bias": True,
                           "sliding_window": 128, "head_dim": 64}),
    # BloomConfig has no context length (ALiBi extrapolates); BLOOM was trained on 2,048 tokens.
    "bloom": (_bloom, {"tie_word_embeddings": True, "max_position_embeddings": 2048}),
    "gemma": (_gemma, {"tie_word_embeddings": True, "head_dim": 256, "vocab_size": 256000,
                       "max_position_embeddings": 8192}),
    "gemma2": (_gemma, {"tie_word_embeddings": True, "head_dim": 256, "vocab_size": 256000,
                        "max_position_embeddings": 8192, "sliding_window": 4096}),
    "gemma3_text": (_gemma, {"tie_word_embeddings": True, "head_dim": 256, "vocab_size": 262208,
                             "max_position_embeddings": 131072, "sliding_window": 4096,
                             "sliding_window_pattern": 6}),
}
_ALIASES = {"gemma3": "gemma3_text"}  # the multimodal wrapper: its text_config is the model


def arch_from_config(config: Any, *, key: str, source: str, hf_id: str | None = None,
                     name: str | None = None) -> ModelArch:
    """The architecture a Hugging Face ``config.json`` (parsed) describes.

    >>> cfg = {"model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336,
    ...        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
    ...        "vocab_size": 128256, "max_position_embeddings": 131072}
    >>> arch_from_config(cfg, key="llama-3.1-8b", source="test").params_total
    8030261248
    """
    where = source
    if not isinstance(config, dict):
        raise CatalogError(f"{where}: a config.json holds one JSON object, got {type(config).__name__}")
    kind = config.get("model_type")
    if kind in _ALIASES:
        text = config.get("text_config") or {}
        if not isinstance(text, dict):
            raise CatalogError(f"{where}: 'text_config' should be an object")
        config = {k: v for k, v in config.items() if k != "text_config"} | text
        kind = _ALIASES[kind]
    if kind not in _FAMILIES:
        raise CatalogError(f"{where}: model_type {kind!r} is not supported; supported: "
                           f"{', '.join(sorted({*_FAMILIES, *_ALIASES}))}")
    mapper, defaults = _FAMILIES[kind]
    fields = mapper(_Config({**config, "model_type": kind}, defaults, where))
    try:
        return ModelArch(key=key, name=name or key, hf_id=hf_id, source=source,
                         retrieved=date.today(), **fields)
    except ValidationError as e:
        from . import validation_message

        raise CatalogError(validation_message(where, e)) from None


def load_config(path: Path | str) -> ModelArch:
    """The architecture in a local ``config.json``; its key is the folder's name (the file's
    stem when the file is not called ``config.json``)."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise CatalogError(f"{path}: file not found") from None
    except OSError as e:
        raise CatalogError(f"{path}: cannot read: {e.strerror or e}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise CatalogError(f"{path}: larger than {MAX_CONFIG_BYTES // 2**20} MiB; not a config.json")
    config = _parse_json(raw, str(path))
    stem = path.resolve().parent.name if path.name == "config.json" else path.stem
    return arch_from_config(config, key=(stem or path.stem).lower(), name=stem or path.stem,
                            source=f"{path} (Hugging Face config.json)")


def _parse_json(raw: bytes, where: str) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CatalogError(f"{where}: invalid JSON: {e}") from None


# ---- the Hub ------------------------------------------------------------------------------------

def _split_ref(ref: str) -> tuple[str, str]:
    """``ORG/NAME[@REVISION]`` -> (repo id, revision), validated so neither can leave the path."""
    repo, _, revision = ref.partition("@")
    revision = revision or "main"
    if not _REPO_ID.fullmatch(repo) or ".." in repo:
        raise InputError(f"hf:{ref}: a Hub model is hf:ORG/NAME (letters, digits, '.', '_', '-'), "
                         f"optionally @REVISION")
    if not _REVISION.fullmatch(revision) or ".." in revision:
        raise InputError(f"hf:{ref}: invalid revision {revision!r}")
    return repo, revision


def fetch_config(ref: str, *, endpoint: str | None = None, token: str | None = None,
                 timeout_s: float = FETCH_TIMEOUT_S) -> tuple[dict[str, Any], str]:
    """Download ``config.json`` of Hub repo ``ref`` (``ORG/NAME[@REVISION]``); returns the parsed
    config and the URL it came from. ``endpoint`` and ``token`` default to ``$HF_ENDPOINT`` and
    ``$HF_TOKEN``."""
    import httpx

    repo, revision = _split_ref(ref)
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        raise InputError(f"hf:{ref}: HF_HUB_OFFLINE is set; pass a local config.json path instead")
    base = (endpoint or os.environ.get("HF_ENDPOINT") or HF_ENDPOINT).rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise InputError(f"HF_ENDPOINT must be an http(s) URL, got {base!r}")
    url = f"{base}/{repo}/resolve/{quote(revision, safe='')}/config.json"
    token = token if token is not None else os.environ.get("HF_TOKEN")
    headers = {"User-Agent": "truecost", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"  # httpx drops it on a cross-origin redirect
    try:
        with httpx.Client(follow_redirects=True, timeout=timeout_s, max_redirects=5) as client:
            with client.stream("GET", url, headers=headers) as r:
                status = r.status_code
                body = b""
                if status == 200:
                    for chunk in r.iter_bytes():
                        body += chunk
                        if len(body) > MAX_CONFIG_BYTES:
                            raise CatalogError(f"hf:{ref}: {url} sent more than "
                                               f"{MAX_CONFIG_BYTES // 2**20} MiB; not a config.json")
    except httpx.TimeoutException:
        raise CatalogError(f"hf:{ref}: {base} did not answer within {timeout_s:g} s; pass a local "
                           f"config.json path, or set HF_ENDPOINT to a mirror") from None
    except httpx.HTTPError as e:
        reason = type(e).__name__ if not str(e) else str(e).splitlines()[0][:160]
        raise CatalogError(f"hf:{ref}: cannot reach {base} ({reason}); offline? pass a local "
                           f"config.json path, or set HF_ENDPOINT to a mirror") from None
    if status in (401, 403):
        hint = ("HF_TOKEN is set but has no access to it" if token else
                "if the repo is gated, accept its licence on the Hub and set HF_TOKEN")
        raise CatalogError(f"hf:{ref}: the Hub refused access (HTTP {status}); {hint}")
    if status == 404:
        raise CatalogError(f"hf:{ref}: no config.json at {url} (HTTP 404); check the repo id "
                           f"and revision")
    if status != 200:
        raise CatalogError(f"hf:{ref}: HTTP {status} from {url}")
    return _parse_json(body, f"hf:{ref}"), url


@cache
def _cached(ref: str, endpoint: str, token_set: bool) -> ModelArch:
    config, url = fetch_config(ref, endpoint=endpoint)
    repo, _ = _split_ref(ref)
    return arch_from_config(config, key=repo.lower(), name=repo, hf_id=repo, source=url)


def model_from_hub(ref: str) -> ModelArch:
    """The architecture of Hub repo ``ref`` (``ORG/NAME[@REVISION]``), fetched once per process."""
    endpoint = (os.environ.get("HF_ENDPOINT") or HF_ENDPOINT).rstrip("/")
    return _cached(ref, endpoint, bool(os.environ.get("HF_TOKEN")))


def looks_like_repo(name: str) -> bool:
    """Whether ``name`` reads as a Hub repo id (``ORG/NAME``) rather than a file path."""
    return bool(_REPO_ID.fullmatch(name)) and ".." not in name
