"""`truecost estimate`: modelled throughput, latency and memory of a model on a GPU."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import InputError
from ..hardware import PrecisionName
from ..perf.offload import estimate_offload
from ..perf.serving import Estimate, estimate as run_estimate
from ..perf.swarm import estimate_swarm
from .format import gbytes, seconds, usd
from .output import out_console, print_json
from .shared_compute import render_offload, render_swarm
from .tables import Col, print_figures, print_lines, print_table


def register(app: typer.Typer) -> None:
    app.command("estimate")(estimate)


def estimate(
    model: Annotated[str, typer.Option(
        help="Catalog model name, a Hugging Face config.json, hf:ORG/NAME (fetched), or a TOML file.")],
    gpu: Annotated[str | None, typer.Option(help="Catalog GPU key or alias, or a TOML file.")] = None,
    precision: Annotated[PrecisionName | None, typer.Option(
        help="Weights precision recipe (default bf16; int8 for --swarm, int4 for --offload).")] = None,
    isl: Annotated[int, typer.Option(help="Input (prompt) tokens per request.")] = 1000,
    osl: Annotated[int, typer.Option(help="Output tokens per request (reasoning included).")] = 1000,
    tp: Annotated[int, typer.Option(help="Tensor-parallel GPUs in one replica.")] = 1,
    dp: Annotated[int, typer.Option(help="Attention data-parallel groups of --tp GPUs (MoE).")] = 1,
    ep: Annotated[int, typer.Option(help="Expert parallelism: 1, or all tp x dp GPUs (MoE).")] = 1,
    concurrency: Annotated[int | None, typer.Option(help="Live sequences (closed loop); simulated.")] = None,
    rate: Annotated[float | None, typer.Option(help="Offered requests/s (Poisson, open loop); simulated.")] = None,
    max_throughput: Annotated[bool, typer.Option("--max-throughput", help="As many sequences as fit (default).")] = False,
    batch: Annotated[int | None, typer.Option(help="Price one step of B sequences (with --context).")] = None,
    context: Annotated[int | None, typer.Option(help="Context tokens per sequence for --batch.")] = None,
    engine: Annotated[str | None, typer.Option(
        help="Engine profile or a TOML file (default tuned; petals for --swarm, vllm for --offload).")] = None,
    kv_dtype: Annotated[str | None, typer.Option(help="Override the KV-cache dtype (bf16, fp8).")] = None,
    cached_input_fraction: Annotated[float, typer.Option(help="Share of each prompt in the prefix cache.")] = 0.0,
    requests: Annotated[int | None, typer.Option(help="Requests simulated (default 1,000; 10 per client).")] = None,
    warmup: Annotated[int, typer.Option(help="First simulated requests left out of the percentiles.")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the simulated arrivals.")] = 0,
    swarm: Annotated[str | None, typer.Option(
        help="A Petals-style swarm instead of --gpu: its servers, e.g. '6x rtx-4090, 2x rtx-3090'.")] = None,
    offload: Annotated[bool, typer.Option(
        "--offload", help="One --gpu with the weights that do not fit streamed from CPU RAM.")] = False,
    network: Annotated[str | None, typer.Option(
        help="Swarm client<->server network: same-region, cross-continent, lan.")] = None,
    server_network: Annotated[str | None, typer.Option(help="Swarm server<->server network (direct routing).")] = None,
    rtt_ms: Annotated[float | None, typer.Option(help="Swarm round trip, ms (overrides --network's).")] = None,
    mbit_s: Annotated[float | None, typer.Option(help="Swarm bandwidth, Mbit/s (overrides --network's).")] = None,
    routing: Annotated[str | None, typer.Option(help="Swarm hops: relay (via the client) or direct.")] = None,
    client: Annotated[str | None, typer.Option(help="Where the swarm's LM head runs: cpu or a GPU.")] = None,
    share: Annotated[float | None, typer.Option(help="Share of each swarm server's time, (0, 1].")] = None,
    basis: Annotated[str | None, typer.Option(help="Swarm: rent or volunteer; offload: rent or own.")] = None,
    host_ram_gb: Annotated[float | None, typer.Option(help="Offload: CPU RAM, GB (default 256).")] = None,
    host_link_gb_s: Annotated[float | None, typer.Option(help="Offload: host link GB/s each way.")] = None,
    overlap: Annotated[bool, typer.Option("--overlap", help="Offload: prefetch the next layer.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")] = False,
) -> None:
    """Predict throughput, latency and max concurrency (roofline + KV cache + continuous batching;
    a serving simulation with --concurrency or --rate); or of a swarm (--swarm) or offloading (--offload)."""
    if max_throughput and (concurrency or rate):
        raise typer.BadParameter("--max-throughput excludes --concurrency and --rate")
    given = {k: v for k, v in dict(precision=precision, engine=engine).items() if v is not None}
    if swarm is not None or offload:
        _shared(model, gpu, swarm, offload, given, json_out, isl=isl, osl=osl, concurrency=concurrency,
                network=network, server_network=server_network, rtt_ms=rtt_ms, mbit_s=mbit_s, routing=routing,
                client=client, share=share, basis=basis, host_ram_gb=host_ram_gb, host_link_gb_s=host_link_gb_s,
                overlap=overlap)
        return
    if gpu is None:
        raise InputError("give --gpu (or --swarm SERVERS for a swarm)")
    e = run_estimate(model, gpu, tp=tp, isl=isl, osl=osl, concurrency=concurrency,
                     rate=rate, batch=batch, context=context, kv_dtype=kv_dtype,
                     cached_input_fraction=cached_input_fraction, requests=requests, warmup=warmup, seed=seed,
                     dp=dp, ep=ep, **given)
    if json_out:
        print_json(e.to_dict())
    else:
        render(e)


def _shared(model: str, gpu: str | None, swarm: str | None, offload: bool, given: dict, json_out: bool,
            **opts: object) -> None:
    """``--swarm`` / ``--offload``: the options each takes, each checked, then the API call."""
    from ..perf.links import link

    if swarm is not None and (offload or gpu is not None):
        raise InputError("--swarm names its own servers; it excludes --gpu and --offload")
    if offload and gpu is None:
        raise InputError("--offload needs --gpu (the one GPU that streams the weights)")
    swarm_only = ("network", "server_network", "rtt_ms", "mbit_s", "routing", "client", "share")
    offload_only = ("host_ram_gb", "host_link_gb_s")
    wrong = [k for k in (offload_only if swarm is not None else swarm_only) if opts.get(k) is not None]
    if swarm is not None and opts.get("overlap"):
        wrong.append("overlap")
    if wrong:
        raise InputError(f"--{wrong[0].replace('_', '-')} does not apply to "
                         f"{'--swarm' if swarm is not None else '--offload'}")
    kw = {k: v for k, v in opts.items() if v is not None and k not in ("rtt_ms", "mbit_s")}
    if swarm is not None:
        kw["network"] = link(opts.get("network") or "same-region", rtt_ms=opts.get("rtt_ms"),  # type: ignore[arg-type]
                             mbit_s=opts.get("mbit_s"))  # type: ignore[arg-type]
        kw.pop("overlap", None)
        e = estimate_swarm(model, swarm, **given, **kw)  # type: ignore[arg-type]
        print_json(e.to_dict()) if json_out else render_swarm(e)
        return
    batch = kw.pop("concurrency", None)
    e2 = estimate_offload(model, gpu, batch=batch, **given, **kw)  # type: ignore[arg-type]
    print_json(e2.to_dict()) if json_out else render_offload(e2)


def _rate(x: float | None, unit: str) -> str:
    return "-" if x is None else f"{x:,.0f} {unit}" if x >= 100 else f"{x:,.2f} {unit}"


def render(e: Estimate) -> None:
    """Key/value rows (fit 80 columns: the long breakdown is a wrapped line below the table),
    then the simulated percentiles when there is a simulation."""
    con = out_console()
    shape = f"{e.concurrency:,.0f} x {e.context:,} tokens" if e.mode == "batch" else f"ISL {e.isl} / OSL {e.osl}"
    title = f"{e.model} on {e.layout or f'{e.gpus}x {e.gpu}'} ({e.precision}), {shape}, engine {e.engine}"
    rows = [
        ("weights", gbytes(e.weights_bytes), f"{gbytes(e.weights_bytes_per_gpu)} per GPU"),
        ("KV cache per token", f"{e.kv_bytes_per_token:,.0f} B", f"pool {gbytes(e.kv_pool_bytes_per_gpu)} per GPU"),
    ]
    if e.mode == "batch":
        rows += [
            ("prefill", seconds(e.prefill_s), f"{e.concurrency:,.0f} prompts"),
            ("decode step", seconds(e.decode_step_s),
             f"{seconds(e.decode_step_s_lower)} .. {seconds(e.decode_step_s_upper)}"),
            ("decode tokens/s", _rate(e.output_tokens_per_s, ""), "of this step"),
        ]
    else:
        rows += [
            ("max concurrency", f"{e.max_concurrency:,}", ""),
            ("operating point", f"{e.concurrency:,.1f} seqs", e.mode.replace("_", " ")),
            ("prefill", seconds(e.prefill_s), "one prompt alone"),
            ("decode step", seconds(e.decode_step_s),
             f"{seconds(e.decode_step_s_lower)} .. {seconds(e.decode_step_s_upper)}"),
            ("output tokens/s", f"{e.output_tokens_per_s:,.0f}",
             f"{e.output_tokens_per_s_lower:,.0f} .. {e.output_tokens_per_s_upper:,.0f}"),
            ("requests/s", f"{e.requests_per_s:,.2f}" if e.requests_per_s is not None else "-", ""),
            ("TTFT", seconds(e.ttft_s), "mean, steady state"),
            ("TPOT", seconds(e.tpot_s), "mean, steady state"),
        ]
    basis = "simulated" if e.simulation else "steady state"
    rows += [
        ("$/1M output tokens", usd(e.usd_per_mtok_output),
         f"all-in, {basis}, rent {usd(e.usd_per_gpu_hour)}/GPU-h"),
        ("power", "-", "the GPU has no published TDP") if e.power_w is None else
        ("power", f"{e.power_w:,.0f} W",
         f"{e.energy_j_per_output_token:.3g} J/output token; idle {e.idle_power_w:,.0f} W"),
        ("binding", e.binding, ""),
    ]
    print_figures(con, rows, title=title)
    print_lines(con, "decode step (ms): " + ", ".join(f"{k} {v * 1e3:.1f}" for k, v in e.breakdown_s.items()))
    if e.simulation is not None:
        _render_simulation(e)
    for n in e.notes:
        print_lines(con, f"note: {n}")
    print_lines(con, f"provenance: {e.provenance}")


def _render_simulation(e: Estimate) -> None:
    s = e.simulation
    assert s is not None
    con = out_console()
    measured = s.requests - s.warmup
    title = (f"simulated: {s.arrivals}, {measured:,} requests" + (f" after {s.warmup:,} warm-up" if s.warmup else "")
             + f", seed {s.seed}")
    stats = ("mean", "p50", "p90", "p95", "p99")
    print_table(con, [Col("metric", 0, "left"), *(Col(k) for k in stats)],
                [[label, *(seconds(getattr(d, k)) for k in stats)] for label, d in
                 (("TTFT", s.ttft), ("TPOT", s.tpot), ("ITL", s.itl), ("E2E", s.e2e), ("queue", s.queue))],
                title=title)
    print_lines(con, f"simulated throughput: {s.output_tokens_per_s:,.0f} output tokens/s, {s.requests_per_s:,.2f} "
                     f"requests/s; mean batch {s.mean_running:,.1f}; preemptions {s.preemptions:,}")
