"""The DuckDB store: schema = record fields, incremental writes that survive SIGKILL, exports."""

import json
import os
import signal
import subprocess
import sys
import time

import duckdb
import pytest

from tests.fakeserver import MODEL
from truecost.bench.record import FIELDS, RequestRecord
from truecost.errors import TruecostError, UnknownNameError
from truecost.store import REQUEST_COLUMNS, Store, Writer, default_path

RECS = [RequestRecord(point=p, index=i, intended_send=None if p else 1795000000.123456789 + i,
                      actual_send=1795000000.1 + i / 3, end=1795000001.7 + i,
                      first_chunk=1795000000.2 + i, first_token=1795000000.3 + i,
                      first_output=1795000000.3 + i, last_token=1795000001.6 + i,
                      chunk_times=[1795000000.3 + i + k / 7 for k in range(5)],
                      prompt_tokens=10 + i, completion_tokens=5, reasoning_tokens=None,
                      cached_tokens=0, client_prompt_tokens=9, client_output_tokens=5,
                      max_tokens=5, response_bytes=999, status=200,
                      error_kind=None if i % 3 else "http_500",
                      error=None if i % 3 else "HTTP 500: boom, \"quoted\"")
        for p in (0, 1) for i in range(4)]


def test_request_columns_are_the_record_fields_in_order():
    assert tuple(n for n, _ in REQUEST_COLUMNS) == FIELDS


def test_default_location(monkeypatch, tmp_path):
    monkeypatch.setenv("TRUECOST_HOME", str(tmp_path / "h"))
    assert default_path() == tmp_path / "h" / "truecost.duckdb"
    monkeypatch.setenv("TRUECOST_DB", str(tmp_path / "x.duckdb"))
    assert default_path() == tmp_path / "x.duckdb"


def write_run(path, run_id="r1", finish=True):
    w = Writer(path)
    w.put(("run", {"run_id": run_id, "started_at": time.time(), "status": "running",
                   "url": "http://h/v1/chat/completions", "model": "m", "mode": "concurrency",
                   "config": {"warmup": 0}}))
    for r in RECS:
        w.record(run_id, r)
    if finish:
        w.put(("finish", run_id, "complete", None, ["a note"]))
    w.close()


def test_records_round_trip_exactly_through_the_writer(tmp_path):
    db = tmp_path / "s.duckdb"
    write_run(db)
    with Store(db) as s:
        assert s.requests("r1") == RECS  # floats bit-exact, None kept, lists kept
        (run,) = s.runs()
        assert (run["status"], run["notes"], run["requests"], run["ok"], run["points"]) == (
            "complete", ["a note"], 8, 4, 2)


def test_a_run_the_benchmark_never_finished_is_marked_interrupted(tmp_path):
    db = tmp_path / "s.duckdb"
    write_run(db, finish=False)
    with Store(db) as s:
        assert s.run("r1")["status"] == "interrupted"


def test_unknown_runs_list_the_nearest(tmp_path):
    db = tmp_path / "s.duckdb"
    write_run(db, "20250101-120000-abcd")
    with Store(db) as s, pytest.raises(UnknownNameError) as e:
        s.run("20250101-120000-abce")
    assert str(e.value) == "unknown run '20250101-120000-abce'; did you mean 20250101-120000-abcd?"


def test_a_store_in_use_says_so(tmp_path):
    db = tmp_path / "s.duckdb"
    w = Writer(db)
    try:
        with pytest.raises(TruecostError) as e:
            Store(db)
        assert str(e.value) == (f"the result store {db} is in use by another process (a bench "
                                f"still running?); wait for it, or set TRUECOST_DB to another file")
    finally:
        w.close()


@pytest.mark.parametrize("fmt", ["json", "csv", "parquet"])
def test_exports_round_trip(tmp_path, fmt):
    db = tmp_path / "s.duckdb"
    write_run(db)
    out = tmp_path / f"out.{fmt}"
    with Store(db) as s:
        assert s.export("r1", out, fmt) == out
    if fmt == "json":
        doc = json.loads(out.read_text())
        assert doc["run"]["run_id"] == "r1" and doc["run"]["config"] == {"warmup": 0}
        rows = [[r[n] for n in FIELDS] for r in doc["requests"]]
    else:
        con = duckdb.connect()
        reader = "read_parquet" if fmt == "parquet" else "read_csv"
        cols = ", ".join(f'"{n}"' + ("::DOUBLE[]" if n == "chunk_times" and fmt == "csv" else "")
                         for n in FIELDS)
        rows = con.execute(f"SELECT {cols} FROM {reader}('{out}') ORDER BY point, \"index\"").fetchall()
    assert [RequestRecord.from_row(r) for r in rows] == RECS


def open_when_free(path, timeout_s=30.0):
    end = time.time() + timeout_s
    while True:
        try:
            return Store(path)
        except TruecostError:
            if time.time() > end:
                raise
            time.sleep(0.1)


def test_a_benchmark_killed_with_sigkill_keeps_what_it_measured(fake, tmp_path):
    db = tmp_path / "kill.duckdb"
    env = {**os.environ, "TRUECOST_DB": str(db)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "truecost", "bench", fake.url("normal"), "--model", MODEL,
         "--concurrency", "2", "--duration-s", "60", "--isl", "16", "--osl", "8"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        end = time.time() + 30
        while len(fake.received) < 60 and time.time() < end and proc.poll() is None:
            time.sleep(0.02)
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    sent = len(fake.received)
    with open_when_free(db) as s:  # the writer drains the pipe, commits, and lets go
        (run,) = s.runs()
        recs = s.requests(run["run_id"])
    assert run["status"] == "interrupted"
    # all that had completed, give or take the two in flight and the last few milliseconds
    assert sent - 8 <= len(recs) <= sent
    assert all(r.ok and len(r.chunk_times) == 8 and r.completion_tokens == 8 for r in recs)
    indices = sorted(r.index for r in recs)  # each once; only the last few can be missing
    assert len(set(indices)) == len(recs) and indices[-1] < len(recs) + 2
