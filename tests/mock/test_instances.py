"""Generated tool arguments and JSON-schema content validate against their MFJS schema."""

from __future__ import annotations

import random
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from kimi_conformance.mock.instances import generate

SCHEMAS: list[dict[str, Any]] = [
    {
        "type": "object",
        "properties": {"city": {"type": "string", "minLength": 3, "maxLength": 5}},
        "required": ["city"],
    },
    {"type": "object", "properties": {"n": {"type": "integer", "minimum": 3, "maximum": 4}}, "required": ["n"]},
    {"type": "object", "properties": {"x": {"type": "number", "minimum": -1.5, "maximum": 1.5}}, "required": ["x"]},
    {"type": "object", "properties": {"unit": {"type": "string", "enum": ["c", "f"]}}, "required": ["unit"]},
    {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}, "minItems": 2}}},
    {  # counts written as floats are integers to JSON Schema (found by schemathesis: minItems 108.0)
        "type": "object",
        "properties": {"flags": {"type": "array", "items": {"type": "boolean"}, "minItems": 108.0, "maxItems": 5e7}},
        "required": ["flags"],
    },
    {"type": "object", "properties": {"s": {"type": "string", "minLength": 20.0}}, "required": ["s"]},
    {
        "type": "object",
        "properties": {"v": {"anyOf": [{"type": "string"}, {"type": "null"}]}, "b": {"type": "boolean"}},
        "required": ["v", "b"],
        "additionalProperties": False,
    },
    {
        "type": "object",
        "$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}}},
        "properties": {"head": {"$ref": "#/$defs/node"}},
        "required": ["head"],
    },
    {"type": "object", "properties": {}, "required": ["undeclared"]},
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_generated_values_validate(schema: dict[str, Any]) -> None:
    for seed in range(20):
        Draft202012Validator(schema).validate(generate(schema, random.Random(seed)))


def test_infinitely_nested_required_schema_does_not_recurse_forever() -> None:
    schema = {"type": "object", "properties": {"me": {"$ref": "#"}}, "required": ["me"]}
    assert isinstance(generate(schema, random.Random(0)), dict)


def test_huge_counts_are_not_generated_in_full() -> None:
    """minItems / minLength of 10**9 (schemathesis draws such): a bounded value, not a hang or a MemoryError."""
    schema = {"type": "array", "minItems": 10**9, "items": {"type": "string", "minLength": 1e12}}
    value = generate(schema, random.Random(0), schema)
    assert 256 <= len(value) <= 258 and all(len(item) == 4096 for item in value)
