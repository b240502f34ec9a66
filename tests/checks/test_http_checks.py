"""Unit tests of the transport checks (HTTP001-HTTP005) on synthetic exchanges: the target answers, without server
errors, with statuses and Content-Types the contract documents, and the whole body."""

from __future__ import annotations

import pytest

from kimi_conformance.checks import Status
from kimi_conformance.chunks import view
from tests.checks.exchanges import api, chat_json, chat_stream, error_envelope, exchange, message, status, unanswered


def test_http001_passes_when_the_target_answered() -> None:
    assert status("HTTP001", chat_json()) is Status.PASSED


def test_http001_fails_when_the_target_never_answered() -> None:
    text = message("HTTP001", unanswered(error="ConnectError: connection refused"))
    assert "Received: no response (ConnectError: connection refused)" in text


@pytest.mark.parametrize("code", ["HTTP002", "HTTP003", "HTTP004", "HTTP005"])
def test_http_checks_do_not_apply_to_an_unanswered_request(code: str) -> None:
    assert status(code, unanswered()) is Status.NOT_APPLICABLE


@pytest.mark.parametrize("answer", [200, 400, 404, 429])
def test_http002_passes_on_a_success_or_a_client_error(answer: int) -> None:
    body = error_envelope() if answer >= 400 else {"object": "list", "data": []}
    assert status("HTTP002", api("listModels", body, status=answer)) is Status.PASSED


@pytest.mark.parametrize("answer", [500, 503, 504])
def test_http002_fails_on_a_server_error(answer: int) -> None:
    text = message("HTTP002", api("listModels", error_envelope("server_error"), status=answer))
    assert f"Received: HTTP {answer}" in text


@pytest.mark.parametrize("answer", [200, 400, 404, 504])
def test_http003_passes_on_a_documented_status(answer: int) -> None:
    assert status("HTTP003", chat_json(error_envelope() if answer >= 400 else None, status=answer)) is Status.PASSED


@pytest.mark.parametrize("answer", [201, 418, 422, 503])
def test_http003_fails_on_a_status_the_contract_does_not_document(answer: int) -> None:
    text = message("HTTP003", chat_json(error_envelope(), status=answer))
    assert f"Received: HTTP {answer}" in text and "Expected: one of 200, 400, 401" in text


def test_http003_does_not_apply_to_a_route_the_contract_does_not_know() -> None:
    stray = exchange("unknownRoute", error_envelope("resource_not_found_error"), status=404, method="GET")
    assert status("HTTP003", stray) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    ("operation", "content_type"),
    [
        ("createChatCompletion", "application/json"),
        ("createChatCompletion", "application/json; charset=utf-8"),
        ("createChatCompletion", "text/event-stream"),
        ("retrieveFileContent", "text/plain"),
    ],
)
def test_http004_passes_on_a_documented_content_type(operation: str, content_type: str) -> None:
    assert status("HTTP004", api(operation, b"{}", content_type=content_type)) is Status.PASSED


def test_http004_passes_on_an_undocumented_status_which_http003_reports() -> None:
    assert status("HTTP004", api("listModels", b"<html></html>", status=418, content_type="text/html")) is Status.PASSED


def test_http004_fails_on_an_undocumented_content_type() -> None:
    text = message("HTTP004", exchange("createChatCompletion", b"<html></html>", content_type="text/html"))
    assert "Received: Content-Type text/html" in text and "Expected: one of application/json, text/event-stream" in text


def test_http004_fails_without_a_content_type() -> None:
    answer = chat_json()
    answer.response_headers = {}
    assert "Received: Content-Type <none>" in message("HTTP004", answer)


def test_http004_fails_on_json_where_the_contract_documents_text() -> None:
    text = message("HTTP004", api("retrieveFileContent", {"content": "some text"}))
    assert "Received: Content-Type application/json" in text and "Expected: one of text/plain" in text


def test_http004_does_not_apply_to_a_route_the_contract_does_not_know() -> None:
    stray = exchange("unknownRoute", error_envelope("resource_not_found_error"), status=404, method="GET")
    assert status("HTTP004", stray) is Status.NOT_APPLICABLE


def test_http005_passes_on_a_whole_body() -> None:
    assert status("HTTP005", chat_stream()) is Status.PASSED


def test_http005_fails_when_the_body_stopped_early() -> None:
    cut = chat_stream()
    cut.stream_error = "idle timeout after 30 s"
    text = message("HTTP005", cut)
    assert f"Received: {len(cut.body)} bytes, then idle timeout after 30 s" in text


def test_http005_fails_on_a_stream_past_the_event_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(view, "MAX_STREAM_EVENTS", 3)
    monkeypatch.setattr(view, "FEED_BYTES", 16)
    text = message("HTTP005", chat_stream())
    assert "Received: an event stream of more than 3 events: read up to byte" in text


def test_http005_reads_the_event_cap_only_from_event_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(view, "MAX_STREAM_EVENTS", 0)
    assert status("HTTP005", chat_json()) is Status.PASSED  # a JSON body is never read as events
