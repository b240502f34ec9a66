"""Unit tests of the error checks (ERR001-ERR004, AUTH001) on synthetic exchanges: every 4xx/5xx is the common JSON
envelope with a type documented for its status, requests without a valid key get 401, missing resources 404."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_conformance.checks import Status
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Severity
from tests.checks.exchanges import (
    api,
    completion,
    error_envelope,
    exchange,
    message,
    model_list,
    outcome,
    status,
    unanswered,
)


def refused(body: bytes | dict[str, Any] | list[Any], answer: int = 400, **fields: Any) -> Exchange:
    """A chat request refused with HTTP `answer` and `body`."""
    return api("createChatCompletion", body, status=answer, **fields)


def stray(answer: int = 404) -> Exchange:
    """An answer to a route the contract does not know (seen by the proxy)."""
    return exchange("unknownRoute", b"<html>not found</html>", status=answer, content_type="text/html", method="GET")


@pytest.mark.parametrize("code", ["ERR001", "ERR002", "ERR003"])
@pytest.mark.parametrize(
    "answer",
    [api("listModels", model_list()), api("listModels", model_list(), status=302), stray(), unanswered()],
    ids=["success", "redirect", "unknown-route", "unanswered"],
)
def test_error_checks_do_not_apply_but_to_an_error_of_a_known_operation(code: str, answer: Exchange) -> None:
    assert status(code, answer) is Status.NOT_APPLICABLE


@pytest.mark.parametrize("answer", [400, 404, 500])
def test_err001_passes_on_the_common_envelope(answer: int) -> None:
    assert status("ERR001", refused(error_envelope(), answer)) is Status.PASSED


def test_err001_passes_with_the_optional_code() -> None:
    body = {"error": {"type": "invalid_request_error", "message": "bad", "code": "invalid_temperature"}}
    assert status("ERR001", refused(body)) is Status.PASSED


@pytest.mark.parametrize("code", ["ERR001", "ERR002", "ERR003"])
@pytest.mark.parametrize("answer", [400, 401, 404, 429, 500])
def test_error_checks_pass_on_null_code_and_param(code: str, answer: int) -> None:
    """`"code": null, "param": null`: the common OpenAI-compatible error shape (facts §9: `code` is optional)."""
    kind = {400: "invalid_request_error", 401: "invalid_authentication_error", 404: "resource_not_found_error",
            429: "rate_limit_reached_error", 500: "server_error"}[answer]  # fmt: skip
    body = {"error": {**error_envelope(kind)["error"], "code": None, "param": None}}
    assert status(code, refused(body, answer)) is Status.PASSED


def test_err001_fails_on_a_body_that_is_not_json() -> None:
    text = message("ERR001", refused(b"Bad Gateway", 502, content_type="text/plain"))
    assert "Received: 'Bad Gateway'" in text and "Expected: a JSON error envelope" in text


@pytest.mark.parametrize(
    "body",
    [
        {"type": "invalid_request_error", "message": "flat"},
        {"error": "invalid temperature"},
        {"error": {"message": "no type"}},
        {"error": {"type": "invalid_request_error"}},
        {"error": {"type": 400, "message": "numeric type"}},
        {"error": {"type": "invalid_request_error", "message": ["not", "a", "string"]}},
        [{"error": {"type": "invalid_request_error", "message": "in a list"}}],
        "invalid temperature",
    ],
    ids=["flat", "error-a-string", "no-type", "no-message", "type-not-string", "message-not-string", "list", "string"],
)
def test_err001_fails_on_a_body_other_than_the_envelope(body: Any) -> None:
    text = message("ERR001", refused(body))
    assert text.startswith("Received: ") and 'Expected: {"error": {"type": "...", "message": "..."}}' in text


def test_err001_shows_the_flat_error_body_it_received() -> None:
    assert 'Received: {"type": "invalid_request_error", "message": "flat"}' in message(
        "ERR001", refused({"type": "invalid_request_error", "message": "flat"})
    )


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (400, "invalid_request_error"),
        (400, "content_filter"),
        (401, "incorrect_api_key_error"),
        (403, "exceeded_current_quota_error"),
        (404, "resource_not_found_error"),
        (429, "engine_overloaded_error"),
        (500, "unexpected_output"),
    ],
)
def test_err002_passes_on_a_type_documented_for_the_status(answer: int, kind: str) -> None:
    assert status("ERR002", refused(error_envelope(kind), answer)) is Status.PASSED


@pytest.mark.parametrize(
    "answer",
    [
        refused(b"Bad Request", content_type="text/plain"),
        refused({"message": "flat, without a type"}),
        refused({"error": {"message": "no type"}}),
        refused({"error": "a string"}),
        refused(["a list"]),
        refused(error_envelope("gateway_timeout"), 504),
        refused(error_envelope("unprocessable"), 422),
    ],
    ids=["not-json", "no-error", "no-type", "error-a-string", "list", "504-undocumented", "422-undocumented"],
)
def test_err002_does_not_apply_without_a_type_or_a_documented_table_for_the_status(answer: Exchange) -> None:
    assert status("ERR002", answer) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(("answer", "kind"), [(400, "resource_not_found_error"), (401, "unauthorized"), (429, "slow")])
def test_err002_fails_on_a_client_error_type_not_documented_for_the_status(answer: int, kind: str) -> None:
    result = outcome("ERR002", refused(error_envelope(kind), answer))
    assert result.finding is not None and result.finding.severity is Severity.ERROR
    assert f"Received: HTTP {answer} type {kind!r}" in result.finding.message


def test_err002_lists_the_types_documented_for_the_status() -> None:
    text = message("ERR002", refused(error_envelope("not_found"), 404))
    assert "Expected: one of resource_not_found_error" in text


def test_err002_only_warns_on_a_server_error_type_not_documented() -> None:
    result = outcome("ERR002", refused(error_envelope("internal_error"), 500))
    assert result.status is Status.FAILED and result.finding is not None
    assert result.finding.severity is Severity.WARNING
    assert "Received: HTTP 500 type 'internal_error'\nExpected: one of server_error, unexpected_output" in (
        result.finding.message
    )


@pytest.mark.parametrize("kind", [["invalid_request_error"], {"name": "invalid_request_error"}], ids=["list", "object"])
def test_err002_fails_on_a_type_that_is_not_a_string(kind: Any) -> None:
    text = message("ERR002", refused({"error": {"type": kind, "message": "bad"}}))
    assert f"Received: HTTP 400 type {kind!r}\nExpected: one of content_filter, invalid_request_error" in text


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
def test_err003_passes_on_a_json_error(content_type: str) -> None:
    assert status("ERR003", refused(error_envelope(), content_type=content_type)) is Status.PASSED


def test_err003_fails_on_an_error_that_is_not_json() -> None:
    text = message("ERR003", refused(b"<html>502</html>", 502, content_type="text/html; charset=utf-8"))
    assert "Received: Content-Type text/html; charset=utf-8\nExpected: application/json" in text


def test_err003_fails_on_an_error_without_a_content_type() -> None:
    answer = refused(error_envelope(), 500)
    answer.response_headers = {}
    assert "Received: Content-Type <none>" in message("ERR003", answer)


@pytest.mark.parametrize(
    "answer",
    [
        refused(error_envelope(), intent="valid"),
        refused(error_envelope(), 404, intent="missing"),
        unanswered(intent="unauthenticated"),
    ],
    ids=["valid", "missing", "unanswered"],
)
def test_auth001_does_not_apply_but_to_an_answered_unauthenticated_request(answer: Exchange) -> None:
    assert status("AUTH001", answer) is Status.NOT_APPLICABLE


def test_auth001_passes_when_a_request_without_a_key_gets_401() -> None:
    unauthenticated = refused(error_envelope("invalid_authentication_error"), 401, intent="unauthenticated")
    assert status("AUTH001", unauthenticated) is Status.PASSED


@pytest.mark.parametrize("answer", [200, 400, 403, 404])
def test_auth001_fails_when_a_request_without_a_key_is_not_answered_401(answer: int) -> None:
    body = completion() if answer == 200 else error_envelope()
    text = message("AUTH001", refused(body, answer, intent="unauthenticated", sent_authorization="Bearer wrong"))
    assert f"Received: HTTP {answer} for a request without a valid key\nExpected: HTTP 401" in text


def test_auth001_reports_what_schemathesis_found_on_a_generated_request() -> None:
    served = api("listModels", model_list(), intent="generated", external=[("AUTH001", "API accepts no auth")])
    assert message("AUTH001", served) == "API accepts no auth"


@pytest.mark.parametrize(
    "answer",
    [refused(error_envelope(), 404, intent="valid"), unanswered(intent="missing")],
    ids=["valid", "unanswered"],
)
def test_err004_does_not_apply_but_to_an_answered_request_for_a_missing_resource(answer: Exchange) -> None:
    assert status("ERR004", answer) is Status.NOT_APPLICABLE


def test_err004_passes_when_a_missing_resource_is_answered_404() -> None:
    missing = api("retrieveFile", error_envelope("resource_not_found_error"), status=404, intent="missing")
    assert status("ERR004", missing) is Status.PASSED


@pytest.mark.parametrize("answer", [200, 400, 403, 500])
def test_err004_fails_when_a_missing_resource_is_not_answered_404(answer: int) -> None:
    missing = api("retrieveBatch", error_envelope(), status=answer, intent="missing")
    text = message("ERR004", missing)
    assert f"Received: HTTP {answer} for a model, file or batch that does not exist\nExpected: HTTP 404" in text
