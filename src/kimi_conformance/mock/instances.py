"""Deterministic JSON values that validate against an MFJS (Moonshot-flavoured JSON Schema) schema.

Used for tool-call arguments and `json_schema` response content. Covers the MFJS keywords (type, properties,
required, additionalProperties, items, enum, anyOf, $ref/$defs, length/range/size bounds); anything unknown
falls back to a small valid value. Bounded depth keeps recursive schemas finite.
"""

from __future__ import annotations

import math
import random
from typing import Any

_WORDS = ("alpha", "beta", "gamma", "delta", "kimi", "moon", "shot", "value", "sample", "token")
_MAX_DEPTH = 6
_HARD_DEPTH = 24


def _resolve(schema: Any, root: dict[str, Any]) -> Any:
    seen = 0
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and seen < 16:
        ref: str = schema["$ref"]
        if ref == "#":
            schema = root
        elif ref.startswith("#/$defs/"):
            schema = root.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {})
        else:
            return {}
        seen += 1
    return schema


MAX_ITEMS = 256
MAX_NESTED_ITEMS = 16
"""Items generated per array at most, near the root and deeper down (arrays nest: this keeps any answer small)."""
MAX_GENERATED = 4096
"""Counts beyond this (a minItems or minLength of 10**9) are not generated: the answer would be cut by the
output cap long before, ending with finish_reason `length` (where JSON validity is not promised)."""


def _count(value: Any, default: int) -> int:
    """A schema's count keyword (minItems, maxLength, ...): JSON Schema takes 108.0 as the integer 108."""
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        return min(int(value), MAX_GENERATED)
    return default


def _string(schema: dict[str, Any], rng: random.Random) -> str:
    low = _count(schema.get("minLength"), 0)
    high = _count(schema.get("maxLength"), max(low, 12))
    low, high = (low, high) if high >= low else (0, 12)
    text = rng.choice(_WORDS)
    while len(text) < low:
        text += rng.choice(_WORDS)
    return text[: max(high, 0)] if len(text) > high else text


def _number(schema: dict[str, Any], rng: random.Random, integer: bool) -> int | float:
    low, high = _bound(schema.get("minimum")), _bound(schema.get("maximum"))
    if low is None:
        low = 0 if high is None or high >= 0 else high - 100  # only a negative maximum: below it, not 0
    if high is None or high < low:
        high = low + 100 if high is None else low
    if integer:
        lo, hi = math.ceil(low), math.floor(high)
        return rng.randint(lo, hi) if lo <= hi else lo
    return min(max(round(rng.uniform(low, high), 3), low), high) if high > low else low  # rounded, still in range


def _bound(value: Any) -> int | float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def generate(schema: Any, rng: random.Random, root: dict[str, Any] | None = None, depth: int = 0) -> Any:
    """A value for `schema`, drawn from `rng`."""
    root = root if root is not None else (schema if isinstance(schema, dict) else {})
    if depth > _HARD_DEPTH:
        return None  # a schema that requires infinite nesting has no instance; stop rather than recurse forever
    schema = _resolve(schema, root)
    if not isinstance(schema, dict) or not schema:
        return {} if depth == 0 else "any"
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return rng.choice(enum)
    any_of = schema.get("anyOf")
    if isinstance(any_of, list) and any_of:
        return generate(any_of[0] if depth >= _MAX_DEPTH else rng.choice(any_of), rng, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"] or ["null"]
        kind = rng.choice(kinds) if depth < _MAX_DEPTH else ("null" if "null" in kind else kinds[0])
    if kind == "object" or (kind is None and "properties" in schema):
        return _object(schema, rng, root, depth)
    if kind == "array":
        items = schema.get("items", {})
        low = min(_count(schema.get("minItems"), 0), MAX_ITEMS if depth < 2 else MAX_NESTED_ITEMS)
        high = _count(schema.get("maxItems"), low + 2)
        high = high if high >= low else low
        size = low if depth >= _MAX_DEPTH else rng.randint(low, min(high, low + 2))
        return [generate(items, rng, root, depth + 1) for _ in range(size)]
    if kind == "string":
        return _string(schema, rng)
    if kind in ("integer", "number"):
        return _number(schema, rng, integer=kind == "integer")
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    return "any"


def _object(schema: dict[str, Any], rng: random.Random, root: dict[str, Any], depth: int) -> dict[str, Any]:
    properties = schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    required = schema.get("required")
    required = [name for name in required if isinstance(name, str)] if isinstance(required, list) else []
    value: dict[str, Any] = {}
    for name, subschema in properties.items():
        if name in required or (depth < 2 and rng.random() < 0.7):
            value[name] = generate(subschema, rng, root, depth + 1)
    for name in required:
        value.setdefault(name, rng.choice(_WORDS))
    return value
