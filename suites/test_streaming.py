"""Streamed chat completions, per model (facts §3.10): SSE framing, `[DONE]`, the chunk grammar, tool-call
fragments, finish_reason and Moonshot-style usage (inside the final choice chunk)."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_conformance.suite import (
    TIME_TOOL,
    WEATHER_TOOL,
    Ceiling,
    Exchange,
    ModelInfo,
    TargetClient,
    Verify,
    allows_several_choices,
    ceiling,
    chat,
    forced_tool_call,
    json_schema_format,
    named_tool_choice,
    no_thinking_switch,
    sampling_for_choices,
    sends,
    sends_if,
    thinking_disabled,
    tool_call,
    uses_operations,
)

pytestmark = uses_operations("chat")

M = "model"
"""The model in the bodies the `ceiling` marks count (a model's id changes no token count)."""


def stream(client: TargetClient, body: dict[str, Any]) -> Exchange:
    return client.request("createChatCompletion", "POST", "/chat/completions", json_body={**body, "stream": True})


@ceiling(sends(chat(M, "Name three colours.")))
@pytest.mark.parametrize("include_usage", [False, True], ids=["plain", "include_usage"])
def test_stream(target_client: TargetClient, verify: Verify, target_model: str, include_usage: bool) -> None:
    extra: dict[str, Any] = {"stream_options": {"include_usage": True}} if include_usage else {}
    verify(stream(target_client, chat(target_model, "Name three colours.", **extra)))


@ceiling(sends(tool_call(M)))
def test_stream_tool_call(target_client: TargetClient, verify: Verify, target_model: str) -> None:
    verify(stream(target_client, tool_call(target_model)))


@ceiling(lambda case: sends(chat(M, n=2)) if allows_several_choices(case.info) else Ceiling())
def test_stream_several_choices(
    target_client: TargetClient, verify: Verify, target_model: str, model_info: ModelInfo
) -> None:
    if not allows_several_choices(model_info):
        pytest.skip(f"{model_info.id} allows one choice only")
    verify(stream(target_client, chat(target_model, n=2, **sampling_for_choices(model_info))))


@ceiling(lambda case: Ceiling() if no_thinking_switch(case.info) else sends(chat(M)))
def test_stream_thinking_disabled(
    target_client: TargetClient, verify: Verify, target_model: str, model_info: ModelInfo
) -> None:
    reason = no_thinking_switch(model_info)
    if reason:
        pytest.skip(reason)
    verify(stream(target_client, chat(target_model, **thinking_disabled(model_info))))


@ceiling(sends(chat(M, "Write a long story.", max_tokens=3), chat(M, "A person as JSON.", max_tokens=64)))
def test_stream_length_and_json(target_client: TargetClient, verify: Verify, target_model: str) -> None:
    verify(stream(target_client, chat(target_model, "Write a long story.", max_tokens=3)))
    verify(
        stream(
            target_client,
            chat(target_model, "A person as JSON.", max_tokens=64, response_format={"type": "json_object"}),
        )
    )


@ceiling(sends(*[chat(M, "Name a colour.", max_tokens=120), tool_call(M)] * 2))
def test_stream_parity(target_client: TargetClient, verify: Verify, target_model: str) -> None:
    """Streamed and not: same choices and finish reasons, for a plain answer and a tool call."""
    for body in (chat(target_model, "Name a colour.", max_tokens=120), tool_call(target_model)):
        whole = target_client.request("createChatCompletion", "POST", "/chat/completions", json_body=body)
        streamed = stream(target_client, body)
        streamed.related["non_stream"] = whole
        verify(streamed)


BOTH_TOOLS = "Use get_weather and get_time for Oslo."


def parallel_request(model: str) -> dict[str, Any]:
    """A question naming both tools, both declared: two parallel calls."""
    parallel = {**tool_call(model, max_tokens=128), "tools": [WEATHER_TOOL, TIME_TOOL]}
    parallel["messages"] = [{"role": "user", "content": BOTH_TOOLS}]
    return parallel


@ceiling(sends(chat(M, BOTH_TOOLS, tools=[WEATHER_TOOL], tool_choice="none"), parallel_request(M)))
def test_stream_tool_choices(target_client: TargetClient, verify: Verify, target_model: str) -> None:
    """`tool_choice: none` streams no tool calls; two tools named in the question stream two parallel calls."""
    verify(stream(target_client, chat(target_model, BOTH_TOOLS, tools=[WEATHER_TOOL], tool_choice="none")))
    exchange = stream(target_client, parallel_request(target_model))
    verify(exchange)


@ceiling(
    lambda case: sends_if(
        forced_tool_call(M, case.info, case.params["tool_choice"], max_tokens=case.params["max_tokens"])
    )
)
@pytest.mark.parametrize(
    ("tool_choice", "max_tokens"),
    [(named_tool_choice("get_time"), 64), ("required", 3)],
    ids=["named", "required_cut_at_cap"],
)
def test_stream_forced_tool_choice(
    target_client: TargetClient,
    verify: Verify,
    target_model: str,
    model_info: ModelInfo,
    tool_choice: str | dict[str, Any],
    max_tokens: int,
) -> None:
    """Streamed, a named tool_choice calls that function only, and a forced call cut by a 3-token cap ends as
    `length` (CHAT017 on the fold); where the contract allows them (thinking off)."""
    body = forced_tool_call(target_model, model_info, tool_choice, max_tokens=max_tokens)
    if body is None:
        pytest.skip(f"{model_info.id} always thinks: a forcing tool_choice is refused there")
    exchange = stream(target_client, body)
    exchange.intent = "valid"
    verify(exchange)


@ceiling(sends(chat(M, "A person as JSON.", max_tokens=64)))
def test_stream_json_schema(target_client: TargetClient, verify: Verify, target_model: str) -> None:
    body = chat(target_model, "A person as JSON.", max_tokens=64, response_format=json_schema_format())
    verify(stream(target_client, body))


def partial_request(model: str) -> dict[str, Any]:
    """A story to continue from a partial assistant prefix."""
    body = chat(model, "Tell a story.")
    prefix = {"role": "assistant", "content": "Once upon a time", "partial": True}
    return {**body, "messages": [*body["messages"], prefix]}


@ceiling(sends(chat(M, "Write one sentence about the sea."), partial_request(M)))
def test_stream_stop_and_partial(target_client: TargetClient, verify: Verify, target_model: str) -> None:
    """Stop text is not emitted in a stream either; a partial prefix is continued, not repeated."""
    verify(stream(target_client, chat(target_model, "Write one sentence about the sea.", stop=["the"])))
    verify(stream(target_client, partial_request(target_model)))


PNG = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def vision_request(model: str) -> dict[str, Any]:
    content = [{"type": "image_url", "image_url": {"url": PNG}}, {"type": "text", "text": "What is this?"}]
    return {**chat(model), "messages": [{"role": "user", "content": content}]}


@ceiling(lambda case: sends(vision_request(M)) if case.info.image_in else Ceiling())
def test_stream_vision(target_client: TargetClient, verify: Verify, target_model: str, model_info: ModelInfo) -> None:
    if not model_info.image_in:
        pytest.skip(f"{model_info.id} takes no image input")
    verify(stream(target_client, vision_request(target_model)))
