"""Seconds to judge one streamed completion of 10^4, 10^5 and 10^6 events: decoding, tracing, folding and every
check (stream checks on the stream, non-streaming checks on its fold), as a session does it. Linear work shows
as a constant time per event across the sizes. A script, not a test. The run's cap on events per stream
(`chunks.view.MAX_STREAM_EVENTS`, 200,000: past it a stream is cut, HTTP005) is lifted here, so the largest size
is judged whole (`--keep-cap` measures the capped judgement a run makes).

    python benchmarks/bench_stream_checks.py                 # 10^4, 10^5, 10^6 events (about a minute)
    python benchmarks/bench_stream_checks.py --sizes 10000,100000
"""

from __future__ import annotations

import argparse
import json
import time

from kimi_conformance.checks import CHECKS, CheckContext
from kimi_conformance.chunks import view
from kimi_conformance.exchange import Exchange
from kimi_conformance.runner.session import ConformanceSession

MODEL = "kimi-k2-turbo-preview"


def stream_body(events: int) -> bytes:
    """A conformant LF-only stream of `events` events: a role delta, content deltas, the finish with usage, [DONE]."""
    head = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1764547200, "model": MODEL}

    def event(choice: dict[str, object]) -> bytes:
        return b"data: " + json.dumps({**head, "choices": [choice]}).encode() + b"\n\n"

    deltas = events - 3
    usage = {"prompt_tokens": 8, "completion_tokens": deltas, "total_tokens": 8 + deltas}
    piece = event({"index": 0, "delta": {"content": "word "}, "finish_reason": None})
    return b"".join(
        [
            event({"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}),
            piece * deltas,
            event({"index": 0, "delta": {}, "finish_reason": "length", "usage": usage}),
            b"data: [DONE]\n\n",
        ]
    )


def exchange(body: bytes, events: int) -> Exchange:
    request = {"model": MODEL, "messages": [{"role": "user", "content": "Go on."}], "stream": True}
    request["max_completion_tokens"] = events
    return Exchange(
        operation="createChatCompletion",
        method="POST",
        url="http://127.0.0.1/v1/chat/completions",
        request_headers={"content-type": "application/json"},
        request_json=request,
        request_text=json.dumps(request),
        status=200,
        response_headers={"content-type": "text/event-stream"},
        body=body,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="event counts, comma-separated")
    parser.add_argument("--keep-cap", action="store_true", help="keep the run's cap of events per stream")
    args = parser.parse_args()
    if not args.keep_cap:
        view.MAX_STREAM_EVENTS = 10**9
    print(f"{'events':>10}{'MB':>8}{'seconds':>10}{'µs/event':>10}  findings")
    base = None
    for events in (int(size) for size in args.sizes.split(",")):
        body = stream_body(events)
        session = ConformanceSession(CheckContext(), selected=frozenset(CHECKS))
        started = time.perf_counter()
        judgement = session.check(exchange(body, events))
        seconds = time.perf_counter() - started
        per_event = seconds / events * 1e6
        base = base or per_event
        found = sorted(judgement.codes) or "none"
        print(f"{events:>10,}{len(body) / 1e6:>8.1f}{seconds:>10.2f}{per_event:>10.2f}  {found}")
    cap = "lifted" if not args.keep_cap else f"{view.MAX_STREAM_EVENTS:,} events"
    print(f"\nThe cap on events per stream: {cap}. Linear: µs/event stays about the same as the size grows.")


if __name__ == "__main__":
    main()
