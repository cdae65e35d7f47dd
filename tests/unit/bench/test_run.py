"""run_bench end to end against the fake server: load modes, windows, cost, energy, the store."""

import json
import sys
import time

import pytest

from tests.fakeserver import MODEL, Script
from truecost.bench import load_run, run_bench
from truecost.bench.schedule import sweep_rates
from truecost.errors import EndpointError, InputError
from truecost.prices import Offer
from truecost.provenance import Provenance
from truecost.store import Store

SMALL = {"isl": 16, "osl": 4}


def test_a_concurrency_sweep_is_stored_with_what_calibration_needs(fake):
    r = run_bench(fake.url("fast"), MODEL, concurrency=[1, 3], requests=12, warmup=2, **SMALL,
                  gpu="h100-sxm", gpus=2)
    assert [p.label for p in r.points] == ["c=1", "c=3"]
    assert [(p.warmup, p.drain) for p in r.points] == [(2, 1), (2, 3)]  # drain = concurrency
    assert [p.summary.requests for p in r.points] == [12 - 2 - 1, 12 - 2 - 3]
    assert r.provenance == Provenance("measured", r.run_id)
    with Store() as s:
        rows = s.points(r.run_id)
        assert s.run(r.run_id)["status"] == "complete"
        assert len(s.requests(r.run_id)) == 24
    assert [(x["mode"], x["concurrency"], x["gpu"], x["gpus"], x["model"]) for x in rows] == [
        ("concurrency", 1, "h100-sxm", 2, MODEL), ("concurrency", 3, "h100-sxm", 2, MODEL)]
    assert rows[1]["output_token_throughput"] == pytest.approx(
        r.points[1].summary.output_token_throughput)
    assert (rows[0]["isl_mean"], rows[0]["osl_mean"]) == (16, 4)
    assert load_run(r.run_id).points == r.points  # metrics recompute from the stored requests


def test_gpu_cost_is_dollars_per_second_over_measured_throughput(fake):
    r = run_bench(fake.url("fast"), MODEL, concurrency=2, requests=10, **SMALL, gpu="h100-sxm",
                  gpus=2, usd_per_gpu_hour=3.0)
    p = r.points[0]
    usd_s = 2 * 3.0 / 3600
    assert p.cost.usd_per_hour == 6.0
    assert p.cost.usd_per_request == pytest.approx(usd_s / p.summary.request_throughput)
    assert p.cost.usd_per_mtok_output == pytest.approx(usd_s / p.summary.output_token_throughput * 1e6)
    assert p.cost.usd_per_mtok_total == pytest.approx(usd_s / p.summary.total_token_throughput * 1e6)
    assert p.cost.provenance == Provenance("input", "3.0 $/GPU-hour")


def test_api_cost_bills_reasoning_as_output_and_cached_input_cheaper(fake):
    offer = Offer("x/y", "x", "y", usd_per_mtok_input=1.0, usd_per_mtok_output=4.0,
                  usd_per_mtok_cached_input=0.5, provenance=Provenance("input", "test"))
    r = run_bench(fake.url("reasoning"), MODEL, concurrency=2, requests=6, **SMALL, offer=offer)
    p = r.points[0]
    # every request: 16 prompt tokens (2 cached), 7 completion tokens of which 4 reasoning
    per_request = ((16 - 2) * 1.0 + 2 * 0.5 + (3 + 4) * 4.0) / 1e6
    assert p.cost.usd_per_request == pytest.approx(per_request)
    assert p.cost.usd_per_mtok_output == pytest.approx(per_request / 7 * 1e6)
    assert p.summary.tokens.reasoning_mean == 4 and p.summary.ttfo.p50 > p.summary.ttft.p50


def test_open_loop_rate_keeps_intended_times_and_no_drain(fake):
    r = run_bench(fake.url("fast"), MODEL, rate=50, poisson=True, requests=20, **SMALL, seed=3)
    p = r.points[0]
    assert (p.label, p.drain, p.summary.requests) == ("50 req/s poisson", 0, 20)
    assert p.summary.send_lag.n == 20 and p.summary.send_lag.p50 < 0.001
    assert p.summary.ttft_from_intended.p50 >= p.summary.ttft.p50


def test_sweep_finds_the_maximum_then_steps_rates_up_to_it(fake):
    r = run_bench(fake.url("fast"), MODEL, sweep=True, sweep_steps=2, concurrency=4,
                  requests=12, **SMALL)
    probe, *rates = r.points
    assert probe.mode == "throughput" and probe.label == "c=4 (max)"
    assert [p.rate for p in rates] == pytest.approx(
        sweep_rates(probe.summary.request_throughput, 2))


def test_replay_follows_the_log(fake, tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join(json.dumps({"timestamp": 1000.0 + i * 0.05, "input_tokens": 8,
                                         "output_tokens": 3}) for i in range(6)))
    r = run_bench(fake.url("fast"), MODEL, replay=log)
    p = r.points[0]
    assert (p.mode, p.summary.requests, p.summary.tokens.output_mean) == ("replay", 6, 3)
    # The log spans 0.25 s from first to last send; the window (first actual send to last end) can
    # be shorter by the first send's lateness, a few ms at most on a loaded 2-core machine.
    assert p.summary.duration_s >= 0.25 - 0.005


def test_prompt_files(fake, tmp_path):
    f = tmp_path / "p.jsonl"
    f.write_text('{"prompt": "a b c", "max_tokens": 2}\n')
    r = run_bench(fake.url("fast"), MODEL, prompts=f, requests=3, drain=0, store=False)
    assert r.run_id is None and r.points[0].summary.tokens.input_mean == 3
    assert not any("approximate" in n for n in r.notes)


def test_a_window_with_nothing_left_to_measure_is_refused():
    with pytest.raises(InputError) as e:
        run_bench("http://127.0.0.1:9/v1", MODEL, concurrency=8, requests=10, warmup=2)
    assert str(e.value) == ("10 requests leave none to measure after warm-up 2 and drain 8 "
                            "(drain defaults to the concurrency); ask for more --requests or "
                            "lower --warmup/--drain")


def test_a_fatal_error_mid_run_keeps_the_partial_results(fake):
    fake.add("revoked", Script(limit=4, then=Script(kind="status", status=401)))
    with pytest.raises(EndpointError):
        run_bench(fake.url("revoked"), MODEL, concurrency=1, requests=20, **SMALL)
    with Store() as s:
        (run,) = s.runs()
    assert (run["status"], run["requests"], run["ok"]) == ("failed", 5, 4)
    assert "refused the request (HTTP 401)" in run["error"]
    stored = load_run(run["run_id"])
    assert stored.points[0].label == "point 0 (incomplete)" and stored.points[0].summary.ok == 4


def test_energy_from_a_counter(fake, monkeypatch):
    watts = 400.0
    # a GPU that has drawn `watts` since the epoch: counter(t) = watts * t, in mJ
    monkeypatch.setattr("truecost.bench.run.nvml_counter", lambda gpus: (
        lambda: [int(time.time() * watts * 1000)], ["fake GPU"]))
    r = run_bench(fake.url("normal"), MODEL, concurrency=2, requests=10, **SMALL, energy=True,
                  energy_idle_s=0.2)
    e = r.points[0].energy
    s = r.points[0].summary
    assert e.gpus == 1 and e.window_s == pytest.approx(s.duration_s)
    assert e.mean_power_w == pytest.approx(watts, rel=0.02)  # counter resolution: 1 mJ
    assert e.idle_power_w == pytest.approx(watts, rel=0.02)
    tokens = s.tokens.output_mean * s.ok
    assert e.joules_per_output_token == pytest.approx(watts * s.duration_s / tokens, rel=0.02)


def test_energy_without_nvml_is_skipped_with_one_line(fake, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)
    r = run_bench(fake.url("fast"), MODEL, requests=3, **SMALL, energy=True, store=False)
    assert r.points[0].energy is None
    assert ("energy: skipped, the nvidia-ml-py package is not installed (needs an NVIDIA GPU "
            "with NVML on this machine)") in r.notes


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"rate": 5, "concurrency": 2}, "--rate is open loop and --concurrency closed loop: choose "
                                    "one (--sweep finds the rates itself)"),
    ({"poisson": True}, "--poisson needs --rate R (or --sweep)"),
    ({"gpu": "h100-sxm", "offer": "openai/gpt-4o"}, "price a run with --gpu (self-hosted) or "
                                                    "--offer (API), not both"),
    ({"usd_per_gpu_hour": 2.0}, "--usd-per-gpu-hour needs --gpu"),
    ({"concurrency": "1,x"}, "--concurrency takes whole numbers separated by commas, e.g. "
                             "1,4,16; got '1,x'"),
    ({"max_error_rate": 2}, "--max-error-rate must be within [0, 1], got 2"),
])
def test_bad_options_are_input_errors(kwargs, message):
    with pytest.raises(InputError) as e:
        run_bench("http://127.0.0.1:9/v1", MODEL, **kwargs)
    assert str(e.value) == message


def test_a_late_load_generator_says_so(fake):
    r = run_bench(fake.url("slow-first"), MODEL, rate=50, requests=4, **SMALL, max_connections=1,
                  store=False)
    (note,) = [n for n in r.notes if "fell behind" in n]
    assert note.startswith("50 req/s: the load generator fell behind its schedule (send lag p99 ")
