"""Auth on every operation and the error envelope on invalid requests (facts §1, §9)."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_conformance.suite import (
    Ceiling,
    Exchange,
    PlanCase,
    TargetClient,
    Verify,
    ceiling,
    chat,
    prompt_tokens,
    sends,
    uses_operations,
)

MODEL = "kimi-k2-turbo-preview"
"""Placeholder in the tables below, replaced by the run's `probe_model` (requests go only to the run's models)."""
UNKNOWN_MODEL = "no-such-model-kimi"
"""A model no one serves, for the 404 of a missing model (no contract model: never one the run was not given)."""
UNKNOWN_FILE = "nosuchfile0000000000"
UNKNOWN_BATCH = "batch_nosuchbatch000000000000"

OPERATIONS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("createChatCompletion", "POST", "/chat/completions", {"json_body": chat(MODEL)}),
    ("listModels", "GET", "/models", {}),
    ("uploadFile", "POST", "/files", {"files": {"file": ("a.txt", b"hello")}, "data": {"purpose": "file-extract"}}),
    ("listFiles", "GET", "/files", {}),
    ("retrieveFile", "GET", f"/files/{UNKNOWN_FILE}", {}),
    ("deleteFile", "DELETE", f"/files/{UNKNOWN_FILE}", {}),
    ("retrieveFileContent", "GET", f"/files/{UNKNOWN_FILE}/content", {}),
    (
        "estimateTokenCount",
        "POST",
        "/tokenizers/estimate-token-count",
        {"json_body": {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}},
    ),
    ("getBalance", "GET", "/users/me/balance", {}),
    (
        "createBatch",
        "POST",
        "/batches",
        {"json_body": {"input_file_id": UNKNOWN_FILE, "endpoint": "/v1/chat/completions", "completion_window": "24h"}},
    ),
    ("listBatches", "GET", "/batches", {}),
    ("retrieveBatch", "GET", f"/batches/{UNKNOWN_BATCH}", {}),
    ("cancelBatch", "POST", f"/batches/{UNKNOWN_BATCH}/cancel", {}),
]
CREDENTIALS = {
    "no-key": None,
    "malformed-header": "Basic c2stdGVzdA==",
    "wrong-key": "Bearer sk-kimi-conformance-wrong",
}


def one_request(case: PlanCase) -> Ceiling:
    """The ceiling of a test sending the one request of its parameters: a chat completion's prompt and cap (a
    target that serves what it must refuse spends them), an estimate's prompt, nothing for the other operations."""
    body = case.params["kwargs"].get("json_body")
    if case.params["operation"] == "createChatCompletion" and body is not None:
        return sends(body)
    return sends(prompt_tokens(body) if case.params["operation"] == "estimateTokenCount" else None)


def for_model(kwargs: dict[str, Any], model: str | None) -> dict[str, Any]:
    """The request arguments with the placeholder model replaced by the run's model (the test is skipped when the
    run has none: only the run's models are ever sent)."""
    body = kwargs.get("json_body")
    if isinstance(body, dict) and body.get("model") == MODEL:
        if model is None:
            pytest.skip("the run exercises no model to name in this request")
        return {**kwargs, "json_body": {**body, "model": model}}
    return kwargs


def cases(table: list[tuple[str, str, str, dict[str, Any]]], ids: list[str]) -> list[Any]:
    """The table's requests as parameters, each marked with its operation's group (skipped where not offered)."""
    return [pytest.param(*row, id=name, marks=uses_operations(row[0])) for row, name in zip(table, ids, strict=True)]


@ceiling(one_request)
@pytest.mark.parametrize(("operation", "method", "path", "kwargs"), cases(OPERATIONS, [o[0] for o in OPERATIONS]))
@pytest.mark.parametrize("credential", list(CREDENTIALS))
def test_nothing_is_served_without_a_valid_key(
    target_client: TargetClient,
    probe_model: str | None,
    verify: Verify,
    operation: str,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    credential: str,
) -> None:
    header = CREDENTIALS[credential]
    exchange = target_client.request(
        operation,
        method,
        path,
        authenticate=False,
        headers={"Authorization": header} if header else {},
        **for_model(kwargs, probe_model),
    )
    exchange.intent = "unauthenticated"
    exchange.sent_authorization = header
    verify(exchange)


INVALID: list[tuple[str, str, str, dict[str, Any]]] = [
    (
        "createChatCompletion",
        "POST",
        "/chat/completions",
        {"json_body": {"model": MODEL, "messages": [], "max_completion_tokens": 1}},
    ),
    (
        "createChatCompletion",
        "POST",
        "/chat/completions",
        {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
    ),
    (
        "createChatCompletion",
        "POST",
        "/chat/completions",
        {"json_body": {"model": MODEL, "messages": [{"role": "robot", "content": "hi"}], "max_completion_tokens": 1}},
    ),
    ("createChatCompletion", "POST", "/chat/completions", {"json_body": chat(MODEL, n=99)}),
    (
        "estimateTokenCount",
        "POST",
        "/tokenizers/estimate-token-count",
        {"json_body": {"model": MODEL, "messages": []}},
    ),
    ("uploadFile", "POST", "/files", {"data": {"purpose": "file-extract"}, "files": {"other": ("a.txt", b"x")}}),
    ("createBatch", "POST", "/batches", {"json_body": {"input_file_id": 5}}),
]


@ceiling(one_request)
@pytest.mark.parametrize(
    ("operation", "method", "path", "kwargs"), cases(INVALID, [f"{o[0]}-{i}" for i, o in enumerate(INVALID)])
)
def test_invalid_requests_get_the_error_envelope(
    target_client: TargetClient,
    verify: Verify,
    probe_model: str | None,
    operation: str,
    method: str,
    path: str,
    kwargs: dict[str, Any],
) -> None:
    exchange = target_client.request(operation, method, path, **for_model(kwargs, probe_model))
    exchange.intent = "invalid"
    verify(exchange)


MISSING = [o for o in OPERATIONS if o[2].endswith((UNKNOWN_FILE, UNKNOWN_BATCH, "/content", "/cancel"))] + [
    ("createChatCompletion", "POST", "/chat/completions", {"json_body": chat(UNKNOWN_MODEL)})
]


@ceiling(one_request)
@pytest.mark.parametrize(("operation", "method", "path", "kwargs"), cases(MISSING, [o[0] for o in MISSING]))
def test_missing_resources_are_404(
    target_client: TargetClient, verify: Verify, operation: str, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    exchange: Exchange = target_client.request(operation, method, path, **kwargs)
    exchange.intent = "missing"
    verify(exchange)
