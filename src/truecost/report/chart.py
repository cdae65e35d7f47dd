"""Small SVG charts for the HTML report, written by hand: scatter/line charts (linear or log
axes, step lines for CDFs) and horizontal bar charts (grouped, negative values allowed).

Why not a plotting library: the report must be one self-contained file that loads nothing, and
these few chart kinds are ~300 lines of deterministic Python that tests can read. Every chart has
axes with units, a legend, and one ``data-tip`` per data mark (what the page's script shows on
hover: the value and where it came from). Left out: zoom, pan, animation.

    >>> svg = xy([Series("measured", (Mark(1, 2, "c=1"), Mark(2, 3, "c=2")))],
    ...          Axis("output tokens/s"), Axis("TTFT (ms)"), title="TTFT vs throughput")
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["Axis", "Bar", "Mark", "Series", "hbars", "log_ticks", "money", "nice_ticks", "number", "xy"]

# Okabe & Ito's colour-blind-safe palette (Color Universal Design, 2008), yellow left out
# (too pale on white).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
WIDTH = 720  # px; charts scale down with the page (viewBox)
MARGIN = {"left": 78, "right": 16, "top": 28, "bottom": 48}
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def number(v: float) -> str:
    """A tick label: 3 significant figures, thousands separated, k/M/B past a million."""
    if v == 0:
        return "0"
    a = abs(v)
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if a >= scale:
            return f"{v / scale:.3g}{suffix}"
    if a >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def money(v: float) -> str:
    """A tick label in USD: $0.002, $1.5, $20M."""
    if v == 0:
        return "$0"
    sign = "-" if v < 0 else ""
    return f"{sign}${number(abs(v))}" if abs(v) >= 1000 else f"{sign}${abs(v):.3g}"


@dataclass(frozen=True, slots=True)
class Axis:
    label: str  # with its unit, e.g. "TTFT (ms)"
    log: bool = False
    fmt: Callable[[float], str] = number
    lo: float | None = None  # fixed domain ends (None: from the data)
    hi: float | None = None


@dataclass(frozen=True, slots=True)
class Mark:
    """One data point and what hovering over it shows."""

    x: float
    y: float
    tip: str


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    marks: tuple[Mark, ...]
    line: bool = True  # join the marks (in the given order)
    dashed: bool = False
    step: bool = False  # a staircase (a CDF) instead of straight segments
    dots: bool = True  # draw a hoverable dot at each mark
    color: int | None = None  # palette index; default: the series' position
    legend: bool = True  # False: shares the legend entry of a series drawn in the same colour


@dataclass(frozen=True, slots=True)
class Bar:
    category: str
    series: str
    value: float
    tip: str
    interval: tuple[float, float] | None = None  # drawn as a whisker (e.g. a 95% interval)


# -- scales -----------------------------------------------------------------------------------
def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Ticks at 1, 2 or 5 × 10^k covering [lo, hi] (Heckbert, "Nice numbers for graph labels",
    Graphics Gems, 1990)."""
    if not hi > lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    k = math.floor(lo / step + 1e-9)
    ticks = [round(k * step, 12)]
    while ticks[-1] < hi - step * 1e-9 or len(ticks) < 2:
        k += 1
        ticks.append(round(k * step, 12))
    return ticks


def log_ticks(lo: float, hi: float) -> list[float]:
    """Decades covering [lo, hi] (lo > 0); with 1, 2 and 5 in each when it spans under three."""
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    b = max(b, a + 1)
    mults = (1, 2, 5) if b - a < 3 else (1,)
    ticks = [m * 10.0 ** e for e in range(a, b + 1) for m in mults]
    first = max(t for t in ticks if t <= lo * (1 + 1e-9))
    last = min(t for t in ticks if t >= hi * (1 - 1e-9))
    return [t for t in ticks if first <= t <= last]


@dataclass(frozen=True, slots=True)
class _Scale:
    lo: float
    hi: float
    log: bool
    a: float  # pixel of lo
    b: float  # pixel of hi

    def __call__(self, v: float) -> float:
        if self.log:
            f = (math.log10(v) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        else:
            f = (v - self.lo) / (self.hi - self.lo)
        return self.a + f * (self.b - self.a)


def _domain(values: Sequence[float], axis: Axis, zero: bool) -> tuple[list[float], float, float]:
    """Ticks and the domain they span. Linear axes start at 0 when every value is ≥ 0 (``zero``),
    so that bar lengths and throughputs compare honestly."""
    vals = [v for v in values if math.isfinite(v) and (v > 0 or not axis.log)]
    if axis.log:
        lo = axis.lo if axis.lo is not None else min(vals, default=1.0)
        hi = axis.hi if axis.hi is not None else max(vals, default=10.0)
        ticks = log_ticks(lo, max(hi, lo * 1.0001))
    else:
        lo = axis.lo if axis.lo is not None else min(vals, default=0.0)
        hi = axis.hi if axis.hi is not None else max(vals, default=1.0)
        if zero:
            lo, hi = min(lo, 0.0), max(hi, 0.0)
        ticks = nice_ticks(lo, hi)
        if axis.lo is not None and axis.hi is not None:
            ticks = [t for t in ticks if axis.lo - 1e-12 <= t <= axis.hi + 1e-12]
            return ticks, axis.lo, axis.hi
    return ticks, min(ticks[0], lo), max(ticks[-1], hi)


# -- SVG pieces -------------------------------------------------------------------------------
def _attr(s: str) -> str:
    return escape(s, quote=True)


def _f(v: float) -> str:
    return f"{v:.1f}"


def _color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _legend(items: Sequence[tuple[str, str, bool]], width: int) -> tuple[str, int]:
    """Rows of (name, colour, dashed) swatches under the plot, wrapping at the chart width."""
    out, x, row = [], MARGIN["left"], 0
    for name, color, dashed in items:
        w = 34 + 7 * len(name)
        if x + w > width - MARGIN["right"] and x > MARGIN["left"]:
            x, row = MARGIN["left"], row + 1
        yy = 18 * row
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        out.append(f'<g class="legend-item"><line x1="{_f(x)}" y1="{_f(yy)}" x2="{_f(x + 22)}" '
                   f'y2="{_f(yy)}" stroke="{color}" stroke-width="3"{dash}/>'
                   f'<text x="{_f(x + 28)}" y="{_f(yy + 4)}">{escape(name)}</text></g>')
        x += w
    return f'<g class="legend">{"".join(out)}</g>', 18 * (row + 1)


def _svg(width: int, height: float, title: str, body: str) -> str:
    return (f'<svg class="chart" viewBox="0 0 {width} {_f(height)}" width="{width}" '
            f'height="{_f(height)}" role="img" aria-label="{_attr(title)}" {FONT}>'
            f'<text class="chart-title" x="{MARGIN["left"]}" y="16" font-weight="600">'
            f'{escape(title)}</text>{body}</svg>')


def _ticks(scale: _Scale, ticks: list[float], fmt: Callable[[float], str], a: float, b: float,
           *, x_axis: bool) -> str:
    """Grid lines across the plot (from ``a`` to ``b``) and labels at each tick, under the plot
    (``x_axis``) or left of it."""
    out = []
    for t in ticks:
        p, label = scale(t), escape(fmt(t))
        if x_axis:
            out.append(f'<line class="grid" x1="{_f(p)}" y1="{_f(a)}" x2="{_f(p)}" y2="{_f(b)}"/>'
                       f'<text x="{_f(p)}" y="{_f(b + 16)}" text-anchor="middle">{label}</text>')
        else:
            out.append(f'<line class="grid" x1="{_f(a)}" y1="{_f(p)}" x2="{_f(b)}" y2="{_f(p)}"/>'
                       f'<text x="{_f(a - 6)}" y="{_f(p + 4)}" text-anchor="end">{label}</text>')
    return "".join(out)


def _path(points: list[tuple[float, float]], step: bool) -> str:
    d, prev = [], None
    for x, y in points:
        if prev is None:
            d.append(f"M{_f(x)},{_f(y)}")
        elif step:
            d.append(f"H{_f(x)}V{_f(y)}")
        else:
            d.append(f"L{_f(x)},{_f(y)}")
        prev = (x, y)
    return "".join(d)


# -- charts -----------------------------------------------------------------------------------
def xy(series: Sequence[Series], x: Axis, y: Axis, *, title: str, height: int = 340,
       diagonal: bool = False, band: tuple[float, float] | None = None,
       highlight: Sequence[Mark] = (), width: int = WIDTH) -> str:
    """A scatter/line chart. ``diagonal`` draws y = x; ``band`` shades y ∈ [lo, hi];
    ``highlight`` rings those marks (e.g. a Pareto front)."""
    keep = [s for s in series if any(_plottable(m, x, y) for m in s.marks)]
    legend_items = [(s.name, _color(s.color if s.color is not None else i), s.dashed)
                    for i, s in enumerate(series) if s in keep and s.legend]
    legend_svg, legend_h = _legend(legend_items, width)
    plot_bottom = height - MARGIN["bottom"] - legend_h
    xs = [m.x for s in keep for m in s.marks if _plottable(m, x, y)]
    ys = [m.y for s in keep for m in s.marks if _plottable(m, x, y)]
    if band is not None:
        ys += list(band)
    xt, xlo, xhi = _domain(xs, x, zero=not x.log)
    yt, ylo, yhi = _domain(ys, y, zero=not y.log)
    sx = _Scale(xlo, xhi, x.log, MARGIN["left"], width - MARGIN["right"])
    sy = _Scale(ylo, yhi, y.log, plot_bottom, MARGIN["top"])
    body = [_ticks(sx, xt, x.fmt, MARGIN["top"], plot_bottom, x_axis=True),
            _ticks(sy, yt, y.fmt, MARGIN["left"], width - MARGIN["right"], x_axis=False)]
    if band is not None:
        top, bottom = sy(min(max(band[1], ylo), yhi)), sy(min(max(band[0], ylo), yhi))
        body.append(f'<rect class="band" x="{MARGIN["left"]}" y="{_f(top)}" '
                    f'width="{width - MARGIN["left"] - MARGIN["right"]}" height="{_f(bottom - top)}"/>')
    if diagonal:
        lo, hi = max(xlo, ylo), min(xhi, yhi)
        if hi > lo:
            body.append(f'<line class="diagonal" x1="{_f(sx(lo))}" y1="{_f(sy(lo))}" '
                        f'x2="{_f(sx(hi))}" y2="{_f(sy(hi))}"/>')
    for i, s in enumerate(series):
        if s not in keep:
            continue
        color = _color(s.color if s.color is not None else i)
        pts = [(sx(m.x), sy(m.y)) for m in s.marks if _plottable(m, x, y)]
        parts = []
        if s.line and len(pts) > 1:
            dash = ' stroke-dasharray="6 4"' if s.dashed else ""
            parts.append(f'<path class="line mark-line" d="{_path(pts, s.step)}" fill="none" '
                         f'stroke="{color}" stroke-width="2"{dash}/>')
        if s.dots:
            for m, (px, py) in zip([m for m in s.marks if _plottable(m, x, y)], pts):
                hollow = ' fill="white"' if s.dashed else f' fill="{color}"'
                parts.append(f'<circle class="mark" cx="{_f(px)}" cy="{_f(py)}" r="4.5" '
                             f'stroke="{color}" stroke-width="2"{hollow} tabindex="0" '
                             f'data-tip="{_attr(s.name + ": " + m.tip)}"/>')
        body.append(f'<g class="series" data-series="{_attr(s.name)}">{"".join(parts)}</g>')
    for m in highlight:
        if _plottable(m, x, y):
            body.append(f'<circle class="front-ring" cx="{_f(sx(m.x))}" cy="{_f(sy(m.y))}" r="9" '
                        f'fill="none" stroke="#444" stroke-width="1.5"/>')
    body.append(f'<line class="axis" x1="{MARGIN["left"]}" y1="{_f(plot_bottom)}" '
                f'x2="{width - MARGIN["right"]}" y2="{_f(plot_bottom)}"/>'
                f'<line class="axis" x1="{MARGIN["left"]}" y1="{MARGIN["top"]}" '
                f'x2="{MARGIN["left"]}" y2="{_f(plot_bottom)}"/>')
    body.append(f'<text class="axis-label" x="{_f((MARGIN["left"] + width - MARGIN["right"]) / 2)}" '
                f'y="{_f(plot_bottom + 36)}" text-anchor="middle">{escape(x.label)}</text>'
                f'<text class="axis-label" transform="translate(14,{_f((MARGIN["top"] + plot_bottom) / 2)}) '
                f'rotate(-90)" text-anchor="middle">{escape(y.label)}</text>')
    body.append(f'<g transform="translate(0,{_f(height - legend_h + 4)})">{legend_svg}</g>')
    return _svg(width, height, title, "".join(body))


def _plottable(m: Mark, x: Axis, y: Axis) -> bool:
    ok = math.isfinite(m.x) and math.isfinite(m.y)
    return ok and (m.x > 0 or not x.log) and (m.y > 0 or not y.log)


def hbars(bars: Sequence[Bar], value: Axis, *, title: str, bar_px: int = 18,
          label_px: int = 210, colors: dict[str, int] | None = None, width: int = WIDTH) -> str:
    """Horizontal bars: one row per category (in first-seen order), one bar per series present
    in it. Values may be negative (the axis then spans both sides of 0); a bar's ``interval``
    is drawn as a whisker across it (the axis covers it)."""
    bars = [b for b in bars if math.isfinite(b.value)]
    categories = list(dict.fromkeys(b.category for b in bars))
    names = list(dict.fromkeys(b.series for b in bars))
    colors = colors or {n: i for i, n in enumerate(names)}
    per_cat = {c: [b for b in bars if b.category == c] for c in categories}
    legend_svg, legend_h = _legend([(n, _color(colors[n]), False) for n in names], width)
    rows_h = sum(len(v) * bar_px + 10 for v in per_cat.values())
    top = MARGIN["top"]
    height = top + rows_h + MARGIN["bottom"] + legend_h
    left = max(MARGIN["left"], label_px)
    ticks, lo, hi = _domain([b.value for b in bars] + [v for b in bars if b.interval for v in b.interval],
                            value, zero=not value.log)
    s = _Scale(lo, hi, value.log, left, width - MARGIN["right"])
    bottom = top + rows_h
    body = [_ticks(s, ticks, value.fmt, top, bottom, x_axis=True)]
    y = top + 5
    base = s(max(lo, 0.0)) if not value.log else s(lo)
    for c in categories:
        group = per_cat[c]
        label = c if len(c) <= label_px // 7 else c[: label_px // 7 - 1] + "…"
        body.append(f'<text x="{_f(left - 6)}" y="{_f(y + len(group) * bar_px / 2 + 4)}" '
                    f'text-anchor="end"><title>{escape(c)}</title>{escape(label)}</text>')
        for b in group:
            end = s(b.value)
            x0, w = min(base, end), abs(end - base)
            body.append(f'<rect class="mark bar" x="{_f(x0)}" y="{_f(y + 1)}" width="{_f(max(w, 1.0))}" '
                        f'height="{bar_px - 2}" fill="{_color(colors[b.series])}" tabindex="0" '
                        f'data-tip="{_attr(b.tip)}"/>')
            if b.interval is not None and all(math.isfinite(v) for v in b.interval):
                lo, hi = (s(min(max(v, s.lo), s.hi)) for v in b.interval)
                mid = y + bar_px / 2
                body.append(f'<path class="whisker" d="M{_f(lo)},{_f(mid)}H{_f(hi)}M{_f(lo)},{_f(mid - 4)}'
                            f'V{_f(mid + 4)}M{_f(hi)},{_f(mid - 4)}V{_f(mid + 4)}" stroke="#333" '
                            f'stroke-width="1.5" fill="none"/>')
            y += bar_px
        y += 10
    body.append(f'<line class="axis" x1="{_f(base)}" y1="{top}" x2="{_f(base)}" y2="{_f(bottom)}"/>'
                f'<line class="axis" x1="{_f(left)}" y1="{_f(bottom)}" x2="{width - MARGIN["right"]}" '
                f'y2="{_f(bottom)}"/>'
                f'<text class="axis-label" x="{_f((left + width - MARGIN["right"]) / 2)}" '
                f'y="{_f(bottom + 36)}" text-anchor="middle">{escape(value.label)}</text>'
                f'<g transform="translate(0,{_f(height - legend_h + 4)})">{legend_svg}</g>')
    return _svg(width, height, title, "".join(body))
