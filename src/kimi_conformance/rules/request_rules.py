"""What each request rule of the table means, as code: when a chat request breaks it, and when a request touches
it at all. The mock enforces the table through `broken()`; the suite computes what its probes expect with it;
the schemathesis bridge drops generated "valid" bodies that break a rule.

Every function reads the body defensively (a rule may run before the contract schema) and returns the fields
of the rule's message when the rule is broken, else None.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kimi_conformance.rules.table import ModelInfo, Rule, load_rules
from kimi_conformance.tokenizer import message_tokens, prompt_of

NEAR_ZERO_TEMPERATURE = 0.01
"""Temperatures below this allow one choice only (facts §3.3: "0 or close to 0 (e.g. 0.001)"); the cut-off is [I]."""
MAX_TOOLS = 128
MAX_STOPS = 5
MAX_STOP_BYTES = 32
TOOL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9-_]{2,63}$")
ROLES = ("system", "user", "assistant", "tool")
TOOL_TYPES = ("function", "builtin_function")
RESPONSE_FORMATS = ("text", "json_object", "json_schema")
EFFORTS = ("low", "high", "max")
_DATA_URL = re.compile(r"^data:(image|video)/[a-z0-9.+-]+;base64,", re.IGNORECASE)

FileLookup = Callable[[str], "str | None"]
"""Maps a file id to its purpose, or None when no such file exists."""
Fields = dict[str, object]


@dataclass(frozen=True, slots=True)
class ChatView:
    """A chat request as the rules see it: the body, the model, whether it thinks, and the uploaded files.

    What the rules read of the body (its messages, functions, response format, thinking object) is worked out once,
    when the view is made, and the prompt's tokens once, when a rule first asks: some thirty rules read them per
    request. A view is made of a body as it is; one whose messages or tools change later needs a new view."""

    body: dict[str, Any]
    model: ModelInfo
    thinking: bool
    files: FileLookup = field(default=lambda file_id: None)
    messages: list[dict[str, Any]] = field(init=False, repr=False, compare=False)
    functions: list[dict[str, Any]] = field(init=False, repr=False, compare=False)
    """The `function` objects of the tools (builtin ones included)."""
    response_format: dict[str, Any] = field(init=False, repr=False, compare=False)
    json_schema: dict[str, Any] | None = field(init=False, repr=False, compare=False)
    thinking_object: dict[str, Any] | None = field(init=False, repr=False, compare=False)
    _counted: dict[bool, tuple[int, ...]] = field(init=False, repr=False, compare=False)
    _prompts: dict[bool, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        body, keep = self.body, object.__setattr__
        messages = body.get("messages")
        keep(self, "messages", [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else [])
        tools = body.get("tools")
        found = [t.get("function") for t in tools if isinstance(t, dict)] if isinstance(tools, list) else []
        keep(self, "functions", [f for f in found if isinstance(f, dict)])
        response_format = body.get("response_format")
        response_format = response_format if isinstance(response_format, dict) else {}
        keep(self, "response_format", response_format)
        schema = response_format.get("json_schema")
        is_schema = response_format.get("type") == "json_schema" and isinstance(schema, dict)
        keep(self, "json_schema", schema if is_schema else None)
        thinking = body.get("thinking")
        has_object = isinstance(thinking, dict) and bool(self.model.family.thinking_fields)
        keep(self, "thinking_object", thinking if has_object else None)
        keep(self, "_counted", {})
        keep(self, "_prompts", {})

    def message_tokens(self, *, reasoning: bool = True) -> tuple[int, ...]:
        """Each message's tokens as `count_prompt` counts them (a body valid against the contract), counted once."""
        counted = self._counted.get(reasoning)
        if counted is None:
            counted = self._counted[reasoning] = message_tokens(self.body["messages"], reasoning=reasoning)
        return counted

    def prompt_tokens(self, *, reasoning: bool = True) -> int:
        """The prompt's tokens as `count_prompt` counts them (a body valid against the contract), the tool
        definitions counted once too."""
        prompt = self._prompts.get(reasoning)
        if prompt is None:
            prompt = self._prompts[reasoning] = prompt_of(
                self.message_tokens(reasoning=reasoning), self.body.get("tools")
            )
        return prompt


def thinking_on(body: dict[str, Any], model: ModelInfo) -> bool:
    """Whether the request makes the model reason (the `thinking` field counts only where the family has one)."""
    return model.thinks(body.get("thinking") if model.family.thinking_fields else None)


def max_output_tokens(body: dict[str, Any]) -> int | None:
    """The requested output cap: `max_completion_tokens`, else the deprecated `max_tokens` (2.0 counts as 2)."""
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
    return None


def number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _fmt(value: float | None) -> str:
    return f"{value:g}" if value is not None else "?"


def _sampling(rule: Rule, view: ChatView) -> Fields | None:
    assert rule.param is not None
    value = number(view.body.get(rule.param.name))
    if value is None or (rule.param.integer and not value.is_integer()):
        return None  # absent, or a type error the contract schema reports
    fixed = rule.param.fixed_value(view.thinking)
    if fixed is not None:
        return {"param": rule.param.name, "value": _fmt(fixed)} if value != fixed else None
    low, high = rule.param.minimum, rule.param.maximum
    if low is not None and high is not None and not low <= value <= high:
        return {"param": rule.param.name, "minimum": _fmt(low), "maximum": _fmt(high)}
    return None


def _near_zero(view: ChatView) -> Fields | None:
    choices = number(view.body.get("n"))
    if choices is None or choices <= 1:
        return None
    temperature = number(view.body.get("temperature"))
    if temperature is None:
        temperature = view.model.family.params["temperature"].effective_default(view.thinking)
    return {} if temperature < NEAR_ZERO_TEMPERATURE else None


def _tool_history_reasoning(view: ChatView) -> Fields | None:
    if not view.thinking:
        return None
    for index, message in enumerate(view.messages):
        if message.get("role") == "assistant" and message.get("tool_calls") and not message.get("reasoning_content"):
            return {"index": index}
    return None


def _thinking_fields(view: ChatView) -> Fields | None:
    extra = sorted(set(view.thinking_object or {}) - set(view.model.family.thinking_fields))
    return {"field": extra[0]} if extra else None


def _effort(view: ChatView) -> Fields | None:
    values = [(view.thinking_object or {}).get("effort"), view.body.get("reasoning_effort")]
    return {} if any(v is not None and v not in EFFORTS for v in values) else None


def _tool_choice_value(view: ChatView) -> Fields | None:
    choice = view.body.get("tool_choice")
    if choice is None or choice in ("none", "auto", "required"):
        return None
    named = isinstance(choice, dict) and choice.get("type") == "function" and isinstance(choice.get("function"), dict)
    return None if named else {}


def _tool_names(view: ChatView) -> list[Any]:
    return [function.get("name") for function in view.functions]


def _name_pattern(view: ChatView) -> Fields | None:
    for name in _tool_names(view):
        if isinstance(name, str) and name.startswith("$"):
            continue  # tools.name-reserved judges these
        if not isinstance(name, str) or not TOOL_NAME.match(name):
            return {"name": repr(name)[:80]}
    return None


def _name_reserved(view: ChatView) -> Fields | None:
    tools = view.body.get("tools")
    for tool in tools if isinstance(tools, list) else []:
        function = tool.get("function") if isinstance(tool, dict) else None
        name = function.get("name") if isinstance(function, dict) else None
        if isinstance(name, str) and name.startswith("$") and tool.get("type") != "builtin_function":
            return {"name": name}
    return None


def _duplicates(view: ChatView) -> Fields | None:
    names = [n for n in _tool_names(view) if isinstance(n, str)]
    twice = sorted({n for n in names if names.count(n) > 1})
    return {"name": twice[0]} if twice else None


def _parameters_object(view: ChatView) -> Fields | None:
    for function in view.functions:
        if "parameters" in function:
            parameters = function["parameters"]
            if not isinstance(parameters, dict) or parameters.get("type", "object") != "object":
                return {"name": function.get("name")}
    return None


def _stops(view: ChatView) -> list[Any]:
    stop = view.body.get("stop")
    return [stop] if isinstance(stop, str) else stop if isinstance(stop, list) else []


def _stop_bytes(view: ChatView) -> Fields | None:
    for stop in _stops(view):
        if isinstance(stop, str) and len(stop.encode()) > MAX_STOP_BYTES:
            return {"stop": repr(stop[:16])}
    return None


def _output_window(view: ChatView) -> Fields | None:
    cap = max_output_tokens(view.body)
    if cap is None:
        return None
    prompt = view.prompt_tokens()
    if prompt > view.model.context_length:
        return None  # context.input-window judges an over-long prompt
    return {"limit": view.model.context_length} if prompt + cap > view.model.context_length else None


def _tool_call_ids(message: dict[str, Any]) -> list[str]:
    calls = message.get("tool_calls") if message.get("role") == "assistant" else None
    return [str(c.get("id", "")) for c in calls if isinstance(c, dict)] if isinstance(calls, list) else []


def _unknown_tool_call_id(view: ChatView) -> Fields | None:
    open_calls: set[str] = set()
    for message in view.messages:
        if message.get("role") != "tool":
            open_calls = set(_tool_call_ids(message))
            continue
        call_id = message.get("tool_call_id")
        if isinstance(call_id, str) and call_id not in open_calls:
            return {"id": call_id}
        open_calls.discard(str(call_id))
    return None


def _unanswered_tool_calls(view: ChatView) -> Fields | None:
    unanswered: list[str] = []
    for message in [*view.messages, {"role": "end"}]:
        if message.get("role") == "tool":
            unanswered = [i for i in unanswered if i != message.get("tool_call_id")]
            continue
        if unanswered:
            return {"ids": ", ".join(unanswered)}
        unanswered = _tool_call_ids(message)
    return None


def _empty_content(view: ChatView) -> Fields | None:
    for index, message in enumerate(view.messages):
        content = message.get("content")
        if message.get("role") in ("user", "system") and content in ("", []) and "tools" not in message:
            return {"index": index}
    return None


def dynamic_tools(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The tools of the request's dynamic-tools system messages (content "", a list of tools: facts §3.4, K3 only),
    in message order; the model may call them as it may call `tools`."""
    messages = body.get("messages")
    found: list[dict[str, Any]] = []
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict) or message.get("role") != "system" or message.get("content") != "":
            continue
        tools = message.get("tools")
        if isinstance(tools, list):
            found.extend(tool for tool in tools if isinstance(tool, dict))
    return found


def _tool_shaped(tool: object) -> bool:
    return isinstance(tool, dict) and tool.get("type") in TOOL_TYPES and isinstance(tool.get("function"), dict)


def _tools_problem(message: dict[str, Any], view: ChatView) -> str | None:
    """Why a message may not carry its `tools` (facts §3.4 [KVV test_dynamic_tools]), or None when it may."""
    tools = message["tools"]
    if message.get("role") != "system" or message.get("content") != "":
        return "only a system message with empty content can"
    if not isinstance(tools, list) or not tools:
        return "tools must be a non-empty list"
    if len(tools) > MAX_TOOLS:
        return f"at most {MAX_TOOLS} tools are allowed"
    if not all(_tool_shaped(tool) for tool in tools):
        return "each tool is a function or builtin_function object with a function"
    own = ChatView({"tools": tools}, view.model, view.thinking, view.files)  # the tools.* rules, on these tools
    judges = ((_name_pattern, "is invalid"), (_name_reserved, "is reserved for builtin functions"))
    for judge, problem in (*judges, (_duplicates, "is duplicated")):
        if (fields := judge(own)) is not None:
            return f"function name {fields['name']} {problem}"
    return None


def _message_tools(view: ChatView) -> Fields | None:
    messages = view.body.get("messages")
    for index, message in enumerate(messages if isinstance(messages, list) else []):
        if isinstance(message, dict) and "tools" in message:
            reason = _tools_problem(message, view)
            if reason is not None:
                return {"index": index, "reason": reason}
    return None


def media_parts(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(medium, url) of every image and video part in the messages; medium is `image` or `video`."""
    found: list[tuple[str, str]] = []
    messages = body.get("messages")
    for message in messages if isinstance(messages, list) else []:
        content = message.get("content") if isinstance(message, dict) else None
        for part in content if isinstance(content, list) else []:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind in ("image_url", "video_url"):
                holder = part.get(kind)
                url = holder.get("url") if isinstance(holder, dict) else holder
                found.append((kind.removesuffix("_url"), url if isinstance(url, str) else ""))
    return found


def _media_unsupported(medium: str) -> Callable[[ChatView], Fields | None]:
    def broken(view: ChatView) -> Fields | None:
        return {"model": view.model.id} if any(m == medium for m, _ in media_parts(view.body)) else None

    return broken


def _url_form(medium: str) -> Callable[[ChatView], Fields | None]:
    def broken(view: ChatView) -> Fields | None:
        for kind, url in media_parts(view.body):
            match = _DATA_URL.match(url)
            if kind == medium and not url.startswith("ms://") and (match is None or match.group(1).lower() != medium):
                return {"url": url[:64]}
        return None

    return broken


def _file_reference(view: ChatView) -> Fields | None:
    for medium, url in media_parts(view.body):
        if url.startswith("ms://") and view.files(url.removeprefix("ms://")) != medium:
            return {"file": url.removeprefix("ms://"), "purpose": medium}
    return None


def _has(key: str) -> Callable[[ChatView], bool]:
    return lambda view: view.body.get(key) is not None


@dataclass(frozen=True, slots=True)
class RuleLogic:
    """When a request breaks a rule, and when it touches the rule at all (for the mock's over-strict faults)."""

    broken: Callable[[ChatView], Fields | None]
    touches: Callable[[ChatView], bool]
    keys: tuple[str, ...] = ()
    """The body's top-level keys the rule reads: a body with none of them neither breaks nor touches it, so the
    mock need not ask (`tests/rules/test_rule_keys.py` holds every rule to it). Empty: the rule reads the messages,
    and any body can break it."""


def _when(condition: Callable[[ChatView], bool]) -> Callable[[ChatView], Fields | None]:
    return lambda view: {} if condition(view) else None


def _rf_type(view: ChatView) -> object:
    return view.response_format.get("type")


def _json_schema(view: ChatView) -> dict[str, Any]:
    return view.json_schema or {}


def _media(view: ChatView) -> bool:
    return bool(media_parts(view.body))


def _parts(view: ChatView) -> bool:
    return any(isinstance(m.get("content"), list) for m in view.messages)


def _tool_messages(view: ChatView) -> bool:
    return any(m.get("role") == "tool" for m in view.messages)


def _tool_history(view: ChatView) -> bool:
    return any(_tool_call_ids(m) for m in view.messages)


def _partial(view: ChatView) -> bool:
    return any(m.get("partial") is True for m in view.messages)


LOGIC: dict[str, RuleLogic] = {
    "n.near-zero-temperature": RuleLogic(_near_zero, lambda v: (number(v.body.get("n")) or 1) > 1, keys=("n",)),
    "thinking.tool-choice-required": RuleLogic(
        _when(lambda v: v.thinking and v.body.get("tool_choice") == "required"),
        _has("tool_choice"),
        keys=("tool_choice",),
    ),
    "thinking.tool-choice-specified": RuleLogic(
        _when(lambda v: v.thinking and isinstance(v.body.get("tool_choice"), dict)),
        _has("tool_choice"),
        keys=("tool_choice",),
    ),
    "thinking.reasoning-in-tool-history": RuleLogic(_tool_history_reasoning, _tool_history),
    "thinking.disable-forbidden": RuleLogic(
        _when(lambda v: (v.thinking_object or {}).get("type") == "disabled"), _has("thinking"), keys=("thinking",)
    ),
    "thinking.fields": RuleLogic(_thinking_fields, _has("thinking"), keys=("thinking",)),
    "thinking.type-values": RuleLogic(
        _when(lambda v: v.thinking_object is not None and v.thinking_object.get("type") not in ("enabled", "disabled")),
        _has("thinking"),
        keys=("thinking",),
    ),
    "thinking.effort-values": RuleLogic(
        _effort,
        lambda v: "effort" in (v.thinking_object or {}) or _has("reasoning_effort")(v),
        keys=("thinking", "reasoning_effort"),
    ),
    "tool-choice.values": RuleLogic(_tool_choice_value, _has("tool_choice"), keys=("tool_choice",)),
    "tool-choice.required-needs-tools": RuleLogic(
        _when(lambda v: v.body.get("tool_choice") == "required" and not v.body.get("tools")),
        _has("tool_choice"),
        keys=("tool_choice",),
    ),
    "tools.max-count": RuleLogic(_when(lambda v: len(v.functions) > MAX_TOOLS), _has("tools"), keys=("tools",)),
    "tools.name-pattern": RuleLogic(_name_pattern, _has("tools"), keys=("tools",)),
    "tools.name-duplicate": RuleLogic(_duplicates, _has("tools"), keys=("tools",)),
    "tools.name-reserved": RuleLogic(_name_reserved, _has("tools"), keys=("tools",)),
    "tools.parameters-object": RuleLogic(_parameters_object, _has("tools"), keys=("tools",)),
    "stop.max-count": RuleLogic(_when(lambda v: len(_stops(v)) > MAX_STOPS), _has("stop"), keys=("stop",)),
    "stop.max-bytes": RuleLogic(_stop_bytes, _has("stop"), keys=("stop",)),
    "context.output-window": RuleLogic(
        _output_window, lambda v: max_output_tokens(v.body) is not None, keys=("max_completion_tokens", "max_tokens")
    ),
    "context.input-window": RuleLogic(_when(lambda v: v.prompt_tokens() > v.model.context_length), lambda v: True),
    "response-format.type": RuleLogic(
        _when(lambda v: "type" in v.response_format and _rf_type(v) not in RESPONSE_FORMATS),
        _has("response_format"),
        keys=("response_format",),
    ),
    "response-format.json-schema-required": RuleLogic(
        _when(lambda v: _rf_type(v) == "json_schema" and v.json_schema is None),
        _has("response_format"),
        keys=("response_format",),
    ),
    "response-format.json-schema-name": RuleLogic(
        _when(lambda v: v.json_schema is not None and not isinstance(v.json_schema.get("name"), str)),
        lambda v: v.json_schema is not None,
        keys=("response_format",),
    ),
    "response-format.json-schema-schema": RuleLogic(
        _when(lambda v: v.json_schema is not None and not isinstance(v.json_schema.get("schema"), dict)),
        lambda v: v.json_schema is not None,
        keys=("response_format",),
    ),
    "response-format.strict-boolean": RuleLogic(
        _when(lambda v: "strict" in _json_schema(v) and not isinstance(_json_schema(v)["strict"], bool)),
        lambda v: "strict" in _json_schema(v),
        keys=("response_format",),
    ),
    "partial.last-message": RuleLogic(
        _when(lambda v: any(m.get("partial") is True for m in v.messages[:-1])), _partial
    ),
    "partial.assistant-role": RuleLogic(
        _when(
            lambda v: (
                bool(v.messages) and v.messages[-1].get("partial") is True and v.messages[-1].get("role") != "assistant"
            )
        ),
        _partial,
    ),
    "tool-message.tool-call-id-required": RuleLogic(
        _when(
            lambda v: any(m.get("role") == "tool" and not isinstance(m.get("tool_call_id"), str) for m in v.messages)
        ),
        _tool_messages,
    ),
    "tool-message.tool-call-id-known": RuleLogic(_unknown_tool_call_id, _tool_messages),
    "tool-calls.answered": RuleLogic(_unanswered_tool_calls, _tool_history),
    "messages.role-values": RuleLogic(
        lambda v: next(({"role": m.get("role")} for m in v.messages if m.get("role") not in ROLES), None),
        lambda v: True,
    ),
    "messages.content-not-empty": RuleLogic(_empty_content, lambda v: True),
    "messages.dynamic-tools": RuleLogic(_message_tools, lambda v: any("tools" in m for m in v.messages)),
    "content.image-needs-vision": RuleLogic(_media_unsupported("image"), _parts),
    "content.video-needs-vision": RuleLogic(_media_unsupported("video"), _parts),
    "content.image-url-form": RuleLogic(_url_form("image"), _media),
    "content.video-url-form": RuleLogic(_url_form("video"), _media),
    "content.file-reference": RuleLogic(_file_reference, _media),
}
"""The meaning of every non-sampling rule of the table, by id (a test keeps the two in step)."""


def logic(rule: Rule) -> RuleLogic:
    """The code of a rule of the table: sampling rules share one, the others are in `LOGIC`."""
    if rule.param is not None:
        param = rule.param.name
        return RuleLogic(lambda view: _sampling(rule, view), _has(param), keys=(param,))
    return LOGIC[rule.id]


def message(rule: Rule, fields: Mapping[str, object]) -> str:
    """The rule's error message with its fields filled in."""
    return rule.message.format_map(dict(fields))


def broken_rules(view: ChatView, *, after_schema: bool | None = None) -> list[tuple[Rule, str]]:
    """Every rule of the table the request breaks, with the API's message (`after_schema` picks one phase)."""
    found = []
    for rule in load_rules().rules_for(view.model):
        if after_schema is not None and rule.after_schema != after_schema:
            continue
        fields = logic(rule).broken(view)
        if fields is not None:
            found.append((rule, message(rule, fields)))
    return found
