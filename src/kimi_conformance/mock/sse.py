"""Writing a completion as Server-Sent Events, chunk by chunk over time (facts §3.10)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from kimi_conformance.mock.chat import Completion, stream_chunks
from kimi_conformance.mock.config import MockConfig

DONE = b"data: [DONE]\n\n"


def encode_event(chunk: dict[str, Any]) -> bytes:
    """One `data: <json>` event, compact JSON, UTF-8."""
    return b"data: " + json.dumps(chunk, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


async def sse_body(completion: Completion, config: MockConfig) -> AsyncIterator[bytes]:
    """The stream body; each event is a separate write, paced by `chunk_delay`."""
    for chunk in stream_chunks(completion, config):
        yield encode_event(chunk)
        await asyncio.sleep(config.chunk_delay)
    if not config.has_fault("stream-omit-done"):
        yield DONE
