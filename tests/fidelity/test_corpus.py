"""The fidelity corpus: every generated tool schema is MFJS (the contract's meta-schema) and satisfiable, the
embedded mock's generator answers every one of them validly (so the conformant mock scores 100 %), the hand-written
tools are as good, and a run's corpus is the same in every process."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from typing import Any

from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator

from kimi_conformance.fidelity import DECOY, REALISTIC, corpus, mfjs_problems, tool_schemas
from kimi_conformance.fidelity.generated import CAPS, canonical
from kimi_conformance.fidelity.mfjs import RESERVED_NAMES, meta_validator
from kimi_conformance.mock.instances import generate
from kimi_conformance.profiles import FIDELITY_SCHEMAS

TOOL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_-]{2,63}$")  # facts §3.6


def _walk(node: Any, depth: int = 0) -> Any:
    """(subschema, nesting level) of every node under properties, items and anyOf."""
    if not isinstance(node, dict):
        return
    yield node, depth
    for child in (node.get("properties") or {}).values():
        yield from _walk(child, depth + 1)
    if isinstance(node.get("items"), dict):
        yield from _walk(node["items"], depth + 1)
    for branch in node.get("anyOf") or []:
        yield from _walk(branch, depth + 1)


def _properties(schema: dict[str, Any]) -> int:
    nodes = [schema, *(schema.get("$defs") or {}).values()]
    return sum(len(node.get("properties") or {}) for root in nodes for node, _ in _walk(root))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tool_schemas())
def test_every_generated_schema_is_mfjs_and_satisfiable(schema: dict[str, Any]) -> None:
    assert list(meta_validator().iter_errors(schema)) == []
    assert mfjs_problems(schema) == []
    Draft202012Validator.check_schema(schema)
    assert _properties(schema) <= CAPS.total_properties
    for node, depth in _walk(schema):
        assert depth <= CAPS.depth + 1
        assert len(node.get("anyOf") or []) <= CAPS.any_of and len(node.get("enum") or []) <= CAPS.enum
        assert not RESERVED_NAMES & set(node.get("properties") or {})
    assert len(json.dumps(schema)) < 8000


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tool_schemas())
def test_the_mock_answers_every_generated_schema_validly(schema: dict[str, Any]) -> None:
    """The embedded mock's arguments generator (`mock/instances.py`) on generated schemas: always valid, so the
    conformant mock's schema_accuracy is 100 % on any corpus the generator can make."""
    validator = Draft202012Validator(schema)
    for seed in range(8):
        value = generate(schema, random.Random(seed))
        assert validator.is_valid(value), (json.dumps(value), next(validator.iter_errors(value)).message)


def test_the_hand_written_tools_are_mfjs_satisfiable_and_answered_validly() -> None:
    names = [t["function"]["name"] for t in (*REALISTIC, DECOY)]
    assert len(set(names)) == len(names) and all(TOOL_NAME.match(name) for name in names)
    for item in (*REALISTIC, DECOY):
        parameters = item["function"]["parameters"]
        assert mfjs_problems(parameters) == [], item["function"]["name"]
        for seed in range(30):
            Draft202012Validator(parameters).validate(generate(parameters, random.Random(seed)))


def test_the_problems_of_a_schema_are_named() -> None:
    """What the meta-schema cannot say (verifiers §3), each found."""
    bad = {
        "type": "object",
        "properties": {
            "a": {"type": "string", "enum": ["xy"], "minLength": 5},
            "b": {"type": "integer", "minimum": 0.2, "maximum": 0.8},
            "c": {"type": "string", "minLength": 4, "maxLength": 2},
            "d": {"$ref": "#/$defs/missing"},
            "e": {"$ref": "#"},
            "f": {"type": "number", "default": "one"},
        },
        "required": ["e", "ghost"],
    }
    found = "\n".join(mfjs_problems(bad))
    for words in ("enum values", "no integer", "minLength 4 above", "points at nothing", "required reference",
                  "'ghost' is no declared", "meta-schema"):  # fmt: skip
        assert words in found, words
    assert mfjs_problems({"type": "object", "properties": {"required": {"type": "null"}}})


def test_the_corpus_follows_the_profile() -> None:
    assert FIDELITY_SCHEMAS == {"quick": 10, "standard": 40, "thorough": 200}
    quick = corpus(10)
    assert len(quick) == 10 and [c.id.split("-")[0] for c in quick] == ["real"] * 5 + ["gen"] * 5
    standard = corpus(40)
    assert len(standard) == 40 and sum(c.id.startswith("real-") for c in standard) == len(REALISTIC)
    assert len({c.id for c in standard}) == 40 and len({c.name for c in standard}) == 40
    assert len({canonical(c.parameters) for c in standard}) == 40
    assert all(TOOL_NAME.match(c.name) and DECOY["function"]["name"] not in c.name for c in standard)


def test_the_corpus_is_the_same_in_another_process_whatever_it_loaded() -> None:
    """xdist workers each collect the suite: the schemas behind their test ids must be identical, whatever modules
    each process loaded before (hypothesis draws constants from the local modules loaded: `generated`)."""
    code = (
        "import json, kimi_conformance.cli.run, kimi_conformance.mock.app, kimi_conformance.report; "
        "from kimi_conformance.fidelity import corpus; print(json.dumps([c.tool for c in corpus(40)]))"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert json.loads(other.stdout) == [c.tool for c in corpus(40)]
