"""The decoder against a plain reading of the WHATWG rules, on generated streams cut anywhere.

The reference below reads the whole stream at once, line by line, the way the standard is written: it has no
pieces, no bulk path and no state across reads, so any difference is the decoder's (a piece boundary, a CRLF cut
in two, a BOM cut in two, the bulk path taking a block it should not). Events, the reconnection time and every
framing problem, with its byte offset, must be the same.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_conformance.sse import FramingProblem, ServerSentEvent, SSEDecoder

LINE_END = re.compile(rb"\r\n|\r|\n")


def reference(stream: bytes) -> tuple[list[ServerSentEvent], list[FramingProblem], int | None]:
    """Events, problems and the reconnection time of a whole stream, read line by line."""
    at = 3 if stream.startswith(b"\xef\xbb\xbf") else 0
    events: list[ServerSentEvent] = []
    problems: list[FramingProblem] = []
    data: list[str] = []
    event, last_id, retry, reconnection = "", None, None, None
    seen, only_retry = False, True
    for end in LINE_END.finditer(stream, at):
        raw = stream[at : end.start()]
        if not raw:  # a blank line dispatches
            if seen and data:
                events.append(ServerSentEvent("\n".join(data), event or "message", last_id, retry))
            elif seen and not only_retry:
                problems.append(FramingProblem("event-without-data", "an event with no data field", end.start()))
            data, event, retry, seen, only_retry = [], "", None, False, True
            at = end.end()
            continue
        try:
            line = raw.decode()
        except UnicodeDecodeError as exc:
            problems.append(FramingProblem("invalid-utf8", exc.reason, at + exc.start))
            line = raw.decode(errors="replace")
        at = end.end()
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        value = value[1:] if colon and value.startswith(" ") else value
        seen = True
        digits = value.isascii() and value.isdigit()
        only_retry = only_retry and name == "retry" and digits
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id" and "\x00" not in value:
            last_id = value
        elif name == "retry" and digits:
            retry = reconnection = int(value)
    if at < len(stream):
        try:
            stream[at:].decode()
        except UnicodeDecodeError as exc:
            problems.append(FramingProblem("invalid-utf8", exc.reason, at + exc.start))
    if at < len(stream) or seen:
        problems.append(FramingProblem("unterminated-event", "the stream ended inside an event", len(stream)))
    return events, problems, reconnection


END = st.sampled_from([b"\n", b"\r", b"\r\n"])
VALUE = st.sampled_from(["", "ok", " spaced", "a:b", '{"content":"月亮 🌙"}', "a\u2028b\u0085c\x0bd", "[DONE]", "7"])
LINE = st.one_of(
    st.builds(lambda v: b"data: " + v.encode(), VALUE),
    st.builds(lambda v: b"data:" + v.encode(), VALUE),
    st.builds(lambda v: b"event: " + v.encode(), VALUE),
    st.builds(lambda v: b"id: " + v.encode(), st.sampled_from(["1", "a\x00b", ""])),
    st.builds(lambda v: b"retry: " + v.encode(), st.sampled_from(["3000", "3s", "", "١٢"])),
    st.just(b": comment"),
    st.just(b"data"),
    st.just(b"unknown: field"),
    st.just(b"data: \xff\xfe bad"),
    st.just(b"data: cut \xe6\x9c"),
)
USUAL = st.builds(lambda v: b"data: " + v.encode() + b"\n\n", VALUE)
"""The blocks the bulk path takes."""


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    """Blocks of any lines, or the usual ones; every line end LF in half the streams (where the bulk path runs),
    drawn per line in the others; a BOM or half of one before them, an unterminated line or a CR after them."""
    lf_only = draw(st.booleans())
    end = st.just(b"\n") if lf_only else END

    def block(lines: list[bytes]) -> bytes:
        return b"".join(line + draw(end) for line in lines) + draw(end)

    parts = draw(st.lists(st.one_of(USUAL, st.lists(LINE, max_size=4).map(block)), max_size=12))
    head = draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"\xef\xbb"]))
    tail = draw(st.sampled_from([b"", b"data: unterminated", b"data: x\n", b"\r"]))
    return head + b"".join(parts) + tail


@settings(max_examples=800, deadline=None)
@given(stream=streams(), data=st.data(), empty=st.booleans())
def test_the_decoder_reads_any_stream_cut_anywhere_as_the_reference_does(
    stream: bytes, data: st.DataObject, empty: bool
) -> None:
    """Cut anywhere, and often just after a line end (where a block is left open between pieces)."""
    line_ends = [match.end() for match in LINE_END.finditer(stream)] or [0]
    cuts = data.draw(st.lists(st.integers(0, len(stream)) | st.sampled_from(line_ends), max_size=10))
    points = sorted(set(cuts))
    pieces = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    if empty:
        pieces = [piece for pair in zip(pieces, [b""] * len(pieces), strict=True) for piece in pair]
    decoder = SSEDecoder()
    events = [event for piece in pieces for event in decoder.feed(piece)] + decoder.close()
    assert (events, decoder.problems, decoder.reconnection_time) == reference(stream)


def test_a_crlf_cut_by_an_empty_piece_is_still_one_line_end() -> None:
    decoder = SSEDecoder()
    events = [*decoder.feed(b"data: a\r"), *decoder.feed(b""), *decoder.feed(b"\ndata: b\r\n\r\n"), *decoder.close()]
    assert events == [ServerSentEvent("a\nb")] and decoder.problems == []


def test_a_line_of_ten_megabytes_in_network_pieces_is_read_in_linear_time() -> None:
    """Each piece of an open line is kept, not joined again with the ones before: quadratic work here would copy
    about 35 GB."""
    line = b"data: " + b"x" * 10_000_000
    decoder = SSEDecoder()
    for start in range(0, len(line), 1400):
        assert decoder.feed(line[start : start + 1400]) == []
    assert decoder.feed(b"\n\n") == [ServerSentEvent("x" * 10_000_000)]
