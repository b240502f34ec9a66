"""In-process unit tests of the non-streaming chat checks (CHAT001–CHAT012): per check, not applicable, passing on a
conformant answer, and failing on each distinct way it can fail, on synthetic exchanges (no server, no network)."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_conformance.checks import CHECKS, CheckContext, Status
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Severity
from tests.checks.exchanges import (
    CALL,
    LOOSE_TOOL,
    TOOL,
    USAGE,
    WEB_SEARCH,
    answer,
    chat_json,
    chat_request,
    completion,
    counts,
    exchange,
    message,
    outcome,
    status,
)

CHAT_CODES = [f"CHAT{number:03d}" for number in range(1, 13)]
PARTIAL = [{"role": "user", "content": "Tell a story"}, {"role": "assistant", "content": "Once", "partial": True}]
ESTIMATE_URL = "http://127.0.0.1:1/v1/tokenizers/estimate-token-count"


def choice(index: Any, finish: Any = "stop") -> dict[str, Any]:
    return {"index": index, "message": {"role": "assistant", "content": "OK"}, "finish_reason": finish}


def calling(*calls: Any, finish: str = "tool_calls") -> dict[str, Any]:
    """A completion whose one message carries `calls`."""
    return answer(None, finish, tool_calls=list(calls))


def estimate(body: Any = None) -> Exchange:
    """The estimate-token-count answer for the same messages (8 tokens unless `body` says otherwise)."""
    return exchange("estimateTokenCount", body if body is not None else {"data": {"total_tokens": 8}}, url=ESTIMATE_URL)


def with_estimate(chat: Exchange, body: Any = None) -> Exchange:
    chat.related["estimate"] = estimate(body)
    return chat


VARIANTS = ["error status", "event-stream answer", "request not an object", "body not an object"]


def armed(variant: str = "") -> Exchange:
    """A successful completion on which every CHAT check has a verdict (each one's precondition is met), or that
    exchange made inapplicable in one way (`variant`)."""
    request: dict[str, Any] | None = chat_request(
        messages=PARTIAL,
        max_tokens=16,
        stop=["END"],
        tool_choice="none",
        tools=[TOOL],
        response_format={"type": "json_object"},
    )
    body: dict[str, Any] | list[Any] = answer("OK", "tool_calls", tool_calls=[CALL])
    http_status, content_type = 200, "application/json"
    if variant == "error status":
        http_status = 500
    elif variant == "event-stream answer":
        content_type = "text/event-stream"
    elif variant == "request not an object":
        request = None
    elif variant == "body not an object":
        body = [body]
    chat = exchange("createChatCompletion", body, status=http_status, content_type=content_type, request=request)
    return with_estimate(chat)


def test_the_chat_codes_tested_here_are_the_registered_ones() -> None:
    here = [code for code, check in CHECKS.items() if check.function.__module__ == "kimi_conformance.checks.chat"]
    assert sorted(here) == CHAT_CODES  # the CHAT checks of other modules have their own tests


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("code", CHAT_CODES)
def test_chat_checks_are_not_applicable_without_a_successful_json_completion(code: str, variant: str) -> None:
    assert status(code, armed()) is not Status.NOT_APPLICABLE
    assert status(code, armed(variant)) is Status.NOT_APPLICABLE


# CHAT001: completion identity


def test_chat001_passes_on_a_conformant_completion() -> None:
    assert status("CHAT001", chat_json()) is Status.PASSED


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("object", "chat.completion.chunk", 'object "chat.completion.chunk"'),
        ("id", "", 'id ""'),
        ("id", 7, "id 7"),
        ("created", "1764547200", 'created "1764547200"'),
        ("created", True, "created true"),
        ("model", "moonshot-v1-8k", 'model "moonshot-v1-8k" for requested "kimi-k2-turbo-preview"'),
    ],
)
def test_chat001_fails_on_a_wrong_identity_field(field: str, value: Any, named: str) -> None:
    assert named in message("CHAT001", chat_json(completion(**{field: value})))


# CHAT002: choices match n


def test_chat002_is_not_applicable_without_a_choices_list() -> None:
    assert status("CHAT002", chat_json(completion(choices=None))) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(("n", "choices"), [(None, [choice(0)]), (2, [choice(1), choice(0)])])
def test_chat002_passes_on_n_choices_indexed_from_zero(n: int | None, choices: list[Any]) -> None:
    assert status("CHAT002", chat_json(completion(choices=choices), n=n)) is Status.PASSED


@pytest.mark.parametrize(
    ("n", "choices", "received"),
    [
        (2, [choice(0)], "choice indexes [0]\nExpected: [0, 1] for n=2"),
        (1, [choice(1)], "choice indexes [1]\nExpected: [0] for n=1"),
        (2, [choice(0), choice(0)], "choice indexes [0, 0]"),
        (1, [choice(0), choice("1")], "choice indexes [0]\nExpected: [0] for n=1"),  # one choice too many
    ],
)
def test_chat002_fails_on_choices_not_matching_n(n: int, choices: list[Any], received: str) -> None:
    assert received in message("CHAT002", chat_json(completion(choices=choices), n=n))


def test_chat002_fails_on_a_huge_n_without_listing_every_index() -> None:
    text = message("CHAT002", chat_json(n=10**12))
    assert "choice indexes [0]\nExpected: [0, 1, ..., 999999999999] for n=1000000000000" in text


def test_chat002_fails_on_a_boolean_choice_index() -> None:
    assert status("CHAT002", chat_json(completion(choices=[choice(0), choice(True)]), n=2)) is Status.FAILED


# CHAT003: finish_reason


def test_chat003_is_not_applicable_without_a_choices_list() -> None:
    assert status("CHAT003", chat_json(completion(choices="none"))) is Status.NOT_APPLICABLE


@pytest.mark.parametrize("body", [answer(), calling(CALL), answer("O", "length")], ids=["stop", "tool_calls", "length"])
def test_chat003_passes_on_a_finish_reason_matching_the_message(body: dict[str, Any]) -> None:
    assert status("CHAT003", chat_json(body)) is Status.PASSED


@pytest.mark.parametrize(("reason", "named"), [("end_turn", '"end_turn"'), (None, "null")])
def test_chat003_fails_on_a_finish_reason_outside_the_documented_set(reason: Any, named: str) -> None:
    text = message("CHAT003", chat_json(answer(finish=reason)))
    assert f"finish_reason {named}\nExpected: one of stop, length, tool_calls" in text


@pytest.mark.parametrize(
    ("body", "received"),
    [
        (calling(CALL, finish="stop"), "finish_reason 'stop' with 1 tool call(s) in choice 0"),
        (calling(CALL, finish="length"), "finish_reason 'length' with 1 tool call(s) in choice 0"),
        (answer(finish="tool_calls"), "finish_reason 'tool_calls' with 0 tool call(s) in choice 0"),
    ],
)
def test_chat003_fails_on_tool_calls_without_finish_reason_tool_calls(body: dict[str, Any], received: str) -> None:
    assert received in message("CHAT003", chat_json(body))


def test_chat003_fails_on_a_list_finish_reason() -> None:
    assert 'finish_reason ["stop"]\nExpected: one of' in message("CHAT003", chat_json(answer(finish=["stop"])))


def test_chat003_fails_on_tool_calls_true_with_finish_reason_stop() -> None:
    text = message("CHAT003", chat_json(answer(tool_calls=True)))
    assert "finish_reason 'stop' with tool_calls true in choice 0" in text


# CHAT004: usage arithmetic


@pytest.mark.parametrize("body", [completion(usage=None), completion(usage=counts(prompt="8", total=10))])
def test_chat004_is_not_applicable_without_integer_usage(body: dict[str, Any]) -> None:
    assert status("CHAT004", chat_json(body)) is Status.NOT_APPLICABLE


@pytest.mark.parametrize("counts", [USAGE, counts(cached_tokens=8, prompt_tokens_details={"cached_tokens": 8})])
def test_chat004_passes_on_consistent_usage(counts: dict[str, Any]) -> None:
    assert status("CHAT004", chat_json(completion(usage=counts))) is Status.PASSED


def test_chat004_fails_on_a_total_that_is_not_the_sum() -> None:
    text = message("CHAT004", chat_json(completion(usage=counts(total=11))))
    assert "total 11 for prompt 8 + completion 2\nExpected: total 10" in text


@pytest.mark.parametrize("counts", [counts(cached_tokens=9), counts(prompt_tokens_details={"cached_tokens": 9})])
def test_chat004_fails_on_more_cached_than_prompt_tokens(counts: dict[str, Any]) -> None:
    assert "cached_tokens 9 > prompt_tokens 8" in message("CHAT004", chat_json(completion(usage=counts)))


# CHAT005: max tokens


@pytest.mark.parametrize(
    ("body", "request_fields"),
    [
        (completion(), {}),
        (completion(usage=None), {"max_tokens": 16}),
        (completion(usage=counts(completion="2", total=10)), {"max_tokens": 16}),
    ],
    ids=["no cap", "no usage", "completion_tokens not an integer"],
)
def test_chat005_is_not_applicable_without_a_cap_or_a_count(body: dict[str, Any], request_fields: Any) -> None:
    assert status("CHAT005", chat_json(body, **request_fields)) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    ("body", "request_fields"),
    [
        (completion(), {"max_tokens": 16}),
        ({**answer("OK", "length"), "usage": counts(completion=2)}, {"max_completion_tokens": 2}),
        (completion(choices=[choice(0), choice(1)], usage=counts(completion=8)), {"max_tokens": 5, "n": 2}),
    ],
    ids=["under the cap", "length at the cap", "cap per choice"],
)
def test_chat005_passes_within_the_cap(body: dict[str, Any], request_fields: Any) -> None:
    assert status("CHAT005", chat_json(body, **request_fields)) is Status.PASSED


def test_chat005_fails_on_more_completion_tokens_than_the_cap() -> None:
    result = outcome("CHAT005", chat_json(completion(usage=counts(completion=20)), max_tokens=16))
    assert result.finding is not None and result.finding.severity is Severity.ERROR
    assert "completion_tokens 20\nExpected: at most 16 per choice" in result.finding.message


def test_chat005_warns_on_finish_reason_length_below_the_cap() -> None:
    result = outcome("CHAT005", chat_json(answer("OK", "length"), max_tokens=16))
    assert result.finding is not None and result.finding.severity is Severity.WARNING
    assert "finish_reason length with completion_tokens 2\nExpected: 16 (the cap)" in result.finding.message


# CHAT006: stop sequences


@pytest.mark.parametrize("stop", [None, []])
def test_chat006_is_not_applicable_without_stop_sequences(stop: Any) -> None:
    assert status("CHAT006", chat_json(stop=stop)) is Status.NOT_APPLICABLE


@pytest.mark.parametrize("stop", ["END", ["END", ""]])
def test_chat006_passes_when_no_stop_sequence_is_emitted(stop: Any) -> None:
    assert status("CHAT006", chat_json(stop=stop)) is Status.PASSED


@pytest.mark.parametrize("stop", ["K", ["END", "OK"]])
def test_chat006_fails_on_content_containing_a_stop_sequence(stop: Any) -> None:
    assert "content containing stop sequence" in message("CHAT006", chat_json(stop=stop))


# CHAT007: tool_choice none


@pytest.mark.parametrize("tool_choice", [None, "auto"])
def test_chat007_is_not_applicable_unless_tool_choice_is_none(tool_choice: Any) -> None:
    chat = chat_json(calling(CALL), tools=[TOOL], tool_choice=tool_choice)
    assert status("CHAT007", chat) is Status.NOT_APPLICABLE


def test_chat007_passes_on_no_tool_calls_with_tool_choice_none() -> None:
    assert status("CHAT007", chat_json(tools=[TOOL], tool_choice="none")) is Status.PASSED


def test_chat007_fails_on_tool_calls_with_tool_choice_none() -> None:
    text = message("CHAT007", chat_json(calling(CALL), tools=[TOOL], tool_choice="none"))
    assert "tool_calls with tool_choice none" in text


# CHAT008: JSON mode

SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}


def json_schema(schema: Any = SCHEMA, **spec: Any) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, **spec}}


@pytest.mark.parametrize("response_format", [None, {"type": "text"}, "json_object"])
def test_chat008_is_not_applicable_outside_json_mode(response_format: Any) -> None:
    assert status("CHAT008", chat_json(response_format=response_format)) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    ("body", "response_format"),
    [
        (answer('{"a": 1}'), {"type": "json_object"}),
        (answer('{"a": 1}'), json_schema()),
        (answer('{"a": "x"}'), json_schema(strict=False)),
        (answer('{"a": ', "length"), {"type": "json_object"}),
        (calling(CALL, finish="stop"), {"type": "json_object"}),
    ],
    ids=["json_object", "json_schema", "strict false", "cut by length", "tool call"],
)
def test_chat008_passes_on_json_content_or_a_choice_it_does_not_judge(body: Any, response_format: Any) -> None:
    assert status("CHAT008", chat_json(body, response_format=response_format)) is Status.PASSED


@pytest.mark.parametrize(
    ("content", "received"),
    [("OK", 'content "OK"'), ("[1]", 'content "[1]"'), ('{"a": NaN}', "NaN"), (None, "content null")],
    ids=["not JSON", "not an object", "NaN is not JSON", "no content"],
)
def test_chat008_fails_on_content_that_is_not_a_json_object(content: Any, received: str) -> None:
    text = message("CHAT008", chat_json(answer(content), response_format={"type": "json_object"}))
    assert received in text and "Expected: a JSON object (json_object)" in text


def test_chat008_fails_on_json_that_breaks_the_schema() -> None:
    text = message("CHAT008", chat_json(answer('{"a": "x"}'), response_format=json_schema()))
    assert "Violates: 'x' is not of type 'integer'" in text


@pytest.mark.parametrize(
    "schema",
    [
        {"properties": {"a": {"type": "strin"}}},
        {"properties": {"a": {"$ref": "#/$defs/missing"}}},
        {"properties": {"a": {"$ref": "#/required"}}, "required": ["a"]},
        {"required": "a"},
    ],
    ids=["unknown type", "unresolvable $ref", "$ref to no schema", "against the metaschema"],
)
def test_chat008_leaves_an_invalid_schema_to_the_request(schema: dict[str, Any]) -> None:
    chat = chat_json(answer('{"a": 1}'), response_format=json_schema(schema))
    assert status("CHAT008", chat) is Status.PASSED


def test_chat008_fails_on_deeply_nested_array_content() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    text = message("CHAT008", chat_json(answer(deep), response_format={"type": "json_object"}))
    assert "Expected: a JSON object (json_object)" in text


# CHAT009: tool call arguments


def test_chat009_is_not_applicable_without_tool_calls() -> None:
    assert status("CHAT009", chat_json(tools=[TOOL])) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    "call",
    [CALL, {"id": "call_1", "type": "builtin_function", "function": {"name": "$web_search", "arguments": "{query"}}],
    ids=["function", "builtin function (arguments not judged)"],
)
def test_chat009_passes_on_a_call_to_a_requested_tool(call: dict[str, Any]) -> None:
    assert status("CHAT009", chat_json(calling(call), tools=[TOOL, WEB_SEARCH])) is Status.PASSED


def test_chat009_fails_on_a_call_to_a_tool_not_requested() -> None:
    call = {**CALL, "function": {"name": "get_time", "arguments": "{}"}}
    text = message("CHAT009", chat_json(calling(call), tools=[TOOL]))
    assert "a call to \"get_time\"\nExpected: one of the requested tools ['get_weather']" in text


@pytest.mark.parametrize(("arguments", "received"), [("{city: Paris}", '"{city: Paris}"'), (None, "null")])
def test_chat009_fails_on_arguments_that_are_not_json(arguments: Any, received: str) -> None:
    call = {**CALL, "function": {"name": "get_weather", "arguments": arguments}}
    assert f"arguments {received}\nExpected: JSON" in message("CHAT009", chat_json(calling(call), tools=[TOOL]))


def test_chat009_fails_on_arguments_that_break_the_tool_schema() -> None:
    call = {**CALL, "function": {"name": "get_weather", "arguments": '{"city": 5}'}}
    text = message("CHAT009", chat_json(calling(call), tools=[TOOL]))
    assert "arguments of get_weather" in text and "5 is not of type 'string'" in text


@pytest.mark.parametrize("arguments", ['{"city": 5}', '{"town": "Paris", "extra": true}', "{}"])
def test_chat009_does_not_hold_a_loose_tool_to_its_schema(arguments: str) -> None:
    """`strict: false` (facts §3.6): any JSON object passes, schema or not."""
    call = {**CALL, "function": {"name": "get_weather", "arguments": arguments}}
    assert status("CHAT009", chat_json(calling(call), tools=[LOOSE_TOOL])) is Status.PASSED


@pytest.mark.parametrize("strict", [True, "false", None])
def test_chat009_holds_a_tool_to_its_schema_unless_strict_is_false(strict: Any) -> None:
    tool = {"type": "function", "function": {**TOOL["function"], "strict": strict}}
    call = {**CALL, "function": {"name": "get_weather", "arguments": '{"city": 5}'}}
    assert "5 is not of type 'string'" in message("CHAT009", chat_json(calling(call), tools=[tool]))


def test_chat009_does_not_hold_arguments_to_a_schema_mfjs_refuses() -> None:
    """A `required` name that is no property (verifiers §3: MFJS refuses it; closed, it admits no value): the
    request's problem, its arguments are not judged. A tool of a K3 dynamic-tools system message is requested."""
    closed: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {"a": {"type": "string"}}}
    unknown_required = {**closed, "required": ["b"]}
    tool: dict[str, Any] = {"type": "function", "function": {"name": "get_weather", "parameters": unknown_required}}
    call = {**CALL, "function": {"name": "get_weather", "arguments": '{"a": "x", "b": "y"}'}}
    assert status("CHAT009", chat_json(calling(call), tools=[tool])) is Status.PASSED
    satisfiable = {**tool, "function": {**tool["function"], "parameters": closed}}
    dynamic = {"role": "system", "content": "", "tools": [satisfiable]}
    assert "'b' was unexpected" in message("CHAT009", chat_json(calling(call), messages=[dynamic, *PARTIAL[:1]]))


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ('["Paris"]', 'arguments of get_weather ["Paris"]\nExpected: a JSON object (strict false)'),
        ('"Paris"', 'arguments of get_weather "Paris"\nExpected: a JSON object (strict false)'),
        ("{city: Paris}", '"{city: Paris}"\nExpected: JSON'),
    ],
    ids=["a list", "a string", "not JSON"],
)
def test_chat009_fails_on_loose_tool_arguments_that_are_no_json_object(arguments: str, expected: str) -> None:
    call = {**CALL, "function": {"name": "get_weather", "arguments": arguments}}
    result = outcome("CHAT009", chat_json(calling(call), tools=[LOOSE_TOOL]))
    assert result.finding is not None and result.finding.severity is Severity.ERROR
    assert expected in result.finding.message


@pytest.mark.parametrize(
    ("tool_calls", "received"),
    [
        pytest.param([{**CALL, "function": "oops"}], "a call to null", id="function a string"),
        pytest.param([{**CALL, "function": {"name": ["x"], "arguments": "{}"}}], 'a call to ["x"]', id="name a list"),
        pytest.param(5, "tool_calls 5\nExpected: a list of calls", id="tool_calls an integer"),
    ],
)
def test_chat009_fails_on_a_malformed_tool_call(tool_calls: Any, received: str) -> None:
    chat = chat_json(answer(None, "tool_calls", tool_calls=tool_calls), tools=[TOOL])
    assert received in message("CHAT009", chat)


# CHAT010: reasoning with thinking disabled


@pytest.mark.parametrize("model", ["kimi-k2-thinking", "kimi-k2.6", "not-a-known-model"])
def test_chat010_is_not_applicable_to_a_model_that_thinks_or_is_unknown(model: str) -> None:
    body = answer("OK", reasoning_content="Let me think")
    assert status("CHAT010", chat_json({**body, "model": model}, model=model)) is Status.NOT_APPLICABLE


def test_chat010_passes_on_no_reasoning_from_a_model_that_does_not_think() -> None:
    assert status("CHAT010", chat_json()) is Status.PASSED


@pytest.mark.parametrize(
    ("model", "thinking", "received"),
    [
        ("kimi-k2-turbo-preview", None, "from kimi-k2-turbo-preview with thinking null"),
        ("kimi-k2.6", {"type": "disabled"}, 'from kimi-k2.6 with thinking {"type": "disabled"}'),
    ],
)
def test_chat010_fails_on_reasoning_when_the_model_does_not_think(model: str, thinking: Any, received: str) -> None:
    chat = chat_json({**answer("OK", reasoning_content="Let me think"), "model": model}, model=model, thinking=thinking)
    assert received in message("CHAT010", chat)


def test_chat010_warns_on_a_model_whose_not_thinking_is_inferred() -> None:
    """A model the rules table infers (kimi-latest: its family's rules are [I]) does not think by inference only:
    reasoning from it is a warning, naming what that rests on; from a documented non-thinking model, an error."""
    inferred = next(m for m in CheckContext().rules.models.values() if m.inferred and not m.supports_reasoning)
    chat = chat_json(
        {**answer("OK", reasoning_content="Let me think"), "model": inferred.id}, model=inferred.id, thinking=None
    )
    result = outcome("CHAT010", chat)
    assert result.finding is not None and result.finding.severity is Severity.WARNING
    assert f"A warning: that {inferred.id} does not think rests on {inferred.source}" in result.finding.message
    firm = outcome("CHAT010", chat_json(answer("OK", reasoning_content="Let me think")))
    assert firm.finding is not None and firm.finding.severity is Severity.ERROR


def test_chat010_knows_a_target_model_through_its_alias() -> None:
    chat = chat_json({**answer("OK", reasoning_content="Let me think"), "model": "gw-k2"}, model="gw-k2")
    assert status("CHAT010", chat) is Status.NOT_APPLICABLE
    aliased = CheckContext(aliases={"gw-k2": "kimi-k2-turbo-preview"})
    assert "from kimi-k2-turbo-preview" in message("CHAT010", chat, aliased)


# CHAT011: prompt_tokens against estimate-token-count


@pytest.mark.parametrize(
    "chat",
    [
        chat_json(),
        with_estimate(chat_json(), {"error": {"type": "x"}}),
        with_estimate(chat_json(completion(usage=None))),
    ],
    ids=["no estimate", "estimate without a count", "no usage"],
)
def test_chat011_is_not_applicable_without_both_counts(chat: Exchange) -> None:
    assert status("CHAT011", chat) is Status.NOT_APPLICABLE


@pytest.mark.parametrize("prompt", [8, 11])
def test_chat011_passes_within_the_estimate_and_its_tolerance(prompt: int) -> None:
    assert status("CHAT011", with_estimate(chat_json(completion(usage=counts(prompt))))) is Status.PASSED


@pytest.mark.parametrize("prompt", [7, 12])
def test_chat011_warns_on_prompt_tokens_outside_the_estimate_range(prompt: int) -> None:
    result = outcome("CHAT011", with_estimate(chat_json(completion(usage=counts(prompt)))))
    assert result.finding is not None and result.finding.severity is Severity.WARNING
    assert f"prompt_tokens {prompt}\nExpected: 8..11" in result.finding.message


# CHAT012: partial mode


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "user", "content": "Once"}],
        [PARTIAL[0], {"role": "assistant", "content": "Once"}],
        [PARTIAL[0], {"role": "assistant", "content": "", "partial": True}],
        [PARTIAL[0], {"role": "assistant", "content": [{"type": "text", "text": "Once"}], "partial": True}],
    ],
    ids=["last message from the user", "not partial", "empty prefix", "prefix not a string"],
)
def test_chat012_is_not_applicable_outside_partial_mode(messages: list[Any]) -> None:
    assert status("CHAT012", chat_json(answer("Once upon a time"), messages=messages)) is Status.NOT_APPLICABLE


def test_chat012_passes_on_only_the_continuation() -> None:
    assert status("CHAT012", chat_json(answer(" upon a time"), messages=PARTIAL)) is Status.PASSED


def test_chat012_fails_on_content_repeating_the_prefix() -> None:
    text = message("CHAT012", chat_json(answer("Once upon a time"), messages=PARTIAL))
    assert "content starting with the prefix 'Once'" in text


# Requests the checks cannot read (a proxied client may send anything a target then answers with 200)


@pytest.mark.parametrize(
    ("code", "request_fields"),
    [
        pytest.param("CHAT002", {"n": "two"}, id="CHAT002 n not a number"),
        pytest.param("CHAT002", {"n": True}, id="CHAT002 n a boolean"),
        pytest.param("CHAT006", {"stop": [1]}, id="CHAT006 stop not a string"),
        pytest.param(
            "CHAT008",
            {"response_format": {"type": "json_schema", "json_schema": "x"}},
            id="CHAT008 json_schema not an object",
        ),
        pytest.param("CHAT009", {"tools": "get_weather"}, id="CHAT009 tools not a list"),
    ],
)
def test_chat_checks_leave_a_malformed_request_field_alone(code: str, request_fields: dict[str, Any]) -> None:
    body = calling(CALL) if code == "CHAT009" else answer('{"a": 1}')
    assert status(code, chat_json(body, **request_fields)) is Status.NOT_APPLICABLE


def test_chat002_reads_an_integral_float_n_as_that_many_choices() -> None:
    assert status("CHAT002", chat_json(completion(choices=[choice(0), choice(1)]), n=2.0)) is Status.PASSED


def test_chat009_ignores_a_requested_tool_it_cannot_name() -> None:
    tools = [{"type": "function", "function": "get_time"}, {"type": "function", "function": {"name": ["x"]}}, TOOL]
    assert status("CHAT009", chat_json(calling(CALL), tools=tools)) is Status.PASSED


UNSATISFIABLE = {"type": "object", "properties": {"a": {"type": "string", "minLength": 5, "enum": ["U", "ab"]}}}


def test_chat008_does_not_judge_by_an_enum_its_own_schema_forbids() -> None:
    """No value can be valid at `a` (every enum value is shorter than minLength): nothing is judged by it."""
    chat = chat_json(answer('{"a": "U"}'), response_format=json_schema(UNSATISFIABLE))
    assert status("CHAT008", chat) is Status.PASSED


def test_chat008_still_judges_a_satisfiable_enum() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "minLength": 2, "enum": ["U", "ab"]}}}
    text = message("CHAT008", chat_json(answer('{"a": "U"}'), response_format=json_schema(schema)))
    assert "Violates: 'U' is too short" in text
