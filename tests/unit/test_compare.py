"""compare: cost per task and month, and self-hosted sizing, against hand arithmetic.

Self-hosted candidates run the hand-made model on hand-made GPUs with an engine whose every term
the test sets (tests/hand.py, written to TOML files as a user would), at loads that need more
than one replica, with peak_to_mean ≠ 1 and utilisation < 1, so each term of
``replicas = ceil(mean rate × peak_to_mean / (capacity × utilisation))`` and of
``$/month = replicas × GPUs × $/GPU-hour × 730 h`` shows in the result."""

import math

import pytest

from tests import hand as h
from truecost.compare import compare
from truecost.workload import Workload

from ..conftest import REPO

HOURS = 8760 / 12  # 730 hours in an average month
T = 0.001  # the hand engine's step overhead


def test_examples_rank_by_cost_per_task():
    for path in sorted((REPO / "examples").glob("*.toml")):
        c = compare(path)
        costs = [o.usd_per_task for o in c.ranked]
        assert costs == sorted(costs), path
        assert c.ranked, path


@pytest.fixture
def files(tmp_path):
    """Hand model, GPUs and engine as the TOML files a user would pass."""
    return {"model": h.model_file(tmp_path), "fast": h.gpu_file(tmp_path, h.FAST),
            "memory": h.gpu_file(tmp_path, h.MEMORY_BOUND),
            "engine": h.engine_file(tmp_path, max_num_tokens=8192),
            "engine4": h.engine_file(tmp_path, "hand-engine-4", max_batch_size=4, max_num_tokens=8192),
            "dir": tmp_path}


def _hosted(files, gpu="fast", engine="engine4", **over):
    return {"model": files["model"], "gpus": [files[gpu]], "precisions": ["bf16"], "max_tp": 1,
            "engine": files[engine], **over}


def test_replicas_are_sized_for_the_peak_at_the_utilisation(files):
    # One replica: at most 4 sequences (max_batch_size), each step 1 ms, 100 output tokens:
    # capacity = 4 / (100 × 1 ms) = 40 requests/s. Traffic: 864,000 tasks/day = 10 req/s mean,
    # × peak_to_mean 3 = 30 req/s at the peak; at 30% utilisation a replica takes 12 req/s
    # ⇒ ceil(30 / 12) = 3 replicas (1 if utilisation were ignored, 1 if the peak were).
    w = Workload.model_validate({
        "name": "t", "tasks_per_day": 864_000, "peak_to_mean": 3.0, "utilisation": 0.3,
        "tokens": {"input": 1000, "output": 100}, "self_hosted": [_hosted(files)]})
    c = compare(w)
    assert c.peak_requests_per_s == pytest.approx(30.0)
    assert c.tasks_per_month == pytest.approx(864_000 * 730 / 24)  # 26,280,000
    o = c.options[0]
    assert o.capacity_requests_per_s == pytest.approx(40.0, rel=1e-9)
    assert (o.replicas, o.gpus_per_replica, o.gpus) == (3, 1, 3)
    assert o.usd_per_replica_hour == pytest.approx(2.0)
    assert o.usd_per_month == pytest.approx(3 * 2.0 * 730)  # $4,380: 730 h a month, not 720
    assert o.usd_per_task == pytest.approx(4380 / 26_280_000)
    assert o.usd_per_request == pytest.approx(4380 / 26_280_000)
    # latency at the per-replica share of the peak, 10 req/s: TTFT = 10 ms + half a step + one
    # prefill step; TPOT one step.
    assert o.ttft_s == pytest.approx(0.01 + 0.5 * T + T, rel=1e-6)
    assert o.tpot_s == pytest.approx(T, rel=1e-6)
    # the step is all fixed overhead here, so no time goes to prompt tokens: $ all on output
    assert o.usd_per_mtok_input == pytest.approx(0.0, abs=1e-12)
    assert o.usd_per_mtok_output == pytest.approx(4380 / (26_280_000 * 100) * 1e6, rel=1e-9)
    assert o.how == f"3 x (1x {h.FAST.key} bf16)"


def test_requests_per_task_scale_the_rate_and_not_the_task_count(files):
    # 2 requests per task: 20 req/s mean, 60 at the peak, ceil(60 / 12) = 5 replicas.
    w = Workload.model_validate({
        "name": "t", "tasks_per_day": 864_000, "requests_per_task": 2, "peak_to_mean": 3.0,
        "utilisation": 0.3, "tokens": {"input": 1000, "output": 100}, "self_hosted": [_hosted(files)]})
    o = compare(w).options[0]
    assert o.replicas == 5
    assert o.usd_per_task == pytest.approx(5 * 2.0 * 730 / 26_280_000)
    assert o.usd_per_request == pytest.approx(5 * 2.0 * 730 / 26_280_000 / 2)


def test_a_tpot_slo_sets_the_concurrency_and_so_the_capacity(files):
    # Memory-bound GPU (1e12 bytes/s achievable), ISL 1000, OSL 100: a step at C live sequences
    # streams 62,914,560 bytes of weights and LM head, C × 2,048 × 1,050 bytes of KV (mean
    # context 1000 + 100/2) and writes C/100 × 1000 × 2,048 bytes of prompt KV:
    #     t(C) = 1 ms + (62,914,560 + 2,170,880·C) / 1e12
    # TPOT ≤ 2 ms ⇒ C ≤ (2e-3 − 1.06291456e-3) / 2.17088e-6 = 431.66 ⇒ C = 431,
    # t(431) = 1.99856384 ms, capacity = 431 / (100 × t) = 2,156.55 requests/s.
    # Peak: 86.4M tasks/day = 1,000 req/s × 2 = 2,000; at 50% ⇒ ceil(2000 / 1078.27) = 2 replicas.
    w = Workload.model_validate({
        "name": "t", "tasks_per_day": 86_400_000, "peak_to_mean": 2.0, "utilisation": 0.5,
        "tokens": {"input": 1000, "output": 100}, "slo": {"tpot_s": 0.002},
        "self_hosted": [_hosted(files, gpu="memory", engine="engine")]})
    o = compare(w).options[0]
    t = T + (62_914_560 + 2_170_880 * 431) / 1e12
    assert t == pytest.approx(1.99856384e-3, rel=1e-12)
    assert o.capacity_requests_per_s == pytest.approx(431 / (100 * t), rel=1e-9)
    assert o.replicas == 2 == math.ceil(2000 / (0.5 * 431 / (100 * t)))
    assert o.tpot_s <= 0.002


def test_an_slo_missed_at_one_request_excludes_the_option(files):
    w = Workload.model_validate({
        "name": "t", "tasks_per_day": 86_400, "tokens": {"input": 1000, "output": 100},
        "slo": {"tpot_s": 0.0009}, "self_hosted": [_hosted(files)]})  # every step takes 1 ms
    (o,) = compare(w).options
    assert o.excluded == f"1x {h.FAST.key} bf16: misses the SLO even at one request"
    assert compare(w).ranked == []
    # the GPU by its key (the file it came from is not its name), as on a priced row
    assert (o.label, o.kind, o.how) == (f"{files['model']} @ {h.FAST.key}", "self-hosted", "-")
    assert (o.usd_per_request, o.usd_per_task, o.usd_per_month) == (math.inf,) * 3
    assert o.tokens == {"input": 1000, "cached_input": 0, "output": 100, "reasoning": 0}
    assert o.provenance == {} and o.gpus is None and o.replicas is None


def test_own_basis_prices_the_replicas_at_the_ownership_rate(files):
    # $20,000 × (1 + 0.5) / (4 y × 8,760 h) + 1 kW × 0.5 × PUE 1.5 × $0.10 = 0.85616 + 0.075 $/h
    terms = {"life_years": 4, "server_overhead_fraction": 0.5, "usd_per_kwh": 0.10, "pue": 1.5,
             "power_fraction_of_tdp": 0.5}
    w = Workload.model_validate({
        "name": "t", "tasks_per_day": 864_000, "peak_to_mean": 3.0, "utilisation": 0.3,
        "tokens": {"input": 1000, "output": 100},
        "self_hosted": [_hosted(files, basis="own", ownership=terms)]})
    o = compare(w).options[0]
    per_gpu_hour = 20_000 * 1.5 / (4 * 8760) + 1.0 * 0.5 * 1.5 * 0.10
    assert o.usd_per_month == pytest.approx(3 * per_gpu_hour * 730)


# ---- API options: hand prices from an offers file ------------------------------------------------
OFFERS = """\
["hand/model"]
usd_per_mtok_input = 1.0
usd_per_mtok_cached_input = 0.5
usd_per_mtok_output = 4.0
batch_discount = 0.5
source = "hand prices"
as_of = 2026-01-01
"""


def test_api_cost_per_task_month_and_correct_answer_by_hand(tmp_path):
    (tmp_path / "offers.toml").write_text(OFFERS)
    # per request: 500 uncached × $1 + 500 cached × $0.5 + (200 output + 100 reasoning) × $4, per 1M
    #   = (500 + 250 + 1,200) / 1e6 = $0.00195; 3 requests per task = $0.00585
    w = Workload.model_validate({
        "name": "t", "tasks_per_day": 86_400, "requests_per_task": 3, "peak_to_mean": 2.0,
        "tokens": {"input": 1000, "output": 200, "cached_input_fraction": 0.5},
        "offers_file": str(tmp_path / "offers.toml"),
        "api": [{"offer": "hand/model", "reasoning_tokens": 100, "accuracy": 0.8},
                {"offer": "hand/model", "label": "batch", "batch": True}]})
    by = {o.label: o for o in compare(w).options}
    o = by["hand/model"]
    assert o.usd_per_request == pytest.approx(0.00195)
    assert o.usd_per_task == pytest.approx(0.00585)
    assert o.usd_per_month == pytest.approx(0.00585 * 86_400 * 730 / 24)  # 2,628,000 tasks
    assert o.usd_per_correct_answer == pytest.approx(0.00585 / 0.8)
    # batch: (500 + 250 + 200 × 4) / 1e6 × 0.5 per request, no reasoning override
    assert by["batch"].usd_per_request == pytest.approx((500 + 250 + 800) / 1e6 * 0.5)
    assert by["batch"].how == "API batch"


def test_quality_bar_excludes_options():
    w = Workload.model_validate({"name": "t", "tasks_per_day": 86400, "min_accuracy": 0.9,
                                 "tokens": {"input": 1000, "output": 200},
                                 "api": [{"offer": "gpt-4o-mini", "accuracy": 0.7}]})
    c = compare(w)
    assert c.ranked == []
    assert c.options[0].excluded == "accuracy 70% below the bar of 90%"


def test_per_model_tokens_change_the_cost(tmp_path):
    (tmp_path / "offers.toml").write_text(OFFERS)
    w = Workload.model_validate({"name": "t", "tasks_per_day": 86400, "tokens": {"input": 1000, "output": 200},
                                 "offers_file": str(tmp_path / "offers.toml"),
                                 "api": [{"offer": "hand/model", "label": "short"},
                                         {"offer": "hand/model", "label": "long", "reasoning_tokens": 2000}]})
    by = {o.label: o.usd_per_task for o in compare(w).options}
    assert by["short"] == pytest.approx((1000 + 200 * 4) / 1e6)
    assert by["long"] == pytest.approx((1000 + 2200 * 4) / 1e6)


def test_the_cheapest_configuration_wins_and_a_tie_keeps_the_first(files):
    # bf16 and fp8 cost the same here (the step is all overhead); TP 2 needs twice the GPUs
    w = Workload.model_validate({
        "name": "t", "tasks_per_day": 864_000, "peak_to_mean": 3.0, "utilisation": 0.3,
        "tokens": {"input": 1000, "output": 100},
        "self_hosted": [_hosted(files, precisions=["bf16", "fp8"], max_tp=2, label="mine")]})
    o = compare(w).options[0]
    assert o.how == f"3 x (1x {h.FAST.key} bf16)" and o.label == f"mine @ {h.FAST.key}"
    assert o.provenance["price"] == "catalog:hand-made price@2026-01-01"
    assert o.provenance["perf"].endswith("; capacity 40 req/s per replica within the SLO (steady-state model)")
    assert o.provenance["perf"].startswith("modelled:roofline+continuous batching; engine 'hand-engine-4'")


def test_a_ttft_slo_takes_the_most_sequences_that_meet_it(files):
    """The sizing's bisection against a scan of every concurrency up to what fits (4,096)."""
    from truecost.perf.serving import make_deployment, operating_point

    slo = 0.0125  # 12.5 ms: 10 ms of request overhead leaves 2.5 ms for half a step and the prefill
    w = Workload.model_validate({
        "name": "t", "tasks_per_day": 86_400, "tokens": {"input": 1000, "output": 100},
        "slo": {"ttft_s": slo}, "self_hosted": [_hosted(files, gpu="memory", engine="engine")]})
    o = compare(w).options[0]
    dep = make_deployment(files["model"], files["memory"], "bf16", 1, files["engine"])
    meets = [k for k in range(1, 4097) if operating_point(dep, k, 1000, 100).ttft_s <= slo]
    best = max(meets)
    assert 1 < best < 4096 and meets == list(range(1, best + 1))  # TTFT grows with C
    assert o.capacity_requests_per_s == pytest.approx(operating_point(dep, best, 1000, 100).requests_per_s)
    assert o.ttft_s <= slo


def test_nothing_fits_says_why(files, tmp_path):
    tiny = h.gpu_file(tmp_path, h.gpu("hand-tiny", memory_gib=0.01, max_gpus_per_node=1))
    w = Workload.model_validate({"name": "t", "tasks_per_day": 86_400, "tokens": {"input": 1000, "output": 100},
                                 "self_hosted": [{**_hosted(files), "gpus": [tiny]}]})
    (o,) = compare(w).options
    assert o.excluded.startswith("hand-2l at bf16 does not fit on 1x hand-tiny: needs ")


def test_quality_bar_is_inclusive_and_sources_are_kept(tmp_path):
    (tmp_path / "offers.toml").write_text(OFFERS)
    w = Workload.model_validate({
        "name": "t", "tasks_per_day": 86_400, "min_accuracy": 0.8, "peak_to_mean": 2.0, "utilisation": 0.5,
        "tokens": {"input": 1000, "output": 200}, "offers_file": str(tmp_path / "offers.toml"),
        "api": [{"offer": "hand/model", "accuracy": 0.8, "accuracy_source": "my eval", "output_tokens": 100},
                {"offer": "hand/model", "label": "plain"}]})
    c = compare(w)
    by = {o.label: o for o in c.options}
    assert by["hand/model"].excluded is None  # exactly at the bar
    assert by["hand/model"].provenance == {"price": "catalog:hand prices@2026-01-01",
                                           "tokens": "input: workload, per-model token override",
                                           "accuracy": "my eval"}
    assert by["plain"].provenance == {"price": "catalog:hand prices@2026-01-01", "tokens": "input: workload"}
    assert (by["plain"].kind, by["plain"].how, by["plain"].gpus, by["plain"].ttft_s) == ("api", "API", None, None)
    assert (by["plain"].usd_per_mtok_input, by["plain"].usd_per_mtok_output) == (1.0, 4.0)
    assert c.assumptions == [
        "traffic: 86,400 tasks/day x 1 requests, peak hour 2x the mean = 2 requests/s",
        "self-hosted: replicas sized for the peak at 50% utilisation, up 730 h/month; no cached input",
        "API latency is not modelled (measure it with `truecost bench`)"]
    # with a quality bar, an option of unknown accuracy cannot be shown to meet it
    assert [o.label for o in c.ranked] == ["hand/model"]
    assert by["plain"].excluded == ("no accuracy stated, and the workload's min_accuracy is 80% "
                                    "(add accuracy = ... to the candidate)")
    assert by["hand/model"].usd_per_task < by["plain"].usd_per_task  # 100 output tokens cost less
    assert c.to_dict()["options"][0]["label"] == "hand/model"


def test_dollars_split_between_input_and_output_by_the_prefill_time_share(files):
    # Memory-bound GPU: prompt tokens take a share of each step (test_serving.py checks the share
    # by hand); compare splits the month's dollars by it: share to input tokens, the rest to output.
    from truecost.perf.serving import estimate

    w = Workload.model_validate({
        "name": "t", "tasks_per_day": 86_400, "requests_per_task": 2, "peak_to_mean": 2.0, "utilisation": 0.5,
        "tokens": {"input": 800, "output": 100, "reasoning": 20},
        "self_hosted": [_hosted(files, gpu="memory", engine="engine", accuracy=0.5, accuracy_source="my eval")]})
    o = compare(w).options[0]
    assert o.replicas == 1 and o.gpus == 1 and o.kind == "self-hosted"
    requests_month = 86_400 * 730 / 24 * 2  # 2 requests per task
    monthly = 2.0 * 730
    est = estimate(files["model"], files["memory"], isl=800, osl=120, rate=4.0, engine=files["engine"])
    share = est.prefill_time_share
    assert 0.01 < share < 0.5
    assert o.usd_per_mtok_input == pytest.approx(monthly * share / (requests_month * 800) * 1e6, rel=1e-9)
    assert o.usd_per_mtok_output == pytest.approx(monthly * (1 - share) / (requests_month * 120) * 1e6, rel=1e-9)
    assert (o.ttft_s, o.tpot_s) == (pytest.approx(est.ttft_s), pytest.approx(est.tpot_s))
    assert o.usd_per_correct_answer == pytest.approx(o.usd_per_task / 0.5)
    assert o.accuracy == 0.5 and o.provenance["accuracy"] == "my eval"
    assert o.tokens == {"input": 800, "cached_input": 0, "output": 100, "reasoning": 20}
    no_source = Workload.model_validate({**w.model_dump(), "self_hosted": [
        _hosted(files, gpu="memory", engine="engine", accuracy=0.5)]})
    assert compare(no_source).options[0].provenance["accuracy"] == "input: workload"
    assert "accuracy" not in compare(Workload.model_validate({**w.model_dump(), "self_hosted": [
        _hosted(files, gpu="memory", engine="engine")]})).options[0].provenance


def test_an_slo_met_exactly_is_met(files):
    """An SLO equal to the modelled TTFT at C live sequences admits C (≤, not <); one met only at
    C = 1 sizes replicas at one sequence."""
    from truecost.perf.serving import make_deployment, operating_point

    dep = make_deployment(files["model"], files["memory"], "bf16", 1, files["engine"])

    def sized(ttft_s: float) -> float:
        w = Workload.model_validate({
            "name": "t", "tasks_per_day": 86_400, "tokens": {"input": 1000, "output": 100},
            "slo": {"ttft_s": ttft_s}, "self_hosted": [_hosted(files, gpu="memory", engine="engine")]})
        return compare(w).options[0].capacity_requests_per_s

    for c in (1, 7):
        op = operating_point(dep, c, 1000, 100)
        assert sized(op.ttft_s) == pytest.approx(op.requests_per_s, rel=1e-12), c


def test_tp_2_when_one_gpu_is_too_small_and_rent_overrides(files, tmp_path):
    # 0.1 GiB GPUs, no reserve, all free memory to KV: bf16 weights (65,021,952) plus one
    # 30,000-token sequence (61,440,000) overflow one GPU (107,374,182), fit on TP 2
    small = h.gpu_file(tmp_path, h.gpu("hand-small", memory_gib=0.1, bf16_tflops=h.UNBOUNDED_TFLOPS,
                                       memory_tb_s=h.UNBOUNDED_TB_S))
    eng = h.engine_file(tmp_path, "hand-engine-small", runtime_reserve_gib=0.0, kv_memory_fraction=1.0,
                        max_num_tokens=65_536)
    w = Workload.model_validate({
        "name": "sized", "tasks_per_day": 86_400, "tokens": {"input": 29_000, "output": 1000},
        "self_hosted": [{**_hosted(files, engine="engine"), "gpus": [small], "engine": eng, "usd_per_gpu_hour": 5.0,
                         "max_tp": 8},
                        {**{k: v for k, v in _hosted(files).items() if k != "max_tp"}, "tp": 16}]})
    c = compare(w)
    assert c.workload == "sized"
    o, nothing = c.options
    assert (o.gpus_per_replica, o.how.split(" x ")[1]) == (2, "(2x hand-small bf16)")
    assert o.usd_per_month == pytest.approx(o.replicas * 2 * 5.0 * 730)  # the given rent, not $2
    # a pinned TP no node of the GPU holds says so (not "no configuration tried"), and ranks last
    assert nothing.excluded == ("--tp 16 x --dp 1 = 16 GPUs exceeds the 8 hand-fast GPUs of one node; "
                                "a replica stays in a node")
