"""What running a model costs: per hour of a deployment, per request, per task, per month.

Definitions (DESIGN.md, "Cost definitions"):
- API request: uncached input × p_in + cached input × p_cached + (output + reasoning) × p_out.
- Self-hosted: the deployment's $/hour — rented GPUs (GPUs × $/GPU-hour), or owned ones
  (purchase amortised over a stated life + server/network overhead + energy × PUE) — divided by
  the requests it serves. A deployment is paid for every hour it is up, busy or not, so the cost
  per request at a stated utilisation u is ``$/hour / (u × capacity requests/hour)``.
- Cost per task = mean cost of the requests one task needs; cost per correct answer = cost per
  task / accuracy ("cost of pass").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat

from .catalog import gpu as find_gpu
from .checks import finite_numbers
from .errors import InputError
from .hardware import GPU
from .provenance import Provenance

__all__ = ["HOURS_PER_MONTH", "HourlyCost", "OwnershipTerms", "PriceBasis", "deployment_cost",
           "usd_per_correct_answer"]

HOURS_PER_MONTH = 730.0  # 8760 h / 12


class PriceBasis(str, Enum):
    rent = "rent"
    own = "own"


class OwnershipTerms(BaseModel):
    """Assumptions for owned hardware; each a user can change, and every result that uses them
    states them in its provenance."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    life_years: PositiveFloat = 4.0  # assumption: straight-line over 4 years (train uses the same)
    # Servers (CPUs, memory, chassis) and cluster network on top of the GPU price, as a fraction of
    # GPU capex: 0.28 + 0.17 from Cottier et al. 2024 (arXiv:2405.21015) cost shares, as in train.
    server_overhead_fraction: float = Field(0.45, ge=0)
    usd_per_kwh: PositiveFloat = 0.08  # US EIA industrial average retail price 2023 (8.06 c/kWh)
    # Between Google's fleet 1.10 and the Uptime Institute survey average 1.57 (2021): a serving
    # deployment usually sits in a colocation hall, not a hyperscale one.
    pue: float = Field(1.3, ge=1.0)
    power_fraction_of_tdp: float = Field(0.7, gt=0, le=1.5)  # assumption: mean board power / TDP when serving
    usd_per_gpu_hour_hosting: float = Field(0.0, ge=0)  # colocation, staff (0 = not counted)


@dataclass(frozen=True, slots=True)
class HourlyCost:
    """$/hour of a deployment of ``gpus`` GPUs, with its breakdown and provenance."""

    usd_per_hour: float
    breakdown: dict[str, float]  # usd_per_hour by term
    basis: PriceBasis
    gpus: int
    provenance: Provenance


@finite_numbers()
def deployment_cost(gpu: GPU | str, gpus: int, basis: PriceBasis | str = PriceBasis.rent, *,
                    usd_per_gpu_hour: float | None = None,
                    ownership: OwnershipTerms | None = None) -> HourlyCost:
    """$/hour of ``gpus`` GPUs of type ``gpu``, rented or owned.

    >>> deployment_cost("h100-sxm", 2, usd_per_gpu_hour=2.5).usd_per_hour
    5.0
    """
    g = find_gpu(gpu)
    if gpus < 1:
        raise InputError(f"GPU count must be at least 1, got {gpus}")
    basis = PriceBasis(basis)
    if basis is PriceBasis.rent:
        if usd_per_gpu_hour is not None and usd_per_gpu_hour <= 0:
            raise InputError(f"--usd-per-gpu-hour must be > 0, got {usd_per_gpu_hour}")
        rate = usd_per_gpu_hour if usd_per_gpu_hour is not None else g.usd_per_gpu_hour
        prov = (Provenance("input", f"{rate} $/GPU-hour") if usd_per_gpu_hour is not None
                else Provenance.catalog(g.price_source, g.price_as_of))
        return HourlyCost(rate * gpus, {"rent": rate * gpus}, basis, gpus, prov)
    t = ownership or OwnershipTerms()
    capex = g.usd_purchase * (1 + t.server_overhead_fraction) / (t.life_years * 8760)
    energy = g.tdp_w / 1000 * t.power_fraction_of_tdp * t.pue * t.usd_per_kwh
    terms = {"capex": capex * gpus, "energy": energy * gpus, "hosting": t.usd_per_gpu_hour_hosting * gpus}
    prov = Provenance("modelled", f"own: {g.key} ${g.usd_purchase:,.0f} (catalog {g.price_as_of}) "
                      f"over {t.life_years:g} y, +{t.server_overhead_fraction:.0%} server, "
                      f"{t.power_fraction_of_tdp:.0%} TDP x PUE {t.pue:g} x ${t.usd_per_kwh:g}/kWh")
    return HourlyCost(sum(terms.values()), terms, basis, gpus, prov)


def usd_per_correct_answer(usd_per_task: float, accuracy: float) -> float | None:
    """Cost of pass: what one correct answer costs when a fraction ``accuracy`` is right.
    None when the model never answers correctly (the cost is unbounded)."""
    if not 0 <= accuracy <= 1:
        raise InputError(f"accuracy must be within [0, 1], got {accuracy}")
    return None if accuracy == 0 else usd_per_task / accuracy
