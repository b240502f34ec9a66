"""A chat completion request after validation: the facts the generator needs, normalised."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from kimi_conformance.rules import ModelInfo


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One validated `POST /v1/chat/completions` body."""

    body: dict[str, Any]
    model: ModelInfo
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    tool_choice: Any
    n: int
    stream: bool
    include_usage: bool
    stops: tuple[str, ...]
    max_tokens: int | None
    response_format: str
    json_schema: dict[str, Any] | None
    thinking: bool
    partial_prefix: str | None
    prompt_tokens: int

    @property
    def seed_material(self) -> bytes:
        """What the generated text depends on. Stop, limits and streaming are left out, so they only cut
        or reframe the same text."""
        relevant = {key: self.body.get(key) for key in ("model", "messages", "tools", "response_format", "seed")}
        return json.dumps(relevant, sort_keys=True, ensure_ascii=False, default=str).encode()

    def digest(self, extra: str = "") -> str:
        return hashlib.sha256(self.seed_material + extra.encode()).hexdigest()

    @property
    def last_role(self) -> str:
        return str(self.messages[-1].get("role")) if self.messages else ""

    def tool_call_count(self) -> int:
        """Tool calls already made in the conversation (the next call id continues from it)."""
        return sum(len(m.get("tool_calls") or []) for m in self.messages if m.get("role") == "assistant")
