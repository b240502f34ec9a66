"""Server-Sent Events decoding per the WHATWG event-stream rules, incremental and byte-level."""

from __future__ import annotations

from kimi_conformance.sse.decoder import FramingProblem, ServerSentEvent, SSEDecoder, aiter_events, iter_events

__all__ = ["FramingProblem", "SSEDecoder", "ServerSentEvent", "aiter_events", "iter_events"]
