"""`truecost eval URL --model M --suite S`: accuracy, tokens, $ per task and per correct answer.
A thin client of ``truecost.run_eval`` (defaults live there). Tables or ``--json`` on stdout;
suite problems, notes and progress on stderr."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ..eval.results import EvalResult, EvalSummary
from ..eval.run import run_eval
from .format import seconds, usd
from . import output
from .output import out_console
from .progress import cli_progress
from .tables import Col, print_lines, print_table

_D = run_eval.__kwdefaults__


def _opt(help: str, *decls: str) -> Any:
    return typer.Option(*decls, help=help)


def register(app: typer.Typer) -> None:
    if not any(c.name == "eval" for c in app.registered_commands):  # main() may run again
        app.command("eval")(eval_)


def eval_(
    url: Annotated[str, typer.Argument(help="OpenAI-compatible endpoint: base URL "
                                       "(http://host:8000/v1) or a .../chat/completions URL.")],
    model: Annotated[str, _opt("Model name the server serves.", "--model", "-m")],
    suite: Annotated[str, _opt("A JSONL suite file, gsm8k, gsm8k-300, gsm8k:PATH or "
                               "token-economy.", "--suite", "-s")],
    limit: Annotated[int | None, _opt("Ask only the first N questions.")] = None,
    concurrency: Annotated[int | None, _opt(f"Requests in flight (default "
                                            f"{_D['concurrency']}).")] = None,
    max_tokens: Annotated[int | None, _opt("max_tokens of each request (default: the "
                                           "server's).")] = None,
    temperature: Annotated[float | None, _opt("Sampling temperature (default: the "
                                              "server's).")] = None,
    offer: Annotated[str | None, _opt("API price: an offer, e.g. openai/gpt-4o-mini.")] = None,
    gpu: Annotated[str | None, _opt("Self-hosted price: GPU type, e.g. h100-sxm.")] = None,
    gpus: Annotated[int | None, _opt(f"GPUs serving the endpoint (default {_D['gpus']}).")] = None,
    usd_per_gpu_hour: Annotated[float | None, _opt("Rent $/GPU-hour (default: catalog).")] = None,
    resume: Annotated[str | None, _opt("Continue a stored eval run: ask only the questions "
                                       "without an answer.")] = None,
    judge: Annotated[str | None, _opt("LLM judge endpoint for free-form (judge) questions.")] = None,
    judge_model: Annotated[str | None, _opt("The judge's model name.")] = None,
    judge_offer: Annotated[str | None, _opt("The judge's API price, e.g. openai/gpt-4o.")] = None,
    timeout: Annotated[float | None, _opt(f"Seconds allowed per request (default "
                                          f"{_D['timeout_s']:g}); --timeout is the same.",
                                          "--timeout-s", "--timeout")] = None,
    json_out: Annotated[bool, _opt("JSON on stdout instead of tables.", "--json")] = False,
    quiet: Annotated[bool, _opt("No progress on stderr.", "--quiet", "-q")] = False,
) -> None:
    """Ask a suite of questions, grade the answers: accuracy, tokens and $ per correct answer."""
    kwargs = {k: v for k, v in dict(
        limit=limit, concurrency=concurrency, max_tokens=max_tokens, temperature=temperature,
        offer=offer, gpu=gpu, gpus=gpus, usd_per_gpu_hour=usd_per_gpu_hour, resume=resume,
        judge_url=judge, judge_model=judge_model, judge_offer=judge_offer,
        timeout_s=timeout).items() if v is not None}
    progress = cli_progress(quiet)
    try:
        result = run_eval(url, model, suite, progress=progress, **kwargs)
    finally:
        if progress is not None:
            progress.stop()
    emit(result, json_out)


def emit(result: EvalResult, json_out: bool) -> None:
    """Notes to stderr, then the result as JSON or tables on stdout (eval and runs show)."""
    output.emit(result, json_out, render)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _ci(s: EvalSummary) -> str:
    return "-" if s.accuracy_ci is None else f"{s.accuracy_ci[0]:.1%}-{s.accuracy_ci[1]:.1%}"


def _n(x: float | None) -> str:
    return "-" if x is None else f"{x:,.1f}"


def render(r: EvalResult) -> None:
    """Accuracy and cost per domain, then tokens and latency per task, then how to read them."""
    con = out_console()
    print_lines(con, f"{r.model} at {r.url}")
    print_lines(con, f"suite {r.suite}: {r.overall.n} questions")
    rows = list(r.by_domain.items()) + ([("all", r.overall)] if len(r.by_domain) > 1 else [])
    domain = Col("domain", 0, "left", wrap=True)
    print_table(con, [domain, Col("correct", 1), Col("accuracy", 1), Col("95% CI", 2),
                      Col("$/task", 1), Col("$/correct", 1)],
                [[name, f"{s.correct}/{s.graded}", _pct(s.accuracy), _ci(s), usd(s.usd_per_task),
                  usd(s.usd_per_correct)] for name, s in rows])
    con.print()
    print_table(con, [domain, Col("prompt", 1), Col("output", 1), Col("reasoning", 1),
                      Col("TTFT p50", 2), Col("E2E p50", 2), Col("E2E p90", 3)],
                [[name, _n(s.prompt_tokens.mean), _n(s.output_tokens.mean), _n(s.reasoning_tokens.mean),
                  seconds(s.ttft_s.p50), seconds(s.e2e_s.p50), seconds(s.e2e_s.p90)] for name, s in rows],
                title="tokens per task (mean; output includes reasoning), latency per task", spill=True)
    o = r.overall
    lines = [f"provenance: {r.provenance}; suite: {r.suite_source}. accuracy = correct / "
             f"graded answers, with its 95% Wilson interval; $/correct = $/task / accuracy."]
    if o.usd_per_task is None:
        lines.append("cost: not priced (give --offer, or --gpu with --gpus).")
    else:
        lines.append(f"price: {r.price}.")
        if o.graded and not o.correct:
            lines.append("$/correct: no answer was correct, so there is no cost per correct "
                         "answer (it is unbounded).")
    if r.judge is not None:
        j = r.judge
        cost = f", {usd(j.usd)}" if j.usd is not None else ""
        lines.append(f"judge: {j.model}, {j.verdicts} verdicts from {j.requests} requests, "
                     f"{j.prompt_tokens:,} prompt + {j.output_tokens:,} output tokens{cost} "
                     f"(not in $/task).")
    for line in lines:
        print_lines(con, line)
