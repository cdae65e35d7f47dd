"""The shipped GPU and model catalogs, name lookup, and user catalog files."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from truecost import catalog
from truecost.arch import ModelArch
from truecost.errors import CatalogError, UnknownNameError
from truecost.hardware import GPU

GPUS = catalog.gpus()
MODELS = catalog.models()


def _names(entry: GPU | ModelArch) -> list[str]:
    """Every name an entry answers to, lower-cased: key, aliases and (models) HF id."""
    names = [entry.key, *entry.aliases]
    if isinstance(entry, ModelArch):
        names.append(entry.hf_id)
    return [n.lower() for n in names]


# ---- provenance -------------------------------------------------------------------------------

@pytest.mark.parametrize("entry", [*GPUS.values(), *MODELS.values()], ids=lambda e: e.key)
def test_every_entry_names_a_source_and_a_date(entry: GPU | ModelArch) -> None:
    assert entry.source.strip()
    assert isinstance(entry.retrieved, date)
    if isinstance(entry, GPU):
        assert entry.price_source.strip()
        assert isinstance(entry.price_as_of, date)
    elif entry.published_params_total or entry.published_params_active:
        assert entry.params_source and entry.params_source.strip()


def test_catalogs_hold_the_expected_entries() -> None:
    assert {"h100-sxm", "h100-pcie", "h200", "b200", "a100-80gb", "a100-40gb", "l40s", "l4", "a10g",
            "mi300x", "rtx-4090", "h800"} <= set(GPUS)
    assert {"llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "llama-3.2-1b", "llama-3.2-3b",
            "llama-3.3-70b", "mixtral-8x7b", "qwen2.5-7b", "qwen2.5-14b", "qwen2.5-32b", "qwen2.5-72b",
            "qwen3-32b", "qwen3-235b-a22b", "mistral-7b", "deepseek-v3", "gpt-oss-20b",
            "gpt-oss-120b", "gemma-3-27b"} <= set(MODELS)


# ---- names ------------------------------------------------------------------------------------

@pytest.mark.parametrize("table", [GPUS, MODELS], ids=["gpus", "models"])
def test_no_two_entries_share_a_name(table: dict[str, GPU | ModelArch]) -> None:
    counts = Counter(n for entry in table.values() for n in set(_names(entry)))
    assert [n for n, c in counts.items() if c > 1] == []


@pytest.mark.parametrize("table", [GPUS, MODELS], ids=["gpus", "models"])
def test_keys_are_lower_case(table: dict[str, GPU | ModelArch]) -> None:
    # lookup lower-cases the name before trying keys
    assert [k for k in table if k != k.lower()] == []


@pytest.mark.parametrize("gpu", GPUS.values(), ids=lambda g: g.key)
def test_every_gpu_has_a_16_bit_peak(gpu: GPU) -> None:
    assert {"bf16", "fp16"} & set(gpu.dense_tflops)
    assert gpu.peak_flops("bf16") == gpu.peak_flops("fp16") > 0


def test_fp8_only_where_the_hardware_has_it() -> None:
    no_fp8 = {k for k, g in GPUS.items() if not g.supports("fp8")}
    assert no_fp8 == {"a100-80gb", "a100-40gb", "a10g", "a100-pcie", "v100-sxm2-32gb", "tpu-v5e",
                      "tpu-v5p", "tpu-v6e",
                      # Ampere and Turing consumer/workstation cards
                      "rtx-3090", "rtx-3060", "rtx-2080ti", "rtx-a4000", "rtx-a5000", "rtx-a6000"}
    assert {k for k, g in GPUS.items() if g.supports("fp4")} == {"b200", "b300", "gb200", "rtx-5090"}


@pytest.mark.parametrize("gpu", GPUS.values(), ids=lambda g: g.key)
def test_every_gpu_alias_finds_its_entry(gpu: GPU) -> None:
    for name in [gpu.key, *gpu.aliases]:
        assert catalog.gpu(name) is gpu
        assert catalog.gpu(name.upper()) is gpu


@pytest.mark.parametrize("model", MODELS.values(), ids=lambda m: m.key)
def test_every_model_alias_finds_its_entry(model: ModelArch) -> None:
    for name in [model.key, *model.aliases]:
        assert catalog.model(name) is model
        assert catalog.model(name.upper()) is model


def test_lookup_by_alias() -> None:
    assert catalog.gpu("H100-SXM-80GB").key == "h100-sxm"
    assert catalog.gpu("a100").key == "a100-80gb"
    assert catalog.model("Mixtral").key == "mixtral-8x7b"
    assert catalog.model("llama3.1-70b").key == "llama-3.1-70b"


def test_lookup_by_hf_id() -> None:
    # an HF id contains "/", like a path: the shipped ids must win over the file interpretation
    assert catalog.model("meta-llama/Llama-3.1-8B").key == "llama-3.1-8b"
    assert catalog.model("qwen/qwen2.5-7b").key == "qwen2.5-7b"
    assert [m.key for m in MODELS.values() if catalog.model(m.hf_id) is not m] == []


@pytest.mark.parametrize(("name", "key"), [
    # names as the validation tables (catalog/data/validation/*.csv) spell them
    ("H100-SXM-80GB", "h100-sxm"),
    ("A100-SXM4-80GB", "a100-80gb"),
    ("H800", "h800"),
])
def test_validation_gpu_names_resolve(name: str, key: str) -> None:
    assert catalog.gpu(name).key == key


@pytest.mark.parametrize(("name", "key"), [
    ("Llama-3.1-8B", "llama-3.1-8b"),
    ("Llama-3.1-70B", "llama-3.1-70b"),
    ("Llama-3.1-405B", "llama-3.1-405b"),
    ("Mixtral-8x7B", "mixtral-8x7b"),
    ("DeepSeek-V3", "deepseek-v3"),
])
def test_validation_model_names_resolve(name: str, key: str) -> None:
    assert catalog.model(name).key == key


def test_unknown_model_lists_close_names() -> None:
    with pytest.raises(UnknownNameError) as e:
        catalog.model("llama-3.1-8")
    assert str(e.value) == ("unknown model 'llama-3.1-8'; "
                            "did you mean llama-3.1-8b, llama-3.1-70b, llama-3.1-405b?")


def test_unknown_gpu_lists_close_names() -> None:
    with pytest.raises(UnknownNameError) as e:
        catalog.gpu("h100-sxn")
    assert str(e.value) == "unknown GPU 'h100-sxn'; did you mean h100-sxm, h100-nvl, h100-pcie?"


# ---- user files -------------------------------------------------------------------------------

GPU_TOML = """\
["my-gpu"]
name = "My GPU"
vendor = "nvidia"
dense_tflops = { bf16 = 100 }
memory_gib = 24
memory_tb_s = 1.0
interconnect = "PCIe Gen4 x16"
interconnect_gb_s = 32
tdp_w = 300
usd_per_gpu_hour = 0.5
usd_purchase = 2000
source = "test"
retrieved = 2026-11-22
price_source = "test"
price_as_of = 2026-11-22
"""

# Llama 2 7B as a flat file: no table header, the file name is the key.
LLAMA2_TOML = """\
name = "Llama 2 7B"
hf_id = "meta-llama/Llama-2-7b-hf"
layers = 32
d_model = 4096
heads = 32
kv_heads = 32
head_dim = 128
d_ff = 11008
vocab = 32000
tied_embeddings = false
max_context = 4096
source = "huggingface.co/meta-llama/Llama-2-7b-hf config.json"
retrieved = 2026-11-22
"""


def test_user_gpu_file_with_an_unknown_key(tmp_path: Path) -> None:
    path = tmp_path / "my-gpu.toml"
    path.write_text(GPU_TOML + "colour = \"green\"\n")
    with pytest.raises(CatalogError) as e:
        catalog.gpu(str(path))
    assert str(e.value) == f"{path} [my-gpu]: unknown key 'colour'"


def test_user_gpu_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "my-gpu.toml"
    path.write_text(GPU_TOML)
    g = catalog.gpu(str(path))
    assert (g.key, g.peak_flops("fp16")) == ("my-gpu", 100e12)


def test_user_model_file_with_an_unknown_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "path" / "to").mkdir(parents=True)
    (tmp_path / "path" / "to" / "x.toml").write_text(LLAMA2_TOML + "n_experts = 8\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CatalogError) as e:
        catalog.model("path/to/x.toml")
    assert str(e.value) == "path/to/x.toml [x]: unknown key 'n_experts'"


def test_user_model_file_with_flat_keys_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "path" / "to").mkdir(parents=True)
    (tmp_path / "path" / "to" / "x.toml").write_text(LLAMA2_TOML)
    monkeypatch.chdir(tmp_path)
    m = catalog.model("path/to/x.toml")
    assert (m.key, m.name, m.layers) == ("x", "Llama 2 7B", 32)
    # The Hub's safetensors total for Llama-2-7b-hf is 6,738,417,664: 2,048 more, the 64-wide
    # rotary inv_freq buffer its checkpoint saved in each of the 32 layers.
    assert m.params_total == 6_738_415_616
    assert m.kv_bytes_per_token(2) == 524_288


def test_missing_user_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(CatalogError) as e:
        catalog.model(str(path))
    assert str(e.value) == f"{path}: file not found"
