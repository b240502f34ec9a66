"""Throughput of the reference mock next to a bare uvicorn hello-world app, measured in the same run.

Two servers run in background threads of this process, with the same uvicorn settings, on free loopback
ports: the mock as shipped (`serve_in_thread`) and a minimal raw ASGI hello-world app. The load comes from
separate processes (httpx.AsyncClient, N concurrent connections each), so the client does not share a GIL
with the servers. Figures per server:

- non-stream requests/s: `POST /v1/chat/completions` (kimi-k2-turbo-preview, short prompt) vs a small JSON body;
- streamed chunks/s: SSE events (`data: ...`, `[DONE]` included) received over streamed completions vs the same
  number of small `data: ...` events per response from the hello-world app.

The ratios mock/hello say how much of the bare server's throughput the mock keeps. See benchmarks/README.md.

    python benchmarks/bench_mock.py --seconds 5 --concurrency 8
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any, Literal

import httpx
import uvicorn

from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, serve_in_thread

MODEL = "kimi-k2-turbo-preview"
PROMPT = [{"role": "user", "content": "Hello, Kimi! How are you today?"}]
HEADERS = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
CHAT_PATH = "/v1/chat/completions"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


# ---------------------------------------------------------------------------------------------------- hello world


def hello_app(events_per_stream: int) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """A minimal raw ASGI app: a small JSON body, or (`"stream": true` in the body) that many SSE events."""
    json_body = b'{"message":"hello"}'
    event = b'data: {"hello":"world"}\n\n'

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if b'"stream": true' not in body and b'"stream":true' not in body:
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(json_body)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": json_body})
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        for _ in range(events_per_stream - 1):
            await send({"type": "http.response.body", "body": event, "more_body": True})
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})

    return app


def loopback_socket() -> socket.socket:
    """A port-0 loopback socket as `uvicorn --port` makes one (via getaddrinfo): `proto` is IPPROTO_TCP, so asyncio
    switches Nagle off (TCP_NODELAY) on every accepted connection."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve_app(app: Any, name: str, lifespan: Literal["on", "off"] = "off") -> Iterator[str]:
    """An ASGI app on a loopback socket in a daemon thread, with the mock server's uvicorn settings; its root URL."""
    sock = loopback_socket()
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan=lifespan, ws="none")
    server = uvicorn.Server(config)  # uvicorn only captures signals on the main thread
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=name)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the {name} server did not start")
        time.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


# ---------------------------------------------------------------------------------------------------- load


@dataclass(frozen=True, slots=True)
class Result:
    responses: int
    events: int
    errors: int
    seconds: float


async def _load(url: str, stream: bool, seconds: float, concurrency: int, start_at: float) -> Result:
    body = json.dumps({"model": MODEL, "messages": PROMPT, "stream": stream}).encode()
    headers = {**HEADERS, "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    responses = events = errors = 0
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await asyncio.sleep(max(0.0, start_at - time.time()))  # all load processes start together
        begin = time.perf_counter()
        deadline = begin + seconds

        async def worker() -> None:
            nonlocal responses, events, errors
            while time.perf_counter() < deadline:
                if not stream:
                    response = await client.post(url, content=body, headers=headers)
                    if response.status_code != 200:
                        errors += 1
                    responses += 1
                    continue
                async with client.stream("POST", url, content=body, headers=headers) as response:
                    if response.status_code != 200:
                        errors += 1
                    async for line in response.aiter_lines():
                        if line.startswith("data:"):
                            events += 1
                responses += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - begin
    return Result(responses, events, errors, elapsed)


def load_process(url: str, stream: bool, seconds: float, concurrency: int, start_at: float) -> Result:
    """One load process: `concurrency` connections hitting `url` for `seconds`."""
    return asyncio.run(_load(url, stream, seconds, concurrency, start_at))


@dataclass(frozen=True, slots=True)
class Rates:
    requests_per_s: float
    events_per_s: float
    errors: int


def measure(pool: ProcessPoolExecutor, processes: int, url: str, stream: bool, seconds: float, conc: int) -> Rates:
    start_at = time.time() + 0.5
    futures = [pool.submit(load_process, url, stream, seconds, conc, start_at) for _ in range(processes)]
    results = [future.result() for future in futures]
    return Rates(
        requests_per_s=sum(r.responses / r.seconds for r in results),
        events_per_s=sum(r.events / r.seconds for r in results),
        errors=sum(r.errors for r in results),
    )


def events_in_one_stream(base_url: str) -> int:
    """SSE events (`[DONE]` included) of the mock's stream for the benchmark prompt; deterministic per request."""
    body = {"model": MODEL, "messages": PROMPT, "stream": True}
    count = 0
    with httpx.stream("POST", base_url + CHAT_PATH, json=body, headers=HEADERS, timeout=10) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            count += line.startswith("data:")
    return count


# ---------------------------------------------------------------------------------------------------- report


def _ratio(mock: float, hello: float) -> str:
    return f"{mock / hello:.3f}" if hello else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each measurement (default 5)")
    parser.add_argument("--concurrency", type=int, default=8, help="connections per load process (default 8)")
    parser.add_argument("--processes", type=int, default=1, help="load-generating processes (default 1)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of unmeasured load first (default 1)")
    args = parser.parse_args()
    if args.seconds <= 0 or args.concurrency < 1 or args.processes < 1 or args.warmup < 0:
        parser.error("--seconds must be > 0, --concurrency and --processes >= 1, --warmup >= 0")

    figures: dict[tuple[str, str], Rates] = {}
    with (
        ProcessPoolExecutor(max_workers=args.processes, mp_context=get_context("spawn")) as pool,
        serve_in_thread(MockConfig(lineup="all")) as mock,
    ):
        events = events_in_one_stream(mock.base_url)
        with serve_app(hello_app(events), "hello-world") as hello_url:
            targets = {"mock": mock.base_url, "hello": hello_url}
            for kind, stream in (("non-stream", False), ("stream", True)):
                for name, root in targets.items():
                    url = root + CHAT_PATH
                    if args.warmup:
                        measure(pool, args.processes, url, stream, args.warmup, args.concurrency)
                    figures[name, kind] = measure(pool, args.processes, url, stream, args.seconds, args.concurrency)

    extras = [name for name in ("httptools", "uvloop") if importlib.util.find_spec(name)]
    print(
        f"mock vs hello-world, {args.seconds:g} s per measurement, {args.processes} load process(es) x "
        f"{args.concurrency} connections; Python {platform.python_version()}, uvicorn {uvicorn.__version__} "
        f"({', '.join(extras) or 'h11, asyncio'}), {os.cpu_count()} CPUs"
    )
    print(f"stream: {events} SSE events per response ([DONE] included), model {MODEL}, short prompt")
    print()
    rows = [
        ("non-stream requests/s", "non-stream", "requests_per_s"),
        ("stream chunks/s", "stream", "events_per_s"),
        ("stream responses/s", "stream", "requests_per_s"),
    ]
    header = ("", "mock", "hello-world", "mock/hello")
    print(f"{header[0]:24}" + "".join(f"{cell:>13}" for cell in header[1:]))
    for label, kind, attribute in rows:
        mock_rate, hello_rate = (getattr(figures[name, kind], attribute) for name in ("mock", "hello"))
        print(f"{label:24}{mock_rate:13.1f}{hello_rate:13.1f}{_ratio(mock_rate, hello_rate):>13}")
    failures = {f"{name} {kind}": rates.errors for (name, kind), rates in figures.items() if rates.errors}
    if failures:
        print(f"\nnon-200 responses: {failures}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
