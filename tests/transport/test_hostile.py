"""Badly behaved targets, served by raw asyncio on loopback (a framework would be too polite): every case ends
within its timeout as a classified finding, never a hang or a traceback — one request at a time through the
transport, and whole runs of `kimi-conformance run` whose report must still be written."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kimi_conformance.checks import CheckContext, run_checks
from kimi_conformance.loopback import LoopbackServer, running
from kimi_conformance.transport import TargetClient

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
SSE_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


MODELS = json.dumps({"object": "list", "data": [{"id": "kimi-k2-turbo-preview", "object": "model"}]}).encode()


@contextlib.contextmanager
def raw_server(handler: Handler, list_models: bool = False) -> Iterator[str]:
    """A raw TCP server on a free loopback port, in its own event loop thread; yields its base URL. With
    `list_models`, `GET /v1/models` gets a sound answer (so the run gets past its probe) and the rest `handler`."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, asyncio.Server] = {}
    writers: list[asyncio.StreamWriter] = []

    async def serve() -> None:
        async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            with contextlib.suppress(Exception, asyncio.CancelledError):
                head = await reader.readuntil(b"\r\n\r\n")
                if list_models and head.startswith(b"GET ") and b"/models " in head.split(b"\r\n", 1)[0]:
                    writer.write(answer("200 OK", "application/json", MODELS))
                else:
                    await handler(reader, writer)
            writer.close()

        holder["server"] = await asyncio.start_server(guarded, "127.0.0.1", 0)
        started.set()

    async def shutdown() -> None:
        holder["server"].close()
        for writer in writers:
            writer.close()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await holder["server"].wait_closed()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(serve()), loop.run_forever()), daemon=True)
    thread.start()
    assert started.wait(5)
    port = holder["server"].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(30)


async def stall_after_one_event(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(SSE_HEAD + chunk(b'data: {"id":"x","object":"chat.completion.chunk"}\n\n'))
    await writer.drain()
    await asyncio.sleep(30)


async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(SSE_HEAD)
    for _ in range(10_000):
        writer.write(chunk(b"data: {}\n\n"))
        await writer.drain()
        await asyncio.sleep(0.01)


async def reset_mid_stream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(SSE_HEAD + chunk(b"data: {}\n\n"))
    await writer.drain()
    writer.transport.abort()


@pytest.mark.parametrize(
    ("handler", "code", "limit"),
    [
        (silent, "HTTP001", 3.0),
        (stall_after_one_event, "HTTP005", 3.0),
        (endless, "HTTP005", 4.0),
        (reset_mid_stream, "HTTP005", 3.0),
    ],
    ids=["accepts-never-answers", "headers-then-stall", "streams-forever", "reset-mid-stream"],
)
def test_hostile_target_is_a_finding_within_its_timeout(handler: Handler, code: str, limit: float) -> None:
    with raw_server(handler) as base_url:
        client = TargetClient(base_url, "sk-test", timeout=1.0, stream_timeout=1.5, stream_idle_timeout=0.5)
        started = time.monotonic()
        body = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}], "stream": True}
        exchange = client.request("createChatCompletion", "POST", "/chat/completions", json_body=body)
        elapsed = time.monotonic() - started
        client.close()
    outcomes = run_checks(CheckContext(), exchange, {"HTTP001", "HTTP005", "SSE003"})
    found = {o.code for o in outcomes if o.finding is not None}
    assert code in found, (found, exchange.transport_error, exchange.stream_error)
    assert elapsed < limit


JSON_HEAD = "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {length}\r\nconnection: close\r\n\r\n"


def answer(status: str, kind: str, body: bytes, length: int | None = None) -> bytes:
    head = JSON_HEAD.format(status=status, kind=kind, length=len(body) if length is None else length)
    return head.encode() + body


async def headers_then_stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(answer("200 OK", "application/json", b"", length=100))
    await writer.drain()
    await asyncio.sleep(30)


async def body_of_50_mb(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    size = 50 * 1024 * 1024
    writer.write(answer("200 OK", "application/json", b"", length=size))
    piece = b"[" + b"0," * (512 * 1024 - 1)
    for _ in range(size // len(piece)):
        writer.write(piece)
        await writer.drain()


async def invalid_utf8(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(answer("200 OK", "application/json", b'{"object":"list","data":[{"id":"\xff\xfe"}]}'))
    await writer.drain()


async def html_502(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
    writer.write(answer("502 Bad Gateway", "text/html", page))
    await writer.drain()


async def not_json(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(answer("200 OK", "application/json", b"OK"))
    await writer.drain()


async def short_of_its_content_length(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(answer("200 OK", "application/json", b'{"object": "list", "da', length=1000))
    await writer.drain()


HOSTILE_RUNS = [
    (silent, "HTTP001"),
    (headers_then_stall, "HTTP005"),
    (endless, "HTTP005"),
    (body_of_50_mb, "HTTP005"),
    (invalid_utf8, "SCHM004"),
    (reset_mid_stream, "HTTP005"),
    (html_502, "HTTP002"),
    (not_json, "SCHM004"),
    (short_of_its_content_length, "HTTP005"),
]
RUN_TIMEOUTS = ("--request-timeout", "2", "--stream-timeout", "4", "--stream-idle-timeout", "1")


def run_against(
    tmp_path: Path, base_url: str, *options: str, timeout: float = 120
) -> tuple[subprocess.CompletedProcess[str], float]:
    """A quick-profile `kimi-conformance run` against `base_url` from `tmp_path`; its process and its seconds."""
    command = [sys.executable, "-m", "kimi_conformance", "run", "--target", base_url, "--api-key-env", "HOSTILE_KEY"]
    command += ["--profile", "quick", "--report-dir", "reports", *options]
    started = time.monotonic()
    env = {**os.environ, "HOSTILE_KEY": "sk-x"}
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=timeout, env=env)
    return done, time.monotonic() - started


@pytest.mark.parametrize(("handler", "code"), HOSTILE_RUNS, ids=[h.__name__ for h, _ in HOSTILE_RUNS])
def test_a_run_against_a_hostile_target_ends_with_a_classified_finding(
    handler: Handler, code: str, tmp_path: Path
) -> None:
    with raw_server(handler) as base_url:
        done, elapsed = run_against(tmp_path, base_url, "--model", "kimi-k2-turbo-preview", *RUN_TIMEOUTS)
    output = done.stdout + done.stderr
    results = json.loads((tmp_path / "reports" / "latest" / "results.json").read_text("utf-8"))
    found = {finding["code"] for finding in results["findings"]}
    # a target whose very first answer (the probe) cannot be read is gone: incomplete (2), the finding says why
    gone = code in ("HTTP001", "HTTP005")
    assert (done.returncode, results["verdict"]) == ((2, "incomplete") if gone else (1, "fail")), output[-3000:]
    assert code in found and (results["target_unusable"] is not None) is gone, (found, output[-2000:])
    assert "Traceback" not in output and not re.search(r"\.py:\d+: \w", output), output[-3000:]  # no traceback
    assert elapsed < 60, f"{handler.__name__}: {elapsed:.0f} s"


def test_a_target_that_lists_its_models_then_hangs_stops_the_run_with_its_reports(tmp_path: Path) -> None:
    """After UNANSWERED_LIMIT requests in a row without an answer the run stops, says why, and writes its reports,
    instead of waiting out every request of the suite."""

    async def models_then_silence(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/v1/models":
            body = json.dumps({"object": "list", "data": [{"id": "kimi-k2-turbo-preview", "object": "model"}]})
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
            )
            await send({"type": "http.response.body", "body": body.encode()})
            return
        await asyncio.sleep(60)

    with running(LoopbackServer(models_then_silence), "models-then-silence") as server:  # type: ignore[arg-type]
        done, elapsed = run_against(tmp_path, server.api_base, "--request-timeout", "1", timeout=300)
    output = done.stdout + done.stderr
    results = json.loads((tmp_path / "reports" / "latest" / "results.json").read_text("utf-8"))
    assert "the target stopped answering: 5 requests in a row" in (results["budget_reached"] or ""), output[-2000:]
    assert done.returncode == 1 and "HTTP001" in {f["code"] for f in results["findings"]}
    assert results["not_run"] and "Traceback" not in output
    assert elapsed < 90, f"{elapsed:.0f} s"
