"""What a measured operating point costs (bench.pricing), by hand on a synthetic point whose
throughputs are round: 10 requests sent 1 s apart from t = 1000 s, each lasting 2 s, so the
measured window is 1000 → 1011 s (11 s)."""

import pytest

from tests import handmade as h
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
    assert c.usd_per_request == pytest.approx(per_request)
    assert c.usd_per_mtok_output == pytest.approx(10 * per_request / (10 * 20) * 1e6)  # $8 all-in
    assert c.usd_per_mtok_total == pytest.approx(10 * per_request / (10 * 120) * 1e6)  # $1.33
    # 8 of 10 requests meet TTFT ≤ 1 s: the 10 requests' cost over 8 good ones
    assert c.usd_per_good_request == pytest.approx(10 * per_request / 8)
    assert c.provenance == Provenance("input", "hand prices")


def test_gpu_point_divides_dollars_per_second_by_measured_throughput():
    recs = _records(slow=5)
    s = summarize(recs, slos=parse_slos("ttft=1s"))
    hourly = pricing(h.FAST, 2, 3.6, None)  # 2 GPUs × $3.60/h = $7.20/h = $0.002/s
    c = point_cost(hourly, s, [r for r in recs if r.ok])
    assert s.duration_s == pytest.approx(WINDOW)
    assert c.basis == "gpu" and c.usd_per_hour == pytest.approx(7.2)
    assert c.usd_per_request == pytest.approx(0.002 / (10 / WINDOW))  # $0.0022
    assert c.usd_per_mtok_output == pytest.approx(0.002 / (200 / WINDOW) * 1e6)  # $110
    assert c.usd_per_mtok_total == pytest.approx(0.002 / (1200 / WINDOW) * 1e6)
    assert c.usd_per_good_request == pytest.approx(0.002 / (5 / WINDOW))  # half the requests are good
    no_slo = point_cost(hourly, summarize(recs), recs)
    assert no_slo.usd_per_good_request is None


def test_pricing_takes_a_gpu_or_an_offer_not_both():
    assert pricing(None, 1, None, None) is None
    assert pricing(None, 1, None, OFFER) is OFFER
    with pytest.raises(InputError, match=r"price a run with --gpu \(self-hosted\) or --offer \(API\), not both"):
        pricing("h100-sxm", 1, None, OFFER)
    with pytest.raises(InputError, match="--usd-per-gpu-hour needs --gpu"):
        pricing(None, 1, 2.0, None)
