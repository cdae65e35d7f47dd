"""Metric definitions (DESIGN.md) on synthetic timelines with closed-form answers."""

import random
from dataclasses import replace

import numpy as np
import pytest

from truecost.bench import metrics as m
from truecost.bench.record import RequestRecord
from truecost.errors import InputError


def rec(send=100.0, *, first=None, output=None, chunks=(), end=None, tokens=None, index=0,
        intended=None, kind=None, reasoning=None, clients=None, prompt=None, client_prompt=None):
    """A record whose tokens arrive at ``chunks``; ``first`` (reasoning or content) defaults to
    the first chunk, ``output`` (first content) to ``first``."""
    chunks = list(chunks)
    first = first if first is not None else (chunks[0] if chunks else None)
    return RequestRecord(
        point=0, index=index, intended_send=intended, actual_send=send,
        end=end if end is not None else (chunks[-1] if chunks else send) + 0.01,
        first_chunk=first, first_token=first, first_output=output if output is not None else first,
        last_token=chunks[-1] if chunks else None, chunk_times=chunks, prompt_tokens=prompt,
        completion_tokens=tokens, reasoning_tokens=reasoning,
        client_prompt_tokens=client_prompt,
        client_output_tokens=clients if clients is not None else len(chunks),
        error_kind=kind, error="x" if kind else None)


# A reasoning reply: first reasoning token at +0.1 s, first answer token at +0.3 s, 4 chunks
# carrying 9 tokens in all (chunks are not tokens), last token at +0.5 s, end at +0.6 s.
R = rec(100.0, chunks=[100.1, 100.2, 100.3, 100.5], output=100.3, end=100.6, tokens=9,
        reasoning=5, intended=99.9)


def test_ttft_counts_reasoning_and_ttfo_does_not():
    assert m.ttft(R) == pytest.approx(0.1)
    assert m.ttfo(R) == pytest.approx(0.3)


def test_itl_tpot_icl_e2e_closed_form():
    assert m.itl(R) == pytest.approx((100.5 - 100.1) / (9 - 1))  # per token, not per chunk
    assert m.tpot(R) == pytest.approx((0.6 - 0.1) / (9 - 1))
    assert m.icl(R) == pytest.approx([0.1, 0.1, 0.2])  # per chunk
    assert m.e2e(R) == pytest.approx(0.6)


def test_from_intended_send_includes_the_senders_lateness():
    assert m.send_lag(R) == pytest.approx(0.1)
    assert m.ttft_from_intended(R) == pytest.approx(0.2)
    assert m.e2e_from_intended(R) == pytest.approx(0.7)
    closed = rec(100.0, chunks=[100.1])
    assert m.send_lag(closed) is m.ttft_from_intended(closed) is m.e2e_from_intended(closed) is None


@pytest.mark.parametrize("tokens", [0, 1])
def test_itl_and_tpot_are_none_for_at_most_one_token(tokens):
    r = rec(chunks=[100.2] if tokens else [], tokens=tokens)
    assert m.itl(r) is None and m.tpot(r) is None
    assert m.icl(r) == []


def test_errors_have_no_latency():
    r = rec(chunks=[100.1, 100.2], tokens=2, kind="disconnect")
    assert [m.ttft(r), m.ttfo(r), m.itl(r), m.tpot(r), m.e2e(r)] == [None] * 5
    assert m.icl(r) == []


def test_output_tokens_fall_back_to_chunks_without_usage():
    r = rec(chunks=[100.1, 100.2, 100.4], tokens=None)
    assert r.output_tokens == 3
    assert m.itl(r) == pytest.approx(0.15)


@pytest.mark.parametrize("q", [0, 1, 50, 90, 95, 99, 99.9, 100])
def test_percentile_matches_numpy_linear(q):
    rng = random.Random(q)
    for n in (1, 2, 7, 1000):
        xs = [rng.lognormvariate(0, 1) for _ in range(n)]
        assert m.percentile(xs, q) == pytest.approx(float(np.percentile(xs, q)), rel=1e-12)


def test_distribution_skips_none_and_says_how_many():
    d = m.Distribution.of([3.0, None, 1.0, 2.0, None])
    assert (d.n, d.skipped, d.mean, d.p50, d.min, d.max) == (3, 2, 2.0, 2.0, 1.0, 3.0)
    assert d.p99 == pytest.approx(float(np.percentile([1.0, 2.0, 3.0], 99)))
    empty = m.Distribution.of([None])
    assert (empty.n, empty.skipped, empty.mean, empty.p50) == (0, 1, None, None)


def test_throughput_excludes_warmup_and_drain():
    # 10 requests sent 1 s apart, each 2 s long with i + 1 tokens; warm-up 2, drain 3
    rs = [rec(1000.0 + i, chunks=[1000.0 + i + 0.5, 1000.0 + i + 1.5], end=1000.0 + i + 2,
              tokens=i + 1, index=i, prompt=10) for i in range(10)]
    random.Random(0).shuffle(rs)  # order of arrival does not matter: send order does
    s = m.summarize(rs, warmup=2, drain=3)
    kept = range(2, 7)
    window = (1000.0 + 6 + 2) - (1000.0 + 2)  # last end - first send of the kept requests
    assert (s.requests, s.ok, s.excluded_warmup, s.excluded_drain) == (5, 5, 2, 3)
    assert s.duration_s == pytest.approx(window)
    assert s.output_token_throughput == pytest.approx(sum(i + 1 for i in kept) / window)
    assert s.total_token_throughput == pytest.approx(sum(i + 1 + 10 for i in kept) / window)
    assert s.request_throughput == pytest.approx(5 / window)
    assert s.mean_concurrency == pytest.approx(5 * 2 / window)  # Little's law


def test_goodput_counts_errors_in_the_denominator():
    ok_fast = [rec(100.0 + i, chunks=[100.0 + i + 0.1, 100.0 + i + 0.12], tokens=2, index=i)
               for i in range(6)]  # TTFT 0.1 s, ITL 0.02 s
    ok_slow = [rec(100.0 + i, chunks=[100.0 + i + 2.0, 100.0 + i + 2.01], tokens=2, index=i)
               for i in range(6, 8)]  # TTFT 2 s
    errors = [rec(100.0 + i, kind="http_500", index=i) for i in range(8, 10)]
    rs = ok_fast + ok_slow + errors
    s = m.summarize(rs, slos=m.parse_slos("ttft_p95=1s,itl_p95=50ms"))
    assert s.good_fraction == pytest.approx(6 / 10)
    assert s.goodput == pytest.approx(6 / s.duration_s)
    assert s.errors == {"http_500": 2}
    assert s.error_rate == pytest.approx(0.2)
    assert s.slo_met is False  # p95 TTFT over the 8 successes is about 2 s
    assert m.summarize(ok_fast, slos=m.parse_slos("ttft_p95=1s")).slo_met is True
    assert m.summarize(rs).goodput is None  # no SLO, no goodput


def test_undefined_itl_meets_an_itl_slo_but_no_token_fails_ttft():
    one = rec(chunks=[100.1], tokens=1)
    none = rec(chunks=[], tokens=0)
    (itl,) = m.parse_slos("itl=10ms")
    (ttft,) = m.parse_slos("ttft=1s")
    assert itl.met_by(one) and ttft.met_by(one)
    assert not ttft.met_by(none)


def test_token_stats_and_client_server_discrepancy():
    rs = [rec(chunks=[100.1 + k * 0.01 for k in range(10)], tokens=12, reasoning=4, prompt=100,
              client_prompt=90, index=i) for i in range(3)]
    t = m.summarize(rs).tokens
    assert (t.input_mean, t.output_mean, t.reasoning_mean, t.usage_reported) == (100, 12, 4, 3)
    assert t.output_discrepancy == pytest.approx((10 - 12) / 12)
    assert t.input_discrepancy == pytest.approx((90 - 100) / 100)


def test_slo_parsing():
    assert m.parse_slos("ttft_p95=1s, itl_p95=50ms,e2e=2500us") == (
        m.Slo("ttft", 1.0, 95.0), m.Slo("itl", 0.05, 95.0), m.Slo("e2e", 0.0025, None))
    assert str(m.Slo("itl", 0.05, 95.0)) == "itl_p95=50ms"
    assert m.parse_slos(None) == ()


@pytest.mark.parametrize(("text", "message"), [
    ("ttft_p95=1", "SLO 'ttft_p95=1' needs a unit: s, ms or us (e.g. ttft_p95=1ms)"),
    ("latency=1s", "bad SLO 'latency=1s'; write METRIC[_pNN]=VALUE with a unit, e.g. "
                   "ttft_p95=1s,itl_p95=50ms (metrics: ttft, ttfo, itl, tpot, e2e)"),
    ("ttft_p0=1s", "SLO 'ttft_p0=1s': percentile must be within (0, 100]"),
])
def test_bad_slos_are_input_errors(text, message):
    with pytest.raises(InputError) as e:
        m.parse_slos(text)
    assert str(e.value) == message


def test_summary_of_nothing_is_all_none():
    s = m.summarize([])
    assert (s.requests, s.duration_s, s.output_token_throughput, s.ttft.p50) == (0, None, None, None)


def test_an_slo_without_percentile_holds_for_every_request():
    fast = [rec(100.0 + i, chunks=[100.0 + i + 0.1], tokens=1, index=i) for i in range(19)]
    slow = rec(120.0, chunks=[121.5], tokens=1, index=19)
    (slo,) = m.parse_slos("ttft=1s")
    assert m.summarize(fast, slos=[slo]).slo_met is True
    s = m.summarize([*fast, slow], slos=[slo])
    assert s.slo_met is False and s.good_fraction == pytest.approx(19 / 20)
    assert m.summarize([*fast, slow], slos=m.parse_slos("ttft_p90=1s")).slo_met is True


# ---- edges and boundaries (each can flip a result) ---------------------------------------------
def test_two_tokens_define_itl_and_tpot_one_gap():
    r = rec(100.0, chunks=[100.1, 100.3], end=100.4, tokens=2)
    assert m.itl(r) == pytest.approx(0.2, rel=1e-12)
    assert m.tpot(r) == pytest.approx(0.4 - 0.1, rel=1e-12)
    assert m.itl(replace(r, last_token=None)) is None  # no last token: no ITL
    assert m.ttft_from_intended(replace(R, error_kind="disconnect", error="x")) is None


def test_slo_text_and_boundaries():
    assert str(m.Slo("ttft", 1.0, 95.0)) == "ttft_p95=1s"  # 1,000 ms reads as 1 s
    assert str(m.Slo("e2e", 0.9995, None)) == "e2e=999.5ms"
    assert str(m.Slo("e2e", 2.5, None)) == "e2e=2.5s"
    exactly = rec(100.0, chunks=[100.25], tokens=1)  # TTFT exactly 0.25 s
    assert m.Slo("ttft", 0.25).met_by(exactly)  # ≤, not <
    assert m.Slo("tpot", 0.001).met_by(exactly)  # one token: TPOT undefined, objective met
    assert not m.Slo("e2e", 0.001).met_by(exactly)
    s = m.summarize([exactly], slos=[m.Slo("ttft", 0.25, 50.0)])
    assert s.slo_met is True and s.slos == (m.Slo("ttft", 0.25, 50.0),)
    slos = (m.Slo("itl", 0.05, 95.0),)
    assert m.parse_slos(slos) == slos
    assert m.parse_slos("ttft_p100=1s,ttft_p0.5=2s") == (m.Slo("ttft", 1.0, 100.0), m.Slo("ttft", 2.0, 0.5))
    with pytest.raises(InputError):
        m.parse_slos("ttft_p100.5=1s")


def test_window_edges_and_undefined_aggregates():
    rs = [rec(100.0 + i, chunks=[100.0 + i + 0.1, 100.0 + i + 0.2], tokens=2, index=i,
              intended=100.0 + i - 0.001) for i in range(3)]
    assert m.measured(rs) == sorted(rs, key=lambda r: r.actual_send)  # no drain by default
    s = m.summarize(rs, warmup=5, drain=2)  # more warm-up than requests
    assert (s.requests, s.excluded_warmup, s.excluded_drain) == (0, 3, 0)
    s = m.summarize(rs)
    assert s.slo_met is None and s.goodput is None and s.good_fraction is None  # no SLO stated
    assert s.icl.n == 3 and s.send_lag.n == 3 and s.send_lag.p50 == pytest.approx(0.001)
    assert s.tokens.cached_mean is None  # no server reported cached tokens
    empty = m.summarize([], slos=m.parse_slos("ttft=1s"))
    assert (empty.good_fraction, empty.goodput, empty.slo_met) == (None, None, False)
    errors = [rec(100.0, kind="http_500")]
    assert m.summarize(errors, slos=m.parse_slos("ttft_p50=1s")).slo_met is False  # no TTFT at all


def test_input_tokens_fall_back_and_count_in_total_throughput():
    with_prompt = rec(100.0, chunks=[100.5], end=101.0, tokens=1, prompt=30, index=0)
    without = rec(100.0, chunks=[100.5], end=101.0, tokens=1, index=1)  # no usage, no client count
    s = m.summarize([with_prompt, without])
    assert s.total_token_throughput == pytest.approx((30 + 1 + 0 + 1) / 1.0, rel=1e-12)
    cached = rec(100.0, chunks=[100.5], tokens=1, prompt=30)
    cached = replace(cached, cached_tokens=12)
    assert m.summarize([cached]).tokens.cached_mean == 12


def test_percentile_of_nothing_is_an_error_and_slo_text_just_above_a_second():
    with pytest.raises(ValueError, match="^percentile of no values$"):
        m.percentile([], 50)
    assert str(m.Slo("e2e", 1.0005)) == "e2e=1.0005s"


def test_an_slo_too_large_to_be_a_time_is_an_input_error():
    # a 1 followed by 400 zeros is beyond float's ~1.8e308: float() gives infinity, not a time
    big = "1" + "0" * 400
    with pytest.raises(InputError) as e:
        m.parse_slos(f"ttft={big}s")
    assert str(e.value) == f"SLO 'ttft={big}s': the value is too large to be a time"


def test_duration_and_error_rate_need_their_inputs():
    empty = m.summarize([])
    assert empty.error_rate is None and empty.duration_s is None  # 0 requests: no rate, no window
    one = m.summarize([rec(100.0, chunks=[100.5], tokens=1)])
    assert one.duration_s == pytest.approx(100.51 - 100.0)  # end = last chunk + 0.01 (rec)
    assert replace(one, window_end=None).duration_s is None
    assert replace(one, window_start=None).duration_s is None


def test_throttled_resends_are_summed_over_the_measured_requests():
    # three requests resent 2, 0 and 3 times after a 429: 5 in all; the warm-up request's 7 is left out
    rs = [replace(rec(100.0 + i, chunks=[100.2 + i], tokens=1, index=i), throttled=t)
          for i, t in enumerate([7, 2, 0, 3])]
    assert m.summarize(rs, warmup=1).throttled == 5
