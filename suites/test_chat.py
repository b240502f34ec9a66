"""Semantics of non-streaming chat completions, per model of the target (facts §3)."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_conformance.suite import (
    WEATHER_TOOL,
    Ceiling,
    ModelInfo,
    Surface,
    TargetClient,
    Verify,
    allows_several_choices,
    ceiling,
    chat,
    chat_tokens,
    forced_tool_call,
    json_schema_format,
    named_tool_choice,
    no_thinking_switch,
    prompt_tokens,
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
ECHO_TOKENS = 256
"""What echoing the first answer of the tool round trip (its message, a tool message per call) may add to the
second request; a longer answer is not echoed (the test skips), so the test's ceiling holds."""


def complete(client: TargetClient, body: dict[str, Any]) -> Any:
    return client.request("createChatCompletion", "POST", "/chat/completions", json_body=body)


@ceiling(sends(chat(M, "Name three colours."), prompt_tokens(chat(M, "Name three colours."))))
def test_plain_completion(
    target_client: TargetClient, verify: Verify, target_model: str, target_operations: Surface
) -> None:
    """A plain completion; its prompt_tokens compared with estimate-token-count for the same messages where the
    target offers that (CHAT011 is not applicable where it does not: the completion is judged all the same)."""
    body = chat(target_model, "Name three colours.")
    exchange = complete(target_client, body)
    if target_operations.serves("estimate"):
        exchange.related["estimate"] = target_client.request(
            "estimateTokenCount",
            "POST",
            "/tokenizers/estimate-token-count",
            json_body={"model": target_model, "messages": body["messages"]},
        )
        verify(exchange.related["estimate"])
    verify(exchange)


@ceiling(lambda case: sends(chat(M, n=2)) if allows_several_choices(case.info) else Ceiling())
def test_several_choices(target_client: TargetClient, verify: Verify, target_model: str, model_info: ModelInfo) -> None:
    if not allows_several_choices(model_info):
        pytest.skip(f"{model_info.id} allows one choice only")
    verify(complete(target_client, chat(target_model, n=2, **sampling_for_choices(model_info))))


@ceiling(sends(*[chat(M, "Write one sentence about the sea.", max_tokens=48)] * 2))
def test_stop_sequence(target_client: TargetClient, verify: Verify, target_model: str) -> None:
    first = complete(target_client, chat(target_model, "Write one sentence about the sea.", max_tokens=48))
    verify(first)
    content = (first.json()["choices"][0]["message"].get("content") or "").split()
    stop = content[len(content) // 2] if len(content) > 2 else "the"
    verify(complete(target_client, chat(target_model, "Write one sentence about the sea.", max_tokens=48, stop=[stop])))


@ceiling(sends(chat(M, "Write a long story about the moon.", max_tokens=3)))
def test_max_tokens_cap(target_client: TargetClient, verify: Verify, target_model: str) -> None:
    verify(complete(target_client, chat(target_model, "Write a long story about the moon.", max_tokens=3)))


@ceiling(sends(chat(M, "Weather in Paris?", tools=[WEATHER_TOOL], tool_choice="none")))
def test_tool_choice_none(target_client: TargetClient, verify: Verify, target_model: str) -> None:
    verify(complete(target_client, chat(target_model, "Weather in Paris?", tools=[WEATHER_TOOL], tool_choice="none")))


@ceiling(sends(tool_call(M)), resend=True)
def test_tool_call_arguments(target_client: TargetClient, verify: Verify, target_model: str) -> None:
    body = tool_call(target_model)
    verify(complete(target_client, body), resend=lambda: complete(target_client, body))


@ceiling(lambda case: Ceiling() if case.info.thinks(None) and no_thinking_switch(case.info) else sends(tool_call(M)))
def test_tool_choice_required(
    target_client: TargetClient, verify: Verify, target_model: str, model_info: ModelInfo
) -> None:
    """`required` with a tool, where the contract allows it (thinking off). Whether the API takes it is contested
    (facts §3.6, §11.3): a refusal is a warning naming both sides (SCHM003), a served answer faces every check."""
    if model_info.thinks(None) and no_thinking_switch(model_info) is not None:
        pytest.skip(f"{model_info.id} always thinks: tool_choice required is refused there")
    extra = thinking_disabled(model_info) if model_info.thinks(None) else {}
    body = {**tool_call(target_model), "tool_choice": "required", **extra}
    exchange = complete(target_client, body)
    exchange.intent = "valid"
    verify(exchange)


@ceiling(lambda case: sends_if(forced_tool_call(M, case.info, named_tool_choice("get_time"))))
def test_named_tool_choice(
    target_client: TargetClient, verify: Verify, target_model: str, model_info: ModelInfo
) -> None:
    """A named tool_choice, where the contract allows it (thinking off): the question asks for both tools, the
    choice names get_time, so only get_time is called (CHAT017, a warning: KVV says a named choice is silently
    ignored). The contract takes the named form: a refusal is SCHM003."""
    body = forced_tool_call(target_model, model_info, named_tool_choice("get_time"))
    if body is None:
        pytest.skip(f"{model_info.id} always thinks: a named tool_choice is refused there")
    exchange = complete(target_client, body)
    exchange.intent = "valid"
    verify(exchange)


@ceiling(lambda case: sends_if(forced_tool_call(M, case.info, "required", max_tokens=3)))
def test_forced_call_cut_at_cap(
    target_client: TargetClient, verify: Verify, target_model: str, model_info: ModelInfo
) -> None:
    """`required` with a 3-token cap: the forced call is cut, so the answer ends as `length`, never as a text answer
    that stops (CHAT017; SGLang #39895, facts §12)."""
    body = forced_tool_call(target_model, model_info, "required", max_tokens=3)
    if body is None:
        pytest.skip(f"{model_info.id} always thinks: tool_choice required is refused there")
    exchange = complete(target_client, body)
    exchange.intent = "valid"
    verify(exchange)


LOOSE_WEATHER_TOOL = {**WEATHER_TOOL, "function": {**WEATHER_TOOL["function"], "strict": False}}


@ceiling(sends({**tool_call(M), "tools": [LOOSE_WEATHER_TOOL]}), resend=True)
def test_loose_tool_arguments(target_client: TargetClient, verify: Verify, target_model: str) -> None:
    """A tool with `strict: false` guarantees only a JSON object (facts §3.6), not its schema: CHAT009 holds the
    arguments to that."""
    body = {**tool_call(target_model), "tools": [LOOSE_WEATHER_TOOL]}
    verify(complete(target_client, body), resend=lambda: complete(target_client, body))


def partial_request(model: str) -> dict[str, Any]:
    """A story to continue from a partial assistant prefix."""
    body = chat(model, "Tell a story.")
    prefix = {"role": "assistant", "content": "Once upon a time", "partial": True}
    return {**body, "messages": [*body["messages"], prefix]}


@ceiling(sends(partial_request(M)), resend=True)
def test_partial_mode(target_client: TargetClient, verify: Verify, target_model: str) -> None:
    partial = partial_request(target_model)
    verify(complete(target_client, partial), resend=lambda: complete(target_client, partial))


JSON_PROMPT = "Describe a person as JSON with name and age."


@ceiling(
    lambda case: sends(chat(M, JSON_PROMPT, max_tokens=64, response_format=case.params["response_format"])), resend=True
)
@pytest.mark.parametrize(
    "response_format", [{"type": "json_object"}, json_schema_format()], ids=["json_object", "json_schema"]
)
def test_json_modes(
    target_client: TargetClient, verify: Verify, target_model: str, response_format: dict[str, Any]
) -> None:
    body = chat(target_model, JSON_PROMPT, max_tokens=64, response_format=response_format)
    verify(complete(target_client, body), resend=lambda: complete(target_client, body))


@ceiling(lambda case: Ceiling() if no_thinking_switch(case.info) else sends(chat(M, "Say OK.")))
def test_thinking_disabled(
    target_client: TargetClient, verify: Verify, target_model: str, model_info: ModelInfo
) -> None:
    reason = no_thinking_switch(model_info)
    if reason:
        pytest.skip(reason)
    verify(complete(target_client, chat(target_model, "Say OK.", **thinking_disabled(model_info))))


ROUND_TRIP = tool_call(M, city="Oslo", max_tokens=96)


@ceiling(sends(ROUND_TRIP, chat_tokens(ROUND_TRIP) + ECHO_TOKENS))
def test_tool_round_trip(target_client: TargetClient, verify: Verify, target_model: str) -> None:
    """Call, answer with a tool message, get a reply; thinking models get their reasoning_content echoed back."""
    body = tool_call(target_model, city="Oslo", max_tokens=96)
    first = complete(target_client, body)
    verify(first)
    message = first.json()["choices"][0]["message"]
    calls = message.get("tool_calls") or []
    if not calls:
        pytest.skip("the model made no tool call")
    messages = [*body["messages"], message] + [
        {"role": "tool", "tool_call_id": call["id"], "name": "get_weather", "content": '{"sky": "clear"}'}
        for call in calls
    ]
    second = {**body, "messages": messages, "tool_choice": "auto"}
    if chat_tokens(second) > chat_tokens(body) + ECHO_TOKENS:
        pytest.skip(f"the model's answer is too long to echo within the test's ceiling ({ECHO_TOKENS} tokens)")
    verify(complete(target_client, second))


CACHE_PREFIX = " ".join(
    f"Rule {number}: the keeper of lighthouse {number} logs the tide, the wind and every passing ship at dawn."
    for number in range(1, 21)
)
"""A system prompt of a few hundred tokens, the prefix the cache test repeats."""


def cached_request(model: str) -> dict[str, Any]:
    """The long prefix and a short question, under a prompt_cache_key of the model's."""
    body = chat(model, max_tokens=8, prompt_cache_key=f"kimi-conformance-cache-{model}")
    body["messages"] = [{"role": "system", "content": CACHE_PREFIX}, {"role": "user", "content": "Say OK."}]
    return body


@ceiling(sends(cached_request(M), cached_request(M)))
def test_prompt_cache_reported(target_client: TargetClient, verify: Verify, target_model: str) -> None:
    """The same long prefix twice under one prompt_cache_key: the second answer reports cached tokens (CHAT018, a
    warning: caching is best effort), never more than its prompt tokens (CHAT004). Two requests."""
    body = cached_request(target_model)
    first = complete(target_client, body)
    verify(first)
    second = complete(target_client, body)
    second.related["cache_primer"] = first
    verify(second)
