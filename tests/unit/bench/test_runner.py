"""The load generator against the fake server: closed-loop concurrency, open-loop timing, stops."""

import statistics
import time

import pytest

from tests.fakeserver import MODEL, Script
from truecost.bench.client import Endpoint
from truecost.bench.runner import execute_shard, run_shard
from truecost.bench.schedule import constant
from truecost.bench.workload import synthetic
from truecost.errors import EndpointError


def peak_in_flight(records):
    level = peak = 0
    for _, step in sorted([(r.actual_send, 1) for r in records] + [(r.end, -1) for r in records]):
        level += step
        peak = max(peak, level)
    return peak


def test_closed_loop_holds_the_concurrency_and_sends_each_request_once(fake):
    seen = []
    ep = Endpoint.of(fake.url("normal"), MODEL)
    records = execute_shard(ep, synthetic(30, 8, 6, seed=1), None, 4, time.time(),
                            on_record=seen.append)
    assert sorted(r.index for r in records) == list(range(30)) and seen == records
    assert all(r.ok and r.intended_send is None for r in records)
    assert peak_in_flight(records) == 4
    assert len(fake.received) == 30


def test_open_loop_sends_on_the_absolute_schedule(fake):
    """Harness goal: p50 |actual - intended| < 1 ms at a modest rate (measured ~0.05 ms here)."""
    n, rate = 150, 100.0
    t0 = time.time() + 0.05
    offsets = constant(rate, n)
    records = execute_shard(Endpoint.of(fake.url("normal"), MODEL), synthetic(n, 8, 4, seed=2),
                            offsets, None, t0)
    assert [r.intended_send for r in sorted(records, key=lambda r: r.index)] == [
        t0 + o for o in offsets]
    errors = [abs(r.actual_send - r.intended_send) for r in records]
    assert statistics.median(errors) < 0.001
    assert min(r.actual_send - r.intended_send for r in records) > -0.0001  # never early
    # the server saw them on the same timeline (loopback adds tens of microseconds)
    arrivals = sorted(x.t_wall for x in fake.received)
    assert statistics.median(a - (t0 + o) for a, o in zip(arrivals, offsets)) < 0.002


def test_duration_stops_sending_and_cycles_the_requests(fake):
    t0 = time.time()
    specs = synthetic(3, 8, 4, seed=3)
    out = run_shard(Endpoint.of(fake.url("normal"), MODEL), specs, None, 2, t0, duration_s=0.3)
    assert len(out.records) > 3  # the three prompts were reused
    assert max(r.actual_send for r in out.records) < t0 + 0.3
    assert out.stop_reason is None


def test_error_rate_stops_the_point(fake):
    out = run_shard(Endpoint.of(fake.url("500"), MODEL), synthetic(200, 8, 4), None, 2,
                    time.time(), max_error_rate=0.5)
    assert 10 <= len(out.records) < 20
    assert out.stop_reason.startswith("stopped early: error rate 100% after 10 requests is above "
                                      "the limit of 50%")


def test_an_error_every_request_would_repeat_ends_the_shard_with_what_it_measured(fake):
    fake.add("revoked", Script(limit=5, then=Script(kind="status", status=401)))
    with pytest.raises(EndpointError) as e:
        execute_shard(Endpoint.of(fake.url("revoked"), MODEL), synthetic(50, 8, 4), None, 1,
                      time.time())
    assert str(e.value) == (f"{fake.url('revoked')}/chat/completions refused the request "
                            f"(HTTP 401): no API key is set; set TRUECOST_API_KEY or OPENAI_API_KEY")
    assert [r.ok for r in e.value.records] == [True] * 5 + [False]


def test_shard_indices_interleave(fake):
    records = execute_shard(Endpoint.of(fake.url("fast"), MODEL), synthetic(4, 8, 2), None, 1,
                            time.time(), index_start=1, index_step=3)
    assert sorted(r.index for r in records) == [1, 4, 7, 10]


def test_open_loop_waits_for_a_free_connection_before_the_actual_send(fake):
    # 6 sends 20 ms apart, each taking >= 200 ms, through at most 2 connections
    records = execute_shard(Endpoint.of(fake.url("slow-first"), MODEL), synthetic(6, 8, 2),
                            constant(50.0, 6), None, time.time(), max_connections=2)
    assert peak_in_flight(records) == 2
    lags = sorted(r.actual_send - r.intended_send for r in records)
    assert lags[1] < 0.01 and lags[-1] > 0.3  # the wait is send lag, not latency
    assert max(r.first_token - r.actual_send for r in records) < 0.35
