"""The cassette line: one exchange as a run (or the proxy) records it in `cassette.jsonl`, and back.

A line keeps what the checks read, so that `kimi-conformance recheck` can judge a recorded exchange again, offline,
exactly as the run did: the request (its text, and its JSON where the text does not say it, e.g. cut at 4,000
characters), the answer byte for byte up to CASSETTE_BODY_BYTES (as text, plus `body_base64` when the bytes are no
UTF-8), what the request was meant to be (`intent`, `rule`), schemathesis's verdicts (`external`), the exchanges a
check compares it with (`related`), when its answer came (`at`), and how it was judged (`only` these checks;
`attempt` of `--attempts`). The process's secrets are removed from every part (`redaction`), so a rebuilt exchange
carries none either. What generated data can fill (the request's JSON, schemathesis's messages quoting it) is kept as
JSON text in ASCII: exact, lone surrogates included, and never a raw line separator (U+2028) in a line.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from kimi_conformance import strict_json
from kimi_conformance.exchange import Exchange, External
from kimi_conformance.findings import Severity
from kimi_conformance.redaction import Redactor, redact

CASSETTE_BODY_BYTES = 1024 * 1024
"""Of each answer's body: enough for every answer a run judges whole (a streamed 2,048-token answer is ~300 KB); a
longer one is cut there (`body_bytes` says how long it was), and cannot be judged again."""
RELATED_DEPTH = 2
"""How deep related exchanges are recorded (a related exchange's own related ones, and no further)."""
_NO_JSON = object()


def record_of(
    exchange: Exchange,
    test: str = "",
    *,
    only: frozenset[str] | set[str] | None = None,
    attempt: tuple[int, int] = (1, 1),
) -> dict[str, Any]:
    """The cassette line of an exchange judged (or sent) under `test`: `only` the checks it was judged with, when
    not all selected; `attempt` (k, K) of a request `--attempts K` may send again."""
    line = {"test": test, **_exchange_record(exchange, RELATED_DEPTH)}
    if only is not None:
        line["only"] = sorted(only)
    if attempt[1] > 1:
        line["attempt"] = list(attempt)
    return line


def _exchange_record(exchange: Exchange, depth: int) -> dict[str, Any]:
    redactor = Redactor()
    body = _redacted_bytes(exchange.body[:CASSETTE_BODY_BYTES])
    text = body.decode("utf-8", errors="replace")
    record: dict[str, Any] = {
        "operation": exchange.operation,
        "method": exchange.method,
        "url": redact(exchange.url),
        "request_headers": redactor.headers(exchange.request_headers),
        "request": redact(exchange.request_text),
        "status": exchange.status,
        "response_headers": redactor.headers(exchange.response_headers),
        "body": text,
        **({"body_base64": base64.b64encode(body).decode()} if text.encode() != body else {}),
        "body_bytes": len(exchange.body),
        "transport_error": redact(exchange.transport_error) if exchange.transport_error else None,
        "stream_error": redact(exchange.stream_error) if exchange.stream_error else None,
        "elapsed_s": round(exchange.elapsed, 4),
        "at": round(exchange.received_at, 3),
        "intent": exchange.intent,
        **({} if exchange.sent else {"sent": False}),
    }
    if _request_json_of(exchange.request_text) != exchange.request_json:
        record["request_json"] = _json_text(exchange.request_json)
    if exchange.rule is not None:
        record["rule"] = [redact(part) for part in exchange.rule]
    if exchange.sent_authorization is not None:
        record["sent_authorization"] = redact(exchange.sent_authorization)
    if exchange.external:
        entries = [External(*entry) for entry in exchange.external]
        record["external"] = _json_text(
            [[e.code, e.message, e.severity.value if e.severity else None] for e in entries]
        )
    if exchange.related and depth > 0:
        record["related"] = {name: _exchange_record(other, depth - 1) for name, other in exchange.related.items()}
    return record


def _redacted_bytes(body: bytes) -> bytes:
    """The body without the process's secrets, every other byte as it was (invalid UTF-8 included)."""
    return redact(body.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")


def _json_text(value: Any) -> str:
    """`value` as ASCII JSON text without secrets; what JSON cannot hold (the bytes of a generated multipart body) as
    a placeholder naming its size."""

    def placeholder(item: Any) -> Any:
        if isinstance(item, bytes | bytearray):
            return f"<{len(item)} bytes>"
        return str(getattr(item, "data", item))

    try:
        return redact(json.dumps(value, default=placeholder, allow_nan=False))
    except ValueError:  # NaN or an infinity (a proxied body Python's reader took): no JSON holds it
        return json.dumps("<not JSON: NaN or Infinity>")


def _from_json_text(record: dict[str, Any], name: str) -> Any:
    text = _field(record, name, str)
    try:
        return json.loads(text)
    except ValueError:
        raise ValueError(f"{name} is not JSON text") from None


def _request_json_of(text: str) -> Any:
    """The JSON a recorded request text says, or a marker that it says none."""
    if not text:
        return None
    try:
        return strict_json.loads(text)
    except ValueError:
        return _NO_JSON


def exchange_of(record: Any) -> Exchange:
    """The exchange a cassette line records, as the checks saw it; a ValueError naming the first field that is not
    what the cassette writes."""
    if not isinstance(record, dict):
        raise ValueError("a line is a JSON object")
    body = str(_field(record, "body", str, ""))
    if "body_base64" in record:
        try:
            raw = base64.b64decode(_field(record, "body_base64", str), validate=True)
        except ValueError:
            raise ValueError("body_base64 is not base64") from None
    else:
        raw = body.encode()
    request_text = _field(record, "request", str, "")
    request_json = (
        _from_json_text(record, "request_json") if "request_json" in record else _request_json_of(request_text)
    )
    rule = _field(record, "rule", list, None)
    if rule is not None and (len(rule) != 2 or not all(isinstance(part, str) for part in rule)):
        raise ValueError("rule is [rule id, what the probe sent]")
    related = _field(record, "related", dict, {})
    return Exchange(
        operation=_field(record, "operation", str),
        method=_field(record, "method", str),
        url=_field(record, "url", str),
        request_headers=_headers(record, "request_headers"),
        request_json=None if request_json is _NO_JSON else request_json,
        request_text=request_text,
        status=_field(record, "status", int, None),
        response_headers=_headers(record, "response_headers"),
        body=raw,
        elapsed=float(_field(record, "elapsed_s", (int, float), 0.0)),
        transport_error=_field(record, "transport_error", str, None),
        stream_error=_field(record, "stream_error", str, None),
        intent=_field(record, "intent", str, "valid"),
        rule=(rule[0], rule[1]) if rule is not None else None,
        sent_authorization=_field(record, "sent_authorization", str, None),
        external=[_external(entry) for entry in (_from_json_text(record, "external") if "external" in record else [])],
        related={str(name): exchange_of(other) for name, other in related.items()},
        sent=_field(record, "sent", bool, True),
        received_at=float(_field(record, "at", (int, float), 0.0)),
    )


def body_complete(record: dict[str, Any], exchange: Exchange) -> bool:
    """Whether the line kept the whole body (a longer one was cut at CASSETTE_BODY_BYTES)."""
    recorded: int = _field(record, "body_bytes", int, len(exchange.body))
    return recorded == len(exchange.body)


def _field(record: dict[str, Any], name: str, kind: type | tuple[type, ...], *default: Any) -> Any:
    if name not in record or (default and record[name] is None):
        if not default:
            raise ValueError(f"{name} is missing")
        return default[0]
    value = record[name]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, (int, float))):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ValueError(f"{name} is {type(value).__name__}, not {names}")
    return value


def _headers(record: dict[str, Any], name: str) -> dict[str, str]:
    headers = _field(record, name, dict, {})
    if not all(isinstance(value, str) for value in headers.values()):
        raise ValueError(f"{name} holds a value that is no string")
    return {str(key): value for key, value in headers.items()}


def _external(entry: Any) -> External:
    if not (isinstance(entry, list) and len(entry) == 3 and all(isinstance(part, str) for part in entry[:2])):
        raise ValueError("external holds an entry that is not [code, message, severity]")
    try:
        return External(entry[0], entry[1], Severity(entry[2]) if entry[2] is not None else None)
    except ValueError:
        raise ValueError(f"external holds the unknown severity {entry[2]!r}") from None
