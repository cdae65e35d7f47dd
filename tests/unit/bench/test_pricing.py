"""What a measured operating point costs (bench.pricing), by hand on a synthetic point whose
throughputs are round: 10 requests sent 1 s apart from t = 1000 s, each lasting 2 s, so the
measured window is 1000 → 1011 s (11 s)."""

import pytest

from tests import hand as h
from truecost.bench.metrics import parse_slos, summarize
from truecost.bench.pricing import point_cost, pricing
from truecost.bench.record import RequestRecord
from truecost.errors import InputError
from truecost.prices import Offer
from truecost.provenance import Provenance

WINDOW = 11.0


def _records(slow: int = 0) -> list[RequestRecord]:
    """10 requests of 100 prompt tokens (40 cached) and 20 completion tokens (5 of them
    reasoning); the last ``slow`` ones get their first token after 1.5 s instead of 0.1 s."""
    out = []
    for i in range(10):
        t0 = 1000.0 + i
        first = t0 + (1.5 if i >= 10 - slow else 0.1)
        out.append(RequestRecord(point=0, index=i, intended_send=None, actual_send=t0, end=t0 + 2.0,
                                 first_chunk=first, first_token=first, first_output=first,
                                 last_token=t0 + 1.9, chunk_times=[first, t0 + 1.9],
                                 prompt_tokens=100, completion_tokens=20, reasoning_tokens=5,
                                 cached_tokens=40, client_output_tokens=20))
    return out


OFFER = Offer("hand/model", "hand", "model", usd_per_mtok_input=1.0, usd_per_mtok_output=4.0,
              usd_per_mtok_cached_input=0.5, provenance=Provenance("input", "hand prices"))


def test_api_point_prices_each_request_at_its_real_tokens():
    recs = _records(slow=2)
    s = summarize(recs, slos=parse_slos("ttft=1s"))
    c = point_cost(OFFER, s, [r for r in recs if r.ok])
    # per request: 60 uncached × $1 + 40 cached × $0.5 + (15 output + 5 reasoning) × $4, per 1M
    per_request = (60 * 1.0 + 40 * 0.5 + 20 * 4.0) / 1e6  # $0.00016
    assert c.basis == "offer" and c.usd_per_hour is None
    assert c.usd_per_request == pytest.approx(per_request, rel=1e-12)
    assert c.usd_per_mtok_output == pytest.approx(10 * per_request / (10 * 20) * 1e6, rel=1e-12)  # $8 all-in
    assert c.usd_per_mtok_total == pytest.approx(10 * per_request / (10 * 120) * 1e6, rel=1e-12)  # $1.33
    # 8 of 10 requests meet TTFT ≤ 1 s: the 10 requests' cost over 8 good ones
    assert c.usd_per_good_request == pytest.approx(10 * per_request / 8, rel=1e-12)
    assert c.provenance == Provenance("input", "hand prices")


def test_gpu_point_divides_dollars_per_second_by_measured_throughput():
    recs = _records(slow=5)
    s = summarize(recs, slos=parse_slos("ttft=1s"))
    hourly = pricing(h.FAST, 2, 3.6, None)  # 2 GPUs × $3.60/h = $7.20/h = $0.002/s
    c = point_cost(hourly, s, [r for r in recs if r.ok])
    assert s.duration_s == pytest.approx(WINDOW, rel=1e-12)
    assert c.basis == "gpu" and c.usd_per_hour == pytest.approx(7.2, rel=1e-12)
    assert c.usd_per_request == pytest.approx(0.002 / (10 / WINDOW), rel=1e-12)  # $0.0022
    assert c.usd_per_mtok_output == pytest.approx(0.002 / (200 / WINDOW) * 1e6, rel=1e-12)  # $110
    assert c.usd_per_mtok_total == pytest.approx(0.002 / (1200 / WINDOW) * 1e6, rel=1e-12)
    assert c.usd_per_good_request == pytest.approx(0.002 / (5 / WINDOW), rel=1e-12)  # half the requests are good
    no_slo = point_cost(hourly, summarize(recs), recs)
    assert no_slo.usd_per_good_request is None


def test_pricing_takes_a_gpu_or_an_offer_not_both():
    assert pricing(None, 1, None, None) is None
    assert pricing(None, 1, None, OFFER) is OFFER
    with pytest.raises(InputError, match=r"price a run with --gpu \(self-hosted\) or --offer \(API\), not both"):
        pricing("h100-sxm", 1, None, OFFER)
    with pytest.raises(InputError, match="--usd-per-gpu-hour needs --gpu"):
        pricing(None, 1, 2.0, None)


def test_edge_points_have_no_figure_rather_than_a_wrong_one():
    # no successful request: nothing to divide by
    c = point_cost(OFFER, summarize([]), [])
    assert (c.usd_per_request, c.usd_per_mtok_output, c.usd_per_mtok_total, c.usd_per_good_request) == \
        (None, None, None, None)
    # replies made only of reasoning, with no usage for input or cache: input counts as 0 tokens,
    # output as 0 (+ 3 reasoning, billed as output)
    r = RequestRecord(point=0, index=0, intended_send=None, actual_send=0.0, end=1.0, first_chunk=0.5,
                      first_token=0.5, first_output=None, last_token=0.9, chunk_times=[0.5, 0.7, 0.9],
                      completion_tokens=3, reasoning_tokens=3, client_output_tokens=3)
    c = point_cost(OFFER, summarize([r]), [r])
    assert c.usd_per_request == pytest.approx(3 * 4.0 / 1e6, rel=1e-12)
    assert c.usd_per_mtok_total == pytest.approx(3 * 4.0 / 3, rel=1e-12)  # input tokens: none known
    # an SLO nobody meets: no good request to charge
    s = summarize([r], slos=parse_slos("ttft=1ms"))
    assert point_cost(OFFER, s, [r]).usd_per_good_request is None
    assert point_cost(pricing(h.FAST, 1, None, None), s, [r]).usd_per_good_request is None


def test_gpu_point_cost_carries_the_price_provenance():
    c = point_cost(pricing(h.FAST, 1, None, None), summarize(_records()), _records())
    assert str(c.provenance) == "catalog:hand-made price@2026-01-01"


def test_pricing_errors_are_exact_and_an_offer_name_is_resolved():
    assert pricing(None, 1, None, "openai/gpt-4o").key == "openai/gpt-4o"
    with pytest.raises(InputError) as e:
        pricing("h100-sxm", 1, None, OFFER)
    assert str(e.value) == "price a run with --gpu (self-hosted) or --offer (API), not both"
    with pytest.raises(InputError) as e:
        pricing(None, 1, 2.0, None)
    assert str(e.value) == "--usd-per-gpu-hour needs --gpu"
