"""Small helpers checks share: skip what has no response, parse JSON bodies, read a served stream, describe values
briefly."""

from __future__ import annotations

import json
from typing import Any

from kimi_conformance import contract
from kimi_conformance.checks.runner import NotApplicable
from kimi_conformance.chunks import StreamView
from kimi_conformance.exchange import Exchange, External
from kimi_conformance.findings import Severity, Violation


def status_of(exchange: Exchange) -> int:
    """The response status; not applicable when the target never answered."""
    if exchange.status is None:
        raise NotApplicable
    return exchange.status


def contract_operation(exchange: Exchange) -> str:
    """The exchange's operation; not applicable when the contract does not know it (the proxy's `unknownRoute`)."""
    if exchange.operation not in contract.operations():
        raise NotApplicable
    return exchange.operation


def json_body(exchange: Exchange) -> Any:
    """The JSON body; not applicable when there is none (other checks report that)."""
    status_of(exchange)
    try:
        return exchange.json()
    except ValueError:
        raise NotApplicable from None


def success_json(exchange: Exchange) -> dict[str, Any]:
    """The JSON object of a 2xx response; not applicable otherwise."""
    if not 200 <= status_of(exchange) < 300:
        raise NotApplicable
    body = json_body(exchange)
    if not isinstance(body, dict):
        raise NotApplicable
    return body


def completion_of(exchange: Exchange) -> tuple[dict[str, Any], dict[str, Any]]:
    """(request, response) of a successful non-streaming completion (a stream's fold is one); not applicable
    otherwise."""
    if exchange.content_type != "application/json" or not isinstance(exchange.request_json, dict):
        raise NotApplicable
    return exchange.request_json, success_json(exchange)


def streamed_request(exchange: Exchange) -> dict[str, Any]:
    """The request of a chat completion requested with `stream: true` and answered 200; not applicable otherwise (a
    refused stream request is the error checks', one the target never answered has no stream)."""
    request = exchange.request_json
    if not isinstance(request, dict) or request.get("stream") is not True or status_of(exchange) != 200:
        raise NotApplicable
    return request


def stream_of(exchange: Exchange) -> StreamView:
    """The stream of a chat completion requested with `stream: true` and answered 200 (`streamed_request`)."""
    streamed_request(exchange)
    return exchange.stream()


def choices_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The choices that are objects; not applicable when `choices` is no list (SCHM001 says so)."""
    choices = body.get("choices")
    if not isinstance(choices, list):
        raise NotApplicable
    return [choice for choice in choices if isinstance(choice, dict)]


def message_of(choice: dict[str, Any]) -> dict[str, Any]:
    """A choice's message, or an empty one when it has none that is an object."""
    message = choice.get("message")
    return message if isinstance(message, dict) else {}


def brief(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def raise_external(exchange: Exchange, code: str) -> None:
    """Report what another engine (schemathesis) found on this exchange under `code`, at the gravest severity among
    them (an entry without one stands for the check's own)."""
    found = [External(*entry) for entry in exchange.external if entry[0] == code]
    if not found:
        return
    overrides = [entry.severity for entry in found if entry.severity is not None]
    severity = min(overrides, key=_RANK.__getitem__) if len(overrides) == len(found) else None
    raise Violation("\n".join(entry.message for entry in found), severity=severity)
