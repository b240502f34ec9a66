"""Batches, statefully: create, retrieve, list, cancel rules, output (facts §5). Only batchable models."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from kimi_conformance.suite import (
    Ceiling,
    Exchange,
    PlanCase,
    Settings,
    TargetClient,
    Verify,
    batch_line,
    ceiling,
    chat_tokens,
    load_rules,
    target_models,
    uses_operations,
)

pytestmark = uses_operations("files", "batches")  # a batch's input is an uploaded file

COMPLETION_WAIT = 20.0
"""Seconds to wait for a batch to complete; a live API may take hours, and then the output check is skipped."""
MAX_POLLS = 16
"""Status requests of one wait at most: 0.05 s apart at first, the pause doubling up to 2 s (about 21 s in all, so
COMPLETION_WAIT ends the wait first)."""
LINE_TOKENS = chat_tokens(batch_line("probe", "model")["body"])
"""What one line of a probe batch asks for: the batch runs it on the account (no answer of the run reports it)."""


@pytest.fixture(scope="module")
def batch_model(kimi_settings: Settings, request: pytest.FixtureRequest) -> str:
    for model in target_models(request.config):
        info = load_rules().model(kimi_settings.aliases().get(model, model))
        if info is not None and info.batch:
            return model
    pytest.skip("the target serves no batchable model (kimi-k2.5, kimi-k2.6)")


def _create(client: TargetClient, model: str, ids: list[str]) -> tuple[Exchange, Exchange]:
    lines = "\n".join(json.dumps(batch_line(custom_id, model)) for custom_id in ids) + "\n"
    upload = client.request(
        "uploadFile", "POST", "/files", files={"file": ("batch.jsonl", lines.encode())}, data={"purpose": "batch"}
    )
    body = {"input_file_id": upload.json()["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    return upload, client.request("createBatch", "POST", "/batches", json_body=body)


def _wait(client: TargetClient, batch_id: str, done: set[str], seconds: float) -> Exchange:
    deadline, pause, polls = time.monotonic() + seconds, 0.05, 0
    while True:
        exchange = client.request("retrieveBatch", "GET", f"/batches/{batch_id}")
        polls += 1
        status: Any = exchange.json().get("status") if exchange.status == 200 else None
        if status in done or polls == MAX_POLLS or time.monotonic() > deadline:
            return exchange
        time.sleep(pause)
        pause = min(2 * pause, 2.0)


def batchable(ceiling: Ceiling) -> Callable[[PlanCase], Ceiling]:
    """`ceiling` where the run has a batchable model, nothing where the test skips."""
    return lambda case: ceiling if any(model.batch for model in case.run_models) else Ceiling()


# Two creations (upload + batch each), two lists, the wait, at most two output files, the cancel; three lines run.
@ceiling(batchable(Ceiling(9 + MAX_POLLS, 3 * LINE_TOKENS)))
def test_batch_lifecycle(target_client: TargetClient, verify: Verify, batch_model: str) -> None:
    ids = ["probe-1", "probe-2"]
    upload, created = _create(target_client, batch_model, ids)
    verify(upload)
    verify(created)
    batch_id = created.json()["id"]

    listed = target_client.request("listBatches", "GET", "/batches")
    listed.related["create"] = created
    verify(listed)
    _, second = _create(target_client, batch_model, ["probe-3"])  # two batches at least: `limit=1` must cut
    verify(second)
    paged = target_client.request("listBatches", "GET", "/batches", params={"limit": 1})
    paged.request_json = {"limit": 1}
    verify(paged)

    final = _wait(target_client, batch_id, {"completed", "failed", "expired", "cancelled"}, COMPLETION_WAIT)
    final.related["create"] = created
    verify(final)
    if final.json().get("status") != "completed":
        pytest.skip(f"batch still {final.json().get('status')} after {COMPLETION_WAIT:g} s; output not checked")
    expected = Exchange(operation="batch", method="-", url="-", request_headers={}, request_json=ids)
    for key in ("output_file_id", "error_file_id"):
        file_id = final.json().get(key)
        if file_id:
            output = target_client.request("retrieveFileContent", "GET", f"/files/{file_id}/content")
            if key == "output_file_id" and not final.json().get("error_file_id"):
                output.related["batch_input"] = expected
            verify(output)

    cancel_done = target_client.request("cancelBatch", "POST", f"/batches/{batch_id}/cancel")
    cancel_done.related["before"] = final
    cancel_done.intent = "stateful"  # refused or not depending on the batch's status: BTCH003 judges it
    verify(cancel_done)


@ceiling(batchable(Ceiling(5, LINE_TOKENS)))  # upload, create, retrieve, cancel, retrieve; one line runs
def test_cancel_a_running_batch(target_client: TargetClient, verify: Verify, batch_model: str) -> None:
    _, created = _create(target_client, batch_model, ["cancel-1"])
    verify(created)
    batch_id = created.json()["id"]
    before = target_client.request("retrieveBatch", "GET", f"/batches/{batch_id}")
    cancel = target_client.request("cancelBatch", "POST", f"/batches/{batch_id}/cancel")
    cancel.related["before"] = before
    if cancel.status == 400:  # did it end on its own between the two requests?
        cancel.related["after"] = target_client.request("retrieveBatch", "GET", f"/batches/{batch_id}")
    cancel.intent = "stateful"
    verify(cancel)
