"""How fast truecost's load generator is, by itself: the README's "The harness itself" figures.

Against ``fastserver.py`` (a whole SSE reply in one write, so the client is the bottleneck), on
this machine, in one run:

1. open loop at 100, 500, 1000 and 2000 requests/s and closed loop at 32 and 128 in flight
   (``truecost.bench.runner.run_shard``, 64-token prompts, 16-token replies): the rate achieved
   (requests / measured window), the send error |actual − intended| p50 / p99, and the client's
   CPU time per request (process CPU, the server runs in another process);
2. open loop at 2000 requests/s with connections capped (512, the default) and uncapped: the most
   connections open at once, as the server counts them;
3. the SSE parser: microseconds per event for a 1024-event stream (``client.parse_stream``);
4. aiohttp (truecost's client) against httpx: CPU per streamed 16-token request, one at a time.

    .venv/bin/python benchmarks/harness_load.py           # ~2 min on 2 cores
    .venv/bin/python benchmarks/harness_load.py --quick   # a fifth of the requests

Absolute numbers depend on the machine and on what else it runs; the script prints them as the
README shows them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from compare_harnesses import Server  # noqa: E402
from fastserver import MODEL, _stream  # noqa: E402

from truecost.bench.client import Endpoint, parse_stream  # noqa: E402
from truecost.bench.metrics import percentile, summarize  # noqa: E402
from truecost.bench.runner import run_shard  # noqa: E402
from truecost.bench.schedule import constant  # noqa: E402
from truecost.bench.workload import synthetic  # noqa: E402

ISL, OSL = 64, 16


def _stats(server: Server) -> dict:
    with urllib.request.urlopen(server.base + "/stats", timeout=10) as r:
        return json.loads(r.read())


def load_point(server: Server, rate: float | None, concurrency: int | None, n: int,
               max_connections: int = 512) -> dict:
    server.reset()
    ep = Endpoint.of(server.base + "/v1", MODEL)
    specs = synthetic(n, ISL, OSL, seed=1)
    offsets = constant(rate, n) if rate else None
    cpu = time.process_time()
    out = run_shard(ep, specs, offsets, concurrency, time.time() + 0.3, max_connections=max_connections)
    cpu = time.process_time() - cpu
    recs = out.records
    s = summarize(recs)
    lag = [abs(r.actual_send - r.intended_send) for r in recs if r.intended_send is not None]
    return {"achieved": s.request_throughput, "ok": s.ok, "n": n,
            "lag_p50": percentile(lag, 50) if lag else None,
            "lag_p99": percentile(lag, 99) if lag else None,
            "cpu_per_request": cpu / n, "peak_connections": _stats(server)["connections"]["peak"]}


def parse_us_per_event(events: int = 1024, repeat: int = 200) -> float:
    raw = _stream(True, events)
    body = raw[raw.find(b"\r\n\r\n") + 4:]
    reads = [body[i:i + 65536] for i in range(0, len(body), 65536)]
    times = [float(i) for i in range(len(reads))]
    parse_stream(times, reads)  # warm up
    t = time.perf_counter()
    for _ in range(repeat):
        parse_stream(times, reads)
    return (time.perf_counter() - t) / repeat / (events + 2) * 1e6  # + usage and [DONE]


async def _aiohttp_requests(url: str, body: bytes, n: int) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as s:
        for _ in range(n):
            async with s.post(url, data=body, headers={"content-type": "application/json"}) as r:
                async for _chunk in r.content.iter_any():
                    pass


async def _httpx_requests(url: str, body: bytes, n: int) -> None:
    import httpx

    async with httpx.AsyncClient() as c:
        for _ in range(n):
            async with c.stream("POST", url, content=body,
                                headers={"content-type": "application/json"}) as r:
                async for _chunk in r.aiter_bytes():
                    pass


def client_cpu_ms(server: Server, n: int) -> dict[str, float]:
    url = server.base + "/v1/chat/completions"
    body = json.dumps({"model": MODEL, "stream": True, "max_tokens": OSL,
                       "messages": [{"role": "user", "content": "hi " * ISL}]}).encode()
    out = {}
    for name, fn in (("aiohttp", _aiohttp_requests), ("httpx", _httpx_requests)):
        asyncio.run(fn(url, body, 20))  # warm up: imports, first connection
        cpu = time.process_time()
        asyncio.run(fn(url, body, n))
        out[name] = (time.process_time() - cpu) / n * 1e3
    return out


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x * 1e3:.2f} ms"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a fifth of the requests")
    args = ap.parse_args()
    k = 5 if args.quick else 1
    import aiohttp
    import httpx

    server = Server()
    try:
        rows = []
        for rate in (100, 500, 1000, 2000):
            n = max(200, int(rate * 3)) // k
            rows.append((f"open loop {rate} req/s", load_point(server, rate, None, n)))
        for c in (32, 128):
            rows.append((f"closed loop c={c}", load_point(server, None, c, 4000 // k)))
        capped = rows[3][1]
        uncapped = load_point(server, 2000, None, 6000 // k, max_connections=1_000_000)
        cpu = client_cpu_ms(server, 2000 // k)
    finally:
        server.stop()
    print(f"machine: {platform.machine()}, {__import__('os').cpu_count()} CPUs, Python "
          f"{platform.python_version()}; server: benchmarks/fastserver.py on loopback; "
          f"{ISL}-token prompts, {OSL}-token replies\n")
    print("| load | achieved | send error \\|actual − intended\\| p50 / p99 | client CPU per request |")
    print("| --- | --- | --- | --- |")
    for label, r in rows:
        err = f"{_ms(r['lag_p50'])} / {_ms(r['lag_p99'])}" if r["lag_p50"] is not None else "—"
        print(f"| {label} | {r['achieved']:,.0f} req/s ({r['ok']}/{r['n']} ok) | {err} | "
              f"{r['cpu_per_request'] * 1e3:.2f} ms |")
    print(f"\nopen loop 2000 req/s, {uncapped['n']} requests: at most {capped['peak_connections']:,} "
          f"connections open at once with the default cap of 512 ({capped['achieved']:,.0f} req/s), "
          f"{uncapped['peak_connections']:,} uncapped ({uncapped['achieved']:,.0f} req/s)")
    print(f"SSE parse: {parse_us_per_event():.2f} µs per event (1024-event stream, "
          f"truecost.bench.client.parse_stream)")
    print(f"client CPU per streamed request, one at a time: aiohttp {aiohttp.__version__} "
          f"{cpu['aiohttp']:.2f} ms, httpx {httpx.__version__} {cpu['httpx']:.2f} ms "
          f"({cpu['httpx'] / cpu['aiohttp']:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
