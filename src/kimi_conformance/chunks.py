"""Folding a chat completion stream into the `chat.completion` it stands for, so a stream can be held to the
same schema and semantic checks as a non-streaming response (facts §3.10: deltas concatenate per choice, tool
call fragments per index, usage from the final choice chunk or else the `choices: []` chunk)."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from kimi_conformance.exchange import Exchange

DONE = "[DONE]"


def stream_chunks(exchange: Exchange) -> list[dict[str, Any]]:
    """The JSON chunks of a streamed exchange, up to `[DONE]` (undecodable events are skipped here: SSE004)."""
    events, _ = exchange.sse()
    chunks = []
    for event in events:
        if event.data == DONE:
            break
        try:
            value = json.loads(event.data)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            chunks.append(value)
    return chunks


def fold(chunks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The `chat.completion` a stream amounts to, or None for a stream with no chunks."""
    if not chunks:
        return None
    head = chunks[0]
    content: dict[int, list[str]] = defaultdict(list)
    reasoning: dict[int, list[str]] = defaultdict(list)
    calls: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
    finish: dict[int, Any] = {}
    top_usage: dict[str, Any] | None = None
    choice_usage: list[dict[str, Any]] = []
    for chunk in chunks:
        if isinstance(chunk.get("usage"), dict) and chunk.get("choices") == []:
            top_usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict) or not isinstance(choice.get("index"), int):
                continue
            index = choice["index"]
            delta = choice.get("delta") if isinstance(choice.get("delta"), dict) else {}
            assert isinstance(delta, dict)
            if isinstance(delta.get("content"), str):
                content[index].append(delta["content"])
            if isinstance(delta.get("reasoning_content"), str):
                reasoning[index].append(delta["reasoning_content"])
            for fragment in delta.get("tool_calls") or []:
                if isinstance(fragment, dict) and isinstance(fragment.get("index"), int):
                    _merge_fragment(calls[index], fragment)
            if choice.get("finish_reason") is not None:
                finish[index] = choice["finish_reason"]
            if isinstance(choice.get("usage"), dict):
                choice_usage.append(choice["usage"])
    indexes = sorted(set(content) | set(reasoning) | set(calls) | set(finish))
    return {
        "id": head.get("id"),
        "object": "chat.completion",
        "created": head.get("created"),
        "model": head.get("model"),
        "choices": [_choice(i, content, reasoning, calls, finish) for i in indexes],
        **({"usage": usage} if (usage := _usage(top_usage, choice_usage)) is not None else {}),
    }


def _merge_fragment(calls: dict[int, dict[str, Any]], fragment: dict[str, Any]) -> None:
    call = calls.setdefault(fragment["index"], {"id": None, "type": None, "function": {"name": None, "arguments": ""}})
    call["id"] = call["id"] or fragment.get("id")
    call["type"] = call["type"] or fragment.get("type")
    function = fragment.get("function") if isinstance(fragment.get("function"), dict) else {}
    assert isinstance(function, dict)
    call["function"]["name"] = call["function"]["name"] or function.get("name")
    call["function"]["arguments"] += str(function.get("arguments") or "")


def _usage(top: dict[str, Any] | None, per_choice: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The completion's usage: the `choices: []` chunk's when present, else the one choice's as reported, else
    the choices' together (n > 1 share the prompt and add their completions, facts §3.10)."""
    if top is not None:
        return top
    if len(per_choice) <= 1:
        return per_choice[0] if per_choice else None
    prompt = per_choice[0].get("prompt_tokens")
    completion = sum(int(u.get("completion_tokens") or 0) for u in per_choice)
    totals = sum(int(u.get("total_tokens") or 0) for u in per_choice)
    shared = (len(per_choice) - 1) * int(prompt or 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": totals - shared}


def _choice(
    index: int,
    content: dict[int, list[str]],
    reasoning: dict[int, list[str]],
    calls: dict[int, dict[int, dict[str, Any]]],
    finish: dict[int, Any],
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": "".join(content.get(index, []))}
    if index in reasoning:
        message["reasoning_content"] = "".join(reasoning[index])
    if calls.get(index):
        message["tool_calls"] = [calls[index][i] for i in sorted(calls[index])]
    return {"index": index, "message": message, "finish_reason": finish.get(index)}


def folded_exchange(exchange: Exchange) -> Exchange | None:
    """A JSON exchange carrying the folded completion, for the non-streaming checks; None if nothing to fold."""
    completion = fold(stream_chunks(exchange))
    if completion is None:
        return None
    request = dict(exchange.request_json) if isinstance(exchange.request_json, dict) else None
    if request is not None:  # the folded body is judged as a non-streaming answer to the same request
        request.pop("stream", None)
        request.pop("stream_options", None)
    return Exchange(
        operation=exchange.operation,
        method=exchange.method,
        url=exchange.url,
        request_headers=exchange.request_headers,
        request_json=request,
        request_text=exchange.request_text,
        status=exchange.status,
        response_headers={"content-type": "application/json"},
        body=json.dumps(completion).encode(),
        related=exchange.related,
    )
