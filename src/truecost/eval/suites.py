"""Eval suites: the questions to ask, their reference answers and how to grade them.

A suite is a JSONL file, one question per line::

    {"id": "q1", "question": "What is 6 x 7?", "answer": "42", "grader": "numeric",
     "domain": "math", "tolerance": 0.01}
    {"id": "q2", "question": "Which is a prime?", "choices": ["4", "6", "7"], "answer": "C",
     "grader": "choice"}

``grader`` is ``numeric``, ``choice``, ``exact``, ``regex`` (``answer`` is the pattern) or
``judge`` (``answer`` is the criterion an LLM judge checks); ``domain`` defaults to ``general``.
A choice question is sent with its options lettered A, B, ... and a request to answer with the
letter. A line that cannot be used is reported as ``FILE:LINE: what is wrong`` and skipped; the
other lines are kept.

Built-in suites:
- ``gsm8k``: the 1,319 questions of the GSM8K test split (Cobbe et al. 2021, MIT licence),
  downloaded once from the pinned commit of openai/grade-school-math (checked by SHA-256) into
  ``$TRUECOST_HOME/suites/``; ``gsm8k:PATH`` reads a local copy of that file instead.
- ``gsm8k-300``: the first 300 of those questions, shipped with truecost (works offline).
- ``token-economy``: the 19 prompts of the TokenEconomy study (cpldcpu/LRMTokenEconomy, Nous
  Research, Aug 2025, Apache-2.0) with their criteria: 11 graded by rule (numbers, names),
  the 8 logic puzzles by an LLM judge.
Question ids of GSM8K are ``gsm8k-test-<row>`` (0-based row of the test file), so outcomes from
another source on the same rows (RouteLLM's CSV) join with an eval run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .. import paths
from ..catalog import validation_message
from ..errors import CatalogError, EndpointError, InputError
from .graders import LETTERS, last_number, reference_letter

__all__ = ["BUILTIN", "GSM8K_INSTRUCTION", "Question", "Suite", "load_suite"]

# The GSM8K test split at a pinned commit (2021-11-19), and the SHA-256 of its 749,738 bytes.
GSM8K_URL = ("https://raw.githubusercontent.com/openai/grade-school-math/"
             "3101c7d5072418e28b9008a6636bde82a006892c/grade_school_math/data/test.jsonl")
GSM8K_SHA256 = "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14"
GSM8K_INSTRUCTION = ("Solve the problem. End your reply with the final answer as a number on "
                     "its own line, written as: #### <number>")
BUILTIN = ("gsm8k", "gsm8k-300", "token-economy")
DOWNLOAD_TIMEOUT_S = 60.0
_DATA = Path(__file__).parent / "data"


@dataclass(frozen=True, slots=True)
class Question:
    """One question. ``answer`` is the reference: a number, a letter, a text, a pattern or a
    criterion, depending on ``grader``."""

    id: str
    question: str
    answer: str
    grader: Literal["numeric", "choice", "exact", "regex", "judge"]
    domain: str = "general"
    choices: tuple[str, ...] = ()
    tolerance: float | None = None  # numeric: absolute tolerance (default: graders.REL_TOLERANCE)
    instruction: str | None = None  # appended to the question when it is sent

    @property
    def prompt(self) -> str:
        """The text sent to the model."""
        parts = [self.question]
        if self.choices:
            parts.append("\n".join(f"{LETTERS[i]}. {c}" for i, c in enumerate(self.choices)))
            parts.append("Answer with the letter of the correct choice.")
        if self.instruction:
            parts.append(self.instruction)
        return "\n\n".join(parts)


@dataclass(frozen=True, slots=True)
class Suite:
    """The questions of a suite, where they came from, and the lines that could not be used."""

    name: str
    questions: tuple[Question, ...]
    source: str
    problems: tuple[str, ...] = ()  # "FILE:LINE: what is wrong", one per skipped line

    @property
    def digest(self) -> str:
        """A fingerprint of the questions, references and graders (a resumed run must match)."""
        h = hashlib.sha256()
        for q in self.questions:
            h.update(json.dumps([q.id, q.prompt, q.answer, q.grader, q.tolerance]).encode())
        return h.hexdigest()[:16]

    def domains(self) -> list[str]:
        return sorted({q.domain for q in self.questions})


class _Line(BaseModel):
    """One line of a suite file."""

    model_config = ConfigDict(extra="forbid")
    id: str | int
    question: str = Field(min_length=1)
    answer: str | int | float
    grader: Literal["numeric", "choice", "exact", "regex", "judge"]
    domain: str = Field("general", min_length=1)
    choices: list[str] | None = Field(None, min_length=2, max_length=len(LETTERS))
    tolerance: float | None = Field(None, ge=0)

    @field_validator("answer")
    @classmethod
    def _finite(cls, v: str | int | float) -> str | int | float:
        if isinstance(v, float) and v != v or v in (float("inf"), float("-inf")):
            raise ValueError("answer must be a finite number or a string")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> _Line:
        if self.grader == "choice":
            if not self.choices:
                raise ValueError("a choice question needs 'choices' (2 to 10 options)")
            reference_letter(self.answer if isinstance(self.answer, int) else str(self.answer),
                             tuple(self.choices))
        elif self.choices:
            raise ValueError(f"'choices' is only for the choice grader, not {self.grader}")
        if self.grader == "numeric":
            if last_number(str(self.answer)) is None:
                raise ValueError(f"numeric answer '{self.answer}' is not a number")
        if self.grader == "regex":
            try:
                re.compile(str(self.answer))
            except re.error as e:
                raise ValueError(f"answer is not a valid regular expression: {e}") from None
        if self.tolerance is not None and self.grader != "numeric":
            raise ValueError("'tolerance' is only for the numeric grader")
        return self


def load_suite(spec: str | Path) -> Suite:
    """A suite by built-in name (``gsm8k``, ``gsm8k-300``, ``token-economy``), ``gsm8k:PATH``
    (a local copy of the GSM8K test file), or the path of a JSONL suite file.

    >>> load_suite("gsm8k-300").questions[0].answer
    '18'
    """
    text = str(spec)
    if text == "gsm8k":
        return _gsm8k(_download_gsm8k(), "gsm8k", f"GSM8K test split ({GSM8K_URL})")
    if text == "gsm8k-300":
        return _gsm8k(_DATA / "gsm8k_test_300.jsonl", "gsm8k-300",
                      "GSM8K test split, first 300 rows (shipped; MIT licence)")
    if text.startswith("gsm8k:"):
        path = Path(text.removeprefix("gsm8k:")).expanduser()
        return _gsm8k(path, "gsm8k", f"GSM8K test split (local copy {path})")
    if text == "token-economy":
        suite = _jsonl(_DATA / "token_economy_suite.jsonl", "token-economy")
        return Suite(suite.name, suite.questions, "TokenEconomy prompts (cpldcpu/LRMTokenEconomy "
                     "@d5cc353, 2025-08-07; Apache-2.0)", suite.problems)
    path = Path(text).expanduser()
    if not path.is_file():
        raise InputError(f"suite '{text}' is neither a file nor a built-in suite; give a JSONL "
                         f"file or one of {', '.join(BUILTIN)}, gsm8k:PATH")
    return _jsonl(path, path.stem)


def _jsonl(path: Path, name: str) -> Suite:
    questions: list[Question] = []
    problems: list[str] = []
    seen: set[str] = set()
    try:
        f = path.open("rb")
    except OSError as e:
        raise CatalogError(f"{path}: cannot read: {e.strerror or e}") from None
    with f:
        for no, data in enumerate(f, 1):
            where = f"{path}:{no}"
            try:
                line = data.decode("utf-8")
            except UnicodeDecodeError:
                problems.append(f"{where}: not UTF-8 text")
                continue
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as e:
                problems.append(f"{where}: not a JSON object ({e.msg})")
                continue
            if not isinstance(raw, dict):
                problems.append(f"{where}: not a JSON object")
                continue
            try:
                q = _Line.model_validate(raw)
            except ValidationError as e:
                problems.append(validation_message(where, e))
                continue
            qid = str(q.id)
            if qid in seen:
                problems.append(f"{where}: duplicate id '{qid}' (line skipped)")
                continue
            seen.add(qid)
            questions.append(Question(qid, q.question, str(q.answer), q.grader, q.domain,
                                      tuple(q.choices or ()), q.tolerance))
    if not questions:
        why = f"; first problem: {problems[0]}" if problems else ""
        raise CatalogError(f"{path}: no usable questions{why}")
    return Suite(name, tuple(questions), str(path), tuple(problems))


def _gsm8k(path: Path, name: str, source: str) -> Suite:
    """The GSM8K file format: ``{"question", "answer"}`` per line, the reference after the
    last ``####`` of the worked answer (commas stripped)."""
    questions, problems = [], []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise CatalogError(f"{path}: cannot read: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise CatalogError(f"{path}: not UTF-8 text; give the GSM8K test file "
                           f"(grade_school_math/data/test.jsonl)") from None
    for row, line in enumerate(lines):
        where = f"{path}:{row + 1}"
        try:
            raw = json.loads(line)
            ref = raw["answer"].rsplit("####", 1)[1].strip().replace(",", "")
            float(ref)
            q = raw["question"]
            if not isinstance(q, str) or not q.strip():
                raise ValueError("empty question")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            problems.append(f"{where}: not a GSM8K line ({{\"question\", \"answer\": "
                            f"\"... #### N\"}})")
            continue
        questions.append(Question(f"gsm8k-test-{row}", q, ref, "numeric", "math",
                                  instruction=GSM8K_INSTRUCTION))
    if not questions:
        raise CatalogError(f"{path}: no GSM8K questions found")
    return Suite(name, tuple(questions), source, tuple(problems))


def _download_gsm8k() -> Path:
    """The cached GSM8K test file, downloaded (and checked against its SHA-256) on first use."""
    cache = paths.home() / "suites" / "gsm8k-test.jsonl"
    if cache.is_file() and hashlib.sha256(cache.read_bytes()).hexdigest() == GSM8K_SHA256:
        return cache
    try:
        resp = httpx.get(GSM8K_URL, timeout=DOWNLOAD_TIMEOUT_S, follow_redirects=True)
    except httpx.HTTPError as e:
        raise EndpointError(f"cannot download the GSM8K test split from {GSM8K_URL} "
                            f"({type(e).__name__}); use the shipped gsm8k-300, or a local copy "
                            f"with --suite gsm8k:PATH") from None
    if resp.status_code != 200:
        raise EndpointError(f"cannot download the GSM8K test split from {GSM8K_URL} (HTTP "
                            f"{resp.status_code}); use gsm8k-300, or --suite gsm8k:PATH")
    body = resp.content
    if hashlib.sha256(body).hexdigest() != GSM8K_SHA256:
        raise EndpointError(f"the file downloaded from {GSM8K_URL} is not the pinned GSM8K test "
                            f"split (SHA-256 differs); use --suite gsm8k:PATH with a copy you trust")
    cache.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache.parent, prefix=".gsm8k-")
    with os.fdopen(fd, "wb") as f:
        f.write(body)
    os.replace(tmp, cache)  # atomic: a concurrent reader sees the old file or the whole new one
    return cache
