"""What a benchmark sends: synthetic prompts of given lengths, a prompt file, or a replayed log.

- Synthetic prompts are random common English words, sized to an input-length distribution.
  With a tokenizer (``tokenizer="path/to/tokenizer.json"`` or a Hugging Face name, via the optional
  ``tokenizers``/``transformers`` packages) they have exactly that many tokens; without one, one
  word counts as one token (common words are single tokens in BPE vocabularies) and results say
  the sizes are approximate. Prompts are random from the first word, so no two share a cached
  prefix. Chat templates add tokens the client does not count; the server's ``prompt_tokens``
  (the billing truth) includes them, and results report the difference.
- A prompt file is JSONL, one ``{"prompt": "..."}`` or ``{"messages": [...]}`` per line, with an
  optional ``"max_tokens"``; lines are used in order and cycled.
- A replay log is JSONL with a ``"timestamp"`` (epoch seconds or ISO 8601) and either
  ``"input_tokens"`` or a prompt/messages, plus optional ``"output_tokens"``; requests are sent
  at the logged times (``schedule.replay``).

Length distributions are written ``256`` (fixed), ``128-512`` (uniform) or ``256:64`` (normal with
standard deviation 64, at least 1).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..catalog import validation_message
from ..checks import read_text
from ..errors import InputError

__all__ = ["APPROXIMATE_NOTE", "Lengths", "RequestSpec", "from_prompts", "from_replay", "lengths",
           "load_tokenizer", "synthetic"]

# The longest context of any published model is 10M tokens (Llama 4 Scout): a longer prompt or
# reply is a typo, and would be built in memory before the run.
MAX_TOKENS_PER_REQUEST = 10_000_000

APPROXIMATE_NOTE = ("prompt sizes are approximate (one word counted as one token); pass "
                    "--tokenizer for exact sizes")

# Common English words that are single tokens (with their leading space) in the GPT-2, Llama-3
# and Qwen BPE vocabularies, so "n words" is close to "n tokens" without a tokenizer.
_WORDS = (
    "the of and to in is was for that on as with by he at from his it an were are which this be "
    "has had one not but have you they first new their or her she been all two after its also who "
    "into time would there more when other can over some years only most may than world about "
    "could three state city made these many then later where out people him such part used them "
    "school during year like between both under through well while since before work group "
    "number any each day use name high however life second way found team known being same four "
    "left long became game area family local own will said back early large small water house "
    "music book great take five around best last light place power end public make old war line "
    "home side good even different much government several set against did down what"
).split()
_WORDS = tuple(dict.fromkeys(_WORDS))  # unique, in order

Tokenizer = Any  # anything with encode(str) -> ids and decode(ids) -> str


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """One request to send. Exactly one of ``prompt`` and ``messages`` is set; a ``prompt`` is
    sent as one user message to a chat endpoint."""

    prompt: str | None = None
    messages: tuple[dict[str, Any], ...] | None = None
    max_tokens: int | None = None  # None: let the server decide
    input_tokens: int | None = None  # the client's own count of the prompt; None if unknown


@dataclass(frozen=True, slots=True)
class Lengths:
    """A distribution of token counts: fixed, uniform [low, high], or normal(mean, sd) ≥ 1."""

    kind: Literal["fixed", "uniform", "normal"]
    a: int  # the value, the low end, or the mean
    b: float = 0  # the high end, or the standard deviation

    def sample(self, rng: random.Random) -> int:
        if self.kind == "fixed":
            return self.a
        if self.kind == "uniform":
            return rng.randint(self.a, int(self.b))
        return max(1, round(rng.gauss(self.a, self.b)))

    @property
    def mean(self) -> float:
        return {"fixed": self.a, "uniform": (self.a + self.b) / 2, "normal": self.a}[self.kind]

    def __str__(self) -> str:
        return {"fixed": f"{self.a}", "uniform": f"{self.a}-{int(self.b)}",
                "normal": f"{self.a}:{self.b:g}"}[self.kind]


def lengths(spec: int | str | Lengths, what: str = "length") -> Lengths:
    """Parse ``256``, ``"128-512"`` or ``"256:64"``."""
    if isinstance(spec, Lengths):
        return spec
    text = str(spec).strip()
    try:
        if "-" in text:
            lo, hi = (int(x) for x in text.split("-"))
            out = Lengths("uniform", lo, hi)
            ok = 1 <= lo <= hi
        elif ":" in text:
            mean, sd = text.split(":")
            out = Lengths("normal", int(mean), float(sd))
            ok = out.a >= 1 and out.b >= 0
        else:
            out = Lengths("fixed", int(text))
            ok = out.a >= 1
    except ValueError:
        ok = False
    if not ok:
        raise InputError(f"bad {what} '{spec}'; write N (fixed), LOW-HIGH (uniform) or MEAN:SD "
                         f"(normal), all at least 1")
    if not math.isfinite(out.b) or max(out.a, out.b) > MAX_TOKENS_PER_REQUEST:
        raise InputError(f"bad {what} '{spec}': sizes must be finite and at most "
                         f"{MAX_TOKENS_PER_REQUEST:,} tokens (the longest context of any model)")
    return out


def load_tokenizer(name: str) -> Tokenizer:
    """A tokenizer from a ``tokenizer.json`` file (``tokenizers`` package) or a Hugging Face name
    (``transformers``, from its local cache or the Hub)."""
    try:
        if name.endswith(".json") or Path(name).is_file():
            from tokenizers import Tokenizer as HFTokenizer

            tok = HFTokenizer.from_file(name)
            return _Wrapped(lambda s: tok.encode(s, add_special_tokens=False).ids, tok.decode)
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(name)
        return _Wrapped(lambda s: tok.encode(s, add_special_tokens=False), tok.decode)
    except ImportError as e:
        raise InputError(f"tokenizer '{name}' needs the '{e.name}' package (pip install "
                         f"{e.name}); without --tokenizer prompts are sized approximately") from None
    except Exception as e:  # any loader failure is the user's path or name
        raise InputError(f"cannot load tokenizer '{name}': {type(e).__name__}: "
                         f"{str(e).splitlines()[0] if str(e) else ''}") from None


@dataclass(frozen=True, slots=True)
class _Wrapped:
    encode: Callable[[str], list[int]]
    decode: Callable[[list[int]], str]


def _text(n_tokens: int, rng: random.Random, tokenizer: Tokenizer | None) -> tuple[str, int]:
    words = rng.choices(_WORDS, k=n_tokens if tokenizer is None else n_tokens + n_tokens // 4 + 8)
    text = " ".join(words)
    if tokenizer is None:
        return text, n_tokens
    ids = tokenizer.encode(text)
    while len(ids) < n_tokens:  # tokenizers that merge words: add more
        text += " " + " ".join(rng.choices(_WORDS, k=n_tokens))
        ids = tokenizer.encode(text)
    text = tokenizer.decode(ids[:n_tokens])
    return text, len(tokenizer.encode(text))


def synthetic(n: int, isl: Lengths | int | str, osl: Lengths | int | str, *, seed: int = 0,
              tokenizer: Tokenizer | None = None) -> list[RequestSpec]:
    """``n`` random prompts with input lengths from ``isl`` and ``max_tokens`` from ``osl``.

    >>> [s.input_tokens for s in synthetic(2, 8, 4, seed=1)]
    [8, 8]
    """
    isl, osl = lengths(isl, "input length"), lengths(osl, "output length")
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        text, counted = _text(isl.sample(rng), rng, tokenizer)
        out.append(RequestSpec(prompt=text, max_tokens=osl.sample(rng), input_tokens=counted))
    return out


class _PromptLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    prompt: str | None = None
    messages: list[dict[str, Any]] | None = None
    max_tokens: Annotated[int, Field(gt=0, le=MAX_TOKENS_PER_REQUEST)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> _PromptLine:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("give exactly one of 'prompt' and 'messages'")
        return self


class _ReplayLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    timestamp: float | datetime
    input_tokens: Annotated[int, Field(gt=0, le=MAX_TOKENS_PER_REQUEST)] | None = None
    output_tokens: Annotated[int, Field(gt=0, le=MAX_TOKENS_PER_REQUEST)] | None = None
    prompt: str | None = None
    messages: list[dict[str, Any]] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> _ReplayLine:
        if sum(x is not None for x in (self.input_tokens, self.prompt, self.messages)) != 1:
            raise ValueError("give exactly one of 'input_tokens', 'prompt' and 'messages'")
        return self

    @property
    def epoch_s(self) -> float:
        return self.timestamp.timestamp() if isinstance(self.timestamp, datetime) else self.timestamp


def _jsonl(path: Path | str, model: type[BaseModel]) -> list[Any]:
    path = Path(path)
    lines = read_text(path, "JSONL").splitlines()
    out = []
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(model.model_validate(json.loads(line, parse_constant=_no_constant)))
        except json.JSONDecodeError as e:
            raise InputError(f"{path}:{no}: not JSON ({e.msg})") from None
        except ValidationError as e:
            raise InputError(validation_message(f"{path}:{no}", e)) from None
        except RecursionError:
            raise InputError(f"{path}:{no}: JSON nested too deeply") from None
        except ValueError as e:  # NaN/Infinity, which JSON does not have
            raise InputError(f"{path}:{no}: {e}") from None
    if not out:
        raise InputError(f"{path}: no requests in the file")
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number; give a finite value")


def _count(tokenizer: Tokenizer | None, prompt: str | None,
           messages: list[dict[str, Any]] | None) -> int | None:
    if tokenizer is None:
        return None
    text = prompt if prompt is not None else "\n".join(str(m.get("content", "")) for m in messages or [])
    return len(tokenizer.encode(text))


def from_prompts(path: Path | str, n: int, osl: Lengths | int | str | None = None, *,
                 seed: int = 0, tokenizer: Tokenizer | None = None) -> list[RequestSpec]:
    """``n`` requests from a JSONL prompt file, cycling through its lines. ``max_tokens`` comes
    from the line, else from ``osl``, else the server decides."""
    rng = random.Random(seed)
    dist = lengths(osl, "output length") if osl is not None else None
    lines: list[_PromptLine] = _jsonl(path, _PromptLine)
    specs = [RequestSpec(prompt=ln.prompt, messages=tuple(ln.messages) if ln.messages else None,
                         max_tokens=ln.max_tokens or (dist.sample(rng) if dist else None),
                         input_tokens=_count(tokenizer, ln.prompt, ln.messages)) for ln in lines]
    return [specs[i % len(specs)] for i in range(n)]


def from_replay(path: Path | str, osl: Lengths | int | str | None = None, *, seed: int = 0,
                tokenizer: Tokenizer | None = None) -> tuple[list[RequestSpec], list[float]]:
    """Requests of a usage log and their logged times (epoch seconds), in time order."""
    rng = random.Random(seed)
    dist = lengths(osl, "output length") if osl is not None else None
    lines: list[_ReplayLine] = sorted(_jsonl(path, _ReplayLine), key=lambda ln: ln.epoch_s)
    specs = []
    for ln in lines:
        max_tokens = ln.output_tokens or (dist.sample(rng) if dist else None)
        if ln.input_tokens is not None:
            text, counted = _text(ln.input_tokens, rng, tokenizer)
            specs.append(RequestSpec(prompt=text, max_tokens=max_tokens, input_tokens=counted))
        else:
            specs.append(RequestSpec(prompt=ln.prompt, max_tokens=max_tokens,
                                     messages=tuple(ln.messages) if ln.messages else None,
                                     input_tokens=_count(tokenizer, ln.prompt, ln.messages)))
    return specs, [ln.epoch_s for ln in lines]
