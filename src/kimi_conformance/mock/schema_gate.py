"""The mock's contract validation of request bodies: a compiled verdict first, jsonschema's message when it refuses.

jsonschema walks the contract's `allOf`/`oneOf`/`$ref` tree in Python: about 250 µs for the smallest chat request,
most of a mock answer's time. jsonschema-rs (already installed with schemathesis) compiles the same schema and
says "valid" in about a microsecond. A body it calls valid is accepted without more; a body it refuses (or cannot
take: NaN, integers past 64 bits) goes through jsonschema as before, whose `best_match` gives the message the mock
has always answered with, and whose verdict stands, so the mock refuses exactly what jsonschema refuses.

That holds as long as jsonschema-rs is never more lenient than jsonschema on this contract. Neither asserts
`format` (jsonschema has no format checker here; `validate_formats=False`), and where the two differ, on the
contract's `pattern`s, the compiled one is the stricter: its `$` does not match before a final newline as Python's
`re.search` does. `tests/mock/test_schema_gate.py` holds the two to that on generated bodies.
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema_rs
from jsonschema.exceptions import best_match

from kimi_conformance import contract


@functools.cache
def _compiled(pointer: str) -> jsonschema_rs.Validator | None:
    """The schema at `pointer`, compiled once: a root holding the contract's `paths` and `components` (where all
    its `$ref`s and the mock's pointers lead) and a `$ref` to `pointer`. None if this jsonschema-rs cannot build
    it: then jsonschema alone judges, as before."""
    document = contract.load_contract()
    root = {"$ref": pointer, "paths": document["paths"], "components": document["components"]}
    try:
        return jsonschema_rs.Draft202012Validator(root, validate_formats=False)
    except Exception:  # an older jsonschema-rs (another signature, another error type): the slow way still holds
        return None


def quickly_valid(pointer: str, instance: Any) -> bool:
    """Whether the compiled schema accepts `instance`; False when it cannot tell (values JSON Schema in Rust does
    not represent, no compiled schema), which sends the body to jsonschema."""
    compiled = _compiled(pointer)
    try:
        return compiled is not None and bool(compiled.is_valid(instance))
    except (ValueError, TypeError, OverflowError):
        return False


def first_error(pointer: str, instance: Any) -> str | None:
    """The message of the error jsonschema ranks first (`best_match`), cut at 200 characters and followed by where
    it is; None for a valid instance."""
    if quickly_valid(pointer, instance):
        return None
    error = best_match(contract.validator_for(pointer).iter_errors(instance))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path)
    message = error.message if len(error.message) <= 200 else error.message[:200] + "..."
    return f"{message} (at {where})" if where else message
