"""Offloading: a model too big for one GPU runs on it anyway, with the weights that do not fit
kept in CPU RAM and streamed over the GPU's host link (PCIe or NVLink-C2C) for every forward
pass; the KV cache stays on the GPU (vLLM ``--cpu-offload-gb``; Hugging Face Accelerate,
DeepSpeed-Inference and FlexGen offload the same way). With B sequences per step:

    resident   = min(weights, GPU memory − runtime reserve − KV of B sequences − 2 layers of buffer)
    offloaded  = weights − resident                 (must fit in host RAM × its usable fraction)
    stream_s   = offloaded / (host link bytes/s × pcie_efficiency)
    step       = compute(B) + stream_s              no overlap (vLLM loads them inside the forward)
                 max(compute(B), stream_s)          ``overlap=True`` (the next layer prefetched)
    prefill    = Σ over chunks of max_num_tokens tokens of (compute + stream_s)
    tokens/s   = B / step

``compute(B)`` is ``roofline.step_time`` of the whole model on the GPU. More sequences share
each streamed byte, but their KV takes GPU memory from resident weights: the batch figures are at
the B that maximises tokens/s. Cost: the GPU (rent, or owned with its modelled power) plus the host
RAM as an amortised purchase. Left out: host memory bandwidth (dual-channel DDR4-3200, 51 GB/s,
already outruns PCIe Gen4 x16's 31.5), disk offload, KV offload, pinned-memory staging copies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from .. import catalog
from ..arch import ModelArch
from ..cost import OwnershipTerms, PriceBasis, deployment_cost
from ..errors import DoesNotFitError, InputError
from ..hardware import BYTES_PER_ELEM, GPU, PrecisionName
from ..provenance import Provenance
from .deployment import Deployment, make_deployment
from .engine import EngineProfile
from .links import param
from .memory import admission_context
from .power import mean_power_w_per_gpu, step_power
from .roofline import causal_pairs, step_time

__all__ = ["OffloadEstimate", "estimate_offload"]

GB = 1e9


@dataclass(frozen=True)
class OffloadEstimate:
    """Modelled offloading on one GPU (see the module docstring). Bytes, seconds, USD."""

    model: str
    gpu: str
    precision: str
    engine: str
    isl: int
    osl: int
    host_ram_gb: float
    host_link: str
    host_link_bytes_per_s: float  # achieved: link × pcie_efficiency
    overlap: bool
    weights_bytes: float
    resident_bytes: float  # one sequence
    offloaded_bytes: float  # one sequence
    stream_s: float  # one sequence's step: offloaded bytes over the link
    compute_s: float
    decode_step_s: float
    decode_step_s_lower: float  # stream and compute overlap fully
    decode_step_s_upper: float  # one after the other
    tokens_per_s: float
    ttft_s: float
    batch: int  # the batch of the batch figures
    batch_step_s: float
    batch_tokens_per_s: float
    binding: Literal["host link", "compute"]
    basis: str
    usd_per_hour: float | None
    usd_per_mtok: float | None
    usd_per_mtok_batch: float | None
    cost_note: str
    provenance: Provenance
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["provenance"] = str(self.provenance)
        return d


@dataclass(frozen=True, slots=True)
class _Point:
    batch: int
    resident: float
    offloaded: float
    stream_s: float
    compute_s: float
    step_s: float


def _point(dep: Deployment, batch: int, ctx_admit: float, ctx_mean: float, link_bps: float, overlap: bool,
           host_bytes: float) -> _Point | None:
    """The step of ``batch`` sequences, or None when their KV leaves no room to stream into."""
    e = dep.engine
    kv = batch * dep.model.kv_bytes(ctx_admit, dep.precision.kv_bytes) / e.kv_memory_fraction
    buffer = 2 * dep.weights_bytes / dep.model.layers  # double-buffered layer being streamed
    room = dep.gpu.memory_bytes - e.runtime_reserve_gib * 2**30 - kv - buffer
    if room < 0:
        return None
    resident = min(dep.weights_bytes, room)
    offloaded = dep.weights_bytes - resident
    if offloaded > host_bytes:
        return None
    stream = offloaded / link_bps
    compute = step_time(dep, batch, ctx_mean).total_s
    return _Point(batch, resident, offloaded, stream, compute, max(compute, stream) if overlap else compute + stream)


def estimate_offload(model: str | ModelArch, gpu: str | GPU, *, precision: PrecisionName | str = "int4",
                     engine: str | EngineProfile = "vllm", isl: int = 1000, osl: int = 200,
                     host_ram_gb: float = 256.0, batch: int | None = None, overlap: bool = False,
                     basis: PriceBasis | str = "rent", usd_per_gpu_hour: float | None = None,
                     host_link_gb_s: float | None = None) -> OffloadEstimate:
    """``model`` on one ``gpu`` with what does not fit in ``host_ram_gb`` of CPU RAM, streamed
    over the GPU's host link (the catalog's, or ``host_link_gb_s`` each way). Batch figures at
    ``batch`` sequences (default: the batch with the most tokens/s). ``basis``: ``rent`` or
    ``own`` the GPU; the RAM is priced as an amortised purchase either way.

        >>> e = estimate_offload("llama-3.1-70b", "rtx-4090", precision="int4")  # doctest: +SKIP
        >>> round(e.tokens_per_s, 2), e.binding  # doctest: +SKIP
    """
    g = catalog.gpu(gpu)
    dep = make_deployment(model, g, precision, 1, engine)
    m, e = dep.model, dep.engine
    for name, v in (("isl", isl), ("osl", osl)):
        if v < 1:
            raise InputError(f"--{name} must be at least 1 token, got {v}")
    if isl + osl > m.max_context:
        raise InputError(f"isl+osl = {isl + osl} exceeds {m.key}'s context of {m.max_context} tokens")
    if not (math.isfinite(host_ram_gb) and host_ram_gb > 0):
        raise InputError(f"--host-ram-gb must be a finite number of GB > 0, got {host_ram_gb:g}")
    if batch is not None and batch < 1:
        raise InputError(f"--batch must be at least 1, got {batch}")
    if host_link_gb_s is not None:
        if not (math.isfinite(host_link_gb_s) and host_link_gb_s > 0):
            raise InputError(f"--host-link-gb-s must be a finite number of GB/s > 0, got {host_link_gb_s:g}")
        raw, link_name = host_link_gb_s * 1e9, f"{host_link_gb_s:g} GB/s (given)"
    elif g.host_link_bytes_per_s is None:
        raise InputError(f"{g.key} has no host-link bandwidth in the catalog; give it with --host-link-gb-s "
                         "(PCIe Gen4 x16: 31.5, Gen5 x16: 63)")
    else:
        raw, link_name = g.host_link_bytes_per_s, f"{g.host_link} {g.host_link_gb_s:g} GB/s"
    eff, eff_src = param("pcie_efficiency")
    usable, _ = param("host_ram_usable_fraction")
    link_bps = raw * eff
    host_bytes = host_ram_gb * GB * usable
    ctx_admit, ctx_mean = admission_context(dep, isl, osl), isl + osl / 2

    one = _point(dep, 1, ctx_admit, ctx_mean, link_bps, overlap, host_bytes)
    if one is None:
        _does_not_fit(dep, ctx_admit, host_ram_gb, host_bytes)
    assert one is not None
    lower = max(one.compute_s, one.stream_s)
    upper = one.compute_s + one.stream_s
    best = one
    if batch is not None:
        at = _point(dep, batch, ctx_admit, ctx_mean, link_bps, overlap, host_bytes)
        if at is None:
            raise DoesNotFitError(f"{batch} sequences of {ctx_admit:,.0f} tokens leave no GPU memory to stream "
                                  f"{m.key}'s weights through on {g.key}; use a smaller --batch")
        best = at
    else:
        b = 2
        while b <= e.max_batch_size:
            at = _point(dep, b, ctx_admit, ctx_mean, link_bps, overlap, host_bytes)
            if at is None:
                break
            if at.batch / at.step_s > best.batch / best.step_s:
                best = at
            b *= 2

    # Prefill: the prompt in chunks of the token budget, each streaming the offloaded weights once.
    chunks = math.ceil(isl / e.max_num_tokens)
    chunk = isl / chunks
    prefill = 0.0
    for i in range(chunks):
        c = step_time(dep, 0, 0, chunk, causal_pairs(chunk, i * chunk), 1.0 if i == chunks - 1 else 0.0).total_s
        prefill += max(c, one.stream_s) if overlap else c + one.stream_s
    ttft = e.request_overhead_s + prefill

    usd_h, note = _hourly(dep, PriceBasis(basis), usd_per_gpu_hour, host_ram_gb, one, ctx_mean)
    per_mtok = (lambda tps: None if usd_h is None else usd_h / 3600 / tps * 1e6)
    notes = []
    if one.offloaded == 0:
        notes.append(f"{m.key} at {dep.precision.weights} fits on one {g.key}: nothing is offloaded")
    prov = Provenance("modelled", f"offload: roofline on {g.key} ({e.key}) + {link_name} x pcie_efficiency "
                      f"{eff:g} ({eff_src}); gpu {g.source}@{g.retrieved}; model {m.source}@{m.retrieved}")
    return OffloadEstimate(
        model=m.key, gpu=g.key, precision=str(dep.precision), engine=e.key, isl=isl, osl=osl,
        host_ram_gb=host_ram_gb, host_link=link_name, host_link_bytes_per_s=link_bps, overlap=overlap,
        weights_bytes=dep.weights_bytes, resident_bytes=one.resident, offloaded_bytes=one.offloaded,
        stream_s=one.stream_s, compute_s=one.compute_s, decode_step_s=one.step_s, decode_step_s_lower=lower,
        decode_step_s_upper=upper, tokens_per_s=1 / one.step_s, ttft_s=ttft, batch=best.batch,
        batch_step_s=best.step_s, batch_tokens_per_s=best.batch / best.step_s,
        binding="host link" if one.stream_s >= one.compute_s else "compute", basis=PriceBasis(basis).value,
        usd_per_hour=usd_h, usd_per_mtok=per_mtok(1 / one.step_s),
        usd_per_mtok_batch=per_mtok(best.batch / best.step_s), cost_note=note, provenance=prov, notes=notes)


def _does_not_fit(dep: Deployment, ctx: float, host_ram_gb: float, host_bytes: float) -> None:
    e = dep.engine
    kv = dep.model.kv_bytes(ctx, dep.precision.kv_bytes) / e.kv_memory_fraction
    buffer = 2 * dep.weights_bytes / dep.model.layers
    gpu_need = e.runtime_reserve_gib * 2**30 + kv + buffer
    if gpu_need > dep.gpu.memory_bytes:
        raise DoesNotFitError(
            f"{dep.gpu.key} ({dep.gpu.memory_bytes / GB:.1f} GB) cannot hold even the runtime, one "
            f"{ctx:,.0f}-token sequence's KV and two streamed layers ({gpu_need / GB:.1f} GB); use a larger GPU "
            "or a shorter context")
    room = dep.gpu.memory_bytes - gpu_need
    need = dep.weights_bytes - room
    raise DoesNotFitError(
        f"{dep.model.key} at {dep.precision.weights} needs {need / GB:,.1f} GB of host RAM for the weights "
        f"{dep.gpu.key} cannot hold; {host_ram_gb:g} GB of RAM gives {host_bytes / GB:,.1f} GB usable. "
        f"Raise --host-ram-gb to {math.ceil(need / (host_bytes / host_ram_gb)):,}"
        + (" or use --precision int4" if dep.precision.weight_bytes > BYTES_PER_ELEM["int4"] else ""))


def _hourly(dep: Deployment, basis: PriceBasis, usd_per_gpu_hour: float | None, host_ram_gb: float,
            one: _Point, ctx_mean: float) -> tuple[float, str]:
    """The GPU's $/hour (rent, or owned with its modelled power while busy: one sequence's decode
    step at the mean context) + the host RAM."""
    terms = OwnershipTerms()
    draw = step_power(dep, step_time(dep, 1, ctx_mean))
    watts = None if draw is None else mean_power_w_per_gpu(draw, one.compute_s / one.step_s)
    gpu_cost = deployment_cost(dep.gpu, 1, basis, usd_per_gpu_hour=usd_per_gpu_hour, power_w_per_gpu=watts)
    per_gb, src = param("usd_per_gb_host_ram")
    ram = per_gb * host_ram_gb / (terms.life_years * 8760)
    return gpu_cost.usd_per_hour + ram, (f"{basis.value}: {dep.gpu.key} {gpu_cost.provenance} + {host_ram_gb:g} GB "
                                         f"RAM at ${per_gb:g}/GB over {terms.life_years:g} years ({src})")
