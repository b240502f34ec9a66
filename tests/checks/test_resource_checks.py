"""Unit tests of the stateful resource checks (MODL001-MODL002, FILE001-FILE003, BTCH001-BTCH004) on synthetic
exchanges and the exchanges they relate to: an upload, a delete, a created batch, the batch before a cancel, the
custom_ids of a batch input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kimi_conformance.checks import CheckContext, Status
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Severity
from tests.checks.exchanges import (
    BATCH_ID,
    BATCH_REQUEST,
    FILE_ID,
    api,
    batch_object,
    error_envelope,
    file_object,
    listing,
    message,
    model_list,
    outcome,
    status,
    unanswered,
)

TEXT = "kimi-conformance probe 1a2b"


def uploaded(**extra: Any) -> Exchange:
    """A successful upload of `TEXT` as probe.txt (the suite keeps the text sent in `request_json`)."""
    return api("uploadFile", file_object(**extra), request={"text": TEXT, "purpose": "file-extract"})


def deleted() -> Exchange:
    return api("deleteFile", {"id": FILE_ID, "object": "file", "deleted": True})


def failed(operation: str) -> Exchange:
    return api(operation, error_envelope("resource_not_found_error"), status=404)


def created(**request: Any) -> Exchange:
    """A successful createBatch from `BATCH_REQUEST` (changed by `request`)."""
    return api("createBatch", batch_object(), request={**BATCH_REQUEST, **request})


def batch_input(*custom_ids: str) -> Exchange:
    """The custom_ids of a batch's input lines, as the suite relates them to the output file."""
    return Exchange(operation="batch", method="-", url="-", request_headers={}, request_json=list(custom_ids))


def output_lines(*custom_ids: str) -> bytes:
    return b"".join(json.dumps({"custom_id": i, "response": {"status_code": 200}}).encode() + b"\n" for i in custom_ids)


def models(*entries: dict[str, Any]) -> Exchange:
    return api("listModels", {"object": "list", "data": list(entries)})


def model(model_id: str = "kimi-k2.5", **extra: Any) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 1764547200, "owned_by": "moonshot", **extra}


# MODL001: the models list is well-formed


@pytest.mark.parametrize("answer", [failed("listModels"), api("listModels", [model()])], ids=["404", "a-list"])
def test_modl001_and_modl002_do_not_apply_but_to_a_successful_json_object(answer: Exchange) -> None:
    assert status("MODL001", answer) is status("MODL002", answer) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    "answer",
    [
        api("listModels", model_list("kimi-k2.5", "moonshot-v1-8k")),
        models(model("kimi-k2.5")),
        models(model(), model("kimi-k2.6", context_length=None)),
    ],
    ids=["with-context-length", "without-context-length", "context-length-null"],
)
def test_modl001_passes_on_unique_models_with_positive_context_lengths(answer: Exchange) -> None:
    assert status("MODL001", answer) is Status.PASSED


@pytest.mark.parametrize(
    ("answer", "ids"),
    [
        (api("listModels", {"object": "list", "data": []}), "[]"),
        (api("listModels", {"object": "list"}), "[]"),
        (models(model("kimi-k2.5"), model("kimi-k2.5")), '["kimi-k2.5", "kimi-k2.5"]'),
    ],
    ids=["empty", "no-data", "duplicate-ids"],
)
def test_modl001_warns_on_an_empty_list_or_duplicate_ids(answer: Exchange, ids: str) -> None:
    """Neither is stated by the facts (§6 gives the list's shape): [I], a warning."""
    result = outcome("MODL001", answer)
    assert result.finding is not None and result.finding.severity is Severity.WARNING
    assert f"Received: ids {ids}\nExpected: at least one model, ids unique" in result.finding.message


def test_modl001_reports_a_bad_context_length_as_an_error_before_duplicate_ids() -> None:
    result = outcome("MODL001", models(model("kimi-k2.5", context_length=0), model("kimi-k2.5")))
    assert result.finding is not None and result.finding.severity is Severity.ERROR
    assert "Received: context_length 0" in result.finding.message


@pytest.mark.parametrize("length", [0, -8192, 8192.5, "8192"])
def test_modl001_fails_on_a_context_length_that_is_not_a_positive_integer(length: Any) -> None:
    text = message("MODL001", models(model("kimi-k2.5", context_length=length)))
    assert f"Received: context_length {json.dumps(length)} for kimi-k2.5\nExpected: > 0" in text


def test_modl001_fails_on_a_boolean_context_length() -> None:
    assert "Received: context_length true" in message("MODL001", models(model(context_length=True)))


# MODL002: every listed model is one the contract knows


def test_modl002_passes_when_every_model_is_known() -> None:
    assert status("MODL002", api("listModels", model_list("kimi-k2.5", "kimi-k2-turbo-preview"))) is Status.PASSED


def test_modl002_passes_on_a_model_known_through_an_alias() -> None:
    ctx = CheckContext(aliases={"moonshotai/kimi-k2.5": "kimi-k2.5"})
    assert status("MODL002", api("listModels", model_list("moonshotai/kimi-k2.5")), ctx) is Status.PASSED


def test_modl002_reports_unknown_models_as_information() -> None:
    result = outcome("MODL002", api("listModels", model_list("kimi-k2.5", "zeta-9", "alpha-1")))
    assert result.finding is not None and result.finding.severity is Severity.INFO
    assert "Received: alpha-1, zeta-9\nExpected: model ids the contract describes" in result.finding.message


# FILE001: the uploaded file is listed and retrieved unchanged


@pytest.mark.parametrize(
    ("operation", "body"),
    [("listFiles", listing(file_object(id="file-0"), file_object(), has_more=False)), ("retrieveFile", file_object())],
)
def test_file001_passes_on_the_uploaded_file_unchanged(operation: str, body: dict[str, Any]) -> None:
    assert status("FILE001", api(operation, body, related={"upload": uploaded()})) is Status.PASSED


@pytest.mark.parametrize(
    "answer",
    [
        api("retrieveFile", file_object()),
        api("retrieveFile", file_object(), related={"upload": api("uploadFile", error_envelope(), status=400)}),
        api("retrieveFile", error_envelope(), status=404, related={"upload": uploaded()}),
        api("listFiles", error_envelope(), status=500, related={"upload": uploaded()}),
    ],
    ids=["no-upload", "upload-failed", "retrieve-failed", "list-failed"],
)
def test_file001_does_not_apply_without_a_successful_upload_and_answer(answer: Exchange) -> None:
    assert status("FILE001", answer) is Status.NOT_APPLICABLE


def test_file001_fails_when_the_uploaded_file_is_not_listed() -> None:
    listed = api("listFiles", listing(file_object(id="file-0")), related={"upload": uploaded()})
    assert "Received: a list without file-1\nExpected: the uploaded file listed" in message("FILE001", listed)


@pytest.mark.parametrize(
    ("key", "value"), [("id", "file-2"), ("bytes", 13), ("filename", "other.txt"), ("purpose", "batch")]
)
def test_file001_fails_when_the_retrieved_file_differs_from_the_upload(key: str, value: Any) -> None:
    retrieved = api("retrieveFile", file_object(**{key: value}), related={"upload": uploaded()})
    text = message("FILE001", retrieved)
    assert f"Received: {key} {json.dumps(value)}\nExpected: {json.dumps(file_object()[key])} as returned" in text


def test_file001_fails_when_the_listed_file_differs_from_the_upload() -> None:
    listed = api("listFiles", listing(file_object(bytes=0)), related={"upload": uploaded()})
    assert "Received: bytes 0\nExpected: 12 as returned by the upload" in message("FILE001", listed)


# FILE002: a deleted file is gone


@pytest.mark.parametrize(
    "answer",
    [
        failed("retrieveFile"),
        api("retrieveFile", file_object(), related={"delete": failed("deleteFile")}),
        unanswered("retrieveFileContent", related={"delete": deleted()}),
        api("listFiles", error_envelope(), status=500, related={"delete": deleted()}),
    ],
    ids=["no-delete", "delete-failed", "unanswered", "list-failed"],
)
def test_file002_does_not_apply_without_a_successful_delete_and_an_answer(answer: Exchange) -> None:
    assert status("FILE002", answer) is Status.NOT_APPLICABLE


@pytest.mark.parametrize("operation", ["retrieveFile", "retrieveFileContent"])
def test_file002_passes_when_the_deleted_file_is_404(operation: str) -> None:
    gone = api(operation, error_envelope("resource_not_found_error"), status=404, related={"delete": deleted()})
    assert status("FILE002", gone) is Status.PASSED


@pytest.mark.parametrize(
    ("operation", "body"), [("retrieveFile", file_object()), ("retrieveFileContent", TEXT.encode())]
)
def test_file002_fails_when_the_deleted_file_is_still_served(operation: str, body: Any) -> None:
    served = api(operation, body, related={"delete": deleted()})
    assert "Received: HTTP 200 for a deleted file\nExpected: HTTP 404" in message("FILE002", served)


def test_file002_passes_when_the_deleted_file_is_no_longer_listed() -> None:
    listed = api("listFiles", listing(file_object(id="file-0")), related={"delete": deleted()})
    assert status("FILE002", listed) is Status.PASSED


def test_file002_fails_when_the_deleted_file_is_still_listed() -> None:
    listed = api("listFiles", listing(file_object(id="file-0"), file_object()), related={"delete": deleted()})
    assert "Received: file-1 still listed\nExpected: not listed after delete" in message("FILE002", listed)


# FILE003: the content of an uploaded file holds its text


def content(body: bytes, answer: int = 200, **fields: Any) -> Exchange:
    return api("retrieveFileContent", body, status=answer, content_type="text/plain", **fields)


@pytest.mark.parametrize(
    "answer",
    [
        content(TEXT.encode()),
        content(TEXT.encode(), related={"upload": api("uploadFile", file_object())}),
        unanswered("retrieveFileContent", related={"upload": uploaded()}),
    ],
    ids=["no-upload", "upload-without-its-text", "unanswered"],
)
def test_file003_does_not_apply_without_the_uploaded_text_or_an_answer(answer: Exchange) -> None:
    assert status("FILE003", answer) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    "body",
    [
        TEXT.encode(),
        f"Title\n\n{TEXT}\n".encode(),
        json.dumps({"content": TEXT, "file_type": "text/plain", "filename": "probe.txt", "title": "", "type": "file"})
        .encode(),
    ],
    ids=["raw", "raw-within-more", "extraction-document"],
)  # fmt: skip
def test_file003_passes_when_the_content_holds_the_uploaded_text(body: bytes) -> None:
    assert status("FILE003", content(body, related={"upload": uploaded()})) is Status.PASSED


@pytest.mark.parametrize("answer", [404, 500])
def test_file003_fails_when_the_content_is_not_served(answer: int) -> None:
    refused = content(json.dumps(error_envelope()).encode(), answer, related={"upload": uploaded()})
    assert f"Received: HTTP {answer}\nExpected: HTTP 200 with the file's content" in message("FILE003", refused)


@pytest.mark.parametrize(
    "body",
    [b"another text", json.dumps({"content": "another text", "filename": TEXT}).encode()],
    ids=["raw", "extraction-document"],
)
def test_file003_fails_when_the_content_lacks_the_uploaded_text(body: bytes) -> None:
    text = message("FILE003", content(body, related={"upload": uploaded()}))
    assert 'Received: "another text"' in text and f'Expected: the uploaded text "{TEXT}"' in text


# BTCH001: a batch echoes what it was created with


@pytest.mark.parametrize(
    "answer",
    [
        api("createBatch", error_envelope(), status=400, request=BATCH_REQUEST),
        api("createBatch", batch_object()),
        api("retrieveBatch", batch_object()),
        api("retrieveBatch", batch_object(), related={"create": api("createBatch", batch_object())}),
    ],
    ids=["create-failed", "create-without-request", "retrieve-without-create", "create-without-request-related"],
)
def test_btch001_does_not_apply_without_a_successful_batch_and_its_request(answer: Exchange) -> None:
    assert status("BTCH001", answer) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    "answer",
    [created(), api("retrieveBatch", batch_object(status="in_progress"), related={"create": created()})],
    ids=["create", "retrieve"],
)
def test_btch001_passes_when_the_batch_echoes_its_request(answer: Exchange) -> None:
    assert status("BTCH001", answer) is Status.PASSED


@pytest.mark.parametrize(
    ("key", "value"),
    [("input_file_id", "file-9"), ("endpoint", "/v1/embeddings"), ("completion_window", "48h")],
)
def test_btch001_fails_when_a_created_batch_does_not_echo_its_request(key: str, value: str) -> None:
    text = message("BTCH001", api("createBatch", batch_object(**{key: value}), request=BATCH_REQUEST))
    assert f'Received: {key} "{value}"\nExpected: "{BATCH_REQUEST[key]}"' in text


def test_btch001_fails_when_a_retrieved_batch_does_not_echo_the_create_request() -> None:
    retrieved = api("retrieveBatch", batch_object(), related={"create": created(completion_window="3d")})
    assert 'Received: completion_window "24h"\nExpected: "3d"' in message("BTCH001", retrieved)


# BTCH002: the batch list pages


def batches(*ids: str, limit: int | None = None, **page: Any) -> Exchange:
    """A listBatches answer holding batches `ids` (has_more false unless `page` says otherwise)."""
    body = listing(*(batch_object(id=i) for i in ids), **{"has_more": False, **page})
    return api("listBatches", body, request={"limit": limit} if limit is not None else None)


def test_btch002_does_not_apply_to_a_failed_list() -> None:
    assert status("BTCH002", api("listBatches", error_envelope(), status=401)) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    "answer",
    [batches(BATCH_ID), batches(), batches(BATCH_ID, limit=1, has_more=True), batches("batch-0", BATCH_ID, limit=2)],
    ids=["one", "none", "limit-reached", "under-limit"],
)
def test_btch002_passes_on_a_page_within_its_limit(answer: Exchange) -> None:
    assert status("BTCH002", answer) is Status.PASSED


def test_btch002_fails_on_more_batches_than_the_limit() -> None:
    text = message("BTCH002", batches("batch-0", BATCH_ID, limit=1, has_more=True))
    assert "Received: 2 batches\nExpected: at most limit=1" in text


@pytest.mark.parametrize(("page", "received"), [({"has_more": "false"}, '"false"'), ({"has_more": None}, "null")])
def test_btch002_fails_when_has_more_is_not_a_boolean(page: dict[str, Any], received: str) -> None:
    text = message("BTCH002", batches(BATCH_ID, **page))
    assert f"Received: has_more {received}\nExpected: a boolean" in text


def test_btch002_fails_when_has_more_is_missing() -> None:
    answer = api("listBatches", listing(batch_object()))
    assert "Received: has_more null\nExpected: a boolean" in message("BTCH002", answer)


def test_btch002_passes_when_the_batch_created_just_before_is_on_the_first_page() -> None:
    listed = batches("batch-0", BATCH_ID)
    listed.related["create"] = created()
    assert status("BTCH002", listed) is Status.PASSED


def test_btch002_warns_when_the_batch_created_just_before_is_not_on_the_first_page() -> None:
    """The list's order is not documented (facts §5): newest first is [I], a warning."""
    listed = batches("batch-0")
    listed.related["create"] = created()
    result = outcome("BTCH002", listed)
    assert result.finding is not None and result.finding.severity is Severity.WARNING
    assert "Received: a first page without batch-1\nExpected: the newest batch listed" in result.finding.message


def test_btch002_does_not_look_for_the_created_batch_on_a_limited_page() -> None:
    listed = batches("batch-0", limit=1)
    listed.related["create"] = created()
    assert status("BTCH002", listed) is Status.PASSED


@pytest.mark.parametrize(
    ("code", "operation", "expected"),
    [("MODL001", "listModels", "a list of models"), ("FILE001", "listFiles", "a list with file-1"),
     ("BTCH002", "listBatches", "a list of batches")],
)  # fmt: skip
def test_list_checks_fail_on_a_data_that_is_not_a_list(code: str, operation: str, expected: str) -> None:
    """No model listed, the upload not listed, no page of batches: each check's own promise is broken."""
    answer = api(operation, {"object": "list", "data": 5, "has_more": False}, request={"limit": 1},
                 related={"upload": uploaded()})  # fmt: skip
    assert f"Received: data 5\nExpected: {expected}" in message(code, answer)


@pytest.mark.parametrize(("code", "operation"), [("MODL002", "listModels"), ("FILE002", "listFiles")])
def test_list_checks_do_not_apply_to_a_data_that_is_not_a_list(code: str, operation: str) -> None:
    """No model to call drift, no list to find the deleted file in: only SCHM001's problem is left."""
    answer = api(operation, {"object": "list", "data": 5}, related={"delete": deleted()})
    assert status(code, answer) is Status.NOT_APPLICABLE


# BTCH003: cancel follows the batch's status


def cancel(answer: int, body: dict[str, Any], before: Exchange | None = None) -> Exchange:
    """A cancelBatch answered `answer` with `body`, after the retrieval `before`."""
    return api("cancelBatch", body, status=answer, intent="stateful", related={"before": before} if before else {})


def before(batch_status: str) -> Exchange:
    return api("retrieveBatch", batch_object(status=batch_status))


@pytest.mark.parametrize(
    "answer",
    [
        cancel(200, batch_object(status="cancelling")),
        cancel(200, batch_object(status="cancelling"), failed("retrieveBatch")),
        unanswered("cancelBatch", related={"before": before("in_progress")}),
    ],
    ids=["no-before", "before-failed", "unanswered"],
)
def test_btch003_does_not_apply_without_the_batch_before_and_an_answer(answer: Exchange) -> None:
    assert status("BTCH003", answer) is Status.NOT_APPLICABLE


@pytest.mark.parametrize("previous", ["validating", "in_progress", "finalizing"])
@pytest.mark.parametrize("now", ["cancelling", "cancelled"])
def test_btch003_passes_when_an_active_batch_is_cancelled(previous: str, now: str) -> None:
    assert status("BTCH003", cancel(200, batch_object(status=now), before(previous))) is Status.PASSED


@pytest.mark.parametrize("previous", ["validating", "in_progress", "finalizing"])
def test_btch003_fails_when_cancelling_an_active_batch_is_refused(previous: str) -> None:
    text = message("BTCH003", cancel(400, error_envelope(text="cannot cancel"), before(previous)))
    assert "Received: HTTP 400 " in text and "cannot cancel" in text and "Expected: 200 with status cancelling" in text


@pytest.mark.parametrize("ended", ["completed", "failed", "expired"])
def test_btch003_does_not_apply_when_the_batch_ended_between_reading_and_cancelling(ended: str) -> None:
    refused = cancel(400, error_envelope(text="is completed and cannot be cancelled"), before("in_progress"))
    refused.related["after"] = before(ended)
    assert status("BTCH003", refused) is Status.NOT_APPLICABLE


@pytest.mark.parametrize("after", ["in_progress", "cancelled"])
def test_btch003_fails_when_a_refused_cancel_leaves_the_batch_still_active(after: str) -> None:
    refused = cancel(400, error_envelope(text="cannot cancel"), before("in_progress"))
    refused.related["after"] = before(after)
    assert "Expected: 200 with status cancelling" in message("BTCH003", refused)


def test_btch003_fails_when_a_cancelled_active_batch_keeps_running() -> None:
    text = message("BTCH003", cancel(200, {"id": BATCH_ID, "status": "in_progress"}, before("in_progress")))
    assert 'Received: HTTP 200 {"id": "batch-1", "status": "in_progress"}\nExpected: 200 with status cancelling' in text


@pytest.mark.parametrize("previous", ["completed", "failed", "expired", "cancelled"])
def test_btch003_passes_when_cancelling_a_finished_batch_is_400(previous: str) -> None:
    assert status("BTCH003", cancel(400, error_envelope(), before(previous))) is Status.PASSED


@pytest.mark.parametrize("previous", ["completed", "failed", "expired", "cancelled"])
@pytest.mark.parametrize("answer", [200, 404, 409])
def test_btch003_fails_when_cancelling_a_finished_batch_is_not_400(previous: str, answer: int) -> None:
    text = message("BTCH003", cancel(answer, batch_object(status="cancelling"), before(previous)))
    assert f"Received: HTTP {answer} cancelling a {previous} batch\nExpected: HTTP 400" in text


@pytest.mark.parametrize("answer", [200, 400])
def test_btch003_has_no_rule_for_a_batch_already_cancelling(answer: int) -> None:
    assert status("BTCH003", cancel(answer, batch_object(status="cancelling"), before("cancelling"))) is Status.PASSED


# BTCH004: a completed batch's output has one line per input


@pytest.mark.parametrize(
    "answer",
    [
        content(output_lines("probe-1")),
        content(output_lines("probe-1"), related={"batch_input": uploaded()}),
    ],
    ids=["no-batch-input", "batch-input-without-ids"],
)
def test_btch004_does_not_apply_without_the_input_custom_ids(answer: Exchange) -> None:
    assert status("BTCH004", answer) is Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    "body",
    [
        output_lines("probe-1", "probe-2"),
        output_lines("probe-2", "probe-1"),
        output_lines("probe-1", "probe-2") + b"\n",
    ],
    ids=["in-order", "out-of-order", "blank-last-line"],
)
def test_btch004_passes_on_one_line_per_input(body: bytes) -> None:
    assert status("BTCH004", content(body, related={"batch_input": batch_input("probe-1", "probe-2")})) is Status.PASSED


@pytest.mark.parametrize(
    "body", [b'{"custom_id": "probe-1"}\n{"custom_id": "probe-2"', b"[1, 2]\n"], ids=["not-json", "not-objects"]
)
def test_btch004_fails_on_an_output_that_is_not_json_lines_of_objects(body: bytes) -> None:
    text = message("BTCH004", content(body, related={"batch_input": batch_input("probe-1", "probe-2")}))
    assert "Expected: JSON lines" in text


@pytest.mark.parametrize(
    ("ids", "received"),
    [(("probe-1",), "['probe-1']"), (("probe-1", "probe-2", "probe-3"), "['probe-1', 'probe-2', 'probe-3']"),
     (("probe-1", "probe-1"), "['probe-1', 'probe-1']")],
    ids=["one-missing", "one-extra", "duplicate"],
)  # fmt: skip
def test_btch004_fails_when_the_output_lines_do_not_match_the_input(ids: tuple[str, ...], received: str) -> None:
    text = message("BTCH004", content(output_lines(*ids), related={"batch_input": batch_input("probe-1", "probe-2")}))
    assert f"Received: custom_ids {received}\nExpected: ['probe-1', 'probe-2']" in text


def test_btch004_fails_on_a_line_lacking_its_custom_id() -> None:
    body = output_lines("probe-1") + b'{"response": {"status_code": 200}}\n'
    text = message("BTCH004", content(body, related={"batch_input": batch_input("probe-1", "probe-2")}))
    assert "Received: custom_ids [None, 'probe-1']\nExpected: ['probe-1', 'probe-2']" in text


def test_btch004_is_a_warning() -> None:
    """The output line format is not documented (facts §5 [I]: OpenAI's assumed)."""
    result = outcome("BTCH004", content(output_lines("probe-1"), related={"batch_input": batch_input("probe-1", "x")}))
    assert result.finding is not None and result.finding.severity is Severity.WARNING
