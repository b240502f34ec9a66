"""A union read as one schema: its envelope, what some branch of it admits.

When one document writes a value as a `oneOf`/`anyOf` and the other as a single schema (the published spec has
one chat message object with a `role` enum, our contract a branch per role; the published `response_format`
is one object, ours a branch per `type`), there are no branches on the other side to match. The question a
client asks of either is "may I send this field, this value, this type?", and a union answers yes when any of
its branches does. So the union is compared as its envelope: every branch's properties (a property several
branches define is the envelope of their schemas), the types and the enum values united, a property required
only where every object branch requires it, and each bound the loosest of the branches it constrains. A field
present in both documents is then never reported removed because only some branches carry it.
"""

from __future__ import annotations

from typing import Any

from kimi_conformance.drift.keywords import (
    BOUNDED_KIND,
    LOWER,
    UNIONS,
    UPPER,
    bound,
    enum_values,
    flatten,
    mapping,
    names,
    types,
    unions,
)

MAX_NESTING = 40
"""Unions inside unions spliced, and envelopes of envelopes built, this many levels deep (as the diff)."""


def branches_of(schema: dict[str, Any], depth: int = 0) -> list[dict[str, Any]]:
    """The branches of `schema`'s unions, each merged with `schema`'s own keywords (a value must satisfy both,
    as with `allOf`), and a branch that is itself a union replaced by its branches."""
    base = {k: v for k, v in schema.items() if k not in UNIONS and k != "discriminator"}
    found: list[dict[str, Any]] = []
    for key in unions(schema):
        for item in schema[key]:
            if not isinstance(item, dict):
                continue
            merged = flatten({"allOf": [base, item]}) if base else flatten(item)
            if unions(merged) and depth < MAX_NESTING:
                found += branches_of(merged, depth + 1)
            else:
                found.append(merged)
    return found


def envelope(schema: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """`schema` with its unions replaced by their envelope (itself if it has none)."""
    parts = branches_of(schema, depth) if unions(schema) else []
    if not parts:
        return {k: v for k, v in schema.items() if k not in UNIONS}
    return _merge(parts, depth)


def _combined(schemas: list[Any], depth: int) -> Any:
    """One schema for what several branches say of the same property (or of their items)."""
    first = schemas[0]
    if all(schema == first for schema in schemas) or depth >= MAX_NESTING:
        return first
    parts: list[dict[str, Any]] = []
    for schema in (flatten(s) for s in schemas):
        if not isinstance(schema, dict):
            return {}  # a misshapen branch admits anything as far as the diff can tell
        parts += branches_of(schema, depth + 1) if unions(schema) else [schema]
    if not parts:
        return first
    groups = _by_value(parts)
    if len(groups) > 1:
        return {"anyOf": [_merge(group, depth + 1) if len(group) > 1 else group[0] for group in groups]}
    return _merge(parts, depth + 1)


def _by_value(parts: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """`parts` grouped by the values of a discriminating property (the chat content parts of several message
    roles by their `type`): each kind stays a branch of its own, so the other document's union of kinds is
    matched kind by kind; parts with no such property are one group."""
    shared = set(mapping(parts[0].get("properties")))
    for part in parts[1:]:
        shared &= set(mapping(part.get("properties")))
    for name in sorted(shared, key=lambda n: (n != "model", n != "type", n)):
        owner: dict[str, int] = {}
        groups: list[list[dict[str, Any]]] = []
        keys: dict[frozenset[str], int] = {}
        for part in parts:
            held = flatten(mapping(part.get("properties")).get(name))
            values = frozenset(v for v in enum_values(mapping(held)) or [] if isinstance(v, str))
            if not values or any(owner.get(v, keys.get(values)) != keys.get(values) for v in values):
                break
            if values not in keys:
                keys[values] = len(groups)
                groups.append([])
                owner.update(dict.fromkeys(values, keys[values]))
            groups[keys[values]].append(part)
        else:
            return groups
    return [parts]


def _object_like(part: dict[str, Any]) -> bool:
    kinds = types(part)
    return not kinds or "object" in kinds or "properties" in part


def _constrains(kind: str, part_kinds: set[str]) -> bool:
    """Whether a bound on values of JSON type `kind` constrains a branch of types `part_kinds`."""
    return kind in part_kinds or (kind == "number" and "integer" in part_kinds)


def _merge(parts: list[dict[str, Any]], depth: int) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    kinds = [types(part) for part in parts]
    if all(kinds):
        merged["type"] = sorted(set().union(*kinds))
    values = [enum_values(part) for part in parts]
    if all(v is not None for v in values):
        merged["enum"] = _united([value for part_values in values for value in part_values or []])
    properties: dict[str, list[Any]] = {}
    for part in parts:
        for name, schema in mapping(part.get("properties")).items():
            properties.setdefault(name, []).append(schema)
    if properties:
        merged["properties"] = {name: _combined(schemas, depth) for name, schemas in properties.items()}
    objects = [part for part in parts if _object_like(part)]
    if objects:
        merged["required"] = sorted(set.intersection(*(names(part.get("required")) for part in objects)))
        extra = [part.get("additionalProperties", True) for part in objects]
        if all(value is False for value in extra):
            merged["additionalProperties"] = False
        elif all(isinstance(value, dict) for value in extra):
            merged["additionalProperties"] = _combined(extra, depth)
    items = [part["items"] for part in parts if isinstance(part.get("items"), dict)]
    if items:
        merged["items"] = _combined(items, depth)
    for key in (*LOWER, *UPPER):
        relevant = [part for part, part_kinds in zip(parts, kinds, strict=True)
                    if not part_kinds or _constrains(BOUNDED_KIND[key], part_kinds)]  # fmt: skip
        bounds = [bound(part, key) for part in relevant]
        if relevant and all(b is not None for b in bounds):
            loosest = min if key in LOWER else max
            merged[key] = loosest(b for b in bounds if b is not None)
    return merged


def _united(values: list[Any]) -> list[Any]:
    """`values` without repeats, in order (values of any kind: a document's enum may hold objects)."""
    united: list[Any] = []
    seen: set[tuple[str, Any]] = set()
    for value in values:
        key = (type(value).__name__, value) if isinstance(value, str | int | float | bool | None) else None
        if key is not None and key in seen:
            continue
        if key is None and value in united:
            continue
        if key is not None:
            seen.add(key)
        united.append(value)
    return united
