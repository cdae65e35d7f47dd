"""Where the CLI writes: results to stdout (tables, ``--json``), everything else to stderr.

``err_console`` carries notes, progress and the one-line errors; ``out_console()`` is made per
render, so ``COLUMNS``/``NO_COLOR`` set after import are honoured; ``print_json`` is the one JSON
emitter of every verb.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from enum import Enum
from typing import Any

from rich.console import Console

__all__ = ["emit", "err_console", "out_console", "print_json"]

# markup=False: names and messages come from user files and servers; "[bold]" or "[/x]" in
# them is text to print, never rich markup (which would restyle or crash the render).
err_console = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


def out_console() -> Console:
    """A console on stdout, made per render so that COLUMNS/NO_COLOR set later are honoured.
    Markup is off: every string printed through it is plain text."""
    return Console(highlight=False, soft_wrap=False, markup=False)


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
    """Stable, strict JSON on stdout: an unbounded figure (an excluded option's $) becomes
    null. A NaN is a bug, never printed: ``allow_nan=False`` makes it an internal error."""
    print(json.dumps(_plain(obj), indent=2, sort_keys=False, default=str, allow_nan=False))


def emit(result: Any, json_out: bool, render: Callable[[Any], None]) -> None:
    """A result's ``notes`` to stderr, then the result on stdout: its ``to_dict()`` as JSON, or
    ``render(result)``."""
    for note in result.notes:
        err_console.print(f"note: {note}", markup=False)
    if json_out:
        print_json(result.to_dict())
    else:
        render(result)
