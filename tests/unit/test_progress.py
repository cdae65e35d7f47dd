"""Progress of long commands: what bench and calibrate report through ``truecost.progress``,
and how the CLI renderer prints it when stderr is not a terminal."""

from __future__ import annotations

import json

import pytest

from tests.fakeserver import MODEL, FakeServer, Script
from truecost.bench import run_bench
from truecost.cli import progress as cli_progress_module
from truecost.perf.calibrate import MeasuredPoint, calibrate
from truecost.progress import Progress, Task


class Recorder(Progress):
    """Keeps every task and note."""

    def __init__(self) -> None:
        self.tasks: list[Task] = []
        self.notes: list[str] = []

    def task(self, label: str, total: float | None = None) -> Task:
        t = Task(label, total)
        self.tasks.append(t)
        return t

    def note(self, text: str) -> None:
        self.notes.append(text)


@pytest.fixture
def fake():
    with FakeServer() as server:
        yield server


def test_bench_reports_each_point_done_of_total(fake):
    rec = Recorder()
    run_bench(fake.url("fast"), MODEL, concurrency=[1, 2], requests=6, isl=8, osl=2,
              store=False, progress=rec)
    # a seed drawn for the run is shown once, with the first point
    assert rec.tasks[0].label.startswith("point 1/2: concurrency 1, 6 requests (seed ")
    assert rec.tasks[0].label.endswith(" sends the same prompts again)")
    assert [(t.label, t.total, t.done, t.errors, t.closed) for t in rec.tasks[1:]] == [
        ("point 2/2: concurrency 2, 6 requests", 6, 6, 0, True)]
    # each point's summary line goes to the renderer too (measured window: drain = concurrency)
    assert [n.split(" ok")[0].strip() for n in rec.notes] == ["5/5", "4/4"]


def test_bench_counts_errors_as_they_happen(fake):
    fake.add("flaky", Script(limit=2, then=Script(kind="status", status=500)))
    rec = Recorder()
    r = run_bench(fake.url("flaky"), MODEL, rate=50, requests=5, isl=8, osl=2, store=False,
                  progress=rec)
    (t,) = rec.tasks
    assert (t.total, t.done, t.errors) == (5, 5, 3)  # the server fails every request after two
    assert r.points[0].summary.errors == {"http_500": 3}


def test_calibrate_advances_once_per_fit():
    rec = Recorder()
    # two architectures: the full fit, then one fit per architecture held out = 3 fits
    pts = [MeasuredPoint(1, 512, 128, 95.0, 0.0105), MeasuredPoint(8, 512, 128, 700.0),
           MeasuredPoint(32, 512, 128, 2400.0),
           MeasuredPoint(1, 512, 128, 30.0, 0.033, model="llama-3.1-70b", precision="fp8")]
    calibrate(pts, "llama-3.1-8b", "h100-sxm", progress=rec, force=True)
    (t,) = rec.tasks
    assert (t.total, t.done, t.closed) == (3, 3, True)
    assert t.label.startswith("calibrate: fitting ") and t.label.endswith(" terms to 4 points")


def test_a_refused_fit_ends_its_task_as_failed_and_prints_no_done_line(capsys):
    from truecost.errors import InputError
    from truecost.progress import Task

    closes: list[bool] = []

    class Watch(Recorder):
        def task(self, label: str, total: float | None = None) -> Task:
            t = super().task(label, total)
            t._closed = closes.append  # type: ignore[method-assign]
            return t

    # one point 100x too fast for an 8B model on one H100: no physical terms explain it
    with pytest.raises(InputError, match="calibrate refuses to save"):
        calibrate([MeasuredPoint(32, 512, 128, 240_000.0)], "llama-3.1-8b", "h100-sxm", progress=Watch())
    assert closes == [True]


def test_plain_lines_show_rate_errors_eta_then_done(capsys, monkeypatch):
    clock = iter([100.0, 102.0, 104.0, 110.0])  # task start, two updates, close
    monkeypatch.setattr(cli_progress_module._LineTask, "clock", staticmethod(lambda: next(clock)))
    monkeypatch.setattr(cli_progress_module, "LINE_EVERY_S", 1.0)
    p = cli_progress_module.cli_progress()  # stderr is captured: not a terminal
    t = p.task("point 1/1: concurrency 4, 40 requests", 40)
    t.advance(10)
    t.advance(10, errors=2)
    t.close()
    p.stop()
    err = capsys.readouterr().err.splitlines()
    # 10 done in 2 s = 5/s, 30 left -> 6 s; 20 in 4 s = 5/s, 20 left -> 4 s; 20 in 10 s at close
    assert err == ["point 1/1: concurrency 4, 40 requests: 10/40 (5/s, ETA 6 s)",
                   "point 1/1: concurrency 4, 40 requests: 20/40 (5/s, 2 errors, ETA 4 s)",
                   "point 1/1: concurrency 4, 40 requests: 20/40 (2/s, 2 errors) done"]


def test_quiet_silences_progress_and_json_stays_clean(cli, fake):
    loud = cli("bench", fake.url("fast"), "--model", MODEL, "--seed", "1", "--requests", "4", "--isl", "8",
               "--osl", "2", "--json")
    assert loud.code == 0
    json.loads(loud.stdout)  # stdout is only the JSON document
    assert "point 1/1: concurrency 1, 4 requests: 4/4 (" in loud.stderr
    quiet = cli("bench", fake.url("fast"), "--model", MODEL, "--requests", "4", "--isl", "8",
                "--osl", "2", "--json", "--quiet")
    assert "point 1/1" not in quiet.stderr
