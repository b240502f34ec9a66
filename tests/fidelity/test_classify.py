"""The fidelity classifier, one test per class (and K2VV's verdict beside it), on synthetic exchanges: JSON and
streamed answers, no server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kimi_conformance.exchange import Exchange
from kimi_conformance.fidelity import DECOY, classify
from kimi_conformance.fidelity.handwritten import tool

WEATHER = tool(
    "get_weather",
    {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
        "required": ["city"],
    },
    "Weather in a city.",
)
NAMED = {"type": "function", "function": {"name": "get_weather"}}


def request(stream: bool = False, tool_choice: Any = NAMED) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "kimi-k2.6",
        "messages": [{"role": "user", "content": "Call the function get_weather now."}],
        "tools": [WEATHER, DECOY],
        "tool_choice": tool_choice,
    }
    return {**body, "stream": True} if stream else body


def call(name: str = "get_weather", arguments: str = '{"city":"Oslo"}', index: int = 0) -> dict[str, Any]:
    return {"index": index, "id": f"functions.{name}:{index}", "type": "function",
            "function": {"name": name, "arguments": arguments}}  # fmt: skip


def message(calls: list[dict[str, Any]] | None = None, content: str = "") -> dict[str, Any]:
    return {"role": "assistant", "content": content, **({"tool_calls": calls} if calls else {})}


def answer_json(msg: dict[str, Any], finish: str | None = "tool_calls", status: int = 200, **fields: Any) -> Exchange:
    body = {"id": "c", "object": "chat.completion", "created": 1, "model": "kimi-k2.6",
            "choices": [{"index": 0, "message": msg, "finish_reason": finish}]}  # fmt: skip
    return Exchange("createChatCompletion", "POST", "http://t/v1/chat/completions", {}, request(**fields),
                    status=status, response_headers={"content-type": "application/json"},
                    body=json.dumps(body).encode())  # fmt: skip


def answer_stream(deltas: list[dict[str, Any]], finish: str | None = "tool_calls", **extra: Any) -> Exchange:
    """A stream: the deltas, then a final chunk with `finish` (none when None), then [DONE]."""
    head = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "kimi-k2.6"}
    chunks = [{**head, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
    if finish is not None:
        chunks.append({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    body = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
    return Exchange("createChatCompletion", "POST", "http://t/v1/chat/completions", {}, request(stream=True),
                    status=200, response_headers={"content-type": "text/event-stream"}, body=body,
                    **extra)  # fmt: skip


def streamed_call(arguments: list[str], name: str = "get_weather") -> list[dict[str, Any]]:
    first = {"role": "assistant", "content": ""}
    opening = {"tool_calls": [{"index": 0, "id": "x", "type": "function", "function": {"name": name, "arguments": ""}}]}
    pieces = [{"tool_calls": [{"index": 0, "function": {"arguments": piece}}]} for piece in arguments]
    return [first, opening, *pieces]


def test_ok_json_and_stream() -> None:
    for exchange in (answer_json(message([call()])), answer_stream(streamed_call(['{"city":', '"Oslo"}']))):
        answer = classify(exchange, "get_weather")
        assert (answer.klass, answer.schema_valid, answer.finish_reason) == ("ok", True, "tool_calls")
        assert answer.tool_choice == "named"
    assert classify(answer_stream(streamed_call(['{"city":"Oslo"}'])), "get_weather").stream is True


def test_no_tool_call() -> None:
    """Words with `stop`: outside K2VV's denominator; with `tool_calls` and no call: invalid for K2VV."""
    words = classify(answer_json(message(content="It is sunny."), finish="stop"), "get_weather")
    assert (words.klass, words.schema_valid) == ("no_tool_call", None)
    assert "It is sunny" in words.detail
    empty = classify(answer_json(message(), finish="tool_calls"), "get_weather")
    assert (empty.klass, empty.schema_valid) == ("no_tool_call", False)


def test_markup_instead_of_a_call_is_no_tool_call_and_says_so() -> None:
    markup = "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{}"
    answer = classify(answer_json(message(content=markup), finish="tool_calls"), "get_weather")
    assert (answer.klass, answer.schema_valid) == ("no_tool_call", False)
    assert "markup" in answer.detail


def test_unknown_tool() -> None:
    answer = classify(answer_json(message([call("web_lookup")])), "get_weather")
    assert (answer.klass, answer.schema_valid) == ("unknown_tool", False)
    assert "web_lookup" in answer.detail


def test_wrong_tool_is_valid_for_k2vv() -> None:
    """K2VV counts a call to any declared tool with valid arguments as valid; the class says it was not the one."""
    answer = classify(answer_json(message([call("unused_helper", '{"note":"x"}')])), "get_weather")
    assert (answer.klass, answer.schema_valid) == ("wrong_tool", True)
    both = classify(answer_json(message([call(), call("unused_helper", "{}", 1)])), "get_weather")
    assert (both.klass, both.schema_valid) == ("wrong_tool", True)


@pytest.mark.parametrize("arguments", ['{"city":', "NaN", '{"city": NaN}', ""])
def test_invalid_json(arguments: str) -> None:
    """Strict RFC 8259 JSON: no NaN (K2VV's `json.loads` would take it), no empty string."""
    answer = classify(answer_json(message([call(arguments=arguments)])), "get_weather")
    assert (answer.klass, answer.schema_valid) == ("invalid_json", False)


def test_invalid_json_from_broken_stream_fragments() -> None:
    answer = classify(answer_stream(streamed_call(['{"city":', '"Os'])), "get_weather")
    assert (answer.klass, answer.schema_valid, answer.stream) == ("invalid_json", False, True)


@pytest.mark.parametrize(
    ("arguments", "where"),
    [('{"unit":"c"}', "'city' is a required property"), ('{"city":"Oslo","unit":"k"}', "/unit"), ("[1]", "at /:")],
)
def test_schema_violation(arguments: str, where: str) -> None:
    answer = classify(answer_json(message([call(arguments=arguments)])), "get_weather")
    assert (answer.klass, answer.schema_valid) == ("schema_violation", False)
    assert where in answer.detail


def test_the_worst_call_names_the_answer() -> None:
    answer = classify(answer_json(message([call(), call(arguments="{", index=1)])), "get_weather")
    assert (answer.klass, answer.schema_valid) == ("invalid_json", False)


def test_truncated() -> None:
    """Cut by the output cap (`length`, even with a call begun), a stream without finish_reason, a cut body."""
    cut = classify(answer_json(message([call(arguments='{"ci')]), finish="length"), "get_weather")
    assert (cut.klass, cut.schema_valid) == ("truncated", None)
    unfinished = classify(answer_stream(streamed_call(['{"city":"Oslo"}']), finish=None), "get_weather")
    assert unfinished.klass == "truncated"
    dropped = answer_stream(streamed_call(['{"city":']), stream_error="the connection closed mid-body")
    assert classify(dropped, "get_weather").klass == "truncated"
    empty = Exchange("createChatCompletion", "POST", "u", {}, request(stream=True), status=200, body=b"")
    assert classify(empty, "get_weather").klass == "truncated"


def test_request_rejected() -> None:
    error = {"error": {"type": "invalid_request_error", "message": "tool schema refused"}}
    refused = Exchange("createChatCompletion", "POST", "u", {}, request(), status=400, body=json.dumps(error).encode())
    answer = classify(refused, "get_weather")
    assert (answer.klass, answer.schema_valid) == ("request_rejected", None)
    assert "HTTP 400" in answer.detail and "tool schema refused" in answer.detail
    unanswered = Exchange("createChatCompletion", "POST", "u", {}, request(), transport_error="ConnectError: refused")
    assert classify(unanswered, "get_weather").klass == "request_rejected"
    garbage = Exchange("createChatCompletion", "POST", "u", {}, request(), status=200, body=b"<html>")
    assert classify(garbage, "get_weather").klass == "request_rejected"


def test_tool_choice_is_recorded() -> None:
    auto = Exchange("createChatCompletion", "POST", "u", {}, request(tool_choice="auto"), status=500, body=b"{}")
    assert classify(auto, "get_weather").tool_choice == "auto"
