"""The error checks (ERR001-ERR003) and the HTTP checks (HTTP002-HTTP004) on the documented error answers a target
may send (facts §9, §10, the 504 of §1; the same text the mock sends with `--error`, `--tpm`, `--tpd`): each
correct envelope passes, and a broken variant of it (a type not documented for its status, a flat body, another
content type) fails. HTTP002 reports every 5xx, documented or not: a server failure is one at the moment of the
test, whatever its type."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_conformance.checks import Status
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Severity
from tests.checks.documented_errors import DOCUMENTED, TPD_MESSAGE, TPM_MESSAGE, Documented
from tests.checks.exchanges import api, error_envelope, message, outcome, status

TOKEN_LIMITS = [
    Documented(
        "tpm",
        429,
        "rate_limit_reached_error",
        TPM_MESSAGE.format(key="mock", current=1410, limit=1000),
        "createChatCompletion",
    ),
    Documented(
        "tpd",
        429,
        "rate_limit_reached_error",
        TPD_MESSAGE.format(key="mock", current=1500042, limit=1500000),
        "createChatCompletion",
    ),
]
ANSWERS = [*DOCUMENTED, *TOKEN_LIMITS]
IDS = [answer.name for answer in ANSWERS]
WRONG_TYPE = {
    400: "engine_overloaded_error",
    403: "rate_limit_reached_error",
    429: "content_filter",
    500: "permission_denied_error",
}
"""For each status, a type documented for another status only."""


def answered(answer: Documented, body: bytes | dict[str, Any] | None = None, **fields: Any) -> Exchange:
    """The exchange of `answer`'s operation answered with its status and `body` (its envelope by default)."""
    envelope = error_envelope(answer.type, answer.message) if body is None else body
    return api(answer.operation, envelope, status=answer.status, **fields)


@pytest.mark.parametrize("answer", ANSWERS, ids=IDS)
@pytest.mark.parametrize("code", ["ERR001", "ERR003", "HTTP003", "HTTP004"])
def test_the_envelope_checks_pass_on_each_documented_answer(answer: Documented, code: str) -> None:
    assert status(code, answered(answer)) is Status.PASSED


@pytest.mark.parametrize("answer", ANSWERS, ids=IDS)
def test_err002_passes_on_each_documented_type_and_has_no_table_for_the_504(answer: Documented) -> None:
    expected = Status.NOT_APPLICABLE if answer.status == 504 else Status.PASSED
    assert status("ERR002", answered(answer)) is expected


@pytest.mark.parametrize("answer", ANSWERS, ids=IDS)
def test_http002_reports_the_documented_5xx_and_only_them(answer: Documented) -> None:
    result = outcome("HTTP002", answered(answer))
    if answer.status < 500:
        assert result.status is Status.PASSED
    else:
        assert result.finding is not None and result.finding.severity is Severity.ERROR
        assert f"Received: HTTP {answer.status}" in result.finding.message


@pytest.mark.parametrize("answer", [a for a in ANSWERS if a.status in WRONG_TYPE], ids=lambda a: a.name)
def test_err002_fails_on_a_type_not_documented_for_the_status(answer: Documented) -> None:
    wrong = WRONG_TYPE[answer.status]
    result = outcome("ERR002", answered(answer, error_envelope(wrong, answer.message)))
    assert result.finding is not None
    assert result.finding.severity is (Severity.WARNING if answer.status >= 500 else Severity.ERROR)
    assert f"Received: HTTP {answer.status} type {wrong!r}" in result.finding.message
    assert answer.type in result.finding.message  # the documented one is among those expected


@pytest.mark.parametrize("answer", [a for a in ANSWERS if a.status != 504], ids=lambda a: a.name)
def test_err001_fails_on_a_flat_variant(answer: Documented) -> None:
    flat = {"type": answer.type, "message": answer.message}
    assert message("ERR001", answered(answer, flat)).startswith("Received: ")


@pytest.mark.parametrize("answer", ANSWERS, ids=IDS)
def test_err003_and_http004_fail_on_an_envelope_served_as_text(answer: Documented) -> None:
    text = answered(answer, content_type="text/plain")
    assert "Received: Content-Type text/plain\nExpected: application/json" in message("ERR003", text)
    assert "Received: Content-Type text/plain" in message("HTTP004", text)


GATEWAY = next(answer for answer in DOCUMENTED if answer.status == 504)


@pytest.mark.parametrize(
    "body",
    [{"detail": "upstream timed out"}, "Gateway Timeout", None, [1, 2]],
    ids=["object", "string", "null", "list"],
)
def test_err001_accepts_any_json_body_on_a_504(body: Any) -> None:
    """The 504's body is not documented (facts §1, §9; the contract's GatewayTimeout takes any JSON value)."""
    assert status("ERR001", answered(GATEWAY, b"null" if body is None else body)) is Status.PASSED


def test_a_504_that_is_not_json_fails_the_envelope_checks() -> None:
    html = answered(GATEWAY, b"<html><body>504 Gateway Time-out</body></html>", content_type="text/html")
    assert "Expected: a JSON error envelope" in message("ERR001", html)
    assert "Received: Content-Type text/html" in message("ERR003", html)
    assert status("ERR002", html) is Status.NOT_APPLICABLE


@pytest.mark.parametrize("answer", [a for a in ANSWERS if a.status != 504], ids=lambda a: a.name)
def test_http003_fails_on_the_same_error_with_a_status_the_contract_does_not_list(answer: Documented) -> None:
    """The envelope alone does not make an answer conformant: under 422 the same body is an undocumented status."""
    moved = api(answer.operation, error_envelope(answer.type, answer.message), status=422)
    assert "Received: HTTP 422" in message("HTTP003", moved)
