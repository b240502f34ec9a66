"""Throughput of the reference mock next to a Starlette hello-world, both under `wrk -t1 -c8`, in the same run.

Two servers run in background threads of this process, each a `kimi_conformance.loopback.LoopbackServer` (the
uvicorn settings the mock ships with) on a free loopback port: the mock as tests and `kimi-conformance mock` serve
it, and a Starlette app on the same route that reads the body and answers a small JSON body, or, for
`"stream": true`, the very events the mock streams for the benchmark request (captured from it once, then sent as
they are, one write each, through a `StreamingResponse`). `wrk` (one thread, 8 keep-alive connections, a Lua script
sending the same POST body) loads one server at a time: after an unmeasured warm-up of each, every round measures
the mock then the hello-world, so a load that comes and goes on the machine weighs on both. Rows: the medians over
the rounds of the mock's rate, the hello-world's and their ratio (each round's ratio too), and the issue's goal (the
mock keeps at least half of the hello-world's rate). See benchmarks/README.md.

    python benchmarks/bench_mock.py --seconds 5
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import starlette
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from kimi_conformance.loopback import LoopbackServer, running
from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, serve_in_thread

MODEL = "kimi-k2-turbo-preview"
PROMPT = [{"role": "user", "content": "Hello, Kimi! How are you today?"}]
CHAT_PATH = "/v1/chat/completions"
MOCK_THREAD, HELLO_THREAD = "kimi-mock", "hello-world"
"""The server threads (`serve_in_thread` names the mock's), whose CPU time per response is measured."""
GOAL = 0.5
"""The share of the hello-world's throughput the mock must keep (issue 17)."""


def hello_app(events: list[bytes]) -> Starlette:
    """The reference: Starlette, one route, the body read; a small JSON answer, or (`"stream": true`) the given SSE
    events, the bytes the mock sent for the same request, one write each, through a `StreamingResponse`."""

    async def stream() -> AsyncIterator[bytes]:
        for event in events:
            yield event

    async def chat(request: Request) -> Response:
        body = await request.body()
        if b'"stream":true' in body or b'"stream": true' in body:
            return StreamingResponse(stream(), media_type="text/event-stream")
        return JSONResponse({"message": "hello"})

    return Starlette(routes=[Route(CHAT_PATH, chat, methods=["POST"])])


def mock_events(base_url: str) -> list[bytes]:
    """The SSE events (`[DONE]` included) of the mock's stream for the benchmark prompt, each as sent."""
    body = {"model": MODEL, "messages": PROMPT, "stream": True}
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    with httpx.stream("POST", base_url + CHAT_PATH, json=body, headers=headers, timeout=10) as response:
        response.raise_for_status()
        text = response.read()
    return [event + b"\n\n" for event in text.split(b"\n\n") if event]


# ---------------------------------------------------------------------------------------------------- wrk


def wrk_script(folder: Path, stream: bool) -> Path:
    """wrk's Lua script: every request the same POST of the benchmark body, with the mock's key."""
    body = json.dumps({"model": MODEL, "messages": PROMPT, "stream": stream}, separators=(",", ":"))
    lines = [
        'wrk.method = "POST"',
        f"wrk.body = {json.dumps(body)}",
        'wrk.headers["Content-Type"] = "application/json"',
        f'wrk.headers["Authorization"] = "Bearer {DEFAULT_API_KEY}"',
    ]
    path = folder / f"post-{'stream' if stream else 'json'}.lua"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests_per_s: float
    cpu_per_request: float | None
    """Seconds of CPU the server's thread spent per response (Linux; None elsewhere)."""
    non_2xx: int
    socket_errors: int


def thread_cpu(name: str) -> float | None:
    """CPU seconds (user + system) the thread called `name` has used, from /proc (Linux); None elsewhere."""
    thread = next((t for t in threading.enumerate() if t.name == name), None)
    stat = Path(f"/proc/self/task/{thread.native_id}/stat") if thread is not None else None
    if stat is None or not stat.is_file():
        return None
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(url: str, script: Path, seconds: float, connections: int, thread: str = "") -> WrkResult:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "-s", str(script), url]
    before = thread_cpu(thread)
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    after = thread_cpu(thread)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if rate is None or total is None:
        raise RuntimeError(f"wrk printed no rate:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    spent = after - before if after is not None and before is not None and int(total.group(1)) else None
    return WrkResult(
        float(rate.group(1)),
        spent / int(total.group(1)) if spent is not None else None,
        int(non_2xx.group(1)) if non_2xx else 0,
        sum(int(n) for n in errors.groups()) if errors else 0,
    )


# ---------------------------------------------------------------------------------------------------- report


@dataclass(frozen=True, slots=True)
class Row:
    """One row of the table: the median over the rounds of the mock's rate, the hello-world's and their ratio."""

    label: str
    mock: float
    reference: float
    ratio: float
    rounds: tuple[float, ...]
    """The ratio of each round."""
    cpu: tuple[float, float] | None = None
    """Median µs of CPU per response of the mock's server thread and of the hello-world's (Linux)."""

    def line(self) -> str:
        verdict = "met" if self.ratio >= GOAL else "NOT met"
        each = ", ".join(f"{ratio:.0%}" for ratio in self.rounds)
        return (
            f"{self.label:30}{self.mock:12,.0f}{self.reference:14,.0f}{self.ratio:10.1%}   >= {GOAL:.0%}: {verdict}"
            f"   (rounds: {each})"
        )

    def cpu_line(self) -> str:
        if self.cpu is None:
            return ""
        mock, hello = self.cpu
        return f"{'  CPU µs per response':30}{mock:12.0f}{hello:14.0f}{hello / mock:10.1%}   (server threads)"


@contextmanager
def servers(config: MockConfig) -> Iterator[tuple[str, str, int]]:
    """The mock and the hello-world on loopback: (mock root, hello root, events per stream)."""
    with serve_in_thread(config) as mock:  # its thread is MOCK_THREAD
        events = mock_events(mock.base_url)
        with running(LoopbackServer(hello_app(events)), HELLO_THREAD) as hello:
            yield mock.base_url, hello.base_url, len(events)


def measure(seconds: float, warmup: float, connections: int, rounds: int) -> tuple[list[Row], int]:
    """Both rows of the table. Each round measures the mock, then the hello-world, back to back, so a load that
    comes and goes on the machine weighs on both; each figure is the median over the rounds."""
    rows = []
    with tempfile.TemporaryDirectory() as folder, servers(MockConfig(lineup="all")) as (mock, hello, events):
        for label, stream in (("non-stream requests/s", False), (f"stream ({events} events) responses/s", True)):
            script = wrk_script(Path(folder), stream)
            for root in (mock, hello):
                if warmup:
                    run_wrk(root + CHAT_PATH, script, warmup, connections)
            pairs, cpus = [], []
            for _ in range(rounds):
                results = []
                for root, thread in ((mock, MOCK_THREAD), (hello, HELLO_THREAD)):
                    result = run_wrk(root + CHAT_PATH, script, seconds, connections, thread)
                    if result.non_2xx or result.socket_errors:
                        raise SystemExit(f"{root}: {result.non_2xx} non-2xx responses, {result.socket_errors} errors")
                    results.append(result)
                pairs.append((results[0].requests_per_s, results[1].requests_per_s))
                cpus.append((results[0].cpu_per_request, results[1].cpu_per_request))
            measured = [(m * 1e6, h * 1e6) for m, h in cpus if m is not None and h is not None]
            rows.append(
                Row(
                    label,
                    statistics.median(m for m, _ in pairs),
                    statistics.median(h for _, h in pairs),
                    statistics.median(m / h for m, h in pairs),
                    tuple(m / h for m, h in pairs),
                    (statistics.median(m for m, _ in measured), statistics.median(h for _, h in measured))
                    if measured
                    else None,
                )
            )
    return rows, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each measurement (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of unmeasured load first (default 1)")
    parser.add_argument("--connections", type=int, default=8, help="wrk's connections (default 8, as -c8)")
    parser.add_argument("--rounds", type=int, default=3, help="mock-then-hello rounds per row; medians (default 3)")
    args = parser.parse_args()
    if args.seconds <= 0 or args.warmup < 0 or args.connections < 1 or args.rounds < 1:
        parser.error("--seconds must be > 0, --warmup >= 0, --connections and --rounds >= 1")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian/Ubuntu: apt-get install wrk)")
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # wrk leaves mid-stream at its end: not our error
    rows, _ = measure(args.seconds, args.warmup, args.connections, args.rounds)
    print(
        f"mock vs Starlette hello-world, wrk -t1 -c{args.connections}, {args.rounds} rounds of {args.seconds:g} s "
        f"each, medians; "
        f"Python {platform.python_version()}, uvicorn {uvicorn.__version__}, starlette {starlette.__version__}, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"\n{'':30}{'mock':>12}{'hello-world':>14}{'ratio':>10}   goal")
    for row in rows:
        print(row.line())
        if row.cpu_line():
            print(row.cpu_line())


if __name__ == "__main__":
    main()
