"""The load generator: one client's share of a benchmark, in its own asyncio event loop.

Closed loop (``concurrency=C``, no schedule): C workers each send a request as soon as their last
one ends. Open loop (``send_offsets``): each request goes out at ``t0_wall + offset`` whatever
the server's state, and the record keeps both the intended and the actual send time. The sender
sleeps until ``SPIN_S`` before a deadline (the event loop's timer wakes up to 1 ms late: epoll
counts whole milliseconds), then yields to the loop in a tight spin until the deadline, so I/O
keeps being served while it waits.

Everything a request needs is prepared before the clock starts (JSON bodies, headers); during the
run a request costs one aiohttp call, and a completed record is handed to ``on_record`` (the
store's writer, which ships it to another process). One connection pool serves the shard: as
many connections as the concurrency in closed loop, at most ``max_connections`` in open loop. A
scheduled request that finds all of them busy waits *before* its actual send, so the wait shows
as send lag. The cap matters: opening connections is the costliest thing a client does, and
without one a late moment makes the sender open hundreds at once and fall further behind
(measured on 2 cores at 2,000 req/s: 3,331 connections opened for 6,000 requests unbounded and
the client fell behind; capped at 64-512 it kept up with 2,500 req/s).

Stop conditions: the requests (or schedule) run out, ``duration_s`` passes (no new sends; those
in flight finish), ``MAX_REQUESTS_PER_POINT`` have been sent, the error rate passes
``max_error_rate``, or an error that every request would repeat (refused connection, TLS,
401/403/404, no streaming, malformed stream, a bug in truecost) ends the shard with an
``EndpointError`` carrying the records measured so far in ``.records``. A schedule may be any
iterable of offsets, read lazily: an open loop never holds more than ``max_connections``
requests (sent or waiting for a connection), whatever the rate asked for.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from time import perf_counter

import aiohttp

from ..errors import EndpointError, InputError
from .client import Clock, Endpoint, connect_timeouts, fatal, send
from .record import RequestRecord
from .workload import RequestSpec

__all__ = ["MAX_CONNECTIONS", "MAX_REQUESTS_PER_POINT", "MIN_REQUESTS_FOR_ERROR_RATE", "SPIN_S",
           "ShardOutcome", "execute_shard", "run_shard"]

SPIN_S = 0.0015  # spin this long before a deadline: epoll's 1 ms granularity + wake-up latency
MAX_CONNECTIONS = 512  # open loop: requests in flight at most (see the module docstring)
MIN_REQUESTS_FOR_ERROR_RATE = 10  # judge the error rate only after this many completions
# Every record is kept in memory until the point is summarised (~1 KB with 128 tokens' chunk
# times): a million per point is ~1 GB, and over 8 minutes even at 2,000 req/s.
MAX_REQUESTS_PER_POINT = 1_000_000
BUG_HINT = "this is a bug in truecost: please report it with the command you ran"


@dataclass(slots=True)
class ShardOutcome:
    records: list[RequestRecord]
    stop_reason: str | None = None  # why sending stopped early; None when it ran to the end


def execute_shard(endpoint: Endpoint, requests: Sequence[RequestSpec],
                  send_offsets: Sequence[float] | None, concurrency: int | None, t0_wall: float,
                  **options: object) -> list[RequestRecord]:
    """Run one client's share of a schedule and return its raw records (see ``run_shard`` for
    the options). Open loop when ``send_offsets`` is given (offsets in seconds after the epoch
    time ``t0_wall``), closed loop at ``concurrency`` otherwise.

    >>> recs = execute_shard(Endpoint.of(url, "m"), specs, constant(10, 50), None, time.time())
    """
    return run_shard(endpoint, requests, send_offsets, concurrency, t0_wall, **options).records  # type: ignore[arg-type]


def run_shard(endpoint: Endpoint, requests: Sequence[RequestSpec],
              send_offsets: Iterable[float] | None, concurrency: int | None, t0_wall: float, *,
              point: int = 0, index_start: int = 0, index_step: int = 1,
              duration_s: float | None = None, max_requests: int | None = None,
              max_error_rate: float | None = None, max_connections: int = MAX_CONNECTIONS,
              on_record: Callable[[RequestRecord], None] | None = None,
              on_body: Callable[[int, list[bytes]], None] | None = None) -> ShardOutcome:
    """``execute_shard`` with the stop reason.

    - ``index_start``/``index_step``: record k gets index ``index_start + k * index_step``, so
      shards of one schedule (``offsets[i::n]``) keep distinct, global indices.
    - ``duration_s``: no sends after ``t0_wall + duration_s``.
    - ``max_requests``: sends at most this many; closed loop default ``len(requests)``, or
      ``MAX_REQUESTS_PER_POINT`` (cycling through ``requests``) when ``duration_s`` is set.
    - ``max_error_rate``: stop sending when errors / completed exceeds it (after 10 requests).
    - ``max_connections``: open loop's cap on requests in flight.
    - ``on_record``: called in the event loop with each completed record; keep it cheap.
    - ``on_body``: called with (index, raw reply bytes) just before that request's record
      (``eval`` reads the answer text; None keeps the bench hot path free of it).
    """
    if not requests:
        raise InputError("no requests to send")
    if send_offsets is None and not (concurrency and concurrency >= 1):
        raise InputError(f"concurrency must be >= 1, got {concurrency}")
    if max_connections < 1:
        raise InputError(f"max connections must be >= 1, got {max_connections}")
    coro = _Shard(endpoint, requests, send_offsets, concurrency, t0_wall, point, index_start,
                  index_step, duration_s, max_requests, max_error_rate, max_connections,
                  on_record, on_body).run()
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # called from inside an event loop (a notebook): run ours in a thread of its own
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@dataclass
class _Shard:
    ep: Endpoint
    specs: Sequence[RequestSpec]
    offsets: Iterable[float] | None
    concurrency: int | None
    t0_wall: float
    point: int
    index_start: int
    index_step: int
    duration_s: float | None
    max_requests: int | None
    max_error_rate: float | None
    max_connections: int
    on_record: Callable[[RequestRecord], None] | None
    on_body: Callable[[int, list[bytes]], None] | None = None
    records: list[RequestRecord] = field(default_factory=list)
    errors: int = 0
    stop: str | None = None
    fatal: EndpointError | None = None
    tasks: set[asyncio.Task] = field(default_factory=set)

    async def run(self) -> ShardOutcome:
        _raise_open_files_limit()
        self.bodies = [self.ep.body(s) for s in self.specs]
        self.headers = self.ep.headers()
        self.clock = Clock(time.time(), perf_counter())
        closed = self.offsets is None
        limit = self.concurrency if closed else self.max_connections
        self.slots = asyncio.Semaphore(limit)  # open loop: wait here, before the actual send
        # ssl=False for plain http: building the default TLS context takes ~0.1 s
        connector = aiohttp.TCPConnector(limit=limit, limit_per_host=0, ttl_dns_cache=None,
                                         ssl=self.ep.url.startswith("https:"))
        timeout = connect_timeouts(self.ep.timeout_s)
        gc.freeze()  # long-lived objects out of the collector's way: shorter GC pauses
        try:
            async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                             trust_env=False) as self.session:
                await (self._closed() if closed else self._open())
        finally:
            gc.unfreeze()
        if self.fatal is not None:
            self.fatal.records = self.records  # type: ignore[attr-defined]
            raise self.fatal
        return ShardOutcome(self.records, self.stop)

    def _done(self, rec: RequestRecord) -> None:
        self.records.append(rec)
        if self.on_record is not None:
            self.on_record(rec)
        if rec.ok:
            return
        self.errors += 1
        err = fatal(rec)
        if err is not None and self.fatal is None:
            self.fatal, self.stop = err, str(err)
            current = asyncio.current_task()
            for t in self.tasks:
                if t is not current:
                    t.cancel()
            return
        n = len(self.records)
        if (self.max_error_rate is not None and self.stop is None
                and n >= MIN_REQUESTS_FOR_ERROR_RATE and self.errors / n > self.max_error_rate):
            self.stop = (f"stopped early: error rate {self.errors / n:.0%} after {n} requests is "
                         f"above the limit of {self.max_error_rate:.0%}")

    async def _one(self, k: int, intended: float | None) -> None:
        j = k % len(self.specs)
        async with self.slots:  # closed loop: never waits (one per worker)
            try:
                rec = await send(self.session, self.ep, self.headers, self.bodies[j], self.clock,
                                 point=self.point, index=self.index_start + k * self.index_step,
                                 intended=intended, spec=self.specs[j], on_body=self.on_body)
            except Exception as e:  # noqa: BLE001 - a bug: its record says so, and it stops the run
                now = self.clock.wall(perf_counter())
                rec = RequestRecord(
                    point=self.point, index=self.index_start + k * self.index_step,
                    intended_send=intended, actual_send=now, end=now, error_kind="internal",
                    error=self.ep.scrub(f"internal error in truecost ({type(e).__name__}: {e}); "
                                        f"{BUG_HINT}"))
        self._done(rec)

    async def _closed(self) -> None:
        assert self.concurrency is not None
        await _wait_until(self.clock.perf(self.t0_wall))
        end = self.clock.perf(self.t0_wall + self.duration_s) if self.duration_s else None
        limit = self.max_requests or (MAX_REQUESTS_PER_POINT if self.duration_s else len(self.specs))
        counter = itertools.count()

        async def worker() -> None:
            while self.stop is None:
                k = next(counter)
                if (limit is not None and k >= limit) or (end is not None and perf_counter() >= end):
                    return
                await self._one(k, None)

        self.tasks = {asyncio.create_task(worker()) for _ in range(self.concurrency)}
        _raise_first(await asyncio.gather(*self.tasks, return_exceptions=True))
        if limit == MAX_REQUESTS_PER_POINT and next(counter) > limit and self.stop is None:
            self.stop = f"stopped at {MAX_REQUESTS_PER_POINT:,} requests, the most one point keeps"

    async def _open(self) -> None:
        assert self.offsets is not None
        limit = min(self.max_requests or MAX_REQUESTS_PER_POINT, MAX_REQUESTS_PER_POINT)
        for k, off in enumerate(self.offsets):
            if self.stop is not None or (self.duration_s is not None and off >= self.duration_s):
                break
            if k >= limit:
                break
            await _wait_until(self.clock.perf(self.t0_wall + off))
            # At most max_connections requests alive (sent, or waiting for a connection),
            # however far behind its schedule the sender falls: the wait shows as send lag.
            while len(self.tasks) >= self.max_connections and self.stop is None:
                await asyncio.wait(self.tasks, return_when=asyncio.FIRST_COMPLETED)
            if self.stop is not None:
                break
            task = asyncio.create_task(self._one(k, self.t0_wall + off))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        while self.tasks:
            _raise_first(await asyncio.gather(*list(self.tasks), return_exceptions=True))


def _raise_first(results: list[object]) -> None:
    """gather(return_exceptions=True) hides a task's exception: raise it (cancellations of the
    other tasks, after a fatal error, are expected and not raised)."""
    for r in results:
        if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError):
            raise r


async def _wait_until(target_perf: float) -> None:
    """Sleep, then spin (yielding to the loop) until ``perf_counter() >= target_perf``."""
    delay = target_perf - perf_counter() - SPIN_S
    if delay > 0:
        await asyncio.sleep(delay)
    while perf_counter() < target_perf:
        await asyncio.sleep(0)


def _raise_open_files_limit() -> None:
    """Each connection is a file descriptor: lift the soft limit to the hard one (POSIX)."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or hard > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE,
                               (hard if hard != resource.RLIM_INFINITY else max(soft, 65536), hard))
    except (ImportError, ValueError, OSError):  # pragma: no cover - Windows, or not permitted
        pass
