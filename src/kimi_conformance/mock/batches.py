"""Batches (facts §5): create from a `batch` JSONL file, list, retrieve, cancel; each batch really moves through
its statuses on a background task and writes output and error files the files API serves."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from kimi_conformance import strict_json
from kimi_conformance.mock import errors
from kimi_conformance.mock.errors import ApiError, invalid_request
from kimi_conformance.mock.files import FileStore
from kimi_conformance.rules import load_rules

CANCELLABLE = frozenset({"validating", "in_progress", "finalizing"})
_WINDOW = re.compile(r"^([1-9][0-9]*)([hd])$")
MIN_WINDOW_HOURS, MAX_WINDOW_HOURS = 12, 7 * 24
LineRunner = Callable[[dict[str, Any]], Awaitable[tuple[int, dict[str, Any]]]]
"""Runs one chat request body; gives the HTTP status and the response body."""


def window_seconds(window: str) -> int:
    """Seconds in a completion window such as `24h` or `3d`, within the documented 12h..7d (facts §5)."""
    match = _WINDOW.match(window)
    if match is None:
        raise invalid_request(f"Invalid request: completion_window {window!r} must look like 24h or 3d")
    hours = int(match.group(1)) * (24 if match.group(2) == "d" else 1)
    if not MIN_WINDOW_HOURS <= hours <= MAX_WINDOW_HOURS:
        raise invalid_request("Invalid request: completion_window must be between 12h and 7d")
    return hours * 3600


@dataclass(slots=True)
class Batch:
    """A BatchObject (facts §5) and its private progress."""

    id: str
    input_file_id: str
    completion_window: str
    created_at: int
    expires_at: int
    metadata: dict[str, str] | None
    endpoint: str = "/v1/chat/completions"
    status: str = "validating"
    output_file_id: str | None = None
    error_file_id: str | None = None
    in_progress_at: int | None = None
    finalizing_at: int | None = None
    completed_at: int | None = None
    failed_at: int | None = None
    cancelling_at: int | None = None
    cancelled_at: int | None = None
    request_counts: dict[str, int] = field(default_factory=lambda: {"completed": 0, "failed": 0, "total": 0})
    errors: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        body = {name: getattr(self, name) for name in self.__slots__ if not name.startswith("_")}
        body["object"] = "batch"
        if body["errors"] is None:
            del body["errors"]
        return body


def _validate_lines(data: bytes) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The input lines, and the file-level problems that fail the whole batch (facts §5)."""
    problems: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    seen: set[str] = set()
    models: set[str] = set()
    text = data.decode("utf-8", errors="replace")
    for number, raw in enumerate(text.split("\n"), start=1):  # JSON Lines end at LF (a U+2028 does not end one)
        if not raw.strip():
            continue
        try:
            line = strict_json.loads(raw.removesuffix("\r"))
        except ValueError:
            problems.append({"code": "invalid_json_line", "message": "line is not valid JSON", "line": number})
            continue
        missing = [
            key for key in ("custom_id", "method", "url", "body") if not isinstance(line, dict) or key not in line
        ]
        if missing:
            problems.append({"code": "missing_field", "message": f"missing {', '.join(missing)}", "line": number})
            continue
        if line["custom_id"] in seen:
            problems.append({"code": "duplicate_custom_id", "message": "custom_id must be unique", "line": number})
        seen.add(line["custom_id"])
        if line["method"] != "POST" or line["url"] != "/v1/chat/completions":
            problems.append({"code": "invalid_endpoint", "message": "only POST /v1/chat/completions", "line": number})
        model = line["body"].get("model") if isinstance(line["body"], dict) else None
        info = load_rules().model(model) if isinstance(model, str) else None
        if info is None or not info.batch:
            problems.append(
                {"code": "model_not_supported", "message": f"model {model} cannot be batched", "line": number}
            )
        models.add(str(model))
        lines.append(line)
    if not lines and not problems:
        problems.append({"code": "empty_file", "message": "the input file has no requests", "line": None})
    if len(models) > 1:
        problems.append({"code": "mixed_models", "message": "all lines must use the same model", "line": None})
    return lines, problems


class BatchStore:
    """The batches of one mock instance and the tasks that drive them."""

    def __init__(
        self, files: FileStore, run_line: LineRunner, step_seconds: float, faults: frozenset[str] = frozenset()
    ) -> None:
        self._faults = faults
        """Named deviations of the mock that live here (see faults.py)."""
        self._files = files
        self._run_line = run_line
        self._step = step_seconds
        self._batches: dict[str, Batch] = {}
        self._order: list[str] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def create(self, body: dict[str, Any]) -> Batch:
        input_file_id = body["input_file_id"]
        purpose = self._files.purpose_of(input_file_id)
        if purpose is None:
            raise errors.not_found(f"Not found the file {input_file_id} or Permission denied")
        if purpose != "batch":
            raise invalid_request(f"Invalid request: file {input_file_id} was not uploaded with purpose batch")
        seconds = window_seconds(body["completion_window"])
        now = int(time.time())
        batch = Batch(
            id="batch_" + secrets.token_hex(12),
            input_file_id=input_file_id,
            completion_window=str(seconds) if "batch-window-rewritten" in self._faults else body["completion_window"],
            created_at=now,
            expires_at=now + seconds,
            metadata=body.get("metadata"),
        )
        self._batches[batch.id] = batch
        self._order.append(batch.id)
        task = asyncio.get_running_loop().create_task(self._drive(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return batch

    def get(self, batch_id: str) -> Batch:
        batch = self._batches.get(batch_id)
        if batch is None:
            raise errors.not_found(f"Not found the batch {batch_id} or Permission denied")
        return batch

    def page(self, after: str | None, limit: int) -> tuple[list[Batch], bool]:
        """Newest first; `after` is the id of the last batch of the previous page (unknown: empty page)."""
        ordered = [self._batches[i] for i in reversed(self._order)]
        if after is not None:
            ids = [b.id for b in ordered]
            ordered = ordered[ids.index(after) + 1 :] if after in ids else []
        if "batch-list-ignores-limit" in self._faults:
            return ordered, False
        return ordered[:limit], len(ordered) > limit

    def cancel(self, batch_id: str) -> Batch:
        batch = self.get(batch_id)
        if batch.status not in CANCELLABLE and "batch-cancel-anytime" not in self._faults:
            raise invalid_request(f"Invalid request: batch {batch_id} is {batch.status} and cannot be cancelled")
        batch.status = "cancelling"
        batch.cancelling_at = int(time.time())
        return batch

    async def _pause(self, batch: Batch) -> bool:
        """Wait one step; False when the batch was cancelled meanwhile."""
        await asyncio.sleep(self._step)
        return batch.status != "cancelling"

    async def _drive(self, batch: Batch) -> None:
        try:
            await self._run(batch)
        except Exception as exc:  # the mock must never lose a batch silently
            batch.status, batch.failed_at = "failed", int(time.time())
            batch.errors = {"object": "list", "data": [{"code": "internal", "message": str(exc), "line": None}]}

    async def _run(self, batch: Batch) -> None:
        if not await self._pause(batch):
            return self._finish_cancel(batch, [], [])
        lines, problems = _validate_lines(self._files.raw(batch.input_file_id))
        if not self._files.get(batch.input_file_id).filename.endswith(".jsonl"):
            problem = {"code": "invalid_file_type", "message": "the input file must be a .jsonl file", "line": None}
            problems.append(problem)
        if problems:
            batch.status, batch.failed_at = "failed", int(time.time())
            batch.errors = {"object": "list", "data": problems}
            return None
        batch.status, batch.in_progress_at = "in_progress", int(time.time())
        batch.request_counts["total"] = len(lines)
        outputs: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        for line in lines:
            if not await self._pause(batch):
                return self._finish_cancel(batch, outputs, failures)
            status, body = await self._run_line(dict(line["body"]))
            record = {
                "id": "batch_req_" + secrets.token_hex(8),
                "custom_id": line["custom_id"],
                "response": {"status_code": status, "request_id": secrets.token_hex(16), "body": body},
                "error": None,
            }
            (outputs if status == 200 else failures).append(record)
            batch.request_counts["completed" if status == 200 else "failed"] += 1
        batch.status, batch.finalizing_at = "finalizing", int(time.time())
        if not await self._pause(batch):
            return self._finish_cancel(batch, outputs, failures)
        self._write_results(batch, outputs, failures)
        batch.status, batch.completed_at = "completed", int(time.time())
        return None

    def _write_results(self, batch: Batch, outputs: list[dict[str, Any]], failures: list[dict[str, Any]]) -> None:
        def jsonl(records: list[dict[str, Any]]) -> bytes:
            return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()

        if "batch-output-drops-last-line" in self._faults:
            outputs = outputs[:-1]
        if outputs:
            batch.output_file_id = self._files.add(f"{batch.id}_output.jsonl", "batch", jsonl(outputs)).id
        if failures:
            batch.error_file_id = self._files.add(f"{batch.id}_error.jsonl", "batch", jsonl(failures)).id

    def _finish_cancel(self, batch: Batch, outputs: list[dict[str, Any]], failures: list[dict[str, Any]]) -> None:
        with contextlib.suppress(ApiError):  # file limits reached: the cancelled batch has no result files
            self._write_results(batch, outputs, failures)
        batch.status, batch.cancelled_at = "cancelled", int(time.time())

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
