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
out of the repr, and it is scrubbed (in any letter case) from any server message kept in a record
or an error.

What a server can make the client hold is bounded: a response is cut at ``max_response_bytes``
(bytes read plus ``READ_OVERHEAD_BYTES`` of bookkeeping per read, error kind ``too_large``), an
error body is read to ``ERROR_BODY_BYTES`` at most, connecting (TCP and TLS) must finish within
``CONNECT_TIMEOUT_S``, and ``timeout_s`` bounds the whole request: waits the server asked for,
reading and parsing. A 429 or 503 with ``Retry-After`` is waited out and resent (at most
``THROTTLE_RETRIES`` times, each wait at most ``MAX_RETRY_AFTER_S`` and within ``timeout_s``),
counted in the record's ``throttled``; ``retry_after=False`` turns that off for pure load tests.
Deliberately left out: tool-call deltas (not counted as tokens), HTTP proxies (latency through a
proxy is not the endpoint's), non-OpenAI wire formats.
"""

from __future__ import annotations

import asyncio
import errno
import json
import math
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from itertools import accumulate
from time import perf_counter
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from ..checks import API_KEY_ENV, api_key as checked_api_key, number, scrub
from ..errors import EndpointError, InputError
from .record import RequestRecord
from .workload import RequestSpec

__all__ = ["API_KEY_ENV", "CONNECT_TIMEOUT_S", "DEFAULT_MAX_RESPONSE_BYTES", "FATAL_KINDS",
           "Clock", "Endpoint", "ParsedStream", "connect_timeouts", "fatal", "parse_stream",
           "retry_after_s", "send"]

# Errors that every further request would repeat: the run stops at the first one.
FATAL_KINDS = frozenset({"connect", "tls", "http_401", "http_403", "http_404", "not_streaming",
                         "malformed", "internal"})
# The longest reply of any model is well under 1 MiB of SSE (128k tokens x ~100 bytes per event
# is 12.8 MiB): 64 MiB is generous for a real server and a hard stop for an endless one.
DEFAULT_MAX_RESPONSE_BYTES = 64 * 2**20
# Bookkeeping of one network read (a bytes object and a float in two lists, ~100 bytes in
# CPython), counted against the cap so that a server dripping one byte per read is bounded too.
READ_OVERHEAD_BYTES = 100
ERROR_BODY_BYTES = 64 * 2**10  # an error's body: its message is kept to 200 characters anyway
# A TCP connect and TLS handshake that take longer are not a server under load but a wrong
# address or scheme (https:// to a plain-HTTP port waits for a handshake that never comes).
CONNECT_TIMEOUT_S = 10.0
THROTTLE_RETRIES = 3  # 429/503 with Retry-After: resends of one request at most
MAX_RETRY_AFTER_S = 60.0  # a longer wait asked for is not waited: the request fails as http_429
PARSE_CHECK_EVENTS = 4096  # the parser looks at the clock once per this many events
# Of a bad event, this much is kept; the message shows 200 characters of it *after* the key is
# scrubbed, so a key the server echoed cannot survive cut in half at the end of what is kept.
MALFORMED_KEPT = 512


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
    timeout_s: float = 600.0  # whole request: send, waits asked for, reading and parsing
    ignore_eos: bool = False  # ask vLLM/SGLang to generate exactly max_tokens
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES  # beyond it: error kind "too_large"
    retry_after: bool = True  # wait out a 429/503's Retry-After and resend (False: an error)

    @classmethod
    def of(cls, url: str, model: str, *, api_key: str | None = None, timeout_s: float = 600.0,
           ignore_eos: bool = False, max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
           retry_after: bool = True) -> Endpoint:
        """Normalise ``url``: a base (``http://host:8000`` or ``.../v1``) gets
        ``/chat/completions`` (and ``/v1`` when it has no path); a URL ending in
        ``/completions`` uses the legacy text API. ``api_key`` None reads the environment
        (``TRUECOST_API_KEY``, then ``OPENAI_API_KEY``); a key is used stripped, and one with
        whitespace inside is refused. Credentials in the URL are refused (they would be sent
        beside the key and escape the scrubbing of keys)."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:  # a port that is not a number, a bad IPv6 literal
            raise InputError(f"endpoint URL '{_display(url)}' is not a valid URL (check the host "
                             f"and port)") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(f"endpoint URL must start with http:// or https:// and name a host, "
                             f"got '{_display(url)}'")
        if parts.username is not None or parts.password is not None:
            raise InputError(f"endpoint URL '{_display(url)}' carries credentials (user:password@); "
                             f"drop them and set the key in TRUECOST_API_KEY (sent as a Bearer token)")
        if port == 0:
            raise InputError(f"endpoint URL '{_display(url)}' has port 0; give the server's port")
        path = parts.path.rstrip("/")
        if path.endswith("/chat/completions"):
            api = "chat"
        elif path.endswith("/completions"):
            api = "completions"
        else:
            api, path = "chat", (path or "/v1") + "/chat/completions"
        if not model or not model.strip():
            raise InputError("give the model name the server serves (--model)")
        timeout_s = number(timeout_s, "--timeout-s", gt=0, unit="s")
        max_response_bytes = int(number(max_response_bytes, "--max-response-bytes",
                                        ge=MIN_RESPONSE_BYTES))
        return cls(urlunsplit(parts._replace(path=path)), model.strip(), api,
                   checked_api_key(api_key), timeout_s, ignore_eos, max_response_bytes,
                   retry_after)

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
        """One line of at most 200 characters, without the API key (in any letter case) or the
        URL's query string."""
        line = scrub(" ".join(text.split()).replace(self.url, self.display_url), self.api_key)
        return line[:200] + ("..." if len(line) > 200 else "")


MIN_RESPONSE_BYTES = 1024  # a smaller cap would cut off the first event of any reply


def _display(url: str) -> str:
    """``url`` without credentials or query: safe to print and store (even if malformed)."""
    try:
        p = urlsplit(url.strip())
        port = p.port
    except ValueError:  # keep what is printable: no credentials, no query
        return re.sub(r"//[^/]*@", "//", url.strip()).split("?")[0].split("#")[0]
    host = p.hostname or ""
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
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
    timed_out: bool = False  # parsing stopped at the request's deadline


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


def parse_stream(times: list[float], reads: list[bytes], *,
                 deadline: float | None = None) -> ParsedStream:
    """Parse SSE bytes read at ``times``; an event takes the time of the read completing it.

    The body is split into events in C, and a plain one-line ``data: {...}`` event costs a few
    substring searches; anything else (comments, multi-line data, garbage) goes through
    ``_event``, and a stream that mentions an error is parsed event by event. Parsing stops,
    with ``timed_out`` set, once ``perf_counter()`` passes ``deadline``."""
    if deadline is not None and perf_counter() > deadline:  # e.g. cut off by the timeout
        return ParsedStream(timed_out=True)
    body = b"".join(reads)
    if b"\r" in body:
        reads = [r.replace(b"\r\n", b"\n") for r in reads]
        body = b"".join(reads)
    if b'"error"' in body:
        return _parse_slowly(times, reads, deadline)
    out = ParsedStream()
    ends = list(accumulate(map(len, reads)))  # body offset where each read ends
    *events, tail = body.split(b"\n\n")
    if deadline is not None and len(events) > PARSE_CHECK_EVENTS:  # only a big body pays for it
        events = _until(deadline, events, out)  # type: ignore[assignment]
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
        if tail.strip() and not out.timed_out:
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


def _parse_slowly(times: list[float], reads: list[bytes],
                  deadline: float | None = None) -> ParsedStream:
    """Event by event (used when the stream mentions an error)."""
    out = ParsedStream()
    parts: list[bytes] = []  # reads since the last event boundary, joined once per boundary
    for t, data in zip(times, reads):
        parts.append(data)
        # look for "\n\n" in the new read (or across its start) only, never the whole buffer
        across = len(parts) > 1 and data[:1] == b"\n" and parts[-2][-1:] == b"\n"
        if b"\n\n" not in data and not across:
            continue
        *events, rest = b"".join(parts).split(b"\n\n")
        parts = [rest] if rest else []
        for ev in _until(deadline, events, out) if deadline is not None else events:
            _event(out, t, ev)
            if out.malformed or out.done:
                return out
        if out.timed_out:
            return out
    buf = b"".join(parts)
    if buf.strip() and not out.malformed:
        _event(out, times[-1], buf)
    return out


def _until(deadline: float, events: list[bytes], out: ParsedStream) -> Iterator[bytes]:
    """``events``, stopping (and marking ``out.timed_out``) once ``deadline`` has passed; the
    clock is read once per ``PARSE_CHECK_EVENTS`` events."""
    for lo in range(0, len(events), PARSE_CHECK_EVENTS):
        if perf_counter() > deadline:
            out.timed_out = True
            return
        yield from events[lo:lo + PARSE_CHECK_EVENTS]


def _event(out: ParsedStream, t: float, ev: bytes) -> None:
    if ev.startswith(b"data:") and b"\n" not in ev:  # the usual case: one data line
        payload = ev[5:].strip()
    else:
        lines = ev.strip().split(b"\n")
        data = [ln[5:].removeprefix(b" ") for ln in lines if ln.startswith(b"data:")]
        if not data:
            if ev.strip() and not all(ln.startswith((b":", b"event:", b"id:", b"retry:"))
                                      for ln in lines):
                out.malformed = ev[:MALFORMED_KEPT].decode("utf-8", "replace")
            return  # comments (keep-alive pings) and event names carry no data
        payload = b"\n".join(data).strip()
    if payload == b"[DONE]":
        out.done = True
        return
    if not (payload.startswith(b"{") and payload.endswith(b"}")) or (
            out.events == 0 and not _is_json(payload)):
        out.malformed = payload[:MALFORMED_KEPT].decode("utf-8", "replace")
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
    decodes the answer text from them; ``bench`` passes None and keeps nothing). ``ep.timeout_s``
    bounds it all: throttle waits, reading and parsing."""
    times: list[float] = []
    reads: list[bytes] = []
    status: int | None = None
    kind = message = None
    stale = throttled = 0
    deadline = perf_counter() + ep.timeout_s
    timeout: dict[str, Any] = {}  # the session's (ep.timeout_s) for the first attempt
    while True:
        t_send = perf_counter()
        wait = None
        try:
            async with session.post(ep.url, data=body, headers=headers, **timeout) as resp:
                status = resp.status
                if status != 200:
                    text = await resp.content.read(ERROR_BODY_BYTES)
                    kind, message = _http_error(ep, status, text.decode("utf-8", "replace"))
                    wait, why = _throttle_wait(ep, status, resp.headers, throttled, deadline)
                    message += why
                elif "text/event-stream" not in resp.headers.get("Content-Type", ""):
                    kind, message = "not_streaming", (
                        f"{ep.display_url} ignored stream=true and answered with "
                        f"{resp.headers.get('Content-Type') or 'a non-stream body'}; truecost needs a "
                        f"streaming (SSE) endpoint to time tokens")
                else:
                    size, cap = 0, ep.max_response_bytes
                    async for data in resp.content.iter_any():
                        times.append(perf_counter())
                        reads.append(data)
                        size += len(data) + READ_OVERHEAD_BYTES
                        if size > cap:  # leaving the block closes the connection mid-stream
                            kind, message = "too_large", (
                                f"the response passed {cap:,} bytes (--max-response-bytes, "
                                f"counting {READ_OVERHEAD_BYTES} per read) and was cut off")
                            break
        except aiohttp.ClientSSLError as e:
            kind, message = "tls", (f"TLS with {ep.display_url} failed: {_why(e)} (does the "
                                    f"server speak plain http://?)")
        except aiohttp.ClientConnectorError as e:
            kind, message = "connect", f"cannot connect to {ep.display_url}: {_why(e)}"
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as e:
            if status is None and not reads and stale < STALE_CONNECTION_RETRIES:
                stale += 1
                continue  # a pooled connection the server had already closed: resend on a new one
            if isinstance(e, aiohttp.ServerDisconnectedError):
                kind, message = "disconnect", "the server closed the connection before the response ended"
            else:
                kind, message = "client_error", ep.scrub(f"{type(e).__name__}: {e}")
        except (aiohttp.ClientPayloadError, ConnectionError):
            kind, message = "disconnect", "the server closed the connection before the response ended"
        except _CONNECT_TIMEOUT:
            kind, message = "connect", (
                f"cannot connect to {ep.display_url}: no connection within "
                f"{min(CONNECT_TIMEOUT_S, ep.timeout_s):g} s" + (
                    " (TLS handshake included: does the server speak plain http://?)"
                    if ep.url.startswith("https:") else ""))
        except TimeoutError:
            kind, message = "timeout", f"no complete response within {ep.timeout_s:g} s"
        except aiohttp.ClientError as e:
            kind, message = "client_error", ep.scrub(f"{type(e).__name__}: {e}")
        if wait is None:
            break
        throttled += 1  # the server asked to come back later: wait, then resend
        await asyncio.sleep(wait)
        kind = message = None
        timeout = {"timeout": connect_timeouts(max(deadline - perf_counter(), 1e-3))}
    t_end = perf_counter()
    if on_body is not None:
        on_body(index, reads)
    # a response cut off at the byte cap is an error whatever it said: not parsed (its size)
    parse = times and kind != "too_large"
    p = parse_stream(times, reads, deadline=deadline) if parse else ParsedStream()
    if kind is None:
        if p.timed_out:
            kind, message = "timeout", (f"the response was not read and parsed within "
                                        f"{ep.timeout_s:g} s")
        elif p.malformed is not None:
            kind, message = "malformed", (f"{ep.display_url} sent a malformed event stream: "
                                          f"{ep.scrub(p.malformed)!r}")
        elif p.error is not None:
            kind, message = "stream_error", (ep.scrub(p.error)
                                             or "the server sent an error event without a message")
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
        response_bytes=sum(map(len, reads)), status=status, error_kind=kind,
        error=scrub(message, ep.api_key) if message else message, throttled=throttled)


def connect_timeouts(total_s: float) -> aiohttp.ClientTimeout:
    """The whole request within ``total_s``; opening a connection (TCP connect and TLS
    handshake) within ``CONNECT_TIMEOUT_S`` of it. ``sock_connect`` times only new connections,
    so a request on a pooled one pays for no timer."""
    return aiohttp.ClientTimeout(total=total_s, sock_connect=min(CONNECT_TIMEOUT_S, total_s))


# aiohttp >= 3.10 tells a connect timeout from a read timeout
_CONNECT_TIMEOUT = getattr(aiohttp, "ConnectionTimeoutError", ())


def _throttle_wait(ep: Endpoint, status: int, headers: Any, throttled: int,
                   deadline: float) -> tuple[float | None, str]:
    """How long to wait before resending a throttled request (None: do not), and what to add
    to the error message when a wait asked for is not honoured."""
    if not ep.retry_after or status not in (429, 503):
        return None, ""
    wait = retry_after_s(headers.get("Retry-After"))
    if wait is None:
        return None, ""
    if throttled >= THROTTLE_RETRIES:
        return None, f" (still throttled after {throttled} resends following Retry-After)"
    if wait > MAX_RETRY_AFTER_S or perf_counter() + wait >= deadline:
        return None, (f" (Retry-After {wait:g} s: beyond the {MAX_RETRY_AFTER_S:g} s truecost "
                      f"waits or this request's --timeout-s)")
    return wait, ""


def retry_after_s(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait: delta-seconds or an HTTP date (RFC 9110
    10.2.3); None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    try:
        wait = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        wait = when.timestamp() - time.time()
    return max(wait, 0.0) if math.isfinite(wait) else None


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


def _why(e: aiohttp.ClientConnectorError | aiohttp.ClientSSLError) -> str:
    os_err = getattr(e, "os_error", None)
    if isinstance(e, aiohttp.ClientSSLError) or isinstance(os_err, ssl.SSLError):
        reason = getattr(os_err, "reason", None) or getattr(e, "reason", None)
        return str(reason or os_err or e).lower().replace("_", " ")
    if os_err is None:
        return str(e).lower() or type(e).__name__
    if isinstance(os_err, socket.gaierror):
        return "host not found"
    if os_err.errno == errno.ECONNREFUSED or isinstance(os_err, ConnectionRefusedError):
        return "connection refused (is the server running?)"
    return (os_err.strerror or str(os_err) or type(os_err).__name__).lower()


def fatal(record: RequestRecord) -> EndpointError | None:
    """The error that ends a run when ``record`` failed in a way every request would."""
    return EndpointError(record.error or record.error_kind) if record.error_kind in FATAL_KINDS else None
