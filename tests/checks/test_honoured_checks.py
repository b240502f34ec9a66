"""In-process unit tests of the checks of what a request asks for (CHAT017 the tool choice, CHAT018 prompt caching):
per check, not applicable, passing on a conformant answer, and failing on each distinct way it can fail, on
synthetic exchanges (no server, no network); streams through their fold."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_conformance.checks import CHECKS, Status
from kimi_conformance.checks.honoured import NAMED_SIDES, REQUIRED_SIDES, named_function
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Severity
from tests.checks.exchanges import (
    USAGE,
    answer,
    chat_json,
    chat_stream,
    choice_events,
    completion,
    done,
    message,
    status,
    text_stream_events,
    warning,
)


def tool(name: str) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": {"type": "object", "properties": {}}}}


TOOLS = [tool("get_weather"), tool("get_time")]
NAMED = {"type": "function", "function": {"name": "get_time"}}
OFF = {"thinking": {"type": "disabled"}, "temperature": 0.6}
"""What a kimi-k2.6 request needs to call with a forcing tool_choice (thinking off, its fixed temperature)."""


def call(name: str, index: int = 0) -> dict[str, Any]:
    return {"id": f"functions.{name}:{index}", "type": "function", "function": {"name": name, "arguments": "{}"}}


def calling(*names: str) -> dict[str, Any]:
    calls = [call(name, index) for index, name in enumerate(names)]
    reply = {"role": "assistant", "content": "", "tool_calls": calls}
    return completion(choices=[{"index": 0, "message": reply, "finish_reason": "tool_calls"}])


def words(finish: str = "stop") -> dict[str, Any]:
    return answer("It is", finish)


def forced(body: dict[str, Any], tool_choice: Any = "required", **request: Any) -> Exchange:
    return chat_json(body, tools=TOOLS, tool_choice=tool_choice, **request)


# CHAT017: the tool choice honoured


def test_chat017_is_a_warning_citing_the_tool_use_facts() -> None:
    assert CHECKS["CHAT017"].severity is Severity.WARNING
    assert "facts §3.6" in CHECKS["CHAT017"].fact


@pytest.mark.parametrize("tool_choice", [None, "auto", "none", {"type": "function"}, {"function": {"name": "x"}}])
def test_chat017_needs_a_forcing_tool_choice(tool_choice: Any) -> None:
    extra = {} if tool_choice is None else {"tool_choice": tool_choice}
    assert status("CHAT017", chat_json(words(), tools=TOOLS, **extra)) is Status.NOT_APPLICABLE


def test_chat017_skips_an_unknown_model_and_an_undeclared_named_function() -> None:
    assert status("CHAT017", forced(words(), model="gpt-4o")) is Status.NOT_APPLICABLE
    undeclared = {"type": "function", "function": {"name": "get_stock"}}
    assert status("CHAT017", forced(words(), undeclared)) is Status.NOT_APPLICABLE


@pytest.mark.parametrize("tool_choice", ["required", NAMED], ids=["required", "named"])
def test_chat017_leaves_what_the_rules_table_refuses_to_rule001(tool_choice: Any) -> None:
    """kimi-k2.6 thinks by default: the table refuses a forcing tool_choice, so a served text answer is RULE001's."""
    assert status("CHAT017", forced(words(), tool_choice, model="kimi-k2.6")) is Status.NOT_APPLICABLE
    assert status("CHAT017", forced(words(), tool_choice, model="kimi-k2.6", **OFF)) is Status.FAILED


def test_chat017_skips_a_refusal() -> None:
    refused = {"error": {"type": "invalid_request_error", "message": "tool_choice 'required' is not supported"}}
    assert status("CHAT017", forced(refused, status=400)) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    ("tool_choice", "body"),
    [
        ("required", calling("get_weather")),
        ("required", calling("get_weather", "get_time")),
        ("required", words("length")),
        (NAMED, calling("get_time")),
        (NAMED, calling("get_time", "get_time")),
        (NAMED, words("length")),
    ],
    ids=["required-one", "required-two", "required-cut", "named", "named-twice", "named-cut"],
)
def test_chat017_passes_an_honoured_tool_choice(tool_choice: Any, body: dict[str, Any]) -> None:
    assert status("CHAT017", forced(body, tool_choice)) is Status.PASSED


def test_chat017_fails_required_answered_in_words_naming_both_sides() -> None:
    text = warning("CHAT017", forced(words()))
    assert 'answered without a tool call (finish_reason "stop") to tool_choice "required"' in text
    assert "Expected: a tool call, or finish_reason length" in text
    assert "the request uses tool-choice-required, which the facts contest" in text and REQUIRED_SIDES in text


def test_chat017_fails_a_forced_call_cut_as_stop() -> None:
    """SGLang #39895: the cap cut the forced call, yet the answer says `stop` (text only)."""
    text = message("CHAT017", forced(words("stop"), max_completion_tokens=3))
    assert "answered without a tool call" in text


def test_chat017_fails_a_named_choice_answered_in_words() -> None:
    text = message("CHAT017", forced(words(), NAMED))
    assert "Expected: a call to get_time, or finish_reason length" in text and NAMED_SIDES in text


@pytest.mark.parametrize("names", [("get_weather",), ("get_time", "get_weather")], ids=["other", "also-other"])
def test_chat017_fails_a_call_the_named_choice_excludes(names: tuple[str, ...]) -> None:
    text = warning("CHAT017", forced(calling(*names), NAMED))
    assert 'Received: a call to "get_weather" with tool_choice naming get_time' in text
    assert "Expected: calls to get_time only" in text
    assert NAMED_SIDES in text


def test_chat017_judges_every_choice() -> None:
    second = {"index": 1, "message": {"role": "assistant", "content": "No"}, "finish_reason": "stop"}
    body = calling("get_weather")
    body["choices"].append(second)
    assert "choice 1 answered without a tool call" in message("CHAT017", forced(body, n=2))


def test_chat017_judges_the_fold_of_a_stream() -> None:
    """A streamed text answer to `required`, folded: the same finding as without stream."""
    streamed = chat_stream(text_stream_events("It is"), tools=TOOLS, tool_choice="required")
    folded = streamed.folded()
    assert folded is not None and "answered without a tool call" in message("CHAT017", folded)
    fragments = choice_events({"tool_calls": [{"index": 0, **call("get_weather")}]}, finish="tool_calls")
    named = chat_stream([*fragments, done()], tools=TOOLS, tool_choice=NAMED).folded()
    assert named is not None and "with tool_choice naming get_time" in message("CHAT017", named)


def test_named_function_reads_only_the_documented_form() -> None:
    assert named_function(NAMED) == "get_time"
    assert named_function({"type": "function", "function": {"name": 3}}) is None
    assert named_function({"type": "builtin_function", "function": {"name": "get_time"}}) is None
    assert named_function("required") is None


# CHAT018: a repeated prefix reported as cached

PREFIX = [{"role": "system", "content": "Long rules."}, {"role": "user", "content": "Say OK."}]
KEY = "kimi-conformance-cache"


def cached(tokens: Any = 6, details: Any = None) -> dict[str, Any]:
    """A completion whose usage reports `tokens` cached (top-level; None leaves it out) and `details`."""
    usage: dict[str, Any] = dict(USAGE)
    if tokens is not None:
        usage["cached_tokens"] = tokens
    if details is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": details}
    return completion(usage=usage)


def repeat(body: dict[str, Any], primer: Exchange | None = None, **request: Any) -> Exchange:
    """The second of two requests under one prompt_cache_key, with the first as its `cache_primer`."""
    fields = {"messages": PREFIX, "prompt_cache_key": KEY, **request}
    second = chat_json(body, **fields)
    second.related["cache_primer"] = primer or chat_json(cached(0), messages=PREFIX, prompt_cache_key=KEY)
    return second


def test_chat018_is_a_warning_citing_the_usage_facts() -> None:
    assert CHECKS["CHAT018"].severity is Severity.WARNING
    assert "facts §3.9 [D]" in CHECKS["CHAT018"].fact


def test_chat018_needs_a_primer() -> None:
    assert status("CHAT018", chat_json(cached(0), messages=PREFIX, prompt_cache_key=KEY)) is Status.NOT_APPLICABLE


def test_chat018_skips_a_primer_that_was_refused_or_never_answered() -> None:
    refused = chat_json({"error": {"type": "invalid_request_error", "message": "no"}}, status=400,
                        messages=PREFIX, prompt_cache_key=KEY)  # fmt: skip
    assert status("CHAT018", repeat(cached(0), refused)) is Status.NOT_APPLICABLE
    unanswered = chat_json(cached(0), messages=PREFIX, prompt_cache_key=KEY)
    unanswered.status = None
    assert status("CHAT018", repeat(cached(0), unanswered)) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    "request_fields",
    [
        {"prompt_cache_key": None},
        {"prompt_cache_key": ""},
        {"prompt_cache_key": "another-key"},
        {"model": "kimi-k2.6"},
        {"messages": [{"role": "user", "content": "Something else."}]},
    ],
    ids=["no-key", "empty-key", "other-key", "other-model", "no-shared-message"],
)
def test_chat018_needs_the_same_key_model_and_prefix(request_fields: dict[str, Any]) -> None:
    assert status("CHAT018", repeat(cached(0), **request_fields)) is Status.NOT_APPLICABLE


def test_chat018_skips_a_model_without_automatic_caching() -> None:
    """No cached_tokens in either spelling: "only models that support automatic caching return this field"."""
    assert status("CHAT018", repeat(cached(None))) is Status.NOT_APPLICABLE
    assert status("CHAT018", repeat(cached("6"))) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    ("tokens", "details"), [(6, None), (None, 6), (0, 6), (6, 0)], ids=["top", "details", "details-only", "top-only"]
)
def test_chat018_passes_cached_tokens_in_either_spelling(tokens: Any, details: Any) -> None:
    assert status("CHAT018", repeat(cached(tokens, details))) is Status.PASSED


def test_chat018_passes_a_shared_prefix_with_another_question() -> None:
    other = [PREFIX[0], {"role": "user", "content": "Say hi."}]
    assert status("CHAT018", repeat(cached(4), messages=other)) is Status.PASSED


@pytest.mark.parametrize(("tokens", "details"), [(0, None), (0, 0), (None, 0)], ids=["top", "both", "details"])
def test_chat018_warns_when_the_repeat_reports_nothing_cached(tokens: Any, details: Any) -> None:
    text = warning("CHAT018", repeat(cached(tokens, details)))
    assert f"prompt repeating 2 message(s) of the one served before it under prompt_cache_key {KEY!r}" in text
    assert "Expected: cached_tokens > 0" in text and "best effort" in text


def test_chat018_judges_the_fold_of_a_stream() -> None:
    usage = {**USAGE, "cached_tokens": 0}
    streamed = chat_stream(text_stream_events(usage=usage), messages=PREFIX, prompt_cache_key=KEY)
    streamed.related["cache_primer"] = chat_json(cached(0), messages=PREFIX, prompt_cache_key=KEY)
    folded = streamed.folded()
    assert folded is not None and "Expected: cached_tokens > 0" in message("CHAT018", folded)
