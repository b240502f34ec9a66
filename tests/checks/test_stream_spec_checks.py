"""In-process unit tests of the KVV stream-spec checks (CHNK015-CHNK024, checks/stream_spec/checks.py): per check, not
applicable, passing on conformant streams (and on the benign shapes a client must accept), and failing, as a
warning, on each distinct way it can fail, on synthetic streams (no server, no network)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kimi_conformance.checks import CHECKS, Status
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Severity
from tests.checks.exchanges import (
    HEAD,
    ROLE,
    TOOL,
    arguments_piece,
    chat_json,
    chat_request,
    chat_stream,
    choice_events,
    chunk_choice,
    chunk_event,
    completion,
    done,
    status,
    warning,
)

SPEC_CODES = [f"CHNK{n:03d}" for n in range(15, 25)]


def usage(prompt: int = 8, completion: int = 2, cached: int = 0, reasoning: int = 0, **extra: Any) -> dict[str, Any]:
    """A usage object with both token details (what KVV's stream-spec asks of the final frames)."""
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
        "completion_tokens_details": {"reasoning_tokens": reasoning},
        **extra,
    }


def events(*deltas: dict[str, Any], final: dict[str, Any] | None = None, **shape: Any) -> list[bytes]:
    """One choice's events (`choice_events`), its finishing chunk carrying `final` usage: the usage above, with
    both token details, unless given."""
    return choice_events(*deltas, usage=final if final is not None else usage(), **shape)


PROMPT, CACHED = "x-msh-usage-prompt-tokens", "x-msh-usage-cached-tokens"


def headers_for(used: dict[str, Any]) -> dict[str, str]:
    cached = used.get("prompt_tokens_details", {}).get("cached_tokens", 0)
    return {PROMPT: str(used["prompt_tokens"]), CACHED: str(cached)}


def streamed(items: list[bytes], *, headers: dict[str, str] | None = None, **request: Any) -> Exchange:
    """A stream of `items` ended by [DONE], with the usage headers (those of the default usage unless given)."""
    exchange = chat_stream([*items, done()], **request)
    exchange.response_headers.update(headers if headers is not None else headers_for(usage()))
    return exchange


def text_stream(*pieces: str, **kwargs: Any) -> Exchange:
    return streamed(events(*({"content": piece} for piece in pieces)), **kwargs)


def tool_events(*fragments: dict[str, Any]) -> list[bytes]:
    return events(*({"tool_calls": [fragment]} for fragment in fragments), finish="tool_calls")


def call(index: int = 0, name: str = "get_weather") -> dict[str, Any]:
    """A call's first fragment."""
    return {"index": index, "id": f"call_{index}", "type": "function", "function": {"name": name, "arguments": ""}}


def conformant_streams() -> dict[str, Exchange]:
    """Streams every stream-spec check passes: text, thinking, tool calls, two choices, include_usage, and the
    benign shapes (unknown fields, null roles and values)."""
    thinking = events({"reasoning_content": "Let me think."}, {"content": "OK"}, final=usage(completion=6, reasoning=4))
    two = [*events({"content": "A"}, index=0), *events({"content": "B"}, index=1)]
    total = usage(completion=4)
    summary = chunk_event(usage=total)
    benign_tail = chunk_event(chunk_choice({"x_vendor_extra": True, "content": None}, finish="stop", usage=usage()))
    benign = [*events({"role": None, "content": "OK"})[:-1], benign_tail]
    return {
        "text": text_stream("Hello", " world"),
        "multi-byte text": text_stream("你好", ", 世界 🌍", " café"),
        "thinking": streamed(thinking),
        "tool calls": streamed(
            tool_events(
                call(0), arguments_piece('{"city":'), arguments_piece('"Oslo"}'), call(1), arguments_piece("{}", 1)
            ),
            tools=[TOOL],
        ),
        "two choices": streamed(two, n=2, temperature=0.7),
        "include_usage": streamed(
            [*events({"content": "OK"}), summary], headers=headers_for(total), stream_options={"include_usage": True}
        ),
        "cached prompt": streamed(
            events({"content": "OK"}, final=usage(cached=8)), headers=headers_for(usage(cached=8))
        ),
        "benign shapes": streamed(benign),
    }


def test_the_codes_tested_here_are_the_stream_spec_checks() -> None:
    module = "kimi_conformance.checks.stream_spec.checks"
    assert sorted(code for code, check in CHECKS.items() if check.function.__module__ == module) == SPEC_CODES


@pytest.mark.parametrize("code", SPEC_CODES)
def test_each_is_a_warning_resting_on_the_stream_spec(code: str) -> None:
    """Verifiers §5 is known second-hand ([O]): a warning, never an error."""
    assert CHECKS[code].severity is Severity.WARNING and "verifiers §5 [O]" in CHECKS[code].fact


@pytest.mark.parametrize("variant", sorted(conformant_streams()))
@pytest.mark.parametrize("code", SPEC_CODES)
def test_stream_spec_checks_pass_on_conformant_streams(code: str, variant: str) -> None:
    assert status(code, conformant_streams()[variant]) is Status.PASSED, variant


@pytest.mark.parametrize("variant", ["not requested as a stream", "error status", "no response"])
@pytest.mark.parametrize("code", SPEC_CODES)
def test_stream_spec_checks_are_not_applicable_without_a_successful_stream(code: str, variant: str) -> None:
    exchange = text_stream("OK")
    if variant == "not requested as a stream":
        exchange.request_json = chat_request()
    elif variant == "error status":
        exchange.status = 500
    else:
        exchange.status = None
    assert status(code, exchange) is Status.NOT_APPLICABLE


# CHNK015: usage token details on the final frames


def test_chnk015_is_not_applicable_without_usage() -> None:
    exchange = streamed(
        [
            chunk_event(chunk_choice(ROLE)),
            chunk_event(chunk_choice({"content": "OK"})),
            chunk_event(chunk_choice(finish="stop")),
        ]
    )
    assert status("CHNK015", exchange) is Status.NOT_APPLICABLE


def _without(group: str) -> dict[str, Any]:
    used = usage()
    del used[group]
    return used


@pytest.mark.parametrize(
    ("final", "received"),
    [
        (_without("prompt_tokens_details"), "prompt_tokens_details.cached_tokens null"),
        (_without("completion_tokens_details"), "completion_tokens_details.reasoning_tokens null"),
        ({**usage(), "prompt_tokens_details": {"cached_tokens": True}}, "prompt_tokens_details.cached_tokens true"),
        (
            {**usage(), "completion_tokens_details": {"reasoning_tokens": -1}},
            "completion_tokens_details.reasoning_tokens -1",
        ),
        (usage(cached=9), "prompt_tokens_details.cached_tokens 9 > prompt_tokens 8"),
        (usage(reasoning=3), "completion_tokens_details.reasoning_tokens 3 > completion_tokens 2"),
        (usage(cached=4, cached_tokens=5), "cached_tokens 5 != prompt_tokens_details.cached_tokens 4"),
        (usage(reasoning=1), "reasoning_tokens 1 without reasoning_content streamed"),
    ],
    ids=[
        "no prompt details",
        "no completion details",
        "boolean",
        "negative",
        "cached > prompt",
        "reasoning > completion",
        "two cached counts",
        "reasoning tokens, no reasoning",
    ],
)
def test_chnk015_warns_on_missing_or_inconsistent_details(final: dict[str, Any], received: str) -> None:
    text = warning("CHNK015", streamed(events({"content": "OK"}, final=final)))
    assert f"usage of choice 0: {received}" in text


def test_chnk015_warns_on_reasoning_streamed_but_not_counted() -> None:
    exchange = streamed(events({"reasoning_content": "Hmm."}, {"content": "OK"}, final=usage(reasoning=0)))
    assert "reasoning_tokens 0 with reasoning_content streamed" in warning("CHNK015", exchange)


def test_chnk015_accepts_a_top_level_cached_count_that_agrees() -> None:
    final = usage(cached=4, cached_tokens=4)
    assert status("CHNK015", streamed(events({"content": "OK"}, final=final))) is Status.PASSED


def test_chnk015_warns_on_a_summary_chunk_without_details() -> None:
    bare = {"prompt_tokens": 8, "completion_tokens": 2, "total_tokens": 10}
    exchange = streamed([*events({"content": "OK"}), chunk_event(usage=bare)], stream_options={"include_usage": True})
    assert "usage of chunk 3: prompt_tokens_details.cached_tokens null" in warning("CHNK015", exchange)


# CHNK016: tool-call continuations carry only index and arguments


@pytest.mark.parametrize(
    ("later", "received"),
    [
        (arguments_piece("{}", id=None), "empty id"),
        (arguments_piece("{}", type=""), "empty type"),
        (arguments_piece("{}", id=None, type=None), "empty id, type"),
        ({"index": 0, "function": {"name": None, "arguments": "{}"}}, "empty function.name"),
        ({"index": 0}, "no string function.arguments"),
        ({"index": 0, "function": {"arguments": None}}, "no string function.arguments"),
        ({"index": 0, "function": "{}"}, "no string function.arguments"),
    ],
    ids=["null id", "empty type", "null id and type", "null name", "no function", "null arguments", "function text"],
)
def test_chnk016_warns_on_a_continuation_with_more_than_index_and_arguments(
    later: dict[str, Any], received: str
) -> None:
    text = warning("CHNK016", streamed(tool_events(call(), later), tools=[TOOL]))
    assert f"of call 0 (choice 0): {received}\nExpected: only index and function.arguments" in text


def test_chnk016_leaves_a_repeated_id_or_name_to_chnk004() -> None:
    exchange = streamed(tool_events(call(), arguments_piece("{}", id="call_0")), tools=[TOOL])
    assert status("CHNK016", exchange) is Status.PASSED
    assert status("CHNK004", exchange) is Status.FAILED


def test_chnk016_accepts_unknown_extra_fields() -> None:
    exchange = streamed(tool_events(call(), arguments_piece("{}", x_vendor_extra=True)), tools=[TOOL])
    assert status("CHNK016", exchange) is Status.PASSED


# CHNK017: no error frame inside a stream


def test_chnk017_warns_on_an_error_only_chunk() -> None:
    error = b'data: {"error": {"message": "overloaded", "type": "engine_overloaded_error"}}\n\n'
    exchange = streamed([*events({"content": "OK"})[:2], error])
    assert 'error frame at chunk 2: {"error": {"message": "overloaded"' in warning("CHNK017", exchange)


def test_chnk017_warns_on_an_error_event() -> None:
    error = b'event: error\ndata: {"message": "overloaded"}\n\n'
    exchange = streamed([*events({"content": "OK"})[:2], error, *events({"content": "OK"})[2:]])
    assert "`event: error` at event #2" in warning("CHNK017", exchange)


def test_chnk017_ignores_a_null_error_field() -> None:
    tail = chunk_event(chunk_choice(finish="stop", usage=usage()), error=None)
    assert status("CHNK017", streamed([*events({"content": "OK"})[:2], tail])) is Status.PASSED


# CHNK018: the first delta's content is "" or null


@pytest.mark.parametrize(
    "first", [{"role": "assistant", "content": None}, {"role": "assistant", "content": "", "reasoning_content": ""}]
)
def test_chnk018_accepts_empty_or_null_first_content(first: dict[str, Any]) -> None:
    assert status("CHNK018", streamed(events({"content": "OK"}, first=first))) is Status.PASSED


@pytest.mark.parametrize(
    ("first", "received"),
    [({"role": "assistant"}, "no content key"), ({"role": "assistant", "content": "Hi"}, 'content "Hi"')],
    ids=["no content", "text"],
)
def test_chnk018_warns_on_a_first_delta_without_empty_content(first: dict[str, Any], received: str) -> None:
    text = warning("CHNK018", streamed(events({"content": "OK"}, first=first)))
    assert f"of choice 0: {received}\nExpected: content" in text


def test_chnk018_judges_every_choice() -> None:
    two = [*events({"content": "A"}, index=0), *events({"content": "B"}, index=1, first={"role": "assistant"})]
    assert "of choice 1: no content key" in warning("CHNK018", streamed(two, n=2, temperature=0.7))


def test_chnk018_is_not_applicable_without_choices() -> None:
    assert status("CHNK018", streamed([])) is Status.NOT_APPLICABLE


# CHNK019: the finishing chunk's delta is empty


@pytest.mark.parametrize(
    "delta",
    [
        {"content": ""},
        {"content": "."},
        {"role": "assistant"},
        {"tool_calls": [arguments_piece("}")]},
        {"reasoning_content": ""},
    ],
    ids=["empty content", "content", "role", "tool calls", "empty reasoning"],
)
def test_chnk019_warns_on_a_finishing_chunk_with_a_delta(delta: dict[str, Any]) -> None:
    items = [*events({"content": "OK"})[:-1], chunk_event(chunk_choice(delta, finish="stop", usage=usage()))]
    text = warning("CHNK019", streamed(items))
    assert f"Received: delta {json.dumps(delta)} with finish_reason in chunk 2 (choice 0)" in text


def test_chnk019_is_not_applicable_without_a_finish_reason() -> None:
    assert status("CHNK019", streamed(events({"content": "OK"})[:-1])) is Status.NOT_APPLICABLE


# CHNK020: created is constant


@pytest.mark.parametrize("where", ["finishing chunk", "usage chunk"])
def test_chnk020_warns_on_a_chunk_with_another_created(where: str) -> None:
    created = HEAD["created"]
    assert isinstance(created, int)
    later = created + 1
    if where == "finishing chunk":
        items = [
            *events({"content": "OK"})[:-1],
            chunk_event(chunk_choice(finish="stop", usage=usage()), created=later),
        ]
        changed = 2
    else:
        items = [*events({"content": "OK"}), chunk_event(usage=usage(), created=later)]
        changed = 3
    text = warning("CHNK020", streamed(items, stream_options={"include_usage": True}))
    assert f"created {created} in the first chunk, {later} in chunk {changed} (2 values)" in text


def test_chnk020_leaves_a_created_that_is_no_integer_to_chnk001() -> None:
    items = [chunk_event(chunk_choice(ROLE), created="now"), *events({"content": "OK"})[1:]]
    assert status("CHNK020", streamed(items)) is Status.PASSED


def test_chnk020_is_not_applicable_without_an_integer_created() -> None:
    assert status("CHNK020", streamed([chunk_event(chunk_choice(ROLE), created=None)])) is Status.NOT_APPLICABLE


# CHNK021: usage headers agree with the final usage


def test_chnk021_is_not_applicable_without_the_headers() -> None:
    assert status("CHNK021", text_stream("OK", headers={})) is Status.NOT_APPLICABLE
    assert status("CHNK021", chat_json()) is Status.NOT_APPLICABLE


def test_chnk021_is_not_applicable_without_usage() -> None:
    items = [chunk_event(chunk_choice(ROLE)), chunk_event(chunk_choice(finish="stop"))]
    assert status("CHNK021", streamed(items)) is Status.NOT_APPLICABLE
    body = completion()
    del body["usage"]
    answer = chat_json(body)
    answer.response_headers.update(headers_for(usage()))
    assert status("CHNK021", answer) is Status.NOT_APPLICABLE


def non_stream(used: dict[str, Any], headers: dict[str, str]) -> Exchange:
    answer = chat_json(completion(usage=used))
    answer.response_headers.update(headers)
    return answer


@pytest.mark.parametrize(
    ("used", "headers"),
    [
        (usage(cached=4), {"x-msh-usage-prompt-tokens": "8", "x-msh-usage-cached-tokens": "4"}),
        (
            {"prompt_tokens": 8, "completion_tokens": 2, "total_tokens": 10, "cached_tokens": 4},
            {"x-msh-usage-prompt-tokens": "8", "x-msh-usage-cached-tokens": "4"},
        ),
        ({"prompt_tokens": 8, "completion_tokens": 2, "total_tokens": 10}, {"x-msh-usage-cached-tokens": "0"}),
        (usage(), {"X-Msh-Usage-Prompt-Tokens": "8"}),
    ],
    ids=["details", "top-level cached_tokens", "no cached count is 0", "one header, any case"],
)
def test_chnk021_passes_on_headers_equal_to_the_usage(used: dict[str, Any], headers: dict[str, str]) -> None:
    assert status("CHNK021", non_stream(used, headers)) is Status.PASSED


@pytest.mark.parametrize(
    ("headers", "received"),
    [
        ({PROMPT: "5", CACHED: "0"}, f"{PROMPT}: 5 for usage prompt_tokens 8"),
        ({PROMPT: "8", CACHED: "2"}, f"{CACHED}: 2 for usage cached_tokens 0"),
        ({PROMPT: "8 tokens"}, f"{PROMPT}: 8 tokens for usage prompt_tokens 8"),
        ({PROMPT: "-8"}, f"{PROMPT}: -8"),
    ],
    ids=["prompt", "cached", "not a number", "negative"],
)
def test_chnk021_warns_on_headers_that_disagree(headers: dict[str, str], received: str) -> None:
    assert received in warning("CHNK021", non_stream(usage(), headers))
    assert received in warning("CHNK021", text_stream("OK", headers=headers))


def test_chnk021_reads_a_stream_s_usage_chunk_first() -> None:
    total = usage(prompt=9)  # the usage chunk is what the stream ends with
    items = [*events({"content": "OK"}), chunk_event(usage=total)]
    exchange = streamed(items, headers=headers_for(usage()), stream_options={"include_usage": True})
    assert f"{PROMPT}: 8 for usage prompt_tokens 9" in warning("CHNK021", exchange)


def test_chnk021_is_not_applicable_on_the_fold_of_a_stream() -> None:
    """The fold carries only a content type: its headers say nothing."""
    folded = text_stream("OK").folded()
    assert folded is not None and status("CHNK021", folded) is Status.NOT_APPLICABLE


# CHNK022: tool-call indexes 0, 1, 2...


@pytest.mark.parametrize(
    ("fragments", "received"),
    [((call(1), arguments_piece("{}", 1)), "[1]"),
     ((call(0), arguments_piece("{}"), call(2), arguments_piece("{}", 2)), "[0, 2]"),
     ((call(1), call(0)), "[1, 0]")],
    ids=["from one", "skips one", "out of order"],
)  # fmt: skip
def test_chnk022_warns_on_indexes_not_counting_from_zero(fragments: tuple[dict[str, Any], ...], received: str) -> None:
    text = warning("CHNK022", streamed(tool_events(*fragments), tools=[TOOL]))
    assert f"tool-call indexes {received} in choice 0" in text


def test_chnk022_accepts_interleaved_fragments() -> None:
    fragments = (call(0), call(1), arguments_piece("{}", 0), arguments_piece("{}", 1))
    assert status("CHNK022", streamed(tool_events(*fragments), tools=[TOOL])) is Status.PASSED


# CHNK023: usage only on the finishing chunk


def test_chnk023_warns_on_usage_in_a_middle_chunk() -> None:
    items = [chunk_event(chunk_choice(ROLE)), chunk_event(chunk_choice({"content": "OK"}, usage=usage())),
             chunk_event(chunk_choice(finish="stop"))]  # fmt: skip
    assert "in chunk 1 of choice 0, which has no finish_reason" in warning("CHNK023", streamed(items))


def test_chnk023_accepts_a_null_usage_on_middle_chunks() -> None:
    items = [chunk_event(chunk_choice(ROLE, usage=None)), *events({"content": "OK"})[1:]]
    assert status("CHNK023", streamed(items)) is Status.PASSED


# CHNK024: whole characters in every delta


@pytest.mark.parametrize(
    ("delta", "received"),
    [
        ({"content": "caf\ufffd"}, "content piece #2 'caf\\ufffd' of choice 0 carries '\\ufffd'"),
        ({"reasoning_content": "moon \ud83c"}, "reasoning_content piece #0 'moon \\ud83c' of choice 0 carries"),
    ],
    ids=["replacement character", "lone surrogate"],
)
def test_chnk024_warns_on_a_broken_character(delta: dict[str, Any], received: str) -> None:
    """Pieces count from the first delta's `content: ""`; the message shows the text ASCII-escaped."""
    items = events({"content": "A"})
    assert received in warning("CHNK024", streamed([*items[:2], chunk_event(chunk_choice(delta)), items[2]]))
