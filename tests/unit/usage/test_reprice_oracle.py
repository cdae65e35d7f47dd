"""Re-pricing pinned field by field: tiny logs written here, every dollar worked out by hand.

Prices come from an offers file written by each test (round numbers, so the arithmetic is easy
to check) and, where a catalog price is used, from the data it is read from: genai-prices 0.2.3
lists openai/gpt-4o-mini at $0.15 input / $0.075 cached / $0.60 output per million tokens
(developers.openai.com/api/docs/pricing). Self-hosted sizing is compare's job (tested there):
here a deployment's figures are taken from compare on the same workload written by hand, and
what re-pricing adds (hours of the window, each day's hours, shares of GPU time) is worked out.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pytest

from truecost.compare import compare
from truecost.errors import InputError, UnknownNameError
from truecost.prices import GENAI_PRICES
from truecost.usage import Repricing, RepricedOption, Window, hourly_profile, import_usage, reprice
from truecost.usage.reprice import _days, _gpu_time_shares, _parse_time, _sizing_workload, _slo_text
from truecost.workload import SelfHostedCandidate, Slo, Tokens, Workload

from .conftest import HEADER
from .conftest import OFFERS as BASE_OFFERS

# $ per million tokens (conftest's OFFERS): test/flat 2 input, 0.5 cached, 8 output; test/other 1
# input (cached input billed as input: no cached price), 4 output; added here: acme/widget 3 input,
# 15 output; test/a..test/e k dollars input (k = 1..5) and nothing for output
OFFERS = BASE_OFFERS + """
["acme/widget"]
usd_per_mtok_input = 3.0
usd_per_mtok_output = 15.0
source = "acme price page"
as_of = 2025-02-03
""" + "".join(f"""
["test/{c}"]
usd_per_mtok_input = {k}.0
usd_per_mtok_output = 0.0
source = "test"
as_of = 2025-01-01
""" for k, c in enumerate("abcde", start=1))

SH = "llama-3.1-8b@h100-sxm"
TOL = 1e-12


def _same(got: Any, want: Any, where: str = "") -> None:
    """Deep equality, floats to 1e-12 relative (0.0 exactly), every key of every dict."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and list(got) == list(want), (where, got, want)
        for k in want:
            _same(got[k], want[k], f"{where}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), (where, got, want)
        for i, (g, w) in enumerate(zip(got, want)):
            _same(g, w, f"{where}[{i}]")
    elif isinstance(want, float):
        assert isinstance(got, float) and got == pytest.approx(want, rel=TOL, abs=0), (where, got, want)
    else:
        assert type(got) is type(want) and got == want, (where, got, want)


@pytest.fixture
def home(tmp_path: Path) -> SimpleNamespace:
    """An offers file and a store of the test's own (not the default store: ``db=`` is used)."""
    offers = tmp_path / "offers.toml"
    offers.write_text(OFFERS)
    return SimpleNamespace(offers=offers, db=tmp_path / "own.duckdb", dir=tmp_path)


def _generic(h: SimpleNamespace, rows: list[str], name: str = "log.csv") -> None:
    path = h.dir / name
    path.write_text(HEADER + "\n".join(rows) + "\n")
    import_usage(path, db=h.db)


def _openai(h: SimpleNamespace, buckets: list[tuple[int, int, int, str, int, int]]) -> None:
    path = h.dir / "export.csv"
    path.write_text("start_time,end_time,num_model_requests,model,input_tokens,output_tokens\n"
                    + "".join(",".join(map(str, b)) + "\n" for b in buckets))
    import_usage(path, db=h.db)


# 2025-01-01 10:00 to 2025-01-03 10:00 UTC (48 h), nothing on 2025-01-02
SMALL = [
    "2025-01-01T10:00:00Z,test/flat,1000,500,200,50,u1,a",
    "2025-01-01T10:20:00Z,test/flat,3000,102,0,0,u1,a",
    "2025-01-01T11:00:00Z,mystery-model,100,10,0,0,u2,",
    "2025-01-03T09:00:00Z,test/flat,0,1000,0,0,u2,b",
]
# test/flat (rows 1, 2, 4): uncached x $2 + cached x $0.5 + output x $8, per million tokens
FLAT = {"2025-01-01": (800 * 2 + 200 * 0.5 + 500 * 8) + (3000 * 2 + 102 * 8),  # 5,700 + 6,816
        "2025-01-02": 0.0, "2025-01-03": 1000 * 8}
# test/other, every row: all input at $1 (no cached price), output at $4
OTHER = {"2025-01-01": (1000 + 500 * 4) + (3000 + 102 * 4) + (100 + 10 * 4),  # 3,000 + 3,408 + 140
         "2025-01-02": 0.0, "2025-01-03": 1000 * 4}


def test_to_dict_every_key_and_value(home):
    _generic(home, SMALL)
    r = reprice(["test/other", SH], by="day", ttft_s=1e-6, offers_file=home.offers, db=home.db)
    logged_usd, other_usd = sum(FLAT.values()) / 1e6, sum(OTHER.values()) / 1e6  # 0.020516, 0.010548
    excluded = r.options[2].excluded
    assert isinstance(excluded, str) and "misses the SLO" in excluded  # 1 microsecond to first token
    want = {
        "window": {"since": "2025-01-01T10:00:00", "until": "2025-01-03T10:00:00", "rows": 4, "requests": 4,
                   "input_tokens": 4100, "cached_tokens": 200, "output_tokens": 1612, "reasoning_tokens": 50,
                   "peak_requests_per_s": 2 / 3600,  # two requests in the 10:00 hour
                   "peak_source": "the busiest clock hour in the log",
                   "hours": 48.0, "mean_requests_per_s": 4 / (48 * 3600)},
        "by": "day",
        "options": [
            {"label": "logged: list prices", "kind": "logged", "how": "1 model(s) at list price",
             "usd": logged_usd, "by_group": {d: v / 1e6 for d, v in FLAT.items()},
             "provenance": {"price": f"catalog:{GENAI_PRICES} list prices of test/flat"}, "excluded": None,
             "usd_per_1k_requests": logged_usd / 4 * 1000},
            {"label": "test/other", "kind": "api", "how": "API", "usd": other_usd,
             "by_group": {d: v / 1e6 for d, v in OTHER.items()},
             "provenance": {"price": "catalog:test@2025-01-01"}, "excluded": None,
             "usd_per_1k_requests": other_usd / 4 * 1000},
            {"label": SH, "kind": "self-hosted", "how": "-", "usd": None, "by_group": {}, "provenance": {},
             "excluded": excluded, "usd_per_1k_requests": None},
        ],
        "unpriced": {"mystery-model": 1},
        "assumptions": [
            # 48 h = 2.0 days; 2/3600 = 0.000556 to 3 significant digits
            "window 2025-01-01 10:00 to 2025-01-03 10:00 UTC (2.0 days); peak hour 0.000556 requests/s "
            "from the busiest clock hour in the log",
            "API options: every logged request at the offer's list price (no batch discount)",
            # a workload's default utilisation is 0.8 (workload.py); mean tokens 4100/4 = 1,025 in,
            # 1612/4 = 403 out (reasoning included)
            "self-hosted: sized by compare for the peak hour at 80% utilisation, mean tokens per request "
            "(1,025 in, 403 out), SLO TTFT 1e-06 s; paid every hour of the window; --by day: each day's "
            "hours, other groups: their share of modelled GPU time",
        ],
    }
    _same(r.to_dict(), want)
    assert r.per_1k(r.options[2]) is None

    # group_rows: one row per day and option, keyed by "day"; an excluded option's USD is None
    rows = r.group_rows()
    want_rows = [{"day": d, "label": o["label"], "kind": o["kind"], "how": o["how"],
                  "usd": None if o["usd"] is None else o["by_group"][d], "excluded": o["excluded"]}
                 for d in FLAT for o in want["options"]]
    _same(rows, want_rows)


def test_group_rows_without_by_and_of_options_with_no_groups(home):
    _generic(home, SMALL)
    r = reprice(["test/other"], offers_file=home.offers, db=home.db)
    assert r.by is None
    _same(r.group_rows(), [
        {"group": "all", "label": "logged: list prices", "kind": "logged", "how": "1 model(s) at list price",
         "usd": sum(FLAT.values()) / 1e6, "excluded": None},
        {"group": "all", "label": "test/other", "kind": "api", "how": "API", "usd": sum(OTHER.values()) / 1e6,
         "excluded": None}])
    # built by hand: no option has a group, so there is one row per option, group "all"; an
    # option with a USD but nothing for the group reads 0.0
    w = Window(datetime(2025, 1, 1), datetime(2025, 1, 2), 0, 0, 0, 0, 0, 0, 0.0, "x")
    hand = Repricing(w, None, [RepricedOption("a", "api", "API", 1.5, {}, {}),
                               RepricedOption("b", "self-hosted", "-", None, {}, {}, excluded="too big")], {})
    _same(hand.group_rows(), [
        {"group": "all", "label": "a", "kind": "api", "how": "API", "usd": 0.0, "excluded": None},
        {"group": "all", "label": "b", "kind": "self-hosted", "how": "-", "usd": None, "excluded": "too big"}])
    assert hand.per_1k(hand.options[0]) is None  # no requests: no cost per request
    assert hand.to_dict()["assumptions"] == []


def test_spend_baseline_providers_and_unpriced_models(home):
    """A LiteLLM log: the gateway's provider picks the offer (``acme/widget``), a provider with
    no such offer falls back to the bare model name (``zzz`` + ``test/flat``), a model with no
    offer is left out and named with its provider; two of three rows carry a spend."""
    log = home.dir / "spend.jsonl"
    rows = [
        {"request_id": "a", "startTime": "2025-04-01T00:00:00Z", "model": "widget", "custom_llm_provider": "acme",
         "prompt_tokens": 1000, "completion_tokens": 100, "spend": 0.25},
        {"request_id": "b", "startTime": "2025-04-01T01:00:00Z", "model": "test/flat",
         "custom_llm_provider": "zzz",
         "prompt_tokens": 2000, "completion_tokens": 0},
        {"request_id": "c", "startTime": "2025-04-01T02:00:00Z", "model": "gizmo", "custom_llm_provider": "acme",
         "prompt_tokens": 10, "completion_tokens": 1, "spend": 0.5},
    ]
    log.write_text("".join(json.dumps(x) + "\n" for x in rows))
    import_usage(log, db=home.db)
    r = reprice([], by="model", offers_file=home.offers, db=home.db)
    assert r.unpriced == {"acme/gizmo": 1}
    assert r.by == "model"
    listed, spent = r.options
    # widget: 1000 x $3 + 100 x $15 = $0.0045; test/flat: 2000 x $2 = $0.004 (per million tokens)
    _same(listed.by_group, {"gizmo": 0.0, "test/flat": 0.004, "widget": 0.0045})
    assert (listed.label, listed.kind, listed.how) == ("logged: list prices", "logged", "2 model(s) at list price")
    assert listed.usd == pytest.approx(0.0085, rel=TOL)
    assert listed.provenance == {"price": f"catalog:{GENAI_PRICES} list prices of acme/widget, test/flat"}
    assert (spent.label, spent.kind, spent.how, spent.excluded) == (
        "logged: spend in the log", "logged", "as recorded by the gateway", None)
    assert spent.usd == pytest.approx(0.75, rel=TOL)
    _same(spent.by_group, {"gizmo": 0.5, "test/flat": 0.0, "widget": 0.25})
    assert spent.provenance == {"price": "measured: spend column of the log (2 of 3 rows carry one)"}


def test_four_models_are_named_a_fifth_is_dots(home):
    # test/a..test/e, one request each of 1,000 input tokens at $k per million: $k / 1000
    _generic(home, [f"2025-02-01T0{i}:00:00Z,test/{c},1000,0,0,0,," for i, c in enumerate("abcde")])
    r = reprice([], offers_file=home.offers, db=home.db)
    listed = r.options[0]
    assert listed.how == "5 model(s) at list price"
    assert listed.provenance == {"price": f"catalog:{GENAI_PRICES} list prices of test/a, test/b, test/c, "
                                          f"test/d, ..."}
    assert listed.usd == pytest.approx((1 + 2 + 3 + 4 + 5) / 1000, rel=TOL)
    # --since leaves test/a out: four models, all named
    r = reprice([], since="2025-02-01T01:00", offers_file=home.offers, db=home.db)
    listed = r.options[0]
    assert listed.how == "4 model(s) at list price"
    assert listed.provenance == {"price": f"catalog:{GENAI_PRICES} list prices of test/b, test/c, test/d, "
                                          f"test/e"}
    assert listed.usd == pytest.approx((2 + 3 + 4 + 5) / 1000, rel=TOL)
    _same(listed.by_group, {"all": (2 + 3 + 4 + 5) / 1000})


@pytest.mark.parametrize("kw, message", [
    ({"until": "soon"}, "--until 'soon' is not a date or time (use 2025-01-31 or 2025-01-31T12:00)"),
    ({"since": "2025-01-02", "until": "2025-01-02"}, "--until 2025-01-02 00:00:00 is not after --since "
                                                     "2025-01-02 00:00:00"),
    ({"until": "2020-01-01"}, "no usage in the store between the start and 2020-01-01 00:00:00; import a log "
                              "with `truecost usage import FILE`"),
])
def test_window_errors(home, kw, message):
    _generic(home, SMALL)
    with pytest.raises(InputError) as e:
        reprice([], offers_file=home.offers, db=home.db, **kw)
    assert str(e.value) == message


def test_a_self_hosted_spec_splits_at_the_first_at_sign(home):
    _generic(home, SMALL)
    with pytest.raises(UnknownNameError) as e:
        reprice([SH + "@x"], offers_file=home.offers, db=home.db)
    assert str(e.value).startswith("unknown GPU 'h100-sxm@x'")


def test_times_with_an_offset_or_z_are_utc_and_naive_ones_stay_as_given():
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Kolkata"  # UTC+05:30: a local-time conversion would show
    time.tzset()
    try:
        for text in ("2025-01-01T12:00+02:00", "2025-01-01T10:00Z", " 2025-01-01T10:00 ",
                     "2025-01-01T15:30:00+05:30"):
            t = _parse_time(text, "since")
            assert t == datetime(2025, 1, 1, 10) and t.tzinfo is None, text
        given = datetime(2025, 1, 1, 10)
        assert _parse_time(given, "since") is given and _parse_time(None, "until") is None
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


def test_window_since_with_an_offset(home):
    _generic(home, SMALL)
    # 12:20 at UTC+2 is 10:20 UTC: the first request (10:00) is out
    r = reprice([], since="2025-01-01T12:20+02:00", offers_file=home.offers, db=home.db)
    assert (r.window.since, r.window.requests) == (datetime(2025, 1, 1, 10, 20), 3)


def test_hourly_buckets_give_the_peak_hour_and_hourly_profile(home):
    # 2025-03-01 00:00 UTC = 1740787200; two one-hour buckets of gpt-4o-mini at openai
    _openai(home, [(1740787200, 1740790800, 7200, "gpt-4o-mini", 7_200_000, 720_000),
                   (1740790800, 1740794400, 3600, "gpt-4o-mini", 3_600_000, 360_000)])
    r = reprice([], offers_file=home.offers, db=home.db)
    w = r.window
    assert (w.since, w.until, w.hours) == (datetime(2025, 3, 1), datetime(2025, 3, 1, 2), 2.0)
    assert w.peak_requests_per_s == pytest.approx(7200 / 3600, rel=TOL)
    assert w.peak_source == "the busiest clock hour in the log"
    # gpt-4o-mini (genai-prices): 10.8M input x $0.15 + 1.08M output x $0.60 per million = $2.268
    assert r.options[0].usd == pytest.approx(10.8 * 0.15 + 1.08 * 0.6, rel=TOL)
    counts, source = hourly_profile(db=home.db)
    assert counts == [7200.0, 3600.0] + [0.0] * 22
    assert source == "measured: 10,800 logged requests by hour of day (UTC), 2025-03-01 to 2025-03-01"


def test_a_bucket_one_second_over_an_hour_is_daily(home):
    _openai(home, [(1740787200, 1740790800, 7200, "gpt-4o-mini", 7_200_000, 720_000),
                   (1740790800, 1740794401, 3600, "gpt-4o-mini", 3_600_000, 360_000)])
    r = reprice([], since="2025-03-01", offers_file=home.offers, db=home.db)
    # the busiest day holds 10,800 requests: 10,800 / 86,400 s x 3 (a workload's default peak_to_mean)
    assert r.window.peak_requests_per_s == pytest.approx(10800 / 86400 * 3, rel=TOL)
    assert r.window.peak_source == ("the log has daily buckets: busiest day's mean rate x 3 (assumed peak "
                                    "hour / mean)")
    with pytest.raises(InputError) as e:
        hourly_profile(db=home.db)
    assert str(e.value) == ("1 usage rows are buckets longer than an hour (a daily export): no hourly shape; "
                            "use --diurnal flat, business-hours or a file")


def test_hourly_profile_of_a_window(home):
    _generic(home, SMALL)
    counts, source = hourly_profile(since="2025-01-01T10:30", db=home.db)
    want = [0.0] * 24
    want[11] = want[9] = 1.0  # 2025-01-01 11:00 and 2025-01-03 09:00
    assert counts == want
    assert source == "measured: 2 logged requests by hour of day (UTC), 2025-01-01 to 2025-01-03"
    counts, source = hourly_profile(until="2025-01-01T11:00", db=home.db)
    want = [0.0] * 24
    want[10] = 2.0  # 10:00 and 10:20; 11:00 is the (exclusive) end
    assert counts == want
    assert source == "measured: 2 logged requests by hour of day (UTC), 2025-01-01 to 2025-01-01"


def _hand_option(tasks_per_day: float, peak_to_mean: float, tokens: Tokens, slo: Slo, **kw: Any) -> Any:
    """compare's option for the log written as a workload by hand."""
    w = Workload(name="by hand", tasks_per_day=tasks_per_day, peak_to_mean=peak_to_mean, tokens=tokens,
                 slo=slo, self_hosted=[SelfHostedCandidate(model="llama-3.1-8b", gpus=["h100-sxm"])], **kw)
    return compare(w).options[0]


def test_self_hosted_with_several_replicas_is_paid_every_hour(home):
    # 360,000 requests in the first hour (100/s), 36,000 in the second: 1,000 in / 100 out each
    _openai(home, [(1740787200, 1740790800, 360_000, "gpt-4o-mini", 360_000_000, 36_000_000),
                   (1740790800, 1740794400, 36_000, "gpt-4o-mini", 36_000_000, 3_600_000)])
    r = reprice([SH], utilisation=0.5, ttft_s=1.0, tpot_s=0.05, offers_file=home.offers, db=home.db)
    # the log as a workload: 396,000 requests in 2 h = 55/s mean = 4,752,000 a day; peak 100/s
    o = _hand_option(396_000 * 12, 100 / 55, Tokens(input=1000, output=100), Slo(ttft_s=1.0, tpot_s=0.05),
                     utilisation=0.5)
    assert o.excluded is None and o.replicas > 1  # the mutation x replicas -> / replicas must show
    sh = r.options[1]
    assert (sh.label, sh.kind, sh.how, sh.excluded) == (SH, "self-hosted", o.how, None)
    assert sh.usd == pytest.approx(o.replicas * o.usd_per_replica_hour * 2, rel=TOL)
    _same(sh.by_group, {"all": sh.usd})
    assert sh.provenance == dict(o.provenance)
    assert r.assumptions[2] == ("self-hosted: sized by compare for the peak hour at 50% utilisation, mean tokens "
                                "per request (1,000 in, 100 out), SLO TTFT 1 s, TPOT 0.05 s; paid every hour "
                                "of the window")


def test_self_hosted_by_day_pays_each_days_hours_to_the_microsecond(home):
    _openai(home, [(1740787200, 1740790800, 3600, "gpt-4o-mini", 3_600_000, 360_000)])
    r = reprice([SH], by="day", since="2025-03-01T00:00", until="2025-03-02T00:00:00.250",
                offers_file=home.offers, db=home.db)
    sh = r.options[1]
    assert sh.excluded is None and r.window.hours == pytest.approx(24 + 0.25 / 3600, rel=TOL)
    # a fixed deployment: each day pays its share of the window's 86,400.25 s
    _same(sh.by_group, {"2025-03-01": sh.usd * 86400 / 86400.25, "2025-03-02": sh.usd * 0.25 / 86400.25})


def test_self_hosted_by_tag_is_shared_by_modelled_gpu_time(home):
    _generic(home, SMALL)
    r = reprice([SH], by="tag", ttft_s=2.0, offers_file=home.offers, db=home.db)
    o = _hand_option(4 / 2, (2 / 3600) / (4 / 172800),
                     Tokens(input=4100 / 4, cached_input_fraction=200 / 4100, output=1562 / 4, reasoning=50 / 4),
                     Slo(ttft_s=2.0))
    sh = r.options[1]
    assert sh.usd == pytest.approx(o.replicas * o.usd_per_replica_hour * 48, rel=TOL)
    # weights: input tokens x compare's $/Mtok input + output tokens x its $/Mtok output
    w_in, w_out = o.usd_per_mtok_input, o.usd_per_mtok_output
    weight = {"(no tag)": 100 * w_in + 10 * w_out, "a": 4000 * w_in + 602 * w_out, "b": 1000 * w_out}
    _same(sh.by_group, {g: sh.usd * v / sum(weight.values()) for g, v in weight.items()})
    assert r.assumptions[2].endswith("; paid every hour of the window; --by day: each day's hours, other groups: "
                                     "their share of modelled GPU time")


def _sums(rows: list[tuple[str, int, int, int]]) -> Any:
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE _usage_sums (grp VARCHAR, uncached BIGINT, cached BIGINT, output BIGINT)")
    if rows:
        con.executemany("INSERT INTO _usage_sums VALUES (?, ?, ?, ?)", rows)
    return con


def test_gpu_time_shares_by_hand():
    # group x: 2 uncached rows + 1 cached = 300 input, 10 output; y: 100 input, 30 output
    con = _sums([("x", 200, 0, 10), ("x", 0, 100, 0), ("y", 100, 0, 30)])
    o = SimpleNamespace(usd_per_mtok_input=1.0, usd_per_mtok_output=10.0)
    # weights 300 + 100 = 400 and 100 + 300 = 400: half each
    assert _gpu_time_shares(con, o, 8.0) == {"x": 4.0, "y": 4.0}
    # no input price (None): output alone weighs, 10 : 30
    o = SimpleNamespace(usd_per_mtok_input=None, usd_per_mtok_output=10.0)
    assert _gpu_time_shares(con, o, 8.0) == {"x": 2.0, "y": 6.0}
    # no output price: input alone, 300 : 100
    o = SimpleNamespace(usd_per_mtok_input=1.0, usd_per_mtok_output=None)
    assert _gpu_time_shares(con, o, 8.0) == {"x": 6.0, "y": 2.0}
    # nothing to weigh (no prices), or an infinite weight: an equal split
    assert _gpu_time_shares(con, SimpleNamespace(usd_per_mtok_input=0.0, usd_per_mtok_output=None), 8.0) == {
        "x": 4.0, "y": 4.0}
    inf = SimpleNamespace(usd_per_mtok_input=float("inf"), usd_per_mtok_output=1.0)
    assert _gpu_time_shares(con, inf, 9.0) == {"x": 4.5, "y": 4.5}
    assert _gpu_time_shares(_sums([]), o, 8.0) == {}


def _window(**kw: Any) -> Window:
    base: dict[str, Any] = dict(since=datetime(2025, 1, 1), until=datetime(2025, 1, 2), rows=10, requests=8640,
                                input_tokens=8_640_000, cached_tokens=2_160_000, output_tokens=864_000,
                                reasoning_tokens=432_000, peak_requests_per_s=0.5, peak_source="x")
    return Window(**(base | kw))


def test_sizing_workload_by_hand():
    wl = _sizing_workload(_window(), None, 1.5, 0.05)
    # 8,640 requests in 24 h: 0.1/s mean, 8,640 a day; peak 0.5/s = 5 x mean; per request 1,000 in
    # (a quarter cached), 864,000 - 432,000 = 432,000 / 8,640 = 50 out and 50 reasoning
    assert wl.name == "usage log"
    assert wl.tasks_per_day == pytest.approx(8640, rel=TOL)
    assert wl.peak_to_mean == pytest.approx(5.0, rel=TOL)
    assert wl.utilisation == 0.8  # the workload default (workload.py)
    assert wl.tokens == Tokens(input=1000, cached_input_fraction=0.25, output=50, reasoning=50)
    assert wl.slo == Slo(ttft_s=1.5, tpot_s=0.05)
    # no input tokens: nothing cached; a peak below the mean (a hand window) is taken as flat
    wl = _sizing_workload(_window(input_tokens=0, cached_tokens=0, peak_requests_per_s=0.05), 0.5, None, None)
    assert (wl.tokens.input, wl.tokens.cached_input_fraction, wl.peak_to_mean, wl.utilisation) == (0, 0, 1.0, 0.5)
    assert wl.slo == Slo()


def test_sizing_workload_errors():
    with pytest.raises(InputError) as e:
        _sizing_workload(_window(), 0, None, None)
    assert str(e.value) == "--utilisation must be from 0.01 to 1, got 0"
    # a peak of 20 million requests/s is past the 10 million truecost sizes (workload.py)
    with pytest.raises(InputError) as e:
        _sizing_workload(_window(peak_requests_per_s=2e7), None, None, None)
    assert str(e.value) == ("the usage log's traffic: tasks_per_day x requests_per_task x peak_to_mean / 86,400 "
                            "gives a peak of 2e+07 requests/s, beyond the 10,000,000 requests/s truecost sizes; "
                            "check those three keys")


def test_slo_text():
    assert _slo_text(Slo(ttft_s=0.5, tpot_s=0.05)) == "SLO TTFT 0.5 s, TPOT 0.05 s"
    assert _slo_text(Slo(ttft_s=2.0)) == "SLO TTFT 2 s"
    assert _slo_text(Slo(tpot_s=0.1)) == "SLO TPOT 0.1 s"
    assert _slo_text(Slo()) == "no latency SLO (set --ttft/--tpot)"


def test_days_start_at_midnight_and_stop_before_the_end():
    # 10:30:30.5 on the 1st to one microsecond into the 2nd: both days
    w = _window(since=datetime(2025, 1, 1, 10, 30, 30, 500_000), until=datetime(2025, 1, 2, 0, 0, 0, 1))
    assert _days(w) == ["2025-01-01", "2025-01-02"]
    # an end exactly at midnight leaves that day out
    w = _window(since=datetime(2025, 1, 1, 10), until=datetime(2025, 1, 3))
    assert _days(w) == ["2025-01-01", "2025-01-02"]
