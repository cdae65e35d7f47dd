"""`truecost train`: what a training run costs, R&D included, and three helpers
(`chinchilla`, `implied-mfu`, `trend`). A thin client of ``truecost.train``: parse, call, render.
Defaults live on the API functions; an option left out is not passed on."""

from __future__ import annotations

import inspect

import json
import math
from dataclasses import fields, is_dataclass
from enum import Enum
from typing import Annotated, Any

import typer

from .. import train as api
from ..consortium import consortium as run_consortium
from ..cost import PriceBasis
from ..errors import InputError
from ..provenance import Provenance
from ..train import Figure, TrainPrecision
from .tables import Col, OutputFormat, output_format, print_csv, print_lines, print_table
from .output import out_console, print_json
from .shared_compute import render_consortium

train_app = typer.Typer(
    help="What a training run costs (FLOPs, GPU-hours, days, $, energy, CO2), R&D included.",
    invoke_without_command=True, no_args_is_help=True)

# the API owns the defaults; help only quotes them (read from the signature, which survives
# wrappers such as mutmut's trampolines, where __kwdefaults__ does not)
_DEFAULTS = {k: p.default for k, p in inspect.signature(api.train_cost).parameters.items()}


def _opt(help: str, *decls: str) -> Any:
    return typer.Option(*decls, help=help)


ModelOpt = Annotated[str | None, _opt("Catalog model (e.g. llama-3.1-70b) or TOML.")]
ParamsOpt = Annotated[float | None, _opt("Total parameters, instead of --model.")]
ActiveOpt = Annotated[float | None, _opt("Active parameters (MoE); default = --params-total.")]
TokensOpt = Annotated[float | None, _opt("Training tokens, e.g. 15e12.")]
GpuOpt = Annotated[str | None, _opt(f"GPU type (default: {_DEFAULTS['gpu']}).")]
PrecisionOpt = Annotated[TrainPrecision | None,
                         _opt(f"Matmul precision (default: {_DEFAULTS['precision']}).")]
SeqOpt = Annotated[int | None, _opt("Sequence length; with --model adds the attention term.")]
JsonOpt = Annotated[bool, _opt("JSON on stdout instead of a table.", "--json")]
FormatOpt = Annotated[OutputFormat | None, _opt("table (default), json, or csv: one row per "
                                                "figure.", "--format")]
# "(default: ...)" below quotes catalog/training.toml, where those defaults live.
MfuOpt = Annotated[float | None, _opt("Model FLOPs utilisation in (0, 1] (default: the "
                                      "published run for the GPU and precision).")]
BasisOpt = Annotated[PriceBasis | None,
                     _opt(f"Headline price basis (default: {_DEFAULTS['basis']}).")]
RentOpt = Annotated[float | None, _opt("Rent $/GPU-hour (default: GPU catalog).")]
GridOpt = Annotated[str | None, _opt("tCO2e/MWh, or us-average (default), meta-llama-2, "
                                     "meta-llama-3-1.")]
RndOpt = Annotated[str | None, _opt("Number from 1 to 1000, or ai2-olmo3 (default), epoch-low, epoch-high, "
                                    "final-only.")]


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")


@train_app.callback()
def train(
    ctx: typer.Context, model: ModelOpt = None, params_total: ParamsOpt = None,
    params_active: ActiveOpt = None, tokens: TokensOpt = None, gpu: GpuOpt = None,
    gpus: Annotated[int | None, _opt("GPU count (sets the wall-clock).")] = None,
    mfu: MfuOpt = None, precision: PrecisionOpt = None, basis: BasisOpt = None,
    usd_per_gpu_hour: RentOpt = None,
    usd_per_kwh: Annotated[float | None, _opt("Electricity $/kWh.")] = None,
    pue: Annotated[float | None, _opt("Data-centre PUE (>= 1).")] = None,
    grid: GridOpt = None, rnd_multiplier: RndOpt = None, seq_len: SeqOpt = None,
    consortium: Annotated[int | None, _opt("Labs that each train their own final model and share "
                                           "R&D: print a member's cost vs going alone.")] = None,
    shared_rnd: Annotated[str | None, _opt("With --consortium: fraction of R&D shared, or half "
                                           "(default, 0.5), research-only, open-flow.")] = None,
    budget: Annotated[float | None, _opt("With --consortium: a member's budget, USD (gives the "
                                         "break-even number of labs).")] = None,
    fmt: FormatOpt = None, json_out: JsonOpt = False,
) -> None:
    """Estimate a training run, e.g. --model llama-3.1-70b --tokens 15e12 --gpus 16384."""
    if ctx.invoked_subcommand:
        return
    out = output_format(fmt, json_out)
    if tokens is None:
        raise InputError("give the training tokens with --tokens (e.g. --tokens 15e12)")
    kwargs = _given(params_total=params_total, params_active=params_active, gpu=gpu, gpus=gpus, mfu=mfu,
                    precision=precision, basis=basis, usd_per_gpu_hour=usd_per_gpu_hour,
                    usd_per_kwh=usd_per_kwh, pue=pue, grid=_number_or_name(grid),
                    rnd_multiplier=_number_or_name(rnd_multiplier), seq_len=seq_len)
    if consortium is not None or shared_rnd is not None or budget is not None:
        if consortium is None:
            raise InputError("--shared-rnd and --budget go with --consortium N (the number of labs)")
        c = run_consortium(consortium, shared_rnd=_number_or_name(shared_rnd), budget_usd=budget,
                           model=model, tokens=tokens, **kwargs)
        print_json(c.to_dict()) if out is OutputFormat.json else render_consortium(c)
        return
    est = api.train_cost(model, tokens=tokens, **kwargs)
    if out is OutputFormat.json:
        print(json.dumps(est.to_dict(), indent=2))
    elif out is OutputFormat.csv:
        d = est.to_dict()
        print_csv([{"section": section, "figure": key, **fig}
                   for section in ("assumptions", "final_run", "with_rnd")
                   for key, fig in d[section].items()])
    else:
        _render_estimate(est)


@train_app.command("chinchilla")
def chinchilla(
    compute_flops: Annotated[float, _opt("Compute budget, FLOPs (e.g. 1e24).")],
    tokens_per_param: Annotated[float | None, _opt("Tokens per parameter (default: 20, "
                                                   "Hoffmann et al. 2022).")] = None,
    fmt: FormatOpt = None, json_out: JsonOpt = False,
) -> None:
    """Compute-optimal parameters and tokens for a FLOPs budget (Chinchilla)."""
    p = api.chinchilla_tokens(compute_flops, **_given(tokens_per_param=tokens_per_param))
    rows = [("compute", f"{_sci(p.flops)} FLOP", "input:given"),
            ("parameters", _human(p.params), "modelled:sqrt(C / (6 · r))"),
            ("tokens", _human(p.tokens), "modelled:r · N"),
            ("tokens per parameter r", f"{p.tokens_per_param.value:g}", str(p.tokens_per_param.provenance))]
    _emit(p, output_format(fmt, json_out), "Chinchilla-optimal split", rows)


@train_app.command("implied-mfu")
def implied_mfu(
    gpu_hours: Annotated[float, typer.Option(help="Reported GPU-hours.")],
    tokens: Annotated[float, typer.Option(help="Training tokens.")],
    model: ModelOpt = None, params_total: ParamsOpt = None, params_active: ActiveOpt = None,
    gpu: GpuOpt = None, precision: PrecisionOpt = None, seq_len: SeqOpt = None,
    fmt: FormatOpt = None, json_out: JsonOpt = False,
) -> None:
    """The MFU that a reported GPU-hours figure implies."""
    r = api.implied_mfu(gpu_hours, model, tokens=tokens, **_given(
        params_total=params_total, params_active=params_active, gpu=gpu, precision=precision,
        seq_len=seq_len))
    rows = [("implied MFU", f"{r.mfu:.3f}", "modelled:FLOPs / (GPU-hours · 3600 · peak)"),
            ("FLOPs", _sci(r.flops.value), str(r.flops.provenance)),
            ("GPU-hours", _human(r.gpu_hours), "input:given"),
            ("peak per GPU", _fmt(r.peak_flops_per_gpu), str(r.peak_flops_per_gpu.provenance))]
    _emit(r, output_format(fmt, json_out), "Implied MFU", rows)


@train_app.command("trend")
def trend(
    base_usd: Annotated[float, _opt("Frontier training cost in the base year, USD.")],
    base_year: Annotated[int, _opt("Base year.")],
    to_year: Annotated[int, _opt("Last year to project.")],
    growth: Annotated[str | None, _opt("x/year, or epoch-cost (2.4x, default).")] = None,
    base_flops: Annotated[float | None, _opt("Base-year training FLOPs, to project compute "
                                             "too.")] = None,
    compute_growth: Annotated[str | None,
                              _opt("x/year, or epoch-compute (4.5x, default).")] = None,
    fmt: FormatOpt = None, json_out: JsonOpt = False,
) -> None:
    """Project frontier training cost forward at a growth rate (a scenario, not a forecast)."""
    t = api.trend(base_usd, base_year, to_year, **_given(
        growth=_number_or_name(growth), base_flops=base_flops,
        compute_growth=_number_or_name(compute_growth)))
    out = output_format(fmt, json_out)
    if out is not OutputFormat.table:
        d = _plain(t)
        print(json.dumps(d, indent=2)) if out is OutputFormat.json else print_csv(d["points"])
        return
    compute = t.flops_growth_per_year is not None
    console = out_console()
    print_table(console, [Col("year", 0, "left"), Col("training cost", 0),
                          *([Col("training FLOPs", 0)] if compute else [])],
                [[str(p.year), _usd(p.usd), *([_sci(p.flops)] if compute else [])]
                 for p in t.points], title="Trend scenario")
    for label, g in (("cost", t.usd_growth_per_year), ("compute", t.flops_growth_per_year)):
        if g is not None:
            print_lines(console, f"assumption: {label} grows {g.value:g}x/year ({g.provenance})")


# ---- rendering -----------------------------------------------------------------------------------

_LABELS = {
    "params_total": "parameters (total)", "params_active": "parameters (active)",
    "tokens": "training tokens", "mfu": "MFU", "peak_flops_per_gpu": "peak per GPU",
    "usd_per_gpu_hour_rent": "rent", "usd_per_gpu_hour_own": "own (amortised)",
    "usd_per_kwh": "electricity", "pue": "PUE", "power_fraction_of_tdp": "GPU power / TDP",
    "life_years": "amortisation life", "server_share": "servers / GPU capex",
    "network_share": "network / GPU capex", "t_co2e_per_mwh": "grid intensity",
    "rnd_multiplier": "R&D multiplier", "flops_dense": "FLOPs, 6·N·D",
    "flops_attention": "FLOPs, attention", "flops": "FLOPs, total", "gpu_hours": "GPU-hours",
    "wall_clock_days": "wall-clock", "usd_rent": "cost, rented", "usd_own": "cost, owned",
    "energy_mwh": "energy", "co2_t": "CO2",
}


def _render_estimate(est: api.TrainEstimate) -> None:
    c, m = est.compute, est.rnd_multiplier.value
    on = f"{est.gpus:,} x {est.gpu}" if est.gpus else est.gpu
    console = out_console()
    print_table(console, [Col("assumption", 0, "left", wrap=True), Col("value", 0, "left"),
                          Col("source", 1, "left", wrap=True)],
                [[_LABELS[key], _fmt(f), str(f.provenance)] for key, f in est.assumptions().items()],
                title=f"truecost train: {c.model}, {_human(c.tokens.value)} tokens on {on}, "
                      f"{est.precision.value}")
    console.print()
    dev = est.with_rnd()
    print_table(console, [Col("result", 0, "left", wrap=True), Col("final run", 0, "left"),
                          Col(f"with R&D (x{m:.2f})", 1, "left"), Col("how", 2, "left", wrap=True)],
                [[_LABELS[key], _fmt(f), _fmt(dev[key]) if key in dev else "", str(f.provenance)]
                 for key, f in est.final_run().items()])
    console.print()
    if c.attention is None:
        lines = ["attention term: not counted (give --seq-len with a catalog --model)"]
    else:
        verdict = "material" if c.attention_material else "not material"
        lines = [f"attention term: +{c.attention_share:.1%} of 6·N·D at S={c.seq_len} "
                 f"({verdict}; threshold {api.ATTENTION_MATERIAL_SHARE:.0%}), included"]
    lines += [f"R&D multiplier x{m:.2f} = development compute / final-run compute: {est.rnd_note}",
              f"headline ({est.basis.value}): {_usd(est.usd.value)} final run, "
              f"{_usd(est.usd.value * m)} with R&D"]
    for line in lines:
        print_lines(console, line)


def _emit(obj: Any, fmt: OutputFormat, title: str, rows: list[tuple[str, str, str]]) -> None:
    if fmt is OutputFormat.json:
        print(json.dumps(_plain(obj), indent=2))
    elif fmt is OutputFormat.csv:
        print_csv([_plain(obj)])
    else:
        print_table(out_console(), [Col("figure", 0, "left"), Col("value", 0, "left"),
                                 Col("source", 1, "left", wrap=True)], rows, title=title)


def _fmt(f: Figure) -> str:
    v, u = f.value, f.unit
    by_unit = {
        "params": lambda: _human(v), "tokens": lambda: _human(v), "FLOP": lambda: _sci(v),
        "FLOP/s": lambda: f"{v / 1e12:,.1f} TFLOP/s", "fraction": lambda: f"{v:.3g}",
        "USD/GPU-h": lambda: f"${v:.2f}/GPU-h", "USD/kWh": lambda: f"${v:.3f}/kWh",
        "ratio": lambda: f"{v:.2f}", "years": lambda: f"{v:g} years",
        "tCO2e/MWh": lambda: f"{v:.4g} t/MWh", "x": lambda: f"{v:.2f}x",
        "GPU-h": lambda: _human(v), "days": lambda: f"{v:,.1f} days", "USD": lambda: _usd(v),
        "MWh": lambda: f"{v:,.0f} MWh", "tCO2e": lambda: f"{v:,.0f} t",
    }
    return by_unit[u]() if u in by_unit else f"{v:g} {u}"


def _human(v: float) -> str:
    """Three significant figures with a T/B/M/k suffix: 25.0M, 4.46M, 989k."""
    scale, suffix = next(((s, x) for s, x in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))
                          if abs(v) >= s), (1.0, ""))
    x = v / scale
    decimals = max(0, 2 - math.floor(math.log10(abs(x)))) if x else 0
    return f"{x:.{decimals}f}{suffix}"


def _usd(v: float) -> str:
    return "$" + _human(v)


def _sci(v: float) -> str:
    mantissa, exp = f"{v:.2e}".split("e")
    return f"{mantissa}e{int(exp)}"


# ---- parsing helpers ---------------------------------------------------------------------------

def _given(**kwargs: Any) -> dict[str, Any]:
    """The options the user gave; the rest keep the API's defaults."""
    return {k: v for k, v in kwargs.items() if v is not None}


def _number_or_name(value: str | None) -> float | str | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return value


def _plain(o: Any) -> Any:
    if isinstance(o, Provenance):
        return str(o)
    if is_dataclass(o) and not isinstance(o, type):
        return {f.name: _plain(getattr(o, f.name)) for f in fields(o)}
    if isinstance(o, (list, tuple)):
        return [_plain(v) for v in o]
    if isinstance(o, Enum):
        return o.value
    return o
