"""Streaming chat completions (facts §3.10): SSE framing, the `[DONE]` sentinel, and the chunk grammar —
identity, delta order per choice, tool-call fragments, finish_reason, and Moonshot-style usage."""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable
from typing import Any

from kimi_conformance import strict_json
from kimi_conformance.checks.chat import (
    FINISH_REASONS,
    expected_indexes,
    judge_arguments,
    requested_n,
    requested_tools,
)
from kimi_conformance.checks.context import CheckContext
from kimi_conformance.checks.guards import brief, streamed_request
from kimi_conformance.checks.registry import check
from kimi_conformance.checks.runner import NotApplicable
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Severity, Violation

CHAT = ["createChatCompletion"]


@check(
    "SSE001",
    "Stream is not text/event-stream",
    "#/components/schemas/ChatCompletionStreamEvent",
    fact="facts §3.10 [D]; WHATWG SSE [standard]",
    operations=CHAT,
)
def stream_content_type(ctx: CheckContext, exchange: Exchange) -> None:
    """A request with `stream: true` is answered `Content-Type: text/event-stream`."""
    streamed_request(exchange)
    if exchange.content_type != "text/event-stream":
        received = exchange.response_headers.get("content-type", "<none>")
        raise Violation(f"Received: Content-Type {received}\nExpected: text/event-stream")


@check(
    "SSE002",
    "Stream framing broken",
    "#/components/schemas/ChatCompletionStreamEvent",
    fact="WHATWG SSE [standard]; facts §3.10 [D]",
    operations=CHAT,
)
def stream_framing_clean(ctx: CheckContext, exchange: Exchange) -> None:
    """The bytes are valid UTF-8 SSE: every event ends with a blank line and carries data."""
    streamed_request(exchange)
    problems = exchange.stream().problems
    if problems:
        listed = "; ".join(f"{p.kind} at byte {p.offset} ({p.detail})" for p in problems[:5])
        raise Violation(f"Received: {listed}\nExpected: UTF-8 events, each ended by a blank line")


@check(
    "SSE003",
    "Stream not terminated by `data: [DONE]`",
    "#/components/schemas/ChatCompletionStreamEvent",
    fact="facts §3.10 [D][KVV]",
    operations=CHAT,
)
def done_sentinel_terminates_stream(ctx: CheckContext, exchange: Exchange) -> None:
    """The last event is exactly `data: [DONE]`, and nothing follows it; a stream cut before it is incomplete."""
    streamed_request(exchange)
    streamed = exchange.stream()
    events, positions = streamed.events, streamed.done
    if not positions:
        last = events[-1].data[:120] if events else "<no events>"
        raise Violation(f"Received: {len(events)} events, the last `{last}`\nExpected: a final `data: [DONE]`")
    if positions[0] != len(events) - 1:
        raise Violation(f"Received: {len(events) - 1 - positions[0]} event(s) after `[DONE]`\nExpected: none")


@check(
    "SSE004",
    "Stream event is not JSON",
    "#/components/schemas/ChatCompletionChunk",
    fact="facts §3.10 [D]; RFC 8259 [standard]",
    operations=CHAT,
)
def event_data_is_json(ctx: CheckContext, exchange: Exchange) -> None:
    """Every event before `[DONE]` carries a JSON object."""
    streamed_request(exchange)
    not_objects = exchange.stream().not_objects
    if not_objects:
        number, data = not_objects[0]
        raise Violation(f"Received: event #{number} `{data[:120]}`\nExpected: a JSON chunk object")


@check(
    "CHNK001",
    "Chunk identity inconsistent",
    "#/components/schemas/ChatCompletionChunk",
    fact="facts §3.10 [D]; facts §3.9 [D]",
    operations=CHAT,
)
def chunk_identity_consistent(ctx: CheckContext, exchange: Exchange) -> None:
    """Every chunk is a `chat.completion.chunk` with the same id, an integer `created`, and the requested model."""
    request = streamed_request(exchange)
    chunks = exchange.stream().chunks
    if not chunks:
        raise NotApplicable
    objects = _distinct(c.get("object") for c in chunks)
    ids = _distinct(c.get("id") for c in chunks)
    models = _distinct(c.get("model") for c in chunks)
    created_ok = all(isinstance(c.get("created"), int) and not isinstance(c.get("created"), bool) for c in chunks)
    requested = _distinct([request.get("model")])
    if objects != {"chat.completion.chunk"} or len(ids) != 1 or models != requested or not created_ok:
        raise Violation(
            f"Received: object {_shown(objects)}, {len(ids)} id(s), model {_shown(models)}, "
            f"created integers: {created_ok}\nExpected: chat.completion.chunk, one id, model "
            f"{request.get('model')!r}, integer created"
        )


def _distinct(values: Iterable[Any]) -> set[Any]:
    """The distinct values; a list or an object (which a set cannot hold) as its JSON text in a 1-tuple, which
    equals no JSON scalar."""
    return {value if isinstance(value, Hashable) else (json.dumps(value, sort_keys=True),) for value in values}


def _shown(values: set[Any]) -> list[str]:
    """Distinct values (`_distinct`) as sorted text."""
    return sorted(value[0] if isinstance(value, tuple) else str(value) for value in values)


@check(
    "CHNK002",
    "Choice index or role out of place",
    "#/components/schemas/ChatCompletionChunk",
    fact="facts §3.10 [D]",
    operations=CHAT,
)
def role_only_in_first_delta(ctx: CheckContext, exchange: Exchange) -> None:
    """Choice indexes are 0..n-1, and `role: assistant` comes in each choice's first delta only.

    A later delta's `"role": null` is no finding at all: null names no role, so nothing is repeated (the common
    OpenAI-compatible chunk shape, where every optional field is sent as null). Not even a warning: the self-test
    and `--strict` count every finding, and a conformant stream must give none. A role *value* in a later delta
    still fails, as does a first delta without `role`.
    """
    request = streamed_request(exchange)
    choices = exchange.stream().choices
    n = requested_n(request)
    if len(choices) != n or sorted(choices) != list(range(n)):  # the count first: n may be huge
        raise Violation(f"Received: choice indexes {sorted(choices)}\nExpected: {expected_indexes(n)}")
    for index, state in choices.items():
        nulls = set(state.null_roles)
        placed = [number for number in state.roles if number == 0 or number not in nulls]
        if placed != [0]:
            raise Violation(
                f"Received: role in delta(s) at {placed} of choice {index}\nExpected: in the first delta only"
            )


@check(
    "CHNK003",
    "Delta order wrong",
    "#/components/schemas/ChatCompletionChunk",
    fact="facts §3.10 [D]; facts §3.7 [D]",
    operations=CHAT,
)
def deltas_in_documented_order(ctx: CheckContext, exchange: Exchange) -> None:
    """Per choice: reasoning_content deltas before any content, content before any tool_calls."""
    streamed_request(exchange)
    rank = {"reasoning_content": 0, "content": 1, "tool_calls": 2}
    for index, state in exchange.stream().choices.items():
        ranks = [rank[k] for k in state.kinds]
        if ranks != sorted(ranks):
            first = next(i for i in range(1, len(ranks)) if ranks[i] < ranks[i - 1])
            raise Violation(
                f"Received: {state.kinds[first]} after {state.kinds[first - 1]} in choice {index}\n"
                "Expected: reasoning_content, then content, then tool_calls"
            )


@check(
    "CHNK004",
    "Tool-call fragments malformed",
    "#/components/schemas/ToolCallDelta",
    fact="facts §3.10 [D]; facts §3.6 [S][D]",
    operations=CHAT,
)
def tool_call_fragments_well_formed(ctx: CheckContext, exchange: Exchange) -> None:
    """A call's first fragment has id, type and function name; later ones only argument pieces; the assembled
    arguments are JSON valid against the tool's schema (only a JSON object when the tool says `strict: false`)."""
    request = streamed_request(exchange)
    tools = requested_tools(request)
    for index, state in exchange.stream().choices.items():
        for call_index, fragments in state.calls.items():
            first, rest = fragments[0], fragments[1:]
            function: dict[str, Any] = first.get("function") or {}
            # a `function` that is no object crashes `.get` here: the documented check boundary (test_boundary.py)
            if not first.get("id") or first.get("type") != "function" or not _is_name(function.get("name")):
                raise Violation(
                    f"Received: first fragment {brief(first)} of call {call_index} (choice {index})\n"
                    "Expected: index, id, type function and function.name"
                )
            extra = [f for f in rest if f.get("id") or (f.get("function") or {}).get("name")]
            if extra:  # clients concatenate per index: a repeated id or name corrupts the call
                raise Violation(f"Received: later fragment {brief(extra[0])}\nExpected: only index and arguments")
            typed = [f for f in rest if f.get("type")]
            if typed:  # against the documented grammar, but harmless to clients that concatenate arguments only
                raise Violation(
                    f"Received: later fragment {brief(typed[0])}\nExpected: only index and arguments",
                    severity=Severity.WARNING,
                )
            arguments = "".join(str((f.get("function") or {}).get("arguments") or "") for f in fragments)
            name = function["name"]
            tool = tools.get(name)
            if tool is None or tool.get("type") == "builtin_function":
                continue
            try:
                value = strict_json.loads(arguments)
            except ValueError:
                raise Violation(f"Received: assembled arguments {arguments[:120]!r}\nExpected: JSON") from None
            judge_arguments(tool, value, name)


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


@check(
    "CHNK005",
    "finish_reason wrong in stream",
    "#/components/schemas/FinishReason",
    fact="facts §3.10 [D]; facts §3.9 [S]",
    operations=CHAT,
)
def one_finish_reason_per_choice(ctx: CheckContext, exchange: Exchange) -> None:
    """Each choice has exactly one non-null finish_reason, in the documented set, and no deltas after it."""
    streamed_request(exchange)
    for index, state in exchange.stream().choices.items():
        reasons = [reason for _, reason in state.finish]
        if len(reasons) != 1 or not isinstance(reasons[0], str) or reasons[0] not in FINISH_REASONS:
            raise Violation(
                f"Received: finish_reason(s) {reasons} for choice {index}\n"
                "Expected: exactly one of stop, length, tool_calls"
            )
        if state.after_finish:
            raise Violation(
                f"Received: {state.after_finish} delta(s) after finish_reason in choice {index}\nExpected: none"
            )
        if (reasons[0] == "tool_calls") != bool(state.calls):
            raise Violation(
                f"Received: finish_reason {reasons[0]} with {len(state.calls)} tool call(s)\n"
                "Expected: tool_calls exactly when the stream carried tool calls"
            )


def _usage_ok(usage: Any) -> bool:
    if not isinstance(usage, dict):
        return False
    prompt, completion, total = (usage.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens"))
    if not (isinstance(prompt, int) and isinstance(completion, int) and isinstance(total, int)):
        return False
    return total == prompt + completion


@check(
    "CHNK006",
    "Usage missing from the final choice chunk",
    "#/components/schemas/ChatCompletionChunk",
    fact="facts §3.10 [D]",
    operations=CHAT,
)
def usage_in_final_choice_chunk(ctx: CheckContext, exchange: Exchange) -> None:
    """Moonshot style: each choice's finishing chunk carries `usage` inside the choice, total = prompt + completion."""
    streamed_request(exchange)
    streamed = exchange.stream()
    if any(not state.usage for state in streamed.choices.values()) and any(u for _, u, _ in streamed.top_usage):
        raise NotApplicable  # OpenAI-style usage only: CHNK007 names that difference
    for index, state in streamed.choices.items():
        if len(state.usage) != 1 or not _usage_ok(state.usage[0]):
            raise Violation(
                f"Received: {len(state.usage)} usage object(s) in choice {index}: "
                f"{brief(state.usage)}\nExpected: one, in the finishing chunk, total = prompt + completion"
            )


@check(
    "CHNK007",
    "Usage OpenAI-style only (not in the choice)",
    "#/components/schemas/ChatCompletionChunk",
    fact="facts §3.10 [D]",
    operations=CHAT,
)
def usage_not_only_openai_style(ctx: CheckContext, exchange: Exchange) -> None:
    """A target that reports usage only in a `choices: []` chunk follows OpenAI, not Moonshot (usage in the choice)."""
    streamed_request(exchange)
    streamed = exchange.stream()
    missing = [index for index, state in streamed.choices.items() if not state.usage]
    if missing and any(u for _, u, _ in streamed.top_usage):
        raise Violation(
            f"Received: no usage in choice(s) {missing}; usage only in a top-level chunk\n"
            "Expected: usage inside each choice's finishing chunk (Moonshot style)"
        )


@check(
    "CHNK008",
    "include_usage chunk wrong",
    "#/components/schemas/ChatCompletionChunk",
    fact="facts §3.2 [S][D]; facts §3.10 [S][I]",
    operations=CHAT,
)
def include_usage_chunk(ctx: CheckContext, exchange: Exchange) -> None:
    """With `stream_options.include_usage`, exactly one `choices: []` chunk with usage comes last; no other chunk
    carries a top-level usage other than null.

    Two branches are warnings (facts §3.10): "other chunks carry `usage: null`" is the published spec's text, which
    the facts mark OpenAI's wording, unverified for Moonshot ([S] against [I], §11.7); and with several choices,
    how the usage chunk totals them (prompt_tokens once, completion_tokens summed) is [I]. The errors come first."""
    request = streamed_request(exchange)
    options = request.get("stream_options") or {}
    if not isinstance(options, dict):
        raise NotApplicable  # stream_options that are no object (the request's problem)
    streamed = exchange.stream()
    wanted = options.get("include_usage") is True
    usage_chunks = [(position, usage) for position, usage, empty in streamed.top_usage if empty and usage]
    others = [position for position, usage, empty in streamed.top_usage if not empty and usage is not None]
    if not wanted and usage_chunks:
        raise Violation("Received: a `choices: []` usage chunk without include_usage\nExpected: none")
    if wanted:
        last = len(streamed.chunks) - 1
        if len(usage_chunks) != 1 or usage_chunks[0][0] != last or not _usage_ok(usage_chunks[0][1]):
            raise Violation(
                f"Received: usage chunk(s) at {[p for p, _ in usage_chunks]} of {last + 1} chunks\n"
                "Expected: one `choices: []` chunk with consistent usage, last before [DONE]"
            )
        per_choice = [state.usage[0] for state in streamed.choices.values() if state.usage]
        total = usage_chunks[0][1]
        several = len(streamed.choices) > 1
        if per_choice and (
            total.get("prompt_tokens") != per_choice[0].get("prompt_tokens")
            or total.get("completion_tokens") != _completion_sum(per_choice)
        ):
            raise Violation(
                f"Received: usage chunk {brief(total)} for choice usage {brief(per_choice)}\n"
                "Expected: the same prompt_tokens, and completion_tokens summed over the choices"
                + (
                    "\nA warning: the facts give each choice its usage, not how the usage chunk totals several "
                    "(facts §3.10 [D], the total [I])"
                    if several
                    else ""
                ),
                severity=Severity.WARNING if several else None,
            )
    if others:
        raise Violation(
            f"Received: top-level usage in chunk(s) {others[:5]} with choices\nExpected: null there\n"
            "A warning: the published spec says every other chunk carries `usage: null`, but the facts mark that "
            "OpenAI's wording, unverified for Moonshot (facts §3.10 [S][I], §11.7)",
            severity=Severity.WARNING,
        )


def _completion_sum(usages: list[dict[str, Any]]) -> int | None:
    """The choices' completion_tokens added up (a missing count as 0); None when one is no number."""
    try:
        return sum(int(usage.get("completion_tokens") or 0) for usage in usages)
    except (TypeError, ValueError, OverflowError):
        return None


@check(
    "CHNK009",
    "Stream and non-stream answers differ in shape",
    "#/components/schemas/ChatCompletionChunk",
    fact="facts §3.10 [I]",
    severity=Severity.WARNING,
    operations=CHAT,
)
def stream_matches_non_stream(ctx: CheckContext, exchange: Exchange) -> None:
    """The same request streamed and not streamed gives the same choices and finish reasons (text may differ;
    a warning, since live models need not repeat themselves)."""
    streamed_request(exchange)
    other = exchange.related.get("non_stream")
    if other is None or other.status != 200:
        raise NotApplicable
    try:
        whole = other.json()
        expected = {c["index"]: c["finish_reason"] for c in whole["choices"]}
    except (ValueError, KeyError, TypeError):
        raise NotApplicable from None
    streamed = {
        index: (state.finish[0][1] if state.finish else None) for index, state in exchange.stream().choices.items()
    }
    if streamed != expected:
        raise Violation(f"Received: streamed finish reasons {streamed}\nExpected: {expected} as without streaming")
