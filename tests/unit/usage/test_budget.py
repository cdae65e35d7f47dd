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


@pytest.fixture
def april(tmp_path, offers):
    # test/flat 1000/1000 = $0.01 (list); test/other 10,000/10,000 = $0.01 + $0.04 = $0.05 (list),
    # its last row 1 s before midnight: the month so far ends at 2025-04-03 00:00, 2 days in.
    # test/flat also appears in a gateway log with the spend it paid ($0.5): that row is not
    # priced again; "mystery" has neither a spend nor a price.
    import_rows(tmp_path / "april.csv", [
        "2025-04-02T12:00:00Z,test/flat,1000,1000,0,0,,",
        "2025-04-02T15:00:00Z,mystery,1000,1000,0,0,,",
        "2025-04-02T16:00:00Z,mystery,1000,1000,0,0,,",
        "2025-04-02T23:59:59.500Z,test/other,10000,10000,0,0,,",
    ])
    spend = tmp_path / "april.jsonl"  # the second row has no spend, a provider and no price
    spend.write_text(json.dumps({"request_id": "y", "startTime": "2025-04-02T13:00:00Z", "model": "test/flat",
                                 "prompt_tokens": 5, "completion_tokens": 5, "spend": 0.5}) + "\n"
                     + json.dumps({"request_id": "y2", "startTime": "2025-04-02T14:00:00Z", "model": "enigma",
                                   "custom_llm_provider": "acme", "prompt_tokens": 5, "completion_tokens": 5}) + "\n")
    import_usage(spend)
    return offers


def test_a_month_by_hand_to_the_second(april):
    b = budget(3.0, offers_file=april)
    # the month starts at midnight on the 1st, whatever the second of the last logged request
    assert b.month == "2025-04" and b.as_of == datetime(2025, 4, 3) and b.elapsed_days == 2.0
    # April 1st logged nothing: $0 and under its $0.10 a day; the last day is April 2nd
    assert [(d.day, round(d.usd, 9), d.over) for d in b.days] == [("2025-04-01", 0.0, False),
                                                                   ("2025-04-02", 0.56, True)]
    by = {m.model: (round(m.usd, 9), round(m.projected_usd, 9), m.budget_usd, m.over) for m in b.models}
    # 30 days / 2 elapsed = 15 x; the spend row is not list-priced again
    assert by == {"test/flat": (0.51, 7.65, None, None), "test/other": (0.05, 0.75, None, None)}
    assert b.unpriced == {"mystery": 2, "acme/enigma": 1}
    # exactly 15 x: the month starts at 00:00:00.000000, not a microsecond later
    assert all(m.projected_usd == m.usd * 15 for m in b.models)
    d = b.to_dict()
    assert (d["as_of"], d["daily_usd"], d["elapsed_days"]) == ("2025-04-03T00:00:00", pytest.approx(0.1), 2.0)
    assert (d["projected_usd"], d["over"]) == (pytest.approx(0.56 * 15), True)
    assert d["unpriced"] == {"mystery": 2, "acme/enigma": 1} and d["models"][0]["model"] == "test/flat"


def test_model_order_sources_and_a_budget_met_exactly(april, tmp_path):
    # a spend recorded and list prices: both sources
    assert budget(1.0, month="2025-04", offers_file=april).sources == [
        "spend recorded in the log", "list prices (genai-prices) of the logged models where the log has no spend"]
    other = next(m for m in budget(3.0, offers_file=april).models if m.model == "test/other")
    # a projection exactly at its budget is not over it
    exact = budget(3.0, model_budgets={"test/other": other.projected_usd}, offers_file=april)
    (o,) = [m for m in exact.models if m.model == "test/other"]
    assert o.budget_usd == other.projected_usd and o.over is False


def test_largest_spend_first_whatever_the_name(tmp_path, offers):
    import_rows(tmp_path / "may.csv", ["2025-05-01T10:00:00Z,test/flat,1000,1000,0,0,,",
                                       "2025-05-01T11:00:00Z,test/other,10000,10000,0,0,,"])
    b = budget(1.0, offers_file=offers)
    assert [m.model for m in b.models] == ["test/other", "test/flat"]  # $0.05, then $0.01
    assert b.sources == ["list prices (genai-prices) of the logged models where the log has no spend"]


def test_only_spend_recorded(tmp_path, offers):
    spend = tmp_path / "june.jsonl"
    spend.write_text(json.dumps({"request_id": "z", "startTime": "2025-06-01T10:00:00Z", "model": "gpt-4o",
                                 "prompt_tokens": 5, "completion_tokens": 5, "spend": 0.1}) + "\n")
    import_usage(spend)
    b = budget(1.0)  # no offers file: nothing to list-price
    assert b.sources == ["spend recorded in the log"] and b.unpriced == {}
    assert [(m.model, m.usd) for m in b.models] == [("gpt-4o", 0.1)]


def test_more_errors(tmp_path, march):
    with pytest.raises(InputError) as e:
        budget(1.0, model_budgets={"test/flat": 0})
    assert str(e.value) == "the budget of test/flat must be a positive amount of USD, got 0"
    with pytest.raises(InputError) as e:
        budget(1.0, model_budgets={"b": 1, "a": 1}, offers_file=march)
    assert str(e.value) == "no usage of a, b in 2025-03; logged models: gpt-4o, test/flat, test/other"


def test_an_empty_store():
    with pytest.raises(InputError) as e:
        budget(1.0)
    assert str(e.value) == "no usage in the store; import a log with `truecost usage import FILE`"


def test_a_month_with_nothing_priced(tmp_path):
    import_rows(tmp_path / "july.csv", ["2025-07-01T10:00:00Z,mystery,1000,1000,0,0,,"])
    with pytest.raises(InputError) as e:
        budget(1.0, model_budgets={"x": 1})
    assert str(e.value) == "no usage of x in 2025-07; logged models: none"


def test_the_store_given_is_the_one_read(tmp_path, march):
    with pytest.raises(InputError, match="no usage in the store"):
        budget(1.0, db=tmp_path / "elsewhere.duckdb")  # the default store has March; this one nothing


def test_equal_spend_in_name_order(tmp_path, offers):
    # zeta paid $0.01 (a spend in the log); test/flat's 1000/1000 tokens list at $0.002 + $0.008
    import_rows(tmp_path / "aug.csv", ["2025-08-01T10:00:00Z,test/flat,1000,1000,0,0,,"])
    spend = tmp_path / "aug.jsonl"
    spend.write_text(json.dumps({"request_id": "q", "startTime": "2025-08-01T09:00:00Z", "model": "zeta",
                                 "prompt_tokens": 5, "completion_tokens": 5, "spend": 0.01}) + "\n")
    import_usage(spend)
    b = budget(1.0, offers_file=offers)
    assert [(m.model, m.usd) for m in b.models] == [("test/flat", 0.01), ("zeta", 0.01)]


def test_spend_is_summed_exactly_whatever_the_row_order(tmp_path, offers):
    """Naive left-to-right float addition loses the $1 rows next to a $1e16 one (1e16 + 1 rounds
    back to 1e16) and the result then hangs on the order DuckDB's threads hand rows over; an
    exactly rounded sum is 1e16 + 2 = 10,000,000,000,000,002 (representable: below 2**53 x 2)
    in every order, in the budget and in reprice's logged-spend baseline alike."""
    from truecost.usage import reprice

    for order in ([1e16, 1.0, 1.0], [1.0, 1e16, 1.0], [1.0, 1.0, 1e16]):
        home = tmp_path / "-".join(map(str, order))
        home.mkdir()
        log = home / "gateway.jsonl"
        log.write_text("".join(json.dumps({"request_id": f"r{i}", "startTime": f"2025-03-03T1{i}:00:00Z",
                                           "model": "gpt-4o", "prompt_tokens": 5, "completion_tokens": 5,
                                           "spend": usd}) + "\n" for i, usd in enumerate(order)))
        db = home / "store.duckdb"
        import_usage(log, db=db)
        assert budget(1.0, month="2025-03", offers_file=offers, db=db).spent_usd == 10_000_000_000_000_002.0
        spent = [o for o in reprice([], offers_file=offers, db=db).options if o.kind == "logged"]
        assert 10_000_000_000_000_002.0 in [o.usd for o in spent], order
