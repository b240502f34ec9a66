"""Serving defects seen on real Kimi deployments (facts §12), as faults: a planned choice, or its stream deltas,
rewritten the way a broken serving stack sends them (no reasoning parser, no tool-call parser, reasoning lost)."""

from __future__ import annotations

import dataclasses
from typing import Any

from kimi_conformance.mock.config import MockConfig
from kimi_conformance.mock.generation import ChoicePlan, ToolCallPlan


def tool_call_markup(calls: list[ToolCallPlan]) -> str:
    """The tool calls as the K2 chat template writes them, before a tool-call parser turns them into `tool_calls`."""
    inner = "".join(
        f"<|tool_call_begin|>{call.id}<|tool_call_argument_begin|>{call.arguments}<|tool_call_end|>" for call in calls
    )
    return f"<|tool_calls_section_begin|>{inner}<|tool_calls_section_end|>"


def serving_defects(plan: ChoicePlan, config: MockConfig) -> ChoicePlan:
    """The plan as a serving stack with the switched-on defects answers it:

    - `tool-call-markup-in-content`: the tool calls as raw markup in `content`, finish_reason `stop`;
    - `think-tags-in-content`: the reasoning printed in `content` inside `<think>` tags, no reasoning_content;
    - `reasoning-dropped`: no reasoning_content at all (streams send `reasoning_content: null`, `null_reasoning`).
    """
    if plan.tool_calls and config.has_fault("tool-call-markup-in-content"):
        content = plan.content + tool_call_markup(plan.tool_calls)
        plan = dataclasses.replace(plan, content=content, tool_calls=[], finish_reason="stop")
    if plan.reasoning and config.has_fault("think-tags-in-content"):
        plan = dataclasses.replace(plan, content=f"<think>{plan.reasoning}</think>{plan.content}", reasoning=None)
    if plan.reasoning is not None and config.has_fault("reasoning-dropped"):
        plan = dataclasses.replace(plan, reasoning=None)
    return plan


def null_reasoning(deltas: list[dict[str, Any]], config: MockConfig) -> list[dict[str, Any]]:
    """Under `reasoning-dropped`: every delta carries `"reasoning_content": null` (SGLang #39898, facts §12)."""
    if not config.has_fault("reasoning-dropped"):
        return deltas
    return [{**delta, "reasoning_content": None} for delta in deltas]
