"""Unit tests of the schema checks (SCHM001-SCHM005) on synthetic exchanges, validated against the real contract:
bodies parse as JSON and fit the documented schemas, invalid requests are refused, valid ones are served, and what
schemathesis found is reported under our codes."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_conformance.checks import Status
from kimi_conformance.exchange import Exchange, External
from kimi_conformance.findings import Severity
from tests.checks.exchanges import (
    api,
    batch_object,
    chat_json,
    chat_stream,
    completion,
    error_envelope,
    exchange,
    file_object,
    listing,
    message,
    model_list,
    outcome,
    status,
    unanswered,
)

TOOL_CALL = {"id": "get_weather:0", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
BALANCE = {
    "code": 0,
    "data": {"available_balance": 4.5, "voucher_balance": 1.5, "cash_balance": 3.0},
    "scode": "0x0",
    "status": True,
}


@pytest.mark.parametrize(
    ("operation", "answer", "body"),
    [
        ("createChatCompletion", 200, completion()),
        ("createChatCompletion", 200, completion(usage={"prompt_tokens": 8, "completion_tokens": 2, "total_tokens": 10,
                                                        "cached_tokens": 4})),
        ("createChatCompletion", 200, completion(choices=[{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": "", "reasoning_content": "look it up", "tool_calls": [TOOL_CALL]}}])),
        ("createChatCompletion", 400, error_envelope("content_filter")),
        ("createChatCompletion", 401, error_envelope("invalid_authentication_error")),
        ("createChatCompletion", 429, error_envelope("engine_overloaded_error")),
        ("createChatCompletion", 504, {"detail": "gateway timeout"}),
        ("listModels", 200, model_list("kimi-k2.5", "moonshot-v1-8k")),
        ("uploadFile", 200, file_object()),
        ("listFiles", 200, listing(file_object(), has_more=False)),
        ("retrieveFile", 200, file_object(purpose="batch", status="processing")),
        ("deleteFile", 200, {"id": "file-1", "object": "file", "deleted": True}),
        ("estimateTokenCount", 200, {"data": {"total_tokens": 8}}),
        ("getBalance", 200, BALANCE),
        ("createBatch", 200, batch_object(metadata={"job": "nightly"})),
        ("listBatches", 200, listing(batch_object(), has_more=False)),
        ("retrieveBatch", 200, batch_object(status="completed", output_file_id="file-2", completed_at=1764550800)),
        ("cancelBatch", 200, batch_object(status="cancelling", cancelling_at=1764547300)),
        ("retrieveFile", 404, error_envelope("resource_not_found_error")),
    ],
)  # fmt: skip
def test_schm001_passes_on_a_body_the_contract_documents(operation: str, answer: int, body: Any) -> None:
    assert status("SCHM001", api(operation, body, status=answer)) is Status.PASSED


@pytest.mark.parametrize(
    ("operation", "answer", "body", "received", "where"),
    [
        ("createChatCompletion", 200, completion(choices=[]), "[] should be non-empty", "/choices"),
        ("createChatCompletion", 200, completion(object="chat.completion.chunk"), "'chat.completion' was expected",
         "/object"),
        ("createChatCompletion", 400, error_envelope("server_error"), "'server_error' is not one of", "/error/type"),
        ("createChatCompletion", 401, {"message": "no key"}, "'error' is a required property", "/"),
        ("listModels", 200, {"object": "list", "data": [{"id": "m", "object": "model", "created": 1, "owned_by": "x",
                                                         "context_length": 0}]},
         "0 is less than the minimum of 1", "/data/0/context_length"),
        ("listFiles", 200, listing(file_object(purpose="assistants")), "'assistants' is not one of", "/data/0/purpose"),
        ("deleteFile", 200, {"id": "file-1", "object": "file", "deleted": "yes"}, "'yes' is not of type 'boolean'",
         "/deleted"),
        ("estimateTokenCount", 200, {"data": {"total_tokens": -1}}, "-1 is less than the minimum of 0",
         "/data/total_tokens"),
        ("getBalance", 200, {k: v for k, v in BALANCE.items() if k != "code"}, "'code' is a required property", "/"),
        ("listBatches", 200, listing(batch_object()), "'has_more' is a required property", "/"),
        ("retrieveBatch", 200, batch_object(status="done"), "'done' is not one of", "/status"),
    ],
)  # fmt: skip
def test_schm001_fails_on_a_body_against_the_documented_schema(
    operation: str, answer: int, body: Any, received: str, where: str
) -> None:
    text = message("SCHM001", api(operation, body, status=answer))
    assert f"Received: {received}" in text and f"At:       {where}\n" in text and "Expected: valid against #/" in text


NULLS = {"code": None, "param": None}
"""The common OpenAI-compatible error fields, null (facts §9: `code` optional)."""


@pytest.mark.parametrize(
    ("operation", "answer", "kind"),
    [
        ("createChatCompletion", 400, "invalid_request_error"),
        ("listModels", 401, "invalid_authentication_error"),
        ("retrieveFile", 404, "resource_not_found_error"),
        ("createChatCompletion", 429, "rate_limit_reached_error"),
        ("getBalance", 500, "server_error"),
    ],
)
@pytest.mark.parametrize(
    "extra", [NULLS, {"code": "invalid_temperature", "param": "temperature"}], ids=["null", "strings"]
)
def test_schm001_passes_on_an_error_with_code_and_param(
    operation: str, answer: int, kind: str, extra: dict[str, Any]
) -> None:
    body = {"error": {**error_envelope(kind)["error"], **extra}}
    assert status("SCHM001", api(operation, body, status=answer)) is Status.PASSED


@pytest.mark.parametrize(
    ("error", "received", "where"),
    [
        ({"message": "no type", **NULLS}, "'type' is a required property", "/error"),
        ({"type": None, "message": "null type", **NULLS}, "None is not of type 'string'", "/error/type"),
        ({"type": "invalid_request_error", "message": None, **NULLS}, "None is not of type 'string'", "/error/message"),
        ({"type": "invalid_request_error", "message": "m", "code": 400}, "400 is not of type 'string', 'null'",
         "/error/code"),
        ({"type": "invalid_request_error", "message": "m", "param": ["temperature"]}, "is not of type 'string', 'null'",
         "/error/param"),
    ],
    ids=["no type", "type null", "message null", "code a number", "param a list"],
)  # fmt: skip
def test_schm001_still_holds_an_error_with_null_fields_to_its_rules(
    error: dict[str, Any], received: str, where: str
) -> None:
    text = message("SCHM001", api("createChatCompletion", {"error": error}, status=400))
    assert received in text and f"At:       {where}\n" in text


def test_schm001_names_the_documented_schema_it_validated_against() -> None:
    text = message("SCHM001", api("createChatCompletion", error_envelope("server_error"), status=400))
    assert "Expected: valid against #/components/responses/BadRequest/content/application~1json/schema" in text


def test_schm001_reports_what_schemathesis_found() -> None:
    found = api("listModels", model_list(), external=[("SCHM001", "Response violates schema: extra field"),
                                                       ("SCHM005", "another check's finding")])  # fmt: skip
    assert message("SCHM001", found) == "Response violates schema: extra field"


@pytest.mark.parametrize(
    "answer",
    [
        unanswered("listModels"),
        chat_stream(),
        api("retrieveFileContent", b"plain text", content_type="text/plain"),
        api("listModels", error_envelope(), status=418),
        api("listModels", b'{"object": "list", "data": ['),
    ],
    ids=["unanswered", "event-stream", "not-json-media-type", "undocumented-status", "body-not-json"],
)
def test_schm001_does_not_apply_without_a_json_body_documented_for_the_answer(answer: Exchange) -> None:
    assert status("SCHM001", answer) is Status.NOT_APPLICABLE


def test_schm001_does_not_apply_to_a_route_the_contract_does_not_know() -> None:
    stray = exchange("unknownRoute", error_envelope("resource_not_found_error"), status=404, method="GET")
    assert status("SCHM001", stray) is Status.NOT_APPLICABLE


def test_schm004_passes_on_a_json_body() -> None:
    assert status("SCHM004", chat_json()) is Status.PASSED


@pytest.mark.parametrize(
    "answer",
    [unanswered(), chat_stream(), api("retrieveFileContent", b"{not json", content_type="text/plain")],
    ids=["unanswered", "event-stream", "text-plain"],
)
def test_schm004_does_not_apply_to_a_body_not_declared_as_json(answer: Exchange) -> None:
    assert status("SCHM004", answer) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    ("body", "received"),
    [
        (b'{"object": "list", "data": [', "Expecting value"),
        (b'{"total_tokens": NaN}', "NaN is not a JSON value (RFC 8259)"),
        (b"\xff\xfe{}", "'utf-8' codec can't decode byte 0xff"),
        (b"", "Expecting value: line 1 column 1"),
    ],
    ids=["truncated", "nan", "not-utf8", "empty"],
)
def test_schm004_fails_on_a_json_body_that_does_not_parse(body: bytes, received: str) -> None:
    text = message("SCHM004", api("listModels", body))
    assert f"Received: {received}" in text and "Expected: a JSON document" in text


def test_schm002_passes_when_an_invalid_request_is_refused() -> None:
    refused = api("createChatCompletion", error_envelope(), status=400, intent="invalid")
    assert status("SCHM002", refused) is Status.PASSED


def test_schm002_fails_when_an_invalid_request_is_served() -> None:
    text = message("SCHM002", api("createChatCompletion", completion(), intent="invalid"))
    assert "Received: HTTP 200 for a request the contract forbids" in text


@pytest.mark.parametrize(
    "probe",
    [
        api("createChatCompletion", completion(), intent="valid"),
        api("createChatCompletion", completion(), intent="invalid", rule=("stop.max-count", "6 stop sequences")),
        unanswered(intent="invalid"),
    ],
    ids=["valid-request", "model-rule-probe", "unanswered"],
)
def test_schm002_does_not_apply_but_to_an_answered_invalid_request(probe: Exchange) -> None:
    assert status("SCHM002", probe) is Status.NOT_APPLICABLE


def test_schm002_reports_what_schemathesis_found_on_a_generated_request() -> None:
    found = api("listModels", model_list(), intent="generated", external=[("SCHM002", "API accepted schema-violating")])
    assert message("SCHM002", found) == "API accepted schema-violating"


def test_schm002_is_a_warning_when_schemathesis_negated_only_inferred_constraints() -> None:
    accepted = External("SCHM002", "API accepted schema-violating\nInferred only: ...", Severity.WARNING)
    result = outcome("SCHM002", api("listBatches", listing(), intent="generated", external=[accepted]))
    assert result.finding is not None and result.finding.severity is Severity.WARNING
    assert result.finding.message == accepted.message


@pytest.mark.parametrize(
    "external",
    [
        [External("SCHM002", "documented")],
        [("SCHM002", "documented")],
        [External("SCHM002", "inferred", Severity.WARNING), ("SCHM002", "documented")],
    ],
    ids=["no-severity", "plain-pair", "an-error-among-warnings"],
)
def test_schm002_stays_an_error_for_a_documented_constraint(external: list[External | tuple[str, str]]) -> None:
    result = outcome("SCHM002", api("listBatches", listing(), intent="generated", external=external))
    assert result.finding is not None and result.finding.severity is Severity.ERROR


@pytest.mark.parametrize("answer", [200, 401, 404, 429])
def test_schm003_passes_when_a_valid_request_is_not_refused_as_invalid(answer: int) -> None:
    body = completion() if answer == 200 else error_envelope()
    assert status("SCHM003", api("createChatCompletion", body, status=answer)) is Status.PASSED


@pytest.mark.parametrize("answer", [400, 422])
def test_schm003_fails_when_a_valid_request_is_refused_as_invalid(answer: int) -> None:
    text = message("SCHM003", api("createChatCompletion", error_envelope(text="unknown field"), status=answer))
    assert f"Received: HTTP {answer} " in text and "unknown field" in text and "Expected: the request accepted" in text


@pytest.mark.parametrize(
    "probe",
    [
        api("createChatCompletion", error_envelope(), status=400, intent="invalid"),
        api("createChatCompletion", error_envelope(), status=400, intent="valid", rule=("stop.max-count", "5 stops")),
        unanswered(intent="valid"),
    ],
    ids=["invalid-request", "model-rule-probe", "unanswered"],
)
def test_schm003_does_not_apply_but_to_an_answered_valid_request(probe: Exchange) -> None:
    assert status("SCHM003", probe) is Status.NOT_APPLICABLE


def test_schm003_reports_what_schemathesis_found_on_a_generated_request() -> None:
    found = api("listModels", model_list(), intent="generated", external=[("SCHM003", "API rejected schema-compliant")])
    assert message("SCHM003", found) == "API rejected schema-compliant"


def test_schm005_passes_when_schemathesis_found_nothing_of_its_own() -> None:
    found = api("listModels", model_list(), intent="generated", external=[("SCHM001", "schema violation")])
    assert status("SCHM005", found) is Status.PASSED


def test_schm005_reports_every_other_schemathesis_failure() -> None:
    found = api("listModels", model_list(), intent="generated",
                external=[("SCHM005", "Missing Allow header"), ("SCHM005", "Missing x-request-id")])  # fmt: skip
    assert message("SCHM005", found) == "Missing Allow header\nMissing x-request-id"
