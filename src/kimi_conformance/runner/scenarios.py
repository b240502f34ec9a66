"""Requests the suites send: cheap (tiny `max_completion_tokens`), valid for the model they go to (its fixed
sampling values and thinking rules respected), and meaningful for the property under test."""

from __future__ import annotations

from typing import Any

from kimi_conformance.exchange import Exchange
from kimi_conformance.profiles import PROFILES
from kimi_conformance.rules import ModelInfo, load_rules
from kimi_conformance.rules.probes import Probe, ProbeBuilder, probes_for
from kimi_conformance.transport import TargetClient

SMALL_MAX_TOKENS = 24
"""Output cap of generated requests: enough for a short answer or a tool call, cheap on a live API."""

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city"],
        },
    },
}

TIME_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Local time in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}

PERSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0, "maximum": 150}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def chat(model_id: str, text: str = "Say OK.", *, max_tokens: int = SMALL_MAX_TOKENS, **extra: Any) -> dict[str, Any]:
    """A minimal chat request for the target's `model_id`."""
    return {"model": model_id, "messages": user(text), "max_completion_tokens": max_tokens, **extra}


def allows_several_choices(model: ModelInfo) -> bool:
    rule = model.family.params.get("n")
    return rule is not None and rule.fixed is None and (rule.maximum or 1) >= 2


def sampling_for_choices(model: ModelInfo) -> dict[str, Any]:
    """Parameters that make `n > 1` legal: a temperature well above 0 where the family takes a range."""
    rule = model.family.params.get("temperature")
    return {"temperature": 0.7} if rule is not None and rule.fixed_value(False) is None else {}


def can_disable_thinking(model: ModelInfo) -> bool:
    return model.thinks(None) and not model.thinks({"type": "disabled"})


def no_thinking_switch(model: ModelInfo) -> str | None:
    """Why a thinking on/off scenario does not apply to `model`, or None when it does."""
    if can_disable_thinking(model):
        return None
    state = "thinks always" if model.thinks({"type": "disabled"}) else "never thinks"
    return f"{model.id} {state}: no thinking switch to test"


def thinking_disabled(model: ModelInfo) -> dict[str, Any]:
    """Extra fields that switch thinking off, with the sampling values the family then requires."""
    fields: dict[str, Any] = {"thinking": {"type": "disabled"}}
    rule = model.family.params.get("temperature")
    if rule is not None and rule.fixed_non_thinking is not None:
        fields["temperature"] = rule.fixed_non_thinking
    return fields


def tool_call(model_id: str, city: str = "Paris", max_tokens: int = 64) -> dict[str, Any]:
    """A request that asks for get_weather by name with `tool_choice: auto`, which every model takes: thinking
    models refuse `required`, and whether the others take it is contested (facts §3.6, §11.3)."""
    return chat(
        model_id,
        f"What is the weather in {city}? Use get_weather.",
        max_tokens=max_tokens,
        tools=[WEATHER_TOOL],
        tool_choice="auto",
    )


def named_tool_choice(name: str) -> dict[str, Any]:
    """A tool_choice naming one function: `{"type": "function", "function": {"name": name}}`."""
    return {"type": "function", "function": {"name": name}}


def forced_tool_call(
    model_id: str, model: ModelInfo, tool_choice: str | dict[str, Any], *, max_tokens: int = 64
) -> dict[str, Any] | None:
    """A question for get_weather and get_time, both declared, with a `tool_choice` that forces a call (`required`,
    or a named function: that one only), thinking switched off where the model thinks by default, since the rules
    table refuses a forcing tool_choice while thinking (facts §3.6); None on a model that always thinks."""
    if model.thinks({"type": "disabled"}):
        return None
    extra = thinking_disabled(model) if model.thinks(None) else {}
    question = "What are the weather and the local time in Oslo? Use get_weather and get_time."
    tools = [WEATHER_TOOL, TIME_TOOL]
    return chat(model_id, question, max_tokens=max_tokens, tools=tools, tool_choice=tool_choice, **extra)


def json_schema_format(strict: bool = True) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON_SCHEMA, "strict": strict}}


def batch_line(custom_id: str, model_id: str) -> dict[str, Any]:
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": chat(model_id)}


def rule_probe_count(model: ModelInfo, profile: str) -> int:
    """Requests a full rules run costs for one model: the boundary probes plus the hypothesis examples."""
    explored = sum(len(ProbeBuilder(model).modes()) for rule in load_rules().rules_for(model) if rule.param is not None)
    return len(probes_for(model)) + explored * PROFILES[profile].rules.max_examples


def send_probe(client: TargetClient, probe: Probe) -> Exchange:
    """Send one rule probe, marked with its rule and whether a conformant target serves it."""
    exchange = client.request("createChatCompletion", "POST", "/chat/completions", json_body=probe.body)
    exchange.intent = "valid" if probe.accept else "invalid"
    exchange.rule = (probe.rule, probe.label)
    return exchange
