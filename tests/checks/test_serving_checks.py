"""In-process unit tests of the serving-defect checks (CHAT013 markup leaked, CHAT014 reasoning missing from a
thinking model): per check, not applicable, passing on a conformant answer, and failing on each distinct way it
can fail, non-streamed and on the fold of a stream, on synthetic exchanges (no server, no network)."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_conformance.checks import CHECKS, CheckContext, Status
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Severity
from tests.checks.exchanges import (
    CALL,
    answer,
    chat_json,
    chat_request,
    chat_stream,
    choice_events,
    completion,
    done,
    exchange,
    message,
    outcome,
    status,
    warning,
)

CODES = ["CHAT013", "CHAT014"]
THINKING = "kimi-k2.6"
TOOL_MARKUP = [
    "<|tool_calls_section_begin|>",
    "<|tool_call_begin|>",
    "<|tool_call_argument_begin|>",
    "<|tool_call_end|>",
    "<|tool_calls_section_end|>",
]
TEMPLATE_TOKENS = ["<|im_end|>", "<|im_user|>", "<|im_assistant|>", "<|im_system|>", "<|im_middle|>", "<|media_begin|>"]


def thinking(body: dict[str, Any] | None = None, model: str = THINKING, **request: Any) -> Exchange:
    """A completion of `model` (thinking by default), reasoning unless `body` says otherwise."""
    body = body if body is not None else answer("OK", model=model, reasoning_content="Let me think.")
    return chat_json(body, model=model, **request)


def folded(*deltas: dict[str, Any], model: str = THINKING, finish: str = "stop", **request: Any) -> Exchange:
    """The fold of a one-choice stream of `deltas` from `model`."""
    streamed = chat_stream([*choice_events(*deltas, finish=finish, model=model), done()], model=model, **request)
    fold = streamed.folded()
    assert fold is not None
    return fold


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("variant", ["error status", "event-stream answer", "request not an object", "no choices"])
def test_serving_checks_are_not_applicable_without_a_successful_json_completion(code: str, variant: str) -> None:
    body = answer("OK", model=THINKING) if variant != "no choices" else completion(model=THINKING, choices=None)
    chat = exchange(
        "createChatCompletion",
        body,
        status=500 if variant == "error status" else 200,
        content_type="text/event-stream" if variant == "event-stream answer" else "application/json",
        request=None if variant == "request not an object" else chat_request(model=THINKING),
    )
    assert status(code, chat) is Status.NOT_APPLICABLE


def test_serving_checks_are_errors_citing_their_facts() -> None:
    assert all(CHECKS[code].severity is Severity.ERROR for code in CODES)
    assert CHECKS["CHAT013"].fact == "facts §3.6 [D]; facts §3.7 [D]; facts §12 [O]"
    assert "facts §3.7 [D]" in CHECKS["CHAT014"].fact


# CHAT013: serving markup leaked


@pytest.mark.parametrize(
    "body",
    [
        answer("Sunny, 21 degrees."),
        answer(None, "tool_calls", tool_calls=[CALL]),
        answer("a <| b |> c, x<|y, <thinking> and <think >", reasoning_content="I think | so > I am"),
    ],
    ids=["text", "tool call", "look-alikes"],
)
def test_chat013_passes_on_text_and_calls_without_markup(body: dict[str, Any]) -> None:
    assert status("CHAT013", chat_json(body)) is Status.PASSED


@pytest.mark.parametrize("token", [*TOOL_MARKUP, *TEMPLATE_TOKENS, "<think>", "</think>"])
def test_chat013_fails_on_a_token_leaked_into_content(token: str) -> None:
    text = message("CHAT013", chat_json(answer(f"Let me call it. {token}functions.get_weather:0")))
    assert f"Received: {token} in content of choice 0" in text
    assert "Expected: tool calls in `tool_calls` (finish_reason tool_calls)" in text


def test_chat013_fails_on_markup_in_reasoning_content() -> None:
    body = answer("OK", reasoning_content="The user wants weather.<|im_end|>")
    assert "<|im_end|> in reasoning_content of choice 0" in message("CHAT013", chat_json(body))


def test_chat013_fails_on_markup_in_tool_arguments() -> None:
    leaky = {**CALL, "function": {"name": "get_weather", "arguments": '{"city": "Paris"}<|tool_call_end|>'}}
    body = answer(None, "tool_calls", tool_calls=[CALL, leaky])
    assert "<|tool_call_end|> in arguments of tool call 1 of choice 0" in message("CHAT013", chat_json(body))


def test_chat013_shows_the_leak_in_context() -> None:
    content = "x" * 100 + "<|tool_calls_section_begin|>" + "y" * 100
    text = message("CHAT013", chat_json(answer(content)))
    assert "'..." + "x" * 60 + "<|tool_calls_section_begin|>" + "y" * 60 + "...'" in text


def test_chat013_does_not_hold_a_token_the_request_contains_against_the_answer() -> None:
    """A prompt about the chat template may be answered with its tokens (the suite's prompts never mention them);
    another token still fails."""
    asked = [{"role": "user", "content": "What does <|im_end|> mean?"}]
    assert status("CHAT013", chat_json(answer("<|im_end|> ends a message."), messages=asked)) is Status.PASSED
    body = answer("<|im_end|> ends a message, <think> opens reasoning.")
    assert "<think> in content" in message("CHAT013", chat_json(body, messages=asked))


def test_chat013_finds_markup_split_across_stream_deltas_in_the_fold() -> None:
    fold = folded({"content": "Calling <|tool_calls_"}, {"content": "section_begin|>functions.get_weather:0"})
    assert "<|tool_calls_section_begin|> in content of choice 0" in message("CHAT013", fold)


def test_chat013_finds_think_tags_printed_in_streamed_content() -> None:
    fold = folded({"content": "<think>The user"}, {"content": " wants OK.</think>"}, {"content": "OK"})
    assert "<think> in content" in message("CHAT013", fold)


# CHAT014: reasoning missing from a thinking model


@pytest.mark.parametrize(
    ("model", "request_fields"),
    [
        ("kimi-k2-turbo-preview", {}),
        (THINKING, {"thinking": {"type": "disabled"}}),
        ("not-a-known-model", {}),
    ],
    ids=["non-thinking model", "thinking disabled", "unknown model"],
)
def test_chat014_is_not_applicable_where_the_model_does_not_think(model: str, request_fields: dict[str, Any]) -> None:
    chat = thinking(answer("OK", model=model), model=model, **request_fields)
    assert status("CHAT014", chat) is Status.NOT_APPLICABLE


@pytest.mark.parametrize("model", ["kimi-k2-thinking", THINKING, "kimi-k2.7-code", "kimi-k3"])
def test_chat014_passes_on_reasoning_from_a_thinking_model(model: str) -> None:
    assert status("CHAT014", thinking(model=model)) is Status.PASSED


def test_chat014_passes_on_a_choice_cut_before_any_output() -> None:
    assert status("CHAT014", thinking(answer("", "length", model=THINKING))) is Status.PASSED


@pytest.mark.parametrize(
    ("body", "received"),
    [
        (answer("OK", model=THINKING), "reasoning_content null in choice 0"),
        (answer("OK", model=THINKING, reasoning_content=None), "reasoning_content null in choice 0"),
        (answer("OK", model=THINKING, reasoning_content=""), 'reasoning_content "" in choice 0'),
        (answer("Once upon", "length", model=THINKING), "reasoning_content null in choice 0"),
        (answer(None, "tool_calls", model=THINKING, tool_calls=[CALL]), "reasoning_content null in choice 0"),
    ],
    ids=["absent", "null", "empty", "cut after some content", "tool call"],
)
def test_chat014_fails_on_no_reasoning_from_a_thinking_model(body: dict[str, Any], received: str) -> None:
    result = outcome("CHAT014", thinking(body))
    assert result.finding is not None and result.finding.severity is Severity.ERROR
    assert received in result.finding.message and "from kimi-k2.6 with thinking null" in result.finding.message


def test_chat014_fails_on_a_stream_with_reasoning_content_null_on_every_frame() -> None:
    """The SGLang defect (facts §12): the fold of such a stream has no reasoning_content."""
    fold = folded({"reasoning_content": None, "content": "O"}, {"reasoning_content": None, "content": "K"})
    assert "Expected: non-empty reasoning_content (streamed: reasoning_content deltas" in message("CHAT014", fold)
    assert status("CHAT014", folded({"reasoning_content": "Hm."}, {"content": "OK"})) is Status.PASSED


def test_chat014_judges_k3_whatever_its_thinking_object_says() -> None:
    """kimi-k3 always reasons (the table: `always`): a `thinking` object cannot turn that off."""
    chat = thinking(answer("OK", model="kimi-k3"), model="kimi-k3", thinking={"type": "disabled"})
    assert "from kimi-k3" in message("CHAT014", chat)


def test_chat014_warns_on_a_model_whose_thinking_rests_on_observation_only() -> None:
    """kimi-k3.1-pro thinks by [O] sources only (the table: `facts §12 [O]`, every rule inferred): a warning naming
    that; on kimi-k3 (KVV's tests) and kimi-k2.7-code (the thinking guide, [D]) an error."""
    source = CheckContext().rules.models["kimi-k3.1-pro"].source
    text = warning("CHAT014", thinking(answer("OK", model="kimi-k3.1-pro"), model="kimi-k3.1-pro"))
    assert f"A warning: that kimi-k3.1-pro thinks rests on {source}" in text
    for firm in ("kimi-k3", "kimi-k2.7-code"):
        found = outcome("CHAT014", thinking(answer("OK", model=firm), model=firm)).finding
        assert found is not None and found.severity is Severity.ERROR, firm


def test_chat014_warns_in_partial_mode() -> None:
    partial = [{"role": "user", "content": "Tell a story"}, {"role": "assistant", "content": "Once", "partial": True}]
    text = warning("CHAT014", thinking(answer(" upon a time", model=THINKING), messages=partial))
    assert "reasons in partial mode (facts §3.5)" in text


def test_chat014_knows_a_target_model_through_its_alias() -> None:
    chat = thinking(answer("OK", model="gw-k26"), model="gw-k26")
    assert status("CHAT014", chat) is Status.NOT_APPLICABLE
    assert "from kimi-k2.6" in message("CHAT014", chat, CheckContext(aliases={"gw-k26": THINKING}))
