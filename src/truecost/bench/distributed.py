"""Load generation spread over a Ray cluster: one schedule, several client processes or machines.

When one client machine cannot keep up with an endpoint, the *same* benchmark is split into
shards, each running the ordinary single-client sender (``runner.run_shard``) in a Ray actor:

* open loop (a schedule of send offsets): request ``i`` goes to shard ``i % k`` and keeps its
  absolute offset, so each shard follows its slice of the one timeline; every shard starts from
  the same wall-clock ``t0_wall``, set ``lead_s`` after every shard's client process reported
  ready (a cold Ray worker takes seconds to start and import truecost, more on a loaded machine,
  so a fixed head start would make the first sends late). The union of the shards' sends is
  the original schedule.
* closed loop (fixed concurrency C): requests are dealt the same way and shard ``j`` runs
  ``C // k`` workers, plus one if ``j < C % k``, so C requests are in flight in total.

Records carry wall-clock epoch timestamps (``record.py``), so merging is concatenation (sorted by
index), and metrics come from the same pure ``metrics.summarize`` as a single-client run.
Client machines' clocks must agree to well under the latencies measured (NTP/PTP; on one machine
this is exact): before each point every shard reports its clock, and a disagreement of more than
``MAX_CLOCK_SKEW_S`` beyond the round trip is an error. Each shard measures its own send lag
against its own clock.

Actors (one client process each) are kept for the run's next operating point: starting one costs
seconds. Deliberately left out: streaming records back while shards run (each shard's records
arrive when it finishes; ``on_record`` is then called for each, so a killed run keeps whole
shards), placement control (Ray spreads actors as it likes; ``num_cpus_per_shard`` is the only
knob), and installing truecost on the workers (they need the same truecost and aiohttp; use a Ray
``runtime_env``).

    >>> records = run_sharded(Endpoint.of(url, "m"), specs, poisson(50, 500, seed=1), None,
    ...                       ray_address="local", shards=4)
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from dataclasses import dataclass
from typing import Any

from ..errors import EndpointError, InputError, TruecostError
from .client import Endpoint
from .record import RequestRecord
from .runner import run_shard
from .workload import RequestSpec

__all__ = ["LEAD_S", "MAX_CLOCK_SKEW_S", "READY_TIMEOUT_S", "ShardPlan", "check_reachable",
           "plan_shards", "run_sharded"]

LEAD_S = 0.5  # t0 is this long after all shards are ready: covers handing them the run call
READY_TIMEOUT_S = 300.0  # a cluster that cannot start a client process in 5 min is not usable
MAX_CLOCK_SKEW_S = 0.005  # tolerated clock disagreement between machines: NTP on a LAN does ~1 ms
# ray.init() retries an unreachable address for minutes; a TCP connect tells in seconds.
REACH_TIMEOUT_S = 5.0
RAY_GCS_PORT = 6379  # Ray's default head (GCS) port, when an address names none


@dataclass(frozen=True, slots=True)
class ShardPlan:
    """What one shard sends: its slice of the requests, their offsets, its workers."""

    shard: int
    requests: tuple[RequestSpec, ...]
    send_offsets: tuple[float, ...] | None
    concurrency: int | None


def plan_shards(requests: Sequence[RequestSpec], send_offsets: Sequence[float] | None,
                concurrency: int | None, shards: int) -> list[ShardPlan]:
    """Deal requests ``i`` to shard ``i % shards``; split the concurrency (closed loop).

    Shards that would get no request or no worker are left out, so the result may be shorter
    than ``shards``; shard numbers stay those of the dealing (index ``shard + k * shards``).
    """
    if shards < 1:
        raise InputError(f"shards must be >= 1, got {shards}")
    if send_offsets is not None and len(send_offsets) != len(requests):
        raise InputError(f"{len(send_offsets)} send times for {len(requests)} requests")
    if send_offsets is None and not (concurrency and concurrency >= 1):
        raise InputError(f"concurrency must be >= 1, got {concurrency}")
    plans = []
    for j in range(shards):
        reqs = tuple(requests[j::shards])
        offs = tuple(send_offsets[j::shards]) if send_offsets is not None else None
        conc = None if send_offsets is not None else (
            concurrency // shards + (j < concurrency % shards))  # type: ignore[operator]
        if reqs and (offs is not None or conc):
            plans.append(ShardPlan(j, reqs, offs, conc))
    return plans


class _Client:
    """One shard's client process (a Ray actor, so it can report ready before t0 is chosen)."""

    def ready(self) -> float:
        return time.time()

    def run(self, endpoint: Endpoint, plan: ShardPlan, n_shards: int, t0_wall: float, point: int,
            options: dict) -> tuple[list[RequestRecord], str | None, str | None]:
        """(records, stop reason, fatal error message or None)."""
        try:
            out = run_shard(endpoint, plan.requests, plan.send_offsets, plan.concurrency, t0_wall,
                            point=point, index_start=plan.shard, index_step=n_shards, **options)
        except EndpointError as e:  # Ray would wrap it and drop .records: hand both back plainly
            return list(getattr(e, "records", [])), str(e), str(e)
        return out.records, out.stop_reason, None


def run_sharded(endpoint: Endpoint, requests: Sequence[RequestSpec],
                send_offsets: Sequence[float] | None, concurrency: int | None,
                ray_address: str, *, shards: int | None = None, point: int = 0,
                duration_s: float | None = None, max_error_rate: float | None = None,
                on_record: Callable[[RequestRecord], None] | None = None,
                lead_s: float = LEAD_S, num_cpus_per_shard: float = 1.0) -> list[RequestRecord]:
    """Run one operating point over Ray and return all records, sorted by schedule index.

    ``ray_address``: ``"local"`` starts a Ray instance on this machine, ``"auto"`` joins the
    cluster this machine belongs to, ``ray://host:10001`` connects a Ray client. When Ray is
    already initialised the address is not used. ``shards`` defaults to the cluster's CPU count
    (each shard is one client process on one CPU). An endpoint error that every request would
    repeat (refused, 401, 404, not streaming) raises ``EndpointError`` with the records measured
    so far in ``.records``.
    """
    try:
        import ray
    except ImportError:
        raise InputError("--ray-address needs the 'ray' package: pip install 'truecost[ray]'") from None
    if not ray.is_initialized():
        _init(ray, ray_address)
    if shards is None:
        shards = max(1, int(ray.cluster_resources().get("CPU", 1) // num_cpus_per_shard))
    if duration_s is not None and send_offsets is None and concurrency:
        # closed loop for a duration cycles through the requests: every shard needs a full list
        plans = [ShardPlan(p.shard, tuple(requests), None, p.concurrency)
                 for p in plan_shards(requests, None, concurrency, shards)]
    else:
        plans = plan_shards(requests, send_offsets, concurrency, shards)
    options = {"duration_s": duration_s, "max_error_rate": max_error_rate}
    actors = _clients(ray, len(plans), num_cpus_per_shard)
    records: list[RequestRecord] = []
    fatal: str | None = None
    t0_wall = time.time() + lead_s
    pending = [a.run.remote(endpoint, p, shards, t0_wall, point, options)
               for a, p in zip(actors, plans)]
    while pending:  # collect shards as they finish, so on_record sees early shards early
        done, pending = ray.wait(pending, num_returns=1)
        recs, _stop, err = ray.get(done[0])
        records.extend(recs)
        if on_record is not None:
            for r in recs:
                on_record(r)
        fatal = fatal or err
    records.sort(key=lambda r: r.index)
    if fatal is not None:
        error = EndpointError(fatal)
        error.records = records  # type: ignore[attr-defined]
        raise error
    return records


# Client actors kept for the next operating point of the same run, keyed by Ray job and node, so
# a later ray.init() (a new cluster) never gets another cluster's actor handles.
_POOL: dict[tuple[object, float], list[object]] = {}


def _clients(ray: Any, n: int, num_cpus: float) -> list[Any]:
    """``n`` ready client actors, reusing those of an earlier point of this Ray cluster and job,
    after checking that their clocks agree with this one's."""
    ctx = ray.get_runtime_context()
    key = (ctx.get_job_id(), ctx.get_node_id(), num_cpus)  # node ids are new for each cluster
    pool = _POOL.setdefault(key, [])
    client = ray.remote(num_cpus=num_cpus, max_restarts=0)(_Client)
    pool.extend(client.remote() for _ in range(n - len(pool)))
    actors = pool[:n]
    before = time.time()
    try:
        clocks = ray.get([a.ready.remote() for a in actors], timeout=READY_TIMEOUT_S)
    except ray.exceptions.GetTimeoutError:
        for a in pool:
            ray.kill(a)
        pool.clear()
        raise TruecostError(f"the Ray cluster did not start {n} client processes within "
                            f"{READY_TIMEOUT_S:.0f} s; ask for fewer shards or free CPUs on "
                            f"the cluster") from None
    after = time.time()
    # each clock was read between `before` and `after` by this machine's clock
    skew = max(max(c - after, before - c, 0.0) for c in clocks)
    if skew > MAX_CLOCK_SKEW_S:
        raise TruecostError(f"a Ray worker's clock differs from this machine's by at least "
                            f"{skew * 1e3:.0f} ms; records from different machines would not "
                            f"line up: synchronise the clocks (NTP/chrony) and run again")
    return actors


def _init(ray: Any, address: str) -> None:
    kwargs = {"include_dashboard": False, "log_to_driver": False, "logging_level": "error"}
    if address == "local":
        ray.init(**kwargs)
        return
    check_reachable(address)
    try:
        ray.init(address=address, **kwargs)
    except ConnectionError as e:
        raise InputError(f"cannot join the Ray cluster at '{address}': "
                         f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None


def check_reachable(address: str) -> None:
    """Fail in seconds, with one line, when a Ray address cannot be reached (``ray.init``
    would retry for minutes). ``auto`` is the cluster this machine joined (``RAY_ADDRESS`` or
    Ray's own record of it); ``ray://host:port`` a Ray client server; ``host[:port]`` a head."""
    target = address.strip()
    if not target:
        raise InputError("--ray-address needs an address: local, auto, host:port or ray://host:port")
    if target == "auto":
        target = os.environ.get("RAY_ADDRESS", "").strip() or _current_cluster()
        if not target:
            raise InputError("--ray-address auto: this machine has joined no Ray cluster (ray start); "
                             "give the head's address, or --ray-address local")
    hostport = target.removeprefix("ray://").split("/")[0]
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        host, port = hostport, str(RAY_GCS_PORT)
    host = host.strip("[]")
    if not host or not 0 < int(port) < 65536:
        raise InputError(f"--ray-address '{address}' is not an address: give local, auto, host:port or "
                         f"ray://host:port")
    try:
        socket.create_connection((host, int(port)), timeout=REACH_TIMEOUT_S).close()
    except OSError as e:
        why = ("no answer within " + f"{REACH_TIMEOUT_S:g} s" if isinstance(e, TimeoutError)
               else "host not found" if isinstance(e, socket.gaierror)
               else (e.strerror or type(e).__name__).lower())
        raise InputError(f"cannot reach the Ray cluster at '{address}' ({host}:{port}): {why}; "
                         f"is Ray running there (ray start --head)?") from None


def _current_cluster() -> str:
    """The address Ray recorded for the cluster this machine belongs to (``ray start``)."""
    try:
        return Path("/tmp/ray/ray_current_cluster").read_text().strip()
    except OSError:
        return ""
