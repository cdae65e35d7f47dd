"""Forecast: monthly costs of each plan by hand from one replica's capacity, break-even volumes
against a brute-force scan, shapes, growth and sensitivity."""

from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truecost.compare import DAYS_PER_MONTH, compare
from truecost.errors import InputError
from truecost.forecast import PLANS, _break_even, _daily, _Terms, _Traffic, forecast, parse_growth, shape
from truecost.workload import Workload

from .. import conftest  # noqa: F401 - the autouse clean environment

SHAPE = "hour,weight\n" + "".join(f"{h},{3 if h < 12 else 1}\n" for h in range(24))  # 1.5 / 0.5


@pytest.fixture(autouse=True)
def test_gpu(monkeypatch):
    """An H100 SXM with round prices and a reserved rate, in the GPU catalog for one test."""
    from truecost import catalog
    from truecost.hardware import GPU

    h100 = catalog.gpu("h100-sxm")
    gpu = h100.model_copy(update={
        "key": "testgpu", "aliases": [], "usd_per_gpu_hour": 2.0, "usd_per_gpu_hour_reserved": 1.0,
        "reserved_term_years": 1.0, "reserved_price_source": "test reserved price",
        "price_as_of": date(2025, 1, 1)})
    monkeypatch.setitem(catalog.shipped("gpus.toml", GPU), "testgpu", gpu)


def _workload(tmp_path, tasks_per_day: float, **extra) -> Workload:
    gpu = "testgpu"
    return Workload.model_validate({
        "name": "t", "tasks_per_day": tasks_per_day, "utilisation": 0.8, "peak_to_mean": 2.0,
        "tokens": {"input": 1000, "output": 200}, "slo": {"ttft_s": 2.0, "tpot_s": 0.1},
        "self_hosted": [{"model": "llama-3.1-8b", "gpus": [str(gpu)], "precisions": ["bf16"],
                         "max_tp": 1}], **extra})


def _capacity(tmp_path) -> float:
    o = compare(_workload(tmp_path, 1000)).options[0]
    assert o.gpus_per_replica == 1 and o.usd_per_replica_hour == 2.0
    return o.capacity_requests_per_s


def test_plans_by_hand(tmp_path):
    cap = _capacity(tmp_path)
    # mean 1.9 replicas' worth of requests: busy hours 1.5 x 1.9 = 2.85 -> 3, quiet 0.95 -> 1
    v0 = 1.9 * cap * 0.8 * 86400
    (tmp_path / "shape.csv").write_text(SHAPE)
    f = forecast(_workload(tmp_path, v0), months=3, growth="10%/month", diurnal=tmp_path / "shape.csv")
    o = f.options[0]
    assert f.tasks_per_day == pytest.approx([v0, v0 * 1.1, v0 * 1.21])
    month = DAYS_PER_MONTH
    # month 2: 2.09 replicas' worth: busy 3.135 -> 4, quiet 1.045 -> 2
    assert o.monthly_usd["on-demand"][:2] == pytest.approx([3 * 24 * 2.0 * month, 4 * 24 * 2.0 * month])
    assert o.monthly_usd["autoscaled"][:2] == pytest.approx([(12 * 3 + 12 * 1) * 2.0 * month,
                                                            (12 * 4 + 12 * 2) * 2.0 * month])
    assert o.monthly_usd["reserved"][:2] == pytest.approx([3 * 24 * 1.0 * month, 4 * 24 * 1.0 * month])
    # hybrid: the quiet hours' replicas reserved, the rest on demand in the busy hours
    assert o.monthly_usd["hybrid"][:2] == pytest.approx([(1 * 24 * 1.0 + 12 * 2 * 2.0) * month,
                                                        (2 * 24 * 1.0 + 12 * 2 * 2.0) * month])
    assert o.replicas["peak"][:2] == [3, 4]
    assert o.provenance["reserved price"].startswith("catalog:test reserved price@2025-01-01; term 12")
    # autoscaling in steps of 2 with at least 2 running: busy 3 -> 4, quiet 1 -> 2
    f2 = forecast(_workload(tmp_path, v0), months=1, diurnal=tmp_path / "shape.csv", scale_step=2,
                  min_replicas=2)
    assert f2.options[0].monthly_usd["autoscaled"] == pytest.approx([(12 * 4 + 12 * 2) * 2.0 * month])


def test_reservations_last_their_term_when_traffic_falls(tmp_path):
    cap = _capacity(tmp_path)
    v0 = 3.5 * cap * 0.8 * 86400 / 2.0  # peak (2x mean) needs 3.5 -> 4 replicas
    f = forecast(_workload(tmp_path, v0), months=14, growth=-0.5)
    o = f.options[0]
    # on demand shrinks to the minimum; the 12-month reservation of month 1 holds until month 13
    assert o.replicas["peak"][:3] == [4, 2, 1]
    assert o.monthly_usd["reserved"][:12] == pytest.approx([4 * 24 * 1.0 * DAYS_PER_MONTH] * 12)
    assert o.monthly_usd["reserved"][12] == pytest.approx(2 * 24 * 1.0 * DAYS_PER_MONTH)
    assert "autoscaled" not in o.monthly_usd  # no day shape given


def test_month_one_matches_compare_without_a_shape():
    f = forecast("examples/chat-assistant.toml", months=2)
    c = compare("examples/chat-assistant.toml")
    want = {o.label: o.usd_per_month for o in c.ranked}
    got = {o.label: (o.monthly_usd.get("on-demand") or o.monthly_usd["API"])[0] for o in f.options}
    assert got == pytest.approx(want)
    assert f.peak_to_mean == 2.5 and f.shape is None


def test_break_even_by_hand():
    t = _Terms("sh", "self-hosted", "-", capacity_rps=1.0, usd_per_replica_hour=1.0)
    tr = _Traffic(requests_per_task=1, utilisation=1.0, peak_to_mean=1.0, hourly=None, step=1, minimum=1)
    # one replica serves 86,400 tasks/day for $24: cheaper than $0.0005/task from 48,000 on; at
    # 86,400 a second replica ($48/day) is dearer again until 96,000 tasks/day
    first, always, note = _break_even(t, tr, "on-demand", 0.0005)
    assert (first, always, note) == (pytest.approx(48_000), pytest.approx(96_000), "")
    # $24/day for 86,400 tasks is $0.000278 a task at best: never below $0.0002
    first, always, note = _break_even(t, tr, "on-demand", 0.0002)
    assert first is None and note.startswith("never: self-hosted costs at least $0.000278/task")


@settings(max_examples=60, deadline=None)
@given(cap=st.floats(0.05, 50), usd_h=st.floats(0.1, 20), price=st.floats(1e-5, 0.05),
       weights=st.lists(st.floats(0.0, 5.0), min_size=24, max_size=24).filter(lambda w: sum(w) > 0.1),
       step=st.integers(1, 3), minimum=st.integers(1, 3), auto=st.booleans())
def test_break_even_agrees_with_a_brute_force_scan(cap, usd_h, price, weights, step, minimum, auto):
    mean = sum(weights) / 24
    tr = _Traffic(1.0, 0.8, 2.0, tuple(w / mean for w in weights), step, minimum)
    t = _Terms("sh", "self-hosted", "-", capacity_rps=cap, usd_per_replica_hour=usd_h)
    plan = "autoscaled" if auto else "on-demand"
    first, always, _ = _break_even(t, tr, plan, price)

    def cheaper(v: float) -> bool:
        return _daily(v, t, tr, plan) <= price * v * (1 + 1e-9)

    top = (always or first or 1e6) * 3
    grid = [top * i / 4000 for i in range(1, 4001)]
    if first is None:
        assert not any(cheaper(v) for v in grid)
        return
    assert cheaper(first * (1 + 1e-9)) or cheaper(first + 1e-6)
    assert not any(cheaper(v) for v in grid if v < first * (1 - 1e-9))
    assert all(cheaper(v) for v in grid if v > always * (1 + 1e-9))


def test_sensitivity_of_a_self_hosted_answer(tmp_path):
    cap = _capacity(tmp_path)
    f = forecast(_workload(tmp_path, 1.9 * cap * 0.8 * 86400 / 2.0), months=2)
    base = f.cheapest.total_usd()
    rows = {(s.assumption, s.change): s for s in f.sensitivity}
    # only self-hosted options: the GPU price moves the answer one for one, API price not at all
    assert rows[("GPU price", -0.5)].total_usd == pytest.approx(base * 0.5)
    assert rows[("GPU price", 0.5)].total_usd == pytest.approx(base * 1.5)
    assert rows[("API price", 0.5)].vs_base == 0
    swing = [max(abs(x.vs_base) for x in f.sensitivity if x.assumption == s.assumption)
             for s in f.sensitivity]
    assert swing == sorted(swing, reverse=True)  # the assumption that moves the answer most first
    # the peak is 1.9 replicas' worth at 80% (2 replicas); at 40% it is 3.8 -> 4, reserved at $1/h
    assert rows[("utilisation", -0.5)].cheapest.endswith(", reserved")
    assert rows[("utilisation", -0.5)].total_usd == pytest.approx(4 * 24 * 1.0 * DAYS_PER_MONTH * 2)


def test_shapes(tmp_path):
    flat = shape("flat")
    assert flat.weights == (1.0,) * 24 and flat.peak_to_mean == 1.0
    bh = shape("business-hours")
    assert sum(bh.weights) == pytest.approx(24) and bh.peak_to_mean == pytest.approx(24 / 11.9)
    assert bh.source.startswith("assumption, not a measurement")
    p = tmp_path / "s.csv"
    p.write_text("# source: my traffic\n" + SHAPE)
    s = shape(p)
    assert s.weights == (1.5,) * 12 + (0.5,) * 12 and s.source == "my traffic"


def test_shape_from_imported_usage(tmp_path):
    from truecost.usage import import_usage

    log = tmp_path / "log.csv"
    log.write_text("timestamp,model,input_tokens,output_tokens\n"
                   + "".join(f"2025-01-0{d}T{h:02d}:10:00Z,m,1,1\n" for d in (1, 2) for h in (9, 9, 9, 14)))
    import_usage(log)
    s = shape("usage")
    assert s.weights[9] == pytest.approx(6 / (8 / 24)) and s.weights[14] == pytest.approx(2 / (8 / 24))
    assert s.weights[0] == 0 and s.source.startswith("measured: 8 logged requests by hour of day")


@pytest.mark.parametrize("text, message", [
    ("hour,weight\n0,1\n", "1 hours; a shape needs all 24 (hour,weight rows 0-23)"),
    ("0,1\n0,2\n", "hour 0 is not one of 0-23 once each"),
    ("hour,weight\n0,-1\n", "hour 0 has weight -1; weights must be >= 0"),
    ("hour,weight\nnoon,1\n", "row 1 is not 'hour,weight' (noon,1)"),
    ("".join(f"{h},0\n" for h in range(24)), "all weights are 0"),
])
def test_bad_shape_files(tmp_path, text, message):
    p = tmp_path / "s.csv"
    p.write_text(text)
    with pytest.raises(InputError) as e:
        shape(p)
    assert str(e.value) == f"{p}: {message}"


@pytest.mark.parametrize("text, want", [("8%/month", 0.08), ("8%", 0.08), ("0.08", 0.08),
                                        ("-5% / mo", -0.05), (0.1, 0.1), ("+12.5%", 0.125)])
def test_growth(text, want):
    assert parse_growth(text) == pytest.approx(want)


@pytest.mark.parametrize("kw, message", [
    ({"growth": "fast"}, "--growth 'fast' is not a monthly rate; use e.g. 8%/month, 8% or 0.08"),
    ({"growth": "-100%"}, "--growth -100%/month is out of range; use more than -100% and at most "
                          "+1000% a month"),
    # chat-assistant: 200,000 tasks/day, 1 request each, peak 2.5x. Month m has 200,000 x 11^(m-1)
    # tasks/day at +1000%: month 6 peaks at 2e5 x 161,051 x 2.5 / 86,400 = 9.32e5 requests/s,
    # month 7 at 2e5 x 1,771,561 x 2.5 / 86,400 = 1.03e7, past the 1e7 bound
    ({"growth": "1000%", "months": 7}, "at +1000.0%/month the peak passes the 10,000,000 requests/s "
                                       "truecost sizes in month 7 (1.03e+07 requests/s); give a lower "
                                       "--growth or fewer --months"),
    ({"months": 0}, "--months must be a whole number from 1 to 120, got 0"),
    ({"scale_step": 0}, "--scale-step must be a whole number >= 1, got 0"),
    ({"diurnal": "weekends"}, "--diurnal weekends: file not found (or use flat, business-hours, usage)"),
])
def test_errors(kw, message):
    with pytest.raises(InputError) as e:
        forecast("examples/chat-assistant.toml", **kw)
    assert str(e.value) == message


def test_break_even_month_is_read_off_the_monthly_series():
    f = forecast("examples/chat-assistant.toml", months=24, growth="8%", diurnal="business-hours")
    for b in f.break_even:
        sh = next(o for o in f.options if o.label == b.self_hosted)
        a = next(o for o in f.options if o.label == b.api)
        months = [m + 1 for m in range(24) if sh.monthly_usd[b.plan][m] <= a.monthly_usd["API"][m]]
        assert b.month == (months[0] if months else None)
        if b.tasks_per_day is None:
            assert b.month is None  # never cheaper at any volume
    assert not math.isnan(f.to_dict()["options"][0]["total_usd"][f.cheapest.best_plan])
    assert PLANS == ("on-demand", "autoscaled", "reserved", "hybrid")


def test_six_months_at_1000_percent_stay_within_the_bound():  # month 6: 9.32e5 requests/s (above)
    f = forecast("examples/chat-assistant.toml", growth="1000%", months=6)
    assert f.tasks_per_day[-1] == pytest.approx(200_000 * 11**5)
