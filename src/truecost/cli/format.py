"""Number formatting shared by the CLI renderers (units chosen at render time only)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, is_dataclass
from enum import Enum
from typing import Any

from rich.console import Console

def out_console() -> Console:
    """A console on stdout, made per render so that COLUMNS/NO_COLOR set later are honoured."""
    return Console(highlight=False, soft_wrap=False)


def usd(x: float | None) -> str:
    if x is None or math.isinf(x):
        return "-"
    if x == 0:
        return "$0"
    if abs(x) >= 1000:
        return f"${x:,.0f}"
    if abs(x) >= 0.1:
        return f"${x:,.2f}"
    return f"${x:.3g}"


def seconds(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x * 1e3:.1f} ms" if x < 1 else f"{x:.2f} s"


def gbytes(x: float) -> str:
    return f"{x / 1e9:.2f} GB"


def _plain(o: Any) -> Any:
    if is_dataclass(o) and not isinstance(o, type):
        return _plain(asdict(o))
    if isinstance(o, dict):
        return {k: _plain(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_plain(v) for v in o]
    if isinstance(o, Enum):
        return o.value
    if isinstance(o, float) and math.isinf(o):
        return None
    if hasattr(o, "kind") and hasattr(o, "detail"):
        return str(o)
    return o


def print_json(obj: Any) -> None:
    """Stable, machine-readable JSON on stdout (infinities become null)."""
    print(json.dumps(_plain(obj), indent=2, sort_keys=False, default=str))
