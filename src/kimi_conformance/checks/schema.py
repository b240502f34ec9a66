"""Schema checks: JSON bodies parse and validate against the schema the contract documents for them."""

from __future__ import annotations

from jsonschema.exceptions import best_match

from kimi_conformance import contract
from kimi_conformance.checks.context import CheckContext
from kimi_conformance.checks.guards import contract_operation, raise_external, status_of
from kimi_conformance.checks.registry import check
from kimi_conformance.checks.runner import NotApplicable
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Violation

_JSON_TYPES = ("application/json",)


@check("SCHM001", "Response violates schema", "#/components/schemas")
def response_schema_conformance(ctx: CheckContext, exchange: Exchange) -> None:
    """A JSON body validates against the schema documented for its operation, status and media type."""
    status = status_of(exchange)
    raise_external(exchange, "SCHM001")
    if exchange.content_type not in _JSON_TYPES:
        raise NotApplicable
    pointer = contract.response_schema_pointer(contract_operation(exchange), status, exchange.content_type)
    if pointer is None:
        raise NotApplicable
    try:
        body = exchange.json()
    except ValueError:
        raise NotApplicable from None  # SCHM004 reports it
    error = best_match(contract.validator_for(pointer).iter_errors(body))
    if error is not None:
        where = "/" + "/".join(str(part) for part in error.absolute_path)
        raise Violation(f"Received: {error.message[:300]}\nAt:       {where}\nExpected: valid against {pointer}")


@check("SCHM004", "Response is not valid JSON", "#/components/schemas")
def json_body_parses(ctx: CheckContext, exchange: Exchange) -> None:
    """A body declared as JSON parses as UTF-8 JSON."""
    status_of(exchange)
    if exchange.content_type not in _JSON_TYPES:
        raise NotApplicable
    try:
        exchange.json()
    except ValueError as exc:
        raise Violation(f"Received: {str(exc)[:200]}\nExpected: a JSON document") from None


@check("SCHM002", "Invalid request accepted", "#/paths")
def negative_data_rejected(ctx: CheckContext, exchange: Exchange) -> None:
    """A request that breaks the contract's request schema is refused with a 4xx, never served with a 2xx."""
    raise_external(exchange, "SCHM002")
    if exchange.intent != "invalid" or exchange.rule is not None:  # model-rule probes: RULE001
        raise NotApplicable
    status = status_of(exchange)
    if 200 <= status < 300:
        raise Violation(f"Received: HTTP {status} for a request the contract forbids\nExpected: a 4xx error")


@check("SCHM003", "Valid request rejected", "#/paths")
def positive_data_accepted(ctx: CheckContext, exchange: Exchange) -> None:
    """A request valid against the contract is not refused as invalid (400 or 422)."""
    raise_external(exchange, "SCHM003")
    if exchange.intent != "valid" or exchange.rule is not None:  # model-rule probes: RULE002
        raise NotApplicable
    status = status_of(exchange)
    if status in (400, 422):
        raise Violation(f"Received: HTTP {status} {exchange.excerpt(200)}\nExpected: the request accepted")


@check("SCHM005", "Schemathesis check failed", "#/paths")
def schemathesis_checks_pass(ctx: CheckContext, exchange: Exchange) -> None:
    """Schemathesis's other response checks (e.g. headers, Allow on 405) pass for generated requests."""
    raise_external(exchange, "SCHM005")
