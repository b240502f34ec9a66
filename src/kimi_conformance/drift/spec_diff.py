"""Spec vs spec: every change between two OpenAPI documents, classified by what it does to a client — breaking
(a client written against the old document can fail) or not — with a stable rule id (`spec_rules`), the JSON
pointer of the change (in the new document, or the old one for removals) and a severity.

Requests and responses are compared in opposite directions: a request that accepts less breaks clients, a
response that may contain more (a new enum value, a wider range) can break them too. The branches of two
unions are matched by identity (`branches`), never by position, and changes inside a branch are reported under
its name; a union compared with a single schema that is none of its branches is read as its envelope
(`envelope`). Model ids (the values of
a `model` property, and of the models list's `id`) are changes of their own, each reported once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kimi_conformance.drift import branches
from kimi_conformance.drift.documents import resolved
from kimi_conformance.drift.envelope import envelope
from kimi_conformance.drift.keywords import (
    LOWER,
    UPPER,
    allows,
    bound,
    enum_values,
    escape,
    flatten,
    mapping,
    names,
    types,
    unions,
)
from kimi_conformance.drift.spec_rules import MODEL_ID_RULES, SPEC_RULES, Change, SpecRule, change

__all__ = ["SPEC_RULES", "Change", "SpecRule", "compare_documents", "compare_schemas"]

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
MAX_DEPTH = 40
"""Schema levels compared (real documents nest far fewer; the limit keeps the walk inside Python's stack)."""


def _tighter(before: float | None, after: float | None, lower: bool) -> bool:
    """Whether a bound moved so that fewer values pass (a bound added counts as tighter)."""
    if before is None or after is None:
        return after is not None
    return after > before if lower else after < before


def _bounds(old: dict[str, Any], new: dict[str, Any], pointer: str, request: bool) -> Iterator[Change]:
    for key in (*LOWER, *UPPER):
        before, after = bound(old, key), bound(new, key)
        if before == after:
            continue
        tighter = _tighter(before, after, key in LOWER)
        side = "request" if request else "response"
        yield change(
            f"{side}-range-{'tightened' if tighter else 'widened'}", f"{pointer}/{key}", f"{key}: {before} -> {after}"
        )


def lists_model_ids(pointer: str) -> bool:
    """Whether the schema at `pointer` holds model ids: a `model` property, or the `id` of the models list."""
    parts = pointer.split("/")
    if parts[-2:] == ["properties", "model"]:
        return True
    path = parts[2].replace("~1", "/").replace("~0", "~") if len(parts) > 2 and parts[1] == "paths" else ""
    return parts[-2:] == ["properties", "id"] and path.rstrip("/").endswith("/models") and "responses" in parts


def _value_changes(gone: list[Any], fresh: list[Any], pointer: str, request: bool) -> Iterator[Change]:
    """Values a request or response no longer / newly takes: model ids by their own rules, others as enums."""
    ids = lists_model_ids(pointer)
    side = "request" if request else "response"
    for value in gone:
        if ids and isinstance(value, str):
            yield change("model-id-removed", pointer, value, (value,))
        else:
            yield change(f"{side}-enum-value-removed", pointer, repr(value))
    for value in fresh:
        if ids and isinstance(value, str):
            yield change("model-id-added", pointer, value, (value,))
        else:
            yield change(f"{side}-enum-value-added", pointer, repr(value))


def _enum(old: dict[str, Any], new: dict[str, Any], pointer: str, request: bool) -> Iterator[Change]:
    before, after = enum_values(old), enum_values(new)
    if before is not None and after is not None:
        gone, fresh = [v for v in before if v not in after], [v for v in after if v not in before]
        yield from _value_changes(gone, fresh, pointer, request)


def compare_schemas(old: Any, new: Any, pointer: str, request: bool, depth: int = 0) -> Iterator[Change]:
    """Every classified change between two (resolved) schemas at `pointer` (`allOf` flattened first; a single
    schema facing a union is one branch of it if its discriminating values lie in one, else the union is read
    as its envelope)."""
    old, new = flatten(old), flatten(new)
    if not isinstance(old, dict) or not isinstance(new, dict) or depth > MAX_DEPTH or old == new:
        return
    keys: tuple[str | None, str | None] = (next(iter(unions(old)), None), next(iter(unions(new)), None))
    if keys[0] is None and keys[1] is not None and branches.one_branch_of(new, old):
        old = {keys[1]: [old]}
    elif keys[1] is None and keys[0] is not None and branches.one_branch_of(old, new):
        new = {keys[0]: [new]}
    elif None in keys:
        old, new = envelope(old), envelope(new)
    before, after = types(old), types(new)
    if before and after and before != after:
        lost = [kind for kind in before if not allows(after, kind)]
        gained = [kind for kind in after if not allows(before, kind)]
        detail = f"{sorted(before)} -> {sorted(after)}"
        if request and lost:
            yield change("request-type-narrowed", f"{pointer}/type", detail)
        elif request and gained:
            yield change("request-type-widened", f"{pointer}/type", detail)
        elif not request and gained:
            yield change("response-type-changed", f"{pointer}/type", detail)
    yield from _bounds(old, new, pointer, request)
    yield from _enum(old, new, pointer, request)
    yield from _properties(old, new, pointer, request, depth)
    for key in ("items", "additionalProperties", "not", "contentSchema", "then", "else"):
        yield from compare_schemas(old.get(key), new.get(key), f"{pointer}/{key}", request, depth + 1)
    if unions(old) and unions(new):
        yield from _unions(old, new, pointer, keys, request, depth)


def _unions(old: dict[str, Any], new: dict[str, Any], pointer: str, keys: tuple[str | None, str | None],
            request: bool, depth: int) -> Iterator[Change]:  # fmt: skip
    """The branches of two unions matched by identity: `oneOf` with `oneOf`, else whichever each has. A key
    that is None is a single schema facing the other's union as one of its branches (its pointer has none)."""
    common = [key for key in unions(old) if key in unions(new)] if None not in keys else []
    for old_key, new_key in [(key, key) for key in common] or [(unions(old)[0], unions(new)[0])]:
        found = branches.match(old, old_key, new, new_key)
        named = (old_key if keys[0] else None, new_key if keys[1] else None)
        yield from _matched(found, pointer, named, request, depth)


def _matched(found: branches.Matching, pointer: str, keys: tuple[str | None, str | None], request: bool,
             depth: int) -> Iterator[Change]:  # fmt: skip
    side, tag = "request" if request else "response", found.tag or ""
    before = {value for branch in found.olds for value in branch.values}
    after = {value for branch in found.news for value in branch.values}
    ids = lists_model_ids(f"/properties/{tag}")

    def at(key: str | None, branch: branches.Branch) -> str:
        return f"{pointer}/{key}[{escape(branch.name)}]" if key else pointer

    for key, kind, lost, known in ((keys[0], "removed", found.removed, after), (keys[1], "added", found.added, before)):
        for branch in lost:
            values = tuple(value for value in branch.values if value not in known)
            kinds = ", ".join(sorted(types(branch.schema))) or "any"
            named = f": {tag} {', '.join(values)}" if values else f" ({kinds})"
            yield change(f"{side}-variant-{kind}", at(key, branch), branch.name + named, values if ids else ())
    gone: dict[int, branches.Branch] = {o.index: o for o, _ in found.pairs}
    fresh: dict[int, branches.Branch] = {n.index: n for _, n in found.pairs}
    for branch in gone.values():
        where = f"{at(keys[0], branch)}/properties/{escape(tag)}"
        yield from _value_changes([v for v in branch.values if v not in after], [], where, request)
    for branch in fresh.values():
        where = f"{at(keys[1], branch)}/properties/{escape(tag)}"
        yield from _value_changes([], [v for v in branch.values if v not in before], where, request)
    for old_branch, new_branch in found.pairs:
        a, b = _without_values(old_branch.schema, tag), _without_values(new_branch.schema, tag)
        yield from compare_schemas(a, b, at(keys[1], new_branch), request, depth + 1)


def _without_values(schema: dict[str, Any], tag: str) -> dict[str, Any]:
    """`schema` without the values of its discriminating property (the union compares those, once)."""
    properties = mapping(schema.get("properties"))
    held = flatten(properties.get(tag))
    if not isinstance(held, dict) or enum_values(held) is None:
        return schema
    rest = {k: v for k, v in held.items() if k not in ("enum", "const")}
    return {**schema, "properties": {**properties, tag: rest}}


def _properties(old: dict[str, Any], new: dict[str, Any], pointer: str, request: bool, depth: int) -> Iterator[Change]:
    olds, news = old.get("properties") or {}, new.get("properties") or {}
    if not isinstance(olds, dict) or not isinstance(news, dict):
        return
    required_before, required_after = names(old.get("required")), names(new.get("required"))
    for name in olds.keys() - news.keys():
        yield change("request-property-removed" if request else "response-property-removed",
                     f"{pointer}/properties/{escape(name)}", name)  # fmt: skip
    for name in news.keys() - olds.keys():
        where = f"{pointer}/properties/{escape(name)}"
        if not request:
            yield change("response-property-added", where, name)
        elif name in required_after:
            yield change("request-required-property-added", where, name)
        else:
            yield change("request-optional-property-added", where, name)
    for name in olds.keys() & news.keys():
        where = f"{pointer}/properties/{escape(name)}"
        if request and name in required_after - required_before:
            yield change("request-property-made-required", where, name)
        if request and name in required_before - required_after:
            yield change("request-property-made-optional", where, name)
        if not request and name in required_before - required_after:
            yield change("response-property-made-optional", where, name)
        yield from compare_schemas(olds[name], news[name], where, request, depth + 1)


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(path, method) -> operation, with the path item's own `parameters` added to the operation's."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path, item in mapping(document.get("paths")).items():
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
    olds, news = mapping(mapping(old).get("content")), mapping(mapping(new).get("content"))
    for media in olds.keys() - news.keys():
        yield change("media-type-removed", f"{pointer}/content/{escape(media)}", media)
    for media in news.keys() - olds.keys():
        yield change("media-type-added", f"{pointer}/content/{escape(media)}", media)
    for media in olds.keys() & news.keys():
        where = f"{pointer}/content/{escape(media)}/schema"
        yield from compare_schemas(mapping(olds[media]).get("schema"), mapping(news[media]).get("schema"), where,
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
        changes.append(change("operation-removed", f"#/paths/{escape(path)}/{method}", f"{method.upper()} {path}"))
    for path, method in after.keys() - before.keys():
        changes.append(change("operation-added", f"#/paths/{escape(path)}/{method}", f"{method.upper()} {path}"))
    for key in sorted(before.keys() & after.keys()):
        a, b = before[key], after[key]
        base = f"#/paths/{escape(key[0])}/{key[1]}"
        changes += compare_schemas(_parameters_schema(a), _parameters_schema(b), f"{base}/parameters", True)
        changes += _content(a.get("requestBody"), b.get("requestBody"), f"{base}/requestBody", True)
        responses_a, responses_b = mapping(a.get("responses")), mapping(b.get("responses"))
        for status in sorted(set(responses_a) - set(responses_b)):
            changes.append(change("response-status-removed", f"{base}/responses/{status}", str(status)))
        for status in sorted(set(responses_b) - set(responses_a)):
            changes.append(change("response-status-added", f"{base}/responses/{status}", str(status)))
        for status in sorted(set(responses_a) & set(responses_b)):
            changes += _content(responses_a[status], responses_b[status], f"{base}/responses/{status}", False)
    return _once_per_id(sorted(dict.fromkeys(changes), key=lambda c: (c.pointer, c.rule.id)))


def _once_per_id(changes: list[Change]) -> list[Change]:
    """Each model id added or removed reported once: by the family that brings or takes it if there is one,
    else where it first appears, the other places it appears counted in that change's detail."""
    holder: dict[tuple[bool, str], Change] = {}
    for found in sorted(changes, key=lambda c: c.rule.name in MODEL_ID_RULES):  # families first
        for model_id in found.model_ids:
            holder.setdefault((not found.rule.name.endswith("removed"), model_id), found)
    elsewhere: dict[Change, set[str]] = {}
    kept = []
    for found in changes:
        first = holder.get((found.rule.name == "model-id-added", found.model_ids[0])) if found.model_ids else None
        if found.rule.name in MODEL_ID_RULES and first is not None and first is not found:
            elsewhere.setdefault(first, set()).add(found.pointer)
        else:
            kept.append(found)
    for index, found in enumerate(kept):
        count = len(elsewhere.get(found, set()) - {found.pointer})
        if count:
            detail = f"{found.detail} (also at {count} other place{'s' if count > 1 else ''})"
            kept[index] = Change(found.rule, found.pointer, detail, found.model_ids)
    return kept
