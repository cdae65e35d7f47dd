"""Offloading (perf/offload.py): bytes that do not fit the GPU, streamed over its host link each
step, checked by hand on a toy model; and "one 24 GB GPU + 256 GB RAM" as a priced option."""

from __future__ import annotations

from datetime import date

import pytest

from truecost.arch import ModelArch
from truecost.errors import DoesNotFitError, InputError
from truecost.hardware import GPU
from truecost.perf.engine import engine
from truecost.perf.offload import estimate_offload

# 10 layers, D = 2048, 16 heads of 128 (MHA), a plain MLP of F = 8192, a tied 1000-token vocabulary.
MODEL = ModelArch(key="toy", name="toy", layers=10, d_model=2048, heads=16, kv_heads=16, head_dim=128,
                  d_ff=8192, vocab=1000, tied_embeddings=True, max_context=8192, mlp="plain", source="test",
                  retrieved=date(2026, 11, 25))
LAYER_WEIGHTS = 4 * 2048**2 + 2 * 2048 * 8192  # q, k, v, o + up, down = 50,331,648
EMBEDDING = 1000 * 2048  # tied: one V×D table, 16-bit
NORMS = 10 * 2 * 2048 + 2048  # two RMSNorms per layer + the final one, 16-bit


def gpu(memory_gib: float, link_gb_s: float | None = 10.0) -> GPU:
    return GPU(key="toy-gpu", name="toy", vendor="nvidia", dense_tflops={"bf16": 1000}, memory_gib=memory_gib,
               memory_tb_s=1.0, interconnect="PCIe", interconnect_gb_s=16, host_link="PCIe (test)",
               host_link_gb_s=link_gb_s, tdp_w=100, usd_per_gpu_hour=1.0, source="test",
               retrieved=date(2026, 11, 25), price_source="test", price_as_of=date(2026, 11, 25))


# vLLM profile with round numbers: no runtime reserve, all free memory to the KV cache
ENGINE = engine("vllm").model_copy(update={"key": "toy-vllm", "runtime_reserve_gib": 0.0, "kv_memory_fraction": 1.0,
                                          "memory_efficiency": 1.0, "request_overhead_s": 0.0})


def test_bytes_that_do_not_fit_stream_over_the_link() -> None:
    weights = 10 * LAYER_WEIGHTS * 2 + EMBEDDING * 2 + NORMS * 2  # bf16: 2 bytes each
    g = gpu(memory_gib=0.5)  # 536,870,912 B
    e = estimate_offload(MODEL, g, precision="bf16", engine=ENGINE, isl=100, osl=100, host_ram_gb=64)
    assert e.weights_bytes == weights
    # K, V x 16 heads x 128 x 2 bytes x 10 layers x the admitted context: vLLM packs by the mean
    # live context, ISL + OSL/2 = 150 tokens (kv_admission "average")
    kv = 2 * 16 * 128 * 2 * 10 * 150
    buffer = 2 * weights / 10  # two layers being streamed
    resident = 2**29 - kv - buffer
    assert e.resident_bytes == pytest.approx(resident)
    assert e.offloaded_bytes == pytest.approx(weights - resident)
    # the link: 10 GB/s x pcie_efficiency 0.79 (BaM, ASPLOS 2023: 25 of 31.5 GB/s measured)
    assert e.host_link_bytes_per_s == pytest.approx(10e9 * 0.79)
    assert e.stream_s == pytest.approx((weights - resident) / 7.9e9)
    # serial by default (vLLM --cpu-offload-gb loads inside the forward): stream + compute
    assert e.decode_step_s == pytest.approx(e.stream_s + e.compute_s)
    assert e.binding == "host link"
    over = estimate_offload(MODEL, g, precision="bf16", engine=ENGINE, isl=100, osl=100, host_ram_gb=64,
                            overlap=True)
    assert over.decode_step_s == pytest.approx(max(e.stream_s, e.compute_s))
    assert over.decode_step_s_lower == e.decode_step_s_lower and over.decode_step_s_upper == e.decode_step_s_upper


def test_a_model_that_fits_streams_nothing() -> None:
    e = estimate_offload(MODEL, gpu(memory_gib=4), precision="bf16", engine=ENGINE, isl=100, osl=100)
    assert e.offloaded_bytes == 0 and e.stream_s == 0
    assert any("nothing is offloaded" in n for n in e.notes)


def test_batch_shares_each_streamed_byte() -> None:
    g = gpu(memory_gib=0.5)
    kw = dict(precision="bf16", engine=ENGINE, isl=100, osl=100, overlap=True)  # the step = the stream
    one = estimate_offload(MODEL, g, batch=1, **kw)
    four = estimate_offload(MODEL, g, batch=4, **kw)
    # four sequences' KV push 3 sequences' worth more weights off the GPU, each streamed once a step
    extra = 3 * 2 * 16 * 128 * 2 * 10 * 150
    assert four.batch_step_s == pytest.approx((one.offloaded_bytes + extra) / 7.9e9)
    assert four.batch_tokens_per_s == pytest.approx(4 / four.batch_step_s)
    best = estimate_offload(MODEL, g, precision="bf16", engine=ENGINE, isl=100, osl=100)
    assert best.batch_tokens_per_s >= four.batch_tokens_per_s


def test_a_24gb_gpu_with_256gb_of_ram_is_a_priced_option() -> None:
    e = estimate_offload("llama-3.1-70b", "rtx-4090", precision="int4", host_ram_gb=256)
    # rent: the catalog's $0.50/hour + 256 GB of RAM at $3/GB amortised over 4 years (8,760 h)
    assert e.usd_per_hour == pytest.approx(0.50 + 256 * 3.0 / (4 * 8760))
    assert e.usd_per_mtok == pytest.approx(e.usd_per_hour / 3600 / e.tokens_per_s * 1e6)
    # PCIe Gen4 x16: 31.5 GB/s each way (16 GT/s x 16 lanes x 128/130 / 8) x 0.79
    assert e.host_link_bytes_per_s == pytest.approx(31.5e9 * 0.79)
    assert e.stream_s == pytest.approx(e.offloaded_bytes / (31.5e9 * 0.79))
    assert 0 < e.tokens_per_s < 2  # ~17 GB streamed per token at ~25 GB/s


def test_errors_say_what_is_needed() -> None:
    with pytest.raises(DoesNotFitError, match=r"needs [\d.]+ GB of host RAM .* Raise --host-ram-gb to \d+"):
        estimate_offload("llama-3.1-70b", "rtx-4090", precision="bf16", host_ram_gb=64)
    with pytest.raises(InputError, match="b200 has no host-link bandwidth in the catalog; give it with "
                                         r"--host-link-gb-s \(PCIe Gen4 x16: 31.5, Gen5 x16: 63\)"):
        estimate_offload("llama-3.1-70b", "b200")
    with pytest.raises(InputError, match="--host-ram-gb must be a finite number of GB > 0, got nan"):
        estimate_offload("llama-3.1-70b", "rtx-4090", host_ram_gb=float("nan"))


def test_the_precision_hint_is_given_only_when_a_smaller_one_exists() -> None:
    with pytest.raises(DoesNotFitError, match=r"Raise --host-ram-gb to \d+ or use --precision int4$"):
        estimate_offload("llama-3.1-70b", "rtx-4090", precision="int8", host_ram_gb=1)
    with pytest.raises(DoesNotFitError, match=r"Raise --host-ram-gb to \d+$"):  # already 4-bit
        estimate_offload("llama-3.1-70b", "rtx-4090", precision="int4", host_ram_gb=1)
