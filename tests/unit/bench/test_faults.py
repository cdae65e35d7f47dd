"""A hostile or failing server, and a killed benchmark, against the real client, runner, store
and CLI: memory stays bounded under an endless stream, ``--timeout`` bounds wall time, 429 with
Retry-After is honoured (and counted), an echoed API key reaches no sink in any form, a killed
process group leaves no run ``running``, and every failure says its cause."""

from __future__ import annotations

import email.utils
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.fakeserver import MODEL, FakeServer, Script
from truecost.bench import client, runner
from truecost.bench.client import retry_after_s
from truecost.bench.distributed import check_reachable
from truecost.bench.run import run_bench
from truecost.errors import EndpointError, InputError
from truecost.store import Store

from ...conftest import REPO
from .test_store import open_when_free

SMALL = {"isl": 8, "osl": 4}


def _rss_bytes(pid: int) -> int:
    """Resident set size of a live process (Linux /proc), 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _peak_rss(args: list[str], env: dict[str, str]) -> tuple[int, int, str]:
    """Run ``python -m truecost ARGS`` and sample its RSS every 10 ms: (exit code, peak, stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "truecost", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _rss_bytes(proc.pid))
        time.sleep(0.01)
    with proc.stderr:
        return proc.returncode, peak, proc.stderr.read().decode()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="samples RSS from /proc")
def test_an_endless_stream_is_cut_at_the_byte_cap_and_memory_stays_bounded(fake, tmp_path):
    cap = 16 * 2**20
    env = {**os.environ, "TRUECOST_DB": str(tmp_path / "s.duckdb"),
           "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    common = ["--model", MODEL, "--requests", "3", "--isl", "8", "--osl", "4",
              "--max-response-bytes", str(cap), "--timeout-s", "30", "--quiet"]
    code, baseline, err = _peak_rss(["bench", fake.url("fast"), *common], env)
    assert code == 0, err
    code, peak, err = _peak_rss(["bench", fake.url("endless"), *common], env)
    assert (code, err) == (1, f"error: all 3 requests failed (too_large x3); most common: the "
                              f"response passed {cap:,} bytes (--max-response-bytes, counting 100 "
                              f"per read) and was cut off\n")
    print(f"\nendless stream, --max-response-bytes {cap / 2**20:.0f} MiB: peak RSS "
          f"{peak / 2**20:.0f} MiB; the same bench of finite replies: {baseline / 2**20:.0f} MiB")
    # One response in flight holds at most the cap; 32 MiB covers allocator slack and the
    # event loop's own buffers. Without the cap the same run grows without bound (GiBs).
    assert peak - baseline < cap + 32 * 2**20, (peak / 2**20, baseline / 2**20)


def test_timeout_bounds_the_wall_time_of_an_endless_stream(fake):
    t0 = time.perf_counter()
    with pytest.raises(EndpointError) as e:
        run_bench(fake.url("endless"), MODEL, requests=2, timeout_s=0.5,
                  max_response_bytes=2**40, store=False, **SMALL)
    elapsed = time.perf_counter() - t0
    assert str(e.value) == ("all 2 requests failed (timeout x2); most common: no complete "
                            "response within 0.5 s")
    assert elapsed < 2 * 0.5 + 2.0  # two requests in turn, plus start-up; never the parsing


def test_a_parse_past_the_deadline_stops():
    reads = [b'data: {"choices":[{"delta":{"content":"t"}}]}\n\n' * 10_000]
    late = client.parse_stream([0.0], reads, deadline=time.perf_counter() - 1)
    assert late.timed_out and late.events == 0
    on_time = client.parse_stream([0.0], reads, deadline=time.perf_counter() + 60)
    assert not on_time.timed_out and on_time.events == 10_000


def test_retry_after_is_waited_out_counted_and_bounded(fake):
    fake.scripts["throttle"] = Script(kind="status", status=429, retry_after="0.3", limit=2,
                                      then=Script())
    r = run_bench(fake.url("throttle"), MODEL, requests=2, drain=0, store=False, **SMALL)
    sent = [x.t_perf for x in fake.received if x.path.startswith("/throttle/")]
    assert len(sent) == 4  # request 0: two 429s, then served; request 1: served
    assert sent[1] - sent[0] >= 0.3 and sent[2] - sent[1] >= 0.3  # never before Retry-After
    (p,) = r.points
    assert (p.summary.ok, p.summary.throttled, p.summary.errors) == (2, 2, {})
    assert any(n.startswith("c=1: the server throttled 2 time(s)") for n in r.notes)

    fake.scripts["always"] = Script(kind="status", status=429, retry_after="0.05")
    with pytest.raises(EndpointError) as e:
        run_bench(fake.url("always"), MODEL, requests=1, drain=0, store=False, **SMALL)
    assert str(e.value) == ("all 1 requests failed (http_429 x1); most common: HTTP 429: "
                            "scripted 429 (still throttled after 3 resends following Retry-After)")

    fake.scripts["later"] = Script(kind="status", status=503, retry_after="3600")
    with pytest.raises(EndpointError) as e:
        run_bench(fake.url("later"), MODEL, requests=1, drain=0, store=False, **SMALL)
    assert str(e.value).endswith("(Retry-After 3600 s: beyond the 60 s truecost waits or this "
                                 "request's --timeout-s)")


def test_retry_after_can_be_turned_off_for_pure_load_tests(fake):
    fake.scripts["throttle"] = Script(kind="status", status=429, retry_after="0.3", limit=1,
                                      then=Script())
    r = run_bench(fake.url("throttle"), MODEL, requests=2, drain=0, retry_after=False,
                  store=False, **SMALL)
    (p,) = r.points
    assert (p.summary.ok, p.summary.throttled, p.summary.errors) == (1, 0, {"http_429": 1})


def test_retry_after_values():
    assert retry_after_s("2") == 2.0 and retry_after_s(" 1.5 ") == 1.5
    assert retry_after_s("-3") == 0.0  # in the past: now
    future = email.utils.formatdate(time.time() + 5, usegmt=True)  # RFC 9110 HTTP-date
    assert 3.5 < retry_after_s(future) <= 5.0  # whole seconds in the date
    for bad in (None, "", "soon", "nan", "inf", "Mon, 99 Foo 2025"):
        assert retry_after_s(bad) is None, bad


KEY = "sk-Test-Secret-0042"  # mixed case: its upper- and lower-case echoes differ from it


def _texts_of_store(db: Path) -> str:
    """Every value of every table of the store, as text (DuckDB compresses its file, so a
    byte search of the file alone could miss a kept string)."""
    con = duckdb.connect(str(db), read_only=True)
    out = []
    for (table,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
        out += [repr(row) for row in con.execute(f'SELECT * FROM "{table}"').fetchall()]
    con.close()
    return "\n".join(out)


@pytest.mark.parametrize("form", ["same", "upper", "lower"])
def test_an_echoed_key_reaches_no_sink_in_any_form(cli, fake, tmp_path, monkeypatch, form):
    db = tmp_path / "s.duckdb"
    monkeypatch.setenv("TRUECOST_DB", str(db))
    monkeypatch.setenv("TRUECOST_API_KEY", KEY + " \n")  # pasted with a trailing newline
    fake.scripts["http"] = Script(kind="status", status=500, echo_key=form)
    fake.scripts["event"] = Script(echo_key=form)
    fake.scripts["bad"] = Script(kind="malformed", echo_key=form)
    outputs = []
    for script in ("http", "event", "bad"):
        r = cli("bench", fake.url(script), "--model", MODEL, "--quiet", "--requests", "3", "--drain", "0",
                "--isl", "4", "--osl", "2")
        assert r.code == 1 and r.stderr.startswith("error: "), r.stderr
        outputs += [r.stdout, r.stderr]
    echoed = {"same": KEY, "upper": KEY.upper(), "lower": KEY.lower()}[form]
    assert all(x.authorization == f"Bearer {KEY}" for x in fake.received)  # sent stripped
    runs = json.loads(cli("runs", "list", "--json").stdout)
    assert len(runs) == 3
    for run in runs:
        shown = cli("runs", "show", run["run_id"], "--json")
        outputs += [shown.stdout, shown.stderr]
        for fmt in ("json", "csv", "parquet"):
            out = tmp_path / f"{run['run_id']}.{fmt}"
            assert cli("runs", "export", run["run_id"], "-f", fmt, "-o", str(out)).code == 0
            outputs.append(out.read_bytes().decode("latin-1"))
    assert "***" in "".join(outputs)  # the servers did echo it: the scrubber masked it
    outputs += [_texts_of_store(db), db.read_bytes().decode("latin-1")]
    for text in outputs:
        assert KEY.lower() not in text.lower(), echoed


@pytest.mark.parametrize("key", ["sk-a b", "sk-a\nb", "sk-a\tb"])
def test_a_key_with_whitespace_inside_is_refused_without_printing_it(cli, monkeypatch, key):
    monkeypatch.setenv("TRUECOST_API_KEY", key)
    r = cli("bench", "http://127.0.0.1:9/v1", "--model", MODEL)
    assert (r.code, r.stdout) == (1, "")
    assert r.stderr == ("error: TRUECOST_API_KEY has whitespace or a control character inside "
                        "it; set it to the key alone\n")


def _bench_in_its_own_group(url: str, db: Path) -> subprocess.Popen:
    env = {**os.environ, "TRUECOST_DB": str(db), "TRUECOST_API_KEY": KEY,
           "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-m", "truecost", "bench", url, "--model", MODEL, "--concurrency", "2",
         "--duration-s", "60", "--isl", "8", "--osl", "4"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def _wait_for_requests(fake: FakeServer, proc: subprocess.Popen, n: int) -> None:
    end = time.time() + 30
    while len(fake.received) < n and time.time() < end and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, proc.stderr.read().decode()
    time.sleep(0.5)  # past the writer's 0.2 s flush: some batches are committed


def test_sigterm_to_the_process_group_ends_the_run_as_interrupted(fake, tmp_path):
    db = tmp_path / "term.duckdb"
    proc = _bench_in_its_own_group(fake.url("normal"), db)
    try:
        _wait_for_requests(fake, proc, 40)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # what `timeout 60 truecost bench ...` sends
        code = proc.wait(30)
    with proc.stderr:
        assert (code, proc.stderr.read().decode()) == (
            130, "error: interrupted (Ctrl-C or SIGTERM); a benchmark keeps what it measured "
                 "(truecost runs list)\n")
    with open_when_free(db) as s:
        (run,) = s.runs()
        assert (run["status"], run["error"]) == ("interrupted", "signal 15 (SIGTERM)")
        assert len(s.requests(run["run_id"])) >= 30


def test_sigkill_to_the_process_group_is_marked_interrupted_on_the_next_open(fake, tmp_path):
    db = tmp_path / "kill.duckdb"
    fake.scripts["event"] = Script(echo_key="same", itl_s=0.002)  # every reply echoes the key
    proc = _bench_in_its_own_group(fake.url("event"), db)
    try:
        _wait_for_requests(fake, proc, 40)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the benchmark and its store writer, at once
        proc.wait(30)
        proc.stderr.close()
    time.sleep(0.2)
    wal = Path(f"{db}.wal")
    if wal.exists():  # what the writer committed but never checkpointed
        assert KEY.lower() not in wal.read_bytes().decode("latin-1").lower()
    with Store(db) as s:  # no writer holds the file: the run lost it
        (run,) = s.runs()
        recs = s.requests(run["run_id"])
    assert run["status"] == "interrupted"
    assert run["error"] == ("the benchmark and its store writer ended before the run finished "
                            "(killed?)")
    assert recs and all(r.error_kind == "stream_error" and "***" in r.error for r in recs)
    assert KEY.lower() not in _texts_of_store(db).lower()


def test_a_bug_inside_a_request_task_is_said_not_swallowed(cli, fake, monkeypatch):
    async def broken(*args, **kwargs):
        raise TypeError("boom")

    monkeypatch.setattr(runner, "send", broken)
    r = cli("bench", fake.url("normal"), "--model", MODEL, "--quiet", "--requests", "3")
    assert (r.code, r.stdout) == (1, "")
    assert r.stderr == ("error: internal error in truecost (TypeError: boom); this is a bug in "
                        "truecost: please report it with the command you ran\n")


def test_all_failed_names_the_commonest_cause(cli, fake):
    fake.scripts["mixed"] = Script(kind="status", status=500, limit=1,
                                   then=Script(kind="status", status=429))
    r = cli("bench", fake.url("mixed"), "--model", MODEL, "--quiet", "--requests", "5", "--drain", "0")
    assert r.stderr == ("error: all 5 requests failed (http_429 x4, http_500 x1); most common: "
                        "HTTP 429: scripted 429\n")


def test_https_to_a_plain_http_server_fails_in_seconds(fake, monkeypatch):
    monkeypatch.setattr(client, "CONNECT_TIMEOUT_S", 0.5)
    t0 = time.perf_counter()
    with pytest.raises(EndpointError) as e:
        run_bench(fake.url("normal").replace("http://", "https://"), MODEL, requests=2,
                  timeout_s=60, store=False, **SMALL)
    assert time.perf_counter() - t0 < 5
    assert str(e.value) == (f"cannot connect to https://127.0.0.1:{fake.port}/normal/v1/chat/"
                            f"completions: no connection within 0.5 s (TLS handshake included: "
                            f"does the server speak plain http://?)")


def test_an_unreachable_ray_address_fails_in_seconds(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    for address in ("127.0.0.1:1", "ray://127.0.0.1:1"):
        t0 = time.perf_counter()
        with pytest.raises(InputError) as e:
            check_reachable(address)
        assert time.perf_counter() - t0 < 3
        assert str(e.value) == (f"cannot reach the Ray cluster at '{address}' (127.0.0.1:1): "
                                f"connection refused; is Ray running there (ray start --head)?")
