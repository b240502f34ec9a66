"""Writing a completion as Server-Sent Events, chunk by chunk over time (facts §3.10)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from kimi_conformance.mock.chat import Completion, chunk_head, stream_chunks, stream_parts
from kimi_conformance.mock.config import MockConfig
from kimi_conformance.mock.stream_spec import spec_faults
from kimi_conformance.mock.variations import frame, reshape, retry_block, writes

DONE = b"[DONE]"
STALL_AFTER = 3
"""Events a stream sends under the `stream-stalls` fault before it goes silent."""
YIELD_EVERY = 32
"""Without a `chunk_delay`, a stream hands the event loop back once per this many events (not after each one: a
turn of the loop per event cost more than the rest of the event), so a long stream cannot hold up the others."""


class StreamCut(Exception):
    """Raised by the `stream-cut-mid-body` fault: uvicorn then drops the connection mid-body (logged quietly)."""


_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""What `json.dumps(..., ensure_ascii=False, separators=(",", ":"))` would build anew for every event."""


def encode_event(chunk: dict[str, Any], config: MockConfig) -> bytes:
    """One `data: <json>` event, compact JSON, UTF-8 (framed per the benign variations switched on)."""
    return frame(_COMPACT.encode(reshape(chunk, config)).encode(), config)


def plain_events(completion: Completion, config: MockConfig) -> Iterator[bytes]:
    """The events of a stream with no fault or variation on: the bytes `encode_event` makes of each chunk of
    `stream_chunks`, with the head every chunk shares (id, object, created, model) encoded once, not once per chunk
    (tests/mock/test_stream_encoding.py holds the two to the same bytes)."""
    head = _COMPACT.encode(chunk_head(completion))[:-1]  # without its closing brace: the chunk goes on
    opening = f'data: {head},"choices":'.encode()
    for choices, usage in stream_parts(completion, config):
        rest = _COMPACT.encode(choices)
        if usage is not None:
            rest += ',"usage":' + _COMPACT.encode(usage)
        yield opening + rest.encode() + b"}\n\n"


async def sse_body(completion: Completion, config: MockConfig) -> AsyncIterator[bytes]:
    """The stream body; each event is a separate write, paced by `chunk_delay`."""
    retry = retry_block(config)  # empty unless `benign-retry-field`
    for piece in writes(retry, config) if retry else ():
        yield piece
    events: Iterator[bytes]
    if config.faults:
        events = (encode_event(chunk, config) for chunk in spec_faults(stream_chunks(completion, config), config))
    else:
        events = plain_events(completion, config)
    for number, event in enumerate(events):
        if config.faults:
            for piece in writes(await _faulty_event(number, event, config), config):
                yield piece
        else:
            yield event
        if config.chunk_delay or number % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(config.chunk_delay)
    if not config.has_fault("stream-omit-done"):
        for piece in writes(frame(DONE, config), config):
            yield piece


async def _faulty_event(number: int, event: bytes, config: MockConfig) -> bytes:
    """Event `number` of the stream as the switched-on stream faults send it (or the stream cut, or stalled)."""
    if number == 1 and config.has_fault("stream-invalid-utf8"):
        event = event.replace(b'"content":"', b'"content":"\xff', 1)
    if number == 1 and config.has_fault("stream-non-json-event"):
        event = frame(b"keep-alive", config) + event
    if number == 2 and config.has_fault("stream-cut-mid-body"):
        raise StreamCut("the stream-cut-mid-body fault drops the connection")
    if number == STALL_AFTER and config.has_fault("stream-stalls"):
        await asyncio.Event().wait()  # silent, connection open, until the client gives up
    return event
