"""A small OpenAPI document shaped like Moonshot's published spec (the tests never copy or fetch the real one):
the chat request is a `oneOf` of per-model-family schemas, each an `allOf` of the shared request and the
family's own fields, with a `model` whose `enum` lists the family's ids and a discriminator mapping each id to
its family; a message is one object with a `role` enum, its content a string or a `oneOf` of titled parts;
`response_format` and the tools are single objects; the token estimate lists the model ids again."""

from __future__ import annotations

import copy
from typing import Any

Doc = dict[str, Any]

FAMILIES: dict[str, tuple[str, list[str]]] = {
    "kimi-k2.6": ("KimiK26ChatRequest", ["kimi-k2.6"]),
    "kimi-k2.5": ("KimiK25ChatRequest", ["kimi-k2.5"]),
    "kimi-k2": ("KimiK2ChatRequest", ["kimi-k2-0905-preview", "kimi-k2-0711-preview", "kimi-k2-turbo-preview"]),
    "kimi-k2-thinking": ("KimiK2ThinkingChatRequest", ["kimi-k2-thinking", "kimi-k2-thinking-turbo"]),
    "moonshot-v1": ("MoonshotV1ChatRequest", ["moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k",
                                              "moonshot-v1-auto", "moonshot-v1-8k-vision-preview",
                                              "moonshot-v1-32k-vision-preview", "moonshot-v1-128k-vision-preview"]),
}  # fmt: skip
"""Title -> (schema name, model ids), in the published order."""

THINKING = ("kimi-k2.6", "kimi-k2.5")
"""The families with a `thinking` switch (and fixed sampling) instead of sampling ranges."""

CHAT = "/v1/chat/completions"
ESTIMATE = "/v1/tokenizers/estimate-token-count"


def _ranged(low: float, high: float) -> Doc:
    return {"type": "number", "minimum": low, "maximum": high}


def _part(kind: str, value: Doc) -> Doc:
    return {"title": kind, "type": "object", "required": ["type", kind],
            "properties": {"type": {"type": "string", "enum": [kind]}, kind: value}}  # fmt: skip


_URL: Doc = {"oneOf": [{"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]},
                       {"type": "string"}]}  # fmt: skip

MESSAGE: Doc = {
    "type": "object",
    "required": ["role", "content"],
    "properties": {
        "role": {"type": "string", "enum": ["system", "user", "assistant"]},
        "content": {"oneOf": [
            {"type": "string"},
            {"type": "array", "items": {"oneOf": [
                _part("text", {"type": "string"}), _part("image_url", _URL), _part("video_url", _URL)]}},
        ]},
        "name": {"type": "string"},
        "partial": {"type": "boolean"},
    },
}  # fmt: skip

TOOL: Doc = {
    "type": "object",
    "required": ["type", "function"],
    "properties": {
        "type": {"type": "string", "enum": ["function"]},
        "function": {"type": "object", "required": ["name", "parameters"], "properties": {
            "name": {"type": "string"}, "description": {"type": "string"},
            "parameters": {"type": "object", "additionalProperties": True}, "strict": {"type": "boolean"}}},
    },
}  # fmt: skip

BASE: Doc = {
    "type": "object",
    "properties": {
        "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
        "max_tokens": {"type": "integer", "deprecated": True},
        "max_completion_tokens": {"type": "integer"},
        "response_format": {"type": "object", "properties": {
            "type": {"type": "string", "enum": ["text", "json_object", "json_schema"]},
            "json_schema": {"type": "object", "properties": {
                "name": {"type": "string"}, "strict": {"type": "boolean"}, "schema": {"type": "object"}}}}},
        "stop": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 5}]},
        "stream": {"type": "boolean"},
        "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}}},
        "tools": {"type": "array", "maxItems": 128, "items": {"$ref": "#/components/schemas/ToolDefinition"}},
        "prompt_cache_key": {"type": "string"},
        "safety_identifier": {"type": "string"},
    },
}  # fmt: skip


def family(title: str, ids: list[str]) -> Doc:
    """The schema of one family: the shared request and its own `model` ids, sampling or thinking switch."""
    own: Doc = {"model": {"type": "string", "enum": list(ids)}}
    if title in THINKING:
        switch: Doc = {"type": {"type": "string", "enum": ["enabled", "disabled"]}}
        if title == "kimi-k2.6":
            switch["keep"] = {"type": ["string", "null"], "enum": ["all", None]}
        own["thinking"] = {"type": "object", "required": ["type"], "additionalProperties": False,
                           "properties": switch}  # fmt: skip
    else:
        own |= {"temperature": _ranged(0, 1), "top_p": _ranged(0, 1),
                "n": {"type": "integer", "minimum": 1, "maximum": 5},
                "presence_penalty": _ranged(-2, 2), "frequency_penalty": _ranged(-2, 2)}  # fmt: skip
    return {"title": title, "allOf": [{"$ref": "#/components/schemas/ChatRequestBase"},
                                      {"type": "object", "required": ["model"], "properties": own}]}  # fmt: skip


def _json(schema: Doc) -> Doc:
    return {"content": {"application/json": {"schema": schema}}}


def published_like(families: dict[str, tuple[str, list[str]]] | None = None) -> Doc:
    """The document, with `families` (title -> (schema name, ids)) as the chat request's branches, in order."""
    chosen = FAMILIES if families is None else families
    schemas: Doc = {"Message": copy.deepcopy(MESSAGE), "ToolDefinition": copy.deepcopy(TOOL),
                    "ChatRequestBase": copy.deepcopy(BASE)}  # fmt: skip
    mapping: Doc = {}
    for title, (name, ids) in chosen.items():
        schemas[name] = family(title, ids)
        mapping |= dict.fromkeys(ids, f"#/components/schemas/{name}")
    chat = {"oneOf": [{"$ref": f"#/components/schemas/{name}"} for name, _ in chosen.values()],
            "discriminator": {"propertyName": "model", "mapping": mapping}}  # fmt: skip
    every_id = [model for _, ids in chosen.values() for model in ids]
    estimate = {"type": "object", "required": ["model", "messages"], "properties": {
        "model": {"type": "string", "enum": every_id},
        "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}}}}  # fmt: skip
    ok = {"200": {"description": "ok", **_json({"type": "object"})}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "published-like", "version": "1"},
        "paths": {
            CHAT: {"post": {"requestBody": {"required": True, **_json(chat)}, "responses": ok}},
            ESTIMATE: {"post": {"requestBody": {"required": True, **_json(estimate)}, "responses": ok}},
        },
        "components": {"schemas": schemas},
    }


def reversed_unions(node: Any) -> Any:
    """`node` with every `oneOf` and `anyOf` written in the reverse order (a copy)."""
    if isinstance(node, list):
        return [reversed_unions(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {key: reversed_unions(value[::-1] if key in ("oneOf", "anyOf") and isinstance(value, list) else value)
            for key, value in node.items()}  # fmt: skip


def chat_pointer() -> str:
    return "#/paths/~1v1~1chat~1completions/post/requestBody/content/application~1json/schema"
