"""`truecost estimate`: modelled throughput, latency and memory of a model on a GPU."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ..hardware import PrecisionName
from ..perf.serving import Estimate, estimate as run_estimate
from .format import gbytes, seconds
from .output import out_console, print_json


def register(app: typer.Typer) -> None:
    app.command("estimate")(estimate)


def estimate(
    model: Annotated[str, typer.Option(
        help="Catalog model name, a Hugging Face config.json, hf:ORG/NAME (fetched), or a TOML file.")],
    gpu: Annotated[str, typer.Option(help="Catalog GPU key or alias, or a TOML file.")],
    precision: Annotated[PrecisionName, typer.Option(help="Weights precision recipe.")] = PrecisionName.bf16,
    isl: Annotated[int, typer.Option(help="Input (prompt) tokens per request.")] = 1000,
    osl: Annotated[int, typer.Option(help="Output tokens per request (reasoning included).")] = 1000,
    tp: Annotated[int, typer.Option(help="Tensor-parallel GPUs in one replica.")] = 1,
    dp: Annotated[int, typer.Option(help="Attention data-parallel groups of --tp GPUs (MoE).")] = 1,
    ep: Annotated[int, typer.Option(help="Expert parallelism: 1, or all tp x dp GPUs (MoE).")] = 1,
    concurrency: Annotated[int | None, typer.Option(help="Live sequences (closed loop).")] = None,
    rate: Annotated[float | None, typer.Option(help="Offered requests/s (open loop).")] = None,
    max_throughput: Annotated[bool, typer.Option("--max-throughput", help="As many sequences as fit (default).")] = False,
    batch: Annotated[int | None, typer.Option(help="Price one step of B sequences (with --context).")] = None,
    context: Annotated[int | None, typer.Option(help="Context tokens per sequence for --batch.")] = None,
    engine: Annotated[str, typer.Option(help="Engine profile (efficiency terms) or a TOML file.")] = "tuned",
    kv_dtype: Annotated[str | None, typer.Option(help="Override the KV-cache dtype (bf16, fp8).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")] = False,
) -> None:
    """Predict throughput, latency and max concurrency (roofline + KV cache + continuous batching)."""
    if max_throughput and (concurrency or rate):
        raise typer.BadParameter("--max-throughput excludes --concurrency and --rate")
    e = run_estimate(model, gpu, precision=precision, tp=tp, isl=isl, osl=osl, concurrency=concurrency,
                     rate=rate, batch=batch, context=context, engine=engine, kv_dtype=kv_dtype, dp=dp, ep=ep)
    if json_out:
        print_json(e.to_dict())
    else:
        render(e)


def render(e: Estimate) -> None:
    con = out_console()
    t = Table(title=f"{e.model} on {e.layout or f'{e.gpus}x {e.gpu}'} ({e.precision}), ISL {e.isl} / OSL {e.osl}, "
                    f"engine {e.engine}", title_justify="left")
    t.add_column("figure")
    t.add_column("value", justify="right")
    t.add_column("range / note")
    rows = [
        ("weights", gbytes(e.weights_bytes), f"{gbytes(e.weights_bytes_per_gpu)} per GPU"),
        ("KV cache per token", f"{e.kv_bytes_per_token:,.0f} B", f"pool {gbytes(e.kv_pool_bytes_per_gpu)} per GPU"),
        ("max concurrency", f"{e.max_concurrency:,}", ""),
        ("operating point", f"{e.concurrency:,.1f} seqs", e.mode),
        ("prefill", seconds(e.prefill_s), ""),
        ("decode step", seconds(e.decode_step_s),
         f"{seconds(e.decode_step_s_lower)} .. {seconds(e.decode_step_s_upper)}"),
        ("TTFT", seconds(e.ttft_s), ""),
        ("TPOT", seconds(e.tpot_s), ""),
        ("output tokens/s", f"{e.output_tokens_per_s:,.0f}",
         f"{e.output_tokens_per_s_lower:,.0f} .. {e.output_tokens_per_s_upper:,.0f}"),
        ("requests/s", f"{e.requests_per_s:,.2f}", ""),
        ("power", "-", "the GPU has no published TDP") if e.power_w is None else
        ("power", f"{e.power_w:,.0f} W", f"{e.energy_j_per_output_token:.3g} J/output token; idle {e.idle_power_w:,.0f} W"),
        ("binding", e.binding, ", ".join(f"{k} {seconds(v)}" for k, v in e.breakdown_s.items())),
    ]
    for r in rows:
        t.add_row(*r)
    con.print(t)
    for n in e.notes:
        con.print(f"note: {n}")
    con.print(f"provenance: {e.provenance}", soft_wrap=True)
