"""The one stream pipeline: a stream is decoded once per exchange, whoever reads it (every stream check, the fold
and the non-streaming checks on it, the budget's usage reader), and nothing in the package reads SSE or bodies
line by line with `str.splitlines()` (which ends lines at U+2028, U+0085, form feeds...)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kimi_conformance
from kimi_conformance.budget import usage_in
from kimi_conformance.checks import CHECKS, CheckContext, Status
from kimi_conformance.chunks import read_stream, view
from kimi_conformance.drift.traffic import analyse
from kimi_conformance.runner.session import ConformanceSession
from kimi_conformance.sse import SSEDecoder
from tests.checks.exchanges import USAGE, chat_stream, chunk_event, done, text_stream_events

PACKAGE = Path(kimi_conformance.__file__).parent


def test_no_module_of_the_package_calls_splitlines() -> None:
    calls = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "splitlines"
    ]
    assert calls == []


def test_a_stream_of_100_000_lf_only_events_is_decoded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    decoders: list[SSEDecoder] = []

    def counting_decoder() -> SSEDecoder:
        decoders.append(SSEDecoder())
        return decoders[-1]

    monkeypatch.setattr(view, "SSEDecoder", counting_decoder)
    piece = chunk_event({"index": 0, "delta": {"content": "a "}, "finish_reason": None})
    events = [*text_stream_events()[:1], piece * 100_000, *text_stream_events()[1:]]
    exchange = chat_stream(events)
    session = ConformanceSession(CheckContext(), frozenset(CHECKS))
    usage = usage_in(exchange)  # the budget reads it first, as the client does
    judgement = session.check(exchange)
    assert len(decoders) == 1
    assert not judgement and usage is not None and usage.prompt_tokens == USAGE["prompt_tokens"]
    assert len(exchange.stream().events) == 100_004
    stream_checks = {o.code for o in session.outcomes if o.code.startswith(("SSE", "CHNK"))}
    assert stream_checks == {c for c in CHECKS if c.startswith(("SSE", "CHNK"))}
    assert all(o.status is not Status.CRASHED for o in session.outcomes)


def test_the_fold_concatenates_per_choice_and_per_call_and_takes_the_usage_chunk() -> None:
    fragments = [
        {"index": 0, "id": "f:0", "type": "function", "function": {"name": "f", "arguments": '{"a"'}},
        {"index": 0, "function": {"arguments": ": 1}"}},
    ]
    body = b"".join(
        [
            chunk_event({"index": 0, "delta": {"role": "assistant", "reasoning_content": "think"}}),
            chunk_event({"index": 0, "delta": {"content": "A"}}, {"index": 1, "delta": {"content": "B"}}),
            chunk_event({"index": 0, "delta": {"tool_calls": fragments}, "finish_reason": "tool_calls"}),
            chunk_event({"index": 1, "delta": {}, "finish_reason": "stop"}),
            chunk_event(usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}),
            done(),
        ]
    )
    completion = read_stream(body).completion
    assert completion is not None
    first, second = completion["choices"]
    assert first["message"]["reasoning_content"] == "think" and first["message"]["content"] == "A"
    assert first["message"]["tool_calls"] == [
        {"id": "f:0", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
    ]
    assert second == {"index": 1, "message": {"role": "assistant", "content": "B"}, "finish_reason": "stop"}
    assert completion["usage"]["total_tokens"] == 3


def test_events_that_are_not_strict_json_objects_are_kept_apart() -> None:
    streamed = read_stream(b'data: {"x": NaN}\n\ndata: [1]\n\ndata: [DONE]\n\ndata: {"late": 1}\n\n')
    assert [number for number, _ in streamed.not_objects] == [0, 1]
    assert streamed.chunks == [] and streamed.done == [2] and streamed.completion is None


def test_traffic_drift_reads_streams_through_the_pipeline() -> None:
    """A chunk field split across lines by U+2028 would be lost by a splitlines reader; drift still sees it."""
    extra = chunk_event({"index": 0, "delta": {"content": "a\u2028b"}, "finish_reason": None}, x_vendor=True)
    body = b"".join([*text_stream_events()[:1], extra, *text_stream_events()[1:]]).decode()
    record = {"operation": "createChatCompletion", "status": 200, "body": body,
              "response_headers": {"content-type": "text/event-stream"}}  # fmt: skip
    found = {(d.kind, d.where) for d in analyse([record])}
    assert ("undocumented-field", "chunk.x_vendor") in found
