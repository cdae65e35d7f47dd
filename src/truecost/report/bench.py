"""Views of a benchmark run (``BenchResult``, as ``truecost runs show RUN_ID --json`` prints it):
throughput vs latency with the performance model's prediction overlaid, and latency
distributions (CDFs of TTFT and ITL) per operating point.

Measured figures are the run's summaries. Predictions are ``truecost.estimate`` results for the
same model, GPU, GPU count and measured token counts at each point's load (the concurrency of a
closed-loop point, the rate of an open-loop one), made by the report's caller, one series per
engine profile (the default, and a calibrated one when it exists). The CDFs are drawn from each
request's TTFT and ITL over the point's measured window, the same per-request values
``bench.metrics`` summarises; the markers on them are the summary's percentiles, and beside them
(hollow) the percentiles of the prediction's serving simulation at the same load (``estimate
--concurrency``/``--rate`` simulates), so measured and modelled tails meet on one chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..bench import BenchResult, RequestRecord
from ..bench.metrics import Distribution, itl, measured, ttft
from ..cli.format import seconds
from ..perf.serving import Estimate
from .chart import Axis, Mark, Series, xy
from .view import Column, Figure, Section, Table, tip, view

__all__ = ["BenchSubject", "Prediction", "latencies", "CDF_POINTS"]

HALF = 580  # px: two charts side by side on a laptop screen
CDF_POINTS = 400  # most vertices one CDF line gets (evenly spaced ranks); hover uses percentiles


@dataclass(frozen=True, slots=True)
class Prediction:
    """The performance model's figures at each operating point, with one engine profile."""

    name: str  # legend, e.g. "model, engine 'tuned'"
    short: str  # table header, e.g. "tuned"
    estimates: dict[int, Estimate]  # operating point index -> estimate at its load
    commands: dict[int, str]  # operating point index -> the `truecost estimate ... --json` of it


@dataclass(frozen=True, slots=True)
class BenchSubject:
    result: BenchResult
    command: str  # truecost runs show RUN_ID --json
    key: str
    # point index -> (TTFT values, ITL values) of its measured successful requests, in seconds;
    # None when the raw requests are not at hand (a result not from the store)
    latencies: dict[int, tuple[list[float], list[float]]] | None = None
    predictions: tuple[Prediction, ...] = ()
    notes: tuple[str, ...] = ()


def latencies(result: BenchResult, records: Sequence[RequestRecord]
              ) -> dict[int, tuple[list[float], list[float]]]:
    """Per point, the TTFT and ITL of each successful request in its measured window (warm-up
    and drain left out, as in the point's summary)."""
    by_point: dict[int, list[RequestRecord]] = {}
    for r in records:
        by_point.setdefault(r.point, []).append(r)
    out = {}
    for p in result.points:
        ok = [r for r in measured(by_point.get(p.index, []), p.warmup, p.drain) if r.ok]
        out[p.index] = ([v for r in ok if (v := ttft(r)) is not None],
                        [v for r in ok if (v := itl(r)) is not None])
    return out


def _ms(x: float) -> str:
    return f"{x * 1e3:.3g}"


def _tps(x: float | None) -> str:
    return "-" if x is None else f"{x:,.1f}"


def _get(d: Any, path: str) -> Any:
    for part in path.split("."):
        d = getattr(d, part) if d is not None else None
    return d


_MEASURED = (("summary.output_token_throughput", "out tok/s", _tps),
             ("summary.request_throughput", "req/s", lambda x: f"{x:.3g}"),
             ("summary.ttft.p50", "TTFT p50", seconds), ("summary.ttft.p95", "TTFT p95", seconds),
             ("summary.tpot.p50", "TPOT p50", seconds))
_PREDICTED = (("output_tokens_per_s", "out tok/s", _tps), ("ttft_s", "TTFT", seconds),
              ("tpot_s", "TPOT", seconds))


def _run_name(r: BenchResult) -> str:
    return f"{r.model} at {r.url} ({r.run_id or 'not stored'})"


@view("bench")
def throughput_latency(s: BenchSubject) -> Section | None:
    r = s.result
    pts = [p for p in r.points if p.summary.output_token_throughput]
    if not pts:
        return None

    def measured_series(name: str, y: str, color: int) -> Series:
        marks = tuple(Mark(p.summary.output_token_throughput, _get(p, y) * 1e3, tip(  # type: ignore[arg-type]
            f"{p.label}: {_tps(p.summary.output_token_throughput)} out tok/s, {name} "
            f"{seconds(_get(p, y))}", f"{p.summary.ok}/{p.summary.requests} ok", str(r.provenance)))
            for p in pts if _get(p, y) is not None)
        return Series(name, marks, color=color)

    def predicted_series(pr: Prediction, attr: str, label: str, color: int) -> Series:
        marks = []
        for p in pts:
            e = pr.estimates.get(p.index)
            if e is None or getattr(e, attr) is None:
                continue
            marks.append(Mark(e.output_tokens_per_s, getattr(e, attr) * 1e3, tip(
                f"{p.label}: {_tps(e.output_tokens_per_s)} out tok/s, {label} "
                f"{seconds(getattr(e, attr))} (concurrency {e.concurrency:.3g})", str(e.provenance))))
        return Series(f"{label}, {pr.name}", tuple(marks), dashed=True, color=color)

    ttft_series = [measured_series("TTFT p50", "summary.ttft.p50", 0),
                   measured_series("TTFT p95", "summary.ttft.p95", 5)]
    tpot_series = [measured_series("TPOT p50", "summary.tpot.p50", 0)]
    for i, pr in enumerate(s.predictions):
        ttft_series.append(predicted_series(pr, "ttft_s", "TTFT", 1 + 2 * i))
        tpot_series.append(predicted_series(pr, "tpot_s", "TPOT", 1 + 2 * i))
    x = Axis("output throughput (tokens/s)")
    figs = [xy(ttft_series, x, Axis("TTFT (ms)", fmt=lambda v: f"{v:g}"),
               title="TTFT vs output throughput", width=HALF),
            xy(tpot_series, x, Axis("TPOT (ms)", fmt=lambda v: f"{v:g}"),
               title="TPOT vs output throughput", width=HALF)]
    cols = [Column("label", "load", numeric=False)] + [Column(k, f"{lab}", f) for k, lab, f in _MEASURED]
    for i, pr in enumerate(s.predictions):
        cols += [Column(f"prediction[{i}].{k}", f"{lab} ({pr.short})", f) for k, lab, f in _PREDICTED]
    rows = []
    for p in pts:
        row: dict[str, Any] = {"_id": p.label, "_tip": tip(f"{p.label}: {str(r.provenance)}", *(
            f"{pr.name}: {pr.estimates[p.index].provenance}" for pr in s.predictions
            if p.index in pr.estimates)), "label": p.label}
        row |= {k: _get(p, k) for k, _, _ in _MEASURED}
        for i, pr in enumerate(s.predictions):
            e = pr.estimates.get(p.index)
            row |= {f"prediction[{i}].{k}": getattr(e, k) if e else None for k, _, _ in _PREDICTED}
        rows.append(row)
    table = Table(tuple(cols), tuple(rows))
    sources = [(s.command, r.to_dict())]
    sources += [(pr.commands[k], e.to_dict()) for pr in s.predictions
                for k, e in pr.estimates.items()]
    return Section(
        key=f"{s.key}-throughput", title=f"Throughput vs latency: {_run_name(r)}",
        intro=("Measured (solid) at each operating point of the run; the performance model's "
               "prediction for the same model, GPU and measured token counts at the same load "
               "(dashed, hollow). Hover a point for its load and provenance."),
        figures=(Figure(tuple(figs), table),),
        sources=tuple(sources), notes=s.notes)


def _cdf(values: list[float], name: str, color: int) -> Series:
    v = sorted(values)
    n = len(v)
    step = max(1, n // CDF_POINTS)
    idx = sorted(set(range(0, n, step)) | {n - 1})
    line = [Mark(v[0] * 1e3, 0.0, "")] + [Mark(v[i] * 1e3, (i + 1) / n, "") for i in idx]
    return Series(name, tuple(line), step=True, dots=False, color=color)


def _percentile_marks(dist: Distribution, name: str, color: int) -> Series:
    marks = tuple(Mark(getattr(dist, f"p{q}") * 1e3, q / 100,
                       f"p{q} {seconds(getattr(dist, f'p{q}'))} (n={dist.n})")
                  for q in (50, 90, 95, 99) if getattr(dist, f"p{q}") is not None)
    return Series(name, marks, line=False, color=color, legend=False)


@view("bench")
def latency_cdfs(s: BenchSubject) -> Section | None:
    if s.latencies is None:
        return None
    r = s.result
    pts = [p for p in r.points if s.latencies.get(p.index, ([], []))[0]]
    if not pts:
        return None
    figs = []
    for metric, which in (("TTFT", 0), ("ITL", 1)):
        series = []
        for i, p in enumerate(pts):
            values = s.latencies[p.index][which]
            dist = p.summary.ttft if which == 0 else p.summary.itl
            if values:
                series.append(_cdf(values, p.label, i))
                series.append(_percentile_marks(dist, p.label, i))
            for pr in s.predictions:
                e = pr.estimates.get(p.index)
                if e is not None and e.simulation is not None:
                    sim = e.simulation.ttft if which == 0 else e.simulation.itl
                    series.append(_simulated_marks(sim, f"{p.label}, {pr.name}, simulated", i, e))
        figs.append(xy(series, Axis(f"{metric} (ms)", fmt=lambda v: f"{v:g}"),
                       Axis("fraction of requests", lo=0, hi=1, fmt=lambda v: f"{v:.0%}"),
                       title=f"{metric}: cumulative distribution per operating point", width=HALF))
    cols = [Column("label", "load", numeric=False), Column("summary.ttft.n", "n", str)]
    for m in ("ttft", "itl"):
        cols += [Column(f"summary.{m}.p{q}", f"{m.upper()} p{q}", seconds) for q in (50, 90, 95, 99)]
    simulated = [i for i, pr in enumerate(s.predictions) if any(e.simulation for e in pr.estimates.values())]
    for i in simulated:  # the prediction's simulated tail, keyed as `estimate --json` names it
        cols += [Column(f"prediction[{i}].simulation.{m}.p{q}", f"{m.upper()} p{q} (sim, {s.predictions[i].short})",
                        seconds) for m, q in _SIMULATED]
    rows = []
    for p in pts:
        row: dict[str, Any] = {"_id": p.label, "label": p.label, "_tip": tip(f"{p.label}: {r.provenance}", *(
            f"{pr.name}: {pr.estimates[p.index].simulation.provenance}" for pr in s.predictions  # type: ignore[union-attr]
            if p.index in pr.estimates and pr.estimates[p.index].simulation))}
        row |= {c.key: _get(p, c.key) for c in cols[1:] if not c.key.startswith("prediction[")}
        for i in simulated:
            e = s.predictions[i].estimates.get(p.index)
            sim = e.simulation if e is not None else None
            row |= {f"prediction[{i}].simulation.{m}.p{q}": getattr(getattr(sim, m), f"p{q}") if sim else None
                    for m, q in _SIMULATED}
        rows.append(row)
    table = Table(tuple(cols), tuple(rows))
    sources = [(s.command, r.to_dict())]
    sources += [(pr.commands[k], e.to_dict()) for i in simulated for pr in (s.predictions[i],)
                for k, e in pr.estimates.items()]
    return Section(
        key=f"{s.key}-latency", title=f"Latency distributions: {_run_name(r)}",
        intro=("Share of requests whose TTFT (time to first token) or ITL (mean inter-token "
               "latency of the request) is at most x, per operating point, over its measured "
               "window; the dots are the run's p50, p90, p95 and p99"
               + ("; the hollow dots are the percentiles of the performance model's serving simulation "
                  "at the same load (its ITL: every token's gap)." if simulated else ".")),
        figures=(Figure(tuple(figs), table),),
        sources=tuple(sources))


_SIMULATED = (("ttft", 50), ("ttft", 95), ("ttft", 99), ("itl", 50))  # (metric, percentile) in the table


def _simulated_marks(dist: Any, name: str, color: int, e: Estimate) -> Series:
    """The simulation's percentiles of one metric as hollow dots at (value, q)."""
    marks = tuple(Mark(getattr(dist, f"p{q}") * 1e3, q / 100,
                       tip(f"p{q} {seconds(getattr(dist, f'p{q}'))} simulated (n={dist.n})",
                           str(e.simulation.provenance) if e.simulation else None))
                  for q in (50, 90, 95, 99) if getattr(dist, f"p{q}") is not None)
    return Series(name, marks, line=False, dashed=True, color=color, legend=False)
