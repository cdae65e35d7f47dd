"""A benchmark run: load patterns → operating points → metrics, $ and energy, stored as it goes.

``run_bench`` plans the operating points (a concurrency sweep, a constant or Poisson rate, a
replayed log, or a sweep that first finds the maximum throughput and then steps rates up to it),
runs each with ``runner.run_shard`` (or, with ``ray_address``, the Ray hook
``truecost.bench.distributed.run_sharded``), streams every request to the store, and summarises
each point with ``metrics.summarize``. Cost at a point: a self-hosted deployment's $/s divided by
the throughput it sustained there (100% busy at that load), or an API offer's price of each
measured request's real token counts.

Inputs are checked before anything is sent (``checks``): every number finite and in its range,
and a point that could not finish says so up front — a schedule longer than ``MAX_POINT_S``, more
than ``runner.MAX_REQUESTS_PER_POINT`` requests, a rate beyond ``MAX_RATE``. Schedules are read
lazily, and at most ``PROMPT_POOL_BYTES`` of distinct prompts are built (then cycled). A SIGTERM
(``timeout 60 truecost bench ...``) ends the run as Ctrl-C does: marked ``interrupted``, with what
it measured kept. Error text kept or printed is scrubbed of the API key.
"""

from __future__ import annotations

import contextlib
import math
import secrets
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from itertools import islice, takewhile
from importlib.metadata import version
from pathlib import Path
from typing import Any

from ..checks import finite_numbers, number, scrub
from ..cost import HourlyCost
from ..errors import EndpointError, InputError
from ..prices import Offer
from ..progress import Progress, Task, task as progress_task
from ..provenance import Provenance
from . import schedule
from .client import DEFAULT_MAX_RESPONSE_BYTES, Endpoint
from .energy import EnergyReport, EnergyUnavailable, Sampler, energy_report, idle_power_w, nvml_counter
from .metrics import PointSummary, measured, parse_slos, summarize
from .pricing import PointCost, point_cost, pricing
from .record import RequestRecord
from .runner import MAX_CONNECTIONS, MAX_REQUESTS_PER_POINT, run_shard
from .workload import (
    APPROXIMATE_NOTE,
    RequestSpec,
    from_prompts,
    from_replay,
    lengths,
    load_tokenizer,
    synthetic,
)

__all__ = ["BenchResult", "OperatingPoint", "run_bench"]

DEFAULT_REQUESTS = 100  # per operating point, when neither requests nor duration is given
SWEEP_PROBE_CONCURRENCY = 64  # closed-loop load that finds the maximum throughput of a sweep
DURATION_POOL = 1000  # distinct prompts cycled through when a closed loop runs for a duration
MAX_POINT_S = 7 * 86400.0  # one operating point runs at most a week (--duration-s, or a schedule)
# No HTTP load generator sends a million requests/s (truecost: ~2,000 per client core, README);
# a higher --rate is a typo, not a test.
MAX_RATE = 1e6
# One client reaches one server port over at most 65,535 local ports (TCP's 16-bit port space).
MAX_CONCURRENCY = 65_535
MAX_SWEEP_STEPS = 100
# Distinct prompts (and request bodies) are built up to this many bytes, then cycled: a long
# run at a high rate must not hold a million prompts in memory.
PROMPT_POOL_BYTES = 256 * 2**20
BYTES_PER_PROMPT_TOKEN = 12  # a word and its space, twice: the prompt and the JSON body


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    index: int
    mode: str  # "concurrency", "rate", "poisson", "throughput" (sweep probe) or "replay"
    concurrency: int | None
    rate: float | None  # requests/s scheduled (open loop)
    warmup: int
    drain: int
    summary: PointSummary
    cost: PointCost | None
    energy: EnergyReport | None
    stop_reason: str | None

    @property
    def label(self) -> str:
        if self.mode == "incomplete":
            return f"point {self.index} (incomplete)"
        if self.rate is not None:
            return f"{self.rate:.3g} req/s" + (" poisson" if self.mode == "poisson" else "")
        if self.mode == "replay":
            return "replay"
        return f"c={self.concurrency}" + (" (max)" if self.mode == "throughput" else "")


@dataclass(frozen=True, slots=True)
class BenchResult:
    """A finished run: one entry per operating point, notes for the user, provenance."""

    run_id: str | None
    url: str
    model: str
    points: tuple[OperatingPoint, ...]
    notes: tuple[str, ...]
    provenance: Provenance  # measured:<run id>

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["provenance"] = str(self.provenance)
        for p, src in zip(d["points"], self.points):
            p["label"] = src.label
            p["summary"]["duration_s"] = src.summary.duration_s
            if src.cost is not None:
                p["cost"]["provenance"] = str(src.cost.provenance)
        return d


@dataclass(frozen=True, slots=True)
class _Plan:
    mode: str
    concurrency: int | None
    rate: float | None
    offsets: Callable[[], Iterator[float]] | None  # a fresh, lazy schedule (open loop)
    count: int | None  # requests the point sends (open loop: expected, for a duration)
    drain: int


def _concurrencies(value: int | Sequence[int] | str | None) -> list[int] | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = [int(x) for x in value.split(",") if x.strip()]
        except ValueError:
            raise InputError(f"--concurrency takes whole numbers separated by commas, "
                             f"e.g. 1,4,16; got '{value}'") from None
    out = [value] if isinstance(value, int) else list(value)
    if not out or any(not isinstance(c, int) or c < 1 for c in out):
        raise InputError(f"concurrency must be >= 1, got {value}")
    if max(out) > MAX_CONCURRENCY:
        raise InputError(f"--concurrency {max(out):,} is more than one client can hold open "
                         f"({MAX_CONCURRENCY:,}: TCP's port space); spread the load with --ray-address")
    return out


@finite_numbers(duration_s="--duration-s", timeout_s="--timeout-s", energy_idle_s="--energy-idle-s",
                energy_gpus="--energy-gpus")
def run_bench(url: str, model: str, *, concurrency: int | Sequence[int] | str | None = None,
              rate: float | None = None, poisson: bool = False, sweep: bool = False,
              sweep_steps: int = 5, requests: int | None = None, duration_s: float | None = None,
              warmup: int = 0, drain: int | None = None, max_error_rate: float | None = None,
              isl: int | str = 256, osl: int | str = 128, prompts: str | Path | None = None,
              replay: str | Path | None = None, replay_speed: float = 1.0,
              tokenizer: str | None = None, seed: int | None = None, slo: str | None = None,
              gpu: str | None = None, gpus: int = 1, usd_per_gpu_hour: float | None = None,
              offer: str | Offer | None = None, energy: bool = False,
              energy_gpus: Sequence[int] | None = None, energy_idle_s: float = 2.0,
              timeout_s: float = 600.0, ignore_eos: bool = False,
              max_connections: int = MAX_CONNECTIONS, api_key: str | None = None,
              max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES, retry_after: bool = True,
              ray_address: str | None = None, store: bool | str | Path = True,
              on_event: Callable[[str], None] | None = None,
              progress: Progress | None = None) -> BenchResult:
    """Measure an OpenAI-compatible streaming endpoint and turn it into $ per token and request.

    Load: ``concurrency`` (a list is a sweep; default 1), ``rate`` (constant, or ``poisson``), a
    ``replay`` log, or ``sweep`` (max throughput at concurrency 64, or the given one, then
    ``sweep_steps`` rates up to it). Each point sends ``requests`` (default 100) or runs for
    ``duration_s``; the first ``warmup`` and the last ``drain`` requests sent are excluded from
    metrics (``drain`` default: the concurrency in closed loop — the final round, sent while load
    ramps down — and 0 in open loop). ``max_error_rate`` stops the run at the point where the
    error rate passes it.
    Workload: synthetic ``isl``/``osl`` (``256``, ``128-512``, ``256:64``), a ``prompts`` JSONL file,
    or the ``replay`` log, drawn with ``seed`` (default: a new one per run, stored in the
    run's config). Cost: ``gpu`` × ``gpus`` (catalog $/GPU-hour or ``usd_per_gpu_hour``),
    or an API ``offer``. ``api_key`` default: ``TRUECOST_API_KEY``, else ``OPENAI_API_KEY``.
    ``max_connections`` caps requests in flight in open loop (a request finding none free waits,
    and the wait shows as send lag). ``max_response_bytes`` cuts off a longer response (error
    kind ``too_large``); ``retry_after`` waits out a 429/503's Retry-After and resends (counted
    as ``throttled``; False makes them errors, for pure load tests). ``store``: True (the
    default store), a DuckDB path, or False. ``on_event`` receives progress lines; ``progress`` (``truecost.progress``)
    gets one task per operating point (requests done of its total, errors so far) and those lines
    as notes.

    >>> r = run_bench("http://localhost:8000/v1", "llama-3.1-8b", concurrency=[1, 8], gpu="h100-sxm")
    >>> r.points[1].summary.output_token_throughput, r.points[1].cost.usd_per_mtok_output
    """
    say = on_event or (progress.note if progress is not None else (lambda _: None))
    drawn = seed is None
    if seed is None:  # a new seed per run (recorded in its config): a rerun's prompts are new
        seed = secrets.randbelow(2**31)  # to the server, so its prefix cache cannot flatter it
    ep = Endpoint.of(url, model, api_key=api_key, timeout_s=timeout_s, ignore_eos=ignore_eos,
                     max_response_bytes=max_response_bytes, retry_after=retry_after)
    conc = _concurrencies(concurrency)
    _check_modes(conc, rate, poisson, sweep, replay, prompts, requests, duration_s, sweep_steps)
    slos = parse_slos(slo)
    if max_error_rate is not None and not 0 <= max_error_rate <= 1:
        raise InputError(f"--max-error-rate must be within [0, 1], got {max_error_rate}")
    if warmup < 0 or (drain is not None and drain < 0):
        raise InputError("--warmup and --drain must be >= 0")
    if not 1 <= max_connections <= MAX_CONCURRENCY:
        raise InputError(f"--max-connections must be within [1, {MAX_CONCURRENCY:,}], got "
                         f"{max_connections}")
    number(replay_speed, "--replay-speed", gt=0)
    number(energy_idle_s, "--energy-idle-s", ge=0, le=3600)
    if energy_gpus is not None and any(g < 0 for g in energy_gpus):
        raise InputError(f"--energy-gpus takes GPU indices (0, 1, ...), got {list(energy_gpus)}")
    prices = pricing(gpu, gpus, usd_per_gpu_hour, offer)
    tok = load_tokenizer(tokenizer) if tokenizer else None
    in_len, out_len = lengths(isl, "input length"), lengths(osl, "output length")
    if prompts is not None:
        from_prompts(prompts, 1, out_len, tokenizer=tok)  # a bad file fails before any load
    n = requests if requests is not None else (None if duration_s else DEFAULT_REQUESTS)
    replay_specs: list[RequestSpec] | None = None
    if replay is not None:
        replay_specs, times = from_replay(replay, out_len, seed=seed, tokenizer=tok)
        replay_specs = replay_specs[:requests] if requests else replay_specs
        offsets = schedule.replay(times, replay_speed)[:len(replay_specs)]
        plans = [_Plan("replay", None, None, lambda: iter(offsets), len(offsets), drain or 0)]
        n = len(replay_specs)
    else:
        plans = _first_plans(conc, rate, poisson, sweep, n, duration_s, seed, drain)
    for p in plans:
        _check_window(n, warmup, p)
        _check_finishes(p, n, duration_s)
    notes: list[str] = []
    if (prompts is None and replay is None and tok is None) or (
            replay_specs and tok is None and any(s.input_tokens for s in replay_specs)):
        notes.append(APPROXIMATE_NOTE)

    def specs_for(point: int, plan: _Plan) -> list[RequestSpec]:
        if replay_specs is not None:
            return replay_specs
        count = min(plan.count or n or DURATION_POOL, _pool_size(in_len))
        if prompts is not None:
            return from_prompts(prompts, count, out_len, seed=seed + point, tokenizer=tok)
        return synthetic(count, in_len, out_len, seed=seed * 1_000_003 + point, tokenizer=tok)

    run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}" if store else None
    config = {k: v for k, v in dict(
        concurrency=conc, rate=rate, poisson=poisson, sweep=sweep, sweep_steps=sweep_steps,
        requests=requests, duration_s=duration_s, warmup=warmup, drain=drain,
        max_error_rate=max_error_rate, isl=str(in_len), osl=str(out_len),
        prompts=str(prompts) if prompts else None, replay=str(replay) if replay else None,
        replay_speed=replay_speed, tokenizer=tokenizer, seed=seed, slo=slo, gpu=gpu, gpus=gpus,
        usd_per_gpu_hour=usd_per_gpu_hour, offer=str(getattr(offer, "key", offer) or "") or None,
        energy=energy, energy_gpus=list(energy_gpus) if energy_gpus is not None else None,
        timeout_s=timeout_s, ignore_eos=ignore_eos, max_connections=max_connections,
        max_response_bytes=max_response_bytes, retry_after=retry_after,
        ray_address=ray_address, api=ep.api).items()}
    writer = _open_writer(store)
    if writer is not None:
        writer.put(("run", {"run_id": run_id, "started_at": time.time(), "status": "running",
                            "url": ep.display_url, "model": model, "mode": plans[0].mode,
                            "truecost_version": version("truecost"), "config": config}))
    points: list[OperatingPoint] = []
    status, error, sampler = "failed", None, None
    stack = contextlib.ExitStack()
    try:
        stack.enter_context(_sigterm_interrupts())
        sampler, idle_w, n_gpus = _start_energy(energy, energy_gpus, energy_idle_s, notes, say)
        k = 0
        while k < len(plans):
            plan = plans[k]
            total = len(plans) + (sweep_steps if plan.mode == "throughput" else 0)
            label = f"point {k + 1}/{total}: {_describe(plan, n, duration_s)}"
            if k == 0 and drawn:  # progress shows the seed drawn for this run (it is stored too)
                label += f" (seed {seed}: --seed {seed} sends the same prompts again)"
            if progress is None:
                say(label)
            count = plan.count if plan.offsets is not None else n
            with progress_task(progress, label, count) as bar:
                records, stop = _execute(ep, specs_for(k, plan), plan, k, duration_s, n,
                                         max_error_rate, max_connections, ray_address, writer,
                                         run_id, bar)
            point = _finish_point(k, plan, records, stop, warmup, slos, prices, sampler, idle_w,
                                  n_gpus)
            points.append(point)
            if writer is not None:
                writer.put(("point", _point_row(run_id, point, model, gpu, gpus)))
            say(_done_line(point))
            if point.summary.ok == 0 and not any(p.summary.ok for p in points[:-1]):
                raise _all_failed(records)
            if stop is not None:  # the error rate passed its limit: higher loads would too
                notes.append(f"{point.label}: {stop}")
                break
            if plan.mode == "throughput":
                plans += _sweep_plans(point, sweep_steps, poisson, n, duration_s, seed, drain)
                for p in plans[1:]:
                    _check_window(n, warmup, p)
                    _check_finishes(p, n, duration_s)
            k += 1
        status = "complete"
    except BaseException as e:
        status = "interrupted" if isinstance(e, KeyboardInterrupt) else "failed"
        error = scrub(str(e) or type(e).__name__, ep.api_key)
        raise
    finally:
        stack.close()
        samples = sampler.stop() if sampler is not None else []
        notes.extend(_usage_notes(points) + _lag_notes(points) + _throttle_notes(points))
        notes[:] = [scrub(n, ep.api_key) for n in notes]
        if writer is not None:
            writer.put(("samples", run_id, [(t, g, mj) for t, per_gpu in samples
                                            for g, mj in enumerate(per_gpu)]))
            writer.put(("finish", run_id, status, error, notes))
            writer.close()
    return BenchResult(run_id, ep.display_url, model, tuple(points), tuple(notes),
                       Provenance("measured", run_id or "not stored"))


def _first_plans(conc: list[int] | None, rate: float | None, poisson: bool, sweep: bool,
                 n: int | None, duration_s: float | None, seed: int,
                 drain: int | None) -> list[_Plan]:
    """The operating points known before the run (a sweep adds its rates after the probe)."""
    if rate is not None:
        return [_open_plan(rate, poisson, n, duration_s, seed, drain)]
    if sweep:
        c = max(conc) if conc else SWEEP_PROBE_CONCURRENCY
        return [_Plan("throughput", c, None, None, n, c if drain is None else drain)]
    return [_Plan("concurrency", c, None, None, n, c if drain is None else drain)
            for c in conc or [1]]


def _all_failed(records: list[RequestRecord]) -> EndpointError:
    """Every request of the run failed: say how, and the commonest cause in full."""
    kinds = Counter(r.error_kind for r in records if not r.ok).most_common()
    if not kinds:
        return EndpointError("the point sent no request; nothing was measured")
    common = next(r for r in records if r.error_kind == kinds[0][0])
    listed = ", ".join(f"{k} x{c}" for k, c in kinds)
    return EndpointError(f"all {len(records)} requests failed ({listed}); most common: "
                         f"{common.error or common.error_kind}")


def _check_modes(conc: list[int] | None, rate: float | None, poisson: bool, sweep: bool,
                 replay: object, prompts: object, requests: int | None,
                 duration_s: float | None, sweep_steps: int) -> None:
    if replay is not None and (conc or rate is not None or sweep or prompts is not None):
        raise InputError("--replay sets its own schedule and prompts; drop --concurrency, "
                         "--rate, --sweep and --prompts")
    if rate is not None and (conc or sweep):
        raise InputError("--rate is open loop and --concurrency closed loop: choose one "
                         "(--sweep finds the rates itself)")
    if poisson and rate is None and not sweep:
        raise InputError("--poisson needs --rate R (or --sweep)")
    if sweep and conc and len(conc) > 1:
        raise InputError("--sweep takes one --concurrency (the load that finds the maximum "
                         "throughput)")
    if requests is not None and requests < 1:
        raise InputError(f"--requests must be >= 1, got {requests}")
    if requests is not None and requests > MAX_REQUESTS_PER_POINT:
        raise InputError(f"--requests {requests:,} is more than one operating point keeps "
                         f"({MAX_REQUESTS_PER_POINT:,}: every record is held in memory until the "
                         f"point is summarised); run several points or several runs")
    if duration_s is not None:
        number(duration_s, "--duration-s", gt=0, le=MAX_POINT_S, unit="s (a week at most)")
    if rate is not None:
        number(rate, "--rate", gt=0, le=MAX_RATE, unit="requests/s")
    if not 1 <= sweep_steps <= MAX_SWEEP_STEPS:
        raise InputError(f"--sweep-steps must be within [1, {MAX_SWEEP_STEPS}], got {sweep_steps}")


def _check_finishes(plan: _Plan, n: int | None, duration_s: float | None) -> None:
    """Say up front when a point cannot finish within its bounds: more requests than a point
    keeps, or a schedule that runs for longer than a week."""
    if plan.count is not None and plan.count > MAX_REQUESTS_PER_POINT:
        asked = (f"the replayed log has {plan.count:,} requests" if plan.mode == "replay" else
                 f"at {plan.rate:g} requests/s for {duration_s or 0:g} s, one operating point "
                 f"would send {plan.count:,} requests")
        raise InputError(f"{asked}, more than the {MAX_REQUESTS_PER_POINT:,} one point keeps "
                         f"(every record is held in memory until the point is summarised); "
                         + ("replay part of it (--requests)" if plan.mode == "replay"
                            else "lower --rate or --duration-s"))
    if plan.rate is not None and plan.count and duration_s is None:
        span = (plan.count - 1) / plan.rate
        if span > MAX_POINT_S:
            raise InputError(f"at {plan.rate:g} requests/s, {plan.count:,} requests take "
                             f"{_span(span)}, more than the week one operating point may run; "
                             f"raise --rate, lower --requests, or bound it with --duration-s")
    if plan.mode == "replay" and plan.offsets is not None:
        last = max(plan.offsets(), default=0.0)
        if last > MAX_POINT_S:
            raise InputError(f"the replayed log spans {_span(last)} at --replay-speed; more than "
                             f"the week one operating point may run: raise --replay-speed or "
                             f"replay part of the log (--requests)")


def _span(seconds: float) -> str:
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600)):
        if seconds >= size:
            return f"{seconds / size:,.3g} {unit}"
    return f"{seconds:,.3g} s"


def _pool_size(in_len: Any) -> int:
    """How many distinct prompts to build: as many as fit in PROMPT_POOL_BYTES."""
    per_prompt = (getattr(in_len, "mean", 256) + 64) * BYTES_PER_PROMPT_TOKEN
    return max(1, int(PROMPT_POOL_BYTES // per_prompt))


def _check_window(n: int | None, warmup: int, plan: _Plan) -> None:
    total = plan.count if plan.count is not None and n is None else n
    if total is not None and total <= warmup + plan.drain:
        raise InputError(f"{total} requests leave none to measure after warm-up {warmup} and "
                         f"drain {plan.drain}" + (" (drain defaults to the concurrency)"
                                                   if plan.concurrency else "")
                         + "; ask for more --requests or lower --warmup/--drain")


def _open_plan(rate: float, poisson: bool, n: int | None, duration_s: float | None, seed: int,
               drain: int | None, mode: str | None = None) -> _Plan:
    """An open-loop point: a lazy schedule of ``n`` sends, or of those within ``duration_s``
    (``count`` is then the expected number, ``ceil(rate × duration)``)."""
    expected = math.ceil(rate * duration_s) if duration_s is not None else None
    count = n if expected is None else expected if n is None else min(n, expected)

    def offsets() -> Iterator[float]:
        times = (schedule.poisson_times(rate, seed) if poisson else schedule.constant_times(rate))
        if duration_s is not None:
            times = takewhile(lambda t: t < duration_s, times)
        return islice(times, n) if n is not None else times

    schedule.constant_times(rate)  # a bad rate fails here, before the run
    return _Plan(mode or ("poisson" if poisson else "rate"), None, rate, offsets, count, drain or 0)


def _sweep_plans(probe: OperatingPoint, steps: int, poisson: bool, n: int | None,
                 duration_s: float | None, seed: int, drain: int | None) -> list[_Plan]:
    top = probe.summary.request_throughput
    if not top:
        raise EndpointError("the sweep's throughput probe completed no request; nothing to "
                            "sweep up to")
    return [_open_plan(r, poisson, n, duration_s, seed + i, drain)
            for i, r in enumerate(schedule.sweep_rates(top, steps), 1)]


def _describe(plan: _Plan, n: int | None, duration_s: float | None) -> str:
    if plan.rate is not None:
        load = f"{'poisson ' if plan.mode == 'poisson' else ''}{plan.rate:.3g} req/s"
    else:
        load = {"concurrency": f"concurrency {plan.concurrency}",
                "throughput": f"max throughput at concurrency {plan.concurrency}"}.get(
                    plan.mode, "replaying the log")
    size = (f"{plan.count} requests" if plan.offsets is not None and n is not None
            else f"{n} requests" if n else f"{duration_s:g} s")
    return f"{load}, {size}"


def _done_line(p: OperatingPoint) -> str:
    s = p.summary
    errs = ", ".join(f"{k} x{v}" for k, v in s.errors.items()) or "no errors"
    tput = f"{s.request_throughput:.3g} req/s" if s.request_throughput else "no throughput"
    return f"  {s.ok}/{s.requests} ok ({errs}), {tput}"


def _execute(ep: Endpoint, specs: list[RequestSpec], plan: _Plan, point: int,
             duration_s: float | None, n: int | None, max_error_rate: float | None,
             max_connections: int, ray_address: str | None, writer: Any, run_id: str | None,
             bar: Task) -> tuple[list[RequestRecord], str | None]:
    def on_record(r: RequestRecord) -> None:
        if writer is not None:
            writer.record(run_id, r)
        bar.advance(errors=0 if r.ok else 1)

    if ray_address is not None:
        from .distributed import run_sharded  # the Ray hook; imported only when asked for

        offsets = None
        if plan.offsets is not None:  # shards take slices: a list (of at most a point's cap)
            offsets = list(islice(plan.offsets(), MAX_REQUESTS_PER_POINT))
            specs = [specs[i % len(specs)] for i in range(len(offsets))]
        records = run_sharded(ep, specs, offsets, plan.concurrency, ray_address,
                              point=point, duration_s=duration_s, max_error_rate=max_error_rate,
                              on_record=on_record)
        return records, None
    t0 = time.time()
    out = run_shard(ep, specs, plan.offsets() if plan.offsets is not None else None,
                    plan.concurrency, t0, point=point, duration_s=duration_s, max_requests=n,
                    max_error_rate=max_error_rate, max_connections=max_connections,
                    on_record=on_record)
    return out.records, out.stop_reason


def _finish_point(k: int, plan: _Plan, records: list[RequestRecord], stop: str | None,
                  warmup: int, slos: Sequence[Any], prices: HourlyCost | Offer | None,
                  sampler: Sampler | None,
                  idle_w: float | None, n_gpus: int) -> OperatingPoint:
    summary = summarize(records, warmup=warmup, drain=plan.drain, slos=slos)
    ok = [r for r in measured(records, warmup, plan.drain) if r.ok]
    cost = point_cost(prices, summary, ok) if prices is not None else None
    energy = None
    if sampler is not None and summary.window_start is not None and summary.window_end is not None:
        time.sleep(min(2 * sampler.interval_s, 0.5))  # a sample after the window closes
        energy = energy_report(list(sampler.samples), summary.window_start, summary.window_end,
                               sum(r.output_tokens for r in ok), idle_w, n_gpus)
    return OperatingPoint(k, plan.mode, plan.concurrency, plan.rate, warmup, plan.drain,
                          summary, cost, energy, stop)


# -- energy, store, notes --------------------------------------------------------------------
def _start_energy(energy: bool, gpus: Sequence[int] | None, idle_s: float, notes: list[str],
                  say: Callable[[str], None]) -> tuple[Sampler | None, float | None, int]:
    """The sampler for the run, the idle floor (W) and the number of GPUs metered."""
    if not energy:
        return None, None, 0
    try:
        counter, names = nvml_counter(gpus)
    except EnergyUnavailable as e:
        notes.append(f"energy: skipped, {e} (needs an NVIDIA GPU with NVML on this machine)")
        return None, None, 0
    say(f"energy: {len(names)} GPU(s) ({', '.join(sorted(set(names)))}); measuring the idle "
        f"floor for {idle_s:g} s")
    idle = Sampler(counter).start()
    time.sleep(idle_s)
    idle_w = idle_power_w(idle.stop())
    return Sampler(counter).start(), idle_w, len(names)


def _open_writer(store: bool | str | Path) -> Any:
    if store is False:
        return None
    from ..store import Writer

    return Writer(None if store is True else Path(store))


def _usage_notes(points: list[OperatingPoint]) -> list[str]:
    ok = sum(p.summary.ok for p in points)
    reported = sum(p.summary.tokens.usage_reported for p in points)
    if ok and reported == 0:
        return ["the server reported no token usage: output tokens are counted from stream "
                "chunks (one token per chunk assumed)"]
    if ok and reported < ok:
        return [f"the server reported usage for {reported} of {ok} requests; chunk counts "
                f"stand in for the rest"]
    return []


def _throttle_notes(points: list[OperatingPoint]) -> list[str]:
    return [f"{p.label}: the server throttled {p.summary.throttled} time(s) (HTTP 429/503 with "
            f"Retry-After); truecost waited as asked and resent (latencies are those of the "
            f"last attempt; --no-retry-after makes them errors)"
            for p in points if p.summary.throttled]


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (``timeout``, ``kill``, a job scheduler) ends the run as Ctrl-C does: in the main
    thread it raises KeyboardInterrupt, so the run is marked ``interrupted`` and what it
    measured is kept. The previous handler comes back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum} (SIGTERM)")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


LATE_S = 0.05  # a send lag p99 above this means the client, not the server, set the pace


def _lag_notes(points: list[OperatingPoint]) -> list[str]:
    late = [p for p in points if (p.summary.send_lag.p99 or 0) > LATE_S]
    return [f"{p.label}: the load generator fell behind its schedule (send lag p99 "
            f"{p.summary.send_lag.p99 * 1e3:.0f} ms); latencies from the intended send include "
            f"that; raise --max-connections, lower the rate, or spread the load (--ray-address)"
            for p in late]


def _point_row(run_id: str | None, p: OperatingPoint, model: str, gpu: str | None,
               gpus: int) -> dict[str, Any]:
    s = p.summary
    return {"run_id": run_id, "point": p.index, "mode": p.mode, "concurrency": p.concurrency,
            "rate": p.rate, "warmup": p.warmup, "drain": p.drain, "stop_reason": p.stop_reason,
            "model": model, "gpu": gpu, "gpus": gpus if gpu else None,
            "request_throughput": s.request_throughput,
            "output_token_throughput": s.output_token_throughput,
            "total_token_throughput": s.total_token_throughput, "isl_mean": s.tokens.input_mean,
            "osl_mean": s.tokens.output_mean, "ttft_p50": s.ttft.p50, "itl_p50": s.itl.p50,
            "tpot_p50": s.tpot.p50, "e2e_p50": s.e2e.p50,
            "summary": {**asdict(s), "slos": [str(x) for x in s.slos]},
            "cost": ({**asdict(p.cost), "provenance": str(p.cost.provenance)}
                     if p.cost is not None else None),
            "energy": asdict(p.energy) if p.energy is not None else None}
