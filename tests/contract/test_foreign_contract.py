"""`--contract PATH|URL`: the property-based contract suite generated from another OpenAPI document, shaped like
Moonshot's published one (no operationIds, paths under a `servers` base path, other path parameter names, other
schema names, the chat request a `oneOf` of per-family branches with `model` enums), while the target is held to
ours; and a document the suite cannot use is one usage error, never failures blamed on the target."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kimi_conformance.errors import ConfigError
from kimi_conformance.findings import Severity
from kimi_conformance.loopback import LoopbackServer, running
from kimi_conformance.profiles import PROFILES
from kimi_conformance.runner.foreign_contract import load_foreign_contract, narrowed
from kimi_conformance.runner.foreign_verdicts import our_verdict, reconsidered

FAMILIES = {"kimi-k2.6": "KimiK26ChatRequest", "kimi-k3": "KimiK3ChatRequest", "kimi-k2.5": "KimiK25ChatRequest"}
"""The published document's chat families (a retired one among them), under its own schema names."""
OK = {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}
ERROR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Err"}}}}


def published_like(*, estimate_min_items: int = 1) -> dict[str, Any]:
    """A document shaped like the published one: five operations (four of ours, one not), none with an
    operationId, written under the server's `/v1`, `{id}` where we say `{file_id}`."""
    family = {
        model: {
            "title": model,
            "allOf": [
                {"$ref": "#/components/schemas/RequestBase"},
                {
                    "type": "object",
                    "properties": {"model": {"type": "string", "enum": [model]}},
                    "required": ["model"],
                },
            ],
        }
        for model in FAMILIES
    }
    message = {
        "type": "object",
        "properties": {"role": {"type": "string", "enum": ["user", "system"]}, "content": {"type": "string"}},
        "required": ["role", "content"],
    }
    responses = {"200": OK, "400": ERROR, "401": ERROR}
    return {
        "openapi": "3.1.0",
        "info": {"title": "a published-like Moonshot API", "version": "1.0.0"},
        "servers": [{"url": "https://api.example.invalid/v1"}],
        "security": [{"bearerAuth": []}],
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Err": {"type": "object", "properties": {"error": {"type": "object"}}},
                "Message": message,
                "RequestBase": {
                    "type": "object",
                    "properties": {
                        "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
                        "max_completion_tokens": {"type": "integer", "minimum": 1, "maximum": 16},
                    },
                    "required": ["messages"],
                },
                **{FAMILIES[model]: schema for model, schema in family.items()},
            },
        },
        "paths": {
            "/chat/completions": {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [{"$ref": f"#/components/schemas/{name}"} for name in FAMILIES.values()],
                                    "discriminator": {
                                        "propertyName": "model",
                                        "mapping": {m: f"#/components/schemas/{n}" for m, n in FAMILIES.items()},
                                    },
                                }
                            }
                        },
                    },
                    "responses": responses,
                }
            },
            "/models": {"get": {"responses": responses}},
            "/files/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "get": {"responses": responses},
            },
            "/tokenizers/estimate-token-count": {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "model": {"type": "string", "enum": ["kimi-k2.6"]},
                                        "messages": {
                                            "type": "array",
                                            "minItems": estimate_min_items,
                                            "items": {"$ref": "#/components/schemas/Message"},
                                        },
                                    },
                                    "required": ["model", "messages"],
                                }
                            }
                        },
                    },
                    "responses": responses,
                }
            },
            "/users/me/plans": {"get": {"responses": responses}},
        },
    }


@pytest.fixture
def document(tmp_path: Path) -> Path:
    path = tmp_path / "published.json"
    path.write_text(json.dumps(published_like()), "utf-8")
    return path


def run(where: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    """`kimi-conformance run` in a child process from `where`: its exit code, results.json and output."""
    command = [sys.executable, "-m", "kimi_conformance", "run", "--report-dir", "reports", *args]
    done = subprocess.run(command, cwd=where, capture_output=True, text=True, timeout=300, env=dict(os.environ))
    results = where / "reports" / "latest" / "results.json"
    return done.returncode, json.loads(results.read_text()) if results.exists() else {}, done.stdout + done.stderr


@pytest.fixture
def served(document: Path) -> Iterator[str]:
    """The document served over loopback, as `--contract URL` reads a published one."""

    async def openapi(request: Request) -> Response:
        return Response(document.read_bytes(), media_type="application/json")

    app = Starlette(routes=[Route("/openapi.json", openapi)])
    with running(LoopbackServer(app), "published-document") as server:
        yield server.base_url + "/openapi.json"


def test_its_operations_are_matched_to_ours_by_method_and_path(document: Path) -> None:
    foreign = load_foreign_contract(str(document))
    assert {op: str(theirs) for op, theirs in foreign.matched.items()} == {
        "createChatCompletion": "POST /chat/completions",
        "listModels": "GET /models",
        "retrieveFile": "GET /files/{id}",
        "estimateTokenCount": "POST /tokenizers/estimate-token-count",
    }
    assert [str(op) for op in foreign.not_ours] == ["GET /users/me/plans"]
    retrieve = foreign.document["paths"]["/v1/files/{file_id}"]["get"]  # under our path, named as ours
    assert retrieve["operationId"] == "retrieveFile"
    assert [(p["name"], p["in"]) for p in retrieve["parameters"]] == [("file_id", "path")]
    assert "/v1/users/me/plans" not in foreign.document["paths"] and "servers" not in foreign.document
    assert "KimiK26ChatRequest" in foreign.document["components"]["schemas"]  # its schemas, names and all
    assert foreign.gap("createChatCompletion", "negative") is None
    assert "has no GET /v1/files" in str(foreign.gap("listFiles", "positive"))
    assert "nothing to break" in str(foreign.gap("listModels", "negative"))
    assert "not in our contract, not generated: GET /users/me/plans" in foreign.line()


def test_generation_is_narrowed_to_the_run_models_whatever_the_schemas_are_called(document: Path) -> None:
    foreign = load_foreign_contract(str(document))
    chat = narrowed(foreign.document, {"kimi-k2.6"})["paths"]["/v1/chat/completions"]["post"]
    schema = chat["requestBody"]["content"]["application/json"]["schema"]
    assert schema["oneOf"] == [{"$ref": "#/components/schemas/KimiK26ChatRequest"}]
    assert schema["discriminator"]["mapping"] == {"kimi-k2.6": "#/components/schemas/KimiK26ChatRequest"}


def _chat_case(document: Path, body: dict[str, Any]) -> Any:
    schema = schemathesis.openapi.from_dict(load_foreign_contract(str(document)).document)
    return schema.find_operation_by_id("createChatCompletion").Case(body=body, media_type="application/json")


HI = [{"role": "user", "content": "hi"}]


def test_its_verdicts_blame_the_target_only_where_our_contract_agrees(document: Path) -> None:
    served_by_ours = _chat_case(document, {"model": "kimi-k2.6", "messages": HI, "max_completion_tokens": 8})
    refused_by_ours = _chat_case(document, {"model": "kimi-k2.6", "messages": []})  # their document allows it
    assert our_verdict(served_by_ours).valid and our_verdict(refused_by_ours).invalid
    source = str(document)
    # positive data refused: the target's fault only if our contract accepts the request too
    assert reconsidered(served_by_ours, "SCHM003", "Rejected positive data", source) is not None
    assert reconsidered(refused_by_ours, "SCHM003", "Rejected positive data", source) is None
    # negative data accepted: only if our contract refuses it too
    kept = reconsidered(refused_by_ours, "SCHM002", "Accepted negative data", source)
    assert kept is not None and kept.severity is None and "Our contract refuses the request too" in kept.message
    assert reconsidered(served_by_ours, "SCHM002", "Accepted negative data", source) is None
    # their response verdicts are theirs (our SCHM001 judges the answer against ours); auth is no document's
    assert reconsidered(served_by_ours, "SCHM001", "Response violates schema", source) is None
    assert reconsidered(served_by_ours, "SCHM005", "Missing header", source) is None
    assert reconsidered(served_by_ours, "AUTH001", "Ignored auth", source) is not None


def test_an_accepted_case_that_breaks_only_an_x_inferred_constraint_of_ours_is_a_warning(document: Path) -> None:
    # our contract's kimi-k2.7-code temperature (const 1.0) is marked x-inferred: assumed by analogy
    inferred = _chat_case(document, {"model": "kimi-k2.7-code", "messages": HI, "temperature": 0.5})
    assert our_verdict(inferred).inferred_only
    found = reconsidered(inferred, "SCHM002", "Accepted negative data", str(document))
    assert found is not None and found.severity is Severity.WARNING
    assert "1.0 was expected (at the request body /temperature)" in found.message
    assert "what our contract refuses it for is marked x-inferred" in found.message


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('swagger: "2.0"\npaths: {}\n', "is not an OpenAPI 3.x document (swagger 2.0)"),
        ("openapi: 3.1.0\npaths: {}\n", "has no paths"),
        ("openapi: 3.1.0\ninfo: {}\n", "no `paths`"),
        (
            "openapi: 3.1.0\npaths:\n  /v2/things:\n    get: {responses: {}}\n",
            "none of its 1 operation(s) is one of ours",
        ),
        ("openapi: 3.1.0\npaths:\n  /v1/models:\n    $ref: '#/nowhere'\n", "unresolvable $ref #/nowhere"),
        ("openapi: 3.1.0\npaths:\n  /v1/models:\n    $ref: 'other.yaml#/x'\n", "a $ref to another document"),
        ("openapi: 3.1.0\npaths: [\n", "is not valid YAML"),
    ],
)
def test_a_document_it_cannot_use_says_why_in_one_line(tmp_path: Path, text: str, why: str) -> None:
    path = tmp_path / "other.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as raised:
        load_foreign_contract(str(path))
    assert why in str(raised.value) and "\n" not in str(raised.value)


def test_a_document_with_no_operation_of_ours_is_one_usage_error_not_failures(tmp_path: Path) -> None:
    elsewhere = published_like()
    elsewhere["servers"], elsewhere["paths"] = [], {"/v2/things": {"get": {"responses": {"200": OK}}}}
    (tmp_path / "elsewhere.json").write_text(json.dumps(elsewhere), "utf-8")
    returncode, results, output = run(
        tmp_path, "--contract", "elsewhere.json", "--model", "kimi-k2.6", "test_contract.py"
    )
    assert returncode == 4, output
    assert output.strip() == (
        "ERROR: --contract elsewhere.json: none of its 1 operation(s) is one of ours (matched by method and path, "
        "e.g. POST /v1/chat/completions): GET /v2/things"
    )
    assert results == {}


def test_a_conformant_mock_passes_with_a_published_like_document_read_from_a_url(tmp_path: Path, served: str) -> None:
    """About 6 s: the contract suite, quick, one model."""
    args = ("--contract", served, "--model", "kimi-k2.6", "--profile", "quick", "test_contract.py", "-rs")
    returncode, results, output = run(tmp_path, *args)
    assert returncode == 0, output[-3000:]
    assert results["verdict"] == "pass" and results["findings"] == []
    assert results["settings"]["contract"] == served
    assert f"contract suite generated from {served}: 4 of our 13 operations matched" in output
    assert "has no POST /v1/batches: not generated from it" in output  # skipped, saying why
    generated = [json.loads(line) for line in (tmp_path / "reports/latest/cassette.jsonl").read_text().splitlines()]
    chat = [line for line in generated if line["operation"] == "createChatCompletion"]
    assert chat and all(
        json.loads(line["request"]).get("model") == "kimi-k2.6" for line in chat if line["status"] == 200
    )


def test_findings_from_a_published_like_document_are_the_targets(tmp_path: Path, document: Path) -> None:
    """A mock that serves without a key and answers a client error with a 500: both are the target's, whatever
    document the cases came from (AUTH001 is schemathesis's verdict, kept; HTTP002 is our own check)."""
    tests = [
        f"test_contract.py::test_operation[{case}]" for case in ("listModels-positive", "createChatCompletion-negative")
    ]
    args = ("--contract", str(document), "--model", "kimi-k2.6", "--profile", "quick")
    faults = ("--mock-fault", "auth-ignored", "--mock-fault", "server-error-for-client-errors")
    returncode, results, output = run(tmp_path, *args, *faults, *tests)
    assert returncode == 1, output[-3000:]
    assert {(f["code"], f["operation"]) for f in results["findings"]} == {
        ("AUTH001", "listModels"),
        ("HTTP002", "createChatCompletion"),
    }


def test_the_plan_counts_only_the_operations_it_generates(tmp_path: Path, document: Path) -> None:
    args = ("--contract", str(document), "--model", "kimi-k2.6", "--profile", "quick", "--plan", "test_contract.py")
    returncode, _, output = run(tmp_path, *args)
    assert returncode == 0, output
    # six tests generate (chat and estimate in both modes, models and retrieveFile positive), each (5 + 1) cases
    # with two auth probes: 108 requests; then the coverage phase of those four operations, 20 cases each with two
    # auth probes: 240 more. 31 tests: 18, and one coverage test per operation of ours (13), those the document
    # lacks planned at nothing. The chat and estimate ones ask for at most 2,048 tokens each.
    row = next(line for line in output.splitlines() if line.startswith("test_contract.py"))
    coverage = 4 * PROFILES["quick"].coverage * 3
    assert row.split()[1:] == ["-", "31", f"{108 + coverage}", f"{(72 + coverage // 2) * 2048:,}"], row
    assert "contract suite generated from" in output
