"""Request features the facts contradict each other on (facts §11, §12): a target may serve them or refuse them
and be right either way, so whatever a check finds on a request using one is a warning naming both sides, never
an error. Used where a finding is about whether a request should have been served: generated requests (SCHM002,
SCHM003) and rule probes (RULE001-003, on top of each rule's own strength)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kimi_conformance.rules.table import ModelInfo

EFFORTS = ("low", "high", "max")


@dataclass(frozen=True, slots=True)
class ContestedUse:
    """One contested feature: its name, both sides with their sources, and which requests use it."""

    id: str
    sides: str
    uses: Callable[[ModelInfo, dict[str, Any]], bool]


def _k3(model: ModelInfo) -> bool:
    return model.family.name == "kimi-k3"


def _forces_a_call(model: ModelInfo, body: dict[str, Any]) -> bool:
    """`required` with tools, where the sides disagree: on kimi-k3 (which always reasons, and which KVV's tests
    force), and on K2 models not thinking. Without tools, or on a thinking K2 model, every side refuses it."""
    tools = body.get("tools")
    if body.get("tool_choice") != "required" or not isinstance(tools, list) or not tools:
        return False
    return _k3(model) or not model.thinks(body.get("thinking"))


CONTESTED: tuple[ContestedUse, ...] = (
    ContestedUse(
        "tool-choice-required",
        "the January 2026 migrating guide: `required` is not supported (facts §3.6 [D]); KVV's K3-era tests and "
        "2026 reports: `required` forces a call (facts §3.6 [KVV][O], §11.3)",
        lambda model, body: _forces_a_call(model, body),
    ),
    ContestedUse(
        "named-tool-choice-k3",
        "KVV's kimi-k3 test: a named tool_choice is silently ignored (facts §3.6 [KVV]); a client: 400 "
        "`tool_choice specified is incompatible with thinking enabled` (facts §12 [O])",
        lambda model, body: _k3(model) and isinstance(body.get("tool_choice"), dict),
    ),
    ContestedUse(
        "thinking-object-k3",
        "KVV sends kimi-k3 a thinking object {type, keep, effort} (verifiers §2 [KVV]); the reasoning-effort guide: "
        "the thinking object does not apply to K3 (facts §12 [O])",
        lambda model, body: _k3(model) and "thinking" in body,
    ),
    ContestedUse(
        "unknown-reasoning-effort",
        "unknown reasoning_effort values are silently ignored, verified live by a client (facts §12 [O]); Kimi Code "
        "docs quoted by a gateway: they are refused with 400 (facts §12 [O])",
        lambda model, body: "reasoning_effort" in body and body["reasoning_effort"] not in EFFORTS,
    ),
)


def contested_use(model: ModelInfo | None, body: object) -> ContestedUse | None:
    """The first contested feature a request body uses, if any."""
    if model is None or not isinstance(body, dict):
        return None
    for use in CONTESTED:
        try:
            if use.uses(model, body):
                return use
        except TypeError:  # an unhashable generated value compared with a string: not this feature
            continue
    return None
