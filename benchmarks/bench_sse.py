"""Throughput of our SSE decoder next to openai-python's and httpx-sse's, on the same bytes, as ratios.

The stream is realistic: the chunks of many streamed completions from the reference mock's own encoder (JSON
deltas with reasoning, content and tool-call fragments), cut into network-sized pieces. Each decoder gets the
same pieces and must yield the same number of events. A script, not a test.

    pip install httpx-sse openai       # the other decoders (openai comes with `.[test]`)
    python benchmarks/bench_sse.py --megabytes 20
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterable, Iterator
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


def ours(chunks: Iterable[bytes]) -> int:
    return sum(1 for _ in iter_events(chunks, SSEDecoder()))


def openai_python(chunks: Iterable[bytes]) -> int:
    from openai._streaming import SSEDecoder as OpenAIDecoder

    return sum(1 for _ in OpenAIDecoder().iter_bytes(iter(chunks)))


def httpx_sse(chunks: Iterable[bytes]) -> int:
    from httpx_sse._decoders import SSEDecoder as HttpxSSEDecoder  # type: ignore[import-not-found]
    from httpx_sse._decoders import SSELineDecoder

    lines, decoder, count = SSELineDecoder(), HttpxSSEDecoder(), 0

    def text() -> Iterator[str]:
        import codecs

        utf8 = codecs.getincrementaldecoder("utf-8")()
        for chunk in chunks:
            yield utf8.decode(chunk)

    for piece in text():
        for line in lines.decode(piece):
            if decoder.decode(line) is not None:
                count += 1
    return count


DECODERS: dict[str, Callable[[Iterable[bytes]], int]] = {
    "kimi-conformance": ours,
    "openai-python": openai_python,
    "httpx-sse": httpx_sse,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=20.0, help="size of the stream (default 20)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per decoder; the best counts (default 3)")
    args = parser.parse_args()
    data = realistic_stream(args.megabytes)
    chunks = pieces(data)
    print(f"stream: {len(data) / 1e6:.1f} MB in {len(chunks)} pieces of {PIECE} bytes")
    results: dict[str, tuple[float, int]] = {}
    for name, decode in DECODERS.items():
        try:
            best, events = float("inf"), 0
            for _ in range(args.repeat):
                started = time.perf_counter()
                events = decode(chunks)
                best = min(best, time.perf_counter() - started)
            results[name] = (best, events)
        except ImportError as exc:
            print(f"{name}: not installed ({exc.name}); pip install it to compare")
    base = results["kimi-conformance"][0]
    print(f"\n{'decoder':18}{'MB/s':>10}{'events':>12}{'time vs ours':>14}")
    for name, (seconds, events) in results.items():
        print(f"{name:18}{len(data) / 1e6 / seconds:10.1f}{events:12,}{seconds / base:13.2f}x")
    counts = {events for _, events in results.values()}
    if len(counts) != 1:
        print(f"\nwarning: the decoders disagree on the number of events: {counts}")


if __name__ == "__main__":
    main()
