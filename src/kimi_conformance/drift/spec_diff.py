"""Spec vs spec: every change between two OpenAPI documents, classified by what it does to a client — breaking
(a client written against the old document can fail) or not — with a stable rule id, the JSON pointer of the
change (in the new document, or the old one for removals) and a severity.

Requests and responses are compared in opposite directions: a request that accepts less breaks clients, a
response that may contain more (a new enum value, a wider range) can break them too.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kimi_conformance.drift.documents import resolved

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


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
]
SPEC_RULES: dict[str, SpecRule] = {rule.name: rule for rule in _RULES}


@dataclass(frozen=True, slots=True)
class Change:
    """One change between the documents."""

    rule: SpecRule
    pointer: str
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule.id,
            "name": self.rule.name,
            "breaking": self.rule.breaking,
            "severity": self.rule.severity,
            "pointer": self.pointer,
            "detail": self.detail,
        }


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _change(name: str, pointer: str, detail: str) -> Change:
    return Change(SPEC_RULES[name], pointer, detail)


def _names(value: Any) -> set[str]:
    """The strings of a list (`required`, `type`): a value of another shape names nothing."""
    return {item for item in value if isinstance(item, str)} if isinstance(value, list) else set()


def _mapping(value: Any) -> dict[Any, Any]:
    """`value` if it is a mapping, else an empty one: the diff reads a misshapen member as absent."""
    return value if isinstance(value, dict) else {}


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    found = {kind} if isinstance(kind, str) else _names(kind)
    if found and schema.get("nullable") is True:  # OpenAPI 3.0
        found.add("null")
    return found


def _allows(types: set[str], kind: str) -> bool:
    return kind in types or (kind == "integer" and "number" in types)


_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")


def _bound(schema: dict[str, Any], key: str) -> float | None:
    value = schema.get(key)  # OpenAPI 3.0's boolean exclusiveMinimum is not a bound of its own
    if not isinstance(value, int | float) or isinstance(value, bool) or value != value:  # NaN: no bound
        return None
    if abs(value) > sys.float_info.max:  # an integer too large for a float
        return math.inf if value > 0 else -math.inf
    return float(value)


def _tighter(before: float | None, after: float | None, lower: bool) -> bool:
    """Whether a bound moved so that fewer values pass (a bound added counts as tighter)."""
    if before is None or after is None:
        return after is not None
    return after > before if lower else after < before


def _bounds(old: dict[str, Any], new: dict[str, Any], pointer: str, request: bool) -> Iterator[Change]:
    for key in (*_LOWER, *_UPPER):
        before, after = _bound(old, key), _bound(new, key)
        if before == after:
            continue
        tighter = _tighter(before, after, key in _LOWER)
        side = "request" if request else "response"
        yield _change(
            f"{side}-range-{'tightened' if tighter else 'widened'}", f"{pointer}/{key}", f"{key}: {before} -> {after}"
        )


def _enum(old: dict[str, Any], new: dict[str, Any], pointer: str, request: bool) -> Iterator[Change]:
    before, after = old.get("enum"), new.get("enum")
    if "const" in old and before is None:
        before = [old["const"]]
    if "const" in new and after is None:
        after = [new["const"]]
    if not isinstance(before, list) or not isinstance(after, list):
        return
    for value in [v for v in before if v not in after]:
        yield _change("request-enum-value-removed" if request else "response-enum-value-removed", pointer, repr(value))
    for value in [v for v in after if v not in before]:
        yield _change("request-enum-value-added" if request else "response-enum-value-added", pointer, repr(value))


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
                merged["properties"] = {**value, **_mapping(merged.get("properties"))}
            elif key == "required" and isinstance(value, list):
                merged["required"] = sorted(_names(merged.get("required")) | _names(value))
            else:
                merged.setdefault(key, value)
    return merged


def compare_schemas(old: Any, new: Any, pointer: str, request: bool, depth: int = 0) -> Iterator[Change]:
    """Every classified change between two (resolved) schemas at `pointer` (`allOf` flattened first)."""
    old, new = flatten(old), flatten(new)
    if not isinstance(old, dict) or not isinstance(new, dict) or depth > 40 or old == new:
        return
    before, after = _types(old), _types(new)
    if before and after and before != after:
        lost = [kind for kind in before if not _allows(after, kind)]
        gained = [kind for kind in after if not _allows(before, kind)]
        detail = f"{sorted(before)} -> {sorted(after)}"
        if request and lost:
            yield _change("request-type-narrowed", f"{pointer}/type", detail)
        elif request and gained:
            yield _change("request-type-widened", f"{pointer}/type", detail)
        elif not request and gained:
            yield _change("response-type-changed", f"{pointer}/type", detail)
    yield from _bounds(old, new, pointer, request)
    yield from _enum(old, new, pointer, request)
    yield from _properties(old, new, pointer, request, depth)
    for key in ("items", "additionalProperties", "not", "contentSchema"):
        yield from compare_schemas(old.get(key), new.get(key), f"{pointer}/{key}", request, depth + 1)
    for key in ("oneOf", "anyOf"):
        olds, news = old.get(key), new.get(key)
        if isinstance(olds, list) and isinstance(news, list):
            for index, (a, b) in enumerate(zip(olds, news, strict=False)):
                yield from compare_schemas(a, b, f"{pointer}/{key}/{index}", request, depth + 1)


def _properties(old: dict[str, Any], new: dict[str, Any], pointer: str, request: bool, depth: int) -> Iterator[Change]:
    olds, news = old.get("properties") or {}, new.get("properties") or {}
    if not isinstance(olds, dict) or not isinstance(news, dict):
        return
    required_before, required_after = _names(old.get("required")), _names(new.get("required"))
    for name in olds.keys() - news.keys():
        yield _change("request-property-removed" if request else "response-property-removed",
                      f"{pointer}/properties/{_escape(name)}", name)  # fmt: skip
    for name in news.keys() - olds.keys():
        where = f"{pointer}/properties/{_escape(name)}"
        if not request:
            yield _change("response-property-added", where, name)
        elif name in required_after:
            yield _change("request-required-property-added", where, name)
        else:
            yield _change("request-optional-property-added", where, name)
    for name in olds.keys() & news.keys():
        where = f"{pointer}/properties/{_escape(name)}"
        if request and name in required_after - required_before:
            yield _change("request-property-made-required", where, name)
        if request and name in required_before - required_after:
            yield _change("request-property-made-optional", where, name)
        if not request and name in required_before - required_after:
            yield _change("response-property-made-optional", where, name)
        yield from compare_schemas(olds[name], news[name], where, request, depth + 1)


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(path, method) -> operation, with the path item's own `parameters` added to the operation's."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path, item in _mapping(document.get("paths")).items():
        if not isinstance(item, dict):
            continue
        shared = item.get("parameters")
        shared = shared if isinstance(shared, list) else []
        for method, operation in item.items():
            if method in METHODS and isinstance(operation, dict):
                own = operation.get("parameters")
                found[(path, method)] = {**operation, "parameters": shared + (own if isinstance(own, list) else [])}
    return found


def _parameters_schema(operation: dict[str, Any]) -> dict[str, Any]:
    """Query, path and header parameters as one object schema (so the request rules apply to them)."""
    properties, required = {}, []
    for parameter in operation.get("parameters") or []:
        if isinstance(parameter, dict) and isinstance(parameter.get("name"), str):
            key = f"{parameter.get('in', 'query')}:{parameter['name']}"
            properties[key] = parameter.get("schema") or {}
            if parameter.get("required"):
                required.append(key)
    return {"type": "object", "properties": properties, "required": required}


def _content(old: Any, new: Any, pointer: str, request: bool) -> Iterator[Change]:
    olds, news = _mapping(_mapping(old).get("content")), _mapping(_mapping(new).get("content"))
    for media in olds.keys() - news.keys():
        yield _change("media-type-removed", f"{pointer}/content/{_escape(media)}", media)
    for media in news.keys() - olds.keys():
        yield _change("media-type-added", f"{pointer}/content/{_escape(media)}", media)
    for media in olds.keys() & news.keys():
        where = f"{pointer}/content/{_escape(media)}/schema"
        yield from compare_schemas(_mapping(olds[media]).get("schema"), _mapping(news[media]).get("schema"), where,
                                   request)  # fmt: skip


def compare_documents(
    old_document: dict[str, Any], new_document: dict[str, Any], sources: tuple[str, str] = ("OLD", "NEW")
) -> list[Change]:
    """Every classified change from `old_document` to `new_document`, in document order (`sources` name them in
    a ConfigError: a `$ref` that cannot be resolved, or that expands either past its limits)."""
    old, new = resolved(old_document, sources[0]), resolved(new_document, sources[1])
    before, after = _operations(old), _operations(new)
    changes: list[Change] = []
    for path, method in before.keys() - after.keys():
        changes.append(_change("operation-removed", f"#/paths/{_escape(path)}/{method}", f"{method.upper()} {path}"))
    for path, method in after.keys() - before.keys():
        changes.append(_change("operation-added", f"#/paths/{_escape(path)}/{method}", f"{method.upper()} {path}"))
    for key in sorted(before.keys() & after.keys()):
        a, b = before[key], after[key]
        base = f"#/paths/{_escape(key[0])}/{key[1]}"
        changes += compare_schemas(_parameters_schema(a), _parameters_schema(b), f"{base}/parameters", True)
        changes += _content(a.get("requestBody"), b.get("requestBody"), f"{base}/requestBody", True)
        responses_a, responses_b = _mapping(a.get("responses")), _mapping(b.get("responses"))
        for status in sorted(set(responses_a) - set(responses_b)):
            changes.append(_change("response-status-removed", f"{base}/responses/{status}", str(status)))
        for status in sorted(set(responses_b) - set(responses_a)):
            changes.append(_change("response-status-added", f"{base}/responses/{status}", str(status)))
        for status in sorted(set(responses_a) & set(responses_b)):
            changes += _content(responses_a[status], responses_b[status], f"{base}/responses/{status}", False)
    return sorted(changes, key=lambda c: (c.pointer, c.rule.id))
