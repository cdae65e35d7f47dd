"""plan: the screen against hand arithmetic and against compare's one-configuration path; the
search's outcome, bindings, runner-up, closest miss and SLO parsing."""

import math

import pytest

from truecost.catalog import gpu as find_gpu
from truecost.compare import DAYS_PER_MONTH
from truecost.errors import DoesNotFitError, InputError
from truecost.perf.engine import engine as find_engine
from truecost.perf.memory import memory_plan
from truecost.perf.simulate import Objective
from truecost.plan import Screen, parse_slo, plan, screen
from truecost.progress import Progress, Task
from truecost.sizing import SIM_REQUESTS, SIM_SEED, SIM_WARMUP, mean_slo_point, serves, simulate_at
from truecost.workload import ApiCandidate, Workload, load_workload

from .. import handmade


@pytest.fixture
def hand(tmp_path):
    return handmade.write(tmp_path)


def _hand_screen(paths, batches=(4, 16)) -> Screen:
    w = load_workload(paths["workload"])
    sp = screen(w, w.self_hosted[0], [find_gpu(str(paths["gpu"]))], ["bf16"], [find_engine(str(paths["engine"]))],
                batches, list(w.slo.objectives()))
    assert sp is not None
    return sp


def test_screen_matches_hand_arithmetic(hand):
    sp = _hand_screen(hand)
    # tests/handmade.py: step = TPOT = 6.9206016 + 0.1236992·C ms. The SLO (tpot mean <= 8 ms)
    # allows C <= (8 − 6.9206016) / 0.1236992 = 8.73, so 8 live sequences with max batch 16;
    # max batch 4 binds first at 4.
    assert sp.batch.tolist() == [4, 16]
    assert sp.conc.tolist() == [4, 8]
    step = {4: 6.9206016e-3 + 0.1236992e-3 * 4, 8: 6.9206016e-3 + 0.1236992e-3 * 8}  # 7.4153984 and 7.9101952 ms
    capacity = [4 / (100 * step[4]), 8 / (100 * step[8])]  # C / (OSL · step): 5.394 and 10.114 req/s
    assert sp.capacity_rps.tolist() == pytest.approx(capacity, rel=1e-9)  # float rounding only
    assert sp.capacity_rps.tolist() == pytest.approx([5.39418, 10.11353], rel=1e-5)
    # 20 req/s at 100% utilisation: ceil(20 / 5.394) = 4 and ceil(20 / 10.114) = 2 replicas of one $2 GPU.
    assert sp.replicas.tolist() == [4, 2]
    assert sp.usd_hour.tolist() == [8.0, 4.0]
    # What stops one replica: the engine's batch cap, or the TPOT objective (9 sequences: 8.03 ms);
    # every op streams more bytes than it computes.
    assert sp.binding.tolist() == ["max batch", "tpot mean"]
    assert sp.step_bound.tolist() == ["memory", "memory"]
    # Memory: 2^30 − 71,313,408 B of weights leaves 1,002,428,416 B; a sequence reserves
    # (100 + 100) × 8,192 = 1,638,400 B, so 611 fit (neither batch is limited by KV).
    assert sp.fits.all()
    dep = sp.deployment(1)
    assert memory_plan(dep, 100, 100).kv_capacity_sequences == 611
    assert sp.need_ratio[1] == pytest.approx((71_313_408 + 1_638_400) / 2**30)


def test_hand_plan_is_confirmed_by_simulation_and_priced_per_task(hand):
    p = plan(hand["workload"], gpus=[str(hand["gpu"])], engines=[str(hand["engine"])], precisions=["bf16"],
             max_batches=[4, 16])
    best = p.best
    assert best is not None and best.config is not None
    o = best.option
    # The screen's bound is 2 replicas with max batch 16; the simulation may need more, never fewer.
    assert best.config.max_batch == 16 and o.replicas >= 2
    tasks_month = 1_728_000 * DAYS_PER_MONTH
    assert o.usd_per_month == pytest.approx(o.replicas * 2.0 * 730)
    assert o.usd_per_task == pytest.approx(o.replicas * 2.0 * 730 / tasks_month)
    assert best.screen_usd_per_task == pytest.approx(2 * 2.0 * 730 / tasks_month)
    # Its own simulation, re-run: one replica at its share of the peak keeps up and meets the SLO.
    sim = simulate_at(_hand_screen(hand).deployment(1), 20 / o.replicas, 100, 100, 0.0,
                      [Objective("tpot", "mean", 0.008)])
    assert serves(sim) and o.tpot_s == pytest.approx(sim.tpot.p95)
    # The other max batch is the runner-up: 4 replicas, twice the price.
    assert p.runner_up is not None and p.runner_up.config.max_batch == 4
    assert p.runner_up.option.replicas >= 4 and p.runner_up.binding == "max batch"
    assert p.searched == {"configurations": 2, "fit": 2, "within_slo_as_means": 2, "simulated": 2, "confirmed": 2}


def test_saturated_replica_does_not_serve_a_tpot_only_slo(hand):
    # One replica of max batch 4 holds 5.39 req/s; at 20 req/s its queue grows without bound while
    # each admitted request still decodes within 8 ms: the TPOT objective alone is met.
    dep = _hand_screen(hand).deployment(0)
    sim = simulate_at(dep, 20.0, 100, 100, 0.0, [Objective("tpot", "mean", 0.008)])
    assert sim.meets() and sim.saturated
    assert not serves(sim)


def test_no_option_says_which_slo_binds_and_the_closest_miss(tmp_path):
    # One sequence alone decodes in at least 6.92 ms (tests/handmade.py), so 5 ms cannot be met.
    paths = handmade.write(tmp_path, slo="tpot_p95_s = 0.005")
    p = plan(paths["workload"], gpus=[str(paths["gpu"])], engines=[str(paths["engine"])], precisions=["bf16"],
             max_batches=[16])
    assert p.best is None and p.options == [] and p.frontier == []
    assert p.searched["within_slo_as_means"] == 0 and p.searched["simulated"] == 1
    # A lone request's TPOT: its 99 decode steps at contexts 101..199, 6.9206016 + 0.08192·(ctx/100) ms.
    assert p.unmet.startswith("no option meets the SLO; tpot p95 <= 5 ms binds: the closest miss is "
                              "hand-2l @ hand-gpu: 1x hand-gpu bf16, hand, max batch 16, tpot p95 ")
    assert "ms > 5.0 ms even at" in p.unmet


def test_nothing_fits_says_how_much_memory_it_needs(tmp_path):
    paths = handmade.write(tmp_path)
    w = load_workload(paths["workload"])
    w = w.model_copy(update={"tokens": w.tokens.model_copy(update={"input": 3000, "output": 1000})})
    # 4,000 tokens × 8,192 B = 32,768,000 B of KV per sequence + 71,313,408 B of weights fit in
    # 1 GiB, so shrink the GPU instead: a 0.05 GiB card holds neither.
    small = paths["gpu"].parent / "small.toml"
    small.write_text(paths["gpu"].read_text().replace("memory_gib = 1", "memory_gib = 0.05"))
    p = plan(w, gpus=[str(small)], engines=[str(paths["engine"])], precisions=["bf16"], max_batches=[16])
    # weights 71,313,408 B + KV 4,000 × 8,192 = 104,081,408 B; the card has 0.05 × 2^30 = 53,687,091 B.
    assert p.unmet == ("no configuration fits in memory: the closest, hand-2l on 1x hand-gpu bf16 (hand), needs "
                       "0.104 GB per GPU for one 4,000-token sequence, has 0.0537 GB; allow more GPUs per replica "
                       "(max_tp) or shorter requests")


def test_screen_agrees_with_compares_one_configuration_path():
    """The vectorised screen is compare's sizing (``sizing.mean_slo_point`` per configuration)
    written over arrays: on every row it finds the same concurrency, the same capacity to
    floating-point rounding (rel 1e-12: the same operations in the same order), the same bound;
    rows limited by the SLO, by memory and missing at one sequence are all covered."""
    base = {"name": "w", "tasks_per_day": 500000, "tokens": {"input": 3000, "cached_input_fraction": 0.5,
                                                            "output": 400},
            "slo": {"ttft_p95_s": 0.6, "tpot_p99_s": 0.04}}
    gpus = [find_gpu(g) for g in ("h100-sxm", "a100-80gb", "l40s", "mi300x")]
    engines = [find_engine("tuned"), find_engine("vllm")]
    seen = {"slo": 0, "memory": 0, "miss": 0, "no fit": 0}
    for model, every in (("llama-3.1-8b", 1), ("llama-3.1-70b", 1), ("mixtral-8x7b", 7)):
        w = Workload.model_validate({**base, "self_hosted": [{"model": model}]})
        objectives = list(w.slo.objectives())
        sp = screen(w, w.self_hosted[0], gpus, ["bf16", "fp8", "int4"], engines, [64, 256, 2048], objectives)
        as_means = [Objective(o.metric, "mean", o.limit_s) for o in objectives]
        for row in range(0, len(sp), every):
            dep = sp.deployment(row)
            try:
                mem = memory_plan(dep, sp.isl, sp.osl)
            except DoesNotFitError:
                assert not sp.fits[row]
                seen["no fit"] += 1
                continue
            assert sp.fits[row]
            cached = math.floor(sp.isl * sp.hit) if dep.engine.prefix_caching else 0
            op = mean_slo_point(dep, as_means, sp.isl, sp.osl, mem.max_concurrency, cached)
            if op is None:
                assert sp.conc[row] == 0 and not math.isfinite(sp.usd_hour[row])
                seen["miss"] += 1
                continue
            seen["slo" if op.concurrency < mem.max_concurrency else "memory"] += 1
            assert sp.conc[row] == op.concurrency
            assert sp.capacity_rps[row] == pytest.approx(op.requests_per_s, rel=1e-12)
            assert sp.replicas[row] == math.ceil(w.requests_per_s_peak / (op.requests_per_s * w.utilisation))
            assert sp.step_bound[row] == op.step.binding
    assert min(seen.values()) >= 20, seen


def test_plan_prices_api_offers_beside_and_applies_the_quality_bar(hand):
    w = load_workload(hand["workload"])
    w = w.model_copy(update={
        "min_accuracy": 0.5,
        "api": [ApiCandidate(offer="openai/gpt-4o-mini", accuracy=0.9), ApiCandidate(offer="openai/gpt-4o", accuracy=0.4)],
        "self_hosted": [w.self_hosted[0].model_copy(update={"accuracy": 0.3})]})
    p = plan(w, gpus=[str(hand["gpu"])], engines=[str(hand["engine"])], precisions=["bf16"], max_batches=[16])
    # Below the bar: gpt-4o (40%) and the hand model (30%), which is then not searched at all.
    assert [pt.option.label for pt in p.options] == ["openai/gpt-4o-mini"]
    assert p.best.config is None and p.best.option.kind == "api" and p.runner_up is None
    assert p.excluded == ["openai/gpt-4o: accuracy 40% below the bar of 50%",
                          "hand-2l: accuracy 30% below the bar of 50%"]
    assert p.searched["configurations"] == 0
    # gpt-4o-mini: 100 input tokens at $0.15/M and 100 output at $0.60/M (genai-prices).
    assert p.best.option.usd_per_task == pytest.approx(100 * 0.15e-6 + 100 * 0.60e-6)


def test_plan_reports_progress_of_both_phases(hand):
    seen: list[Task] = []

    class Recorder(Progress):
        def task(self, label, total=None):
            t = Task(label, total)
            seen.append(t)
            return t

    plan(hand["workload"], gpus=[str(hand["gpu"])], engines=[str(hand["engine"])], precisions=["bf16"],
         max_batches=[4, 16], progress=Recorder())
    assert [(t.label, t.done, t.closed) for t in seen] == [("screening configurations", 2, True),
                                                          ("simulating finalists", 2, True)]


@pytest.mark.parametrize("text, expected", [
    ("ttft_p95=2s,tpot_p99=80ms", {"ttft_p95_s": 2.0, "tpot_p99_s": 0.08}),
    ("ttft=500ms", {"ttft_s": 0.5}),
    (" e2e_p50_s = 1.5 , itl_p90=0.02 ", {"e2e_p50_s": 1.5, "itl_p90_s": 0.02}),
])
def test_parse_slo(text, expected):
    assert {k: v for k, v in parse_slo(text) if v is not None} == expected


@pytest.mark.parametrize("text, message", [
    ("ttft_p96=2s", "--slo: 'ttft_p96=2s' is not an objective; write METRIC[_pNN]=TIME with METRIC one of ttft, "
                    "tpot, itl, e2e and pNN one of p50, p90, p95, p99 (e.g. ttft_p95=2s)"),
    ("ttft_p95", "--slo: 'ttft_p95' is not an objective; write METRIC[_pNN]=TIME with METRIC one of ttft, tpot, "
                 "itl, e2e and pNN one of p50, p90, p95, p99 (e.g. ttft_p95=2s)"),
    ("ttft_p95=fast", "--slo: 'ttft_p95=fast': give a time above zero such as 2s or 80ms"),
    ("ttft_p95=0s", "--slo: 'ttft_p95=0s': give a time above zero such as 2s or 80ms"),
    ("ttft_p95=1s,ttft_p95_s=2s", "--slo: ttft_p95 is given twice"),
    (",", "--slo: no objective given; e.g. --slo ttft_p95=2s,tpot_p95=80ms"),
])
def test_parse_slo_errors(text, message):
    with pytest.raises(InputError) as e:
        parse_slo(text)
    assert str(e.value) == message


def test_one_price_for_every_gpu_type_is_refused(hand):
    w = load_workload(hand["workload"])
    w = w.model_copy(update={"self_hosted": [w.self_hosted[0].model_copy(update={"usd_per_gpu_hour": 1.0})]})
    with pytest.raises(InputError) as e:
        plan(w, gpus=["h100-sxm", "l40s"])
    assert str(e.value) == ("hand-2l: usd_per_gpu_hour gives one price to every GPU type and plan searches 2; "
                            "name one with --gpus, or remove it to use the catalog's prices")


def test_sizing_constants_are_compares():
    from truecost import compare as compare_module  # noqa: F401  (compare re-exports them)
    from truecost.compare import SIM_REQUESTS as R, SIM_SEED as S, SIM_WARMUP as W

    assert (R, S, W) == (SIM_REQUESTS, SIM_SEED, SIM_WARMUP)
