"""Running an eval: ask every question of a suite through bench's runner, grade and store each
answer as it arrives.

``run_eval`` sends the questions through bench's runner (closed loop at ``concurrency``,
streaming, the server's ``usage``), so latency and tokens are measured exactly as ``bench``
measures them. The run *is* a bench run in the store (``runs`` row with mode ``eval``, one
``points`` row per attempt, every request in ``requests``), plus one ``eval_answers`` row per
request: question id, domain, answer text, extracted answer, verdict, and whether the tokens are
the server's (``usage``) or the client's count (``client``: stream chunks, prompt words). Each
answer is stored as it arrives, so an endpoint that fails mid-suite loses nothing graded;
``resume=RUN_ID`` asks only the questions without an answer, as a new attempt (point) of the
run. Judge questions are graded afterwards by an LLM judge, when one is given (its requests are
a run of their own). What the stored run says is ``results.load_eval``.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import Counter
from dataclasses import dataclass, fields, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

from ..bench.client import Endpoint
from ..bench.metrics import summarize
from ..bench.pricing import point_cost, pricing
from ..bench.record import RequestRecord
from ..bench.run import OperatingPoint, _point_row  # one stored points row, as bench writes it
from ..bench.runner import run_shard
from ..bench.workload import RequestSpec
from ..checks import scrub
from ..cost import HourlyCost
from ..errors import EndpointError, InputError
from ..prices import Offer
from ..progress import Progress, task
from .graders import grade, judge_prompt, judge_verdict
from .results import Answer, EvalResult, load_eval, read_eval, summarise
from .suites import Question, Suite, load_suite

__all__ = ["DEFAULT_CONCURRENCY", "reply_text", "run_eval"]

DEFAULT_CONCURRENCY = 4  # requests in flight: most endpoints take it; raise it for speed
MAX_ERROR_RATE = 0.5  # stop asking when more than half the replies so far failed (after 10)
MAX_STORED_ANSWER_CHARS = 100_000  # graded on the whole reply; the store keeps at most this
JUDGE_MAX_TOKENS = 1024  # a judge's reply: a short rationale and the verdict line


# -- the reply text --------------------------------------------------------------------------
def reply_text(reads: list[bytes]) -> tuple[str, str]:
    """(content, reasoning) text of an OpenAI-compatible event stream: ``delta.content``
    (chat) or ``text`` (completions), and ``delta.reasoning_content``/``delta.reasoning``.
    Events that are not JSON are skipped (the record already says the stream was malformed)."""
    content: list[str] = []
    reasoning: list[str] = []
    body = b"".join(reads).replace(b"\r\n", b"\n")
    for event in body.split(b"\n\n"):
        data = b"\n".join(ln[5:].strip() for ln in event.split(b"\n") if ln.startswith(b"data:"))
        if not data.startswith(b"{"):
            continue
        try:
            obj = json.loads(data)
        except ValueError:
            continue
        choices = obj.get("choices") if isinstance(obj, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            continue
        c = choices[0]
        delta = c.get("delta") if isinstance(c.get("delta"), dict) else {}
        for key, out in (("content", content), ("reasoning_content", reasoning),
                         ("reasoning", reasoning)):
            if isinstance(delta.get(key), str):
                out.append(delta[key])
        if isinstance(c.get("text"), str):
            content.append(c["text"])
    return "".join(content), "".join(reasoning)


@dataclass(frozen=True, slots=True)
class _SamplingEndpoint(Endpoint):
    """An endpoint whose request bodies carry sampling settings (``temperature``)."""

    sampling: tuple[tuple[str, Any], ...] = ()

    def body(self, spec: RequestSpec) -> bytes:
        if not self.sampling:
            return Endpoint.body(self, spec)
        d = json.loads(Endpoint.body(self, spec))
        d.update(self.sampling)
        return json.dumps(d, separators=(",", ":")).encode()


# -- running ---------------------------------------------------------------------------------
def run_eval(url: str, model: str, suite: str | Path | Suite, *, limit: int | None = None,
             concurrency: int = DEFAULT_CONCURRENCY, max_tokens: int | None = None,
             temperature: float | None = None, offer: str | Offer | None = None,
             gpu: str | None = None, gpus: int = 1, usd_per_gpu_hour: float | None = None,
             resume: str | None = None, judge_url: str | None = None,
             judge_model: str | None = None, judge_offer: str | Offer | None = None,
             timeout_s: float = 600.0, api_key: str | None = None,
             store: bool | str | Path = True, progress: Progress | None = None) -> EvalResult:
    """Ask every question of ``suite`` (a built-in name, ``gsm8k:PATH``, a JSONL file or a
    ``Suite``; the first ``limit``) at ``url``, grade and store each answer, and summarise
    accuracy, tokens, latency, $ per task and $ per correct answer.

    Price with an API ``offer`` or a self-hosted ``gpu`` × ``gpus`` (catalog rent or
    ``usd_per_gpu_hour``). ``max_tokens``/``temperature`` go in each request (None: the
    server's default). ``resume`` continues a stored run: only questions without an answer are
    asked. ``judge_url``/``judge_model`` grade ``judge`` questions (priced by ``judge_offer``).

    >>> r = run_eval("http://localhost:8000/v1", "qwen3-8b", "gsm8k-300", limit=50,
    ...              offer="openai/gpt-4o-mini")  # doctest: +SKIP
    >>> r.overall.accuracy, r.overall.accuracy_ci, r.overall.usd_per_correct  # doctest: +SKIP
    """
    ep = Endpoint.of(url, model, api_key=api_key, timeout_s=timeout_s)
    if temperature is not None:
        if not 0 <= temperature <= 2:
            raise InputError(f"--temperature must be within [0, 2], got {temperature}")
        ep = _SamplingEndpoint(**{f.name: getattr(ep, f.name) for f in fields(ep)},
                               sampling=(("temperature", temperature),))
    if concurrency < 1:
        raise InputError(f"--concurrency must be >= 1, got {concurrency}")
    if max_tokens is not None and max_tokens < 1:
        raise InputError(f"--max-tokens must be >= 1, got {max_tokens}")
    if limit is not None and limit < 1:
        raise InputError(f"--limit must be >= 1, got {limit}")
    if (judge_url is None) != (judge_model is None):
        raise InputError("an LLM judge needs both --judge URL and --judge-model M")
    if resume is not None and store is False:
        raise InputError("--resume needs the result store (store=False keeps nothing to resume)")
    prices = pricing(gpu, gpus, usd_per_gpu_hour, offer)
    judge_prices = pricing(None, 1, None, judge_offer) if judge_offer is not None else None
    s = suite if isinstance(suite, Suite) else load_suite(suite)
    questions = s.questions[:limit] if limit else s.questions
    asked = Suite(s.name, questions, s.source, s.problems)
    config = {"suite": s.name, "suite_source": s.source, "suite_digest": asked.digest,
              "questions": len(questions), "limit": limit, "concurrency": concurrency,
              "max_tokens": max_tokens, "temperature": temperature, "gpu": gpu,
              "gpus": gpus if gpu else None, "usd_per_gpu_hour": usd_per_gpu_hour,
              **_offer_config(prices if isinstance(prices, Offer) else None),
              "judge_url": judge_url, "judge_model": judge_model, "api": ep.api}
    path = None if store is False else (None if store is True else Path(store))
    previous: list[Answer] = []
    point = 0
    run_id = resume
    if resume is not None:
        previous, point = _resume_state(resume, config, path, model)
    elif store is not False:
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
    done = {a.question_id for a in previous if a.status != "error"}
    todo = [q for q in questions if q.id not in done]
    notes = [f"suite: {p} (line skipped)" for p in s.problems]
    writer = None
    if store is not False:
        from ..store import Writer

        writer = Writer(path)
        if resume is None:
            writer.put(("run", {"run_id": run_id, "started_at": time.time(), "status": "running",
                                "url": ep.display_url, "model": model, "mode": "eval",
                                "truecost_version": version("truecost"), "config": config}))
        else:
            writer.put(("reopen", run_id))
    fresh: list[Answer] = []
    status, error = "failed", None
    try:
        if todo:
            fresh = _ask(ep, todo, point, concurrency, max_tokens, prices, writer, run_id,
                         model, gpu, gpus, progress, notes)
        answered = [a for a in previous + fresh if a.status != "error"]
        if not answered and fresh:
            raise _all_failed(fresh)
        if judge_url is not None and judge_model is not None:
            fresh = _judge(judge_url, judge_model, judge_prices, api_key, timeout_s, concurrency,
                           asked, previous + fresh, writer, run_id, progress)
        status = "complete"
    except BaseException as e:
        status = "interrupted" if isinstance(e, KeyboardInterrupt) else "failed"
        error = str(e) or type(e).__name__
        if isinstance(e, EndpointError) and run_id is not None:
            raise EndpointError(f"{e}; the answers so far are stored: resume with --resume "
                                f"{run_id}") from None
        raise
    finally:
        if writer is not None:
            writer.put(("finish", run_id, status, error, notes))
            writer.close()
    if store is not False:
        return load_eval(run_id, path)  # type: ignore[arg-type]
    return summarise(None, ep.display_url, model, config, fresh, prices, [], notes)


def _offer_config(o: Offer | None) -> dict[str, Any]:
    if o is None:
        return {"offer": None}
    if getattr(o, "_genai", False):
        return {"offer": o.key}
    # a user's own offer: keep its prices, since no catalog can give them back
    return {"offer": o.key, "offer_prices": {
        "usd_per_mtok_input": o.usd_per_mtok_input, "usd_per_mtok_output": o.usd_per_mtok_output,
        "usd_per_mtok_cached_input": o.usd_per_mtok_cached_input,
        "provenance": str(o.provenance)}}


def _resume_state(run_id: str, config: dict[str, Any], path: Path | None,
                  model: str) -> tuple[list[Answer], int]:
    """The stored answers of the run to resume, and the point its next attempt takes."""
    run, answers, _ = read_eval(run_id, path)
    cfg = run.get("config") or {}
    if run["model"] != model or cfg.get("suite_digest") != config["suite_digest"]:
        raise InputError(f"run {run_id} evaluated model '{run['model']}' on suite "
                         f"'{cfg.get('suite')}' (limit {cfg.get('limit')}); resume it with "
                         f"the same --model, --suite and --limit")
    return answers, max((a.record.point for a in answers), default=-1) + 1


def _ask(ep: Endpoint, todo: list[Question], point: int, concurrency: int,
         max_tokens: int | None, prices: HourlyCost | Offer | None, writer: Any,
         run_id: str | None, model: str, gpu: str | None, gpus: int,
         progress: Progress | None, notes: list[str]) -> list[Answer]:
    """One attempt: every question of ``todo`` once, each answer graded and stored on arrival."""
    specs = [RequestSpec(prompt=q.prompt, max_tokens=max_tokens,
                         input_tokens=len(q.prompt.split())) for q in todo]
    texts: dict[int, tuple[str, str]] = {}
    out: list[Answer] = []
    bar = task(progress, f"eval {ep.model}", total=len(todo))

    def on_body(index: int, reads: list[bytes]) -> None:
        # the reply is stored and printed: a server that echoes the key must not leak it
        answer, reasoning = reply_text(reads)
        texts[index] = (scrub(answer, ep.api_key), scrub(reasoning, ep.api_key))

    def on_record(rec: RequestRecord) -> None:
        a = _graded(todo[rec.index], rec, texts.pop(rec.index, ("", "")))
        out.append(a)
        if writer is not None:
            writer.record(run_id, rec)
            writer.put(("answers", [_answer_row(run_id, a)]))
        bar.advance(errors=a.status == "error")

    stop = None
    try:
        with bar:
            outcome = run_shard(ep, specs, None, concurrency, time.time(), point=point,
                                max_requests=len(specs), max_error_rate=MAX_ERROR_RATE,
                                on_record=on_record, on_body=on_body)
        stop = outcome.stop_reason
    finally:
        records = [a.record for a in out]
        if records and writer is not None:
            summary = summarize(records)
            ok = [r for r in records if r.ok]
            cost = point_cost(prices, summary, ok) if prices is not None and ok else None
            op = OperatingPoint(point, "eval", concurrency, None, 0, 0, summary, cost, None, stop)
            writer.put(("point", _point_row(run_id, op, model, gpu, gpus)))
    if stop is not None:
        notes.append(f"attempt {point}: {stop}; resume to ask the rest")
    return out


def _graded(q: Question, rec: RequestRecord, text: tuple[str, str]) -> Answer:
    source: Literal["usage", "client"] = "usage" if rec.completion_tokens is not None else "client"
    if not rec.ok:
        return Answer(q.id, q.domain, q.grader, q.answer, "error", None, None, None, None, rec)
    content, _reasoning = text
    g = grade(q.grader, content, q.answer, choices=q.choices, tolerance=q.tolerance)
    return Answer(q.id, q.domain, q.grader, q.answer,
                  "ungraded" if g.correct is None else "graded",
                  content[:MAX_STORED_ANSWER_CHARS], g.extracted, g.correct, source, rec)


def _answer_row(run_id: str | None, a: Answer) -> dict[str, Any]:
    return {"run_id": run_id, "point": a.record.point, "index": a.record.index,
            "question_id": a.question_id, "domain": a.domain, "grader": a.grader,
            "reference": a.reference, "status": a.status, "answer": a.answer,
            "extracted": a.extracted, "correct": a.correct, "token_source": a.token_source,
            "judge_run": a.judge_run}


def _all_failed(answers: list[Answer]) -> EndpointError:
    kinds = Counter(a.record.error_kind for a in answers)
    first = answers[0].record.error or answers[0].record.error_kind
    return EndpointError(f"all {len(answers)} requests failed ("
                         + ", ".join(f"{k} x{n}" for k, n in kinds.items())
                         + f"); first error: {first}")


# -- the judge -------------------------------------------------------------------------------
def _judge(url: str, model: str, prices: HourlyCost | Offer | None, api_key: str | None,
           timeout_s: float, concurrency: int, suite: Suite, answers: list[Answer], writer: Any,
           run_id: str | None, progress: Progress | None) -> list[Answer]:
    """Grade the ungraded judge answers with an LLM judge; returns ``answers`` with verdicts.
    The judge's requests are a run of their own (mode ``judge``), so its cost stays apart."""
    by_id = {q.id: q for q in suite.questions}
    pending = [a for a in answers if a.status == "ungraded" and a.answer is not None
               and a.question_id in by_id]
    if not pending:
        return answers
    ep = Endpoint.of(url, model, api_key=api_key, timeout_s=timeout_s)
    specs = [RequestSpec(prompt=judge_prompt(by_id[a.question_id].prompt, a.reference,
                                             a.answer or ""), max_tokens=JUDGE_MAX_TOKENS)
             for a in pending]
    judge_run = f"{run_id}-judge-{secrets.token_hex(2)}" if run_id else None
    if writer is not None:
        writer.put(("run", {"run_id": judge_run, "started_at": time.time(), "status": "running",
                            "url": ep.display_url, "model": model, "mode": "judge",
                            "truecost_version": version("truecost"),
                            "config": {"parent": run_id, **_offer_config(
                                prices if isinstance(prices, Offer) else None)}}))
    verdicts: dict[int, bool | None] = {}
    bar = task(progress, f"judge {model}", total=len(pending))

    def on_body(index: int, reads: list[bytes]) -> None:
        verdicts[index] = judge_verdict(reply_text(reads)[0])

    def on_record(rec: RequestRecord) -> None:
        if writer is not None:
            writer.record(judge_run, rec)
        bar.advance(errors=not rec.ok)

    status = "failed"
    try:
        with bar:
            run_shard(ep, specs, None, concurrency, time.time(),
                      max_requests=len(specs), on_record=on_record, on_body=on_body)
        status = "complete"
    finally:
        updated = {}
        for i, a in enumerate(pending):
            v = verdicts.get(i)
            if v is not None:
                updated[id(a)] = replace(a, status="graded", correct=v, judge_run=judge_run)
        if writer is not None:
            if updated:
                writer.put(("answers", [_answer_row(run_id, a) for a in updated.values()]))
            writer.put(("finish", judge_run, status, None, None))
    return [updated.get(id(a), a) for a in answers]


