"""The fault-free mock writes each chunk of a stream from a head encoded once (`sse.plain_events`): the same bytes,
event for event, as encoding every chunk whole (`encode_event`), for streams of every shape the mock makes."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_conformance.mock.chat import plan_completion, stream_chunks
from kimi_conformance.mock.chat_validation import parse_chat_request
from kimi_conformance.mock.config import MockConfig
from kimi_conformance.mock.sse import encode_event, plain_events

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
BODIES: list[dict[str, Any]] = [
    {"model": "kimi-k2-turbo-preview", "messages": [{"role": "user", "content": "Hello"}]},
    {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "月亮 🌙 story \u2028 \"quoted\""}]},
    {"model": "kimi-k2-turbo-preview", "messages": [{"role": "user", "content": "weather? get_weather"}],
     "tools": [WEATHER], "stream_options": {"include_usage": True}},
    {"model": "moonshot-v1-8k", "messages": [{"role": "user", "content": "two"}], "n": 2, "temperature": 0.5,
     "stream_options": {"include_usage": True}},
    {"model": "kimi-k2-turbo-preview", "messages": [{"role": "user", "content": "cut"}], "max_tokens": 3},
]  # fmt: skip


@pytest.mark.parametrize("body", BODIES, ids=lambda body: f"{body['model']}-{len(body)}")
def test_the_plain_events_are_the_bytes_of_the_chunks_encoded_whole(body: dict[str, Any]) -> None:
    config = MockConfig(lineup="all")
    completion = plan_completion(parse_chat_request({**body, "stream": True}, config, lambda _: None), config, 0)
    whole = [encode_event(chunk, config) for chunk in stream_chunks(completion, config)]
    assert list(plain_events(completion, config)) == whole and len(whole) > 2
