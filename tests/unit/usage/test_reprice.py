"""Re-pricing: hand-computed costs of a small log, price tiers against genai-prices' own
calculator, self-hosted sizing for the log's peak hour."""

from __future__ import annotations

from datetime import datetime

import pytest

from truecost.compare import compare
from truecost.errors import InputError, UnknownNameError
from truecost.prices import offer
from truecost.usage import import_usage, reprice
from truecost.workload import SelfHostedCandidate, Slo, Tokens, Workload

from .conftest import HEADER, import_rows

@pytest.fixture
def small_log(tmp_path, offers):
    import_rows(tmp_path / "log.csv", [
        "2025-01-01T10:00:00Z,test/flat,1000,500,200,0,u1,a",
        "2025-01-01T10:20:00Z,test/flat,3000,100,0,0,u1,a",
        "2025-01-01T11:00:00Z,mystery-model,100,10,0,0,u2,",
        "2025-01-02T09:00:00Z,test/flat,0,1000,0,0,u2,b",
    ])
    return offers


def test_api_costs_by_hand(small_log):
    r = reprice(["test/other"], offers_file=small_log)
    logged, other = r.options
    # test/flat: uncached x $2 + cached x $0.5 + output x $8 per million tokens
    rows_flat = [(800 * 2 + 200 * 0.5 + 500 * 8), (3000 * 2 + 100 * 8), (1000 * 8)]
    assert logged.usd == pytest.approx(sum(rows_flat) / 1e6)  # 0.0205
    assert r.unpriced == {"mystery-model": 1}
    # test/other has no cached price: cached input at the input price
    assert other.usd == pytest.approx((1000 + 500 * 4 + 3000 + 100 * 4 + 100 + 10 * 4 + 1000 * 4) / 1e6)
    assert r.per_1k(other) == pytest.approx(other.usd / 4 * 1000)
    w = r.window
    assert (w.since, w.until, w.hours) == (datetime(2025, 1, 1, 10), datetime(2025, 1, 2, 10), 24.0)
    assert (w.requests, w.input_tokens, w.cached_tokens, w.output_tokens) == (4, 4100, 200, 1610)
    assert w.peak_requests_per_s == pytest.approx(2 / 3600)  # two requests in the 10:00 hour


def test_by_day_tag_and_window(small_log):
    r = reprice(["test/other"], by="day", offers_file=small_log)
    assert r.options[0].by_group == pytest.approx({"2025-01-01": 12.5e-3, "2025-01-02": 8e-3})
    assert r.options[1].by_group == pytest.approx({"2025-01-01": 6.54e-3, "2025-01-02": 4e-3})
    r = reprice(["test/other"], by="tag", offers_file=small_log)
    assert r.options[1].by_group == pytest.approx({"a": 6.4e-3, "(no tag)": 0.14e-3, "b": 4e-3})
    # --until is exclusive: the 11:00 request is out
    r = reprice(["test/other"], since="2025-01-01", until="2025-01-01T11:00", offers_file=small_log)
    assert r.window.requests == 2 and r.options[1].usd == pytest.approx(6.4e-3)
    assert r.window.hours == 11  # the window given, not the data's span


def test_self_hosted_is_sized_for_the_logs_peak_hour(small_log):
    r = reprice(["llama-3.1-8b@h100-sxm"], by="day", ttft_s=2.0, offers_file=small_log)
    sh = r.options[-1]
    # the same log written as a workload by hand: 4 requests over one day, 2 in the peak hour
    w = Workload(name="by hand", tasks_per_day=4, peak_to_mean=(2 / 3600) / (4 / 86400),
                 tokens=Tokens(input=4100 / 4, cached_input_fraction=200 / 4100, output=1610 / 4),
                 slo=Slo(ttft_s=2.0),
                 self_hosted=[SelfHostedCandidate(model="llama-3.1-8b", gpus=["h100-sxm"])])
    o = compare(w).options[0]
    per_hour = o.replicas * o.usd_per_replica_hour
    assert sh.usd == pytest.approx(per_hour * 24)
    assert sh.how == o.how
    # a fixed deployment costs each day the hours of the window in it: 14 h, then 10 h
    assert sh.by_group == pytest.approx({"2025-01-01": per_hour * 14, "2025-01-02": per_hour * 10})


def _offers_with(kind: str) -> list[str]:
    """Offers in the installed genai-prices with long-context tiers or a fee per request."""
    from datetime import UTC

    from genai_prices import data

    found = []
    for p in data.providers:
        for m in p.models:
            price = m.get_prices(datetime.now(UTC))
            if kind == "fee" and price.requests_kcount is not None and price.input_mtok is not None:
                found.append(f"{p.id}/{m.id}")
            if kind == "tiers" and getattr(price.input_mtok, "tiers", None):
                found.append(f"{p.id}/{m.id}")
    return found


def test_price_tiers_match_genai_prices_request_by_request(tmp_path):
    long_ctx, with_fee = _offers_with("tiers"), _offers_with("fee")
    assert long_ctx and with_fee, "genai-prices no longer has tiered offers to test against"
    picks = [long_ctx[0], long_ctx[-1], with_fee[0], "openai/gpt-4o-mini"]
    starts = sorted({t.above_input_tokens for k in picks for t in offer(k).tiers()} - {-1})
    # requests on both sides of every threshold, with and without cached input
    rows = [(s + d, c, out) for s in [0, *starts] for d in (0, 1, 7) for c in (0, 3) for out in (0, 11)
            if s + d >= c]
    log = tmp_path / "tiers.csv"
    log.write_text(HEADER + "".join(f"2025-05-01T00:{i // 60:02d}:{i % 60:02d}Z,m,{i_},{o_},{c_},0,,\n"
                                    for i, (i_, c_, o_) in enumerate(rows)))
    import_usage(log)
    r = reprice(picks)
    for key, got in zip(picks, r.options[1:]):
        o = offer(key)
        want = sum(o.request_usd(i, out, cached_input_tokens=c) for i, c, out in rows)
        assert got.usd == pytest.approx(want, rel=1e-12), key


def test_daily_buckets_assume_a_peak_hour(tmp_path):
    from truecost.usage.reprice import PEAK_TO_MEAN_DAILY

    log = tmp_path / "export.csv"
    log.write_text("start_time,end_time,num_model_requests,model,input_tokens,output_tokens\n"
                   "1740787200,1740873600,8640,gpt-4o,8640000,864000\n"
                   "1740873600,1740960000,4320,gpt-4o,4320000,432000\n")
    import_usage(log)
    r = reprice([])
    assert r.window.hours == 48
    assert r.window.peak_requests_per_s == pytest.approx(8640 / 86400 * PEAK_TO_MEAN_DAILY)
    assert "daily buckets" in r.window.peak_source


def test_logged_spend_is_its_own_baseline(tmp_path):
    log = tmp_path / "spend.jsonl"
    log.write_text(
        '{"request_id": "a", "startTime": "2025-04-01T00:00:00", "model": "gpt-4o", "prompt_tokens": 10, '
        '"completion_tokens": 1, "spend": 0.25}\n'
        '{"request_id": "b", "startTime": "2025-04-01T05:00:00", "model": "gpt-4o", "prompt_tokens": 10, '
        '"completion_tokens": 1, "spend": 0.5}\n')
    import_usage(log)
    r = reprice([], by="model")
    spend = r.options[1]
    assert spend.label == "logged: spend in the log" and spend.usd == pytest.approx(0.75)
    assert spend.by_group == pytest.approx({"gpt-4o": 0.75})


@pytest.mark.parametrize("kw, message", [
    ({"options": ["gpt-4o-minnni"]}, "unknown offer 'gpt-4o-minnni'; did you mean"),
    ({"options": ["@h100-sxm"]}, "--as '@h100-sxm': a self-hosted option is MODEL@GPU, e.g. "
                                 "llama-3.1-70b@h100-sxm"),
    ({"by": "week"}, "--by 'week' is not one of model, day, tag, user"),
    ({"since": "2025-02-01", "until": "2025-01-01"}, "--until 2025-01-01 00:00:00 is not after --since "
                                                     "2025-02-01 00:00:00"),
    ({"since": "last tuesday"}, "--since 'last tuesday' is not a date or time (use 2025-01-31 or "
                                "2025-01-31T12:00)"),
    ({"since": "2030-01-01"}, "no usage in the store between 2030-01-01 00:00:00 and the end; import a "
                              "log with `truecost usage import FILE`"),
    ({"utilisation": 1.5, "options": ["llama-3.1-8b@h100-sxm"]},
     "--utilisation must be from 0.01 to 1, got 1.5"),
])
def test_errors(small_log, kw, message):
    kw = dict(kw)  # a copy: popping from the parameter itself would change it for a second run in one process
    with pytest.raises((InputError, UnknownNameError)) as e:
        reprice(kw.pop("options", []), offers_file=small_log, **kw)
    assert str(e.value).startswith(message)


def test_empty_store_says_how_to_fill_it():
    with pytest.raises(InputError, match=r"^no usage in the store; import a log with `truecost usage "
                                         r"import FILE`$"):
        reprice(["openai/gpt-4o"])
