"""The validating proxy: forwards every request to the upstream and every response back unchanged — streams chunk
by chunk as they arrive — and runs the checks on the side, writing outcomes and a cassette as it goes.

It never breaks the traffic it watches: a check that fails or crashes is recorded, never passed to the client.
`kimi-conformance report DIR` renders what it wrote like a run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
import zlib
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from kimi_conformance import contract, strict_json
from kimi_conformance.checks import CHECKS, CheckContext
from kimi_conformance.exchange import Exchange
from kimi_conformance.loopback import LoopbackServer, running
from kimi_conformance.redaction import Redactor, redact, register_secret
from kimi_conformance.rules import load_rules
from kimi_conformance.rules.request_rules import ChatView, broken_rules, thinking_on
from kimi_conformance.runner.session import ConformanceSession

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host"}
)
log = logging.getLogger("kimi_conformance.proxy")


def _templates() -> list[tuple[re.Pattern[str], str, str]]:
    """(path pattern, METHOD, operationId) of every operation of the contract."""
    found = []
    for operation, (path, method) in contract.operations().items():
        parts = re.split(r"(\{[^/}]+\})", path)
        pattern = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
        found.append((re.compile(f"^{pattern}$"), method.upper(), operation))
    return found


class Recorder:
    """Runs the checks on each relayed exchange and appends outcomes and cassette lines to the proxy's folder."""

    def __init__(self, folder: Path, secrets: frozenset[str] = frozenset()) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.session = ConformanceSession(CheckContext(), selected=frozenset(CHECKS))
        self.redactor = Redactor(secrets)
        self.templates = _templates()
        self.lock = threading.Lock()
        (folder / "proxy.json").write_text(json.dumps({"started_at": time.time()}), "utf-8")

    def learn_secrets(self, headers: Mapping[str, str]) -> None:
        """The client's key (whatever its shape) becomes a secret of this process before anything is kept."""
        for name in ("authorization", "proxy-authorization", "x-api-key", "api-key"):
            value = headers.get(name)
            if value:
                register_secret(value)
                scheme, _, credential = value.partition(" ")
                if credential and scheme.lower() in ("bearer", "basic", "token"):
                    register_secret(credential.strip())

    def operation(self, method: str, path: str) -> str:
        for pattern, verb, operation in self.templates:
            if verb == method and pattern.match(path):
                return operation
        return "unknownRoute"

    def record(self, exchange: Exchange) -> None:
        """Check and write one exchange; any error here is logged, never raised into the traffic."""
        try:
            with self.lock:
                before = len(self.session.outcomes)
                self.session.check(exchange, "proxy")
                outcomes = self.session.outcomes[before:]
                with (self.folder / "outcomes.jsonl").open("a", encoding="utf-8") as out:
                    out.writelines(json.dumps(o.as_json()) + "\n" for o in outcomes)
                with (self.folder / "cassette.jsonl").open("a", encoding="utf-8") as out:
                    out.write(json.dumps(self.session.cassette[-1], ensure_ascii=False) + "\n")
                self.session.outcomes.clear()
                self.session.cassette.clear()
        except Exception:  # the proxy must never break the traffic it watches
            log.exception(
                "checking %s %s failed; the exchange was relayed unchanged", exchange.method, redact(exchange.url)
            )


def _mark_broken_rule(exchange: Exchange) -> None:
    """A chat request that breaks a model rule of the table is judged like a rule probe (RULE001, RULE003)."""
    body = exchange.request_json
    if exchange.operation != "createChatCompletion" or not isinstance(body, dict):
        return
    model = load_rules().model(str(body.get("model")))
    if model is None:
        return
    try:
        broken = broken_rules(ChatView(body, model, thinking_on(body, model)), after_schema=False)
    except Exception:  # a malformed body: the contract checks judge the answer
        return
    if broken:
        exchange.intent = "invalid"
        exchange.rule = (broken[0][0].id, "a request observed by the proxy")


def _decoded(body: bytes, encoding: str) -> bytes:
    """The body as the checks need it (gzip or deflate undone); the client gets the raw bytes."""
    try:
        if encoding == "gzip":
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            return zlib.decompress(body)
    except zlib.error:
        return body
    return body


def create_proxy_app(upstream: str, folder: Path, timeout: float = 300.0) -> Starlette:
    """The proxy as an ASGI app: `upstream` is an SDK-style base URL (`.../v1`); clients use the proxy's `/v1`."""
    base = httpx.URL(upstream.rstrip("/"))
    recorder = Recorder(folder)
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
            exchange.request_json = json.loads(body) if body else None
        except ValueError:
            exchange.request_json = None
        _mark_broken_rule(exchange)
        try:
            upstream_response = await client.send(outgoing, stream=True)
        except httpx.HTTPError as exc:
            exchange.transport_error = f"{type(exc).__name__}: {exc}"
            exchange.elapsed = time.monotonic() - started
            recorder.record(exchange)
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
                raw = b"".join(received)
                exchange.body = _decoded(raw, exchange.response_headers.get("content-encoding", ""))
                exchange.elapsed = time.monotonic() - started
                recorder.record(exchange)

        response = StreamingResponse(pieces(), status_code=upstream_response.status_code)
        response.raw_headers = [
            (name.lower(), value)
            for name, value in upstream_response.headers.raw
            if name.decode("latin-1").lower() not in HOP_BY_HOP
        ]
        return response

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    app = Starlette(routes=[Route("/{path:path}", relay, methods=methods)], lifespan=lifespan)
    app.state.recorder = recorder
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
def serve_proxy_in_thread(upstream: str, folder: Path, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve the proxy on loopback in a daemon thread; yields its SDK-style base URL (`.../v1`)."""
    with running(LoopbackServer(create_proxy_app(upstream, folder), host, port), "kimi-proxy") as server:
        yield server.api_base
