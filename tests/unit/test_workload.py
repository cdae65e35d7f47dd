"""Workload files: traffic, tokens, per-candidate overrides, and the errors a bad file gets."""

import pytest

from truecost.errors import CatalogError
from truecost.perf.simulate import Objective
from truecost.workload import SelfHostedCandidate, Slo, SwarmCandidate, Tokens, Workload, load_workload

BASE = {"name": "w", "tasks_per_day": 172_800, "requests_per_task": 2.5, "peak_to_mean": 4.0,
        "tokens": {"input": 1000, "output": 200, "reasoning": 50, "cached_input_fraction": 0.25},
        "api": [{"offer": "openai/gpt-4o"}]}


def test_traffic_by_hand():
    w = Workload.model_validate(BASE)
    assert w.requests_per_s_mean == pytest.approx(172_800 * 2.5 / 86_400)  # 5 requests/s
    assert w.requests_per_s_peak == pytest.approx(5 * 4.0)


def test_tokens_and_per_model_overrides():
    t = Tokens(input=1000, output=200, reasoning=50, cached_input_fraction=0.25)
    assert (t.cached_input, t.generated) == (250, 250)
    c = SelfHostedCandidate(model="m", output_tokens=300)
    assert c.tokens(t) == Tokens(input=1000, output=300, reasoning=50, cached_input_fraction=0.25)
    c = SelfHostedCandidate(model="m", reasoning_tokens=0)
    assert c.tokens(t).reasoning == 0 and c.tokens(t).output == 200  # 0 overrides, None does not
    assert SelfHostedCandidate(model="m").tokens(t) == t
    defaults = SelfHostedCandidate(model="m")
    assert (defaults.gpus, defaults.precisions, defaults.max_tp, defaults.engine) == (
        ["h100-sxm"], ["bf16", "fp8", "int4"], 8, "tuned")


def test_defaults_of_a_workload():
    w = Workload.model_validate({"name": "w", "tasks_per_day": 1, "tokens": {"input": 1, "output": 1}})
    assert (w.requests_per_task, w.peak_to_mean, w.utilisation, w.min_accuracy) == (1, 3.0, 0.8, None)


def test_load_workload_resolves_the_offers_file_beside_it(tmp_path):
    (tmp_path / "sub").mkdir()
    f = tmp_path / "sub" / "w.toml"
    f.write_text('name = "w"\ntasks_per_day = 10\noffers_file = "offers.toml"\n'
                 '[tokens]\ninput = 10\noutput = 5\n[[api]]\noffer = "openai/gpt-4o"\n')
    assert load_workload(f).offers_file == str(tmp_path / "sub" / "offers.toml")
    absolute = tmp_path / "abs.toml"
    f.write_text(f'name = "w"\ntasks_per_day = 10\noffers_file = "{absolute}"\n'
                 '[tokens]\ninput = 10\noutput = 5\n[[api]]\noffer = "openai/gpt-4o"\n')
    assert load_workload(f).offers_file == str(absolute)


@pytest.mark.parametrize("body, message", [
    ('name = "w"\ntasks_per_day = 10\n[tokens]\ninput = 10\noutput = 5\n',
     "{f}: no candidates; add [[api]], [[self_hosted]], [[swarm]] or [[offload]] tables"),
    ('name = "w"\ntasks_per_day = 10\npeak_to_mean = 0.5\n[tokens]\ninput = 10\noutput = 5\n',
     "{f}: peak_to_mean: Input should be greater than or equal to 1"),
    ('name = "w"\ntasks_per_day = 10\nutilisation = 0.009\n[tokens]\ninput = 10\noutput = 5\n[[api]]\noffer = "x"\n',
     "{f}: utilisation: Input should be greater than or equal to 0.01"),
    # 2e11 tasks/day x 2 requests x peak 3 / 86,400 s = 1.3888...e7 requests/s at the peak
    ('name = "w"\ntasks_per_day = 2e11\nrequests_per_task = 2\n[tokens]\ninput = 10\noutput = 5\n'
     '[[api]]\noffer = "x"\n',
     "{f}: tasks_per_day x requests_per_task x peak_to_mean / 86,400 gives a peak of 1.39e+07 requests/s, "
     "beyond the 10,000,000 requests/s truecost sizes; check those three keys"),
    ('name = "w"\ntasks_per_day = 10\npeak_to_mean = 1e308\n[tokens]\ninput = 10\noutput = 5\n[[api]]\n'
     'offer = "x"\n',  # 10 / 86,400 = 1.157e-4 requests/s, x 1e308 = 1.157e304
     "{f}: tasks_per_day x requests_per_task x peak_to_mean / 86,400 gives a peak of 1.16e+304 requests/s, "
     "beyond the 10,000,000 requests/s truecost sizes; check those three keys"),
    ('name = "w"\ntasks_per_day = 10\n[tokens]\ninput = 10\noutput = 5\n[[api]]\noffer = "x"\nbatchh = true\n',
     "{f}: unknown key 'api.0.batchh'"),
])
def test_bad_workloads_are_one_line_errors(tmp_path, body, message):
    f = tmp_path / "w.toml"
    f.write_text(body)
    with pytest.raises(CatalogError) as e:
        load_workload(f)
    assert str(e.value) == message.format(f=f)


def test_the_peak_bound_is_inclusive(tmp_path):
    # 8.64e11 tasks/day x 1 request x peak 1 / 86,400 s = exactly 1e7 requests/s: allowed; and
    # utilisation 0.01, the lowest allowed
    f = tmp_path / "w.toml"
    f.write_text('name = "w"\ntasks_per_day = 8.64e11\npeak_to_mean = 1\nutilisation = 0.01\n'
                 '[tokens]\ninput = 10\noutput = 5\n[[api]]\noffer = "x"\n')
    w = load_workload(f)
    assert w.requests_per_s_peak == 1e7 and w.utilisation == 0.01


def test_slo_objectives_read_metric_and_statistic_from_the_key():
    # The key's spelling is the oracle: "ttft_s" is a mean of ttft, "e2e_p99_s" the 99th
    # percentile of e2e, in field order; keys left unset give no objective.
    slo = Slo(ttft_s=0.5, itl_p90_s=0.05, e2e_p99_s=30)
    assert slo.objectives() == (Objective("ttft", "mean", 0.5), Objective("itl", "p90", 0.05),
                                Objective("e2e", "p99", 30))
    assert Slo().objectives() == ()


def test_swarm_server_list_joins_a_list_and_keeps_a_string():
    assert SwarmCandidate(model="m", servers="6x rtx-4090").server_list() == "6x rtx-4090"
    assert SwarmCandidate(model="m", servers=["2x a100", "4x rtx-4090"]).server_list() == (
        "2x a100, 4x rtx-4090")


@pytest.mark.parametrize("table", ['[[swarm]]\nmodel = "m"\nservers = "2x rtx-4090"\n',
                                   '[[offload]]\nmodel = "m"\n',
                                   '[[self_hosted]]\nmodel = "m"\n'])
def test_a_workload_with_one_kind_of_candidate_alone_loads(tmp_path, table):
    # Any one of the four candidate tables is enough (only none at all is an error).
    f = tmp_path / "w.toml"
    f.write_text('name = "w"\ntasks_per_day = 10\n[tokens]\ninput = 10\noutput = 5\n' + table)
    w = load_workload(f)
    assert len(w.swarm) + len(w.offload) + len(w.self_hosted) == 1


def test_pinned_and_searched_choices_of_a_self_hosted_candidate():
    # Searched: the listed precisions, and every power-of-two TP size up to max_tp inclusive
    # (max_tp 4 -> 1, 2, 4; max_tp 8 -> 1, 2, 4, 8). Pinned: exactly the one value given.
    searched = SelfHostedCandidate(model="m", precisions=["fp8", "int4"], max_tp=4)
    assert (searched.precision_choices, searched.tp_choices, searched.pins) == (
        ["fp8", "int4"], [1, 2, 4], [])
    assert SelfHostedCandidate(model="m").tp_choices == [1, 2, 4, 8]
    assert SelfHostedCandidate(model="m", max_tp=3).tp_choices == [1, 2]
    pinned = SelfHostedCandidate(model="m", tp=2, precision="fp8", replicas=3)
    assert (pinned.precision_choices, pinned.tp_choices) == (["fp8"], [2])
    assert pinned.pins == ["tp=2", "precision=fp8", "replicas=3"]
    assert SelfHostedCandidate(model="m", replicas=5).pins == ["replicas=5"]
