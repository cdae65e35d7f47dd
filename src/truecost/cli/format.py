"""Number formatting shared by the CLI renderers (units chosen at render time only)."""

from __future__ import annotations

import math


def usd(x: float | None) -> str:
    if x is None or math.isinf(x):
        return "-"
    if x == 0:
        return "$0"
    if abs(x) >= 1e15:  # past a quadrillion, digits stop being read: a mantissa and exponent
        return f"${x:.3g}"
    if abs(x) >= 1000:
        return f"${x:,.0f}"
    if abs(x) >= 0.1:
        return f"${x:,.2f}"
    return f"${x:.3g}"


def percent(x: float) -> str:
    """A share as a percentage (``1.5`` -> ``150%``); absurd shares still one short token."""
    return f"{x:.0%}" if abs(x) < 1e4 else f"{x * 100:.3g}%"


def times(x: float) -> str:
    """A ratio as ``0.16x`` / ``1,234.50x``; past a million, mantissa and exponent."""
    return f"{x:,.2f}x" if abs(x) < 1e6 else f"{x:.3g}x"


def seconds(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x * 1e3:.1f} ms" if x < 1 else f"{x:.2f} s" if x < 1e6 else f"{x:.3g} s"


def gbytes(x: float) -> str:
    return f"{x / 1e9:.2f} GB"
