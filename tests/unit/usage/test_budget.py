"""A month against a budget: spend per day and model by hand, the run-rate projection."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from truecost.errors import InputError
from truecost.usage import budget, import_usage

from .conftest import import_rows


@pytest.fixture
def march(tmp_path, offers):
    # test/flat: 1000 in x $2 + 1000 out x $8 per million = $0.01; test/other: $0.001 + $0.004
    import_rows(tmp_path / "log.csv", [
        "2025-03-01T10:00:00Z,test/flat,1000,1000,0,0,,",
        "2025-03-02T10:00:00Z,test/flat,1000,1000,0,0,,",
        "2025-03-02T12:00:00Z,test/flat,1000,1000,0,0,,",
        "2025-03-03T09:00:00Z,test/other,1000,1000,0,0,,",
        "2025-02-28T09:00:00Z,test/other,1000,1000,0,0,,",  # another month
    ])
    spend = tmp_path / "gateway.jsonl"  # a gateway log: its spend is what was paid
    spend.write_text(json.dumps({"request_id": "x", "startTime": "2025-03-03T10:30:00Z", "model": "gpt-4o",
                                 "prompt_tokens": 5, "completion_tokens": 5, "spend": 0.1}) + "\n")
    import_usage(spend)
    return offers


def test_days_models_and_projection_by_hand(march):
    b = budget(0.31, model_budgets={"test/flat": 0.3}, offers_file=march)
    assert b.month == "2025-03" and b.days_in_month == 31
    assert b.daily_usd == pytest.approx(0.01)
    assert b.as_of == datetime(2025, 3, 3, 11)  # the end of the last logged hour
    elapsed = 2 + 11 / 24
    assert b.elapsed_days == pytest.approx(elapsed)
    assert b.spent_usd == pytest.approx(0.01 + 0.02 + 0.005 + 0.1)
    assert b.projected_usd == pytest.approx(0.135 / elapsed * 31)
    assert b.over
    assert [(d.day, round(d.usd, 9), d.over) for d in b.days] == [
        ("2025-03-01", 0.01, False), ("2025-03-02", 0.02, True), ("2025-03-03", 0.105, True)]
    by = {m.model: m for m in b.models}
    assert list(by) == ["gpt-4o", "test/flat", "test/other"]  # largest spend first
    assert by["test/flat"].projected_usd == pytest.approx(0.03 / elapsed * 31)
    assert by["test/flat"].over is True and by["gpt-4o"].over is None
    assert b.sources == ["spend recorded in the log",
                         "list prices (genai-prices) of the logged models where the log has no spend"]


def test_an_earlier_month_is_complete(march):
    b = budget(1.0, month="2025-02", offers_file=march)
    # the February row is at 09:00 on the 28th: the month so far ends at 10:00 that day
    assert b.spent_usd == pytest.approx(0.005) and b.as_of == datetime(2025, 2, 28, 10)
    assert b.projected_usd == pytest.approx(0.005 / (27 + 10 / 24) * 28)
    assert not b.over and [d.day for d in b.days if d.over] == []


@pytest.mark.parametrize("kw, message", [
    ({"monthly_usd": 0}, "--monthly must be a positive amount of USD, got 0"),
    ({"monthly_usd": 1, "month": "March"}, "--month 'March' is not a month; use YYYY-MM (2025-01)"),
    ({"monthly_usd": 1, "month": "2024-12"}, "no usage logged in 2024-12; import that month's log first"),
    ({"monthly_usd": 1, "model_budgets": {"gpt-5": 3}}, "no usage of gpt-5 in 2025-03; logged models: "
                                                       "gpt-4o, test/flat, test/other"),
    ({"monthly_usd": 1, "model_budgets": {"gpt-4o": -3}}, "the budget of gpt-4o must be a positive "
                                                          "amount of USD, got -3"),
])
def test_errors(march, kw, message):
    with pytest.raises(InputError) as e:
        budget(offers_file=march, **kw)
    assert str(e.value) == message
