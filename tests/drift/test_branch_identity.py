"""The branch matcher, one identity at a time (discriminator mapping, const or enum, title, structure), the
single schema facing a union (one branch of it, or its envelope), and unions a hostile document may hold."""

from __future__ import annotations

import time
from typing import Any

from kimi_conformance.drift import branches
from kimi_conformance.drift.documents import resolved
from kimi_conformance.drift.envelope import envelope
from kimi_conformance.drift.spec_diff import compare_schemas

Doc = dict[str, Any]


def union(*items: Any, **extra: Any) -> Doc:
    return {"oneOf": list(items), **extra}


def pairs(old: Doc, new: Doc) -> list[tuple[str, str]]:
    found = branches.match(old, "oneOf", new, "oneOf")
    return [(a.name, b.name) for a, b in found.pairs]


def with_refs(schemas: Doc, schema: Doc) -> Doc:
    """`schema` resolved against `schemas` (so that branches remember the `$ref` they were written as)."""
    document = {"paths": {}, "components": {"schemas": schemas}, "x": schema}
    return resolved(document)["x"]  # type: ignore[no-any-return]


def obj(**properties: Doc) -> Doc:
    return {"type": "object", "properties": properties}


def changes(old: Doc, new: Doc) -> list[tuple[str, str]]:
    return [(c.rule.name, c.pointer) for c in compare_schemas(old, new, "#", request=True)]


def test_identity_by_discriminator_mapping() -> None:
    """Branches with no values of their own: the mapping names them by reference (a full pointer or a bare
    schema name), and without a mapping the implicit value is the schema's name."""
    schemas = {"Cat": obj(meow=obj()), "Dog": obj(bark=obj())}
    refs = [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}]
    pet = {"propertyName": "pet", "mapping": {"cat": "#/components/schemas/Cat", "dog": "Dog"}}
    old = with_refs(schemas, union(*refs, discriminator=pet))
    new = with_refs(schemas, union(*refs[::-1], discriminator=pet))
    found = branches.match(old, "oneOf", new, "oneOf")
    assert found.tag == "pet" and [(a.values, b.values) for a, b in found.pairs] == [(("cat",), ("cat",)),
                                                                                     (("dog",), ("dog",))]  # fmt: skip
    assert changes(old, new) == []
    implicit = with_refs(schemas, union({"$ref": "#/components/schemas/Dog"}, discriminator={"propertyName": "pet"}))
    assert [b.values for b in branches.match(implicit, "oneOf", implicit, "oneOf").olds] == [("Dog",)]


def test_identity_by_const_or_enum() -> None:
    """A property every branch limits to its own strings identifies them, whatever else changed: a family whose
    schema changed completely is still that family, one whose values are all new is a new branch."""
    old = union(obj(kind={"const": "a"}, x=obj()), obj(kind={"enum": ["b", "c"]}, y={"type": "string"}))
    new = union(obj(kind={"enum": ["c", "d"]}, z={"type": "integer"}), obj(kind={"const": "a"}, x=obj()),
                obj(kind={"const": "e"}, x=obj()))  # fmt: skip
    found = branches.match(old, "oneOf", new, "oneOf")
    assert found.tag == "kind"
    assert [(a.values, b.values) for a, b in found.pairs] == [(("a",), ("a",)), (("b", "c"), ("c", "d"))]
    assert [b.values for b in found.added] == [("e",)] and found.removed == []
    names = {name for name, _ in changes(old, new)}
    assert names == {"request-variant-added", "request-enum-value-removed", "request-enum-value-added",
                     "request-property-removed", "request-optional-property-added"}  # fmt: skip


def test_a_family_split_in_two_is_compared_with_both_halves() -> None:
    old = union(obj(model={"enum": ["v1-8k", "v1-vision"]}, n={"maximum": 5}))
    new = union(obj(model={"enum": ["v1-8k"]}, n={"maximum": 5}), obj(model={"enum": ["v1-vision"]}, n={"maximum": 1}))
    assert pairs(old, new) == [("v1-8k", "v1-8k"), ("v1-8k", "v1-vision")]
    assert changes(old, new) == [("request-range-tightened", "#/oneOf[v1-vision]/properties/n/maximum")]


def test_identity_by_title() -> None:
    """Titled branches with nothing discriminating: the title, even when the structure changed past matching."""
    old = union({"title": "short", **obj(a=obj())}, {"title": "long", **obj(b=obj(), c=obj())})
    new = union({"title": "long", **obj(d=obj())}, {"title": "short", **obj(a=obj())})
    assert pairs(old, new) == [("short", "short"), ("long", "long")]


def test_identity_by_structure() -> None:
    """The rest by shared features, best first; types no value has in common never match."""
    old = union({"type": "string"}, {"type": "array", "items": {"type": "string"}}, obj(a=obj(), b=obj()))
    new = union(obj(a=obj(), b=obj(), c=obj()), {"type": "integer"}, {"type": "array", "items": {"type": "string"}})
    found = branches.match(old, "oneOf", new, "oneOf")
    assert [(a.name, b.name) for a, b in found.pairs] == [("array", "array"), ("object", "object")]
    assert [b.name for b in found.removed] == ["string"] and [b.name for b in found.added] == ["integer"]
    assert branches.similarity({"type": "string"}, {"type": "integer"}) == 0
    assert branches.similarity({"type": "integer"}, {"type": "number"}) == 1
    assert branches.similarity(obj(a=obj()), obj(b=obj(), c=obj())) < branches.MIN_SIMILARITY


def test_a_single_schema_facing_a_union() -> None:
    """One branch written alone (a text-only family's text part) is that branch; one spanning several (a message
    with a role enum against a branch per role) is compared with the union's envelope."""
    text = obj(type={"const": "text"}, text={"type": "string"})
    parts = union({"title": "text", **text}, obj(type={"const": "image_url"}, image_url={"type": "string"}))
    assert branches.one_branch_of(parts, text)
    assert changes(parts, text) == [("request-variant-removed", "#/oneOf[image_url]")]
    message = {**obj(role={"enum": ["system", "user"]}, content={"type": "string"}, partial={"type": "boolean"}),
               "required": ["role", "content"]}  # fmt: skip
    roles = union({**obj(role={"const": "system"}, content={"type": "string"}), "required": ["role", "content"]},
                  {**obj(role={"const": "user"}, content={"type": "string"}, partial={"type": "boolean"}),
                   "required": ["role"]},
                  {**obj(role={"const": "tool"}, tool_call_id={"type": "string"}), "required": ["role"]})  # fmt: skip
    assert not branches.one_branch_of(roles, message)
    assert envelope(roles)["required"] == ["role"]
    assert sorted(changes(message, roles)) == [
        ("request-enum-value-added", "#/properties/role"),
        ("request-optional-property-added", "#/properties/tool_call_id"),
        ("request-property-made-optional", "#/properties/content"),
    ]


def test_the_envelope_unites_types_values_and_loosest_bounds() -> None:
    merged = envelope(union({"type": "string", "maxLength": 5, "enum": ["a"]},
                            {"type": "string", "maxLength": 9, "enum": ["b", "a"]},
                            {"type": "integer", "minimum": 0, "enum": [1]}))  # fmt: skip
    assert merged == {"type": ["integer", "string"], "enum": ["a", "b", 1], "maxLength": 9.0, "minimum": 0.0}
    assert "maxLength" not in envelope(union({"type": "string", "maxLength": 5}, {"type": "string"}))


def test_unions_a_hostile_document_may_hold() -> None:
    """Misshapen branches read as absent, names stay one line, and thousands of branches match in linear time."""
    assert changes(union(1, "x", None), union({"type": "string"})) == [("request-variant-added", "#/oneOf[string]")]
    assert changes(union(), {"type": "string"}) == []
    titled = branches.match(union({"title": "a\nb\x00" + "c" * 100}), "oneOf", union(), "oneOf")
    assert "\n" not in titled.removed[0].name and len(titled.removed[0].name) <= 60
    many_old = union(*(obj(**{f"p{i}": obj()}) for i in range(3000)))
    many_new = union(*(obj(**{f"p{i}": obj()}) for i in range(1, 3001)))
    started = time.monotonic()
    found = branches.match(many_old, "oneOf", many_new, "oneOf")
    assert len(found.pairs) == 2999 and len(found.removed) == len(found.added) == 1
    assert time.monotonic() - started < 5
