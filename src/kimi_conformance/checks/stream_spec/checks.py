"""The checks KVV's stream-spec adds (CHNK015-CHNK024): what verifiers §5 asks beyond the documented stream
grammar the other stream checks hold (SSE001-SSE004, CHNK001-CHNK009).

Resting on §5 (known second-hand: [O]) or on other [O] and [I] facts, each is a warning; where §5 repeats a [D] or
[S] fact, the check of that fact holds it as an error (`cases.KVV_STREAM_SPEC` says which).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from kimi_conformance.checks.context import CheckContext
from kimi_conformance.checks.guards import brief, status_of, stream_of
from kimi_conformance.checks.registry import CheckFunction, check
from kimi_conformance.checks.runner import NotApplicable
from kimi_conformance.chunks import StreamView
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Severity, Violation

CHAT = ["createChatCompletion"]
SPEC = "verifiers §5 [O]"
"""The fact every check here rests on: KVV's stream-spec, known second-hand."""


def _spec_warning(code: str, title: str, spec: str, *, fact: str = SPEC) -> Callable[[CheckFunction], CheckFunction]:
    """`@check` for the checks of this module: each a warning on chat completions, resting on §5 (and on what else
    `fact` cites)."""
    return check(code, title, spec, fact=fact, severity=Severity.WARNING, operations=CHAT)


def _is_count(value: Any) -> bool:
    """A token count: a non-negative integer, not a boolean."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _choice_frames(streamed: StreamView) -> Iterator[tuple[int, dict[str, Any]]]:
    """(chunk position, choice) for every choice object of every chunk, in order."""
    for position, chunk in enumerate(streamed.chunks):
        listed = chunk.get("choices")
        for choice in listed if isinstance(listed, list) else ():
            if isinstance(choice, dict) and isinstance(choice.get("index"), int):
                yield position, choice


def _delta(choice: dict[str, Any]) -> dict[str, Any]:
    delta = choice.get("delta")
    return delta if isinstance(delta, dict) else {}


def _detail(usage: dict[str, Any], group: str, key: str) -> Any:
    details = usage.get(group)
    return details.get(key) if isinstance(details, dict) else None


def _detail_problems(usage: dict[str, Any]) -> list[str]:
    """What is missing from or inconsistent in one usage object's token details."""
    problems = []
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    cached = _detail(usage, "prompt_tokens_details", "cached_tokens")
    reasoning = _detail(usage, "completion_tokens_details", "reasoning_tokens")
    if not _is_count(cached):
        problems.append(f"prompt_tokens_details.cached_tokens {brief(cached)}")
    elif _is_count(prompt) and cached > prompt:
        problems.append(f"prompt_tokens_details.cached_tokens {cached} > prompt_tokens {prompt}")
    elif "cached_tokens" in usage and usage["cached_tokens"] != cached:
        problems.append(
            f"cached_tokens {brief(usage['cached_tokens'])} != prompt_tokens_details.cached_tokens {cached}"
        )
    if not _is_count(reasoning):
        problems.append(f"completion_tokens_details.reasoning_tokens {brief(reasoning)}")
    elif _is_count(completion) and reasoning > completion:
        problems.append(f"completion_tokens_details.reasoning_tokens {reasoning} > completion_tokens {completion}")
    return problems


@_spec_warning(
    "CHNK015",
    "Usage token details missing from the final frames",
    "#/components/schemas/Usage",
    fact=f"{SPEC}; facts §3.9 [O][I]",
)
def usage_details_on_final_frames(ctx: CheckContext, exchange: Exchange) -> None:
    """Every usage of a stream (each finishing choice chunk's, the `choices: []` chunk's) carries integer
    `prompt_tokens_details.cached_tokens` and `completion_tokens_details.reasoning_tokens`, within the prompt and
    completion counts; a choice's reasoning_tokens are above 0 exactly when it streamed reasoning_content.

    A warning: KVV's stream-spec asks for both (verifiers §5); live k2.6 sends the cached spelling (facts §3.9 [O]),
    and no Moonshot page documents reasoning_tokens (§3.9 [I]). A top-level `cached_tokens` must agree with the
    details. Where usage itself is missing, CHNK006 and CHNK008 say so.
    """
    streamed = stream_of(exchange)
    found: list[tuple[str, dict[str, Any], bool | None]] = []
    for index, state in streamed.choices.items():
        streamed_reasoning = bool("".join(state.reasoning))
        found += [(f"choice {index}", usage, streamed_reasoning) for usage in state.usage]
    found += [(f"chunk {p}", u, None) for p, u, empty in streamed.top_usage if empty and isinstance(u, dict)]
    if not found:
        raise NotApplicable
    for where, usage, reasoned in found:
        problems = _detail_problems(usage)
        reasoning = _detail(usage, "completion_tokens_details", "reasoning_tokens")
        if not problems and reasoned is not None and _is_count(reasoning) and (reasoning > 0) != reasoned:
            problems.append(f"reasoning_tokens {reasoning} with{'' if reasoned else 'out'} reasoning_content streamed")
        if problems:
            raise Violation(
                f"Received: usage of {where}: {'; '.join(problems)}\n"
                "Expected: integer prompt_tokens_details.cached_tokens (<= prompt_tokens) and "
                "completion_tokens_details.reasoning_tokens (<= completion_tokens, 0 without reasoning)\n"
                "A warning: KVV's stream-spec asks for them (verifiers §5 [O]); reasoning_tokens is undocumented "
                "(facts §3.9 [I])"
            )


_CALL_KEYS = ("id", "type")


@_spec_warning(
    "CHNK016", "Tool-call continuation carries more than index and arguments", "#/components/schemas/ToolCallDelta"
)
def tool_call_continuations_minimal(ctx: CheckContext, exchange: Exchange) -> None:
    """A call's later fragments carry `index` and a string `function.arguments`, and no `id`, `type` or
    `function.name` key at all, not even empty or null.

    CHNK004 fails a later fragment repeating an id or a name (facts §3.10 [D]) and warns on a repeated type; this
    warns on what it leaves: the keys present but empty or null (KVV's stream-spec: only `index` and `arguments`,
    verifiers §5 [O]) - the `openai` SDK's accumulator takes a later `type: null` over the call's type - and a
    continuation without string arguments. Unknown extra fields are tolerated.
    """
    for index, state in stream_of(exchange).choices.items():
        for call_index, fragments in state.calls.items():
            for fragment in fragments[1:]:
                raw = fragment.get("function")
                function: dict[str, Any] = raw if isinstance(raw, dict) else {}
                empty = [key for key in _CALL_KEYS if key in fragment and not fragment[key]]
                empty += ["function.name"] if "name" in function and not function["name"] else []
                arguments_ok = isinstance(function.get("arguments"), str)
                if empty or not arguments_ok:
                    shown = f"empty {', '.join(empty)}" if empty else "no string function.arguments"
                    raise Violation(
                        f"Received: later fragment {brief(fragment)} of call {call_index} (choice {index}): {shown}\n"
                        "Expected: only index and function.arguments (a string)\n"
                        "A warning: KVV's stream-spec (verifiers §5 [O])"
                    )


@_spec_warning(
    "CHNK017",
    "Error frame inside a stream",
    "#/components/schemas/ChatCompletionStreamEvent",
    fact=f"{SPEC}; facts §3.10 [I]",
)
def no_error_frame_in_stream(ctx: CheckContext, exchange: Exchange) -> None:
    """No event of a 200 stream is an error: no `event: error` and no chunk carrying an `error` without choices.

    A warning: errors after a stream has started are undocumented (facts §3.10 [I]); KVV's stream-spec wants errors
    before the stream, as a JSON error with its status, and none inside it (verifiers §5 [O]). Clients built on
    the `openai` SDK raise on such a frame and lose what the stream said.
    """
    streamed = stream_of(exchange)
    cut = streamed.done[0] if streamed.done else len(streamed.events)
    typed = [number for number, event in enumerate(streamed.events[:cut]) if event.event == "error"]
    if typed:
        raise Violation(
            f"Received: `event: error` at event #{typed[0]}: {streamed.events[typed[0]].data[:120]!r}\n"
            "Expected: no error event inside a 200 stream\nA warning: verifiers §5 [O], facts §3.10 [I]"
        )
    for position, chunk in enumerate(streamed.chunks):
        if chunk.get("error") is not None and not isinstance(chunk.get("choices"), list):
            raise Violation(
                f"Received: error frame at chunk {position}: {brief(chunk)}\n"
                "Expected: errors before the stream starts (a JSON error with its status), none inside it\n"
                "A warning: verifiers §5 [O], facts §3.10 [I]"
            )


@_spec_warning("CHNK018", "First delta's content is not empty", "#/components/schemas/ChatCompletionChunkDelta")
def first_delta_content_empty(ctx: CheckContext, exchange: Exchange) -> None:
    """Each choice's first delta has a `content` key whose value is `""` or null.

    A warning: the documented first chunk is `{"role": "assistant", "content": ""}` (facts §3.10, an example),
    and KVV's stream-spec asks for the key with `""` or null (verifiers §5 [O]), so clients may read it unguarded.
    """
    streamed = stream_of(exchange)
    seen: set[int] = set()
    for _, choice in _choice_frames(streamed):
        index = choice["index"]
        if index in seen:
            continue
        seen.add(index)
        delta = _delta(choice)
        if "content" not in delta or delta["content"] not in ("", None):
            shown = "no content key" if "content" not in delta else f"content {brief(delta['content'])}"
            raise Violation(
                f"Received: first delta {brief(delta)} of choice {index}: {shown}\n"
                'Expected: content "" or null in the first delta\nA warning: verifiers §5 [O]'
            )
    if not seen:
        raise NotApplicable


_DELTA_FIELDS = ("role", "content", "reasoning_content", "tool_calls", "function_call", "refusal")
"""The fields of a delta that say something; the finishing chunk carries none of them (unknown ones are extras)."""


@_spec_warning("CHNK019", "Finishing chunk carries a delta", "#/components/schemas/ChatCompletionChunkDelta")
def finishing_delta_empty(ctx: CheckContext, exchange: Exchange) -> None:
    """The chunk carrying a choice's finish_reason has an empty delta: no role, content, reasoning or tool calls.

    A warning: the documented final chunk shows `delta: {}` (facts §3.10, an example), and KVV's stream-spec asks
    for `delta == {}` (verifiers §5 [O]): content and finish come in separate frames. Null values and unknown
    fields are tolerated (they say nothing).
    """
    finishing = [(p, c) for p, c in _choice_frames(stream_of(exchange)) if c.get("finish_reason") is not None]
    if not finishing:
        raise NotApplicable
    for position, choice in finishing:
        delta = _delta(choice)
        said = [key for key in _DELTA_FIELDS if delta.get(key) is not None]
        if said:
            raise Violation(
                f"Received: delta {brief(delta)} with finish_reason in chunk {position} (choice {choice['index']})\n"
                "Expected: delta {} in the finishing chunk\nA warning: verifiers §5 [O]"
            )


@_spec_warning("CHNK020", "`created` changes across chunks", "#/components/schemas/ChatCompletionChunk")
def created_constant(ctx: CheckContext, exchange: Exchange) -> None:
    """Every chunk of a stream, the usage chunk included, carries the same `created`.

    A warning: the facts say the id is the same on every chunk (CHNK001, which also holds object and model);
    the same `created` is KVV's stream-spec (verifiers §5 [O]). CHNK001 reports a `created` that is no integer.
    """
    values = [c.get("created") for c in stream_of(exchange).chunks]
    stamps = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    if not stamps:
        raise NotApplicable
    if len(set(stamps)) > 1:
        changed = next(i for i, v in enumerate(values) if v in stamps and v != stamps[0])
        raise Violation(
            f"Received: created {stamps[0]} in the first chunk, {values[changed]} in chunk {changed} "
            f"({len(set(stamps))} values)\nExpected: one created for the whole stream\nA warning: verifiers §5 [O]"
        )


USAGE_HEADERS = {"x-msh-usage-prompt-tokens": "prompt_tokens", "x-msh-usage-cached-tokens": "cached_tokens"}
"""The usage headers (lower case, as exchanges keep them) and the count of the final usage each must equal."""


def _final_usage(exchange: Exchange) -> Any:
    """The usage a chat completion ends with: the body's, or a stream's usage chunk, else its first choice's."""
    if exchange.streamed_completion:
        streamed = exchange.stream()
        top = [usage for _, usage, empty in streamed.top_usage if empty and isinstance(usage, dict)]
        if top:
            return top[-1]
        per_choice = [usage for _, state in sorted(streamed.choices.items()) for usage in state.usage]
        return per_choice[0] if per_choice else None  # n > 1 share the prompt (facts §3.10)
    if exchange.content_type != "application/json":
        return None
    try:
        body = exchange.json()
    except ValueError:
        return None
    return body.get("usage") if isinstance(body, dict) else None


def _expected_count(usage: dict[str, Any], count: str) -> Any:
    if count == "prompt_tokens":
        return usage.get("prompt_tokens")
    cached = _detail(usage, "prompt_tokens_details", "cached_tokens")
    return cached if cached is not None else usage.get("cached_tokens", 0)


@_spec_warning(
    "CHNK021",
    "Usage headers disagree with the usage",
    "#/paths/~1v1~1chat~1completions/post/responses/200",
    fact=f"facts §12 [O]; {SPEC}",
)
def usage_headers_match_usage(ctx: CheckContext, exchange: Exchange) -> None:
    """`X-Msh-Usage-Prompt-Tokens` and `X-Msh-Usage-Cached-Tokens`, when sent, are decimal integers equal to the
    final usage's prompt_tokens and cached tokens (`prompt_tokens_details.cached_tokens`, else `cached_tokens`, else
    0), streamed or not.

    A warning, and only when a header is there: the headers are known second-hand (facts §12 [O], from KVV's
    stream-spec, verifiers §5), in no Moonshot page, and a gateway or proxy may drop vendor headers, so their
    absence says nothing; a header that is sent and disagrees misleads whoever bills by it. Not applicable when
    the answer gives no usage (CHNK006 and CHAT004 judge that).
    """
    if status_of(exchange) != 200:
        raise NotApplicable
    sent = {name: value for name, value in exchange.response_headers.items() if name.lower() in USAGE_HEADERS}
    if not sent:
        raise NotApplicable
    usage = _final_usage(exchange)
    if not isinstance(usage, dict):
        raise NotApplicable
    for name, value in sorted(sent.items()):
        count = USAGE_HEADERS[name.lower()]
        expected = _expected_count(usage, count)
        text = value.strip()
        if not (text.isascii() and text.isdigit()) or int(text) != expected:
            raise Violation(
                f"Received: {name}: {value[:40]} for usage {count} {brief(expected)}\n"
                f"Expected: the final usage's {count}, as a decimal integer\n"
                "A warning: the headers are known second-hand (facts §12 [O], verifiers §5)"
            )


@_spec_warning("CHNK022", "Tool-call indexes not 0, 1, 2 in order", "#/components/schemas/ToolCallDelta")
def tool_call_indexes_in_order(ctx: CheckContext, exchange: Exchange) -> None:
    """Per choice, the tool calls' `index` values first appear as 0, 1, 2, and so on, each new one one more than
    the last.

    A warning: KVV's stream-spec (verifiers §5 [O]). Clients that put fragments in a list by `index` (the `openai`
    SDK's accumulator among them) split a call whose indexes start above 0 or skip one.
    """
    for index, state in stream_of(exchange).choices.items():
        order = list(state.calls)
        if order != list(range(len(order))):
            raise Violation(
                f"Received: tool-call indexes {order[:10]} in choice {index}\n"
                f"Expected: {list(range(len(order)))[:10]}\nA warning: verifiers §5 [O]"
            )


@_spec_warning("CHNK023", "Usage on a middle chunk", "#/components/schemas/ChatCompletionChunkChoice")
def usage_only_on_finishing_chunk(ctx: CheckContext, exchange: Exchange) -> None:
    """A choice carries `usage` only in the chunk with its finish_reason, never in a chunk before it.

    A warning: KVV's stream-spec (no usage on middle frames, verifiers §5 [O]); CHNK006 counts one usage per
    choice, CHNK008 judges the top-level usage of chunks with choices.
    """
    for position, choice in _choice_frames(stream_of(exchange)):
        if choice.get("usage") is not None and choice.get("finish_reason") is None:
            raise Violation(
                f"Received: usage {brief(choice['usage'])} in chunk {position} of choice {choice['index']}, "
                "which has no finish_reason\nExpected: usage only in the finishing chunk\n"
                "A warning: verifiers §5 [O]"
            )


def _broken(text: str) -> str | None:
    """The first character of `text` no whole character stands for: U+FFFD or a lone surrogate."""
    return next((c for c in text if c == "\ufffd" or 0xD800 <= ord(c) <= 0xDFFF), None)


@_spec_warning("CHNK024", "Delta text carries a broken character", "#/components/schemas/ChatCompletionChunkDelta")
def deltas_whole_characters(ctx: CheckContext, exchange: Exchange) -> None:
    """No content or reasoning_content delta carries U+FFFD or a lone surrogate: a character split across frames
    is sent whole, in one of them.

    A warning: KVV's stream-spec (UTF-8-safe concatenation, verifiers §5 [O]); bytes that are not UTF-8 at all
    are SSE002's. A model may write U+FFFD itself, rarely: the suites never ask it to.
    """
    for index, state in stream_of(exchange).choices.items():
        for kind, pieces in (("content", state.content), ("reasoning_content", state.reasoning)):
            for number, piece in enumerate(pieces):
                bad = _broken(piece)
                if bad is not None:
                    raise Violation(
                        f"Received: {kind} piece #{number} {piece[:60]!a} of choice {index} carries "
                        f"{bad!a}\nExpected: whole characters in every delta\nA warning: verifiers §5 [O]"
                    )
