"""One streamed request: the SSE parser on hand-made bytes, and every fake-server script."""

import asyncio
import json
import time

import aiohttp
import pytest

from tests.fakeserver import MODEL, Script
from truecost.bench.client import Clock, Endpoint, parse_stream, send
from truecost.bench.workload import RequestSpec
from truecost.errors import InputError

SPEC = RequestSpec(prompt="one two three four", max_tokens=5, input_tokens=4)


def sse(*objs: object) -> bytes:
    return b"".join(b"data: " + (o if isinstance(o, bytes) else json.dumps(o).encode()) + b"\n\n"
                    for o in objs)


def chunk(content=None, reasoning=None, usage=None, role=False):
    delta = {"role": "assistant"} if role else {}
    if content is not None:
        delta["content"] = content
    if reasoning is not None:
        delta["reasoning_content"] = reasoning
    return {"choices": [{"index": 0, "delta": delta}], "usage": usage}


def test_events_take_the_time_of_the_read_that_completes_them():
    body = sse(chunk(role=True, content=""), chunk("a"), chunk("b")) + b"data: [DONE]\n\n"
    cut1, cut2 = body.index(b"\n\n") + 5, body.index(b'"b"')  # split inside events
    p = parse_stream([1.0, 2.0, 3.0], [body[:cut1], body[cut1:cut2], body[cut2:]])
    assert p.first_chunk == 1.0  # the role-only chunk is a chunk, not a token
    assert (p.first_token, p.first_output, p.chunk_times) == (2.0, 2.0, [2.0, 3.0])
    assert p.done and p.events == 3 and p.malformed is None


def test_reasoning_then_content_and_the_last_non_null_usage():
    u1 = {"prompt_tokens": 3, "completion_tokens": 1}
    u2 = {"prompt_tokens": 3, "completion_tokens": 3,
          "completion_tokens_details": {"reasoning_tokens": 2}}
    body = sse(chunk(reasoning="think", usage=u1), chunk(reasoning="more"), chunk("x"),
               {"choices": [], "usage": u2}, chunk(usage=None))
    cut = body.index(b'"x"')
    p = parse_stream([1.0, 2.0], [body[:cut], body[cut:]])
    assert (p.first_token, p.first_output) == (1.0, 2.0)  # TTFT counts reasoning, TTFO does not
    assert p.usage == u2  # never summed, never overwritten by a null
    assert p.reasoning_chunks == 2 and len(p.chunk_times) == 3


def test_crlf_comments_and_spaced_json_are_understood():
    body = (b": ping\r\n\r\ndata: {\"choices\": [{\"delta\": {\"content\": \"hi\"}}]}\r\n\r\n"
            b"data: [DONE]\r\n\r\n")
    p = parse_stream([1.0], [body])
    assert p.chunk_times == [1.0] and p.done


def test_escaped_keys_inside_text_are_not_tokens():
    body = sse({"choices": [{"delta": {"content": ""}}], "note": "\"content\":\"x\""})
    assert parse_stream([1.0], [body]).chunk_times == []


@pytest.mark.parametrize("body", [b"data: {\"choices\": [\n\n", b"data: hello\n\n",
                                  b"<html>oops</html>\n\n"])
def test_malformed_streams_are_flagged(body):
    assert parse_stream([1.0], [body]).malformed is not None


def test_endpoint_urls_and_the_key_kept_out_of_repr(monkeypatch):
    assert Endpoint.of("http://h:8000", "m").url == "http://h:8000/v1/chat/completions"
    assert Endpoint.of("http://h:8000/v1/", "m").url == "http://h:8000/v1/chat/completions"
    legacy = Endpoint.of("https://h/v1/completions", "m")
    assert (legacy.api, legacy.url) == ("completions", "https://h/v1/completions")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-open")
    assert Endpoint.of("http://h/v1", "m").api_key == "sk-open"
    monkeypatch.setenv("TRUECOST_API_KEY", "sk-tc")
    ep = Endpoint.of("http://h/v1?key=q", "m")
    assert ep.api_key == "sk-tc"  # TRUECOST_API_KEY wins
    assert "sk-tc" not in repr(ep) and ep.headers()["Authorization"] == "Bearer sk-tc"
    assert ep.display_url == "http://h/v1/chat/completions"  # no query
    assert ep.scrub("bad key sk-tc\nsecond line") == "bad key *** second line"


def test_bad_urls_are_input_errors():
    with pytest.raises(InputError) as e:
        Endpoint.of("localhost:8000", "m")
    assert str(e.value) == ("endpoint URL must start with http:// or https:// and name a host, "
                            "got 'localhost:8000'")


def test_request_bodies_ask_for_usage_and_carry_the_prompt():
    chat = json.loads(Endpoint.of("http://h/v1", "m", ignore_eos=True).body(SPEC))
    assert chat == {"model": "m", "stream": True, "stream_options": {"include_usage": True},
                    "messages": [{"role": "user", "content": SPEC.prompt}], "max_tokens": 5,
                    "ignore_eos": True}
    text = json.loads(Endpoint.of("http://h/v1/completions", "m").body(SPEC))
    assert text["prompt"] == SPEC.prompt and "messages" not in text


def one(url: str, model: str = MODEL, spec: RequestSpec = SPEC, api_key: str | None = None):
    ep = Endpoint.of(url, model, api_key=api_key, timeout_s=5)

    async def go():
        async with aiohttp.ClientSession() as s:
            return await send(s, ep, ep.headers(), ep.body(spec), Clock(time.time(), time.perf_counter()),
                              point=0, index=0, intended=None, spec=spec)

    return asyncio.run(go())


def test_normal_stream(fake):
    r = one(fake.url("normal"))
    assert r.ok and r.status == 200
    assert (r.prompt_tokens, r.completion_tokens, r.client_output_tokens) == (4, 5, 5)
    assert r.first_chunk <= r.first_token == r.first_output < r.last_token < r.end
    assert r.last_token - r.first_token >= 0.002  # 4 gaps of 2 ms on the server
    assert r.client_prompt_tokens == 4 and r.max_tokens == 5


def test_usage_in_every_chunk_is_taken_once(fake):
    r = one(fake.url("usage-every"))
    assert (r.completion_tokens, r.client_output_tokens) == (5, 5)


def test_without_role_chunk_the_first_chunk_is_the_first_token(fake):
    r = one(fake.url("no-role"))
    assert r.first_chunk == r.first_token


def test_reasoning_deltas_separate_ttft_from_ttfo(fake):
    r = one(fake.url("reasoning"))
    assert (r.completion_tokens, r.reasoning_tokens, r.cached_tokens) == (7, 4, 2)
    assert r.client_reasoning_tokens == 4 and r.client_output_tokens == 7
    # four reasoning tokens 5 ms apart before the answer: 20 ms on the server; the bound leaves
    # room for a loaded machine reading the first reasoning token late
    assert r.first_output - r.first_token >= 0.005


def test_slow_first_token(fake):
    r = one(fake.url("slow-first"))
    assert 0.2 <= r.first_token - r.actual_send < 0.4


def test_no_usage_falls_back_to_chunks(fake):
    r = one(fake.url("no-usage"))
    assert r.ok and r.completion_tokens is None and r.output_tokens == 5


@pytest.mark.parametrize(("script", "kind", "status"), [
    ("429", "http_429", 429), ("500", "http_500", 500), ("disconnect", "disconnect", 200),
    ("json", "not_streaming", 200), ("malformed", "malformed", 200)])
def test_failures_are_records_with_a_kind(fake, script, kind, status):
    r = one(fake.url(script))
    assert (r.ok, r.error_kind, r.status) == (False, kind, status)
    assert "\n" not in r.error


def test_a_disconnect_keeps_the_tokens_that_arrived(fake):
    r = one(fake.url("disconnect"))
    assert r.client_output_tokens == 2 and len(r.chunk_times) == 2


def test_completions_api(fake):
    r = one(fake.url("normal").removesuffix("/v1") + "/v1/completions")
    assert r.ok and r.completion_tokens == 5 and r.client_output_tokens == 5


def test_auth_and_model_errors_name_the_fix(fake):
    fake.api_key = "sk-right"
    r = one(fake.url("normal"), api_key="sk-wrong")
    assert r.error_kind == "http_401" and "sk-wrong" not in r.error and "sk-right" not in r.error
    assert r.error.endswith("the API key was rejected; set TRUECOST_API_KEY or OPENAI_API_KEY")
    assert fake.received[-1].authorization == "Bearer sk-wrong"
    r = one(fake.url("normal"), model="nope", api_key="sk-right")
    assert r.error_kind == "http_404" and "does not serve model 'nope'" in r.error


def test_script_limit_switches_answers(fake):
    fake.add("flaky", Script(limit=1, then=Script(kind="status", status=500)))
    assert one(fake.url("flaky")).ok and one(fake.url("flaky")).error_kind == "http_500"


@pytest.mark.parametrize("event", [
    {"error": {"message": "context too long", "code": 400}},
    {"object": "error", "message": "context too long", "type": "BadRequestError", "code": 400}])
def test_errors_inside_the_stream(event):
    p = parse_stream([1.0], [sse(chunk("a"), event)])
    assert p.error == "context too long" and p.chunk_times == [1.0]


def test_multi_line_events_and_names_are_understood():
    body = (b'event: message\ndata: {"choices": [{"delta":\ndata: {"content": "hi"}}]}\n\n'
            b'data: {"choices": [],\ndata: "usage": {"completion_tokens": 1}}\n\n')
    p = parse_stream([1.0], [body])
    assert p.chunk_times == [1.0] and p.usage == {"completion_tokens": 1} and not p.malformed
