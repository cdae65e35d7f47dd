"""Usage logs into the store: one reader per log format, one validator for all of them.

Formats (``--format``, else recognised by their column names):

- ``openai``: the usage export of the OpenAI dashboard (CSV; the columns of the organisation
  Usage API's completions buckets: ``start_time``, ``end_time``, ``num_model_requests``,
  ``model``, ``input_tokens``, ``input_cached_tokens``, ``output_tokens``, ``user_id``,
  ``project_id``, ...). One row is a *bucket* of requests (a day, an hour or a minute);
  ``project_id`` becomes the row's tag. Buckets without usage are skipped.
- ``litellm``: LiteLLM's spend logs (the ``LiteLLM_SpendLogs`` table exported as CSV or JSON
  Lines: ``request_id``, ``startTime``, ``model``, ``prompt_tokens``, ``completion_tokens``,
  ``spend``, ``user``, ``request_tags``, ``metadata``, ``status``, ``call_type``, ...). Cached and
  reasoning tokens come from ``metadata.usage_object`` when LiteLLM recorded it; failed requests
  and calls that generate no text (embeddings, images, audio, moderation, rerank) are skipped;
  a request id seen before (overlapping exports) is counted once.
- ``generic``: CSV, JSON Lines or Parquet with ``timestamp, model, input_tokens, output_tokens``
  and optionally ``cached_tokens, reasoning_tokens, user, tag``.

Token conventions, as providers bill them: input tokens include the cached ones; output tokens
include the reasoning ones. Timestamps are ISO 8601 (no offset = UTC) or Unix seconds.

How: a reader per file kind yields ``(line, record)``; a function per format maps a record to
raw text fields; the text goes to a staging file (Parquet is read as it is) and **one SQL
statement** types and checks every row, so the rules live in one place and a bad row is reported by file and line while the
rest is imported. Memory stays bounded: records stream, lines longer than ``MAX_LINE_BYTES``
are reported and skipped. Left out: OpenAI's batch flag (batch rows are re-priced at standard
prices), LiteLLM cache-creation tokens, non-text usage (audio, images).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import InputError
from ..progress import Progress, task
from ..store import USAGE_COLUMNS, Store

__all__ = ["FORMATS", "MAX_LINE_BYTES", "ImportResult", "import_usage"]

FORMATS = ("openai", "litellm", "generic")
MAX_LINE_BYTES = 16 * 2**20  # a longer line (or CSV field) is reported as malformed and skipped
MAX_ERRORS_SHOWN = 20  # malformed rows listed in the result; all are counted
_BATCH = 50_000  # records staged between progress updates

# Staging: every field as text (None = absent); SQL types and checks them (``_VALIDATE``).
_STAGE = ("line", "problem", "skip", "request_id", "ts", "bucket_s", "model", "provider",
          "requests", "input_tokens", "cached_tokens", "output_tokens", "reasoning_tokens",
          "user", "tag", "spend_usd")
_FIELDS = _STAGE[2:]  # what a format function returns, after line and problem


@dataclass(frozen=True)
class ImportResult:
    """What one ``import_usage`` did. ``errors`` lists the first malformed rows as
    ``file:line: what is wrong``; ``bad_rows`` counts them all."""

    import_id: str
    path: str
    format: str
    rows: int  # rows stored
    requests: int  # requests they stand for (an export bucket holds many)
    bad_rows: int
    skipped: dict[str, int]  # rows deliberately not imported, by reason
    duplicate_rows: int  # request ids already in the store (or repeated in the file)
    first_ts: str | None
    last_ts: str | None
    errors: list[str] = field(default_factory=list)
    already_imported: bool = False  # the same file content was imported before: nothing done


# -- format functions: one record (column -> text) to the staging fields ------------------------
# Records hold text or None: a CSV's fields as read (an empty one is staged as NULL), a JSON
# object's values through ``_text``.
def _text(v: Any) -> str | None:
    if v is None or isinstance(v, str):
        return v or None
    if isinstance(v, bool):  # JSON true/false is not a count; keep it so the check names it
        return str(v).lower()
    if isinstance(v, int | float):
        return repr(v)
    return json.dumps(v)


def generic_row(r: dict[str, str | None]) -> tuple:
    g = r.get
    return (None, None, g("timestamp"), None, g("model"), None, None, g("input_tokens"),
            g("cached_tokens"), g("output_tokens"), g("reasoning_tokens"), g("user"), g("tag"), None)


def openai_row(r: dict[str, str | None]) -> tuple:
    g = r.get
    start, end = g("start_time"), g("end_time")
    skip = None
    if not g("model") and not g("num_model_requests") and not g("input_tokens"):
        skip = "empty bucket (no usage)"
    bucket = None
    try:
        if start and end:
            bucket = repr(round(float(end) - float(start)))
    except (ValueError, OverflowError):
        pass  # the start_time check reports it
    return (skip, None, start or g("start_time_iso"), bucket, g("model"), "openai",
            g("num_model_requests"), g("input_tokens"), g("input_cached_tokens"), g("output_tokens"),
            None, g("user_id"), g("project_id"), None)


# LiteLLM call types that generate no text tokens to re-price (litellm CallTypes, substrings)
_NOT_TEXT = ("embedding", "image", "transcription", "speech", "moderation", "rerank", "file",
             "batch", "vector", "search", "ocr", "video")


def litellm_row(r: dict[str, str | None]) -> tuple:
    g = r.get
    skip = None
    status, call = (g("status") or "").lower(), (g("call_type") or "").lower()
    if status == "failure":
        skip = "failed request"
    elif any(k in call for k in _NOT_TEXT):
        skip = f"no text generated (call_type {call})"
    cached, reasoning = _litellm_details(g("metadata"))
    tag = tags = g("request_tags")
    if tags and tags.strip().startswith("["):
        try:
            parsed = json.loads(tags)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, list):
            tag = ",".join(str(t) for t in parsed) or None
    return (skip, g("request_id"), g("startTime"), None, g("model") or g("model_group"),
            g("custom_llm_provider"), None, g("prompt_tokens"), cached, g("completion_tokens"),
            reasoning, g("user") or g("end_user"), tag, g("spend"))


def _litellm_details(text: str | None) -> tuple[str | None, str | None]:
    """Cached and reasoning tokens from LiteLLM's ``metadata.usage_object`` (an OpenAI-style
    usage block), when it was recorded."""
    if not text or ("cached_tokens" not in text and "reasoning_tokens" not in text
                    and "cache_read_input_tokens" not in text):
        return None, None  # most rows: skip parsing a large JSON blob
    try:
        metadata = json.loads(text)
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(metadata, dict):
        return None, None
    usage = metadata.get("usage_object")
    if not isinstance(usage, dict):
        return None, None
    prompt, completion = usage.get("prompt_tokens_details"), usage.get("completion_tokens_details")
    cached = prompt.get("cached_tokens") if isinstance(prompt, dict) else None
    if cached is None:
        cached = usage.get("cache_read_input_tokens")
    reasoning = completion.get("reasoning_tokens") if isinstance(completion, dict) else None
    return _text(cached), _text(reasoning)


_FORMAT_ROW: dict[str, Callable[[dict[str, str | None]], tuple]] = {
    "openai": openai_row, "litellm": litellm_row, "generic": generic_row}

# Columns that identify a format, and the source names used in error messages.
_REQUIRED = {
    "openai": ("start_time", "num_model_requests", "model", "input_tokens", "output_tokens"),
    "litellm": ("request_id", "startTime", "model", "prompt_tokens", "completion_tokens"),
    "generic": ("timestamp", "model", "input_tokens", "output_tokens"),
}
_SOURCE_NAMES = {
    "openai": {"ts": "start_time", "requests": "num_model_requests", "input_tokens": "input_tokens",
               "cached_tokens": "input_cached_tokens", "output_tokens": "output_tokens",
               "bucket_s": "end_time - start_time"},
    "litellm": {"ts": "startTime", "input_tokens": "prompt_tokens", "output_tokens": "completion_tokens",
                "cached_tokens": "usage_object cached_tokens",
                "reasoning_tokens": "usage_object reasoning_tokens", "spend_usd": "spend"},
    "generic": {"ts": "timestamp"},
}


def _detect(columns: list[str], path: Path) -> str:
    have = set(columns)
    for fmt in ("openai", "litellm", "generic"):
        if set(_REQUIRED[fmt]) <= have:
            return fmt
    missing = [c for c in _REQUIRED["generic"] if c not in have]
    raise InputError(f"{path}: not a usage log this tool reads: no column {', '.join(missing)}; "
                     f"a generic log needs {', '.join(_REQUIRED['generic'])} (or pass --format "
                     f"openai|litellm for those exports)")


# -- readers: (line, record) from each kind of file --------------------------------------------
class _Counting(io.RawIOBase):
    """A binary file that counts the bytes read from it (progress through a gzip, too)."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f, self.n = f, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        k = self.f.readinto(b)  # type: ignore[attr-defined]
        self.n += k or 0
        return k

    def close(self) -> None:
        self.f.close()
        super().close()


def _open_text(path: Path) -> tuple[IO[str], _Counting]:
    raw = _Counting(path.open("rb"))
    stream: IO[bytes] = io.BufferedReader(raw, 1 << 20)
    if path.suffix == ".gz":
        stream = gzip.GzipFile(fileobj=stream)  # type: ignore[assignment]
    # utf-8-sig drops a byte-order mark; undecodable bytes become U+FFFD instead of aborting
    return io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline=""), raw


def _kind(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last == ".csv":
        return "csv"
    if last in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if last == ".parquet":
        return "parquet"
    raise InputError(f"{path}: unknown file type '{last or path.name}'; use .csv, .jsonl (or "
                     f".ndjson), .parquet, optionally gzipped (.csv.gz, .jsonl.gz)")


def _next_row(reader: Iterator[list[str]]) -> list[str]:
    """``next(reader)`` with csv's field limit raised to ``MAX_LINE_BYTES`` for this one row. The
    limit is process-wide: it is put back before the row (or the error) leaves, so other CSV
    readers in the process (route's outcomes) keep theirs, also while a caller is suspended."""
    old = csv.field_size_limit(MAX_LINE_BYTES)
    try:
        return next(reader)
    finally:
        csv.field_size_limit(old)


def _csv_records(f: IO[str], path: Path) -> tuple[list[str], Iterator[tuple[int, dict | str]]]:
    reader = csv.reader(f)
    try:
        header = _next_row(reader)
    except StopIteration:
        raise InputError(f"{path}: empty file") from None
    except csv.Error as e:
        raise InputError(f"{path}:1: unreadable CSV header: {e}") from None
    header = [h.strip() for h in header]
    n = len(header)

    def records() -> Iterator[tuple[int, dict | str]]:
        while True:
            start = reader.line_num + 1
            try:
                row = _next_row(reader)
            except StopIteration:
                return
            except csv.Error as e:
                yield start, f"unreadable CSV: {e}"
                continue
            if not row:
                continue  # a blank line
            if len(row) != n:
                yield start, f"has {len(row)} fields, the header has {n}"
                continue
            yield start, dict(zip(header, row))

    return header, records()


def _jsonl_records(f: IO[str], path: Path) -> tuple[list[str], Iterator[tuple[int, dict | str]]]:
    def lines() -> Iterator[tuple[int, dict | str]]:
        line = 0
        while True:
            text = f.readline(MAX_LINE_BYTES)
            if not text:
                return
            line += 1
            if len(text) >= MAX_LINE_BYTES and not text.endswith("\n"):
                while True:  # drop the rest of an oversized line without holding it
                    more = f.readline(MAX_LINE_BYTES)
                    if not more or more.endswith("\n"):
                        break
                yield line, f"longer than {MAX_LINE_BYTES:,} bytes"
                continue
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except (ValueError, RecursionError):
                yield line, "not valid JSON"
                continue
            if not isinstance(obj, dict):
                yield line, f"a JSON {type(obj).__name__}, not an object"
                continue
            yield line, {k: _text(v) for k, v in obj.items()}

    it = lines()
    first = next(it, None)
    if first is None:
        raise InputError(f"{path}: empty file")
    if isinstance(first[1], str):
        raise InputError(f"{path}:{first[0]}: {first[1]}; expected JSON Lines (one object per line)")

    def chained() -> Iterator[tuple[int, dict | str]]:
        yield first  # type: ignore[misc]
        yield from it

    return list(first[1]), chained()


# -- the one validator -------------------------------------------------------------------------
def _validate_sql(names: dict[str, str]) -> str:
    """SELECT over ``_usage_stage`` giving typed columns and ``problem`` (NULL when the row is
    good). Counts must be whole numbers >= 0; cached <= input, reasoning <= output."""

    def n(col: str) -> str:
        return names.get(col, col)

    def raw(col: str) -> str:  # the offending value, one line, at most 40 characters
        return f"left(regexp_replace({col}, '[[:cntrl:]]', '?', 'g'), 40)"

    counts = ("requests", "input_tokens", "cached_tokens", "output_tokens", "reasoning_tokens",
              "bucket_s")
    dbl = ", ".join(f"TRY_CAST({c} AS DOUBLE) AS d_{c}" for c in (*counts, "spend_usd"))
    top = {"bucket_s": "1e9"}  # a bucket is shorter than 31 years; counts below 1e15
    ok = {c: f"(d_{c} IS NOT NULL AND isfinite(d_{c}) AND d_{c} >= 0 AND d_{c} = floor(d_{c}) "
             f"AND d_{c} < {top.get(c, '1e15')})" for c in counts}

    def as_int(c: str, default: int | None, typ: str = "BIGINT") -> str:
        value = f"CASE WHEN {ok[c]} THEN d_{c}::{typ} END"  # bad values stay NULL (row rejected)
        return f"coalesce({value}, {default})" if default is not None else value

    checks = [
        ("problem IS NOT NULL", "problem"),
        ("ts IS NULL", f"'no {n('ts')}'"),
        ("ts_v IS NULL", f"'{n('ts')} ''' || {raw('ts')} || ''' is not ISO 8601 or Unix seconds'"),
        ("ts_v < TIMESTAMP '2000-01-01' OR ts_v >= TIMESTAMP '2100-01-01'",
         f"'{n('ts')} ''' || {raw('ts')} || ''' is outside 2000-2099 (Unix milliseconds? "
         f"divide by 1000)'"),
        ("model IS NULL", "'no model'"),
        ("input_tokens IS NULL", f"'no {n('input_tokens')}'"),
        ("output_tokens IS NULL", f"'no {n('output_tokens')}'"),
    ]
    for c in counts:
        checks.append((f"{c} IS NOT NULL AND NOT {ok[c]}",
                       f"'{n(c)} ''' || {raw(c)} || ''' is not a whole number >= 0'"))
    checks += [
        ("spend_usd IS NOT NULL AND NOT (d_spend_usd IS NOT NULL AND isfinite(d_spend_usd) "
         "AND d_spend_usd >= 0)", f"'{n('spend_usd')} ''' || {raw('spend_usd')} || ''' is not a number >= 0'"),
        ("d_requests = 0", f"'{n('requests')} is 0'"),
        ("d_cached_tokens > d_input_tokens",
         f"'{n('cached_tokens')} ' || d_cached_tokens::BIGINT || ' exceed {n('input_tokens')} ' "
         f"|| d_input_tokens::BIGINT"),
        ("d_reasoning_tokens > d_output_tokens",
         f"'{n('reasoning_tokens')} ' || d_reasoning_tokens::BIGINT || ' exceed "
         f"{n('output_tokens')} ' || d_output_tokens::BIGINT || ' (output includes reasoning)'"),
    ]
    problem = "CASE " + " ".join(f"WHEN {w} THEN {t}" for w, t in checks) + " END"
    return f"""
        WITH d AS (SELECT *, {dbl}, TRY_CAST(ts AS TIMESTAMPTZ) AS d_tz FROM _usage_stage),
        t AS (SELECT *, CASE
                WHEN d_tz IS NOT NULL THEN d_tz AT TIME ZONE 'UTC'
                WHEN TRY_CAST(ts AS DOUBLE) >= 0 AND TRY_CAST(ts AS DOUBLE) < 4102444800
                    THEN make_timestamp(CAST(TRY_CAST(ts AS DOUBLE) * 1e6 AS BIGINT))  -- Unix s
                WHEN TRY_CAST(ts AS DOUBLE) IS NOT NULL THEN TIMESTAMP '9999-01-01'
                END AS ts_v FROM d)
        SELECT line, skip, request_id, ts_v AS ts, {as_int('bucket_s', 0, 'INTEGER')} AS bucket_s,
               trim(model) AS model, provider, {as_int('requests', 1)} AS requests,
               {as_int('input_tokens', None)} AS input_tokens,
               {as_int('cached_tokens', 0)} AS cached_tokens,
               {as_int('output_tokens', None)} AS output_tokens,
               {as_int('reasoning_tokens', 0)} AS reasoning_tokens, "user", tag,
               d_spend_usd AS spend_usd, {problem} AS problem
        FROM t"""


def _stage_text(con: Any, records: Iterator[tuple[int, dict | str]], row_fn: Callable[[dict], tuple],
                stage: Path, progress_cb: Callable[[], None]) -> None:
    """Write records' raw fields to the CSV file ``stage`` and make it the view
    ``_usage_stage`` (DuckDB reads a CSV ~10x faster than it binds Python lists)."""
    with stage.open("w", newline="", encoding="utf-8") as out:
        w = csv.writer(out)  # \r\n rows: a field holding \r or \n is quoted
        batch: list[tuple] = []
        for line, rec in records:
            if isinstance(rec, str):
                batch.append((line, rec) + (None,) * len(_FIELDS))
            else:
                batch.append((line, None, *row_fn(rec)))
            if len(batch) >= _BATCH:
                w.writerows(batch)
                batch.clear()
                progress_cb()
        w.writerows(batch)
    cols = "{" + ", ".join(f"'{c}': '{'BIGINT' if c == 'line' else 'VARCHAR'}'" for c in _STAGE) + "}"
    path = str(stage).replace("'", "''")
    con.execute(f"CREATE OR REPLACE TEMP VIEW _usage_stage AS SELECT * FROM read_csv('{path}', "
                f"header=false, columns={cols}, auto_detect=false, delim=',', quote='\"', "
                f"escape='\"', new_line='\\r\\n')")


def _stage_parquet(con: Any, path: Path, fmt: str | None) -> str:
    import duckdb

    try:
        cols = [r[0] for r in con.execute("SELECT name FROM parquet_schema(?)", [str(path)]).fetchall()]
    except duckdb.Error as e:
        raise InputError(f"{path}: not a readable Parquet file ({str(e).splitlines()[0]})") from None
    if (fmt or _detect(cols, path)) != "generic":
        raise InputError(f"{path}: Parquet is read as a generic log (timestamp, model, input_tokens, "
                         f"output_tokens, ...); export {fmt} logs as CSV or JSON Lines")
    missing = [c for c in _REQUIRED["generic"] if c not in cols]
    if missing:
        raise InputError(f"{path}: no column {', '.join(missing)} for the generic format")

    def col(name: str) -> str:
        return f'CAST("{name}" AS VARCHAR)' if name in cols else "NULL"

    names = ", ".join(f'"{c}"' for c in _STAGE)
    src = str(path).replace("'", "''")
    con.execute(f"""CREATE OR REPLACE TEMP VIEW _usage_stage ({names}) AS
        SELECT file_row_number + 1, NULL, NULL, NULL, {col('timestamp')}, NULL, {col('model')},
               NULL, NULL, {col('input_tokens')}, {col('cached_tokens')}, {col('output_tokens')},
               {col('reasoning_tokens')}, {col('user')}, {col('tag')}, NULL
        FROM read_parquet('{src}', file_row_number = true)""")
    return "generic"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def import_usage(path: Path | str, fmt: str | None = None, *, db: Path | str | None = None,
                 progress: Progress | None = None) -> ImportResult:
    """Read a usage log into the store (``db``: a store file, default ``truecost.paths``).

    The same file content imported twice is recognised (its SHA-256) and not counted again.
    Malformed rows are skipped and reported (``ImportResult.errors``); the rest is stored.

        >>> r = import_usage("examples/usage-log.csv")  # doctest: +SKIP
        >>> r.rows, r.bad_rows, r.errors[:1]  # doctest: +SKIP
    """
    path = Path(path)
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"unknown usage format '{fmt}'; use {', '.join(FORMATS)}")
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    kind = _kind(path)
    digest = _sha256(path)
    import_id = "u-" + digest[:10]
    with Store(db) as store:
        con = store.con
        con.execute("SET TimeZone = 'UTC'")
        old = con.execute("SELECT format FROM usage_imports WHERE import_id = ?", [import_id]).fetchone()
        if old is not None:
            return _result(con, import_id, str(path), old[0], already=True)
        size = path.stat().st_size
        with task(progress, f"importing {path.name} (kB)", total=size // 1000) as t, \
                tempfile.TemporaryDirectory(prefix="truecost-usage-") as tmp:
            if kind == "parquet":
                fmt = _stage_parquet(con, path, fmt)
            else:
                f, raw = _open_text(path)
                with f:
                    columns, records = (_csv_records if kind == "csv" else _jsonl_records)(f, path)
                    fmt = fmt or _detect(columns, path)
                    missing = [c for c in _REQUIRED[fmt] if c not in columns]
                    if missing and kind == "csv":
                        raise InputError(f"{path}: no column {', '.join(missing)} for the {fmt} format")
                    _stage_text(con, records, _FORMAT_ROW[fmt], Path(tmp) / "stage.csv",
                                lambda: t.update(raw.n // 1000))
            _store(con, import_id, path, fmt, kind, digest)
            t.update(size // 1000)
        return _result(con, import_id, str(path), fmt)


def _store(con: Any, import_id: str, path: Path, fmt: str, kind: str, digest: str) -> None:
    """Validate the staged rows, insert the good ones, record the import (one transaction)."""
    where = "row" if kind == "parquet" else "line"
    con.execute("BEGIN")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _usage_checked AS {_validate_sql(_SOURCE_NAMES[fmt])}")
        con.execute("CREATE OR REPLACE TEMP TABLE _usage_dup (line BIGINT)")
        (ids,) = con.execute("SELECT count(request_id) FROM _usage_checked").fetchone()
        if ids:  # a request logged twice (overlapping exports) is kept once
            con.execute("""INSERT INTO _usage_dup
                SELECT line FROM (SELECT line, request_id, row_number() OVER
                                    (PARTITION BY request_id ORDER BY line) AS k
                                  FROM _usage_checked WHERE problem IS NULL AND skip IS NULL
                                    AND request_id IS NOT NULL) c
                WHERE k > 1 OR request_id IN (SELECT request_id FROM usage
                                              WHERE request_id IS NOT NULL)""")
        names = ", ".join(f'"{c}"' for c, _ in USAGE_COLUMNS)
        dup = " AND line NOT IN (SELECT line FROM _usage_dup)" if ids else ""
        con.execute(f"""INSERT INTO usage ({names}) SELECT ?, line, request_id, ts, bucket_s,
            model, provider, requests, input_tokens, cached_tokens, output_tokens,
            reasoning_tokens, "user", tag, spend_usd FROM _usage_checked
            WHERE problem IS NULL AND skip IS NULL{dup}""", [import_id])
        bad = con.execute(f"SELECT line, problem FROM _usage_checked WHERE problem IS NOT NULL "
                          f"AND skip IS NULL ORDER BY line LIMIT {MAX_ERRORS_SHOWN}").fetchall()
        sep = f" {where} " if kind == "parquet" else ":"
        errors = [f"{path}{sep}{line}: {problem}" for line, problem in bad]
        (bad_n,) = con.execute("SELECT count(*) FROM _usage_checked WHERE problem IS NOT NULL "
                               "AND skip IS NULL").fetchone()
        # a row skipped on purpose (an empty bucket, a failed request) is not checked further
        skipped = dict(con.execute("SELECT skip, count(*) FROM _usage_checked WHERE skip IS NOT NULL "
                                   "GROUP BY skip ORDER BY skip").fetchall())
        (dups,) = con.execute("SELECT count(*) FROM _usage_dup").fetchone()
        rows, requests, first, last = con.execute(
            "SELECT count(*), coalesce(sum(requests), 0), min(ts), max(ts) FROM usage "
            "WHERE import_id = ?", [import_id]).fetchone()
        con.execute("INSERT INTO usage_imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [import_id, str(path), fmt, digest, time.time(), rows, requests, bad_n,
                     sum(skipped.values()), dups, first, last,
                     json.dumps({"errors": errors, "skipped": skipped})])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("DROP VIEW IF EXISTS _usage_stage")
        for t in ("_usage_checked", "_usage_dup"):
            con.execute(f"DROP TABLE IF EXISTS {t}")


def _result(con: Any, import_id: str, path: str, fmt: str, already: bool = False) -> ImportResult:
    row = con.execute("SELECT rows, requests, bad_rows, duplicate_rows, first_ts, last_ts, errors "
                      "FROM usage_imports WHERE import_id = ?", [import_id]).fetchone()
    rows, requests, bad, dups, first, last, extra = row
    extra = json.loads(extra) if extra else {}
    return ImportResult(import_id, path, fmt, rows, requests, bad, extra.get("skipped", {}), dups,
                        first.isoformat(sep=" ") if first else None,
                        last.isoformat(sep=" ") if last else None, extra.get("errors", []),
                        already_imported=already)

