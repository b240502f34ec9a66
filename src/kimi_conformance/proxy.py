"""The validating proxy: forwards every request to the upstream and every response back unchanged — streams chunk
by chunk as they arrive — and judges each exchange on the side, writing outcomes and a cassette as it goes.

It never breaks or slows the traffic it watches. Once an exchange has been relayed in full, the event loop puts it
on a bounded queue (`proxy_recorder.JudgingWorker`) and goes back to serving; the checks run on the worker's thread.
A check that fails or crashes is recorded, never passed to the client. When the queue is full, the exchange is
counted as dropped, not judged. `kimi-conformance report DIR` renders what the proxy wrote like a run.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from kimi_conformance import strict_json
from kimi_conformance.exchange import Exchange
from kimi_conformance.loopback import LoopbackServer, running
from kimi_conformance.proxy_recorder import DRAIN_SECONDS, QUEUE_SIZE, JudgingWorker, Recorder, Relayed
from kimi_conformance.proxy_upstream import UpstreamError, UpstreamResponse, upstream_for

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host"}
)
HOP_BY_HOP_RAW = frozenset(name.encode() for name in HOP_BY_HOP)
"""The same names as uvicorn's raw headers carry them (lower case)."""
WHOLE_BYTES = 256 * 1024
"""Answers up to this declared length are read whole, then relayed in one write (`_small`)."""


def create_proxy_app(
    upstream: str,
    folder: Path,
    timeout: float = 300.0,
    *,
    judging_queue: int = QUEUE_SIZE,
    drain_seconds: float = DRAIN_SECONDS,
) -> Starlette:
    """The proxy as an ASGI app: `upstream` is an SDK-style base URL (`.../v1`); clients use the proxy's `/v1`.
    At most `judging_queue` relayed exchanges wait to be judged; when the app shuts down, its judge gets
    `drain_seconds` to finish them."""
    base = httpx.URL(upstream.rstrip("/"))
    recorder = Recorder(folder)
    judging = JudgingWorker(recorder, judging_queue, drain_seconds)
    connections = upstream_for(base, timeout)
    origin = f"{base.scheme}://{base.netloc.decode('ascii')}"

    async def relay(request: Request) -> Response:
        path = request.url.path
        raw_path: bytes = request.scope.get("raw_path") or path.encode()
        body = await request.body()
        recorder.learn_secrets(request.headers)
        try:
            target = upstream_target(base.raw_path, raw_path, request.scope.get("query_string") or b"")
        except ValueError as exc:
            return Response(f"not relayed: {exc}", status_code=400, media_type="text/plain")
        headers = [(name, value) for name, value in request.headers.raw if name not in HOP_BY_HOP_RAW]
        started = time.monotonic()
        exchange = Exchange(
            operation=recorder.operation(request.method, path),
            method=request.method,
            url=origin + target.decode("latin-1"),  # the query is as the client sent it
            request_headers=recorder.redactor.headers(dict(request.headers)),
            request_text=recorder.redactor.body(request.headers.get("content-type", ""), body),
            intent="observed",
        )
        try:
            answer = await connections.send(request.method, target, headers, body)
        except UpstreamError as error:
            exchange.transport_error = error.describe()
            exchange.elapsed = time.monotonic() - started
            refused = Response(f"upstream unreachable: {error.kind}", status_code=502, media_type="text/plain")
            refused.background = BackgroundTask(_judge, judging, Relayed(exchange, body))
            return refused
        exchange.status = answer.status
        exchange.response_headers = _header_map(answer.headers)
        relayed_headers = [
            (name.lower(), value) for name, value in answer.headers if name.lower() not in HOP_BY_HOP_RAW
        ]
        if _small(exchange.response_headers):
            return await _whole(answer, exchange, body, relayed_headers, started, judging)

        async def pieces() -> AsyncIterator[bytes]:
            received: list[bytes] = []
            try:
                async for chunk in answer.body():
                    received.append(chunk)
                    yield chunk
            except UpstreamError as error:
                exchange.stream_error = f"the upstream body broke off: {error.kind}"
            finally:
                await answer.close()
                exchange.elapsed = time.monotonic() - started
                # on the loop's next turn, once the stream's last bytes are written (also when the client left)
                asyncio.get_running_loop().call_soon(judging.submit, Relayed(exchange, body, received))

        response = StreamingResponse(pieces(), status_code=answer.status)
        response.raw_headers = relayed_headers
        return response

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await connections.aclose()
            await asyncio.to_thread(judging.close)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    app = Starlette(routes=[Route("/{path:path}", relay, methods=methods)], lifespan=lifespan)
    app.state.recorder = recorder
    app.state.judging = judging
    return app


def _small(headers: dict[str, str]) -> bool:
    """Whether an answer is read whole before it is relayed: a declared length up to WHOLE_BYTES, not a stream.
    Its bytes go out the same, in one write, without a streaming response's task group and chunk-by-chunk sends."""
    length = headers.get("content-length", "")
    event_stream = headers.get("content-type", "").startswith("text/event-stream")
    return length.isdigit() and int(length) <= WHOLE_BYTES and not event_stream


async def _whole(
    answer: UpstreamResponse,
    exchange: Exchange,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
    started: float,
    judging: JudgingWorker,
) -> Response:
    """A small answer, read to its end and relayed in one piece (or, if it breaks off, what arrived of it)."""
    received: list[bytes] = []
    try:
        async for chunk in answer.body():
            received.append(chunk)
    except UpstreamError as error:
        exchange.stream_error = f"the upstream body broke off: {error.kind}"
    finally:
        await answer.close()
    exchange.elapsed = time.monotonic() - started
    if exchange.stream_error is None:
        response = Response(b"".join(received), status_code=answer.status)
    else:  # as a streamed relay ends: the client gets what came, short of the length declared
        response = StreamingResponse(_replayed(received), status_code=answer.status)
    response.raw_headers = headers
    response.background = BackgroundTask(_judge, judging, Relayed(exchange, body, received))
    return response


async def _judge(judging: JudgingWorker, relayed: Relayed) -> None:
    """Hand a relayed exchange to the judge once its answer is sent. Not before: the judging thread would take the
    GIL at the first write's system call and keep it, its 0.7 ms, between the answer's head and its body."""
    judging.submit(relayed)


async def _replayed(received: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in received:
        yield chunk


def _header_map(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Headers as the checks read them, as httpx's `Headers.items()` gave them: names in lower case, the values of
    a repeated name joined with ", ", bytes read as UTF-8 (else Latin-1)."""
    merged: dict[str, str] = {}
    for name, value in raw:
        key, text = name.decode("latin-1").lower(), _text(value)
        merged[key] = f"{merged[key]}, {text}" if key in merged else text
    return merged


def _text(value: bytes) -> str:
    try:
        return value.decode()
    except UnicodeDecodeError:
        return value.decode("latin-1")


def upstream_url(base: httpx.URL, raw_path: bytes, query: bytes) -> httpx.URL:
    """The upstream URL of a request (`upstream_target` on the upstream's origin)."""
    return base.copy_with(raw_path=upstream_target(base.raw_path, raw_path, query))


def upstream_target(base_path: bytes, raw_path: bytes, query: bytes) -> bytes:
    """The path and query a request goes to on the upstream: the upstream's path followed by the client's path
    after `/v1`, forwarded as the raw bytes the client sent (never decoded and joined again, so `%2F..` stays data
    and no request can reach another host, port or path above the upstream's)."""
    suffix = raw_path[len(b"/v1") :] if raw_path.startswith(b"/v1") else raw_path
    if suffix and not suffix.startswith(b"/"):
        raise ValueError("the path must go on with `/` after /v1")
    if any(byte < 0x21 or byte > 0x7E for byte in suffix):
        raise ValueError("the path holds bytes a URL cannot carry raw")
    if any(segment in (b".", b"..") for segment in suffix.split(b"?")[0].split(b"/")):
        raise ValueError("a `.` or `..` path segment would leave the upstream's base path")
    return base_path.split(b"?")[0].rstrip(b"/") + suffix + (b"?" + query if query else b"")


def read_outcomes(folder: Path) -> list[dict[str, Any]]:
    path = folder / "outcomes.jsonl"
    return strict_json.jsonl(path.read_text("utf-8")) if path.is_file() else []


@contextlib.contextmanager
def serve_proxy_in_thread(
    upstream: str, folder: Path, host: str = "127.0.0.1", port: int = 0, *, judging_queue: int = QUEUE_SIZE
) -> Iterator[str]:
    """Serve the proxy on loopback in a daemon thread; yields its SDK-style base URL (`.../v1`). When the block
    ends, the exchanges still queued are judged (for up to DRAIN_SECONDS) and `proxy.json` gets the counts."""
    app = create_proxy_app(upstream, folder, judging_queue=judging_queue)
    with running(LoopbackServer(app, host, port), "kimi-proxy") as server:
        yield server.api_base
