"""Files and batches over real HTTP: lifecycles, documented limits and messages, statuses over time."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, MockServer, serve_in_thread
from tests.conftest import user


def upload(http: httpx.Client, name: str, data: bytes, purpose: str) -> httpx.Response:
    return http.post("/files", files={"file": (name, data)}, data={"purpose": purpose})


def batch_line(custom_id: str, model: str = "kimi-k2.6", **body: Any) -> str:
    request = {"model": model, "messages": user(f"request {custom_id}"), **body}
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": request})


def wait_for(http: httpx.Client, batch_id: str, statuses: set[str], timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        batch: dict[str, Any] = http.get(f"/batches/{batch_id}").json()
        if not seen or seen[-1] != batch["status"]:
            seen.append(batch["status"])
        if batch["status"] in statuses:
            batch["_seen"] = seen
            return batch
        time.sleep(0.01)
    raise AssertionError(f"batch stuck; statuses seen: {seen}")


def test_file_lifecycle(http: httpx.Client) -> None:
    created = upload(http, "notes.md", b"# Kimi\nhello", "file-extract")
    assert created.status_code == 200
    stored = created.json()
    assert stored["object"] == "file" and stored["bytes"] == 12 and stored["status"] == "ok"
    assert len(stored["id"]) == 20 and stored["id"].isalnum() and stored["id"].islower()
    assert stored["id"] in [f["id"] for f in http.get("/files").json()["data"]]
    assert http.get(f"/files/{stored['id']}").json() == stored
    content = http.get(f"/files/{stored['id']}/content")
    assert content.headers["content-type"].startswith("text/plain")
    assert json.loads(content.text)["content"] == "# Kimi\nhello"
    assert http.delete(f"/files/{stored['id']}").json() == {"id": stored["id"], "object": "file", "deleted": True}
    for response in (http.get(f"/files/{stored['id']}"), http.get(f"/files/{stored['id']}/content")):
        assert response.status_code == 404 and response.json()["error"]["type"] == "resource_not_found_error"
    assert http.delete(f"/files/{stored['id']}").status_code == 404


@pytest.mark.parametrize(
    ("files", "data", "message"),
    [
        ({"file": ("a.txt", b"")}, {"purpose": "file-extract"}, "File size is zero"),
        ({"file": ("a.txt", b"x")}, {"purpose": "fine-tune"}, "purpose"),
        ({"file": ("a.txt", b"x")}, {}, "purpose"),
        (None, {"purpose": "file-extract"}, "file"),
    ],
)
def test_upload_validation(http: httpx.Client, files: Any, data: dict[str, str], message: str) -> None:
    response = http.post("/files", files=files, data=data) if files else http.post("/files", data=data)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert message in response.json()["error"]["message"]


@pytest.fixture(scope="module")
def tight_server() -> Iterator[MockServer]:
    with serve_in_thread(MockConfig(lineup="all", max_file_bytes=64, max_file_count=2)) as server:
        yield server


def test_documented_file_limits(tight_server: MockServer) -> None:
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    with httpx.Client(base_url=tight_server.api_base, headers=headers) as http:
        too_large = upload(http, "big.txt", b"x" * 65, "file-extract").json()["error"]["message"]
        assert too_large == "File size is too large, max file size is 100MB, please confirm and re-upload the file"
        assert upload(http, "a.txt", b"a", "file-extract").status_code == 200
        assert upload(http, "b.txt", b"b", "file-extract").status_code == 200
        third = upload(http, "c.txt", b"c", "file-extract")
    assert third.status_code == 400
    assert third.json()["error"]["message"].startswith("The number of files you have uploaded exceeded the max file")


def test_batch_runs_to_completion_and_writes_files(http: httpx.Client) -> None:
    lines = [batch_line("ok-1"), batch_line("bad-2", temperature=0.3), batch_line("ok-3")]
    input_file = upload(http, "in.jsonl", "\n".join(lines).encode(), "batch").json()
    created = http.post(
        "/batches",
        json={
            "input_file_id": input_file["id"],
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
            "metadata": {"job": "nightly"},
        },
    )
    assert created.status_code == 200, created.text
    batch = created.json()
    assert batch["object"] == "batch" and batch["status"] == "validating" and batch["metadata"] == {"job": "nightly"}
    assert batch["expires_at"] - batch["created_at"] == 24 * 3600
    done = wait_for(http, batch["id"], {"completed", "failed"})
    assert done["status"] == "completed"
    assert done["_seen"][-1] == "completed" and "in_progress" in done["_seen"]
    assert done["request_counts"] == {"completed": 2, "failed": 1, "total": 3}
    assert done["in_progress_at"] and done["finalizing_at"] and done["completed_at"]
    output = [json.loads(line) for line in http.get(f"/files/{done['output_file_id']}/content").text.splitlines()]
    assert sorted(o["custom_id"] for o in output) == ["ok-1", "ok-3"]
    assert all(o["response"]["status_code"] == 200 for o in output)
    errors = [json.loads(line) for line in http.get(f"/files/{done['error_file_id']}/content").text.splitlines()]
    assert errors[0]["custom_id"] == "bad-2" and errors[0]["response"]["status_code"] == 400
    assert http.post(f"/batches/{done['id']}/cancel").status_code == 400


@pytest.mark.parametrize(
    "content",
    [
        b"not json\n",
        (batch_line("a") + "\n" + batch_line("a")).encode(),
        (batch_line("a") + "\n" + batch_line("b", model="kimi-k2.5")).encode(),
        batch_line("a", model="moonshot-v1-8k").encode(),
        json.dumps({"custom_id": "a", "method": "GET", "url": "/v1/models", "body": {}}).encode(),
        b"\n\n",
    ],
)
def test_invalid_batch_files_fail_validation(http: httpx.Client, content: bytes) -> None:
    input_file = upload(http, "in.jsonl", content, "batch").json()
    assert_batch_fails(http, input_file)


def test_batch_input_must_be_jsonl(http: httpx.Client) -> None:
    assert_batch_fails(http, upload(http, "in.txt", batch_line("a").encode(), "batch").json())


def assert_batch_fails(http: httpx.Client, input_file: dict[str, Any]) -> None:
    body = {"input_file_id": input_file["id"], "endpoint": "/v1/chat/completions", "completion_window": "1d"}
    batch = http.post("/batches", json=body).json()
    failed = wait_for(http, batch["id"], {"completed", "failed"})
    assert failed["status"] == "failed" and failed["failed_at"] and failed["errors"]["data"]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"completion_window": "6h"}, 400),
        ({"completion_window": "8d"}, 400),
        ({"completion_window": "soon"}, 400),
        ({"endpoint": "/v1/embeddings"}, 400),
        ({"input_file_id": "nosuchfile0000000000"}, 404),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, 400),
    ],
)
def test_batch_create_validation(http: httpx.Client, change: dict[str, Any], status: int) -> None:
    input_file = upload(http, "in.jsonl", batch_line("a").encode(), "batch").json()
    body = {"input_file_id": input_file["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    response = http.post("/batches", json={**body, **change})
    assert response.status_code == status, response.text


def test_batch_needs_a_batch_purpose_file(http: httpx.Client) -> None:
    input_file = upload(http, "in.jsonl", batch_line("a").encode(), "file-extract").json()
    body = {"input_file_id": input_file["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    assert http.post("/batches", json=body).status_code == 400


def test_cancel_moves_through_cancelling() -> None:
    with serve_in_thread(MockConfig(lineup="all", batch_step_seconds=0.3)) as server:
        headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
        with httpx.Client(base_url=server.api_base, headers=headers) as http:
            input_file = upload(http, "in.jsonl", batch_line("a").encode(), "batch").json()
            body = {"input_file_id": input_file["id"], "endpoint": "/v1/chat/completions", "completion_window": "12h"}
            batch = http.post("/batches", json=body).json()
            cancelling = http.post(f"/batches/{batch['id']}/cancel").json()
            assert cancelling["status"] == "cancelling" and cancelling["cancelling_at"]
            cancelled = wait_for(http, batch["id"], {"cancelled"})
            assert cancelled["cancelled_at"] and cancelled["completed_at"] is None
            assert http.post(f"/batches/{batch['id']}/cancel").status_code == 400
            assert http.post("/batches/batch_unknown/cancel").status_code == 404


def test_list_batches_paginates_with_after(http: httpx.Client) -> None:
    input_file = upload(http, "in.jsonl", batch_line("a").encode(), "batch").json()
    body = {"input_file_id": input_file["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    ids = [http.post("/batches", json=body).json()["id"] for _ in range(3)]
    first = http.get("/batches", params={"limit": 2}).json()
    assert first["object"] == "list" and first["has_more"] is True
    assert [b["id"] for b in first["data"]] == ids[::-1][:2]
    second = http.get("/batches", params={"limit": 2, "after": first["data"][-1]["id"]}).json()
    assert second["data"][0]["id"] == ids[0]
    assert http.get("/batches", params={"limit": 0}).status_code == 400
    assert http.get("/batches", params={"limit": 101}).status_code == 400
