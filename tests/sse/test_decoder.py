"""The SSE decoder: a framing matrix in the style of openai-python's tests, and a hypothesis round trip."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_conformance.sse import ServerSentEvent, SSEDecoder, aiter_events, iter_events

ENDINGS = [b"\n", b"\r", b"\r\n"]


def decode(chunks: list[bytes], asynchronous: bool = False) -> tuple[list[ServerSentEvent], SSEDecoder]:
    decoder = SSEDecoder()
    if not asynchronous:
        return list(iter_events(chunks, decoder)), decoder

    async def source() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    async def collect() -> list[ServerSentEvent]:
        return [event async for event in aiter_events(source(), decoder)]

    return asyncio.run(collect()), decoder


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("ending", ENDINGS, ids=["LF", "CR", "CRLF"])
def test_every_chunk_boundary(asynchronous: bool, ending: bytes) -> None:
    frame = b"data: ok" + ending + ending + b"data:second" + ending + ending
    for split in range(len(frame) + 1):
        events, decoder = decode([frame[:split], b"", frame[split:]], asynchronous)
        assert [e.data for e in events] == ["ok", "second"], split
        assert decoder.problems == []


def test_unicode_line_separators_are_not_line_ends() -> None:
    data = 'data: {"content":"a\u2028b\u0085c\x0bd\x1ce"}\n\n'.encode()
    events, _ = decode([data])
    assert events == [ServerSentEvent(data='{"content":"a\u2028b\u0085c\x0bd\x1ce"}')]


@pytest.mark.parametrize("split", range(1, 4))
def test_utf8_split_across_chunks(split: int) -> None:
    encoded = "data: 月亮🌙\n\n".encode()
    cut = encoded.index("月".encode()) + split
    events, decoder = decode([encoded[:cut], encoded[cut:]])
    assert [e.data for e in events] == ["月亮🌙"] and decoder.problems == []


def test_fields_comments_bom_and_multiline_data() -> None:
    stream = b"\xef\xbb\xbf: keep-alive\nevent: delta\nid: 7\nretry: 1500\ndata: one\ndata:two\n\ndata: three\n\n"
    events, _ = decode([stream])
    assert events == [
        ServerSentEvent(data="one\ntwo", event="delta", id="7", retry=1500),
        ServerSentEvent(data="three", id="7"),
    ]


def test_retry_must_be_digits_and_id_must_not_hold_nul() -> None:
    events, _ = decode([b"retry: 10s\nid: a\x00b\ndata: x\n\n"])
    assert events == [ServerSentEvent(data="x")]


@pytest.mark.parametrize("ending", ENDINGS, ids=["LF", "CR", "CRLF"])
def test_a_block_of_retry_alone_sets_the_reconnection_time_and_is_no_problem(ending: bytes) -> None:
    """WHATWG SSE: `retry:` sets the reconnection time; a block with no data dispatches nothing, and that is all."""
    block = b"retry: 3000" + ending + ending
    stream = block + b"data: one" + ending + ending + b"retry:1500" + ending + b"retry: 2500" + ending + ending
    for split in range(len(stream) + 1):
        events, decoder = decode([stream[:split], stream[split:]])
        assert events == [ServerSentEvent(data="one")] and decoder.problems == [], split
        assert decoder.reconnection_time == 2500


@pytest.mark.parametrize(
    "block", [b"retry: 3000\nevent: ping\n\n", b"retry: 3s\n\n"], ids=["retry and event", "retry not digits"]
)
def test_a_block_with_retry_and_more_but_no_data_is_still_a_problem(block: bytes) -> None:
    events, decoder = decode([block, b"data: one\n\n"])
    assert [e.data for e in events] == ["one"]
    assert [p.kind for p in decoder.problems] == ["event-without-data"]


def test_framing_problems_are_reported_not_raised() -> None:
    events, decoder = decode([b"data: ok\n\nevent: ping\n\ndata: \xff\xfe\n\ndata: cut"])
    assert [e.data for e in events] == ["ok", "\ufffd\ufffd"]
    assert sorted(p.kind for p in decoder.problems) == ["event-without-data", "invalid-utf8", "unterminated-event"]


event_values = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=20)
events_strategy = st.lists(
    st.builds(
        ServerSentEvent,
        data=st.lists(event_values, min_size=1, max_size=3).map("\n".join),
        event=st.sampled_from(["message", "delta", "done"]),
        id=st.none(),
        retry=st.none(),
    ),
    max_size=6,
)


def encode(events: list[ServerSentEvent], ending: bytes) -> bytes:
    out = b""
    for event in events:
        if event.event != "message":
            out += b"event: " + event.event.encode() + ending
        for line in event.data.split("\n"):
            out += b"data: " + line.encode() + ending
        out += ending
    return out


@settings(max_examples=200, deadline=None)
@given(events=events_strategy, ending=st.sampled_from(ENDINGS), cuts=st.lists(st.integers(0, 10_000), max_size=8))
def test_round_trip_at_any_cut(events: list[ServerSentEvent], ending: bytes, cuts: list[int]) -> None:
    stream = encode(events, ending)
    points = sorted({min(c, len(stream)) for c in cuts})
    chunks = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    decoded, decoder = decode(chunks)
    assert decoded == events and decoder.problems == []
