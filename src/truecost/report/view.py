"""What a view is, and the registry of views.

A view turns one public result (a ``Comparison``, a ``BenchResult``, a ``TrainEstimate``, a
``ValidationReport``, ...) into a ``Section`` of the page: figures (an SVG chart and the table of
the numbers behind it), and the commands whose ``--json`` carries the same numbers, with that
JSON.
Views never compute what a command computes; they lay out its result. Adding a view is one module
with a builder decorated by ``@view(KIND)`` and one line in ``report/__init__.py`` that feeds it.

    >>> @view("comparison")
    ... def cost_bars(subject): ...
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

__all__ = ["Column", "Figure", "Section", "Table", "build", "kinds", "view"]


@dataclass(frozen=True, slots=True)
class Column:
    """A table column: ``key`` names the figure as the command's ``--json`` does."""

    key: str
    label: str  # header, with the unit
    fmt: Callable[[Any], str] = str
    numeric: bool = True


@dataclass(frozen=True, slots=True)
class Table:
    """Rows of figures; each numeric cell carries its exact value (``data-value``, the JSON
    number) beside the text a reader sees, and each row may carry a hover text (provenance)."""

    columns: tuple[Column, ...]
    # column key -> value; "KEY#text" overrides the column's formatting of that cell; "_id"
    # names the row, "_tip" is its hover text
    rows: tuple[dict[str, Any], ...]

    def html(self) -> str:
        head = "".join(f'<th class="{"num" if c.numeric else "txt"}">{escape(c.label)}</th>'
                       for c in self.columns)
        body = []
        for r in self.rows:
            tip = f' data-tip="{escape(r["_tip"], quote=True)}" tabindex="0"' if r.get("_tip") else ""
            cells = []
            for c in self.columns:
                v = r.get(c.key)
                text = r.get(f"{c.key}#text") or (
                    "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else c.fmt(v))
                exact = ""
                if c.numeric and isinstance(v, (int, float)) and not isinstance(v, bool) \
                        and math.isfinite(v):
                    exact = f' data-value="{v!r}"'
                cells.append(f'<td class="{"num" if c.numeric else "txt"}" data-key="{escape(c.key)}"'
                             f'{exact}>{escape(text)}</td>')
            body.append(f'<tr data-row="{escape(str(r.get("_id", "")), quote=True)}"{tip}>'
                        f'{"".join(cells)}</tr>')
        return (f'<table class="data"><thead><tr>{head}</tr></thead>'
                f'<tbody>{"".join(body)}</tbody></table>')


@dataclass(frozen=True, slots=True)
class Figure:
    """Charts (side by side) and the table of the numbers they draw."""

    charts: tuple[str, ...]  # SVG
    table: Table
    caption: str = ""


@dataclass(frozen=True, slots=True)
class Section:
    """One view on the page."""

    key: str  # unique on the page: the HTML id
    title: str
    intro: str
    figures: tuple[Figure, ...]
    # (command, the JSON document its --json prints): the numbers of this view, embedded
    sources: tuple[tuple[str, Any], ...]
    notes: tuple[str, ...] = field(default_factory=tuple)


Builder = Callable[[Any], Section | None]
_VIEWS: dict[str, list[Builder]] = {}


def view(kind: str) -> Callable[[Builder], Builder]:
    """Register a builder for subjects of ``kind``; builders run in registration order and may
    return None when their view does not apply (e.g. no option carries an accuracy)."""

    def register(fn: Builder) -> Builder:
        _VIEWS.setdefault(kind, []).append(fn)
        return fn

    return register


def kinds() -> list[str]:
    return list(_VIEWS)


def build(kind: str, subject: Any) -> list[Section]:
    """Every registered view of ``kind`` that applies to ``subject``."""
    return [s for fn in _VIEWS.get(kind, ()) if (s := fn(subject)) is not None]


def tip(*lines: str | None) -> str:
    """Hover text: the non-empty lines."""
    return "\n".join(line for line in lines if line)


def joined(parts: Sequence[str]) -> str:
    return ", ".join(p for p in parts if p)
