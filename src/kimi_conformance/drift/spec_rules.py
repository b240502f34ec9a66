"""The kinds of change `drift spec` reports (stable ids: new rules are appended, never renumbered) and the
change itself, as every renderer reads it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class SpecRule:
    """A kind of change: stable id, name, whether it breaks clients, and its severity."""

    id: str
    name: str
    breaking: bool
    severity: str
    title: str


_RULES = [
    SpecRule("SPEC001", "operation-removed", True, "error", "An operation was removed"),
    SpecRule("SPEC002", "operation-added", False, "info", "An operation was added"),
    SpecRule("SPEC003", "response-status-removed", True, "error", "A documented response status was removed"),
    SpecRule("SPEC004", "response-status-added", False, "info", "A response status was added"),
    SpecRule("SPEC005", "request-property-removed", True, "warning", "A request field was removed"),
    SpecRule("SPEC006", "request-optional-property-added", False, "info", "An optional request field was added"),
    SpecRule("SPEC007", "request-required-property-added", True, "error", "A required request field was added"),
    SpecRule("SPEC008", "request-property-made-required", True, "error", "A request field was made required"),
    SpecRule("SPEC009", "request-property-made-optional", False, "info", "A request field was made optional"),
    SpecRule("SPEC010", "request-enum-value-removed", True, "error", "A request enum value was removed"),
    SpecRule("SPEC011", "request-enum-value-added", False, "info", "A request enum value was added"),
    SpecRule("SPEC012", "request-type-narrowed", True, "error", "A request field's type was narrowed or changed"),
    SpecRule("SPEC013", "request-type-widened", False, "info", "A request field's type was widened"),
    SpecRule("SPEC014", "request-range-tightened", True, "error", "A request range or length was tightened"),
    SpecRule("SPEC015", "request-range-widened", False, "info", "A request range or length was widened"),
    SpecRule("SPEC016", "response-property-removed", True, "error", "A response field was removed"),
    SpecRule("SPEC017", "response-property-added", False, "info", "A response field was added"),
    SpecRule("SPEC018", "response-property-made-optional", True, "error", "A response field is no longer required"),
    SpecRule("SPEC019", "response-enum-value-added", True, "warning", "A response enum value was added"),
    SpecRule("SPEC020", "response-enum-value-removed", False, "info", "A response enum value was removed"),
    SpecRule("SPEC021", "response-type-changed", True, "error", "A response field's type changed"),
    SpecRule("SPEC022", "response-range-widened", True, "warning", "A response range or length was widened"),
    SpecRule("SPEC023", "response-range-tightened", False, "info", "A response range or length was tightened"),
    SpecRule("SPEC024", "media-type-removed", True, "error", "A request or response media type was removed"),
    SpecRule("SPEC025", "media-type-added", False, "info", "A request or response media type was added"),
    SpecRule("SPEC026", "model-id-added", False, "info", "A model id was added"),
    SpecRule("SPEC027", "model-id-removed", True, "error", "A model id was removed"),
    SpecRule("SPEC028", "request-variant-added", False, "info", "A request oneOf/anyOf branch was added"),
    SpecRule("SPEC029", "request-variant-removed", True, "error", "A request oneOf/anyOf branch was removed"),
    SpecRule("SPEC030", "response-variant-added", True, "warning", "A response oneOf/anyOf branch was added"),
    SpecRule("SPEC031", "response-variant-removed", False, "info", "A response oneOf/anyOf branch was removed"),
]
SPEC_RULES: dict[str, SpecRule] = {rule.name: rule for rule in _RULES}

MODEL_ID_RULES = ("model-id-added", "model-id-removed")


@dataclass(frozen=True, slots=True)
class Change:
    """One change between the documents. `pointer` is a JSON pointer into the new document (the old one for a
    removal), except that a segment inside a `oneOf`/`anyOf` branch names the branch, `oneOf[kimi-k2.6]`, not
    its position. `model_ids` are the model ids the change adds or removes (a model-id rule's one, a family's)."""

    rule: SpecRule
    pointer: str
    detail: str
    model_ids: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule.id,
            "name": self.rule.name,
            "breaking": self.rule.breaking,
            "severity": self.rule.severity,
            "pointer": self.pointer,
            "detail": self.detail,
            "model_ids": list(self.model_ids),
        }


def change(name: str, pointer: str, detail: str, model_ids: tuple[str, ...] = ()) -> Change:
    """A change of the rule named `name`."""
    return Change(SPEC_RULES[name], pointer, detail, model_ids)
