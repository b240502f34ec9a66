"""Badly behaved targets, served by raw asyncio on loopback: every case ends within its timeout as a classified
finding (HTTP001 no answer, HTTP005 body cut short), never a hang or an exception."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Iterator

import pytest

from kimi_conformance.checks import CheckContext, run_checks
from kimi_conformance.transport import TargetClient

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
SSE_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


@contextlib.contextmanager
def raw_server(handler: Handler) -> Iterator[str]:
    """A raw TCP server on a free loopback port, in its own event loop thread; yields its base URL."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, asyncio.Server] = {}
    writers: list[asyncio.StreamWriter] = []

    async def serve() -> None:
        async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            with contextlib.suppress(Exception):
                await reader.readuntil(b"\r\n\r\n")
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
