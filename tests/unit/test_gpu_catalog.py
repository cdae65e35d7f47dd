"""The GPU/TPU catalog: datasheet figures, prices and their sources, and what a missing price
or power figure does downstream.

Each expected figure below is copied from the vendor document named beside it (the catalog's
own `source` names the same document), so a transcription slip in gpus.toml fails here.
"""

from __future__ import annotations

import pytest

from truecost import catalog, deployment_cost, train_cost
from truecost.errors import InputError

GPUS = catalog.gpus()

# (key, dtype, dense TFLOP/s, how it follows from the document)
DATASHEET_PEAKS = [
    # NVIDIA Tesla V100 datasheet, SXM2: "Tensor Performance 125 teraFLOPS" (Volta: no sparsity)
    ("v100-sxm2-32gb", "fp16", 125.0),
    # NVIDIA A100 datasheet, 80GB PCIe: "BFLOAT16 Tensor Core 312 | 624* TFLOPS" (* sparse)
    ("a100-pcie", "bf16", 312.0),
    # NVIDIA H100 datasheet, H100 NVL: "BF16 Tensor Core 1,671 TFLOPS*", "FP8 3,341*" -> half
    ("h100-nvl", "bf16", 1671 / 2),
    ("h100-nvl", "fp8", 3341 / 2),
    # GH200 datasheet: "FP8 3,958 TFLOPS*" (H100 SXM silicon) -> half
    ("gh200", "fp8", 3958 / 2),
    # GB200 NVL72: "FP4 Tensor Core 1,440 PFLOPS*", "FP16/BF16 360 PFLOPS*" per 72 GPUs -> /72/2
    ("gb200", "fp4", 1_440_000 / 72 / 2),
    ("gb200", "bf16", 360_000 / 72 / 2),
    # HGX B300: "FP4 Tensor Core 144 | 108 PFLOPS" (sparse | dense) for 8 GPUs -> 108/8
    ("b300", "fp4", 108_000 / 8),
    ("b300", "fp8", 72_000 / 8 / 2),
    # AMD MI325X datasheet: "Peak FP16 1307.4 TFLOPs" (dense), "Peak FP8 2614.9 TFLOPs"
    ("mi325x", "bf16", 1307.4),
    ("mi325x", "fp8", 2614.9),
    # Intel Gaudi 3 white paper: "1835 TFLOPS" BF16 and FP8 (MME, no sparsity)
    ("gaudi3", "bf16", 1835.0),
    ("gaudi3", "fp8", 1835.0),
    # Cloud TPU docs: v5e 197 TFLOPs bf16 / 393 TOPs int8; v5p 459 bf16; v6e 918 / 1836
    ("tpu-v5e", "bf16", 197.0),
    ("tpu-v5e", "int8", 393.0),
    ("tpu-v5p", "bf16", 459.0),
    ("tpu-v6e", "bf16", 918.0),
    ("tpu-v6e", "int8", 1836.0),
]


@pytest.mark.parametrize(("key", "dtype", "tflops"), DATASHEET_PEAKS)
def test_peaks_match_the_datasheets(key: str, dtype: str, tflops: float) -> None:
    # datasheets print four significant figures (H100-class fp8: "3,958" for 3,957.8)
    assert GPUS[key].peak_flops(dtype) == pytest.approx(tflops * 1e12, rel=5e-4)


@pytest.mark.parametrize(("key", "gib", "tb_s", "link_gb_s", "tdp_w"), [
    ("v100-sxm2-32gb", 32, 0.9, 300 / 2, 300),  # datasheet: 32 GB HBM2, 900 GB/s, NVLink 300 GB/s, 300 W
    ("a100-pcie", 80, 1.935, 64 / 2, 300),      # 80 GB HBM2e, 1,935 GB/s, PCIe Gen4 64 GB/s, 300 W
    ("mi325x", 256, 6.0, 896 / 2, 1000),        # 256 GB HBM3E, 6 TB/s, 896 GB/s IF, 1,000 W
    ("gaudi3", 128, 3.7, 21 * 200 / 8, 900),    # 128 GB HBM2e, 3.7 TB/s, 21 x 200 GbE in-node, 900 W
    ("tpu-v5e", 16, 0.819, 400 / 2, None),      # 16 GB, 819 GBps, ICI 400 GBps bidirectional
    ("tpu-v5p", 95, 2.765, 1200 / 2, None),     # 95 GiB, 2765 GBps, ICI 1200 GBps bidirectional
    ("tpu-v6e", 32, 1.638, 800 / 2, None),      # 32 GB, 1638 GBps, ICI 800 GBps bidirectional
])
def test_memory_links_and_power_match_the_datasheets(key, gib, tb_s, link_gb_s, tdp_w) -> None:
    g = GPUS[key]
    assert (g.memory_gib, g.memory_tb_s, g.interconnect_gb_s, g.tdp_w) == (gib, tb_s, link_gb_s, tdp_w)


def test_fp4_is_keyed_fp4_on_blackwell_only() -> None:
    assert {k for k, g in GPUS.items() if "fp4" in g.dense_tflops} == {"b200", "b300", "gb200", "rtx-5090"}
    assert all(g.vendor == "nvidia" for k, g in GPUS.items() if "fp4" in g.dense_tflops)


def test_the_issues_parts_are_all_there() -> None:
    wanted = {"v100-sxm2-32gb", "a100-pcie", "h100-nvl", "gh200", "b300", "gb200", "mi325x",
              "gaudi3", "tpu-v5e", "tpu-v5p", "tpu-v6e"}
    assert wanted <= set(GPUS)
    assert {GPUS[k].vendor for k in ("tpu-v5e", "gaudi3", "mi325x")} == {"google", "intel", "amd"}


# ---- prices -------------------------------------------------------------------------------------

@pytest.mark.parametrize("g", [g for g in GPUS.values() if g.usd_per_gpu_hour_reserved],
                         ids=lambda g: g.key)
def test_reserved_prices_are_sourced_and_below_on_demand(g) -> None:
    assert g.reserved_price_source and g.reserved_term_years in (1, 3)
    assert g.usd_per_gpu_hour_reserved < g.usd_per_gpu_hour


def test_published_reserved_prices() -> None:
    # Cloud TPU pricing, 3-year commitment per chip-hour; Azure 3-year reserved per GPU-hour
    got = {k: GPUS[k].usd_per_gpu_hour_reserved for k in ("tpu-v5e", "tpu-v5p", "tpu-v6e",
                                                          "v100-sxm2-32gb", "a100-pcie")}
    assert got == {"tpu-v5e": 0.54, "tpu-v5p": 1.89, "tpu-v6e": 1.22, "v100-sxm2-32gb": 1.70,
                   "a100-pcie": 2.27}


def test_a_reserved_price_needs_its_term_and_source() -> None:
    data = GPUS["h100-sxm"].model_dump() | {"usd_per_gpu_hour_reserved": 1.5}
    with pytest.raises(ValueError, match="reserved_term_years and reserved_price_source together"):
        type(GPUS["h100-sxm"]).model_validate(data)


def test_unpublished_figures_are_absent_not_guessed() -> None:
    tpus = [g for k, g in GPUS.items() if k.startswith("tpu-")]
    assert all(g.usd_purchase is None and g.tdp_w is None for g in tpus)  # rented only, power unpublished
    assert all(g.usd_per_gpu_hour for g in tpus)
    for key in ("h100-nvl", "b300", "gb200", "gaudi3"):
        assert GPUS[key].usd_per_gpu_hour is None
        assert "give usd_per_gpu_hour" in GPUS[key].price_source


def test_a_gpu_without_a_public_price_asks_for_one() -> None:
    with pytest.raises(InputError) as e:
        deployment_cost("gaudi3", 8)
    assert str(e.value) == ("gaudi3 has no public on-demand price in the catalog; give one "
                            "(usd_per_gpu_hour / --usd-per-gpu-hour)")
    assert deployment_cost("gaudi3", 8, usd_per_gpu_hour=2.0).usd_per_hour == 16.0


def test_a_tpu_cannot_be_owned() -> None:
    with pytest.raises(InputError) as e:
        deployment_cost("tpu-v6e", 8, "own")
    assert str(e.value) == ("tpu-v6e is not sold (cloud rental only), so it has no ownership "
                            "cost; price it as rented")
    # 8 chips x $2.70 on-demand
    assert deployment_cost("tpu-v6e", 8).usd_per_hour == pytest.approx(21.6)


def test_training_on_a_tpu_has_no_energy_figure_but_a_cost() -> None:
    est = train_cost(params_total=7e9, tokens=1e12, gpu="tpu-v6e", mfu=0.4)
    hours = 6 * 7e9 * 1e12 / (918e12 * 0.4) / 3600  # 31,773 chip-hours
    assert est.gpu_hours.value == pytest.approx(hours, rel=1e-12)
    assert est.usd_rent.value == pytest.approx(hours * 2.70, rel=1e-12)
    assert est.energy_mwh is None and est.co2_t is None and est.usd_own is None
    assert "energy_mwh" not in est.with_rnd() and "usd_per_gpu_hour_own" not in est.assumptions()
    with pytest.raises(InputError, match="tpu-v6e is not sold"):
        train_cost(params_total=7e9, tokens=1e12, gpu="tpu-v6e", mfu=0.4, basis="own")


def test_v100_serves_bf16_models_at_its_fp16_rate() -> None:
    g = GPUS["v100-sxm2-32gb"]
    assert g.peak_flops("bf16") == g.peak_flops("fp16") == 125e12
    with pytest.raises(InputError, match="v100-sxm2-32gb has no fp8 tensor cores"):
        g.peak_flops("fp8")
