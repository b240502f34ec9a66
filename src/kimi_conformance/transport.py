"""The only module that talks HTTP to a target (httpx): requests become `Exchange`s, errors become data."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from kimi_conformance.budget import Guard, usage_in
from kimi_conformance.dialect import ChatDialect
from kimi_conformance.exchange import Exchange
from kimi_conformance.ledger import AccountLedger
from kimi_conformance.redaction import Redactor, register_secret

DEFAULT_TIMEOUT = 30.0
DEFAULT_STREAM_TIMEOUT = 120.0
MAX_BODY_BYTES = 16 * 1024 * 1024
"""Bodies are read up to this size; a larger one is cut and the exchange says so."""


class TargetClient:
    """A client of one target: an SDK-style base URL (`.../v1`) and an optional API key."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        stream_timeout: float = DEFAULT_STREAM_TIMEOUT,
        stream_idle_timeout: float | None = None,
        guard: Guard | None = None,
        ledger: AccountLedger | None = None,
        observer: Callable[[Exchange], None] | None = None,
        dialect: ChatDialect | None = None,
    ) -> None:
        """`timeout`: connect and first byte; `stream_idle_timeout`: silence allowed between two reads of the body
        (default `timeout`); `stream_timeout`: the whole body, however busy the target keeps it; `dialect`: how the
        target reads chat requests (`--thinking-style`, `--extra-body`; default: as the contract writes them)."""
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        register_secret(api_key)  # redacted by value from everything the process keeps or writes
        self.redactor = Redactor(frozenset({api_key}) if api_key else frozenset())
        self.guard = guard
        """Budget, pace and retries of live runs; None sends every request once, at once."""
        self.ledger = ledger
        """What the run created on the account (files, batches), learnt from every answer this client reads."""
        self.observer = observer
        """Sees every exchange sent within the budget, each attempt once (the run's cassette records them all)."""
        self.dialect = dialect or ChatDialect()
        """Applied to every chat request this client sends, the suites' and the generated ones alike (`send`)."""
        self.timeout = timeout
        self.stream_timeout = stream_timeout
        self.idle_timeout = stream_idle_timeout if stream_idle_timeout is not None else timeout
        self._client = httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> TargetClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def request(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        files: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        authenticate: bool = True,
        within_budget: bool = True,
    ) -> Exchange:
        """Send one request to `path` under the base URL, with the run's key unless `authenticate` is False (see
        `send`)."""
        sent_headers = {**(self.auth_headers() if authenticate else {}), **(headers or {})}
        if json_body is not None:
            content = json.dumps(json_body, ensure_ascii=False).encode()
            sent_headers.setdefault("Content-Type", "application/json")
        request = self.build(
            method, self.base_url + path, content=content, files=files, data=data, params=params, headers=sent_headers
        )
        return self.send(operation, request, json_body, within_budget=within_budget)

    def build(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        files: Any = None,
        data: Any = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Request:
        """A request with this client's timeouts, to be sent with `send` (headers exactly as given: no key added)."""
        return self._client.build_request(
            method, url, content=content, files=files, data=data, params=params, headers=headers
        )

    def send(
        self, operation: str, request: httpx.Request, json_body: Any = None, *, within_budget: bool = True
    ) -> Exchange:
        """Send a built request; never raises for HTTP or transport trouble (it is in the exchange). The body is
        read within the caps (`_read_body`). With a guard, it waits its turn, may raise BudgetReached (not when
        sent `within_budget=False`: see `Guard.admit`) or QuotaExceeded, and retries a 429 as the guard says. A chat
        request goes out in the target's dialect (`ChatDialect.wire`): the exchange's `request_json` stays what was
        asked, its `request_text` is what was sent."""
        request = self._in_dialect(request, json_body)
        streamed = isinstance(json_body, dict) and json_body.get("stream") is True
        if streamed and self.guard is not None and (unsent := self.guard.failing_fast()) is not None:
            return self._not_sent(operation, request, json_body, unsent)
        attempt = 0
        while True:
            if self.guard is not None:
                self.guard.admit(json_body, within_budget=within_budget, retry=attempt > 0)
            exchange = self._send_once(operation, request, json_body)
            if self.ledger is not None:
                self.ledger.observe(exchange)
            if self.observer is not None and within_budget:
                self.observer(exchange)
            if self.guard is None:
                return exchange
            model = json_body.get("model") if isinstance(json_body, dict) else None
            self.guard.answered(exchange.transport_error is None and exchange.stream_error is None)
            if streamed and (exchange.stream_error is not None or exchange.content_type == "text/event-stream"):
                self.guard.streamed(exchange.stream_error)  # an error answer to a stream request is no stream
            self.guard.record(model, usage_in(exchange))
            wait = self.guard.retry_after(attempt, exchange.status, exchange.response_headers, exchange.body)
            if wait is None:
                return exchange
            self.guard.sleep(wait)
            attempt += 1

    def _in_dialect(self, request: httpx.Request, json_body: Any) -> httpx.Request:
        """The request as the target's dialect sends it (unchanged for anything but a chat completion, or when the
        dialect is the contract's own). The guard still admits it by what was asked: the plan's ceilings are the
        contract requests' (the extra body never overrides their fields)."""
        chat = request.method == "POST" and request.url.path.endswith("/chat/completions")
        if self.dialect.plain or not chat or not isinstance(json_body, dict):
            return request
        wire = self.dialect.wire(json_body)
        if wire == json_body:
            return request
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        content = json.dumps(wire, ensure_ascii=False).encode()
        return self.build(request.method, str(request.url), content=content, headers=headers)

    def _not_sent(self, operation: str, request: httpx.Request, json_body: Any, why: str) -> Exchange:
        """The record of a stream the run did not send (`Guard.failing_fast`): no answer, the reason as its cut."""
        exchange = self._unsent(operation, request, json_body)
        exchange.stream_error, exchange.sent = why, False
        return exchange

    def _send_once(self, operation: str, request: httpx.Request, json_body: Any) -> Exchange:
        exchange = self._unsent(operation, request, json_body)
        self._receive(request, exchange)
        return exchange

    def _unsent(self, operation: str, request: httpx.Request, json_body: Any) -> Exchange:
        text = self.redactor.body(request.headers.get("content-type", ""), request.read())
        return Exchange(
            operation=operation,
            method=request.method,
            url=str(request.url),
            request_headers=self.redactor.headers(dict(request.headers)),
            request_json=json_body,
            request_text=text,
        )

    def _receive(self, request: httpx.Request, exchange: Exchange) -> None:
        """Send the request and read its answer into `exchange`, within the timeouts and caps."""
        started = time.monotonic()
        # a retried request starts again from the first-byte timeout
        request.extensions["timeout"] = self._client.timeout.as_dict()
        try:
            response = self._client.send(request, stream=True)
            # Headers came within `timeout`; from here on the idle timeout bounds each read of the body. httpcore
            # reads this dict (the same object) when the body's first read starts.
            request.extensions["timeout"]["read"] = self.idle_timeout
            try:
                exchange.status = response.status_code
                exchange.response_headers = {k.lower(): v for k, v in response.headers.items()}
                exchange.body, exchange.stream_error = _read_body(response, started + self.stream_timeout)
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            exchange.transport_error = f"timeout: {type(exc).__name__} after {time.monotonic() - started:.1f} s"
        except httpx.HTTPError as exc:
            exchange.transport_error = f"{type(exc).__name__}: {self.redactor.text(str(exc)) or 'no detail'}"
        exchange.elapsed = time.monotonic() - started


def _read_body(response: httpx.Response, deadline: float) -> tuple[bytes, str | None]:
    """The decoded body (gzip and friends undone) as far as it came, and why it stopped early, if it did:
    silence past the idle timeout, the total stream timeout, a reset, or MAX_BODY_BYTES."""
    chunks: list[bytes] = []
    size = 0
    problem = None
    try:
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                problem = f"body larger than {MAX_BODY_BYTES} bytes: cut"
                break
            if time.monotonic() > deadline:
                problem = "the body was still coming when the stream timeout ran out: connection closed"
                break
    except httpx.ReadTimeout:
        problem = "the target went silent mid-body for longer than the idle timeout: connection closed"
    except httpx.HTTPError as exc:
        problem = f"the body broke off: {type(exc).__name__}: {exc}"
    return b"".join(chunks)[: MAX_BODY_BYTES + 1], problem
