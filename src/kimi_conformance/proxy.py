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
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from kimi_conformance import strict_json
from kimi_conformance.exchange import Exchange
from kimi_conformance.loopback import LoopbackServer, running
from kimi_conformance.proxy_recorder import DRAIN_SECONDS, QUEUE_SIZE, JudgingWorker, Recorder, Relayed

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host"}
)


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
    client = httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=False)

    async def relay(request: Request) -> Response:
        path = request.url.path
        raw_path: bytes = request.scope.get("raw_path") or path.encode()
        body = await request.body()
        recorder.learn_secrets(request.headers)
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        try:
            target = upstream_url(base, raw_path, request.scope.get("query_string") or b"")
        except ValueError as exc:
            return Response(f"not relayed: {exc}", status_code=400, media_type="text/plain")
        outgoing = client.build_request(request.method, target, headers=headers, content=body)
        started = time.monotonic()
        exchange = Exchange(
            operation=recorder.operation(request.method, path),
            method=request.method,
            url=str(outgoing.url),
            request_headers=recorder.redactor.headers(dict(request.headers)),
            request_text=recorder.redactor.body(request.headers.get("content-type", ""), body),
            intent="observed",
        )
        try:
            upstream_response = await client.send(outgoing, stream=True)
        except httpx.HTTPError as exc:
            exchange.transport_error = f"{type(exc).__name__}: {exc}"
            exchange.elapsed = time.monotonic() - started
            judging.submit(Relayed(exchange, body))
            return Response(f"upstream unreachable: {type(exc).__name__}", status_code=502, media_type="text/plain")
        exchange.status = upstream_response.status_code
        exchange.response_headers = {k.lower(): v for k, v in upstream_response.headers.items()}

        async def pieces() -> AsyncIterator[bytes]:
            received: list[bytes] = []
            try:
                async for chunk in upstream_response.aiter_raw():
                    received.append(chunk)
                    yield chunk
            except httpx.HTTPError as exc:
                exchange.stream_error = f"the upstream body broke off: {type(exc).__name__}"
            finally:
                await upstream_response.aclose()
                exchange.elapsed = time.monotonic() - started
                judging.submit(Relayed(exchange, body, received))

        response = StreamingResponse(pieces(), status_code=upstream_response.status_code)
        response.raw_headers = [
            (name.lower(), value)
            for name, value in upstream_response.headers.raw
            if name.decode("latin-1").lower() not in HOP_BY_HOP
        ]
        return response

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await client.aclose()
            await asyncio.to_thread(judging.close)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    app = Starlette(routes=[Route("/{path:path}", relay, methods=methods)], lifespan=lifespan)
    app.state.recorder = recorder
    app.state.judging = judging
    return app


def upstream_url(base: httpx.URL, raw_path: bytes, query: bytes) -> httpx.URL:
    """The upstream URL of a request: the upstream's scheme, host and port, always, and its path followed by the
    client's path after `/v1`, forwarded as the raw bytes the client sent (never decoded and joined again, so
    `%2F..` stays data and no request can reach another host, port or path above the upstream's)."""
    suffix = raw_path[len(b"/v1") :] if raw_path.startswith(b"/v1") else raw_path
    if suffix and not suffix.startswith(b"/"):
        raise ValueError("the path must go on with `/` after /v1")
    if any(byte < 0x21 or byte > 0x7E for byte in suffix):
        raise ValueError("the path holds bytes a URL cannot carry raw")
    if any(segment in (b".", b"..") for segment in suffix.split(b"?")[0].split(b"/")):
        raise ValueError("a `.` or `..` path segment would leave the upstream's base path")
    base_path = base.raw_path.split(b"?")[0].rstrip(b"/")
    return base.copy_with(raw_path=base_path + suffix + (b"?" + query if query else b""))


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
