"""One streamed request to an OpenAI-compatible endpoint, timed on the client.

The hot path does as little as possible: for each network read it appends ``perf_counter()`` and
the bytes. The event stream is parsed after the response ends (``parse_stream``), with byte
searches instead of a JSON parse per chunk: each SSE event gets the arrival time of the read that
completed it, token-bearing events are recognised by a non-empty ``content``/``text`` (output) or
``reasoning_content``/``reasoning`` (reasoning) string, and only events that carry ``usage`` or an
error are decoded. The server's last non-null ``usage`` is kept (never summed).

The transport is aiohttp: on a 2-core machine it spent 0.33 ms of CPU per streamed request
against 2.0 ms for httpx 0.28 (16-token replies from ``tests/fakeserver.py``, 1000 requests,
concurrency 1-32), i.e. about 6x the request rate from one client core.

The API key is sent as ``Authorization: Bearer``; it lives in ``Endpoint.api_key``, which is left
out of the repr, and it is scrubbed from any server message kept in a record or an error.
Deliberately left out: tool-call deltas (not counted as tokens), HTTP proxies (latency through a
proxy is not the endpoint's), non-OpenAI wire formats.
"""

from __future__ import annotations

import errno
import json
import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate
from time import perf_counter
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from ..errors import EndpointError, InputError
from .record import RequestRecord
from .workload import RequestSpec

__all__ = ["API_KEY_ENV", "FATAL_KINDS", "Clock", "Endpoint", "ParsedStream", "fatal",
           "parse_stream", "send"]

API_KEY_ENV = ("TRUECOST_API_KEY", "OPENAI_API_KEY")  # first one set wins
# Errors that every further request would repeat: the run stops at the first one.
FATAL_KINDS = frozenset({"connect", "http_401", "http_403", "http_404", "not_streaming",
                         "malformed"})


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and what to benchmark. ``url`` is the full URL of the completions route.

    >>> Endpoint.of("http://localhost:8000/v1", "my-model").url
    'http://localhost:8000/v1/chat/completions'
    """

    url: str
    model: str
    api: Literal["chat", "completions"] = "chat"
    api_key: str | None = field(default=None, repr=False, compare=False)
    timeout_s: float = 600.0  # whole request, first byte to last
    ignore_eos: bool = False  # ask vLLM/SGLang to generate exactly max_tokens

    @classmethod
    def of(cls, url: str, model: str, *, api_key: str | None = None, timeout_s: float = 600.0,
           ignore_eos: bool = False) -> Endpoint:
        """Normalise ``url``: a base (``http://host:8000`` or ``.../v1``) gets
        ``/chat/completions`` (and ``/v1`` when it has no path); a URL ending in
        ``/completions`` uses the legacy text API. ``api_key`` None reads the environment
        (``TRUECOST_API_KEY``, then ``OPENAI_API_KEY``)."""
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(f"endpoint URL must start with http:// or https:// and name a host, "
                             f"got '{_display(url)}'")
        path = parts.path.rstrip("/")
        if path.endswith("/chat/completions"):
            api = "chat"
        elif path.endswith("/completions"):
            api = "completions"
        else:
            api, path = "chat", (path or "/v1") + "/chat/completions"
        if not model:
            raise InputError("give the model name the server serves (--model)")
        if not timeout_s > 0:
            raise InputError(f"timeout must be > 0 s, got {timeout_s}")
        if api_key is None:
            api_key = next((os.environ[k] for k in API_KEY_ENV if os.environ.get(k)), None)
        return cls(urlunsplit(parts._replace(path=path)), model, api, api_key, timeout_s, ignore_eos)

    @property
    def display_url(self) -> str:
        """The URL without credentials or query string: safe to print and store."""
        return _display(self.url)

    def headers(self) -> dict[str, str]:
        h = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:
            h["Authorization"] = f"Bearer {self.api_key}"
        return h

    def body(self, spec: RequestSpec) -> bytes:
        """The JSON request body for ``spec`` (built before the run, off the hot path)."""
        d: dict[str, Any] = {"model": self.model, "stream": True,
                             "stream_options": {"include_usage": True}}
        if self.api == "chat":
            d["messages"] = (list(spec.messages) if spec.messages is not None
                             else [{"role": "user", "content": spec.prompt}])
        else:
            d["prompt"] = (spec.prompt if spec.prompt is not None
                           else "\n".join(str(m.get("content", "")) for m in spec.messages or ()))
        if spec.max_tokens is not None:
            d["max_tokens"] = spec.max_tokens
        if self.ignore_eos:
            d["ignore_eos"] = True
        return json.dumps(d, separators=(",", ":")).encode()

    def scrub(self, text: str) -> str:
        """One line of at most 200 characters, without the API key."""
        line = " ".join(text.split())
        if self.api_key:
            line = line.replace(self.api_key, "***")
        return line[:200] + ("..." if len(line) > 200 else "")


def _display(url: str) -> str:
    p = urlsplit(url)
    host = p.hostname or ""
    netloc = (f"[{host}]" if ":" in host else host) + (f":{p.port}" if p.port else "")
    return urlunsplit((p.scheme, netloc, p.path, "", ""))


@dataclass(frozen=True, slots=True)
class Clock:
    """Maps ``perf_counter()`` readings to wall-clock epoch seconds (one pair read at start)."""

    wall0: float
    perf0: float

    def wall(self, perf: float) -> float:
        return self.wall0 + (perf - self.perf0)

    def perf(self, wall: float) -> float:
        return self.perf0 + (wall - self.wall0)


# -- parsing (after the response) ------------------------------------------------------------
_DATA_OBJ = (b"data: {", b"data:{")
_NONEMPTY = re.compile(rb'\s*:\s*"(?!")')  # after a key: a string value, not ""
_NULL = re.compile(rb'\s*:\s*null')
_ERROR = re.compile(rb'^\{\s*"error"\s*:|"object"\s*:\s*"error"')


@dataclass(slots=True)
class ParsedStream:
    """What an event stream said, with perf_counter arrival times."""

    first_chunk: float | None = None
    first_token: float | None = None
    first_output: float | None = None
    chunk_times: list[float] = field(default_factory=list)
    reasoning_chunks: int = 0
    usage: dict[str, Any] | None = None
    events: int = 0
    done: bool = False
    malformed: str | None = None  # the first bad event
    error: str | None = None  # an error object sent inside the stream


def _mark_token(out: ParsedStream, t: float, payload: bytes) -> None:
    """Record a chunk that carries output text or reasoning (the one rule for both parse paths)."""
    output = _has_text(payload, b'"content"') or _has_text(payload, b'"text"')
    if output or _has_text(payload, b'"reasoning_content"') or _has_text(payload, b'"reasoning"'):
        if out.first_token is None:
            out.first_token = t
        if output and out.first_output is None:
            out.first_output = t
        out.chunk_times.append(t)
        out.reasoning_chunks += not output


def parse_stream(times: list[float], reads: list[bytes]) -> ParsedStream:
    """Parse SSE bytes read at ``times``; an event takes the time of the read completing it.

    The body is split into events in C, and a plain one-line ``data: {...}`` event costs a few
    substring searches; anything else (comments, multi-line data, garbage) goes through
    ``_event``, and a stream that mentions an error is parsed event by event."""
    body = b"".join(reads)
    if b"\r" in body:
        reads = [r.replace(b"\r\n", b"\n") for r in reads]
        body = b"".join(reads)
    if b'"error"' in body:
        return _parse_slowly(times, reads)
    out = ParsedStream()
    ends = list(accumulate(map(len, reads)))  # body offset where each read ends
    *events, tail = body.split(b"\n\n")
    pos = ri = 0
    for ev in events:
        pos += len(ev) + 2  # the event is complete once its "\n\n" has arrived
        while ends[ri] < pos:
            ri += 1
        t = times[ri]
        if ev.startswith(_DATA_OBJ) and ev.endswith(b"}") and b"\n" not in ev and (
                out.events or _is_json(ev[5:])):
            out.events += 1
            if out.first_chunk is None:
                out.first_chunk = t
            _mark_token(out, t, ev)
        elif ev:
            _event(out, t, ev)
            if out.malformed or out.done:
                break
    else:
        if tail.strip():
            _event(out, times[-1], tail)  # a last event without the blank line after it
    i = body.rfind(b'"usage"')  # the last usage object wins: never summed
    while i >= 0 and _NULL.match(body, i + 7):
        i = body.rfind(b'"usage"', 0, i)
    if i >= 0:
        lo, hi = body.rfind(b"\n\n", 0, i), body.find(b"\n\n", i)
        ev = body[lo + 2 if lo >= 0 else 0:hi if hi >= 0 else len(body)]
        obj = _loads(b"\n".join(ln[5:] for ln in ev.split(b"\n") if ln.startswith(b"data:")))
        if isinstance(obj, dict) and isinstance(obj.get("usage"), dict):
            out.usage = obj["usage"]
    return out


def _parse_slowly(times: list[float], reads: list[bytes]) -> ParsedStream:
    """Event by event (used when the stream mentions an error)."""
    out, buf = ParsedStream(), b""
    for t, data in zip(times, reads):
        buf += data
        if b"\n\n" not in buf:
            continue
        *events, buf = buf.split(b"\n\n")
        for ev in events:
            _event(out, t, ev)
            if out.malformed or out.done:
                return out
    if buf.strip() and not out.malformed:
        _event(out, times[-1], buf)
    return out


def _event(out: ParsedStream, t: float, ev: bytes) -> None:
    if ev.startswith(b"data:") and b"\n" not in ev:  # the usual case: one data line
        payload = ev[5:].strip()
    else:
        lines = ev.strip().split(b"\n")
        data = [ln[5:].removeprefix(b" ") for ln in lines if ln.startswith(b"data:")]
        if not data:
            if ev.strip() and not all(ln.startswith((b":", b"event:", b"id:", b"retry:"))
                                      for ln in lines):
                out.malformed = ev[:80].decode("utf-8", "replace")
            return  # comments (keep-alive pings) and event names carry no data
        payload = b"\n".join(data).strip()
    if payload == b"[DONE]":
        out.done = True
        return
    if not (payload.startswith(b"{") and payload.endswith(b"}")) or (
            out.events == 0 and not _is_json(payload)):
        out.malformed = payload[:80].decode("utf-8", "replace")
        return
    out.events += 1
    if out.first_chunk is None:
        out.first_chunk = t
    if b'"error"' in payload and _ERROR.search(payload):  # OpenAI {"error": ..}, vLLM {"object": "error"}
        obj = _loads(payload)
        err = (obj.get("error") or obj) if isinstance(obj, dict) else None
        out.error = str(err.get("message", err) if isinstance(err, dict) else err)
        return
    _mark_token(out, t, payload)
    i = payload.find(b'"usage"')
    if i >= 0 and not _NULL.match(payload, i + 7):
        obj = _loads(payload)
        if isinstance(obj, dict) and isinstance(obj.get("usage"), dict):
            out.usage = obj["usage"]  # the last non-null usage wins; never summed


def _has_text(payload: bytes, key: bytes) -> bool:
    """Whether ``key`` (a quoted JSON key) has a non-empty string value. A key inside a string
    value is escaped (``\\"content\\"``), so a plain substring search finds only real keys."""
    i = payload.find(key)
    while i >= 0:
        if _NONEMPTY.match(payload, i + len(key)):
            return True
        i = payload.find(key, i + 1)
    return False


def _is_json(payload: bytes) -> bool:
    try:
        json.loads(payload)
    except ValueError:
        return False
    return True


def _loads(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        return None


def _int(d: Any, *keys: str) -> int | None:
    for k in keys:
        d = d.get(k) if isinstance(d, dict) else None
    return d if isinstance(d, int) else None


# -- one request -----------------------------------------------------------------------------
# Some servers (llama.cpp's llama-server) announce keep-alive but close the connection after each
# streamed reply; aiohttp may then send the next request on that dead pooled connection. A request
# that failed that way before any status or byte came back was never served, so it is resent on a
# fresh connection, its actual send time taken again (latency from intended send keeps the delay).
STALE_CONNECTION_RETRIES = 3


async def send(session: aiohttp.ClientSession, ep: Endpoint, headers: dict[str, str], body: bytes,
               clock: Clock, *, point: int, index: int, intended: float | None,
               spec: RequestSpec,
               on_body: Callable[[int, list[bytes]], None] | None = None) -> RequestRecord:
    """Send one request and return its record (errors are records too, never exceptions).
    ``on_body(index, reads)`` receives the raw bytes of the reply after it ended (``eval``
    decodes the answer text from them; ``bench`` passes None and keeps nothing)."""
    times: list[float] = []
    reads: list[bytes] = []
    status: int | None = None
    kind = message = None
    for attempt in range(STALE_CONNECTION_RETRIES + 1):
        t_send = perf_counter()
        try:
            async with session.post(ep.url, data=body, headers=headers) as resp:
                status = resp.status
                if status != 200:
                    kind, message = _http_error(ep, status, await resp.text(errors="replace"))
                elif "text/event-stream" not in resp.headers.get("Content-Type", ""):
                    await resp.read()
                    kind, message = "not_streaming", (
                        f"{ep.display_url} ignored stream=true and answered with "
                        f"{resp.headers.get('Content-Type') or 'a non-stream body'}; truecost needs a "
                        f"streaming (SSE) endpoint to time tokens")
                else:
                    async for data in resp.content.iter_any():
                        times.append(perf_counter())
                        reads.append(data)
        except aiohttp.ClientConnectorError as e:
            kind, message = "connect", f"cannot connect to {ep.display_url}: {_why(e)}"
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as e:
            if status is None and not reads and attempt < STALE_CONNECTION_RETRIES:
                continue  # a pooled connection the server had already closed: resend on a new one
            if isinstance(e, aiohttp.ServerDisconnectedError):
                kind, message = "disconnect", "the server closed the connection before the response ended"
            else:
                kind, message = "client_error", ep.scrub(f"{type(e).__name__}: {e}")
        except (aiohttp.ClientPayloadError, ConnectionError):
            kind, message = "disconnect", "the server closed the connection before the response ended"
        except TimeoutError:
            kind, message = "timeout", f"no complete response within {ep.timeout_s:g} s"
        except aiohttp.ClientError as e:
            kind, message = "client_error", ep.scrub(f"{type(e).__name__}: {e}")
        break
    t_end = perf_counter()
    if on_body is not None:
        on_body(index, reads)
    p = parse_stream(times, reads) if times else ParsedStream()
    if kind is None:
        if p.malformed is not None:
            kind, message = "malformed", (f"{ep.display_url} sent a malformed event stream: "
                                          f"{ep.scrub(p.malformed)!r}")
        elif p.error is not None:
            kind, message = "stream_error", ep.scrub(p.error)
        elif p.events == 0:
            kind, message = "empty_stream", "the event stream ended without any data event"
    u, shift = p.usage, clock.wall0 - clock.perf0

    def w(t: float) -> float:
        return t + shift

    return RequestRecord(
        point=point, index=index, intended_send=intended, actual_send=w(t_send), end=w(t_end),
        first_chunk=w(p.first_chunk) if p.first_chunk is not None else None,
        first_token=w(p.first_token) if p.first_token is not None else None,
        first_output=w(p.first_output) if p.first_output is not None else None,
        last_token=w(p.chunk_times[-1]) if p.chunk_times else None,
        chunk_times=[t + shift for t in p.chunk_times],
        prompt_tokens=_int(u, "prompt_tokens"), completion_tokens=_int(u, "completion_tokens"),
        reasoning_tokens=_int(u, "completion_tokens_details", "reasoning_tokens"),
        cached_tokens=_int(u, "prompt_tokens_details", "cached_tokens"),
        client_prompt_tokens=spec.input_tokens, client_output_tokens=len(p.chunk_times),
        client_reasoning_tokens=p.reasoning_chunks, max_tokens=spec.max_tokens,
        response_bytes=sum(map(len, reads)), status=status, error_kind=kind, error=message)


def _http_error(ep: Endpoint, status: int, text: str) -> tuple[str, str]:
    obj = _loads(text.encode())
    err = obj.get("error", obj.get("detail", obj.get("message"))) if isinstance(obj, dict) else None
    msg = ep.scrub(str(err.get("message", err) if isinstance(err, dict) else err or text))
    if status in (401, 403):
        how = ("no API key is set" if not ep.api_key else "the API key was rejected")
        return f"http_{status}", (f"{ep.display_url} refused the request (HTTP {status}): {how}; "
                                  f"set TRUECOST_API_KEY or OPENAI_API_KEY")
    if status == 404:
        if "model" in msg.lower() or ep.model in msg:
            return "http_404", (f"{ep.display_url} does not serve model '{ep.model}' "
                                f"(HTTP 404: {msg}); check --model")
        return "http_404", (f"{ep.display_url} was not found (HTTP 404); give the server's "
                            f"OpenAI-compatible base URL, e.g. http://HOST:8000/v1")
    return f"http_{status}", f"HTTP {status}: {msg}" if msg else f"HTTP {status}"


def _why(e: aiohttp.ClientConnectorError) -> str:
    os_err = e.os_error
    if isinstance(os_err, socket.gaierror):
        return "host not found"
    if os_err.errno == errno.ECONNREFUSED or isinstance(os_err, ConnectionRefusedError):
        return "connection refused (is the server running?)"
    return (os_err.strerror or str(os_err) or type(os_err).__name__).lower()


def fatal(record: RequestRecord) -> EndpointError | None:
    """The error that ends a run when ``record`` failed in a way every request would."""
    return EndpointError(record.error or record.error_kind) if record.error_kind in FATAL_KINDS else None
