"""Error envelope checks (facts §9): every non-2xx answer is `{"error": {"type", "message"}}` as JSON, with a
type documented for its status; requests without a valid key are refused."""

from __future__ import annotations

from kimi_conformance.checks.context import CheckContext
from kimi_conformance.checks.guards import brief, raise_external, status_of
from kimi_conformance.checks.registry import check
from kimi_conformance.checks.runner import NotApplicable
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Severity, Violation

DOCUMENTED_TYPES: dict[int, frozenset[str]] = {
    400: frozenset({"invalid_request_error", "content_filter"}),
    401: frozenset({"invalid_authentication_error", "incorrect_api_key_error"}),
    403: frozenset({"permission_denied_error", "exceeded_current_quota_error"}),
    404: frozenset({"resource_not_found_error"}),
    429: frozenset({"rate_limit_reached_error", "exceeded_current_quota_error", "engine_overloaded_error"}),
    500: frozenset({"server_error", "unexpected_output"}),
}
"""Documented error types per status (facts §9 table and observed variants)."""
UNDOCUMENTED_BODY = frozenset({504})
"""Statuses whose body the facts leave unspecified (504 on the server timeout, facts §1, §9): any JSON value is
accepted (the contract's GatewayTimeout), the envelope is not required."""


def _error_response(exchange: Exchange) -> None:
    status = status_of(exchange)
    if status < 400 or exchange.operation == "unknownRoute":
        raise NotApplicable


@check("ERR001", "Error body is not the common envelope", "#/components/schemas/ErrorResponse", fact="facts §9 [S][D]")
def error_envelope_shape(ctx: CheckContext, exchange: Exchange) -> None:
    """A 4xx or 5xx body is `{"error": {"type": <string>, "message": <string>}}`.

    A 504's body is not documented: any JSON value passes (`UNDOCUMENTED_BODY`)."""
    _error_response(exchange)
    try:
        body = exchange.json()
    except ValueError:
        raise Violation(f"Received: {exchange.excerpt(120)!r}\nExpected: a JSON error envelope") from None
    if status_of(exchange) in UNDOCUMENTED_BODY:
        return
    error = body.get("error") if isinstance(body, dict) else None
    if (
        not isinstance(error, dict)
        or not isinstance(error.get("message"), str)
        or not isinstance(error.get("type"), str)
    ):
        raise Violation(f'Received: {brief(body)}\nExpected: {{"error": {{"type": "...", "message": "..."}}}}')


@check("ERR002", "Error type not documented for the status", "#/components/responses", fact="facts §9 [D]")
def error_type_documented(ctx: CheckContext, exchange: Exchange) -> None:
    """The envelope's `type` is one the facts document for that HTTP status."""
    _error_response(exchange)
    status = status_of(exchange)
    try:
        error = exchange.json()["error"]
        received = error["type"]
    except (ValueError, KeyError, TypeError):
        raise NotApplicable from None
    documented = DOCUMENTED_TYPES.get(status)
    if documented is None:
        raise NotApplicable
    if not isinstance(received, str) or received not in documented:
        severity = Severity.WARNING if status >= 500 else None
        raise Violation(
            f"Received: HTTP {status} type {received!r}\nExpected: one of {', '.join(sorted(documented))}",
            severity=severity,
        )


@check("ERR003", "Error body is not JSON", "#/components/schemas/ErrorResponse", fact="facts §9 [S][D]")
def error_is_json(ctx: CheckContext, exchange: Exchange) -> None:
    """A 4xx or 5xx answer has `Content-Type: application/json`."""
    _error_response(exchange)
    if exchange.content_type != "application/json":
        received = exchange.response_headers.get("content-type", "<none>")
        raise Violation(f"Received: Content-Type {received}\nExpected: application/json")


@check(
    "AUTH001",
    "Request without a valid key was not refused",
    "#/components/securitySchemes/bearerAuth",
    fact="facts §1 [D][S]; facts §9 [D]",
)
def unauthenticated_request_refused(ctx: CheckContext, exchange: Exchange) -> None:
    """A request with no key, a malformed Authorization header or a wrong key is answered 401."""
    raise_external(exchange, "AUTH001")  # schemathesis's ignored_auth check on generated requests
    if exchange.intent != "unauthenticated":
        raise NotApplicable
    status = status_of(exchange)
    if status != 401:
        raise Violation(f"Received: HTTP {status} for a request without a valid key\nExpected: HTTP 401")


@check(
    "ERR004",
    "Missing resource not answered 404",
    "#/components/responses/NotFound",
    fact="facts §3.1 [D]; facts §4 [S]; facts §2 [S]",
)
def missing_resource_is_404(ctx: CheckContext, exchange: Exchange) -> None:
    """An unknown model, file or batch is answered 404 `resource_not_found_error`."""
    if exchange.intent != "missing":
        raise NotApplicable
    status = status_of(exchange)
    if status != 404:
        raise Violation(f"Received: HTTP {status} for a model, file or batch that does not exist\nExpected: HTTP 404")
