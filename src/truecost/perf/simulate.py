"""A discrete-event simulation of one replica's continuous batching, step by step.

Where ``serving.py`` solves the steady state, this plays a run: requests arrive (``traffic.py``),
wait for admission, are prefilled in chunks, decode one token per step, and leave. Each engine
step takes the roofline time of what it holds (``steps.py`` tabulates ``roofline.step_time``), so
the queueing the steady state leaves out falls out of the mechanism:

- **admission** is limited by ``max_batch_size`` and the KV pool: ``kv_admission = "max_length"``
  reserves ISL+OSL per request (no eviction, TensorRT-LLM's ``GUARANTEED_NO_EVICT``);
  ``"average"`` admits on the tokens held now and grows with decoding (vLLM's paged KV), and when
  the pool runs out it **preempts** the most recently admitted request and later **recomputes**
  its prompt and the tokens it had generated (vLLM V1's only preemption mode);
- **chunked prefill** under a token budget per step (``max_num_tokens``), shared by several
  prompts' prefills in arrival order; or, without chunking (TensorRT-LLM's default), **whole
  prompts**: a step takes waiting prompts in arrival order while each fits whole in the budget
  left, so two long prompts that arrive together are prefilled one step apart;
- **scheduling**: ``"decode_first"`` puts every decoding sequence in each step and fills the rest
  of the budget with prefill (vLLM V1, TensorRT-LLM in-flight batching: prefills slow each decode
  step, TPOT rises); ``"prefill_first"`` runs pending prefills as steps of their own while
  decodes wait (SGLang's default: TTFT falls, decodes stall);
- **prefix caching**: a request's cached prompt tokens are not prefilled (they still hold KV);
- a benchmark's **burst start** (closed loop: all C clients send at t = 0).

Output per request: TTFT, TPOT, E2E and the wait for admission; per output token: the gap since
the previous token (``itl``: what vLLM/SGLang/TensorRT-LLM benchmarks call ITL, where prefill
stalls show; DESIGN.md's per-request ITL equals TPOT here). Each as mean and p50/p90/p95/p99,
plus throughput and goodput under objectives. Times are from the client's send; a request's
``request_overhead_s`` (HTTP, tokenisation) is spent before the engine sees it.

Left out: speculative decoding, disaggregated prefill, CPU-side scheduling time beyond the
engine's step overhead, KV block granularity, and prefix-cache eviction (a hit rate is given).
Nothing random perturbs a run but the arrivals and lengths drawn, so a closed loop of fixed
lengths stays in step once its start has put the clients one step apart: each client finishes
the step after the one before, and arrives (after the request overhead) just after that one's
prefill has started, so it waits for it (measured engines show less of this wait).
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from ..bench.metrics import PERCENTILES, Distribution
from ..errors import InputError, TruecostError
from ..provenance import Provenance
from .deployment import Deployment
from .memory import memory_plan
from .roofline import causal_pairs
from .steps import step_table
from .traffic import Arrivals, ClosedLoop, Lengths

__all__ = ["EngineLimits", "Objective", "Replica", "RequestTimes", "Simulation", "simulate"]

Stat = Literal["mean", "p50", "p90", "p95", "p99"]
Metric = Literal["ttft", "tpot", "itl", "e2e"]

# Events (loop turns) without a request finishing after which a run is declared stuck: far
# more than any real run needs between two completions (an arrival, a prefill chunk or a run of
# decode steps each take one), so only an engine state that repeats forever reaches it.
STALL_ITERATIONS = 1_000_000


class StepCost(Protocol):
    """How long a step takes (``steps.StepTable`` for a deployment; a constant in toy tests)."""

    def step_s(self, decode_seqs: float, decode_context: float, prefill_tokens: float = 0.0,
               prefill_attended: float = 0.0) -> float: ...

    def decode_segment(self, decode_seqs: float, decode_context: float) -> tuple[float, float, float]: ...


@dataclass(frozen=True, slots=True)
class EngineLimits:
    """The engine-policy terms the simulation plays (from the engine profile and memory plan)."""

    max_batch: int  # sequences decoded or prefilled at once (max_batch_size)
    token_budget: int  # tokens one step processes: decodes + prefill chunks (max_num_tokens)
    kv_pool_tokens: float  # tokens of KV cache the pool holds
    admission: Literal["max_length", "average"] = "max_length"  # reserve ISL+OSL, or paged + preemption
    scheduling: Literal["decode_first", "prefill_first"] = "decode_first"
    request_overhead_s: float = 0.0  # per request before the engine sees it (HTTP, tokenise)
    # False: a prompt is prefilled whole in one step, beside the decoders and other prompts only
    # while all fit the budget (TensorRT-LLM without chunked context); one longer than the whole
    # budget is still chunked (an engine can only serve it with chunking on).
    chunked_prefill: bool = True

    def __post_init__(self) -> None:
        if self.max_batch < 1 or self.token_budget < 1 or not self.kv_pool_tokens >= 1:
            raise InputError("engine limits must allow at least one sequence, one token and one KV slot")


@dataclass(frozen=True, slots=True)
class Replica:
    """What a simulation runs: a step-time model and the engine's limits."""

    steps: StepCost
    limits: EngineLimits
    label: str = "replica"

    @classmethod
    def of(cls, dep: Deployment, isl_mean: float, osl_mean: float) -> Replica:
        """``dep`` as its engine profile configures it. The KV pool in tokens is the memory plan's
        pool over the bytes per token of a sequence of the mean length (exact for full-attention
        models; for sliding windows the per-token cost is that of the mean length)."""
        plan = memory_plan(dep, isl_mean, osl_mean)
        ctx = isl_mean + osl_mean
        per_token = dep.kv_bytes_per_gpu(ctx) / ctx
        e = dep.engine
        # Attention-DP groups each schedule their own sequences within their own KV pool and
        # token budget; the replica is simulated as one scheduler with dp times each limit
        # (balanced groups: imbalance between the groups is left out).
        d = dep.dp
        limits = EngineLimits(
            max_batch=d * min(e.max_batch_size, e.max_num_tokens), token_budget=d * e.max_num_tokens,
            kv_pool_tokens=d * plan.kv_pool_bytes / per_token, admission=e.kv_admission,
            scheduling=e.scheduling, request_overhead_s=e.request_overhead_s,
            chunked_prefill=e.chunked_prefill)
        return cls(step_table(dep), limits, dep.describe())


@dataclass(frozen=True, slots=True)
class Objective:
    """A latency objective: ``stat`` of ``metric`` ≤ ``limit_s``. Each request's own value ≤
    ``limit_s`` counts it as good (goodput). ``key`` is the workload's spelling: ``ttft_s`` for a
    mean, ``ttft_p95_s`` for a percentile."""

    metric: Metric
    stat: Stat
    limit_s: float

    @property
    def key(self) -> str:
        return f"{self.metric}_s" if self.stat == "mean" else f"{self.metric}_{self.stat}_s"

    def __str__(self) -> str:
        ms = self.limit_s * 1e3
        return f"{self.metric} {self.stat} <= " + (f"{ms:g} ms" if ms < 1000 else f"{self.limit_s:g} s")


@dataclass(frozen=True)
class RequestTimes:
    """Per request, in send order (seconds from the run's start; tokens)."""

    send: np.ndarray
    arrive: np.ndarray  # at the engine: send + request overhead
    admitted: np.ndarray  # first admission into the running batch
    first_token: np.ndarray
    end: np.ndarray
    isl: np.ndarray
    osl: np.ndarray
    cached: np.ndarray  # prompt tokens found in the prefix cache


@dataclass(frozen=True)
class Simulation:
    """The simulated run of ``requests`` requests (``warmup`` first sends left out of the
    statistics). Distributions are in seconds; throughputs per second of the measured window
    (first send to last end of the measured requests)."""

    requests: int
    warmup: int
    seed: int
    arrivals: str
    lengths: str
    replica: str
    ttft: Distribution
    tpot: Distribution
    itl: Distribution  # every output token's gap since the previous token of its request
    e2e: Distribution
    queue: Distribution  # wait from arriving at the engine to admission
    output_tokens_per_s: float
    requests_per_s: float
    offered_requests_per_s: float | None  # open loop only
    saturated: bool  # arrivals outpaced completions: latencies grow with the run's length
    mean_in_system: float  # time-average requests in the engine (waiting + running), whole run
    mean_running: float  # time-average requests admitted (prefilling or decoding)
    horizon_s: float  # first send to last end, whole run
    steps: int
    preemptions: int
    objectives: tuple[Objective, ...]
    goodput_requests_per_s: float | None  # requests meeting every objective's limit / s
    good_fraction: float | None
    times: RequestTimes = field(repr=False)
    notes: tuple[str, ...] = ()

    @property
    def provenance(self) -> Provenance:
        return Provenance("modelled", f"discrete-event simulation of {self.replica}: {self.requests:,} requests, "
                                      f"{self.arrivals}, {self.lengths}, seed {self.seed}")

    def value(self, metric: Metric, stat: Stat) -> float | None:
        return getattr(getattr(self, metric), stat)

    def misses(self, objectives: Sequence[Objective] | None = None) -> list[str]:
        """The objectives this run does not meet (empty: all met), each as 'ttft p95 1.2 s > 1 s'."""
        out = []
        for o in self.objectives if objectives is None else objectives:
            v = self.value(o.metric, o.stat)
            if v is None or v > o.limit_s:
                out.append(f"{o.metric} {o.stat} {_fmt_s(v)} > {_fmt_s(o.limit_s)}")
        return out

    def meets(self, objectives: Sequence[Objective] | None = None) -> bool:
        return not self.misses(objectives)

    def summary(self) -> dict[str, object]:
        """The figures as plain numbers (for JSON): distributions as dicts, no per-request arrays."""
        d: dict[str, object] = {k: getattr(self, k) for k in (
            "requests", "warmup", "seed", "arrivals", "lengths", "output_tokens_per_s", "requests_per_s",
            "offered_requests_per_s", "saturated", "mean_in_system", "mean_running", "horizon_s", "steps",
            "preemptions", "goodput_requests_per_s", "good_fraction")}
        for m in ("ttft", "tpot", "itl", "e2e", "queue"):
            dist = getattr(self, m)
            d[m] = {"n": dist.n, "mean": dist.mean, **{f"p{q}": getattr(dist, f"p{q}") for q in PERCENTILES},
                    "max": dist.max}
        d["objectives"] = [o.key for o in self.objectives]
        d["notes"] = list(self.notes)
        d["provenance"] = str(self.provenance)
        return d


def _fmt_s(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x * 1e3:.1f} ms" if x < 1 else f"{x:.2f} s"


# ---- the engine ----------------------------------------------------------------------------
class _Run:
    """One simulation's state. Decoding sequences are aggregated: all advance one token per
    decode step, so a sequence that joined at global step ``g0`` having produced ``p0`` tokens
    finishes at step ``g0 + osl − p0``, and the batch's summed context is ``ctx_base + B·G``."""

    def __init__(self, replica: Replica, send: np.ndarray, isl: np.ndarray, osl: np.ndarray,
                 cached: np.ndarray, clients: int | None) -> None:
        self.steps, self.lim = replica.steps, replica.limits
        n = len(isl)
        self.n = n
        self.isl, self.osl, self.cached = isl.tolist(), osl.tolist(), cached.tolist()
        self.send = send.tolist() if clients is None else [math.nan] * n
        nan = [math.nan] * n
        self.arrive, self.admitted, self.first, self.end = list(nan), list(nan), list(nan), list(nan)
        self.produced = [0] * n  # output tokens so far (kept across a preemption)
        self.g0 = [0] * n
        self.base = [0] * n  # isl + produced − g0 when decoding: its share of ctx_base
        self.version = [0] * n  # bumped on preemption: stale entries of the finish heap
        self.last_token = list(nan)  # of a preempted request, for its ITL gap after recompute
        self.clients = clients
        ovh = self.lim.request_overhead_s
        self.arrivals: list[tuple[float, int]] = []
        if clients is None:
            self.arrivals = [(t + ovh, i) for i, t in enumerate(self.send)]
            heapq.heapify(self.arrivals)
            self.next_id = n
        else:
            for i in range(min(clients, n)):
                self._send(i, 0.0)
            self.next_id = min(clients, n)
        self.now = 0.0
        self.waiting: deque[int] = deque()
        self.prefilling: list[list[int]] = []  # [id, done, need] in admission order
        self.order: list[int] = []  # admission order (LIFO preemption), lazily cleaned
        self.running_flag = [False] * n
        self.B = 0
        self.G = 0
        self.ctx_base = 0
        self.fin_heap: list[tuple[int, int, int]] = []  # (finish step, id, version)
        self.kv_prefill = 0  # paged: tokens held by prefilling requests
        self.reserved = 0  # max_length: tokens reserved by admitted requests
        self.completed = 0
        self.area = 0.0  # ∫ requests in the engine dt
        self.area_running = 0.0
        self.steps_taken = 0
        self.preemptions = 0
        self.last_decode_end = 0.0
        self.joined: list[tuple[int, float]] = []  # decoders joined since the last decode step
        self.gaps: list[float] = []
        self.gap_weights: list[float] = []

    # -- bookkeeping --------------------------------------------------------------------------
    def _send(self, i: int, t: float) -> None:
        self.send[i] = t
        heapq.heappush(self.arrivals, (t + self.lim.request_overhead_s, i))

    def _in_system(self) -> int:
        return len(self.waiting) + self.B + len(self.prefilling)

    def _advance(self, dt: float) -> None:
        self.area += self._in_system() * dt
        self.area_running += (self.B + len(self.prefilling)) * dt
        self.now += dt

    def _kv_used(self) -> float:
        if self.lim.admission == "max_length":
            return self.reserved
        return self.kv_prefill + self.ctx_base + self.B * self.G

    def _need(self, i: int) -> int:
        """Prompt tokens to compute on admission: the uncached prompt, plus the generated tokens
        of a preempted request (recompute); at least one token is always computed."""
        return max(self.isl[i] + self.produced[i] - self.cached[i], 1)

    def _fits(self, i: int, take: int, decode_tokens: int) -> bool:
        if self.lim.admission == "max_length":
            return self.reserved + self.isl[i] + self.osl[i] <= self.lim.kv_pool_tokens
        return self._kv_used() + decode_tokens + self.cached[i] + take <= self.lim.kv_pool_tokens

    def _admit(self, i: int, take: int) -> None:
        if math.isnan(self.admitted[i]):
            self.admitted[i] = self.now
        self.running_flag[i] = True
        self.order.append(i)
        if self.lim.admission == "max_length":
            self.reserved += self.isl[i] + self.osl[i]
        else:
            self.kv_prefill += self.cached[i]
        self.prefilling.append([i, 0, self._need(i)])

    def _join_decoders(self, i: int) -> None:
        self.g0[i] = self.G
        self.base[i] = self.isl[i] + self.produced[i] - self.G
        self.ctx_base += self.base[i]
        self.B += 1
        heapq.heappush(self.fin_heap, (self.G + self.osl[i] - self.produced[i], i, self.version[i]))
        self.joined.append((i, self.now))

    def _finish(self, i: int) -> None:
        self.end[i] = self.now
        self.running_flag[i] = False
        if self.lim.admission == "max_length":
            self.reserved -= self.isl[i] + self.osl[i]
        self.completed += 1
        if self.clients is not None and self.next_id < self.n:
            self._send(self.next_id, self.now)
            self.next_id += 1

    def _complete_decoders(self) -> None:
        h = self.fin_heap
        if not h or h[0][0] > self.G:
            return
        while h and h[0][0] <= self.G:
            _, i, ver = heapq.heappop(h)
            if ver != self.version[i]:
                continue
            self.B -= 1
            self.ctx_base -= self.base[i]
            self.produced[i] = self.osl[i]
            self._finish(i)

    def _preempt_one(self) -> None:
        """Evict the most recently admitted running request; it waits at the head of the queue
        and recomputes its prompt and generated tokens when readmitted."""
        while not self.running_flag[self.order[-1]]:
            self.order.pop()
        i = self.order.pop()
        self.running_flag[i] = False
        self.preemptions += 1
        for k, entry in enumerate(self.prefilling):
            if entry[0] == i:
                self.kv_prefill -= self.cached[i] + entry[1]
                del self.prefilling[k]
                break
        else:
            self.produced[i] += self.G - self.g0[i]
            self.B -= 1
            self.ctx_base -= self.base[i]
            self.version[i] += 1
            # Its last token: its (re)prefill's, if no decode step has run since it joined (a
            # prefill-only step does not move last_decode_end), else the last decode step's.
            self.last_token[i] = next((t for j, t in self.joined if j == i), self.last_decode_end)
            self.joined = [(j, t) for j, t in self.joined if j != i]
        self.waiting.appendleft(i)

    # -- one step or a run of decode steps ------------------------------------------------------
    def _plan_prefill(self, decode_first: bool) -> list[tuple[list[int], int]]:
        """Chunks for this step: running prefills first, then newly admitted requests in arrival
        order, within the token budget, the batch limit and the KV pool."""
        lim = self.lim
        decode_tokens = self.B if decode_first else 0
        budget = lim.token_budget - decode_tokens
        paged = lim.admission == "average"
        chunks: list[tuple[list[int], int]] = []
        # KV: the running decoders' next tokens are held back from prefills whichever step runs
        # first; a prefill that took them would be preempted by the next decode step and, under
        # prefill-first scheduling, readmitted into the same slot forever (a livelock).
        used = self.B
        for entry in self.prefilling:
            if budget <= 0:
                break
            take = min(entry[2] - entry[1], budget)
            if paged:
                take = min(take, int(lim.kv_pool_tokens - self._kv_used() - used))
                if take <= 0:
                    break
            chunks.append((entry, take))
            budget -= take
            used += take
        while self.waiting and budget > 0 and self.B + len(self.prefilling) < lim.max_batch:
            i = self.waiting[0]
            need = self._need(i)
            take = min(need, budget)
            if take < need and not lim.chunked_prefill and need <= lim.token_budget:
                # Whole prompts only: it waits (and the queue behind it, FCFS) for a step with room
                # for all of it; no admission meanwhile, so the decoders only drain and room comes.
                break
            if not self._fits(i, take, used):
                break
            self.waiting.popleft()
            self._admit(i, take)
            chunks.append((self.prefilling[-1], take))
            budget -= take
            used += take
        return chunks

    def _prefill_step(self, chunks: list[tuple[list[int], int]], decode_first: bool) -> None:
        B = self.B if decode_first else 0
        P = 0
        A = 0.0
        for entry, take in chunks:
            i = entry[0]
            A += causal_pairs(take, self.cached[i] + entry[1])
            P += take
        ctx = self.ctx_base / self.B + self.G if self.B else 0.0
        dt = self.steps.step_s(B, ctx, P, A)
        if B:
            self._record_gaps(1, dt)
        self._advance(dt)
        self.steps_taken += 1
        if B:
            self.G += 1
            self._complete_decoders()
        for entry, take in chunks:
            entry[1] += take
            if self.lim.admission == "average":
                self.kv_prefill += take
        for entry, _ in chunks:
            if entry[1] < entry[2]:
                continue
            i = entry[0]
            self.prefilling.remove(entry)
            if self.lim.admission == "average":
                self.kv_prefill -= self.cached[i] + entry[1]
            if math.isnan(self.first[i]):
                self.first[i] = self.now
            else:  # a recomputed request: its next token, after the gap of its preemption
                self.gaps.append(self.now - self.last_token[i])
                self.gap_weights.append(1.0)
            self.produced[i] += 1
            if self.produced[i] >= self.osl[i]:
                self._finish(i)
            else:
                self._join_decoders(i)

    def _decode_run(self, interruptible: bool) -> None:
        """k decode-only steps at once: until the next completion, the end of a straight piece
        of the step-time line, a full KV pool, or (``interruptible``) the step after the next
        arrival, whichever comes first."""
        B = self.B
        ctx = self.ctx_base / B + self.G
        t0, slope, end = self.steps.decode_segment(B, ctx)
        while self.fin_heap[0][2] != self.version[self.fin_heap[0][1]]:
            heapq.heappop(self.fin_heap)
        k = self.fin_heap[0][0] - self.G
        if end != math.inf:
            k = min(k, max(1, math.ceil(end - ctx)))
        if self.lim.admission == "average":
            k = min(k, max(1, int((self.lim.kv_pool_tokens - self._kv_used()) // B)))
        if interruptible and self.arrivals:
            gap = self.arrivals[0][0] - self.now
            k = min(k, max(1, _steps_to_cover(gap, t0, slope)))
        dt = k * t0 + slope * k * (k - 1) / 2
        self._record_gaps(k, dt, t0)
        self._advance(dt)
        self.steps_taken += k
        self.G += k
        self._complete_decoders()

    def _record_gaps(self, k: int, dt: float, first_dt: float | None = None) -> None:
        """Token gaps of a run of k decode steps lasting dt: the first step's gap runs from each
        decoder's previous token (the last decode step, or its own first token); the rest are the
        steps' mean length (the line's slope makes them differ by under a percent)."""
        first = dt if first_dt is None else first_dt
        t1 = self.now + first
        fresh = len(self.joined)
        if self.B - fresh > 0:
            self.gaps.append(t1 - self.last_decode_end)
            self.gap_weights.append(float(self.B - fresh))
        for _, t in self.joined:
            self.gaps.append(t1 - t)
            self.gap_weights.append(1.0)
        self.joined = []
        if k > 1:
            self.gaps.append((dt - first) / (k - 1))
            self.gap_weights.append(float(self.B * (k - 1)))
        self.last_decode_end = self.now + dt

    # -- the loop -------------------------------------------------------------------------------
    def run(self) -> None:
        lim = self.lim
        decode_first = lim.scheduling == "decode_first"
        stalled, done_before = 0, -1
        while self.completed < self.n:
            if self.completed != done_before:
                stalled, done_before = 0, self.completed
            stalled += 1
            if stalled > STALL_ITERATIONS:  # an engine state that repeats without finishing anything
                raise TruecostError(f"internal error: the serving simulation made no progress in "
                                    f"{STALL_ITERATIONS:,} events ({self.preemptions:,} preemptions); "
                                    "please report it with the command that ran")
            arrivals = self.arrivals
            while arrivals and arrivals[0][0] <= self.now:
                t, i = heapq.heappop(arrivals)
                self.arrive[i] = t
                self.area += self.now - t  # it was in the system since t
                self.waiting.append(i)
            if not self.B and not self.prefilling and not self.waiting:
                self.now = arrivals[0][0]  # idle until the next arrival
                self.last_decode_end = self.now
                continue
            if lim.admission == "average":
                while self.B and self._kv_used() + self.B > lim.kv_pool_tokens:
                    self._preempt_one()
            chunks = self._plan_prefill(decode_first) if self.waiting or self.prefilling else None
            if chunks:
                self._prefill_step(chunks, decode_first)
            elif self.B:
                # Decode until something changes; an arrival matters only if it could be admitted.
                interruptible = not self.waiting and self.B + len(self.prefilling) < lim.max_batch
                self._decode_run(interruptible)
            elif self.prefilling:
                self._preempt_one()  # prefills stuck on a full pool: free the newest
            else:
                raise InputError(f"request {self.waiting[0]} cannot be admitted on an empty engine: its "
                                 f"{self.isl[self.waiting[0]] + self.osl[self.waiting[0]]:,} tokens exceed "
                                 f"the KV pool of {lim.kv_pool_tokens:,.0f} tokens")


def _steps_to_cover(gap: float, t0: float, slope: float) -> int:
    """The fewest steps k with k·t0 + slope·k(k−1)/2 ≥ gap (step lengths t0, t0+slope, ...).

    The root of a·k² + b·k = gap (a = slope/2, b = t0 − slope/2) is taken as 2·gap / (b + √D)
    when b > 0: the textbook (−b + √D) / 2a loses every digit to cancellation when the slope is
    tiny next to t0 (slope 1e-15 s a step on 65 ms steps gave one step too few). The count is
    then checked against the sum it stands for, one step either way."""
    if gap <= 0:
        return 1
    if abs(slope) < 1e-15:
        return max(1, math.ceil(gap / t0))
    a, b = slope / 2, t0 - slope / 2
    disc = b * b + 4 * a * gap
    if not disc > 0:  # shrinking steps that never add up to the gap: as if they kept t0
        return max(1, math.ceil(gap / t0))
    root = 2 * gap / (b + math.sqrt(disc)) if b > 0 else (-b + math.sqrt(disc)) / (2 * a)
    k = max(1, math.ceil(root))

    def covered(n: int) -> float:  # what _decode_run advances by for n steps
        return n * t0 + slope * n * (n - 1) / 2

    if k > 1 and covered(k - 1) >= gap:
        return k - 1
    return k if covered(k) >= gap else k + 1


# ---- statistics ----------------------------------------------------------------------------
def _distribution(values: np.ndarray) -> Distribution:
    """Mean and percentiles, interpolating linearly between order statistics (numpy's default
    method, as ``bench.metrics.percentile``), without np.percentile's per-call overhead."""
    defined = np.sort(values[~np.isnan(values)])
    n = len(defined)
    if not n:
        return Distribution(0, len(values), None, None, None, None, None, None, None)
    qs = []
    for q in PERCENTILES:
        pos = (n - 1) * q / 100
        lo = int(pos)
        hi = min(lo + 1, n - 1)
        qs.append(float(defined[lo] + (defined[hi] - defined[lo]) * (pos - lo)))
    return Distribution(n, len(values) - n, float(defined.mean()), *qs, float(defined[0]), float(defined[-1]))


def _weighted_distribution(values: list[float], weights: list[float]) -> Distribution:
    if not values:
        return Distribution(0, 0, None, None, None, None, None, None, None)
    v = np.asarray(values)
    w = np.asarray(weights)
    order = np.argsort(v)
    v, w = v[order], w[order]
    cum = np.cumsum(w)
    total = cum[-1]
    qs = [float(v[min(np.searchsorted(cum, total * q / 100), len(v) - 1)]) for q in PERCENTILES]
    return Distribution(int(total), 0, float(np.dot(v, w) / total), *qs, float(v[0]), float(v[-1]))


def simulate(target: Deployment | Replica, arrivals: Arrivals, lengths: Lengths, *, requests: int = 1000,
             seed: int = 0, warmup: int = 0, objectives: Sequence[Objective] = (),
             prefix_hit_fraction: float = 0.0) -> Simulation:
    """Simulate ``requests`` requests of ``lengths`` arriving as ``arrivals`` on one replica.

    ``target`` is a deployment (its engine profile sets the policy) or a ``Replica`` (a step
    model and limits of your own). ``prefix_hit_fraction`` of each prompt is found in the
    prefix cache and not prefilled; it applies only when the engine profile caches prefixes (a
    ``Replica`` takes it as given). The first ``warmup`` sends run but are left out of the
    statistics. Seeded: the same arguments give the same run.

        >>> from truecost.perf.traffic import Poisson, Fixed
        >>> dep = make_deployment("llama-3.1-8b", "h100-sxm", "fp8")  # doctest: +SKIP
        >>> sim = simulate(dep, Poisson(10), Fixed(1000, 200), requests=2000)  # doctest: +SKIP
        >>> sim.ttft.p95, sim.tpot.p99, sim.output_tokens_per_s  # doctest: +SKIP
    """
    if requests < 1:
        raise InputError(f"a simulation needs at least 1 request, got {requests}")
    if not 0 <= warmup < requests:
        raise InputError(f"warmup must be within [0, {requests}), got {warmup}")
    if not 0 <= prefix_hit_fraction <= 1:
        raise InputError(f"prefix hit fraction must be within [0, 1], got {prefix_hit_fraction}")
    rng = np.random.default_rng(seed)
    isl, osl = lengths.draw(requests, rng)
    if isinstance(target, Deployment):
        limit = target.model.max_context
        if int((isl + osl).max()) > limit:
            raise InputError(f"a request of {int((isl + osl).max()):,} tokens exceeds {target.model.key}'s "
                             f"context of {limit:,} tokens")
        replica = Replica.of(target, *lengths.means)
        hit = prefix_hit_fraction if target.engine.prefix_caching else 0.0
    else:
        replica, hit = target, prefix_hit_fraction
    longest = int((isl + osl).max())
    if longest > replica.limits.kv_pool_tokens:
        raise InputError(f"a request of {longest:,} tokens (input + output) exceeds the KV pool of "
                         f"{replica.limits.kv_pool_tokens:,.0f} tokens: it could never finish; shorten the "
                         "lengths or give the replica more memory (--tp, a lower precision)")
    cached = np.floor(isl * hit).astype(np.int64)
    if isinstance(arrivals, ClosedLoop):
        send, clients = np.zeros(0), arrivals.concurrency
    else:
        send, clients = np.asarray(arrivals.send_times(requests, seed), dtype=np.float64), None
    run = _Run(replica, send, isl, osl, cached, clients)
    run.run()
    return _result(run, replica, arrivals, lengths, requests, seed, warmup, tuple(objectives), isl, osl, cached)


def _result(run: _Run, replica: Replica, arrivals: Arrivals, lengths: Lengths, requests: int, seed: int,
            warmup: int, objectives: tuple[Objective, ...], isl: np.ndarray, osl: np.ndarray,
            cached: np.ndarray) -> Simulation:
    times = RequestTimes(np.asarray(run.send), np.asarray(run.arrive), np.asarray(run.admitted),
                         np.asarray(run.first), np.asarray(run.end), isl, osl, cached)
    m = slice(warmup, None)
    send, first, end = times.send[m], times.first_token[m], times.end[m]
    o = osl[m].astype(np.float64)
    ttft = first - send
    e2e = end - send
    with np.errstate(invalid="ignore", divide="ignore"):
        tpot = np.where(o > 1, (end - first) / (o - 1), np.nan)
    window = float(end.max() - send.min())
    horizon = float(times.end.max() - times.send.min())
    out_tps = float(o.sum() / window) if window > 0 else math.inf
    rps = len(o) / window if window > 0 else math.inf
    offered = None if isinstance(arrivals, ClosedLoop) else (
        (requests - 1) / float(times.send.max() - times.send.min()) if times.send.max() > times.send.min() else None)
    notes = []
    saturated = _saturated(times, requests) if offered is not None else False
    if saturated:
        notes.append("saturated: arrivals outpace completions, so the queue (and TTFT) grows with the run's length")
    good = None
    goodput = None
    if objectives:
        ok = np.ones(len(o), dtype=bool)
        per_request = {"ttft": ttft, "e2e": e2e, "tpot": tpot, "itl": tpot}
        for obj in objectives:
            v = per_request[obj.metric]
            ok &= np.where(np.isnan(v), obj.metric in ("tpot", "itl"), v <= obj.limit_s)
        good = float(ok.mean())
        goodput = float(ok.sum() / window) if window > 0 else None
    return Simulation(
        requests=requests, warmup=warmup, seed=seed, arrivals=str(arrivals), lengths=str(lengths),
        replica=replica.label, ttft=_distribution(ttft), tpot=_distribution(tpot),
        itl=_weighted_distribution(run.gaps, run.gap_weights), e2e=_distribution(e2e),
        queue=_distribution(times.admitted[m] - times.arrive[m]), output_tokens_per_s=out_tps, requests_per_s=rps,
        offered_requests_per_s=offered, saturated=saturated, mean_in_system=run.area / horizon if horizon else 0.0,
        mean_running=run.area_running / horizon if horizon else 0.0, horizon_s=horizon, steps=run.steps_taken,
        preemptions=run.preemptions, objectives=objectives, goodput_requests_per_s=goodput, good_fraction=good,
        times=times, notes=tuple(notes))


def _saturated(times: RequestTimes, n: int) -> bool:
    """Open loop: completions over the middle three fifths of the sends fall more than 10% short
    of the sends in that window (beyond the noise of a few hundred requests)."""
    order = np.sort(times.send)
    lo, hi = order[n // 5], order[(4 * n) // 5]
    if hi <= lo or n < 50:
        return False
    sent = ((times.send >= lo) & (times.send < hi)).sum()
    done = ((times.end >= lo) & (times.end < hi)).sum()
    return bool(done < 0.9 * sent)
