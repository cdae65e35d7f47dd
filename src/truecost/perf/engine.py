"""Engine profiles: the empirical efficiency terms of a serving engine on a GPU family.

Every fudge factor the performance model needs lives here, named and documented, with the source
it came from. None is a bare constant inside a formula. ``truecost calibrate`` fits these terms
from measured runs and stores the result as a new profile.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt

from ..catalog import lookup, shipped
from ..paths import user_engine_dir

__all__ = ["EngineProfile", "engine", "engines"]


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
    # Fixed time per engine step: kernel launches, scheduling, sampling, detokenisation.
    step_overhead_s: float = Field(ge=0)
    # TP all-reduce: fixed latency per collective, and fraction of link bandwidth reached.
    allreduce_latency_s: float = Field(ge=0)
    link_efficiency: float = Field(gt=0, le=1)
    # Memory: what the runtime keeps outside weights and KV (CUDA context, activations,
    # CUDA graphs, workspace), and the fraction of the rest given to the KV cache.
    runtime_reserve_gib: float = Field(ge=0)
    kv_memory_fraction: float = Field(gt=0, le=1)
    # "max_length": admit a request only if its ISL+OSL fits (no eviction, TensorRT-LLM default);
    # "average": pack by the mean live context (vLLM-style paging with preemption).
    kv_admission: Literal["max_length", "average"]
    max_batch_size: PositiveInt  # most sequences decoded in one step
    max_num_tokens: PositiveInt  # token budget of one step (decode tokens + prefill chunk)
    request_overhead_s: float = Field(ge=0)  # per request, outside the engine (HTTP, tokenise)
    # Which work a step takes first (perf/simulate.py): every decode plus prefill chunks in the
    # budget left ("decode_first": vLLM V1 chunked prefill, TensorRT-LLM in-flight batching), or
    # pending prefills as steps of their own while decodes wait ("prefill_first": SGLang default).
    scheduling: Literal["decode_first", "prefill_first"] = "decode_first"
    # Prompt tokens found in the prefix cache skip prefill (vLLM V1 automatic prefix caching,
    # TensorRT-LLM KV block reuse and SGLang RadixAttention are on by default).
    prefix_caching: bool = False
    source: str
    retrieved: date
    calibration: str | None = None  # "fitted from runs ... on <date>" when calibrated

    def matmul_efficiency(self, dtype: str) -> float:
        key = "bf16" if dtype == "fp16" else dtype
        if key not in self.compute_efficiency:
            key = "bf16"
        return self.compute_efficiency[key]


def engines() -> dict[str, EngineProfile]:
    return dict(shipped("engines.toml", EngineProfile))


def engine(name: str | EngineProfile = "tuned") -> EngineProfile:
    """A shipped engine profile by key, a calibrated one saved by ``truecost calibrate``
    (``$TRUECOST_HOME/engines/<key>.toml``), or one from a TOML file path."""
    if isinstance(name, EngineProfile):
        return name
    table = shipped("engines.toml", EngineProfile)
    if name.lower() not in table and "/" not in name and not name.endswith(".toml"):
        saved = user_engine_dir() / f"{name}.toml"
        if saved.exists():
            return lookup(str(saved), table, "engine profile", EngineProfile)
    return lookup(name, table, "engine profile", EngineProfile)
