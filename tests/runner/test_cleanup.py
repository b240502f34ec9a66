"""Leaving the account as found: the ledger learns from answers what the run made exist, `leave_as_found` removes
it (over real HTTP, against the mock), and a whole run leaves the mock's files and running batches as they were,
also when it stops early."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from kimi_conformance.budget import BudgetReached, Guard
from kimi_conformance.exchange import Exchange
from kimi_conformance.ledger import AccountLedger, account_line, merge_accounts
from kimi_conformance.mock import MockConfig, serve_in_thread
from kimi_conformance.mock.config import DEFAULT_API_KEY
from kimi_conformance.runner.cleanup import GIVE_UP_AFTER, leave_as_found
from kimi_conformance.runner.scenarios import batch_line
from kimi_conformance.transport import TargetClient

BASE = "http://127.0.0.1:9/prefix/v1"


def answered(method: str, path: str, status: int, body: Any) -> Exchange:
    url = BASE + path
    return Exchange("op", method, url, {}, None, status=status, body=json.dumps(body).encode())


def file_object(file_id: str) -> dict[str, Any]:
    return {"id": file_id, "object": "file", "purpose": "batch"}


def batch_object(batch_id: str, status: str, output: str | None = None) -> dict[str, Any]:
    return {"id": batch_id, "object": "batch", "status": status, "output_file_id": output, "error_file_id": None}


def test_the_ledger_learns_uploads_batches_their_files_and_removals() -> None:
    ledger = AccountLedger.for_base_url(BASE)
    ledger.observe(answered("POST", "/files", 200, file_object("f1")))
    ledger.observe(answered("POST", "/files", 400, {"error": {"type": "invalid_request_error"}}))
    ledger.observe(answered("POST", "/batches", 200, batch_object("b1", "validating")))
    ledger.observe(answered("GET", "/batches", 200, {"data": [batch_object("b1", "completed", "out1")]}))
    ledger.observe(answered("GET", "/batches/other", 200, batch_object("other", "in_progress", "out2")))
    assert ledger.files == {"f1": "uploaded", "out1": "batch output"}  # not another account's batch's file
    assert ledger.batches == {"b1": "completed"} and ledger.batches_running() == []
    ledger.observe(answered("DELETE", "/files/f1", 200, {"id": "f1", "deleted": True}))
    ledger.observe(answered("DELETE", "/files/out1", 500, {"error": {}}))
    assert ledger.files_left() == ["out1"]
    ledger.observe(answered("DELETE", "/files/out1", 404, {"error": {}}))  # gone already: nothing left
    assert ledger.files_left() == []


def test_the_ledger_counts_accepted_cancels_and_ignores_other_paths() -> None:
    ledger = AccountLedger.for_base_url(BASE)
    ledger.observe(answered("POST", "/batches", 200, batch_object("b1", "in_progress")))
    ledger.observe(answered("POST", "/batches/b1/cancel", 200, batch_object("b1", "cancelling")))
    ledger.observe(answered("POST", "/batches/b2/cancel", 200, batch_object("b2", "cancelling")))
    outside = Exchange("op", "POST", "http://127.0.0.1:9/v1/files", {}, None, status=200, body=b'{"object":"file"}')
    ledger.observe(outside)  # not under the base path
    ledger.observe(Exchange("op", "POST", BASE + "/files", {}, None, transport_error="timeout"))
    assert ledger.cancelled == {"b1"} and ledger.batches_running() == ["b1"] and ledger.files == {}


def test_summaries_merge_and_read_as_one_line() -> None:
    ledger = AccountLedger.for_base_url(BASE)
    ledger.observe(answered("POST", "/files", 200, file_object("f1")))
    first = {**ledger.summary(), "cleanup_stopped": None}
    second = {**AccountLedger.for_base_url(BASE).summary(), "cleanup_stopped": "3 clean-up requests in a row"}
    merged = merge_accounts(first, second)
    assert merged is not None and merged["files"] == {"created": 1, "removed": 0, "left": ["f1"]}
    assert merge_accounts(None, first) == first and merge_accounts(first, None) == first
    assert account_line(merged) == (
        "created 1 file(s) and 0 batch(es); deleted 0 file(s), cancelled 0 batch(es); left: 1 file(s) (f1)"
        " (clean-up stopped: 3 clean-up requests in a row)"
    )


def test_leave_as_found_cancels_waits_and_deletes_over_http() -> None:
    with serve_in_thread(MockConfig(lineup="all", batch_step_seconds=0.2)) as mock:
        ledger = AccountLedger.for_base_url(mock.api_base)
        guard = Guard(max_requests=3)
        with TargetClient(mock.api_base, DEFAULT_API_KEY, guard=guard, ledger=ledger) as client:
            lines = json.dumps(batch_line("r1", "kimi-k2.6")) + "\n"
            upload = client.request(
                "uploadFile", "POST", "/files", files={"file": ("b.jsonl", lines.encode())}, data={"purpose": "batch"}
            )
            body = {
                "input_file_id": upload.json()["id"],
                "endpoint": "/v1/chat/completions",
                "completion_window": "24h",
            }
            client.request("createBatch", "POST", "/batches", json_body=body)
            client.request(
                "uploadFile", "POST", "/files", files={"file": ("a.txt", b"hi")}, data={"purpose": "file-extract"}
            )
            with pytest.raises(BudgetReached):  # the run's budget is spent: the clean-up still goes ahead
                client.request("listFiles", "GET", "/files")
            assert leave_as_found(client, ledger) is None
        with httpx.Client(headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"}) as plain:
            files = plain.get(mock.api_base + "/files").json()["data"]
            batches = plain.get(mock.api_base + "/batches").json()["data"]
    assert files == [] and ledger.files_left() == []
    assert [batch["status"] for batch in batches] == ["cancelled"] and ledger.batches_running() == []
    assert ledger.summary()["batches"]["cancelled"] == 1


def test_leave_as_found_gives_up_on_a_target_that_is_gone() -> None:
    ledger = AccountLedger.for_base_url("http://127.0.0.1:9/v1")
    for number in range(10):
        ledger.files[f"f{number}"] = "uploaded"
    with TargetClient("http://127.0.0.1:9/v1", "sk-test", timeout=1.0) as client:
        stopped = leave_as_found(client, ledger)
    assert stopped == f"{GIVE_UP_AFTER} clean-up requests in a row got no answer"
    assert len(ledger.files_left()) == 10


def _counts(api_base: str) -> tuple[int, int]:
    with httpx.Client(headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"}) as plain:
        files = plain.get(api_base + "/files").json()["data"]
        batches = plain.get(api_base + "/batches", params={"limit": 100}).json()["data"]
    running = [batch for batch in batches if batch["status"] not in ("completed", "failed", "expired", "cancelled")]
    return len(files), len(running)


@pytest.mark.slow
def test_whole_runs_leave_the_mock_as_they_found_it(tmp_path: Path) -> None:
    """The default suite twice, then a run stopped by `--max-requests 20`, against one mock: its files and its
    running batches are back where they started after each (the API cannot delete a batch: ended ones stay)."""
    with serve_in_thread(MockConfig()) as mock:  # today's lineup: the files and batches are the same
        before = _counts(mock.api_base)
        command = [sys.executable, "-m", "kimi_conformance", "run", "--target", mock.api_base, "--report-dir", "r"]
        env = {**os.environ, "MOONSHOT_API_KEY": DEFAULT_API_KEY}
        for options in ([], [], ["--max-requests", "20"]):
            done = subprocess.run([*command, *options], cwd=tmp_path, capture_output=True, text=True, env=env)
            assert done.returncode in (0, 2), done.stdout[-2000:]
            assert _counts(mock.api_base) == before
            account = json.loads((tmp_path / "r" / "latest" / "results.json").read_text("utf-8"))["account"]
            assert account["files"]["created"] > 0 and account["files"]["left"] == [], account
            assert account["batches"]["created"] > 0 and account["batches"]["running"] == [], account
            assert "account: created" in done.stdout and "nothing left" in done.stdout
