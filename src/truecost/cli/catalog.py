"""`truecost models | gpus | offers | engines`: what the tool knows, with key figures and sources.

Each table fits the terminal (``COLUMNS``; 80 when output is redirected) through
``cli/tables.py``: ids and numbers never wrap or get cut; when the table is too wide, the
lowest-priority columns are left out and a note names them (``--json`` has everything). Sources
are numbered under each table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer

from .. import catalog, prices
from ..arch import ModelArch
from ..hardware import GPU
from ..perf.engine import EngineProfile, engines as list_engines
from .format import usd
from .output import out_console, print_json
from .tables import Col, Sources, print_lines, print_table

JSON = Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")]


def register(app: typer.Typer) -> None:
    app.command("models")(models)
    app.command("gpus")(gpus)
    app.command("offers")(offers)
    app.command("engines")(engines)


# ---- rendering ----------------------------------------------------------------------------------

def render_table(cols: list[Col], rows: list[list[str]], *, title: str | None = None,
                 footer: Sequence[str] = ()) -> None:
    """A catalog table fitted to the terminal (``tables.print_table``), then its footer lines
    (legend and numbered sources), wrapped."""
    con = out_console()
    print_table(con, cols, rows, title=title)
    for line in footer:
        print_lines(con, line)


def _num(x: float | None, fmt: str = "{:,.0f}") -> str:
    return "-" if x is None else fmt.format(x)


def _human(n: float) -> str:
    """Parameters: 8.03B, 405.9B, 1.24B, 671.0B."""
    return f"{n / 1e12:.2f}T" if n >= 1e12 else f"{n / 1e9:.2f}B" if n < 100e9 else f"{n / 1e9:.1f}B"


# ---- models -------------------------------------------------------------------------------------

def models(
    names: Annotated[list[str] | None, typer.Argument(
        help="Show these in detail: catalog names, config.json or TOML paths, or hf:ORG/NAME.")] = None,
    json_out: JSON = False,
) -> None:
    """List the model architectures truecost knows (or detail the ones named)."""
    shown = [catalog.model(n) for n in names] if names else list(catalog.models().values())
    if json_out:
        print_json([model_dict(m) for m in shown])
    elif names:
        for m in shown:
            _model_detail(m)
    else:
        _models_table(shown)


def model_dict(m: ModelArch) -> dict[str, Any]:
    """Every field of the entry plus the derived figures the table shows."""
    p = m.params
    return m.model_dump(mode="json") | {
        "params_total": m.params_total, "params_active": m.params_active,
        "params_breakdown": p.model_dump(), "kv_bytes_per_token_bf16": m.kv_bytes_per_token(2),
        "attention": _attention(m)}


def _attention(m: ModelArch) -> str:
    kind = "MLA" if m.mla else "MHA" if m.kv_heads == m.heads else f"GQA {m.heads}/{m.kv_heads}"
    if m.sliding_window and m.global_layers < m.layers:
        kind += f" SWA{m.sliding_window}"
    return kind


def _models_table(ms: list[ModelArch]) -> None:
    src = Sources()
    cols = [Col("model", 0, "left"), Col("params"), Col("active"), Col("layers", 5),
            Col("attention", 2, "left"), Col("context", 3), Col("KV/token", 4), Col("src")]
    rows = [[m.key, _human(m.params_total), _human(m.params_active) if m.moe else "=",
             str(m.layers), _attention(m), f"{m.max_context // 1024}k",
             f"{m.kv_bytes_per_token(2) / 1024:,.0f} KiB", src.ref(f"{m.source} ({m.retrieved})")]
            for m in ms]
    render_table(cols, rows, footer=[
        "params: derived from the architecture (tests/unit/test_arch.py checks them against "
        "published counts); active '=': dense, every parameter active; KV/token: bf16 cache "
        "while within any window; detail: truecost models NAME", *src.lines()])


def _model_detail(m: ModelArch) -> None:
    p = m.params
    rows = [
        ("model", m.key), ("name", m.name), ("Hugging Face id", m.hf_id or "-"),
        ("params total", f"{m.params_total:,}"), ("params active", f"{m.params_active:,}"),
        *((f"  {k}", f"{v:,}") for k, v in p.model_dump().items() if v),
        ("layers x width", f"{m.layers} x {m.d_model} (MLP {m.d_ff}, {m.mlp})"),
        ("attention", f"{_attention(m)}, {m.heads} heads x {m.head_dim}"),
        ("experts", f"{m.moe.experts} ({m.moe.active_experts} active, {m.moe.shared_experts} "
                    f"shared, {m.moe.dense_layers} dense layers)" if m.moe else "-"),
        ("vocabulary", f"{m.vocab:,} ({'tied' if m.tied_embeddings else 'untied'} embeddings)"),
        ("context", f"{m.max_context:,}"),
        ("KV per token", f"{m.kv_bytes_per_token(2):,.0f} B (bf16)"),
        ("native dtype", m.native_dtype),
        ("source", f"{m.source} ({m.retrieved})"),
    ]
    if m.published_params_total:
        rows.append(("published", f"{m.published_params_total:,} ({m.params_source})"))
    print_table(out_console(), [Col("field", 0, "left"), Col("value", 1, "left", wrap=True)], rows)


# ---- GPUs ---------------------------------------------------------------------------------------

def gpus(json_out: JSON = False) -> None:
    """List the GPUs (and TPUs) truecost knows: peaks, memory, power, prices, sources."""
    gs = list(catalog.gpus().values())
    if json_out:
        print_json([g.model_dump(mode="json") for g in gs])
    else:
        _gpus_table(gs)


def _tf(g: GPU, dtype: str) -> str:
    return _num(g.dense_tflops.get(dtype) or (g.dense_tflops.get("fp16") if dtype == "bf16" else None))


def _gpus_table(gs: list[GPU]) -> None:
    src = Sources()
    cols = [Col("gpu", 0, "left"), Col("GiB"), Col("TB/s", 6), Col("bf16"), Col("fp8", 5),
            Col("fp4", 7), Col("TDP W", 4), Col("$/h"), Col("reserved", 3), Col("src")]
    rows = []
    for g in gs:
        reserved = (f"${g.usd_per_gpu_hour_reserved:.2f} ({g.reserved_term_years:g}y)"
                    if g.usd_per_gpu_hour_reserved else "-")
        rows.append([g.key, f"{g.memory_gib:g}", f"{g.memory_tb_s:.2f}", _tf(g, "bf16"),
                     _tf(g, "fp8"), _tf(g, "fp4"), _num(g.tdp_w),
                     _num(g.usd_per_gpu_hour, "${:.2f}"), reserved,
                     src.ref(f"{g.source} ({g.retrieved})", f"price: {g.price_source} ({g.price_as_of})",
                             g.reserved_price_source or "")])
    render_table(cols, rows, footer=[
        "GiB: memory; TB/s: memory bandwidth; bf16/fp8/fp4: dense tensor peak, TFLOP/s; "
        "$/h: typical on-demand rent per GPU (TPU: per chip); reserved: committed-use $/h and "
        "term; '-': not published", *src.lines()])


# ---- offers -------------------------------------------------------------------------------------

def offers(
    provider: Annotated[str | None, typer.Option(help="Only this provider (openai, anthropic, ...).")] = None,
    search: Annotated[str | None, typer.Option(help="Only offers whose name contains this text.")] = None,
    json_out: JSON = False,
) -> None:
    """List the API offers truecost can price ($ per million tokens), from genai-prices."""
    found = prices.offers(provider, search)
    if json_out:
        print_json([{"key": o.key, "provider": o.provider, "model": o.model,
                     "usd_per_mtok_input": o.usd_per_mtok_input,
                     "usd_per_mtok_cached_input": o.usd_per_mtok_cached_input,
                     "usd_per_mtok_output": o.usd_per_mtok_output,
                     "batch_price": o.has_batch_price,
                     "provenance": str(o.provenance)} for o in found])
        return
    src = Sources()
    cols = [Col("offer", 0, "left", wrap=True), Col("$/1M in"), Col("cached", 3),
            Col("$/1M out"), Col("batch", 2, "left"), Col("src")]
    rows = [[o.key, usd(o.usd_per_mtok_input), usd(o.usd_per_mtok_cached_input),
             usd(o.usd_per_mtok_output), "yes" if o.has_batch_price else "-",
             src.ref(o.provenance.detail)] for o in found]
    render_table(cols, rows, footer=[
        f"{len(found)} offers; prices per million tokens, base tier; cached: cache-read input; "
        f"batch: a batch price exists", *src.lines()])


# ---- engines ------------------------------------------------------------------------------------

def engines(json_out: JSON = False) -> None:
    """List the engine profiles (efficiency terms), shipped and saved by `truecost calibrate`."""
    es = list(list_engines().values())
    if json_out:
        print_json([e.model_dump(mode="json") for e in es])
        return
    src = Sources()
    cols = [Col("engine", 0, "left"), Col("bf16 mm"), Col("fp8 mm", 4), Col("HBM"), Col("step"),
            Col("KV frac", 5), Col("admission", 6, "left"), Col("src", 1, "left", wrap=True)]
    rows = [[e.key, f"{e.matmul_efficiency('bf16'):.2f}", f"{e.matmul_efficiency('fp8'):.2f}",
             f"{e.memory_efficiency:.2f}",
             f"{e.step_overhead_fixed_s * 1e3:g}+{e.step_overhead_per_layer_s * 1e3:g}/L ms",
             f"{e.kv_memory_fraction:.2f}", e.kv_admission, src.ref(*_engine_sources(e))]
            for e in es]
    render_table(cols, rows, footer=[
        "mm: fraction of dense peak large matmuls reach; HBM: fraction of memory bandwidth; "
        "step: time per engine step, fixed + per layer (L layers); KV frac: share of free memory given to KV", *src.lines()])


def _engine_sources(e: EngineProfile) -> list[str]:
    """The profile's per-term sources when it carries them, else its one source; a calibrated
    profile's calibration record too."""
    per_term = {t: ks for t, ks in e.term_sources().items() if ks[0] != "unsourced"}
    texts = ([f"{e.key} {term}: {kind}: {text}" for term, (kind, text) in per_term.items()] if per_term
             else [f"{e.source} ({e.retrieved})"])
    return [*texts, f"calibration: {e.calibration}" if e.calibration else ""]
