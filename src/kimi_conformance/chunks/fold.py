"""Folding a traced stream into the `chat.completion` it stands for, so a stream can be held to the same schema
and semantic checks as a non-streaming response (facts §3.10: deltas concatenate per choice, tool call fragments
per index, usage from the `choices: []` chunk or else the final choice chunks)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kimi_conformance.chunks.view import ChoiceTrace, StreamView


def fold(view: StreamView) -> dict[str, Any] | None:
    """The `chat.completion` a stream amounts to, or None for a stream with no chunks."""
    if not view.chunks:
        return None
    head = view.chunks[0]
    choices = {
        index: state
        for index, state in sorted(view.choices.items())
        if state.content or state.reasoning or state.calls or state.finish
    }
    top = [usage for _, usage, empty in view.top_usage if empty and isinstance(usage, dict)]
    per_choice = [usage for state in view.choices.values() for usage in state.usage]
    usage = top[-1] if top else _choice_usage(per_choice)
    return {
        "id": head.get("id"),
        "object": "chat.completion",
        "created": head.get("created"),
        "model": head.get("model"),
        "choices": [_choice(index, state) for index, state in choices.items()],
        **({"usage": usage} if usage is not None else {}),
    }


def _choice(index: int, state: ChoiceTrace) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": "".join(state.content)}
    if state.reasoning:
        message["reasoning_content"] = "".join(state.reasoning)
    if state.calls:
        message["tool_calls"] = [_call(state.calls[i]) for i in sorted(state.calls)]
    return {"index": index, "message": message, "finish_reason": state.finish[-1][1] if state.finish else None}


def _call(fragments: list[dict[str, Any]]) -> dict[str, Any]:
    """One tool call from its fragments: the first id, type and name given; the arguments concatenated."""
    call: dict[str, Any] = {"id": None, "type": None, "function": {"name": None, "arguments": ""}}
    for fragment in fragments:
        call["id"] = call["id"] or fragment.get("id")
        call["type"] = call["type"] or fragment.get("type")
        raw = fragment.get("function")
        function: dict[str, Any] = raw if isinstance(raw, dict) else {}
        call["function"]["name"] = call["function"]["name"] or function.get("name")
        call["function"]["arguments"] += str(function.get("arguments") or "")
    return call


def _choice_usage(per_choice: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one choice's usage as reported, else the choices' together (n > 1 share the prompt and add their
    completions, facts §3.10)."""
    if len(per_choice) <= 1:
        return per_choice[0] if per_choice else None
    prompt = per_choice[0].get("prompt_tokens")
    completion = sum(_count(u.get("completion_tokens")) for u in per_choice)
    totals = sum(_count(u.get("total_tokens")) for u in per_choice)
    shared = (len(per_choice) - 1) * _count(prompt)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": totals - shared}


def _count(value: Any) -> int:
    """A token count as reported, or 0 when it is not a number (the checks judge that)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0
    return int(value)
