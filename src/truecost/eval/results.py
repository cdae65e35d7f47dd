"""What an eval run says: its answers, summarised overall and per domain, from the store.

An eval run's answers (one per question: its reply if it got one, else its last error) give,
per domain and overall: accuracy over graded answers with its 95% Wilson interval; tokens per
task (prompt, output = completion incl. reasoning, reasoning: mean/median/p90); latency per task;
$ per task and $ per correct answer (= $ per task / accuracy; None when no answer is correct).
$ per task: an API offer's price of each answer's real token counts, or a self-hosted
deployment's $/hour over each attempt's wall time, shared among its answers in proportion to
their end-to-end time (the cost at the concurrency used; a busier server costs less per task).
Questions that only errored are not tasks: the time they took is paid, not counted. A judge's
requests are runs of their own (mode ``judge``); their tokens and $ are reported apart.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from ..bench.metrics import Distribution, e2e, ttft
from ..bench.pricing import pricing
from ..bench.record import RequestRecord
from ..cost import HourlyCost
from ..errors import InputError, UnknownNameError
from ..prices import Offer
from ..prices import offer as find_offer
from ..provenance import Provenance
from .graders import wilson

__all__ = ["Answer", "EvalResult", "EvalSummary", "JudgeSummary", "join_answers", "load_eval",
           "read_eval", "summarise"]


@dataclass(frozen=True, slots=True)
class Answer:
    """One question's reply as graded, with the request that carried it."""

    question_id: str
    domain: str
    grader: str
    reference: str
    status: Literal["graded", "ungraded", "error"]
    answer: str | None
    extracted: str | None
    correct: bool | None
    token_source: Literal["usage", "client"] | None
    record: RequestRecord
    judge_run: str | None = None
    usd: float | None = None  # what this answer cost (None when unpriced or an error)


@dataclass(frozen=True, slots=True)
class EvalSummary:
    """Results over a set of questions (one domain, or all). ``n`` questions, of which
    ``answered`` got a reply, ``graded`` a verdict and ``correct`` were right; the rest errored
    (``errors``) or were never asked (an interrupted run)."""

    n: int
    answered: int
    graded: int
    correct: int
    accuracy: float | None
    accuracy_ci: tuple[float, float] | None  # 95% Wilson interval
    prompt_tokens: Distribution
    output_tokens: Distribution  # completion tokens, reasoning included
    reasoning_tokens: Distribution
    ttft_s: Distribution
    e2e_s: Distribution
    usd_per_task: float | None
    usd_per_correct: float | None  # None when no answer is correct or there is no price
    errors: dict[str, int]
    client_counted: int  # answers whose tokens are the client's count (no server usage)

    def to_dict(self) -> dict[str, Any]:
        def stats(d: Distribution) -> dict[str, float | None]:
            return {"mean": d.mean, "median": d.p50, "p90": d.p90}

        return {"n": self.n, "answered": self.answered, "graded": self.graded,
                "correct": self.correct, "accuracy": self.accuracy,
                "accuracy_ci": list(self.accuracy_ci) if self.accuracy_ci else None,
                "tokens_per_task": {"prompt": self.prompt_tokens.mean,
                                    "output": self.output_tokens.mean,
                                    "reasoning": self.reasoning_tokens.mean},
                "tokens_per_task_detail": {"prompt": stats(self.prompt_tokens),
                                           "output": stats(self.output_tokens),
                                           "reasoning": stats(self.reasoning_tokens)},
                "latency_s": {"ttft": stats(self.ttft_s), "e2e": stats(self.e2e_s)},
                "usd_per_task": self.usd_per_task, "usd_per_correct": self.usd_per_correct,
                "errors": self.errors, "client_counted": self.client_counted}


@dataclass(frozen=True, slots=True)
class JudgeSummary:
    """What grading by an LLM judge took: requests, tokens and (with a price) dollars."""

    model: str
    requests: int
    verdicts: int
    prompt_tokens: int
    output_tokens: int
    usd: float | None
    price: str | None  # provenance of the judge's price


@dataclass(frozen=True, slots=True)
class EvalResult:
    """A stored (or in-memory) eval run, summarised overall and per domain."""

    run_id: str | None
    url: str
    model: str
    suite: str
    suite_source: str
    overall: EvalSummary
    by_domain: dict[str, EvalSummary]
    answers: tuple[Answer, ...]
    price: str | None  # provenance of the price, None when unpriced
    judge: JudgeSummary | None
    notes: tuple[str, ...]
    provenance: Provenance  # measured:<run id>

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON object of ``truecost eval --json``."""
        return {"run_id": self.run_id, "model": self.model, "url": self.url, "suite": self.suite,
                "suite_source": self.suite_source, **self.overall.to_dict(),
                "by_domain": {d: s.to_dict() for d, s in self.by_domain.items()},
                "price": self.price,
                "judge": None if self.judge is None else {
                    "model": self.judge.model, "requests": self.judge.requests,
                    "verdicts": self.judge.verdicts, "prompt_tokens": self.judge.prompt_tokens,
                    "output_tokens": self.judge.output_tokens, "usd": self.judge.usd,
                    "price": self.judge.price},
                "notes": list(self.notes), "provenance": str(self.provenance)}


def load_eval(run_id: str, store: str | Path | None = None) -> EvalResult:
    """A stored eval run, summarised from its answers and raw requests."""
    run, answers, judges = read_eval(run_id, store)
    cfg = run.get("config") or {}
    notes = list(run.get("notes") or [])
    if run["status"] != "complete":
        notes.append(f"run {run['status']}" + (f": {run['error']}" if run.get("error") else ""))
    prices = _stored_pricing(cfg)
    return summarise(run_id, run["url"], run["model"], cfg, answers, prices, judges, notes)


def read_eval(run_id: str, store: str | Path | None = None
              ) -> tuple[dict[str, Any], list[Answer], list[tuple[dict[str, Any], list[RequestRecord]]]]:
    """A stored eval run's row, its answers (every attempt, in order) and its judges' runs."""
    from ..store import Store, default_path

    db = Path(store) if store is not None else default_path()
    if not db.exists():
        raise UnknownNameError("run", run_id, [])
    with Store(db) as st:
        run = st.run(run_id)
        if run.get("mode") != "eval":
            raise InputError(f"run {run_id} is not an eval run (mode {run.get('mode')})")
        answers = join_answers(st.answers(run_id), st.requests(run_id))
        judge_ids = sorted({a.judge_run for a in answers if a.judge_run})
        stored = {r["run_id"]: r for r in st.runs()} if judge_ids else {}
        judges = [(stored[j], st.requests(j)) for j in judge_ids if j in stored]
    return run, answers, judges


def _stored_pricing(cfg: dict[str, Any]) -> HourlyCost | Offer | None:
    stored = cfg.get("offer_prices")
    if cfg.get("offer") and stored:
        provider, _, name = str(cfg["offer"]).partition("/")
        kind, _, detail = str(stored["provenance"]).partition(":")
        return Offer(cfg["offer"], provider, name or provider, stored["usd_per_mtok_input"],
                     stored["usd_per_mtok_output"], stored["usd_per_mtok_cached_input"],
                     Provenance(kind, detail))  # type: ignore[arg-type]
    if cfg.get("offer"):
        return find_offer(cfg["offer"])
    if cfg.get("gpu"):
        return pricing(cfg["gpu"], cfg.get("gpus") or 1, cfg.get("usd_per_gpu_hour"), None)
    return None


def join_answers(rows: list[dict[str, Any]], records: list[RequestRecord]) -> list[Answer]:
    """Stored answer rows with the request each came with, in the rows' order."""
    by_key = {(r.point, r.index): r for r in records}
    out = []
    for row in rows:
        rec = by_key.get((row["point"], row["index"]))
        if rec is None:  # the request row was lost with the writer; the answer alone is no task
            continue
        out.append(Answer(row["question_id"], row["domain"], row["grader"], row["reference"],
                          row["status"], row["answer"], row["extracted"], row["correct"],
                          row["token_source"], rec, row["judge_run"]))
    return out


def _final(answers: list[Answer]) -> list[Answer]:
    """One answer per question: its reply if it has one, else its last error."""
    best: dict[str, Answer] = {}
    for a in answers:  # in (point, index) order: later attempts come last
        old = best.get(a.question_id)
        if old is None or old.status == "error":
            best[a.question_id] = a
    return list(best.values())


def _costs(answers: list[Answer], every: list[Answer],
           prices: HourlyCost | Offer | None) -> dict[int, float]:
    """$ per answered question (keyed by ``id(answer)``): an offer's price of its tokens, or
    the deployment's $ over each attempt's wall time shared by end-to-end time."""
    if prices is None:
        return {}
    answered = [a for a in answers if a.status != "error"]
    if isinstance(prices, Offer):
        return {id(a): prices.request_usd(
            a.record.input_tokens or 0, max(a.record.output_tokens - a.record.reasoning, 0),
            cached_input_tokens=min(a.record.cached_tokens or 0, a.record.input_tokens or 0),
            reasoning_tokens=a.record.reasoning) for a in answered}
    usd_s = prices.usd_per_hour / 3600
    out: dict[int, float] = {}
    for point in {a.record.point for a in every}:
        recs = [a.record for a in every if a.record.point == point]
        wall = max(r.end for r in recs) - min(r.actual_send for r in recs)
        mine = [a for a in answered if a.record.point == point]
        busy = math.fsum(a.record.end - a.record.actual_send for a in mine)
        for a in mine:
            share = (a.record.end - a.record.actual_send) / busy if busy > 0 else 1 / len(mine)
            out[id(a)] = usd_s * wall * share
    return out


def _summary(answers: list[Answer], n: int, costs: dict[int, float],
             priced: bool) -> EvalSummary:
    answered = [a for a in answers if a.status != "error"]
    graded = [a for a in answered if a.status == "graded"]
    correct = sum(bool(a.correct) for a in graded)
    acc = correct / len(graded) if graded else None
    per_task = (math.fsum(costs[id(a)] for a in answered) / len(answered)
                if priced and answered else None)
    recs = [a.record for a in answered]
    return EvalSummary(
        n=n, answered=len(answered), graded=len(graded), correct=correct, accuracy=acc,
        accuracy_ci=wilson(correct, len(graded)),
        prompt_tokens=Distribution.of(r.input_tokens for r in recs),
        output_tokens=Distribution.of(r.output_tokens for r in recs),
        reasoning_tokens=Distribution.of(r.reasoning for r in recs),
        ttft_s=Distribution.of(ttft(r) for r in recs), e2e_s=Distribution.of(e2e(r) for r in recs),
        usd_per_task=per_task,
        usd_per_correct=per_task / acc if per_task is not None and acc else None,
        errors=dict(Counter(a.record.error_kind for a in answers if a.status == "error")),
        client_counted=sum(a.token_source == "client" for a in answered))


def summarise(run_id: str | None, url: str, model: str, cfg: dict[str, Any],
              every: list[Answer], prices: HourlyCost | Offer | None,
              judges: list[tuple[dict[str, Any], list[RequestRecord]]],
              notes: list[str]) -> EvalResult:
    """An ``EvalResult`` from every answer of a run (all attempts, in order), its config (the
    run row's), its price and its judges' runs."""
    final = _final(every)
    costs = _costs(final, every, prices)
    final = [replace(a, usd=costs.get(id(a))) for a in final]
    costs = {id(a): a.usd for a in final if a.usd is not None}
    n = int(cfg.get("questions") or len(final))
    overall = _summary(final, n, costs, prices is not None)
    by_domain = {d: _summary([a for a in final if a.domain == d],
                             sum(a.domain == d for a in final), costs, prices is not None)
                 for d in sorted({a.domain for a in final})}
    notes = list(notes)
    ungraded = sum(a.status == "ungraded" for a in final)
    if ungraded:
        notes.append(f"{ungraded} answers need an LLM judge and are not graded: add --judge URL "
                     f"--judge-model M")
    errored = sum(a.status == "error" for a in final)
    missing = n - len(final)
    if errored or missing:
        what = ", ".join(x for x in (f"{errored} failed" if errored else "",
                                     f"{missing} were never asked" if missing else "") if x)
        notes.append(f"{errored + missing} of {n} questions have no answer ({what}); resume "
                     f"with --resume {run_id}" if run_id else f"{errored + missing} of {n} "
                     f"questions have no answer ({what})")
    if overall.client_counted:
        notes.append(f"the server reported no usage for {overall.client_counted} answers: "
                     f"their tokens are the client's count (stream chunks; prompt words)")
    if cfg.get("max_tokens"):
        capped = sum(a.status != "error" and a.record.output_tokens >= cfg["max_tokens"]
                     for a in final)
        if capped:
            notes.append(f"{capped} answers stopped at max_tokens={cfg['max_tokens']} (cut "
                         f"short: raise --max-tokens if they were still reasoning)")
    price = None
    if prices is not None:
        price = str(prices.provenance)
        if isinstance(prices, HourlyCost):
            notes.append(f"cost: ${prices.usd_per_hour:.4g}/hour over the eval's wall time at "
                         f"concurrency {cfg.get('concurrency')}, shared by end-to-end time")
    return EvalResult(run_id, url, model, str(cfg.get("suite")), str(cfg.get("suite_source")),
                      overall, by_domain, tuple(final), price, _judge_summary(judges, final),
                      tuple(notes), Provenance("measured", run_id or "not stored"))


def _judge_summary(judges: list[tuple[dict[str, Any], list[RequestRecord]]],
                   final: list[Answer]) -> JudgeSummary | None:
    if not judges:
        return None
    recs = [r for _, rs in judges for r in rs]
    ok = [r for r in recs if r.ok]
    usd: float | None = None
    price = None
    jp = [_stored_pricing(run.get("config") or {}) for run, _ in judges]
    if all(isinstance(p, Offer) for p in jp):
        usd = 0.0
        for p, (_, rs) in zip(jp, judges):
            assert isinstance(p, Offer)
            usd += math.fsum(p.request_usd(r.input_tokens or 0, max(r.output_tokens - r.reasoning, 0),
                                           reasoning_tokens=r.reasoning) for r in rs if r.ok)
        price = str(jp[0].provenance) if jp[0] is not None else None
    return JudgeSummary(judges[-1][0]["model"], len(recs),
                        sum(a.judge_run is not None and a.correct is not None for a in final),
                        sum(r.input_tokens or 0 for r in ok), sum(r.output_tokens for r in ok),
                        usd, price)

