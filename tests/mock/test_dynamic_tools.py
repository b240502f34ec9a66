"""K3 "dynamic tools" (facts §3.4 [KVV tests/k3_features/test_dynamic_tools.py]) against the mock over real HTTP:
a system message with content "" may carry tools, which the model may then call; tools anywhere else are refused
with the rule's message (rule messages.dynamic-tools). Other families are unaffected."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kimi_conformance.checks.chat import requested_tools
from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, serve_in_thread
from kimi_conformance.rules import load_rules
from kimi_conformance.rules.probes import WEATHER, tool
from kimi_conformance.rules.request_rules import dynamic_tools

ASK = {"role": "user", "content": "Weather in Oslo?"}
RULE = load_rules().rules["messages.dynamic-tools"]


def dynamic(*tools: Any) -> dict[str, Any]:
    return {"role": "system", "content": "", "tools": list(tools)}


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    with serve_in_thread(MockConfig()) as server, httpx.Client(base_url=server.api_base, headers=headers) as http:
        yield http


def post(client: httpx.Client, model: str, *messages: dict[str, Any], **fields: Any) -> httpx.Response:
    return client.post("/chat/completions", json={"model": model, "messages": list(messages), **fields})


@pytest.mark.parametrize("model", ["kimi-k3", "kimi-k3.1-pro", "kimi-k3.1-pro-highspeed"])
def test_a_dynamic_tools_system_message_is_served_and_its_tool_called(client: httpx.Client, model: str) -> None:
    response = post(client, model, dynamic(WEATHER), ASK, max_completion_tokens=512)
    assert response.status_code == 200, response.text
    choice = response.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert [call["function"]["name"] for call in choice["message"]["tool_calls"]] == ["get_weather"]


def test_dynamic_tools_beside_request_tools_and_tool_choice_none(client: httpx.Client) -> None:
    both = post(client, "kimi-k3", dynamic(tool("read_file")), ASK, tools=[WEATHER], max_completion_tokens=512)
    assert both.status_code == 200, both.text
    assert both.json()["choices"][0]["message"]["tool_calls"][0]["function"]["name"] in ("get_weather", "read_file")
    quiet = post(client, "kimi-k3", dynamic(WEATHER), ASK, tool_choice="none", max_completion_tokens=64)
    assert quiet.status_code == 200, quiet.text
    assert not quiet.json()["choices"][0]["message"].get("tool_calls")


@pytest.mark.parametrize(
    ("messages", "reason"),
    [
        pytest.param([{**ASK, "tools": [WEATHER]}], "only a system message with empty content can", id="on-user"),
        pytest.param(
            [ASK, {"role": "assistant", "content": "Checking.", "tools": [WEATHER]}, ASK],
            "only a system message with empty content can",
            id="on-assistant",
        ),
        pytest.param(
            [{"role": "system", "content": "Be brief.", "tools": [WEATHER]}, ASK],
            "only a system message with empty content can",
            id="system-with-text",
        ),
        pytest.param([dynamic(tool("read"), tool("read")), ASK], "function name read is duplicated", id="duplicate"),
        pytest.param([dynamic(tool("a" * 65)), ASK], f"function name {'a' * 65!r} is invalid", id="257-chars"),
        pytest.param([dynamic(tool("1abc")), ASK], "function name '1abc' is invalid", id="bad-name"),
        pytest.param([dynamic(tool("$web_search")), ASK], "function name $web_search is reserved", id="reserved"),
        pytest.param([dynamic(), ASK], "tools must be a non-empty list", id="empty"),
        pytest.param([{**dynamic(), "tools": WEATHER}, ASK], "tools must be a non-empty list", id="not-a-list"),
        pytest.param([dynamic(None), ASK], "each tool is a function", id="null-item"),
        pytest.param([dynamic({**WEATHER, "type": "bogus"}), ASK], "each tool is a function", id="bogus-type"),
        pytest.param([dynamic({"type": "function"}), ASK], "each tool is a function", id="no-function"),
        pytest.param([dynamic({"function": WEATHER["function"]}), ASK], "each tool is a function", id="no-type"),
        pytest.param(
            [dynamic({"type": "function", "function": {"parameters": {"type": "object"}}}), ASK],
            "function name None is invalid",
            id="no-name",
        ),
    ],
)
def test_tools_anywhere_else_are_refused_with_the_rules_message(
    client: httpx.Client, messages: list[dict[str, Any]], reason: str
) -> None:
    response = post(client, "kimi-k3", *messages)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    index = next(i for i, m in enumerate(messages) if "tools" in m)
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith(RULE.message.format(index=index, reason=reason)), error["message"]


def test_other_families_are_unaffected(client: httpx.Client) -> None:
    """kimi-k2.6 has no dynamic tools: an empty system message is refused (the contract), and `tools` on a
    message is an unknown field it ignores, as before."""
    empty = post(client, "kimi-k2.6", dynamic(WEATHER), ASK)
    assert empty.status_code == 400 and empty.json()["error"]["type"] == "invalid_request_error"
    assert "cannot carry tools" not in empty.json()["error"]["message"]
    with_text = {"role": "system", "content": "Be brief.", "tools": [WEATHER]}
    for messages in ([{**ASK, "tools": [WEATHER]}], [with_text, ASK]):
        served = post(client, "kimi-k2.6", *messages, max_completion_tokens=512)
        assert served.status_code == 200, served.text
        assert not served.json()["choices"][0]["message"].get("tool_calls")  # no tool is requested


def test_dynamic_tools_count_as_requested_tools() -> None:
    body = {"messages": [dynamic(WEATHER), {**ASK, "tools": [tool("ignored")]}], "tools": [tool("read_file")]}
    assert dynamic_tools(body) == [WEATHER]
    assert set(requested_tools(body)) == {"read_file", "get_weather"}
    assert dynamic_tools({"messages": [{"role": "system", "content": "text", "tools": [WEATHER]}]}) == []
