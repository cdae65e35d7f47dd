"""What a measured operating point costs: self-hosted $/s over the throughput measured there, or
an API offer's price of each measured request's real token counts.

Self-hosted (DESIGN.md, "Cost definitions"): the deployment's $/hour (``cost.deployment_cost``)
÷ 3600 ÷ requests/s (or tokens/s) sustained at the point — the cost at 100% busy at that load.
API: uncached input × p_in + cached input × p_cached + (output + reasoning) × p_out per request
(``prices.Offer.request_usd``); "per 1M output tokens" is all-in (input included). Left out:
utilisation below the measured load, prefill/decode time split of self-hosted input vs output.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..cost import HourlyCost, deployment_cost
from ..errors import InputError
from ..prices import Offer
from ..prices import offer as find_offer
from ..provenance import Provenance
from .metrics import PointSummary
from .record import RequestRecord

__all__ = ["PointCost", "point_cost", "pricing"]


@dataclass(frozen=True, slots=True)
class PointCost:
    """What serving cost at one operating point. Per-token figures divide by that point's
    measured throughput (self-hosted) or the requests' real token counts (API)."""

    basis: str  # "gpu" or "offer"
    usd_per_hour: float | None  # the deployment's rate (self-hosted only)
    usd_per_request: float | None
    usd_per_mtok_output: float | None  # all-in: input cost included
    usd_per_mtok_total: float | None  # per million input + output tokens
    usd_per_good_request: float | None  # per request meeting every SLO
    provenance: Provenance  # where the price came from


def pricing(gpu: str | None, gpus: int, usd_per_gpu_hour: float | None,
            offer: str | Offer | None) -> HourlyCost | Offer | None:
    """What prices a run: a deployment's $/hour (``gpu``) or an API offer; None for neither."""
    if gpu is not None and offer is not None:
        raise InputError("price a run with --gpu (self-hosted) or --offer (API), not both")
    if gpu is None and usd_per_gpu_hour is not None:
        raise InputError("--usd-per-gpu-hour needs --gpu")
    if gpu is not None:
        return deployment_cost(gpu, gpus, usd_per_gpu_hour=usd_per_gpu_hour)
    if offer is not None:
        return offer if isinstance(offer, Offer) else find_offer(offer)
    return None


def point_cost(prices: HourlyCost | Offer, s: PointSummary, ok: list[RequestRecord]) -> PointCost:
    """Cost at one operating point from its summary ``s`` and its successful measured requests
    ``ok``: self-hosted $/s over measured throughput, or the offer's price of each request."""
    if isinstance(prices, Offer):
        cache: dict[tuple[int, int, int, int], float] = {}
        total = 0.0
        for r in ok:
            key = (r.input_tokens or 0, r.output_tokens - r.reasoning, r.cached_tokens or 0,
                   r.reasoning)
            if key not in cache:
                cache[key] = prices.request_usd(key[0], max(key[1], 0), cached_input_tokens=key[2],
                                                reasoning_tokens=key[3])
            total += cache[key]
        out = sum(r.output_tokens for r in ok)
        both = out + sum(r.input_tokens or 0 for r in ok)
        good = s.good_fraction * s.requests if s.good_fraction is not None else None
        return PointCost("offer", None, total / len(ok) if ok else None,
                         total / out * 1e6 if out else None, total / both * 1e6 if both else None,
                         total / good if good else None, prices.provenance)
    usd_s = prices.usd_per_hour / 3600

    def per(x: float | None, scale: float = 1.0) -> float | None:
        return usd_s / x * scale if x else None

    return PointCost("gpu", prices.usd_per_hour, per(s.request_throughput),
                     per(s.output_token_throughput, 1e6), per(s.total_token_throughput, 1e6),
                     per(s.goodput), prices.provenance)
