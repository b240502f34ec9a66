"""Model-rule checks (facts §3): a probe at a rule's valid edge is served, a probe just past it is refused with
400 `invalid_request_error`. Each finding names the rule, the model, what was sent and what came back, and the
rule's source; a rule resting on [O] or [I], or one the facts contest, gives warnings only (`Rule.strength`)."""

from __future__ import annotations

from kimi_conformance.checks.context import CheckContext
from kimi_conformance.checks.guards import status_of
from kimi_conformance.checks.registry import check
from kimi_conformance.checks.runner import NotApplicable
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Severity, Violation
from kimi_conformance.rules import ModelInfo, Rule
from kimi_conformance.rules.contested import contested_use

CHAT = ["createChatCompletion"]
REQUEST = "#/paths/~1v1~1chat~1completions/post/requestBody"


def _probe(ctx: CheckContext, exchange: Exchange, intent: str) -> tuple[Rule, ModelInfo, str, Severity | None]:
    """(rule, model, header line, severity override) of a rule probe with this intent, else NotApplicable."""
    if exchange.rule is None or exchange.intent != intent:
        raise NotApplicable
    rule_id, sent = exchange.rule
    rule = ctx.rules.rule(rule_id)
    body = exchange.request_json if isinstance(exchange.request_json, dict) else {}
    model = ctx.model(body.get("model"))
    if rule is None or model is None:
        raise NotApplicable
    strength = rule.strength(model)
    header = f"Rule {rule.id} ({rule.title}; {rule.source}) on {body.get('model')}: sent {sent}"
    use = contested_use(model, body)
    if strength.warning:
        header += f"\nA warning: the rule {strength.reason}"
    elif use is not None:
        header += f"\nA warning: the request uses {use.id}, which the facts contest: {use.sides}"
    return rule, model, header, Severity.WARNING if strength.warning or use is not None else None


def _error_type(exchange: Exchange) -> object:
    try:
        body = exchange.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("type") if isinstance(error, dict) else None


@check("RULE001", "Request breaking a model rule was served", REQUEST, fact="rules table [rule]", operations=CHAT)
def rule_breaking_request_refused(ctx: CheckContext, exchange: Exchange) -> None:
    """A request just past a model rule's edge is refused, not served (clamped, ignored or defaulted)."""
    _, _, header, severity = _probe(ctx, exchange, "invalid")
    status = status_of(exchange)
    if 200 <= status < 300:
        raise Violation(
            f"{header}\nReceived: HTTP {status} (served: the value was ignored or clamped)\n"
            "Expected: HTTP 400 invalid_request_error",
            severity=severity,
        )


@check("RULE002", "Request keeping a model rule was refused", REQUEST, fact="rules table [rule]", operations=CHAT)
def rule_abiding_request_served(ctx: CheckContext, exchange: Exchange) -> None:
    """A request at a model rule's valid edge (or omitting a fixed parameter) is served, not refused."""
    _, _, header, severity = _probe(ctx, exchange, "valid")
    status = status_of(exchange)
    if 400 <= status < 500 and status not in (401, 403, 429):
        raise Violation(
            f"{header}\nReceived: HTTP {status} {exchange.excerpt(200)}\nExpected: the request served (HTTP 200)",
            severity=severity,
        )


@check(
    "RULE003",
    "Rule-breaking request refused with the wrong status or type",
    "#/paths/~1v1~1chat~1completions/post/responses/400",
    fact="rules table [rule]",
    operations=CHAT,
)
def rule_breaking_request_is_400(ctx: CheckContext, exchange: Exchange) -> None:
    """A refused rule-breaking request is answered 400 with error type `invalid_request_error`."""
    _, _, header, severity = _probe(ctx, exchange, "invalid")
    status = status_of(exchange)
    if status < 400 or status in (401, 403, 429):
        raise NotApplicable  # served (RULE001) or refused for reasons of its own
    kind = _error_type(exchange)
    if status != 400 or kind != "invalid_request_error":
        raise Violation(
            f"{header}\nReceived: HTTP {status} type {kind!r}\nExpected: HTTP 400 invalid_request_error",
            severity=severity,
        )
