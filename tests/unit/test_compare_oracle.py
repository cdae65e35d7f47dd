"""compare, pinned by hand arithmetic: API cost per request / task / month / correct answer with
token overrides and their provenance, the per-token trap note and its boundaries, ranking
(task, correct, month; excluded rows last), the quality bar's edges, the assumption lines, the
overflow errors, self-hosted context and price-split edges, and the shared-compute (swarm and
offload) sizing helpers on hand-made latency curves.

Prices come from hand-made offers files (``OFFERS`` below), hardware from tests/hand.py (its
FAST GPU: every step costs the hand engine's fixed 1 ms; $2/GPU-hour), so every expected figure
is worked out in the comments from those numbers."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests import hand as h
from truecost.compare import _at_load, _meets, _money, _priced, _shared_option, _sized, _stat, compare
from truecost.errors import InputError
from truecost.perf.simulate import Objective
from truecost.perf.swarm import Server
from truecost.sizing import SIM_REQUESTS, SIM_SEED, SIM_WARMUP
from truecost.workload import SwarmCandidate, Workload

REL = 1e-12
HOURS = 730  # truecost.cost.HOURS_PER_MONTH: 8,760 h / 12

# Hand prices, $ per 1M tokens. No cached price: cached input is billed at the input price.
OFFERS = """\
["hand/a"]
usd_per_mtok_input = 1.0
usd_per_mtok_output = 2.0
source = "hand prices"
as_of = 2026-01-01
["hand/b"]
usd_per_mtok_input = 1.0
usd_per_mtok_output = 4.0
source = "hand prices"
as_of = 2026-01-01
["hand/c"]
usd_per_mtok_input = 1.0
usd_per_mtok_output = 3.0
source = "other prices"
as_of = 2026-02-01
["hand/d"]
usd_per_mtok_input = 1.5
usd_per_mtok_output = 2.0
source = "hand prices"
as_of = 2026-01-01
["hand/e"]
usd_per_mtok_input = 1.0
usd_per_mtok_output = 3.995
source = "hand prices"
as_of = 2026-01-01
["hand/f"]
usd_per_mtok_input = 1.0
usd_per_mtok_output = 3.99
source = "hand prices"
as_of = 2026-01-01
["hand/cheap"]
usd_per_mtok_input = 0.05
usd_per_mtok_output = 0.05
source = "hand prices"
as_of = 2026-01-01
["hand/dear"]
usd_per_mtok_input = 0.08
usd_per_mtok_output = 0.08
source = "hand prices"
as_of = 2026-01-01
["hand/huge"]
usd_per_mtok_input = 1e300
usd_per_mtok_output = 0.0
source = "hand prices"
as_of = 2026-01-01
"""


@pytest.fixture
def offers(tmp_path: Path) -> str:
    p = tmp_path / "offers.toml"
    p.write_text(OFFERS)
    return str(p)


def _w(offers: str, api: list[dict], **over) -> Workload:
    return Workload.model_validate({"name": "t", "tasks_per_day": 86_400, "tokens": {"input": 1000, "output": 200},
                                    "offers_file": offers, "api": api, **over})


# ---- API rows: cost, tokens, provenance, and the trap note ---------------------------------------

def test_api_rows_by_hand_with_overrides_sources_traffic_and_the_trap(offers):
    # 43,200 tasks/day x 2.5 requests = 1.25 req/s mean; peak 1.5x = 1.875 req/s.
    # Month: 43,200 x 730 / 24 = 1,314,000 tasks.
    w = _w(offers, [{"offer": "hand/a", "reasoning_tokens": 2000},
                    {"offer": "hand/b", "label": "B", "tokens_source": "token-economy/x"}],
           tasks_per_day=43_200, requests_per_task=2.5, peak_to_mean=1.5,
           tokens={"input": 1000, "output": 200, "cached_input_fraction": 0.25})
    c = compare(w)
    assert (c.workload, c.rank_by, c.ttft_stat, c.tpot_stat) == ("t", "task", "mean", "mean")
    assert c.tasks_per_month == pytest.approx(1_314_000, rel=REL)
    assert c.peak_requests_per_s == pytest.approx(1.875, rel=REL)
    # No self-hosted candidate: cached input is not a self-hosted matter here, whatever its share.
    assert c.assumptions == [
        "traffic: 43,200 tasks/day x 2.5 requests, peak hour 1.5x the mean = 1.88 requests/s",
        "self-hosted: replicas sized for the peak at 80% utilisation, up 730 h/month; no cached input",
        "API latency is not modelled (measure it with `truecost bench`)"]
    b, a = c.options  # ranked by $/task: B first
    # a: 1,000 input (250 cached, billed at the $1 input price: no cached price) x $1
    #    + (200 output + 2,000 reasoning) x $2 = 1,000 + 4,400 = $5,400 per 1M => $0.0054/request
    assert a.label == "hand/a" and a.kind == "api" and a.how == "API"
    assert a.usd_per_request == pytest.approx(0.0054, rel=REL)
    assert a.usd_per_task == pytest.approx(0.0054 * 2.5, rel=REL)  # 0.0135
    assert a.usd_per_month == pytest.approx(0.0135 * 1_314_000, rel=REL)  # $17,739
    assert (a.usd_per_mtok_input, a.usd_per_mtok_output) == (1.0, 2.0)
    assert a.tokens == {"input": 1000, "cached_input": 250, "output": 200, "reasoning": 2000}
    assert a.provenance == {"price": "catalog:hand prices@2026-01-01",
                            "tokens": "input: workload, per-model token override"}
    assert (a.usd_per_correct_answer, a.accuracy, a.excluded) == (None, None, None)
    assert (a.gpus, a.ttft_s, a.tpot_s, a.replicas, a.gpus_per_replica) == (None,) * 5
    assert (a.capacity_requests_per_s, a.usd_per_replica_hour) == (None, None)
    # b: 1,000 x $1 + 200 x $4 = $1,800 per 1M => $0.0018/request, $0.0045/task
    assert b.label == "B"
    assert b.usd_per_request == pytest.approx(0.0018, rel=REL)
    assert b.usd_per_task == pytest.approx(0.0045, rel=REL)
    assert b.usd_per_month == pytest.approx(0.0045 * 1_314_000, rel=REL)  # $5,913
    assert b.tokens == {"input": 1000, "cached_input": 250, "output": 200, "reasoning": 0}
    assert b.provenance == {"price": "catalog:hand prices@2026-01-01", "tokens": "token-economy/x"}
    # a is cheaper per token (input $1 <= $1, output $2 < $4) yet 0.0135 / 0.0045 = 3x dearer per
    # task: it generates 2,200 / 200 = 11x the tokens.
    assert b.trap is None
    assert a.trap == ("cheaper per token than B ($2.00 vs $4.00 per 1M output) but 3x dearer per task; "
                      "it generates 11.0x the tokens per task (2,200 vs 200)")
    assert [o.label for o in c.ranked] == ["B", "hand/a"]


def test_cached_input_is_billed_at_the_cached_price_and_accuracy_zero_has_no_cost_per_correct(tmp_path):
    (tmp_path / "o.toml").write_text('["hand/z"]\nusd_per_mtok_input = 2.0\nusd_per_mtok_cached_input = 0.5\n'
                                     'usd_per_mtok_output = 1.0\nsource = "s"\nas_of = 2026-01-01\n')
    w = _w(str(tmp_path / "o.toml"), [{"offer": "hand/z", "accuracy": 0.0},
                                      {"offer": "hand/z", "label": "half", "accuracy": 0.5,
                                       "accuracy_source": "my eval", "output_tokens": 100}],
           tokens={"input": 1000, "output": 200, "cached_input_fraction": 0.4})
    by = {o.label: o for o in compare(w).options}
    zero, half = by["hand/z"], by["half"]
    # 600 x $2 + 400 x $0.5 + 200 x $1 = 1,200 + 200 + 200 = $1,600 per 1M
    assert zero.usd_per_task == pytest.approx(0.0016, rel=REL)
    assert zero.usd_per_correct_answer is None  # never right: no finite cost per correct answer
    assert zero.provenance["accuracy"] == "input: workload" and zero.accuracy == 0.0
    # half: 1,200 + 200 + 100 x $1 = $1,500 per 1M; per correct answer $0.0015 / 0.5 = $0.003
    assert half.usd_per_task == pytest.approx(0.0015, rel=REL)
    assert half.usd_per_correct_answer == pytest.approx(0.003, rel=REL)
    assert half.provenance == {"price": "catalog:s@2026-01-01",
                               "tokens": "input: workload, per-model token override", "accuracy": "my eval"}


@pytest.mark.parametrize("other, trapped", [
    ("hand/d", False),  # input $1.5 > $1: not cheaper per token on input
    ("hand/b", True),  # $1 <= $1 on input, $2 < $4 on output
])
def test_the_trap_needs_input_no_dearer_and_output_strictly_cheaper(offers, other, trapped):
    # 'long' at hand/a prices: 1,000 x $1 + 2,200 x $2 = $5,400 per 1M; the other at 200 output:
    # d = 1,500 + 400 = $1,900, b = 1,000 + 800 = $1,800: both cheaper per task than long.
    c = compare(_w(offers, [{"offer": "hand/a", "label": "long", "reasoning_tokens": 2000},
                            {"offer": other, "label": "short"}]))
    long = next(o for o in c.options if o.label == "long")
    assert (long.trap is not None) is trapped


def test_equal_output_prices_are_no_trap(offers):
    # the same offer twice: equal prices, the one with reasoning dearer per task; not "cheaper"
    c = compare(_w(offers, [{"offer": "hand/b", "label": "long", "reasoning_tokens": 2000},
                            {"offer": "hand/b", "label": "short"}]))
    assert [o.trap for o in c.options] == [None, None]


def test_the_trap_explains_token_counts_only_when_they_differ_by_more_than_half_a_token(offers):
    # e (out $3.995) with 200.5 output tokens vs b ($4) with 200: 1,000 + 200.5 x 3.995 = 1,800.9975
    # > 1,800, so e is dearer per task; the counts differ by 0.5 token: no token explanation.
    # f (out $3.99) with 201: 1,000 + 801.99 = 1,801.99 > 1,800; they differ by 1 token: explained.
    c = compare(_w(offers, [{"offer": "hand/b", "label": "b"},
                            {"offer": "hand/e", "label": "e", "output_tokens": 200.5},
                            {"offer": "hand/f", "label": "f", "output_tokens": 201}]))
    by = {o.label: o for o in c.options}
    assert [o.label for o in c.ranked] == ["b", "e", "f"]
    # 1,800.9975 / 1,800 = 1.0006 -> "1" at 2 significant figures; $3.995 printed at cents
    assert by["e"].trap == (f"cheaper per token than b (${3.995:.2f} vs $4.00 per 1M output) but 1x dearer "
                            "per task")
    assert by["f"].trap == ("cheaper per token than b ($3.99 vs $4.00 per 1M output) but 1x dearer per task; "
                            "it generates 1.0x the tokens per task (201 vs 200)")


def test_the_trap_names_the_cheapest_such_option_and_skips_a_generation_ratio_over_zero(offers):
    # b: $1,800; c: 1,000 + 200 x 3 = $1,600 per 1M; long (a prices, 2,200 generated): $5,400.
    # Both are dearer per token than long and cheaper per task: the note names c, the cheapest.
    c = compare(_w(offers, [{"offer": "hand/a", "label": "long", "reasoning_tokens": 2000},
                            {"offer": "hand/b", "label": "b"}, {"offer": "hand/c", "label": "c"}]))
    assert [o.label for o in c.options] == ["c", "b", "long"]
    assert c.options[2].trap == ("cheaper per token than c ($2.00 vs $3.00 per 1M output) but 3.4x dearer "
                                 "per task; it generates 11.0x the tokens per task (2,200 vs 200)")  # 5400/1600
    assert c.options[1].trap is None  # b is dearer per token than c on output
    # the other generates nothing: 1,000 x $1 = $1,000 vs long's; no ratio to state
    zero = compare(_w(offers, [{"offer": "hand/a", "label": "long", "reasoning_tokens": 2000},
                               {"offer": "hand/b", "label": "none", "output_tokens": 0}]))
    assert zero.options[1].trap == ("cheaper per token than none ($2.00 vs $4.00 per 1M output) but 5.4x "
                                    "dearer per task")


def test_small_prices_print_to_three_significant_figures(offers):
    # cheap: 1,000 x 0.05 + 2,200 x 0.05 = $160 per 1M; dear: 1,200 x 0.08 = $96 per 1M
    c = compare(_w(offers, [{"offer": "hand/cheap", "reasoning_tokens": 2000}, {"offer": "hand/dear"}]))
    assert c.options[1].trap == ("cheaper per token than hand/dear ($0.05 vs $0.08 per 1M output) but 1.7x "
                                 "dearer per task; it generates 11.0x the tokens per task (2,200 vs 200)")
    assert (_money(None), _money(0.1), _money(0.0999), _money(1234.5)) == ("-", "$0.10", "$0.0999", "$1,234.50")


def test_excluded_rows_neither_carry_nor_cause_a_trap(offers):
    # long below the bar: no note on it; short below the bar: long has no cheaper ranked rival
    w = _w(offers, [{"offer": "hand/a", "label": "long", "reasoning_tokens": 2000, "accuracy": 0.5},
                    {"offer": "hand/b", "label": "short", "accuracy": 0.9}], min_accuracy=0.8)
    assert [o.trap for o in compare(w).options] == [None, None]
    w = _w(offers, [{"offer": "hand/a", "label": "long", "reasoning_tokens": 2000, "accuracy": 0.9},
                    {"offer": "hand/b", "label": "short", "accuracy": 0.5}], min_accuracy=0.8)
    assert [(o.label, o.trap) for o in compare(w).options] == [("long", None), ("short", None)]


# ---- ranking and the quality bar ---------------------------------------------------------------

def test_excluded_rows_follow_in_every_ranking(offers):
    # short: $1,800 per 1M, accuracy 50% (below the 80% bar, excluded); long: $5,400 at 90%;
    # none: $1,000 (no output), 100% => $/correct 0.001 < long's 0.0054 / 0.9 = 0.006
    api = [{"offer": "hand/b", "label": "short", "accuracy": 0.5},
           {"offer": "hand/a", "label": "long", "reasoning_tokens": 2000, "accuracy": 0.9},
           {"offer": "hand/b", "label": "none", "output_tokens": 0, "accuracy": 1.0}]
    for rank_by in ("task", "correct", "month"):
        c = compare(_w(offers, api, min_accuracy=0.8), rank_by=rank_by)
        assert [o.label for o in c.options] == ["none", "long", "short"], rank_by
        assert c.options[2].excluded == "accuracy 50% below the bar of 80%"
        assert c.options[1].usd_per_correct_answer == pytest.approx(0.0054 / 0.9, rel=REL)
        # every row has an accuracy: no line about rows without one
        assert c.assumptions[-1] == "API latency is not modelled (measure it with `truecost bench`)"


def test_rank_by_correct_puts_rows_without_a_cost_per_correct_after_by_task(offers):
    # long: $0.0054 at 90% => $0.006/correct; b: $0.0018, no accuracy; zero: $0.0018 x ... at 0%:
    # no $/correct either. b and zero follow long, ordered by $/task (none $0.001 < b $0.0018).
    api = [{"offer": "hand/b", "label": "b"},
           {"offer": "hand/a", "label": "long", "reasoning_tokens": 2000, "accuracy": 0.9},
           {"offer": "hand/b", "label": "none", "output_tokens": 0, "accuracy": 0.0}]
    c = compare(_w(offers, api), rank_by="correct")
    assert [o.label for o in c.options] == ["long", "none", "b"]
    assert c.assumptions[-1] == "ranked by $/correct answer; options without an accuracy follow, by $/task"
    by_task = compare(_w(offers, api))
    assert [o.label for o in by_task.options] == ["none", "b", "long"]
    assert by_task.assumptions[-1] == "API latency is not modelled (measure it with `truecost bench`)"
    by_month = compare(_w(offers, api), rank_by="month")
    assert [o.label for o in by_month.options] == ["none", "b", "long"] and by_month.rank_by == "month"


def test_a_bar_of_zero_is_no_bar_and_an_excluded_row_keeps_its_own_reason(offers, tmp_path):
    c = compare(_w(offers, [{"offer": "hand/b"}], min_accuracy=0.0))
    assert c.options[0].excluded is None  # no accuracy stated, and no bar to meet
    c = compare(_w(offers, [{"offer": "hand/b", "accuracy": 0.7499}], min_accuracy=0.75))
    assert c.options[0].excluded == "accuracy 75% below the bar of 75%"  # just below (rounded for print)
    assert compare(_w(offers, [{"offer": "hand/b", "accuracy": 0.75}], min_accuracy=0.75)).options[0].excluded is None
    tiny = h.gpu_file(tmp_path, h.gpu("hand-tiny", memory_gib=0.01, max_gpus_per_node=1))
    w = Workload.model_validate({
        "name": "t", "tasks_per_day": 86_400, "tokens": {"input": 1000, "output": 100}, "min_accuracy": 0.5,
        "self_hosted": [{"model": h.model_file(tmp_path), "gpus": [tiny], "precisions": ["bf16", "fp8"],
                         "max_tp": 1, "engine": h.engine_file(tmp_path)}]})
    (o,) = compare(w).options
    # the last configuration's reason, not the bar's (no accuracy is stated either)
    assert o.excluded.startswith("hand-2l at fp8 does not fit on 1x hand-tiny: needs ")


# ---- errors: results that overflow -------------------------------------------------------------

OVERFLOW = "is beyond 1.8e308, the largest number this arithmetic holds"


def test_overflowing_results_are_one_line_errors(offers):
    # 1e308 tasks/day x 730 / 24 days overflows a float (the peak stays tiny: 1e-300 requests each)
    with pytest.raises(InputError) as e:
        compare(_w(offers, [{"offer": "hand/b"}], tasks_per_day=1e308, requests_per_task=1e-300))
    assert str(e.value) == f"the result overflows: tasks per month {OVERFLOW}; give a smaller tasks_per_day"
    hint = "check the workload's traffic and token counts"
    # $1e300 per 1M x 1e300 input tokens: one request overflows
    with pytest.raises(InputError) as e:
        compare(_w(offers, [{"offer": "hand/huge"}], tokens={"input": 1e300, "output": 1}))
    assert str(e.value) == f"the result overflows: hand/huge $/request {OVERFLOW}; {hint}"
    # 1e6 tokens: $1e300 a request, x 1e10 requests a task overflows
    with pytest.raises(InputError) as e:
        compare(_w(offers, [{"offer": "hand/huge"}], tokens={"input": 1e6, "output": 1},
                   requests_per_task=1e10, tasks_per_day=1e-6))
    assert str(e.value) == f"the result overflows: hand/huge $/task {OVERFLOW}; {hint}"
    # $1e300 a task x 1e10 x 30.4 tasks a month overflows
    with pytest.raises(InputError) as e:
        compare(_w(offers, [{"offer": "hand/huge"}], tokens={"input": 1e6, "output": 1}, tasks_per_day=1e10))
    assert str(e.value) == f"the result overflows: hand/huge $/month {OVERFLOW}; {hint}"


# ---- self-hosted edges on the hand model (FAST GPU: every step the engine's fixed 1 ms) --------

@pytest.fixture
def files(tmp_path):
    ctx = h.ModelArch(key="hand-ctx", **{**h.MODEL_FIELDS, "max_context": 1200})
    return {"model": h.model_file(tmp_path), "ctx": h.model_file(tmp_path, ctx),
            "fast": h.gpu_file(tmp_path, h.FAST), "tiny": h.gpu_file(tmp_path, h.gpu("hand-tiny", memory_gib=0.01)),
            "engine4": h.engine_file(tmp_path, "hand-engine-4", max_batch_size=4, max_num_tokens=8192),
            "cache-a": h.engine_file(tmp_path, "hand-cache-a", max_batch_size=4, max_num_tokens=8192,
                                     prefix_caching=True),
            "cache-b": h.engine_file(tmp_path, "hand-cache-b", max_batch_size=4, max_num_tokens=8192,
                                     prefix_caching=True)}


def _hosted(files, **over):
    return {"model": files["model"], "gpus": [files["fast"]], "precisions": ["bf16"], "max_tp": 1,
            "engine": files["engine4"], **over}


def _hosted_w(files, tokens, hosted, **over) -> Workload:
    # 864,000 tasks/day = 10 req/s, x3 = 30 at the peak; at 30% utilisation 12 req/s per replica
    return Workload.model_validate({"name": "t", "tasks_per_day": 864_000, "peak_to_mean": 3.0,
                                    "utilisation": 0.3, "tokens": tokens, "self_hosted": hosted, **over})


def test_the_context_limit_is_inclusive_and_its_message_counts_rounded_tokens(files):
    fits = compare(_hosted_w(files, {"input": 1000, "output": 200}, [_hosted(files, model=files["ctx"])]))
    assert fits.options[0].excluded is None  # 1,000 + 200 = the 1,200-token context exactly
    over = compare(_hosted_w(files, {"input": 1001, "output": 200}, [_hosted(files, model=files["ctx"])]))
    assert over.options[0].excluded == "1,001 input + 200 output tokens exceed hand-ctx's context of 1,200 tokens"
    # 0.4 input tokens round to 0 and count as 1; 1,300.4 generated round to 1,300
    tiny = compare(_hosted_w(files, {"input": 0.4, "output": 1300, "reasoning": 0.4},
                             [_hosted(files, model=files["ctx"])]))
    assert tiny.options[0].excluded == "1 input + 1,300 output tokens exceed hand-ctx's context of 1,200 tokens"


def test_no_input_tokens_no_input_price_and_sources_in_provenance(files):
    # capacity 4 sequences / (100 steps x 1 ms) = 40 req/s; ceil(30 / (40 x 0.3)) = 3 replicas,
    # $2 x 3 x 730 h = $4,380 a month over 864,000 x 730 / 24 = 26,280,000 requests: all of it on
    # the 100 output tokens (no input tokens to price)
    c = compare(_hosted_w(files, {"input": 0, "output": 100},
                          [_hosted(files, tokens_source="my profile", accuracy=0.8)]))
    o = c.options[0]
    assert (o.replicas, o.usd_per_month) == (3, pytest.approx(4380, rel=REL))
    assert o.usd_per_mtok_input is None
    assert o.usd_per_mtok_output == pytest.approx(4380 / (26_280_000 * 100) * 1e6, rel=1e-9)
    assert o.usd_per_correct_answer == pytest.approx(4380 / 26_280_000 / 0.8, rel=REL)
    assert o.provenance["tokens"] == "my profile" and o.provenance["accuracy"] == "input: workload"
    assert list(o.provenance) == ["price", "perf", "tokens", "accuracy"]
    assert o.usd_per_replica_hour == pytest.approx(2.0, rel=REL)  # $6/h over 3 replicas
    plain = compare(_hosted_w(files, {"input": 1000, "output": 100}, [_hosted(files)])).options[0]
    assert list(plain.provenance) == ["price", "perf"] and plain.usd_per_correct_answer is None


def test_no_generated_tokens_no_output_price(files):
    o = compare(_hosted_w(files, {"input": 1000, "output": 0}, [_hosted(files)])).options[0]
    assert o.excluded is None and o.usd_per_mtok_output is None


def test_caching_assumption_names_the_caching_engines_and_hit_rates(files):
    tokens = {"input": 1000, "output": 100, "cached_input_fraction": 0.5}
    # engines listed in name order, hit rates in increasing order, each once; the third candidate's
    # engine caches no prefix, so its (default, 100%) hit rate is not one that applies
    w = _hosted_w(files, tokens, [_hosted(files, engine=files["cache-b"], prefix_cache_hit_rate=0.9),
                                  _hosted(files, engine=files["cache-a"], prefix_cache_hit_rate=0.2),
                                  _hosted(files, engine=files["cache-a"], prefix_cache_hit_rate=0.9),
                                  _hosted(files)])
    a, b = sorted([files["cache-a"], files["cache-b"]])
    assert compare(w).assumptions[1] == (
        "self-hosted: replicas sized for the peak at 30% utilisation, up 730 h/month; prefix caching "
        f"({a}, {b}) skips the prefill of the cached 50% of input x hit rate 20%/90%")
    none = _hosted_w(files, tokens, [_hosted(files)])
    assert compare(none).assumptions[1] == ("self-hosted: replicas sized for the peak at 30% utilisation, up "
                                            "730 h/month; engines without prefix caching recompute the cached input")


def test_slo_and_shared_assumptions_and_the_reported_statistics(files):
    # a self-hosted row that does not fit (no simulation runs) still states how SLOs are judged
    hosted = [_hosted(files, gpus=[files["tiny"]])]
    c = compare(_hosted_w(files, {"input": 1000, "output": 100}, hosted,
                          slo={"ttft_s": 0.5, "tpot_p99_s": 0.05}))
    assert (c.ttft_stat, c.tpot_stat) == ("p95", "p99")  # no TTFT percentile: p95 by default
    assert c.assumptions[2] == (
        "SLO ttft mean <= 500 ms, tpot p99 <= 50 ms: means from the steady-state model; percentiles from "
        f"simulating one replica at its share of the peak (Poisson, {SIM_REQUESTS} requests, first "
        f"{SIM_WARMUP} left out, seed {SIM_SEED})")
    only_tails = compare(_hosted_w(files, {"input": 1000, "output": 100}, hosted, slo={"ttft_p90_s": 2.0}))
    assert only_tails.assumptions[2] == (
        f"SLO ttft p90 <= 2 s: percentiles from simulating one replica at its share of the peak (Poisson, "
        f"{SIM_REQUESTS} requests, first {SIM_WARMUP} left out, seed {SIM_SEED})")
    assert (only_tails.ttft_stat, only_tails.tpot_stat) == ("p90", "p95")
    # an SLO with no self-hosted row: no SLO line; a swarm and an offload with no precision to try
    shared = Workload.model_validate({
        "name": "t", "tasks_per_day": 86_400, "requests_per_task": 2.0, "tokens": {"input": 1000, "output": 100},
        "slo": {"tpot_s": 0.1}, "swarm": [{"model": "llama-3.1-8b", "servers": "2x rtx-3060", "precisions": []}],
        "offload": [{"model": "llama-3.1-8b", "gpus": ["rtx-4090", "l4"], "precisions": []}]})
    c = compare(shared)
    assert c.assumptions == [
        "traffic: 86,400 tasks/day x 2 requests, peak hour 3x the mean = 6 requests/s",
        "self-hosted: replicas sized for the peak at 80% utilisation, up 730 h/month; no cached input",
        "swarm/offload: sized like replicas (a swarm of servers, or one offloading GPU, each) at the most "
        "concurrent sequences whose modelled mean latencies meet the SLO (no simulation); volunteers pay "
        "electricity only while busy",
        "API latency is not modelled (measure it with `truecost bench`)"]
    assert [(o.label, o.kind, o.how, o.excluded) for o in c.options] == [
        ("llama-3.1-8b swarm", "swarm", "-", "no precision tried"),
        ("llama-3.1-8b offload @ rtx-4090", "offload", "-", "no precision tried"),
        ("llama-3.1-8b offload @ l4", "offload", "-", "no precision tried")]
    assert all(o.usd_per_task == math.inf and o.provenance == {} for o in c.options)
    tails = compare(Workload.model_validate({**shared.model_dump(), "slo": {"tpot_p95_s": 0.1}}))
    assert tails.assumptions[2].endswith("(no simulation; percentile limits are held by the means, an optimistic "
                                         "check); volunteers pay electricity only while busy")


def test_stat_takes_the_highest_percentile_of_the_metric():
    assert _stat((Objective("ttft", "p50", 1.0), Objective("ttft", "p90", 1.0)), "ttft") == "p90"
    assert _stat((Objective("ttft", "p99", 1.0), Objective("ttft", "p95", 1.0)), "ttft") == "p99"
    assert _stat((Objective("tpot", "p50", 1.0),), "ttft") == "p95"


# ---- shared compute: the sizing helpers on a hand-made latency curve ---------------------------
# One unit (a swarm, or one offloading GPU) at n concurrent sequences: TTFT 0.1 s, TPOT
# 0.01 + 0.001 n s, tokens/s = n / TPOT.

def curve(n: int) -> tuple[float, float, float]:
    tpot = 0.01 + 0.001 * n
    return 0.1, tpot, n / tpot


def test_meets_holds_each_mean_objective_inclusively():
    # TTFT 1 s, TPOT 0.5 s, 3 output tokens: E2E = 1 + 2 x 0.5 = 2 s; ITL is the TPOT
    for metric, value in (("ttft", 1.0), ("tpot", 0.5), ("itl", 0.5), ("e2e", 2.0)):
        assert _meets((Objective(metric, "mean", value),), 1.0, 0.5, 3), metric
        assert not _meets((Objective(metric, "mean", value * 0.999),), 1.0, 0.5, 3), metric
    assert _meets((), 1.0, 0.5, 3)
    assert not _meets((Objective("ttft", "mean", 1.0), Objective("e2e", "mean", 1.9)), 1.0, 0.5, 3)


def _shared_w(**over) -> Workload:
    # 86,400 tasks/day x 2 requests = 2 req/s mean, x3 = 6 req/s at the peak, 50% utilisation
    return Workload.model_validate({"name": "t", "tasks_per_day": 86_400, "requests_per_task": 2,
                                    "peak_to_mean": 3.0, "utilisation": 0.5,
                                    "tokens": {"input": 400, "output": 90, "reasoning": 10}, **over})


def test_sized_takes_the_most_sequences_within_the_slo_and_prices_the_peak():
    w = _shared_w()
    reasons: list[str] = []
    # no objective: all 10 sequences, TPOT 0.02 s, 500 tokens/s => 5 req/s at 100 tokens;
    # ceil(6 / (5 x 0.5)) = 3 units x $1.5/h = $4.5/h; the prompt's share of time:
    # 0.05 s / (0.05 + 100 x 0.02 / 10) = 0.05 / 0.25 = 0.2
    hourly, neg_cap, sized, share = _sized(w, (), 100, "int4", 0.1, 0.011, 1.5, 10, curve, 0.05, reasons)
    assert hourly == pytest.approx(4.5, rel=REL) and neg_cap == pytest.approx(-5.0, rel=REL)
    assert sized[0] == 10 and sized[1:] == pytest.approx((0.1, 0.02, 500.0), rel=REL)
    assert share == pytest.approx(0.2, rel=REL)
    # TPOT <= 15.5 ms: 5 sequences (15 ms), 5 / 0.015 = 333.3 tokens/s => 3.333 req/s;
    # ceil(6 / 1.6667) = 4 units => $6/h
    means = (Objective("tpot", "mean", 0.0155),)
    hourly, neg_cap, sized, _ = _sized(w, means, 100, "int4", 0.1, 0.011, 1.5, 10, curve, 0.05, reasons)
    assert sized[0] == 5 and hourly == pytest.approx(6.0, rel=REL)
    assert neg_cap == pytest.approx(-5 / 0.015 / 100, rel=REL)
    assert reasons == []
    # TPOT <= 5 ms: one sequence already takes 11 ms
    assert _sized(w, (Objective("tpot", "mean", 0.005),), 100, "int8", 0.1, 0.011, 1.5, 10, curve, 0.05,
                  reasons) is None
    assert reasons == ["int8: misses the SLO even at one sequence (TTFT 0.10 s, TPOT 0.01 s)"]


def test_at_load_finds_the_concurrency_by_littles_law():
    # 2 req/s: C = 1 -> ceil(2 x (0.1 + 99 x 0.011)) = ceil(2.378) = 3 -> ceil(2 x (0.1 + 99 x 0.013))
    # = ceil(2.774) = 3: settled at 3, TPOT 0.013 s
    assert _at_load(curve, 2.0, 100, 10) == pytest.approx((3, 0.1, 0.013), rel=REL)
    # 100 req/s wants more than the 10 sized sequences: capped at 10
    assert _at_load(curve, 100.0, 100, 10) == pytest.approx((10, 0.1, 0.02), rel=REL)
    # no load still has one sequence in flight
    assert _at_load(curve, 0.0, 100, 10) == pytest.approx((1, 0.1, 0.011), rel=REL)


def test_shared_option_by_hand():
    w = _shared_w()
    c = SwarmCandidate(model="m", servers="4x rtx-4090", accuracy=0.8)
    sized = (10, 0.1, 0.02, 500.0)  # 5 req/s per unit at 100 generated tokens (90 + 10)
    args = (w, c, "swarm", "my swarm", "HOW", sized, curve, 1.5)
    o = _shared_option(*args, False, 4, "PRICE", "PERF", 0.2, 2_628_000.0)
    # ceil(6 / (5 x 0.5)) = 3 units, paid every hour: $1.5 x 3 x 730 = $3,285 a month;
    # 86,400 x 730 / 24 = 2,628,000 tasks, 5,256,000 requests
    assert (o.label, o.kind, o.how, o.excluded) == ("my swarm", "swarm", "3 x (HOW)", None)
    assert (o.replicas, o.gpus_per_replica, o.gpus) == (3, 4, 12)
    assert o.capacity_requests_per_s == pytest.approx(5.0, rel=REL)
    assert o.usd_per_replica_hour == 1.5
    assert o.usd_per_month == pytest.approx(3285.0, rel=REL)
    assert o.usd_per_task == pytest.approx(3285 / 2_628_000, rel=REL)  # $0.00125
    assert o.usd_per_request == pytest.approx(3285 / 2_628_000 / 2, rel=REL)
    assert o.usd_per_correct_answer == pytest.approx(3285 / 2_628_000 / 0.8, rel=REL)
    # 20% of the dollars on 400 input tokens a request, 80% on 100 generated:
    # 3,285 x 0.2 / (5,256,000 x 400) x 1e6 = $0.3125; 3,285 x 0.8 / (5,256,000 x 100) x 1e6 = $5
    assert o.usd_per_mtok_input == pytest.approx(0.3125, rel=REL)
    assert o.usd_per_mtok_output == pytest.approx(5.0, rel=REL)
    # at the peak each unit takes 6 / 3 = 2 req/s: 3 sequences in flight (test above)
    assert (o.ttft_s, o.tpot_s) == pytest.approx((0.1, 0.013), rel=REL)
    assert o.tokens == {"input": 400, "cached_input": 0, "output": 90, "reasoning": 10}
    assert o.accuracy == 0.8
    assert o.provenance == {
        "price": "PRICE", "accuracy": "input: workload",
        "perf": "PERF; capacity 5 req/s per swarm at 10 concurrent sequences within the SLO (modelled means); "
                "latency at the peak: 3 sequence(s) in flight"}
    # volunteers: electricity only while busy, 2 req/s mean over 3 x 5 => 2/15 of the hours
    v = _shared_option(*args, True, 4, "PRICE", "PERF", 0.2, 2_628_000.0)
    assert v.usd_per_month == pytest.approx(3285.0 * 2 / 15, rel=REL)  # $438
    # no input tokens: no input price
    none = _shared_option(_shared_w(tokens={"input": 0, "output": 100}), c, "offload", "x", "H", sized, curve,
                          1.5, False, 1, "P", "Q", 0.2, 2_628_000.0)
    assert none.usd_per_mtok_input is None and none.gpus == 3 and none.kind == "offload"
    assert "accuracy" in none.provenance
    assert "accuracy" not in _shared_option(w, SwarmCandidate(model="m", servers="1x l4"), "swarm", "x", "H", sized,
                                            curve, 1.5, False, 1, "P", "Q", 0.2, 2_628_000.0).provenance


def test_priced_replaces_every_servers_rent_and_keeps_the_share():
    assert _priced(SwarmCandidate(model="m", servers=["2x rtx-3060", "1x rtx-4090"])) == "2x rtx-3060, 1x rtx-4090"
    got = _priced(SwarmCandidate(model="m", servers="2x rtx-3060, 1x rtx-4090", usd_per_gpu_hour=0.1, share=0.5))
    assert [(s.gpu.key, s.share, s.link, s.usd_per_gpu_hour) for s in got] == [
        ("rtx-3060", 0.5, None, 0.1), ("rtx-3060", 0.5, None, 0.1), ("rtx-4090", 0.5, None, 0.1)]
    assert all(isinstance(s, Server) for s in got)


def test_compare_labels_and_hows_of_shared_rows():
    w = Workload.model_validate({
        "name": "t", "tasks_per_day": 20_000, "tokens": {"input": 500, "output": 100},
        "swarm": [{"model": "llama-3.1-8b", "servers": "2x rtx-3060", "precisions": ["int8"],
                   "usd_per_gpu_hour": 0.1}],
        "offload": [{"model": "llama-3.1-70b", "gpus": ["rtx-4090"], "precisions": ["int4"], "host_ram_gb": 128.0},
                    {"model": "llama-3.1-70b", "label": "small", "host_ram_gb": 1, "precisions": ["int4", "int8"]}]})
    by = {o.label: o for o in compare(w).options}
    s = by["llama-3.1-8b swarm"]
    assert s.how == f"{s.replicas} x (swarm 2x rtx-3060 int8)" and s.gpus == 2 * s.replicas
    assert "; 2 servers, relay over " in s.provenance["perf"] and ", cpu client; capacity " in s.provenance["perf"]
    o = by["llama-3.1-70b offload @ rtx-4090"]
    assert o.how == f"{o.replicas} x (rtx-4090 + 128 GB RAM int4)" and o.gpus == o.replicas
    # every precision fails in 1 GB of RAM: each reason, prefixed by its precision, joined
    (bad,) = [x for x in compare(w).options if x.excluded]
    assert bad.excluded.startswith("int4: ") and "; int8: " in bad.excluded
    # a swarm's reasons the same way: what does not fit, and what is not a precision
    w = Workload.model_validate({
        "name": "t", "tasks_per_day": 20_000, "tokens": {"input": 500, "output": 100},
        "swarm": [{"model": "llama-3.1-405b", "servers": "1x rtx-4090", "precisions": ["int8", "int4"]},
                  {"model": "llama-3.1-8b", "label": "odd", "servers": "2x rtx-4090", "precisions": ["int9"]}]})
    big, odd = compare(w).options
    assert big.label == "llama-3.1-405b swarm" and big.kind == "swarm"
    assert big.excluded.startswith("int8: llama-3.1-405b at int8 does not fit on 1 server(s)")
    assert "; int4: llama-3.1-405b at int4 does not fit on 1 server(s)" in big.excluded
    assert odd.excluded.startswith("int9: unknown precision 'int9'; choose one of ")


def test_pinned_replicas_at_the_need_are_priced_and_below_it_excluded(files):
    # the FAST replica holds 40 req/s (4 sequences x 100 steps of 1 ms); 40 x 0.3 = 12 req/s at the
    # utilisation target, so the 30 req/s peak needs ceil(30 / 12) = 3 replicas
    def pinned(n):
        return compare(_hosted_w(files, {"input": 1000, "output": 100},
                                 [{**_hosted(files), "replicas": n}])).options[0]

    at_need = pinned(3)
    assert at_need.excluded is None and at_need.replicas == 3
    more = pinned(5)  # more than needed: costed as pinned
    assert (more.replicas, more.gpus) == (5, 5)
    assert more.usd_per_month == pytest.approx(5 * 2.0 * HOURS, rel=REL)
    assert more.usd_per_replica_hour == pytest.approx(2.0, rel=REL)
    assert more.provenance["perf"].endswith("; pinned: replicas=5")
    # 2 x 40 x 0.3 = 24 req/s
    assert pinned(2).excluded == (f"2 x (1x {h.FAST.key} bf16) carry 24 req/s within the SLO at 30% utilisation; "
                                  "the peak is 30 req/s (needs 3)")


def test_a_pinned_tp_is_the_only_layout_tried(files):
    o = compare(_hosted_w(files, {"input": 1000, "output": 100},
                          [{k: v for k, v in _hosted(files).items() if k != "max_tp"} | {"tp": 2}])).options[0]
    assert o.gpus_per_replica == 2 and o.how == f"{o.replicas} x (2x {h.FAST.key} bf16)"
    assert o.provenance["perf"].endswith("; pinned: tp=2")


def test_each_gpu_type_is_its_own_row(files, tmp_path):
    slow = h.gpu_file(tmp_path, h.gpu("hand-fast-dear", bf16_tflops=h.UNBOUNDED_TFLOPS,
                                      memory_tb_s=h.UNBOUNDED_TB_S, usd_per_gpu_hour=3.0))
    c = compare(_hosted_w(files, {"input": 1000, "output": 100},
                          [_hosted(files, gpus=[slow, files["fast"]], label="mine")]))
    # the same 3 replicas on each; $2 and $3 a GPU-hour
    assert [(o.label, o.usd_per_month) for o in c.options] == [
        (f"mine @ {h.FAST.key}", pytest.approx(3 * 2.0 * HOURS, rel=REL)),
        ("mine @ hand-fast-dear", pytest.approx(3 * 3.0 * HOURS, rel=REL))]


def test_prefix_cache_hits_are_prompt_tokens_not_prefilled(files, tmp_path):
    """On the memory-bound GPU the prompt's KV writes cost time, so cached tokens show: the
    capacity is the steady state at the concurrency memory allows with floor(1,001 x 50% cached x
    50% hit rate) = floor(250.25) = 250 prompt tokens served from the cache; an engine that caches
    no prefix prefills them all."""
    from truecost.perf.memory import memory_plan
    from truecost.perf.serving import estimate, make_deployment, operating_point

    memory = h.gpu_file(tmp_path, h.MEMORY_BOUND)
    tokens = {"input": 1001, "output": 100, "cached_input_fraction": 0.5}

    def row(engine):
        return compare(_hosted_w(files, tokens, [_hosted(files, gpus=[memory], engine=files[engine],
                                                         prefix_cache_hit_rate=0.5)])).options[0]

    for engine, cached in (("cache-a", 250), ("engine4", 0)):
        o = row(engine)
        dep = make_deployment(files["model"], memory, "bf16", 1, files[engine])
        op = operating_point(dep, memory_plan(dep, 1001, 100).max_concurrency, 1001, 100, cached=cached)
        assert o.capacity_requests_per_s == pytest.approx(op.requests_per_s, rel=1e-12), engine
        est = estimate(files["model"], memory, isl=1001, osl=100, rate=30.0 / o.replicas, engine=files[engine],
                       cached_input_fraction=0.25)
        assert (o.ttft_s, o.tpot_s) == (pytest.approx(est.ttft_s, rel=1e-12), pytest.approx(est.tpot_s, rel=1e-12))
        # the month's dollars split by the prompt's share of step time (input) and the rest (output);
        # 26,280,000 requests a month
        share = est.prefill_time_share
        assert 0 < share < 1
        assert o.usd_per_mtok_input == pytest.approx(o.usd_per_month * share / (26_280_000 * 1001) * 1e6, rel=1e-9)
        assert o.usd_per_mtok_output == pytest.approx(o.usd_per_month * (1 - share) / (26_280_000 * 100) * 1e6,
                                                      rel=1e-9)
    assert row("cache-a").capacity_requests_per_s > row("engine4").capacity_requests_per_s


# ---- shared compute through compare: latency at the peak's load and the prompt's share ----------

SHARED = {"name": "t", "tasks_per_day": 20_000, "peak_to_mean": 2.0, "utilisation": 0.8,
          "tokens": {"input": 500, "output": 100}}
REQUESTS_MONTH = 20_000 * 730 / 24  # one request a task


def _sizes(perf: str) -> tuple[int, int]:
    """(sequences the unit is sized at, sequences in flight at the peak) from the perf note."""
    import re
    return (int(re.search(r"at (\d+) concurrent sequences", perf).group(1)),
            int(re.search(r"latency at the peak: (\d+) sequence", perf).group(1)))


def _little(rate: float, ttft: float, tpot: float, c_max: int) -> int:
    return min(c_max, max(1, math.ceil(rate * (ttft + 99 * tpot))))


def test_a_swarms_latency_is_at_the_peak_load_and_its_dollars_split_by_the_prompts_share():
    from truecost import estimate_swarm
    from truecost.perf.links import link

    o = compare(Workload.model_validate({**SHARED, "swarm": [{"model": "llama-3.1-8b", "servers": "2x rtx-3060",
                                                              "precisions": ["int8"], "usd_per_gpu_hour": 0.1}]})
                ).options[0]
    n, live = _sizes(o.provenance["perf"])

    def at(k):
        return estimate_swarm("llama-3.1-8b", "2x rtx-3060", precision="int8", isl=500, osl=100, concurrency=k,
                              network=link("same-region"))

    base = at(1)
    assert n == base.max_sequences  # no SLO: every sequence the servers hold
    rate = 20_000 / 86_400 * 2.0 / o.replicas
    # a TTFT is the prompt alone plus half a pipelined round of the batch it joins; TPOT one round
    ttft, tpot = base.ttft_s + 0.5 * at(live).batch_round_s, at(live).batch_round_s
    assert (o.ttft_s, o.tpot_s) == (pytest.approx(ttft, rel=1e-12), pytest.approx(tpot, rel=1e-12))
    assert live == _little(rate, ttft, tpot, n)  # Little's law holds at the fixed point
    # the prompt's share: its prefill over the servers vs each sequence's 100 rounds of the batch
    prefill = sum(s.prefill_s for s in base.slices)
    share = prefill / (prefill + 100 * at(n).batch_round_s / n)
    assert o.usd_per_mtok_input == pytest.approx(o.usd_per_month * share / (REQUESTS_MONTH * 500) * 1e6, rel=1e-9)
    assert o.usd_per_mtok_output == pytest.approx(o.usd_per_month * (1 - share) / (REQUESTS_MONTH * 100) * 1e6,
                                                  rel=1e-9)
    assert o.capacity_requests_per_s == pytest.approx(at(n).batch_tokens_per_s / 100, rel=1e-12)


def test_an_offloading_gpus_latency_and_share_and_the_cheaper_precision_wins():
    from truecost import estimate_offload

    def row(precisions):
        return compare(Workload.model_validate({**SHARED, "offload": [
            {"model": "llama-3.1-70b", "gpus": ["rtx-4090"], "precisions": precisions}]})).options[0]

    o = row(["int4"])
    n, live = _sizes(o.provenance["perf"])

    def at(k=None):
        return estimate_offload("llama-3.1-70b", "rtx-4090", precision="int4", isl=500, osl=100, batch=k)

    base = at(1)
    assert n == at().batch  # no SLO: the batch of the most tokens/s
    ttft, tpot = base.ttft_s + 0.5 * at(live).batch_step_s, at(live).batch_step_s
    assert (o.ttft_s, o.tpot_s) == (pytest.approx(ttft, rel=1e-12), pytest.approx(tpot, rel=1e-12))
    assert live == _little(20_000 / 86_400 * 2.0 / o.replicas, ttft, tpot, n)
    share = base.ttft_s / (base.ttft_s + 100 * at(n).batch_step_s / n)  # the prompt is its TTFT
    assert o.usd_per_mtok_input == pytest.approx(o.usd_per_month * share / (REQUESTS_MONTH * 500) * 1e6, rel=1e-9)
    assert o.usd_per_replica_hour == pytest.approx(base.usd_per_hour, rel=REL)
    # an offloading GPU is paid every hour of the month, busy or not
    assert o.usd_per_month == pytest.approx(base.usd_per_hour * o.replicas * HOURS, rel=REL)
    assert o.provenance["price"] == base.cost_note and o.provenance["perf"].startswith(str(base.provenance) + "; ")
    # with two precisions, the one whose peak costs less an hour (then the faster) is kept
    alone = {p: row([p]) for p in ("int4", "int8")}
    both = row(["int8", "int4"])
    best = min(alone.values(), key=lambda x: (x.usd_per_month, -x.capacity_requests_per_s))
    assert both.how == best.how and both.usd_per_month == best.usd_per_month
    assert alone["int4"].how != alone["int8"].how


def test_a_swarm_is_estimated_with_every_setting_it_names():
    """Each of the candidate's settings reaches the swarm model: latencies at the peak's load equal
    estimate_swarm's with the same settings, and the rent is each server's catalog rent x share."""
    from truecost import estimate_swarm
    from truecost.perf.links import link

    settings = {"network": "cross-continent", "rtt_ms": 50.0, "mbit_s": 200.0, "server_network": "lan",
                "routing": "direct", "client": "rtx-4090", "share": 0.5}
    o = compare(Workload.model_validate({**SHARED, "swarm": [{"model": "llama-3.1-8b", "servers": "2x rtx-4090",
                                                              "precisions": ["int8"], **settings}]})).options[0]
    n, live = _sizes(o.provenance["perf"])

    def at(k):
        return estimate_swarm("llama-3.1-8b", "2x rtx-4090", precision="int8", isl=500, osl=100, concurrency=k,
                              network=link("cross-continent", rtt_ms=50.0, mbit_s=200.0), server_network="lan",
                              routing="direct", client="rtx-4090", share=0.5)

    base = at(1)
    assert (o.ttft_s, o.tpot_s) == (pytest.approx(base.ttft_s + 0.5 * at(live).batch_round_s, rel=1e-12),
                                    pytest.approx(at(live).batch_round_s, rel=1e-12))
    assert o.capacity_requests_per_s == pytest.approx(at(n).batch_tokens_per_s / 100, rel=1e-12)
    assert o.usd_per_replica_hour == pytest.approx(2 * 0.50 * 0.5, rel=REL)  # two $0.50/h 4090s, half their time
    assert ", direct over " in o.provenance["perf"] and ", rtx-4090 client; " in o.provenance["perf"]


def test_an_offload_is_estimated_with_every_setting_it_names():
    from truecost import estimate_offload

    settings = {"host_ram_gb": 128.0, "overlap": True, "usd_per_gpu_hour": 0.3, "host_link_gb_s": 16.0}
    o = compare(Workload.model_validate({**SHARED, "offload": [
        {"model": "llama-3.1-70b", "gpus": ["rtx-4090"], "precisions": ["int4"], "engine": "tuned",
         **settings}]})).options[0]
    n, live = _sizes(o.provenance["perf"])

    def at(k=None):
        return estimate_offload("llama-3.1-70b", "rtx-4090", precision="int4", isl=500, osl=100, batch=k,
                                engine="tuned", **settings)

    base = at(1)
    assert n == at().batch
    assert (o.ttft_s, o.tpot_s) == (pytest.approx(base.ttft_s + 0.5 * at(live).batch_step_s, rel=1e-12),
                                    pytest.approx(at(live).batch_step_s, rel=1e-12))
    # the given rent, plus 128 GB of host RAM at the catalog's $3/GB (shared_compute.toml,
    # usd_per_gb_host_ram) over 4 years: 384 / 35,040 h = $0.010959/h
    per_hour = 0.3 + 128 * 3 / (4 * 8760)
    assert o.usd_per_replica_hour == pytest.approx(per_hour, rel=1e-12)
    assert o.usd_per_month == pytest.approx(per_hour * o.replicas * HOURS, rel=REL)
    assert o.provenance["price"].startswith("rent: rtx-4090 input:0.3 $/GPU-hour + 128 GB RAM at $3/GB over 4 years")


def test_percentile_slos_report_the_simulated_percentiles_at_each_replicas_share(files):
    """FAST replica, percentile SLO: the steady-state bound (40 req/s at 30% => 3 replicas) is
    confirmed by simulation: 3 replicas each offered 30 / (0.3 x 3) = 33.3 req/s meet the SLO. The
    columns are the SLO's own percentiles (TTFT p95, TPOT p99) of a run at each replica's share of
    the real peak, 30 / 3 = 10 req/s."""
    from truecost.perf.serving import make_deployment
    from truecost.perf.simulate import simulate
    from truecost.perf.traffic import Fixed, Poisson

    c = compare(_hosted_w(files, {"input": 1000, "output": 100}, [_hosted(files)],
                          slo={"ttft_p95_s": 1.0, "tpot_p99_s": 0.5}))
    o = c.options[0]
    assert (c.ttft_stat, c.tpot_stat) == ("p95", "p99")
    assert o.replicas == 3 and o.capacity_requests_per_s == pytest.approx(100 / 3, rel=1e-9)
    dep = make_deployment(files["model"], files["fast"], "bf16", 1, files["engine4"])
    run = simulate(dep, Poisson(10.0), Fixed(1000, 100), requests=SIM_REQUESTS, warmup=SIM_WARMUP, seed=SIM_SEED)
    assert (o.ttft_s, o.tpot_s) == (run.ttft.p95, run.tpot.p99)
    assert o.provenance["perf"].endswith(
        "; capacity at least 33.3 req/s per replica within the SLO (simulated: meets at 33.3 req/s, misses at 50)"
        f"; latency simulated: {SIM_REQUESTS} requests, Poisson 10 req/s, ISL 1000 / OSL 100, seed {SIM_SEED}")


def test_percentile_sizing_counts_prefix_cache_hits_on_an_engine_that_caches(files, tmp_path):
    """Compute-bound GPU, 8,000-token prompts, half of them cached, 200 req/s (peak = mean, 100%
    utilisation), TTFT p95 <= 30 ms: one replica on the caching engine serves the whole peak only
    because half of each prompt is not prefilled (a run with no hits misses); the engine that
    caches nothing needs 2 replicas of 100 req/s."""
    from truecost.perf.serving import make_deployment
    from truecost.perf.simulate import simulate
    from truecost.perf.traffic import Fixed, Poisson
    from truecost.sizing import serves

    compute = h.gpu_file(tmp_path, h.COMPUTE_BOUND)
    tails = (Objective("ttft", "p95", 0.03),)

    def row(engine):
        return compare(Workload.model_validate({
            "name": "t", "tasks_per_day": 200 * 86_400, "peak_to_mean": 1.0, "utilisation": 1.0,
            "tokens": {"input": 8000, "output": 10, "cached_input_fraction": 0.5}, "slo": {"ttft_p95_s": 0.03},
            "self_hosted": [_hosted(files, gpus=[compute], engine=files[engine])]})).options[0]

    def run(engine, rate, hit):
        dep = make_deployment(files["model"], compute, "bf16", 1, files[engine])
        return simulate(dep, Poisson(rate), Fixed(8000, 10), requests=SIM_REQUESTS, warmup=SIM_WARMUP, seed=SIM_SEED,
                        objectives=tails, prefix_hit_fraction=hit)

    cached = row("cache-a")
    assert (cached.replicas, cached.capacity_requests_per_s) == (1, pytest.approx(200.0, rel=1e-12))
    assert serves(run("cache-a", 200.0, 0.5), tails) and not serves(run("cache-a", 200.0, 0.0), tails)
    plain = row("engine4")
    assert (plain.replicas, plain.capacity_requests_per_s) == (2, pytest.approx(100.0, rel=1e-12))
    assert serves(run("engine4", 100.0, 0.0), tails) and not serves(run("engine4", 200.0, 0.0), tails)
