"""Streaming chat completions over real HTTP: framing, chunk order, usage placement, and real pacing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, MockServer, serve_in_thread
from tests.conftest import user
from tests.mock.test_chat import WEATHER_TOOL


def stream_events(http: httpx.Client, **body: Any) -> list[str]:
    """The `data:` payloads of a streamed completion, in order (the mock writes LF-framed events)."""
    with http.stream("POST", "/chat/completions", json={**body, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = response.read().decode()
    assert raw.endswith("\n\n")
    events = [block for block in raw.split("\n\n") if block]
    assert all(event.startswith("data: ") for event in events)
    return [event.removeprefix("data: ") for event in events]


def chunks(payloads: list[str]) -> list[dict[str, Any]]:
    assert payloads[-1] == "[DONE]"
    return [json.loads(p) for p in payloads[:-1]]


def test_stream_grammar(http: httpx.Client) -> None:
    parsed = chunks(stream_events(http, model="kimi-k2-turbo-preview", messages=user("hello")))
    assert len({c["id"] for c in parsed}) == 1 and len({c["model"] for c in parsed}) == 1
    assert all(c["object"] == "chat.completion.chunk" and isinstance(c["created"], int) for c in parsed)
    assert parsed[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all("role" not in c["choices"][0]["delta"] for c in parsed[1:])
    final = parsed[-1]["choices"][0]
    assert final["delta"] == {} and final["finish_reason"] == "stop"
    assert set(final["usage"]) >= {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert all(c["choices"][0]["finish_reason"] is None for c in parsed[:-1])


def test_stream_text_equals_non_stream_text(http: httpx.Client) -> None:
    body = {"model": "kimi-k2-turbo-preview", "messages": user("same words please")}
    whole = http.post("/chat/completions", json=body).json()
    parsed = chunks(stream_events(http, **body))
    streamed = "".join(c["choices"][0]["delta"].get("content") or "" for c in parsed)
    assert streamed == whole["choices"][0]["message"]["content"]
    assert parsed[-1]["choices"][0]["usage"]["completion_tokens"] == whole["usage"]["completion_tokens"]


def test_include_usage_adds_an_empty_choices_chunk(http: httpx.Client) -> None:
    body = {"model": "kimi-k2.6", "messages": user("hi"), "stream_options": {"include_usage": True}}
    parsed = chunks(stream_events(http, **body))
    assert parsed[-1]["choices"] == [] and parsed[-1]["usage"]["total_tokens"] > 0
    assert parsed[-2]["choices"][0]["usage"] == parsed[-1]["usage"]


def test_reasoning_deltas_come_before_content(http: httpx.Client) -> None:
    parsed = chunks(stream_events(http, model="kimi-k2-thinking", messages=user("think")))
    first_content = next(i for i, c in enumerate(parsed[1:]) if c["choices"][0]["delta"].get("content"))
    last_reasoning = max(i for i, c in enumerate(parsed[1:]) if c["choices"][0]["delta"].get("reasoning_content"))
    assert last_reasoning < first_content


def test_tool_call_fragments_assemble(http: httpx.Client) -> None:
    parsed = chunks(stream_events(http, model="kimi-k2-0905-preview", messages=user("weather"), tools=[WEATHER_TOOL]))
    fragments = [tc for c in parsed for tc in c["choices"][0]["delta"].get("tool_calls", [])]
    first, rest = fragments[0], fragments[1:]
    assert first["id"] == "functions.get_weather:0" and first["type"] == "function"
    assert first["function"]["name"] == "get_weather"
    assert all(set(f) == {"index", "function"} and set(f["function"]) == {"arguments"} for f in rest)
    arguments = json.loads("".join(f["function"]["arguments"] for f in fragments))
    assert set(arguments) >= {"city", "days"}
    assert parsed[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_n_choices_each_end_with_their_own_usage(http: httpx.Client) -> None:
    parsed = chunks(stream_events(http, model="moonshot-v1-8k", messages=user("hi"), n=2, temperature=0.5))
    finals = [c["choices"][0] for c in parsed if c["choices"][0]["finish_reason"]]
    assert sorted(f["index"] for f in finals) == [0, 1]
    assert finals[0]["usage"]["prompt_tokens"] == finals[1]["usage"]["prompt_tokens"]


@pytest.fixture(scope="module")
def slow_server() -> Iterator[MockServer]:
    with serve_in_thread(MockConfig(lineup="all", chunk_delay=0.02)) as server:
        yield server


def test_chunks_are_written_over_time(slow_server: MockServer) -> None:
    """Events arrive spread over time, not as one buffered body."""
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    body = {"model": "kimi-k2-turbo-preview", "messages": user("pace yourself"), "stream": True}
    arrivals: list[float] = []
    with (
        httpx.Client(headers=headers, timeout=10) as client,
        client.stream("POST", slow_server.api_base + "/chat/completions", json=body) as response,
    ):
        for _ in response.iter_raw():
            arrivals.append(time.monotonic())
    assert len(arrivals) > 5
    assert arrivals[-1] - arrivals[0] > 0.02 * (len(arrivals) - 2) * 0.5
