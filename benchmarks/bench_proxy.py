"""Latency the validating proxy adds: the same small chat completion, sent N times straight to the mock and N
times through `kimi-conformance proxy` (loopback, keep-alive, sequential), median and p90 of each.

    python benchmarks/bench_proxy.py [N]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, serve_in_thread
from kimi_conformance.proxy import serve_proxy_in_thread

BODY = {"model": "kimi-k2-turbo-preview", "messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 8}


def timings(base_url: str, count: int) -> list[float]:
    spent = []
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"}) as client:
        for _ in range(20):
            client.post("/chat/completions", json=BODY)  # warm up
        for _ in range(count):
            started = time.perf_counter()
            client.post("/chat/completions", json=BODY).raise_for_status()
            spent.append((time.perf_counter() - started) * 1000)
    return spent


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    with (
        tempfile.TemporaryDirectory() as folder,
        serve_in_thread(MockConfig(lineup="all")) as mock,
        serve_proxy_in_thread(mock.api_base, Path(folder)) as proxied,
    ):
        direct, through = timings(mock.api_base, count), timings(proxied, count)
    for name, values in (("direct", direct), ("proxied", through)):
        deciles = statistics.quantiles(values, n=10)
        print(f"{name:8} median {statistics.median(values):6.2f} ms  p90 {deciles[8]:6.2f} ms  ({count} requests)")
    print(f"added    median {statistics.median(through) - statistics.median(direct):6.2f} ms")


if __name__ == "__main__":
    main()
