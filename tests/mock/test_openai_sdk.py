"""The reference mock driven by the official `openai` SDK as a real client.

Each test goes through `OpenAI(base_url=..., api_key=...)` exactly as a user of the Kimi API would, with the
Kimi-only fields (`thinking`, `partial`, message `name`) passed as the SDK passes them: `extra_body`, or extra keys
in message dicts. Kimi-only response fields (`reasoning_content`, `usage` inside the final stream choice,
`context_length`) are read from `model_extra`, where the SDK keeps fields it does not know.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any, cast

import jsonschema
import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from pydantic import BaseModel, Field

from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, MockServer, serve_in_thread
from tests.conftest import user

TURBO = "kimi-k2-turbo-preview"
K26 = "kimi-k2.6"
THINKING = "kimi-k2-thinking"
DISABLED = {"thinking": {"type": "disabled"}}

WEATHER_PARAMS: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "City name, e.g. Beijing"}},
    "required": ["city"],
}
TIME_PARAMS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "timezone": {"type": "string", "enum": ["UTC", "Asia/Shanghai"]},
        "hour24": {"type": "boolean"},
    },
    "required": ["timezone"],
}
WEATHER = {
    "type": "function",
    "function": {"name": "get_weather", "description": "Current weather of a city", "parameters": WEATHER_PARAMS},
}
CLOCK = {
    "type": "function",
    "function": {"name": "get_time", "description": "Current time in a timezone", "parameters": TIME_PARAMS},
}
PARAMS_BY_NAME = {"get_weather": WEATHER_PARAMS, "get_time": TIME_PARAMS}
FILE_EXTRACT = cast(Any, "file-extract")
"""Kimi's extraction purpose; the SDK's `FilePurpose` literal does not list it, the wire accepts any string."""
BATCH_TIMEOUT = 5.0


# ---------------------------------------------------------------------------------------------------- helpers


def extra(model: Any) -> dict[str, Any]:
    """Fields the SDK does not model (Kimi extensions), as parsed from the response."""
    return dict(model.model_extra or {})


def estimate(sdk: openai.OpenAI, model: str, messages: list[dict[str, Any]]) -> int:
    """`total_tokens` from `POST /v1/tokenizers/estimate-token-count`, sent through the SDK's raw `post`."""
    body = sdk.post("/tokenizers/estimate-token-count", body={"model": model, "messages": messages}, cast_to=object)
    assert isinstance(body, dict), body
    return int(body["data"]["total_tokens"])


def collect(stream: Iterator[ChatCompletionChunk]) -> list[ChatCompletionChunk]:
    chunks = list(stream)
    assert chunks, "the stream yielded no chunk"
    return chunks


def choice_chunks(chunks: list[ChatCompletionChunk]) -> list[ChatCompletionChunk]:
    return [chunk for chunk in chunks if chunk.choices]


def streamed_text(chunks: list[ChatCompletionChunk], field: str = "content") -> str:
    """The concatenation of one delta field (`content`, or `reasoning_content` from the extras)."""
    parts = []
    for chunk in choice_chunks(chunks):
        delta = chunk.choices[0].delta
        value = delta.content if field == "content" else extra(delta).get(field)
        parts.append(value or "")
    return "".join(parts)


def assemble_tool_calls(chunks: list[ChatCompletionChunk]) -> dict[int, dict[str, str]]:
    """Tool-call fragments joined per `index`: the first fragment names the call, the others add arguments."""
    calls: dict[int, dict[str, str]] = {}
    for chunk in choice_chunks(chunks):
        for fragment in chunk.choices[0].delta.tool_calls or []:
            call = calls.setdefault(fragment.index, {"id": "", "type": "", "name": "", "arguments": ""})
            if fragment.id:
                assert not call["id"], f"call {fragment.index} got a second id {fragment.id}"
                call["id"] = fragment.id
            if fragment.type:
                call["type"] = fragment.type
            if fragment.function is not None:
                call["name"] += fragment.function.name or ""
                call["arguments"] += fragment.function.arguments or ""
    return calls


def final_choice(chunks: list[ChatCompletionChunk]) -> Any:
    """The choice of the last chunk that has one: the terminal chunk with `finish_reason`."""
    return choice_chunks(chunks)[-1].choices[0]


def usage_triple(usage: Any) -> tuple[int, int, int]:
    if isinstance(usage, dict):
        return usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]
    return usage.prompt_tokens, usage.completion_tokens, usage.total_tokens


def tool_result(call_id: str, name: str) -> dict[str, Any]:
    payload = {"city": "Beijing", "weather": "sunny", "celsius": 21} if name == "get_weather" else {"time": "12:00"}
    return {"role": "tool", "tool_call_id": call_id, "name": name, "content": json.dumps(payload)}


def sdk_for(server: MockServer, api_key: str = DEFAULT_API_KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.api_base, api_key=api_key, max_retries=0, timeout=10)


def wait_for_batch(sdk: openai.OpenAI, batch_id: str, statuses: set[str]) -> Any:
    deadline = time.monotonic() + BATCH_TIMEOUT
    batch = sdk.batches.retrieve(batch_id)
    while batch.status not in statuses:
        assert time.monotonic() < deadline, f"batch {batch_id} still {batch.status} after {BATCH_TIMEOUT}s"
        time.sleep(0.02)
        batch = sdk.batches.retrieve(batch_id)
    return batch


# ---------------------------------------------------------------------------------------------------- completions


@pytest.mark.parametrize("model", [TURBO, "moonshot-v1-8k", K26])
def test_non_stream_completion_and_usage_match_the_estimate(sdk: openai.OpenAI, model: str) -> None:
    messages = [{"role": "system", "content": "You are Kimi."}, *user("Say something about the moon, please.")]
    response = sdk.chat.completions.create(model=model, messages=cast(Any, messages))

    assert isinstance(response, ChatCompletion)
    assert response.object == "chat.completion"
    assert response.model == model
    assert re.fullmatch(r"cmpl-[0-9a-f]{32}", response.id), response.id
    assert [choice.index for choice in response.choices] == [0]
    choice = response.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content and choice.message.content.strip()
    assert not choice.message.tool_calls

    assert response.usage is not None
    prompt, completion, total = usage_triple(response.usage)
    assert prompt > 0 and completion > 0
    assert prompt + completion == total
    assert prompt == estimate(sdk, model, messages)


@pytest.mark.parametrize("model", [TURBO, K26])
@pytest.mark.parametrize("include_usage", [True, False])
def test_stream_matches_non_stream(sdk: openai.OpenAI, model: str, include_usage: bool) -> None:
    messages = user(f"Tell me about streaming ({model}, {include_usage}).")
    reference = sdk.chat.completions.create(model=model, messages=cast(Any, messages))
    stream = sdk.chat.completions.create(
        model=model,
        messages=cast(Any, messages),
        stream=True,
        stream_options={"include_usage": include_usage},
    )
    assert stream.response.headers["content-type"].startswith("text/event-stream")
    chunks = collect(stream)

    assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"}
    assert len({chunk.id for chunk in chunks}) == 1, "all chunks of one stream share the id"
    assert {chunk.model for chunk in chunks} == {model}

    with_choices = choice_chunks(chunks)
    first = with_choices[0].choices[0].delta
    assert first.role == "assistant"
    assert all(chunk.choices[0].delta.role is None for chunk in with_choices[1:]), "role only in the first delta"
    assert [chunk.choices[0].finish_reason for chunk in with_choices[:-1]] == [None] * (len(with_choices) - 1)

    assert streamed_text(chunks) == reference.choices[0].message.content
    reference_reasoning = extra(reference.choices[0].message).get("reasoning_content")
    assert (streamed_text(chunks, "reasoning_content") or None) == reference_reasoning

    final = final_choice(chunks)
    assert final.finish_reason == "stop"
    assert final.delta.content is None and final.delta.tool_calls is None
    choice_usage = extra(final).get("usage")
    assert choice_usage is not None, "the final choice carries usage (Moonshot style)"
    assert usage_triple(choice_usage) == usage_triple(reference.usage)

    usage_only = [chunk for chunk in chunks if not chunk.choices]
    if include_usage:
        assert len(usage_only) == 1 and chunks[-1] is usage_only[0], "one usage-only chunk, last"
        assert chunks[-1].usage is not None
        assert usage_triple(chunks[-1].usage) == usage_triple(reference.usage)
    else:
        assert usage_only == []


def test_raw_stream_is_sse_ending_with_done(sdk: openai.OpenAI) -> None:
    """The SDK tolerates a stream without `[DONE]`, so read the raw events through `with_streaming_response`."""
    with sdk.chat.completions.with_streaming_response.create(
        model=TURBO, messages=cast(Any, user("raw events")), stream=True
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines), lines
    assert lines[-1] == "data: [DONE]"
    assert lines.count("data: [DONE]") == 1
    events = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert events and all(event["object"] == "chat.completion.chunk" for event in events)


def test_stream_with_two_choices(sdk: openai.OpenAI) -> None:
    kwargs: dict[str, Any] = {"model": TURBO, "messages": user("Two answers, please."), "n": 2, "temperature": 0.5}
    reference = sdk.chat.completions.create(**kwargs)
    chunks = collect(sdk.chat.completions.create(**kwargs, stream=True, stream_options={"include_usage": True}))

    assert [choice.index for choice in reference.choices] == [0, 1]
    assert reference.usage is not None
    completion_total = 0
    for choice in reference.choices:
        own = [chunk.choices[0] for chunk in choice_chunks(chunks) if chunk.choices[0].index == choice.index]
        assert own[0].delta.role == "assistant"
        assert "".join(c.delta.content or "" for c in own) == choice.message.content
        assert own[-1].finish_reason == choice.finish_reason == "stop"
        prompt, completion, total = usage_triple(extra(own[-1])["usage"])
        assert prompt == reference.usage.prompt_tokens, "every choice reports the same prompt"
        assert prompt + completion == total
        completion_total += completion
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == completion_total == reference.usage.completion_tokens


@pytest.mark.parametrize("model", [TURBO, K26])
def test_tool_call_round_trip(sdk: openai.OpenAI, model: str) -> None:
    messages: list[dict[str, Any]] = user("What's the weather like in Beijing today? Use get_weather.")
    first = sdk.chat.completions.create(model=model, messages=cast(Any, messages), tools=cast(Any, [WEATHER]))

    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls or []
    assert len(calls) == 1
    call = calls[0]
    assert call.type == "function"
    assert call.id == "functions.get_weather:0"
    assert call.function.name == "get_weather"
    jsonschema.validate(json.loads(call.function.arguments), WEATHER_PARAMS)
    if model == K26:
        assert extra(choice.message).get("reasoning_content"), "thinking models reason before calling"

    # Echo the assistant turn exactly as returned (reasoning_content included), then the tool result.
    messages += [choice.message.to_dict(), tool_result(call.id, call.function.name)]
    second = sdk.chat.completions.create(model=model, messages=cast(Any, messages), tools=cast(Any, [WEATHER]))
    answer = second.choices[0]
    assert answer.finish_reason == "stop"
    assert answer.message.content and answer.message.content.strip()
    assert not answer.message.tool_calls
    assert second.usage is not None and first.usage is not None
    assert second.usage.prompt_tokens > first.usage.prompt_tokens, "the history grew"


def test_tool_call_history_without_reasoning_is_rejected_when_thinking(sdk: openai.OpenAI) -> None:
    messages: list[dict[str, Any]] = user("Weather in Paris? Use get_weather.")
    first = sdk.chat.completions.create(model=K26, messages=cast(Any, messages), tools=cast(Any, [WEATHER]))
    assistant = first.choices[0].message.to_dict()
    del assistant["reasoning_content"]
    call = first.choices[0].message.tool_calls or []
    messages += [assistant, tool_result(call[0].id, "get_weather")]
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model=K26, messages=cast(Any, messages), tools=cast(Any, [WEATHER]))
    assert caught.value.body == {
        "message": "thinking is enabled but reasoning_content is missing in assistant tool call message at index 1",
        "type": "invalid_request_error",
    }


@pytest.mark.parametrize(
    ("prompt", "tools", "expected_names"),
    [
        ("Weather in Shanghai? Call get_weather.", [WEATHER], ["get_weather"]),
        ("Call get_weather for Shanghai and get_time for its timezone.", [WEATHER, CLOCK], ["get_weather", "get_time"]),
    ],
    ids=["one-call", "parallel-calls"],
)
def test_streamed_tool_calls_assemble_by_index(
    sdk: openai.OpenAI, prompt: str, tools: list[dict[str, Any]], expected_names: list[str]
) -> None:
    messages: list[dict[str, Any]] = user(prompt)
    reference = sdk.chat.completions.create(model=TURBO, messages=cast(Any, messages), tools=cast(Any, tools))
    chunks = collect(
        sdk.chat.completions.create(model=TURBO, messages=cast(Any, messages), tools=cast(Any, tools), stream=True)
    )

    assert final_choice(chunks).finish_reason == "tool_calls"
    calls = assemble_tool_calls(chunks)
    assert sorted(calls) == list(range(len(expected_names)))
    for index, name in enumerate(expected_names):
        call = calls[index]
        assert call["id"] == f"functions.{name}:{index}"
        assert call["type"] == "function"
        assert call["name"] == name
        jsonschema.validate(json.loads(call["arguments"]), PARAMS_BY_NAME[name])
    reference_calls = reference.choices[0].message.tool_calls or []
    expected = [(c.id, c.function.name, c.function.arguments) for c in reference_calls if c.type == "function"]
    assert len(expected) == len(reference_calls)
    assert [(c["id"], c["name"], c["arguments"]) for c in calls.values()] == expected

    # Send the assembled calls back, one tool result per call, and stream the answer.
    assistant = {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
            for c in calls.values()
        ],
    }
    messages += [assistant, *(tool_result(c["id"], c["name"]) for c in calls.values())]
    answer = collect(
        sdk.chat.completions.create(model=TURBO, messages=cast(Any, messages), tools=cast(Any, tools), stream=True)
    )
    assert final_choice(answer).finish_reason == "stop"
    assert streamed_text(answer).strip()
    assert assemble_tool_calls(answer) == {}


def test_tool_message_with_unknown_call_id_is_rejected(sdk: openai.OpenAI) -> None:
    messages = [*user("Weather?"), tool_result("functions.get_weather:7", "get_weather")]
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model=TURBO, messages=cast(Any, messages), tools=cast(Any, [WEATHER]))
    assert caught.value.body == {
        "message": "Invalid request: tool_call_id functions.get_weather:7 not found",
        "type": "invalid_request_error",
    }


# ---------------------------------------------------------------------------------------------------- partial mode


@pytest.mark.parametrize(
    "prefix",
    [
        {"role": "assistant", "content": "Once upon", "partial": True},
        {"role": "assistant", "name": "Kelsier", "content": "", "partial": True},
        {"role": "assistant", "name": "Kelsier", "content": "Once upon", "partial": True},
    ],
    ids=["content", "name-only", "name-and-content"],
)
@pytest.mark.parametrize("stream", [False, True])
def test_partial_mode(sdk: openai.OpenAI, prefix: dict[str, Any], stream: bool) -> None:
    messages = [*user("Tell me a short story about the moon."), prefix]
    if stream:
        chunks = collect(sdk.chat.completions.create(model=TURBO, messages=cast(Any, messages), stream=True))
        content = streamed_text(chunks)
        finish = final_choice(chunks).finish_reason
        prompt = usage_triple(extra(final_choice(chunks))["usage"])[0]
    else:
        response = sdk.chat.completions.create(model=TURBO, messages=cast(Any, messages))
        content = response.choices[0].message.content or ""
        finish = response.choices[0].finish_reason
        assert response.usage is not None
        prompt = response.usage.prompt_tokens
    assert finish == "stop"
    assert content.strip(), "the continuation is not empty"
    if prefix["content"]:
        assert not content.startswith(prefix["content"]), "the prefix is not repeated in the reply"
    # The prefix (and its `name`) reached the server: it is counted as prompt, like the estimate counts it.
    assert prompt == estimate(sdk, TURBO, messages)
    assert prompt > estimate(sdk, TURBO, messages[:1])


def test_partial_flag_travels_through_the_sdk(sdk: openai.OpenAI) -> None:
    """The SDK forwards unknown message keys: a partial message that is not last is rejected by the server."""
    messages = [{"role": "assistant", "content": "Once upon", "partial": True}, *user("Go on.")]
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model=TURBO, messages=cast(Any, messages))
    assert "only the last message may be partial" in str(caught.value.body)


# ---------------------------------------------------------------------------------------------------- JSON modes


def test_json_object_mode(sdk: openai.OpenAI) -> None:
    response = sdk.chat.completions.create(
        model=TURBO,
        messages=cast(Any, user('Answer as a JSON object like {"answer": "...", "confidence": 0.5}.')),
        response_format={"type": "json_object"},
    )
    content = response.choices[0].message.content or ""
    assert isinstance(json.loads(content), dict)
    assert response.choices[0].finish_reason == "stop"


PERSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string", "minLength": 1}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
    "additionalProperties": False,
}
ORDER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["open", "shipped", "closed"]},
        "items": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1, "maximum": 9}},
                "required": ["sku", "qty"],
                "additionalProperties": False,
            },
        },
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
    "required": ["status", "items"],
    "additionalProperties": False,
}


@pytest.mark.parametrize("schema", [PERSON_SCHEMA, ORDER_SCHEMA], ids=["person", "order"])
@pytest.mark.parametrize("stream", [False, True])
def test_json_schema_mode(sdk: openai.OpenAI, schema: dict[str, Any], stream: bool) -> None:
    response_format = {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}}
    messages = user("Reply with the JSON document the schema describes.")
    if stream:
        chunks = collect(
            sdk.chat.completions.create(
                model=TURBO, messages=cast(Any, messages), response_format=cast(Any, response_format), stream=True
            )
        )
        content = streamed_text(chunks)
    else:
        response = sdk.chat.completions.create(
            model=TURBO, messages=cast(Any, messages), response_format=cast(Any, response_format)
        )
        content = response.choices[0].message.content or ""
    jsonschema.validate(json.loads(content), schema)


class Item(BaseModel):
    sku: str
    qty: int = Field(ge=1, le=9)


class Order(BaseModel):
    status: str
    items: list[Item]
    note: str | None = None


class GetWeather(BaseModel):
    """Current weather of a city."""

    city: str


def test_sdk_parse_with_pydantic_models(sdk: openai.OpenAI) -> None:
    """The SDK's structured-output helpers build strict schemas ($defs, $ref, anyOf, titles) the mock accepts."""
    response = sdk.chat.completions.parse(
        model=TURBO, messages=cast(Any, user("An order, please.")), response_format=Order
    )
    parsed = response.choices[0].message.parsed
    assert isinstance(parsed, Order)
    assert all(1 <= item.qty <= 9 for item in parsed.items)

    response = sdk.chat.completions.parse(
        model=TURBO,
        messages=cast(Any, user("Weather in Oslo? Use GetWeather.")),
        tools=[openai.pydantic_function_tool(GetWeather)],
    )
    calls = response.choices[0].message.tool_calls or []
    assert response.choices[0].finish_reason == "tool_calls"
    assert len(calls) == 1 and calls[0].function.name == "GetWeather"
    assert isinstance(calls[0].function.parsed_arguments, GetWeather)


@pytest.mark.parametrize(
    "response_format",
    [
        {"type": "json_schema", "json_schema": {"schema": PERSON_SCHEMA}},
        {"type": "json_schema", "json_schema": {"name": "person"}},
        {"type": "json_schema"},
        {"type": "bogus"},
    ],
    ids=["no-name", "no-schema", "no-json_schema", "bogus-type"],
)
def test_malformed_response_format_is_rejected(sdk: openai.OpenAI, response_format: dict[str, Any]) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(
            model=TURBO, messages=cast(Any, user("JSON please")), response_format=cast(Any, response_format)
        )
    assert caught.value.type == "invalid_request_error"


# ---------------------------------------------------------------------------------------------------- thinking


@pytest.mark.parametrize(
    ("model", "extra_body", "reasons"),
    [
        (K26, None, True),
        (K26, {"thinking": {"type": "enabled"}}, True),
        (K26, DISABLED, False),
        ("kimi-k2.5", DISABLED, False),
        (THINKING, None, True),
        ("kimi-k2-thinking-turbo", None, True),
        (TURBO, None, False),
    ],
    ids=["k2.6-default", "k2.6-enabled", "k2.6-disabled", "k2.5-disabled", "k2-thinking", "k2-thinking-turbo", "k2"],
)
def test_reasoning_content_presence(
    sdk: openai.OpenAI, model: str, extra_body: dict[str, Any] | None, reasons: bool
) -> None:
    response = sdk.chat.completions.create(
        model=model, messages=cast(Any, user("Why is the sky blue?")), extra_body=extra_body
    )
    message = response.choices[0].message
    assert message.content
    reasoning = extra(message).get("reasoning_content")
    if reasons:
        assert isinstance(reasoning, str) and reasoning.strip()
    else:
        assert "reasoning_content" not in extra(message)


@pytest.mark.parametrize("model", [K26, THINKING])
def test_streamed_reasoning_precedes_content(sdk: openai.OpenAI, model: str) -> None:
    chunks = collect(
        sdk.chat.completions.create(model=model, messages=cast(Any, user("Think, then answer.")), stream=True)
    )
    kinds = []
    for chunk in choice_chunks(chunks):
        delta = chunk.choices[0].delta
        if extra(delta).get("reasoning_content"):
            kinds.append("reasoning")
        if delta.content:
            kinds.append("content")
    assert "reasoning" in kinds and "content" in kinds
    last_reasoning = max(i for i, kind in enumerate(kinds) if kind == "reasoning")
    first_content = kinds.index("content")
    assert last_reasoning < first_content, f"reasoning after content: {kinds}"
    assert not any(extra(c.choices[0].delta).get("reasoning_content") and c.choices[0].delta.content for c in chunks)


# ---------------------------------------------------------------------------------------------------- errors


def test_wrong_key_is_an_authentication_error(mock_server: MockServer) -> None:
    with sdk_for(mock_server, api_key="sk-not-a-valid-key") as client, pytest.raises(openai.AuthenticationError) as e:
        client.chat.completions.create(model=TURBO, messages=cast(Any, user("hi")))
    assert e.value.status_code == 401
    assert e.value.response.json() == {
        "error": {"message": "Invalid Authentication", "type": "invalid_authentication_error"}
    }


@pytest.mark.parametrize(
    ("kwargs", "exception", "status", "type_", "message"),
    [
        (
            {"model": "kimi-nope"},
            openai.NotFoundError,
            404,
            "resource_not_found_error",
            "Not found the model kimi-nope or Permission denied",
        ),
        (
            {"model": K26, "temperature": 0.7},
            openai.BadRequestError,
            400,
            "invalid_request_error",
            "invalid temperature: only 1 is allowed for this model",
        ),
        (
            {"model": K26, "temperature": 1.0, "extra_body": DISABLED},
            openai.BadRequestError,
            400,
            "invalid_request_error",
            "invalid temperature: only 0.6 is allowed for this model",
        ),
        (
            {"model": K26, "top_p": 0.5},
            openai.BadRequestError,
            400,
            "invalid_request_error",
            "invalid top_p: only 0.95 is allowed for this model",
        ),
        (
            {"model": K26, "tools": [WEATHER], "tool_choice": "required"},
            openai.BadRequestError,
            400,
            "invalid_request_error",
            "tool_choice 'required' is incompatible with thinking enabled",
        ),
    ],
    ids=["unknown-model", "k2.6-temperature", "k2.6-non-thinking-temperature", "k2.6-top_p", "required-thinking"],
)
def test_errors_map_to_sdk_exceptions(
    sdk: openai.OpenAI,
    kwargs: dict[str, Any],
    exception: type[openai.APIStatusError],
    status: int,
    type_: str,
    message: str,
) -> None:
    with pytest.raises(exception) as caught:
        sdk.chat.completions.create(messages=cast(Any, user("hi")), **kwargs)
    error = caught.value
    assert type(error) is exception
    assert error.status_code == status
    assert error.type == type_
    assert error.body == {"message": message, "type": type_}
    assert error.response.json() == {"error": {"message": message, "type": type_}}


@pytest.mark.parametrize("temperature", [1, 1.0])
def test_fixed_temperature_itself_is_accepted(sdk: openai.OpenAI, temperature: float) -> None:
    response = sdk.chat.completions.create(model=K26, messages=cast(Any, user("hi")), temperature=temperature)
    assert response.choices[0].finish_reason == "stop"


def test_rpm_limit_is_a_rate_limit_error_with_retry_after() -> None:
    with serve_in_thread(MockConfig(lineup="all", rpm=1)) as server, sdk_for(server) as client:
        assert client.chat.completions.create(model=TURBO, messages=cast(Any, user("one"))).choices
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(model=TURBO, messages=cast(Any, user("two")))
    error = caught.value
    assert error.status_code == 429
    assert error.type == "rate_limit_reached_error"
    assert "request reached organization max RPM: 1" in error.message
    retry_after = error.response.headers.get("retry-after")
    assert retry_after is not None and retry_after.isdigit()
    assert 1 <= int(retry_after) <= 60


@pytest.mark.parametrize("close_early", [False, True], ids=["read-to-end", "closed-early"])
def test_concurrency_limit_counts_an_open_stream(close_early: bool) -> None:
    with (
        serve_in_thread(MockConfig(lineup="all", max_concurrency=1, chunk_delay=0.01)) as server,
        sdk_for(server) as client,
    ):
        stream = client.chat.completions.create(model=TURBO, messages=cast(Any, user("long")), stream=True)
        with stream:
            next(iter(stream))
            with pytest.raises(openai.RateLimitError) as caught:
                client.models.list()
            assert caught.value.type == "rate_limit_reached_error"
            assert "request reached organization max concurrency: 1" in caught.value.message
            assert caught.value.response.headers.get("retry-after") == "1"
            if not close_early:
                assert final_choice(list(stream)).finish_reason == "stop"
        deadline = time.monotonic() + 3
        while True:  # the slot is released once the stream has ended or the client went away
            try:
                assert client.models.list().data
                break
            except openai.RateLimitError:
                assert time.monotonic() < deadline, "the finished stream still holds its concurrency slot"
                time.sleep(0.02)


# ---------------------------------------------------------------------------------------------------- files


def test_file_lifecycle(sdk: openai.OpenAI) -> None:
    created = sdk.files.create(file=("notes.txt", b"hello kimi", "text/plain"), purpose=FILE_EXTRACT)
    assert created.object == "file"
    assert re.fullmatch(r"[a-z0-9]{20}", created.id), created.id
    assert (created.filename, created.bytes, created.purpose) == ("notes.txt", 10, "file-extract")
    assert created.created_at > 0

    listed = sdk.files.list()
    assert created.id in [f.id for f in listed.data]

    retrieved = sdk.files.retrieve(created.id)
    assert (retrieved.id, retrieved.filename, retrieved.bytes, retrieved.purpose, retrieved.status) == (
        created.id,
        created.filename,
        created.bytes,
        created.purpose,
        created.status,
    )

    document = json.loads(sdk.files.content(created.id).text)
    assert document["content"] == "hello kimi"
    assert document["filename"] == "notes.txt"
    assert document["file_type"] == "text/plain"

    deleted = sdk.files.delete(created.id)
    assert (deleted.id, deleted.deleted) == (created.id, True)
    assert created.id not in [f.id for f in sdk.files.list().data]
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.files.retrieve(created.id)
    assert caught.value.type == "resource_not_found_error"
    with pytest.raises(openai.NotFoundError):
        sdk.files.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        sdk.files.content(created.id)


@pytest.fixture(scope="module")
def small_files_server() -> Iterator[MockServer]:
    with serve_in_thread(MockConfig(lineup="all", max_file_bytes=64, max_file_count=1)) as server:
        yield server


@pytest.mark.parametrize(
    ("data", "purpose", "message"),
    [
        (b"", FILE_EXTRACT, "File size is zero, please confirm and re-upload the file"),
        (
            b"x" * 65,
            FILE_EXTRACT,
            "File size is too large, max file size is 100MB, please confirm and re-upload the file",
        ),
        (
            b"hello",
            cast(Any, "assistants"),
            "Invalid request: purpose must be one of file-extract, image, video, batch",
        ),
    ],
    ids=["empty", "too-large", "bad-purpose"],
)
def test_upload_errors(small_files_server: MockServer, data: bytes, purpose: Any, message: str) -> None:
    with sdk_for(small_files_server) as client, pytest.raises(openai.BadRequestError) as caught:
        client.files.create(file=("f.txt", data, "text/plain"), purpose=purpose)
    assert caught.value.body == {"message": message, "type": "invalid_request_error"}


def test_file_count_limit(small_files_server: MockServer) -> None:
    with sdk_for(small_files_server) as client:
        kept = client.files.create(file=("a.txt", b"a", "text/plain"), purpose=FILE_EXTRACT)
        try:
            with pytest.raises(openai.BadRequestError) as caught:
                client.files.create(file=("b.txt", b"b", "text/plain"), purpose=FILE_EXTRACT)
            assert caught.value.body == {
                "message": "The number of files you have uploaded exceeded the max file count 1, "
                "please delete previous uploaded files",
                "type": "invalid_request_error",
            }
        finally:
            client.files.delete(kept.id)
        replacement = client.files.create(file=("b.txt", b"b", "text/plain"), purpose=FILE_EXTRACT)
        client.files.delete(replacement.id)


# ---------------------------------------------------------------------------------------------------- batches


def batch_file(sdk: openai.OpenAI, bodies: list[dict[str, Any]]) -> str:
    lines = [
        json.dumps({"custom_id": f"request-{i}", "method": "POST", "url": "/v1/chat/completions", "body": body})
        for i, body in enumerate(bodies, start=1)
    ]
    uploaded = sdk.files.create(file=("requests.jsonl", "\n".join(lines).encode() + b"\n"), purpose="batch")
    assert uploaded.purpose == "batch"
    return uploaded.id


def create_batch(sdk: openai.OpenAI, input_file_id: str) -> Any:
    return sdk.batches.create(input_file_id=input_file_id, endpoint="/v1/chat/completions", completion_window="24h")


OK_LINE = {"model": K26, "messages": user("Say hi.")}
BAD_LINE = {"model": K26, "messages": user("Say hi."), "temperature": 0.7}


@pytest.mark.parametrize(
    ("bodies", "succeeded", "failed"),
    [
        ([OK_LINE, {"model": K26, "messages": user("Say bye.")}], ["request-1", "request-2"], []),
        ([OK_LINE, BAD_LINE], ["request-1"], ["request-2"]),
    ],
    ids=["all-ok", "one-invalid-line"],
)
def test_batch_lifecycle(
    sdk: openai.OpenAI, bodies: list[dict[str, Any]], succeeded: list[str], failed: list[str]
) -> None:
    input_file_id = batch_file(sdk, bodies)
    created = create_batch(sdk, input_file_id)
    assert created.object == "batch"
    assert created.status == "validating"
    assert (created.input_file_id, created.endpoint, created.completion_window) == (
        input_file_id,
        "/v1/chat/completions",
        "24h",
    )
    assert created.id.startswith("batch_")

    batch = wait_for_batch(sdk, created.id, {"completed", "failed", "cancelled", "expired"})
    assert batch.status == "completed", batch.errors
    assert batch.request_counts is not None
    counts = batch.request_counts
    assert (counts.total, counts.completed, counts.failed) == (len(bodies), len(succeeded), len(failed))
    assert batch.completed_at is not None and batch.in_progress_at is not None and batch.finalizing_at is not None
    assert batch.created_at <= batch.in_progress_at <= batch.finalizing_at <= batch.completed_at

    assert batch.output_file_id is not None
    outputs = [json.loads(line) for line in sdk.files.content(batch.output_file_id).text.splitlines()]
    assert len(outputs) == len(succeeded)
    assert sorted(record["custom_id"] for record in outputs) == succeeded
    for record in outputs:
        assert record["response"]["status_code"] == 200
        body = record["response"]["body"]
        assert body["object"] == "chat.completion"
        assert body["model"] == K26
        assert body["choices"][0]["message"]["content"]
    if failed:
        assert batch.error_file_id is not None
        failures = [json.loads(line) for line in sdk.files.content(batch.error_file_id).text.splitlines()]
        assert [record["custom_id"] for record in failures] == failed
        assert failures[0]["response"]["status_code"] == 400
        assert failures[0]["response"]["body"]["error"]["message"] == (
            "invalid temperature: only 1 is allowed for this model"
        )
    else:
        assert batch.error_file_id is None

    with pytest.raises(openai.BadRequestError) as caught:
        sdk.batches.cancel(batch.id)
    assert caught.value.type == "invalid_request_error"


def test_batch_list_pagination(sdk: openai.OpenAI) -> None:
    input_file_id = batch_file(sdk, [OK_LINE])
    older = create_batch(sdk, input_file_id)
    newer = create_batch(sdk, input_file_id)

    page = sdk.batches.list(limit=1)
    assert [b.id for b in page.data] == [newer.id], "newest first"
    assert page.has_more is True
    second = page.get_next_page()
    assert [b.id for b in second.data] == [older.id]

    seen = [b.id for b in sdk.batches.list(limit=1)]  # auto-pagination follows `after` until has_more is false
    assert seen[:2] == [newer.id, older.id]
    assert len(seen) == len(set(seen))
    assert seen == [b.id for b in sdk.batches.list(limit=100).data]
    for batch_id in (older.id, newer.id):
        wait_for_batch(sdk, batch_id, {"completed"})


def test_batch_cancel_in_progress() -> None:
    with serve_in_thread(MockConfig(lineup="all", batch_step_seconds=0.2)) as server, sdk_for(server) as client:
        created = create_batch(client, batch_file(client, [OK_LINE, OK_LINE | {"messages": user("again")}]))
        cancelling = client.batches.cancel(created.id)
        assert cancelling.status == "cancelling"
        assert cancelling.cancelling_at is not None
        cancelled = wait_for_batch(client, created.id, {"cancelled", "completed", "failed"})
        assert cancelled.status == "cancelled"
        assert cancelled.cancelled_at is not None
        with pytest.raises(openai.BadRequestError):
            client.batches.cancel(created.id)


def test_batch_with_unknown_file_is_not_found(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        create_batch(sdk, "nosuchfile0000000000")
    with pytest.raises(openai.NotFoundError):
        sdk.batches.retrieve("batch_doesnotexist")


# ---------------------------------------------------------------------------------------------------- models


@pytest.mark.parametrize(
    ("model", "context_length", "reasoning"),
    [(K26, 262144, True), (TURBO, 262144, False), ("moonshot-v1-8k", 8192, False), (THINKING, 262144, True)],
)
def test_models_list(sdk: openai.OpenAI, model: str, context_length: int, reasoning: bool) -> None:
    models = {m.id: m for m in sdk.models.list()}
    assert model in models
    entry = models[model]
    assert entry.object == "model"
    assert entry.owned_by == "moonshot"
    assert extra(entry)["context_length"] == context_length
    assert extra(entry)["supports_reasoning"] is reasoning
