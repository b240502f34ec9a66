"""The proxy's own HTTP/1.1 client to its upstream (`proxy_upstream`): what the client sent goes out as sent, answers
come back as they were (a HEAD, a 204, a chunked body, a connection the upstream closes), kept-alive connections
are reused and a closed one is not, and an environment proxy sends the relay through httpx as before."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from kimi_conformance.loopback import LoopbackServer, running
from kimi_conformance.proxy import serve_proxy_in_thread
from kimi_conformance.proxy_upstream import H11Upstream, HttpxUpstream, upstream_for

PEERS: list[tuple[str, int]] = []
"""The client address of every request the echo upstream served (one per connection the proxy opened)."""


async def echo(request: Request) -> Response:
    """The request as the upstream saw it: method, raw path and query, headers in order, body."""
    assert request.client is not None
    PEERS.append((request.client.host, request.client.port))
    seen = {
        "method": request.method,
        "target": request.scope["raw_path"].decode()
        + (f"?{query.decode()}" if (query := request.scope["query_string"]) else ""),
        "headers": [[name.decode(), value.decode()] for name, value in request.scope["headers"]],
        "body": (await request.body()).decode(),
    }
    return JSONResponse(seen, headers={"x-twice": "a"})


async def nothing(request: Request) -> Response:
    return Response(status_code=204)


async def chunked(request: Request) -> Response:
    async def parts() -> AsyncIterator[bytes]:
        for part in (b"data: one\n\n", b"data: two\n\n"):
            await asyncio.sleep(0.01)
            yield part

    return StreamingResponse(parts(), media_type="text/event-stream")


async def closing(request: Request) -> Response:
    return Response(b"bye", headers={"connection": "close"})


ROUTES = [
    Route("/v1/echo", echo, methods=["GET", "POST", "HEAD", "DELETE"]),
    Route("/v1/nothing", nothing),
    Route("/v1/chunked", chunked),
    Route("/v1/closing", closing),
]


@pytest.fixture
def through_proxy(tmp_path: Path) -> Iterator[str]:
    PEERS.clear()
    with (
        running(LoopbackServer(Starlette(routes=ROUTES)), "echo-upstream") as upstream,
        serve_proxy_in_thread(upstream.api_base, tmp_path) as proxied,
    ):
        yield proxied


def test_the_request_goes_out_as_the_client_sent_it(through_proxy: str) -> None:
    sent = [("X-Custom", "1"), ("Content-Type", "application/json"), ("X-Custom", "2")]
    with httpx.Client() as client:
        reply = client.post(through_proxy + "/echo?a=%2F&b", content=b'{"k": "v"}', headers=sent)
    seen = reply.json()
    assert (seen["method"], seen["target"], seen["body"]) == ("POST", "/v1/echo?a=%2F&b", '{"k": "v"}')
    headers = [tuple(pair) for pair in seen["headers"]]
    names = [name for name, _ in headers]
    assert [value for name, value in headers if name == "x-custom"] == ["1", "2"]
    assert ("content-length", "10") in headers and names.count("host") == 1
    # httpx's own client headers were the client's: none added on the way (a client without them sends none)
    assert [value for name, value in headers if name == "user-agent"] == [client.headers["user-agent"]]


def test_no_header_is_added_to_a_request_that_has_none(through_proxy: str) -> None:
    async def bare() -> bytes:
        host, port = through_proxy.removeprefix("http://").split("/")[0].split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(f"GET /v1/echo HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        answer = await reader.read()
        writer.close()
        return answer

    seen = json.loads(asyncio.run(bare()).split(b"\r\n\r\n", 1)[1])
    assert [name for name, _ in seen["headers"]] == ["host"]


def test_head_204_and_chunked_answers_come_back_as_they_were(through_proxy: str) -> None:
    with httpx.Client() as client:
        head = client.head(through_proxy + "/echo")
        assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 0
        assert client.get(through_proxy + "/nothing").status_code == 204
        with client.stream("GET", through_proxy + "/chunked") as stream:
            assert b"".join(stream.iter_raw()) == b"data: one\n\ndata: two\n\n"
        assert client.get(through_proxy + "/echo").headers["x-twice"] == "a"


def test_a_kept_alive_connection_is_reused_and_a_closed_one_is_not(through_proxy: str) -> None:
    with httpx.Client() as client:
        for _ in range(3):
            assert client.get(through_proxy + "/echo").status_code == 200
        assert len(set(PEERS)) == 1  # one connection to the upstream for three requests
        assert client.get(through_proxy + "/closing").text == "bye"
        assert client.get(through_proxy + "/echo").status_code == 200
    assert len(set(PEERS)) == 2  # the upstream closed the one it answered `connection: close` on


def test_a_connection_the_upstream_closed_while_idle_is_replaced(tmp_path: Path) -> None:
    first = LoopbackServer(Starlette(routes=ROUTES))
    with serve_proxy_in_thread(first.api_base, tmp_path) as proxied:
        with running(first, "echo-upstream"):
            assert httpx.get(proxied + "/echo").status_code == 200
        # the upstream went away, closing the connection the proxy keeps alive, and comes back on the same port
        with running(LoopbackServer(Starlette(routes=ROUTES), port=first.port), "echo-upstream-again"):
            assert httpx.get(proxied + "/echo").status_code == 200


def test_an_environment_proxy_or_credentials_in_the_url_keep_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    base = httpx.URL("https://api.example.test/v1")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert isinstance(upstream_for(base, 1.0), H11Upstream)
    assert isinstance(upstream_for(httpx.URL("http://user:secret@127.0.0.1:9/v1"), 1.0), HttpxUpstream)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.test:3128")
    assert isinstance(upstream_for(base, 1.0), HttpxUpstream)
    monkeypatch.setenv("NO_PROXY", "api.example.test")
    assert isinstance(upstream_for(base, 1.0), H11Upstream)
