"""The shared table helper (``truecost.cli.tables``): what fits, what wraps, what spills or is left
out with a note, and the vertical fallback. Every expected layout below is worked out by hand
from the column widths and the 3-cell gap between columns."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from truecost.cli.tables import Col, _split_word, layout, print_table, wrap


def render(cols, rows, width, **kw) -> list[str]:
    buf = io.StringIO()
    con = Console(file=buf, width=width, highlight=False, no_color=True)
    print_table(con, cols, rows, **kw)
    return buf.getvalue().splitlines()


COLS = [Col("id", 0, "left"), Col("cost"), Col("latency", 2), Col("note", 3, "left", wrap=True)]
ROWS = [["run-000001", "$1.25", "12.5 ms", "a short note"],
        ["run-000002", "$10.00", "3.1 ms", "priced at the catalog rent"]]
# natural widths: id 10, cost 6, latency 7, note 26 -> 10+6+7+26 + 3 gaps of 3 = 58


def test_a_table_that_fits_is_one_table_at_its_natural_width():
    lines = render(COLS, ROWS, 80)
    assert lines[0].split() == ["id", "cost", "latency", "note"]
    assert max(map(len, lines)) == 58
    assert lines[2] == "run-000001    $1.25   12.5 ms   a short note"


def test_text_wraps_between_words_down_to_half_its_width():
    # 45 columns: 10+6+7 + 9 gaps = 32 leaves 13 for the note, half its 26: two lines a cell
    lines = render(COLS, ROWS, 45)
    assert "not shown" not in "\n".join(lines)
    assert max(map(len, lines)) <= 45
    assert lines[3:5] == ["run-000002   $10.00    3.1 ms   priced at the",
                          "                                catalog rent"]
    # at 40 the note would take four lines a cell: it is left out instead (or, with spill, it
    # moves to a table of its own, where it has room)
    assert "not shown at 40 columns: note" in " ".join(render(COLS, ROWS, 40))


def test_the_lowest_priority_goes_first_and_the_note_names_it():
    # 30 columns: id+cost+latency = 29 fits; the note (min 7 + gap 3) does not
    lines = render(COLS, ROWS, 30)
    assert lines[0].split() == ["id", "cost", "latency"]
    assert lines[-3:] == ["not shown at 30 columns: note", "(a wider terminal or --json",
                          "shows them)"]
    assert all(len(line) <= 30 for line in lines)


def test_spill_repeats_the_keys_in_a_continuation_table():
    lines = render(COLS, ROWS, 30, spill=True)
    text = "\n".join(lines)
    assert "not shown" not in text
    heads = [line.split() for line in lines if line.startswith("id")]
    assert heads == [["id", "cost", "latency"], ["id", "note"]]
    assert text.count("run-000001") == 2 and text.count("run-000002") == 2


def test_columns_of_one_priority_stay_together():
    cols = [Col("k", 0), Col("in", 2), Col("out", 2), Col("x", 1)]
    rows = [["1", "$0.15", "$0.60", "yy"]]
    # at 18 columns: k 1 + x 2 + in 5 + 2 gaps = 14 would fit, but in and out together need 22;
    # so in and out move on together (k 1 + in 5 + out 5 + 2 gaps = 17)
    fitted = layout(cols, rows, 18, spill=True)
    assert [sorted(p) for p in fitted.parts] == [[0, 3], [0, 1, 2]]


def test_names_break_after_a_slash_and_at_spaces_only():
    assert wrap("anthropic/claude-sonnet-4-5", 12) == ["anthropic/", "claude-sonnet-4-5"]
    assert wrap("llama-3.1-70b @ a100-80gb", 16) == ["llama-3.1-70b @", "a100-80gb"]
    assert wrap("$/GPU-h and req/s", 5) == ["$/GPU-h", "and", "req/s"]  # too short to break
    assert wrap("http://127.0.0.1:8080/v1/chat/completions", 20) == [
        "http://127.0.0.1:8080/", "v1/chat/completions"]


def test_too_narrow_for_keys_and_one_column_prints_key_value_lines():
    # 16 columns: id 10 + cost 6 + one gap = 19. Values wrap in 16 - 7 ("latency") - 4 = 5
    # cells; a number keeps its unit on its line even when that is wider
    lines = render(COLS, ROWS, 16)
    assert lines[:6] == ["run-000001", "  cost     $1.25", "  latency  12.5 ms", "  note     a",
                         "           short", "           note"]


def test_a_table_of_keys_only_prints_without_a_note():
    lines = render([Col("year", 0, "left"), Col("cost", 0)], [["2027", "$1.33B"]], 80)
    assert lines == ["year     cost", "─────────────", "2027   $1.33B"]  # 4 + 3 + 6


_cell = st.text(alphabet="ab1.$/- ", min_size=1, max_size=30).map(lambda s: s.strip() or "x")


@settings(max_examples=200, deadline=None)
@given(data=st.data(), width=st.integers(10, 160), ncols=st.integers(1, 8), nrows=st.integers(1, 4),
       spill=st.booleans())
def test_no_number_or_id_is_ever_cut(data, width, ncols, nrows, spill):
    """Whatever the width: every cell of a column that does not wrap appears whole on one line;
    a wrapping cell's words all appear; no line is wider than the console unless one unbreakable
    piece is (the vertical layout keeps it whole)."""
    cols = [Col(f"c{i}", data.draw(st.integers(0, 4)), data.draw(st.sampled_from(["left", "right"])),
                data.draw(st.booleans())) for i in range(ncols)]
    rows = [[data.draw(_cell) for _ in cols] for _ in range(nrows)]
    lines = render(cols, rows, width, spill=spill)
    text = "\n".join(lines)
    assert "…" not in text
    k = next((n for n, line in enumerate(lines) if line.startswith("not shown")), len(lines))
    shown_note = " ".join(lines[k:])
    fitted = layout(cols, rows, width, spill=spill)
    left_out = {i for i in fitted.left_out}
    for r in rows:
        for i, c in enumerate(cols):
            if i in left_out:
                continue
            for word in r[i].split():  # whole, or broken only after a "/"
                assert all(piece in text for piece in _split_word(word)), (word, lines)
            if not c.wrap and not fitted.vertical:
                assert any(r[i] in line for line in lines), (r[i], lines)
    if left_out:
        assert all(cols[i].name in shown_note for i in left_out)
    if not fitted.vertical:
        assert max(map(len, lines)) <= width
