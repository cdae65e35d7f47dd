"""Links and client devices of shared compute (perf/links.py): the catalog's networks with their
sources, user overrides, one-way and request latencies, and the client's LM head, by hand."""

from __future__ import annotations

import math

import pytest

from truecost.catalog import gpu
from truecost.errors import InputError, UnknownNameError
from truecost.perf.links import Client, Link, client_device, link, network_names, param
from truecost.provenance import Provenance


def test_catalog_networks_carry_their_published_settings():
    # Petals (arXiv:2209.01188): "1 Gbit/s, < 5 ms" and "100 Mbit/s, 100 ms"
    same = link()
    assert (same.name, same.rtt_s, same.bytes_per_s) == ("same-region", 0.005, 1000e6 / 8)
    assert same.provenance.kind == "catalog" and "Petals" in same.provenance.detail
    assert same.provenance.detail.endswith("@2023-09-01")
    far = link(" Cross-Continent ")  # names are matched trimmed and case-blind
    assert (far.name, far.rtt_s, far.bytes_per_s) == ("cross-continent", 0.1, 100e6 / 8)
    assert network_names() == ["cross-continent", "lan", "same-region"]
    assert same.describe() == "same-region (5 ms, 1,000 Mbit/s)"
    assert link("lan").describe() == "lan (0.5 ms, 10,000 Mbit/s)"
    # 250e9 bytes/s x 8 / 1e6 = 2,000,000 Mbit/s exactly
    assert Link("fat", 0.001, 250e9, Provenance("input", "x")).describe() == "fat (1 ms, 2,000,000 Mbit/s)"
    with pytest.raises(UnknownNameError) as e:
        link("same-regoin")
    assert str(e.value) == "unknown network 'same-regoin'; did you mean same-region?"


def test_one_way_and_request_latency_by_hand():
    same = link("same-region")  # 5 ms, 125e6 bytes/s
    # half the round trip + 1e6 / 125e6 = 0.0025 + 0.008
    assert same.one_way_s(1e6) == pytest.approx(0.0105, rel=1e-12)
    # a whole round trip + (1e6 + 2e6) / 125e6 = 0.005 + 0.024
    assert same.request_s(1e6, 2e6) == pytest.approx(0.029, rel=1e-12)


def test_overrides_replace_one_term_and_say_input():
    rtt = link("lan", rtt_ms=2)
    assert (rtt.name, rtt.rtt_s, rtt.bytes_per_s) == ("lan with 2 ms", 0.002, 10000e6 / 8)
    assert rtt.provenance == Provenance("input", "2 ms, 10000 Mbit/s")
    bw = link("lan", mbit_s=100)
    assert (bw.name, bw.rtt_s, bw.bytes_per_s) == ("lan with 100 Mbit/s", 0.0005, 100e6 / 8)
    assert bw.provenance == Provenance("input", "0.5 ms, 100 Mbit/s")
    both = link("lan", rtt_ms=0, mbit_s=100)  # a zero round trip is allowed (>= 0)
    assert (both.name, both.rtt_s, both.bytes_per_s) == ("lan with 0 ms, 100 Mbit/s", 0.0, 12.5e6)
    own = Link("mine", 0.01, 1e6, Provenance("input", "x"))
    assert link(own) is own  # a Link given with nothing to replace comes back as it is
    assert link(own, mbit_s=16).name == "mine with 16 Mbit/s" and link(own, mbit_s=16).rtt_s == 0.01


@pytest.mark.parametrize("kw, message", [
    ({"rtt_ms": -1}, "--rtt-ms must be a finite number of milliseconds >= 0, got -1"),
    ({"rtt_ms": math.inf}, "--rtt-ms must be a finite number of milliseconds >= 0, got inf"),
    ({"rtt_ms": math.nan}, "--rtt-ms must be a finite number of milliseconds >= 0, got nan"),
    ({"mbit_s": 0}, "--mbit-s must be a finite number of Mbit/s > 0, got 0"),
    ({"mbit_s": math.inf}, "--mbit-s must be a finite number of Mbit/s > 0, got inf"),
    ({"mbit_s": math.nan}, "--mbit-s must be a finite number of Mbit/s > 0, got nan"),
])
def test_bad_overrides(kw, message):
    with pytest.raises(InputError) as e:
        link("lan", **kw)
    assert str(e.value) == message


def test_client_lm_head_is_the_slower_of_reading_and_computing():
    c = Client("c", bytes_per_s=25e9, flops_per_s=1e12, provenance=Provenance("input", "x"))
    # V 1000 x D 100 in 16 bits = 2e5 bytes / 25e9 = 8e-6 s; 2 x 1 x 1000 x 100 = 2e5 FLOPs / 1e12 = 2e-7 s
    assert c.lm_head_s(1000, 100, 1) == pytest.approx(8e-6, rel=1e-12)
    # 1,000 tokens: 2e8 FLOPs / 1e12 = 2e-4 s, now above the read
    assert c.lm_head_s(1000, 100, 1000) == pytest.approx(2e-4, rel=1e-12)


def test_client_devices_cpu_and_gpu():
    cpu = client_device(" CPU ")
    # catalog [client.cpu]: 25 GB/s, 1 TFLOP/s (an assumption, said in its source)
    assert (cpu.name, cpu.bytes_per_s, cpu.flops_per_s) == ("cpu", 25e9, 1e12)
    assert cpu.provenance.kind == "catalog" and "assumption" in cpu.provenance.detail
    assert client_device().name == "cpu"
    # H100 SXM datasheet: 3.35 TB/s, 989.4 dense bf16 TFLOP/s, at 85% and 70% by default
    h = client_device("h100")
    assert h.name == "h100-sxm"
    assert h.bytes_per_s == pytest.approx(3.35e12 * 0.85, rel=1e-12)
    assert h.flops_per_s == pytest.approx(989.4e12 * 0.7, rel=1e-12)
    assert h.provenance.kind == "catalog" and "H100 Tensor Core GPU datasheet" in h.provenance.detail
    assert h.provenance.detail.endswith("@2026-11-22")
    h = client_device(gpu("h100-sxm"), memory_efficiency=0.5, compute_efficiency=0.25)
    assert h.bytes_per_s == pytest.approx(3.35e12 * 0.5) and h.flops_per_s == pytest.approx(989.4e12 * 0.25)
    # V100 (fp16 tensor cores only, 125 TFLOP/s, 0.9 TB/s)
    v = client_device("v100")
    assert v.flops_per_s == pytest.approx(125e12 * 0.7) and v.bytes_per_s == pytest.approx(0.9e12 * 0.85)


def test_params_carry_their_sources():
    value, prov = param("pcie_efficiency")
    # BaM (ASPLOS 2023): 25 of 31.5 GB/s per direction measured on an A100's PCIe Gen4 x16
    assert value == 0.79 and prov.kind == "catalog" and "BaM" in prov.detail
