"""Schema checks: JSON bodies parse and validate against the schema the contract documents for them."""

from __future__ import annotations

from jsonschema.exceptions import best_match

from kimi_conformance import contract
from kimi_conformance.checks.context import CheckContext
from kimi_conformance.checks.guards import contract_operation, raise_external, status_of
from kimi_conformance.checks.registry import check
from kimi_conformance.checks.runner import NotApplicable
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Severity, Violation
from kimi_conformance.rules.contested import contested_use

_JSON_TYPES = ("application/json",)


@check("SCHM001", "Response violates schema", "#/components/schemas", fact="facts §2 [S][D]")
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


@check("SCHM004", "Response is not valid JSON", "#/components/schemas", fact="RFC 8259 [standard]")
def json_body_parses(ctx: CheckContext, exchange: Exchange) -> None:
    """A body declared as JSON parses as UTF-8 JSON."""
    status_of(exchange)
    if exchange.content_type not in _JSON_TYPES:
        raise NotApplicable
    try:
        exchange.json()
    except ValueError as exc:
        raise Violation(f"Received: {str(exc)[:200]}\nExpected: a JSON document") from None


def _contested(ctx: CheckContext, exchange: Exchange, violation: Violation) -> Violation:
    """The violation, or a warning naming both sides when the request uses a feature the facts contest (whether
    it should be served is then no fact: `rules/contested.py`)."""
    body = exchange.request_json if isinstance(exchange.request_json, dict) else {}
    use = contested_use(ctx.model(body.get("model")), body)
    if use is None:
        return violation
    note = f"\nA warning: the request uses {use.id}, which the facts contest: {use.sides}"
    return Violation(violation.message + note, severity=Severity.WARNING)


@check("SCHM002", "Invalid request accepted", "#/paths", fact="facts §2 [S]; facts §9 [D]")
def negative_data_rejected(ctx: CheckContext, exchange: Exchange) -> None:
    """A request that breaks the contract's request schema is refused with a 4xx, never served with a 2xx."""
    try:
        raise_external(exchange, "SCHM002")
        if exchange.intent != "invalid" or exchange.rule is not None:  # model-rule probes: RULE001
            raise NotApplicable
        status = status_of(exchange)
        if 200 <= status < 300:
            raise Violation(f"Received: HTTP {status} for a request the contract forbids\nExpected: a 4xx error")
    except Violation as violation:
        raise _contested(ctx, exchange, violation) from None


@check("SCHM003", "Valid request rejected", "#/paths", fact="facts §2 [S]")
def positive_data_accepted(ctx: CheckContext, exchange: Exchange) -> None:
    """A request valid against the contract is not refused as invalid (400 or 422)."""
    try:
        raise_external(exchange, "SCHM003")
        if exchange.intent != "valid" or exchange.rule is not None:  # model-rule probes: RULE002
            raise NotApplicable
        status = status_of(exchange)
        if status in (400, 422):
            raise Violation(f"Received: HTTP {status} {exchange.excerpt(200)}\nExpected: the request accepted")
    except Violation as violation:
        raise _contested(ctx, exchange, violation) from None


@check("SCHM005", "Schemathesis check failed", "#/paths", fact="RFC 9110 [standard]; facts §2 [S]")
def schemathesis_checks_pass(ctx: CheckContext, exchange: Exchange) -> None:
    """Schemathesis's other response checks (e.g. headers, Allow on 405) pass for generated requests."""
    raise_external(exchange, "SCHM005")
