"""The page: sections laid into the one HTML template shipped with the package
(``template.html``, read with ``importlib.resources``), plus a header that states the tool
version, the date and the commands that produced the page.

Everything a view carries is escaped here or in ``view.py``/``chart.py``: labels come from user
files. Each section's numbers are embedded as the JSON its command prints, in a
``<script type="application/json">`` block (``<``, ``>`` and ``&`` escaped so no label can close
it), so a reader can take the exact figures out of the page.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, is_dataclass
from enum import Enum
from functools import cache
from html import escape
from importlib import resources
from typing import Any

from .view import Section

__all__ = ["embedded_json", "render_page"]


@cache
def _template() -> str:
    return (resources.files(__package__) / "template.html").read_text(encoding="utf-8")


def _strict(o: Any) -> Any:
    """Plain JSON values; infinities and NaN become null (strict JSON has neither)."""
    if is_dataclass(o) and not isinstance(o, type):
        return _strict(asdict(o))
    if isinstance(o, dict):
        return {str(k): _strict(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_strict(v) for v in o]
    if isinstance(o, Enum):
        return o.value
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if o is None or isinstance(o, (str, int, float, bool)):
        return o
    return str(o)  # Provenance, dates, paths


def embedded_json(data: Any) -> str:
    """JSON safe inside a <script> element."""
    text = json.dumps(_strict(data), allow_nan=False, ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _section(s: Section) -> str:
    figures = []
    for f in s.figures:
        caption = f'<p class="caption">{escape(f.caption)}</p>' if f.caption else ""
        figures.append(f'<div class="figure"><div class="charts">{"".join(f.charts)}</div>'
                       f'{caption}<div class="table-wrap">{f.table.html()}</div></div>')
    notes = "".join(f"<li>{escape(n)}</li>" for n in s.notes)
    sources = "".join(
        f'<p class="source">Same numbers as <code>{escape(cmd)}</code></p>'
        f'<script type="application/json" class="view-data" data-command="{escape(cmd, quote=True)}">'
        f'{embedded_json(data)}</script>' for cmd, data in s.sources)
    return (f'<section class="view" id="{escape(s.key, quote=True)}">'
            f'<h2>{escape(s.title)}</h2><p class="intro">{escape(s.intro)}</p>'
            f'{"".join(figures)}{f"<ul class=notes>{notes}</ul>" if notes else ""}{sources}</section>')


def render_page(sections: Sequence[Section], *, title: str, version: str, generated: str,
                command: str, notes: Sequence[str] = ()) -> str:
    """The whole page as one string."""
    toc = "".join(f'<li><a href="#{escape(s.key, quote=True)}">{escape(s.title)}</a></li>'
                  for s in sections)
    commands = "\n".join([command] + list(dict.fromkeys(c for s in sections for c, _ in s.sources)))
    head_notes = "".join(f"<li>{escape(n)}</li>" for n in notes)
    header = (f'<header><h1>{escape(title)}</h1>'
              f'<p class="meta">truecost {escape(version)}, generated {escape(generated)}. Every '
              f'figure says where it came from (measured, modelled, or catalog with source and '
              f'date): hover a bar, a point or a table row.</p>'
              f'<p>Produced by (the first line), with the numbers of each view as these commands '
              f'print them with <code>--json</code>:</p><pre class="commands">{escape(commands)}</pre>'
              f'{f"<ul class=notes>{head_notes}</ul>" if head_notes else ""}'
              f'<nav><strong>Views</strong><ol>{toc}</ol></nav></header>')
    body = header + "".join(_section(s) for s in sections) + (
        f'<footer>truecost {escape(version)} · {escape(generated)} · a self-contained file: '
        f'nothing is loaded from the network.</footer>')
    values = {"TITLE": escape(title), "GENERATOR": escape(f"truecost {version}", quote=True),
              "BODY": body}
    # one pass: text put in (a label saying "@@BODY@@") is never scanned for markers again
    return re.sub(r"@@(TITLE|GENERATOR|BODY)@@", lambda m: values[m[1]], _template())
