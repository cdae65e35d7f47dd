"""Tables that fit the terminal, and the output formats every result verb shares.

Every table truecost prints goes through ``print_table``. Each column has a priority: 0 marks a
key (a run id, an option's name: always shown, and repeated in continuation tables); higher
numbers give way first. When the table is wider than the console (80 columns when output is
redirected, unless ``COLUMNS`` says otherwise):

1. text columns (``wrap=True``: option names, deployments, sources, URLs) wrap between words
   or after a "/" (``anthropic/`` | ``claude-sonnet-4-5``), never inside a word, and to no less
   than half their width while other columns can still give way;
2. the lowest-priority columns (all columns of one priority together) move to a continuation
   table keyed by the same key columns (``spill=True``), or are left out with a note on stdout
   naming them;
3. if the key columns and one more still do not fit, or it would take more than ``MAX_PARTS``
   tables, each row prints as its keys and then one ``header  value`` line per column.

Numbers, ids and names never wrap and are never cut, so no cell ever ends in "…". Lines carry
no trailing blanks. A row of empty cells prints as a blank line (it separates groups of rows).
``print_figures`` is the key/value table of one result (figure, value, note); ``print_lines``
prints text wrapped at the width (``hang`` indents the lines after the first); ``Sources``
numbers footnotes. ``OutputFormat`` and ``output_format`` give each verb ``--format
table|json|csv`` beside its ``--json``; CSV rows come from ``truecost.rows`` (the numbers of the
``--json`` document, one row per option, operating point, month or group).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..errors import InputError
from ..rows import csv_text

__all__ = ["Col", "OutputFormat", "Sources", "output_format", "print_csv", "print_figures", "print_lines",
           "print_table"]


@dataclass(frozen=True, slots=True)
class Col:
    """One column: its header ("\\n" splits it over two lines), its priority (0: a key, always
    shown; higher numbers give way first), alignment, and whether its text may wrap between
    words (never true for numbers, ids and names)."""

    header: str
    priority: int = 1
    justify: Literal["left", "right"] = "right"
    wrap: bool = False

    @property
    def name(self) -> str:
        return " ".join(self.header.split())


def _split_word(word: str) -> list[str]:
    """A word split after each lone "/" with at least 3 characters on either side: a
    provider/model name or a URL's path breaks there; "$/GPU-h", "req/s" and "http://" stay
    whole."""
    pieces, start = [], 0
    for m in re.finditer(r"(?<!/)/(?!/)", word):
        if m.start() - start >= 3 and len(word) - m.end() >= 3:
            pieces.append(word[start:m.end()])
            start = m.end()
    return pieces + [word[start:]]


def _pieces(text: str) -> list[tuple[str, bool]]:
    """Unbreakable pieces of one line of text, each with whether a space precedes it."""
    return [(piece, k == 0) for word in text.split() for k, piece in enumerate(_split_word(word))]


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` cells, broken only at spaces and after "/"; a
    piece longer than ``width`` stays whole (so a line may be longer)."""
    lines: list[str] = []
    for para in text.split("\n"):
        lead = _lead(para)  # an indented line ("  [1] [2]") keeps its indent on every line
        line = ""
        for piece, spaced in _pieces(para):
            joined = (line + " " + piece) if (line and spaced) else line + piece
            if line and cell_len(joined) + len(lead) > width:
                lines.append(lead + line)
                line = piece
            else:
                line = joined
        lines.append(lead + line)
    return lines


def _lead(line: str) -> str:
    return line[:len(line) - len(line.lstrip())]


def prose(text: str, width: int, hang: int = 0) -> list[str]:
    """Running text in lines of at most ``width`` cells: words stay whole and move to the next
    line; a word too long for a line of its own breaks after a "/" (a URL, a path), and one
    without a "/" stays whole. Blanks between words on a line are kept as given (aligned
    text stays aligned); a paragraph's leading blanks indent all its lines, and ``hang``
    indents its continuation lines further."""
    lines: list[str] = []
    for para in text.split("\n"):
        line, indent = "", _lead(para)
        hang_at = " " * (len(indent) + hang)
        for m in re.finditer(r"(\s*)(\S+)", para.strip()):
            gap, word = m.groups()
            limit = width - len(indent)
            joined = f"{line}{gap}{word}" if line else word
            if cell_len(joined) <= limit:
                line = joined
                continue
            if line:
                lines.append(indent + line)
                line, indent = "", hang_at
                limit = width - len(indent)
            if cell_len(word) <= limit:
                line = word
                continue
            for piece in _split_word(word):
                if line and cell_len(line + piece) > limit:
                    lines.append(indent + line)
                    line, indent = "", hang_at
                    limit = width - len(indent)
                line += piece
        lines.append(indent + line)
    return lines


def _natural(texts: Sequence[str]) -> int:
    return max((cell_len(line) for t in texts for line in t.split("\n")), default=0)


def _longest_piece(texts: Sequence[str]) -> int:
    return max((len(_lead(line)) + cell_len(p) for t in texts for line in t.split("\n")
                for p, _ in _pieces(line)), default=0)


MAX_PARTS = 3  # continuation tables beyond this: print rows as key/value lines instead
_GAP = 3  # SIMPLE_HEAD without edges: one blank divider and one blank of padding either side


def _table_width(widths: Sequence[int]) -> int:
    return sum(widths) + _GAP * (len(widths) - 1)


@dataclass(frozen=True, slots=True)
class Layout:
    """Which columns go in which table (column index -> width, in display order), and the
    columns left out; ``vertical`` when rows print as key/value lines instead."""

    parts: tuple[dict[int, int], ...]
    left_out: tuple[int, ...]
    vertical: bool


def layout(cols: Sequence[Col], rows: Sequence[Sequence[str]], width: int, *,
           spill: bool = False) -> Layout:
    """Fit ``cols`` × ``rows`` into ``width`` columns (see the module docstring)."""
    texts = [[c.header, *(r[i] for r in rows)] for i, c in enumerate(cols)]
    natural = [_natural(t) for t in texts]
    longest = [_longest_piece(texts[i]) if c.wrap else natural[i] for i, c in enumerate(cols)]
    # Text wraps to half its width at most (two or three lines a cell) while columns can still
    # move on; a table that has room for nothing else wraps down to the longest word.
    half = [max(longest[i], -(-natural[i] // 2)) for i in range(len(cols))]

    def fit(idx: list[int], floor: list[int]) -> dict[int, int] | None:
        w = {i: natural[i] for i in idx}
        excess = _table_width(list(w.values())) - width
        while excess > 0:  # shrink the widest wrapping column, one cell at a time
            shrinkable = [i for i in idx if w[i] > floor[i]]
            if not shrinkable:
                return None
            i = max(shrinkable, key=lambda j: (w[j], -j))
            w[i] -= 1
            excess -= 1
        return w

    keys = [i for i, c in enumerate(cols) if c.priority == 0]
    rest = sorted((i for i, c in enumerate(cols) if c.priority != 0),
                  key=lambda i: (cols[i].priority, i))
    parts: list[dict[int, int]] = []
    if fit(keys, longest) is None:
        return Layout((), (), True)
    while True:
        chosen: list[int] = []
        floor = half
        for p in sorted({cols[i].priority for i in rest}):  # columns of one priority go together
            group = [i for i in rest if cols[i].priority == p]
            if fit(keys + chosen + group, floor) is not None:
                chosen += group
                continue
            if not chosen:  # room for nothing else: wrap fully, and take as many as fit
                floor = longest
                for i in group:
                    if fit(keys + chosen + [i], floor) is None:
                        break
                    chosen.append(i)
            break
        if not chosen and (parts or rest):
            break
        part = sorted(keys + chosen)
        parts.append(dict(sorted((fit(part, floor) or fit(part, longest) or {}).items())))
        rest = [i for i in rest if i not in chosen]
        if not spill or not rest:
            break
    if not parts or len(parts) > MAX_PARTS:  # a column at a time reads worse than key: value
        return Layout((), (), True)
    return Layout(tuple(parts), tuple(sorted(rest)), False)


def print_lines(con: Console, renderable: Any, *, hang: int = 0) -> None:
    """Print a string as running text wrapped at the console's width (``prose``: plain text,
    no markup; ``hang`` indents its continuation lines), or render anything else at that width;
    either way each line without trailing blanks."""
    if isinstance(renderable, str):
        for line in prose(renderable, con.width, hang):
            con.print(Text(line), soft_wrap=True)
        return
    for line in con.render_lines(renderable, con.options, pad=False):
        text = Text.assemble(*((s.text, s.style or "") for s in line if not s.control))
        text.rstrip()
        con.print(text, soft_wrap=True)


def print_table(con: Console, cols: Sequence[Col], rows: Sequence[Sequence[str]], *,
                title: str | None = None, spill: bool = False,
                shown_by: str = "--json") -> Layout:
    """Print ``rows`` under ``cols`` fitted to the console's width (see the module docstring);
    ``shown_by`` names what shows a left-out column in the note."""
    rows = [[str(c) for c in r] for r in rows]
    fitted = layout(cols, rows, con.width, spill=spill)
    if title:
        print_lines(con, title)
    if fitted.vertical:
        _print_vertical(con, cols, rows)
        return fitted
    for n, part in enumerate(fitted.parts):
        if n:
            con.print()
        t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1))
        for i, w in part.items():
            c = cols[i]
            t.add_column(_fold(c.header, w, c.wrap), justify=c.justify, width=w, no_wrap=True)
        for r in rows:
            t.add_row(*(Text(_fold(r[i], w, cols[i].wrap)) for i, w in part.items()))
        print_lines(con, t)
    if fitted.left_out:
        names = ", ".join(cols[i].name for i in fitted.left_out)
        print_lines(con, f"not shown at {con.width} columns: {names} (a wider terminal or "
                         f"{shown_by} shows them)")
    return fitted


def print_figures(con: Console, rows: Sequence[tuple[str, str, str]], *, title: str | None = None,
                  headers: tuple[str, str, str] = ("figure", "value", "note")) -> Layout:
    """One result as a key/value table: the figure's name and its value are keys (never cut:
    a value is a number with its unit), the note wraps beside them."""
    cols = [Col(headers[0], 0, "left"), Col(headers[1], 0), Col(headers[2], 1, "left", wrap=True)]
    return print_table(con, cols, rows, title=title)


class Sources:
    """Numbered footnotes: the same text gets the same number, in order of first use.

        >>> s = Sources(); s.ref("catalog: a"), s.ref("catalog: b", "catalog: a")
        ('1', '1,2')
    """

    def __init__(self) -> None:
        self.texts: dict[str, int] = {}

    def number(self, text: str) -> int:
        return self.texts.setdefault(text, len(self.texts) + 1)

    def ref(self, *texts: str) -> str:
        """The numbers of ``texts`` (empty ones skipped), runs of three or more as a range:
        ``1,3`` or ``1-20``."""
        nums = sorted({self.number(t) for t in texts if t})
        runs: list[list[int]] = []
        for n in nums:
            if runs and n == runs[-1][-1] + 1:
                runs[-1].append(n)
            else:
                runs.append([n])
        return ",".join(f"{r[0]}-{r[-1]}" if len(r) > 2 else ",".join(map(str, r)) for r in runs)

    def lines(self) -> list[str]:
        return [f"[{n}] {t}" for t, n in self.texts.items()]


def _fold(text: str, width: int, wrap_ok: bool) -> str:
    return "\n".join(wrap(text, width)) if wrap_ok else text


def _print_vertical(con: Console, cols: Sequence[Col], rows: Sequence[Sequence[str]]) -> None:
    """Each row as its key values on one line, then one ``header  value`` line per column."""
    keys = [i for i, c in enumerate(cols) if c.priority == 0] or [0]
    others = [i for i in range(len(cols)) if i not in keys]
    pad = max((cell_len(cols[i].name) for i in others), default=0)
    for r in rows:
        for line in wrap("  ".join(" ".join(r[i].split()) for i in keys), con.width):
            con.print(Text(line), soft_wrap=True)
        for i in others:
            name = cols[i].name
            value = " ".join(r[i].split())
            lines = wrap(value, max(con.width - pad - 4, 1)) if cols[i].wrap else [value]
            for k, line in enumerate(lines):
                head = f"  {name}{' ' * (pad - cell_len(name))}  " if k == 0 else " " * (pad + 4)
                con.print(Text((head + line).rstrip()), soft_wrap=True)


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def output_format(fmt: OutputFormat | None, json_out: bool) -> OutputFormat:
    """``--format`` and the ``--json`` shortcut, which must not disagree."""
    if json_out and fmt not in (None, OutputFormat.json):
        raise InputError(f"--json and --format {fmt.value} disagree; give one of them")
    return OutputFormat.json if json_out else (fmt or OutputFormat.table)


def print_csv(rows: Sequence[Mapping[str, Any]]) -> None:
    """CSV on stdout: one row per item, nested keys joined by dots (``truecost.rows``)."""
    sys.stdout.write(csv_text(rows))
