"""A scripted OpenAI-compatible chat server with known answers, for ``truecost eval`` tests.

Each reply is scripted by a substring of the prompt: its content, its reasoning tokens, and
faults (an HTTP status, a connection dropped mid-stream, no ``usage``). Token accounting is
exact and simple, so tests can state expected values by hand: a content of *k* whitespace-
separated words streams as *k* deltas and counts *k* completion tokens, plus the reasoning
tokens (one ``reasoning_content`` delta each, before the content); ``prompt_tokens`` is the
number of words of the last user message. ``usage`` comes in the final chunk when the request
asks for it (``stream_options.include_usage``), as OpenAI and vLLM do.

``fail_after=N``: after N requests the server answers every further one with HTTP 503 (an
endpoint that dies mid-suite). The server runs aiohttp on loopback, port 0, in a thread::

    with EvalServer({"6 x 7": Reply("6 x 7 = 42\\n#### 42", reasoning_tokens=5)}) as s:
        run_eval(s.base_url, "scripted", suite_file, ...)
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

MODEL = "scripted"


@dataclass(frozen=True)
class Reply:
    """How the server answers a prompt that contains the script's key."""

    content: str = "I do not know."
    reasoning_tokens: int = 0
    status: int = 200  # anything else: an error response with that status
    usage: bool = True  # report usage (when asked)
    drop_after: int | None = None  # close the connection after this many content deltas


class EvalServer:
    def __init__(self, replies: dict[str, Reply], *, default: Reply = Reply(),
                 fail_after: int | None = None,
                 judge: Callable[[str], str] | None = None) -> None:
        self.replies, self.default, self.fail_after, self.judge = replies, default, fail_after, judge
        self.prompts: list[str] = []  # every prompt received, in arrival order
        self.bodies: list[dict] = []
        self._ready = threading.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> EvalServer:
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _serve(self) -> None:
        self.loop = asyncio.new_event_loop()
        try:
            self.loop.run_until_complete(self._main())
        finally:
            self.loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def script_for(self, prompt: str) -> Reply:
        return next((r for key, r in self.replies.items() if key in prompt), self.default)

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        prompt = str(body["messages"][-1]["content"])
        self.prompts.append(prompt)
        self.bodies.append(body)
        if self.fail_after is not None and len(self.prompts) > self.fail_after:
            return web.json_response({"error": {"message": "scripted outage"}}, status=503)
        if self.judge is not None and prompt.startswith("You grade an answer"):
            script = Reply(self.judge(prompt))
        else:
            script = self.script_for(prompt)
        if script.status != 200:
            return web.json_response({"error": {"message": f"scripted {script.status}"}},
                                     status=script.status)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)

        async def event(obj: dict | str) -> None:
            data = obj if isinstance(obj, str) else json.dumps(obj)
            await resp.write(f"data: {data}\n\n".encode())

        def chunk(delta: dict, finish: str | None = None) -> dict:
            return {"id": "x", "object": "chat.completion.chunk", "model": MODEL,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        await event(chunk({"role": "assistant", "content": ""}))
        for _ in range(script.reasoning_tokens):
            await event(chunk({"reasoning_content": "think "}))
        words = script.content.split()
        for i, w in enumerate(words):
            if script.drop_after is not None and i >= script.drop_after:
                request.transport.close()  # type: ignore[union-attr]
                return resp
            await event(chunk({"content": w + (" " if i < len(words) - 1 else "")}))
        await event(chunk({}, "stop"))
        if script.usage and (body.get("stream_options") or {}).get("include_usage"):
            completion = len(words) + script.reasoning_tokens
            await event({"id": "x", "object": "chat.completion.chunk", "model": MODEL,
                         "choices": [], "usage": {
                             "prompt_tokens": len(prompt.split()), "completion_tokens": completion,
                             "total_tokens": len(prompt.split()) + completion,
                             "completion_tokens_details": {
                                 "reasoning_tokens": script.reasoning_tokens}}})
        await event("[DONE]")
        await resp.write_eof()
        return resp
