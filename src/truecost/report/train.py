"""View of a ``TrainEstimate`` (``truecost train ... --json``): the final run against the
development effort around it (× the R&D multiplier), rented against owned GPUs, and energy and
CO2 — each figure as the estimate holds it, with its provenance on hover."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..cli.format import usd
from ..train import Figure as TrainFigure, TrainEstimate
from .chart import Axis, Bar, hbars, money, number
from .view import Column, Figure, Section, Table, tip, view

__all__ = ["TrainSubject"]


@dataclass(frozen=True, slots=True)
class TrainSubject:
    estimate: TrainEstimate
    command: str  # truecost train ... --json
    key: str


SMALL = 480  # px: the training charts are small multiples, two or three to a row


def _hours(v: float) -> str:
    return number(v)


# (to_dict key, label, unit for the axis, formatter)
_FIGURES: tuple[tuple[str, str, str, Callable[[float], str]], ...] = (
    ("usd_rent", "cost, rented", "USD", usd), ("usd_own", "cost, owned", "USD", usd),
    ("gpu_hours", "GPU-hours", "GPU-h", _hours), ("energy_mwh", "energy", "MWh", number),
    ("co2_t", "CO2", "tCO2e", number), ("flops", "FLOPs", "FLOP", lambda v: f"{v:.3g}"))


_TABLE_ONLY: dict[str, tuple[str, Callable[[float], str]]] = {
    "wall_clock_days": ("wall-clock", lambda v: f"{v:.3g}"),
    "flops_dense": ("FLOPs, 6·N·D", lambda v: f"{v:.3g}"),
    "flops_attention": ("FLOPs, attention", lambda v: f"{v:.3g}")}


def _bar(category: str, series: str, f: TrainFigure, fmt: Callable[[float], str]) -> Bar:
    return Bar(category, series, f.value, tip(f"{category}, {series}: {fmt(f.value)} {f.unit}",
                                               str(f.provenance)))


@view("train")
def train_breakdown(s: TrainSubject) -> Section:
    e = s.estimate
    final, rnd = e.final_run(), e.with_rnd()
    m = e.rnd_multiplier.value
    charts = []
    cost = [_bar(label, "final run", final[k], usd) for k, label, _, _ in _FIGURES[:2] if k in final]
    cost += [_bar(label, f"with R&D (x{m:.3g})", rnd[k], usd) for k, label, _, _ in _FIGURES[:2]
             if k in rnd]
    charts.append(hbars(cost, Axis("USD", fmt=money), title="Cost: rent vs own, final run vs R&D",
                        label_px=100, width=SMALL))
    for key, label, unit, fmt in _FIGURES[2:5]:
        if key in final:
            bars = [_bar(label, "final run", final[key], fmt),
                    _bar(label, f"with R&D (x{m:.3g})", rnd[key], fmt)]
            charts.append(hbars(bars, Axis(unit, fmt=number), title=f"{label} ({unit})",
                                label_px=100, width=SMALL))
    if e.usd_own_breakdown:
        own = [Bar(term, "owned, final run", v, tip(f"owned cost, {term}: {usd(v)}",
                                                       str(e.usd_per_gpu_hour_own.provenance)
                                                       if e.usd_per_gpu_hour_own else None))
               for term, v in e.usd_own_breakdown.items()]
        charts.append(hbars(own, Axis("USD", fmt=money), title="Owned cost by term (final run)",
                            label_px=100, colors={"owned, final run": 2}, width=SMALL))
    rows = []
    labels = {k: (label, fmt) for k, label, _, fmt in _FIGURES} | _TABLE_ONLY
    for key, f in final.items():  # every figure of the final run, in the estimate's order
        label, fmt = labels.get(key, (key, number))
        rows.append({"_id": key, "_tip": tip(f"final run: {f.provenance}",
                                             f"with R&D: {rnd[key].provenance}" if key in rnd else None),
                     "figure": label, "unit": f.unit, "final_run": f.value, "final_run#text": fmt(f.value),
                     "with_rnd": rnd[key].value if key in rnd else None,
                     "with_rnd#text": fmt(rnd[key].value) if key in rnd else None})
    # rows are figures (keys of the JSON's final_run / with_rnd), columns the two totals
    table = Table((Column("figure", "figure", numeric=False), Column("unit", "unit", numeric=False),
                   Column("final_run", "final run"), Column("with_rnd", f"with R&D (x{m:.3g})")),
                  tuple(rows))
    c = e.compute
    where = f"{e.gpus:,} x {e.gpu}" if e.gpus else e.gpu
    return Section(
        key=f"{s.key}-train", title=f"Training cost: {c.model}, {number(c.tokens.value)} tokens on {where}",
        intro=(f"The final run and the development effort around it (x{m:.3g}, "
               f"{e.rnd_multiplier.provenance}); rented at {usd(e.usd_per_gpu_hour_rent.value)}/GPU-h "
               + (f"vs owned at {usd(e.usd_per_gpu_hour_own.value)}/GPU-h" if e.usd_per_gpu_hour_own
                  else "(no owned cost: the GPU is not sold or has no published power)")
               + f"; MFU {e.mfu.value:.3g}. Hover a bar or a row for where each figure came from."),
        figures=(Figure(tuple(charts), table),), sources=((s.command, e.to_dict()),),
        notes=(f"R&D multiplier: {e.rnd_note}",) if e.rnd_note else ())
