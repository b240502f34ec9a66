"""A chat completion request after validation: the facts the generator needs, normalised."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from kimi_conformance.rules import ModelInfo
from kimi_conformance.rules.request_rules import EFFORTS

KEEP_ALL_FAMILIES = frozenset({"kimi-k2_7-code"})
"""Families whose `thinking.keep` is always "all", whatever the request says (facts §3.1)."""
EFFORT_FAMILIES = frozenset({"kimi-k3"})
"""Families that take the top-level `reasoning_effort` (facts §3.1, §12), beside those with a `thinking.effort`."""
DEFAULT_EFFORT = "max"
"""The effort of a request that names none (facts §3.1, §12)."""
_SEED_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str)
"""How the seed material is written (`json.dumps` with these arguments), built once."""


def reasoning_kept(body: dict[str, Any], model: ModelInfo) -> bool:
    """Whether the `reasoning_content` of the history is fed to the model, and so counted in its prompt tokens
    (facts §3.7): with `thinking.keep: "all"`, not with `null` or none (the server ignores it); always for the
    families that keep all (kimi-k2.7-code, facts §3.1). Families without `keep` count it, as before `keep` existed
    (the facts say nothing of their history) [I]."""
    if model.family.name in KEEP_ALL_FAMILIES or "keep" not in model.family.thinking_fields:
        return True
    thinking = body.get("thinking")
    return isinstance(thinking, dict) and thinking.get("keep") == "all"


def effort_of(body: dict[str, Any], model: ModelInfo) -> str | None:
    """How hard the model reasons: `thinking.effort`, else the top-level `reasoning_effort`, else max (verifiers §2
    [KVV]: "thinking.effort wins"); None for a model without effort levels."""
    fields = model.family.thinking_fields
    if "effort" not in fields and model.family.name not in EFFORT_FAMILIES:
        return None
    thinking = body.get("thinking")
    candidates = [thinking.get("effort") if isinstance(thinking, dict) and "effort" in fields else None]
    candidates.append(body.get("reasoning_effort"))
    return next((value for value in candidates if value in EFFORTS), DEFAULT_EFFORT)


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
    message_tokens: tuple[int, ...]
    """Each message's tokens (in `prompt_tokens`): where a prompt cache can reuse a prefix."""
    seed_material: bytes = field(init=False, repr=False, compare=False)
    """What the generated text depends on. Stop, limits and streaming are left out, so they only cut or reframe
    the same text. Encoded once: the id, every choice and every effort round hash it."""

    def __post_init__(self) -> None:
        relevant = {key: self.body.get(key) for key in ("model", "messages", "tools", "response_format", "seed")}
        material = _SEED_JSON.encode(relevant).encode()
        object.__setattr__(self, "seed_material", material)

    @property
    def reasoning_kept(self) -> bool:
        """Whether the history's reasoning_content is part of the prompt (see `reasoning_kept`)."""
        return reasoning_kept(self.body, self.model)

    @property
    def effort(self) -> str | None:
        """The reasoning effort (see `effort_of`)."""
        return effort_of(self.body, self.model)

    def digest(self, extra: str = "") -> str:
        return hashlib.sha256(self.seed_material + extra.encode()).hexdigest()

    @property
    def last_role(self) -> str:
        return str(self.messages[-1].get("role")) if self.messages else ""

    def tool_call_count(self) -> int:
        """Tool calls already made in the conversation (the next call id continues from it)."""
        return sum(len(m.get("tool_calls") or []) for m in self.messages if m.get("role") == "assistant")
