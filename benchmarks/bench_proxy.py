"""Latency the validating proxy adds to a small chat completion, checks on, next to a direct call, in one run.

The mock and the proxy each run in a process of their own, as `kimi-conformance mock` and `kimi-conformance proxy`
do (each on `loopback.LoopbackServer`, the same uvicorn settings); this process is the client. The same small
completion goes straight to the mock, then through the proxy, `--batch` requests at a time, turn and turn about
(one keep-alive connection each way, one request at a time), so a load that comes and goes on the machine weighs
on both ways. After a warm-up, the median and p90 of each way and the median the proxy adds are printed, twice:
back to back (the next request comes while the proxy's judge still works on the last one), and paced (`--pause`
ms after each request, as a client that does anything between calls). The proxy judges every exchange with all
the checks, as it always does: its `proxy.json` counts must show every exchange judged and none dropped.

`--in-process` measures the older setup too: the mock, the proxy and the client as threads of this one process,
where the three share one GIL (the client's and the mock's Python work then lands in the proxied figure).

    python benchmarks/bench_proxy.py --requests 500
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, serve_in_thread
from kimi_conformance.proxy import serve_proxy_in_thread

BODY = {"model": "kimi-k2-turbo-preview", "messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 8}
GOAL_MS = 1.0
"""The most the proxy may add, median, with its checks on (issue 17)."""
WARMUP = 200
MOCK = """
import signal, sys
from kimi_conformance.mock import MockConfig
from kimi_conformance.mock.server import MockServer
server = MockServer(MockConfig(lineup="all"), port=int(sys.argv[1]))
signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True))
server.serve_forever()
"""
PROXY = """
import signal, sys
from pathlib import Path
from kimi_conformance.loopback import LoopbackServer
from kimi_conformance.proxy import create_proxy_app
server = LoopbackServer(create_proxy_app(sys.argv[2], Path(sys.argv[3])), port=int(sys.argv[1]))
signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True))  # a clean stop writes proxy.json
server.serve_forever()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(code: str, *args: str) -> Iterator[str]:
    """A server started as `python -c code PORT ARGS...`; its SDK-style base URL once it answers."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", code, str(port), *args])
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + "/models", headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"}, timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("a benchmark server did not start") from None
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()  # SIGTERM: uvicorn shuts down, the proxy drains its judge and writes proxy.json
        process.wait(timeout=30)


def measure(direct: str, proxied: str, count: int, batch: int, pause: float) -> tuple[list[float], list[float]]:
    """Milliseconds of `count` requests each way, after a warm-up: `batch` requests straight to the mock, then as
    many through the proxy, and again, so that each way sees the machine as the other does; `pause` seconds after
    each request (0: back to back, the proxy's judge working while the next requests come)."""
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    spent: tuple[list[float], list[float]] = ([], [])
    with httpx.Client(base_url=direct, headers=headers) as one, httpx.Client(base_url=proxied, headers=headers) as two:
        for client in (one, two):
            for _ in range(WARMUP):
                client.post("/chat/completions", json=BODY).raise_for_status()
        while len(spent[1]) < count:
            for client, times in ((one, spent[0]), (two, spent[1])):
                for _ in range(min(batch, count - len(times))):
                    started = time.perf_counter()
                    client.post("/chat/completions", json=BODY).raise_for_status()
                    times.append((time.perf_counter() - started) * 1000)
                    time.sleep(pause)
    return spent


def line(name: str, values: list[float]) -> str:
    return f"{name:10} median {statistics.median(values):6.2f} ms   p90 {statistics.quantiles(values, n=10)[8]:6.2f} ms"


@dataclass(frozen=True, slots=True)
class Latencies:
    """One way of measuring: milliseconds of each direct and each proxied request, and the proxy's judging counts
    (None in one process, where the proxy writes them only when it stops)."""

    title: str
    direct: list[float]
    proxied: list[float]
    judging: dict[str, int] | None

    @property
    def added(self) -> float:
        return statistics.median(self.proxied) - statistics.median(self.direct)

    def report(self) -> None:
        print(f"\n{self.title}")
        print(line("direct", self.direct))
        print(line("proxied", self.proxied))
        verdict = "met" if self.added <= GOAL_MS else "NOT met"
        print(f"{'added':10} median {self.added:6.2f} ms   goal <= {GOAL_MS:g} ms with checks on: {verdict}")
        if self.judging is not None:
            print(f"{'judging':10} {', '.join(f'{key} {value}' for key, value in self.judging.items())}")


def deployed(requests: int, batch: int, pause_ms: float) -> Latencies:
    """The mock and the proxy in processes of their own; `pause_ms` after each request (0: back to back)."""
    if pause_ms:
        title = f"separate processes, paced: {pause_ms:g} ms after each request (the judge works in the pauses)"
    else:
        title = "separate processes, back to back (the judge works while the next requests come)"
    with tempfile.TemporaryDirectory() as folder:
        with served(MOCK) as mock, served(PROXY, mock, folder) as proxy:
            direct, proxied = measure(mock, proxy, requests, batch, pause_ms / 1000)
        judging = json.loads((Path(folder) / "proxy.json").read_text("utf-8"))["judging"]
    return Latencies(title, direct, proxied, judging)


def in_process(requests: int, batch: int) -> Latencies:
    """The mock, the proxy and the client as threads of this process, back to back (the older setup)."""
    with (
        tempfile.TemporaryDirectory() as folder,
        serve_in_thread(MockConfig(lineup="all")) as mock,
        serve_proxy_in_thread(mock.api_base, Path(folder)) as proxy,
    ):
        direct, proxied = measure(mock.api_base, proxy, requests, batch, 0.0)
    return Latencies("one process (client, proxy and mock as threads, one GIL), back to back", direct, proxied, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="requests each way (default 500)")
    parser.add_argument("--batch", type=int, default=50, help="requests each way before switching (default 50)")
    parser.add_argument("--pause", type=float, default=5.0, help="ms after each request when paced (default 5)")
    parser.add_argument("--in-process", action="store_true", help="also measure with everything in one process")
    args = parser.parse_args()
    if args.requests < 10 or args.batch < 1 or args.pause <= 0:
        parser.error("--requests must be at least 10, --batch at least 1, --pause above 0")
    print(
        f"proxy vs direct, {args.requests} small completions each way (max_completion_tokens 8), in turns of "
        f"{args.batch}, after {WARMUP} each; Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    deployed(args.requests, args.batch, 0.0).report()
    deployed(args.requests, args.batch, args.pause).report()
    if args.in_process:
        in_process(args.requests, args.batch).report()


if __name__ == "__main__":
    main()
