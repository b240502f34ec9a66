"""Every read is bounded, whichever part of the suite made it: a gzip bomb, a 20 MB SSE line, a stream of a
million events and a million tiny events end as HTTP005 (body or event cap) — through the suite's own requests
and through schemathesis's generated cases (`test_contract.py`, sent by the run's client) — with a report, no
traceback, and a peak memory of the whole run (the `run` process and its pytest child) well under 500 MB."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from tests.transport.test_hostile import RUN_TIMEOUTS, SSE_HEAD, Handler, chunk, raw_server

PEAK_MEMORY_LIMIT = 500 * 1024 * 1024
CHUNK_EVENT = (
    b'data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"kimi-k2-turbo-preview",'
    b'"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}\n\n'
)


@functools.cache
def gzip_bomb() -> bytes:
    """1 GiB of zeros, gzip-compressed to about 1 MB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    return b"".join([*(compressor.compress(zeros) for _ in range(1024)), compressor.flush()])


async def gzip_bombed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    body = gzip_bomb()
    head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\n"
    writer.write(f"{head}content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode() + body)
    await writer.drain()


async def sse_line_of_20_mb(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(SSE_HEAD + chunk(b"data: "))
    piece = b"a" * (1 << 20)
    for _ in range(20):
        writer.write(chunk(piece))
        await writer.drain()
    writer.write(chunk(b"\n\n") + b"0\r\n\r\n")
    await writer.drain()


async def a_million_events(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _events(writer, CHUNK_EVENT)


async def a_million_tiny_events(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _events(writer, b"data: {}\n\n")  # 10 MB: within the byte cap, past the event cap


async def _events(writer: asyncio.StreamWriter, event: bytes) -> None:
    writer.write(SSE_HEAD)
    thousand = chunk(event * 1000)
    for _ in range(1000):
        writer.write(thousand)
        await writer.drain()
    writer.write(chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
    await writer.drain()


def run_measured(tmp_path: Path, base_url: str, *options: str) -> tuple[int, str, int, float]:
    """A quick `kimi-conformance run`: its exit code, output, peak resident memory in bytes (the largest of the
    process and its descendants, from `wait4`), and seconds."""
    command = [sys.executable, "-m", "kimi_conformance", "run", "--target", base_url, "--api-key-env", "HOSTILE_KEY"]
    command += ["--profile", "quick", "--report-dir", "reports", "--model", "kimi-k2-turbo-preview", *RUN_TIMEOUTS]
    started = time.monotonic()
    env = {**os.environ, "HOSTILE_KEY": "sk-x"}
    output_to = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT}
    with subprocess.Popen([*command, *options], cwd=tmp_path, env=env, **output_to) as run:  # type: ignore[call-overload]
        assert run.stdout is not None
        output = run.stdout.read().decode("utf-8", errors="replace")
        _, status, usage = os.wait4(run.pid, 0)
        run.returncode = os.waitstatus_to_exitcode(status)
    return run.returncode, output, usage.ru_maxrss * 1024, time.monotonic() - started


CASES = [(gzip_bombed, "body larger than"), (sse_line_of_20_mb, "body larger than")]
CASES += [(a_million_events, "body larger than"), (a_million_tiny_events, "more than 200,000 events")]


@pytest.mark.parametrize(
    "suite", ["", "test_contract.py::test_operation[createChatCompletion-positive]"], ids=["suite", "generated-cases"]
)
@pytest.mark.parametrize(("handler", "cut"), CASES, ids=[handler.__name__ for handler, _ in CASES])
def test_a_huge_answer_is_cut_at_a_cap_and_found(handler: Handler, cut: str, suite: str, tmp_path: Path) -> None:
    gzip_bomb()  # made before the server starts: 3 s of compression would stall its event loop
    with raw_server(handler, list_models=True) as base_url:
        # -x: every test of the suite would meet the same answer; the first is enough (and keeps this quick)
        returncode, output, peak, elapsed = run_measured(tmp_path, base_url, *([suite] if suite else []), "-x")
    results = json.loads((tmp_path / "reports" / "latest" / "results.json").read_text("utf-8"))
    cut_short = [f for f in results["findings"] if f["code"] == "HTTP005" and cut in f["message"]]
    assert returncode == 1 and results["verdict"] == "fail" and cut_short, output[-3000:]
    if suite:  # generated cases, sent by the run's client through schemathesis
        assert any(f["test"].startswith("suites/test_contract.py") for f in cut_short), output[-3000:]
    assert "Traceback" not in output and not re.search(r"\.py:\d+: \w", output), output[-3000:]
    assert peak < PEAK_MEMORY_LIMIT, f"{handler.__name__}: peak {peak / 2**20:.0f} MiB"
    assert elapsed < 90, f"{handler.__name__}: {elapsed:.0f} s"
