"""Usage import: each log format from small files written here, bad rows reported by line while
the rest is stored, exactly as written."""

from __future__ import annotations

import gzip
import json
import re
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from truecost.errors import InputError
from truecost.progress import Progress, Task
from truecost.store import Store
from truecost.usage import import_usage
from truecost.usage import importers

GENERIC_HEADER = "timestamp,model,input_tokens,output_tokens,cached_tokens,reasoning_tokens,user,tag\n"


def stored(path: Path | None = None) -> list[tuple]:
    with Store() as s:
        return s.con.execute(
            "SELECT line, ts, bucket_s, model, provider, requests, input_tokens, cached_tokens, "
            "output_tokens, reasoning_tokens, \"user\", tag, spend_usd, request_id FROM usage "
            "ORDER BY import_id, line").fetchall()


def test_generic_csv_stores_good_rows_and_reports_each_bad_row_by_line(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text(GENERIC_HEADER + "\n".join([
        "2025-01-01T10:00:00Z,gpt-4o-mini,1000,200,100,0,alice,chat",      # line 2: good
        "2025-01-01T10:30:00Z,gpt-4o-mini,abc,200,,,bob,chat",            # 3: not a number
        "2025-01-01 11:00:00,gpt-4o,2000,300,2500,,bob,",                  # 4: cached > input
        "1735732800,gpt-4o,2000,300,,,bob,",                               # 5: Unix seconds, good
        "1735732800000,gpt-4o,2000,300,,,bob,",                            # 6: milliseconds
        "2025-01-01T12:00:00Z,,2000,300,,,bob,",                           # 7: no model
        "2025-01-01T12:00:00Z,gpt-4o,2000,300",                            # 8: 4 fields
        "2025-01-01T12:00:00Z,gpt-4o,2000.0,30,0,40,x,y",                  # 9: reasoning > output
        "2025-01-01T12:00:00Z,gpt-4o,-5,30,0,0,x,y",                       # 10: negative
        "2025-01-01T12:00:00+02:00,gpt-4o,12.5,30,0,0,x,y",                # 11: fraction
        "2025-01-01T13:00:00+02:00,gpt-4o,7,3.0,0,1,x,y",                  # 12: good, offset
        "",                                                                # blank: ignored
        "yesterday,gpt-4o,7,3,0,1,x,y",                                    # 14: not a time
    ]) + "\n")
    r = import_usage(log)
    assert (r.format, r.rows, r.requests, r.bad_rows) == ("generic", 3, 3, 9)
    assert r.errors == [
        f"{log}:3: input_tokens 'abc' is not a whole number >= 0",
        f"{log}:4: cached_tokens 2500 exceed input_tokens 2000",
        f"{log}:6: timestamp '1735732800000' is outside 2000-2099 (Unix milliseconds? divide by 1000)",
        f"{log}:7: no model",
        f"{log}:8: has 4 fields, the header has 8",
        f"{log}:9: reasoning_tokens 40 exceed output_tokens 30 (output includes reasoning)",
        f"{log}:10: input_tokens '-5' is not a whole number >= 0",
        f"{log}:11: input_tokens '12.5' is not a whole number >= 0",
        f"{log}:14: timestamp 'yesterday' is not ISO 8601 or Unix seconds",
    ]
    assert stored() == [
        (2, datetime(2025, 1, 1, 10), 0, "gpt-4o-mini", None, 1, 1000, 100, 200, 0, "alice", "chat", None, None),
        # 1735732800 = 2025-01-01 12:00:00 UTC; missing cached/reasoning count as 0
        (5, datetime(2025, 1, 1, 12), 0, "gpt-4o", None, 1, 2000, 0, 300, 0, "bob", None, None, None),
        # 13:00 at +02:00 is 11:00 UTC; "3.0" is a whole number
        (12, datetime(2025, 1, 1, 11), 0, "gpt-4o", None, 1, 7, 0, 3, 1, "x", "y", None, None),
    ]


def test_the_same_file_twice_is_not_counted_twice(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text(GENERIC_HEADER + "2025-01-01T10:00:00Z,m,10,2,,,,\n")
    first = import_usage(log)
    again = import_usage(log)
    assert again.already_imported and again.import_id == first.import_id and again.rows == 1
    assert len(stored()) == 1


def test_jsonl_bad_lines_are_reported_and_types_are_checked(tmp_path):
    log = tmp_path / "log.jsonl"
    lines = [
        {"timestamp": "2025-02-01T00:00:00Z", "model": "gpt-4o", "input_tokens": 100, "output_tokens": 10,
         "cached_tokens": 50, "reasoning_tokens": 4, "user": "u1", "tag": "t"},
        "{not json",
        [1, 2],
        {"timestamp": "2025-02-01T00:00:00Z", "model": "gpt-4o", "input_tokens": True, "output_tokens": 1},
        {"timestamp": 1738368000.5, "model": "m", "input_tokens": 1.0, "output_tokens": 0},
        {"timestamp": "2025-02-01T00:00:00Z", "model": "gpt-4o", "output_tokens": 1},
        {"timestamp": "2025-02-01T00:00:00Z", "model": "gpt-4o", "input_tokens": {"a": 1}, "output_tokens": 1},
        "[" * 100_000,  # deeper than the JSON parser's recursion limit
    ]
    log.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    r = import_usage(log)
    assert r.rows == 2 and r.bad_rows == 6
    assert r.errors == [
        f"{log}:2: not valid JSON",
        f"{log}:3: a JSON list, not an object",
        f"{log}:4: input_tokens 'true' is not a whole number >= 0",
        f"{log}:6: no input_tokens",
        f"{log}:7: input_tokens '{{\"a\": 1}}' is not a whole number >= 0",
        f"{log}:8: not valid JSON",
    ]
    assert [row[:10] for row in stored()] == [
        (1, datetime(2025, 2, 1), 0, "gpt-4o", None, 1, 100, 50, 10, 4),
        (5, datetime(2025, 2, 1, 0, 0, 0, 500000), 0, "m", None, 1, 1, 0, 0, 0),
    ]


def test_a_line_longer_than_the_limit_is_skipped_without_reading_it_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(importers, "MAX_LINE_BYTES", 200)
    log = tmp_path / "log.jsonl"
    good = json.dumps({"timestamp": "2025-02-01T00:00:00Z", "model": "m", "input_tokens": 1,
                       "output_tokens": 1})
    log.write_text(good + "\n" + json.dumps({"model": "x" * 1000}) + "\n" + good + "\n")
    r = import_usage(log)
    assert r.rows == 2 and r.errors == [f"{log}:2: longer than 200 bytes"]


def test_parquet_rows_are_numbered_and_checked(tmp_path):
    log = tmp_path / "log.parquet"
    duckdb.connect().execute(f"""COPY (SELECT * FROM (VALUES
        (TIMESTAMP '2025-03-01 10:00:00', 'gpt-4o', 1000, 100, 10),
        (TIMESTAMP '2025-03-01 11:00:00', 'gpt-4o', 5, 100, 10),
        (TIMESTAMP '2025-03-01 12:00:00', 'gpt-4o-mini', -3, 1, 0))
        t(timestamp, model, input_tokens, output_tokens, cached_tokens)) TO '{log}' (FORMAT parquet)""")
    r = import_usage(log)
    assert r.rows == 1 and r.errors == [
        f"{log} row 2: cached_tokens 10 exceed input_tokens 5",
        f"{log} row 3: input_tokens '-3' is not a whole number >= 0"]
    assert stored()[0][:9] == (1, datetime(2025, 3, 1, 10), 0, "gpt-4o", None, 1, 1000, 10, 100)


# The columns of the OpenAI dashboard's usage export (the Usage API's completions buckets).
OPENAI_HEADER = ("start_time,end_time,start_time_iso,end_time_iso,project_id,num_model_requests,user_id,"
                 "api_key_id,model,batch,service_tier,input_tokens,output_tokens,input_cached_tokens,"
                 "input_uncached_tokens,input_text_tokens,output_text_tokens,input_cached_text_tokens,"
                 "input_audio_tokens,input_cached_audio_tokens,output_audio_tokens,input_image_tokens,"
                 "input_cached_image_tokens,output_image_tokens\n")


def test_openai_export_buckets(tmp_path):
    log = tmp_path / "export.csv"
    log.write_text(OPENAI_HEADER + "\n".join([
        "1759622400,1759708800,2025-10-05T00:00:00+00:00,2025-10-06T00:00:00+00:00,proj_A,10.0,user-1,"
        "key_1,gpt-4o-2024-08-06,FALSE,default,59200.0,10646.0,5760.0,53440.0,53440.0,10646.0,5760.0,"
        "0.0,0.0,0.0,0.0,0.0,0.0",
        # a day without usage: every usage field empty
        "1759881600,1759968000,2025-10-08T00:00:00+00:00,2025-10-09T00:00:00+00:00" + "," * 20,
        "1759968000,1760054400,2025-10-09T00:00:00+00:00,2025-10-10T00:00:00+00:00,proj_B,0,,,gpt-4o,"
        "FALSE,default,0,0,0,0,0,0,0,0,0,0,0,0,0",
    ]) + "\n")
    r = import_usage(log)
    assert r.format == "openai"
    assert (r.rows, r.requests, r.skipped) == (1, 10, {"empty bucket (no usage)": 1})
    assert r.errors == [f"{log}:4: num_model_requests is 0"]
    assert stored() == [(2, datetime(2025, 10, 5), 86400, "gpt-4o-2024-08-06", "openai", 10, 59200, 5760,
                         10646, 0, "user-1", "proj_A", None, None)]


LITELLM_HEADER = ("request_id,call_type,api_key,spend,total_tokens,prompt_tokens,completion_tokens,"
                  "startTime,endTime,completionStartTime,model,model_id,model_group,custom_llm_provider,"
                  "api_base,user,metadata,cache_hit,cache_key,request_tags,team_id,end_user,status\n")


def _litellm_csv(path: Path, rows: list[list[str]]) -> None:
    import csv

    with path.open("w", newline="") as f:
        f.write(LITELLM_HEADER)
        csv.writer(f).writerows(rows)


def _ll(rid: str, **kw: str) -> list[str]:
    base = {"request_id": rid, "call_type": "acompletion", "api_key": "hashed", "spend": "0.0012",
            "total_tokens": "1200", "prompt_tokens": "1000", "completion_tokens": "200",
            "startTime": "2025-04-01 09:00:00.123", "endTime": "2025-04-01 09:00:02", "completionStartTime": "",
            "model": "gpt-4o", "model_id": "", "model_group": "gpt-4o", "custom_llm_provider": "openai",
            "api_base": "", "user": "alice", "metadata": "{}", "cache_hit": "", "cache_key": "",
            "request_tags": "[]", "team_id": "", "end_user": "", "status": "success"}
    base.update(kw)
    return [base[c] for c in LITELLM_HEADER.strip().split(",")]


def test_litellm_spend_logs_csv(tmp_path):
    usage = {"usage_object": {"prompt_tokens": 1000, "completion_tokens": 200,
                              "prompt_tokens_details": {"cached_tokens": 600},
                              "completion_tokens_details": {"reasoning_tokens": 150}}}
    log = tmp_path / "spend.csv"
    _litellm_csv(log, [
        _ll("r1", metadata=json.dumps(usage), request_tags='["team:search", "prod"]'),
        _ll("r2", status="failure", prompt_tokens="0", completion_tokens="0"),
        _ll("r3", call_type="aembedding", completion_tokens="0"),
        _ll("r4", spend="free"),
        _ll("r1"),  # the same request again (overlapping exports)
        _ll("r5", model="", model_group="claude-sonnet", custom_llm_provider="anthropic", user="",
            end_user="cust-9"),
    ])
    r = import_usage(log)
    assert r.format == "litellm"
    assert (r.rows, r.bad_rows, r.duplicate_rows) == (2, 1, 1)
    with Store() as s:  # the (hashed) API key column is never read into the store
        assert "hashed" not in str(s.con.execute("SELECT * FROM usage").fetchall())
    assert r.skipped == {"failed request": 1, "no text generated (call_type aembedding)": 1}
    assert r.errors == [f"{log}:5: spend 'free' is not a number >= 0"]
    assert stored() == [
        (2, datetime(2025, 4, 1, 9, 0, 0, 123000), 0, "gpt-4o", "openai", 1, 1000, 600, 200, 150, "alice",
         "team:search,prod", 0.0012, "r1"),
        (7, datetime(2025, 4, 1, 9, 0, 0, 123000), 0, "claude-sonnet", "anthropic", 1, 1000, 0, 200, 0,
         "cust-9", None, 0.0012, "r5"),
    ]
    # a second export overlapping the first: only the new request is stored
    log2 = tmp_path / "spend2.jsonl"
    rows = [dict(zip(LITELLM_HEADER.strip().split(","), _ll(rid))) for rid in ("r5", "r6")]
    rows[1]["metadata"] = usage  # JSON Lines may carry metadata as an object
    log2.write_text("\n".join(json.dumps(x) for x in rows) + "\n")
    r2 = import_usage(log2)
    assert (r2.format, r2.rows, r2.duplicate_rows) == ("litellm", 1, 1)
    assert [row[6:10] for row in stored() if row[-1] == "r6"] == [(1000, 600, 200, 150)]


def test_gzipped_csv_and_progress(tmp_path):
    log = tmp_path / "log.csv.gz"
    with gzip.open(log, "wt") as f:
        f.write(GENERIC_HEADER + "2025-01-01T10:00:00Z,m,10,2,,,,\n" * 3)
    seen: list[Task] = []

    class Recorder(Progress):
        def task(self, label: str, total: float | None = None) -> Task:
            seen.append(Task(label, total))
            return seen[-1]

    r = import_usage(log, progress=Recorder())
    assert r.rows == 3
    assert seen[0].label == "importing log.csv.gz (kB)" and seen[0].closed
    assert seen[0].done == seen[0].total == log.stat().st_size // 1000


@pytest.mark.parametrize("name, text, fmt, message", [
    ("x.csv", "a,b\n1,2\n", None, "not a usage log this tool reads: no column timestamp, model, "
     "input_tokens, output_tokens; a generic log needs timestamp, model, input_tokens, output_tokens "
     "(or pass --format openai|litellm for those exports)"),
    ("x.csv", GENERIC_HEADER, "openai", "no column start_time, num_model_requests for the openai format"),
    ("x.txt", "", None, "unknown file type '.txt'; use .csv, .jsonl (or .ndjson), .parquet, optionally "
     "gzipped (.csv.gz, .jsonl.gz)"),
    ("x.csv", "", None, "empty file"),
    ("x.jsonl", "[1]\n", None, "1: a JSON list, not an object; expected JSON Lines (one object per line)"),
])
def test_unusable_files_are_one_line_errors(tmp_path, name, text, fmt, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError) as e:
        import_usage(path, fmt)
    sep = "" if message[0].isdigit() else " "
    assert str(e.value) == f"{path}:{sep}{message}"


_cell = st.one_of(st.text(max_size=12), st.integers(-5, 10**6).map(str),
                  st.sampled_from(["2025-01-01T00:00:00Z", "1735689600", "nan", "inf", "1e400", '"', ""]))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_cell, min_size=0, max_size=9), max_size=12), jsonl=st.booleans())
@example(rows=[["", "", "", ""], ["", "", "\n0"]], jsonl=True)  # a cell with a newline: two lines, not one
def test_any_content_imports_or_fails_in_one_line(tmp_path, rows, jsonl):
    """Whatever a log holds, an import stores the good rows and accounts for every other one, or
    refuses the whole file with a one-line InputError; nothing else escapes."""
    cols = ["timestamp", "model", "input_tokens", "output_tokens", "cached_tokens", "reasoning_tokens"]
    log = tmp_path / f"fuzz-{len(list(tmp_path.iterdir()))}.{'jsonl' if jsonl else 'csv'}"
    if jsonl:
        log.write_text("".join(json.dumps(dict(zip(cols, r))) + "\n" if len(r) % 3 else ",".join(r) + "\n"
                               for r in rows))
    else:
        import csv
        import io

        buf = io.StringIO()
        csv.writer(buf).writerows([cols[:4] + cols[4:]] + rows)
        log.write_text(buf.getvalue())
    try:
        r = import_usage(log)
    except InputError as e:
        assert "\n" not in str(e)
        return
    if jsonl:  # the lines the reader sees: split at \n, \r or \r\n (a cell may hold one), blank ones skipped
        text = log.read_bytes().decode("utf-8").removeprefix("\ufeff")
        records = sum(1 for line in re.split(r"\r\n|\r|\n", text) if line.strip())
    else:
        records = sum(1 for x in rows if x)
    assert r.rows + r.bad_rows + sum(r.skipped.values()) + r.duplicate_rows == records
    assert all("\n" not in e for e in r.errors)


def test_a_broken_parquet_file_is_a_one_line_error(tmp_path):
    path = tmp_path / "log.parquet"
    path.write_bytes(b"PAR1 but not really")
    with pytest.raises(InputError) as e:
        import_usage(path)
    assert str(e.value).startswith(f"{path}: not a readable Parquet file (") and "\n" not in str(e.value)


def test_a_csv_import_leaves_the_process_wide_csv_field_limit_alone(tmp_path):
    """csv.field_size_limit is one setting for the whole process: the importer raises it to
    MAX_LINE_BYTES (16 MiB) only while it parses, so another reader in the same process (route's
    outcome files) still refuses a 200,000-character field at the default 131,072."""
    import csv

    before = csv.field_size_limit()
    log = tmp_path / "log.csv"
    log.write_text("timestamp,model,input_tokens,output_tokens,user\n"
                   f"2025-01-01T10:00:00Z,m,10,5,{'u' * 200_000}\n")  # a 200 KB field: imported
    import_usage(log)
    assert csv.field_size_limit() == before
    with Store() as s:
        (n,) = s.con.execute("SELECT count(*) FROM usage").fetchone()
    assert n == 1
