"""forecast, pinned by hand arithmetic: the replica and cost arithmetic on hand-made terms
(``_Terms``/``_Traffic``), the reserved terms read off a GPU's catalog entry, the break-even
search's edges, token scaling, the sensitivity table's rows and order, the shapes' parsing, and
the whole ``forecast()`` on hand-made workloads (offers files, tests/hand.py's FAST GPU and
engine), where a replica's capacity is compare's (an input here) and every cost is worked out in
the comments from it."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests import hand as h
from truecost.compare import compare
from truecost.cost import PriceBasis
from truecost.errors import CatalogError, InputError
from truecost.forecast import (OptionForecast, Shape, _break_even, _daily, _first_month, _fleet,
                               _option, _scaled_tokens, _self_hosted_terms, _series, _Terms, _Traffic,
                               forecast, parse_growth, shape)
from truecost.workload import Workload

from .. import conftest  # noqa: F401 - the autouse clean environment

DAYS = 730 / 24  # days in a month: 8,760 h a year / 12 = 730 h, / 24 h = 30.4167

OFFERS = """\
["hand/a"]
usd_per_mtok_input = 1.0
usd_per_mtok_output = 2.0
source = "hand prices"
as_of = 2026-01-01
["hand/dear"]
usd_per_mtok_input = 1000.0
usd_per_mtok_output = 1000.0
source = "hand prices"
as_of = 2026-01-01
["hand/free"]
usd_per_mtok_input = 0.0
usd_per_mtok_output = 0.0
source = "hand prices"
as_of = 2026-01-01
"""
# hand/a: 1,000 input x $1 + 200 output x $2 = $1,400 per 1M requests = $0.0014 a request


def _traffic(**over) -> _Traffic:
    return _Traffic(**{"requests_per_task": 1.0, "utilisation": 1.0, "peak_to_mean": 1.0, "hourly": None,
                       "step": 1, "minimum": 1, **over})


def _sh(**over) -> _Terms:
    return _Terms(**{"label": "sh", "kind": "self-hosted", "how": "-", "capacity_rps": 1.0,
                     "usd_per_replica_hour": 1.0, **over})


# ---- replicas and daily cost -------------------------------------------------------------------

def test_fleet_counts_requests_per_task_and_the_seconds_of_a_day():
    # 86,400 tasks/day x 2 requests = 2 requests/s; peak 1.5x = 3.000003 with the 1e-6 nudge.
    # One replica serves 1 request/s at 100%: ceil(3.000003) = 4 replicas at the peak.
    tr = _traffic(requests_per_task=2.0, peak_to_mean=1.5)
    fixed, hourly = _fleet(86_400 * (1 + 1e-6), _sh(), tr)
    assert (fixed, hourly) == (4, [])
    # dividing by the requests per task (0.5 requests/s, peak 0.75) or by 86,401 s (3.0000) would
    # need 1 or 3 replicas
    # Daily: 4 replicas x 24 h x $3 = $288 on demand; autoscaled over a 2-weight day (1.5, 0.5):
    # 12 hours need ceil(3.000003) = 4, 12 need ceil(1.000001) = 2 -> (48 + 24) x $3 = $216
    t = _sh(usd_per_replica_hour=3.0)
    assert _daily(86_400 * (1 + 1e-6), t, tr, "on-demand") == pytest.approx(288.0)
    tr_day = _traffic(requests_per_task=2.0, hourly=(1.5,) * 12 + (0.5,) * 12)
    assert _daily(86_400 * (1 + 1e-6), t, tr_day, "autoscaled") == pytest.approx(216.0)


def test_series_by_hand_with_a_reserved_rate_that_is_not_one():
    # capacity 1 request/s at 100%; $2/h on demand, $1.5/h reserved for 1 month; day of 12 busy
    # hours (1.5x) and 12 quiet (0.5x). Month 1: 172,800 tasks/day = 2 requests/s mean:
    #   busy 3 -> 3 replicas, quiet 1 -> 1; peak fleet 3.
    # Month 2: 86,400 tasks/day = 1 request/s: busy 1.5 -> 2, quiet 0.5 -> 1; peak 2.
    t = _sh(usd_per_replica_hour=2.0, usd_per_replica_hour_reserved=1.5, reserved_term_months=1)
    tr = _traffic(hourly=(1.5,) * 12 + (0.5,) * 12)
    plans, replicas = _series([172_800.0, 86_400.0], t, tr)
    assert plans["on-demand"] == pytest.approx([3 * 24 * 2.0 * DAYS, 2 * 24 * 2.0 * DAYS])
    assert plans["autoscaled"] == pytest.approx([(12 * 3 + 12 * 1) * 2.0 * DAYS, (12 * 2 + 12 * 1) * 2.0 * DAYS])
    # a 1-month term: month 2 reserves its own, smaller fleet
    assert plans["reserved"] == pytest.approx([3 * 24 * 1.5 * DAYS, 2 * 24 * 1.5 * DAYS])
    # hybrid: the quiet hours' 1 replica reserved all day ($1.5 x 24 = $36), the busy hours'
    # extra on demand: month 1 12 x 2 x $2 = $48; month 2 12 x 1 x $2 = $24
    assert plans["hybrid"] == pytest.approx([(36 + 48) * DAYS, (36 + 24) * DAYS])
    # mean autoscaled fleet over the 24 hours: (36 + 12) / 24 = 2, (24 + 12) / 24 = 1.5
    assert replicas == {"peak": [3.0, 2.0], "autoscaled mean": [2.0, 1.5]}


def test_series_without_a_day_shape_has_only_the_peak_fleet():
    plans, replicas = _series([86_400.0], _sh(), _traffic(peak_to_mean=2.0))
    assert set(plans) == {"on-demand"} and replicas == {"peak": [2.0]}  # 2 requests/s at the peak


def test_options_keep_what_they_are():
    api = _Terms("A", "api", "API", usd_per_task=0.01, provenance=(("price", "hand"),), notes=("n",))
    # 1,000 tasks/day x $0.01 = $10 a day
    assert _option(api, [1000.0], _traffic()) == OptionForecast(
        "A", "api", "API", {"API": [pytest.approx(10 * DAYS)]}, {}, {"price": "hand"}, ["n"])
    sh = _sh(label="S", how="2 x (cfg)", per_replica="cfg", provenance=(("gpu", "hand"),), notes=("m",))
    o = _option(sh, [86_400.0], _traffic())
    assert (o.label, o.kind, o.how, o.provenance, o.notes) == ("S", "self-hosted", "cfg", {"gpu": "hand"}, ["m"])
    assert o.monthly_usd == {"on-demand": [pytest.approx(1 * 24 * 1.0 * DAYS)]}


def test_first_month_counts_a_tie_as_no_dearer():
    assert _first_month([3.0, 2.0], [2.0, 2.0]) == 2  # month 2: $2 <= $2
    assert _first_month([3.0, 3.0], [2.0, 2.0]) is None


# ---- the break-even search ----------------------------------------------------------------------

def test_break_even_with_an_autoscaling_step_past_the_one_replica_bound():
    # flat day, 1 request/s a replica at 100%, $1/h, replicas in steps of 3 (at least 1).
    # Fully packed a task costs $1 x 24 h / 86,400 = $1/3,600. The API: $1.2/3,600 a task.
    # Volume V needs n = ceil(V / 86,400) replicas, run in 3s: 72 x ceil(n / 3) $/day, which
    # steps at V = 259,200 j to 72 (j + 1). The API costs V / 3,000 a day.
    #   (0, 259,200]:          $72 -> no dearer from V = 72 x 3,000 = 216,000 (first)
    #   (259,200 j, ...] j=1-4: $144, $216, $288, $360 -> dearer until 432,000 ... 1,080,000
    #   j = 5: $432 = 1,296,000 / 3,000 -> no dearer at once, and from then on (always)
    # The search bound: $24 x (3 + 1) / ($0.2 / 3,600) = 1,728,000, beyond 1,080,000; with the
    # step taken as 1 it would be 864,000, short of it.
    tr = _traffic(hourly=(1.0,) * 24, step=3)
    first, always, note = _break_even(_sh(), tr, "autoscaled", 1.2 / 3600)
    assert (first, always, note) == (pytest.approx(216_000), pytest.approx(1_080_000), "")


def test_break_even_below_one_task_a_day():
    # $24 a day for one replica against $100 a task: no dearer from 0.24 tasks/day, and always
    t = _sh()
    first, always, _ = _break_even(t, _traffic(), "on-demand", 100.0)
    assert (first, always) == (pytest.approx(0.24), pytest.approx(0.24))


def test_break_even_never_when_the_api_costs_exactly_the_packed_rate():
    # flat: $1 x 24 h x 1/86,400 replicas per task = 24/86,400 $/task, the API's price to the bit
    price = 1.0 * 24 * (1.0 / 86_400)
    first, always, note = _break_even(_sh(), _traffic(), "on-demand", price)
    assert (first, always) == (None, None)
    assert note == "never: self-hosted costs at least $0.000278/task even when every replica is full, " \
                   "the API $0.000278/task"


def test_break_even_gives_the_bound_when_there_are_too_many_steps():
    # packed rate 1/3,600 $/task; the API 1/3,600 + 1/3.6e9: bound = $24 x (1 + 1) / (1/3.6e9)
    # = 1.728e11 tasks/day, 2,000,000 replica steps of 86,400 -> more than the 200,000 examined
    price = 1 / 3600 + 1 / 3.6e9
    first, always, note = _break_even(_sh(), _traffic(), "on-demand", price)
    assert first == always == pytest.approx(1.728e11, rel=1e-6)
    assert note == "approximate: too many replica steps to examine one by one"


# ---- the reserved terms of a GPU ------------------------------------------------------------------

def _compared(**over):
    return SimpleNamespace(**{"label": "S", "how": "3 x (2x hand-res TP2 bf16)", "capacity_requests_per_s": 5.0,
                              "usd_per_replica_hour": 4.0, "gpus_per_replica": 2,
                              "provenance": {"gpu": "hand"}, **over})


def _gpu(**over):
    return h.gpu("hand-res", **{"usd_per_gpu_hour_reserved": 1.5, "reserved_term_years": 0.5,
                                "reserved_price_source": "hand reserved", **over})


def test_reserved_terms_from_the_gpu_catalog():
    t = _self_hosted_terms(_compared(), _gpu(), PriceBasis.rent)
    # 2 GPUs a replica x $1.5 reserved = $3/h; half a year = 6 months
    assert t == _Terms("S", "self-hosted", "3 x (2x hand-res TP2 bf16)", capacity_rps=5.0,
                       usd_per_replica_hour=4.0, usd_per_replica_hour_reserved=3.0, reserved_term_months=6,
                       provenance=(("gpu", "hand"),
                                   ("reserved price", "catalog:hand reserved@2026-01-01; term 6 months")),
                       notes=(), gpu="hand-res", per_replica="2x hand-res TP2 bf16", owned=False)
    # a term shorter than half a month still reserves for one month
    assert _self_hosted_terms(_compared(), _gpu(reserved_term_years=0.01), PriceBasis.rent).reserved_term_months == 1
    # a how that is not "N x (config)" is kept whole
    assert _self_hosted_terms(_compared(how="cfg"), _gpu(), PriceBasis.rent).per_replica == "cfg"


def test_no_reserved_plan_without_a_rate_or_on_owned_gpus():
    plain = h.gpu("hand-plain")
    t = _self_hosted_terms(_compared(), plain, PriceBasis.rent)
    assert (t.usd_per_replica_hour_reserved, t.reserved_term_months, t.owned) == (None, None, False)
    assert t.notes == ("no reserved price for hand-plain in the GPU catalog: no reserved or hybrid plan",)
    own = _self_hosted_terms(_compared(), _gpu(), PriceBasis.own)
    assert (own.usd_per_replica_hour_reserved, own.owned) == (None, True)
    assert own.notes == ("owned GPUs: no reserved plan",)


# ---- tokens and sensitivity -----------------------------------------------------------------------

def test_scaled_tokens_scale_the_workload_and_each_candidates_overrides():
    w = Workload.model_validate({
        "name": "t", "tasks_per_day": 1, "tokens": {"input": 1000, "output": 200, "reasoning": 50},
        "api": [{"offer": "x/a", "output_tokens": 300}],
        "self_hosted": [{"model": "m", "reasoning_tokens": 40}]})
    s = _scaled_tokens(w, 1.5)
    assert (s.tokens.input, s.tokens.output, s.tokens.reasoning) == (1500, 300, 75)
    assert (s.api[0].output_tokens, s.api[0].reasoning_tokens) == (450, None)
    assert (s.self_hosted[0].output_tokens, s.self_hosted[0].reasoning_tokens) == (None, 60)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "offers.toml").write_text(OFFERS)
    return {"offers": str(tmp_path / "offers.toml"), "model": h.model_file(tmp_path),
            "engine": h.engine_file(tmp_path), "fast": h.gpu_file(tmp_path, h.FAST),
            "res": h.gpu_file(tmp_path, h.gpu("hand-res", bf16_tflops=h.UNBOUNDED_TFLOPS,
                                              memory_tb_s=h.UNBOUNDED_TB_S, usd_per_gpu_hour_reserved=1.5,
                                              reserved_term_years=0.5, reserved_price_source="hand reserved")),
            "other": h.gpu_file(tmp_path, h.gpu("hand-other", bf16_tflops=h.UNBOUNDED_TFLOPS,
                                                memory_tb_s=h.UNBOUNDED_TB_S))}


def _w(files, api: list[str], gpus: list[str], **over) -> Workload:
    sh = [{"model": files["model"], "label": "S", "gpus": [files[g]], "precisions": ["bf16"], "tp": 1,
           "engine": files["engine"]} for g in gpus]
    return Workload.model_validate({"name": "t", "tasks_per_day": 86_400, "peak_to_mean": 2.0,
                                    "tokens": {"input": 1000, "output": 200}, "offers_file": files["offers"],
                                    "api": [{"offer": a} for a in api], "self_hosted": sh, **over})


def _capacity(w: Workload) -> float:
    o = next(o for o in compare(w).options if o.kind == "self-hosted")
    assert o.gpus_per_replica == 1 and o.usd_per_replica_hour == 2.0  # 1 GPU at the hand $2/h
    return o.capacity_requests_per_s


def test_sensitivity_when_an_api_is_cheapest(files):
    # hand/a alone: $0.0014 a task, 86,400 tasks a day
    w = _w(files, ["hand/a"], [])
    f = forecast(w, months=1)
    base = 0.0014 * 86_400 * DAYS  # $3,679.2
    assert f.cheapest.total_usd() == pytest.approx(base)
    got = [(s.assumption, s.change, s.cheapest, round(s.vs_base, 9)) for s in f.sensitivity]
    # API price and tokens per task move the API's cost one for one (input and output both scale),
    # the GPU price and utilisation not at all; ties in swing are ordered by name, then change
    assert got == [("API price", -0.5, "hand/a, API", -0.5), ("API price", 0.5, "hand/a, API", 0.5),
                   ("tokens per task", -0.5, "hand/a, API", -0.5), ("tokens per task", 0.5, "hand/a, API", 0.5),
                   ("GPU price", -0.5, "hand/a, API", 0.0), ("GPU price", 0.5, "hand/a, API", 0.0),
                   ("utilisation", -0.5, "hand/a, API", 0.0), ("utilisation", 0.5, "hand/a, API", 0.0)]
    assert [s.total_usd for s in f.sensitivity[:2]] == pytest.approx([base * 0.5, base * 1.5])


def test_sensitivity_when_self_hosting_on_demand_is_cheapest(files):
    w = _w(files, ["hand/dear"], ["other"])
    cap = _capacity(w)
    # peak (2x) at 1.5 replicas' worth at 80% -> 2 replicas, $2/h each, no reserved rate
    v = 1.5 * cap * 0.8 * 86_400 / 2.0
    f = forecast(w.model_copy(update={"tasks_per_day": v}), months=1)
    base = 2 * 24 * 2.0 * DAYS
    assert f.cheapest.label == "S @ hand-other" and f.cheapest.total_usd() == pytest.approx(base)
    rows = {(s.assumption, s.change): s for s in f.sensitivity}
    assert rows[("GPU price", -0.5)].total_usd == pytest.approx(base * 0.5)  # the on-demand rate moves
    assert rows[("GPU price", -0.5)].vs_base == pytest.approx(-0.5)
    # utilisation 40%: 1.5 x 0.8 / 0.4 = 3 replicas; 120% is capped at 100%: 1.2 -> still 2
    assert rows[("utilisation", -0.5)].total_usd == pytest.approx(3 * 24 * 2.0 * DAYS)
    assert rows[("utilisation", 0.5)].total_usd == pytest.approx(base)
    assert {s.assumption for s in f.sensitivity} == {"GPU price", "utilisation", "tokens per task", "API price"}


def test_a_free_api_makes_every_change_zero(files):
    f = forecast(_w(files, ["hand/free"], []), months=2)
    assert f.cheapest.total_usd() == 0.0
    assert [s.vs_base for s in f.sensitivity] == [0.0] * 8


# ---- the whole forecast -----------------------------------------------------------------------------

SHAPE = "# source:web logs: 2025\nhour,weight\n" + "".join(f"{h_},{3 if h_ < 12 else 1}\n" for h_ in range(24))


def test_forecast_by_hand_with_a_shape_an_api_and_two_gpus(files, tmp_path):
    w = _w(files, ["hand/a"], ["res", "other"], requests_per_task=2)
    cap = _capacity(w)
    # 2 requests a task; mean 1.9 replicas' worth at 80% -> busy (1.5x) 2.85 -> 3, quiet 0.95 -> 1
    v = 1.9 * cap * 0.8 * 86_400 / 2
    (tmp_path / "shape.csv").write_text(SHAPE)
    f = forecast(w.model_copy(update={"tasks_per_day": v}), months=2, growth="5%", diurnal=tmp_path / "shape.csv",
                 scale_step=1, min_replicas=1)
    assert (f.workload, f.months, f.growth_per_month, f.excluded) == ("t", 2, 0.05, {})
    assert f.shape == Shape("shape", (1.5,) * 12 + (0.5,) * 12, "web logs: 2025")
    assert f.assumptions == [
        f"traffic: {v:,.0f} tasks/day x 2 requests in month 1, +5.0%/month; 30.42 days a month",
        "day shape: shape (peak hour 1.50x the mean; web logs: 2025)",
        "self-hosted: replicas sized at 80% utilisation of one replica's capacity within the SLO (compare); "
        "autoscaling on the hour in steps of 1, at least 1 running; configuration chosen for month 1"]
    assert f.notes == ["no reserved price in the GPU catalog for hand-other: no reserved or hybrid plan on them"]
    res = next(o for o in f.options if o.label == "S @ hand-res")
    # month 1, hand-res ($2/h on demand, $1.5/h reserved for 6 months): peak 3 replicas
    #   on demand 3 x 24 x $2; autoscaled (12 x 3 + 12 x 1) x $2; reserved 3 x 24 x $1.5;
    #   hybrid 1 x 24 x $1.5 + 12 x 2 x $2
    assert [res.monthly_usd[p][0] for p in ("on-demand", "autoscaled", "reserved", "hybrid")] == pytest.approx(
        [72 * 2.0 * DAYS, 48 * 2.0 * DAYS, 72 * 1.5 * DAYS, (36 + 48) * DAYS])
    assert res.best_plan == "hybrid" and res.kind == "self-hosted" and res.how == "1x hand-res bf16"
    other = next(o for o in f.options if o.label == "S @ hand-other")
    assert set(other.monthly_usd) == {"on-demand", "autoscaled"}
    api = next(o for o in f.options if o.kind == "api")
    assert (api.how, api.replicas, api.notes) == ("API", {}, [])
    assert api.provenance["price"] == "catalog:hand prices@2026-01-01"
    # API: v tasks x 2 requests x $0.0014 a day
    assert api.monthly_usd["API"] == pytest.approx([v * 2 * 0.0014 * DAYS, v * 1.05 * 2 * 0.0014 * DAYS])
    # break-even: every self-hosted option against the API, on demand and autoscaled
    assert [(b.self_hosted, b.api, b.plan) for b in f.break_even] == [
        (o.label, "hand/a", p) for o in f.options if o.kind == "self-hosted" for p in ("on-demand", "autoscaled")]
    for b in f.break_even:
        assert b.note == "" and b.always_from is not None and b.always_from >= b.tasks_per_day
    d = f.to_dict()
    for od, o in zip(d["options"], f.options):
        assert od["best_plan"] == o.best_plan and od["total_usd"] == {p: sum(s) for p, s in o.monthly_usd.items()}
    rows = f.monthly_rows()
    assert [r["month"] for r in rows] == [1, 2] and rows[0]["tasks_per_day"] == v
    assert rows[0]["S @ hand-res: hybrid"] == pytest.approx((36 + 48) * DAYS)
    assert rows[0]["S @ hand-res: replicas peak"] == 3 and rows[0]["S @ hand-res: replicas autoscaled mean"] == 2
    assert rows[1]["hand/a: API"] == pytest.approx(v * 1.05 * 2 * 0.0014 * DAYS)
    assert set(rows[0]) == {"month", "tasks_per_day", "hand/a: API"} | {
        f"S @ hand-{g}: {k}" for g in ("res", "other")
        for k in ("on-demand", "autoscaled", "replicas peak", "replicas autoscaled mean")} | {
        "S @ hand-res: reserved", "S @ hand-res: hybrid"}


def test_owned_gpus_are_noted(files):
    w = _w(files, [], ["res"])
    w = w.model_copy(update={"self_hosted": [w.self_hosted[0].model_copy(update={"basis": PriceBasis.own})]})
    f = forecast(w, months=1)
    assert f.notes == ["owned GPUs (basis = own): no reserved plan"]


def test_two_gpus_without_a_reserved_rate_are_named_together(files, tmp_path):
    files["third"] = h.gpu_file(tmp_path, h.gpu("hand-third", bf16_tflops=h.UNBOUNDED_TFLOPS,
                                                memory_tb_s=h.UNBOUNDED_TB_S))
    f = forecast(_w(files, ["hand/a"], ["other", "third"]), months=1)
    assert f.notes == ["no reserved price in the GPU catalog for hand-other, hand-third: no reserved or "
                       "hybrid plan on them"]
    assert not forecast(_w(files, ["hand/a"], ["res"]), months=1).notes


def test_defaults_and_bounds_of_months(files):
    w = _w(files, ["hand/a"], [])
    assert len(forecast(w).tasks_per_day) == 24  # two years by default
    assert forecast(w, months=120).months == 120
    with pytest.raises(InputError, match=r"^--min-replicas must be a whole number >= 1, got 0$"):
        forecast(w, min_replicas=0)


def test_the_peak_bound_reads_the_shape_and_the_requests_per_task(files, tmp_path):
    (tmp_path / "s.csv").write_text(SHAPE)  # peak 1.5x
    # 2.88e11 tasks/day x 2 requests x 1.5 / 86,400 s = 1e7 requests/s: at the bound, allowed
    w = _w(files, ["hand/a"], [], tasks_per_day=2.88e11, requests_per_task=2, peak_to_mean=1.0)
    assert forecast(w, months=1, diurnal=tmp_path / "s.csv").tasks_per_day == [2.88e11]
    # a millionth more passes it (the workload itself, at 1x, is at 6.7e6 requests/s)
    over = w.model_copy(update={"tasks_per_day": 2.88e11 * (1 + 1e-6)})
    with pytest.raises(InputError) as e:
        forecast(over, months=1, diurnal=tmp_path / "s.csv")
    assert str(e.value) == ("at +0.0%/month the peak passes the 10,000,000 requests/s truecost sizes in month 1 "
                            "(1e+07 requests/s); give a lower --growth or fewer --months")


def test_no_option_left_names_every_reason(files, tmp_path):
    tiny = h.gpu_file(tmp_path, h.gpu("hand-tiny", memory_gib=0.01, max_gpus_per_node=1))
    w = Workload.model_validate({
        "name": "t", "tasks_per_day": 1000, "tokens": {"input": 1000, "output": 200}, "offers_file": files["offers"],
        "min_accuracy": 0.9, "api": [{"offer": "hand/a", "accuracy": 0.5, "accuracy_source": "hand"}],
        "self_hosted": [{"model": files["model"], "label": "T", "gpus": [tiny], "precisions": ["bf16"],
                         "max_tp": 1, "engine": files["engine"]}]})
    why = {o.label: o.excluded for o in compare(w).options}
    assert all(why.values())
    t = next(k for k in why if k.startswith("T @ "))  # compare names an unfitted GPU as given (its file)
    with pytest.raises(CatalogError) as e:
        forecast(w, months=1)
    assert str(e.value) == (f"t: no option can serve this workload (hand/a: {why['hand/a']}; "
                            f"{t}: {why[t]})")


# ---- shapes and growth ---------------------------------------------------------------------------

def test_named_shapes():
    assert shape("flat") == Shape("flat", (1.0,) * 24, "assumption: the same demand every hour")
    assert shape("business-hours").name == "business-hours"


def test_usage_shape_reads_the_store_it_is_given(tmp_path):
    from truecost.usage import import_usage

    log = tmp_path / "log.csv"
    log.write_text("timestamp,model,input_tokens,output_tokens\n2025-01-01T03:00:00Z,m,1,1\n")
    db = tmp_path / "other.duckdb"
    import_usage(log, db=db)
    s = shape("usage", db=db)
    # one request, at 03:00: weight 1 / (1/24) = 24 there, 0 elsewhere
    assert (s.name, s.weights[3], sum(s.weights)) == ("usage", 24.0, 24.0)
    # forecast passes its store on: 1,000 tasks/day x 1 request, peak 24x the mean
    w = Workload.model_validate({"name": "t", "tasks_per_day": 1000, "tokens": {"input": 10, "output": 1},
                                 "api": [{"offer": "openai/gpt-4o-mini"}]})
    assert forecast(w, months=1, diurnal="usage", db=db).peak_to_mean == 24.0


def test_shape_file_sources_names_and_edges(tmp_path):
    p = tmp_path / "day.csv"
    rows = "".join(f"{h_},{1 if h_ else 0.5}\n" for h_ in range(24))
    p.write_text("# source: a\n# note\n#Xsource: not a source line\n# Source: b\n" + rows)
    s = shape(p)
    # weights 0.5, then 23 x 1: mean 23.5/24; a weight below 1 in total is fine
    assert (s.name, s.source) == ("day", "a; b") and s.weights[0] == pytest.approx(0.5 * 24 / 23.5)
    p.write_text(rows)
    assert shape(p).source == str(p)
    p.write_text("".join(f"{h_},{0.5 if h_ == 5 else 0}\n" for h_ in range(24)))
    assert shape(p).weights[5] == pytest.approx(24)  # all demand in one hour, total 0.5 > 0


@pytest.mark.parametrize("text, message", [
    ("hour,weight\n", "0 hours; a shape needs all 24 (hour,weight rows 0-23)"),
    ("".join(f"{h_},1\n" for h_ in range(23)) + "24,1\n", "hour 24 is not one of 0-23 once each"),
    ("0,1\nmidday-and-then-some-more-words-than-forty,1\n",
     "row 2 is not 'hour,weight' (midday-and-then-some-more-words-than-for)"),
])
def test_shape_file_errors(tmp_path, text, message):
    p = tmp_path / "s.csv"
    p.write_text(text)
    with pytest.raises(InputError) as e:
        shape(p)
    assert str(e.value) == f"{p}: {message}"


def test_a_binary_shape_file(tmp_path):
    p = tmp_path / "s.bin"
    p.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(InputError) as e:
        shape(p)
    assert str(e.value) == f"{p}: not a text file of hour,weight rows"


def test_growth_bound_is_ten_times_a_month():
    assert parse_growth("1000%") == 10
    with pytest.raises(InputError, match=r"^--growth \+1050%/month is out of range"):
        parse_growth("1050%")
    assert math.isclose(parse_growth("-99%"), -0.99)
