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

import truecost.perf.swarm as swarm_module
from truecost.arch import ModelArch, MoE
from truecost.errors import DoesNotFitError, InputError, TruecostError
from truecost.hardware import GPU, PrecisionName
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


# ---- rich hand cases: every field of a 2- and a 3-server swarm, written out ---------------------

LINEAR_NORMS = LAYER_BYTES + 2 * 1024 * 2  # a slice's layer: int8 linear weights + two 16-bit norms of D
# slice_model makes a slice a model of its own, with a final norm of D (2,048 bytes 16-bit) on every server
# (the client really holds it with the LM head: a 2 KB overcount per server, reported)
FINAL_NORM = 1024 * 2
KV_TOKEN_LAYER = 2 * 8 * 128 * 2  # 4,096 bytes of K and V per token per layer


def assert_fields(got: dict, want: dict) -> None:
    """Every key in order; numbers to 1e-9 relative, everything else exactly."""
    assert list(got) == list(want)
    for k, v in want.items():
        assert got[k] == (pytest.approx(v, rel=1e-9) if isinstance(v, float) else v), k


def priced(key: str, price_source: str, **kw) -> GPU:  # noqa: ANN003
    return gpu(key, **kw).model_copy(update={"price_source": price_source})


def test_two_server_swarm_every_field_by_hand() -> None:
    # a 1 GiB runtime reserve, 50 ms to open a session, a flat 100 W board (idle fraction 1)
    eng = ENGINE.model_copy(update={"runtime_reserve_gib": 1.0, "request_overhead_s": 0.05,
                                    "power_idle_fraction": 1.0, "power_memory_fraction": 0.0,
                                    "power_compute_fraction": 0.0})
    e = swarm([Server(priced("a", "a's rent")), Server(priced("b", "b's rent"), share=0.5, usd_per_gpu_hour=2.0)],
              engine=eng, isl=100, osl=200, concurrency=2)
    # decode at the mean context 100 + 200/2 = 200 tokens: one layer = 1 ms + its weights and KV at 1 TB/s
    t_layer = 1e-3 + (LAYER_BYTES + KV_TOKEN_LAYER * 200) / 1e12
    # speed ∝ share / t_layer: 1 : 0.5 -> 8 x 2/3 = 5.33 and 2.67 -> floors 5 and 2, the larger remainder (b) +1
    dec = [5 * t_layer, 3 * t_layer / 0.5]
    # prefill of 100 tokens, memory-bound (200 FLOP per weight at 0.24 PFLOP/s is 0.83 ps < 1 ps per byte):
    # 1 ms per layer + weights + the 100 tokens' KV written
    pre_layer = 1e-3 + (LAYER_BYTES + KV_TOKEN_LAYER * 100) / 1e12
    pre = [5 * pre_layer, 3 * pre_layer / 0.5]
    hop = 0.010 + 2 * HIDDEN / 125e6
    step = sum(dec) + 2 * hop + CLIENT_S
    ttft = 0.05 + sum(pre) + 2 * (0.010 + 2 * 100 * HIDDEN / 125e6) + CLIENT_S
    # KV pool: (100 GB - 1 GiB - the slice's weights) x 0.9, sequences admitted at ISL + OSL = 300 tokens
    pool = [(100e9 - 2**30 - k * LINEAR_NORMS - FINAL_NORM) * 0.9 for k in (5, 3)]
    per_seq = [k * KV_TOKEN_LAYER * 300 for k in (5, 3)]
    assert [math.floor(p / q) for p, q in zip(pool, per_seq)] == [14481, 24142]  # both above 256 (max batch)
    # 2 sequences in 2 groups of 1: the traversal (= one step) beats 2 x the slower stage (b: 6 t_layer)
    assert step > 2 * dec[1]
    usd_h = 0.5 * 1 + 2.0 * 0.5  # a: catalog rent x share 1; b: its own $2/h x share 0.5
    d = e.to_dict()
    assert list(d) == ["model", "precision", "engine", "routing", "network", "server_network", "client", "isl",
                       "osl", "slices", "decode_step_s", "breakdown_s", "tokens_per_s", "ttft_s", "max_sequences",
                       "concurrency", "batch_round_s", "batch_tokens_per_s", "binding", "basis", "usd_per_hour",
                       "usd_per_mtok", "usd_per_mtok_batch", "cost_note", "provenance", "notes"]
    slices = [{"server": i, "gpu": g, "first_layer": first, "layers": k, "share": share,
               "weights_bytes": k * LINEAR_NORMS + FINAL_NORM, "kv_bytes_per_sequence": per_seq[i],
               "max_sequences": math.floor(pool[i] / per_seq[i]), "decode_s": dec[i], "prefill_s": pre[i],
               "hop_s": hop, "watts": 100.0, "link": "test (10 ms, 1,000 Mbit/s)"}
              for i, (g, first, k, share) in enumerate([("a", 0, 5, 1.0), ("b", 5, 3, 0.5)])]
    assert len(d["slices"]) == 2
    for got, want in zip(d["slices"], slices):
        assert_fields(got, want)
    assert d["breakdown_s"] == pytest.approx({"compute": sum(dec), "network": 2 * hop, "client": CLIENT_S}, rel=1e-9)
    assert d["notes"] == []
    client = "catalog:" + Provenance.catalog(
        "assumption: a desktop or VM client without a GPU (the Petals paper's clients: 8 CPU cores, no GPU) "
        "computing the LM head in bf16 with PyTorch: about half of dual-channel DDR4-3200's 51.2 GB/s peak "
        "(JEDEC: 3,200 MT/s x 8 bytes x 2 channels) and ~1 TFLOP/s of AVX2/AVX-512 FMA throughput",
        "2026-11-25").detail
    rest = {k: v for k, v in d.items() if k not in ("slices", "breakdown_s", "notes")}
    assert_fields(rest, {
        "model": "toy", "precision": "int8", "engine": "toy-petals", "routing": "relay",
        "network": "test (10 ms, 1,000 Mbit/s)", "server_network": "test (10 ms, 1,000 Mbit/s)", "client": "cpu",
        "isl": 100, "osl": 200, "decode_step_s": step, "tokens_per_s": 1 / step, "ttft_s": ttft,
        "max_sequences": 256, "concurrency": 2, "batch_round_s": step, "batch_tokens_per_s": 2 / step,
        "binding": "network", "basis": "rent", "usd_per_hour": usd_h, "usd_per_mtok": usd_h / 3600 * step * 1e6,
        "usd_per_mtok_batch": usd_h / 3600 * step / 2 * 1e6,
        "cost_note": "rented: marketplace rent x share 0.5/1 (a's rent)",
        "provenance": f"modelled:swarm: roofline per slice (toy-petals: {ENGINE.source}@2026-11-25) + "
                      f"network input:10 ms, 1 Gbit/s + client {client}; model test@2026-11-25"})
    assert e.provenance.kind == "modelled" and e.servers == 2


def test_three_server_direct_chain_hops_by_hand() -> None:
    lan = Link("lan", 0.002, 125e6, Provenance("input", "2 ms"))
    own = Link("own", 0.004, 62.5e6, Provenance("input", "4 ms, 500 Mbit/s"))
    e = swarm([Server(priced("a", "src-b")), Server(priced("b", "src-a")), Server(priced("c", "src-b"), link=own)],
              routing="direct", server_network=lan)
    assert [s.layers for s in e.slices] == [3, 3, 2]  # 8/3 each: floors 2, ties go to the first servers
    assert [s.first_layer for s in e.slices] == [0, 3, 6]
    # client -> a on the client link (5 ms), a -> b on the servers' lan (1 ms), b -> c on c's own link
    # (2 ms, 500 Mbit/s), and c's reply to the client (5 ms) counted on c
    assert [s.hop_s for s in e.slices] == pytest.approx(
        [0.005 + HIDDEN / 125e6, 0.001 + HIDDEN / 125e6, 0.002 + HIDDEN / 62.5e6 + 0.005 + HIDDEN / 125e6], rel=1e-12)
    assert [s.link for s in e.slices] == ["test (10 ms, 1,000 Mbit/s)"] * 2 + ["own (4 ms, 500 Mbit/s)"]
    assert (e.routing, e.server_network) == ("direct", "lan (2 ms, 1,000 Mbit/s)")
    assert e.usd_per_hour == pytest.approx(1.5)
    assert e.cost_note == "rented: marketplace rent x share 1 (src-a; src-b)"


def test_round_bound_by_a_slow_server_link() -> None:
    # 4 sequences in 2 groups of 2: the first server's own link sends 2 x 2 hidden states (8,192 B up and
    # back) at 100 kB/s = 81.92 ms per group, twice per round = 163.84 ms, more than one group's traversal
    slow = Link("slow", 0.0, 1e5, Provenance("input", "0 ms, 0.8 Mbit/s"))
    e = swarm([Server(gpu(), link=slow), Server(gpu())], concurrency=4)
    stage_b2 = 4 * (1e-3 + (LAYER_BYTES + 2 * kv_layer_bytes(1.5)) / 1e12)
    traversal = 2 * stage_b2 + 2 * 2 * HIDDEN / 1e5 + 0.010 + 2 * 2 * HIDDEN / 125e6 + CLIENT_S
    assert traversal < 2 * 2 * 2 * HIDDEN / 1e5
    assert e.batch_round_s == pytest.approx(2 * 2 * 2 * HIDDEN / 1e5, rel=1e-12)


def test_prefill_compute_bound_by_hand() -> None:
    # a 1 TFLOP/s GPU at efficiency 1: the 1,000-token prompt's linear layers are compute-bound
    eng = ENGINE.model_copy(update={"compute_efficiency": {"bf16": 1.0, "int8": 1.0},
                                    "attention_compute_efficiency": 1.0})
    slow = gpu("slow").model_copy(update={"dense_tflops": {"bf16": 1.0, "int8": 1.0}})
    e = swarm([Server(slow, share=0.5)], engine=eng, isl=1000, osl=1)
    linear = 2 * 1000 * 8 * LAYER_BYTES / 1e12  # 0.2013 s (the weights' 0.1 ms of reading hides under it)
    attention = 1000 * 1001 / 2 * 8 * (2 * 2 * 128 * 8) / 1e12  # causal pairs x layers x QK and PV FLOPs
    prefill = (linear + attention + 8 * 1e-3) / 0.5  # + 1 ms per layer, stretched by the share
    assert e.slices[0].prefill_s == pytest.approx(prefill, rel=1e-12)
    assert e.ttft_s == pytest.approx(prefill + 0.010 + 2 * 1000 * HIDDEN / 125e6 + CLIENT_S, rel=1e-12)


def test_gpu_client_and_what_binds() -> None:
    fast = Link("fast", 0.0, 1e15, Provenance("input", "0 ms"))
    # a client GPU of 1 GFLOP/s bf16 at the engine's 0.24: the LM head's 2,048,000 FLOPs take 8.53 ms
    weak = gpu("weak").model_copy(update={"dense_tflops": {"bf16": 0.001}})
    e = swarm([Server(gpu())], network=fast, client=weak)
    head = 2 * 1000 * 1024 / (1e9 * 0.24)
    assert e.breakdown_s["client"] == pytest.approx(head, rel=1e-12)
    assert e.client == "weak" and e.binding == "client"  # 8.53 ms over 8 x 1.01 ms of layers
    # a memory-bound client at the engine's memory efficiency 0.5: 2,048,000 B at 0.5 TB/s = 4.1 us
    eng = ENGINE.model_copy(update={"memory_efficiency": 0.5})
    e = swarm([Server(gpu())], network=fast, client=gpu("strong"), engine=eng)
    assert e.breakdown_s["client"] == pytest.approx(2 * 1000 * 1024 / 0.5e12, rel=1e-12)
    assert e.binding == "compute"


def test_defaults_and_precision_names() -> None:
    e = estimate_swarm("llama-3.1-8b", "2x rtx-4090")
    assert (e.precision, e.engine, e.isl, e.osl, e.routing, e.basis, e.client) == (
        "int8", "petals", 1000, 200, "relay", "rent", "cpu")
    assert e.network == e.server_network == link("same-region").describe()
    assert swarm([Server(gpu())], precision=PrecisionName.int4).precision == "int4"
    bf16 = swarm([Server(gpu())], precision="native")  # the toy's checkpoint dtype: bf16
    assert bf16.precision == "bf16" and bf16.slices[0].weights_bytes == 8 * (2 * LAYER_BYTES + 4096) + FINAL_NORM
    int4 = swarm([Server(gpu())], precision="int4")
    assert int4.slices[0].weights_bytes == 8 * (LAYER_BYTES / 2 + 4096) + FINAL_NORM  # NF4 weights, 16-bit norms


def test_share_reaches_servers_given_by_name_and_by_gpu() -> None:
    for servers in ("2x rtx-4090", ["rtx-4090", "rtx-4090"]):
        e = estimate_swarm("llama-3.1-8b", servers, share=0.5)
        assert [s.share for s in e.slices] == [0.5, 0.5]
    e = swarm([gpu(), Server(gpu(), share=0.25)], share=0.5)
    assert [s.share for s in e.slices] == [0.5, 0.25]
    with pytest.raises(TruecostError) as err:
        estimate_swarm("llama-3.1-8b", ["2x rtx-4090"])  # in a list each item is one GPU
    assert str(err.value) == "unknown GPU '2x rtx-4090'; did you mean rtx-4090, rtx-5090, rtx-3090?"


def test_bad_inputs_say_what_and_how() -> None:
    cases = [({"isl": 0}, "--isl must be at least 1 token, got 0"),
             ({"osl": 0}, "--osl must be at least 1 token, got 0"),
             ({"isl": 4000, "osl": 97}, "isl+osl = 4097 exceeds toy's context of 4096 tokens"),
             ({"routing": "mesh"}, "routing must be relay or direct, got 'mesh'"),
             ({"basis": "free"}, "a swarm's cost basis is rent or volunteer, got 'free'"),
             ({"concurrency": 0}, "--concurrency must be at least 1, got 0"),
             ({"precision": "int3"},
              "unknown precision 'int3'; choose one of bf16, fp16, fp8, int8, int4, mxfp4, nvfp4")]
    for kw, msg in cases:
        with pytest.raises(InputError) as err:
            swarm([Server(gpu())], **kw)
        assert str(err.value) == msg
    assert swarm([Server(gpu())], isl=4000, osl=96).isl == 4000  # 4,096 is the context: fits


def test_parse_servers_lists_limits_and_messages() -> None:
    g = gpu()
    a, b = Server(gpu("a"), share=0.25), Server(gpu("b"))
    assert parse_servers([a, g, b, "rtx-4090"], share=0.5) == [a, Server(g, 0.5), b,
                                                               Server(parse_servers("rtx-4090")[0].gpu, 0.5)]
    assert len(parse_servers("1000x rtx-4090")) == 1000
    assert len(parse_servers("600x rtx-4090, 400x rtx-3090")) == 1000
    cases = [("rtx 4090", "cannot read the servers 'rtx 4090'; write them as '4x rtx-4090' or "
                          "'2x rtx-3090, 1x a100-80gb'"),
             ("1001x rtx-4090", "a swarm has 1 to 1000 servers of a kind, got 1001 in '1001x rtx-4090'"),
             ("600x rtx-4090, 401x rtx-3090", "a swarm has at most 1000 servers, got 1001"),
             ([], "a swarm needs at least one server, e.g. --swarm '4x rtx-4090'")]
    for spec, msg in cases:
        with pytest.raises(InputError) as err:
            parse_servers(spec)
        assert str(err.value) == msg
    with pytest.raises(InputError) as err:
        parse_servers("rtx-4090", share=0)
    assert str(err.value) == "--share must be within (0, 1] (the share of each server's time), got 0"


def test_slice_model_names_and_moe_dense_layers() -> None:
    part = slice_model(MODEL.model_copy(update={"published_params_total": 123, "published_params_active": 45}), 2, 3)
    assert (part.key, part.published_params_total, part.published_params_active) == ("toy[2:5]", None, None)
    moe = ModelArch.model_validate({**MODEL.model_dump(), "key": "moe",
                                    "moe": {"experts": 4, "active_experts": 1, "d_ff_expert": 1024, "dense_layers": 3}})
    # the first 3 layers are dense: a slice keeps those of them it covers
    for first, layers, dense in ((0, 2, 2), (2, 3, 1), (1, 1, 1), (3, 2, 0), (4, 2, 0)):
        assert slice_model(moe, first, layers).moe.dense_layers == dense, (first, layers)


def test_moe_slice_weights_by_hand() -> None:
    moe = MODEL.model_copy(update={"key": "moe", "moe": MoE(experts=4, active_experts=1, d_ff_expert=1024)})
    e = estimate_swarm(moe, [Server(gpu())], precision="int4", engine=ENGINE, isl=1, osl=1, network=NET)
    # per layer at NF4: attention 4·D² and router D·4 at 0.5 byte, 4 experts of 2·D·1024 at 0.5 byte, norms 16-bit
    attn, router, experts = 4 * 1024**2, 1024 * 4, 4 * 2 * 1024 * 1024
    assert e.slices[0].weights_bytes == 8 * ((attn + router) * 0.5 + experts * 0.5 + 4096) + FINAL_NORM


def test_balance_water_fills_then_hands_out_the_largest_remainders() -> None:
    # c is capped at 2 (8 x 8/11 = 5.8 > 2); the other 6 go 1:2 to a and b
    assert _balance(8, [1.0, 2.0, 8.0], [10, 10, 2]) == [2, 4, 2]
    # a is capped at 1 (4 x 1/4 = 1 >= 1): b takes the other 3
    assert _balance(4, [1.0, 3.0], [1, 10]) == [1, 3]
    # 2/3 and 4/3: floors 0 and 1, the leftover layer goes to the larger remainder (a's 0.67)
    assert _balance(2, [1.0, 2.0], [10, 10]) == [1, 1]


def test_memory_limits_layers_and_sequences() -> None:
    # one layer's share of memory at ISL + OSL = 4,000: its weights and norms + its KV / 0.9
    per_layer = LINEAR_NORMS + FINAL_NORM + KV_TOKEN_LAYER * 4000 / 0.9  # 30,793,500 B
    small = gpu("small", memory_gib=90e6 / 2**30)  # 90 MB: 2 layers (2.92)
    e = swarm([Server(gpu()), Server(small)], isl=2000, osl=2000)
    assert math.floor(90e6 / per_layer) == 2 and [s.layers for s in e.slices] == [6, 2]
    # exactly 8 layers fit on 101 MB (8 x 12,598,158 = 100.8 MB): the pool left holds 4 sequences of 2 tokens
    fits = swarm([Server(gpu("fits", memory_gib=101e6 / 2**30))])
    assert [s.layers for s in fits.slices] == [8]
    pool = (101e6 - 8 * LINEAR_NORMS - FINAL_NORM) * 0.9
    assert fits.max_sequences == math.floor(pool / (8 * KV_TOKEN_LAYER * 2)) == 4


def test_servers_without_layers_are_noted_and_skipped() -> None:
    one = gpu("one", memory_gib=20e6 / 2**30)  # 20 MB: one 12.6 MB layer
    crumb = gpu("crumb", memory_gib=5e6 / 2**30)  # 5 MB: none
    e = swarm([Server(gpu()), Server(crumb), Server(one), Server(gpu("one2", memory_gib=20e6 / 2**30))])
    assert [(s.server, s.gpu, s.first_layer, s.layers) for s in e.slices] == [
        (0, "toy-gpu", 0, 6), (2, "one", 6, 1), (3, "one2", 7, 1)]
    assert e.notes == ["1 server(s) got no layers (too small or too slow beside the others)"]


def test_fixed_overhead_does_not_weigh_layers() -> None:
    # the per-step fixed overhead is paid once per server, not per layer: speeds stay 2:1 (see above)
    eng = ENGINE.model_copy(update={"step_overhead_per_layer_s": 0.0, "step_overhead_fixed_s": 2e-5})
    e = swarm([Server(gpu("fast", 1.0)), Server(gpu("slow", 0.5))], engine=eng)
    assert [s.layers for s in e.slices] == [5, 3]


def test_does_not_fit_message_by_hand() -> None:
    # 2 servers of 1.225 GB with a 1,124,643,776 B reserve each: 100,356,224 B left = 3 layers of 30.8 MB each
    eng = ENGINE.model_copy(update={"runtime_reserve_gib": 1_124_643_776 / 2**30})
    g = gpu("g", memory_gib=1.225e9 / 2**30)
    with pytest.raises(DoesNotFitError) as err:
        swarm([Server(g), Server(g)], engine=eng, isl=2000, osl=2000)
    # need = the whole stack once, 8 x 12,587,008 + one final norm of 2,048, + 2 x 1,124,643,776 reserve
    # = 2,349,985,664 B (-> 2.3; it once added the final norm per layer: 2,350,000,000, -> 2.4);
    # have 2 x 1.225 GB = 2.45 GB (-> 2.5)
    assert str(err.value) == ("toy at int8 does not fit on 2 server(s): its 8 layers need 2.3 GB with the runtime "
                              "reserve (+ KV), the GPUs hold 2.5 GB; they fit 6 layers. Add servers or use a smaller "
                              "precision (int4)")


def test_batch_limit_and_concurrency_note() -> None:
    eng = ENGINE.model_copy(update={"max_batch_size": 1})
    e = swarm([Server(gpu())], engine=eng, concurrency=1)
    assert (e.max_sequences, e.concurrency, e.notes) == (1, 1, [])
    e = swarm([Server(gpu())], engine=eng, concurrency=3)
    assert (e.concurrency, e.notes) == (3, ["concurrency 3 exceeds the 1 sequences whose KV every server holds"])


def test_rent_missing_and_volunteer_power_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    bare = gpu("bare").model_copy(update={"usd_per_gpu_hour": None, "tdp_w": None})
    e = swarm([Server(gpu()), Server(bare)])
    assert (e.usd_per_hour, e.usd_per_mtok, e.usd_per_mtok_batch) == (None, None, None)
    assert e.cost_note == ("bare has no public rent in the catalog; give usd_per_gpu_hour or price the swarm as "
                           "volunteers (basis volunteer)")
    assert [s.watts for s in e.slices][1] is None  # no published TDP: no modelled power
    with pytest.raises(InputError) as err:
        swarm([Server(gpu()), Server(bare)], basis="volunteer")
    assert str(err.value) == "a volunteer swarm is priced at its modelled power; a server GPU has no published TDP"
    given = swarm([Server(gpu(), usd_per_gpu_hour=3.0)])
    assert (given.usd_per_hour, given.cost_note) == (3.0, "rented: marketplace rent x share 1 (given)")
    # a PUE of 1.5: 100 W x 1.5 x $0.165/kWh
    real = swarm_module.param
    monkeypatch.setattr(swarm_module, "param", lambda n: (1.5, real(n)[1]) if n == "volunteer_pue" else real(n))
    flat = ENGINE.model_copy(update={"power_idle_fraction": 1.0, "power_memory_fraction": 0.0,
                                     "power_compute_fraction": 0.0})
    vol = swarm([Server(gpu())], engine=flat, basis="volunteer")
    assert vol.usd_per_hour == pytest.approx(0.1 * 1.5 * 0.165, rel=1e-12)


def test_layers_follow_one_sequences_layer_time() -> None:
    # A streams at 1 TB/s with unbounded FLOP/s; B computes 2 TFLOP/s int8 with unbounded bandwidth. One
    # sequence's layer: A (12,582,912 + 6,144 B of KV) / 1e12 = 12.589 us, B 2 x 12,582,912 / 2e12 = 12.583 us:
    # 8 x 12.583/25.172 = 3.999 for A -> floors 3 and 4, A's 0.999 remainder gets the last layer: 4 and 4
    # (at two sequences B would take twice as long and get a third of the layers)
    eng = ENGINE.model_copy(update={"step_overhead_per_layer_s": 0.0, "compute_efficiency": {"bf16": 1.0, "int8": 1.0}})
    a = gpu("a").model_copy(update={"dense_tflops": {"bf16": 1e6, "int8": 1e6}})
    b = gpu("b", bw_tb_s=1e6).model_copy(update={"dense_tflops": {"bf16": 2.0, "int8": 2.0}})
    assert [s.layers for s in swarm([Server(a), Server(b)], engine=eng).slices] == [4, 4]


def test_server_power_follows_one_sequences_step() -> None:
    # power = TDP x FLOPs at the dense peak / step time (compute fraction 1, the others 0). A 4-layer stage at
    # one sequence: 2 x 4 x 12,582,912 linear FLOPs + 4 x 1.5 x 4,096 attention FLOPs at 1 PFLOP/s, over
    # 4 ms + (4 x 12,582,912 + 4 x 6,144) B / 1 TB/s. Within 3%: the modelled step also carries the LM
    # head's 2 MFLOP (2% of the stage's), which the client runs (reported); two sequences would double it.
    eng = ENGINE.model_copy(update={"power_idle_fraction": 0.0, "power_memory_fraction": 0.0,
                                    "power_compute_fraction": 1.0})
    e = swarm([Server(gpu()), Server(gpu())], engine=eng)
    flops = 2 * 4 * LAYER_BYTES + 4 * 1.5 * 4096
    stage_s = 4e-3 + (4 * LAYER_BYTES + 4 * 6144) / 1e12
    assert [s.watts for s in e.slices] == pytest.approx([100 * flops / 1e15 / stage_s] * 2, rel=0.03)


def test_an_moe_with_dense_first_layers_is_sized_by_its_expert_layers() -> None:
    """DeepSeek-V3 (671B parameters, the first 3 of 61 layers dense) at int4 is ~671e9 x 0.5 B =
    ~335 GB of weights; three H100s hold 3 x 80 GiB = 257.7 GB. Sized by its first, dense layer
    (0.3 GB instead of ~5.7 GB per expert layer) it once passed the memory check and failed later
    with a KV message; it must say it does not fit, with a need above the published size."""
    from truecost.perf.swarm import estimate_swarm

    with pytest.raises(DoesNotFitError) as err:
        estimate_swarm("deepseek-v3", "3x h100-sxm", precision="int4", isl=100, osl=100)
    msg = str(err.value)
    assert msg.startswith("deepseek-v3 at int4 does not fit on 3 server(s): its 61 layers need ")
    need_gb = float(msg.split(" need ")[1].split(" GB")[0].replace(",", ""))
    assert 330 < need_gb < 400 and "the GPUs hold 257.7 GB" in msg
    assert msg.endswith(" layers. Add servers")  # already int4 (0.5 bytes a weight): no smaller one offered
    # twenty 24 GB cards: every server's layers fit its memory (no server holds a dense layer's worth)
    e = estimate_swarm("deepseek-v3", "20x rtx-4090", precision="int4", isl=100, osl=100)
    assert sum(s.layers for s in e.slices) == 61
    assert all(s.weights_bytes + s.kv_bytes_per_sequence <= 24 * 2**30 for s in e.slices)
