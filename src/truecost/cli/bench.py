"""`truecost bench URL --model M`: load an endpoint, print metrics, $ and energy per operating
point. A thin client of ``truecost.bench.run_bench``: defaults live there; an option left out is
not passed on. The table (or ``--json``) goes to stdout; notes and progress go to stderr (a bar
per operating point on a terminal, plain lines otherwise, none with ``--quiet``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from ..bench import BenchResult, run_bench, summary_rows
from ..bench.run import DEFAULT_REQUESTS, SWEEP_PROBE_CONCURRENCY
from ..errors import InputError
from .format import seconds, usd
from .output import err_console, out_console, print_json
from .tables import Col, OutputFormat, output_format, print_csv, print_lines, print_table
from .progress import cli_progress

_D = run_bench.__kwdefaults__  # the API owns the defaults; help only quotes them


def _opt(help: str, *decls: str) -> Any:
    return typer.Option(*decls, help=help)


def register(app: typer.Typer) -> None:
    if not any(c.name == "bench" for c in app.registered_commands):  # main() may run again
        app.command("bench")(bench)


def bench(
    url: Annotated[str, typer.Argument(help="OpenAI-compatible endpoint: base URL "
                                       "(http://host:8000/v1) or a .../chat/completions or "
                                       ".../completions URL.")],
    model: Annotated[str, _opt("Model name the server serves.", "--model", "-m")],
    concurrency: Annotated[str | None, _opt("Closed loop: requests in flight; a list sweeps, e.g. "
                                            "1,4,16 (default 1).")] = None,
    rate: Annotated[float | None, _opt("Open loop: requests/s on an absolute schedule.")] = None,
    poisson: Annotated[bool, _opt("Poisson arrivals at --rate (default: evenly spaced).",
                                  "--poisson")] = False,
    sweep: Annotated[bool, _opt(f"Find the max throughput (at --concurrency, default "
                                f"{SWEEP_PROBE_CONCURRENCY}), then step rates up to it.",
                                "--sweep")] = False,
    sweep_steps: Annotated[int | None, _opt(f"Rates in a sweep (default {_D['sweep_steps']}).")] = None,
    requests: Annotated[int | None, _opt(f"Requests per operating point (default "
                                         f"{DEFAULT_REQUESTS}).")] = None,
    duration_s: Annotated[float | None, _opt("Seconds per operating point, instead of "
                                             "--requests.")] = None,
    warmup: Annotated[int | None, _opt("First N requests of each point left out of the metrics "
                                       f"(default {_D['warmup']}).")] = None,
    drain: Annotated[int | None, _opt("Last N requests sent left out (default: the concurrency "
                                      "in closed loop, 0 in open loop).")] = None,
    max_error_rate: Annotated[float | None, _opt("Stop a point when errors exceed this "
                                                 "fraction, e.g. 0.2.")] = None,
    isl: Annotated[str | None, _opt(f"Input tokens: N, LOW-HIGH or MEAN:SD (default "
                                    f"{_D['isl']}).")] = None,
    osl: Annotated[str | None, _opt(f"Output tokens (max_tokens): N, LOW-HIGH or MEAN:SD "
                                    f"(default {_D['osl']}).")] = None,
    prompts: Annotated[Path | None, _opt("JSONL file of {\"prompt\"} or {\"messages\"} lines.")] = None,
    replay: Annotated[Path | None, _opt("JSONL usage log to replay at its logged times.")] = None,
    replay_speed: Annotated[float | None, _opt(f"Replay this many times faster (default "
                                               f"{_D['replay_speed']:g}).")] = None,
    tokenizer: Annotated[str | None, _opt("tokenizer.json or Hugging Face name: exact prompt "
                                          "sizes.")] = None,
    seed: Annotated[int | None, _opt("Seed of prompts and Poisson times (default: a new one "
                                     "per run, recorded in it, so a rerun does not hit the "
                                     "server's prefix cache).")] = None,
    slo: Annotated[str | None, _opt("Latency objectives for goodput, e.g. "
                                    "ttft_p95=1s,itl_p95=50ms.")] = None,
    gpu: Annotated[str | None, _opt("Self-hosted cost: GPU type, e.g. h100-sxm.")] = None,
    gpus: Annotated[int | None, _opt(f"GPUs serving the endpoint (default {_D['gpus']}).")] = None,
    usd_per_gpu_hour: Annotated[float | None, _opt("Rent $/GPU-hour (default: GPU catalog).")] = None,
    offer: Annotated[str | None, _opt("API cost: an offer, e.g. openai/gpt-4o.")] = None,
    energy: Annotated[bool, _opt("GPU energy from NVML (run on the serving machine).",
                                 "--energy")] = False,
    energy_gpus: Annotated[str | None, _opt("NVML GPU indices to meter, e.g. 0,1 (default "
                                            "all).")] = None,
    timeout_s: Annotated[float | None, _opt(f"Seconds allowed per request (default "
                                            f"{_D['timeout_s']:g}).")] = None,
    ignore_eos: Annotated[bool, _opt("Ask vLLM/SGLang for exactly max_tokens.",
                                     "--ignore-eos")] = False,
    max_connections: Annotated[int | None, _opt(f"Open loop: requests in flight at most "
                                                f"(default {_D['max_connections']}).")] = None,
    max_response_bytes: Annotated[int | None, _opt(f"Cut off a longer response as an error "
                                                   f"(default {_D['max_response_bytes']:,}).")] = None,
    retry_after: Annotated[bool, _opt("Wait out a 429/503's Retry-After and resend (counted as "
                                      "throttled); --no-retry-after makes them errors.",
                                      "--retry-after/--no-retry-after")] = True,
    ray_address: Annotated[str | None, _opt("Ray cluster address (auto, local, "
                                            "ray://HOST:PORT): spread the load over it.")] = None,
    fmt: Annotated[OutputFormat | None, _opt("table (default), json, or csv: one row per "
                                             "operating point.", "--format")] = None,
    json_out: Annotated[bool, _opt("JSON on stdout instead of tables.", "--json")] = False,
    quiet: Annotated[bool, _opt("No progress on stderr.", "--quiet", "-q")] = False,
) -> None:
    """Measure an endpoint under load; $ per token and request with --gpu or --offer."""
    out_fmt = output_format(fmt, json_out)
    kwargs = {k: v for k, v in dict(
        concurrency=concurrency, rate=rate, sweep_steps=sweep_steps, requests=requests,
        duration_s=duration_s, warmup=warmup, drain=drain, max_error_rate=max_error_rate, isl=isl,
        osl=osl, prompts=prompts, replay=replay, replay_speed=replay_speed, tokenizer=tokenizer,
        seed=seed, slo=slo, gpu=gpu, gpus=gpus, usd_per_gpu_hour=usd_per_gpu_hour, offer=offer,
        energy_gpus=_ints(energy_gpus), timeout_s=timeout_s, max_connections=max_connections,
        max_response_bytes=max_response_bytes, ray_address=ray_address).items() if v is not None}
    progress = cli_progress(quiet)
    try:
        result = run_bench(url, model, poisson=poisson, sweep=sweep, energy=energy,
                           ignore_eos=ignore_eos, retry_after=retry_after, progress=progress, **kwargs)
    finally:
        if progress is not None:
            progress.stop()
    emit_result(result, out_fmt)


def _ints(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InputError(f"--energy-gpus takes GPU indices separated by commas, got '{text}'") from None


def _n(x: float | None, fmt: str = ",.1f") -> str:
    return "-" if x is None else format(x, fmt)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:+.1%}"


def render(result: BenchResult) -> None:
    """The metrics table, then tokens and send timing, then provenance and notes on cost."""
    con = out_console()
    pts = result.points
    has_slo = any(p.summary.slos for p in pts)
    has_cost = any(p.cost for p in pts)
    has_energy = any(p.energy for p in pts)
    # priorities: throughput and cost first, then TTFT/ITL (and goodput), then the rest
    cols = [Col("load", 0, "left"), Col("ok/sent"), Col("req/s"), Col("out tok/s"),
            Col("TTFT p50", 2), Col("TTFT p95", 2), Col("ITL p50", 2), Col("ITL p95", 2),
            Col("TPOT p50", 3), Col("E2E p50", 3), Col("E2E p95", 3)]
    cols += [Col("good/s", 2), Col("good", 2)] if has_slo else []
    cols += [Col("$/1M out\nall-in"), Col("$/1k req")] if has_cost else []
    cols += [Col("J/out tok", 3)] if has_energy else []
    rows = []
    for p in pts:
        s = p.summary
        row = [p.label, f"{s.ok}/{s.requests}", _n(s.request_throughput, ".2f"),
               _n(s.output_token_throughput), seconds(s.ttft.p50), seconds(s.ttft.p95),
               seconds(s.itl.p50), seconds(s.itl.p95), seconds(s.tpot.p50), seconds(s.e2e.p50),
               seconds(s.e2e.p95)]
        if has_slo:
            row += [_n(s.goodput, ".2f"), "-" if s.good_fraction is None else f"{s.good_fraction:.0%}"]
        if has_cost:
            c = p.cost
            row += [usd(c.usd_per_mtok_output) if c else "-",
                    usd(c.usd_per_request * 1000) if c and c.usd_per_request is not None else "-"]
        if has_energy:
            row += [_n(p.energy.joules_per_output_token, ".3g") if p.energy else "-"]
        rows.append(row)
    print_table(con, cols, rows, title=f"{result.model} at {result.url}", spill=True)
    con.print()
    open_loop = any(p.summary.send_lag.n for p in pts)  # send lag exists only on a schedule
    cols2 = [Col("load", 0, "left"), Col("in"), Col("out"), Col("reasoning"), Col("cached"),
             Col("TTFO p50", 2), Col("usage"), Col("out Δ", 2), Col("in Δ", 2),
             *([Col("lag p50", 3), Col("lag p99", 3), Col("TTFT* p95", 3)] if open_loop else []),
             Col("in flight", 2), Col("excluded", 2)]
    rows2 = []
    for p in pts:
        s, k = p.summary, p.summary.tokens
        lag = [seconds(s.send_lag.p50), seconds(s.send_lag.p99),
               seconds(s.ttft_from_intended.p95)] if open_loop else []
        rows2.append([p.label, _n(k.input_mean), _n(k.output_mean), _n(k.reasoning_mean),
                      _n(k.cached_mean), seconds(s.ttfo.p50), f"{k.usage_reported}/{s.ok}",
                      _pct(k.output_discrepancy), _pct(k.input_discrepancy), *lag,
                      _n(s.mean_concurrency), f"{s.excluded_warmup} + {s.excluded_drain}"])
    print_table(con, cols2, rows2, spill=True,
                title="tokens per request (server usage), client counts, load-generator timing")
    con.print()
    errors = {}
    for p in pts:
        for kind, n in p.summary.errors.items():
            errors[kind] = errors.get(kind, 0) + n
    lines = [f"provenance: {result.provenance}. Latencies are from the actual send"
             + ("; TTFT* from the intended send (open loop), lag = actual - intended send"
                if open_loop else "") + ". Δ: client count vs server usage (out: stream chunks; "
             "in: the workload's prompt size, without the chat template). excluded: warm-up + "
             "drain requests."]
    if errors:
        lines.append("errors: " + ", ".join(f"{k} x{n}" for k, n in errors.items()) + ".")
    if has_slo:
        slos = next(p.summary.slos for p in pts if p.summary.slos)
        met = ", ".join(f"{p.label} {'met' if p.summary.slo_met else 'missed'}" for p in pts)
        lines.append(f"SLOs {','.join(map(str, slos))}: {met}.")
    cost = next((p.cost for p in pts if p.cost), None)
    if cost is not None:
        basis = (f"{usd(cost.usd_per_hour)}/hour divided by the throughput measured at each point"
                 if cost.basis == "gpu" else "API prices of each request's real token counts")
        lines.append(f"cost: {basis}; price {cost.provenance}. $/1M out all-in: the whole cost "
                     f"(input included) per million output tokens.")
    energy = next((p.energy for p in pts if p.energy), None)
    if energy is not None:
        lines.append(f"energy: NVML counters of {energy.gpus} GPU(s) over each measured window; "
                     f"idle floor {_n(energy.idle_power_w)} W (J/out tok above idle: "
                     + ", ".join(_n(p.energy.joules_per_output_token_above_idle, ".3g")
                                 for p in pts if p.energy) + ").")
    for line in lines:
        print_lines(con, line)


def emit_result(result: BenchResult, fmt: OutputFormat) -> None:
    """Notes to stderr, then the result as tables, JSON or CSV (one row per operating point) on
    stdout (bench and runs show)."""
    for note in result.notes:
        err_console.print(f"note: {note}", markup=False)
    match fmt:
        case OutputFormat.json:
            print_json(result.to_dict())
        case OutputFormat.csv:
            print_csv(summary_rows(result))
        case _:
            render(result)
