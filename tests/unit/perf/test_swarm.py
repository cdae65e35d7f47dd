"""Swarms (perf/swarm.py) on round numbers, checked by hand arithmetic.

A toy model and GPU make every term of a decode step easy to write down:

- model: 8 layers, D = 1024, 8 heads of 128 (MHA), plain MLP F = 4096, no biases, vocab 1000.
  One layer's linear weights: 4·D² (q, k, v, o) + 2·D·F (up, down) = 4,194,304 + 8,388,608
  = 12,582,912 parameters, one byte each at int8.
- GPU: 100 GB (decimal, 93.13 GiB), 1e12 B/s memory, 1,000 dense TFLOP/s (so every op at one
  token is memory-bound), 100 W.
- engine: the petals profile with memory_efficiency 1, a 1 ms per-layer overhead, no fixed
  overhead: a layer's decode time = 1 ms + (its weights + its KV) / 1e12 B/s.
- client: the catalog's CPU client (25 GB/s; the LM head is 1000 × 1024 × 2 bytes = 2,048,000 B).
"""

from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import given, settings, strategies as st

from truecost.arch import ModelArch
from truecost.errors import DoesNotFitError, InputError, TruecostError
from truecost.hardware import GPU
from truecost.perf.engine import engine
from truecost.perf.links import Link, link
from truecost.perf.swarm import Server, _balance, estimate_swarm, parse_servers, slice_model
from truecost.provenance import Provenance

MODEL = ModelArch(key="toy", name="toy", layers=8, d_model=1024, heads=8, kv_heads=8, head_dim=128, d_ff=4096,
                  vocab=1000, tied_embeddings=True, max_context=4096, mlp="plain", source="test",
                  retrieved=date(2026, 11, 25))
LAYER_BYTES = 4 * 1024**2 + 2 * 1024 * 4096  # int8: one byte per weight
assert LAYER_BYTES == 12_582_912


def gpu(key: str = "toy-gpu", bw_tb_s: float = 1.0, memory_gib: float = 100e9 / 2**30) -> GPU:
    return GPU(key=key, name=key, vendor="nvidia", dense_tflops={"bf16": 1000, "int8": 1000}, memory_gib=memory_gib,
               memory_tb_s=bw_tb_s, interconnect="PCIe", interconnect_gb_s=32, tdp_w=100, source="test",
               retrieved=date(2026, 11, 25), price_source="test", price_as_of=date(2026, 11, 25),
               usd_per_gpu_hour=0.5)


ENGINE = engine("petals").model_copy(update={
    "key": "toy-petals", "memory_efficiency": 1.0, "step_overhead_per_layer_s": 1e-3, "step_overhead_fixed_s": 0.0,
    "runtime_reserve_gib": 0.0, "request_overhead_s": 0.0})
NET = Link("test", 0.010, 125e6, Provenance("input", "10 ms, 1 Gbit/s"))  # 10 ms RTT, 1 Gbit/s
HIDDEN = 1024 * 2  # one token's hidden state, 16-bit
CLIENT_S = 1000 * 1024 * 2 / 25e9  # the CPU client's LM head: 2,048,000 B at 25 GB/s = 81.92 us


def kv_layer_bytes(context: float) -> float:
    """K and V of 8 heads × 128 per token, 16-bit (int8 recipe keeps the KV in 16 bit)."""
    return 2 * 8 * 128 * 2 * context


def swarm(servers, **kw):  # noqa: ANN001, ANN201
    kw = {"precision": "int8", "engine": ENGINE, "isl": 1, "osl": 1, "network": NET, **kw}
    return estimate_swarm(MODEL, servers, **kw)


def test_two_server_relay_step_by_hand() -> None:
    e = swarm([Server(gpu()), Server(gpu())])
    assert [s.layers for s in e.slices] == [4, 4]  # same speed, same memory: half each
    ctx = 1.5  # ISL 1 + OSL 1 / 2: the mean context of a decode step
    layer_s = 1e-3 + (LAYER_BYTES + kv_layer_bytes(ctx)) / 1e12
    hop = 0.010 + 2 * HIDDEN / 125e6  # relay: one round trip per server, the hidden state up and back
    expected = 8 * layer_s + 2 * hop + CLIENT_S
    assert e.decode_step_s == pytest.approx(expected, rel=1e-6)
    assert e.breakdown_s["network"] == pytest.approx(2 * hop, rel=1e-9)
    assert e.breakdown_s["client"] == pytest.approx(CLIENT_S, rel=1e-9)
    assert e.tokens_per_s == pytest.approx(1 / expected, rel=1e-6)
    assert e.binding == "network"  # 20.07 ms of hops vs 8.10 ms of compute


def test_direct_routing_pays_half_a_round_trip_per_edge() -> None:
    servers_link = Link("lan", 0.002, 125e6, Provenance("input", "2 ms"))
    e = swarm([Server(gpu()), Server(gpu())], routing="direct", server_network=servers_link)
    # client -> s1 (5 ms), s1 -> s2 (1 ms), s2 -> client (5 ms), one hidden state each
    hops = 0.005 + 0.001 + 0.005 + 3 * HIDDEN / 125e6
    assert e.breakdown_s["network"] == pytest.approx(hops, rel=1e-9)


def test_layers_follow_speed_and_memory() -> None:
    # s2 streams at half the bandwidth; at a 0 overhead its layers take twice as long: 2:1.
    eng = ENGINE.model_copy(update={"step_overhead_per_layer_s": 0.0})
    e = swarm([Server(gpu("fast", 1.0)), Server(gpu("slow", 0.5))], engine=eng, osl=1)
    assert [s.layers for s in e.slices] == [5, 3]  # 8 x 2/3 = 5.33 -> 5, 8 x 1/3 = 2.67 -> 3
    # a server that holds only 2 layers is capped, the rest go to the other
    small = gpu("small", 1.0, memory_gib=2.5 * LAYER_BYTES / 2**30)
    e = swarm([Server(gpu()), Server(small)], engine=eng)
    assert [s.layers for s in e.slices] == [6, 2]


def test_share_stretches_each_stage() -> None:
    full = swarm([Server(gpu()), Server(gpu())])
    half = swarm([Server(gpu(), share=0.5), Server(gpu(), share=0.5)])
    assert half.breakdown_s["compute"] == pytest.approx(2 * full.breakdown_s["compute"], rel=1e-9)
    assert half.breakdown_s["network"] == full.breakdown_s["network"]


def test_pipelined_batch_round() -> None:
    # 4 sequences in 2 groups of 2: a round is the longer of one group's traversal and the
    # busiest server serving both groups (here the traversal: the hops dominate)
    e = swarm([Server(gpu()), Server(gpu())], concurrency=4)
    ctx = 1.5
    stage_b2 = 4 * (1e-3 + (LAYER_BYTES + 2 * kv_layer_bytes(ctx)) / 1e12)
    traversal = 2 * stage_b2 + 2 * (0.010 + 2 * 2 * HIDDEN / 125e6) + CLIENT_S
    assert e.batch_round_s == pytest.approx(max(traversal, 2 * stage_b2), rel=1e-6)
    assert e.batch_tokens_per_s == pytest.approx(4 / e.batch_round_s)


def test_prefill_sends_the_prompts_hidden_states() -> None:
    e = swarm([Server(gpu()), Server(gpu())], isl=1000, osl=10)
    network = 2 * (0.010 + 2 * 1000 * HIDDEN / 125e6)  # 2 MB up and back per server
    compute = sum(s.prefill_s for s in e.slices)
    assert e.ttft_s == pytest.approx(network + compute + CLIENT_S, rel=1e-9)


def test_rent_and_volunteer_cost() -> None:
    rented = swarm([Server(gpu()), Server(gpu(), share=0.5)])
    assert rented.usd_per_hour == pytest.approx(0.5 + 0.5 * 0.5)
    assert rented.usd_per_mtok == pytest.approx(0.75 / 3600 / rented.tokens_per_s * 1e6)
    # a GPU that always draws its 100 W TDP: power fractions idle 1, the rest 0
    flat = ENGINE.model_copy(update={"power_idle_fraction": 1.0, "power_memory_fraction": 0.0,
                                     "power_compute_fraction": 0.0})
    vol = swarm([Server(gpu(), share=0.5), Server(gpu(), share=0.5)], engine=flat, basis="volunteer")
    # 2 servers x 100 W x share 0.5 = 0.1 kW x PUE 1 x $0.165/kWh (EIA residential 2024)
    assert vol.usd_per_hour == pytest.approx(0.1 * 0.165)
    assert "electricity only" in vol.cost_note


def test_slices_scale_the_per_layer_terms() -> None:
    part = slice_model(MODEL, 2, 3)
    assert part.layers == 3 and part.params.attention == 3 * 4 * 1024**2
    assert part.kv_bytes_per_token(2) == 3 * 2 * 8 * 128 * 2


def test_memory_cap_and_kv_limit() -> None:
    tiny = gpu("tiny", memory_gib=1.0)  # 1 GiB holds 85 layers' weights but ...
    e = swarm([Server(tiny)], isl=1000, osl=1000)
    kv_seq = 8 * kv_layer_bytes(2000)  # every layer's KV of a 2,000-token sequence
    pool = (2**30 - 8 * LAYER_BYTES - 8 * 2 * 1024 * 2) * 0.9  # weights + norms, 90% of the rest
    assert e.max_sequences == math.floor(pool / kv_seq)
    with pytest.raises(DoesNotFitError, match=r"toy at int8 does not fit on 1 server\(s\)"):
        swarm([Server(gpu("crumb", memory_gib=0.02))])


def test_parse_servers() -> None:
    s = parse_servers("2x rtx-3090, rtx-4090")
    assert [x.gpu.key for x in s] == ["rtx-3090", "rtx-3090", "rtx-4090"]
    assert [x.share for x in parse_servers("3x rtx-4090", share=0.25)] == [0.25] * 3
    for bad in ("", "0x rtx-4090", "2x"):
        with pytest.raises(TruecostError):
            parse_servers(bad)
    with pytest.raises(InputError, match=r"--share must be within \(0, 1\]"):
        parse_servers("rtx-4090", share=1.5)


def test_network_presets_and_overrides() -> None:
    assert link("cross-continent").rtt_s == 0.1 and link("cross-continent").bytes_per_s == 100e6 / 8
    custom = link("same-region", rtt_ms=20, mbit_s=50)
    assert (custom.rtt_s, custom.bytes_per_s, custom.provenance.kind) == (0.02, 50e6 / 8, "input")
    with pytest.raises(InputError, match="--mbit-s must be a finite number of Mbit/s > 0, got 0"):
        link("same-region", mbit_s=0)


# ---- properties: any mix of servers, shares and networks ------------------------------------------

GPUS = ["rtx-3060", "rtx-3090", "rtx-4090", "rtx-a6000", "a100-80gb", "h100-sxm", "rtx-2080ti"]


@settings(max_examples=40, deadline=None)
@given(total=st.integers(1, 200), speeds=st.lists(st.floats(1e-3, 1e3), min_size=1, max_size=12),
       caps=st.lists(st.integers(0, 200), min_size=12, max_size=12))
def test_balance_fills_every_layer_within_the_caps(total, speeds, caps) -> None:
    caps = caps[:len(speeds)]
    if sum(caps) < total:
        caps[0] += total - sum(caps)  # the caller refuses swarms that cannot hold the model
    out = _balance(total, speeds, caps)
    assert sum(out) == total and all(0 <= k <= c for k, c in zip(out, caps))


@settings(max_examples=25, deadline=None)
@given(servers=st.lists(st.sampled_from(GPUS), min_size=2, max_size=8),
       share=st.floats(0.05, 1.0), rtt_ms=st.floats(0, 500), mbit_s=st.floats(1, 10_000),
       routing=st.sampled_from(["relay", "direct"]), isl=st.integers(1, 3000), osl=st.integers(1, 1000))
def test_any_swarm_that_fits_gives_finite_positive_figures(servers, share, rtt_ms, mbit_s, routing, isl, osl) -> None:
    try:
        e = estimate_swarm("llama-3.1-8b", ", ".join(servers), precision="int4", share=share, isl=isl, osl=osl,
                           network=link("same-region", rtt_ms=rtt_ms, mbit_s=mbit_s), routing=routing)
    except DoesNotFitError:
        return
    figures = [e.decode_step_s, e.tokens_per_s, e.ttft_s, e.batch_round_s, e.batch_tokens_per_s,
               *e.breakdown_s.values()]
    assert all(math.isfinite(x) and x >= 0 for x in figures)
    assert sum(s.layers for s in e.slices) == 32 and e.max_sequences >= 1
    assert e.decode_step_s == pytest.approx(sum(e.breakdown_s.values()))
    # a bigger batch never lowers the pipelined throughput below one sequence's
    assert e.batch_tokens_per_s >= e.tokens_per_s * (1 - 1e-9) or e.concurrency == 1
