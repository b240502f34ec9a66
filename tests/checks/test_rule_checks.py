"""Unit tests of the model-rule checks (RULE001-RULE003) on synthetic rule probes, judged with the real rules table:
a probe just past a rule's edge is refused with 400 `invalid_request_error`, a probe at its valid edge is served,
and a rule resting on inference (for the rule or for the model) gives warnings only."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_conformance.checks import CheckContext, Status
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Finding, Severity
from tests.checks.exchanges import api, chat_request, completion, error_envelope, message, outcome, status, unanswered

RULE = "sampling.kimi-k2_6.temperature"
MODEL = "kimi-k2.6"
SENT = "temperature=0.7"
FAILING = [("RULE001", "invalid", 200), ("RULE002", "valid", 400), ("RULE003", "invalid", 422)]
"""Each check, the intent of the probes it judges, and an answer it fails on."""


def probe(
    intent: str,
    answer: int,
    body: bytes | dict[str, Any] | None = None,
    *,
    rule: str = RULE,
    model: str = MODEL,
    sent: str = SENT,
    request: Any = None,
) -> Exchange:
    """A chat probe of `rule` on `model` meant to be `intent`, answered `answer` with `body` (a completion for a 2xx,
    an invalid_request_error envelope otherwise, unless given)."""
    if body is None:
        body = completion(model=model) if answer < 300 else error_envelope(text="invalid temperature")
    sent_request = request if request is not None else chat_request(model=model, temperature=0.7)
    return api("createChatCompletion", body, status=answer, request=sent_request, intent=intent, rule=(rule, sent))


def finding(code: str, exchange: Exchange, ctx: CheckContext | None = None) -> Finding:
    result = outcome(code, exchange, ctx)
    assert result.finding is not None, f"{code} did not fail: {result.status}"
    return result.finding


# Which exchanges are rule probes at all (shared by the three checks)


@pytest.mark.parametrize(("code", "intent", "answer"), FAILING)
def test_rule_checks_do_not_apply_to_a_request_that_is_no_rule_probe(code: str, intent: str, answer: int) -> None:
    plain = api("createChatCompletion", error_envelope(), status=answer, request=chat_request(), intent=intent)
    assert status(code, plain) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(("code", "intent", "answer"), FAILING)
def test_rule_checks_do_not_apply_to_a_probe_of_the_other_intent(code: str, intent: str, answer: int) -> None:
    other = "valid" if intent == "invalid" else "invalid"
    assert status(code, probe(other, answer)) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(("code", "intent", "answer"), FAILING)
def test_rule_checks_do_not_apply_to_a_rule_the_table_does_not_know(code: str, intent: str, answer: int) -> None:
    assert status(code, probe(intent, answer, rule="sampling.gpt-4.temperature")) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(("code", "intent", "answer"), FAILING)
def test_rule_checks_do_not_apply_to_a_model_the_table_does_not_know(code: str, intent: str, answer: int) -> None:
    assert status(code, probe(intent, answer, model="gpt-4o")) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(("code", "intent", "answer"), FAILING)
@pytest.mark.parametrize("request_json", [["not", "an", "object"], "temperature=0.7"], ids=["list", "text"])
def test_rule_checks_do_not_apply_to_a_probe_whose_request_is_not_an_object(
    code: str, intent: str, answer: int, request_json: Any
) -> None:
    assert status(code, probe(intent, answer, request=request_json)) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(("code", "intent", "answer"), FAILING)
def test_rule_checks_do_not_apply_to_an_unanswered_probe(code: str, intent: str, answer: int) -> None:
    lost = unanswered(request=chat_request(model=MODEL), intent=intent, rule=(RULE, SENT))
    assert status(code, lost) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(("code", "intent", "answer"), FAILING)
def test_rule_checks_judge_a_model_known_through_an_alias(code: str, intent: str, answer: int) -> None:
    ctx = CheckContext(aliases={"moonshotai/kimi-k2.6": MODEL})
    aliased = probe(intent, answer, model="moonshotai/kimi-k2.6")
    assert status(code, aliased) is Status.NOT_APPLICABLE
    assert f"on moonshotai/kimi-k2.6: sent {SENT}" in message(code, aliased, ctx)


# RULE001: a rule-breaking request is not served


@pytest.mark.parametrize("answer", [400, 401, 422, 500])
def test_rule001_passes_when_a_rule_breaking_request_is_not_served(answer: int) -> None:
    assert status("RULE001", probe("invalid", answer)) is Status.PASSED


@pytest.mark.parametrize("answer", [200, 201])
def test_rule001_fails_when_a_rule_breaking_request_is_served(answer: int) -> None:
    found = finding("RULE001", probe("invalid", answer))
    assert found.severity is Severity.ERROR
    assert found.message.startswith(
        f"Rule {RULE} (temperature is fixed at 1 or 0.6 (thinking / non-thinking); facts §3.3, §3.7 [S][D][KVV][O]) "
        f"on {MODEL}: sent {SENT}\n"
    )
    assert f"Received: HTTP {answer} (served: the value was ignored or clamped)" in found.message
    assert "Expected: HTTP 400 invalid_request_error" in found.message


# RULE002: a rule-keeping request is not refused


@pytest.mark.parametrize("answer", [200, 401, 403, 429, 500])
def test_rule002_passes_when_a_rule_keeping_request_is_not_refused_for_the_rule(answer: int) -> None:
    assert status("RULE002", probe("valid", answer)) is Status.PASSED


@pytest.mark.parametrize("answer", [400, 404, 422])
def test_rule002_fails_when_a_rule_keeping_request_is_refused(answer: int) -> None:
    found = finding("RULE002", probe("valid", answer, sent="temperature=1"))
    assert found.severity is Severity.ERROR
    assert f"on {MODEL}: sent temperature=1\nReceived: HTTP {answer} " in found.message
    assert "invalid temperature" in found.message and "Expected: the request served (HTTP 200)" in found.message


# RULE003: a refused rule-breaking request is 400 invalid_request_error


@pytest.mark.parametrize("answer", [200, 401, 403, 429])
def test_rule003_does_not_apply_to_a_served_request_or_a_refusal_of_its_own(answer: int) -> None:
    assert status("RULE003", probe("invalid", answer)) is Status.NOT_APPLICABLE


def test_rule003_passes_on_400_invalid_request_error() -> None:
    assert status("RULE003", probe("invalid", 400)) is Status.PASSED


@pytest.mark.parametrize(
    ("answer", "body", "received"),
    [
        (422, error_envelope(), "HTTP 422 type 'invalid_request_error'"),
        (404, error_envelope("resource_not_found_error"), "HTTP 404 type 'resource_not_found_error'"),
        (500, error_envelope("server_error"), "HTTP 500 type 'server_error'"),
        (400, error_envelope("content_filter"), "HTTP 400 type 'content_filter'"),
        (400, {"message": "invalid temperature"}, "HTTP 400 type None"),
        (400, {"error": "invalid temperature"}, "HTTP 400 type None"),
        (400, b"invalid temperature", "HTTP 400 type None"),
    ],
    ids=["422", "404", "500", "other-type", "no-error", "error-a-string", "not-json"],
)
def test_rule003_fails_on_a_refusal_with_the_wrong_status_or_type(answer: int, body: Any, received: str) -> None:
    text = message("RULE003", probe("invalid", answer, body))
    assert f"on {MODEL}: sent {SENT}\nReceived: {received}\nExpected: HTTP 400 invalid_request_error" in text


# Rules resting on inference: warnings only


INFERRED = [
    pytest.param("partial.last-message", MODEL, id="inferred-rule"),
    pytest.param("sampling.kimi-k2_7-code.temperature", "kimi-k2.7-code", id="inferred-family-rule"),
    pytest.param("context.output-window", "kimi-k2.7-code", id="rule-inferred-for-the-model"),
    pytest.param("stop.max-count", "kimi-latest", id="model-inferred-for-every-rule"),
]


@pytest.mark.parametrize(("rule", "model"), INFERRED)
@pytest.mark.parametrize(("code", "intent", "answer"), FAILING)
def test_rule_checks_only_warn_on_a_rule_resting_on_inference(
    code: str, intent: str, answer: int, rule: str, model: str
) -> None:
    found = finding(code, probe(intent, answer, rule=rule, model=model))
    assert found.severity is Severity.WARNING and found.message.startswith(f"Rule {rule} (")


@pytest.mark.parametrize(("code", "intent", "answer"), FAILING)
def test_rule_checks_give_errors_on_a_documented_rule_of_a_partly_inferred_model(
    code: str, intent: str, answer: int
) -> None:
    found = finding(code, probe(intent, answer, rule="stop.max-count", model="kimi-k2.7-code"))
    assert found.severity is Severity.ERROR and "(At most 5 stop sequences; facts §3.2 [S][D])" in found.message
