"""Files: upload, list, retrieve, delete and content (facts §4). Metadata in memory, bytes in a temp dir."""

from __future__ import annotations

import json
import mimetypes
import secrets
import string
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kimi_conformance.mock import errors
from kimi_conformance.mock.config import MockConfig
from kimi_conformance.mock.errors import invalid_request

PURPOSES = ("file-extract", "image", "video", "batch")
_ID_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(slots=True)
class StoredFile:
    """A FileObject (facts §4) and where its bytes live."""

    id: str
    bytes: int
    created_at: int
    filename: str
    purpose: str
    status: str = "ok"
    status_details: str = ""
    object: str = "file"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def new_file_id() -> str:
    """20 lowercase alphanumerics, like the documented example `clg681objj8g9m7n4je0`."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(20))


class FileStore:
    """The files of one mock instance."""

    def __init__(self, config: MockConfig) -> None:
        self._config = config
        self._dir = tempfile.TemporaryDirectory(prefix="kimi-mock-files-")
        self._files: dict[str, StoredFile] = {}

    def close(self) -> None:
        self._dir.cleanup()

    def _path(self, file_id: str) -> Path:
        return Path(self._dir.name) / file_id

    def purpose_of(self, file_id: str) -> str | None:
        stored = self._files.get(file_id)
        return stored.purpose if stored else None

    def add(self, filename: str, purpose: str, data: bytes) -> StoredFile:
        """Store an upload after the documented checks (facts §4, §9)."""
        if purpose not in PURPOSES:
            raise invalid_request(f"Invalid request: purpose must be one of {', '.join(PURPOSES)}")
        if not data:
            raise invalid_request(errors.FILE_EMPTY)
        if len(data) > self._config.max_file_bytes:
            raise invalid_request(errors.FILE_TOO_LARGE)
        if len(self._files) >= self._config.max_file_count:
            raise invalid_request(errors.FILE_COUNT.format(max_file_count=self._config.max_file_count))
        if sum(f.bytes for f in self._files.values()) + len(data) > self._config.max_total_file_bytes:
            raise invalid_request("Invalid request: the total size of your files exceeds 10GB")
        stored = StoredFile(
            id=new_file_id(),
            bytes=len(data),
            created_at=int(time.time()),
            filename=filename or "upload",
            purpose=purpose,
        )
        self._path(stored.id).write_bytes(data)
        self._files[stored.id] = stored
        return stored

    def get(self, file_id: str) -> StoredFile:
        stored = self._files.get(file_id)
        if stored is None:
            raise errors.not_found(f"Not found the file {file_id} or Permission denied")
        return stored

    def list(self) -> list[StoredFile]:
        listed = sorted(self._files.values(), key=lambda f: (f.created_at, f.id), reverse=True)
        return listed[1:] if self._config.has_fault("file-list-lags") else listed

    def delete(self, file_id: str) -> dict[str, Any]:
        stored = self.get(file_id)
        if not self._config.has_fault("deleted-file-still-served"):
            del self._files[file_id]
            self._path(file_id).unlink(missing_ok=True)
        return {"id": stored.id, "object": "file", "deleted": True}

    def raw(self, file_id: str) -> bytes:
        self.get(file_id)
        return self._path(file_id).read_bytes()

    def content(self, file_id: str) -> str:
        """What `GET /v1/files/{id}/content` returns: raw JSONL for batch files, else the extraction document
        observed live (a JSON string in a text/plain body, facts §4)."""
        stored = self.get(file_id)
        data = self.raw(file_id)
        if stored.purpose == "batch":
            return data.decode("utf-8", errors="replace")
        text = data.decode("utf-8", errors="replace") if stored.purpose == "file-extract" else ""
        if self._config.has_fault("file-content-empty"):
            text = ""
        file_type = mimetypes.guess_type(stored.filename)[0] or "application/octet-stream"
        document = {"content": text, "file_type": file_type, "filename": stored.filename, "title": "", "type": "file"}
        return json.dumps(document, ensure_ascii=False)
