"""plan and its screen against closed forms worked out by hand (tests/hand.py's GPUs and engine).

On ``hand.FAST`` every op of a step costs ~1e-22 s, so a step is its fixed overhead, 1 ms, at
any depth; the hand engine adds 10 ms per request and prefills prompts in chunks of the token
budget left beside the decoders (512 − (C − 1) tokens). With ISL = OSL = 100 and C live
sequences, in the steady state (perf/serving.py's formulas, by hand):

    TPOT = t_iter = 1 ms                      requests/s per replica = C / (OSL · t_iter) = 10·C
    TTFT = 10 ms + t_iter / 2 + n(C) · 1 ms   n(C) = ⌈new prompt tokens / (512 − (C − 1))⌉

so TTFT = 11.5 ms while 513 − C ≥ 100 (C ≤ 413) and 12.5 ms from C = 414 (n = 2). An objective
"ttft mean <= 12 ms" therefore allows exactly 413 live sequences. The hand model's KV is
2,048 B per token, 409,600 B per 200-token sequence admitted at its full length.

The search, the frontier, the runner-up and the messages are pinned on small hand-made inputs.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from truecost.compare import DAYS_PER_MONTH, Option
from truecost.errors import InputError
from truecost.perf.simulate import Objective
from truecost.plan import (MAX_BATCHES, PRECISIONS, Plan, PlanPoint, _assumptions, _available_gpus, _batches,
                           _differs, _engines, _Miss, _pareto, _precisions, _screen_frontier, _unmet, _worst,
                           parse_slo, plan)
from truecost.screen import Config, candidate_label, objective_name, screen
from truecost.sizing import SIM_REQUESTS, SIM_SEED, SIM_WARMUP
from truecost.workload import Workload

from .. import hand

PEAK = 10_000.0  # 345,600,000 tasks/day / 86,400 s = 4,000 req/s mean, × 2.5 at the peak


def _workload(model: str, slo=None, tokens=None, **over) -> Workload:
    cand = {"model": model, "max_tp": 1, **over.pop("cand", {})}
    return Workload.model_validate({
        "name": "oracle", "tasks_per_day": 345_600_000, "peak_to_mean": 2.5, "utilisation": 0.8,
        "tokens": tokens or {"input": 100, "output": 100}, "slo": slo or {"ttft_s": 0.012, "tpot_s": 0.002},
        "self_hosted": [cand], **over})


@pytest.fixture
def model(tmp_path) -> str:
    return hand.model_file(tmp_path)


def _screen(w: Workload, gpus=(hand.FAST,), precisions=("bf16",), engines=None, batches=(64, 1024), **kw):
    return screen(w, w.self_hosted[0], list(gpus), list(precisions), engines or [hand.engine()], list(batches),
                  list(w.slo.objectives()), **kw)


# ---- the screen, element by element ---------------------------------------------------------
def test_fast_gpu_rows_match_the_closed_forms(model):
    w = _workload(model)
    assert w.requests_per_s_peak == pytest.approx(PEAK, rel=1e-12)
    sp = _screen(w)
    assert len(sp) == 2 and sp.batch.tolist() == [64, 1024] and (sp.isl, sp.osl, sp.hit) == (100, 100, 0.0)
    assert sp.tp.tolist() == [1, 1] and sp.dp.tolist() == [1, 1] and sp.ep.tolist() == [1, 1]
    assert sp.base.tolist() == [0, 0] and sp.base_precision == ["bf16"]
    assert sp.base_usd_gpu_hour.tolist() == [2.0]  # rented at the GPU's $2/hour
    # Max batch 64 caps the first row below the TTFT edge (413); the second holds the edge.
    assert sp.conc.tolist() == [64, 413]
    assert sp.capacity_rps.tolist() == pytest.approx([64 / (100 * 0.001), 413 / (100 * 0.001)], rel=1e-9)
    # Replicas for 10,000 req/s at 80% utilisation: ceil(10,000 / (640 × 0.8)) = ceil(19.53) = 20 and
    # ceil(10,000 / (4,130 × 0.8)) = ceil(3.027) = 4; one $2 GPU each.
    assert sp.replicas.tolist() == [20, 4]
    assert sp.usd_hour.tolist() == pytest.approx([40.0, 8.0], rel=1e-12)
    assert sp.binding.tolist() == ["max batch", "ttft mean"]  # one more sequence: 12.5 ms > 12 ms
    assert sp.step_bound.tolist() == ["overhead", "overhead"]
    # At one sequence the worst objective is TTFT: 11.5 / 12 (TPOT: 1 / 2).
    assert sp.miss_ratio.tolist() == pytest.approx([11.5 / 12, 11.5 / 12], rel=1e-9)
    # Near the peak: 500 and 2,500 req/s per replica hold 500 × 110.5 ms = 55 and 276 sequences,
    # both below 413, so TTFT stays 11.5 ms; TPOT is the 1 ms step.
    assert sp.ttft_s.tolist() == pytest.approx([0.0115, 0.0115], rel=1e-9)
    assert sp.tpot_s.tolist() == pytest.approx([0.001, 0.001], rel=1e-9)
    # Memory for one sequence: weights 65,021,952 + reserve 4 GiB + KV 409,600 / 0.5, over 64 GiB.
    assert sp.fits.tolist() == [True, True]
    assert sp.need_ratio.tolist() == pytest.approx([(65_021_952 + 4 * 2**30 + 819_200) / 64 / 2**30] * 2,
                                                   rel=1e-12)


def test_screen_config_and_deployment_of_a_row(model):
    sp = _screen(_workload(model), batches=(64, 4096))
    c = sp.config(0)
    assert c == Config("hand-2l", "hand-fast", "bf16", "w:bf16 kv:bf16 mm:bf16", 1, 1, 1, "hand-engine", 64,
                       "1x hand-fast")
    assert c.gpus == 1 and c.describe() == "1x hand-fast bf16, hand-engine, max batch 64"
    assert sp.deployment(0).engine.max_batch_size == 64
    # The profile's own max batch (4,096): the base engine itself, not a copy.
    assert sp.deployment(1).engine is sp.bases[0].engine
    assert Config("m", "g", "fp8", "", 2, 4, 1, "e", 8, "").gpus == 8  # tp × dp


def test_slo_met_exactly_at_its_limit_and_missed_just_above(model):
    # A limit equal to the TTFT of 11.5 ms holds up to 413 sequences (value <= limit); one 1e-9 s
    # lower misses at one sequence: conc 0, no price, no latencies, no binding.
    sp = _screen(_workload(model, slo={"ttft_s": 0.0115, "tpot_s": 0.001}), batches=(1024,))
    assert sp.conc.tolist() == [413] and sp.replicas.tolist() == [4]
    assert sp.miss_ratio.tolist() == pytest.approx([1.0], rel=1e-12)
    sp = _screen(_workload(model, slo={"ttft_s": 0.0115 - 1e-9}), batches=(64, 1024))
    assert sp.conc.tolist() == [0, 0] and sp.replicas.tolist() == [0, 0] and sp.capacity_rps.tolist() == [0, 0]
    assert sp.usd_hour.tolist() == [math.inf, math.inf]
    assert np.isnan(sp.ttft_s).all() and np.isnan(sp.tpot_s).all()
    assert sp.binding.tolist() == ["", ""] and sp.step_bound.tolist() == ["", ""]
    assert sp.miss_ratio.tolist() == pytest.approx([0.0115 / (0.0115 - 1e-9)] * 2, rel=1e-12)
    assert sp.fits.all()


def test_tpot_binds_when_it_is_the_objective_one_more_sequence_breaks(model):
    # TPOT is 1 ms at any depth on FAST, so a TPOT objective never binds there; with TTFT <= 12 ms
    # and TPOT <= 1 ms the first objective broken at 414 sequences is TTFT, listed second here.
    sp = _screen(_workload(model, slo={"tpot_s": 0.001, "ttft_s": 0.012}), batches=(1024,))
    assert sp.conc.tolist() == [413] and sp.binding.tolist() == ["ttft mean"]
    # A TTFT p95 objective is searched as a mean and named with its statistic.
    sp = _screen(_workload(model, slo={"ttft_p95_s": 0.012}), batches=(1024,))
    assert sp.conc.tolist() == [413] and sp.binding.tolist() == ["ttft p95"]


def test_the_first_objective_broken_is_the_binding_one(model):
    # E2E = TTFT + 99 steps of 1 ms: 110.5 ms up to 413 sequences, 111.5 ms at 414, where TTFT
    # (12.5 > 12 ms) breaks too. Both break: the one listed first names the binding constraint.
    w = _workload(model)
    ttft, e2e = Objective("ttft", "mean", 0.012), Objective("e2e", "mean", 0.111)
    for objectives, name in (([ttft, e2e], "ttft mean"), ([e2e, ttft], "e2e mean")):
        sp = screen(w, w.self_hosted[0], [hand.FAST], ["bf16"], [hand.engine()], [1024], objectives)
        assert sp.conc.tolist() == [413] and sp.binding.tolist() == [name]


def test_kv_capacity_binds_on_a_small_gpu(model):
    # 0.125 GiB = 134,217,728 B, no reserve: (134,217,728 − 65,021,952) × 0.5 = 34,597,888 B of KV
    # = 84 sequences of 409,600 B. Max batch 64 caps the first row, the KV pool (84) the second,
    # both below the TTFT edge of 413.
    small = hand.gpu("hand-small", bf16_tflops=hand.UNBOUNDED_TFLOPS, memory_tb_s=hand.UNBOUNDED_TB_S,
                     memory_gib=0.125)
    sp = _screen(_workload(model), gpus=[small], engines=[hand.engine(runtime_reserve_gib=0.0)], batches=(64, 128))
    assert sp.conc.tolist() == [64, 84]
    assert sp.binding.tolist() == ["max batch", "KV capacity"]
    assert sp.capacity_rps.tolist() == pytest.approx([640.0, 840.0], rel=1e-9)
    # ceil(10,000 / (640 × 0.8)) = 20, ceil(10,000 / (840 × 0.8)) = ceil(14.88) = 15
    assert sp.replicas.tolist() == [20, 15] and sp.usd_hour.tolist() == pytest.approx([40.0, 30.0], rel=1e-12)
    assert sp.need_ratio.tolist() == pytest.approx([(65_021_952 + 819_200) / 2**27] * 2, rel=1e-12)


def test_a_row_that_does_not_fit(model):
    # 0.05 GiB = 53,687,091.2 B < 65,021,952 B of weights: nothing fits; need = 65,841,152 B.
    tiny = hand.gpu("hand-tiny", bf16_tflops=hand.UNBOUNDED_TFLOPS, memory_tb_s=hand.UNBOUNDED_TB_S,
                    memory_gib=0.05)
    sp = _screen(_workload(model), gpus=[tiny], engines=[hand.engine(runtime_reserve_gib=0.0)])
    assert sp.fits.tolist() == [False, False] and sp.conc.tolist() == [0, 0]
    assert sp.usd_hour.tolist() == [math.inf, math.inf] and sp.miss_ratio.tolist() == [math.inf, math.inf]
    assert sp.need_ratio.tolist() == pytest.approx([65_841_152 / (0.05 * 2**30)] * 2, rel=1e-12)
    assert sp.binding.tolist() == ["", ""]


def test_an_edge_at_one_sequence(model):
    # A 512-token prompt: one chunk beside one sequence alone (budget 512), two beside a second
    # (budget 511), so TTFT is 11.5 ms at C = 1 and 12.5 ms at C = 2: 12 ms allows one sequence,
    # 1 / (100 × 1 ms) = 10 req/s, ceil(10,000 / (10 × 0.8)) = 1,250 replicas; TTFT binds.
    sp = _screen(_workload(model, tokens={"input": 512, "output": 100}), batches=(64,))
    assert sp.conc.tolist() == [1] and sp.binding.tolist() == ["ttft mean"]
    assert sp.capacity_rps.tolist() == pytest.approx([10.0], rel=1e-9)
    assert sp.replicas.tolist() == [1250] and sp.usd_hour.tolist() == pytest.approx([2500.0], rel=1e-12)
    assert sp.step_bound.tolist() == ["overhead"]


def test_max_batch_exactly_at_the_slo_edge_is_named_the_binding(model):
    # Max batch 413 = the TTFT edge: the engine's cap binds first (it stops the 414th sequence);
    # one fewer (412) binds too; one more (414) leaves the edge, 413, to the objective.
    sp = _screen(_workload(model), batches=(412, 413, 414, 1024))
    assert sp.conc.tolist() == [412, 413, 413, 413]
    assert sp.binding.tolist() == ["max batch", "max batch", "ttft mean", "ttft mean"]
    assert sp.capacity_rps.tolist() == pytest.approx([4120.0, 4130.0, 4130.0, 4130.0], rel=1e-9)


def test_exactly_one_sequence_fits(model):
    # 65,021,952 B of weights + 1,200,000 B: a KV pool of 600,000 B holds one 409,600 B sequence.
    one = hand.gpu("hand-one", bf16_tflops=hand.UNBOUNDED_TFLOPS, memory_tb_s=hand.UNBOUNDED_TB_S,
                   memory_gib=66_221_952 / 2**30)
    sp = _screen(_workload(model), gpus=[one], engines=[hand.engine(runtime_reserve_gib=0.0)], batches=(64, 1024))
    assert sp.fits.tolist() == [True, True] and sp.conc.tolist() == [1, 1]
    assert sp.binding.tolist() == ["KV capacity", "KV capacity"]
    assert sp.replicas.tolist() == [1250, 1250]


def test_a_price_given_for_the_candidate_is_used(model):
    sp = _screen(_workload(model, cand={"usd_per_gpu_hour": 3.0}))
    assert sp.base_usd_gpu_hour.tolist() == [3.0]
    assert sp.usd_hour.tolist() == pytest.approx([20 * 3.0, 4 * 3.0], rel=1e-12)


def test_prefix_caching_moves_the_ttft_edge(model):
    # Half the prompt is a shared prefix, found in the cache 80% of the time: hit = 0.4, so an
    # engine that caches prefixes computes 100 − floor(100 × 0.4) = 60 new tokens, one chunk while
    # 513 − C ≥ 60: C ≤ 453. The engine without prefix caching computes all 100: C ≤ 413.
    w = _workload(model, tokens={"input": 100, "output": 100, "cached_input_fraction": 0.5},
                  cand={"prefix_cache_hit_rate": 0.8})
    engines = [hand.engine("plain"), hand.engine("caching", prefix_caching=True)]
    sp = _screen(w, engines=engines, batches=(1024,))
    assert sp.hit == pytest.approx(0.4, rel=1e-12)
    assert sp.conc.tolist() == [413, 453]
    assert sp.capacity_rps.tolist() == pytest.approx([4130.0, 4530.0], rel=1e-9)


def test_search_space_count_is_the_product_of_its_axes(model):
    # 2 GPUs × 2 precisions (nvfp4 skipped: no fp4 tensor cores; "native" is bf16 again) ×
    # 2 engines × 3 layouts (tp 1, 2, 4: a dense model takes no attention DP) × 3 max batches.
    w = _workload(model, cand={"max_tp": 4})
    engines = [hand.engine("e1"), hand.engine("e2")]
    sp = _screen(w, gpus=[hand.FAST, hand.MEMORY_BOUND], precisions=["nvfp4", "bf16", "native", "fp8"],
                 engines=engines, batches=[16, 64, 256])
    assert len(sp) == 2 * 2 * 2 * 3 * 3 == 72
    assert sp.base_precision == ["bf16", "bf16", "fp8", "fp8"] * 2
    assert [(b.gpu.key, b.engine.key) for b in sp.bases] == [
        ("hand-fast", "e1"), ("hand-fast", "e2"), ("hand-fast", "e1"), ("hand-fast", "e2"),
        ("hand-memory", "e1"), ("hand-memory", "e2"), ("hand-memory", "e1"), ("hand-memory", "e2")]
    # Rows: each base's layouts, each with every max batch (consecutive).
    assert sp.base.tolist() == [b for b in range(8) for _ in range(9)]
    assert sp.tp.tolist()[:9] == [1, 1, 1, 2, 2, 2, 4, 4, 4]
    assert sp.batch.tolist() == [16, 64, 256] * 24
    assert (sp.dp == 1).all() and (sp.ep == 1).all()
    assert [sp.config(r).layout for r in (0, 3, 6)] == ["1x hand-fast", "2x hand-fast", "4x hand-fast"]
    assert [sp.config(r).gpus for r in (0, 3, 6)] == [1, 2, 4]
    # Replicas of tp GPUs cost tp × $2 each.
    ok = np.isfinite(sp.usd_hour)
    assert ok.any()
    assert sp.usd_hour[ok].tolist() == pytest.approx((sp.replicas * sp.tp * 2.0)[ok].tolist(), rel=1e-12)


def test_moe_layouts_add_attention_dp_and_expert_parallelism(tmp_path):
    # Up to 4 GPUs of an 8-expert model: 1 GPU (1 layout); 2 GPUs: tp 1 × dp 2 and tp 2, each with
    # ep 1 or 2 (4); 4 GPUs: tp 1 × dp 4, tp 2 × dp 2, tp 4, each with ep 1 or 4 (6): 11 layouts.
    w = _workload(hand.model_file(tmp_path, hand.MOE_MODEL), cand={"max_tp": 4})
    sp = _screen(w, batches=(64, 256))
    assert len(sp) == 11 * 2
    got = sorted({(int(t), int(d), int(e)) for t, d, e in zip(sp.tp, sp.dp, sp.ep)})
    assert got == sorted([(1, 1, 1), (1, 2, 1), (1, 2, 2), (2, 1, 1), (2, 1, 2), (1, 4, 1), (1, 4, 4),
                          (2, 2, 1), (2, 2, 4), (4, 1, 1), (4, 1, 4)])
    for r in range(len(sp)):
        c = sp.config(r)
        assert (c.tp, c.dp, c.ep, c.max_batch) == (sp.tp[r], sp.dp[r], sp.ep[r], sp.batch[r])
        assert c.gpus == sp.tp[r] * sp.dp[r] and sp.deployment(r).gpus == c.gpus


def test_owned_gpus_are_priced_at_idle_power(model):
    # $20,000 × 1.45 over 4 × 8,760 h = 0.827625 $/h; 1,000 W × 0.15 idle = 150 W × PUE 1.3 ×
    # $0.08/kWh = 0.0156 $/h.
    sp = _screen(_workload(model, cand={"basis": "own"}))
    floor = 20_000 * 1.45 / (4 * 8760) + 0.150 * 1.3 * 0.08
    assert sp.base_usd_gpu_hour.tolist() == pytest.approx([floor], rel=1e-12)
    assert sp.usd_hour.tolist() == pytest.approx([20 * floor, 4 * floor], rel=1e-12)


def test_gpus_that_cannot_be_priced_are_skipped_with_the_reason(model):
    w = _workload(model)
    noprice = hand.gpu("hand-noprice", usd_per_gpu_hour=None)
    notdp = hand.gpu("hand-notdp", tdp_w=None)  # rented: no idle power needed
    skipped: dict[str, set[str]] = {}
    sp = _screen(w, gpus=[noprice, notdp], skipped=skipped)
    assert skipped == {"has no public on-demand price in the catalog; give one (usd_per_gpu_hour / "
                       "--usd-per-gpu-hour)": {"hand-noprice"}}
    assert [b.gpu.key for b in sp.bases] == ["hand-notdp"] and sp.base_usd_gpu_hour.tolist() == [2.0]
    # Owned: a GPU without TDP has no ownership cost; with none left the screen is None.
    skipped = {}
    w = _workload(model, cand={"basis": "own"})
    assert _screen(w, gpus=[notdp], skipped=skipped) is None
    assert skipped == {"has no published TDP, so it has no ownership cost; price it as rented": {"hand-notdp"}}
    assert _screen(w, gpus=[notdp]) is None  # without a dict to fill


def test_requests_beyond_the_models_context_are_excluded(tmp_path):
    m = hand.model_file(tmp_path, hand.MODEL.model_copy(update={"max_context": 4000}))
    excluded: list[str] = []
    w = _workload(m, tokens={"input": 3000, "output": 1001})
    assert _screen(w, excluded=excluded) is None
    assert excluded == ["hand-2l: 3,000 input + 1,001 output tokens exceed its context of 4,000 tokens"]
    assert _screen(w) is None  # without a list to fill
    labelled = _workload(m, tokens={"input": 3000, "output": 1001}, cand={"label": "mine"})
    excluded = []
    assert _screen(labelled, excluded=excluded) is None and excluded[0].startswith("mine: 3,000 input")
    # Exactly the context: searched.
    excluded = []
    assert _screen(_workload(m, tokens={"input": 3000, "output": 1000}), excluded=excluded) is not None
    assert excluded == []


def test_labels_and_objective_names(model):
    w = _workload(model, cand={"label": "my model"})
    assert candidate_label(w.self_hosted[0]) == "my model"
    assert candidate_label(_workload(model).self_hosted[0]) == "hand-2l"
    assert objective_name(Objective("tpot", "p95", 0.05)) == "tpot p95"


# ---- plan's pieces on hand-made inputs ------------------------------------------------------
def test_pareto_keeps_what_no_cheaper_point_matches():
    pts = [(3.0, 1.0, 1.0), (1.0, 2.0, 2.0), (2.0, 2.0, 3.0), (2.0, 1.5, 2.5), (1.0, 2.0, 2.0), (2.5, 1.95, 5.0)]
    # (2, 2, 3) and (2.5, 1.95, 5) are matched by (1, 2, 2) and (2, 1.5, 2.5); the duplicate of
    # (1, 2, 2) by itself; by cost: index 1, 3, 0.
    assert _pareto(pts) == [1, 3, 0]
    # ε = 5%: 1.95 vs 2 is not 5% faster, 1.5 is; at exactly 5% faster (1.9 = 0.95 × 2) it is not kept.
    near = [(1.0, 2.0, 2.0), (2.0, 1.95, 1.0), (3.0, 1.9, 3.0), (4.0, 1.8, 3.0)]
    assert _pareto(near) == [0, 1, 2, 3]
    assert _pareto(near, 0.05) == [0, 1, 3]
    assert _pareto([]) == []


def _fake_screen(usd, ttft, tpot, cap):
    return SimpleNamespace(usd_hour=np.array(usd, float), ttft_s=np.array(ttft, float),
                           tpot_s=np.array(tpot, float), capacity_rps=np.array(cap, float))


def test_screen_frontier_sweeps_by_cost_then_capacity():
    inf = math.inf
    # Row 0 is infeasible; rows 1 and 2 cost the same: the one with more capacity comes first.
    sp = _fake_screen([inf, 4, 4, 2, 8], [0.0, 0.2, 0.1, 0.3, 0.05], [0.0, 0.01, 0.01, 0.02, 0.005],
                      [0, 10, 20, 5, 30])
    assert _screen_frontier(sp) == [3, 2, 4]  # row 1 is matched by row 2 (0.1 <= 0.2, 0.01 <= 0.01)
    sp.capacity_rps[1] = 30  # now row 1 is swept first and row 2 is faster on TTFT: both kept
    assert _screen_frontier(sp) == [3, 1, 2, 4]
    sp = _fake_screen([2, 4], [0.1, 0.1], [0.01, 0.01], [1, 1])  # equal latencies: the cheaper only
    assert _screen_frontier(sp) == [0]
    assert _screen_frontier(_fake_screen([inf], [0], [0], [1])) == []


def test_screen_frontier_spreads_sixteen_finalists_over_the_cost_range():
    n = 20  # every point on the frontier: dearer is faster on both
    sp = _fake_screen(list(range(1, n + 1)), [1.0 / i for i in range(1, n + 1)], [2.0 / i for i in range(1, n + 1)],
                      [1] * n)
    # round(linspace(0, 19, 16)): steps of 19/15 = 1.2667 → 0, 1, 3, 4, 5, 6, 8, 9, 10, 11, 13, 14, 15, 16, 18, 19
    assert _screen_frontier(sp) == [0, 1, 3, 4, 5, 6, 8, 9, 10, 11, 13, 14, 15, 16, 18, 19]
    sp = _fake_screen(list(range(1, 17)), [1.0 / i for i in range(1, 17)], [1.0 / i for i in range(1, 17)], [1] * 16)
    assert _screen_frontier(sp) == list(range(16))  # 16: all kept


def _point(label="a", batch=16, replicas=2, tp=1, usd=1.0, ttft=None, tpot=None, hosted=True):
    opt = Option(label=label, kind="self-hosted" if hosted else "api", how="", usd_per_request=usd,
                 usd_per_task=usd, usd_per_month=usd, usd_per_correct_answer=None, usd_per_mtok_input=None,
                 usd_per_mtok_output=None, gpus=None, ttft_s=ttft, tpot_s=tpot, accuracy=None, tokens={},
                 provenance={}, replicas=replicas if hosted else None)
    cfg = Config("m", "g", "bf16", "w", tp, 1, 1, "e", batch, f"{tp}x g") if hosted else None
    return PlanPoint(opt, cfg)


def test_differs_ignores_only_max_batch():
    a = _point(batch=16)
    assert not _differs(_point(batch=64), a)  # same layout and replicas: another max batch only
    assert _differs(_point(batch=64, replicas=3), a)
    assert _differs(_point(tp=2), a)
    assert _differs(_point("x", hosted=False), _point("y", hosted=False))
    assert not _differs(_point("x", hosted=False), _point("x", hosted=False))
    assert _differs(_point("x", hosted=False), a) and _differs(a, _point("a", hosted=False)) is False


def test_worst_objective_and_a_missing_value():
    values = {("ttft", "p95"): 3.0, ("tpot", "p95"): 0.05}
    sim = SimpleNamespace(value=lambda metric, stat: values.get((metric, stat)))
    ttft, tpot, e2e = Objective("ttft", "p95", 2.0), Objective("tpot", "p95", 0.1), Objective("e2e", "p50", 1.0)
    assert _worst(sim, [tpot, ttft]) == (1.5, ttft)  # 3 / 2 beats 0.05 / 0.1
    assert _worst(sim, [tpot]) == (0.5, tpot)
    assert _worst(sim, [ttft, e2e]) == (math.inf, e2e)  # no value: infinitely far


def test_unmet_messages():
    o = Objective("tpot", "p95", 0.005)
    misses = [_Miss("A", 1.5, o, "tpot p95 7 ms"), _Miss("B", 1.25, o, "tpot p95 6 ms")]
    assert _unmet([], misses, {}, []) == ("no option meets the SLO; tpot p95 <= 5 ms binds: the closest miss is B, "
                                          "tpot p95 6 ms (1.25x the limit)")
    # Every objective met (ratio exactly 1) yet it could not keep up.
    assert _unmet([], [_Miss("C", 1.0, o, "saturated at 3 req/s")], {}, []) == (
        "no option keeps up with the load; the closest is C, saturated at 3 req/s")
    assert _unmet([], [], {"has no price": ["g1", "g2"], "zzz": ["g3"]}, ["x: left"]) == (
        "no GPU could be searched: g1, g2 has no price")
    assert _unmet([], [], {}, ["a: first", "b: last"]) == "no option left: b: last"
    assert _unmet([], [], {}, []) == "no option: the workload has no candidates that plan can search"


def test_unmet_names_the_closest_configuration_that_does_not_fit(model):
    # Two cards that hold neither 65,841,152 B: 0.05 GiB and 0.06 GiB (64,424,509 B); the larger
    # is closer.
    g1 = hand.gpu("hand-tiny", memory_gib=0.05)
    g2 = hand.gpu("hand-less-tiny", memory_gib=0.06)
    sp = _screen(_workload(model), gpus=[g1, g2], engines=[hand.engine(runtime_reserve_gib=0.0)], batches=(64,))
    assert not sp.fits.any()
    assert _unmet([sp], [], {}, ["ignored"]) == (
        "no configuration fits in memory: the closest, hand-2l on 1x hand-less-tiny bf16 (hand-engine), needs "
        "0.0658 GB per GPU for one 200-token sequence, has 0.0644 GB; allow more GPUs per replica (max_tp) or "
        "shorter requests")


def test_assumptions_say_what_was_searched(model):
    w = _workload(model, requests_per_task=2, tasks_per_day=172_800_000)  # same peak: 4,000 req/s × 2.5
    objectives = list(w.slo.objectives())
    out = _assumptions(w, objectives, [hand.FAST, hand.MEMORY_BOUND], [hand.engine("e1"),
                       hand.engine("e2").model_copy(update={"calibration": "fitted to bench run r1"})],
                       ["bf16", "fp8"], [16, 64])
    assert out == [
        "traffic: 172,800,000 tasks/day x 2 requests, peak hour 2.5x the mean = 1e+04 requests/s",
        "searched: 2 GPU types x GPUs per replica and layout x precisions bf16, fp8 x engines e1, e2 x max batch "
        "16, 64",
        f"SLO ttft mean <= 12 ms, tpot mean <= 2 ms: judged on simulations of one replica (Poisson, {SIM_REQUESTS} "
        f"requests, first {SIM_WARMUP} left out, seed {SIM_SEED}) at its share of the peak at 80% utilisation "
        "(sizing) and at its share of the peak (the latencies shown)",
        "self-hosted replicas run for the peak, 730 h/month; API latency is not modelled (measure it with "
        "`truecost bench`)",
        "performance modelled (roofline, steady state, serving simulation) with GPU and model figures from the "
        "catalog and engine terms e1: uncalibrated engine defaults; e2: fitted to bench run r1"]
    assert _assumptions(w, [], [hand.FAST], [hand.engine("e1")], ["bf16"], [16])[2].startswith("SLO none: judged")


def test_search_axes_defaults_and_errors():
    assert _batches([256, 64, 64.0, 1]) == [1, 64, 256]
    for bad, shown in (([0], "0"), ([64, 1.5], "64,1.5"), ([], "none"), ([-1], "-1")):
        with pytest.raises(InputError) as e:
            _batches(bad)
        assert str(e.value) == ("--max-batch: give whole numbers of sequences, at least 1 (e.g. 64,256), got "
                                + shown)
    assert MAX_BATCHES == (64, 128, 256, 512, 1024, 2048)
    assert _precisions(None) == list(PRECISIONS) + ["native"]
    assert _precisions([" FP8 ", "Native"]) == ["fp8", "native"]
    with pytest.raises(InputError) as e:
        _precisions([])
    assert str(e.value) == "--precisions: give at least one precision (e.g. --precisions fp8,int4)"
    with pytest.raises(InputError) as e:
        _precisions(["bf16", "fp6"])
    assert str(e.value) == ("--precisions: unknown precision 'fp6'; choose from bf16, fp16, fp8, int8, int4, mxfp4, "
                            "nvfp4, native")
    assert [e.key for e in _engines(None)] == ["tuned", "vllm"]  # the shipped profiles plan searches
    assert [e.key for e in _engines([" vllm ", hand.engine("mine")])] == ["vllm", "mine"]
    with pytest.raises(InputError) as e:
        _engines([])
    assert str(e.value) == "--engines: give at least one engine profile (e.g. --engines tuned,vllm)"
    assert [g.key for g in _available_gpus([" h100-sxm ", "l40s"])] == ["h100-sxm", "l40s"]
    assert len(_available_gpus(None)) > 10 and "h100-sxm" in [g.key for g in _available_gpus(None)]
    with pytest.raises(InputError) as e:
        _available_gpus([])
    assert str(e.value) == "--gpus: give at least one GPU (e.g. --gpus h100-sxm,l40s)"


@pytest.mark.parametrize("text, expected", [
    ("TTFT_P95=2S", {"ttft_p95_s": 2.0}),
    ("tpot=5e-3", {"tpot_s": 0.005}),
    ("e2e_p99=1.5e1", {"e2e_p99_s": 15.0}),
    ("itl_s=.5", {"itl_s": 0.5}),
    ("ttft=1500ms,,tpot_p90=20 ms,", {"ttft_s": 1.5, "tpot_p90_s": 0.02}),
])
def test_parse_slo_units_and_blank_items(text, expected):
    assert {k: v for k, v in parse_slo(text) if v is not None} == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("text, message", [
    ("ttft=-1s", "--slo: 'ttft=-1s': give a time above zero such as 2s or 80ms"),
    ("ttft=1e999", "--slo: 'ttft=1e999': give a time above zero such as 2s or 80ms"),
    ("tpot=1,tpot_s=2", "--slo: tpot is given twice"),
    ("", "--slo: no objective given; e.g. --slo ttft_p95=2s,tpot_p95=80ms"),
    ("=2s", "--slo: '=2s' is not an objective; write METRIC[_pNN]=TIME with METRIC one of ttft, tpot, itl, e2e and "
            "pNN one of p50, p90, p95, p99 (e.g. ttft_p95=2s)"),
])
def test_parse_slo_more_errors(text, message):
    with pytest.raises(InputError) as e:
        parse_slo(text)
    assert str(e.value) == message


# ---- plan end to end on FAST ----------------------------------------------------------------
def test_plan_on_the_fast_gpu_prices_and_labels_every_field(tmp_path, model):
    gpu = hand.gpu_file(tmp_path, hand.FAST)
    noprice = hand.gpu_file(tmp_path, hand.gpu("hand-noprice", usd_per_gpu_hour=None))
    noprice2 = hand.gpu_file(tmp_path, hand.gpu("hand-a-noprice", usd_per_gpu_hour=None))
    w = _workload(model, requests_per_task=2, tasks_per_day=172_800_000, slo={"ttft_s": 0.012, "tpot_p99_s": 0.002},
                  cand={"accuracy": 0.8})
    p = plan(w, gpus=[noprice, gpu, noprice2], engines=[hand.engine()], precisions=["bf16"], max_batches=[1024, 64])
    tasks_month = 172_800_000 * DAYS_PER_MONTH
    assert (p.workload, p.tasks_per_month, p.peak_requests_per_s) == ("oracle", tasks_month, pytest.approx(PEAK))
    assert p.objectives == ["ttft mean <= 12 ms", "tpot p99 <= 2 ms"] and (p.ttft_stat, p.tpot_stat) == ("p95", "p99")
    assert p.not_searched == {"has no public on-demand price in the catalog; give one (usd_per_gpu_hour / "
                              "--usd-per-gpu-hour)": ["hand-a-noprice", "hand-noprice"]}
    assert p.excluded == [] and p.unmet is None
    assert p.searched["configurations"] == 2 and p.searched["fit"] == 2 and p.searched["within_slo_as_means"] == 2
    assert p.searched["confirmed"] == len([o for o in p.options if o.config is not None]) >= 1
    best = p.best
    assert best is p.options[0] and best.config.max_batch == 1024 and best.config.gpu == "hand-fast"
    o, k = best.option, best.option.replicas
    assert k >= 4  # the screen's bound for max batch 1,024 (test_fast_gpu_rows_match_the_closed_forms)
    assert o.label == "hand-2l @ hand-fast" and o.kind == "self-hosted"
    assert o.how == f"{k} x (1x hand-fast bf16, hand-engine, max batch 1024)"
    assert o.usd_per_month == pytest.approx(k * 2.0 * 730, rel=1e-12)
    assert o.usd_per_task == pytest.approx(k * 2.0 * 730 / tasks_month, rel=1e-12)
    assert o.usd_per_request == pytest.approx(o.usd_per_task / 2, rel=1e-12)
    assert o.usd_per_correct_answer == pytest.approx(o.usd_per_task / 0.8, rel=1e-12)
    assert o.gpus == k and o.gpus_per_replica == 1 and o.usd_per_replica_hour == pytest.approx(2.0, rel=1e-12)
    assert o.capacity_requests_per_s == pytest.approx(PEAK / 0.8 / k, rel=1e-12)
    assert o.accuracy == 0.8 and o.provenance["accuracy"] == "input: workload"
    assert o.provenance["price"] == "catalog:hand-made price@2026-01-01"  # the GPU's price source and date
    assert (f"capacity at least {PEAK / 0.8 / k:.3g} req/s per replica within the SLO (simulated: "
            in o.provenance["perf"])
    assert f"; latency simulated: {SIM_REQUESTS} requests, Poisson " in o.provenance["perf"]
    assert o.provenance["perf"].endswith(f", seed {SIM_SEED}")
    assert o.tokens == {"input": 100, "cached_input": 0, "output": 100, "reasoning": 0}
    # $/Mtok: the month's cost split by prefill time share over 2 × tasks × 100 tokens each way, so
    # with ISL = OSL the two add up to the whole month over those tokens, whatever the share.
    assert o.usd_per_mtok_input + o.usd_per_mtok_output == pytest.approx(
        o.usd_per_month / (tasks_month * 2 * 100) * 1e6, rel=1e-9)
    assert o.usd_per_mtok_input >= 0 and o.usd_per_mtok_output >= 0
    assert 0.011 <= o.ttft_s and 0.001 <= o.tpot_s <= 0.002  # a lone request's 10 + 1 ms at least; the SLO
    # The screen's bound: 4 replicas × $2 × 730 h a month.
    assert best.screen_usd_per_task == pytest.approx(4 * 2.0 * 730 / tasks_month, rel=1e-12)
    assert best.step_bound == "overhead"
    # Only the screen's frontier row (max batch 1,024: $8/h bound; 64 is matched by it) is
    # simulated: the other's bound, $40/h, cannot beat the confirmed k × $2/h.
    assert o.usd_per_month / 730 < 40 and p.searched["simulated"] == 1 and p.searched["confirmed"] == 1
    assert p.runner_up is None and [pt.option.how for pt in p.frontier] == [o.how]
    assert best.binding in ("ttft mean", "tpot p99", "throughput")
    # The frontier holds confirmed configurations only, cheapest first; the runner-up is not the
    # best with another max batch at the same replica count.
    assert all(pt.config is not None for pt in p.frontier)
    assert [pt.option.usd_per_task for pt in p.frontier] == sorted(pt.option.usd_per_task for pt in p.frontier)
    if p.runner_up is not None:
        assert _differs(p.runner_up, best)
    d = p.to_dict()
    assert d["best"]["config"]["max_batch"] == 1024 and d["searched"] == p.searched and isinstance(p, Plan)


def test_plan_simulates_at_most_four_closest_misses(tmp_path, model):
    gpu = hand.gpu_file(tmp_path, hand.FAST)
    w = _workload(model, slo={"ttft_p95_s": 0.005})
    # TTFT is at least 10 ms of request overhead + 1.5 ms: 5 ms cannot be met even as a mean. When
    # nothing passes the screen, its 4 closest misses (of 5) are simulated before plan reports.
    p = plan(w, gpus=[gpu], engines=[hand.engine()], precisions=["bf16"], max_batches=[8, 16, 32, 64, 128])
    assert p.searched == {"configurations": 5, "fit": 5, "within_slo_as_means": 0, "simulated": 4, "confirmed": 0}
    assert p.best is None and p.runner_up is None and p.options == [] and p.frontier == []
    assert p.unmet.startswith("no option meets the SLO; ttft p95 <= 5 ms binds: the closest miss is hand-2l @ "
                              "hand-fast: 1x hand-fast bf16, hand-engine, max batch ")


def test_plan_slo_override_and_quality_bar(tmp_path, model):
    gpu = hand.gpu_file(tmp_path, hand.FAST)
    w = _workload(model, min_accuracy=0.9, cand={"accuracy": 0.85})
    p = plan(w, slo=parse_slo("ttft=20ms"), gpus=[gpu], engines=[hand.engine()], precisions=["bf16"],
             max_batches=[64])
    assert p.objectives == ["ttft mean <= 20 ms"]
    assert p.excluded == ["hand-2l: accuracy 85% below the bar of 90%"] and p.searched["configurations"] == 0
    assert p.unmet == "no option left: hand-2l: accuracy 85% below the bar of 90%"
    # At the bar exactly it is searched.
    w = _workload(model, min_accuracy=0.85, cand={"accuracy": 0.85})
    p = plan(w, slo="ttft=20ms", gpus=[gpu], engines=[hand.engine()], precisions=["bf16"], max_batches=[64])
    assert p.excluded == [] and p.searched["configurations"] == 1
    # One GPU type with the candidate's own price: allowed (two are refused, tests/unit/test_plan.py).
    # A 512-token prompt: one live sequence within TTFT <= 12 ms as a mean (test_an_edge_at_one_sequence),
    # which counts as within the SLO.
    w = _workload(model, tokens={"input": 512, "output": 100},
                  cand={"usd_per_gpu_hour": 3.0, "accuracy": 0.5, "accuracy_source": "hand: 5 of 10"})
    p = plan(w, gpus=[gpu], engines=[hand.engine()], precisions=["bf16"], max_batches=[1024])
    assert p.searched["within_slo_as_means"] == 1
    assert p.best.option.provenance["accuracy"] == "hand: 5 of 10"
    assert p.best.option.usd_per_correct_answer == pytest.approx(2 * p.best.option.usd_per_task, rel=1e-12)
    assert p.best.option.usd_per_replica_hour == pytest.approx(3.0, rel=1e-12)
    assert p.best.option.usd_per_month == pytest.approx(p.best.option.replicas * 3.0 * 730, rel=1e-12)
