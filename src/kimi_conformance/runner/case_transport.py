"""Schemathesis's generated cases sent by the run's own client, so every read has the same caps.

Schemathesis sends with `requests` and reads whole bodies (a gzip bomb decompressed in full, an event stream
cut silently at its own event limit). Here a `requests` transport adapter hands each prepared request to the
run's `TargetClient` instead: the body cap (after decompression), the idle and total stream timeouts, the
budget, the pace and 429 retries all apply, and what the client read (an `Exchange`, whose `stream_error` says
when a cap cut the body: HTTP005) is kept for the checks. Schemathesis gets back a `requests.Response` built
from those bytes, so its case handling, hooks and verdicts are unchanged. Requests its own checks send while
validating (auth probes) go through the same session.
"""

from __future__ import annotations

import io
import weakref
from http import HTTPStatus
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from schemathesis.core.transport import STREAM_CUT_SHORT_ATTRIBUTE
from schemathesis.transport.requests import REQUESTS_TRANSPORT, RequestsTransport

from kimi_conformance import strict_json
from kimi_conformance.exchange import Exchange
from kimi_conformance.transport import TargetClient

DECODED_AWAY = frozenset({"content-encoding", "content-length", "transfer-encoding"})
"""Headers that described the bytes on the wire; the client hands on the body already decoded."""


class ClientAdapter(HTTPAdapter):
    """A `requests` adapter whose every request is sent and read by one `TargetClient`."""

    def __init__(self, client: TargetClient) -> None:
        super().__init__()
        self.client = client
        self._exchanges: weakref.WeakKeyDictionary[requests.PreparedRequest, Exchange] = weakref.WeakKeyDictionary()

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None, **_: Any
    ) -> requests.Response:
        """Send with the client (its timeouts, not `timeout`); a request that got no answer raises the
        `requests` error schemathesis expects, with the exchange kept for `exchange_of`."""
        body = request.body.encode() if isinstance(request.body, str) else request.body
        if body is not None and not isinstance(body, bytes):
            raise TypeError("a streamed request body cannot be sent here: schemathesis prepares bytes")
        headers = {
            name: value.decode("latin-1") if isinstance(value, bytes) else value
            for name, value in request.headers.items()
            if name.lower() != "content-length"
        }
        outgoing = self.client.build(str(request.method), str(request.url), content=body, headers=headers)
        exchange = self.client.send("generated", outgoing, _json_of(outgoing.headers.get("content-type", ""), body))
        self._exchanges[request] = exchange
        if exchange.transport_error is not None:
            error = requests.Timeout if exchange.transport_error.startswith("timeout") else requests.ConnectionError
            raise error(exchange.transport_error, request=request)
        if not exchange.sent:  # a stream failed fast: no answer to hand schemathesis (HTTP005 says why)
            raise requests.ConnectionError(exchange.stream_error, request=request)
        cut = exchange.stream_error is not None or (
            exchange.content_type == "text/event-stream" and exchange.stream().cut is not None
        )
        raw = urllib3.HTTPResponse(  # a cut body is HTTP005 already; judged in part it would only be noise
            body=io.BytesIO(b"" if cut else exchange.body),
            headers={k: v for k, v in exchange.response_headers.items() if k not in DECODED_AWAY},
            status=exchange.status or 0,
            reason=_reason(exchange.status),
            preload_content=False,
            decode_content=False,
        )
        response = self.build_response(request, raw)
        if cut:  # schemathesis then judges no event-stream schema
            setattr(response, STREAM_CUT_SHORT_ATTRIBUTE, True)
        return response

    def exchange_of(self, request: Any) -> Exchange | None:
        """What the client recorded for a prepared request this adapter sent."""
        try:
            return self._exchanges.get(request)
        except TypeError:  # not a prepared request of ours
            return None


class CaseSession(requests.Session):
    """A `requests` session that sends through one `TargetClient` (for http and https alike)."""

    def __init__(self, client: TargetClient) -> None:
        super().__init__()
        self.headers.clear()  # the client sends its own defaults; schemathesis would merge these into each case
        self.adapter = ClientAdapter(client)
        self.mount("http://", self.adapter)
        self.mount("https://", self.adapter)


class ClientTransport(RequestsTransport):
    """Schemathesis's requests transport, sending through the schema's `CaseSession` whenever it is given no
    session of its own: its checks' probes (`ignored_auth` sends each case without a key) are sent that way."""

    def send(self, case: Any, *, session: requests.Session | None = None, **kwargs: Any) -> Any:
        return super().send(case, session=session or session_of(case.operation.schema), **kwargs)


CLIENT_TRANSPORT = ClientTransport()
CLIENT_TRANSPORT._copy_serializers_from(REQUESTS_TRANSPORT)  # how bodies are encoded stays schemathesis's own

SESSION_ATTRIBUTE = "_kimi_case_session"
"""Where `attach` keeps a schema's session (schemathesis schemas are not hashable, so no mapping can key them)."""


_CLIENT_SCHEMA_CLASSES: dict[type, type] = {}
"""Schema class → its subclass sending through CLIENT_TRANSPORT (one per class, however many schemas)."""


def _sending_through_the_client(schema_class: type) -> type:
    """A subclass of a schema class whose `transport` is CLIENT_TRANSPORT (schemathesis reads it off the schema
    for every request, its own probes included, and offers no other way to choose it)."""
    if schema_class in _CLIENT_SCHEMA_CLASSES.values():
        return schema_class  # attached already
    if schema_class not in _CLIENT_SCHEMA_CLASSES:
        transport = {"transport": property(lambda self: CLIENT_TRANSPORT)}
        _CLIENT_SCHEMA_CLASSES[schema_class] = type(schema_class.__name__, (schema_class,), transport)
    return _CLIENT_SCHEMA_CLASSES[schema_class]


def attach(schema: Any, client: TargetClient) -> CaseSession:
    """Make `client` the sender of every request made for `schema`: its cases and schemathesis's probes."""
    session = CaseSession(client)
    setattr(schema, SESSION_ATTRIBUTE, session)
    schema.__class__ = _sending_through_the_client(type(schema))
    return session


def session_of(schema: Any) -> CaseSession:
    """The session `attach` gave this schema; a schema without one is a programming error (no uncapped path)."""
    session = getattr(schema, SESSION_ATTRIBUTE, None)
    if not isinstance(session, CaseSession):
        raise RuntimeError("this schema has no client: load it with load_schema(client, ...)")
    return session


def _json_of(content_type: str, body: bytes | None) -> Any:
    """The JSON a request body carries (the guard reads its model and size), or None."""
    if body is None or "json" not in content_type.lower():
        return None
    try:
        return strict_json.loads(body)
    except ValueError:
        return None  # generated negative data may be any bytes


def _reason(status: int | None) -> str:
    try:
        return HTTPStatus(status or 0).phrase
    except ValueError:
        return ""
