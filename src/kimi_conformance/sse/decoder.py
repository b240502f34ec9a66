"""An incremental SSE decoder that splits lines only at CR, LF or CRLF and reports framing problems as data.

Differences from `str.splitlines()` / httpx's `iter_lines()`: U+2028, U+0085, \\x0b and friends are ordinary
characters inside a `data:` line. UTF-8 is decoded across chunk boundaries; a leading BOM is dropped; comment
lines are ignored; several `data` lines join with "\\n"; `event`, `id` (no NUL) and `retry` (digits only) are
kept. A block holding only `retry` fields (`retry: 3000`, then a blank line) sets the reconnection time and
dispatches nothing, as the WHATWG standard defines: no event and no problem. Problems a strict server would not
produce (invalid UTF-8, an unterminated last event, an event with no data) become `FramingProblem`s rather than
exceptions.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field

_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event."""

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


@dataclass(frozen=True, slots=True)
class FramingProblem:
    """Something about the byte stream a conformant server would not send."""

    kind: str
    """`invalid-utf8`, `unterminated-event` or `event-without-data`."""
    detail: str
    offset: int
    """Byte offset in the stream where it was noticed."""


@dataclass(slots=True)
class SSEDecoder:
    """Feed bytes as they arrive; get events as soon as a blank line ends them."""

    problems: list[FramingProblem] = field(default_factory=list)
    _utf8: codecs.IncrementalDecoder = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")("strict"))
    _partial: list[str] = field(default_factory=list)
    """Pieces of the line not yet ended."""
    _pending_cr: bool = False
    _started: bool = False
    _offset: int = 0
    _data: list[str] = field(default_factory=list)
    _event: str = ""
    _id: str | None = None
    _retry: int | None = None
    _fields_seen: bool = False
    _only_retry: bool = True
    """Whether every field of the block so far was a valid `retry` (a block of those alone is no event)."""
    reconnection_time: int | None = None
    """The last reconnection time (ms) a valid `retry` field set, in any block (WHATWG: it outlives its event)."""

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one chunk of bytes; return the events it completes."""
        text = self._decode(chunk)
        self._offset += len(chunk)
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        return self._lines(text)

    def close(self) -> list[ServerSentEvent]:
        """End of stream: flush, and report an event left unterminated (it is not dispatched, per WHATWG)."""
        events = self._lines(self._decode(b"", final=True))
        if self._partial or self._fields_seen:
            self.problems.append(FramingProblem("unterminated-event", "the stream ended inside an event", self._offset))
        self._partial.clear()
        return events

    def _decode(self, chunk: bytes, final: bool = False) -> str:
        try:
            return self._utf8.decode(chunk, final)
        except UnicodeDecodeError as exc:
            self.problems.append(FramingProblem("invalid-utf8", exc.reason, self._offset + max(exc.start, 0)))
            self._utf8 = codecs.getincrementaldecoder("utf-8")("strict")
            return chunk.decode("utf-8", errors="replace")

    def _lines(self, text: str) -> list[ServerSentEvent]:
        """Split at CR, LF or CRLF in linear time: text without a line end is only kept, and a line left open
        at a chunk's end is joined once, when its end arrives."""
        if self._pending_cr and text.startswith("\n"):
            text = text[1:]  # the LF of a CRLF split across chunks
        self._pending_cr = False
        if "\n" not in text and "\r" not in text:
            if text:
                self._partial.append(text)
            return []
        if self._partial:
            text = "".join(self._partial) + text
            self._partial.clear()
        lines = _LINE_END.split(text) if "\r" in text else text.split("\n")
        self._pending_cr = text.endswith("\r")
        rest = lines.pop()
        if rest:
            self._partial.append(rest)
        events = []
        for line in lines:
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def _line(self, line: str) -> ServerSentEvent | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        self._fields_seen = True
        if name != "retry" or not (value.isascii() and value.isdigit()):
            self._only_retry = False
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\x00" not in value:
            self._id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = self.reconnection_time = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        if not self._fields_seen:
            return None
        data, event, retry, only_retry = self._data, self._event, self._retry, self._only_retry
        self._data, self._event, self._retry, self._fields_seen, self._only_retry = [], "", None, False, True
        if not data:
            if not only_retry:  # a `retry:`-only block is defined (WHATWG): it sets the reconnection time, no event
                self.problems.append(FramingProblem("event-without-data", "an event with no data field", self._offset))
            return None
        return ServerSentEvent(data="\n".join(data), event=event or "message", id=self._id, retry=retry)


def iter_events(chunks: Iterable[bytes], decoder: SSEDecoder | None = None) -> Iterator[ServerSentEvent]:
    """Events from an iterable of byte chunks (e.g. `httpx.Response.iter_raw()`)."""
    decoder = decoder if decoder is not None else SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.close()


async def aiter_events(
    chunks: AsyncIterable[bytes], decoder: SSEDecoder | None = None
) -> AsyncIterator[ServerSentEvent]:
    """The async twin of `iter_events`."""
    decoder = decoder if decoder is not None else SSEDecoder()
    async for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event
    for event in decoder.close():
        yield event
