"""`truecost train`: table and JSON output, the helpers, every user error as one exact line on
stderr with exit status 1, and the README example as printed."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from truecost import catalog
from truecost.errors import UnknownNameError

from ..conftest import REPO

EXAMPLE = ("--model", "llama-3.1-70b", "--tokens", "15e12", "--gpu", "h100-sxm", "--gpus", "16384")


def test_table_shows_every_figure_with_its_source(cli):
    r = cli("train", *EXAMPLE)
    assert r.code == 0, r.stderr
    assert r.stderr == ""
    for label in ("MFU", "GPU-hours", "wall-clock", "cost, rented", "cost, owned", "energy", "CO2",
                  "with R&D (x5.62)", "R&D multiplier"):
        assert label in r.stdout, label
    # 6 × 70.55e9 × 15e12 / (989.4e12 × 0.40) / 3600 = 4.457M GPU-hours, 11.3 days on 16,384
    assert re.search(r"GPU-hours\s+4\.46M\s+25\.0M", r.stdout)
    assert "11.3 days" in r.stdout
    assert "catalog:Llama 3 405B pre-training" in r.stdout  # the MFU default names its run
    assert "82.2% of Olmo 3's compute" in r.stdout  # the R&D multiplier explains itself


def test_json_parses_and_carries_provenance(cli):
    r = cli("train", *EXAMPLE, "--seq-len", "8192", "--json")
    assert r.code == 0, r.stderr
    d = json.loads(r.stdout)
    final, dev = d["final_run"], d["with_rnd"]
    assert final["flops_dense"]["value"] == pytest.approx(6 * 70_553_706_496 * 15e12, rel=1e-12)
    assert final["flops_attention"]["value"] == pytest.approx(12 * 80 * 8192 * 8192 * 15e12, rel=1e-12)
    assert d["attention_material"] is True and d["attention_share"] == pytest.approx(0.152, abs=1e-3)
    m = d["assumptions"]["rnd_multiplier"]["value"]
    assert dev["usd_rent"]["value"] == pytest.approx(final["usd_rent"]["value"] * m, rel=1e-12)
    assert d["usd"] == final["usd_rent"]["value"]  # basis rent is the default headline
    assert d["assumptions"]["mfu"]["provenance"].startswith("catalog:")
    assert final["gpu_hours"]["provenance"].startswith("modelled:")
    assert d["assumptions"]["tokens"]["provenance"] == "input:given"


def test_params_instead_of_model_and_overrides(cli):
    r = cli("train", "--params-total", "671e9", "--params-active", "37e9", "--tokens", "14.8e12",
            "--gpu", "h800", "--precision", "fp8", "--usd-per-gpu-hour", "2",
            "--rnd-multiplier", "3", "--basis", "own", "--json")
    assert r.code == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["assumptions"]["mfu"]["value"] == pytest.approx(0.197)  # Hopper fp8 default
    assert d["assumptions"]["rnd_multiplier"] == {"value": 3.0, "unit": "x", "provenance": "input:3"}
    assert d["usd"] == d["final_run"]["usd_own"]["value"]
    assert d["final_run"]["usd_rent"]["value"] == pytest.approx(2 * d["final_run"]["gpu_hours"]["value"])


def test_chinchilla(cli):
    r = cli("train", "chinchilla", "--compute-flops", "5.88e23")
    assert r.code == 0, r.stderr
    assert re.search(r"parameters\s+70\.0B", r.stdout) and re.search(r"tokens\s+1\.40T", r.stdout)
    d = json.loads(cli("train", "chinchilla", "--compute-flops", "1e24", "--json").stdout)
    assert d["params"] == pytest.approx((1e24 / 120) ** 0.5)


def test_implied_mfu(cli):
    r = cli("train", "implied-mfu", "--gpu-hours", "30.84e6", "--params-total", "405.9e9",
            "--tokens", "15.6e12", "--gpu", "h100-sxm")
    assert r.code == 0, r.stderr
    assert re.search(r"implied MFU\s+0\.346", r.stdout)


def test_trend_prints_its_assumptions(cli):
    r = cli("train", "trend", "--base-usd", "40e6", "--base-year", "2023", "--to-year", "2027")
    assert r.code == 0, r.stderr
    assert re.search(r"2027\s+\$1\.33B", r.stdout)
    assert "assumption: cost grows 2.4x/year (catalog:Cottier et al." in r.stdout


# ---- user errors: one exact line, exit status 1 --------------------------------------------------

@pytest.mark.parametrize(("args", "line"), [
    (("--mfu", "1.5"), "error: MFU must be in (0, 1] (a fraction of peak FLOP/s), got 1.5"),
    (("--mfu", "0"), "error: MFU must be in (0, 1] (a fraction of peak FLOP/s), got 0"),
    (("--mfu", "-0.2"), "error: MFU must be in (0, 1] (a fraction of peak FLOP/s), got -0.2"),
    (("--rnd-multiplier", "0.5"),
     "error: R&D multiplier must be >= 1 (development includes the final run), got 0.5"),
    (("--rnd-multiplier", "olmo9"), "error: unknown R&D multiplier 'olmo9'; did you mean ai2-olmo3, epoch-low?"),
    (("--pue", "0.9"), "error: PUE must be >= 1 (facility energy / IT energy), got 0.9"),
])
def test_bad_option_one_line(cli, args, line):
    r = cli("train", "--params-total", "7e9", "--tokens", "1e12", *args)
    assert (r.code, r.stderr, r.stdout) == (1, line + "\n", "")


def test_negative_tokens(cli):
    r = cli("train", "--params-total", "7e9", "--tokens", "-1e12")
    assert (r.code, r.stderr) == (1, "error: training tokens must be positive, got -1e+12\n")


def test_missing_tokens(cli):
    r = cli("train", "--params-total", "7e9")
    assert (r.code, r.stderr) == (1, "error: give the training tokens with --tokens (e.g. --tokens 15e12)\n")


def test_unknown_hardware(cli):
    r = cli("train", "--params-total", "7e9", "--tokens", "1e12", "--gpu", "h900")
    assert r.code == 1
    assert r.stderr.startswith("error: unknown GPU 'h900'; ")
    assert r.stderr == f"error: {UnknownNameError('GPU', 'h900', catalog.gpus())}\n"
    assert r.stderr.count("\n") == 1


def test_hardware_without_published_mfu(cli, tmp_path):
    gpu = tmp_path / "my-gpu.toml"
    gpu.write_text(
        'name = "My GPU"\nvendor = "nvidia"\ndense_tflops = { bf16 = 500 }\nmemory_gib = 48\n'
        'memory_tb_s = 1\ninterconnect = "PCIe"\ninterconnect_gb_s = 32\ntdp_w = 300\n'
        'usd_per_gpu_hour = 1\nusd_purchase = 8000\nsource = "me"\nretrieved = 2026-01-01\n'
        'price_source = "me"\nprice_as_of = 2026-01-01\n')
    r = cli("train", "--params-total", "7e9", "--tokens", "1e12", "--gpu", str(gpu))
    assert (r.code, r.stderr) == (1, "error: no published training MFU for my-gpu at bf16 in "
                                     "catalog/training.toml; give one with --mfu\n")
    assert cli("train", "--params-total", "7e9", "--tokens", "1e12", "--gpu", str(gpu), "--mfu", "0.3").code == 0


# ---- the README example is what the tool prints ---------------------------------------------------

@pytest.mark.snapshot
def test_readme_example_is_current(cli, monkeypatch):
    """The example in the README's train section is what the tool prints now."""
    pattern = r"<!-- train-example:begin -->\n```text\n\$ (.*?)\n(.*?)\n```\n<!-- train-example:end -->"
    texts = [(REPO / "README.md").read_text()]
    block = next((m for t in texts if (m := re.search(pattern, t, re.S))), None)
    assert block, "the train example block is missing from README.md"
    command, printed = block.groups()
    argv = shlex.split(command)
    assert re.fullmatch(r"COLUMNS=\d+", argv[0]) and argv[1] == "truecost"
    monkeypatch.setenv("COLUMNS", argv[0].removeprefix("COLUMNS="))
    r = cli(*argv[2:])
    assert r.code == 0, r.stderr
    assert [line.rstrip() for line in r.stdout.rstrip("\n").splitlines()] == printed.splitlines()
