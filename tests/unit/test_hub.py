"""Models from Hugging Face ``config.json``: local files and the Hub (a loopback server here).

The configs below are the architecture fields of each model's real ``config.json`` on the Hub
(huggingface.co/<repo>/blob/main/config.json), keys the files leave out left out here too, so the
family defaults are exercised as they are in the wild. The oracle for the parameter counts is
the shipped catalog entry of the same model, whose counts ``test_arch.py`` checks against the
published totals (safetensors metadata, model cards): the two must agree to the parameter.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from truecost import catalog
from truecost.catalog import hub
from truecost.errors import CatalogError, InputError, UnknownNameError

LLAMA = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "attention_bias": False,
         "hidden_act": "silu", "mlp_bias": False, "rms_norm_eps": 1e-05, "torch_dtype": "bfloat16",
         "tie_word_embeddings": False, "vocab_size": 128256, "max_position_embeddings": 131072,
         "rope_scaling": {"factor": 8.0, "rope_type": "llama3"}}
QWEN25 = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_act": "silu",
          "max_position_embeddings": 131072, "sliding_window": 131072, "use_sliding_window": False,
          "tie_word_embeddings": False, "torch_dtype": "bfloat16", "vocab_size": 152064}

QWEN3 = {"attention_bias": False, "head_dim": 128, "max_position_embeddings": 40960,
         "sliding_window": None, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
         "use_sliding_window": False, "vocab_size": 151936}
GPT_OSS_20B = {
    "architectures": ["GptOssForCausalLM"], "model_type": "gpt_oss", "attention_bias": True,
    "experts_per_token": 4, "head_dim": 64, "hidden_size": 2880, "intermediate_size": 2880,
    "layer_types": ["sliding_attention", "full_attention"] * 12,
    "max_position_embeddings": 131072, "num_attention_heads": 64, "num_experts_per_tok": 4,
    "num_hidden_layers": 24, "num_key_value_heads": 8, "num_local_experts": 32,
    "quantization_config": {"quant_method": "mxfp4"}, "sliding_window": 128,
    "tie_word_embeddings": False, "torch_dtype": "bfloat16", "vocab_size": 201088}

# repo -> (catalog key, config.json architecture fields)
REAL_CONFIGS: dict[str, tuple[str, dict]] = {
    "meta-llama/Llama-3.1-8B": ("llama-3.1-8b", LLAMA | {
        "hidden_size": 4096, "intermediate_size": 14336, "num_attention_heads": 32,
        "num_hidden_layers": 32, "num_key_value_heads": 8}),
    "meta-llama/Llama-3.1-70B": ("llama-3.1-70b", LLAMA | {
        "hidden_size": 8192, "intermediate_size": 28672, "num_attention_heads": 64,
        "num_hidden_layers": 80, "num_key_value_heads": 8}),
    "meta-llama/Llama-3.1-405B": ("llama-3.1-405b", LLAMA | {
        "hidden_size": 16384, "intermediate_size": 53248, "num_attention_heads": 128,
        "num_hidden_layers": 126, "num_key_value_heads": 8}),
    "meta-llama/Llama-3.2-1B": ("llama-3.2-1b", LLAMA | {
        "hidden_size": 2048, "intermediate_size": 8192, "num_attention_heads": 32, "head_dim": 64,
        "num_hidden_layers": 16, "num_key_value_heads": 8, "tie_word_embeddings": True}),
    "meta-llama/Llama-3.2-3B": ("llama-3.2-3b", LLAMA | {
        "hidden_size": 3072, "intermediate_size": 8192, "num_attention_heads": 24, "head_dim": 128,
        "num_hidden_layers": 28, "num_key_value_heads": 8, "tie_word_embeddings": True}),
    "meta-llama/Llama-3.3-70B-Instruct": ("llama-3.3-70b", LLAMA | {
        "hidden_size": 8192, "intermediate_size": 28672, "num_attention_heads": 64,
        "num_hidden_layers": 80, "num_key_value_heads": 8}),
    "mistralai/Mixtral-8x7B-v0.1": ("mixtral-8x7b", {
        "architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "hidden_size": 4096,
        "intermediate_size": 14336, "max_position_embeddings": 32768, "num_attention_heads": 32,
        "num_experts_per_tok": 2, "num_hidden_layers": 32, "num_key_value_heads": 8,
        "num_local_experts": 8, "sliding_window": None, "tie_word_embeddings": False,
        "torch_dtype": "bfloat16", "vocab_size": 32000}),
    "mistralai/Mistral-7B-v0.3": ("mistral-7b", {
        "architectures": ["MistralForCausalLM"], "model_type": "mistral", "hidden_size": 4096,
        "intermediate_size": 14336, "max_position_embeddings": 32768, "num_attention_heads": 32,
        "num_hidden_layers": 32, "num_key_value_heads": 8, "sliding_window": None,
        "tie_word_embeddings": False, "torch_dtype": "bfloat16", "vocab_size": 32768}),
    "Qwen/Qwen2.5-7B": ("qwen2.5-7b", QWEN25 | {
        "hidden_size": 3584, "intermediate_size": 18944, "num_attention_heads": 28,
        "num_hidden_layers": 28, "num_key_value_heads": 4, "max_window_layers": 28}),
    "Qwen/Qwen2.5-14B": ("qwen2.5-14b", QWEN25 | {
        "hidden_size": 5120, "intermediate_size": 13824, "num_attention_heads": 40,
        "num_hidden_layers": 48, "num_key_value_heads": 8, "max_window_layers": 48}),
    "Qwen/Qwen2.5-32B": ("qwen2.5-32b", QWEN25 | {
        "hidden_size": 5120, "intermediate_size": 27648, "num_attention_heads": 40,
        "num_hidden_layers": 64, "num_key_value_heads": 8, "max_window_layers": 64}),
    "Qwen/Qwen2.5-72B": ("qwen2.5-72b", QWEN25 | {
        "hidden_size": 8192, "intermediate_size": 29568, "num_attention_heads": 64,
        "num_hidden_layers": 80, "num_key_value_heads": 8, "max_window_layers": 80}),
    "Qwen/Qwen3-32B": ("qwen3-32b", QWEN3 | {
        "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "hidden_size": 5120,
        "intermediate_size": 25600, "max_window_layers": 64, "num_attention_heads": 64,
        "num_hidden_layers": 64, "num_key_value_heads": 8}),
    "Qwen/Qwen3-235B-A22B": ("qwen3-235b-a22b", QWEN3 | {
        "architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe",
        "decoder_sparse_step": 1, "hidden_size": 4096, "intermediate_size": 12288,
        "max_window_layers": 94, "mlp_only_layers": [], "moe_intermediate_size": 1536,
        "norm_topk_prob": True, "num_attention_heads": 64, "num_experts": 128,
        "num_experts_per_tok": 8, "num_hidden_layers": 94, "num_key_value_heads": 4}),
    "deepseek-ai/DeepSeek-V3": ("deepseek-v3", {
        "architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
        "first_k_dense_replace": 3, "hidden_size": 7168, "intermediate_size": 18432,
        "kv_lora_rank": 512, "max_position_embeddings": 163840, "moe_intermediate_size": 2048,
        "moe_layer_freq": 1, "n_group": 8, "n_routed_experts": 256, "n_shared_experts": 1,
        "norm_topk_prob": True, "num_attention_heads": 128, "num_experts_per_tok": 8,
        "num_hidden_layers": 61, "num_key_value_heads": 128, "num_nextn_predict_layers": 1,
        "q_lora_rank": 1536, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
        "quantization_config": {"activation_scheme": "dynamic", "fmt": "e4m3",
                                "quant_method": "fp8", "weight_block_size": [128, 128]},
        "tie_word_embeddings": False, "topk_group": 4, "topk_method": "noaux_tc",
        "torch_dtype": "bfloat16", "v_head_dim": 128, "vocab_size": 129280}),
    "meta-llama/Llama-2-70b-hf": ("llama-2-70b", {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 8192,
        "intermediate_size": 28672, "max_position_embeddings": 4096, "num_attention_heads": 64,
        "num_hidden_layers": 80, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
        "tie_word_embeddings": False, "torch_dtype": "float16", "vocab_size": 32000}),
    # BLOOM's config has no context length, no n_inner value (4·D) and no torch_dtype.
    "bigscience/bloom": ("bloom-176b", {
        "architectures": ["BloomForCausalLM"], "model_type": "bloom", "hidden_size": 14336,
        "n_head": 112, "n_inner": None, "n_layer": 70, "layer_norm_epsilon": 1e-05,
        "apply_residual_connection_post_layernorm": False, "vocab_size": 250880}),
    "openai/gpt-oss-20b": ("gpt-oss-20b", GPT_OSS_20B),
    "openai/gpt-oss-120b": ("gpt-oss-120b", GPT_OSS_20B | {
        "layer_types": ["sliding_attention", "full_attention"] * 18, "num_hidden_layers": 36,
        "num_local_experts": 128}),
    # The multimodal wrapper: only text_config describes the language model, and it leaves
    # vocab_size, tie_word_embeddings and sliding_window_pattern to Gemma3TextConfig's defaults.
    "google/gemma-3-27b-it": ("gemma-3-27b", {
        "architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
        "mm_tokens_per_image": 256, "torch_dtype": "bfloat16",
        "text_config": {"head_dim": 128, "hidden_size": 5376, "intermediate_size": 21504,
                        "model_type": "gemma3_text", "num_attention_heads": 32,
                        "num_hidden_layers": 62, "num_key_value_heads": 16,
                        "query_pre_attn_scalar": 168, "sliding_window": 1024,
                        "rope_scaling": {"factor": 8.0, "rope_type": "linear"}},
        "vision_config": {"hidden_size": 1152, "model_type": "siglip_vision_model",
                          "num_hidden_layers": 27}}),
}


def test_every_shipped_model_has_its_real_config_here() -> None:
    assert {key for key, _ in REAL_CONFIGS.values()} == set(catalog.models())


@pytest.mark.parametrize("repo", REAL_CONFIGS)
def test_config_gives_the_catalog_architecture_exactly(repo: str, tmp_path: Path) -> None:
    key, config = REAL_CONFIGS[repo]
    (tmp_path / repo.split("/")[1]).mkdir()
    path = tmp_path / repo.split("/")[1] / "config.json"
    path.write_text(json.dumps(config))
    got, want = catalog.model(str(path)), catalog.model(key)
    assert got.params.model_dump() == want.params.model_dump()  # every component, exactly
    assert got.params_total == want.params_total and got.params_active == want.params_active
    assert got.kv_bytes_per_token(2) == want.kv_bytes_per_token(2)
    assert got.global_layers == want.global_layers and got.sliding_window == want.sliding_window
    assert got.kv_bytes(50_000, 1) == want.kv_bytes(50_000, 1)
    assert got.max_context == want.max_context and got.native_dtype == want.native_dtype
    assert got.key == repo.split("/")[1].lower() and got.hf_id is None


# ---- families with no shipped entry: hand-counted ----------------------------------------------

def test_mistral_v01_windows_every_layer() -> None:
    # Mistral-7B-v0.1 config: sliding_window 4096 on all 32 layers, vocab 32000.
    cfg = {"model_type": "mistral", "hidden_size": 4096, "intermediate_size": 14336,
           "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
           "max_position_embeddings": 32768, "sliding_window": 4096, "vocab_size": 32000}
    m = hub.arch_from_config(cfg, key="mistral-7b-v0.1", source="test")
    assert (m.sliding_window, m.global_layers) == (4096, 0)
    per_token = 2 * 8 * 128 * 32 * 2  # K,V x 8 heads x 128 x 32 layers x bf16 = 131,072 B
    assert m.kv_bytes(10_000, 2) == 4096 * per_token  # capped at the window
    # Published safetensors total of Mistral-7B-v0.1: 7,241,732,096
    assert m.params_total == 7_241_732_096


def test_mistral_sliding_window_default_applies_when_the_key_is_missing() -> None:
    # MistralConfig's default sliding_window is 4096: a config without the key windows every layer
    cfg = {"model_type": "mistral", "hidden_size": 64, "intermediate_size": 128,
           "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 100}
    m = hub.arch_from_config(cfg, key="x", source="t")
    assert (m.sliding_window, m.global_layers, m.kv_heads, m.max_context) == (4096, 0, 4, 131072)


def test_gemma2_alternates_and_has_four_norms() -> None:
    # Gemma-2-9B config (no layer_types): 42 layers, window 4096 on every other layer.
    cfg = {"model_type": "gemma2", "hidden_size": 3584, "intermediate_size": 14336,
           "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 256,
           "num_hidden_layers": 42, "sliding_window": 4096, "vocab_size": 256000}
    m = hub.arch_from_config(cfg, key="gemma-2-9b", source="test")
    assert (m.norms_per_layer, m.global_layers, m.tied_embeddings, m.qk_norm) == (4, 21, True, False)
    # Published safetensors total of google/gemma-2-9b: 9,241,705,984
    assert m.params_total == 9_241_705_984


def test_gemma3_layer_types_form_gives_the_same_model() -> None:
    _, cfg = REAL_CONFIGS["google/gemma-3-27b-it"]
    text = dict(cfg["text_config"])
    text["layer_types"] = ["full_attention" if (i + 1) % 6 == 0 else "sliding_attention"
                           for i in range(62)]
    a = hub.arch_from_config(text, key="a", source="t")
    b = catalog.model("gemma-3-27b")
    assert (a.global_layers, a.params_total) == (10, b.params_total)


def test_deepseek_v2_lite_has_no_q_compression_and_no_router_bias() -> None:
    # DeepSeek-V2-Lite config: q_lora_rank null, 64 experts (6 active, 2 shared), 1 dense layer.
    cfg = {"model_type": "deepseek_v2", "hidden_size": 2048, "intermediate_size": 10944,
           "moe_intermediate_size": 1408, "num_hidden_layers": 27, "num_attention_heads": 16,
           "num_key_value_heads": 16, "q_lora_rank": None, "kv_lora_rank": 512,
           "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128,
           "n_routed_experts": 64, "n_shared_experts": 2, "num_experts_per_tok": 6,
           "first_k_dense_replace": 1, "moe_layer_freq": 1, "topk_method": "greedy",
           "vocab_size": 102400, "max_position_embeddings": 163840, "tie_word_embeddings": False}
    m = hub.arch_from_config(cfg, key="deepseek-v2-lite", source="test")
    assert m.mla.q_lora_rank is None and not m.moe.router_bias
    assert (m.moe.dense_layers, m.moe.shared_experts) == (1, 2)
    # q: D x H x (128+64); kv down (+rope key) and norm; kv up; o
    per_layer = (2048 * 16 * 192 + 2048 * (512 + 64) + 512 + 512 * 16 * (128 + 128)
                 + 16 * 128 * 2048)
    assert m.params.attention == 27 * per_layer
    # Published safetensors total of deepseek-ai/DeepSeek-V2-Lite: 15,706,484,224
    assert m.params_total == 15_706_484_224


def test_qwen2_use_sliding_window_counts_the_windowed_layers() -> None:
    cfg = {"model_type": "qwen2", "hidden_size": 64, "intermediate_size": 128,
           "num_attention_heads": 4, "num_key_value_heads": 2, "num_hidden_layers": 8,
           "vocab_size": 100, "max_position_embeddings": 4096, "use_sliding_window": True,
           "sliding_window": 512, "max_window_layers": 4}  # layers 4..7 windowed
    m = hub.arch_from_config(cfg, key="x", source="t")
    assert (m.sliding_window, m.global_layers, m.global_every) == (512, 4, 2)


# ---- bad configs: one line, naming the file and the key ----------------------------------------

def _write(tmp_path: Path, text: str, name: str = "config.json") -> str:
    (tmp_path / "m").mkdir(exist_ok=True)
    path = tmp_path / "m" / name
    path.write_text(text)
    return str(path)


def test_unknown_model_type(tmp_path: Path) -> None:
    path = _write(tmp_path, json.dumps({"model_type": "phi3", "hidden_size": 1}))
    with pytest.raises(CatalogError) as e:
        catalog.model(path)
    assert str(e.value) == (f"{path} (Hugging Face config.json): model_type 'phi3' is not "
                            "supported; supported: bloom, deepseek_v2, deepseek_v3, gemma, gemma2, gemma3, "
                            "gemma3_text, gpt_oss, llama, mistral, mixtral, qwen2, qwen3, qwen3_moe")


@pytest.mark.parametrize(("text", "message"), [
    ('{"model_type": "llama"', "invalid JSON"),
    ("[1, 2]", "a config.json holds one JSON object, got list"),
    ('{"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2}',
     "missing key 'num_attention_heads'"),
    ('{"model_type": "llama", "hidden_size": "64", "num_attention_heads": 4, "num_hidden_layers": 2}',
     "'hidden_size' should be a non-negative integer, got '64'"),
    ('{"model_type": "llama", "hidden_size": true, "num_attention_heads": 4, "num_hidden_layers": 2}',
     "'hidden_size' should be a non-negative integer, got True"),
    ('{"model_type": "gpt_oss", "hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 64,'
     ' "num_hidden_layers": 2, "vocab_size": 10, "max_position_embeddings": 8, "num_local_experts": 4,'
     ' "num_experts_per_tok": 2, "layer_types": ["full_attention"]}',
     "'layer_types' should list one type per layer (2)"),
    ('{"model_type": "llama", "hidden_size": 64, "num_attention_heads": 6, "num_key_value_heads": 4,'
     ' "intermediate_size": 64, "num_hidden_layers": 2, "vocab_size": 10}',
     "heads (6) must be a multiple of kv_heads (4)"),
])
def test_bad_config_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(CatalogError) as e:
        catalog.model(path)
    assert str(e.value).startswith(f"{path}") and message in str(e.value)
    assert "\n" not in str(e.value)


def test_missing_and_oversized_files(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="nope/config.json: file not found"):
        catalog.model(str(tmp_path / "nope" / "config.json"))
    big = _write(tmp_path, "{" + " " * (hub.MAX_CONFIG_BYTES + 10) + "}")
    with pytest.raises(CatalogError, match="larger than 4 MiB; not a config.json"):
        catalog.model(big)


def test_a_bare_repo_id_outside_the_catalog_points_to_hf(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnknownNameError) as e:
        catalog.model("someorg/some-model")
    assert str(e.value) == ("unknown model 'someorg/some-model'; not in the catalog and no such "
                            "file; fetch its config with --model hf:someorg/some-model, or pass a "
                            "config.json path")


def test_an_empty_hf_id_matches_no_name(tmp_path) -> None:
    (tmp_path / "a.toml").write_text(
        'name = "A"\nlayers = 2\nd_model = 64\nheads = 4\nkv_heads = 4\nhead_dim = 16\n'
        'd_ff = 128\nvocab = 100\ntied_embeddings = true\nmax_context = 512\n'
        'source = "test"\nretrieved = 2026-11-25\n')
    m = catalog.model(str(tmp_path / "a.toml"))
    assert m.hf_id is None and m.params_total > 0
    with pytest.raises(InputError, match="empty model name"):
        catalog.model("  ")


# ---- the Hub, on loopback -----------------------------------------------------------------------

class _Hub(BaseHTTPRequestHandler):
    """Serves /<org>/<name>/resolve/<rev>/config.json from ``files``; records each request."""

    files: dict[str, bytes] = {}
    requests: list[tuple[str, str | None]] = []
    status: int = 200
    redirect: dict[str, str] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).requests.append((self.path, self.headers.get("Authorization")))
        if self.path in self.redirect:
            self.send_response(302)
            self.send_header("Location", self.redirect[self.path])
            self.end_headers()
            return
        body = self.files.get(self.path)
        status = self.status if body is not None else 404
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hub_server(monkeypatch):
    class Handler(_Hub):
        files = {}
        requests = []
        status = 200
        redirect = {}

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    hub._cached.cache_clear()
    yield Handler, endpoint
    server.shutdown()
    server.server_close()
    hub._cached.cache_clear()


def _serve(handler, repo: str, config: dict, revision: str = "main") -> None:
    handler.files[f"/{repo}/resolve/{revision}/config.json"] = json.dumps(config).encode()


def test_hf_fetch_gives_the_catalog_architecture(hub_server) -> None:
    handler, endpoint = hub_server
    _, config = REAL_CONFIGS["Qwen/Qwen3-235B-A22B"]
    _serve(handler, "Qwen/Qwen3-235B-A22B", config)
    m = catalog.model("hf:Qwen/Qwen3-235B-A22B")
    assert m.params_total == catalog.model("qwen3-235b-a22b").params_total == 235_093_634_560
    assert (m.key, m.hf_id) == ("qwen/qwen3-235b-a22b", "Qwen/Qwen3-235B-A22B")
    assert m.source == f"{endpoint}/Qwen/Qwen3-235B-A22B/resolve/main/config.json"
    catalog.model("hf:Qwen/Qwen3-235B-A22B")
    assert len(handler.requests) == 1  # fetched once per process
    assert handler.requests[0][1] is None  # no token, no Authorization header


def test_hf_token_is_sent_and_never_printed(hub_server, monkeypatch) -> None:
    handler, _ = hub_server
    monkeypatch.setenv("HF_TOKEN", "hf_secret_value_123")
    handler.status = 401
    _serve(handler, "meta-llama/Llama-3.1-8B", REAL_CONFIGS["meta-llama/Llama-3.1-8B"][1])
    with pytest.raises(CatalogError) as e:
        catalog.model("hf:meta-llama/Llama-3.1-8B")
    assert handler.requests[0][1] == "Bearer hf_secret_value_123"
    assert str(e.value) == ("hf:meta-llama/Llama-3.1-8B: the Hub refused access (HTTP 401); "
                            "HF_TOKEN is set but has no access to it")
    assert "hf_secret_value_123" not in str(e.value)


def test_hf_gated_repo_without_token(hub_server) -> None:
    handler, _ = hub_server
    handler.status = 403
    _serve(handler, "meta-llama/Llama-3.1-8B", {})
    with pytest.raises(CatalogError, match=r"HTTP 403\); if the repo is gated, accept its licence "
                                           r"on the Hub and set HF_TOKEN"):
        catalog.model("hf:meta-llama/Llama-3.1-8B")


def test_hf_revision_and_redirect(hub_server) -> None:
    handler, _ = hub_server
    _, config = REAL_CONFIGS["mistralai/Mistral-7B-v0.3"]
    _serve(handler, "mistralai/Mistral-7B-v0.3", config, revision="abc123")
    handler.redirect["/old/name/resolve/abc123/config.json"] = \
        "/mistralai/Mistral-7B-v0.3/resolve/abc123/config.json"
    m = catalog.model("hf:old/name@abc123")
    assert m.params_total == 7_248_023_552
    assert [p for p, _ in handler.requests] == ["/old/name/resolve/abc123/config.json",
                                                "/mistralai/Mistral-7B-v0.3/resolve/abc123/config.json"]


def test_hf_missing_repo(hub_server) -> None:
    _, endpoint = hub_server
    with pytest.raises(CatalogError) as e:
        catalog.model("hf:nobody/nothing")
    assert str(e.value) == (f"hf:nobody/nothing: no config.json at {endpoint}/nobody/nothing/"
                            "resolve/main/config.json (HTTP 404); check the repo id and revision")


def test_hf_oversized_answer_is_cut_off(hub_server) -> None:
    handler, _ = hub_server
    handler.files["/big/model/resolve/main/config.json"] = b" " * (hub.MAX_CONFIG_BYTES + 100)
    with pytest.raises(CatalogError, match="sent more than 4 MiB; not a config.json"):
        catalog.model("hf:big/model")


def test_hf_unreachable_and_offline(monkeypatch) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    hub._cached.cache_clear()
    with pytest.raises(CatalogError, match=rf"hf:a/b: cannot reach http://127.0.0.1:{port} \(.+\); "
                                           "offline\\? pass a local config.json path"):
        catalog.model("hf:a/b")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(InputError, match="HF_HUB_OFFLINE is set"):
        catalog.model("hf:a/b")


@pytest.mark.parametrize("ref", ["../etc/passwd", "a/b/c", "a", "a/..", "a/b@../../x", "a b/c"])
def test_hf_refs_that_could_leave_the_path_are_refused(ref: str) -> None:
    with pytest.raises(InputError):
        catalog.model(f"hf:{ref}")


def test_a_snapshot_folder_is_read_through_its_config(tmp_path: Path) -> None:
    folder = tmp_path / "Llama-3.2-1B"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(REAL_CONFIGS["meta-llama/Llama-3.2-1B"][1]))
    assert catalog.model(str(folder)).params_total == 1_235_814_400
    with pytest.raises(CatalogError, match="cannot read"):
        catalog.model(str(tmp_path) + "/")  # a folder without a config.json is not a TOML file


def test_an_absurd_depth_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    cfg = dict(REAL_CONFIGS["google/gemma-3-27b-it"][1]["text_config"], num_hidden_layers=10**9)
    with pytest.raises(CatalogError, match=r"num_hidden_layers 1000000000 is outside 1\.\.10000"):
        hub.arch_from_config(cfg, key="x", source="t")


def test_hf_token_does_not_follow_a_redirect_to_another_host(hub_server, monkeypatch) -> None:
    handler, _ = hub_server

    class Other(_Hub):
        files, requests, status, redirect = {}, [], 200, {}

    other = ThreadingHTTPServer(("127.0.0.1", 0), Other)
    threading.Thread(target=other.serve_forever, args=(0.05,), daemon=True).start()
    try:
        _serve(Other, "cdn/copy", REAL_CONFIGS["meta-llama/Llama-3.2-1B"][1])
        handler.redirect["/org/model/resolve/main/config.json"] = (
            f"http://127.0.0.1:{other.server_address[1]}/cdn/copy/resolve/main/config.json")
        monkeypatch.setenv("HF_TOKEN", "hf_secret_value_123")
        assert catalog.model("hf:org/model").params_total == 1_235_814_400
        assert handler.requests[0][1] == "Bearer hf_secret_value_123"
        assert Other.requests == [("/cdn/copy/resolve/main/config.json", None)]
    finally:
        other.shutdown()
        other.server_close()
