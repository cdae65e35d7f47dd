"""The raw measurement of one request: timestamps and token counts, nothing derived.

A ``RequestRecord`` is what the load generator writes and what every metric is computed from
(``metrics.py``). Timestamps are wall-clock epoch seconds (``time.time()`` at the start of a shard
plus ``perf_counter`` deltas), so records from clients in different processes or machines merge
on one time axis. Records are plain picklable dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

__all__ = ["FIELDS", "SIDE_FIELDS", "RequestRecord"]


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request as measured. ``None`` means "did not happen" (no token arrived, no usage)."""

    point: int  # operating point (one concurrency or rate of a run)
    index: int  # position in the point's schedule (send order for closed loop)
    intended_send: float | None  # when the schedule said to send; None in closed loop
    actual_send: float  # just before the request was handed to the connection
    end: float  # response fully read, or the error
    first_chunk: float | None = None  # first SSE data event (a role-only chunk counts)
    first_token: float | None = None  # first non-empty content *or* reasoning delta
    first_output: float | None = None  # first non-empty content (non-reasoning) delta
    last_token: float | None = None  # last non-empty content or reasoning delta
    chunk_times: list[float] = field(default_factory=list)  # arrival of each token-bearing chunk
    # server-reported usage (billing truth): the last non-null ``usage`` object, never a sum
    prompt_tokens: int | None = None
    completion_tokens: int | None = None  # includes reasoning tokens (OpenAI semantics)
    reasoning_tokens: int | None = None  # completion_tokens_details.reasoning_tokens
    cached_tokens: int | None = None  # prompt_tokens_details.cached_tokens
    # client-side counts: the workload's own prompt size, and token-bearing chunks received
    client_prompt_tokens: int | None = None
    client_output_tokens: int = 0  # content + reasoning chunks (one token each on most servers)
    client_reasoning_tokens: int = 0  # reasoning chunks
    max_tokens: int | None = None
    response_bytes: int = 0
    status: int | None = None  # HTTP status; None when no response arrived
    error_kind: str | None = None  # None for a success; "http_429", "disconnect", ...
    error: str | None = None  # one line, never containing the API key
    # 429/503 answers with Retry-After waited out before the last attempt (whose send and
    # timestamps are the ones above). Stored in a side table (store.py), not in ``FIELDS``.
    throttled: int = 0

    @property
    def ok(self) -> bool:
        return self.error_kind is None

    @property
    def output_tokens(self) -> int:
        """Server ``completion_tokens`` when reported (reasoning included), else the chunk count."""
        return self.completion_tokens if self.completion_tokens is not None else self.client_output_tokens

    @property
    def input_tokens(self) -> int | None:
        return self.prompt_tokens if self.prompt_tokens is not None else self.client_prompt_tokens

    @property
    def reasoning(self) -> int:
        """Reasoning tokens: the server's count when reported, else reasoning chunks."""
        return self.reasoning_tokens if self.reasoning_tokens is not None else self.client_reasoning_tokens

    def to_row(self) -> tuple:
        """The stored columns (``FIELDS``), in order."""
        return tuple(getattr(self, n) for n in FIELDS)

    @classmethod
    def from_row(cls, row: tuple | list, throttled: int = 0) -> RequestRecord:
        values = dict(zip(FIELDS, row, strict=True))
        values["chunk_times"] = list(values["chunk_times"] or [])
        return cls(**values, throttled=throttled or 0)


SIDE_FIELDS = ("throttled",)  # kept beside the request table, keyed by (run, point, index)
FIELDS: tuple[str, ...] = tuple(f.name for f in fields(RequestRecord) if f.name not in SIDE_FIELDS)
