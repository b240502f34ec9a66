"""Files, statefully: upload, listed, retrieved, content, delete, then gone (facts §4)."""

from __future__ import annotations

import secrets

from kimi_conformance.suite import Ceiling, TargetClient, Verify, ceiling, uses_operations

pytestmark = uses_operations("files")


@ceiling(Ceiling(requests=8))  # upload, list, retrieve, content, delete, then three after the delete
def test_file_lifecycle(target_client: TargetClient, verify: Verify) -> None:
    text = f"kimi-conformance probe {secrets.token_hex(4)}"
    upload = target_client.request(
        "uploadFile",
        "POST",
        "/files",
        files={"file": ("probe.txt", text.encode(), "text/plain")},
        data={"purpose": "file-extract"},
    )
    upload.request_json = {"text": text, "purpose": "file-extract"}
    verify(upload)
    file_id = upload.json()["id"]

    listed = target_client.request("listFiles", "GET", "/files")
    retrieved = target_client.request("retrieveFile", "GET", f"/files/{file_id}")
    content = target_client.request("retrieveFileContent", "GET", f"/files/{file_id}/content")
    for exchange in (listed, retrieved, content):
        exchange.related["upload"] = upload
        verify(exchange)

    deleted = target_client.request("deleteFile", "DELETE", f"/files/{file_id}")
    verify(deleted)
    for exchange in (
        target_client.request("retrieveFile", "GET", f"/files/{file_id}"),
        target_client.request("retrieveFileContent", "GET", f"/files/{file_id}/content"),
        target_client.request("listFiles", "GET", "/files"),
    ):
        exchange.related["delete"] = deleted
        verify(exchange)
