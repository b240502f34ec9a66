"""Negative cases that break only what the contract marks `x-inferred: true` are warnings, not failures.

Unit tests place schemathesis's mutation pointers in a small contract fragment (and every pointer it computes for
the real contract's request bodies); end to end, `kimi-conformance run` of the contract suite against a relay in
front of the mock that leaves one constraint unenforced: an inferred one (BatchLimit's 1-100 range) gives SCHM002
warnings and a passing run; a documented one (the estimate's `model`) gives SCHM002 errors and a failed run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.core.mutations import Mutation, MutationChannel, OperatorKind
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import CaseMetadata, ComponentInfo, FuzzingPhaseData, GenerationInfo, PhaseInfo
from schemathesis.generation.meta import TestPhase as Phase

from kimi_conformance import contract
from kimi_conformance.contract import contract_path
from kimi_conformance.loopback import LoopbackServer, running
from kimi_conformance.mock import MockConfig, create_app
from kimi_conformance.runner.schemathesis_bridge import (
    InferredConstraint,
    inferred_negation,
    inferred_node,
    schema_trail,
)
from tests.runner.test_run import run

SCHEMAS = "#/components/schemas"
FRAGMENT: dict[str, Any] = {
    "$ref": f"{SCHEMAS}/Request",
    "components": {
        "schemas": {
            "Request": {"oneOf": [{"$ref": f"{SCHEMAS}/Documented"}, {"$ref": f"{SCHEMAS}/Guessed"}]},
            "Documented": {
                "type": "object",
                "required": ["model"],
                "properties": {
                    "model": {"type": "string"},
                    "temperature": {"type": "number", "minimum": 0, "maximum": 2},
                    "a/b": {"type": "integer", "x-inferred": True},
                },
                "x-sources": ["facts §1 [D]"],
            },
            "Guessed": {
                "allOf": [
                    {"$ref": f"{SCHEMAS}/Documented"},
                    {
                        "type": "object",
                        "required": ["messages"],
                        "properties": {
                            "temperature": {"maximum": 1, "x-inferred": True, "x-sources": ["[I] by analogy"]},
                            "top_p": {"$ref": f"{SCHEMAS}/Fixed", "x-inferred": True},
                            "n": {"$ref": f"{SCHEMAS}/Choice", "maximum": 3},
                            "tool_choice": {"$ref": f"{SCHEMAS}/Choice"},
                            "thinking": {
                                "type": "object",
                                "properties": {"type": {"enum": ["enabled", "disabled"]}},
                                "x-inferred": True,
                            },
                            "messages": {"type": "array", "items": {"type": "object", "required": ["role"]}},
                        },
                    },
                ]
            },
            "Fixed": {"const": 0.95, "x-sources": ["facts §3 [D]"]},
            "Choice": {"enum": ["auto", "none", None], "x-inferred": True, "x-sources": ["[I] quoted"]},
        }
    },
}
GUESSED = "/oneOf/1/allOf/1/properties"


@pytest.mark.parametrize(
    ("pointer", "keywords", "expected"),
    [
        (f"{GUESSED}/temperature", ("maximum",), InferredConstraint(("maximum",), f"{SCHEMAS}/Guessed/allOf/1/properties/temperature", ("[I] by analogy",))),  # noqa: E501
        (f"{GUESSED}/tool_choice", ("enum",), InferredConstraint(("enum",), f"{SCHEMAS}/Choice", ("[I] quoted",))),
        (f"{GUESSED}/top_p", ("const",), InferredConstraint(("const",), f"{SCHEMAS}/Guessed/allOf/1/properties/top_p", ())),  # noqa: E501
        (f"{GUESSED}/thinking/properties/type", ("enum",), InferredConstraint(("enum",), f"{SCHEMAS}/Guessed/allOf/1/properties/thinking", ())),  # noqa: E501
        ("/oneOf/0/properties/a/b", ("type",), InferredConstraint(("type",), f"{SCHEMAS}/Documented/properties/a~1b", ())),  # noqa: E501
        ("/$ref/Request/oneOf/1/$ref/Guessed/allOf/1/properties/temperature", ("maximum",), InferredConstraint(("maximum",), f"{SCHEMAS}/Guessed/allOf/1/properties/temperature", ("[I] by analogy",))),  # noqa: E501
    ],
    ids=["in-the-node", "below-a-ref", "ref-wrapper-marked", "under-a-marked-object", "slash-in-a-name",
         "value-channel-ref-hops"],
)  # fmt: skip
def test_a_negated_keyword_in_or_under_an_x_inferred_object_is_inferred(
    pointer: str, keywords: tuple[str, ...], expected: InferredConstraint
) -> None:
    assert inferred_node(FRAGMENT, pointer, keywords) == expected


@pytest.mark.parametrize(
    ("pointer", "keywords"),
    [
        ("/oneOf/0/properties/temperature", ("maximum",)),  # the same keyword, in the documented family
        ("/oneOf/1/allOf/0/properties/temperature", ("minimum",)),  # the documented half of the inferred family
        (f"{GUESSED}/n", ("maximum",)),  # a wrapper's own sibling, beside a reference to an inferred object
        (f"{GUESSED}/messages/items", ("required",)),
        ("/oneOf/1/allOf/1", ("required",)),  # `required` of the family object (remove_required strips the name)
        ("", ("oneOf",)),
        ("", ()),
    ],
    ids=["documented-family", "documented-half", "wrapper-sibling", "items", "required", "root", "syntax"],
)
def test_a_negated_keyword_under_no_x_inferred_object_is_documented(pointer: str, keywords: tuple[str, ...]) -> None:
    assert schema_trail(FRAGMENT, pointer) is not None
    assert inferred_node(FRAGMENT, pointer, keywords) is None


@pytest.mark.parametrize(
    "pointer", ["/oneOf/5", "/oneOf/x", "/properties/nope", f"{GUESSED}/temperature/not", "/$ref/Nope/oneOf/0"]
)
def test_a_pointer_that_cannot_be_followed_is_not_placed(pointer: str) -> None:
    assert schema_trail(FRAGMENT, pointer) is None
    assert inferred_node(FRAGMENT, pointer, ("maximum",)) is None


def _pointer(descriptor: Any) -> str:
    """The pointer schemathesis records for a mutation at this target (`_absolutize`: no `$ref` hops)."""
    steps = [step for step in descriptor.walk if step.keyword != "$ref"]
    return "".join(f"/{step.keyword}" + (f"/{step.selector}" if step.selector is not None else "") for step in steps)


def test_every_mutation_target_of_the_contract_bodies_is_placed_and_the_marks_are_found() -> None:
    schema = schemathesis.openapi.from_path(contract_path())
    inferred: set[str] = set()
    documented: set[str] = set()
    for operation_id in ("createChatCompletion", "estimateTokenCount", "createBatch"):
        for body in schema.find_operation_by_id(operation_id).body:
            root, names = body.optimized_schema, dict(body.name_to_uri)
            for descriptor in body.mutation_targets:
                pointer = _pointer(descriptor)
                trail = schema_trail(root, pointer, names)
                assert trail is not None, (operation_id, pointer)
                found = inferred_node(root, pointer, ("maximum",), names)
                (inferred if found else documented).add(found.where if found else trail[-1][1])
    assert f"{SCHEMAS}/KimiK3ChatRequest/allOf/1/properties/temperature" in inferred
    assert f"{SCHEMAS}/KimiK2ChatRequest/allOf/1/properties/temperature" in documented
    assert f"{SCHEMAS}/EstimateTokenCountRequest/properties/tools" in inferred
    assert f"{SCHEMAS}/EstimateTokenCountRequest/properties/messages" in documented


BODY, QUERY = ParameterLocation.BODY, ParameterLocation.QUERY


def mutation(
    location: ParameterLocation,
    pointer: str,
    *keywords: str,
    operator: OperatorKind = OperatorKind.NEGATE_CONSTRAINTS,
    parameter: str | None = None,
) -> Mutation:
    """One mutation as schemathesis records it (`schema_pointer` without the `$ref` hops of its walk)."""
    return Mutation((), location, pointer, MutationChannel.SCHEMA, operator, keywords, parameter, None, None)


def negative_case(operation_id: str, *mutations: Mutation, **parts: Any) -> Any:
    """A case of the real contract as schemathesis generates it in negative mode, with these mutations recorded."""
    operation = schemathesis.openapi.from_path(contract_path()).find_operation_by_id(operation_id)
    locations = {m.parameter_location for m in mutations}
    meta = CaseMetadata(
        generation=GenerationInfo(time=0.0, mode=GenerationMode.NEGATIVE),
        components={location: ComponentInfo(mode=GenerationMode.NEGATIVE) for location in locations},
        phase=PhaseInfo(Phase.FUZZING, FuzzingPhaseData("negated", None, None, None, mutations=mutations)),
    )
    return operation.Case(_meta=meta, **parts)


def test_a_case_breaking_only_inferred_constraints_names_them_with_their_sources() -> None:
    limit = negative_case(
        "listBatches", mutation(QUERY, "/properties/limit", "maximum", "x-inferred"), query={"limit": 101}
    )
    assert inferred_negation(limit) == (
        InferredConstraint(("maximum",), "query parameter `limit`", ("facts §5 [S]", "[I] bounds")),
    )
    tools = negative_case(
        "estimateTokenCount",
        mutation(BODY, "/properties/tools", "maxItems"),
        body={"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}], "tools": []},
        media_type="application/json",
    )
    (found,) = inferred_negation(tools)
    assert found.where == f"{SCHEMAS}/EstimateTokenCountRequest/properties/tools" and "[I]" in found.sources


@pytest.mark.parametrize(
    "mutations",
    [
        (mutation(BODY, "/properties/tools", "maxItems"), mutation(BODY, "/properties/messages", "minItems")),
        (mutation(BODY, "", operator=OperatorKind.SYNTAX_FUZZING),),
        (
            mutation(
                BODY, "/properties/model", "required", operator=OperatorKind.REMOVE_REQUIRED_PROPERTY, parameter="model"
            ),
        ),
        (mutation(BODY, "/properties/nowhere", "maxItems"),),
        (),
    ],
    ids=["and-a-documented-one", "not-json", "required", "unplaced", "no-mutation"],
)
def test_a_case_breaking_anything_else_is_not_inferred(mutations: tuple[Mutation, ...]) -> None:
    case = negative_case("estimateTokenCount", *mutations, body={}, media_type="application/json")
    assert inferred_negation(case) == ()


def test_a_removed_required_property_is_judged_by_the_object_that_requires_it() -> None:
    """`json_schema.name` is x-inferred (its pattern), but that `json_schema` requires it is documented."""
    name = f"{SCHEMAS}/ResponseFormatJsonSchema/properties/json_schema/properties/name"
    body = schemathesis.openapi.from_path(contract_path()).find_operation_by_id("createChatCompletion").body[0]
    root, names = body.optimized_schema, dict(body.name_to_uri)
    pointer = next(
        _pointer(d)
        for d in body.mutation_targets
        if (schema_trail(root, _pointer(d), names) or [({}, "")])[-1][1] == name
    )
    assert inferred_node(root, pointer, ("pattern",), names) is not None
    removed = mutation(BODY, pointer, "required", operator=OperatorKind.REMOVE_REQUIRED_PROPERTY, parameter="name")
    case = negative_case("createChatCompletion", removed, body={}, media_type="application/json")
    assert inferred_negation(case) == ()


# --- end to end: the contract suite against a target that leaves one constraint unenforced -----------------------

KEY = "sk-relay-key"
ESTIMATE = "/v1/tokenizers/estimate-token-count"
ESTIMATE_SCHEMA = contract.resolve_pointer(contract.load_contract(), f"{SCHEMAS}/EstimateTokenCountRequest")
Repair = Callable[[str, str, bytes, bytes], tuple[bytes, bytes]]
"""(method, path, query string, body) -> (query string, body) the mock gets instead."""


class Relay:
    """ASGI middleware before the mock that leaves one constraint unenforced: it repairs what breaks that one
    before the mock sees the request, so the mock still judges everything else (auth included)."""

    def __init__(self, app: Any, repair: Repair) -> None:
        self.app, self.repair = app, repair

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        query, body = self.repair(scope["method"], scope["path"], scope["query_string"], body)
        headers = [(name, value) for name, value in scope["headers"] if name != b"content-length"]
        scope = {**scope, "query_string": query, "headers": [*headers, (b"content-length", b"%d" % len(body))]}
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def batch_limit_unenforced(method: str, path: str, query: bytes, body: bytes) -> tuple[bytes, bytes]:
    """BatchLimit (`limit` 1-100, x-inferred) not enforced: an out-of-range or non-integer limit is dropped."""
    if method == "GET" and path == "/v1/batches":
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        valid = [value for name, value in pairs if name == "limit" and re.fullmatch(r"[0-9]{1,3}", value)]
        if any(name == "limit" for name, _ in pairs) and not (valid and all(1 <= int(v) <= 100 for v in valid)):
            query = urlencode([(name, value) for name, value in pairs if name != "limit"]).encode()
    return query, body


def estimate_model_unenforced(method: str, path: str, query: bytes, body: bytes) -> tuple[bytes, bytes]:
    """EstimateTokenCountRequest's `model` (required, one of an enum: documented) not enforced: a body valid but
    for a missing or unlisted model gets a model the mock serves."""
    if method == "POST" and path == ESTIMATE:
        try:
            request = json.loads(body)
        except ValueError:
            return query, body
        listed = ESTIMATE_SCHEMA["properties"]["model"]["enum"]
        if isinstance(request, dict) and request.get("model") not in listed:
            repaired = {**request, "model": "kimi-k2.6"}
            if contract.validator_for(contract.request_body_pointer(ESTIMATE, "post")).is_valid(repaired):
                body = json.dumps(repaired).encode()
    return query, body


def run_against(tmp_path: Path, repair: Repair, test: str) -> tuple[int, dict[str, Any], str]:
    relay = Relay(create_app(MockConfig(api_keys=frozenset({KEY}))), repair)
    with running(LoopbackServer(relay), "relay") as server:  # type: ignore[arg-type]
        target = ["--target", server.api_base, "--api-key-env", "RELAY_KEY", "--profile", "standard"]
        return run(tmp_path, *target, f"test_contract.py::test_operation[{test}]", env={"RELAY_KEY": KEY})


def test_a_target_not_enforcing_an_inferred_constraint_gets_warnings_and_passes(tmp_path: Path) -> None:
    returncode, results, output = run_against(tmp_path, batch_limit_unenforced, "listBatches-negative")
    accepted = [f for f in results["findings"] if f["code"] == "SCHM002"]
    assert accepted, output[-3000:]
    assert {f["severity"] for f in accepted} == {"warning"}, output[-3000:]
    assert all("marks x-inferred" in f["message"] and "query parameter `limit`" in f["message"] for f in accepted)
    assert all("(x-sources: facts §5 [S]; [I] bounds)" in f["message"] for f in accepted)
    assert returncode == 0 and results["verdict"] == "pass", output[-3000:]


def test_a_target_not_enforcing_a_documented_constraint_still_fails(tmp_path: Path) -> None:
    returncode, results, output = run_against(tmp_path, estimate_model_unenforced, "estimateTokenCount-negative")
    accepted = [f for f in results["findings"] if f["code"] == "SCHM002"]
    assert accepted and {f["severity"] for f in accepted} == {"error"}, output[-3000:]
    assert not any("x-inferred" in f["message"] for f in accepted)
    assert returncode == 1 and results["verdict"] == "fail", output[-3000:]
