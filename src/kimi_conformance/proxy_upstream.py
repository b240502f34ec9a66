"""The validating proxy's way to its upstream: HTTP/1.1 spoken with h11 over asyncio streams, connections kept alive.

httpx's AsyncClient spends about 0.75 ms of CPU on a small request (its models, its cookie jar, httpcore's pool on
anyio streams): most of what the proxy added to each exchange. The relay needs none of that: one upstream, the
client's request sent as it came (its headers, with the upstream's `Host` and a `Content-Length` for the body it
read), the answer read as it arrives. h11 (which httpcore and uvicorn both use) frames it; about 0.15 ms.

The same request also goes out unchanged in another way: httpx added its own `Accept`, `Accept-Encoding`,
`Connection` and `User-Agent` to requests that had none, and kept the upstream's cookies for the next client.

When the environment names an HTTP(S) proxy for the upstream (`HTTPS_PROXY`, `ALL_PROXY`... short of `NO_PROXY`,
as httpx honours them), the proxy goes through httpx instead (`HttpxUpstream`), so it reaches the upstream as it
always did. Errors are `UpstreamError`s named as httpx names its own (`ConnectError`, `ReadTimeout`,
`RemoteProtocolError`...), so a recorded transport error reads the same either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

import h11
import httpx

READ_BYTES = 64 * 1024
IDLE_CONNECTIONS = 32
"""Keep-alive connections kept for reuse, at most."""
RawHeaders = list[tuple[bytes, bytes]]
RETRIED = frozenset({"RemoteProtocolError", "ReadError", "WriteError"})
"""What a kept-alive connection the upstream has just closed gives: the request is sent again on a new one."""


class UpstreamError(Exception):
    """The upstream could not be reached, or broke the exchange off; `kind` is httpx's name for it."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind

    def describe(self) -> str:
        return f"{self.kind}: {self}" if str(self) else self.kind


class UpstreamResponse(Protocol):
    status: int
    headers: RawHeaders
    """As received: names in their case, `transfer-encoding` included."""

    def body(self) -> AsyncIterator[bytes]:
        """The body as it arrives (transfer-encoding undone, content-encoding kept)."""
        ...

    async def close(self) -> None: ...


class Upstream(Protocol):
    async def send(self, method: str, target: bytes, headers: RawHeaders, body: bytes) -> UpstreamResponse:
        """Send a request for `target` (the raw path and query on the upstream); its answer once its head came."""
        ...

    async def aclose(self) -> None: ...


def upstream_for(base: httpx.URL, timeout: float) -> Upstream:
    """h11 on asyncio streams, or httpx when the environment routes the upstream through a proxy."""
    proxies = urllib.request.getproxies()
    routed = (base.scheme in proxies or "all" in proxies) and not urllib.request.proxy_bypass(base.host)
    credentials = bool(base.userinfo)  # httpx sends them as Basic auth
    return HttpxUpstream(base, timeout) if routed or credentials else H11Upstream(base, timeout)


@dataclass(slots=True)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    state: h11.Connection
    received: int = 0
    """Bytes read for the request in progress."""

    def usable(self) -> bool:
        """Idle and still open: the upstream has not closed it since (an EOF already read shows here)."""
        return self.state.our_state is h11.IDLE and not self.reader.at_eof() and not self.writer.is_closing()

    def close(self) -> None:
        self.writer.close()


class H11Upstream:
    """Keep-alive HTTP/1.1 connections to one upstream origin."""

    def __init__(self, base: httpx.URL, timeout: float) -> None:
        self.host, self.scheme = base.host, base.scheme
        self.port = base.port or (443 if base.scheme == "https" else 80)
        self.authority = base.netloc  # the `Host` httpx sends: the port only when not the scheme's default
        self.timeout = timeout
        self._idle: list[_Connection] = []
        self._tls: ssl.SSLContext | None = None

    async def send(self, method: str, target: bytes, headers: RawHeaders, body: bytes) -> UpstreamResponse:
        connection = self._reuse()
        fresh = connection is None
        if connection is None:
            connection = await self._connect()
        try:
            return await self._exchange(connection, method, target, headers, body)
        except UpstreamError as error:
            connection.close()
            if fresh or connection.received or error.kind not in RETRIED:
                raise
        except BaseException:
            connection.close()
            raise
        # a kept-alive connection the upstream closed, not a byte of an answer read: it never had the request (the
        # race of a keep-alive timeout), so once more, on a new connection
        connection = await self._connect()
        try:
            return await self._exchange(connection, method, target, headers, body)
        except BaseException:
            connection.close()
            raise

    def _reuse(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if connection.usable():
                return connection
            connection.close()
        return None

    async def _connect(self) -> _Connection:
        if self.scheme == "https" and self._tls is None:
            self._tls = httpx.create_ssl_context()
            self._tls.set_alpn_protocols(["http/1.1"])
        tls = self._tls if self.scheme == "https" else None
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_connection(
                    self.host, self.port, ssl=tls, server_hostname=self.host if tls else None, limit=READ_BYTES
                )
        except TimeoutError:
            raise UpstreamError("ConnectTimeout", "") from None
        except (OSError, ssl.SSLError) as exc:
            raise UpstreamError("ConnectError", str(exc)) from None
        return _Connection(reader, writer, h11.Connection(h11.CLIENT))

    async def _exchange(
        self, connection: _Connection, method: str, target: bytes, headers: RawHeaders, body: bytes
    ) -> _H11Response:
        state = connection.state
        framed = [(name, value) for name, value in headers if name.lower() not in (b"host", b"content-length")]
        framed.insert(0, (b"Host", self.authority))
        if body or method not in ("GET", "HEAD", "OPTIONS", "DELETE"):
            framed.append((b"Content-Length", str(len(body)).encode()))
        try:
            out = state.send(h11.Request(method=method, target=target, headers=framed))
            out += (state.send(h11.Data(data=body)) or b"") if body else b""
            out += state.send(h11.EndOfMessage()) or b""
            connection.writer.write(out or b"")
            async with asyncio.timeout(self.timeout):
                await connection.writer.drain()
        except TimeoutError:
            raise UpstreamError("WriteTimeout", "") from None
        except OSError as exc:
            raise UpstreamError("WriteError", str(exc)) from None
        except h11.LocalProtocolError as exc:
            raise UpstreamError("LocalProtocolError", str(exc)) from None
        while True:
            event = await _next_event(connection, self.timeout)
            if isinstance(event, h11.Response):
                return _H11Response(self, connection, event.status_code, list(event.headers.raw_items()))
            if not isinstance(event, h11.InformationalResponse):  # a `100 Continue` is no answer
                raise UpstreamError("RemoteProtocolError", "the upstream answered no response")

    def _done(self, connection: _Connection) -> None:
        """A response read to its end: its connection is kept for the next request, when both sides allow."""
        state = connection.state
        if state.our_state is h11.DONE and state.their_state is h11.DONE and len(self._idle) < IDLE_CONNECTIONS:
            state.start_next_cycle()
            connection.received = 0
            self._idle.append(connection)
        else:
            connection.close()

    async def aclose(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()


async def _next_event(connection: _Connection, timeout: float) -> h11.Event | type[h11.NEED_DATA | h11.PAUSED]:
    """The next event of the upstream's answer, reading as needed; an upstream that closes or breaks the protocol
    is a `RemoteProtocolError`, as httpx has it."""
    state = connection.state
    while True:
        try:
            event = state.next_event()
        except h11.RemoteProtocolError as exc:
            raise UpstreamError("RemoteProtocolError", str(exc)) from None
        if event is not h11.NEED_DATA:
            if isinstance(event, h11.ConnectionClosed):
                raise UpstreamError("RemoteProtocolError", "the upstream closed the connection mid-answer")
            return event
        try:
            async with asyncio.timeout(timeout):
                data = await connection.reader.read(READ_BYTES)
        except TimeoutError:
            raise UpstreamError("ReadTimeout", "") from None
        except OSError as exc:
            raise UpstreamError("ReadError", str(exc)) from None
        connection.received += len(data)
        state.receive_data(data)  # b"": the upstream closed its side


class _H11Response:
    def __init__(self, upstream: H11Upstream, connection: _Connection, status: int, headers: RawHeaders) -> None:
        self.status, self.headers = status, headers
        self._upstream, self._connection = upstream, connection
        self._finished = False

    async def body(self) -> AsyncIterator[bytes]:
        while True:
            event = await _next_event(self._connection, self._upstream.timeout)
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self._finished = True
                return

    async def close(self) -> None:
        """Return the connection for reuse when the body was read to its end; else close it (the rest of an
        unread answer would be the next request's)."""
        if self._finished:
            self._upstream._done(self._connection)
        else:
            self._connection.close()


class HttpxUpstream:
    """The upstream through httpx, proxies of the environment honoured (the relay's way before h11)."""

    def __init__(self, base: httpx.URL, timeout: float) -> None:
        self._base = base
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=False)

    async def send(self, method: str, target: bytes, headers: RawHeaders, body: bytes) -> UpstreamResponse:
        url = self._base.copy_with(raw_path=target)
        request = self._client.build_request(method, url, headers=headers, content=body)
        try:
            return _HttpxResponse(await self._client.send(request, stream=True))
        except httpx.HTTPError as exc:
            raise UpstreamError(type(exc).__name__, str(exc)) from None

    async def aclose(self) -> None:
        await self._client.aclose()


class _HttpxResponse:
    def __init__(self, response: httpx.Response) -> None:
        self.status, self.headers, self._response = response.status_code, list(response.headers.raw), response

    async def body(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_raw():
                yield chunk
        except httpx.HTTPError as exc:
            raise UpstreamError(type(exc).__name__, str(exc)) from None

    async def close(self) -> None:
        with contextlib.suppress(httpx.HTTPError):
            await self._response.aclose()
