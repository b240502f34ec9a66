"""Transport-level checks: the target answers, without server errors, with documented statuses and types."""

from __future__ import annotations

from kimi_conformance import contract
from kimi_conformance.checks.context import CheckContext
from kimi_conformance.checks.guards import contract_operation, status_of
from kimi_conformance.checks.registry import check
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Violation


@check("HTTP001", "Target did not answer", "#/servers", fact="facts §1 [D]; RFC 9110 [standard]")
def target_answers(ctx: CheckContext, exchange: Exchange) -> None:
    """Every request gets an HTTP response within the request timeout (no reset, refusal or hang)."""
    if exchange.transport_error is not None:
        raise Violation(f"Received: no response ({exchange.transport_error})\nExpected: an HTTP response")


@check(
    "HTTP002", "Server error", "#/components/responses/InternalServerError", fact="RFC 9110 [standard]; facts §9 [D]"
)
def not_a_server_error(ctx: CheckContext, exchange: Exchange) -> None:
    """No request, valid or not, is answered with a 5xx."""
    status = status_of(exchange)
    if status >= 500:
        raise Violation(f"Received: HTTP {status}\nExpected: a 2xx answer or a 4xx error envelope")


def _documented_statuses(operation: str) -> list[str]:
    return list(contract.documented_responses(operation))


@check("HTTP003", "Undocumented HTTP status code", "#/paths", fact="facts §2 [S][D]")
def status_code_documented(ctx: CheckContext, exchange: Exchange) -> None:
    """The status is one the contract documents for the operation."""
    status = status_of(exchange)
    documented = _documented_statuses(contract_operation(exchange))
    if str(status) not in documented and f"{str(status)[0]}XX" not in documented and "default" not in documented:
        raise Violation(f"Received: HTTP {status}\nExpected: one of {', '.join(documented)}")


@check("HTTP004", "Undocumented Content-Type", "#/paths", fact="facts §2 [S]; facts §3.10 [D]; facts §9 [S][D]")
def content_type_documented(ctx: CheckContext, exchange: Exchange) -> None:
    """The Content-Type is one the contract documents for the status (parameters such as charset aside)."""
    status = status_of(exchange)
    response = contract.documented_responses(contract_operation(exchange)).get(str(status))
    if response is None or "content" not in response:
        return
    media_types = list(response["content"])
    if exchange.content_type not in media_types:
        received = exchange.response_headers.get("content-type", "<none>")
        raise Violation(f"Received: Content-Type {received}\nExpected: one of {', '.join(media_types)}")


@check("HTTP005", "Body cut short", "#/paths", fact="RFC 9112 [standard]")
def body_arrives_in_time(ctx: CheckContext, exchange: Exchange) -> None:
    """A response body arrives whole and within the caps: no silence past the idle timeout, no stream past the
    total timeout, no reset, no body past the byte cap (after decompression) or stream past the event cap."""
    if not exchange.sent and exchange.stream_error is not None:  # failed fast after streams that stalled
        raise Violation(f"Received: nothing ({exchange.stream_error})\nExpected: the whole body")
    status_of(exchange)
    if exchange.stream_error is not None:
        raise Violation(f"Received: {len(exchange.body)} bytes, then {exchange.stream_error}\nExpected: the whole body")
    if exchange.content_type == "text/event-stream" and (cut := exchange.stream().cut) is not None:
        raise Violation(f"Received: an event stream of {cut}\nExpected: a stream short enough to be read whole")
