"""truecost's load generator against guidellm's and aiperf's, side by side, in one run.

Every harness drives the same server (``fastserver.py``: a whole SSE reply in one write, so the
harness, not the server, is the bottleneck) on the same machine, with the same prompts sizes and
reply lengths, and every harness is measured by the same oracle: the arrival time of each request
at the server (``GET /stats``), never the harness's own report. Three scenarios:

* ``rate``: closed loop, 32 requests in flight, 16-token replies. The request rate the harness
  sustains = arrivals / time over the middle 90% of arrivals (start-up and the last round left
  out).
* ``tokens``: the same with 1024-token replies (1024 SSE events each): streamed tokens/s the
  harness can parse = sustained request rate x 1024.
* ``timing``: open loop, a constant 50 requests/s. Send-timing error of request i = its arrival
  - i/50 s, minus the smallest such value (the schedule's origin is each harness's own); p50 and
  p99 over all requests. Includes loopback and server accept time, the same for everyone.

Numbers depend on the machine; the ratios (harness / truecost) are what to compare. The
harnesses take turns, round after round (``--rounds``, default 3), and each cell is the median
round, so a burst of background load hits them alike. A harness that is not installed
(``benchmarks/setup_peers.sh``) or fails is reported as such, never guessed.

    .venv/bin/python benchmarks/compare_harnesses.py            # ~10 min on 2 cores
    .venv/bin/python benchmarks/compare_harnesses.py --quick    # a quarter of the requests
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PEERS = HERE / ".venv"
MODEL = "fast-model"  # what fastserver.py calls itself
CONCURRENCY = 32
RATE = 50.0  # requests/s of the timing scenario: well below every harness's maximum here
ISL = 16


@dataclass(frozen=True)
class Scenario:
    name: str
    closed: bool  # closed loop at CONCURRENCY, else constant RATE
    osl: int
    n: int


def scenarios(quick: bool) -> list[Scenario]:
    k = 4 if quick else 1
    return [Scenario("rate", True, 16, 4000 // k), Scenario("tokens", True, 1024, 400 // k),
            Scenario("timing", False, 16, 1000 // k)]


# -- the harnesses ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Harness:
    name: str
    exe: Path
    version: Callable[[], str]
    argv: Callable[[Scenario, str, Path], list[str]]


def _pip_version(venv: Path, dist: str) -> str:
    out = subprocess.run([str(venv / "bin" / "python"), "-c",
                          f"import importlib.metadata as m; print(m.version('{dist}'))"],
                         capture_output=True, text=True)
    return out.stdout.strip() or "?"


def _truecost(s: Scenario, base: str, work: Path) -> list[str]:
    load = (["--concurrency", str(CONCURRENCY)] if s.closed
            else ["--rate", str(RATE)])
    return [str(REPO / ".venv" / "bin" / "truecost"), "bench", f"{base}/v1", "--model", MODEL,
            *load, "--requests", str(s.n), "--isl", str(ISL), "--osl", str(s.osl), "--json"]


def _guidellm(s: Scenario, base: str, work: Path) -> list[str]:
    profile = ({"kind": "concurrent", "streams": [CONCURRENCY]} if s.closed
               else {"kind": "constant", "rate": [RATE]})
    scenario = {"spec": {
        "backend": {"kind": "openai_http", "target": base, "model": MODEL,
                    "request_format": "/v1/chat/completions"},
        "profile": profile,
        "constraints": [{"kind": "max_requests", "count": s.n}],
        "tokenizer": {"kind": "huggingface_auto", "model": str(PEERS / "tokenizer")},
        "data": [{"kind": "synthetic_text", "prompt_tokens": ISL, "output_tokens": s.osl}],
        "outputs": [{"kind": "json", "path": str(work / "guidellm.json")}]}}
    path = work / f"guidellm-{s.name}.json"
    path.write_text(json.dumps(scenario))
    return [str(PEERS / "guidellm" / "bin" / "guidellm"), "run", "--scenario", str(path),
            "--disable-progress"]


def _aiperf(s: Scenario, base: str, work: Path) -> list[str]:
    load = (["--concurrency", str(CONCURRENCY)] if s.closed
            else ["--request-rate", str(RATE), "--arrival-pattern", "constant"])
    return [str(PEERS / "aiperf" / "bin" / "aiperf"), "profile", "-m", MODEL, "--url", base,
            "--endpoint-type", "chat", "--streaming", *load, "--request-count", str(s.n),
            "--prompt-input-tokens-mean", str(ISL), "--prompt-output-tokens-mean", str(s.osl),
            "--tokenizer", str(PEERS / "tokenizer"), "--random-seed", "1",
            "--no-server-metrics", "--no-gpu-telemetry", "--ui", "none",
            "--output-artifact-dir", str(work / f"aiperf-{s.name}")]


def harnesses() -> list[Harness]:
    return [
        Harness("truecost", REPO / ".venv" / "bin" / "truecost",
                lambda: _pip_version(REPO / ".venv", "truecost"), _truecost),
        Harness("guidellm", PEERS / "guidellm" / "bin" / "guidellm",
                lambda: _pip_version(PEERS / "guidellm", "guidellm"), _guidellm),
        Harness("aiperf", PEERS / "aiperf" / "bin" / "aiperf",
                lambda: _pip_version(PEERS / "aiperf", "aiperf"), _aiperf),
    ]


# -- the server and the oracle ---------------------------------------------------------------
class Server:
    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, str(HERE / "fastserver.py"), "0"],
                                     stdout=subprocess.PIPE, text=True)
        port = int(self.proc.stdout.readline())  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"

    def _call(self, method: str, path: str) -> dict:
        req = urllib.request.Request(self.base + path, method=method)
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def reset(self) -> None:
        self._call("POST", "/reset")

    def arrivals(self) -> list[float]:
        return sorted(self._call("GET", "/stats")["arrivals"])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.proc.stdout.close()  # type: ignore[union-attr]


def sustained_rate(arrivals: list[float]) -> float | None:
    """Arrivals per second over the middle 90% of them."""
    lo, hi = len(arrivals) // 20, len(arrivals) - 1 - len(arrivals) // 20
    if hi - lo < 10:
        return None
    return (hi - lo) / (arrivals[hi] - arrivals[lo])


def timing_error(arrivals: list[float], rate: float) -> tuple[float, float]:
    """p50, p99 of (arrival_i - i/rate) - min over i, in seconds."""
    e = [a - i / rate for i, a in enumerate(arrivals)]
    base = min(e)
    err = sorted(x - base for x in e)
    return statistics.median(err), err[min(len(err) - 1, round(0.99 * (len(err) - 1)))]


@dataclass
class Result:
    ok: bool
    value: float | None = None  # req/s (rate), tok/s (tokens), p50 s (timing)
    p99: float | None = None  # timing only
    wall_s: float | None = None
    note: str = ""
    stdout: str = ""  # what the harness printed (truecost: its --json report)


def run(h: Harness, s: Scenario, server: Server, work: Path, timeout_s: float) -> Result:
    server.reset()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env.update(TRUECOST_HOME=str(work / "truecost-home"), COLUMNS="200", NO_COLOR="1")
    t = time.monotonic()
    try:
        out = subprocess.run(h.argv(s, server.base, work), capture_output=True, text=True,
                             timeout=timeout_s, env=env, cwd=work)
    except subprocess.TimeoutExpired:
        return Result(False, note=f"timed out after {timeout_s:.0f} s")
    wall = time.monotonic() - t
    arrivals = server.arrivals()
    if out.returncode != 0 or len(arrivals) < s.n:
        lines = (out.stderr + out.stdout).strip().splitlines()
        why = next((ln for ln in reversed(lines) if "rror" in ln), lines[-1] if lines else "")
        return Result(False, wall_s=wall, note=f"exit {out.returncode}, {len(arrivals)}/{s.n} "
                                               f"requests: {' '.join(why.split())[:160]}")
    if s.closed:
        rate = sustained_rate(arrivals)
        return Result(True, rate * (s.osl if s.name == "tokens" else 1) if rate else None,
                      wall_s=wall, stdout=out.stdout)
    p50, p99 = timing_error(arrivals, RATE)
    return Result(True, p50, p99, wall_s=wall, stdout=out.stdout)


# -- report ----------------------------------------------------------------------------------
def _fmt(x: float | None, unit: str) -> str:
    if x is None:
        return "-"
    return f"{x * 1e3:.2f} ms" if unit == "s" else f"{x:,.0f}"


def report(results: dict[str, dict[str, Result]], versions: dict[str, str],
           scen: list[Scenario]) -> str:
    base = results["truecost"]
    lines = [f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
             f"{platform.python_version()}; server: benchmarks/fastserver.py on loopback",
             f"scenarios: rate = closed loop c={CONCURRENCY}, {scen[0].n} requests, 16-token "
             f"replies; tokens = c={CONCURRENCY}, {scen[1].n} requests, 1024-token replies; "
             f"timing = constant {RATE:g} req/s, {scen[2].n} requests", "",
             "| harness | version | req/s (rate) | x truecost | tok/s (tokens) | x truecost "
             "| send error p50 | p99 |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    notes = []
    for name, by in results.items():
        cells = [name, versions.get(name, "-")]
        for key in ("rate", "tokens"):
            r = by.get(key)
            ok = r is not None and r.ok and r.value
            cells.append(_fmt(r.value, "") if ok else "failed")
            b = base.get(key)
            cells.append(f"{r.value / b.value:.2f}" if ok and b and b.ok and b.value else "-")
        r = by.get("timing")
        cells += ([_fmt(r.value, "s"), _fmt(r.p99, "s")] if r and r.ok else ["failed", "-"])
        lines.append("| " + " | ".join(cells) + " |")
        notes += [f"{name} {k}: {r.note}" for k, r in by.items() if r.note]
    return "\n".join(lines + ([""] + notes if notes else []))


def median_result(runs: list[Result]) -> Result:
    """The run with the median value (the worst timing error for an even count's upper median);
    a failure if any run failed."""
    bad = next((r for r in runs if not r.ok), None)
    if bad is not None:
        return bad
    ranked = sorted(runs, key=lambda r: r.value or 0.0)
    return ranked[len(ranked) // 2]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a quarter of the requests")
    ap.add_argument("--rounds", type=int, default=3,
                    help="rounds, the harnesses taking turns in each; the median is reported")
    ap.add_argument("--only", nargs="*", help="harness names to run (default: all installed)")
    ap.add_argument("--json", type=Path, help="also write every run's result here")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per harness run")
    args = ap.parse_args()
    scen = scenarios(args.quick)
    chosen = [h for h in harnesses() if not args.only or h.name in args.only]
    missing = {h.name: {"rate": Result(False, note="not installed (run benchmarks/setup_peers.sh)")}
               for h in chosen if not h.exe.exists()}
    ready = [h for h in chosen if h.exe.exists()]
    versions = {h.name: h.version() for h in ready}
    runs: dict[str, dict[str, list[Result]]] = {h.name: {s.name: [] for s in scen} for h in ready}
    server = Server()
    try:
        with tempfile.TemporaryDirectory(prefix="truecost-harness-") as tmp:
            for k in range(args.rounds):
                for h in ready:
                    for s in scen:
                        work = Path(tmp) / f"{h.name}-{s.name}-{k}"
                        work.mkdir()
                        r = run(h, s, server, work, args.timeout)
                        runs[h.name][s.name].append(r)
                        print(f"round {k + 1}/{args.rounds} {h.name} {s.name}: "
                              f"{'ok' if r.ok else 'FAILED'} {r.value} {r.p99 or ''} "
                              f"({r.wall_s or 0:.1f} s) {r.note}", file=sys.stderr, flush=True)
    finally:
        server.stop()
    results = {name: {key: median_result(rs) for key, rs in by.items()}
               for name, by in runs.items()}
    results.update(missing)
    if "truecost" not in results:
        results = {"truecost": {}, **results}
    print(f"rounds: {args.rounds} (median of each)")
    print(report(results, versions, scen))
    if args.json:
        args.json.write_text(json.dumps({h: {k: [{**r.__dict__, "stdout": ""} for r in rs] for k, rs in by.items()}
                                         for h, by in runs.items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
