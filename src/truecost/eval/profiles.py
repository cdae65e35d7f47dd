"""Where a compare candidate's tokens per task and accuracy come from: a published token profile,
or one of your own eval runs.

Token profiles (``catalog/data/token_profiles.toml``) are published tokens per task and success
rates by model and domain, ``token-economy/<model>/<domain>`` (domains ``knowledge``, ``math``,
``logic_puzzle``, ``all``), derived from the TokenEconomy study (cpldcpu/LRMTokenEconomy, Nous
Research, Aug 2025; commit and date in each entry). A profile gives output tokens (completion −
reasoning), reasoning tokens and accuracy; the study recorded no input tokens, so input stays
the workload's. An eval run (``eval_run = "RUN_ID"``) gives the same three from your own
measurement: mean completion − mean reasoning, mean reasoning, and accuracy over graded answers.

``resolve_candidates`` fills each candidate from its ``profile`` or ``eval_run`` (a figure the
candidate states itself wins) and records the source in ``tokens_source``/``accuracy_source``.
A self-hosted candidate with ``by_precision`` tables becomes one candidate per precision, each
with its own accuracy (measured by eval at that precision, or a published recovery figure), so
compare can judge a cheaper precision that loses accuracy by its $ per correct answer.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveInt, model_validator

from ..catalog import shipped
from ..errors import InputError, UnknownNameError
from ..provenance import Provenance
from ..workload import ApiCandidate, SelfHostedCandidate, Workload

__all__ = ["TokenProfile", "profile", "profiles", "resolve_candidates"]

_FIGURES = ("output_tokens", "reasoning_tokens", "accuracy", "accuracy_source", "profile",
            "eval_run", "tokens_source")


class TokenProfile(BaseModel):
    """Published tokens per task and success rate of one model on one domain."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    key: str
    completion_tokens: NonNegativeFloat  # reasoning included, as billed
    reasoning_tokens: NonNegativeFloat
    output_tokens: NonNegativeFloat  # completion − reasoning
    accuracy: float = Field(ge=0, le=1)
    prompts: PositiveInt
    runs: PositiveInt
    reasoning_rule: str  # how the study obtained reasoning tokens for this model
    source: str
    commit: str
    as_of: date

    @model_validator(mode="after")
    def _adds_up(self) -> TokenProfile:
        if abs(self.completion_tokens - self.reasoning_tokens - self.output_tokens) > 0.15:
            raise ValueError("output_tokens must equal completion_tokens - reasoning_tokens")
        return self

    @property
    def provenance(self) -> Provenance:
        return Provenance.catalog(f"{self.key}: {self.source} @{self.commit[:7]}, "
                                  f"{self.runs} runs over {self.prompts} prompts",
                                  self.as_of)


def profiles() -> dict[str, TokenProfile]:
    """Every shipped token profile by key."""
    return dict(shipped("token_profiles.toml", TokenProfile))


def profile(name: str) -> TokenProfile:
    """A profile by key, ``token-economy/<model>/<domain>`` (case-insensitive)."""
    table = profiles()
    low = name.strip().lower()
    found = next((p for k, p in table.items() if k.lower() == low), None)
    if found is None:
        raise UnknownNameError("token profile", name, table)
    return found


def resolve_candidates(w: Workload, store: str | Path | None = None) -> Workload:
    """``w`` with every candidate's ``profile``/``eval_run`` turned into token counts and
    accuracy, and ``by_precision`` tables expanded into one candidate per precision."""
    if not any(c.profile or c.eval_run for c in [*w.api, *w.self_hosted]) and not any(
            c.by_precision for c in w.self_hosted):
        return w
    api = [_resolve(c, store) for c in w.api]
    hosted = [_resolve(x, store) for c in w.self_hosted for x in _per_precision(c)]
    return w.model_copy(update={"api": api, "self_hosted": hosted})


def _per_precision(c: SelfHostedCandidate) -> list[SelfHostedCandidate]:
    if not c.by_precision:
        return [c]
    unknown = sorted(set(c.by_precision) - set(c.precisions))
    if unknown:
        raise InputError(f"{c.label or c.model}: by_precision names {', '.join(unknown)}, which "
                         f"is not in precisions {c.precisions}")
    out = []
    for p in c.precisions:
        base = c.model_copy(update={"precisions": [p], "by_precision": {},
                                    "label": f"{c.label or c.model} {p}"})
        o = c.by_precision.get(p)
        if o is not None:
            given = o.model_dump(exclude_none=True)
            if o.profile or o.eval_run:  # the precision's own source replaces the base's figures
                base = base.model_copy(update={k: None for k in _FIGURES})
            base = base.model_copy(update=given)
        out.append(base)
    return out


def _resolve(c: Any, store: str | Path | None) -> ApiCandidate | SelfHostedCandidate:
    if c.profile and c.eval_run:
        raise InputError(f"{c.label or getattr(c, 'offer', None) or c.model}: give profile or "
                         f"eval_run, not both")
    if c.profile:
        p = profile(c.profile)
        out, reasoning, acc = p.output_tokens, p.reasoning_tokens, p.accuracy
        src = acc_src = str(p.provenance)
    elif c.eval_run:
        from .results import load_eval

        r = load_eval(c.eval_run, store).overall
        if not r.answered:
            raise InputError(f"eval run {c.eval_run} has no answers to take tokens from")
        reasoning = r.reasoning_tokens.mean or 0.0
        out = max((r.output_tokens.mean or 0.0) - reasoning, 0.0)
        acc = r.accuracy
        src = f"measured:{c.eval_run} (mean of {r.answered} answers)"
        acc_src = f"measured:{c.eval_run} ({r.correct}/{r.graded} correct)"
    else:
        return c
    mine = [k for k in ("output_tokens", "reasoning_tokens") if getattr(c, k) is not None]
    if mine:
        src += f"; {' and '.join(mine)} from the workload"
    update: dict[str, Any] = {"tokens_source": c.tokens_source or src}
    if c.output_tokens is None:
        update["output_tokens"] = out
    if c.reasoning_tokens is None:
        update["reasoning_tokens"] = reasoning
    if c.accuracy is None and acc is not None:
        update["accuracy"] = acc
        update["accuracy_source"] = c.accuracy_source or acc_src
    return c.model_copy(update=update)
