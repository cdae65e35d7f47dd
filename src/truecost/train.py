"""What a training run costs: FLOPs, GPU-hours, wall-clock, dollars, energy and CO2, for the final
run and for the development effort around it (the R&D multiplier).

Formulas (N active parameters, D training tokens, L layers, S sequence length, H query heads):

    flops_dense      = 6·N·D                        forward 2·N, backward 4·N per token
                                                    (Kaplan et al. 2020 §2.1; Hoffmann et al. 2022)
    flops_attention  = 3 · L · (2·S·d_qk + 2·S·d_v) · D   QKᵀ and A·V per token, forward ×3 for
                                                    forward + backward; = 12·L·S·d_attn·D for MHA/GQA
                                                    (PaLM, Chowdhery et al. 2022, App. B)
    gpu_hours        = flops / (peak_flops_per_gpu · MFU) / 3600
    wall_clock_days  = gpu_hours / gpus / 24
    usd_rent         = gpu_hours · usd_per_gpu_hour
    usd_own          = gpu_hours · (GPU price · (1 + server + network share) / life
                                    + tdp_kw · power_fraction · PUE · usd_per_kwh)   (cost.py)
    energy_mwh       = gpu_hours · tdp_w · power_fraction · PUE / 1e6
    co2_t            = energy_mwh · t_co2e_per_mwh
    development      = final run × R&D multiplier (1 / share of compute in the final run)

N counts all active parameters, embedding included, as Hoffmann et al. and published GPU-hour
figures do. The attention term counts every (query, key) pair, without halving for the causal
mask, as PaLM's and Meta's MFU do; it needs an architecture and a sequence length. MFU is the
fraction of the dense peak of the training precision that those FLOPs achieve; its defaults,
the R&D multiplier, grid intensity, PUE and prices come from ``catalog/data/training.toml``, each
with its source. Left out: staff, data acquisition, storage, and any wall-clock for R&D (its
runs overlap the final run's calendar).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import Field, PositiveFloat

from . import catalog
from .arch import ModelArch
from .checks import finite_numbers, finite_result
from .cost import OwnershipTerms, PriceBasis, deployment_cost
from .errors import CatalogError, InputError, UnknownNameError
from .hardware import GPU
from .perf.deployment import matmul_flops
from .provenance import Provenance

__all__ = [
    "ChinchillaPoint", "Figure", "ImpliedMfu", "TrainEstimate", "TrainPrecision", "TrainingFlops",
    "Trend", "TrendPoint", "chinchilla_tokens", "co2_t", "energy_mwh", "implied_mfu",
    "train_cost", "training_catalog", "training_flops", "trend",
]

SECONDS_PER_HOUR = 3600.0
# The "plus the attention term when material": material = more than 5% of 6·N·D.
ATTENTION_MATERIAL_SHARE = 0.05
# trend(): Epoch's growth rates are fitted on 2012-2024; a century out is already no projection.
MAX_TREND_YEARS = 100
# assumption: published development / final-run compute ratios run from 3.3x to 10x (Epoch AI) and
# 5.6x (Olmo 3, catalog `rnd`); a multiplier past 1,000x describes no development budget, and a
# huge one would overflow the development FLOPs, energy and CO2
MAX_RND_MULTIPLIER = 1000.0


class TrainPrecision(str, Enum):
    """Matmul precision of training; MFU is measured against this precision's dense peak."""

    bf16 = "bf16"
    fp16 = "fp16"
    fp8 = "fp8"


# ---- catalog: training.toml --------------------------------------------------------------------

_Sourced = catalog.Sourced


class MfuDefault(_Sourced):
    """The MFU one published run reached on a GPU family at a precision."""

    gpus: list[str]
    precision: TrainPrecision
    mfu: float = Field(gt=0, le=1)
    run: str


class RndOption(_Sourced):
    """A published share of development compute that went into the final run."""

    final_share: float = Field(gt=0, le=1)
    default: bool = False

    @property
    def multiplier(self) -> float:
        return 1 / self.final_share


class GridIntensity(_Sourced):
    t_co2e_per_mwh: PositiveFloat
    default: bool = False


class Growth(_Sourced):
    per_year: PositiveFloat
    quantity: Literal["usd", "flops"]


class Param(_Sourced):
    value: float = Field(ge=0)


class ShareOption(_Sourced):
    """A fraction of R&D that consortium members share (``consortium.py``)."""

    fraction: float = Field(gt=0, le=1)
    default: bool = False


_PARAMS = ("usd_per_kwh", "pue", "power_fraction_of_tdp", "life_years", "server_share",
           "network_share", "chinchilla_tokens_per_param")


@dataclass(frozen=True, slots=True)
class TrainingCatalog:
    mfu: dict[str, MfuDefault]
    rnd: dict[str, RndOption]
    grid: dict[str, GridIntensity]
    growth: dict[str, Growth]
    param: dict[str, Param]
    share: dict[str, ShareOption]


@cache
def training_catalog() -> TrainingCatalog:
    """The shipped ``training.toml``, validated (unknown keys, missing sources are errors)."""
    origin = "catalog/training.toml"
    with resources.as_file(resources.files(catalog) / "data" / "training.toml") as p:
        data = catalog.load_toml(p)
    kinds = {"mfu": MfuDefault, "rnd": RndOption, "grid": GridIntensity, "growth": Growth,
             "param": Param, "share": ShareOption}
    if unknown := set(data) - set(kinds):
        raise CatalogError(f"{origin}: unknown table '{sorted(unknown)[0]}'")
    parsed = {k: catalog.parse_entries(data.get(k, {}), cls, f"{origin} [{k}]")
              for k, cls in kinds.items()}
    cat = TrainingCatalog(**parsed)
    for name in ("rnd", "grid", "share"):
        if sum(e.default for e in getattr(cat, name).values()) != 1:
            raise CatalogError(f"{origin}: exactly one [{name}.*] entry needs default = true")
    if missing := [p for p in _PARAMS if p not in cat.param]:
        raise CatalogError(f"{origin}: missing [param.{missing[0]}]")
    return cat


def _param(name: str, given: float | None) -> tuple[float, Provenance]:
    """A user value (checked > 0) or the catalog default, with where it came from."""
    if given is None:
        p = training_catalog().param[name]
        return p.value, p.provenance
    if not given > 0:
        raise InputError(f"{name} must be > 0, got {given:g}")
    return given, Provenance("input", f"{given:g}")


def _named(table: dict[str, Any], kind: str, value: float | str | None, attr: str
           ) -> tuple[float, Provenance, Any]:
    """A number given by the user, a named catalog entry, or the entry marked default."""
    if isinstance(value, (int, float)):
        return float(value), Provenance("input", f"{value:g}"), None
    entry = (next(e for e in table.values() if e.default) if value is None
             else table.get(value.lower()))
    if entry is None:
        raise UnknownNameError(kind, value, table)
    return getattr(entry, attr), entry.provenance, entry


# ---- value objects -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Figure:
    """One number with its unit and where it came from."""

    value: float
    unit: str
    provenance: Provenance

    def scaled(self, factor: float, provenance: Provenance) -> Figure:
        return Figure(self.value * factor, self.unit, provenance)

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "unit": self.unit, "provenance": str(self.provenance)}


def _modelled(value: float, unit: str, how: str) -> Figure:
    return Figure(value, unit, Provenance("modelled", how))


@dataclass(frozen=True, slots=True)
class TrainingFlops:
    """Training FLOPs by term. ``attention`` is None when no architecture or sequence length was
    given (then only 6·N·D is counted)."""

    model: str
    params_total: Figure
    params_active: Figure
    tokens: Figure
    dense: Figure
    attention: Figure | None
    seq_len: int | None

    @property
    def total(self) -> Figure:
        if self.attention is None:
            return self.dense
        return _modelled(self.dense.value + self.attention.value, "FLOP",
                         "6·N·D + attention")

    @property
    def attention_share(self) -> float | None:
        """Attention FLOPs as a fraction of 6·N·D."""
        return None if self.attention is None else self.attention.value / self.dense.value

    @property
    def attention_material(self) -> bool | None:
        share = self.attention_share
        return None if share is None else share > ATTENTION_MATERIAL_SHARE


_RESULTS = ("flops", "gpu_hours", "wall_clock_days", "usd_rent", "usd_own", "energy_mwh", "co2_t")


@dataclass(frozen=True, slots=True)
class TrainEstimate:
    """A training run's cost (``final_run``) and the development effort around it
    (``with_rnd`` = final run × ``rnd_multiplier``), every figure with its provenance."""

    gpu: str
    gpus: int | None
    precision: TrainPrecision
    basis: PriceBasis
    compute: TrainingFlops
    # assumptions: user inputs or catalog defaults
    mfu: Figure
    peak_flops_per_gpu: Figure
    usd_per_gpu_hour_rent: Figure
    usd_per_gpu_hour_own: Figure | None  # None: the GPU is not sold or has no published TDP
    usd_per_kwh: Figure
    pue: Figure
    power_fraction_of_tdp: Figure
    life_years: Figure
    server_share: Figure
    network_share: Figure
    t_co2e_per_mwh: Figure
    rnd_multiplier: Figure
    rnd_note: str
    # the final run
    gpu_hours: Figure
    wall_clock_days: Figure | None
    usd_rent: Figure
    usd_own: Figure | None
    usd_own_breakdown: dict[str, float]  # USD by term (capex, energy, hosting)
    energy_mwh: Figure | None  # None: the GPU's power is not published (TPUs)
    co2_t: Figure | None

    @property
    def flops(self) -> Figure:
        return self.compute.total

    @property
    def usd(self) -> Figure:
        """The final run's cost on the chosen price basis."""
        return self.usd_rent if self.basis is PriceBasis.rent else self.usd_own

    def assumptions(self) -> dict[str, Figure]:
        c = self.compute
        out = {"params_total": c.params_total, "params_active": c.params_active,
                "tokens": c.tokens, "mfu": self.mfu, "peak_flops_per_gpu": self.peak_flops_per_gpu,
                "usd_per_gpu_hour_rent": self.usd_per_gpu_hour_rent,
                "usd_per_gpu_hour_own": self.usd_per_gpu_hour_own,
                "usd_per_kwh": self.usd_per_kwh, "pue": self.pue,
                "power_fraction_of_tdp": self.power_fraction_of_tdp,
                "life_years": self.life_years, "server_share": self.server_share,
                "network_share": self.network_share, "t_co2e_per_mwh": self.t_co2e_per_mwh,
                "rnd_multiplier": self.rnd_multiplier}
        return {k: f for k, f in out.items() if f is not None}

    def final_run(self) -> dict[str, Figure]:
        out: dict[str, Figure] = {}
        if self.compute.attention is not None:  # show the terms only when there are two
            out |= {"flops_dense": self.compute.dense, "flops_attention": self.compute.attention}
        out |= {k: getattr(self, k) for k in _RESULTS if getattr(self, k) is not None}
        return out

    def with_rnd(self) -> dict[str, Figure]:
        """Development totals: each final-run figure × the R&D multiplier (no wall-clock)."""
        m = self.rnd_multiplier
        how = Provenance("modelled", f"final run × R&D multiplier {m.value:.2f} ({m.provenance})")
        return {k: getattr(self, k).scaled(m.value, how)
                for k in _RESULTS if k != "wall_clock_days" and getattr(self, k) is not None}

    def to_dict(self) -> dict[str, Any]:
        c = self.compute
        return {
            "model": c.model, "gpu": self.gpu, "gpus": self.gpus,
            "precision": self.precision.value, "basis": self.basis.value, "seq_len": c.seq_len,
            "assumptions": {k: f.to_dict() for k, f in self.assumptions().items()},
            "final_run": {k: f.to_dict() for k, f in self.final_run().items()},
            "usd_own_breakdown": self.usd_own_breakdown,
            "with_rnd": {k: f.to_dict() for k, f in self.with_rnd().items()},
            "attention_share": c.attention_share, "attention_material": c.attention_material,
            "usd": self.usd.value, "usd_with_rnd": self.usd.value * self.rnd_multiplier.value,
            "rnd_note": self.rnd_note,
        }


# ---- formulas ----------------------------------------------------------------------------------

def _attention_flops_per_token(m: ModelArch, seq_len: int) -> float:
    """Forward + backward FLOPs of QKᵀ and A·V for one token attending to ``seq_len`` tokens
    (windowed layers capped). MLA trains un-absorbed: q·k over (nope + rope) dims, v over v dims."""
    if m.mla is not None:
        d_qk = m.heads * (m.mla.qk_nope_head_dim + m.mla.qk_rope_head_dim)
        d_v = m.heads * m.mla.v_head_dim
    else:
        d_qk = d_v = m.heads * m.head_dim
    s = m.attended_tokens(seq_len)
    forward = m.layers * (matmul_flops(1, d_qk, s) + matmul_flops(1, s, d_v))
    return 3 * forward  # backward = 2 × forward (gradients w.r.t. both operands)


def _resolve_params(model: str | ModelArch | None, params_total: float | None,
                    params_active: float | None) -> tuple[str, ModelArch | None, Figure, Figure]:
    if model is not None:
        if params_total is not None or params_active is not None:
            raise InputError("give a model or parameter counts, not both")
        arch = catalog.model(model)
        prov = Provenance.catalog(arch.source, arch.retrieved)
        return (arch.key, arch, Figure(arch.params_total, "params", prov),
                Figure(arch.params_active, "params", prov))
    if params_total is None:
        raise InputError("give a model (--model) or its parameter count (--params-total)")
    if not params_total > 0:
        raise InputError(f"parameter count must be positive, got {params_total:g}")
    active = params_total if params_active is None else params_active
    if not 0 < active <= params_total:
        raise InputError(f"active parameters must be in (0, {params_total:g}], got {active:g}")
    given = Provenance("input", "given")
    return ("custom", None, Figure(params_total, "params", given),
            Figure(active, "params", given if params_active is not None
                   else Provenance("input", "= total (dense)")))


def training_flops(model: str | ModelArch | None = None, *, params_total: float | None = None,
                   params_active: float | None = None, tokens: float,
                   seq_len: int | None = None) -> TrainingFlops:
    """FLOPs to train on ``tokens`` tokens: 6·N·D, plus attention when ``model`` is an
    architecture and ``seq_len`` is given.

    >>> training_flops(params_total=7e9, tokens=1e12).total.value
    4.2e+22
    """
    name, arch, total, active = _resolve_params(model, params_total, params_active)
    if not tokens > 0:
        raise InputError(f"training tokens must be positive, got {tokens:g}")
    tokens_fig = Figure(tokens, "tokens", Provenance("input", "given"))
    dense = _modelled(6 * active.value * tokens, "FLOP", "6·N·D")
    attention = None
    if seq_len is not None:
        if seq_len < 1:
            raise InputError(f"sequence length must be at least 1, got {seq_len}")
        if arch is None:
            raise InputError("the attention term needs a model architecture (--model), "
                             "not just a parameter count")
        if seq_len > arch.max_context:
            raise InputError(f"--seq-len {seq_len:,} exceeds {arch.key}'s context of "
                             f"{arch.max_context:,} tokens")
        attention = _modelled(_attention_flops_per_token(arch, seq_len) * tokens, "FLOP",
                              f"3·L·(2·S·d_qk + 2·S·d_v)·D, S={seq_len}")
    return TrainingFlops(name, total, active, tokens_fig, dense, attention, seq_len)


# Applied by assignment, not as ``@``: mutmut skips decorated functions (mutation/README.md).
training_flops = finite_numbers(params_total="--params", params_active="--active-params")(training_flops)


def energy_mwh(gpu_hours: float, tdp_w: float, *, power_fraction_of_tdp: float,
               pue: float) -> float:
    """Facility energy of ``gpu_hours`` at ``power_fraction_of_tdp`` × TDP, times PUE."""
    return gpu_hours * tdp_w * power_fraction_of_tdp * pue / 1e6


def co2_t(energy_mwh: float, t_co2e_per_mwh: float) -> float:
    """Tonnes CO2e: energy × grid intensity. With power_fraction 1 and PUE folded into the
    intensity this is Meta's model-card method (GPU-hours × TDP × intensity)."""
    return energy_mwh * t_co2e_per_mwh


def _mfu(gpu: GPU, precision: TrainPrecision, mfu: float | None) -> Figure:
    if mfu is not None:
        if not 0 < mfu <= 1:
            raise InputError(f"MFU must be in (0, 1] (a fraction of peak FLOP/s), got {mfu:g}")
        return Figure(mfu, "fraction", Provenance("input", "given"))
    family = TrainPrecision.bf16 if precision is TrainPrecision.fp16 else precision
    for e in training_catalog().mfu.values():
        if gpu.key in e.gpus and e.precision is family:
            return Figure(e.mfu, "fraction", Provenance.catalog(f"{e.run}; {e.source}", e.as_of))
    raise InputError(f"no published training MFU for {gpu.key} at {precision.value} in "
                     "catalog/training.toml; give one with --mfu")


def train_cost(model: str | ModelArch | None = None, *, params_total: float | None = None,
               params_active: float | None = None, tokens: float, gpu: str | GPU = "h100-sxm",
               gpus: int | None = None, mfu: float | None = None,
               precision: TrainPrecision | str = "bf16", basis: PriceBasis | str = "rent",
               usd_per_gpu_hour: float | None = None, usd_per_kwh: float | None = None,
               pue: float | None = None, grid: float | str | None = None,
               rnd_multiplier: float | str | None = None,
               seq_len: int | None = None) -> TrainEstimate:
    """Cost of training ``model`` (a catalog name or architecture) or a model of
    ``params_total``/``params_active`` parameters on ``tokens`` tokens, on ``gpus`` × ``gpu``.

    ``None`` means the catalog default, named in each figure's provenance: ``mfu`` from the
    published run for this GPU family and precision; ``usd_per_gpu_hour`` the GPU's on-demand
    price; ``usd_per_kwh``, ``pue``, ``grid`` (tCO2e/MWh, or a name such as ``meta-llama-3-1``)
    and ``rnd_multiplier`` (a number ≥ 1, or ``ai2-olmo3``, ``epoch-low``, ``epoch-high``,
    ``final-only``) from ``training.toml``. ``gpus`` only sets the wall-clock (None: not shown).

    >>> est = train_cost("llama-3.1-70b", tokens=15e12, gpus=16384)
    >>> round(est.gpu_hours.value / 1e6, 2), round(est.wall_clock_days.value, 1)
    (4.46, 11.3)
    """
    precision, basis = TrainPrecision(precision), PriceBasis(basis)
    compute = training_flops(model, params_total=params_total, params_active=params_active,
                             tokens=tokens, seq_len=seq_len)
    g = catalog.gpu(gpu)
    if gpus is not None and gpus < 1:
        raise InputError(f"GPU count must be at least 1, got {gpus}")
    peak = Figure(g.peak_flops(precision.value), "FLOP/s", Provenance.catalog(g.source, g.retrieved))
    mfu_fig = _mfu(g, precision, mfu)

    flops = finite_result(compute.total.value, "training FLOPs",
                          "give fewer --tokens or a smaller model")
    gpu_hours = flops / (peak.value * mfu_fig.value) / SECONDS_PER_HOUR
    days = None if gpus is None else _modelled(gpu_hours / gpus / 24, "days",
                                               f"GPU-hours / {gpus} GPUs / 24")

    cat = training_catalog()
    if pue is not None and not pue >= 1:
        raise InputError(f"PUE must be >= 1 (facility energy / IT energy), got {pue:g}")
    kwh, kwh_prov = _param("usd_per_kwh", usd_per_kwh)
    pue_v, pue_prov = _param("pue", pue)
    power, power_prov = _param("power_fraction_of_tdp", None)
    life, life_prov = _param("life_years", None)
    server, server_prov = _param("server_share", None)
    network, network_prov = _param("network_share", None)
    grid_v, grid_prov, _ = _named(cat.grid, "grid intensity", grid, "t_co2e_per_mwh")
    if not grid_v >= 0:
        raise InputError(f"grid intensity must be >= 0 tCO2e/MWh, got {grid_v:g}")
    rnd_v, rnd_prov, rnd_entry = _named(cat.rnd, "R&D multiplier", rnd_multiplier, "multiplier")
    if not rnd_v >= 1:
        raise InputError(f"R&D multiplier must be >= 1 (development includes the final run), "
                         f"got {rnd_v:g}")
    if rnd_v > MAX_RND_MULTIPLIER:
        raise InputError(f"R&D multiplier {rnd_v:g} is above {MAX_RND_MULTIPLIER:,.0f}: development "
                         f"compute is the final run's 3-10x in published accounts; check --rnd-multiplier")

    rent = deployment_cost(g, 1, PriceBasis.rent, usd_per_gpu_hour=usd_per_gpu_hour)
    terms = OwnershipTerms(life_years=life, server_overhead_fraction=server + network,
                           usd_per_kwh=kwh, pue=pue_v, power_fraction_of_tdp=power)
    ownable = g.usd_purchase is not None and g.tdp_w is not None
    # a GPU that is not sold has no owned cost; asking for it as the headline is the error
    own = (deployment_cost(g, 1, PriceBasis.own, ownership=terms)
           if ownable or basis is PriceBasis.own else None)
    own_how = f"${g.usd_purchase or 0:,.0f}/GPU × (1 + server + network share) / life + energy × $/kWh"
    mwh = (None if g.tdp_w is None else
           energy_mwh(gpu_hours, g.tdp_w, power_fraction_of_tdp=power, pue=pue_v))
    for what, value in (("GPU-hours", gpu_hours), ("rented cost", gpu_hours * rent.usd_per_hour),
                        ("owned cost", None if own is None else gpu_hours * own.usd_per_hour),
                        ("energy", mwh), ("CO2", None if mwh is None else co2_t(mwh, grid_v)),
                        ("cost with R&D", gpu_hours * max(rent.usd_per_hour, own.usd_per_hour if own else 0)
                         * rnd_v)):
        if value is not None:
            finite_result(value, what, "check --tokens, the parameter count, --mfu and the prices")

    est = TrainEstimate(
        gpu=g.key, gpus=gpus, precision=precision, basis=basis, compute=compute,
        mfu=mfu_fig, peak_flops_per_gpu=peak,
        usd_per_gpu_hour_rent=Figure(rent.usd_per_hour, "USD/GPU-h", rent.provenance),
        usd_per_gpu_hour_own=own and _modelled(own.usd_per_hour, "USD/GPU-h", own_how),
        usd_per_kwh=Figure(kwh, "USD/kWh", kwh_prov), pue=Figure(pue_v, "ratio", pue_prov),
        power_fraction_of_tdp=Figure(power, "fraction", power_prov),
        life_years=Figure(life, "years", life_prov),
        server_share=Figure(server, "fraction", server_prov),
        network_share=Figure(network, "fraction", network_prov),
        t_co2e_per_mwh=Figure(grid_v, "tCO2e/MWh", grid_prov),
        rnd_multiplier=Figure(rnd_v, "x", rnd_prov),
        rnd_note=rnd_entry.note if rnd_entry else "given",
        gpu_hours=_modelled(gpu_hours, "GPU-h", "FLOPs / (peak · MFU) / 3600"),
        wall_clock_days=days,
        usd_rent=_modelled(gpu_hours * rent.usd_per_hour, "USD", "GPU-hours × rent"),
        usd_own=own and _modelled(gpu_hours * own.usd_per_hour, "USD", "GPU-hours × own $/GPU-h"),
        usd_own_breakdown={k: v * gpu_hours for k, v in own.breakdown.items()} if own else {},
        energy_mwh=None if mwh is None else _modelled(
            mwh, "MWh", f"GPU-hours × {g.tdp_w:g} W × power fraction × PUE"),
        co2_t=None if mwh is None else _modelled(co2_t(mwh, grid_v), "tCO2e", "energy × grid intensity"),
    )
    for what, f in est.with_rnd().items():  # FLOPs near the float limit overflow once scaled
        finite_result(f.value, f"{what.replace('_', ' ')} with R&D",
                      "check --tokens, the parameter count and --rnd-multiplier")
    return est


# Applied by assignment, not as ``@``: mutmut skips decorated functions (mutation/README.md).
train_cost = finite_numbers(params_total="--params", params_active="--active-params")(train_cost)


# ---- helpers: Chinchilla, implied MFU, trends ----------------------------------------------------

@dataclass(frozen=True, slots=True)
class ChinchillaPoint:
    flops: float
    params: float
    tokens: float
    tokens_per_param: Figure


def chinchilla_tokens(compute_flops: float, tokens_per_param: float | None = None
                      ) -> ChinchillaPoint:
    """Compute-optimal parameters and tokens for a budget of ``compute_flops`` (Hoffmann et al.
    2022): D = r·N with r ≈ 20 and C = 6·N·D, so N = sqrt(C / (6·r)) and D = r·N.

    >>> p = chinchilla_tokens(5.88e23)  # Chinchilla itself: 70B parameters, 1.4T tokens
    >>> round(p.params / 1e9), round(p.tokens / 1e12, 2)
    (70, 1.4)
    """
    if not compute_flops > 0:
        raise InputError(f"compute budget must be positive FLOPs, got {compute_flops:g}")
    r, prov = _param("chinchilla_tokens_per_param", tokens_per_param)
    params = finite_result(math.sqrt(compute_flops / (6 * r)), "parameters",
                           "give a larger --tokens-per-param or a smaller --flops")
    tokens = finite_result(r * params, "tokens", "give a smaller --tokens-per-param")
    return ChinchillaPoint(compute_flops, params, tokens, Figure(r, "tokens/param", prov))


# Applied by assignment, not as ``@``: mutmut skips decorated functions (mutation/README.md).
chinchilla_tokens = finite_numbers(compute_flops="--flops")(chinchilla_tokens)


@dataclass(frozen=True, slots=True)
class ImpliedMfu:
    mfu: float
    flops: Figure
    gpu_hours: float
    peak_flops_per_gpu: Figure


def implied_mfu(gpu_hours: float, model: str | ModelArch | None = None, *,
                params_total: float | None = None, params_active: float | None = None,
                tokens: float, gpu: str | GPU = "h100-sxm",
                precision: TrainPrecision | str = "bf16",
                seq_len: int | None = None) -> ImpliedMfu:
    """The MFU a reported GPU-hours figure implies: FLOPs / (GPU-hours · 3600 · peak). A value
    above 1 means the figures cannot all be right (or the FLOPs are over-counted).

    >>> round(implied_mfu(30.84e6, params_total=405.9e9, tokens=15.6e12).mfu, 3)
    0.346
    """
    if not gpu_hours > 0:
        raise InputError(f"GPU-hours must be positive, got {gpu_hours:g}")
    compute = training_flops(model, params_total=params_total, params_active=params_active,
                             tokens=tokens, seq_len=seq_len)
    g = catalog.gpu(gpu)
    peak = Figure(g.peak_flops(TrainPrecision(precision).value), "FLOP/s",
                  Provenance.catalog(g.source, g.retrieved))
    total = compute.total
    mfu = total.value / (gpu_hours * SECONDS_PER_HOUR * peak.value)
    if not mfu <= 1:  # more FLOPs than the GPUs' peak: the figures cannot all be right
        raise InputError(f"these figures imply an MFU of {mfu:,.3g}, above 1: {total.value:.3g} "
                         f"FLOPs do not fit in {gpu_hours:,.3g} {g.key} GPU-hours even at peak; "
                         f"check --gpu-hours, --tokens, the parameter count, --gpu and "
                         f"--precision")
    return ImpliedMfu(mfu, total, gpu_hours, peak)


# Applied by assignment, not as ``@``: mutmut skips decorated functions (mutation/README.md).
implied_mfu = finite_numbers(params_total="--params", params_active="--active-params")(implied_mfu)


@dataclass(frozen=True, slots=True)
class TrendPoint:
    year: int
    usd: float
    flops: float | None


@dataclass(frozen=True, slots=True)
class Trend:
    points: tuple[TrendPoint, ...]
    usd_growth_per_year: Figure
    flops_growth_per_year: Figure | None


def _growth(value: float | str, quantity: str) -> Figure:
    if isinstance(value, (int, float)):
        if not value > 0:
            raise InputError(f"growth per year must be positive, got {value:g}")
        return Figure(float(value), "x/year", Provenance("input", f"{value:g}"))
    table = training_catalog().growth
    entry = table.get(value.lower())
    if entry is None:
        raise UnknownNameError("growth scenario", value, table)
    if entry.quantity != quantity:
        raise InputError(f"growth scenario '{value}' projects {entry.quantity}, not {quantity}")
    return Figure(entry.per_year, "x/year", entry.provenance)


def trend(base_usd: float, base_year: int, to_year: int, *, growth: float | str = "epoch-cost",
          base_flops: float | None = None, compute_growth: float | str = "epoch-compute") -> Trend:
    """Project a frontier training cost forward: usd(y) = base_usd · growth^(y − base_year), and
    FLOPs likewise at ``compute_growth`` when ``base_flops`` is given. A scenario, not a forecast.

    >>> [round(p.usd / 1e6) for p in trend(40e6, 2023, 2025).points]
    [40, 96, 230]
    """
    if not base_usd > 0:
        raise InputError(f"base cost must be positive USD, got {base_usd:g}")
    if to_year < base_year:
        raise InputError(f"--to-year ({to_year}) must not be before the base year ({base_year})")
    if to_year - base_year > MAX_TREND_YEARS:
        raise InputError(f"--to-year ({to_year}) is more than {MAX_TREND_YEARS} years after the base "
                         f"year ({base_year}); a growth rate says nothing that far out")
    g_usd = _growth(growth, "usd")
    g_flops = None
    if base_flops is not None:
        if not base_flops > 0:
            raise InputError(f"base FLOPs must be positive, got {base_flops:g}")
        g_flops = _growth(compute_growth, "flops")
    try:
        points = tuple(
            TrendPoint(y, base_usd * g_usd.value ** (y - base_year),
                       None if g_flops is None else base_flops * g_flops.value ** (y - base_year))
            for y in range(base_year, to_year + 1))
    except OverflowError:
        points = (TrendPoint(0, math.inf, None),)
    for p in points:
        finite_result(p.usd, "projected cost", "project fewer years or a lower growth")
        if p.flops is not None:
            finite_result(p.flops, "projected FLOPs", "project fewer years or a lower growth")
    return Trend(points, g_usd, g_flops)


# Applied by assignment, not as ``@``: mutmut skips decorated functions (mutation/README.md).
trend = finite_numbers(base_usd="--usd", base_year="--year", to_year="--to", base_flops="--flops")(trend)
