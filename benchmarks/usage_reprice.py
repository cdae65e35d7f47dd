"""Re-pricing a usage log in DuckDB SQL vs pricing it request by request in Python.

Generates an N-row generic usage log (default 10 million rows: three models, a business-hours
day, 30 days) as Parquet with DuckDB, imports it with ``truecost.usage.import_usage`` into a
fresh store, then re-prices it on API offers and a self-hosted deployment with
``truecost.usage.reprice`` (total and ``--by day``), and prices a sample of the same rows the
naive way (``Offer.request_usd`` per row). Prints rows/s of each and their ratio, and checks that
both give the same dollars on the sample.

    python benchmarks/usage_reprice.py                 # 10M rows, ~1 min on 2 cores
    python benchmarks/usage_reprice.py --rows 1000000
    python benchmarks/usage_reprice.py --example examples/usage-log.csv --rows 3000 --days 14
    python benchmarks/usage_reprice.py --openai-example examples/openai-usage-export.csv \
        --rows 150000 --days 14

``--example`` and ``--openai-example`` write the small logs of ``examples/`` instead of
benchmarking (the second: hourly buckets of an OpenAI usage export, ``--rows`` requests a day).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import duckdb

# hourly demand of the generated log (business hours, UTC): cumulative share by hour
_HOURLY = [0.1] * 7 + [0.4, 0.8, 1, 1, 1, 0.8, 1, 1, 1, 1, 0.8, 0.5, 0.3, 0.15, 0.15, 0.15, 0.15]
# (model, share of requests, mean input, cached fraction, mean output, reasoning share of output)
_MODELS = [("gpt-4o-mini", 0.70, 1800, 0.5, 250, 0.0), ("gpt-4o", 0.25, 2500, 0.4, 400, 0.0),
           ("o4-mini", 0.05, 900, 0.0, 1500, 0.8)]
OPTIONS = ["openai/gpt-4.1-mini", "google/gemini-2.5-flash", "llama-3.1-70b@h100-sxm"]


def _u(i: str, salt: int) -> str:
    """A uniform number in [0, 1) from a hash of the row number: same rows on every run and
    thread count (DuckDB's random() is not reproducible across threads)."""
    return f"((hash({i}, {salt}) % 1000003)::DOUBLE / 1000003)"


def log_sql(n: int, days: int, start: str = "2025-03-01", ordered: bool = True) -> str:
    """A SELECT of ``n`` generic usage rows over ``days`` days."""
    total = sum(_HOURLY)
    cum, acc = [], 0.0
    for h, w in enumerate(_HOURLY):
        acc += w / total
        cum.append((h, acc))
    hour = "CASE " + " ".join(f"WHEN {_u('i', 1)} < {c:.6f} THEN {h}" for h, c in cum[:-1]) + " ELSE 23 END"
    mcum, acc, model, mean_in, cached, mean_out, reason = [], 0.0, [], [], [], [], []
    for name, share, i_n, c, o, r in _MODELS:
        acc += share
        cond = f"{_u('i', 2)} < {acc:.6f}" if name != _MODELS[-1][0] else "TRUE"
        model.append(f"WHEN {cond} THEN '{name}'")
        mean_in.append(f"WHEN m = '{name}' THEN {i_n}")
        cached.append(f"WHEN m = '{name}' THEN {c}")
        mean_out.append(f"WHEN m = '{name}' THEN {o}")
        reason.append(f"WHEN m = '{name}' THEN {r}")
        mcum.append(acc)
    # token counts: mean x (0.25 .. 1.75), uniform
    return f"""
    WITH r AS (SELECT i, CASE {' '.join(model)} END AS m FROM range({n}) t(i)),
    s AS (SELECT i, m, CAST(round((CASE {' '.join(mean_in)} END) * (0.25 + 1.5 * {_u('i', 3)})) AS BIGINT) AS inp,
                 CAST(round((CASE {' '.join(mean_out)} END) * (0.25 + 1.5 * {_u('i', 4)})) AS BIGINT) AS out,
                 CASE {' '.join(cached)} END AS cf, CASE {' '.join(reason)} END AS rf FROM r)
    SELECT TIMESTAMP '{start}' + to_days(CAST(i % {days} AS INTEGER))
             + to_hours(CAST({hour} AS INTEGER))
             + to_seconds(CAST(floor({_u('i', 5)} * 3600) AS BIGINT)) AS timestamp,
           m AS model, inp AS input_tokens, out AS output_tokens,
           CAST(floor(inp * cf) AS BIGINT) AS cached_tokens,
           CAST(floor(out * rf) AS BIGINT) AS reasoning_tokens,
           'user' || CAST(hash(i, 6) % 50 AS VARCHAR) AS "user",
           CASE WHEN hash(i, 7) % 3 = 0 THEN 'search' WHEN hash(i, 7) % 3 = 1 THEN 'chat'
                ELSE 'summarise' END AS tag
    FROM s""" + (" ORDER BY timestamp" if ordered else "")


OPENAI_EXPORT_COLUMNS = (
    "start_time,end_time,start_time_iso,end_time_iso,project_id,num_model_requests,user_id,"
    "api_key_id,model,batch,service_tier,input_tokens,output_tokens,input_cached_tokens,"
    "input_uncached_tokens,input_text_tokens,output_text_tokens,input_cached_text_tokens,"
    "input_audio_tokens,input_cached_audio_tokens,output_audio_tokens,input_image_tokens,"
    "input_cached_image_tokens,output_image_tokens")


def openai_export_sql(requests_per_day: int, days: int, start: str = "2025-03-01") -> str:
    """Hourly buckets in the columns of the OpenAI usage export (one row per hour and model),
    holding ``requests_per_day`` requests a day with the same models and day shape."""
    total = sum(_HOURLY)
    hours = " ".join(f"WHEN {h} THEN {w / total:.6f}" for h, w in enumerate(_HOURLY))
    models = ", ".join(f"('{m}', {sh}, {i}, {c}, {o})" for m, sh, i, c, o, _ in _MODELS)
    return f"""
    WITH b AS (SELECT h, m.*, CAST(round({requests_per_day} * share * (CASE h % 24 {hours} END)
                                   * (0.8 + 0.4 * {_u('h * 7 + length(model)', 9)})) AS BIGINT) AS n
               FROM range({days * 24}) t(h), (VALUES {models}) m(model, share, i, c, o)),
    t AS (SELECT *, epoch(TIMESTAMP '{start}') + h * 3600 AS s, CAST(n * i AS BIGINT) AS inp,
                 CAST(n * o AS BIGINT) AS out, CAST(floor(n * i * c) AS BIGINT) AS cached FROM b)
    SELECT CAST(s AS BIGINT) AS start_time, CAST(s + 3600 AS BIGINT) AS end_time,
           strftime(to_timestamp(s) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S+00:00') AS start_time_iso,
           strftime(to_timestamp(s + 3600) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S+00:00') AS end_time_iso,
           'proj_support' AS project_id, n AS num_model_requests, NULL AS user_id, NULL AS api_key_id,
           model, 'FALSE' AS batch, 'default' AS service_tier, inp AS input_tokens, out AS output_tokens,
           cached AS input_cached_tokens, inp - cached AS input_uncached_tokens,
           inp AS input_text_tokens, out AS output_text_tokens, cached AS input_cached_text_tokens,
           0 AS input_audio_tokens, 0 AS input_cached_audio_tokens, 0 AS output_audio_tokens,
           0 AS input_image_tokens, 0 AS input_cached_image_tokens, 0 AS output_image_tokens
    FROM t ORDER BY start_time, model"""


def write_log(path: Path, n: int, days: int) -> None:
    fmt = "parquet" if path.suffix == ".parquet" else "csv"
    con = duckdb.connect()
    # the README's small CSV is in time order; the benchmark's Parquet need not be
    con.execute(f"COPY ({log_sql(n, days, ordered=fmt == 'csv')}) TO '{path}' (FORMAT {fmt}"
                + (", HEADER, TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%SZ'" if fmt == "csv" else "") + ")")
    con.close()


def python_loop(path: Path, rows: int, offer_key: str) -> tuple[float, float]:
    """Price the first ``rows`` rows one by one with ``Offer.request_usd``: (USD, seconds)."""
    from truecost.prices import offer

    o = offer(offer_key)
    con = duckdb.connect()
    data = con.execute(f"SELECT input_tokens, output_tokens, cached_tokens FROM read_parquet('{path}') "
                       f"LIMIT {rows}").fetchall()
    con.close()
    t0 = time.perf_counter()
    usd = sum(o.request_usd(i, out, cached_input_tokens=c) for i, out, c in data)
    return usd, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--sample", type=int, default=20_000, help="rows priced by the Python loop")
    ap.add_argument("--log-format", choices=["parquet", "csv"], default="parquet",
                    help="file the log is generated as (csv: imported line by line in Python)")
    ap.add_argument("--example", type=Path, help="write a small CSV log here and stop")
    ap.add_argument("--openai-example", type=Path, help="write an hourly OpenAI usage export "
                    "holding --rows requests a day here and stop")
    a = ap.parse_args()
    if a.openai_example:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"COPY ({openai_export_sql(a.rows, a.days)}) TO '{a.openai_example}' (FORMAT csv, HEADER)")
        print(f"wrote {a.days * 24 * len(_MODELS):,} hourly buckets to {a.openai_example}")
        return 0
    if a.example:
        write_log(a.example, a.rows, a.days)
        print(f"wrote {a.rows:,} rows to {a.example}")
        return 0

    from truecost.usage import import_usage, reprice

    with tempfile.TemporaryDirectory(prefix="truecost-bench-") as tmp:
        log, db = Path(tmp) / f"log.{a.log_format}", Path(tmp) / "store.duckdb"
        sample = Path(tmp) / "sample.parquet"
        t0 = time.perf_counter()
        write_log(log, a.rows, a.days)
        t_gen = time.perf_counter() - t0
        t0 = time.perf_counter()
        imported = import_usage(log, db=db)
        t_import = time.perf_counter() - t0
        assert imported.rows == a.rows and imported.bad_rows == 0, imported
        timings = {}
        for label, kw in (("total", {}), ("--by day", {"by": "day"})):
            t0 = time.perf_counter()
            r = reprice(OPTIONS, db=db, **kw)
            timings[label] = time.perf_counter() - t0
        # the naive way, on a sample: the same rows in a store of their own, priced both ways
        duckdb.connect().execute(f"COPY (SELECT * FROM '{log}' LIMIT {a.sample}) "
                                 f"TO '{sample}' (FORMAT parquet)")
        sample_db = Path(tmp) / "sample.duckdb"
        import_usage(sample, db=sample_db)
        sql_usd = next(o.usd for o in reprice([OPTIONS[0]], db=sample_db).options if o.label == OPTIONS[0])
        loop_usd, t_loop = python_loop(sample, a.sample, OPTIONS[0])
    loop_rate = a.sample / t_loop
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"duckdb {duckdb.__version__}")
    print(f"log: {a.rows:,} rows over {a.days} days as {a.log_format} (generated in {t_gen:.1f} s), imported in "
          f"{t_import:.1f} s ({a.rows / t_import:,.0f} rows/s)")
    print(f"options: {', '.join(OPTIONS)} (+ the log's own models at list price)")
    print("| re-pricing | seconds | rows/s | x Python loop |")
    print("|---|---:|---:|---:|")
    for label, s in timings.items():
        print(f"| SQL, {label} | {s:.2f} | {a.rows / s:,.0f} | {a.rows / s / loop_rate:,.0f} |")
    print(f"| Python loop, Offer.request_usd per row ({a.sample:,} rows) | {t_loop:.2f} | "
          f"{loop_rate:,.0f} | 1 |")
    agree = abs(sql_usd - loop_usd) <= 1e-9 * max(loop_usd, 1)
    print(f"sample check ({a.sample:,} rows on {OPTIONS[0]}): SQL ${sql_usd:.6f}, loop ${loop_usd:.6f}: "
          f"{'same' if agree else 'DIFFERENT'}")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
