"""Writing a completion as Server-Sent Events, chunk by chunk over time (facts §3.10)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from kimi_conformance.mock.chat import Completion, stream_chunks
from kimi_conformance.mock.config import MockConfig
from kimi_conformance.mock.stream_spec import spec_faults
from kimi_conformance.mock.variations import frame, reshape, retry_block, writes

DONE = b"[DONE]"
STALL_AFTER = 3
"""Events a stream sends under the `stream-stalls` fault before it goes silent."""


class StreamCut(Exception):
    """Raised by the `stream-cut-mid-body` fault: uvicorn then drops the connection mid-body (logged quietly)."""


def encode_event(chunk: dict[str, Any], config: MockConfig) -> bytes:
    """One `data: <json>` event, compact JSON, UTF-8 (framed per the benign variations switched on)."""
    data = json.dumps(reshape(chunk, config), ensure_ascii=False, separators=(",", ":")).encode()
    return frame(data, config)


async def sse_body(completion: Completion, config: MockConfig) -> AsyncIterator[bytes]:
    """The stream body; each event is a separate write, paced by `chunk_delay`."""
    retry = retry_block(config)  # empty unless `benign-retry-field`
    for piece in writes(retry, config) if retry else ():
        yield piece
    for number, chunk in enumerate(spec_faults(stream_chunks(completion, config), config)):
        event = encode_event(chunk, config)
        if number == 1 and config.has_fault("stream-invalid-utf8"):
            event = event.replace(b'"content":"', b'"content":"\xff', 1)
        if number == 1 and config.has_fault("stream-non-json-event"):
            event = frame(b"keep-alive", config) + event
        if number == 2 and config.has_fault("stream-cut-mid-body"):
            raise StreamCut("the stream-cut-mid-body fault drops the connection")
        if number == STALL_AFTER and config.has_fault("stream-stalls"):
            await asyncio.Event().wait()  # silent, connection open, until the client gives up
        for piece in writes(event, config):
            yield piece
        await asyncio.sleep(config.chunk_delay)
    if not config.has_fault("stream-omit-done"):
        for piece in writes(frame(DONE, config), config):
            yield piece
