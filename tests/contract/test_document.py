"""Checks of the contract document itself: valid OpenAPI 3.1, loadable by schemathesis, consistent conventions.

The SSE tests feed fabricated `text/event-stream` bodies to schemathesis' own response validation, which is
exactly what the conformance suite relies on when it validates a live stream against the contract.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

CONTRACT = Path(__file__).resolve().parents[2] / "openapi" / "moonshot.openapi.yaml"
DOC_URI = "urn:kimi-conformance:contract"

OPERATION_IDS = {
    "createChatCompletion",
    "listModels",
    "uploadFile",
    "listFiles",
    "retrieveFile",
    "deleteFile",
    "retrieveFileContent",
    "estimateTokenCount",
    "getBalance",
    "createBatch",
    "listBatches",
    "retrieveBatch",
    "cancelBatch",
}
# The error `type` values Moonshot's error table documents per HTTP status (504 has no documented body).
ERROR_TYPES = {
    "400": {"invalid_request_error", "content_filter"},
    "401": {"invalid_authentication_error", "incorrect_api_key_error"},
    "403": {"permission_denied_error", "exceeded_current_quota_error"},
    "404": {"resource_not_found_error"},
    "429": {"rate_limit_reached_error", "exceeded_current_quota_error", "engine_overloaded_error"},
    "500": {"server_error", "unexpected_output"},
}
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "trace"}
USAGE = {"prompt_tokens": 19, "completion_tokens": 13, "total_tokens": 32}


@cache
def document() -> dict[str, Any]:
    return yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@cache
def api() -> Any:
    return schemathesis.openapi.from_path(str(CONTRACT))


def resolve(node: Any) -> Any:
    """Follow a local `$ref` chain inside the contract."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document()["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def schema_validator(schema: Any) -> Draft202012Validator:
    """A Draft 2020-12 validator for `schema`, whose `#/components/...` references resolve in the contract."""
    registry: Registry = Registry().with_resource(DOC_URI, Resource.from_contents(document(), DRAFT202012))
    rebased = json.loads(json.dumps(schema).replace('"#/components/', f'"{DOC_URI}#/components/'))
    return Draft202012Validator(rebased, registry=registry)


def component(name: str) -> Draft202012Validator:
    return schema_validator({"$ref": f"#/components/schemas/{name}"})


def http_response(status: int, content_type: str, body: str) -> schemathesis.Response:
    request = requests.Request("POST", "https://api.moonshot.ai/v1/chat/completions").prepare()
    return schemathesis.Response(
        status_code=status,
        headers={"content-type": [content_type]},
        content=body.encode("utf-8"),
        request=request,
        elapsed=0.01,
        verify=True,
    )


def sse(*events: dict[str, Any] | str) -> str:
    return "".join(f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n" for e in events)


def chunk(choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    base = {
        "id": "cmpl-0123456789abcdef0123456789abcdef",
        "object": "chat.completion.chunk",
        "created": 1698999575,
        "model": "kimi-k2-turbo-preview",
        "choices": choices,
    }
    return base | extra


def conformant_stream() -> list[dict[str, Any] | str]:
    return [
        chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]),
        chunk([{"index": 0, "delta": {"content": "Hello"}, "finish_reason": None}]),
        chunk([{"index": 0, "delta": {}, "finish_reason": "stop", "usage": USAGE}]),
        chunk([], usage=USAGE),
        "[DONE]",
    ]


def test_document_is_valid_openapi_31() -> None:
    assert document()["openapi"] == "3.1.0"
    validate(document())


@pytest.mark.parametrize("name", ["moonshot.openapi.yaml", "README.md"])
def test_contract_files_have_no_workspace_paths(name: str) -> None:
    text = (CONTRACT.parent / name).read_text(encoding="utf-8")
    assert ".." + "/shared" not in text  # spelled apart so repository-wide path scans do not match this guard
    assert "/work" + "/" not in text


def test_schemathesis_loads_all_13_operations() -> None:
    loaded = [result.ok() for result in api().get_all_operations()]
    assert len(loaded) == 13
    assert {op.definition.raw["operationId"] for op in loaded} == OPERATION_IDS


@pytest.mark.parametrize(("method", "path", "operation"), operations(), ids=lambda v: v if isinstance(v, str) else "")
def test_operation_conventions(method: str, path: str, operation: dict[str, Any]) -> None:
    assert operation.get("operationId") in OPERATION_IDS
    assert operation.get("tags")
    # Effective security: the operation's own, else the document default; every scheme is HTTP bearer.
    security = operation.get("security", document().get("security"))
    assert security
    schemes = document()["components"]["securitySchemes"]
    for requirement in security:
        for name in requirement:
            assert schemes[name] == schemes[name] | {"type": "http", "scheme": "bearer"}
    responses = operation["responses"]
    assert any(code.startswith("2") for code in responses)
    assert {"401", "403", "404", "429", "500"} <= responses.keys()
    error_codes = [code for code in responses if not code.startswith("2") and code != "504"]
    assert error_codes
    for code in error_codes:
        content = resolve(responses[code])["content"]
        assert list(content) == ["application/json"], (path, code)
        schema = resolve(content["application/json"]["schema"])
        assert {"$ref": "#/components/schemas/ErrorResponse"} in schema["allOf"], (path, code)
        error_type = schema["allOf"][1]["properties"]["error"]["properties"]["type"]
        assert set(error_type["enum"]) == ERROR_TYPES[code], (path, code)


def test_error_envelope_requires_type_and_message() -> None:
    validator = component("RateLimitError")
    ok = {"error": {"type": "engine_overloaded_error", "message": "The engine is currently overloaded"}}
    assert validator.is_valid(ok)
    assert not validator.is_valid({"error": {"message": "no type"}})
    assert not validator.is_valid({"error": {"type": "server_error", "message": "wrong type for a 429"}})


def test_every_component_schema_cites_sources() -> None:
    schemas = document()["components"]["schemas"]
    assert [name for name, schema in schemas.items() if not schema.get("x-sources")] == []


def test_examples_are_valid() -> None:
    checked = 0
    for name, schema in document()["components"]["schemas"].items():
        for example in schema.get("examples", []):
            errors = [e.message for e in component(name).iter_errors(example)]
            assert errors == [], name
            checked += 1
    for _, path, operation in operations():
        media = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        for label, example in media.get("examples", {}).items():
            errors = [e.message for e in schema_validator(media["schema"]).iter_errors(example["value"])]
            assert errors == [], (path, label)
            checked += 1
    assert checked >= 8


def test_conformant_sse_stream_passes_schemathesis_validation() -> None:
    operation = api()["/v1/chat/completions"]["POST"]
    body = sse(*conformant_stream())
    operation.validate_response(http_response(200, "text/event-stream; charset=utf-8", body))


def test_stream_with_tool_call_and_reasoning_fragments_passes() -> None:
    operation = api()["/v1/chat/completions"]["POST"]
    tool_call = {"index": 0, "id": "get_weather:0", "type": "function", "function": {"name": "get_weather"}}
    events: list[dict[str, Any] | str] = [
        chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]),
        chunk([{"index": 0, "delta": {"reasoning_content": "The user wants"}, "finish_reason": None}]),
        chunk([{"index": 0, "delta": {"tool_calls": [tool_call]}, "finish_reason": None}]),
        chunk([{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]}}]),
        chunk([{"index": 0, "delta": {}, "finish_reason": "tool_calls", "usage": USAGE}]),
        "[DONE]",
    ]
    operation.validate_response(http_response(200, "text/event-stream", sse(*events)))


@pytest.mark.parametrize(
    ("broken", "event"),
    [
        pytest.param(lambda events: events[1].pop("object"), 1, id="chunk-missing-object"),
        pytest.param(lambda events: events[2]["choices"][0].update(finish_reason="content_filter"), 2, id="bad-finish"),
        pytest.param(lambda events: events[1].update(object="chat.completion"), 1, id="wrong-object"),
        pytest.param(lambda events: events[1]["choices"][0].pop("delta"), 1, id="choice-missing-delta"),
        pytest.param(lambda events: events[3].update(usage={"prompt_tokens": 1}), 3, id="incomplete-usage"),
        pytest.param(lambda events: events.insert(0, "not json"), 0, id="non-json-data"),
        pytest.param(lambda events: events.insert(4, "[done]"), 4, id="misspelt-terminator"),
    ],
)
def test_broken_sse_stream_fails_schemathesis_validation(broken: Any, event: int) -> None:
    operation = api()["/v1/chat/completions"]["POST"]
    events = conformant_stream()
    broken(events)
    response = http_response(200, "text/event-stream", sse(*events))
    # One broken event gives one failure, raised as such (an AssertionError subclass) and naming the event.
    with pytest.raises(AssertionError, match=rf"SSE event violates schema\s+Event #{event}:"):
        operation.validate_response(response)


def test_json_completion_validates_against_the_json_media_type() -> None:
    operation = api()["/v1/chat/completions"]["POST"]
    completion = document()["components"]["schemas"]["ChatCompletion"]["examples"][0]
    operation.validate_response(http_response(200, "application/json", json.dumps(completion)))
    broken = completion | {"choices": []}
    with pytest.raises(AssertionError, match=r"Response violates schema\s+\[\] has less than 1 item"):
        operation.validate_response(http_response(200, "application/json", json.dumps(broken)))


HELLO = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("model", "fields", "valid"),
    [
        ("kimi-k2.5", {}, True),
        ("kimi-k2.5", {"temperature": 1.0}, True),
        ("kimi-k2.5", {"temperature": 0.6}, False),
        ("kimi-k2.6", {"thinking": {"type": "disabled"}, "temperature": 0.6}, True),
        ("kimi-k2.6", {"thinking": {"type": "disabled"}, "temperature": 1.0}, False),
        ("kimi-k2.6", {"thinking": {"kind": "x"}}, False),
        ("kimi-k2.6", {"thinking": {"type": "enabled", "keep": "all"}}, True),
        ("kimi-k2.5", {"thinking": {"type": "enabled", "keep": "all"}}, False),
        ("kimi-k2.6", {"top_p": 0.8}, False),
        ("kimi-k2.6", {"n": 2}, False),
        (
            "kimi-k2-thinking",
            {"tool_choice": "required", "tools": [{"type": "builtin_function", "function": {"name": "$web_search"}}]},
            False,
        ),
        ("kimi-k2-turbo-preview", {"tool_choice": "required"}, False),
        ("kimi-k2-turbo-preview", {"tool_choice": "required", "tools": []}, False),
        ("kimi-k2-turbo-preview", {"tool_choice": {"type": "function", "function": {"name": "f"}}}, True),
        ("moonshot-v1-8k", {"n": 2}, False),
        ("moonshot-v1-8k", {"n": 2, "temperature": 0.3}, True),
        ("moonshot-v1-8k", {"temperature": 1.5}, False),
        ("kimi-k2.7-code", {"thinking": {"type": "disabled"}}, False),
        ("kimi-k3", {"thinking": {"type": "enabled", "effort": "low"}, "temperature": 0.3}, True),
        ("kimi-k3", {"reasoning_effort": "medium"}, False),
        ("moonshot-v1-8k", {"stop": ["a", "b", "c", "d", "e", "f"]}, False),
        ("moonshot-v1-8k", {"user": "ignored", "seed": 1}, True),
        ("moonshot-v1-8k", {"messages": [{"role": "user", "content": ""}]}, False),
        ("moonshot-v1-8k", {"messages": [{"role": "assistant", "content": "", "partial": True}]}, True),
        ("moonshot-v1-8k", {"messages": [{"role": "assistant", "content": ""}]}, False),
        ("moonshot-v1-8k", {"messages": [{"role": "tool", "content": "42"}]}, False),
        ("moonshot-v1-8k", {"messages": []}, False),
        ("no-such-model", {}, False),
    ],
)
def test_chat_request_rules(model: str, fields: dict[str, Any], valid: bool) -> None:
    body = {"model": model, "messages": HELLO} | fields
    assert component("ChatCompletionRequest").is_valid(body) is valid


def test_image_parts_only_on_vision_models() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    message = {"role": "user", "content": [{"type": "text", "text": "what is this?"}, image]}
    validator = component("ChatCompletionRequest")
    assert validator.is_valid({"model": "moonshot-v1-8k-vision-preview", "messages": [message]})
    assert not validator.is_valid({"model": "moonshot-v1-8k", "messages": [message]})
    public_url = {"type": "image_url", "image_url": "https://example.com/cat.png"}
    assert not validator.is_valid({"model": "kimi-k2.6", "messages": [{"role": "user", "content": [public_url]}]})


def test_chat_request_generation_is_fast_and_positive() -> None:
    operation = api()["/v1/chat/completions"]["POST"]
    validator = component("ChatCompletionRequest")
    bodies: list[Any] = []

    @settings(
        max_examples=15,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy())
    def draw(case: Any) -> None:
        bodies.append(case.body)

    draw()
    assert bodies
    assert [body for body in bodies if not validator.is_valid(body)] == []
