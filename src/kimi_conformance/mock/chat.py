"""Chat completions: the non-streaming body and the SSE chunk sequence, both from the same choice plans."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kimi_conformance.mock.config import MockConfig
from kimi_conformance.mock.defects import null_reasoning, serving_defects
from kimi_conformance.mock.generation import ChoicePlan, pieces, plan_choice
from kimi_conformance.mock.request import ChatRequest
from kimi_conformance.mock.variations import null_roles
from kimi_conformance.tokenizer import count_text


@dataclass(frozen=True, slots=True)
class Completion:
    """A planned completion: identity, choices and prompt accounting."""

    id: str
    created: int
    request: ChatRequest
    choices: list[ChoicePlan]
    cached_tokens: int
    usage_off_by_one: bool = False
    prompt_excludes_cached: bool = False
    """`prompt-tokens-exclude-cached`: prompt_tokens without the cached tokens (they are part of it, facts §3.9)."""
    usage_zero: bool = False
    """`usage-all-zero`: every count reported as 0 (K2VV #9, facts §12)."""
    model_label: str = ""
    """The `model` the body reports (the requested id unless a fault says otherwise)."""
    counts: tuple[tuple[int, int], ...] = ()
    """(completion tokens, reasoning tokens) of each choice, in order: counted once, read by every usage."""

    def usage(self, choice: ChoicePlan | None = None) -> dict[str, Any]:
        """Usage of one choice (stream final chunk) or of all choices together."""
        counted = list(zip(self.choices, self.counts or [_counts(plan) for plan in self.choices], strict=True))
        chosen = [count for plan, count in counted if choice is None or plan is choice]
        completion = sum(tokens for tokens, _ in chosen)
        prompt = self.request.prompt_tokens - (self.cached_tokens if self.prompt_excludes_cached else 0)
        if self.usage_zero:
            return {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion + (1 if self.usage_off_by_one else 0),
            "cached_tokens": self.cached_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens},
            "completion_tokens_details": {"reasoning_tokens": sum(reasoning for _, reasoning in chosen)},
        }


def _counts(plan: ChoicePlan) -> tuple[int, int]:
    return plan.completion_tokens, count_text(plan.reasoning or "")


def plan_completion(request: ChatRequest, config: MockConfig, cached_tokens: int) -> Completion:
    """Decide every choice of a request, deterministically."""
    ident = "cmpl-" + hashlib.sha256(request.seed_material + b"%d" % time.time_ns()).hexdigest()[:32]  # one hash
    n = 1 if config.has_fault("n-ignored") else request.n
    choices = [serving_defects(plan_choice(request, index, config.seed, config.faults), config) for index in range(n)]
    model = request.model.family.name if config.has_fault("model-not-echoed") else request.model.id
    return Completion(
        id=ident,
        created=int(time.time() * (1000 if config.has_fault("created-in-milliseconds") else 1)),
        request=request,
        choices=choices,
        cached_tokens=0 if config.has_fault("cache-never-hits") else cached_tokens,
        usage_off_by_one=config.has_fault("usage-total-wrong"),
        prompt_excludes_cached=config.has_fault("prompt-tokens-exclude-cached"),
        usage_zero=config.has_fault("usage-all-zero"),
        model_label=model,
        counts=tuple(_counts(plan) for plan in choices),
    )


def _message(plan: ChoicePlan) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": plan.content}
    if plan.reasoning is not None:
        message["reasoning_content"] = plan.reasoning
    if plan.tool_calls:
        message["tool_calls"] = [
            {"index": i, "id": call.id, "type": call.type, "function": {"name": call.name, "arguments": call.arguments}}
            for i, call in enumerate(plan.tool_calls)
        ]
    return message


def completion_body(completion: Completion) -> dict[str, Any]:
    """The `chat.completion` object (facts §3.9)."""
    return {
        "id": completion.id,
        "object": "chat.completion",
        "created": completion.created,
        "model": completion.model_label,
        "choices": [
            {"index": plan.index, "message": _message(plan), "finish_reason": plan.finish_reason}
            for plan in completion.choices
        ],
        "usage": completion.usage(),
    }


def _deltas(plan: ChoicePlan, config: MockConfig) -> Iterator[dict[str, Any]]:
    """The deltas of one choice in the documented order: role, reasoning, content, tool calls."""
    role = {"role": "assistant"} if config.has_fault("stream-role-repeated") else {}
    yield {"role": "assistant", "content": ""}
    reasoning = [{**role, "reasoning_content": piece} for piece in pieces(plan.reasoning or "")]
    content = [{**role, "content": piece} for piece in pieces(plan.content)]
    if config.has_fault("stream-content-before-reasoning"):
        yield from content + reasoning
    else:
        yield from reasoning + content
    named = config.has_fault("stream-tool-fragments-repeat-name")
    for i, call in enumerate(plan.tool_calls):
        yield {
            "tool_calls": [
                {"index": i, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}
            ]
        }
        fragments = _argument_pieces(call.arguments)
        if config.has_fault("stream-tool-args-fragment-lost"):
            fragments = fragments[:-1]  # the last fragment never sent: the joined arguments are no JSON
        for piece in fragments:
            function = {"name": call.name, "arguments": piece} if named else {"arguments": piece}
            yield {"tool_calls": [{"index": i, "function": function}]}


def _argument_pieces(arguments: str, size: int = 8) -> list[str]:
    return [arguments[i : i + size] for i in range(0, len(arguments), size)]


def chunk_head(completion: Completion) -> dict[str, Any]:
    """What every chunk of the stream opens with: id, object, created and model, in that order."""
    return {
        "id": completion.id,
        "object": "chat.completion.chunk",
        "created": completion.created,
        "model": completion.model_label,
    }


def stream_chunks(completion: Completion, config: MockConfig) -> Iterator[dict[str, Any]]:
    """Every `chat.completion.chunk` of the stream, choices interleaved, each ending with its usage (facts §3.10)."""
    head = chunk_head(completion)
    for choices, usage in stream_parts(completion, config):
        yield {**head, "choices": choices} if usage is None else {**head, "choices": choices, "usage": usage}


def stream_parts(completion: Completion, config: MockConfig) -> Iterator[tuple[list[dict[str, Any]], Any]]:
    """What tells the chunks of `stream_chunks` apart: each one's `choices`, and its top-level `usage` (None for a
    chunk without one)."""
    deltas_of = [null_roles(list(_deltas(plan, config)), config) for plan in completion.choices]
    per_choice = [null_reasoning(deltas, config) for deltas in deltas_of]
    longest = max(len(deltas) for deltas in per_choice)
    early_finish = config.has_fault("stream-finish-reason-early")
    for step in range(longest):
        for plan, deltas in zip(completion.choices, per_choice, strict=True):
            if step < len(deltas):
                early = plan.finish_reason if step == 1 and early_finish else None
                yield [{"index": plan.index, "delta": deltas[step], "finish_reason": early}], None
    top_level_only = config.has_fault("stream-usage-top-level-only")
    no_usage = config.has_fault("stream-usage-missing")
    for plan in completion.choices:
        reason = plan.finish_reason
        if reason == "stop" and config.has_fault("stream-finish-reason-differs"):
            reason = "length"
        final: dict[str, Any] = {"index": plan.index, "delta": {}, "finish_reason": reason}
        if not (top_level_only or no_usage):
            final["usage"] = completion.usage(plan)
        yield [final], None
    unasked = config.has_fault("stream-usage-chunk-unasked")
    if (completion.request.include_usage or top_level_only or unasked) and not no_usage:
        yield [], completion.usage()
