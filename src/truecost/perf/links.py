"""The links that shared compute moves data over, and the catalog of their defaults.

- ``Link``: a network path between two parties (a swarm's client and a server, or two servers):
  round-trip time and bandwidth each way. Moving ``n`` bytes one way costs ``rtt/2 + n/bw``; a
  request and its reply cost ``rtt + (up + down)/bw``.
- ``Client``: the device a swarm's client computes the embedding and the LM head on (Petals
  clients keep both; the servers hold only transformer blocks).
- The terms of offloading and of volunteer pricing (``param``).

Every default is an entry of ``catalog/data/shared_compute.toml`` with its source and date; a
user value replaces it and says ``input``. Left out: packet loss, jitter and TCP slow start
(a chain's RTT is taken as its mean), asymmetric up/down links.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from pydantic import PositiveFloat

from .. import catalog
from ..errors import CatalogError, InputError, UnknownNameError
from ..hardware import GPU
from ..provenance import Provenance

__all__ = ["Client", "Link", "client_device", "link", "network_names", "param"]

_Sourced = catalog.Sourced


class _Network(_Sourced):
    rtt_ms: PositiveFloat
    mbit_s: PositiveFloat


class _ClientCpu(_Sourced):
    memory_gb_s: PositiveFloat
    tflops: PositiveFloat


class _Param(_Sourced):
    value: float


@dataclass(frozen=True, slots=True)
class _Catalog:
    network: dict[str, _Network]
    client: dict[str, _ClientCpu]
    param: dict[str, _Param]


_PARAMS = ("pcie_efficiency", "host_ram_usable_fraction", "usd_per_gb_host_ram", "volunteer_usd_per_kwh",
           "volunteer_pue")


@cache
def _catalog() -> _Catalog:
    origin = "catalog/shared_compute.toml"
    data = catalog.load_toml(catalog.data_file("shared_compute.toml"))
    kinds = {"network": _Network, "client": _ClientCpu, "param": _Param}
    if unknown := set(data) - set(kinds):
        raise CatalogError(f"{origin}: unknown table '{sorted(unknown)[0]}'")
    cat = _Catalog(**{k: catalog.parse_entries(data.get(k, {}), cls, f"{origin} [{k}]") for k, cls in kinds.items()})
    if missing := [p for p in _PARAMS if p not in cat.param]:
        raise CatalogError(f"{origin}: missing [param.{missing[0]}]")
    if "same-region" not in cat.network or "cpu" not in cat.client:
        raise CatalogError(f"{origin}: needs [network.same-region] and [client.cpu]")
    return cat


def param(name: str) -> tuple[float, Provenance]:
    """A shipped term (``pcie_efficiency``, ``volunteer_usd_per_kwh``, ...) and its source."""
    p = _catalog().param[name]
    return p.value, p.provenance


def network_names() -> list[str]:
    return sorted(_catalog().network)


@dataclass(frozen=True, slots=True)
class Link:
    """A network path: ``rtt_s`` round trip, ``bytes_per_s`` each way."""

    name: str
    rtt_s: float
    bytes_per_s: float
    provenance: Provenance

    def one_way_s(self, nbytes: float) -> float:
        """Latency of ``nbytes`` sent one way: half the round trip plus serialisation."""
        return self.rtt_s / 2 + nbytes / self.bytes_per_s

    def request_s(self, up_bytes: float, down_bytes: float) -> float:
        """A request of ``up_bytes`` and its reply of ``down_bytes``."""
        return self.rtt_s + (up_bytes + down_bytes) / self.bytes_per_s

    def describe(self) -> str:
        return f"{self.name} ({self.rtt_s * 1e3:g} ms, {self.bytes_per_s * 8 / 1e6:,.0f} Mbit/s)"


def link(name: str | Link = "same-region", *, rtt_ms: float | None = None, mbit_s: float | None = None) -> Link:
    """A catalog network (``same-region``, ``cross-continent``, ``lan``) or a ``Link``, with its
    round trip and/or bandwidth replaced by ``rtt_ms`` / ``mbit_s`` where given.

    >>> link("cross-continent").rtt_s
    0.1
    """
    if isinstance(name, Link):
        base = name
    else:
        table = _catalog().network
        entry = table.get(name.strip().lower())
        if entry is None:
            raise UnknownNameError("network", name, table)
        base = Link(entry.key, entry.rtt_ms / 1e3, entry.mbit_s * 1e6 / 8, entry.provenance)
    if rtt_ms is not None and not (math.isfinite(rtt_ms) and rtt_ms >= 0):
        raise InputError(f"--rtt-ms must be a finite number of milliseconds >= 0, got {rtt_ms:g}")
    if mbit_s is not None and not (math.isfinite(mbit_s) and mbit_s > 0):
        raise InputError(f"--mbit-s must be a finite number of Mbit/s > 0, got {mbit_s:g}")
    if rtt_ms is None and mbit_s is None:
        return base
    rtt = base.rtt_s if rtt_ms is None else rtt_ms / 1e3
    bw = base.bytes_per_s if mbit_s is None else mbit_s * 1e6 / 8
    changed = ([f"{rtt_ms:g} ms"] if rtt_ms is not None else []) + ([f"{mbit_s:g} Mbit/s"] if mbit_s is not None else [])
    name_out = f"{base.name} with " + ", ".join(changed)
    return Link(name_out, rtt, bw, Provenance("input", f"{rtt * 1e3:g} ms, {bw * 8 / 1e6:g} Mbit/s"))


@dataclass(frozen=True, slots=True)
class Client:
    """Where the client's LM head runs: achievable memory bytes/s and FLOP/s."""

    name: str
    bytes_per_s: float
    flops_per_s: float
    provenance: Provenance

    def lm_head_s(self, vocab: int, d_model: int, tokens: float) -> float:
        """Logits of ``tokens`` tokens: read the 16-bit V×D matrix once, 2·T·V·D FLOPs."""
        weight_bytes = vocab * d_model * 2.0
        flops = 2.0 * tokens * vocab * d_model
        return max(weight_bytes / self.bytes_per_s, flops / self.flops_per_s)


def client_device(name: str | GPU = "cpu", *, memory_efficiency: float = 0.85,
                  compute_efficiency: float = 0.7) -> Client:
    """``cpu`` (the catalog's GPU-less client) or a GPU (catalog name or object), whose LM head
    runs at ``memory_efficiency`` of its memory bandwidth and ``compute_efficiency`` of its
    16-bit peak (the caller passes its engine profile's terms)."""
    if isinstance(name, str) and name.strip().lower() in _catalog().client:
        c = _catalog().client[name.strip().lower()]
        return Client(c.key, c.memory_gb_s * 1e9, c.tflops * 1e12, c.provenance)
    g = catalog.gpu(name)
    # the 16-bit peak: bf16 and fp16 share it (a GPU with fp16 tensor cores only, V100 or T4,
    # answers for bf16 with its fp16 figure)
    return Client(g.key, g.hbm_bytes_per_s * memory_efficiency, g.peak_flops("bf16") * compute_efficiency,
                  Provenance.catalog(g.source, g.retrieved))
