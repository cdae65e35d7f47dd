"""The result store: one embedded DuckDB file of benchmark runs, their operating points and
every request's raw timestamps and token counts.

Location: ``$TRUECOST_DB`` if set, else ``$TRUECOST_HOME/truecost.duckdb`` (``~/.truecost``).

Writes are incremental. During a run a child process (``python -m truecost.store PATH``) owns the
file: the benchmark hands it each completed request (pickled, over a pipe) and it inserts them
in batches every ``FLUSH_S``, each batch committed. DuckDB's write-ahead log makes a committed
batch durable, so a benchmark killed with SIGKILL keeps what it measured: the writer reads to
the end of the pipe, flushes, and marks the run ``interrupted``. The writer is a process, not a
thread, because a DuckDB insert holds the GIL for milliseconds and would delay the benchmark's
event loop (measured: 5-20 ms stalls from a writer thread).

Tables: ``runs`` (one row per ``truecost bench``), ``points`` (one per operating point: load,
measured throughput, ISL/OSL, GPU — what calibration needs — plus the summary, cost and energy as
JSON), ``requests`` (``RequestRecord`` fields), ``throttles`` (how often a request was throttled, only
for those that were), ``energy_samples``, ``eval_answers`` (one graded answer per request of a
``truecost eval`` run), ``run_tags`` (labels a user gives runs). ``delete_run`` removes a run from
every table. ``export`` writes a run to JSON, CSV or Parquet, through a temporary file
renamed into place. API keys are never given to the store.

Usage logs (``truecost usage import``) live beside the runs: ``usage_imports`` (one row per
imported file) and ``usage`` (one row per logged request, or per aggregated bucket of an export;
``truecost.usage`` documents the columns).
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import duckdb

from .checks import write_atomic
from .errors import InputError, TruecostError, UnknownNameError
from .paths import store_path

__all__ = ["ANSWER_COLUMNS", "FLUSH_S", "REQUEST_COLUMNS", "SCHEMA_VERSION", "Store", "Writer", "default_path"]

SCHEMA_VERSION = 1
FLUSH_S = 0.2  # the writer commits buffered requests at least this often
_BATCH = 500  # ... or as soon as this many are buffered

# Column order = RequestRecord field order (tests/unit/bench/test_store.py checks).
REQUEST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("point", "INTEGER"), ("index", "INTEGER"), ("intended_send", "DOUBLE"),
    ("actual_send", "DOUBLE"), ("end", "DOUBLE"), ("first_chunk", "DOUBLE"),
    ("first_token", "DOUBLE"), ("first_output", "DOUBLE"), ("last_token", "DOUBLE"),
    ("chunk_times", "DOUBLE[]"), ("prompt_tokens", "INTEGER"), ("completion_tokens", "INTEGER"),
    ("reasoning_tokens", "INTEGER"), ("cached_tokens", "INTEGER"),
    ("client_prompt_tokens", "INTEGER"), ("client_output_tokens", "INTEGER"),
    ("client_reasoning_tokens", "INTEGER"), ("max_tokens", "INTEGER"),
    ("response_bytes", "BIGINT"), ("status", "INTEGER"), ("error_kind", "VARCHAR"),
    ("error", "VARCHAR"))

POINT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_id", "VARCHAR"), ("point", "INTEGER"), ("mode", "VARCHAR"), ("concurrency", "INTEGER"),
    ("rate", "DOUBLE"), ("warmup", "INTEGER"), ("drain", "INTEGER"), ("stop_reason", "VARCHAR"),
    ("model", "VARCHAR"), ("gpu", "VARCHAR"), ("gpus", "INTEGER"),
    ("request_throughput", "DOUBLE"), ("output_token_throughput", "DOUBLE"),
    ("total_token_throughput", "DOUBLE"), ("isl_mean", "DOUBLE"), ("osl_mean", "DOUBLE"),
    ("ttft_p50", "DOUBLE"), ("itl_p50", "DOUBLE"), ("tpot_p50", "DOUBLE"), ("e2e_p50", "DOUBLE"),
    ("summary", "JSON"), ("cost", "JSON"), ("energy", "JSON"))

# One graded answer of an eval run per request (``truecost eval``); tokens, latency and the
# error kind stay in the request's row of ``requests`` (same run_id, point, index).
ANSWER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_id", "VARCHAR"), ("point", "INTEGER"), ("index", "INTEGER"),
    ("question_id", "VARCHAR"), ("domain", "VARCHAR"), ("grader", "VARCHAR"),
    ("reference", "VARCHAR"), ("status", "VARCHAR"), ("answer", "VARCHAR"),
    ("extracted", "VARCHAR"), ("correct", "BOOLEAN"), ("token_source", "VARCHAR"),
    ("judge_run", "VARCHAR"))

RUN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_id", "VARCHAR PRIMARY KEY"), ("started_at", "DOUBLE"), ("finished_at", "DOUBLE"),
    ("status", "VARCHAR"), ("error", "VARCHAR"), ("url", "VARCHAR"), ("model", "VARCHAR"),
    ("mode", "VARCHAR"), ("truecost_version", "VARCHAR"), ("config", "JSON"), ("notes", "JSON"))


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _ddl(table: str, cols: Sequence[tuple[str, str]], extra: str = "") -> str:
    return (f"CREATE TABLE IF NOT EXISTS {table} (" + ", ".join(f"{_q(n)} {t}" for n, t in cols)
            + extra + ")")


USAGE_IMPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("import_id", "VARCHAR PRIMARY KEY"), ("path", "VARCHAR"), ("format", "VARCHAR"),
    ("sha256", "VARCHAR"), ("imported_at", "DOUBLE"), ("rows", "BIGINT"), ("requests", "BIGINT"),
    ("bad_rows", "BIGINT"), ("skipped_rows", "BIGINT"), ("duplicate_rows", "BIGINT"),
    ("first_ts", "TIMESTAMP"), ("last_ts", "TIMESTAMP"), ("errors", "JSON"))

USAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("import_id", "VARCHAR"), ("line", "BIGINT"), ("request_id", "VARCHAR"), ("ts", "TIMESTAMP"),
    ("bucket_s", "INTEGER"), ("model", "VARCHAR"), ("provider", "VARCHAR"), ("requests", "BIGINT"),
    ("input_tokens", "BIGINT"), ("cached_tokens", "BIGINT"), ("output_tokens", "BIGINT"),
    ("reasoning_tokens", "BIGINT"), ("user", "VARCHAR"), ("tag", "VARCHAR"), ("spend_usd", "DOUBLE"))

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    _ddl("runs", RUN_COLUMNS),
    _ddl("points", POINT_COLUMNS, ", PRIMARY KEY (run_id, point)"),
    _ddl("requests", (("run_id", "VARCHAR"), *REQUEST_COLUMNS)),
    _ddl("energy_samples", (("run_id", "VARCHAR"), ("t", "DOUBLE"), ("gpu", "INTEGER"),
                            ("energy_mj", "BIGINT"))),
    _ddl("eval_answers", ANSWER_COLUMNS, ', PRIMARY KEY (run_id, point, "index")'),
    # RequestRecord.throttled, for the requests that were (a side table: no migrations exist)
    _ddl("throttles", (("run_id", "VARCHAR"), ("point", "INTEGER"), ("index", "INTEGER"),
                       ("throttled", "INTEGER"))),
    # a side table (existing tables get no new columns: there are no migrations)
    _ddl("run_tags", (("run_id", "VARCHAR"), ("tag", "VARCHAR")), ", PRIMARY KEY (run_id, tag)"),
    _ddl("usage_imports", USAGE_IMPORT_COLUMNS),
    _ddl("usage", USAGE_COLUMNS),
)
_JOIN_THROTTLES = (' LEFT JOIN throttles t ON t.run_id = r.run_id AND t.point = r.point AND '
                   't."index" = r."index"')
ABANDONED = "the benchmark and its store writer ended before the run finished (killed?)"


def default_path() -> Path:
    """``$TRUECOST_DB``, else ``$TRUECOST_HOME/truecost.duckdb`` (default ``~/.truecost``)."""
    return store_path()


class Store:
    """A connection to the store file. ``with Store() as s: s.runs()``."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise TruecostError(f"cannot create the folder of the result store {self.path}: "
                                f"{(e.strerror or type(e).__name__).lower()}; set TRUECOST_DB "
                                f"to a file in a writable folder") from None
        if self.path.is_dir():
            raise TruecostError(f"the result store {self.path} is a folder; set TRUECOST_DB to "
                                f"a file path")
        try:
            self.con = duckdb.connect(str(self.path))
        except duckdb.Error as e:
            if "lock" in str(e).lower():
                raise TruecostError(f"the result store {self.path} is in use by another process "
                                    f"(a bench still running?); wait for it, or set TRUECOST_DB "
                                    f"to another file") from None
            raise TruecostError(f"cannot open the result store {self.path}: "
                                f"{str(e).splitlines()[0]}") from None
        try:
            for stmt in _SCHEMA:
                self.con.execute(stmt)
            row = self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                self.con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
            elif row[0] != str(SCHEMA_VERSION):
                raise TruecostError(f"{self.path} has store schema {row[0]}; this truecost reads "
                                    f"schema {SCHEMA_VERSION}")
            # Whoever holds the file holds its lock, and a bench's writer holds it for the whole
            # run: a run still "running" here has lost its writer (killed with the benchmark).
            self.con.execute("UPDATE runs SET status = 'interrupted', error = coalesce(error, ?), "
                             "finished_at = coalesce(finished_at, ?) WHERE status = 'running'",
                             [ABANDONED, time.time()])
        except duckdb.Error as e:
            self.con.close()
            raise TruecostError(f"{self.path} is not a truecost result store "
                                f"({str(e).splitlines()[0]}); set TRUECOST_DB to another file") from None

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writes ------------------------------------------------------------------------------
    def add_run(self, run: dict[str, Any]) -> None:
        self._insert("runs", RUN_COLUMNS, [run])

    def add_point(self, point: dict[str, Any]) -> None:
        self.con.execute("DELETE FROM points WHERE run_id = ? AND point = ?",
                         [point["run_id"], point["point"]])
        self._insert("points", POINT_COLUMNS, [point])

    def finish_run(self, run_id: str, status: str, error: str | None = None,
                   notes: Sequence[str] | None = None) -> None:
        self.con.execute("UPDATE runs SET status = ?, error = ?, finished_at = ?, "
                         "notes = coalesce(?, notes) WHERE run_id = ?",
                         [status, error, time.time(), json.dumps(list(notes)) if notes is not None
                          else None, run_id])

    def reopen_run(self, run_id: str) -> None:
        """Mark a stored run running again (``truecost eval --resume``)."""
        self.con.execute("UPDATE runs SET status = 'running', error = NULL, finished_at = NULL "
                         "WHERE run_id = ?", [run_id])

    def add_answers(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert or replace graded answers (``ANSWER_COLUMNS``; a judge's verdict replaces the
        ungraded row of the same request)."""
        for r in rows:
            self.con.execute('DELETE FROM eval_answers WHERE run_id = ? AND point = ? AND '
                             '"index" = ?', [r["run_id"], r["point"], r["index"]])
        self._insert("eval_answers", ANSWER_COLUMNS, list(rows))

    def answers(self, run_id: str) -> list[dict[str, Any]]:
        """An eval run's graded answers in (point, index) order."""
        cur = self.con.execute('SELECT * FROM eval_answers WHERE run_id = ? ORDER BY point, '
                               '"index"', [run_id])
        return [dict(zip([d[0] for d in cur.description], row)) for row in cur.fetchall()]

    def add_requests(self, run_id: str, rows: Sequence[tuple]) -> None:
        """Insert request rows (``RequestRecord.to_row()``) in one statement. Scalars travel as
        lists; chunk times as text cast by DuckDB, 6x faster than binding a list per row."""
        if not rows:
            return
        params: dict[str, Any] = {"run_id": [run_id] * len(rows)}
        select = ["unnest($run_id)"]
        for i, (_, typ) in enumerate(REQUEST_COLUMNS):
            if typ == "DOUBLE[]":
                params[f"c{i}"] = ["[" + ",".join(map(repr, r[i])) + "]" for r in rows]
                select.append(f"unnest($c{i})::DOUBLE[]")
            else:
                params[f"c{i}"] = [r[i] for r in rows]
                select.append(f"unnest($c{i})::{typ}")
        self.con.execute("INSERT INTO requests SELECT " + ", ".join(select), params)

    def add_throttles(self, run_id: str, rows: Sequence[tuple[int, int, int]]) -> None:
        """(point, index, times throttled) of the requests that were throttled."""
        if rows:
            self.con.execute("INSERT INTO throttles SELECT $r, unnest($p), unnest($i), unnest($n)",
                             {"r": run_id, "p": [x[0] for x in rows], "i": [x[1] for x in rows],
                              "n": [x[2] for x in rows]})

    def add_samples(self, run_id: str, samples: Sequence[tuple[float, int, int]]) -> None:
        if samples:
            self.con.execute("INSERT INTO energy_samples SELECT $r, unnest($t), unnest($g), "
                             "unnest($e)", {"r": run_id, "t": [s[0] for s in samples],
                                            "g": [s[1] for s in samples],
                                            "e": [s[2] for s in samples]})

    def delete_run(self, run_id: str) -> int:
        """Remove a run's rows from every table that has a ``run_id`` column, in one
        transaction; returns the number of requests it held. An unknown id lists the nearest."""
        self.run(run_id)
        (n,) = self.con.execute("SELECT count(*) FROM requests WHERE run_id = ?",
                                [run_id]).fetchone()  # type: ignore[misc]
        tables = [t for (t,) in self.con.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'run_id' "
            "AND table_schema = 'main' ORDER BY table_name = 'runs', table_name").fetchall()]
        self.con.execute("BEGIN TRANSACTION")
        for t in tables:
            self.con.execute(f"DELETE FROM {_q(t)} WHERE run_id = ?", [run_id])
        self.con.execute("COMMIT")
        return int(n)

    def set_tags(self, run_id: str, add: Sequence[str] = (), remove: Sequence[str] = ()) -> None:
        self.run(run_id)
        for tag in add:
            self.con.execute("INSERT OR IGNORE INTO run_tags VALUES (?, ?)", [run_id, tag])
        for tag in remove:
            self.con.execute("DELETE FROM run_tags WHERE run_id = ? AND tag = ?", [run_id, tag])

    def tags(self) -> dict[str, list[str]]:
        """Run id → its tags, sorted."""
        out: dict[str, list[str]] = {}
        for run_id, tag in self.con.execute("SELECT run_id, tag FROM run_tags "
                                            "ORDER BY run_id, tag").fetchall():
            out.setdefault(run_id, []).append(tag)
        return out

    def _insert(self, table: str, cols: Sequence[tuple[str, str]], rows: list[dict]) -> None:
        names = [n for n, _ in cols]
        self.con.executemany(
            f"INSERT INTO {table} ({', '.join(map(_q, names))}) VALUES ({', '.join('?' * len(names))})",
            [[_jsonable(r.get(n)) if t == "JSON" else r.get(n) for n, t in cols] for r in rows])

    # -- reads -------------------------------------------------------------------------------
    def runs(self) -> list[dict[str, Any]]:
        """All runs, newest first, with their request and point counts."""
        rows = self.con.execute(
            "SELECT r.*, (SELECT count(*) FROM requests q WHERE q.run_id = r.run_id) AS requests, "
            "(SELECT count(*) FROM requests q WHERE q.run_id = r.run_id AND q.error_kind IS NULL) "
            "AS ok, (SELECT count(DISTINCT point) FROM requests q WHERE q.run_id = r.run_id) "
            "AS points FROM runs r ORDER BY started_at DESC")
        return [_decode(dict(zip([d[0] for d in rows.description], row))) for row in rows.fetchall()]

    def run(self, run_id: str) -> dict[str, Any]:
        """One run; an unknown id lists the nearest ones."""
        for r in self.runs():
            if r["run_id"] == run_id:
                return r
        raise UnknownNameError("run", run_id, [r["run_id"] for r in self.runs()])

    def points(self, run_id: str) -> list[dict[str, Any]]:
        cur = self.con.execute("SELECT * FROM points WHERE run_id = ? ORDER BY point", [run_id])
        return [_decode(dict(zip([d[0] for d in cur.description], row))) for row in cur.fetchall()]

    def requests(self, run_id: str, point: int | None = None) -> list[Any]:
        """The run's ``RequestRecord``s in (point, index) order."""
        from .bench.record import RequestRecord

        cols = ", ".join("r." + _q(n) for n, _ in REQUEST_COLUMNS)
        where = "r.run_id = ?" + (" AND r.point = ?" if point is not None else "")
        args = [run_id] + ([point] if point is not None else [])
        rows = self.con.execute(f"SELECT {cols}, t.throttled FROM requests r{_JOIN_THROTTLES} "
                                f"WHERE {where} ORDER BY r.point, r.{_q('index')}", args).fetchall()
        return [RequestRecord.from_row(r[:-1], r[-1]) for r in rows]

    def export(self, run_id: str, path: Path | str,
               fmt: Literal["json", "csv", "parquet"] = "json") -> Path:
        """Write a run's requests to ``path``: CSV and Parquet hold one row per request (DuckDB
        writes them); JSON is one document ``{"run", "points", "requests"}``. The file is
        written beside ``path`` and renamed into place; a folder is never overwritten, and a
        path that cannot be written is one ``InputError`` line."""
        if fmt not in ("json", "csv", "parquet"):
            raise InputError(f"unknown export format '{fmt}'; use json, csv or parquet")
        run = self.run(run_id)
        query = (f"SELECT r.*, coalesce(t.throttled, 0) AS throttled FROM requests r"
                 f"{_JOIN_THROTTLES} WHERE r.run_id = ? ORDER BY r.point, r.{_q('index')}")
        if fmt == "json":
            points = self.points(run_id)
            cur = self.con.execute(query, [run_id])
            names = [d[0] for d in cur.description]  # (a later execute would reset the cursor)
            doc = {"run": run, "points": points,
                   "requests": [dict(zip(names, row)) for row in cur.fetchall()]}
            answers = self.answers(run_id)
            if answers:  # an eval run: its graded answers too
                doc["answers"] = answers
            text = json.dumps(doc, indent=1, default=str) + "\n"
            return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"),
                                "export")

        def copy(tmp: Path) -> None:
            lit = "'" + run_id.replace("'", "''") + "'"
            target = "'" + str(tmp).replace("'", "''") + "'"
            try:
                self.con.execute(f"COPY ({query.replace('?', lit)}) TO {target} (FORMAT {fmt})")
            except duckdb.Error as e:
                raise OSError(str(e).splitlines()[0]) from None

        return write_atomic(path, copy, "export")


def _jsonable(v: Any) -> str | None:
    return None if v is None else json.dumps(v, default=str)


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for k in ("config", "notes", "summary", "cost", "energy"):
        if isinstance(row.get(k), str):
            row[k] = json.loads(row[k])
    return row


# -- the writer process ----------------------------------------------------------------------
class Writer:
    """Parent side of the writer process. ``put`` is cheap (a pickle and a queue put) and safe
    to call from the benchmark's event loop; a thread forwards the bytes to the child's stdin.

    >>> w = Writer(default_path()); w.put(("run", {...})); w.record(run_id, rec); w.close()
    """

    def __init__(self, path: Path | str | None = None) -> None:
        path = Path(path) if path is not None else default_path()
        self.proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(path)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.proc.stdout is not None and self.proc.stdin is not None
        line = self.proc.stdout.readline().decode(errors="replace").strip()
        if line != "ready":
            self.proc.stdin.close()
            self.proc.wait(10)
            self.proc.stdout.close()
            raise TruecostError(line.removeprefix("error: ") or
                                f"the store writer for {path} exited ({self.proc.returncode})")
        self._q: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._pump, name="truecost-store", daemon=True)
        self._thread.start()

    def put(self, msg: tuple) -> None:
        self._q.put(pickle.dumps(msg, protocol=5))

    def record(self, run_id: str, rec: Any) -> None:
        self.put(("req", run_id, rec.to_row(), rec.throttled))

    def _pump(self) -> None:
        fd = self.proc.stdin.fileno()  # type: ignore[union-attr]
        while True:
            items = [self._q.get()]
            with contextlib.suppress(queue.Empty):
                while len(items) < 1000:
                    items.append(self._q.get_nowait())
            data = b"".join(struct.pack("<I", len(b)) + b for b in items if b is not None)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            except OSError:  # the writer died; it reported on stderr
                return
            if None in items:
                return

    def close(self, timeout_s: float = 120.0) -> None:
        """Send what is queued, let the child flush and exit."""
        self._q.put(None)
        self._thread.join()
        with contextlib.suppress(OSError):
            self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait(timeout_s)
        self.proc.stdout.close()  # type: ignore[union-attr]


# The child imports this module without running truecost/__init__.py (which imports the whole
# API, 0.4 s): a bare package object whose __path__ is the real one lets the import system load
# truecost.store and truecost.errors alone. Same as ``python -m truecost.store PATH``, 3x faster.
_CHILD = (f"import sys, types; p = types.ModuleType('truecost'); p.__path__ = "
          f"[{str(Path(__file__).parent)!r}]; sys.modules['truecost'] = p; "
          f"from truecost.store import _serve; sys.exit(_serve(sys.argv[1]))")


def _frames(stream: Any) -> Iterator[tuple]:
    while True:
        head = stream.read(4)
        if len(head) < 4:
            return
        (n,) = struct.unpack("<I", head)
        body = stream.read(n)
        if len(body) < n:
            return
        yield pickle.loads(body)


def _serve(path: str) -> int:
    """The child: apply messages from stdin until EOF; runs left unfinished become
    ``interrupted`` (the benchmark died)."""
    # Ctrl-C and a group's SIGTERM reach the parent, which ends the run; we drain and stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        store = Store(path)
    except TruecostError as e:
        print(f"error: {e}", flush=True)
        return 1
    except Exception as e:  # noqa: BLE001 - said on the pipe as one line, never a traceback
        print(f"error: cannot open the result store {path}: {type(e).__name__}: {e}", flush=True)
        return 1
    print("ready", flush=True)
    inbox: queue.Queue[tuple | None] = queue.Queue()

    def read() -> None:
        for msg in _frames(sys.stdin.buffer):
            inbox.put(msg)
        inbox.put(None)

    threading.Thread(target=read, daemon=True).start()
    pending: dict[str, list[tuple]] = {}
    throttles: dict[str, list[tuple[int, int, int]]] = {}
    open_runs: set[str] = set()
    oldest = 0.0

    def flush() -> None:
        for run_id, rows in pending.items():
            store.add_requests(run_id, rows)
            store.add_throttles(run_id, throttles.pop(run_id, []))
        pending.clear()

    while True:
        timeout = max(0.0, oldest + FLUSH_S - time.monotonic()) if pending else None
        try:
            msg = inbox.get(timeout=timeout)
        except queue.Empty:
            flush()
            continue
        if msg is None:
            break
        kind = msg[0]
        if kind == "req":
            if not pending:
                oldest = time.monotonic()
            pending.setdefault(msg[1], []).append(msg[2])
            if len(msg) > 3 and msg[3]:  # point and index: the row's first two columns
                throttles.setdefault(msg[1], []).append((msg[2][0], msg[2][1], msg[3]))
            if sum(map(len, pending.values())) >= _BATCH:
                flush()
            continue
        flush()
        if kind == "run":
            store.add_run(msg[1])
            open_runs.add(msg[1]["run_id"])
        elif kind == "point":
            store.add_point(msg[1])
        elif kind == "samples":
            store.add_samples(msg[1], msg[2])
        elif kind == "answers":
            store.add_answers(msg[1])
        elif kind == "reopen":
            store.reopen_run(msg[1])
            open_runs.add(msg[1])
        elif kind == "finish":
            store.finish_run(*msg[1:])
            open_runs.discard(msg[1])
    flush()
    for run_id in open_runs:
        store.finish_run(run_id, "interrupted", "the benchmark process ended before the run finished")
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(_serve(sys.argv[1]))
