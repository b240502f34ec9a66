"""Models, files and batches: the stateful promises (facts §4-§6) checked over related exchanges."""

from __future__ import annotations

from typing import Any

from kimi_conformance import strict_json
from kimi_conformance.checks.context import CheckContext
from kimi_conformance.checks.guards import brief, status_of, success_json
from kimi_conformance.checks.registry import check
from kimi_conformance.checks.runner import NotApplicable
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Severity, Violation


def _related_json(exchange: Exchange, name: str) -> dict[str, Any]:
    other = exchange.related.get(name)
    if other is None:
        raise NotApplicable
    return success_json(other)


def _listed(body: dict[str, Any]) -> list[Any] | None:
    """The list's `data` (empty when absent or null), or None when it is something other than a list."""
    data = body.get("data")
    if data is None:
        return []
    return data if isinstance(data, list) else None


@check(
    "MODL001",
    "Models list malformed",
    "#/components/schemas/ModelList",
    fact="facts §6 [S][D]; facts §3.1 [D]",
    operations=["listModels"],
)
def models_listed(ctx: CheckContext, exchange: Exchange) -> None:
    """The list has at least one model, unique ids, and a positive context_length where given.

    At least one model and unique ids are warnings: the facts (§6) give the list's shape, not these [I]."""
    body = success_json(exchange)
    listed = _listed(body)
    if listed is None:
        raise Violation(f"Received: data {brief(body['data'])}\nExpected: a list of models")
    data = [m for m in listed if isinstance(m, dict)]
    ids = [m.get("id") for m in data]
    for model in data:
        length = model.get("context_length")
        if length is not None and (isinstance(length, bool) or not isinstance(length, int) or length <= 0):
            raise Violation(f"Received: context_length {brief(length)} for {model.get('id')}\nExpected: > 0")
    if not data or len(set(map(str, ids))) != len(ids):
        raise Violation(
            f"Received: ids {brief(ids)}\nExpected: at least one model, ids unique\n"
            "A warning: the facts give the list's shape (facts §6 [S][D]), not these [I]",
            severity=Severity.WARNING,
        )


@check(
    "MODL002",
    "Model unknown to the contract",
    "#/components/schemas/ChatCompletionRequest/discriminator",
    fact="facts §3.1 [S][D]; facts §12 [O]",
    severity=Severity.INFO,
    operations=["listModels"],
)
def models_known_to_contract(ctx: CheckContext, exchange: Exchange) -> None:
    """Every listed model is one the contract knows (directly or through --model-family); others are drift."""
    listed = _listed(success_json(exchange))
    if listed is None:
        raise NotApplicable  # MODL001 and SCHM001 report it
    unknown = sorted(str(m.get("id")) for m in listed if isinstance(m, dict) and not ctx.model(m.get("id")))
    if unknown:
        raise Violation(f"Received: {', '.join(unknown)}\nExpected: model ids the contract describes")


@check(
    "FILE001",
    "Uploaded file not listed or different",
    "#/components/schemas/FileObject",
    fact="facts §4 [S][D]",
    operations=["listFiles", "retrieveFile"],
)
def uploaded_file_consistent(ctx: CheckContext, exchange: Exchange) -> None:
    """After an upload, the file is listed and retrieving it gives the same id, bytes, filename and purpose."""
    uploaded = _related_json(exchange, "upload")
    body = success_json(exchange)
    found: dict[str, Any] | None = body
    if exchange.operation != "retrieveFile":
        listed = _listed(body)
        if listed is None:
            raise Violation(f"Received: data {brief(body['data'])}\nExpected: a list with {uploaded.get('id')}")
        found = next((f for f in listed if isinstance(f, dict) and f.get("id") == uploaded.get("id")), None)
    if found is None:
        raise Violation(f"Received: a list without {uploaded.get('id')}\nExpected: the uploaded file listed")
    for key in ("id", "bytes", "filename", "purpose"):
        if found.get(key) != uploaded.get(key):
            raise Violation(
                f"Received: {key} {brief(found.get(key))}\nExpected: {brief(uploaded.get(key))} "
                "as returned by the upload"
            )


@check(
    "FILE002",
    "Deleted file still served",
    "#/paths/~1v1~1files~1{file_id}/delete",
    fact="facts §4 [S]",
    operations=["retrieveFile", "retrieveFileContent", "listFiles"],
)
def deleted_file_is_gone(ctx: CheckContext, exchange: Exchange) -> None:
    """After a successful delete, the file is not listed and getting it or its content is 404."""
    deleted = _related_json(exchange, "delete")
    if exchange.operation == "listFiles":
        listed = _listed(success_json(exchange))
        if listed is None:
            raise NotApplicable  # SCHM001 reports it
        ids = [f.get("id") for f in listed if isinstance(f, dict)]
        if deleted.get("id") in ids:
            raise Violation(f"Received: {deleted.get('id')} still listed\nExpected: not listed after delete")
        return
    if status_of(exchange) != 404:
        raise Violation(f"Received: HTTP {exchange.status} for a deleted file\nExpected: HTTP 404")


@check(
    "FILE003",
    "File content does not match the upload",
    "#/paths/~1v1~1files~1{file_id}~1content",
    fact="facts §4 [S][D]",
    operations=["retrieveFileContent"],
)
def file_content_served(ctx: CheckContext, exchange: Exchange) -> None:
    """The content of an uploaded text file contains its text (raw or as the extraction document's `content`)."""
    upload = exchange.related.get("upload")
    if upload is None or not isinstance(upload.request_json, dict):
        raise NotApplicable
    status = status_of(exchange)
    if status != 200:
        raise Violation(f"Received: HTTP {status}\nExpected: HTTP 200 with the file's content")
    expected = str(upload.request_json.get("text", ""))
    text = exchange.body.decode("utf-8", errors="replace")
    try:
        document = strict_json.loads(text)
        text = document.get("content", text) if isinstance(document, dict) else text
    except ValueError:
        pass
    if expected not in str(text):
        raise Violation(f"Received: {brief(text)}\nExpected: the uploaded text {brief(expected)}")


@check(
    "BTCH001",
    "Created batch does not echo its request",
    "#/components/schemas/BatchObject",
    fact="facts §5 [S]",
    operations=["createBatch", "retrieveBatch"],
)
def batch_echoes_request(ctx: CheckContext, exchange: Exchange) -> None:
    """A created or retrieved batch carries the requested input_file_id, endpoint and completion_window."""
    body = success_json(exchange)
    request = exchange.request_json if exchange.operation == "createBatch" else None
    if request is None:
        created = exchange.related.get("create")
        request = created.request_json if created is not None else None
    if not isinstance(request, dict):
        raise NotApplicable
    for key in ("input_file_id", "endpoint", "completion_window"):
        if body.get(key) != request.get(key):
            raise Violation(f"Received: {key} {brief(body.get(key))}\nExpected: {brief(request.get(key))}")


@check(
    "BTCH002",
    "Batch list does not page correctly",
    "#/components/schemas/BatchList",
    fact="facts §5 [S]",
    operations=["listBatches"],
)
def batch_list_pages(ctx: CheckContext, exchange: Exchange) -> None:
    """`limit` is honoured, `has_more` is a boolean, and a batch created just before is on the first page.

    The last is a warning: the facts (§5) document `after`, `limit` and `has_more`, not the list's order [I]."""
    body = success_json(exchange)
    data = _listed(body)
    if data is None:
        raise Violation(f"Received: data {brief(body['data'])}\nExpected: a list of batches")
    limit = (exchange.request_json or {}).get("limit") if isinstance(exchange.request_json, dict) else None
    if isinstance(limit, int) and len(data) > limit:
        raise Violation(f"Received: {len(data)} batches\nExpected: at most limit={limit}")
    if not isinstance(body.get("has_more"), bool):
        raise Violation(f"Received: has_more {brief(body.get('has_more'))}\nExpected: a boolean")
    created = exchange.related.get("create")
    if created is not None and limit is None:
        wanted = success_json(created).get("id")
        if wanted not in [b.get("id") for b in data if isinstance(b, dict)]:
            raise Violation(
                f"Received: a first page without {wanted}\nExpected: the newest batch listed\n"
                "A warning: the facts do not document the list's order, newest first is [I] (facts §5)",
                severity=Severity.WARNING,
            )


@check(
    "BTCH003",
    "Cancel rule broken",
    "#/paths/~1v1~1batches~1{batch_id}~1cancel/post",
    fact="facts §5 [S]",
    operations=["cancelBatch"],
)
def cancel_follows_status(ctx: CheckContext, exchange: Exchange) -> None:
    """Cancel succeeds (cancelling/cancelled) from validating, in_progress or finalizing, and is 400 otherwise."""
    before = exchange.related.get("before")
    if before is None:
        raise NotApplicable
    previous = success_json(before).get("status")
    status = status_of(exchange)
    if previous in ("validating", "in_progress", "finalizing"):
        if status == 400 and _ended_meanwhile(exchange.related.get("after")):
            raise NotApplicable  # it finished between the two requests: refusing to cancel it then is right
        if status != 200 or success_json(exchange).get("status") not in ("cancelling", "cancelled"):
            raise Violation(f"Received: HTTP {status} {exchange.excerpt(120)}\nExpected: 200 with status cancelling")
    elif previous in ("completed", "failed", "expired", "cancelled") and status != 400:
        raise Violation(f"Received: HTTP {status} cancelling a {previous} batch\nExpected: HTTP 400")


def _ended_meanwhile(after: Exchange | None) -> bool:
    """Whether the batch, read again after a refused cancel, had ended on its own (not cancelled)."""
    if after is None or after.status != 200:
        return False
    try:
        body = after.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("status") in ("completed", "failed", "expired")


@check(
    "BTCH004",
    "Batch output incomplete",
    "#/components/schemas/BatchObject",
    fact="facts §5 [I]",
    severity=Severity.WARNING,
    operations=["retrieveFileContent"],
)
def batch_output_complete(ctx: CheckContext, exchange: Exchange) -> None:
    """A completed batch's output and error files hold one parseable line per input custom_id.

    A warning: the facts leave the output line format undocumented (facts §5 [I], OpenAI's format assumed)."""
    expected_ids = exchange.related.get("batch_input")
    if expected_ids is None or not isinstance(expected_ids.request_json, list):
        raise NotApplicable
    try:
        lines = strict_json.jsonl(exchange.body.decode("utf-8", "replace"))
        ids = sorted((line.get("custom_id") for line in lines), key=str)  # a missing custom_id is None
    except (ValueError, AttributeError):
        raise Violation(f"Received: {exchange.excerpt(200)}\nExpected: JSON lines") from None
    if ids != sorted(expected_ids.request_json):
        raise Violation(f"Received: custom_ids {ids}\nExpected: {sorted(expected_ids.request_json)}")
