"""Workloads: what a team needs served, read from a TOML file.

A workload states its traffic (tasks per day, peak-to-mean ratio), the tokens of one request
(input, of which cached, output, reasoning), how many requests one task takes, the latency SLO and
the quality bar, and the candidates to compare: API offers and self-hosted open models. A
candidate may override the token counts, since models differ (reasoning models use many more
tokens for the same task), and may state its accuracy on the task (with a source).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import (BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveFloat, PositiveInt,
                      ValidationError, model_validator)

from .catalog import load_toml, validation_message
from .checks import Name
from .cost import OwnershipTerms, PriceBasis
from .errors import CatalogError
from .perf.simulate import Objective

__all__ = ["ApiCandidate", "OffloadCandidate", "SelfHostedCandidate", "Slo", "SwarmCandidate", "TokenFigures",
           "Tokens", "Workload", "load_workload"]

# allow_inf_nan=False: a workload built in Python is held to what a TOML file is (catalog.load_toml)
_STRICT = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Tokens(BaseModel):
    """Tokens of one request. ``input`` includes ``cached_input``; ``reasoning`` is on top of
    ``output`` and billed as output."""

    model_config = _STRICT
    input: NonNegativeFloat
    output: NonNegativeFloat
    reasoning: NonNegativeFloat = 0
    cached_input_fraction: float = Field(0, ge=0, le=1)

    @property
    def cached_input(self) -> float:
        return self.input * self.cached_input_fraction

    @property
    def generated(self) -> float:
        return self.output + self.reasoning


class Slo(BaseModel):
    """Latency objectives, in seconds (None = no objective). The key says the statistic: a bare
    ``ttft_s`` is a **mean** (judged on the steady-state model), ``ttft_p95_s`` a **percentile**
    (judged on the serving simulation at the peak rate). Metrics: ``ttft`` (time to first token),
    ``tpot`` (time per output token), ``itl`` (gap between tokens), ``e2e`` (whole request)."""

    model_config = _STRICT
    ttft_s: PositiveFloat | None = None
    ttft_p50_s: PositiveFloat | None = None
    ttft_p90_s: PositiveFloat | None = None
    ttft_p95_s: PositiveFloat | None = None
    ttft_p99_s: PositiveFloat | None = None
    tpot_s: PositiveFloat | None = None
    tpot_p50_s: PositiveFloat | None = None
    tpot_p90_s: PositiveFloat | None = None
    tpot_p95_s: PositiveFloat | None = None
    tpot_p99_s: PositiveFloat | None = None
    itl_s: PositiveFloat | None = None
    itl_p50_s: PositiveFloat | None = None
    itl_p90_s: PositiveFloat | None = None
    itl_p95_s: PositiveFloat | None = None
    itl_p99_s: PositiveFloat | None = None
    e2e_s: PositiveFloat | None = None
    e2e_p50_s: PositiveFloat | None = None
    e2e_p90_s: PositiveFloat | None = None
    e2e_p95_s: PositiveFloat | None = None
    e2e_p99_s: PositiveFloat | None = None

    def objectives(self) -> tuple[Objective, ...]:
        """Every objective set, as (metric, statistic, limit)."""
        out = []
        for key, limit in self:
            if limit is not None:
                metric, *stat, _ = key.split("_")
                out.append(Objective(metric, stat[0] if stat else "mean", limit))  # type: ignore[arg-type]
        return tuple(out)


class TokenFigures(BaseModel):
    """A candidate's own tokens per request and accuracy: stated, or taken from a published
    token profile (``profile = "token-economy/<model>/math"``) or a stored eval run
    (``eval_run = "RUN_ID"``); ``truecost.eval.profiles.resolve_candidates`` fills them in."""

    model_config = _STRICT
    output_tokens: NonNegativeFloat | None = None  # per-model override of tokens.output
    reasoning_tokens: NonNegativeFloat | None = None  # per-model override of tokens.reasoning
    accuracy: float | None = Field(None, ge=0, le=1)
    accuracy_source: str | None = None
    profile: str | None = None
    eval_run: str | None = None


class Candidate(TokenFigures):
    label: str | None = None
    tokens_source: str | None = None  # where output/reasoning tokens came from

    def tokens(self, base: Tokens) -> Tokens:
        update = {k: v for k, v in (("output", self.output_tokens), ("reasoning", self.reasoning_tokens))
                  if v is not None}
        return base.model_copy(update=update)


class ApiCandidate(Candidate):
    offer: Name  # "provider/model" in genai-prices, or a key of the workload's offers file
    batch: bool = False


class SelfHostedCandidate(Candidate):
    model: Name
    gpus: list[Name] = Field(["h100-sxm"], min_length=1)
    precisions: list[Name] = Field(["bf16", "fp8", "int4"], min_length=1)
    max_tp: PositiveInt = 8
    engine: Name = "tuned"
    basis: PriceBasis = PriceBasis.rent
    usd_per_gpu_hour: PositiveFloat | None = None  # overrides the catalog rent (one GPU type)
    # Share of the workload's cached input the engine finds in its prefix cache (1 = every token
    # the API would bill as cached). Applies on engines that cache prefixes.
    prefix_cache_hit_rate: float = Field(1.0, ge=0, le=1)
    ownership: OwnershipTerms = OwnershipTerms()
    # Per precision ("int4" = {accuracy = 0.93, accuracy_source = "..."} or {eval_run = "..."}):
    # the candidate is then compared once per precision, each with its own accuracy.
    by_precision: dict[str, TokenFigures] = {}
    # A pinned deployment: compare costs this tensor-parallel size, precision and replica count
    # instead of searching (None: searched). Too few pinned replicas for the peak exclude the row.
    tp: PositiveInt | None = None
    precision: Name | None = None
    replicas: PositiveInt | None = None

    @model_validator(mode="after")
    def _one_rent_per_gpu_type(self) -> SelfHostedCandidate:
        if self.usd_per_gpu_hour is not None and len(set(self.gpus)) > 1:
            raise ValueError(f"usd_per_gpu_hour is one GPU type's rent, and gpus lists "
                             f"{len(set(self.gpus))}; give each GPU type its own [[self_hosted]] "
                             f"table")
        return self

    @model_validator(mode="after")
    def _one_way_to_choose(self) -> SelfHostedCandidate:
        if self.precision is not None and "precisions" in self.model_fields_set:
            raise ValueError("give precision (pinned) or precisions (searched), not both")
        if self.tp is not None and "max_tp" in self.model_fields_set:
            raise ValueError("give tp (pinned) or max_tp (searched), not both")
        return self

    @property
    def precision_choices(self) -> list[str]:
        return [self.precision] if self.precision is not None else list(self.precisions)

    @property
    def tp_choices(self) -> list[int]:
        return [self.tp] if self.tp is not None else [t for t in (1, 2, 4, 8) if t <= self.max_tp]

    @property
    def pins(self) -> list[str]:
        return [f"{k}={v}" for k, v in (("tp", self.tp), ("precision", self.precision),
                                        ("replicas", self.replicas)) if v is not None]


class SwarmCandidate(Candidate):
    """A Petals-style swarm (``perf/swarm.py``): ``servers`` such as ``"6x rtx-4090"`` or a list of
    those, one GPU each; the tool picks the precision and how many swarms serve the peak."""

    model: str
    servers: str | list[str]
    precisions: list[str] = ["int8", "int4"]  # Petals serves LLM.int8() and NF4 weights
    engine: str = "petals"
    network: str = "same-region"  # client <-> server: a shared_compute.toml [network.*] name
    server_network: str | None = None  # server <-> server (direct routing); default: network
    rtt_ms: NonNegativeFloat | None = None  # overrides the network's round trip
    mbit_s: PositiveFloat | None = None  # overrides its bandwidth
    routing: Literal["relay", "direct"] = "relay"
    client: str = "cpu"  # where the LM head runs: cpu, or a GPU name
    share: float = Field(1.0, gt=0, le=1)  # of each server's time
    basis: Literal["rent", "volunteer"] = "rent"
    usd_per_gpu_hour: PositiveFloat | None = None  # overrides every server's catalog rent

    def server_list(self) -> str:
        return self.servers if isinstance(self.servers, str) else ", ".join(self.servers)


class OffloadCandidate(Candidate):
    """One GPU with the weights it cannot hold in ``host_ram_gb`` of CPU RAM (``perf/offload.py``)."""

    model: str
    gpus: list[str] = ["rtx-4090"]
    host_ram_gb: PositiveFloat = 256
    precisions: list[str] = ["int4", "int8", "bf16"]
    engine: str = "vllm"  # vLLM --cpu-offload-gb
    overlap: bool = False  # prefetch the next layer while computing this one
    basis: PriceBasis = PriceBasis.rent
    usd_per_gpu_hour: PositiveFloat | None = None
    host_link_gb_s: PositiveFloat | None = None  # overrides the catalog's host link


# The highest peak a workload may ask for: 10 million requests/s, a few hundred times ChatGPT's
# whole traffic (OpenAI reported 2.5 billion prompts a day in July 2025, ~29,000/s on average).
MAX_PEAK_REQUESTS_PER_S = 1e7


class Workload(BaseModel):
    model_config = _STRICT
    name: Name
    description: str = ""
    tasks_per_day: PositiveFloat
    requests_per_task: PositiveFloat = 1
    peak_to_mean: float = Field(3.0, ge=1)  # busiest hour's rate / the day's mean rate
    # Highest load a replica is sized to run at; below 1% the replica count is a misprint's.
    utilisation: float = Field(0.8, ge=0.01, le=1)
    tokens: Tokens
    slo: Slo = Slo()
    min_accuracy: float | None = Field(None, ge=0, le=1)  # quality bar; candidates below are excluded
    offers_file: str | None = None  # extra/override API offers (path relative to the workload)
    api: list[ApiCandidate] = []
    self_hosted: list[SelfHostedCandidate] = []
    swarm: list[SwarmCandidate] = []
    offload: list[OffloadCandidate] = []

    @model_validator(mode="after")
    def _traffic_in_reach(self) -> Workload:
        # Every size and price downstream scales with the peak rate: one bound here keeps them
        # finite and readable (a typo'd exponent would otherwise print 300-digit replica counts).
        peak = self.requests_per_s_peak
        if not peak <= MAX_PEAK_REQUESTS_PER_S:  # also inf and nan
            raise ValueError(f"tasks_per_day x requests_per_task x peak_to_mean / 86,400 gives a peak of "
                             f"{peak:.3g} requests/s, beyond the {MAX_PEAK_REQUESTS_PER_S:,.0f} requests/s "
                             f"truecost sizes; check those three keys")
        return self

    @property
    def requests_per_s_mean(self) -> float:
        return self.tasks_per_day * self.requests_per_task / 86400

    @property
    def requests_per_s_peak(self) -> float:
        return self.requests_per_s_mean * self.peak_to_mean


def load_workload(path: Path | str) -> Workload:
    """Read and validate a workload TOML file (unknown keys are errors naming file and key)."""
    path = Path(path)
    data = load_toml(path)
    try:
        w = Workload.model_validate(data)
    except ValidationError as e:
        raise CatalogError(validation_message(str(path), e)) from None
    if w.offers_file and not Path(w.offers_file).is_absolute():
        w = w.model_copy(update={"offers_file": str(path.parent / w.offers_file)})
    if not (w.api or w.self_hosted or w.swarm or w.offload):
        raise CatalogError(f"{path}: no candidates; add [[api]], [[self_hosted]], [[swarm]] or [[offload]] tables")
    return w
