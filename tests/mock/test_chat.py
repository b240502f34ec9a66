"""Non-streaming chat completions against the mock over real HTTP (httpx)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from kimi_conformance.mock import MockConfig, serve_in_thread
from tests.conftest import user

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1, "maximum": 7}},
            "required": ["city", "days"],
        },
    },
}


def complete(http: httpx.Client, **body: Any) -> dict[str, Any]:
    response = http.post("/chat/completions", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_same_request_same_output(http: httpx.Client) -> None:
    first = complete(http, model="kimi-k2-turbo-preview", messages=user("Tell me about the moon"))
    second = complete(http, model="kimi-k2-turbo-preview", messages=user("Tell me about the moon"))
    assert first["choices"][0]["message"]["content"] == second["choices"][0]["message"]["content"]
    assert first["id"] != second["id"]
    assert first["id"].startswith("cmpl-") and len(first["id"]) == 37


def test_seed_changes_output() -> None:
    outputs = set()
    for seed in (1, 2):
        with serve_in_thread(MockConfig(lineup="all", seed=seed)) as server:
            headers = {"Authorization": "Bearer sk-kimi-conformance-mock"}
            body = {"model": "kimi-k2-turbo-preview", "messages": user("hello")}
            response = httpx.post(server.api_base + "/chat/completions", json=body, headers=headers)
            outputs.add(response.json()["choices"][0]["message"]["content"])
    assert len(outputs) == 2


def test_usage_is_real_token_accounting(http: httpx.Client) -> None:
    messages = [{"role": "system", "content": "You are Kimi."}, *user("Count my tokens, please.")]
    result = complete(http, model="moonshot-v1-8k", messages=messages)
    estimate = http.post("/tokenizers/estimate-token-count", json={"model": "moonshot-v1-8k", "messages": messages})
    usage = result["usage"]
    assert usage["prompt_tokens"] == estimate.json()["data"]["total_tokens"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens"] > 0


def test_n_choices(http: httpx.Client) -> None:
    result = complete(http, model="kimi-k2-turbo-preview", messages=user("hi"), n=3, temperature=0.7)
    assert [choice["index"] for choice in result["choices"]] == [0, 1, 2]
    assert len({choice["message"]["content"] for choice in result["choices"]}) == 3


def test_stop_text_is_cut_and_not_emitted(http: httpx.Client) -> None:
    plain = complete(http, model="kimi-k2-turbo-preview", messages=user("write a story"))["choices"][0]
    words = plain["message"]["content"].split()
    stop = words[len(words) // 2]
    cut = complete(http, model="kimi-k2-turbo-preview", messages=user("write a story"), stop=[stop])["choices"][0]
    assert cut["finish_reason"] == "stop"
    assert stop not in cut["message"]["content"]
    assert plain["message"]["content"].startswith(cut["message"]["content"])


@pytest.mark.parametrize("field", ["max_completion_tokens", "max_tokens"])
def test_token_limit_gives_length(http: httpx.Client, field: str) -> None:
    result = complete(http, model="kimi-k2-turbo-preview", messages=user("write a long story"), **{field: 3})
    assert result["choices"][0]["finish_reason"] == "length"
    assert result["usage"]["completion_tokens"] <= 3


def test_tool_call_round_trip(http: httpx.Client) -> None:
    messages: list[dict[str, Any]] = user("What is the weather in Beijing? Use get_weather.")
    first = complete(http, model="kimi-k2-0905-preview", messages=messages, tools=[WEATHER_TOOL])["choices"][0]
    assert first["finish_reason"] == "tool_calls"
    call = first["message"]["tool_calls"][0]
    assert call["id"] == "functions.get_weather:0" and call["type"] == "function"
    Draft202012Validator(WEATHER_TOOL["function"]["parameters"]).validate(json.loads(call["function"]["arguments"]))
    messages += [
        first["message"],
        {"role": "tool", "tool_call_id": call["id"], "name": "get_weather", "content": '{"sunny": true}'},
    ]
    second = complete(http, model="kimi-k2-0905-preview", messages=messages, tools=[WEATHER_TOOL])["choices"][0]
    assert second["finish_reason"] == "stop" and second["message"]["content"]


def test_tool_choice_none_and_required(http: httpx.Client) -> None:
    none = complete(http, model="kimi-k2-0905-preview", messages=user("hi"), tools=[WEATHER_TOOL], tool_choice="none")
    assert none["choices"][0]["finish_reason"] == "stop"
    required = complete(
        http, model="kimi-k2-0905-preview", messages=user("hi"), tools=[WEATHER_TOOL], tool_choice="required"
    )
    assert required["choices"][0]["finish_reason"] == "tool_calls"


def test_partial_mode_continues_without_the_prefix(http: httpx.Client) -> None:
    prefix = {"role": "assistant", "content": "Once upon a time", "partial": True}
    result = complete(http, model="kimi-k2-turbo-preview", messages=[*user("A story"), prefix])
    content = result["choices"][0]["message"]["content"]
    assert content and not content.startswith("Once upon a time")
    named = {"role": "assistant", "name": "Kelsier", "content": "", "partial": True}
    assert complete(http, model="kimi-k2-turbo-preview", messages=[*user("Speak"), named])["choices"][0]["message"]


def test_json_object_mode(http: httpx.Client) -> None:
    result = complete(
        http, model="kimi-k2-turbo-preview", messages=user("Answer in JSON"), response_format={"type": "json_object"}
    )
    assert isinstance(json.loads(result["choices"][0]["message"]["content"]), dict)


def test_json_schema_mode(http: httpx.Client) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0, "maximum": 150}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    response_format = {"type": "json_schema", "json_schema": {"name": "person", "schema": schema, "strict": True}}
    result = complete(http, model="kimi-k2.6", messages=user("A person"), response_format=response_format)
    content = result["choices"][0]["message"]["content"]
    assert "\n" not in content
    Draft202012Validator(schema).validate(json.loads(content))


@pytest.mark.parametrize(
    ("model", "extra", "thinks"),
    [
        ("kimi-k2-thinking", {}, True),
        ("kimi-k2.5", {}, True),
        ("kimi-k2.6", {"thinking": {"type": "enabled", "keep": "all"}}, True),
        ("kimi-k2.6", {"thinking": {"type": "disabled"}}, False),
        ("kimi-k2-turbo-preview", {}, False),
    ],
)
def test_reasoning_content(http: httpx.Client, model: str, extra: dict[str, Any], thinks: bool) -> None:
    message = complete(http, model=model, messages=user("Think first"), **extra)["choices"][0]["message"]
    assert ("reasoning_content" in message) is thinks


def test_reasoning_counts_against_the_limit(http: httpx.Client) -> None:
    result = complete(http, model="kimi-k2-thinking", messages=user("Think hard"), max_tokens=5)
    assert result["choices"][0]["finish_reason"] == "length"
    assert result["choices"][0]["message"]["content"] == ""


def test_cached_tokens_when_a_prefix_repeats(http: httpx.Client) -> None:
    system = {"role": "system", "content": "You are a cache test with a long and distinctive system prompt 7f3a."}
    first = complete(http, model="kimi-k2.6", messages=[system, *user("one")], prompt_cache_key="session-a")
    second = complete(http, model="kimi-k2.6", messages=[system, *user("two")], prompt_cache_key="session-a")
    other_key = complete(http, model="kimi-k2.6", messages=[system, *user("three")], prompt_cache_key="session-b")
    assert first["usage"]["cached_tokens"] == 0
    assert 0 < second["usage"]["cached_tokens"] < second["usage"]["prompt_tokens"]
    assert second["usage"]["prompt_tokens_details"]["cached_tokens"] == second["usage"]["cached_tokens"]
    assert other_key["usage"]["cached_tokens"] == 0


PNG = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_vision_parts_only_for_vision_models(http: httpx.Client) -> None:
    content = [{"type": "image_url", "image_url": {"url": PNG}}, {"type": "text", "text": "What is this?"}]
    messages = [{"role": "user", "content": content}]
    assert http.post("/chat/completions", json={"model": "kimi-k2.6", "messages": messages}).status_code == 200
    rejected = http.post("/chat/completions", json={"model": "kimi-k2-turbo-preview", "messages": messages})
    assert rejected.status_code == 400 and rejected.json()["error"]["type"] == "invalid_request_error"


def test_vision_accepts_uploaded_file_ids_and_rejects_public_urls(http: httpx.Client) -> None:
    upload = http.post("/files", files={"file": ("dot.png", b"\x89PNG fake")}, data={"purpose": "image"}).json()
    by_id = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": f"ms://{upload['id']}"}}]}]
    assert http.post("/chat/completions", json={"model": "kimi-k2.5", "messages": by_id}).status_code == 200
    public = [{"role": "user", "content": [{"type": "image_url", "image_url": "https://example.com/cat.png"}]}]
    rejected = http.post("/chat/completions", json={"model": "kimi-k2.5", "messages": public})
    assert rejected.status_code == 400
    assert rejected.json()["error"]["message"].startswith("unsupported image url")
