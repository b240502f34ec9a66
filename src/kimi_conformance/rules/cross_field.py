"""Rules over several fields of a chat request that JSON Schema cannot state (listed in openapi/README.md).

Shared by the mock (which enforces them with 400) and the suite (whose generated valid requests must not break
them). Messages follow the observed style (facts §3.6, §9).
"""

from __future__ import annotations

from typing import Any

from kimi_conformance.rules.table import ModelInfo
from kimi_conformance.tokenizer import count_prompt

MAX_STOP_BYTES = 32
TOKEN_LIMIT = "Your request exceeded model token limit: {limit}"  # observed spelling [O]


def max_output_tokens(body: dict[str, Any]) -> int | None:
    """The requested output cap: `max_completion_tokens`, else the deprecated `max_tokens` (2.0 counts as 2)."""
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
    return None


def cross_field_problems(body: dict[str, Any], model: ModelInfo, thinking: bool) -> list[str]:
    """Rules over several fields that the contract cannot state in JSON Schema (listed in openapi/README.md).

    `body` must already be valid against the model's request schema."""
    problems: list[str] = []
    prompt_tokens = count_prompt(body["messages"], body.get("tools"))
    max_tokens = max_output_tokens(body)
    if prompt_tokens > model.context_length:
        problems.append("Invalid request: Input token length too long")
    elif max_tokens is not None and prompt_tokens + max_tokens > model.context_length:
        problems.append(TOKEN_LIMIT.format(limit=model.context_length))
    messages: list[dict[str, Any]] = body.get("messages") or []
    names = [tool.get("function", {}).get("name") for tool in body.get("tools") or []]
    problems += [f"function name {name} is duplicated" for name in sorted({n for n in names if names.count(n) > 1})]
    for stop in [body["stop"]] if isinstance(body.get("stop"), str) else body.get("stop") or []:
        if len(stop.encode()) > MAX_STOP_BYTES:
            problems.append(f"Invalid request: stop sequence {stop[:16]!r} is longer than {MAX_STOP_BYTES} bytes")
    for index, message in enumerate(messages):
        if message.get("partial") is True and (index != len(messages) - 1 or message.get("role") != "assistant"):
            problems.append(
                "Invalid request: only the last message may be partial, and it must be an assistant message"
            )
    open_calls: set[str] = set()
    for index, message in enumerate(messages):
        role = message.get("role")
        if role == "tool":
            if message.get("tool_call_id") not in open_calls:
                problems.append(f"Invalid request: tool_call_id {message.get('tool_call_id')} not found")
            open_calls.discard(message.get("tool_call_id", ""))
            continue
        if open_calls:
            problems.append(f"Invalid request: tool calls {sorted(open_calls)} have no tool message")
            open_calls = set()
        calls = message.get("tool_calls") or [] if role == "assistant" else []
        open_calls = {call.get("id", "") for call in calls}
        if calls and thinking and not message.get("reasoning_content"):
            problems.append(
                f"thinking is enabled but reasoning_content is missing in assistant tool call message at index {index}"
            )
    if open_calls:
        problems.append(f"Invalid request: tool calls {sorted(open_calls)} have no tool message")
    return problems
