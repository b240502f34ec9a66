"""A request body that stalls: the mock answers 408 after its read timeout and closes the connection, instead of
waiting forever for a declared Content-Length; a slow body that keeps coming is served."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.types import Message

from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, MockServer, serve_in_thread
from kimi_conformance.mock.errors import ApiError
from kimi_conformance.mock.http import timed_body

READ_TIMEOUT = 0.5
HEAD = (
    "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + DEFAULT_API_KEY + "\r\n"
    "Content-Type: {kind}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
)
CHAT = json.dumps({"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}]}).encode()
MULTIPART = b'--xyz\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfile-extract\r\n'


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def server() -> Iterator[tuple[MockServer, _Records]]:
    """A mock with a short read timeout and one request in flight at most (a 429 says the stalled one still is),
    with what its loggers (the mock's and uvicorn's) say at WARNING and above."""
    records = _Records()
    with serve_in_thread(MockConfig(lineup="all", read_timeout=READ_TIMEOUT, max_concurrency=1)) as mock:
        loggers = [logging.getLogger(name) for name in ("uvicorn.error", "kimi_conformance.mock")]
        for logger in loggers:
            logger.addHandler(records)
        try:
            yield mock, records
        finally:
            for logger in loggers:
                logger.removeHandler(records)


def _send(mock: MockServer, head: str, body: bytes) -> socket.socket:
    conn = socket.create_connection((mock.host, mock.port), timeout=5)
    conn.sendall(head.encode() + body)
    return conn


def _read_to_close(conn: socket.socket) -> bytes:
    answer = b""
    while piece := conn.recv(65536):
        answer += piece
    return answer


def _served_again(mock: MockServer) -> None:
    """The next request gets 200 within a few seconds: the stalled one has let go of its slot."""
    deadline = time.monotonic() + 3
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    while (status := httpx.get(mock.api_base + "/models", headers=headers).status_code) == 429:
        assert time.monotonic() < deadline, "the stalled request still holds its slot"
        time.sleep(0.02)
    assert status == 200


@pytest.mark.parametrize(
    ("path", "kind", "partial"),
    [
        ("/v1/chat/completions", "application/json", CHAT[:10]),
        ("/v1/files", "multipart/form-data; boundary=xyz", MULTIPART),
    ],
    ids=["json", "multipart"],
)
def test_a_declared_length_that_never_arrives_is_408_then_closed(
    server: tuple[MockServer, _Records], path: str, kind: str, partial: bytes
) -> None:
    mock, records = server
    started = time.monotonic()
    with _send(mock, HEAD.format(path=path, kind=kind, length=1000), partial) as conn:
        answer = _read_to_close(conn)  # the mock closes: recv gives b"" (no socket timeout)
    elapsed = time.monotonic() - started
    assert READ_TIMEOUT <= elapsed < READ_TIMEOUT + 2, elapsed
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode().lower().split("\r\n")
    assert lines[0] == "http/1.1 408 request timeout"
    assert "connection: close" in lines and "content-type: application/json" in lines
    error = json.loads(body)["error"]
    assert error["type"] == "invalid_request_error" and "Request Timeout" in error["message"]
    _served_again(mock)
    assert not records.records


def test_a_client_that_leaves_mid_body_is_no_error(server: tuple[MockServer, _Records]) -> None:
    mock, records = server
    with _send(mock, HEAD.format(path="/v1/chat/completions", kind="application/json", length=1000), CHAT[:10]):
        time.sleep(0.05)  # the request is in the handler, waiting for the rest
    _served_again(mock)
    assert not records.records


def test_a_slow_body_that_keeps_coming_is_served(server: tuple[MockServer, _Records]) -> None:
    mock, records = server
    pieces = [CHAT[i : i + 16] for i in range(0, len(CHAT), 16)]
    started = time.monotonic()
    with _send(mock, HEAD.format(path="/v1/chat/completions", kind="application/json", length=len(CHAT)), b"") as conn:
        for piece in pieces:
            time.sleep(READ_TIMEOUT / 3)
            conn.sendall(piece)
        answer = _read_to_close(conn)
    assert time.monotonic() - started > READ_TIMEOUT * 1.5  # longer than the timeout in all, never idle that long
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), answer
    assert json.loads(body)["choices"][0]["message"]["role"] == "assistant"
    assert not records.records


async def _pieces(delays: list[float], stall: float) -> list[Message]:
    """What `timed_body` gives for pieces sent after `delays`, then a receive that takes `stall` (the wait for a
    disconnect once the body is complete)."""
    messages: list[Message] = [
        {"type": "http.request", "body": b"x", "more_body": i < len(delays) - 1} for i in range(len(delays))
    ]
    waits = [*delays, stall]

    async def receive() -> Message:
        await asyncio.sleep(waits.pop(0))
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    timed = timed_body(receive, 0.2)
    return [await timed() for _ in range(len(delays) + 1)]


def test_each_piece_within_the_timeout_passes_and_the_complete_body_is_untimed() -> None:
    got = asyncio.run(_pieces([0.05, 0.1, 0.1, 0.05], stall=0.4))
    assert [m.get("more_body") for m in got] == [True, True, True, False, None]
    assert got[-1]["type"] == "http.disconnect"


def test_a_piece_later_than_the_timeout_is_408() -> None:
    with pytest.raises(ApiError) as raised:
        asyncio.run(_pieces([0.05, 0.4], stall=0))
    assert raised.value.status == 408 and raised.value.type == "invalid_request_error"
    assert raised.value.headers == {"Connection": "close"}
