"""Validating a chat completion request: the rules table (one source of truth, with each rule's message), the
contract's family schema, then the table's rules that need a schema-valid body (token counts). Each failure is
an `ApiError` in the observed message style.

Faults `rule-ignored:<rule>` and `rule-strict:<rule>` (see `faults.py`) make the mock skip one rule, or refuse
every request that touches it. The contract schema restates several rules (tools maxItems, the name pattern...),
so with a `rule-ignored:` fault on, the schema check is skipped too: the fault then really ignores the rule.
"""

from __future__ import annotations

import functools
from typing import Any

from kimi_conformance import contract
from kimi_conformance.mock import errors
from kimi_conformance.mock.config import MockConfig
from kimi_conformance.mock.errors import ApiError, invalid_request
from kimi_conformance.mock.request import ChatRequest, reasoning_kept
from kimi_conformance.mock.schema_gate import first_error
from kimi_conformance.rules import ModelInfo, Rule, load_rules
from kimi_conformance.rules.request_rules import (
    ChatView,
    FileLookup,
    RuleLogic,
    dynamic_tools,
    logic,
    max_output_tokens,
    message,
    thinking_on,
)


def _clamp(rule: Rule, view: ChatView) -> None:
    """The `sampling-clamped` fault: bring an out-of-rule sampling value into line instead of refusing it."""
    param = rule.param
    assert param is not None
    fixed = param.fixed_value(view.thinking)
    value = float(view.body[param.name])
    if fixed is None and param.minimum is not None and param.maximum is not None:
        fixed = min(max(value, param.minimum), param.maximum)
    assert fixed is not None
    view.body[param.name] = int(fixed) if param.integer else fixed


PhaseRule = tuple[Rule, RuleLogic, str, str]
"""A rule of one phase, its code, and the names of its two faults (`rule-ignored:`, `rule-strict:`)."""


@functools.cache
def _phase_rules(model_id: str, after_schema: bool) -> tuple[PhaseRule, ...]:
    """The rules of one phase for a model, in table order, each with its code and the names of its two faults:
    worked out once per model (the table is frozen), not on every request."""
    model = load_rules().model(model_id)
    assert model is not None
    return tuple(
        (rule, logic(rule), f"rule-ignored:{rule.id}", f"rule-strict:{rule.id}")
        for rule in load_rules().rules_for(model)
        if rule.after_schema == after_schema
    )


@functools.cache
def _trigger_keys() -> frozenset[str]:
    """Every body key some rule is keyed on (`RuleLogic.keys`)."""
    return frozenset(key for rule in load_rules().rules.values() for key in logic(rule).keys)


@functools.lru_cache(maxsize=4096)
def _rules_to_ask(model_id: str, after_schema: bool, present: frozenset[str]) -> tuple[PhaseRule, ...]:
    """The rules of a phase a body with these trigger keys can break, in table order: the others read keys it lacks."""
    return tuple(
        entry for entry in _phase_rules(model_id, after_schema) if not entry[1].keys or present & set(entry[1].keys)
    )


def enforce_rules(view: ChatView, config: MockConfig, *, after_schema: bool) -> None:
    """Raise the first rule of the table (of one phase) the request breaks, as the API's 400. Without faults only
    the rules the body can break are asked (see `RuleLogic.keys`); a fault's rules are all asked, as it says."""
    faults = config.faults
    if faults:
        entries = _phase_rules(view.model.id, after_schema)
    else:
        entries = _rules_to_ask(view.model.id, after_schema, _trigger_keys().intersection(view.body))
    for rule, code, ignored, strict in entries:
        if faults and ignored in faults:
            continue
        fields = code.broken(view)
        if fields is not None:
            if rule.param is not None and "sampling-clamped" in faults:
                _clamp(rule, view)
                continue
            raise invalid_request(message(rule, fields))
        if faults and strict in faults and code.touches(view):
            raise invalid_request(f"Invalid request: {rule.title} (refused by fault rule-strict:{rule.id})")


_chat_pointer = functools.cache(contract.chat_request_pointer)
"""The family request schema of each model, looked up in the contract's discriminator once per model."""


def _check_schema(body: dict[str, Any], model: ModelInfo) -> None:
    pointer = _chat_pointer(model.id)
    if pointer is None:
        return
    error = first_error(pointer, body)
    if error is not None:
        raise invalid_request(f"Invalid request: {error}")


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
    model = config.model(model_id)
    if model is None:
        if config.has_fault("unknown-model-400"):
            raise invalid_request(f"Invalid request: unknown model {model_id}")
        raise errors.not_found(errors.MODEL_NOT_FOUND.format(model=model_id))
    view = ChatView(body, model, thinking_on(body, model), files)
    enforce_rules(view, config, after_schema=False)
    if not any(fault.startswith("rule-ignored:") for fault in config.faults):
        _check_schema(body, model)
    enforce_rules(view, config, after_schema=True)
    kept = reasoning_kept(body, model)  # counted as the context rules counted them, once
    prompt = (view.prompt_tokens(reasoning=kept), view.message_tokens(reasoning=kept))
    return _normalise(body, model, view.thinking, prompt, max_output_tokens(body))


def _normalise(
    body: dict[str, Any],
    model: ModelInfo,
    thinking: bool,
    prompt: tuple[int, tuple[int, ...]],
    max_tokens: int | None,
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
        tools=[*(body.get("tools") or []), *dynamic_tools(body)],
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
        prompt_tokens=prompt[0],
        message_tokens=prompt[1],
    )


def validation_error(pointer: str, instance: Any) -> ApiError | None:
    """A 400 for an instance that breaks the contract schema at `pointer` (used by the non-chat operations)."""
    message = first_error(pointer, instance)
    return None if message is None else invalid_request(f"Invalid request: {message}")
