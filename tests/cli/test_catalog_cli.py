"""`truecost models | gpus | offers | engines | --version`, and models from config.json files.

Tables are rendered at 80 and 150 columns: no cell may be cut ("…"), every id must appear whole,
and no table row may be wider than the terminal.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import truecost
from truecost import catalog
from truecost.perf.calibrate import save_profile
from truecost.perf.engine import engine

from ..unit.test_hub import REAL_CONFIGS


def _check_fits(out: str, ids: list[str], width: int) -> None:
    assert "…" not in out
    lines = out.splitlines()
    for key in ids:
        row = next((ln for ln in lines if ln.split() and ln.split()[0] == key), None)
        assert row is not None, f"{key} missing or cut"
        assert len(row.rstrip()) <= width, row


@pytest.mark.parametrize("width", [80, 150])
@pytest.mark.parametrize(("verb", "table"), [("models", catalog.models), ("gpus", catalog.gpus)])
def test_catalog_tables_fit(cli, monkeypatch, width, verb, table) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    r = cli(verb)
    assert r.code == 0 and r.stderr == ""
    _check_fits(r.stdout, list(table()), width)
    assert "[1] " in r.stdout  # numbered sources under the table
    if width == 150:
        assert "not shown" not in r.stdout  # nothing left out when there is room


def test_gpus_at_80_columns_keep_prices_and_say_what_they_drop(cli, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    out = cli("gpus").stdout
    header = out.splitlines()[0].split()
    assert {"gpu", "GiB", "bf16", "$/h", "reserved", "src"} <= set(header)
    assert "not shown at 80 columns: TB/s, fp4 (a wider terminal or --json shows them)" in out
    row = next(ln for ln in out.splitlines() if ln.startswith("tpu-v6e "))
    assert "$2.70" in row and "$1.22 (3y)" in row  # on-demand beside the 3-year commitment


def test_models_json_is_complete(cli) -> None:
    data = json.loads(cli("models", "--json").stdout)
    assert {d["key"] for d in data} == set(catalog.models())
    d = next(d for d in data if d["key"] == "llama-3.1-8b")
    assert d["params_total"] == 8_030_261_248 and d["kv_bytes_per_token_bf16"] == 131_072
    assert d["source"] and d["retrieved"] == "2026-11-22"


def test_gpus_json_is_complete(cli) -> None:
    data = json.loads(cli("gpus", "--json").stdout)
    assert {d["key"] for d in data} == set(catalog.gpus())
    tpu = next(d for d in data if d["key"] == "tpu-v5p")
    assert (tpu["usd_per_gpu_hour"], tpu["usd_per_gpu_hour_reserved"], tpu["tdp_w"]) == (4.2, 1.89, None)


def test_model_detail_from_a_config_json(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    (tmp_path / "DeepSeek-V3").mkdir()
    path = tmp_path / "DeepSeek-V3" / "config.json"
    path.write_text(json.dumps(REAL_CONFIGS["deepseek-ai/DeepSeek-V3"][1]))
    r = cli("models", str(path))
    assert r.code == 0, r.stderr
    want = catalog.model("deepseek-v3")
    assert f"params total       {want.params_total:,}" in r.stdout
    assert "attention          MLA, 128 heads x 128" in r.stdout
    data = json.loads(cli("models", str(path), "--json").stdout)
    assert data[0]["params_active"] == want.params_active and data[0]["key"] == "deepseek-v3"


def test_estimate_takes_a_config_json(cli, tmp_path: Path) -> None:
    (tmp_path / "Qwen3-32B").mkdir()
    path = tmp_path / "Qwen3-32B" / "config.json"
    path.write_text(json.dumps(REAL_CONFIGS["Qwen/Qwen3-32B"][1]))
    from_file = json.loads(cli("estimate", "--model", str(path), "--gpu", "h100-sxm", "--precision",
                               "fp8", "--json").stdout)
    from_catalog = json.loads(cli("estimate", "--model", "qwen3-32b", "--gpu", "h100-sxm",
                                  "--precision", "fp8", "--json").stdout)
    for k in ("weights_bytes", "kv_bytes_per_token", "max_concurrency", "output_tokens_per_s"):
        assert from_file[k] == from_catalog[k], k


def test_unknown_hub_id_says_how_to_fetch_it(cli, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    r = cli("estimate", "--model", "acme/super-7b", "--gpu", "h100-sxm")
    assert r.code == 1
    assert r.stderr.strip() == ("error: unknown model 'acme/super-7b'; not in the catalog and no "
                                "such file; fetch its config with --model hf:acme/super-7b, or pass "
                                "a config.json path")


@pytest.mark.parametrize("width", [80, 150])
def test_offers_fit_and_filter(cli, monkeypatch, width) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    r = cli("offers", "--provider", "openai", "--search", "gpt-4o-mini")
    assert r.code == 0
    keys = [o.key for o in truecost.offers("openai", "gpt-4o-mini")]
    assert "openai/gpt-4o-mini" in keys
    _check_fits(r.stdout, keys, width)
    row = next(ln for ln in r.stdout.splitlines() if ln.startswith("openai/gpt-4o-mini "))
    o = truecost.offer("openai/gpt-4o-mini")
    assert f"${o.usd_per_mtok_input:.2f}" in row and f"${o.usd_per_mtok_output:.2f}" in row
    assert f"{len(keys)} offers" in r.stdout and "genai-prices" in r.stdout


def test_offers_unknown_provider(cli) -> None:
    r = cli("offers", "--provider", "opnai")
    assert r.code == 1
    assert r.stderr.strip() == "error: unknown provider 'opnai'; did you mean openai, moonshotai, zhipuai?"


def test_offers_json(cli) -> None:
    data = json.loads(cli("offers", "--search", "claude", "--json").stdout)
    assert data and all("claude" in d["key"].lower() or "claude" in d["model"].lower() for d in data)
    assert all(d["provenance"].startswith("catalog:genai-prices") for d in data)


@pytest.mark.parametrize("width", [80, 150])
def test_engines_list_shipped_and_calibrated(cli, monkeypatch, width) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    save_profile(engine("vllm").model_copy(update={
        "key": "my-vllm", "memory_efficiency": 0.61, "calibration": "fitted from runs r1, r2 on 2026-11-25"}))
    r = cli("engines")
    assert r.code == 0
    _check_fits(r.stdout, ["tuned", "vllm", "my-vllm"], width)
    row = next(ln for ln in r.stdout.splitlines() if ln.startswith("my-vllm "))
    assert "0.61" in row
    assert "calibration: fitted from runs r1, r2 on 2026-11-25" in r.stdout
    # each term's source is listed with its kind (publication / measurement / assumption)
    assert "vllm kv_memory_fraction: publication: vLLM engine arguments" in r.stdout
    assert "tuned request_overhead_s: assumption:" in r.stdout
    data = json.loads(cli("engines", "--json").stdout)
    assert [d["key"] for d in data] == ["tuned", "vllm", "petals", "my-vllm"]


def test_version(cli) -> None:
    r = cli("--version")
    assert r.code == 0 and r.stdout == f"truecost {truecost.__version__}\n"
