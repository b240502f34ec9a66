"""Deterministic generation of one choice: reasoning, content or tool calls, cut by stop and token budget.

Same request and seed, same output. The text depends only on the conversation (see `ChatRequest.seed_material`),
so adding `stop`, a token limit or `stream` cuts or reframes the same text rather than producing another.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from kimi_conformance.mock import instances, variations
from kimi_conformance.mock.request import ChatRequest
from kimi_conformance.tokenizer import count_text, prefix_with_tokens

_VOCABULARY = tuple(
    (
        "the moon rises over quiet water while kimi answers every question with care and a little wit "
        "streams of tokens flow through the wire one chunk after another until the final sentinel arrives "
        "a careful server keeps its promises about usage order roles and tool calls so clients never guess "
        "tests read each event check each field and report what breaks in plain words with evidence attached"
    ).split()
)
_REASONING_OPENERS = ("Let me think about this.", "First, consider the request.", "The user asks something.")
_PIECE = re.compile(r"\S+\s*|\s+")
UNDECLARED_TOOL = "web_lookup"
"""The function the `undeclared-tool-called` fault calls instead of the first declared one (K2VV #12, facts §12)."""
EFFORT_DEPTH = {"low": 0, "high": 1, "max": 2}
"""Extra rounds of reasoning per effort level (each as long as the first): low < high < max, the same opening."""


@dataclass(slots=True)
class ToolCallPlan:
    """One tool call the choice makes."""

    id: str
    name: str
    arguments: str
    type: str = "function"


@dataclass(slots=True)
class ChoicePlan:
    """Everything one choice emits, decided before any byte is sent."""

    index: int
    reasoning: str | None
    content: str
    tool_calls: list[ToolCallPlan] = field(default_factory=list)
    finish_reason: str = "stop"

    @property
    def completion_tokens(self) -> int:
        total = count_text(self.reasoning or "") + count_text(self.content)
        for call in self.tool_calls:
            total += count_text(call.name) + count_text(call.arguments)
        return total


SENTENCE_WORDS = (6, 12)
"""The shortest and the longest sentence, in words."""
_LENGTHS = SENTENCE_WORDS[1] - SENTENCE_WORDS[0] + 1
_WORD_BITS, _LENGTH_BITS = len(_VOCABULARY).bit_length(), _LENGTHS.bit_length()


def _sentences(rng: random.Random, words: int) -> str:
    """`words` words of the vocabulary in sentences of 6 to 12 words. Per word, two draws, made as `Random.choice`
    and `Random.randint` make them (`_randbelow`: as many random bits as the range needs, again while the number is
    out of range): `rng.choice(_VOCABULARY)` for the word, `rng.randint(6, 12)` for whether the sentence ends there.
    Written out, they cost half as much, for the same text (tests/mock/test_generation_draws.py)."""
    out: list[str] = []
    sentence: list[str] = []
    bits, count = rng.getrandbits, len(_VOCABULARY)
    for _ in range(words):
        word = bits(_WORD_BITS)
        while word >= count:
            word = bits(_WORD_BITS)
        sentence.append(_VOCABULARY[word])
        length = bits(_LENGTH_BITS)
        while length >= _LENGTHS:
            length = bits(_LENGTH_BITS)
        if len(sentence) >= SENTENCE_WORDS[0] + length:
            out.append(" ".join(sentence).capitalize() + ".")
            sentence = []
    if sentence:
        out.append(" ".join(sentence).capitalize() + ".")
    return " ".join(out)


def pieces(text: str) -> list[str]:
    """Split text into stream deltas (a word with its trailing space); joining them gives the text back."""
    return _PIECE.findall(text)


def _cut_to_budget(text: str, budget: int) -> tuple[str, bool]:
    """The prefix of `text` holding exactly `budget` tokens (a word may be cut), and whether it was cut."""
    if count_text(text) <= budget:
        return text, False
    return prefix_with_tokens(text, budget), True


def _apply_stop(text: str, stops: tuple[str, ...]) -> tuple[str, bool]:
    positions = [text.find(stop) for stop in stops if stop and stop in text]
    if not positions:
        return text, False
    return text[: min(positions)], True


def named_choice(tool_choice: Any) -> str | None:
    """The function a named tool_choice (`{"type": "function", "function": {"name": X}}`) forces, else None."""
    function = tool_choice.get("function") if isinstance(tool_choice, dict) else None
    if not isinstance(function, dict) or tool_choice.get("type") != "function":
        return None
    name = function.get("name")
    return name if isinstance(name, str) else None


def forces_a_call(request: ChatRequest) -> bool:
    """Whether the request's tool_choice forces a call: `required`, or a named function it declares."""
    named = named_choice(request.tool_choice)
    return request.tool_choice == "required" or any(_name(tool) == named for tool in request.tools)


def _name(tool: dict[str, Any]) -> str:
    return str(tool.get("function", {}).get("name", ""))


def _tool_names_to_call(request: ChatRequest, rng: random.Random, faults: frozenset[str]) -> list[dict[str, Any]]:
    """The tools the choice calls: none with `tool_choice: none`, the named function only when one is named, at
    least one with `required`; with `auto`, those the last message names (else one), unless it answers tool results."""
    choice = request.tool_choice
    if choice == "none" and "tool-choice-none-ignored" in faults:
        choice = "required"
    if choice == "required" and "tool-choice-required-ignored" in faults:
        return []  # answers in words
    named = None if "named-tool-choice-ignored" in faults else named_choice(choice)
    if not request.tools or choice == "none":
        return []
    forced = [tool for tool in request.tools if _name(tool) == named]
    if forced:
        return forced[:1]
    if choice != "required" and request.last_role not in ("user", "system"):
        return []  # after tool results (or a partial prefix) the model answers in words
    last = request.messages[-1].get("content")
    text = last if isinstance(last, str) else json.dumps(last)
    mentioned = [tool for tool in request.tools if _name(tool) in text]
    return mentioned or [rng.choice(request.tools)]


def _arguments(tool: dict[str, Any], rng: random.Random, faults: frozenset[str]) -> str:
    function = tool.get("function", {})
    if "tool-args-invalid" in faults:
        return json.dumps({"unexpected": True})
    if tool.get("type") == "builtin_function":
        search_id = f"{rng.getrandbits(64):016x}"
        return json.dumps({"search_result": {"search_id": search_id}, "usage": {"total_tokens": 128}})
    value = instances.generate(function.get("parameters", {}), rng)
    if "benign-loose-tool-arguments" in faults and function.get("strict") is False:
        value = variations.loose_arguments(value, function.get("parameters"))
    if "tool-args-missing-required" in faults:
        value = _without_required(value, function.get("parameters"))
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _without_required(value: Any, parameters: Any) -> Any:
    """`tool-args-missing-required`: the arguments without the first required property of the root."""
    required = parameters.get("required") if isinstance(parameters, dict) else None
    names = [name for name in required if isinstance(name, str)] if isinstance(required, list) else []
    if not isinstance(value, dict) or not names:
        return value
    return {key: item for key, item in value.items() if key != names[0]}


def _unparsed_markup(calls: list[ToolCallPlan]) -> str:
    """`tool-call-markup-unparsed`: the calls as the K2 chat template writes them (verifiers §1), before a tool-call
    parser turns them into `tool_calls`."""
    inner = "".join(
        f"<|tool_call_begin|>{call.id}<|tool_call_argument_begin|>{call.arguments}<|tool_call_end|>" for call in calls
    )
    return f"<|tool_calls_section_begin|>{inner}<|tool_calls_section_end|>"


def _answer(request: ChatRequest, rng: random.Random, faults: frozenset[str]) -> str:
    if "json-mode-ignored" in faults:
        return _sentences(rng, rng.randint(10, 40))
    if request.response_format == "json_schema" and request.json_schema is not None:
        return json.dumps(instances.generate(request.json_schema, rng), ensure_ascii=False, separators=(",", ":"))
    if request.response_format == "json_object":
        value = {"answer": _sentences(rng, rng.randint(4, 10)), "confidence": round(rng.random(), 2)}
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return _sentences(rng, rng.randint(10, 40))


def plan_choice(request: ChatRequest, index: int, seed: int, faults: frozenset[str] = frozenset()) -> ChoicePlan:
    """Decide what choice `index` of `request` says (`faults`: named deviations of the mock, see faults.py)."""
    rng = random.Random(f"{seed}:{index}:{request.digest()}")
    reasoning = None
    if request.thinking or "reasoning-always" in faults:
        words = rng.randint(8, 24)
        reasoning = rng.choice(_REASONING_OPENERS) + " " + _sentences(rng, words)
        for depth in range(1, EFFORT_DEPTH.get(request.effort or "low", 0) + 1):
            # each round its own generator: the answer is the same at every effort, the reasoning only grows
            more = random.Random(f"{seed}:{index}:{request.digest(f'effort-{depth}')}")
            reasoning += " " + _sentences(more, words)
    tools = _tool_names_to_call(request, rng, faults)
    budget = None if "max-tokens-ignored" in faults else request.max_tokens
    if tools:
        base = request.tool_call_count()
        calls = [
            ToolCallPlan(id=f"functions.{name}:{base + i}", name=name, arguments=_arguments(tool, rng, faults))
            for i, tool in enumerate(tools)
            for name in [UNDECLARED_TOOL if i == 0 and "undeclared-tool-called" in faults else _name(tool)]
        ]
        plan = ChoicePlan(index=index, reasoning=reasoning, content="", tool_calls=calls, finish_reason="tool_calls")
        if "tool-call-markup-unparsed" in faults:  # the parser did not run, the finish reason still says tool_calls
            plan = ChoicePlan(index, reasoning, _unparsed_markup(calls), finish_reason="tool_calls")
        if budget is None or plan.completion_tokens <= budget:
            return plan
        # The budget ran out before the call was complete: the output is cut, exactly at the cap (`length`, even
        # where the call was forced: never a text answer that `stop`s).
        reasoning_kept, _ = _cut_to_budget(reasoning or "", budget)
        spare = budget - count_text(reasoning_kept)
        content = prefix_with_tokens(_sentences(rng, spare + 8), spare)
        cut_as_stop = "forced-call-cut-as-stop" in faults and forces_a_call(request)
        finish = "stop" if cut_as_stop else "length"
        return ChoicePlan(index, None if reasoning is None else reasoning_kept, content, finish_reason=finish)
    stops = () if "stop-ignored" in faults else request.stops
    answer = _answer(request, rng, faults)
    if request.partial_prefix and "partial-prefix-repeated" in faults:
        answer = request.partial_prefix + answer
    content, _ = _apply_stop(answer, stops)
    if budget is not None:
        reasoning_tokens = count_text(reasoning or "")
        if reasoning is not None and reasoning_tokens >= budget:
            kept, _ = _cut_to_budget(reasoning, budget)
            return ChoicePlan(index, kept, "", finish_reason="length")
        content, cut = _cut_to_budget(content, budget - reasoning_tokens)
        if cut:
            return ChoicePlan(index, reasoning, content, finish_reason="length")
    if not _fits(request, content, faults):
        return ChoicePlan(index, reasoning, content, finish_reason="length")
    return ChoicePlan(index, reasoning, content, finish_reason="stop")


def _fits(request: ChatRequest, content: str, faults: frozenset[str]) -> bool:
    """Whether a json_schema answer is valid. One that is not was cut short of what its schema asks (a minItems of
    18,865; `instances` stops generating long before): a model would run out of output there, so it ends as
    `length`, where validity is not promised."""
    if request.response_format != "json_schema" or request.json_schema is None or "json-mode-ignored" in faults:
        return True
    try:
        return bool(Draft202012Validator(request.json_schema).is_valid(json.loads(content)))
    except Exception:  # a schema jsonschema cannot use, or content a stop sequence cut: nothing to hold it to
        return True
