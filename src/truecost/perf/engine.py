"""Engine profiles: the empirical efficiency terms of a serving engine on a GPU family.

Every fudge factor the performance model needs lives here, named and documented, and each term
says where its value comes from in the profile's ``sources`` table: a publication, a measurement
(script + date), a calibration (``truecost calibrate``: points, date, residual) or an
``assumption``. None is a bare constant inside a formula. ``truecost engines`` shows which.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator, model_validator

from ..catalog import lookup, shipped
from ..errors import InputError
from ..paths import user_engine_dir

__all__ = ["SOURCE_KINDS", "TERMS", "EngineProfile", "check_engine_name", "engine", "engines"]

# The kinds a term's source may be, as the prefix of its entry in ``sources`` ("kind: text").
SOURCE_KINDS = ("publication", "measurement", "calibrated", "assumption")

# The numeric and policy terms of a profile: each one needs an entry in ``sources``.
TERMS = (
    "compute_efficiency", "attention_compute_efficiency", "memory_efficiency",
    "step_overhead_fixed_s", "step_overhead_per_layer_s", "allreduce_latency_s", "alltoall_latency_s",
    "link_efficiency", "moe_tile_tokens", "runtime_reserve_gib", "kv_memory_fraction", "kv_admission",
    "max_batch_size", "max_num_tokens", "request_overhead_s",
    "power_idle_fraction", "power_memory_fraction", "power_compute_fraction",
    "scheduling", "chunked_prefill", "prefix_caching",
)

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class EngineProfile(BaseModel):
    """Efficiency terms of an engine. Fractions are of the GPU's catalog peak."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    name: str
    # Fraction of dense tensor-core peak that large GEMMs reach, by matmul dtype.
    compute_efficiency: dict[str, float]
    # Fraction of peak FLOP/s reached by attention kernels (FlashAttention-class prefill).
    attention_compute_efficiency: float = Field(gt=0, le=1)
    # Fraction of HBM bandwidth reached when streaming weights and KV cache.
    memory_efficiency: float = Field(gt=0, le=1)
    # Time per engine step on each rank, outside the roofline ops: a fixed part (scheduling,
    # sampling, input preparation) plus a part per transformer layer (kernel launches and the
    # latency floor of the small kernels between the GEMMs: norms, RoPE, activations, residuals).
    # Ranks run in lockstep, so neither adds up over tensor-parallel GPUs.
    step_overhead_fixed_s: float = Field(ge=0)
    step_overhead_per_layer_s: float = Field(0.0, ge=0)
    # TP all-reduce and EP all-to-all: fixed latency per collective, and the fraction of link
    # bandwidth reached by the bytes they move.
    allreduce_latency_s: float = Field(ge=0)
    alltoall_latency_s: float = Field(2e-5, ge=0)
    link_efficiency: float = Field(gt=0, le=1)
    # Token tile of the grouped MoE GEMM: each expert's weights are read once per tile of the
    # tokens routed to it, and a partly filled tile costs a full tile of compute.
    moe_tile_tokens: PositiveInt = 64
    # Memory: what the runtime keeps outside weights and KV (CUDA context, activations,
    # CUDA graphs, workspace), and the fraction of the rest given to the KV cache.
    runtime_reserve_gib: float = Field(ge=0)
    kv_memory_fraction: float = Field(gt=0, le=1)
    # "max_length": admit a request only if its ISL+OSL fits (no eviction, TensorRT-LLM default);
    # "average": pack by the mean live context (vLLM-style paging with preemption).
    kv_admission: Literal["max_length", "average"]
    max_batch_size: PositiveInt  # most sequences decoded in one step (per attention-DP rank)
    max_num_tokens: PositiveInt  # token budget of one step (decode tokens + prefill chunk)
    request_overhead_s: float = Field(ge=0)  # per request, outside the engine (HTTP, tokenise)
    # Board power as fractions of the GPU's TDP (perf/power.py): the floor of a GPU that holds
    # the engine but computes nothing, plus coefficients on the HBM and tensor-core utilisations
    # (achieved bytes/s and FLOP/s over their peaks) of the step.
    power_idle_fraction: float = Field(0.15, ge=0, le=1)
    power_memory_fraction: float = Field(0.6, ge=0, le=3)
    power_compute_fraction: float = Field(1.55, ge=0, le=3)
    # term -> "kind: where it comes from" (kind in SOURCE_KINDS); see term_sources().
    sources: dict[str, str] = {}
    # Which work a step takes first (perf/simulate.py): every decode plus prefill chunks in the
    # budget left ("decode_first": vLLM V1 chunked prefill, TensorRT-LLM in-flight batching), or
    # pending prefills as steps of their own while decodes wait ("prefill_first": SGLang default).
    scheduling: Literal["decode_first", "prefill_first"] = "decode_first"
    # Whether a prompt may be split across steps (chunked prefill/context). Off, each prompt is
    # prefilled whole in one step, beside others only while their sum fits max_num_tokens.
    chunked_prefill: bool = True
    # Prompt tokens found in the prefix cache skip prefill (vLLM V1 automatic prefix caching,
    # TensorRT-LLM KV block reuse and SGLang RadixAttention are on by default).
    prefix_caching: bool = False
    # Whether `plan` searches this profile by default: datacenter serving engines do; a profile
    # for another setting (a Petals swarm server) is only searched when named (--engines).
    plan_default: bool = True
    source: str
    retrieved: date
    calibration: str | None = None  # "fitted from runs ... on <date>" when calibrated

    @model_validator(mode="before")
    @classmethod
    def _legacy_overhead(cls, data: Any) -> Any:
        """Profiles saved before the per-layer split have one ``step_overhead_s``: it is the
        fixed part, with no per-layer part."""
        if isinstance(data, dict) and "step_overhead_s" in data:
            data = dict(data)
            data.setdefault("step_overhead_fixed_s", data.pop("step_overhead_s"))
        return data

    @field_validator("compute_efficiency")
    @classmethod
    def _fractions(cls, v: dict[str, float]) -> dict[str, float]:
        for dtype, eff in v.items():
            if not 0 < eff <= 1:
                raise ValueError(f"compute_efficiency.{dtype} must be within (0, 1], got {eff}")
        if "bf16" not in v:
            raise ValueError("compute_efficiency needs a bf16 entry (the fallback for other dtypes)")
        return v

    @field_validator("sources")
    @classmethod
    def _source_kinds(cls, v: dict[str, str]) -> dict[str, str]:
        for term, text in v.items():
            if term not in TERMS:
                raise ValueError(f"sources.{term}: not a term of the profile ({', '.join(TERMS)})")
            kind = text.split(":", 1)[0].strip()
            if kind not in SOURCE_KINDS or ":" not in text:
                raise ValueError(f"sources.{term} must start with one of {', '.join(SOURCE_KINDS)} "
                                 f"and a colon, got '{text[:40]}'")
        return v

    def matmul_efficiency(self, dtype: str) -> float:
        key = "bf16" if dtype == "fp16" else dtype
        if key not in self.compute_efficiency:
            key = "bf16"
        return self.compute_efficiency[key]

    def overhead_s(self, layers: int) -> float:
        """Per-step overhead of a model with ``layers`` transformer layers."""
        return self.step_overhead_fixed_s + self.step_overhead_per_layer_s * layers

    def term_sources(self) -> dict[str, tuple[str, str]]:
        """Every term's ``(kind, text)``; a term with no entry is ``("unsourced", "")``."""
        out = {}
        for term in TERMS:
            text = self.sources.get(term)
            if text is None:
                out[term] = ("unsourced", "")
            else:
                kind, _, rest = text.partition(":")
                out[term] = (kind.strip(), rest.strip())
        return out


def engines(*, saved: bool = True) -> dict[str, EngineProfile]:
    """The shipped engine profiles and (``saved``) those ``truecost calibrate`` saved under
    ``$TRUECOST_HOME/engines/``, by key."""
    out = dict(shipped("engines.toml", EngineProfile))
    directory = user_engine_dir()
    if saved and directory.is_dir():
        for path in sorted(directory.glob("*.toml")):
            profile = lookup(str(path), out, "engine profile", EngineProfile)
            out.setdefault(profile.key, profile)
    return out


def check_engine_name(name: str) -> str:
    """``name`` if it can name a saved profile: a plain identifier (letters, digits, ``.``, ``_``,
    ``-``; no path separators), not ending in ``.toml``, and not a shipped profile's key (a saved
    profile of that name would be shadowed by the shipped one)."""
    if not _NAME.fullmatch(name) or name.lower().endswith(".toml"):
        raise InputError(f"engine name '{name}' is not a plain identifier; use letters, digits, "
                         "'.', '_' and '-' (at most 64, no path separators)")
    if name.lower() in shipped("engines.toml", EngineProfile):  # shipped only, never saved ones
        raise InputError(f"engine name '{name}' is a shipped profile and would be shadowed by it; "
                         "choose another --name")
    return name


def engine(name: str | EngineProfile = "tuned") -> EngineProfile:
    """A shipped engine profile by key, a calibrated one saved by ``truecost calibrate``
    (``$TRUECOST_HOME/engines/<key>.toml``), or one from a TOML file path."""
    if isinstance(name, EngineProfile):
        return name
    table = shipped("engines.toml", EngineProfile)
    if name.lower() not in table and "/" not in name and not name.endswith(".toml"):
        saved = user_engine_dir() / f"{name}.toml"
        if _NAME.fullmatch(name) and saved.exists():
            return lookup(str(saved), table, "engine profile", EngineProfile)
    return lookup(name, table, "engine profile", EngineProfile)
