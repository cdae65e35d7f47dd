"""Tables and notes that fit the terminal (80 columns and up): names fold, numbers never wrap,
no trailing padding. (The usage and forecast verbs' renderers; a shared table helper may
replace this.)"""

from __future__ import annotations

from rich import box
from rich.table import Table

from .output import out_console

__all__ = ["note", "print_table", "table"]


def table(*columns: tuple[str, str]) -> Table:
    """A borderless table of ``(name, "left"|"right")`` columns; right-justified ones are
    numbers and never wrap, the others fold rather than being cut."""
    # no left padding: columns sit two characters apart (one pad, one divider), not three
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, padding=(0, 1, 0, 0))
    for name, justify in columns:
        t.add_column(name, justify=justify, overflow="fold",  # type: ignore[arg-type]
                     no_wrap=justify == "right")
    return t


def _emit(renderable: object) -> None:
    con = out_console()
    with con.capture() as cap:
        con.print(renderable, markup=False, highlight=False)
    print("\n".join(line.rstrip() for line in cap.get().splitlines()))


def print_table(t: Table) -> None:
    """A table on stdout, without the padding rich leaves at the end of each line."""
    _emit(t)


def note(text: str) -> None:
    """A line of text on stdout, wrapped at the terminal width."""
    _emit(text)
