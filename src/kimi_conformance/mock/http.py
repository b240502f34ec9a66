"""The HTTP edge of the mock: authentication, limits, body parsing and error responses for every endpoint."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Message, Receive

from kimi_conformance.mock.config import MockConfig
from kimi_conformance.mock.errors import (
    ERROR_ANSWERS,
    QUOTA_EXCEEDED,
    ApiError,
    invalid_request,
    request_timeout,
    unauthenticated,
)
from kimi_conformance.mock.ratelimit import RateLimiter
from kimi_conformance.mock.state import MockState
from kimi_conformance.mock.variations import error_nulls

MAX_BODY_BYTES = 100 * 1024 * 1024
"""Request bodies up to 100 MB are documented (facts §3.4)."""
Handler = Callable[[Request, MockState], Awaitable[Response]]
log = logging.getLogger("kimi_conformance.mock")


def error_response(error: ApiError, config: MockConfig) -> Response:
    """The common envelope `{"error": {"message", "type"}}` (facts §9), or a faulty variant."""
    status, body = error.status, error.envelope()
    if config.has_fault("server-error-for-client-errors") and status == 400:
        status, body = 500, {"error": {"message": error.message, "type": "server_error"}}
    if config.has_fault("client-errors-422") and status == 400:
        status = 422
    if config.has_fault("error-type-generic") and status == 400:
        body = {"error": {"message": error.message, "type": "bad_request_error"}}
    if config.has_fault("error-envelope-flat"):
        body = {"message": body["error"]["message"]}
    body = error_nulls(body, config)
    if config.has_fault("errors-as-text-plain"):
        return Response(json.dumps(body), status_code=status, headers=error.headers, media_type="text/plain")
    return JSONResponse(body, status_code=status, headers=error.headers)


def _api_key(request: Request, config: MockConfig) -> str:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and key.strip() in config.api_keys:
        return key.strip()
    if config.has_fault("auth-ignored"):
        return "anonymous"
    raise unauthenticated()


def timed_body(receive: Receive, seconds: float) -> Receive:
    """`receive` that raises 408 (`request_timeout`) when the client sends nothing for `seconds` before the end of
    its body: a declared Content-Length that never arrives does not hold the connection. Once the body is complete,
    `receive` is passed through untimed."""
    complete = False

    async def timed() -> Message:
        nonlocal complete
        if complete:
            return await receive()
        try:
            async with asyncio.timeout(seconds):  # a timer, not a task and a turn of the loop as `wait_for` costs
                message = await receive()
        except TimeoutError:
            raise request_timeout(seconds) from None
        complete = message["type"] != "http.request" or not message.get("more_body", False)
        return message

    return timed


def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler with auth, rate limits, the body's read timeout and the error envelope; nothing escapes as a
    bare 500. An admitted request holds its concurrency slot until its answer is written: `latency` included."""

    async def wrapped(request: Request) -> Response:
        state: MockState = request.app.state.mock
        request = Request(request.scope, timed_body(request.receive, state.config.read_timeout))
        try:
            key = _api_key(request, state.config)
            if state.config.out_of_quota:
                raise ApiError(
                    429, "exceeded_current_quota_error", QUOTA_EXCEEDED.format(org=state.config.organization)
                )
            state.limiter.admit(key)
        except ApiError as error:
            return error_response(error, state.config)
        request.state.api_key = key
        streaming = False
        try:
            response = await _answer(handler, request, state)
            if isinstance(response, StreamingResponse):  # the slot is held until the stream ends
                response.background = BackgroundTask(_release_slot, state.limiter, key)
                streaming = True
            return response
        finally:
            if not streaming:  # also when the request was cancelled (the client left during the latency)
                state.limiter.release(key)

    return wrapped


async def _release_slot(limiter: RateLimiter, key: str) -> None:
    """The end of a stream gives its slot back on the event loop: a plain function as a background task would be
    run in a worker thread, a thread hop per stream."""
    limiter.release(key)


async def _answer(handler: Handler, request: Request, state: MockState) -> Response:
    """What an admitted request gets: after the configured latency, the configured error answer or the handler's."""
    try:
        if state.config.latency:
            await asyncio.sleep(state.config.latency)
        injected = _error_answer(request, state)
        if injected is not None:
            raise injected
        return await handler(request, state)
    except ApiError as error:
        return error_response(error, state.config)
    except ClientDisconnect:  # gone before its body ended: no one reads an answer, nothing to log
        return Response(status_code=400)
    except Exception:
        log.exception("mock handler failed on %s %s", request.method, request.url.path)
        return error_response(ApiError(500, "server_error", "Internal server error"), state.config)


def _error_answer(request: Request, state: MockState) -> ApiError | None:
    """`--error NAME`: the documented error this request gets instead of its answer (the first `--error-count`
    requests of the error's routes), or None."""
    config = state.config
    if config.error is None:
        return None
    answer = ERROR_ANSWERS[config.error]
    route = getattr(request.scope.get("route"), "path", request.url.path)
    if not answer.applies_to(request.method, route):
        return None
    if config.error_count is not None and state.errors_answered >= config.error_count:
        return None
    state.errors_answered += 1
    return answer.error()


async def read_json(request: Request) -> Any:
    """The JSON body, or 400 for a wrong content type, an oversized body, invalid UTF-8 or invalid JSON."""
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise invalid_request(f"Invalid request: Content-Type must be application/json, got {content_type!r}")
    if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
        raise invalid_request("Invalid request: the request body is larger than 100MB")
    raw = bytearray()
    while True:  # the limit holds while reading: a chunked body declares no length
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        raw += message.get("body", b"")
        if len(raw) > MAX_BODY_BYTES:
            raise invalid_request("Invalid request: the request body is larger than 100MB")
        if not message.get("more_body", False):
            break
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise invalid_request(f"Invalid request: the body is not valid UTF-8 ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise invalid_request(f"Invalid request: the body is not valid JSON ({exc.msg} at char {exc.pos})") from None
    except RecursionError:
        raise invalid_request("Invalid request: the body is nested too deeply") from None
    except ValueError as exc:  # an integer of thousands of digits
        raise invalid_request(f"Invalid request: the body is not valid JSON ({exc})") from None


async def gateway_not_found(request: Request, exc: Exception) -> Response:
    """Unknown routes get the gateway envelope seen live, not the API's (facts §1 [O]). Its status is [I]: 404 for
    an unknown path, 405 with `Allow` for a known path and a wrong method (the live body is the same)."""
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    allowed = sorted(
        {
            method
            for route in request.app.routes
            if isinstance(route, Route) and route.path_regex.match(request.url.path)
            for method in route.methods or ()
        }
    )
    headers = {"Allow": ", ".join(allowed)} if status == 405 else None
    body = {
        "code": 5,
        "error": "url.not_found",
        "message": "没找到对象",
        "method": request.method,
        "scode": "0x5",
        "status": False,
        "ua": request.headers.get("user-agent", ""),
        "url": request.url.path,
    }
    return JSONResponse(body, status_code=status if status in (404, 405) else 404, headers=headers)
