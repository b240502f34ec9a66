"""The mock honours the tool choice (`required` calls, a named function is the one called, a forced call cut by
the cap ends as `length`) and reports a repeated prefix as cached on every model it serves; the faults that break
each of these (CHAT017, CHAT009, CHAT018, CHAT004) do what they say."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, MockServer, serve_in_thread
from kimi_conformance.rules import load_rules
from kimi_conformance.runner.scenarios import chat, forced_tool_call, named_tool_choice
from tests.conftest import user

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
K2 = "kimi-k2-turbo-preview"


def post(http: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post("/chat/completions", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def forced(model_id: str, tool_choice: str | dict[str, Any], max_tokens: int = 64) -> dict[str, Any]:
    body = forced_tool_call(model_id, load_rules().models[model_id], tool_choice, max_tokens=max_tokens)
    assert body is not None
    return body


def called(result: dict[str, Any]) -> list[str]:
    return [call["function"]["name"] for call in result["choices"][0]["message"].get("tool_calls") or []]


def streamed_calls(http: httpx.Client, body: dict[str, Any]) -> tuple[list[str], str]:
    """The function names a streamed answer calls and its finish_reason."""
    text = http.post("/chat/completions", json={**body, "stream": True}).text
    chunks = [json.loads(line[6:]) for line in text.split("\n") if line.startswith("data: {")]
    names, finish = [], ""
    for chunk in chunks:
        for choice in chunk["choices"]:
            fragments = choice["delta"].get("tool_calls") or []
            names += [fragment["function"]["name"] for fragment in fragments if "name" in fragment.get("function", {})]
            finish = choice.get("finish_reason") or finish
    return names, finish


@pytest.fixture
def faulty() -> Iterator[MockServer]:
    """A mock whose faults each test switches on."""
    with serve_in_thread(MockConfig(lineup="all")) as server:
        yield server


def client(server: MockServer) -> httpx.Client:
    return httpx.Client(base_url=server.api_base, headers=AUTH, timeout=10)


@pytest.mark.parametrize("model", [K2, "kimi-k2.6"])
def test_a_named_tool_choice_calls_that_function_only(http: httpx.Client, model: str) -> None:
    """The question names both tools; the named choice wins, streamed and not."""
    body = forced(model, named_tool_choice("get_time"))
    result = post(http, body)
    assert called(result) == ["get_time"] and result["choices"][0]["finish_reason"] == "tool_calls"
    assert streamed_calls(http, body) == (["get_time"], "tool_calls")


def test_a_named_tool_choice_is_honoured_after_tool_results(http: httpx.Client) -> None:
    body = forced(K2, named_tool_choice("get_weather"))
    first = post(http, body)["choices"][0]["message"]
    results = [{"role": "tool", "tool_call_id": c["id"], "content": "{}"} for c in first["tool_calls"]]
    again = post(http, {**body, "messages": [*body["messages"], first, *results]})
    assert called(again) == ["get_weather"]


def test_an_undeclared_named_function_is_answered_as_auto(http: httpx.Client) -> None:
    result = post(http, forced(K2, named_tool_choice("get_stock")))
    assert called(result) and set(called(result)) <= {"get_weather", "get_time"}


def test_required_calls_even_when_the_question_names_no_tool(http: httpx.Client) -> None:
    body = chat(K2, "hi", tools=[forced(K2, "required")["tools"][0]], tool_choice="required")
    assert called(post(http, body)) == ["get_weather"]


@pytest.mark.parametrize("tool_choice", ["required", named_tool_choice("get_time")], ids=["required", "named"])
@pytest.mark.parametrize("model", [K2, "kimi-k2.6"])
def test_a_forced_call_cut_by_the_cap_ends_as_length(http: httpx.Client, model: str, tool_choice: Any) -> None:
    body = forced(model, tool_choice, max_tokens=3)
    result = post(http, body)
    assert result["choices"][0]["finish_reason"] == "length" and not called(result)
    assert result["usage"]["completion_tokens"] == 3
    assert streamed_calls(http, body) == ([], "length")


@pytest.mark.parametrize("model", sorted(load_rules().models))
def test_a_repeated_prefix_is_cached_on_every_model(http: httpx.Client, model: str) -> None:
    """What the suite's cache test sends, on every model of `lineup="all"`: the second answer reports cached tokens,
    no more than its prompt tokens, in both spellings."""
    messages = [{"role": "system", "content": "Long rules. " * 60}, *user("Say OK.")]
    body = {**chat(model, max_tokens=8, prompt_cache_key=f"test-cache-{model}"), "messages": messages}
    post(http, body)
    usage = post(http, body)["usage"]
    assert 0 < usage["cached_tokens"] <= usage["prompt_tokens"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == usage["cached_tokens"]


def test_tool_choice_required_ignored_answers_in_words(faulty: MockServer) -> None:
    faulty.switch_faults(frozenset({"tool-choice-required-ignored"}))
    with client(faulty) as http:
        result = post(http, forced(K2, "required"))
    assert not called(result) and result["choices"][0]["finish_reason"] == "stop"


def test_named_tool_choice_ignored_calls_what_the_question_names(faulty: MockServer) -> None:
    faulty.switch_faults(frozenset({"named-tool-choice-ignored"}))
    with client(faulty) as http:
        assert called(post(http, forced(K2, named_tool_choice("get_time")))) == ["get_weather", "get_time"]


def test_forced_call_cut_as_stop_says_stop(faulty: MockServer) -> None:
    faulty.switch_faults(frozenset({"forced-call-cut-as-stop"}))
    with client(faulty) as http:
        assert post(http, forced(K2, "required", max_tokens=3))["choices"][0]["finish_reason"] == "stop"
        auto = forced(K2, "auto", max_tokens=3)
        assert post(http, auto)["choices"][0]["finish_reason"] == "length"  # only a forced call


def test_undeclared_tool_called_names_another_function(faulty: MockServer) -> None:
    faulty.switch_faults(frozenset({"undeclared-tool-called"}))
    with client(faulty) as http:
        assert called(post(http, forced(K2, "required"))) == ["web_lookup", "get_time"]


@pytest.mark.parametrize("fault", ["cache-never-hits", "prompt-tokens-exclude-cached"])
def test_cache_faults(faulty: MockServer, fault: str) -> None:
    faulty.switch_faults(frozenset({fault}))
    body = {
        **chat(K2, max_tokens=8, prompt_cache_key="k"),
        "messages": [{"role": "system", "content": "Rules. " * 60}, *user("hi")],
    }
    with client(faulty) as http:
        post(http, body)
        usage = post(http, body)["usage"]
    if fault == "cache-never-hits":
        assert usage["cached_tokens"] == 0
    else:
        assert usage["cached_tokens"] > usage["prompt_tokens"]
