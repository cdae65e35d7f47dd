"""A scripted OpenAI-compatible streaming server for tests (loopback, port 0, no dependencies).

Each *script* says how the server answers: a normal stream with deterministic per-token delays,
usage in the final chunk only or in every chunk, a role-only first chunk, reasoning deltas
(``reasoning_content``) before content, a slow first token, an HTTP error (429, 500, 401, 404)
with or without ``Retry-After``, a disconnect mid-stream, a JSON reply that ignores
``stream=true``, a malformed event stream, an endless stream as fast as the client reads, and
an API key echoed back (as sent, upper- or lower-cased) in an HTTP error, an error event inside
the stream, or a malformed stream.
The script is picked by the first path segment: ``{server.url("normal")}/chat/completions``.

The server is an asyncio loop in a daemon thread (``with FakeServer() as s: ...``), so it serves
many connections at once with keep-alive, chunked transfer encoding as uvicorn sends it, and
times its delays with the loop's clock. Run it stand-alone with ``python tests/fakeserver.py``
(prints the port) to drive a benchmark from another process.

Token accounting is deterministic: the prompt counts one token per whitespace-separated word
(plus ``template_tokens`` for chat), the reply has ``tokens`` content tokens (default: the
request's ``max_tokens``) after ``reasoning_tokens`` reasoning tokens; ``usage`` reports them.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Literal

MODEL = "fake-model"
DEFAULT_MAX_TOKENS = 16


@dataclass(frozen=True)
class Script:
    """How the server answers one request."""

    kind: Literal["stream", "json", "malformed", "status", "disconnect", "endless"] = "stream"
    tokens: int | None = None  # content tokens; None: the request's max_tokens
    ttft_s: float = 0.0  # delay before the first token (after the role chunk)
    itl_s: float = 0.0  # delay between tokens
    usage: Literal["final", "every", "none"] = "final"  # "final" only if stream_options asks
    role_chunk: bool = True  # a first chunk with only {"role": "assistant"}
    reasoning_tokens: int = 0  # reasoning deltas before the content
    reasoning_field: str = "reasoning_content"
    cached_tokens: int = 0  # reported as prompt_tokens_details.cached_tokens
    status: int = 200  # for kind="status"
    disconnect_after: int = 2  # tokens sent before kind="disconnect" drops the connection
    template_tokens: int = 0  # prompt tokens the chat template adds
    limit: int | None = None  # after this many requests to the script, answer as ``then``
    then: Script | None = None
    retry_after: str | None = None  # kind="status": a Retry-After header with this value
    # echo the Authorization header's key: "same", "upper" or "lower" case, in the HTTP error
    # (kind="status"), an error event in the stream (kind="stream") or the bad event (malformed)
    echo_key: Literal["same", "upper", "lower"] | None = None


SCRIPTS: dict[str, Script] = {
    "normal": Script(itl_s=0.002),
    "fast": Script(),
    "usage-every": Script(usage="every", itl_s=0.001),
    "no-usage": Script(usage="none"),
    "no-role": Script(role_chunk=False),
    "reasoning": Script(reasoning_tokens=4, tokens=3, ttft_s=0.01, itl_s=0.005, cached_tokens=2),
    "slow-first": Script(ttft_s=0.2, itl_s=0.001),
    "429": Script(kind="status", status=429),
    "500": Script(kind="status", status=500),
    "disconnect": Script(kind="disconnect"),
    "json": Script(kind="json"),
    "malformed": Script(kind="malformed"),
    "endless": Script(kind="endless"),
    "429-retry": Script(kind="status", status=429, retry_after="1"),
    # the server's first answer is a 429 asking for 1 s; every later request is served
    "429-once": Script(kind="status", status=429, retry_after="1", limit=1, then=Script()),
}

_REASONS = {200: "OK", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests",
            500: "Internal Server Error", 400: "Bad Request", 503: "Service Unavailable"}


@dataclass
class Received:
    """What the server saw of one request (for tests): arrival time, path, body, auth header."""

    t_perf: float
    t_wall: float
    path: str
    body: dict
    authorization: str | None


@dataclass
class FakeServer:
    """``with FakeServer(api_key="k") as s: s.url("normal")``. ``api_key`` None accepts any."""

    api_key: str | None = None
    scripts: dict[str, Script] = field(default_factory=lambda: dict(SCRIPTS))
    models: tuple[str, ...] = (MODEL,)
    record: bool = True
    received: list[Received] = field(default_factory=list)
    served: dict[str, int] = field(default_factory=dict)  # requests per script
    host: str = "127.0.0.1"
    port: int = 0

    def url(self, script: str = "normal") -> str:
        """Base URL (``.../v1``) of an endpoint that answers with ``script``."""
        return f"http://{self.host}:{self.port}/{script}/v1"

    def add(self, name: str, script: Script | None = None, **changes: object) -> str:
        """Register a script (or a variant of "normal") and return its base URL."""
        self.scripts[name] = script or replace(SCRIPTS["normal"], **changes)  # type: ignore[arg-type]
        return self.url(name)

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> FakeServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, self.host, self.port, backlog=1024))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()
            self._server.close()
            self._loop.run_until_complete(self._server.wait_closed())
            self._loop.close()

        self._thread = threading.Thread(target=serve, name="fakeserver", daemon=True)
        self._thread.start()
        ready.wait(5)

    def stop(self) -> None:
        for task in asyncio.all_tasks(self._loop) if not self._loop.is_closed() else ():
            self._loop.call_soon_threadsafe(task.cancel)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    # -- HTTP ------------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                t_perf, t_wall = time.perf_counter(), time.time()
                lines = head.decode("latin-1").split("\r\n")
                _method, path, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip()
                           for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                body_bytes = await reader.readexactly(int(headers.get("content-length", "0")))
                body = json.loads(body_bytes) if body_bytes else {}
                if self.record:
                    self.received.append(Received(t_perf, t_wall, path, body,
                                                  headers.get("authorization")))
                if not await self._respond(path, headers, body, writer):
                    return
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _respond(self, path: str, headers: dict[str, str], body: dict,
                       w: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection must close."""
        path = path.partition("?")[0]
        name = path.strip("/").split("/")[0]
        script = self.scripts.get(name)
        if script is None:
            return await _json(w, 404, {"detail": "Not Found"})
        self.served[name] = self.served.get(name, 0) + 1
        if script.limit is not None and self.served[name] > script.limit and script.then:
            script = script.then
        if self.api_key is not None and headers.get("authorization") != f"Bearer {self.api_key}":
            return await _json(w, 401, {"error": {"message": "Incorrect API key provided.",
                                                  "type": "invalid_request_error",
                                                  "code": "invalid_api_key"}})
        if body.get("model") not in self.models:
            return await _json(w, 404, {"error": {
                "message": f"The model `{body.get('model')}` does not exist.",
                "type": "NotFoundError", "code": 404}})
        echoed = _echo(headers.get("authorization"), script.echo_key)
        if script.kind == "status":
            extra = {"retry-after": script.retry_after} if script.retry_after is not None else {}
            return await _json(w, script.status, {"error": {
                "message": f"scripted {script.status}" + (f" for key {echoed}" if echoed else ""),
                "code": script.status}}, extra)
        chat = path.endswith("/chat/completions")
        prompt_tokens = _prompt_tokens(body, chat) + (script.template_tokens if chat else 0)
        n = script.tokens if script.tokens is not None else int(body.get("max_tokens")
                                                               or DEFAULT_MAX_TOKENS)
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": n + script.reasoning_tokens,
                 "total_tokens": prompt_tokens + n + script.reasoning_tokens,
                 "prompt_tokens_details": {"cached_tokens": script.cached_tokens},
                 "completion_tokens_details": {"reasoning_tokens": script.reasoning_tokens}}
        if script.kind == "json":
            msg = {"role": "assistant", "content": "tok " * n}
            choice = {"index": 0, "message": msg, "finish_reason": "length"} if chat else \
                {"index": 0, "text": "tok " * n, "finish_reason": "length"}
            return await _json(w, 200, {"id": "cmpl-1", "object": "chat.completion",
                                        "model": body["model"], "choices": [choice],
                                        "usage": usage})
        w.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
                b"transfer-encoding: chunked\r\ncache-control: no-cache\r\n\r\n")
        if script.kind == "endless":  # as fast as the client reads, until it hangs up
            event_bytes = (b'data: {"id":"cmpl-1","object":"chat.completion.chunk","choices":'
                           b'[{"index":0,"delta":{"content":"tok "}}]}\n\n')
            batch = event_bytes * 256
            while True:
                _chunk(w, batch)
                await w.drain()
        if script.kind == "malformed":
            bad = f" {echoed}".encode() if echoed else b""
            _chunk(w, b'data: {"id": "cmpl-1", "choices": [{"delta": {"content": "tok' + bad
                   + b'"\n\n')
            _chunk(w, b"data: [DONE]\n\n")
            w.write(b"0\r\n\r\n")
            await w.drain()
            return True
        want_usage = (script.usage == "every" or
                      (script.usage == "final" and
                       (body.get("stream_options") or {}).get("include_usage")))
        every = usage if script.usage == "every" else None

        def event(delta_key: str | None, text: str | None, *, role: bool = False,
                  finish: str | None = None, u: dict | None = None, choices: bool = True) -> None:
            if chat:
                delta: dict = {"role": "assistant"} if role else {}
                if delta_key:
                    delta[delta_key] = text
                c = [{"index": 0, "delta": delta, "finish_reason": finish}] if choices else []
            else:
                c = [{"index": 0, "text": text or "", "finish_reason": finish}] if choices else []
            obj = {"id": "cmpl-1", "object": "chat.completion.chunk", "model": body["model"],
                   "choices": c}
            if u is not None or script.usage == "every":
                obj["usage"] = u
            _chunk(w, b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n")

        if script.role_chunk and chat:
            event(None, None, role=True, u=every)
            await w.drain()
        if echoed:  # an error object inside the stream, quoting the key
            _chunk(w, b"data: " + json.dumps({"error": {"message": f"key {echoed} is over its "
                                                        f"quota", "type": "quota"}}).encode()
                   + b"\n\n")
        if script.ttft_s:
            await asyncio.sleep(script.ttft_s)
        sent = 0
        for i in range(script.reasoning_tokens + n):
            if i and script.itl_s:
                await asyncio.sleep(script.itl_s)
            if script.kind == "disconnect" and sent == script.disconnect_after:
                await w.drain()
                w.transport.abort()
                return False
            reasoning = i < script.reasoning_tokens
            event(script.reasoning_field if reasoning else "content",
                  "think " if reasoning else "tok ",
                  finish="length" if i == script.reasoning_tokens + n - 1 else None, u=every)
            sent += 1
            await w.drain()
        if want_usage:
            event(None, None, u=usage, choices=False)
        _chunk(w, b"data: [DONE]\n\n")
        w.write(b"0\r\n\r\n")
        await w.drain()
        return True


def _prompt_tokens(body: dict, chat: bool) -> int:
    if chat:
        return sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
    return len(str(body.get("prompt", "")).split())


def _chunk(w: asyncio.StreamWriter, data: bytes) -> None:
    w.write(b"%x\r\n%s\r\n" % (len(data), data))


def _echo(authorization: str | None, form: str | None) -> str | None:
    """The key of an ``Authorization: Bearer KEY`` header in the form a careless server echoes."""
    if form is None or not authorization:
        return None
    key = authorization.removeprefix("Bearer ")
    return {"same": key, "upper": key.upper(), "lower": key.lower()}[form]


async def _json(w: asyncio.StreamWriter, status: int, obj: dict,
                headers: dict[str, str] | None = None) -> bool:
    data = json.dumps(obj).encode()
    extra = "".join(f"\r\n{k}: {v}" for k, v in (headers or {}).items())
    w.write(f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\ncontent-type: application/json"
            f"{extra}\r\ncontent-length: {len(data)}\r\n\r\n".encode() + data)
    await w.drain()
    return True


if __name__ == "__main__":  # python tests/fakeserver.py [PORT]: serve until killed
    srv = FakeServer(port=int(sys.argv[1]) if len(sys.argv) > 1 else 0, record=False)
    srv.start()
    print(srv.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()
