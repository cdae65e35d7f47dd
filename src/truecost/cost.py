"""What running a model costs: per hour of a deployment, per request, per task, per month.

Definitions (DESIGN.md, "Cost definitions"):
- API request: uncached input × p_in + cached input × p_cached + (output + reasoning) × p_out.
- Self-hosted: the deployment's $/hour — rented GPUs (GPUs × $/GPU-hour), or owned ones
  (purchase amortised over a stated life + server/network overhead + energy × PUE; the board
  power is the performance model's at the operating point, perf/power.py) — divided by
  the requests it serves. A deployment is paid for every hour it is up, busy or not, so the cost
  per request at a stated utilisation u is ``$/hour / (u × capacity requests/hour)``.
- Cost per task = mean cost of the requests one task needs; cost per correct answer = cost per
  task / accuracy ("cost of pass").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat

from .catalog import gpu as find_gpu
from .checks import finite_numbers
from .errors import InputError
from .hardware import GPU
from .provenance import Provenance

__all__ = ["DEFAULT_POWER_FRACTION", "HOURS_PER_MONTH", "HourlyCost", "OwnershipTerms", "PriceBasis", "deployment_cost",
           "usd_per_correct_answer"]

HOURS_PER_MONTH = 730.0  # 8760 h / 12
# assumption: mean board power / TDP of a serving GPU when no modelled power is at hand
DEFAULT_POWER_FRACTION = 0.7


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
    # Mean board power / TDP. None: the power the performance model gives at the deployment's
    # operating point (compare passes it), or DEFAULT_POWER_FRACTION where no model runs. A value
    # set here overrides the model.
    power_fraction_of_tdp: float | None = Field(None, gt=0, le=1.5)
    usd_per_gpu_hour_hosting: float = Field(0.0, ge=0)  # colocation, staff (0 = not counted)


@dataclass(frozen=True, slots=True)
class HourlyCost:
    """$/hour of a deployment of ``gpus`` GPUs, with its breakdown and provenance."""

    usd_per_hour: float
    breakdown: dict[str, float]  # usd_per_hour by term
    basis: PriceBasis
    gpus: int
    provenance: Provenance


def deployment_cost(gpu: GPU | str, gpus: int, basis: PriceBasis | str = PriceBasis.rent, *,
                    usd_per_gpu_hour: float | None = None,
                    ownership: OwnershipTerms | None = None,
                    power_w_per_gpu: float | None = None) -> HourlyCost:
    """$/hour of ``gpus`` GPUs of type ``gpu``, rented or owned. An owned GPU's energy is
    ``power_w_per_gpu`` (the modelled mean board power) × PUE × $/kWh; an explicit
    ``ownership.power_fraction_of_tdp`` overrides it, and without either it is
    ``DEFAULT_POWER_FRACTION`` × TDP.

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
        if rate is None:
            raise InputError(f"{g.key} has no public on-demand price in the catalog; "
                             f"give one (usd_per_gpu_hour / --usd-per-gpu-hour)")
        prov = (Provenance("input", f"{rate} $/GPU-hour") if usd_per_gpu_hour is not None
                else Provenance.catalog(g.price_source, g.price_as_of))
        return HourlyCost(rate * gpus, {"rent": rate * gpus}, basis, gpus, prov)
    t = ownership or OwnershipTerms()
    if g.usd_purchase is None or g.tdp_w is None:
        missing = "is not sold (cloud rental only)" if g.usd_purchase is None else "has no published TDP"
        raise InputError(f"{g.key} {missing}, so it has no ownership cost; price it as rented")
    capex = g.usd_purchase * (1 + t.server_overhead_fraction) / (t.life_years * 8760)
    if t.power_fraction_of_tdp is not None:
        watts, power_how = g.tdp_w * t.power_fraction_of_tdp, f"{t.power_fraction_of_tdp:.0%} TDP"
    elif power_w_per_gpu is not None:
        if not (power_w_per_gpu > 0 and math.isfinite(power_w_per_gpu)):
            raise InputError(f"power per GPU must be a finite number of watts > 0, got {power_w_per_gpu}")
        watts, power_how = power_w_per_gpu, f"{power_w_per_gpu:,.0f} W/GPU modelled"
    else:
        watts, power_how = g.tdp_w * DEFAULT_POWER_FRACTION, f"{DEFAULT_POWER_FRACTION:.0%} TDP (assumed)"
    energy = watts / 1000 * t.pue * t.usd_per_kwh
    terms = {"capex": capex * gpus, "energy": energy * gpus, "hosting": t.usd_per_gpu_hour_hosting * gpus}
    prov = Provenance("modelled", f"own: {g.key} ${g.usd_purchase:,.0f} (catalog {g.price_as_of}) "
                      f"over {t.life_years:g} y, +{t.server_overhead_fraction:.0%} server, "
                      f"{power_how} x PUE {t.pue:g} x ${t.usd_per_kwh:g}/kWh")
    return HourlyCost(sum(terms.values()), terms, basis, gpus, prov)


# Applied by assignment, not as ``@``: mutmut skips decorated functions (mutation/README.md).
deployment_cost = finite_numbers()(deployment_cost)


def usd_per_correct_answer(usd_per_task: float, accuracy: float) -> float | None:
    """Cost of pass: what one correct answer costs when a fraction ``accuracy`` is right.
    None when the model never answers correctly (the cost is unbounded)."""
    if not 0 <= accuracy <= 1:
        raise InputError(f"accuracy must be within [0, 1], got {accuracy}")
    return None if accuracy == 0 else usd_per_task / accuracy
