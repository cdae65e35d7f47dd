"""The fastest OpenAI-compatible streaming server we could write in Python, for harness benchmarks.

A load generator can only be measured against a server that costs less than it does. This one
answers ``POST .../chat/completions`` and ``POST .../completions`` with a whole SSE stream of
``max_tokens`` one-token chunks (plus a final ``usage`` chunk and ``[DONE]``) in a single write,
from a cache of pre-built bodies: per request it does one regex on the body and one
``transport.write``. It also answers ``GET .../models`` and ``GET /health`` (harnesses check
them before they start) and two control routes for the benchmark driver:

* ``GET /stats``: ``{"arrivals": [...], "connections": {...}}``, the ``time.monotonic()`` at
  which each completion request's first byte arrived (the clock is CLOCK_MONOTONIC, shared by all
  processes of the machine), so the driver measures every harness by the same server-side
  oracle; and the connections open now, at most at once, and opened in all;
* ``POST /reset``: forget the arrivals.

Run: ``python benchmarks/fastserver.py [PORT]`` prints the port and serves until killed. Uses
``uvloop`` when importable. Deliberately left out: everything a real server does (tokenising,
batching, errors, chunked transfer encoding); responses carry ``Content-Length``.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time

MODEL = "fast-model"
_MAX_TOKENS = re.compile(rb'"max(?:_completion)?_tokens"\s*:\s*(\d+)')
_CACHE: dict[tuple[bool, int], bytes] = {}


def _stream(chat: bool, n: int) -> bytes:
    """The full HTTP response for a streamed reply of ``n`` one-token chunks."""
    key = (chat, n)
    if key in _CACHE:
        return _CACHE[key]
    events = []
    kind = "chat.completion.chunk" if chat else "text_completion"
    for i in range(n):
        finish = "length" if i == n - 1 else None
        choice = ({"index": 0, "delta": {"content": " tok"}, "finish_reason": finish} if chat
                  else {"index": 0, "text": " tok", "finish_reason": finish})
        events.append({"id": "x", "object": kind, "created": 0, "model": MODEL,
                       "choices": [choice]})
    usage = {"prompt_tokens": 16, "completion_tokens": n, "total_tokens": 16 + n}
    events.append({"id": "x", "object": kind, "created": 0, "model": MODEL, "choices": [],
                   "usage": usage})
    body = b"".join(b"data: " + json.dumps(e, separators=(",", ":")).encode() + b"\n\n"
                    for e in events) + b"data: [DONE]\n\n"
    head = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
            b"content-length: %d\r\n\r\n" % len(body))
    _CACHE[key] = head + body
    return _CACHE[key]


def _json(obj: object) -> bytes:
    body = json.dumps(obj).encode()
    return (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
            % len(body)) + body


_MODELS = _json({"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0,
                                             "owned_by": "truecost"}]})
_HEALTH = _json({"status": "ok"})
ARRIVALS: list[float] = []
CONNECTIONS = {"open": 0, "peak": 0, "total": 0}  # since the last reset


class _Http(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        CONNECTIONS["open"] += 1
        CONNECTIONS["total"] += 1
        CONNECTIONS["peak"] = max(CONNECTIONS["peak"], CONNECTIONS["open"])
        self.t = transport
        self.buf = b""
        self.t_first = 0.0

    def connection_lost(self, exc: Exception | None) -> None:
        CONNECTIONS["open"] -= 1

    def data_received(self, data: bytes) -> None:
        if not self.buf:
            self.t_first = time.monotonic()
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end].lower()
            i = head.find(b"content-length:")
            j = head.find(b"\r\n", i)
            length = int(head[i + 15:j if j > 0 else None]) if i >= 0 else 0
            if len(self.buf) < end + 4 + length:
                return
            body = self.buf[end + 4:end + 4 + length]
            self.buf = self.buf[end + 4 + length:]
            path = head[head.find(b" ") + 1:head.find(b" ", head.find(b" ") + 1)]
            self.t.write(self._answer(head[:4], path, body))
            if self.buf:
                self.t_first = time.monotonic()

    def _answer(self, method: bytes, path: bytes, body: bytes) -> bytes:
        if path.endswith(b"/completions"):
            ARRIVALS.append(self.t_first)
            m = _MAX_TOKENS.search(body)
            return _stream(path.endswith(b"/chat/completions"), int(m[1]) if m else 16)
        if path.endswith(b"/models"):
            return _MODELS
        if path == b"/health":
            return _HEALTH
        if path == b"/stats":
            return _json({"arrivals": ARRIVALS, "connections": CONNECTIONS})
        if path == b"/reset":
            ARRIVALS.clear()
            CONNECTIONS.update(peak=CONNECTIONS["open"], total=0)
            return _json({"ok": True})
        return b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"


async def _main(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Http, "127.0.0.1", port, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    try:
        import uvloop  # type: ignore[import-not-found]

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
