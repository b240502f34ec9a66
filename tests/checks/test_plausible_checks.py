"""In-process unit tests of the plausible-number checks (CHAT015 created in Unix seconds, CHAT016 usage counts not
zero, CHNK010 stream deltas within the tokens): per check, not applicable, passing on a conformant answer, and
failing on each distinct way it can fail, on synthetic exchanges (no server, no network)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from kimi_conformance.checks import CHECKS, Status
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Severity
from tests.checks.exchanges import (
    CALL,
    HEAD,
    NO_USAGE,
    USAGE,
    arguments_piece,
    chat_json,
    chat_stream,
    choice_events,
    chunk_event,
    completion,
    counts,
    done,
    message,
    outcome,
    status,
    text_stream_events,
    warning,
)

DAY = 86_400


def now() -> int:
    return int(time.time())


def created(value: Any) -> Exchange:
    return chat_json(completion(created=value))


def reply(content: Any = "OK", usage: Any = USAGE, finish: str = "stop", **fields: Any) -> dict[str, Any]:
    """A completion whose one choice says `content` (with further message fields), with `usage`."""
    choice = {"index": 0, "message": {"role": "assistant", "content": content, **fields}, "finish_reason": finish}
    return completion(choices=[choice], usage=usage, created=now())


def text_stream(*pieces: str, usage: Any = USAGE, index: int = 0, key: str = "content") -> list[bytes]:
    """One choice's events (without [DONE]): role, a delta per piece, the finish carrying `usage` (None: none)."""
    return choice_events(*({key: piece} for piece in pieces), usage=NO_USAGE if usage is None else usage, index=index)


# CHAT015: created is the Unix time in seconds


@pytest.mark.parametrize("value", [None, "1764547200", 1.5e9, True])
def test_chat015_is_not_applicable_to_a_created_that_is_no_integer(value: Any) -> None:
    assert status("CHAT015", created(value)) is Status.NOT_APPLICABLE  # CHAT001's


def test_chat015_is_not_applicable_to_an_error() -> None:
    assert status("CHAT015", chat_json(completion(created=1), status=400)) is Status.NOT_APPLICABLE


@pytest.mark.parametrize("offset", [0, -3600, 3600, -DAY + 60, DAY - 60])
def test_chat015_passes_within_a_day_of_the_local_clock(offset: int) -> None:
    assert status("CHAT015", created(now() + offset)) is Status.PASSED


@pytest.mark.parametrize(("factor", "unit"), [(1_000, "milliseconds"), (10**6, "microseconds"), (10**9, "nanoseconds")])
def test_chat015_fails_on_created_in_a_smaller_unit(factor: int, unit: str) -> None:
    result = outcome("CHAT015", created(int(time.time() * factor)))
    assert result.finding is not None and result.finding.severity is Severity.ERROR
    assert f"the time now in {unit}\nExpected: Unix seconds" in result.finding.message


@pytest.mark.parametrize(
    ("value", "shown"),
    [(1, "days from the local clock"), (None, "2.0 days"), (10**30, "over a billion days")],
    ids=["the epoch", "two days ahead", "huge"],
)
def test_chat015_warns_on_created_more_than_a_day_away(value: int | None, shown: str) -> None:
    text = warning("CHAT015", created(value if value is not None else now() + 2 * DAY))
    assert shown in text and "A warning: the local clock may be off" in text


def test_chat015_judges_a_stream_by_its_first_chunk_in_the_fold() -> None:
    milliseconds = int(time.time() * 1000)
    events = [
        event.replace(str(HEAD["created"]).encode(), str(milliseconds).encode()) for event in text_stream_events()
    ]
    fold = chat_stream(events).folded()
    assert fold is not None and "the time now in milliseconds" in message("CHAT015", fold)


# CHAT016: usage counts not zero


def test_chat016_is_a_warning() -> None:
    assert CHECKS["CHAT016"].severity is Severity.WARNING and "facts §12 [O]" in CHECKS["CHAT016"].fact


@pytest.mark.parametrize("usage", [None, "zero"], ids=["no usage", "usage no object"])
def test_chat016_is_not_applicable_without_a_usage_object(usage: Any) -> None:
    assert status("CHAT016", chat_json(reply(usage=usage))) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    "body",
    [reply(), reply("", counts(8, 0), "length"), reply("OK", {"prompt_tokens": "8", "completion_tokens": None})],
    ids=["counts", "nothing produced, nothing counted", "counts no integers (SCHM001's)"],
)
def test_chat016_passes_on_plausible_counts(body: dict[str, Any]) -> None:
    assert status("CHAT016", chat_json(body)) is Status.PASSED


@pytest.mark.parametrize(
    ("body", "received"),
    [
        (reply("OK", counts(0, 0)), "prompt_tokens 0, completion_tokens 0 for 2 characters of output"),
        (reply("OK", counts(0, 2)), "Received: prompt_tokens 0 (usage"),
        (reply("", counts(8, 0), reasoning_content="Hmm."), "completion_tokens 0 for 4 characters of output"),
        (reply(None, counts(8, 0), "tool_calls", tool_calls=[CALL]), "completion_tokens 0 for 17 characters"),
    ],
    ids=["all zero", "prompt zero", "reasoning uncounted", "tool arguments uncounted"],
)
def test_chat016_warns_on_zero_counts(body: dict[str, Any], received: str) -> None:
    assert received in message("CHAT016", chat_json(body))


def test_chat016_judges_the_fold_of_a_stream_with_zero_usage() -> None:
    fold = chat_stream(text_stream_events(usage=counts(0, 0))).folded()
    assert fold is not None and "prompt_tokens 0, completion_tokens 0" in message("CHAT016", fold)


# CHNK010: stream deltas within the tokens


def test_chnk010_is_a_warning_resting_on_the_max_tokens_fact() -> None:
    assert CHECKS["CHNK010"].severity is Severity.WARNING and "facts §3.2 [S][D]" in CHECKS["CHNK010"].fact


@pytest.mark.parametrize("variant", ["not a stream", "error status", "no response"])
def test_chnk010_is_not_applicable_without_a_successful_stream(variant: str) -> None:
    streamed = chat_json(reply()) if variant == "not a stream" else chat_stream(max_tokens=0)
    streamed.status = {"error status": 500, "no response": None}.get(variant, streamed.status)
    assert status("CHNK010", streamed) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    ("events", "request_fields"),
    [
        (text_stream_events(), {}),
        ([*text_stream("a ", "b ", usage=counts(8, 2)), done()], {"max_tokens": 2}),
        ([*text_stream("a", " ", "\n", "b", usage=counts(8, 2)), done()], {"max_completion_tokens": 2}),
        ([*text_stream(*"abcdef", usage=None), done()], {}),
        ([*text_stream(*"abc", usage={**counts(8, 1), "completion_tokens": "1"}), done()], {}),
    ],
    ids=["conformant", "as many deltas as tokens", "whitespace deltas not counted", "no usage, no cap", "no count"],
)
def test_chnk010_passes_within_the_tokens(events: list[bytes], request_fields: dict[str, Any]) -> None:
    assert status("CHNK010", chat_stream(events, **request_fields)) is Status.PASSED


def test_chnk010_warns_on_more_deltas_than_max_tokens_even_without_usage() -> None:
    """A live server ignored max_completion_tokens=64 and streamed 263 deltas, with no usage to show it."""
    streamed = chat_stream([*text_stream(*["word "] * 263, usage=None), done()], max_completion_tokens=64)
    text = warning("CHNK010", streamed)
    assert "263 text deltas in choice 0\nExpected: at most 64 (max tokens 64" in text


def test_chnk010_takes_max_completion_tokens_over_max_tokens() -> None:
    streamed = chat_stream([*text_stream(*"abc", usage=None), done()], max_completion_tokens=2, max_tokens=16)
    assert "at most 2" in message("CHNK010", streamed)


@pytest.mark.parametrize("key", ["content", "reasoning_content"])
def test_chnk010_warns_on_more_deltas_than_completion_tokens(key: str) -> None:
    streamed = chat_stream([*text_stream(*"abcde", usage=counts(8, 3), key=key), done()])
    assert "5 text deltas in choice 0 with completion_tokens 3" in message("CHNK010", streamed)


def test_chnk010_counts_tool_call_argument_pieces() -> None:
    first = {"index": 0, "id": "call_0", "type": "function", "function": {"name": "f", "arguments": ""}}
    pieces = [arguments_piece(piece) for piece in ('{"a"', ": 1", "}")]
    deltas = [{"tool_calls": [fragment]} for fragment in [first, *pieces]]
    events = [*choice_events(*deltas, finish="tool_calls", usage=counts(8, 2)), done()]
    assert "3 text deltas in choice 0 with completion_tokens 2" in message("CHNK010", chat_stream(events))


def test_chnk010_judges_each_choice_by_its_own_usage() -> None:
    events = [*text_stream("a", "b", usage=counts(8, 2)), *text_stream("a", "b", "c", usage=counts(8, 2), index=1)]
    assert "3 text deltas in choice 1 with completion_tokens 2" in message("CHNK010", chat_stream([*events, done()]))


def test_chnk010_judges_all_choices_by_the_usage_chunk_when_the_choices_carry_none() -> None:
    events = [*text_stream("a", "b", usage=None), *text_stream("c", "d", usage=None, index=1)]
    short = chunk_event(usage=counts(8, 3))  # a `choices: []` chunk
    text = message("CHNK010", chat_stream([*events, short, done()]))
    assert "4 text deltas in all choices with completion_tokens 3" in text
    enough = chunk_event(usage=counts(8, 4))
    assert status("CHNK010", chat_stream([*events, enough, done()])) is Status.PASSED
