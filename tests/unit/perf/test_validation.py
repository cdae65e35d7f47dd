"""The performance model against published serving measurements (shipped with the package).

Targets with the default ("tuned") engine profile, nothing fitted to these rows. Rows under load
are predicted by the serving simulation; its steady-state figure is kept beside each prediction.
Achieved on 2026-11-26: median |error| 8.7%, worst ratio 1.36x (V5a), worst by metric group
throughput −26.4% (V5a), TPOT/ITL −13.6% (V13e), TTFT −8.0% (V13a); the steady state's TTFT at
2 req/s (nothing queues) −1.9% (V12a) and −12.7% (V13a). Each bound below is that figure plus a
stated margin, close enough to discriminate: structural slips in the serving model fail here
too, not only in the hand-arithmetic tests of test_serving.py. Dropping TTFT's half-step wait
from the steady state takes its V12a TTFT to −20.6% and V13a to −30.2% (the simulation's TTFT
does not move: it queues behind the running step by construction). The table prints with
``pytest -s``."""

import pytest

from truecost.perf.validation import PUBLISHED_SERVING, summarise, summarise_by_metric, validate_serving

# Achieved + margin (module docstring): a real improvement may tighten these, never loosen them.
MEDIAN_ABS_ERROR = 0.12  # 8.7% achieved
MAX_RATIO = 1.45  # 1.36x achieved
WORST_BY_GROUP = {"throughput": 0.32, "tpot": 0.20, "ttft": 0.15}  # 26.4%, 13.6%, 8.0% achieved
STEADY_TTFT_AT_LOW_LOAD = 0.20  # 1.9% and 12.7% achieved


def test_published_serving_rows():
    assert PUBLISHED_SERVING.is_file()
    rows = validate_serving(PUBLISHED_SERVING)
    print(f"\n{'id':5} {'metric':18} {'published':>10} {'predicted':>10} {'error':>7} {'steady':>10}  "
          f"binding       row")
    for r in rows:
        print(f"{r.id:5} {r.metric:18} {r.published:>10.1f} {r.predicted:>10.1f} {r.error:>+7.1%} "
              f"{r.steady_state:>10.1f}  {r.binding:13} {r.description}")
    s = summarise(rows)
    print(f"rows {s['rows']}, median |error| {s['median_abs_error']:.1%}, worst ratio {s['max_ratio']:.2f}x")
    assert s["rows"] == 25 and all(r.predicted is not None for r in rows)
    assert s["median_abs_error"] <= MEDIAN_ABS_ERROR
    assert s["max_ratio"] <= MAX_RATIO
    worst = {g: max(abs(r.error) for r in rows if r.group == g) for g in summarise_by_metric(rows)}
    assert set(worst) == set(WORST_BY_GROUP)
    assert all(worst[g] <= WORST_BY_GROUP[g] for g in worst), worst


def test_the_steady_state_ttft_where_nothing_queues():
    """At 2 requests/s (V12a: 8B on one H100, V13a: 70B on four) a request rarely waits for
    another's prefill, so the steady state's mean TTFT, the figure compare sizes replicas with,
    must match the published mean as well as the simulation does."""
    rows = {r.id: r for r in validate_serving(PUBLISHED_SERVING)}
    for rid in ("V12a", "V13a"):
        r = rows[rid]
        assert r.metric == "ttft_mean" and "Poisson 2 req/s" in r.description
        assert abs(r.steady_state / r.published - 1) <= STEADY_TTFT_AT_LOW_LOAD, (rid, r.steady_state)


def test_summary_arithmetic():
    from truecost.perf.validation import ValidationRow

    rows = [ValidationRow("a", "", "m", "u", 100.0, 80.0, "x"),  # −20%, ratio 1.25
            ValidationRow("b", "", "m", "u", 100.0, 150.0, "x"),  # +50%, ratio 1.5
            ValidationRow("c", "", "m", "u", 100.0, 105.0, "x")]  # +5%
    s = summarise(rows)
    assert s == {"rows": 3, "median_abs_error": pytest.approx(0.2), "max_ratio": 1.5,
                 "median_error": pytest.approx(0.05)}  # signed: −20%, +5%, +50%


CSV_HEAD = "id,model,gpu,gpus,tp,precision,isl,osl,load,metric,value,unit,engine,source\n"


def test_rows_are_read_not_looked_up(tmp_path):
    """The harness parses precision, TP and load from each row: offline is the steady state at
    the most that fit, a Poisson rate and "all at once" (a closed loop as wide as the burst) are
    simulated; an offline percentile is not modelled."""
    from truecost.perf.serving import estimate
    from truecost.perf.validation import _precision

    f = tmp_path / "rows.csv"
    f.write_text(CSV_HEAD
                 + "A,llama-3.1-70b,h100-sxm,8,4,INT4 (AWQ),1000,200,offline (x),output_throughput,100,tokens/s,e,s\n"
                 + "B,llama-3.1-8b,h100-sxm,1,1,int8 w8a8,500,100,Poisson 100000 req/s (x),ttft_mean,10,ms,e,s\n"
                 + "C,llama-3.1-8b,h100-sxm,1,,bf16,500,100,all at once (7 requests),itl_mean,10,ms,e,s\n"
                 + "D,llama-3.1-8b,h100-sxm,1,1,bf16,500,100,offline,ttft_p99,10,ms,e,s\n"
                 + "E,llama-3.1-8b,h100-sxm,1,1,bf16,500,100,offline,itl_mean,10,ms,e,s\n")
    a, b, c, d, e = validate_serving(f)
    want = estimate("llama-3.1-70b", "h100-sxm", precision="int4", tp=4, isl=1000, osl=200)
    assert a.predicted == pytest.approx(want.output_tokens_per_s)
    assert a.description == "llama-3.1-70b 8xh100-sxm INT4 (AWQ) 1000/200 offline (x)"
    saturated = estimate("llama-3.1-8b", "h100-sxm", precision="int8", isl=500, osl=100, rate=100_000)
    assert b.predicted == pytest.approx(1e3 * saturated.simulation.ttft.mean)  # the queue, simulated
    assert b.steady_state is None  # saturated: the steady state has no TTFT
    burst = estimate("llama-3.1-8b", "h100-sxm", isl=500, osl=100, concurrency=7, requests=7)
    assert c.predicted == pytest.approx(1e3 * burst.simulation.itl.mean)  # TP from the GPU count
    assert c.steady_state == pytest.approx(1e3 * burst.tpot_s)
    offline = estimate("llama-3.1-8b", "h100-sxm", isl=500, osl=100)
    assert (d.predicted, d.error, d.ratio) == (None, None, None)
    assert e.predicted == pytest.approx(1e3 * offline.tpot_s)  # an offline mean: the steady state's
    assert [_precision(p) for p in ("fp8 weights+kv", "Int8", "int4", "bf16", "FP16")] == \
        ["fp8", "int8", "int4", "bf16", "fp16"]


def test_bad_rows_are_one_line_errors(tmp_path):
    from truecost.errors import InputError

    f = tmp_path / "rows.csv"
    f.write_text(CSV_HEAD + "Z,llama-3.1-8b,h100-sxm,1,1,bf16,500,100,offline,goodput,1,x,e,s\n")
    with pytest.raises(InputError) as e:
        validate_serving(f)
    assert str(e.value) == ("row Z: unknown metric 'goodput'; known: output_throughput, request_throughput, "
                            "ttft_mean, ttft_p50, ttft_p99, itl_mean, tpot_mean, e2e_mean")
    f.write_text(CSV_HEAD + "Y,llama-3.1-8b,h100-sxm,1,1,fp6,500,100,offline,itl_mean,1,ms,e,s\n")
    with pytest.raises(InputError) as e:
        validate_serving(f)
    assert str(e.value) == "unknown precision 'fp6' in validation row"
    f.write_text(CSV_HEAD + "X,llama-3.1-8b,h100-sxm,1,1,bf16,500,100,bursty,itl_mean,1,ms,e,s\n")
    with pytest.raises(InputError) as e:
        validate_serving(f)
    assert str(e.value) == ("cannot read the load 'bursty' (expected offline, Poisson R req/s (N requests), "
                            "concurrency C (N requests), or all at once (N requests))")


def test_the_engine_profile_is_the_one_asked_for(tmp_path):
    from truecost.perf.serving import estimate

    f = tmp_path / "rows.csv"
    f.write_text(CSV_HEAD + "A,llama-3.1-8b,h100-sxm,1,1,bf16,1000,200,offline (x),output_throughput,1,tokens/s,e,s\n")
    (row,) = validate_serving(f, engine="vllm")
    assert row.predicted == pytest.approx(estimate("llama-3.1-8b", "h100-sxm", isl=1000, osl=200,
                                                   engine="vllm").output_tokens_per_s)
    assert row.predicted != pytest.approx(validate_serving(f)[0].predicted)


def test_predict_defaults_to_the_tuned_profile():
    from truecost.perf.serving import estimate
    from truecost.perf.validation import predict

    row = {"model": "llama-3.1-8b", "gpu": "h100-sxm", "gpus": "1", "tp": "", "precision": "bf16",
           "isl": "1000", "osl": "200", "load": "offline", "metric": "itl_mean"}
    est, value = predict(row)
    assert est.engine == "tuned"
    assert value == pytest.approx(1e3 * estimate("llama-3.1-8b", "h100-sxm", isl=1000, osl=200).tpot_s)


def test_rows_keep_their_unit(tmp_path):
    f = tmp_path / "rows.csv"
    f.write_text(CSV_HEAD + "A,llama-3.1-8b,h100-sxm,1,1,bf16,1000,200,offline (x),itl_mean,9,ms,e,s\n")
    (row,) = validate_serving(f)
    assert (row.id, row.metric, row.unit, row.published) == ("A", "itl_mean", "ms", 9.0)
