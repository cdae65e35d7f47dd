"""The window's bounds are UTC whatever form they come in: text with a zone, a trailing Z or z,
or a datetime that carries a zone (the Python API), so --by day counts the UTC dates the store
groups rows by. Prices from the offers file of tests/unit/usage/conftest.py: test/other costs $1
per million input tokens."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from truecost.errors import InputError
from truecost.usage import reprice
from truecost.usage.reprice import _parse_time

from .conftest import import_rows

PLUS5 = timezone(timedelta(hours=5))


@pytest.mark.parametrize("text, want", [
    ("2025-01-31Z", datetime(2025, 1, 31)),  # a date in UTC
    ("2025-01-31T12:00z", datetime(2025, 1, 31, 12)),  # RFC 3339 allows a lower-case z
    ("2025-01-31T12:00+05:00", datetime(2025, 1, 31, 7)),
    (datetime(2025, 1, 31, 12, tzinfo=PLUS5), datetime(2025, 1, 31, 7)),
    (datetime(2025, 1, 31, 12), datetime(2025, 1, 31, 12)),  # naive: already UTC
])
def test_bounds_are_naive_utc(text, want):
    assert _parse_time(text, "since") == want


def test_a_bad_bound_names_the_option():
    with pytest.raises(InputError) as e:
        _parse_time("2025-31-01", "until")
    assert str(e.value) == "--until '2025-31-01' is not a date or time (use 2025-01-31 or 2025-01-31T12:00)"


def test_by_day_with_zoned_bounds_counts_utc_days(tmp_path, offers):
    import_rows(tmp_path / "log.csv", ["2025-01-09T22:00:00Z,test/other,1000000,0,0,0,u,t",
                                       "2025-01-10T22:00:00Z,test/other,2000000,0,0,0,u,t"])
    # since 02:00 on the 10th at +05:00 = 21:00 UTC on the 9th; until midnight on the 12th at
    # +05:00 = 19:00 UTC on the 11th: both rows are in, on the UTC days 9 ($1) and 10 ($2)
    r = reprice(["test/other"], by="day", since=datetime(2025, 1, 10, 2, tzinfo=PLUS5),
                until=datetime(2025, 1, 12, tzinfo=PLUS5), offers_file=offers)
    logged, o = r.options  # the log at its own models' list prices, then test/other: the same here
    assert logged.by_group == o.by_group
    assert o.by_group == {"2025-01-09": pytest.approx(1.0), "2025-01-10": pytest.approx(2.0), "2025-01-11": 0.0}
    assert o.usd == pytest.approx(3.0)
    text = reprice(["test/other"], by="day", since="2025-01-10T02:00+05:00", until="2025-01-12T00:00+05:00",
                   offers_file=offers)
    assert text.options[0].by_group == o.by_group
