"""``truecost bench`` against a real inference server: llama.cpp's llama-server on loopback with
the tiny model of ``tinymodel.py`` (see ``conftest.py``).

Each check recomputes its answer from the raw records or the DuckDB file, not from the numbers
the code under test printed: server usage against the requested ``max_tokens`` (the tiny model
never emits end-of-sequence, so every reply is exactly ``max_tokens`` long), metric identities
on every request, throughput from the stored timestamps, and $/1M tokens from the GPU catalog
file. Request counts are small: the module runs in well under a minute on 2 cores.
"""

from __future__ import annotations

import json
import tomllib

import duckdb
import numpy as np
import pytest

from truecost import bench as bench_api
from truecost.bench.metrics import ttft
from truecost.bench.schedule import poisson

from .conftest import REPO_SRC

pytestmark = pytest.mark.integration

REQUESTS = 12
ISL, OSL = 32, 16
GPU = "h100-sxm"


def _catalog_usd_per_gpu_hour(key: str) -> float:
    """The catalog price read straight from the TOML file (not through truecost's loader)."""
    data = tomllib.loads((REPO_SRC / "catalog" / "data" / "gpus.toml").read_text())
    return float(data[key]["usd_per_gpu_hour"])


def _measured(records, warmup: int, drain: int):
    """Send order, minus warm-up and drain: DESIGN.md's measured window, recomputed here."""
    s = sorted(records, key=lambda r: r.actual_send)
    return s[warmup:len(s) - drain]


@pytest.fixture(scope="module")
def sweep(llama_server, tmp_path_factory):
    """One fixed-concurrency sweep [1, 4] with cost, stored in its own DuckDB file."""
    db = tmp_path_factory.mktemp("store") / "bench.duckdb"
    result = bench_api.run_bench(llama_server.base_url, llama_server.model, concurrency=[1, 4],
                                 requests=REQUESTS, isl=ISL, osl=OSL, seed=3, gpu=GPU, gpus=1,
                                 store=db)
    with duckdb.connect(str(db), read_only=True) as con:
        cols = [c[0] for c in con.execute("SELECT * FROM requests LIMIT 0").description]
    from truecost.store import Store

    with Store(db) as s:
        records = s.requests(result.run_id)
    failed = [r for r in records if not r.ok]
    if failed:  # one clear failure here rather than TypeErrors on None timestamps downstream
        kinds = sorted({f"{r.error_kind}: {r.error}" for r in failed})
        pytest.fail(f"{len(failed)}/{len(records)} requests to llama-server failed: {kinds}",
                    pytrace=False)
    return result, db, records, cols


def test_every_reply_is_exactly_max_tokens_by_server_usage(sweep):
    result, _db, records, _ = sweep
    assert len(records) == 2 * REQUESTS
    for r in records:
        assert r.max_tokens == OSL
        # usage is the billing truth; the model cannot stop early, so it is exactly max_tokens
        assert r.completion_tokens == OSL
        # one SSE chunk per token on llama-server: the client's count agrees with the server's
        assert r.client_output_tokens == r.completion_tokens
        # the chat template adds tokens the client's word count does not see
        assert r.prompt_tokens is not None and r.prompt_tokens >= ISL
    for p in result.points:
        assert p.summary.tokens.usage_reported == p.summary.ok
        assert p.summary.tokens.output_discrepancy == 0


def test_per_request_metrics_are_consistent(sweep):
    _, _, records, _ = sweep
    for r in records:
        assert r.actual_send < r.first_chunk <= r.first_token <= r.last_token <= r.end
        assert ttft(r) < r.end - r.actual_send  # TTFT < E2E
        assert len(r.chunk_times) == OSL
        assert (r.chunk_times[0], r.chunk_times[-1]) == (r.first_token, r.last_token)
        assert all(b >= a for a, b in zip(r.chunk_times, r.chunk_times[1:]))
    itl = {p.index: p.summary.itl for p in sweep[0].points}
    for k, point in enumerate(sweep[0].points):
        recs = _measured([r for r in records if r.point == k], 0, point.drain)
        per_req = [(r.last_token - r.first_token) / (r.completion_tokens - 1) for r in recs]
        # ITL x (n-1) = last - first token, so the p50 is the p50 of those ratios
        assert itl[k].p50 == pytest.approx(float(np.percentile(per_req, 50)), rel=1e-9)


def test_throughput_is_tokens_over_the_measured_window(sweep):
    result, _, records, _ = sweep
    for point in result.points:
        recs = _measured([r for r in records if r.point == point.index], point.warmup,
                         point.drain)
        window = max(r.end for r in recs) - min(r.actual_send for r in recs)
        tokens = sum(r.completion_tokens for r in recs)
        s = point.summary
        assert s.requests == len(recs) == REQUESTS - point.drain
        assert s.output_token_throughput == pytest.approx(tokens / window, rel=1e-9)
        assert s.request_throughput == pytest.approx(len(recs) / window, rel=1e-9)
        assert s.ttft.p50 == pytest.approx(
            float(np.percentile([r.first_token - r.actual_send for r in recs], 50)), rel=1e-9)
    c1, c4 = (p.summary for p in result.points)
    # closed loop really held 4 in flight (llama-server has 4 slots); Little's law: in flight =
    # Σ request time / window, < 4 only by the gaps between one reply and the next request
    assert 0.8 < c1.mean_concurrency <= 1.0 + 1e-9
    assert 2.5 < c4.mean_concurrency <= 4.0 + 1e-9


def test_results_land_in_duckdb(sweep):
    result, db, _, cols = sweep
    with duckdb.connect(str(db), read_only=True) as con:
        status, points = con.execute(
            "SELECT status, (SELECT count(*) FROM points p WHERE p.run_id = r.run_id) "
            "FROM runs r WHERE run_id = ?", [result.run_id]).fetchone()
        n, tokens, bad = con.execute(
            "SELECT count(*), sum(completion_tokens), count(*) FILTER (error_kind IS NOT NULL) "
            "FROM requests WHERE run_id = ?", [result.run_id]).fetchone()
        stored = dict(con.execute(
            "SELECT point, output_token_throughput FROM points WHERE run_id = ? ORDER BY point",
            [result.run_id]).fetchall())
    assert (status, points) == ("complete", 2)
    assert (n, tokens, bad) == (2 * REQUESTS, 2 * REQUESTS * OSL, 0)
    assert {"actual_send", "first_token", "chunk_times", "completion_tokens"} <= set(cols)
    for p in result.points:
        assert stored[p.index] == pytest.approx(p.summary.output_token_throughput, rel=1e-12)


def test_cost_per_million_tokens_is_gpu_dollars_over_measured_tokens(sweep):
    result, _, records, _ = sweep
    usd_per_s = _catalog_usd_per_gpu_hour(GPU) * 1 / 3600
    for point in result.points:
        recs = _measured([r for r in records if r.point == point.index], point.warmup,
                         point.drain)
        window = max(r.end for r in recs) - min(r.actual_send for r in recs)
        tokens_per_s = sum(r.completion_tokens for r in recs) / window
        c = point.cost
        assert c.basis == "gpu"
        assert c.usd_per_hour == pytest.approx(_catalog_usd_per_gpu_hour(GPU))
        assert c.usd_per_mtok_output == pytest.approx(usd_per_s / tokens_per_s * 1e6, rel=1e-9)
        assert c.usd_per_request == pytest.approx(usd_per_s / (len(recs) / window), rel=1e-9)


def test_poisson_rate_run_follows_its_schedule(llama_server, tmp_path):
    n, rate, seed = 16, 8.0, 5
    result = bench_api.run_bench(llama_server.base_url, llama_server.model, rate=rate,
                                 poisson=True, requests=n, isl=ISL, osl=8, seed=seed,
                                 store=tmp_path / "b.duckdb")
    (point,) = result.points
    from truecost.store import Store

    with Store(tmp_path / "b.duckdb") as s:
        records = sorted(s.requests(result.run_id), key=lambda r: r.index)
    assert len(records) == n and all(r.ok and r.completion_tokens == 8 for r in records)
    offsets = poisson(rate, n, seed)
    t0 = [r.intended_send - off for r, off in zip(records, offsets)]
    assert max(t0) - min(t0) < 1e-6  # intended sends are the seeded schedule, exactly
    lags = [r.actual_send - r.intended_send for r in records]
    assert min(lags) >= 0 and float(np.median(lags)) < 0.005  # goal: < 1 ms on an idle machine
    s = point.summary
    assert s.ttft_from_intended.p50 >= s.ttft.p50
    # the schedule fixes the window: last send at offsets[-1], plus the last reply
    assert offsets[-1] <= s.duration_s < offsets[-1] + 1.0


def test_cli_bench_prints_the_table_and_stores_the_run(llama_server, cli):
    r = cli("bench", llama_server.base_url, "--model", llama_server.model, "--concurrency", "1,4",
            "--requests", "8", "--isl", "16", "--osl", "8", "--gpu", GPU, "--gpus", "1", "--json")
    assert r.code == 0, r.stderr
    out = json.loads(r.stdout)
    assert [p["label"] for p in out["points"]] == ["c=1", "c=4"]
    usd_per_s = _catalog_usd_per_gpu_hour(GPU) / 3600
    for p in out["points"]:
        s = p["summary"]
        assert s["ok"] == s["requests"] > 0
        assert s["tokens"]["output_mean"] == 8
        assert p["cost"]["usd_per_mtok_output"] == pytest.approx(
            usd_per_s / s["output_token_throughput"] * 1e6, rel=1e-9)
    runs = bench_api.list_runs()  # the default store, under the test's TRUECOST_HOME
    assert [(x["run_id"], x["status"], x["requests"]) for x in runs] == [
        (out["run_id"], "complete", 16)]

    table = cli("bench", llama_server.base_url, "--model", llama_server.model, "--requests", "4",
                "--osl", "4", "--gpu", GPU)
    assert table.code == 0, table.stderr
    assert "c=1" in table.stdout and "$/1M out" in table.stdout
