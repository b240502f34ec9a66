"""An incremental SSE decoder that splits lines only at CR, LF or CRLF and reports framing problems as data.

Differences from `str.splitlines()` / httpx's `iter_lines()`: U+2028, U+0085, \\x0b and friends are ordinary
characters inside a `data:` line. UTF-8 is decoded per line (line ends are ASCII, so no character spans two lines);
a leading BOM is dropped; comment lines are ignored; several `data` lines join with "\\n"; `event`, `id` (no NUL)
and `retry` (digits only) are kept. A block holding only `retry` fields (`retry: 3000`, then a blank line) sets the
reconnection time and dispatches nothing, as the WHATWG standard defines: no event and no problem. Problems a strict
server would not produce (invalid UTF-8, an unterminated last event, an event with no data) become
`FramingProblem`s rather than exceptions.

Speed: the bytes are kept as bytes until a line is complete, and a run of the usual blocks (one `data: ` line, a
blank line, LF line ends) is split, decoded and turned into events by a few calls over the whole run, not by a
Python loop over its lines; anything else (CR line ends, other fields, comments, several data lines, a block cut
by a piece boundary, invalid UTF-8) goes line by line. Each byte is searched and copied a bounded number of times
(a line cut by piece boundaries is only kept until its end arrives), so decoding stays linear, and the decoder
holds no more than the line and the event it is in.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

_LINE_END = re.compile(rb"\r\n|\r|\n")
_BOM = b"\xef\xbb\xbf"
_DATA = b"data: "
_CR = 0x0D


class ServerSentEvent(NamedTuple):
    """One dispatched event. A named tuple: immutable, and made in half the time of a frozen dataclass (a stream
    makes them by the hundred thousand)."""

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
    """Byte offset in the stream: of the first invalid byte; of the line end of the blank line that closed an
    event without data; of the end of the stream for an unterminated event."""


@dataclass(slots=True)
class SSEDecoder:
    """Feed bytes as they arrive; get events as soon as a blank line ends them."""

    problems: list[FramingProblem] = field(default_factory=list)
    reconnection_time: int | None = None
    """The last reconnection time (ms) a valid `retry` field set, in any block (WHATWG: it outlives its event)."""
    _line: bytearray = field(default_factory=bytearray)
    """The bytes of the line not yet ended (raw, as they came)."""
    _pending_cr: bool = False
    """The last line ended with a CR at the end of a piece: an LF opening the next piece completes that CRLF."""
    _started: bool = False
    """Whether the first three bytes have been seen (a BOM there is dropped)."""
    _offset: int = 0
    """Bytes fed so far."""
    _data: list[str] = field(default_factory=list)
    _event: str = ""
    _id: str | None = None
    _retry: int | None = None
    _fields_seen: bool = False
    _only_retry: bool = True
    """Whether every field of the block so far was a valid `retry` (a block of those alone is no event)."""

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one chunk of bytes; return the events it completes."""
        at = self._offset  # where `chunk` starts in the stream
        self._offset += len(chunk)
        if not chunk:
            return []
        if self._pending_cr:
            self._pending_cr = False
            if chunk[0] == 0x0A:  # the LF of a CRLF split across pieces
                chunk, at = chunk[1:], at + 1
        if not self._started:
            chunk, at = self._after_bom(chunk, at)
        crs = b"\r" in chunk  # (`_line` holds none: a CR ends a line)
        end = (max(chunk.rfind(b"\n"), chunk.rfind(b"\r")) if crs else chunk.rfind(b"\n")) + 1
        if not end:  # no line ends here: the open line goes on
            self._line += chunk
            return []
        lines_at = at - len(self._line)
        if self._line:
            lines = bytes(self._line) + chunk[:end]
            self._line.clear()
        else:
            lines = chunk if end == len(chunk) else chunk[:end]
        if end < len(chunk):
            self._line += chunk[end:]
        self._pending_cr = end == len(chunk) and chunk[-1] == _CR
        events: list[ServerSentEvent] = []
        if crs:
            self._lines(lines, lines_at, events)
        else:
            self._lf_lines(lines, lines_at, events)
        return events

    def close(self) -> list[ServerSentEvent]:
        """End of stream: report an event left unterminated (it is not dispatched, per WHATWG), and invalid UTF-8
        in the line it was cut in."""
        if self._line:
            self._decoded(bytes(self._line), self._offset - len(self._line))
        if self._line or self._fields_seen:
            self.problems.append(FramingProblem("unterminated-event", "the stream ended inside an event", self._offset))
        self._line.clear()
        return []

    def _after_bom(self, chunk: bytes, at: int) -> tuple[bytes, int]:
        """The stream's first bytes without a leading BOM; nothing (kept in `_line`) while they could still be
        one."""
        head = bytes(self._line) + chunk
        head_at = at - len(self._line)
        if len(head) < len(_BOM) and _BOM.startswith(head):
            self._line[:] = head
            return b"", at + len(chunk)
        self._started = True
        self._line.clear()
        if head.startswith(_BOM):
            return head[len(_BOM) :], head_at + len(_BOM)
        return head, head_at

    def _lf_lines(self, lines: bytes, at: int, events: list[ServerSentEvent]) -> None:
        """Complete LF-ended lines: the rest of a block already open (up to its blank line) line by line, then
        whole blocks (`_blocks`), then the lines of the block left open, line by line."""
        start = 0
        if lines.startswith(b"\n"):
            start = 1
        elif self._fields_seen:
            start = lines.find(b"\n\n") + 2
            if start == 1:  # no blank line: every line belongs to the open block
                self._lines(lines, at, events)
                return
        if start:
            self._lines(lines[:start], at, events)
        blank = lines.rfind(b"\n\n", start)
        stop = start if blank < 0 else blank + 2  # just after the last blank line
        if stop > start:
            self._blocks(lines if stop - start == len(lines) else lines[start:stop], at + start, events)
        if stop < len(lines):
            self._lines(lines[stop:], at + stop, events)

    def _blocks(self, run: bytes, at: int, events: list[ServerSentEvent]) -> None:
        """Whole blocks, each ended by a blank line, with no block open before them. When every block is one
        `data: ` line, one decode and one split make all the values: cut at each "\n\ndata: ", the run is that
        many blocks of one line exactly when its LFs are two per piece (then no piece holds a line end)."""
        try:
            text = run.decode()
        except UnicodeDecodeError:
            text = ""
        if text.startswith("data: "):
            values = text.split("\n\ndata: ")
            if text.count("\n") == 2 * len(values):
                values[0] = values[0][6:]  # the first `data: `
                values[-1] = values[-1][:-2]  # the last blank line (the same piece when there is one)
                last_id = self._id
                events += [ServerSentEvent(value, "message", last_id) for value in values]
                return
        for block in run.split(b"\n\n")[:-1]:  # each starts with no block open: the one before ended blank
            size = len(block) + 2
            if block.startswith(_DATA) and b"\n" not in block:
                try:
                    events.append(ServerSentEvent(block[6:].decode(), "message", self._id))
                    at += size
                    continue
                except UnicodeDecodeError:
                    pass
            self._lines(block + b"\n\n", at, events)
            at += size

    def _lines(self, lines: bytes, at: int, events: list[ServerSentEvent]) -> None:
        """Complete lines (ended by CR, LF or CRLF), one at a time."""
        start = 0
        for end in _LINE_END.finditer(lines):
            line = lines[start : end.start()]
            if not line:
                event = self._dispatch(at + end.start())
                if event is not None:
                    events.append(event)
            else:
                self._field(self._decoded(line, at + start))
            start = end.end()

    def _decoded(self, line: bytes, at: int) -> str:
        """The line as text; invalid UTF-8 is a problem (at its first bad byte) and becomes U+FFFD."""
        try:
            return line.decode()
        except UnicodeDecodeError as exc:
            self.problems.append(FramingProblem("invalid-utf8", exc.reason, at + exc.start))
            return line.decode("utf-8", errors="replace")

    def _field(self, line: str) -> None:
        if line.startswith(":"):
            return
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

    def _dispatch(self, at: int) -> ServerSentEvent | None:
        if not self._fields_seen:
            return None
        data, event, retry, only_retry = self._data, self._event, self._retry, self._only_retry
        self._data, self._event, self._retry, self._fields_seen, self._only_retry = [], "", None, False, True
        if not data:
            if not only_retry:  # a `retry:`-only block is defined (WHATWG): it sets the reconnection time, no event
                self.problems.append(FramingProblem("event-without-data", "an event with no data field", at))
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
