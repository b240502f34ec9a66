"""Validating a chat completion request: the rules table, the contract's family schema, and the cross-field
rules JSON Schema cannot express. Each failure is an `ApiError` in the observed message style.

Order matters only for which message a request with several faults gets: first the rules with observed
messages (sampling parameters, thinking, vision), then the contract schema, then the cross-field rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jsonschema.exceptions import best_match

from kimi_conformance import contract
from kimi_conformance.mock import errors
from kimi_conformance.mock.config import MockConfig
from kimi_conformance.mock.errors import ApiError, invalid_request
from kimi_conformance.mock.request import ChatRequest
from kimi_conformance.rules import ModelInfo, load_rules
from kimi_conformance.rules.cross_field import cross_field_problems, max_output_tokens
from kimi_conformance.tokenizer import count_prompt

NEAR_ZERO_TEMPERATURE = 0.01
"""Temperatures below this allow one choice only (facts §3.3: "0 or close to 0 (e.g. 0.001)"); the cut-off is [I]."""
_DATA_URL = re.compile(r"^data:(image|video)/([a-z0-9.+-]+);base64,", re.IGNORECASE)
FileLookup = Callable[[str], "str | None"]
"""Maps a file id to its purpose, or None when no such file exists."""


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _fmt(value: float) -> str:
    return f"{value:g}"


def check_sampling(body: dict[str, Any], model: ModelInfo, thinking: bool, config: MockConfig) -> None:
    """Sampling parameters against the family's ranges and fixed values (facts §3.3)."""
    for name, rule in model.family.params.items():
        value = body.get(name)
        if value is None:
            continue
        number = _number(value)
        if number is None or (rule.integer and not number.is_integer()):  # JSON Schema: 2.0 is an integer
            raise invalid_request(f"invalid {name}: must be {'an integer' if rule.integer else 'a number'}")
        fixed = rule.fixed_value(thinking)
        if fixed is not None and number != fixed:
            if config.has_fault("sampling-clamped"):
                body[name] = int(fixed) if rule.integer else fixed
                continue
            raise invalid_request(f"invalid {name}: only {_fmt(fixed)} is allowed for this model")
        if rule.minimum is not None and rule.maximum is not None and not rule.minimum <= number <= rule.maximum:
            if config.has_fault("sampling-clamped"):
                body[name] = min(max(number, rule.minimum), rule.maximum)
                continue
            raise invalid_request(
                f"invalid {name}: must be between {_fmt(rule.minimum)} and {_fmt(rule.maximum)} for this model"
            )


def _thinking_on(body: dict[str, Any], model: ModelInfo) -> bool:
    thinking = body.get("thinking") if model.family.thinking_fields else None
    if model.family.thinking_disable_forbidden and isinstance(thinking, dict) and thinking.get("type") == "disabled":
        raise invalid_request("invalid thinking: only type=enabled is allowed for this model")
    return model.thinks(thinking)


def _check_tool_choice(body: dict[str, Any], thinking: bool) -> None:
    choice = body.get("tool_choice")
    if thinking and choice == "required":
        raise invalid_request("tool_choice 'required' is incompatible with thinking enabled")
    if thinking and isinstance(choice, dict):
        raise invalid_request("tool_choice 'specified' is incompatible with thinking enabled")
    if choice == "required" and not body.get("tools"):
        raise invalid_request("Invalid request: tool_choice 'required' needs at least one tool")


def _media_parts(messages: Any) -> list[tuple[str, str]]:
    """(kind, url) of every image and video part in the messages."""
    found: list[tuple[str, str]] = []
    for message in messages if isinstance(messages, list) else []:
        content = message.get("content") if isinstance(message, dict) else None
        for part in content if isinstance(content, list) else []:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind not in ("image_url", "video_url"):
                continue
            holder = part.get(kind)
            url = holder.get("url") if isinstance(holder, dict) else holder
            found.append((kind, url if isinstance(url, str) else ""))
    return found


def _check_media(body: dict[str, Any], model: ModelInfo, files: FileLookup) -> None:
    """Vision parts only for vision models, in the two supported URL forms (facts §3.4)."""
    for kind, url in _media_parts(body.get("messages")):
        medium = "image" if kind == "image_url" else "video"
        if not (model.image_in if medium == "image" else model.video_in):
            raise invalid_request(f"Invalid request: {medium} input is not supported by model {model.id}")
        if url.startswith("ms://"):
            purpose = files(url.removeprefix("ms://"))
            if purpose is None:
                raise invalid_request(f"Invalid request: file {url.removeprefix('ms://')} not found")
            if purpose != medium:
                raise invalid_request(f"Invalid request: file {url} was not uploaded with purpose {medium}")
            continue
        match = _DATA_URL.match(url)
        if match is None or match.group(1).lower() != medium:
            raise invalid_request(f"unsupported {medium} url: {url[:64]}")


def _check_schema(body: dict[str, Any], model: ModelInfo) -> None:
    pointer = contract.chat_request_pointer(model.id)
    if pointer is None:
        return
    error = _first_error(contract.validator_for(pointer), body)
    if error is not None:
        raise invalid_request(f"Invalid request: {error}")


def _first_error(validator: Any, instance: Any) -> str | None:
    error = best_match(validator.iter_errors(instance))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path)
    message = error.message if len(error.message) <= 200 else error.message[:200] + "..."
    return f"{message} (at {where})" if where else message


def _stops(body: dict[str, Any]) -> tuple[str, ...]:
    stop = body.get("stop")
    return (stop,) if isinstance(stop, str) else tuple(stop or ())


def parse_chat_request(body: Any, config: MockConfig, files: FileLookup) -> ChatRequest:
    """Validate `body` and normalise it, or raise the `ApiError` the API answers with."""
    if not isinstance(body, dict):
        raise invalid_request("Invalid request: the body must be a JSON object")
    model_id = body.get("model")
    if not isinstance(model_id, str) or not model_id:
        raise invalid_request("Invalid request: model is required and must be a string")
    model = load_rules().model(model_id)
    if model is None:
        if config.has_fault("unknown-model-400"):
            raise invalid_request(f"Invalid request: unknown model {model_id}")
        raise errors.not_found(errors.MODEL_NOT_FOUND.format(model=model_id))
    thinking = _thinking_on(body, model)
    check_sampling(body, model, thinking, config)
    _check_tool_choice(body, thinking)
    _check_media(body, model, files)
    _check_schema(body, model)
    problems = cross_field_problems(body, model, thinking)
    if problems:
        raise invalid_request(problems[0])
    return _normalise(body, model, thinking, count_prompt(body["messages"], body.get("tools")), max_output_tokens(body))


def _normalise(
    body: dict[str, Any], model: ModelInfo, thinking: bool, prompt_tokens: int, max_tokens: int | None
) -> ChatRequest:
    messages: list[dict[str, Any]] = body["messages"]
    last = messages[-1]
    partial = last.get("role") == "assistant" and last.get("partial") is True
    response_format = body.get("response_format") or {}
    kind = str(response_format.get("type", "text"))
    schema = response_format.get("json_schema", {}).get("schema") if kind == "json_schema" else None
    stream_options = body.get("stream_options") or {}
    return ChatRequest(
        body=body,
        model=model,
        messages=messages,
        tools=list(body.get("tools") or []),
        tool_choice=body.get("tool_choice"),
        n=int(body.get("n") or 1),
        stream=body.get("stream") is True,
        include_usage=stream_options.get("include_usage") is True,
        stops=_stops(body),
        max_tokens=max_tokens,
        response_format=kind,
        json_schema=schema,
        thinking=thinking,
        partial_prefix=str(last.get("content") or "") if partial else None,
        prompt_tokens=prompt_tokens,
    )


def validation_error(validator: Any, instance: Any) -> ApiError | None:
    """A 400 for an instance that breaks a contract schema (used by the non-chat operations)."""
    message = _first_error(validator, instance)
    return None if message is None else invalid_request(f"Invalid request: {message}")
