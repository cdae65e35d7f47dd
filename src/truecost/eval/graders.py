"""Graders: is an answer right? Deterministic rules, an optional LLM judge, and the interval.

Each grader turns a model's reply into an *extracted* answer and a verdict against the
question's reference. All are deterministic and pure (no I/O):

- ``numeric``: the number after the last ``####`` (GSM8K's convention), else the content of the
  last ``\\boxed{...}``, else the last number in the reply; ``$``, ``%`` and thousands separators
  (``1,450,000``) are stripped. Correct when ``|x - ref| <= tolerance`` (absolute, per question),
  default ``REL_TOLERANCE`` × max(1, |ref|), so ``18.00`` equals ``18``.
- ``choice``: a letter A-J (``Answer: B``, ``(B)``, a reply that is just ``B``/``B.``).
  The reference is a letter, a 0-based index, or the text of one of the choices.
- ``exact``: case, surrounding whitespace/quotes, inner runs of whitespace and a final ``.``/``!``
  are ignored; the whole reply or its last non-empty line must equal the reference.
- ``regex``: the reference is a pattern; correct when it matches anywhere in the reply
  (``re.search``), the extracted answer is the matched text.
- ``judge``: free-form; the reference is a criterion for an LLM judge (``judge_prompt``,
  ``judge_verdict``). Without a judge the answer stays ungraded.

A reasoning model's thinking sent inline as ``<think>...</think>`` is removed first, so a number in
the thinking never counts as the answer. Left out: fractions and units in numeric answers,
symbolic equivalence (``1/2`` vs ``0.5``), multi-answer questions.

``wilson`` is the 95% score interval for a proportion (Wilson 1927), good for the small suites
evals use, where the normal approximation fails at 0% or 100%.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["GRADERS", "REL_TOLERANCE", "Grade", "choice_letter", "extract_number", "grade",
           "judge_prompt", "judge_verdict", "last_number", "normalise", "reference_letter",
           "wilson"]

GraderName = Literal["numeric", "choice", "exact", "regex", "judge"]
GRADERS: tuple[str, ...] = ("numeric", "choice", "exact", "regex", "judge")
REL_TOLERANCE = 1e-6  # default numeric tolerance, relative to max(1, |reference|)
Z_95 = 1.959963984540054  # standard normal quantile for a two-sided 95% interval
LETTERS = "ABCDEFGHIJ"  # choice questions have at most 10 options


@dataclass(frozen=True, slots=True)
class Grade:
    """The verdict on one reply: the extracted answer (None when none could be found) and
    whether it is correct (None when this grader cannot tell, i.e. a judge question without a
    judge)."""

    extracted: str | None
    correct: bool | None


# -- text clean-up ---------------------------------------------------------------------------
_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.S | re.I)


def _strip_thinking(text: str) -> str:
    # An unclosed <think> (a reply cut at max_tokens) is thinking to the end: no answer.
    return _THINK.sub(" ", text)


def normalise(text: str) -> str:
    """Casefolded, whitespace collapsed, surrounding quotes and a final ``.``/``!`` removed."""
    t = " ".join(text.split()).casefold()
    t = t.strip().strip("\"'`*").strip()
    return t.rstrip(".!").strip()


# -- numeric ---------------------------------------------------------------------------------
# A number: optional sign and $, digits with well-formed thousands separators or plain digits,
# optional decimals; or a bare decimal (.5). Commas inside a list (1,2,3) do not join.
_NUMBER = re.compile(r"(?<![\w.])-?\$?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\d,]*\d)|(?<![\w.])-?\.\d+")
_HASHES = re.compile(r"####\s*([^\n]*)")
_BOXED = re.compile(r"\\boxed\s*\{([^{}]*)\}")


def extract_number(text: str) -> float | None:
    """The answer number of a reply (see the module docstring for the order of rules)."""
    text = _strip_thinking(text)
    for rule in (_HASHES, _BOXED):
        hits = rule.findall(text)
        if hits:
            n = last_number(hits[-1])
            if n is not None:
                return n
    return last_number(text)


def last_number(text: str) -> float | None:
    """The last well-formed number in ``text`` (``$``, ``,`` separators stripped), or None."""
    hits = _NUMBER.findall(text.replace("\u2212", "-"))  # U+2212 minus sign
    for raw in reversed(hits):
        try:
            value = float(raw.replace(",", "").replace("$", ""))
        except ValueError:  # pragma: no cover - the pattern only matches numbers
            continue
        if math.isfinite(value):
            return value
    return None


def _numeric(reply: str, reference: str, tolerance: float | None) -> Grade:
    ref = last_number(str(reference))
    if ref is None:
        raise ValueError(f"numeric reference '{reference}' is not a number")
    x = extract_number(reply)
    if x is None:
        return Grade(None, False)
    tol = tolerance if tolerance is not None else REL_TOLERANCE * max(1.0, abs(ref))
    return Grade(_show(x), abs(x - ref) <= tol)


def _show(x: float) -> str:
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


# -- choice ----------------------------------------------------------------------------------
_CHOICE_RULES = (
    re.compile(r"answer\s*(?:is|:)?\s*[:\-]?\s*\(?\**([A-J])\b\)?", re.I),
    re.compile(r"\(([A-J])\)"),
    re.compile(r"^\s*\**([A-J])[.)\]:]?\**\s*$", re.M),
)


def choice_letter(reply: str, n_choices: int) -> str | None:
    """The letter a reply chose among the first ``n_choices`` letters, or None."""
    text = _strip_thinking(reply)
    valid = LETTERS[:n_choices]
    for rule in _CHOICE_RULES:
        hits = [h.upper() for h in rule.findall(text) if h.upper() in valid]
        if hits:
            return hits[-1]
    return None


def reference_letter(reference: str | int, choices: tuple[str, ...]) -> str:
    """A choice reference (letter, 0-based index, or the choice's text) as a letter."""
    if isinstance(reference, int) and not isinstance(reference, bool):
        if 0 <= reference < len(choices):
            return LETTERS[reference]
    else:
        ref = str(reference).strip()
        if len(ref) == 1 and ref.upper() in LETTERS[:len(choices)]:
            return ref.upper()
        for i, c in enumerate(choices):
            if normalise(c) == normalise(ref):
                return LETTERS[i]
    raise ValueError(f"choice answer {reference!r} is not a letter, an index or the text of one "
                     f"of the {len(choices)} choices")


# -- grading ---------------------------------------------------------------------------------
def grade(grader: str, reply: str, reference: str, *, choices: tuple[str, ...] = (),
          tolerance: float | None = None) -> Grade:
    """Grade ``reply`` against ``reference`` with the named deterministic grader (a ``judge``
    question is returned ungraded: ``correct`` None).

    >>> grade("numeric", "So she makes $18 a day.\\n#### 18", "18")
    Grade(extracted='18', correct=True)
    """
    if grader == "numeric":
        return _numeric(reply, reference, tolerance)
    if grader == "choice":
        want = reference_letter(reference, choices)
        got = choice_letter(reply, len(choices))
        return Grade(got, got == want)
    if grader == "exact":
        text = _strip_thinking(reply)
        lines = [ln for ln in text.splitlines() if ln.strip()]
        ref = normalise(str(reference))
        whole = normalise(text)
        last = normalise(lines[-1]) if lines else ""
        got = whole if whole == ref or not lines else last
        return Grade(got or None, ref in (whole, last))
    if grader == "regex":
        m = re.search(reference, _strip_thinking(reply))
        return Grade(m.group(0) if m else None, m is not None)
    if grader == "judge":
        return Grade(None, None)
    raise ValueError(f"unknown grader '{grader}'; use one of {', '.join(GRADERS)}")


# -- the LLM judge ---------------------------------------------------------------------------
# The judge sees the question, the criterion and the answer (thinking removed), and must end with
# one verdict word; the last one wins, so a judge that reasons first is read correctly.
_JUDGE_TEMPLATE = (
    "You grade an answer to a question against a criterion. Judge only whether the answer meets "
    "the criterion; ignore style and length.\n\n"
    "Question:\n{question}\n\nCriterion:\n{criterion}\n\nAnswer:\n{answer}\n\n"
    "End your reply with exactly one line: VERDICT: CORRECT or VERDICT: INCORRECT")
_VERDICT = re.compile(r"\b(INCORRECT|CORRECT)\b")


def judge_prompt(question: str, criterion: str, answer: str) -> str:
    """The prompt sent to the LLM judge for one answer."""
    return _JUDGE_TEMPLATE.format(question=question, criterion=criterion,
                                  answer=_strip_thinking(answer).strip())


def judge_verdict(reply: str) -> bool | None:
    """The judge's verdict: the last CORRECT/INCORRECT in its reply (thinking removed); None
    when it gave none."""
    hits = _VERDICT.findall(_strip_thinking(reply).upper())
    return None if not hits else hits[-1] == "CORRECT"


# -- the interval ----------------------------------------------------------------------------
def wilson(correct: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """Wilson score interval for ``correct`` successes in ``n`` trials (None when n is 0):
    centre (p + z²/2n) / (1 + z²/n), half-width z·sqrt(p(1−p)/n + z²/4n²) / (1 + z²/n)."""
    if n <= 0:
        return None
    if not 0 <= correct <= n:
        raise ValueError(f"{correct} correct out of {n}")
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)
