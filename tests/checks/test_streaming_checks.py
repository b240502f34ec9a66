"""In-process unit tests of the streaming checks (SSE001–SSE004, CHNK001–CHNK009): per check, not applicable, passing
on a conformant stream, and failing on each distinct way it can fail, on synthetic streams (no server, no network)."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_conformance.checks import CHECKS, CheckContext, Status, run_checks
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Severity
from tests.checks.exchanges import (
    LOOSE_TOOL,
    NO_USAGE,
    ROLE,
    TOOL,
    USAGE,
    WEB_SEARCH,
    arguments_piece,
    chat_json,
    chat_request,
    chat_stream,
    choice_events,
    chunk_choice,
    chunk_event,
    completion,
    counts,
    done,
    message,
    outcome,
    status,
    text_stream_events,
)

STREAM_CODES = [*(f"SSE{n:03d}" for n in range(1, 5)), *(f"CHNK{n:03d}" for n in range(1, 10))]
FIRST = {"index": 0, "id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": ""}}


def stream(*deltas: dict[str, Any], finish: Any = "stop", usage: Any = USAGE, **request: Any) -> Exchange:
    """A one-choice stream of `deltas` ended by [DONE]."""
    return chat_stream([*choice_events(*deltas, finish=finish, usage=usage), done()], **request)


def tool_stream(*fragments: dict[str, Any], tools: list[Any] | None = None) -> Exchange:
    """A stream calling a tool through these fragments (one delta each), finishing with tool_calls."""
    deltas = [{"tool_calls": [fragment]} for fragment in fragments]
    return stream(*deltas, finish="tool_calls", tools=tools if tools is not None else [TOOL])


def usage_chunk(usage: Any = USAGE) -> bytes:
    """The `choices: []` chunk that carries usage (OpenAI's include_usage)."""
    return chunk_event(usage=usage)


def with_non_stream(streamed: Exchange, answer: Exchange) -> Exchange:
    streamed.related["non_stream"] = answer
    return streamed


def conformant() -> Exchange:
    """The conformant text stream, with its non-streaming twin for CHNK009."""
    return with_non_stream(chat_stream(), chat_json())


def inapplicable(variant: str) -> Exchange:
    """The conformant stream made inapplicable in one way."""
    streamed = conformant()
    if variant == "not requested as a stream":
        streamed.request_json = chat_request()
    elif variant == "error status":
        streamed.status = 500
    elif variant == "no response":
        streamed.status = None
    return streamed


def test_the_stream_codes_tested_here_are_the_registered_ones() -> None:
    module = "kimi_conformance.checks.streaming"  # the CHNK checks of other modules have their own tests
    registered = sorted(code for code, check in CHECKS.items() if check.function.__module__ == module)
    assert registered == sorted(STREAM_CODES)


@pytest.mark.parametrize("code", STREAM_CODES)
def test_stream_checks_pass_on_a_conformant_stream(code: str) -> None:
    assert status(code, conformant()) is Status.PASSED


@pytest.mark.parametrize("variant", ["not requested as a stream", "error status", "no response"])
@pytest.mark.parametrize("code", STREAM_CODES)
def test_stream_checks_are_not_applicable_without_a_successful_streamed_request(code: str, variant: str) -> None:
    assert status(code, inapplicable(variant)) is Status.NOT_APPLICABLE


# SSE001: content type


def test_sse001_passes_on_event_stream_with_parameters() -> None:
    streamed = chat_stream()
    streamed.response_headers["content-type"] = "text/event-stream; charset=utf-8"
    assert status("SSE001", streamed) is Status.PASSED


@pytest.mark.parametrize(
    ("headers", "received"), [({"content-type": "application/json"}, "application/json"), ({}, "<none>")]
)
def test_sse001_fails_on_a_stream_answered_with_another_content_type(headers: dict[str, str], received: str) -> None:
    streamed = chat_stream()
    streamed.response_headers = headers
    assert f"Content-Type {received}\nExpected: text/event-stream" in message("SSE001", streamed)


# SSE002: framing


def test_sse002_passes_on_crlf_line_ends_and_comments() -> None:
    events = [b": keep-alive\r\n\r\n", *(event.replace(b"\n", b"\r\n") for event in text_stream_events())]
    assert status("SSE002", chat_stream(events)) is Status.PASSED


@pytest.mark.parametrize(
    "block", [b"retry: 3000\n\n", b"retry:3000\r\nretry: 1500\r\n\r\n"], ids=["retry", "two retry, CRLF"]
)
def test_sse002_passes_on_a_block_holding_only_retry(block: bytes) -> None:
    """WHATWG SSE: a `retry:` field sets the reconnection time; a block of those alone dispatches no event."""
    events = text_stream_events()
    assert status("SSE002", chat_stream([block, *events[:2], block, *events[2:]])) is Status.PASSED


@pytest.mark.parametrize(
    ("events", "problem"),
    [
        ([*text_stream_events()[:-1], b"data: \xff\n\n", done()], "invalid-utf8 at byte"),
        ([*text_stream_events()[:-1], b"data: [DONE]\n"], "unterminated-event at byte"),
        ([b"event: ping\n\n", *text_stream_events()], "event-without-data at byte"),
        ([b"retry: 3000\nevent: ping\n\n", *text_stream_events()], "event-without-data at byte"),
        ([b"retry: soon\n\n", *text_stream_events()], "event-without-data at byte"),
    ],
    ids=["invalid UTF-8", "unterminated last event", "event without data", "retry and event", "retry not digits"],
)
def test_sse002_fails_on_broken_framing(events: list[bytes], problem: str) -> None:
    assert problem in message("SSE002", chat_stream(events))


# SSE003: [DONE]


@pytest.mark.parametrize(
    ("events", "received"),
    [
        (text_stream_events()[:-1], "3 events, the last `{"),
        ([], "0 events, the last `<no events>`"),
    ],
    ids=["cut before [DONE]", "no events"],
)
def test_sse003_fails_on_a_stream_without_done(events: list[bytes], received: str) -> None:
    assert received in message("SSE003", chat_stream(events))


@pytest.mark.parametrize("extra", [done(), text_stream_events()[1]], ids=["[DONE] twice", "a chunk after [DONE]"])
def test_sse003_fails_on_events_after_done(extra: bytes) -> None:
    text = message("SSE003", chat_stream([*text_stream_events(), extra]))
    assert "1 event(s) after `[DONE]`\nExpected: none" in text


# SSE004: JSON events


@pytest.mark.parametrize("data", [b"hello", b"[1]", b"NaN"], ids=["not JSON", "not an object", "NaN is not JSON"])
def test_sse004_fails_on_an_event_that_is_not_a_json_object(data: bytes) -> None:
    events = [*text_stream_events()[:-1], b"data: " + data + b"\n\n", done()]
    assert f"event #3 `{data.decode()}`\nExpected: a JSON chunk object" in message("SSE004", chat_stream(events))


def test_sse004_fails_on_a_deeply_nested_array_event() -> None:
    deep = b"data: " + b"[" * 100_000 + b"]" * 100_000 + b"\n\n"
    assert status("SSE004", chat_stream([*text_stream_events()[:-1], deep, done()])) is Status.FAILED


# CHNK001: chunk identity


def test_chnk001_is_not_applicable_without_chunks() -> None:
    assert status("CHNK001", chat_stream([done()])) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    ("field", "value", "received"),
    [
        ("object", "chat.completion", "object ['chat.completion', 'chat.completion.chunk']"),
        ("id", "chatcmpl-2", "2 id(s)"),
        ("model", "moonshot-v1-8k", "model ['kimi-k2-turbo-preview', 'moonshot-v1-8k']"),
        ("created", "1764547200", "created integers: False"),
        ("created", True, "created integers: False"),
    ],
)
def test_chnk001_fails_on_a_chunk_with_other_identity(field: str, value: Any, received: str) -> None:
    events = text_stream_events()
    events[1] = chunk_event(chunk_choice({"content": "OK"}), **{field: value})
    assert received in message("CHNK001", chat_stream(events))


def test_chnk001_fails_on_a_list_id() -> None:
    events = text_stream_events()
    events[1] = chunk_event(chunk_choice({"content": "OK"}), id=["chatcmpl-1"])
    assert status("CHNK001", chat_stream(events)) is Status.FAILED


# CHNK002: choice indexes and role


def test_chnk002_passes_on_n_choices_each_with_role_first() -> None:
    events = [*choice_events({"content": "A"}), *choice_events({"content": "B"}, index=1), done()]
    assert status("CHNK002", chat_stream(events, n=2)) is Status.PASSED


@pytest.mark.parametrize(
    ("events", "n", "received"),
    [
        ([*choice_events({"content": "A"}), done()], 2, "choice indexes [0]\nExpected: [0, 1]"),
        ([*choice_events({"content": "A"}, index=1), done()], 1, "choice indexes [1]\nExpected: [0]"),
    ],
)
def test_chnk002_fails_on_choice_indexes_not_matching_n(events: list[bytes], n: int, received: str) -> None:
    assert received in message("CHNK002", chat_stream(events, n=n))


@pytest.mark.parametrize("n", [10**12, 1e308])
def test_chnk002_fails_on_a_huge_n_without_listing_every_index(n: float) -> None:
    assert f"choice indexes [0]\nExpected: [0, 1, ..., {int(n) - 1}]" in message("CHNK002", chat_stream(n=n))


@pytest.mark.parametrize(
    ("events", "positions"),
    [
        (choice_events({"content": "OK"}, first={"content": ""}), "[]"),
        (choice_events({"content": "OK"}, {"role": "assistant", "content": "!"}), "[0, 2]"),
    ],
    ids=["no role", "role repeated"],
)
def test_chnk002_fails_on_role_not_in_the_first_delta_only(events: list[bytes], positions: str) -> None:
    text = message("CHNK002", chat_stream([*events, done()]))
    assert f"role in delta(s) at {positions} of choice 0\nExpected: in the first delta only" in text


def test_chnk002_fails_on_role_in_the_second_delta() -> None:
    events = choice_events({"role": "assistant", "content": "OK"}, first={"content": ""})
    assert "role in delta(s) at [1] of choice 0" in message("CHNK002", chat_stream([*events, done()]))


def test_chnk002_reports_nothing_for_a_null_role_in_later_deltas() -> None:
    """`"role": null` names no role: not even a warning (the self-test counts every finding as a false alarm)."""
    events = choice_events({"role": None, "content": "O"}, {"role": None, "content": "K"})
    result = outcome("CHNK002", chat_stream([*events, done()]))
    assert result.status is Status.PASSED and result.finding is None


def test_chnk002_still_fails_on_a_role_value_after_null_roles() -> None:
    events = choice_events({"role": None, "content": "O"}, {"role": "assistant", "content": "K"})
    result = outcome("CHNK002", chat_stream([*events, done()]))
    assert result.finding is not None and result.finding.severity is Severity.ERROR
    assert "role in delta(s) at [0, 2] of choice 0" in result.finding.message


def test_chnk002_still_fails_on_a_first_delta_without_role_before_null_roles() -> None:
    events = choice_events({"role": None, "content": "OK"}, first={"content": ""})
    assert "role in delta(s) at [] of choice 0" in message("CHNK002", chat_stream([*events, done()]))


# CHNK003: delta order


def test_chnk003_passes_on_reasoning_then_content_then_tool_calls() -> None:
    deltas: list[dict[str, Any]] = [
        {"reasoning_content": "Hmm"},
        {"content": "Let me look"},
        {"tool_calls": [FIRST]},
        {"tool_calls": [arguments_piece("{}")]},
    ]
    assert status("CHNK003", stream(*deltas, finish="tool_calls", tools=[TOOL])) is Status.PASSED


@pytest.mark.parametrize(
    ("deltas", "received"),
    [
        ([{"content": "OK"}, {"reasoning_content": "Hmm"}], "reasoning_content after content"),
        (
            [{"tool_calls": [{**FIRST, "function": {"name": "get_weather", "arguments": "{}"}}]}, {"content": "OK"}],
            "content after tool_calls",
        ),
    ],
)
def test_chnk003_fails_on_deltas_out_of_order(deltas: list[dict[str, Any]], received: str) -> None:
    assert f"{received} in choice 0" in message("CHNK003", stream(*deltas, tools=[TOOL]))


# CHNK004: tool-call fragments


def test_chnk004_passes_on_well_formed_fragments() -> None:
    assert (
        status("CHNK004", tool_stream(FIRST, arguments_piece('{"city": '), arguments_piece('"Paris"}')))
        is Status.PASSED
    )


@pytest.mark.parametrize(
    ("name", "tools"), [("$web_search", [WEB_SEARCH]), ("get_time", [TOOL])], ids=["builtin function", "not requested"]
)
def test_chnk004_does_not_judge_arguments_of_a_tool_without_a_schema(name: str, tools: list[Any]) -> None:
    first = {**FIRST, "function": {"name": name, "arguments": "{query"}}
    assert status("CHNK004", tool_stream(first, tools=tools)) is Status.PASSED


@pytest.mark.parametrize(
    "first",
    [
        {**FIRST, "id": None},
        {**FIRST, "type": None},
        {**FIRST, "type": "tool"},
        {**FIRST, "function": {"arguments": ""}},
        {**FIRST, "function": None},
    ],
    ids=["no id", "no type", "type not function", "no name", "no function"],
)
def test_chnk004_fails_on_a_first_fragment_without_id_type_or_name(first: dict[str, Any]) -> None:
    result = outcome("CHNK004", tool_stream(first, arguments_piece("{}")))
    assert result.finding is not None and result.finding.severity is Severity.ERROR
    assert "first fragment" in result.finding.message and "of call 0 (choice 0)" in result.finding.message


@pytest.mark.parametrize(
    "later",
    [arguments_piece("{}", id="call_0"), {"index": 0, "function": {"name": "get_weather", "arguments": "{}"}}],
    ids=["id repeated", "name repeated"],
)
def test_chnk004_fails_on_a_later_fragment_repeating_id_or_name(later: dict[str, Any]) -> None:
    result = outcome("CHNK004", tool_stream(FIRST, later))
    assert result.finding is not None and result.finding.severity is Severity.ERROR
    assert "later fragment" in result.finding.message


def test_chnk004_warns_on_a_later_fragment_repeating_type() -> None:
    result = outcome("CHNK004", tool_stream(FIRST, arguments_piece("{}", type="function")))
    assert result.finding is not None and result.finding.severity is Severity.WARNING
    assert 'later fragment {"index": 0, "function": {"arguments": "{}"}, "type": "function"}' in result.finding.message


def test_chnk004_fails_on_assembled_arguments_that_are_not_json() -> None:
    text = message("CHNK004", tool_stream(FIRST, arguments_piece('{"city": '), arguments_piece("Paris}")))
    assert "assembled arguments '{\"city\": Paris}'\nExpected: JSON" in text


def test_chnk004_fails_on_arguments_that_break_the_tool_schema() -> None:
    text = message("CHNK004", tool_stream(FIRST, arguments_piece('{"city": '), arguments_piece("5}")))
    assert "arguments of get_weather" in text and "5 is not of type 'string'" in text


def test_chnk004_does_not_hold_a_loose_tool_to_its_schema() -> None:
    """`strict: false` (facts §3.6): a JSON object breaking the schema passes."""
    fragments = (FIRST, arguments_piece('{"city": 5, '), arguments_piece('"extra": true}'))
    assert status("CHNK004", tool_stream(*fragments, tools=[LOOSE_TOOL])) is Status.PASSED


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [('["Paris"]', 'arguments of get_weather ["Paris"]\nExpected: a JSON object (strict false)'),
     ('{"city": Paris}', "Expected: JSON")],
    ids=["a list", "not JSON"],
)  # fmt: skip
def test_chnk004_fails_on_loose_tool_arguments_that_are_no_json_object(arguments: str, expected: str) -> None:
    result = outcome("CHNK004", tool_stream(FIRST, arguments_piece(arguments), tools=[LOOSE_TOOL]))
    assert result.finding is not None and result.finding.severity is Severity.ERROR
    assert expected in result.finding.message


def test_chnk004_fails_on_a_list_function_name() -> None:
    first = {**FIRST, "function": {"name": ["get_weather"], "arguments": "{}"}}
    assert status("CHNK004", tool_stream(first)) is Status.FAILED


@pytest.mark.parametrize(
    "parameters",
    [{"type": "strin"}, {"$ref": "#/$defs/missing"}, {"$ref": "#/required", "required": ["city"]}],
    ids=["unknown type", "unresolvable $ref", "$ref to no schema"],
)
def test_chnk004_leaves_an_invalid_tool_schema_to_the_request(parameters: dict[str, Any]) -> None:
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": parameters}}
    assert status("CHNK004", tool_stream(FIRST, arguments_piece("{}"), tools=[tool])) is Status.PASSED


# CHNK005: finish_reason


def test_chnk005_passes_on_finish_reason_tool_calls_after_tool_calls() -> None:
    assert status("CHNK005", tool_stream(FIRST, arguments_piece("{}"))) is Status.PASSED


@pytest.mark.parametrize(
    ("events", "reasons"),
    [
        ([*choice_events({"content": "OK"}, finish=None), done()], "[]"),
        ([*choice_events({"content": "OK"}), chunk_event(chunk_choice(finish="stop")), done()], "['stop', 'stop']"),
        ([*choice_events({"content": "OK"}, finish="end_turn"), done()], "['end_turn']"),
    ],
    ids=["none", "twice", "undocumented"],
)
def test_chnk005_fails_unless_exactly_one_documented_finish_reason(events: list[bytes], reasons: str) -> None:
    text = message("CHNK005", chat_stream(events))
    assert f"finish_reason(s) {reasons} for choice 0\nExpected: exactly one of stop, length, tool_calls" in text


def test_chnk005_fails_on_deltas_after_finish_reason() -> None:
    events = [*choice_events({"content": "OK"}), chunk_event(chunk_choice({"content": "!"})), done()]
    assert "1 delta(s) after finish_reason in choice 0" in message("CHNK005", chat_stream(events))


@pytest.mark.parametrize(
    ("streamed", "received"),
    [
        (stream({"content": "OK"}, finish="tool_calls"), "finish_reason tool_calls with 0 tool call(s)"),
        (
            stream({"tool_calls": [{**FIRST, "function": {"name": "get_weather", "arguments": "{}"}}]}, tools=[TOOL]),
            "finish_reason stop with 1 tool call(s)",
        ),
    ],
)
def test_chnk005_fails_on_finish_reason_tool_calls_not_matching_the_calls(streamed: Exchange, received: str) -> None:
    assert received in message("CHNK005", streamed)


def test_chnk005_fails_on_a_list_finish_reason() -> None:
    assert "finish_reason(s) [['stop']] for choice 0" in message("CHNK005", stream({"content": "OK"}, finish=["stop"]))


# CHNK006: Moonshot-style usage in the choice


def test_chnk006_is_not_applicable_to_openai_style_usage_only() -> None:
    events = [*choice_events({"content": "OK"}, usage=NO_USAGE), usage_chunk(), done()]
    assert status("CHNK006", chat_stream(events, stream_options={"include_usage": True})) is Status.NOT_APPLICABLE


def test_chnk006_passes_on_usage_in_each_choice() -> None:
    events = [*choice_events({"content": "A"}), *choice_events({"content": "B"}, index=1), done()]
    assert status("CHNK006", chat_stream(events, n=2)) is Status.PASSED


@pytest.mark.parametrize(
    ("streamed", "received"),
    [
        (stream({"content": "OK"}, usage=NO_USAGE), "0 usage object(s) in choice 0"),
        (
            chat_stream([*choice_events({"content": "OK"}), chunk_event(chunk_choice(usage=USAGE)), done()]),
            "2 usage object(s) in choice 0",
        ),
        (stream({"content": "OK"}, usage=counts(total=11)), '1 usage object(s) in choice 0: [{"prompt_tokens": 8'),
        (stream({"content": "OK"}, usage={**USAGE, "prompt_tokens": "8"}), '[{"prompt_tokens": "8"'),
    ],
    ids=["missing", "twice", "total not the sum", "count not an integer"],
)
def test_chnk006_fails_unless_one_consistent_usage_in_the_choice(streamed: Exchange, received: str) -> None:
    assert received in message("CHNK006", streamed)


# CHNK007: usage OpenAI-style only


@pytest.mark.parametrize(
    "events",
    [
        [*choice_events({"content": "OK"}), usage_chunk(), done()],
        [*choice_events({"content": "OK"}, usage=NO_USAGE), chunk_event(usage=None), done()],
    ],
    ids=["both styles", "no usage at all"],
)
def test_chnk007_passes_unless_usage_is_only_top_level(events: list[bytes]) -> None:
    assert status("CHNK007", chat_stream(events)) is Status.PASSED


def test_chnk007_fails_on_usage_only_in_a_top_level_chunk() -> None:
    events = [*choice_events({"content": "OK"}, usage=NO_USAGE), usage_chunk(), done()]
    text = message("CHNK007", chat_stream(events, stream_options={"include_usage": True}))
    assert "no usage in choice(s) [0]; usage only in a top-level chunk" in text


# CHNK008: include_usage

INCLUDE_USAGE: dict[str, Any] = {"stream_options": {"include_usage": True}}


@pytest.mark.parametrize(
    ("events", "request_fields"),
    [
        ([*choice_events({"content": "OK"}), usage_chunk(), done()], INCLUDE_USAGE),
        (
            [chunk_event(chunk_choice(ROLE), usage=None), *choice_events({"content": "OK"})[1:], usage_chunk(), done()],
            INCLUDE_USAGE,
        ),
        (
            [
                *choice_events({"content": "A"}),
                *choice_events({"content": "B"}, index=1),
                usage_chunk(counts(8, 4)),
                done(),
            ],
            {**INCLUDE_USAGE, "n": 2},
        ),
    ],
    ids=["include_usage", "null usage in a chunk with choices", "usage summed over choices"],
)
def test_chnk008_passes_on_one_last_consistent_usage_chunk(events: list[bytes], request_fields: Any) -> None:
    assert status("CHNK008", chat_stream(events, **request_fields)) is Status.PASSED


def test_chnk008_warns_on_top_level_usage_in_a_chunk_with_choices() -> None:
    """The published spec's "other chunks carry usage: null" is OpenAI's wording, unverified for Moonshot (facts
    §3.10 [S][I], §11.7): a warning naming both sides."""
    events = [*choice_events({"content": "OK"})[:-1], chunk_event(chunk_choice(finish="stop"), usage=USAGE), done()]
    result = outcome("CHNK008", chat_stream(events))
    assert result.finding is not None and result.finding.severity is Severity.WARNING
    assert "top-level usage in chunk(s) [2] with choices\nExpected: null" in result.finding.message
    assert "the published spec says" in result.finding.message and "unverified for Moonshot" in result.finding.message


@pytest.mark.parametrize(
    ("events", "request_fields", "received"),
    [
        ([*choice_events({"content": "OK"}), usage_chunk(), done()], {}, "a `choices: []` usage chunk without"),
        ([*choice_events({"content": "OK"}), done()], INCLUDE_USAGE, "usage chunk(s) at [] of 3 chunks"),
    ],
    ids=["usage chunk unasked", "usage chunk missing"],
)
def test_chnk008_reports_an_error_before_the_top_level_usage_warning(
    events: list[bytes], request_fields: dict[str, Any], received: str
) -> None:
    events = [*events[:2], chunk_event(chunk_choice(finish="stop"), usage=USAGE), *events[3:]]
    result = outcome("CHNK008", chat_stream(events, **request_fields))
    assert result.finding is not None and result.finding.severity is Severity.ERROR
    assert received in result.finding.message


def test_chnk008_fails_on_a_usage_chunk_without_include_usage() -> None:
    text = message("CHNK008", chat_stream([*choice_events({"content": "OK"}), usage_chunk(), done()]))
    assert "a `choices: []` usage chunk without include_usage" in text


@pytest.mark.parametrize(
    ("events", "received"),
    [
        ([*choice_events({"content": "OK"}), done()], "usage chunk(s) at [] of 3 chunks"),
        ([*choice_events({"content": "OK"})[:-1], usage_chunk(), choice_events()[-1], done()], "at [2] of 4 chunks"),
        ([*choice_events({"content": "OK"}), usage_chunk(), usage_chunk(), done()], "at [3, 4] of 5 chunks"),
        ([*choice_events({"content": "OK"}), usage_chunk(counts(total=11)), done()], "at [3] of 4 chunks"),
    ],
    ids=["missing", "not last", "twice", "total not the sum"],
)
def test_chnk008_fails_unless_one_consistent_usage_chunk_comes_last(events: list[bytes], received: str) -> None:
    assert received in message("CHNK008", chat_stream(events, **INCLUDE_USAGE))


@pytest.mark.parametrize(
    ("events", "n"),
    [
        ([*choice_events({"content": "OK"}), usage_chunk(counts(prompt=9)), done()], 1),
        ([*choice_events({"content": "A"}), *choice_events({"content": "B"}, index=1), usage_chunk(), done()], 2),
    ],
    ids=["other prompt_tokens", "completion_tokens not summed"],
)
def test_chnk008_fails_on_a_usage_chunk_disagreeing_with_the_choices(events: list[bytes], n: int) -> None:
    """With one choice the usage chunk repeats its usage (an error); how it totals several choices is [I] (a
    warning)."""
    result = outcome("CHNK008", chat_stream(events, n=n, **INCLUDE_USAGE))
    assert result.finding is not None
    assert result.finding.severity is (Severity.ERROR if n == 1 else Severity.WARNING)
    assert "Expected: the same prompt_tokens, and completion_tokens summed over the choices" in result.finding.message


def test_chnk008_fails_on_a_non_numeric_choice_completion_count() -> None:
    events = [*choice_events({"content": "OK"}, usage={**USAGE, "completion_tokens": "x"}), usage_chunk(), done()]
    assert status("CHNK008", chat_stream(events, **INCLUDE_USAGE)) is Status.FAILED


# CHNK009: stream against non-stream


@pytest.mark.parametrize(
    "streamed",
    [
        chat_stream(),
        with_non_stream(chat_stream(), chat_json(status=400)),
        with_non_stream(chat_stream(), chat_json(completion(choices=[{"index": 0}]))),
    ],
    ids=["no non-stream answer", "non-stream refused", "non-stream without finish_reason"],
)
def test_chnk009_is_not_applicable_without_a_readable_non_stream_answer(streamed: Exchange) -> None:
    assert status("CHNK009", streamed) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    ("choices", "expected"),
    [
        ([{"index": 0, "message": {"role": "assistant", "content": "O"}, "finish_reason": "length"}], "{0: 'length'}"),
        ([{"index": i, "message": {}, "finish_reason": "stop"} for i in (0, 1)], "{0: 'stop', 1: 'stop'}"),
    ],
    ids=["other finish_reason", "other choices"],
)
def test_chnk009_warns_on_finish_reasons_differing_from_non_streaming(choices: list[Any], expected: str) -> None:
    result = outcome("CHNK009", with_non_stream(chat_stream(), chat_json(completion(choices=choices))))
    assert result.finding is not None and result.finding.severity is Severity.WARNING
    assert f"streamed finish reasons {{0: 'stop'}}\nExpected: {expected} as without streaming" in result.finding.message


# Requests the checks cannot read (a proxied client may send anything a target then answers with 200)


@pytest.mark.parametrize(
    ("code", "request_fields"),
    [
        pytest.param("CHNK002", {"n": "two"}, id="CHNK002 n not a number"),
        pytest.param("CHNK002", {"n": True}, id="CHNK002 n a boolean"),
        pytest.param("CHNK004", {"tools": "get_weather"}, id="CHNK004 tools not a list"),
        pytest.param("CHNK008", {"stream_options": "x"}, id="CHNK008 stream_options not an object"),
    ],
)
def test_stream_checks_leave_a_malformed_request_field_alone(code: str, request_fields: dict[str, Any]) -> None:
    assert status(code, chat_stream(**request_fields)) is Status.NOT_APPLICABLE


def test_chnk002_reads_an_integral_float_n_as_that_many_choices() -> None:
    assert status("CHNK002", chat_stream(n=1.0)) is Status.PASSED


def test_chnk004_still_crashes_on_a_string_function_fragment() -> None:
    """The documented check boundary (test_boundary.py, test_crash_run.py) relies on this one crash."""
    (result,) = run_checks(CheckContext(), tool_stream({**FIRST, "function": "oops"}), {"CHNK004"})
    assert result.status is Status.CRASHED and result.crash is not None and result.crash.startswith("AttributeError")
