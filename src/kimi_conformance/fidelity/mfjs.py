"""What an MFJS tool schema is (Moonshot Flavored JSON Schema, verifiers §3): the contract's meta-schema of a tool's
`parameters`, the property names it reserves, and what satisfiability asks beyond what JSON Schema can say
(`mfjs_problems`). Every schema of the fidelity corpus, hand-written or generated, is held to it."""

from __future__ import annotations

import math
from typing import Any

from jsonschema import Draft202012Validator

from kimi_conformance import contract

MFJS_ROOT = "#/components/schemas/MfjsRootSchema"
"""The contract's meta-schema of a tool's `parameters` (verifiers §3)."""
RESERVED_NAMES = frozenset({"$defs", "$ref", "anyOf", "required", "additionalProperties"})
"""Property names MFJS refuses (verifiers §3)."""


def meta_validator() -> Draft202012Validator:
    """The contract's MFJS meta-schema, as a validator."""
    return contract.validator_for(MFJS_ROOT)


def mfjs_problems(schema: dict[str, Any]) -> list[str]:
    """What makes `schema` no satisfiable MFJS tool schema, beyond the meta-schema (which JSON Schema cannot say):
    `required` names a property not declared, a reserved property name, a `$ref` to nothing, an empty range
    (minimum above maximum, minLength above maxLength, an integer range holding no integer), an enum value outside
    the string's bounds, a default its own schema refuses, a required reference to the root (no finite instance)."""
    problems = [f"meta-schema: {error.message[:160]}" for error in meta_validator().iter_errors(schema)]
    defs = _object(schema.get("$defs"))

    def walk(node: Any, at: str, required_path: bool) -> None:
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref == "#" and required_path:
                problems.append(f"{at}: a required reference to the root has no finite instance")
            elif ref != "#" and ref.removeprefix("#/$defs/") not in defs:
                problems.append(f"{at}: $ref {ref} points at nothing")
        _bounds(node, at, problems)
        properties = _object(node.get("properties"))
        listed = node.get("required")
        required: list[Any] = listed if isinstance(listed, list) else []
        for name in required:
            if name not in properties:
                problems.append(f"{at}: required {name!r} is no declared property")
        for name, child in properties.items():
            if name in RESERVED_NAMES:
                problems.append(f"{at}: property name {name!r} is reserved")
            walk(child, f"{at}/properties/{name}", required_path and name in required)
        if "items" in node:
            walk(node["items"], f"{at}/items", False)
        for i, branch in enumerate(node.get("anyOf") or []):
            walk(branch, f"{at}/anyOf/{i}", False)

    walk(schema, "#", True)
    for name, node in defs.items():
        walk(node, f"#/$defs/{name}", False)
    return problems


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _bounds(node: dict[str, Any], at: str, problems: list[str]) -> None:
    low, high = node.get("minimum"), node.get("maximum")
    if isinstance(low, int | float) and isinstance(high, int | float):
        if low > high:
            problems.append(f"{at}: minimum {low} above maximum {high}")
        elif node.get("type") == "integer" and math.ceil(low) > math.floor(high):
            problems.append(f"{at}: no integer between {low} and {high}")
    short, long = node.get("minLength"), node.get("maxLength")
    if isinstance(short, int) and isinstance(long, int) and short > long:
        problems.append(f"{at}: minLength {short} above maxLength {long}")
    few, many = node.get("minItems"), node.get("maxItems")
    if isinstance(few, int) and isinstance(many, int) and few > many:
        problems.append(f"{at}: minItems {few} above maxItems {many}")
    enum = node.get("enum")
    if isinstance(enum, list):
        bounds = {k: node[k] for k in ("type", "minLength", "maxLength") if k in node}
        refused = [value for value in enum if not Draft202012Validator(bounds).is_valid(value)]
        if refused:
            problems.append(f"{at}: enum values {refused} break the string's own bounds")
    if "default" in node:
        plain = {k: v for k, v in node.items() if k not in ("default", "title", "description")}
        if not Draft202012Validator(plain).is_valid(node["default"]):
            problems.append(f"{at}: default {node['default']!r} breaks its own schema")
