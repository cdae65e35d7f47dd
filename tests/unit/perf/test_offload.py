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

from tests import hand

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


# ---- hand cases on tests/hand.py's 2-layer model: every figure worked out below ------------------
# hand.MODEL in bf16: W = 65,021,952 bytes; with 2 layers the two streamed layers' buffer is 2·W/2 = W.
# hand engine: 4 GiB runtime reserve, KV at half the free memory (kv_memory_fraction 0.5), vLLM's
# "max_length" admission (ISL + OSL), 1 ms step overhead, 512-token prefill chunks, 10 ms per request.
# On hand.COMPUTE_BOUND's peaks (unbounded bandwidth): linear layers and the LM head at 5e14 FLOP/s,
# attention at 2.5e14; the 1e30 bytes/s make every byte free (to ~1e-22 relative).
W = hand.WEIGHTS_BYTES_BF16
ISL, OSL = 1000, 24
KV_SEQ = hand.KV_BYTES_PER_TOKEN * (ISL + OSL) / 0.5  # one admitted sequence: 2,048 B × 1,024 / 0.5 = 4 MiB
RESERVE = 4 * 2**30
CTX_MEAN = ISL + OSL / 2  # the decode step's mean context: 1,012
ATTN = hand.ATTN_FLOPS_PER_PAIR_PER_LAYER  # 4,096


def decode_compute_s(b: int) -> float:
    """b sequences' decode step on hand.COMPUTE_BOUND: 1 ms + linear + LM head + attention over
    the mean context."""
    return (1e-3 + 2 * b * (hand.DENSE_PARAMS + hand.EMBED_PARAMS) / 5e14
            + b * 2 * CTX_MEAN * ATTN / 2.5e14)


# Prefill of ISL = 1,000 tokens: two chunks of 500 (the 512-token budget); the LM head runs on
# the last chunk's last token only. Causal pairs: 500·501/2 = 125,250 then 500·500 + 125,250.
PREFILL_C0 = 1e-3 + 2 * 500 * hand.DENSE_PARAMS / 5e14 + 125_250 * 2 * ATTN / 2.5e14
PREFILL_C1 = (1e-3 + 2 * 500 * hand.DENSE_PARAMS / 5e14 + 2 * hand.EMBED_PARAMS / 5e14
              + 375_250 * 2 * ATTN / 2.5e14)

# A GPU with exactly the room for 8 sequences' KV and nothing resident at batch 8:
# room(B) = memory − reserve − B·KV − buffer = (8 − B)·4 MiB.
MEM_A = RESERVE + W + 8 * KV_SEQ  # 4,393,543,680 B
LINK_GB_S = 42.2  # puts one sequence's stream between the two prefill chunks' compute (overlap case)
LINK_BPS = 42.2e9 * 0.79  # × pcie_efficiency (BaM, ASPLOS 2023)
HOST_RAM_GB = W / 9e8  # × 1e9 × 0.9 usable = W exactly: batch 8 offloads every weight and just fits
RAM_USD_H = 3.0 * HOST_RAM_GB / (4 * 8760)  # $3/GB amortised over 4 years


def hand_engine(**over: object):
    return hand.engine(**{"max_batch_size": 8, **over})


def gpu_a(**over: object) -> GPU:
    return hand.gpu("hand-offload", bf16_tflops=1000.0, memory_tb_s=hand.UNBOUNDED_TB_S,
                    memory_gib=MEM_A / 2**30, **over)


def test_a_hand_case_field_by_field() -> None:
    e = estimate_offload(hand.MODEL, gpu_a(), precision="bf16", engine=hand_engine(), isl=ISL, osl=OSL,
                         host_ram_gb=HOST_RAM_GB, host_link_gb_s=LINK_GB_S)
    resident = 7 * KV_SEQ  # 29,360,128
    offloaded = W - resident  # 35,661,824
    stream = offloaded / LINK_BPS
    compute = decode_compute_s(1)
    step = compute + stream  # serial
    # batch search, doubling to the engine's cap of 8: offloaded(B) = W − (8 − B)·KV, so tokens/s
    # B / (compute(B) + offloaded(B)/link) = 483 (B=1), 911 (2), 1,634 (4), 2,711 (8): batch 8 wins
    step8 = decode_compute_s(8) + W / LINK_BPS
    ttft = 0.01 + (PREFILL_C0 + stream) + (PREFILL_C1 + stream)
    usd_h = 2.0 + RAM_USD_H  # hand GPU's $2/hour rent + the RAM
    ram_src = "catalog:assumption: street price of DDR4/DDR5 server memory, ~$3 per GB in 2025 (it rose " \
              "sharply at the end of 2025)@2025-06-01"
    eff_src = "catalog:Qureshi et al., 'GPU-Initiated On-Demand High-Throughput Storage Access in the BaM " \
              "System Architecture' (ASPLOS 2023): measured peak of an A100's PCIe Gen4 x16 link 25 GB/s " \
              "against 31.5 GB/s per direction@2023-03-25"
    approx = {k: pytest.approx(v, rel=1e-12) for k, v in dict(
        host_link_bytes_per_s=LINK_BPS, stream_s=stream, compute_s=compute, decode_step_s=step,
        decode_step_s_lower=stream, decode_step_s_upper=step, tokens_per_s=1 / step, ttft_s=ttft,
        batch_step_s=step8, batch_tokens_per_s=8 / step8, usd_per_hour=usd_h,
        usd_per_mtok=usd_h / 3600 * step * 1e6, usd_per_mtok_batch=usd_h / 3600 * step8 / 8 * 1e6).items()}
    assert e.to_dict() == {
        "model": "hand-2l", "gpu": "hand-offload", "precision": "w:bf16 kv:bf16 mm:bf16", "engine": "hand-engine",
        "isl": ISL, "osl": OSL, "host_ram_gb": HOST_RAM_GB, "host_link": "42.2 GB/s (given)", "overlap": False,
        "weights_bytes": W, "resident_bytes": resident, "offloaded_bytes": offloaded, "batch": 8,
        "binding": "host link", "basis": "rent",
        "cost_note": f"rent: hand-offload catalog:hand-made price@2026-01-01 + {HOST_RAM_GB:g} GB RAM at $3/GB "
                     f"over 4 years ({ram_src})",
        "provenance": "modelled:offload: roofline on hand-offload (hand-engine) + 42.2 GB/s (given) x "
                      f"pcie_efficiency 0.79 ({eff_src}); gpu hand-made for tests@2026-01-01; "
                      "model hand-made for tests@2026-01-01",
        "notes": [], **approx}


def test_overlap_hides_the_shorter_of_stream_and_compute() -> None:
    e = estimate_offload(hand.MODEL, gpu_a(), precision="bf16", engine=hand_engine(), isl=ISL, osl=OSL,
                         host_ram_gb=HOST_RAM_GB, host_link_gb_s=LINK_GB_S, overlap=True)
    stream = (W - 7 * KV_SEQ) / LINK_BPS  # 1.0697 ms: above the first chunk's 1.0649, below the last's 1.0731
    assert PREFILL_C0 < stream < PREFILL_C1 - 2 * hand.EMBED_PARAMS / 5e14
    assert e.decode_step_s == pytest.approx(max(decode_compute_s(1), stream), rel=1e-12)
    assert e.decode_step_s_upper == pytest.approx(decode_compute_s(1) + stream, rel=1e-12)
    assert e.ttft_s == pytest.approx(0.01 + stream + PREFILL_C1, rel=1e-12)
    # every batch is stream-bound: tokens/s = B·link / offloaded(B), largest at B = 8 (W offloaded)
    assert (e.batch, e.batch_step_s) == (8, pytest.approx(W / LINK_BPS, rel=1e-12))


def test_the_batch_search_keeps_the_smallest_of_equal_batches() -> None:
    # memory = reserve + 2·W: room(B) = W − B·KV, so each sequence pushes exactly its own KV's worth
    # of weights off the GPU; stream-bound (1 GB/s link), every batch gives link / KV tokens/s
    g = hand.gpu("hand-tie", bf16_tflops=1000.0, memory_tb_s=hand.UNBOUNDED_TB_S,
                 memory_gib=(RESERVE + 2 * W) / 2**30)
    e = estimate_offload(hand.MODEL, g, precision="bf16", engine=hand_engine(max_batch_size=4096), isl=ISL,
                         osl=OSL, host_link_gb_s=1, overlap=True)
    assert e.offloaded_bytes == KV_SEQ
    assert e.tokens_per_s == pytest.approx(0.79e9 / KV_SEQ, rel=1e-12)
    assert (e.batch, e.batch_tokens_per_s) == (1, pytest.approx(0.79e9 / KV_SEQ, rel=1e-12))


def test_owning_the_gpu_prices_its_modelled_power() -> None:
    e = estimate_offload(hand.MODEL, gpu_a(), precision="bf16", engine=hand_engine(), isl=ISL, osl=OSL,
                         host_ram_gb=HOST_RAM_GB, host_link_gb_s=LINK_GB_S, basis="own")
    # power at batch 1 over the mean context (1,012 tokens, 2 layers): FLOPs of linear + LM head +
    # attention over the step (the step once took the layer count, 2, for the context)
    flops = 2 * (hand.DENSE_PARAMS + hand.EMBED_PARAMS) + 2 * CTX_MEAN * ATTN
    t = decode_compute_s(1)
    busy_w = 1000 * (0.15 + 1.55 * flops / 1e15 / t)  # TDP × (idle + compute fraction × FLOP/s / peak)
    stream = (W - 7 * KV_SEQ) / LINK_BPS
    mean_w = 150 + (busy_w - 150) * decode_compute_s(1) / (decode_compute_s(1) + stream)  # idle while streaming
    capex = 20_000 * 1.45 / (4 * 8760)  # +45% server, 4 years
    energy = mean_w / 1000 * 1.3 * 0.08  # PUE 1.3, $0.08/kWh
    assert e.basis == "own"
    assert e.usd_per_hour == pytest.approx(capex + energy + RAM_USD_H, rel=1e-12)


def test_a_given_gpu_price_and_a_gpu_without_tdp() -> None:
    e = estimate_offload(hand.MODEL, gpu_a(tdp_w=None), precision="bf16", engine=hand_engine(), isl=ISL,
                         osl=OSL, host_ram_gb=HOST_RAM_GB, host_link_gb_s=LINK_GB_S, usd_per_gpu_hour=5.0)
    assert e.usd_per_hour == pytest.approx(5.0 + RAM_USD_H, rel=1e-12)
    assert e.cost_note.startswith("rent: hand-offload input:5.0 $/GPU-hour + ")


def test_a_model_that_fits_is_compute_bound() -> None:
    g = hand.gpu("hand-compute", bf16_tflops=1000.0, memory_tb_s=hand.UNBOUNDED_TB_S)  # 64 GiB
    e = estimate_offload(hand.MODEL, g, precision="bf16", engine=hand_engine(), isl=ISL, osl=OSL,
                         host_link_gb_s=0.5)  # any link above 0 is valid, 0.5 GB/s too
    assert (e.offloaded_bytes, e.stream_s, e.binding) == (0, 0, "compute")
    assert e.host_link_bytes_per_s == pytest.approx(0.5e9 * 0.79, rel=1e-12)
    assert e.notes == ["hand-2l at bf16 fits on one hand-compute: nothing is offloaded"]


def test_the_documented_defaults() -> None:
    g = hand.gpu("hand-compute", bf16_tflops=1000.0, memory_tb_s=hand.UNBOUNDED_TB_S, host_link="PCIe Gen4 x16",
                 host_link_gb_s=31.5)
    e = estimate_offload(hand.MODEL, g)
    assert (e.isl, e.osl, e.host_ram_gb, e.engine, e.overlap, e.basis) == (1000, 200, 256.0, "vllm", False, "rent")
    assert e.precision.startswith("w:int4 ")
    assert e.host_link == "PCIe Gen4 x16 31.5 GB/s"


def one_line(exc: pytest.ExceptionInfo) -> str:
    return str(exc.value)


@pytest.mark.parametrize(("kw", "message"), [
    (dict(isl=0), "--isl must be at least 1 token, got 0"),
    (dict(osl=0), "--osl must be at least 1 token, got 0"),
    (dict(isl=2000, osl=49), "isl+osl = 2049 exceeds hand-2k's context of 2048 tokens"),
    (dict(host_ram_gb=float("inf")), "--host-ram-gb must be a finite number of GB > 0, got inf"),
    (dict(host_ram_gb=0.0), "--host-ram-gb must be a finite number of GB > 0, got 0"),
    (dict(batch=0), "--batch must be at least 1, got 0"),
    (dict(host_link_gb_s=float("inf")), "--host-link-gb-s must be a finite number of GB/s > 0, got inf"),
    (dict(host_link_gb_s=0.0), "--host-link-gb-s must be a finite number of GB/s > 0, got 0"),
])
def test_bad_input_says_what_is_wrong(kw: dict, message: str) -> None:
    model = hand.MODEL.model_copy(update={"key": "hand-2k", "max_context": 2048})
    args = {"precision": "bf16", "engine": hand_engine(), "host_link_gb_s": 10.0, "isl": 100, "osl": 100, **kw}
    with pytest.raises(InputError) as exc:
        estimate_offload(model, gpu_a(), **args)
    assert one_line(exc) == message


def test_the_shortest_and_the_longest_requests_are_valid() -> None:
    model = hand.MODEL.model_copy(update={"key": "hand-2k", "max_context": 2048})
    g = hand.gpu("hand-compute", bf16_tflops=1000.0, memory_tb_s=hand.UNBOUNDED_TB_S)
    for isl, osl in ((1, 1), (2000, 48)):  # isl + osl = the context is allowed
        assert estimate_offload(model, g, precision="bf16", engine=hand_engine(), isl=isl, osl=osl,
                                host_link_gb_s=10.0).isl == isl


def test_a_batch_too_large_to_leave_room() -> None:
    with pytest.raises(DoesNotFitError) as exc:  # room(16) = (8 − 16)·4 MiB < 0
        estimate_offload(hand.MODEL, gpu_a(), precision="bf16", engine=hand_engine(), isl=ISL, osl=OSL,
                         host_link_gb_s=LINK_GB_S, batch=16)
    assert one_line(exc) == ("16 sequences of 1,024 tokens leave no GPU memory to stream hand-2l's weights "
                             "through on hand-offload; use a smaller --batch")


def test_a_gpu_that_cannot_hold_the_runtime_one_sequence_and_two_layers() -> None:
    # 4 GiB + KV of 87,890 tokens (2,048 B × 87,890 / 0.5 = 359,997,440) + W = 4,719,986,688 B
    g = hand.gpu("hand-small", memory_gib=4.375)  # 4,697,620,480 B
    with pytest.raises(DoesNotFitError) as exc:
        estimate_offload(hand.MODEL, g, precision="bf16", engine=hand_engine(), isl=87_000, osl=890,
                         host_link_gb_s=10.0)
    assert one_line(exc) == ("hand-small (4.7 GB) cannot hold even the runtime, one 87,890-token sequence's KV "
                             "and two streamed layers (4.7 GB); use a larger GPU or a shorter context")


def test_a_gpu_with_exactly_the_runtime_one_sequence_and_two_layers_streams_everything() -> None:
    # memory = 4 GiB + 4 MiB of KV + W: no room for resident weights, all W (0.065 GB) from host RAM,
    # of which 0.01 GB gives 0.009 usable: raise it to ⌈0.065 / 0.9⌉ = 1 GB
    g = hand.gpu("hand-exact", memory_gib=(RESERVE + KV_SEQ + W) / 2**30)
    with pytest.raises(DoesNotFitError) as exc:
        estimate_offload(hand.MODEL, g, precision="bf16", engine=hand_engine(), isl=ISL, osl=OSL,
                         host_ram_gb=0.01, host_link_gb_s=10.0)
    assert one_line(exc) == ("hand-2l at bf16 needs 0.1 GB of host RAM for the weights hand-exact cannot hold; "
                             "0.01 GB of RAM gives 0.0 GB usable. Raise --host-ram-gb to 1 or use --precision int4")


def test_host_ram_message_counts_room_and_usable_fraction() -> None:
    # toy on 0.5 GiB: room = 536,870,912 − 1,228,800 KV − 202,162,995.2 buffer = 333,479,116.8, so
    # need = 1,010,814,976 − 333,479,116.8 = 677,335,859.2 B; 0.6 GB × 0.9 = 0.54 GB usable
    with pytest.raises(DoesNotFitError) as exc:
        estimate_offload(MODEL, gpu(memory_gib=0.5), precision="bf16", engine=ENGINE, isl=100, osl=100,
                         host_ram_gb=0.6)
    assert one_line(exc) == ("toy at bf16 needs 0.7 GB of host RAM for the weights toy-gpu cannot hold; "
                             "0.6 GB of RAM gives 0.5 GB usable. Raise --host-ram-gb to 1 or use --precision int4")


def test_a_stream_as_long_as_the_compute_counts_as_host_link_bound() -> None:
    # hand.FAST: a step costs its 1 ms overhead alone. Offload 7.9 MB over 10 GB/s × 0.79: 1 ms too.
    # memory = reserve + KV + buffer (W) + resident (W − 7.9 MB)
    g = hand.gpu("hand-fast", bf16_tflops=hand.UNBOUNDED_TFLOPS, memory_tb_s=hand.UNBOUNDED_TB_S,
                 memory_gib=(RESERVE + KV_SEQ + 2 * W - 7_900_000) / 2**30)
    e = estimate_offload(hand.MODEL, g, precision="bf16", engine=hand_engine(), isl=ISL, osl=OSL,
                         host_link_gb_s=10.0)
    assert (e.offloaded_bytes, e.compute_s, e.stream_s, e.binding) == (7_900_000, 0.001, 0.001, "host link")
