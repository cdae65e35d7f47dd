"""Routing what-ifs: what a mix of models would score and cost, from per-question outcomes.

Input: which questions each of two or more models answered correctly — stored eval runs
(``truecost eval``) or a CSV with one ``True``/``False`` column per model (optional columns
``<model>:answer``, the extracted answer, empty when none; ``<model>:usd``, the $ of that answer;
and any numeric column as a score) — joined on the question ``id`` (a CSV without one is
numbered ``row-<i>``). Each model's $ per task comes from, in order: a given $ per task; an API
offer pricing its tokens (measured per question in an eval run, or given as ``IN:OUT``); the
eval run's own price or the CSV's ``:usd`` column; else the simulation reports accuracy and
shares of calls only.

Policies, between a *cheap* model (lowest $/task; without prices, the least accurate) and a
*strong* one (the most accurate):
- each model alone;
- random mix: a share s of questions to the strong model, at every s from 0 to 100% (the
  expected accuracy and cost, the straight line between the two models);
- cascade: the cheap model answers every question, and the strong one too when a signal fires —
  ``no-answer`` (no answer could be extracted), ``disagree`` (a second sample of the cheap model
  gives another answer; both samples are paid), or ``score`` (a score column below a threshold,
  swept over the score's deciles);
- oracle: per question the cheapest model that answered correctly (the cheapest when none did) —
  a bound no router reaches.

RouteLLM's measures (Ong et al. 2024, arXiv:2406.18665; definitions as in its
``routellm/evals/evaluate.py``), on a curve of accuracy against the share of strong-model calls:
PGR(s) = (acc(s) − acc_cheap) / (acc_strong − acc_cheap); APGR = the trapezoid area under the
curve minus the cheap model's, over the strong model's minus the cheap model's, across the
curve's span of shares; CPT(x%) = the share of strong calls at which the curve first recovers
x% of the gap (linear interpolation). Plus the share of the strong model's $/task saved by the
cheapest point of the curve within 1 accuracy point of the strong model. Left out: learned
routers (a score column stands in for one), latency, more than one strong/cheap pair per curve.
"""

from __future__ import annotations

import csv
import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, UnknownNameError
from .eval.graders import wilson
from .prices import Offer
from .prices import offer as find_offer

__all__ = ["Curve", "ModelOutcomes", "Outcomes", "PolicyPoint", "RouteResult", "load_outcomes",
           "simulate_route"]

WITHIN_POINTS = 0.01  # "the strong model's accuracy minus 1 point"
RANDOM_STEPS = 100  # the random mix at every 1% of strong-model calls
_BOOL = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


@dataclass(frozen=True, slots=True)
class ModelOutcomes:
    """One model's per-question outcomes, aligned with ``Outcomes.ids``."""

    name: str
    correct: tuple[bool, ...]
    answers: tuple[str | None, ...] | None = None  # extracted answers, None = none extracted
    usd: tuple[float, ...] | None = None  # $ of each answer
    tokens: tuple[tuple[float, float, float, float], ...] | None = None  # in, out, reasoning, cached
    source: str = ""  # where the outcomes came from
    price: str | None = None  # where the $ came from

    @property
    def accuracy(self) -> float:
        return sum(self.correct) / len(self.correct)

    @property
    def usd_per_task(self) -> float | None:
        return math.fsum(self.usd) / len(self.usd) if self.usd is not None else None


@dataclass(frozen=True, slots=True)
class Outcomes:
    """Several models' outcomes on the same questions, and any score columns."""

    ids: tuple[str, ...]
    models: tuple[ModelOutcomes, ...]
    scores: dict[str, tuple[float | None, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def model(self, name: str) -> ModelOutcomes:
        return self.models[[m.name for m in self.models].index(_match(name, self.models))]


@dataclass(frozen=True, slots=True)
class PolicyPoint:
    policy: str  # alone, random, cascade:no-answer, cascade:disagree, cascade:score, oracle
    label: str
    strong_share: float  # share of questions the strong model answers (is called for)
    accuracy: float
    usd_per_task: float | None

    @property
    def usd_per_correct(self) -> float | None:
        if self.usd_per_task is None or self.accuracy == 0:
            return None
        return self.usd_per_task / self.accuracy


@dataclass(frozen=True, slots=True)
class Curve:
    """RouteLLM's measures of one policy's curve (accuracy vs share of strong calls)."""

    policy: str
    apgr: float | None
    cpt50: float | None  # share of strong calls to recover 50% of the gap; None: never
    cpt80: float | None
    usd_saved_within_1pt: float | None  # fraction of the strong model's $/task saved


@dataclass(frozen=True, slots=True)
class RouteResult:
    questions: int
    models: tuple[ModelOutcomes, ...]
    cheap: str
    strong: str
    points: tuple[PolicyPoint, ...]
    curves: tuple[Curve, ...]
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "questions": self.questions, "cheap": self.cheap, "strong": self.strong,
            "models": [{"name": m.name, "accuracy": m.accuracy,
                        "accuracy_ci": list(wilson(sum(m.correct), len(m.correct)) or ()),
                        "usd_per_task": m.usd_per_task, "source": m.source, "price": m.price}
                       for m in self.models],
            "points": [{"policy": p.policy, "label": p.label, "strong_share": p.strong_share,
                        "accuracy": p.accuracy, "usd_per_task": p.usd_per_task,
                        "usd_per_correct": p.usd_per_correct} for p in self.points],
            "curves": [{"policy": c.policy, "apgr": c.apgr, "cpt50": c.cpt50, "cpt80": c.cpt80,
                        "usd_saved_within_1pt": c.usd_saved_within_1pt} for c in self.curves],
            "notes": list(self.notes)}


# -- loading ---------------------------------------------------------------------------------
def load_outcomes(sources: Sequence[str | Path], store: str | Path | None = None) -> Outcomes:
    """Outcomes from CSV files and/or stored eval run ids, joined on question id."""
    if not sources:
        raise InputError("give outcomes: eval run ids or CSV files (one True/False column per "
                         "model)")
    parts = [_from_csv(Path(s)) if Path(s).is_file() or str(s).endswith(".csv")
             else _from_eval(str(s), store) for s in sources]
    return _join(parts)


def _from_csv(path: Path) -> tuple[list[str], list[ModelOutcomes], dict[str, list[float | None]]]:
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from None
    except (csv.Error, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not a CSV file ({e})") from None
    if not rows:
        raise InputError(f"{path}: no rows")
    names = [c for c in rows[0] if c is not None]
    ids = [str(r.get("id") or f"row-{i}") for i, r in enumerate(rows)] if "id" in names else \
        [f"row-{i}" for i in range(len(rows))]
    if len(set(ids)) != len(ids):
        raise InputError(f"{path}: the id column repeats ids; each row must be one question")
    models, scores = [], {}
    for col in names:
        if col == "id" or ":" in col:
            continue
        values = [str(r.get(col) or "").strip().lower() for r in rows]
        if all(v in _BOOL for v in values):
            models.append(_csv_model(path, col, rows, [_BOOL[v] for v in values]))
        else:
            nums = [_float(v) for v in values]
            if any(x is not None for x in nums) and all(x is not None or v == "" for x, v in
                                                        zip(nums, values)):
                scores[col] = nums
    if not models:
        raise InputError(f"{path}: no model column (a column of True/False per question)")
    return ids, models, scores


def _csv_model(path: Path, col: str, rows: list[dict[str, str]], correct: list[bool]) -> ModelOutcomes:
    answers = usd = None
    if f"{col}:answer" in rows[0]:
        answers = tuple((r.get(f"{col}:answer") or "").strip() or None for r in rows)
    if f"{col}:usd" in rows[0]:
        vals = [_float(r.get(f"{col}:usd") or "") for r in rows]
        if any(v is None or v < 0 for v in vals):
            raise InputError(f"{path}: column '{col}:usd' needs a $ amount >= 0 on every row")
        usd = tuple(v for v in vals if v is not None)
    m = ModelOutcomes(col, tuple(correct), answers, None, None, f"file:{path}", None)
    return _with_usd(m, usd, f"file:{path} ({col}:usd)") if usd else m


def _float(v: str) -> float | None:
    try:
        x = float(v)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def _from_eval(run_id: str, store: str | Path | None
               ) -> tuple[list[str], list[ModelOutcomes], dict[str, list[float | None]]]:
    from .eval.results import load_eval

    try:
        r = load_eval(run_id, store)
    except UnknownNameError as e:
        hint = str(e).partition("; ")[2] if "did you mean" in str(e) else "see truecost runs list"
        raise InputError(f"'{run_id}' is neither a CSV file nor a stored eval run; {hint}") from None
    graded = [a for a in r.answers if a.status == "graded"]
    if not graded:
        raise InputError(f"eval run {run_id} has no graded answers to route")
    priced = all(a.usd is not None for a in graded)
    m = ModelOutcomes(
        r.model, tuple(bool(a.correct) for a in graded), tuple(a.extracted for a in graded),
        tuple(float(a.usd) for a in graded) if priced else None,  # type: ignore[arg-type]
        tuple((float(a.record.input_tokens or 0),
               float(max(a.record.output_tokens - a.record.reasoning, 0)),
               float(a.record.reasoning), float(a.record.cached_tokens or 0)) for a in graded),
        f"measured:{run_id}", r.price if priced else None)
    return [a.question_id for a in graded], [m], {}


def _join(parts: list[tuple[list[str], list[ModelOutcomes], dict[str, list[float | None]]]]
          ) -> Outcomes:
    common = set(parts[0][0])
    for ids, _, _ in parts[1:]:
        common &= set(ids)
    order = [i for i in parts[0][0] if i in common]
    if not order:
        raise InputError("the outcomes share no question id; they must be answers to the same "
                         "questions")
    models: list[ModelOutcomes] = []
    scores: dict[str, tuple[float | None, ...]] = {}
    for ids, ms, sc in parts:
        pos = {q: k for k, q in enumerate(ids)}
        take = [pos[q] for q in order]
        for m in ms:
            name, k = m.name, 2
            while name in {x.name for x in models}:  # the same model twice: name#2, name#3
                name, k = f"{m.name}#{k}", k + 1
            models.append(ModelOutcomes(
                name, tuple(m.correct[k] for k in take),
                None if m.answers is None else tuple(m.answers[k] for k in take),
                None if m.usd is None else tuple(m.usd[k] for k in take),
                None if m.tokens is None else tuple(m.tokens[k] for k in take), m.source, m.price))
        scores.update({c: tuple(v[k] for k in take) for c, v in sc.items()})
    dropped = max(len(ids) for ids, _, _ in parts) - len(order)
    notes = (f"{dropped} questions are not in every source; simulated on the {len(order)} "
             f"they share",) if dropped else ()
    if len(models) < 2:
        found = ", ".join(m.name for m in models) or "none"
        raise InputError(f"routing needs the outcomes of at least two models; found {len(models)} ({found}): "
                         "give a True/False column per model, or two eval run ids")
    return Outcomes(tuple(order), tuple(models), scores, notes)


def _match(name: str, models: Sequence[ModelOutcomes]) -> str:
    """A model by exact name, else by a unique case-insensitive substring."""
    names = [m.name for m in models]
    if name in names:
        return name
    hits = [n for n in names if name.lower() in n.lower()]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise InputError(f"'{name}' matches several models ({', '.join(hits)}); give more of "
                         f"the name")
    raise UnknownNameError("model", name, difflib.get_close_matches(name, names) or names)


# -- pricing ---------------------------------------------------------------------------------
def _priced(o: Outcomes, usd_per_task: dict[str, float], offers: dict[str, str | Offer],
            tokens: dict[str, tuple[float, float]]) -> Outcomes:
    models = list(o.models)
    for key in list(usd_per_task) + list(offers) + list(tokens):
        _match(key, models)  # unknown names fail before anything is computed
    for key, usd in usd_per_task.items():
        if not (math.isfinite(usd) and usd >= 0):
            raise InputError(f"$ per task of '{key}' must be >= 0, got {usd}")
        i = [m.name for m in models].index(_match(key, models))
        models[i] = _with_usd(models[i], (usd,) * len(o.ids), f"input: ${usd:g} per task")
    for key, spec in offers.items():
        i = [m.name for m in models].index(_match(key, models))
        m = models[i]
        off = spec if isinstance(spec, Offer) else find_offer(spec)
        given = next((v for k, v in tokens.items() if _match(k, models) == m.name), None)
        if given is not None and not all(math.isfinite(t) and t >= 0 for t in given):
            raise InputError(f"tokens per task of '{key}' must be >= 0, got {given[0]:g}:{given[1]:g}")
        if given is not None:
            per = off.request_usd(given[0], given[1])
            usd = (per,) * len(o.ids)
            how = f"{off.provenance}, {given[0]:g} in + {given[1]:g} out tokens per task"
        elif m.tokens is not None:
            usd = tuple(off.request_usd(t[0], t[1], reasoning_tokens=t[2],
                                        cached_input_tokens=min(t[3], t[0])) for t in m.tokens)
            how = f"{off.provenance}, tokens measured per question"
        else:
            raise InputError(f"pricing '{m.name}' with an offer needs its tokens per task: "
                             f"--tokens '{key}=IN:OUT' (a CSV has no token counts)")
        models[i] = _with_usd(m, usd, how)
    return Outcomes(o.ids, tuple(models), o.scores, o.notes)


# The dearest task a route prices: a billion dollars. Beyond it a figure is a typo, and sums over
# thousands of questions would leave the floats (an OverflowError once, at 1e308 per task).
MAX_USD_PER_TASK = 1e9


def _with_usd(m: ModelOutcomes, usd: tuple[float, ...], price: str) -> ModelOutcomes:
    if usd and not max(usd) <= MAX_USD_PER_TASK:
        raise InputError(f"'{m.name}' costs ${max(usd):.3g} per task ({price}), more than the "
                         f"${MAX_USD_PER_TASK:,.0f} a route prices; check the price or the tokens per task")
    return ModelOutcomes(m.name, m.correct, m.answers, usd, m.tokens, m.source, price)


# -- policies --------------------------------------------------------------------------------
def simulate_route(sources: Sequence[str | Path] | Outcomes, *,
                   usd_per_task: dict[str, float] | None = None,
                   offers: dict[str, str | Offer] | None = None,
                   tokens: dict[str, tuple[float, float]] | None = None,
                   cheap: str | None = None, strong: str | None = None,
                   cheap_sample: str | Path | None = None, score: str | None = None,
                   store: str | Path | None = None) -> RouteResult:
    """Score and cost routing policies over per-question outcomes (see the module docstring).

    ``sources``: eval run ids and/or CSV paths (or ``Outcomes``). Prices per model (names match
    by a unique substring): ``usd_per_task``, or ``offers`` with measured tokens (eval runs) or
    ``tokens`` = (in, out) per task. ``cheap_sample``: a second eval run of the cheap model for
    the ``disagree`` cascade; ``score``: a CSV score column for the ``score`` cascade.

    >>> r = simulate_route(["examples/routellm-gsm8k/outcomes.csv"],
    ...                    usd_per_task={"mixtral": 0.0003, "gpt-4": 0.03})  # doctest: +SKIP
    >>> [(c.policy, c.apgr, c.cpt50) for c in r.curves]  # doctest: +SKIP
    """
    o = sources if isinstance(sources, Outcomes) else load_outcomes(sources, store)
    o = _priced(o, usd_per_task or {}, offers or {}, tokens or {})
    notes = list(o.notes)
    costs_known = all(m.usd is not None for m in o.models)
    if not costs_known:
        missing = [m.name for m in o.models if m.usd is None]
        notes.append(f"no price for {', '.join(missing)}: costs are left out (give "
                     f"--usd-per-task MODEL=X, or --offer MODEL=PROVIDER/MODEL)")
    s_name = _match(strong, o.models) if strong else max(
        o.models, key=lambda m: (m.accuracy, m.usd_per_task or 0)).name  # ties: the dearer
    others = [m for m in o.models if m.name != s_name]
    c_name = _match(cheap, o.models) if cheap else min(
        others, key=lambda m: ((m.usd_per_task, m.accuracy) if costs_known
                               else (m.accuracy, 0.0))).name  # type: ignore[arg-type,return-value]
    if c_name == s_name:
        raise InputError("the cheap and the strong model must differ")
    c, s = o.model(c_name), o.model(s_name)
    n = len(o.ids)
    points = [PolicyPoint("alone", f"{m.name} alone", 1.0 if m.name == s_name else 0.0,
                          m.accuracy, m.usd_per_task) for m in o.models]
    random_pts = [_mix(c, s, k / RANDOM_STEPS, costs_known) for k in range(RANDOM_STEPS + 1)]
    points += [p for p in random_pts[10:-1:10]]  # 10%, ..., 90% (0 and 100% are "alone")
    curves = [_curve("random", random_pts, c, s)]
    if c.answers is not None:
        points.append(_cascade("cascade:no-answer", "cascade: no answer",
                               [a is None for a in c.answers], c, s, costs_known))
    else:
        notes.append(f"cascade on 'no answer' needs the cheap model's extracted answers "
                     f"({c.name} has none)")
    if cheap_sample is not None:
        points.append(_disagree(o, c, s, cheap_sample, store, costs_known))
    if score is not None:
        if not o.scores:
            raise InputError(f"no score column in the outcomes for --score {score}: give a CSV "
                             f"with a column of numbers per question")
        if score not in o.scores:
            raise UnknownNameError("score column", score, list(o.scores))
        pts = _score_sweep(o.scores[score], c, s, costs_known, score)
        points += pts
        curves.append(_curve("cascade:score", pts, c, s))
    points.append(_oracle(o, s_name, costs_known))
    if c.accuracy >= s.accuracy:
        notes.append(f"{c.name} is at least as accurate as {s.name}: no mix improves on it")
    return RouteResult(n, o.models, c_name, s_name, tuple(points), tuple(curves), tuple(notes))


def _usd(m: ModelOutcomes, i: int) -> float:
    assert m.usd is not None
    return m.usd[i]


def _mix(c: ModelOutcomes, s: ModelOutcomes, share: float, priced: bool) -> PolicyPoint:
    acc = (1 - share) * c.accuracy + share * s.accuracy
    usd = ((1 - share) * c.usd_per_task + share * s.usd_per_task  # type: ignore[operator]
           if priced else None)
    return PolicyPoint("random", f"random {share:.0%}", share, acc, usd)


def _cascade(policy: str, label: str, escalate: Sequence[bool], c: ModelOutcomes,
             s: ModelOutcomes, priced: bool, extra_cheap: Sequence[float] | None = None) -> PolicyPoint:
    n = len(escalate)
    right = sum(s.correct[i] if e else c.correct[i] for i, e in enumerate(escalate))
    usd = None
    if priced:
        usd = math.fsum(_usd(c, i) + (_usd(s, i) if e else 0.0)
                        + (extra_cheap[i] if extra_cheap is not None else 0.0)
                        for i, e in enumerate(escalate)) / n
    return PolicyPoint(policy, label, sum(escalate) / n, right / n, usd)


def _disagree(o: Outcomes, c: ModelOutcomes, s: ModelOutcomes, sample: str | Path,
              store: str | Path | None, priced: bool) -> PolicyPoint:
    ids, (m,), _ = (_from_csv(Path(sample)) if Path(sample).is_file()
                    else _from_eval(str(sample), store))
    if c.answers is None or m.answers is None:
        raise InputError("the 'disagree' cascade needs extracted answers from both samples of "
                         "the cheap model (eval runs, or CSV ':answer' columns)")
    pos = {q: k for k, q in enumerate(ids)}
    missing = [q for q in o.ids if q not in pos]
    if missing:
        raise InputError(f"the second sample lacks {len(missing)} of the questions (first: "
                         f"{missing[0]}); it must answer the same questions")
    second = [m.answers[pos[q]] for q in o.ids]
    escalate = [a is None or b is None or a != b for a, b in zip(c.answers, second)]
    extra = ([m.usd[pos[q]] for q in o.ids] if m.usd is not None
             else list(c.usd) if c.usd is not None else None)
    return _cascade("cascade:disagree", "cascade: 2 samples disagree", escalate, c, s,
                    priced and extra is not None, extra)


def _score_sweep(values: Sequence[float | None], c: ModelOutcomes, s: ModelOutcomes,
                 priced: bool, name: str) -> list[PolicyPoint]:
    """Escalate when the score is below a threshold (a missing score escalates), at the
    score's deciles, from no escalation to all."""
    known = sorted(v for v in values if v is not None)
    if not known:
        raise InputError(f"score column '{name}' has no values")
    cuts = sorted({known[0]} | {known[min(len(known) - 1, round(q * (len(known) - 1) / 10))]
                                for q in range(11)} | {math.inf})
    pts = [_cascade("cascade:score", f"{name} < {t:.3g}",
                    [v is None or v < t for v in values], c, s, priced) for t in cuts]
    return sorted(pts, key=lambda p: p.strong_share)


def _oracle(o: Outcomes, strong: str, priced: bool) -> PolicyPoint:
    order = sorted(o.models, key=lambda m: (m.usd_per_task, m.accuracy) if priced
                   else (m.accuracy, 0.0))  # type: ignore[arg-type,return-value]
    right = to_strong = 0
    usd = 0.0
    for i in range(len(o.ids)):
        if priced:
            pick = min((m for m in o.models if m.correct[i]), key=lambda m: _usd(m, i),
                       default=min(o.models, key=lambda m: _usd(m, i)))
            usd += _usd(pick, i)
        else:
            pick = next((m for m in order if m.correct[i]), order[0])
        right += pick.correct[i]
        to_strong += pick.name == strong
    n = len(o.ids)
    return PolicyPoint("oracle", "oracle (cheapest correct)", to_strong / n, right / n,
                       usd / n if priced else None)


# -- RouteLLM's measures ---------------------------------------------------------------------
def _curve(policy: str, pts: list[PolicyPoint], c: ModelOutcomes, s: ModelOutcomes) -> Curve:
    gap = s.accuracy - c.accuracy
    xs = [p.strong_share for p in pts]
    ys = [p.accuracy for p in pts]
    apgr = None
    if gap > 0 and xs[-1] > xs[0]:
        auc = math.fsum((x1 - x0) * (y0 + y1) / 2 for x0, x1, y0, y1 in
                        zip(xs, xs[1:], ys, ys[1:]))
        span = xs[-1] - xs[0]
        apgr = (auc - c.accuracy * span) / (gap * span)
    target = s.accuracy - WITHIN_POINTS
    saved = None
    at = _first_reach(xs, ys, target, [p.usd_per_task for p in pts])
    if at is not None and at[1] is not None and s.usd_per_task:
        saved = 1 - at[1] / s.usd_per_task
    cpt = [None, None]
    if gap > 0:
        for k, frac in enumerate((0.5, 0.8)):
            hit = _first_reach(xs, ys, c.accuracy + frac * gap, xs)
            cpt[k] = hit[0] if hit is not None else None
    return Curve(policy, apgr, cpt[0], cpt[1], saved)


def _first_reach(xs: list[float], ys: list[float], target: float,
                 values: Sequence[float | None]) -> tuple[float, float | None] | None:
    """Where the curve (xs ascending) first reaches ``target`` accuracy: (share, the value
    interpolated there), or None if it never does."""
    if ys[0] >= target:
        return xs[0], values[0]
    for k in range(1, len(xs)):
        if ys[k] >= target:
            t = (target - ys[k - 1]) / (ys[k] - ys[k - 1])
            x = xs[k - 1] + t * (xs[k] - xs[k - 1])
            v0, v1 = values[k - 1], values[k]
            return x, (None if v0 is None or v1 is None else v0 + t * (v1 - v0))
    return None
