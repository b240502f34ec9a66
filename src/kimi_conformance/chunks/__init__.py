"""The one stream pipeline: bytes → SSE events → JSON chunks → per-choice traces → the folded `chat.completion`."""

from kimi_conformance.chunks.fold import fold
from kimi_conformance.chunks.view import DELTA_KINDS, DONE, ChoiceTrace, StreamView, read_stream

__all__ = ["DELTA_KINDS", "DONE", "ChoiceTrace", "StreamView", "fold", "read_stream"]
