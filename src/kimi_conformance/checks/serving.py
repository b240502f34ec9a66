"""Serving defects seen on real Kimi deployments (facts §12): the chat template's markup leaked into the text,
and reasoning lost on a model that thinks. Both judge the `chat.completion`, so a stream is judged by its fold."""

from __future__ import annotations

import json
import re
from typing import Any

from kimi_conformance.checks.context import CheckContext
from kimi_conformance.checks.guards import brief, choices_of, completion_of, message_of
from kimi_conformance.checks.registry import check
from kimi_conformance.checks.runner import NotApplicable
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Severity, Violation
from kimi_conformance.rules import ModelInfo
from kimi_conformance.rules.request_rules import thinking_on

CHAT = ["createChatCompletion"]
MARKUP = re.compile(r"<\|[A-Za-z_][A-Za-z0-9_.-]{0,63}\|>|</?think>")
"""Kimi's chat-template tokens (`<|im_end|>`, `<|tool_calls_section_begin|>`, ... any `<|name|>`) and the `<think>`
tags a model prints when no reasoning parser runs: what a serving stack must turn into fields, never pass on."""
EXCERPT = 60
"""Characters shown on each side of a leaked token."""
_FIRM_SOURCE = re.compile(r"\[(?:D|S|KVV)\b")


def calls_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The message's tool calls that are objects (CHAT009 judges a `tool_calls` that is no list)."""
    calls = message.get("tool_calls")
    return [call for call in calls if isinstance(call, dict)] if isinstance(calls, list) else []


def texts_of(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, text) for every text a message carries: content, reasoning_content, each call's arguments."""
    texts = [(key, message[key]) for key in ("content", "reasoning_content") if isinstance(message.get(key), str)]
    for number, call in enumerate(calls_of(message)):
        function = call.get("function")
        arguments = function.get("arguments") if isinstance(function, dict) else None
        if isinstance(arguments, str):
            texts.append((f"arguments of tool call {number}", arguments))
    return texts


def _excerpt(text: str, start: int, end: int) -> str:
    left, right = max(0, start - EXCERPT), min(len(text), end + EXCERPT)
    return ("..." if left else "") + text[left:right] + ("..." if right < len(text) else "")


@check(
    "CHAT013",
    "Serving markup leaked into the answer",
    "#/components/schemas/ChatCompletionMessage",
    fact="facts §3.6 [D]; facts §3.7 [D]; facts §12 [O]",
    operations=CHAT,
)
def no_serving_markup(ctx: CheckContext, exchange: Exchange) -> None:
    """No chat-template token (`<|tool_call_begin|>`, `<|im_end|>`, any `<|name|>`) nor `<think>` tag in the text.

    Tool calls come back in `tool_calls` with finish_reason tool_calls (facts §3.6), reasoning in `reasoning_content`
    (facts §3.7): markup in `content`, `reasoning_content` or tool `arguments` is a serving stack that passed the
    model's raw output on (vLLM, Ollama, LiteLLM, SGLang... facts §12). A token the request itself contains is not
    held against the answer (a prompt may ask about such tokens; the suite's prompts never do)."""
    request, body = completion_of(exchange)
    asked = json.dumps(request, ensure_ascii=False, default=str)
    for choice in choices_of(body):
        for where, text in texts_of(message_of(choice)):
            leaked = next((found for found in MARKUP.finditer(text) if found.group() not in asked), None)
            if leaked is not None:
                raise Violation(
                    f"Received: {leaked.group()} in {where} of choice {choice.get('index')}: "
                    f"{_excerpt(text, leaked.start(), leaked.end())!r}\n"
                    "Expected: tool calls in `tool_calls` (finish_reason tool_calls), reasoning in "
                    "`reasoning_content`, and no chat-template markup in any text"
                )


def _thinking_firm(model: ModelInfo) -> bool:
    """Whether that the model thinks rests on a firm fact: its source in the rules table names [D], [S] or [KVV],
    and the table does not mark its thinking rules as applied by inference (`inferred_rules`)."""
    return bool(_FIRM_SOURCE.search(model.source)) and not model.infers("thinking.")


def _produced(choice: dict[str, Any]) -> bool:
    """Whether a choice produced anything: text, reasoning or a tool call."""
    message = message_of(choice)
    return bool(message.get("content") or message.get("reasoning_content") or calls_of(message))


def _partial(request: dict[str, Any]) -> bool:
    messages = request.get("messages")
    last = messages[-1] if isinstance(messages, list) and messages else None
    return isinstance(last, dict) and last.get("role") == "assistant" and last.get("partial") is True


@check(
    "CHAT014",
    "Reasoning missing from a thinking model",
    "#/components/schemas/ChatCompletionMessage/properties/reasoning_content",
    fact="facts §3.7 [D]; facts §3.1 [D][S]; facts §12 [O]",
    operations=CHAT,
)
def reasoning_when_thinking(ctx: CheckContext, exchange: Exchange) -> None:
    """A model that thinks for this request returns non-empty reasoning_content (in a stream: reasoning deltas).

    The rules table says which models think for which `thinking` (always-thinking models, kimi-k2.6 by default,
    K3); CHAT010 is the converse. A choice cut before any output (finish_reason length, nothing produced) is not
    judged. `reasoning_content: null` on every frame of a thinking model is the SGLang defect (facts §12). A
    warning on a model whose thinking the table takes from [O] or [I] sources only (kimi-k3.1-pro), and in partial
    mode, where the facts do not say whether a thinking model reasons before continuing the prefix (facts §3.5)."""
    request, body = completion_of(exchange)
    model = ctx.model(request.get("model"))
    if model is None or not thinking_on(request, model):
        raise NotApplicable
    for choice in choices_of(body):
        if choice.get("finish_reason") == "length" and not _produced(choice):
            continue  # cut before any output: there was no room for reasoning
        reasoning = message_of(choice).get("reasoning_content")
        if isinstance(reasoning, str) and reasoning:
            continue
        why = (
            f"that {model.id} thinks rests on {model.source}"
            if not _thinking_firm(model)
            else "the facts do not say whether a thinking model reasons in partial mode (facts §3.5)"
            if _partial(request)
            else ""
        )
        raise Violation(
            f"Received: reasoning_content {brief(reasoning)} in choice {choice.get('index')} from {model.id} with "
            f"thinking {brief(request.get('thinking'))}\nExpected: non-empty reasoning_content (streamed: "
            "reasoning_content deltas before the content)" + (f"\nA warning: {why}" if why else ""),
            severity=Severity.WARNING if why else None,
        )
