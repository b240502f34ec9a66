"""Throughput of our SSE decoder next to openai-python's and httpx-sse's, on the same bytes, in one run, as ratios.

The stream is realistic: the chunks of many streamed completions from the reference mock's own encoder (JSON
deltas with reasoning, content and tool-call fragments, n = 2, non-ASCII text), about 21 MB of it cut into
1,400-byte pieces (one TCP segment each). Each decoder gets the same pieces, round by round, and must yield the
same events; each one's best MB/s, its time relative to ours (median over the rounds), and whether it ends lines
only at CR, LF and CRLF (an event holding U+2028 and U+0085 must come out whole) are printed. A script, not a test.

    pip install -e '.[bench]'          # httpx-sse and openai, the other decoders
    python benchmarks/bench_sse.py --megabytes 20
"""

from __future__ import annotations

import argparse
import codecs
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kimi_conformance.mock.chat import plan_completion, stream_chunks
from kimi_conformance.mock.chat_validation import parse_chat_request
from kimi_conformance.mock.config import MockConfig
from kimi_conformance.mock.sse import encode_event
from kimi_conformance.sse import SSEDecoder, iter_events

PIECE = 1400
"""Bytes per read, about one TCP segment."""


def realistic_stream(megabytes: float) -> bytes:
    config = MockConfig(lineup="all")
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
    bodies: list[dict[str, Any]] = [
        {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "Tell me a story about the moon."}]},
        {"model": "kimi-k2-turbo-preview", "messages": [{"role": "user", "content": "weather? get_weather"}],
         "tools": [tool]},
        {"model": "moonshot-v1-8k", "messages": [{"role": "user", "content": "月亮 🌙 story"}], "n": 2,
         "temperature": 0.5},
    ]  # fmt: skip
    one = b""
    for body in bodies:
        request = parse_chat_request(dict(body), config, lambda _: None)
        for chunk in stream_chunks(plan_completion(request, config, cached_tokens=0), config):
            one += encode_event(chunk, config)
        one += b"data: [DONE]\n\n"
    return one * max(1, int(megabytes * 1024 * 1024 / len(one)))


def pieces(data: bytes) -> list[bytes]:
    return [data[i : i + PIECE] for i in range(0, len(data), PIECE)]


def ours(chunks: Iterable[bytes]) -> list[str]:
    return [event.data for event in iter_events(chunks, SSEDecoder())]


def openai_python(chunks: Iterable[bytes]) -> list[str]:
    from openai._streaming import SSEDecoder as OpenAIDecoder

    return [event.data for event in OpenAIDecoder().iter_bytes(iter(chunks))]


def httpx_sse(chunks: Iterable[bytes]) -> list[str]:
    from httpx_sse._decoders import SSEDecoder as HttpxSSEDecoder  # type: ignore[import-not-found, unused-ignore]
    from httpx_sse._decoders import SSELineDecoder

    lines, decoder, data = SSELineDecoder(), HttpxSSEDecoder(), []
    utf8 = codecs.getincrementaldecoder("utf-8")()  # httpx-sse reads text: httpx decodes the bytes first
    for chunk in chunks:
        for line in lines.decode(utf8.decode(chunk)):
            event = decoder.decode(line)
            if event is not None:
                data.append(event.data)
    return data


DECODERS: dict[str, Callable[[Iterable[bytes]], list[str]]] = {
    "kimi-conformance": ours,
    "openai-python": openai_python,
    "httpx-sse": httpx_sse,
}
GOAL = "httpx-sse"
"""The decoder ours must be at least as fast as (issue 17)."""
LINE_ENDS_PROBE = 'data: {"content":"a\u2028b\u0085c"}\n\n'.encode()
"""One event whose data holds U+2028 and U+0085: SSE ends lines at CR, LF and CRLF only, so it is one event with
that data, whole."""


@dataclass(frozen=True, slots=True)
class Figures:
    """One comparison: the stream's size and pieces, each decoder's best time, events and line ends, and the
    median over the rounds of our time over each one's."""

    megabytes: float
    pieces: int
    best: dict[str, float]
    events: dict[str, int]
    ours_over_theirs: dict[str, float]
    line_ends_only: dict[str, bool]

    def speed(self, name: str) -> float:
        return self.megabytes / self.best[name]


def compare(megabytes: float, rounds: int) -> Figures:
    """Every installed decoder on the same pieces, round by round (each once per round), so a load that comes and
    goes on the machine weighs on all of them."""
    data = realistic_stream(megabytes)
    chunks = pieces(data)
    available = {}
    for name, decode in DECODERS.items():
        try:
            decode(chunks[:10])
        except ImportError as exc:
            print(f"{name}: not installed ({exc.name}); pip install -e '.[bench]' to compare")
            continue
        available[name] = decode
    times: dict[str, list[float]] = {name: [] for name in available}
    events: dict[str, int] = {}
    for _ in range(rounds):
        for name, decode in available.items():
            started = time.perf_counter()
            events[name] = len(decode(chunks))
            times[name].append(time.perf_counter() - started)
    ours_times = times["kimi-conformance"]
    expected = ['{"content":"a\u2028b\u0085c"}']
    return Figures(
        megabytes=len(data) / 1e6,
        pieces=len(chunks),
        best={name: min(spent) for name, spent in times.items()},
        events=events,
        ours_over_theirs={
            name: statistics.median(o / t for o, t in zip(ours_times, spent, strict=True))
            for name, spent in times.items()
        },
        line_ends_only={name: decode([LINE_ENDS_PROBE]) == expected for name, decode in available.items()},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=20.0, help="size of the stream in MiB (default 20)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, each decoder once per round (default 5)")
    args = parser.parse_args()
    if args.megabytes <= 0 or args.rounds < 1:
        parser.error("--megabytes must be > 0 and --rounds >= 1")
    figures = compare(args.megabytes, args.rounds)
    print(
        f"stream: {figures.megabytes:.1f} MB in {figures.pieces:,} pieces of {PIECE} bytes; best of {args.rounds} "
        f"rounds; Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    print(f"\n{'decoder':18}{'MB/s':>8}{'events':>10}{'its time/ours':>15}  lines end only at CR, LF, CRLF")
    for name in figures.best:
        line_ends = "yes" if figures.line_ends_only[name] else "no (U+2028/U+0085 end its lines)"
        slower = 1 / figures.ours_over_theirs[name]
        print(f"{name:18}{figures.speed(name):8.1f}{figures.events[name]:10,}{slower:14.2f}x  {line_ends}")
    if len(set(figures.events.values())) != 1:
        print(f"\nwarning: the decoders disagree on the number of events: {figures.events}")
    if GOAL in figures.best:
        verdict = "met" if figures.ours_over_theirs[GOAL] <= 1 else "NOT met"
        print(f"\ngoal: ours at least as fast as {GOAL} (median ratio over the rounds): {verdict}")


if __name__ == "__main__":
    main()
