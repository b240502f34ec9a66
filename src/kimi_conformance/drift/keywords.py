"""The keywords of a (resolved) schema as the spec diff reads them. A document is untrusted input: a member of
the wrong shape (a `required` that is a number, `properties` that is a list) reads as absent, never as an error,
and `allOf` is merged first, so the same object written as one schema or as a composition reads the same."""

from __future__ import annotations

import math
import sys
from typing import Any

UNIONS = ("oneOf", "anyOf")

LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
BOUNDED_KIND = {
    "minimum": "number", "exclusiveMinimum": "number", "maximum": "number", "exclusiveMaximum": "number",
    "minLength": "string", "maxLength": "string", "minItems": "array", "maxItems": "array",
    "minProperties": "object", "maxProperties": "object",
}  # fmt: skip
"""The type of value each bound constrains (a `maxLength` says nothing about a number)."""


def escape(part: str) -> str:
    """`part` as one segment of a JSON pointer."""
    return part.replace("~", "~0").replace("/", "~1")


def names(value: Any) -> set[str]:
    """The strings of a list (`required`, `type`): a value of another shape names nothing."""
    return {item for item in value if isinstance(item, str)} if isinstance(value, list) else set()


def mapping(value: Any) -> dict[Any, Any]:
    """`value` if it is a mapping, else an empty one: the diff reads a misshapen member as absent."""
    return value if isinstance(value, dict) else {}


def types(schema: dict[str, Any]) -> set[str]:
    """The JSON types `schema` names (`type` a string or a list; OpenAPI 3.0's `nullable` adds "null")."""
    kind = schema.get("type")
    found = {kind} if isinstance(kind, str) else names(kind)
    if found and schema.get("nullable") is True:
        found.add("null")
    return found


def allows(kinds: set[str], kind: str) -> bool:
    """Whether a value of JSON type `kind` can be one of `kinds` (an integer is a number)."""
    return kind in kinds or (kind == "integer" and "number" in kinds)


def bound(schema: dict[str, Any], key: str) -> float | None:
    """The bound `key` of `schema` as a float, or None (OpenAPI 3.0's boolean `exclusiveMinimum` is no bound of
    its own; NaN is none; an integer too large for a float is infinite)."""
    value = schema.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
        return None
    if abs(value) > sys.float_info.max:
        return math.inf if value > 0 else -math.inf
    return float(value)


def enum_values(schema: dict[str, Any]) -> list[Any] | None:
    """The values `schema` is limited to (`enum`, or `const` as a one-value enum), or None if it names none."""
    values = schema.get("enum")
    if isinstance(values, list):
        return values
    return [schema["const"]] if "const" in schema else None


def unions(schema: dict[str, Any]) -> list[str]:
    """Which of `oneOf` / `anyOf` `schema` has as a list."""
    return [key for key in UNIONS if isinstance(schema.get(key), list)]


def flatten(schema: Any) -> Any:
    """`allOf` merged into one schema (properties and required united, other keywords first come first kept), so
    the same object written as one schema or as a composition compares equal."""
    if not isinstance(schema, dict) or not isinstance(schema.get("allOf"), list):
        return schema
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for part in (flatten(p) for p in schema["allOf"]):
        if not isinstance(part, dict):
            continue
        for key, value in part.items():
            if key == "properties" and isinstance(value, dict):
                merged["properties"] = {**value, **mapping(merged.get("properties"))}
            elif key == "required" and isinstance(value, list):
                merged["required"] = sorted(names(merged.get("required")) | names(value))
            else:
                merged.setdefault(key, value)
    return merged
