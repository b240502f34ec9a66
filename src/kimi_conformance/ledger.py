"""What a run created on the target's account, and what it removed (facts §4, §5).

A run uploads files and creates batches (its scenarios, and generated cases alike), and a live account has
limits (1,000 files per user; batches run and bill until they end). The client of a run shows the ledger every
exchange it reads; the ledger learns from the answers themselves which files and batches now exist because of
the run: an upload's file, a batch, and the output and error files a batch produces. `runner/cleanup.py` then
deletes those files and cancels those batches. The Kimi API has no way to delete a batch: a batch is left as
found once it has ended (completed, failed, expired or cancelled).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from kimi_conformance.exchange import Exchange

ENDED = frozenset({"completed", "failed", "expired", "cancelled"})
"""Batch statuses that no longer run (facts §5): nothing to cancel."""
CANCELLABLE = frozenset({"validating", "in_progress", "finalizing"})
"""Batch statuses a cancel applies to (facts §5)."""


@dataclass(slots=True)
class AccountLedger:
    """The files and batches a run made exist, keyed by id, as the target's answers described them."""

    base_path: str
    """The path of the target's base URL (`/v1`, or a gateway's `/prefix/v1`): what every operation path follows."""
    files: dict[str, str] = field(default_factory=dict)
    """File id → how it came to exist (`uploaded`, `batch output`, `batch errors`)."""
    removed: set[str] = field(default_factory=set)
    """Ids of those files the target confirmed deleted (or no longer knows)."""
    batches: dict[str, str] = field(default_factory=dict)
    """Batch id → its last status seen."""
    cancelled: set[str] = field(default_factory=set)
    """Ids of those batches a cancel was accepted for."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def for_base_url(cls, base_url: str) -> AccountLedger:
        return cls(urlsplit(base_url).path.rstrip("/"))

    def observe(self, exchange: Exchange) -> None:
        """Learn from one answered exchange what now exists, or no longer does."""
        route = self._route(exchange.url)
        if route is None or exchange.status is None:
            return
        answer = _json_object(exchange)
        with self._lock:
            if route == ["files"] and exchange.method == "POST" and exchange.status == 200:
                if answer.get("object") == "file" and isinstance(answer.get("id"), str):
                    self.files[answer["id"]] = "uploaded"
            elif len(route) == 2 and route[0] == "files" and exchange.method == "DELETE":
                if route[1] in self.files and exchange.status in (200, 404):
                    self.removed.add(route[1])
            elif route[0] == "batches" and exchange.status == 200:
                self._batches_in(exchange.method, route, answer)

    def _batches_in(self, method: str, route: list[str], answer: dict[str, Any]) -> None:
        if route == ["batches"] and method == "GET":
            listed = answer.get("data")
            for batch in listed if isinstance(listed, list) else []:
                if isinstance(batch, dict) and batch.get("id") in self.batches:
                    self._batch(batch)
            return
        if answer.get("object") != "batch" or not isinstance(answer.get("id"), str):
            return
        if route == ["batches"] and method == "POST":
            self.batches[answer["id"]] = str(answer.get("status"))
        if answer["id"] in self.batches:
            self._batch(answer)
            if route[-1] == "cancel":
                self.cancelled.add(answer["id"])

    def _batch(self, batch: dict[str, Any]) -> None:
        self.batches[batch["id"]] = str(batch.get("status"))
        for key, origin in (("output_file_id", "batch output"), ("error_file_id", "batch errors")):
            if isinstance(batch.get(key), str) and batch[key]:
                self.files.setdefault(batch[key], origin)

    def _route(self, url: str) -> list[str] | None:
        path = urlsplit(url).path
        if not path.startswith(self.base_path + "/"):
            return None
        route = path[len(self.base_path) + 1 :].split("/")
        return route if route and route[0] in ("files", "batches") and all(route) else None

    def files_left(self) -> list[str]:
        with self._lock:
            return [file_id for file_id in self.files if file_id not in self.removed]

    def batches_running(self) -> list[str]:
        with self._lock:
            return [batch_id for batch_id, status in self.batches.items() if status not in ENDED]

    def summary(self) -> dict[str, Any]:
        """What the reports say: created, removed, and what is left (ids)."""
        left, running = self.files_left(), self.batches_running()
        return {
            "files": {"created": len(self.files), "removed": len(self.files) - len(left), "left": left},
            "batches": {
                "created": len(self.batches),
                "cancelled": len(self.cancelled),
                "ended": len(self.batches) - len(running),
                "running": running,
            },
        }


def _json_object(exchange: Exchange) -> dict[str, Any]:
    try:
        value = exchange.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def merge_accounts(first: dict[str, Any] | None, second: dict[str, Any] | None) -> dict[str, Any] | None:
    """Two processes' `summary()` as one (counts added, ids listed together; the first reason to stop kept)."""
    if first is None or second is None:
        return first or second
    merged: dict[str, Any] = {}
    for kind in ("files", "batches"):
        merged[kind] = {key: first[kind][key] + second[kind][key] for key in first[kind] if key in second[kind]}
    merged["cleanup_stopped"] = first.get("cleanup_stopped") or second.get("cleanup_stopped")
    return merged


def account_line(account: dict[str, Any]) -> str:
    """`created 5 files and 3 batches; deleted 5 files, cancelled 1 batch; nothing left` style."""
    files, batches = account["files"], account["batches"]
    line = (
        f"created {files['created']} file(s) and {batches['created']} batch(es); deleted {files['removed']} "
        f"file(s), cancelled {batches['cancelled']} batch(es)"
    )
    left = [f"{len(files['left'])} file(s) ({', '.join(files['left'][:5])})"] if files["left"] else []
    if batches["running"]:
        left.append(f"{len(batches['running'])} running batch(es) ({', '.join(batches['running'][:5])})")
    line += f"; left: {' and '.join(left)}" if left else "; nothing left"
    if account.get("cleanup_stopped"):
        line += f" (clean-up stopped: {account['cleanup_stopped']})"
    return line
