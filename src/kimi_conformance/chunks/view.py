"""A streamed chat completion read once: SSE events → JSON chunks → per-choice traces (facts §3.10).

`read_stream(body)` decodes the bytes with the one SSE decoder, parses each event with the one strict JSON
reader, and walks the chunks once, recording per choice what its deltas said in order. Every stream check, the
fold into a `chat.completion`, the budget's usage reader and traffic drift read this view; an `Exchange` builds
it at most once (`Exchange.stream()`). Nothing here raises on a garbled stream: what is wrong is kept as data
for the checks to judge.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from kimi_conformance import strict_json
from kimi_conformance.chunks.fold import fold
from kimi_conformance.sse import FramingProblem, ServerSentEvent, SSEDecoder

DONE = "[DONE]"
MAX_STREAM_EVENTS = 200_000
"""Events read from one stream at most (a body within the transport's byte cap can still hold over a million
tiny events, each kept as objects); the rest is not read, and the view says so (`cut`: HTTP005)."""
FEED_BYTES = 64 * 1024
DELTA_KINDS = ("reasoning_content", "content", "tool_calls")
"""The meaningful parts of a delta, in the order a choice may send them."""


@dataclass(slots=True)
class ChoiceTrace:
    """What one choice's deltas said, in order."""

    kinds: list[str] = field(default_factory=list)
    """The meaningful parts of each delta, in the order they came (`DELTA_KINDS`)."""
    deltas: int = 0
    """How many deltas the choice has had (chunks naming its index, meaningful or not)."""
    roles: list[int] = field(default_factory=list)
    """Numbers (0 = the choice's first, counting every delta) of the deltas that carried `role`."""
    null_roles: list[int] = field(default_factory=list)
    """Those of `roles` whose `role` was null (which names no role)."""
    finish: list[tuple[int, Any]] = field(default_factory=list)
    """(chunk position, finish_reason) for every non-null finish_reason."""
    after_finish: int = 0
    """Meaningful deltas that came after a finish_reason."""
    usage: list[dict[str, Any]] = field(default_factory=list)
    """Usage objects inside the choice (Moonshot style)."""
    calls: dict[int, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    """Tool-call fragments per call index, in order."""
    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)


@dataclass(slots=True)
class StreamView:
    """One stream, decoded and traced."""

    events: list[ServerSentEvent]
    problems: list[FramingProblem]
    """Framing problems the decoder found (SSE002)."""
    chunks: list[dict[str, Any]]
    """The JSON-object chunks before `[DONE]`, in order."""
    not_objects: list[tuple[int, str]]
    """(event number, data) of events before `[DONE]` that are not a JSON object (SSE004)."""
    done: list[int]
    """Event numbers of every `[DONE]` event."""
    choices: dict[int, ChoiceTrace]
    top_usage: list[tuple[int, Any, bool]]
    """(chunk position, usage value, whether the chunk has `choices: []`) for chunks carrying `usage`."""
    cut: str | None = None
    """Why the events were not all read (MAX_STREAM_EVENTS), if they were not."""
    _completion: dict[str, Any] | None = None
    _folded: bool = False

    @property
    def completion(self) -> dict[str, Any] | None:
        """The `chat.completion` this stream amounts to (`fold`), or None for a stream with no chunks."""
        if not self._folded:
            self._completion, self._folded = fold(self), True
        return self._completion


def read_stream(body: bytes) -> StreamView:
    """Decode, parse and trace a stream body, up to MAX_STREAM_EVENTS events."""
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    cut = None
    for start in range(0, len(body), FEED_BYTES):
        events += decoder.feed(body[start : start + FEED_BYTES])
        if len(events) > MAX_STREAM_EVENTS:
            cut = f"more than {MAX_STREAM_EVENTS:,} events: read up to byte {start + FEED_BYTES:,} of {len(body):,}"
            del events[MAX_STREAM_EVENTS:]
            break
    else:
        events += decoder.close()
    chunks: list[dict[str, Any]] = []
    not_objects: list[tuple[int, str]] = []
    done: list[int] = []
    shared = strict_json.sharing()  # the chunks of a stream repeat their keys, ids and model: keep them once
    for number, event in enumerate(events):
        if event.data == DONE:
            done.append(number)
            continue
        if done:
            continue  # after [DONE]: SSE003 counts these, nothing reads them
        try:
            value = strict_json.loads(event.data, shared)
        except ValueError:
            value = None
        if isinstance(value, dict):
            chunks.append(value)
        else:
            not_objects.append((number, event.data))
    choices, top_usage = _trace(chunks)
    return StreamView(events, list(decoder.problems), chunks, not_objects, done, choices, top_usage, cut)


def _trace(chunks: list[dict[str, Any]]) -> tuple[dict[int, ChoiceTrace], list[tuple[int, Any, bool]]]:
    choices: dict[int, ChoiceTrace] = defaultdict(ChoiceTrace)
    top_usage = []
    for position, chunk in enumerate(chunks):
        listed = chunk.get("choices")
        if "usage" in chunk:
            top_usage.append((position, chunk["usage"], listed == []))
        for choice in listed if isinstance(listed, list) else ():
            if isinstance(choice, dict) and _is_index(choice.get("index")):
                _delta(choices[choice["index"]], position, choice)
    return dict(choices), top_usage


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _delta(state: ChoiceTrace, position: int, choice: dict[str, Any]) -> None:
    raw = choice.get("delta")
    delta: dict[str, Any] = raw if isinstance(raw, dict) else {}
    present = [kind for kind in DELTA_KINDS if delta.get(kind)]
    if state.finish and (present or delta.get("role")):
        state.after_finish += 1
    if "role" in delta:
        state.roles.append(state.deltas)
        if delta["role"] is None:
            state.null_roles.append(state.deltas)
    state.deltas += 1
    state.kinds += present
    if isinstance(delta.get("content"), str):
        state.content.append(delta["content"])
    if isinstance(delta.get("reasoning_content"), str):
        state.reasoning.append(delta["reasoning_content"])
    fragments = delta.get("tool_calls")
    for fragment in fragments if isinstance(fragments, list) else ():
        if isinstance(fragment, dict) and _is_index(fragment.get("index")):
            state.calls[fragment["index"]].append(fragment)
    if choice.get("finish_reason") is not None:
        state.finish.append((position, choice.get("finish_reason")))
    if isinstance(choice.get("usage"), dict):
        state.usage.append(choice["usage"])
