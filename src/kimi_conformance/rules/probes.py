"""Boundary probes generated from the rules table: for each rule and model, the valid edge (must be accepted) and
the first invalid value on each side (must be rejected with 400 `invalid_request_error`), the way Moonshot's
own vendor verifier probes fixed values: the fixed value and omission accepted, any other value rejected.

Every probe is a cheap request (`max_completion_tokens: 1`, a two-word prompt) that breaks at most its own rule,
so a target that ignores exactly one rule is caught by exactly that rule's probes.
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from kimi_conformance.rules.request_rules import MAX_STOPS, MAX_TOOLS
from kimi_conformance.rules.table import ModelInfo, ParamRule, Rule, Thinking, load_rules

PROMPT = "Say OK."
MAX_INPUT_PROBE_CONTEXT = 32_768
"""Models with a larger window get no over-long-prompt probe: its body would pass a megabyte."""
FLOAT_STEP = 0.01
"""The first invalid value past a float range's edge is this far out (integers step by 1)."""
FIXED_STEP = 0.05


@dataclass(frozen=True, slots=True)
class Probe:
    """One request probing one rule: `accept` says whether a conformant target serves it."""

    rule: str
    label: str
    body: dict[str, Any]
    accept: bool


def _png(size: int = 8) -> str:
    """A real (tiny, grey) PNG as a data URL, so a real vision model can decode it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80\x80\x80" * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return "data:image/png;base64," + base64.b64encode(png).decode()


PNG_URL = _png()
VIDEO_URL = "data:video/mp4;base64,AAAAGGZ0eXBtcDQyAAAAAG1wNDJpc29t"
"""Only ever sent where video is refused (no real clip is small enough to embed)."""


def tool(name: str, parameters: Any = None) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": name, "description": "Look something up.", "parameters": parameters or _OBJECT},
    }


_OBJECT: dict[str, Any] = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
WEATHER = tool("get_weather")


def can_switch_off(model: ModelInfo) -> bool:
    """Whether a request can turn this model's thinking off."""
    return model.thinking is Thinking.DEFAULT_ON and not model.family.thinking_disable_forbidden


class ProbeBuilder:
    """Builds the probes of one model (sent as `target_id`, which may be an alias of the table's id)."""

    def __init__(self, model: ModelInfo, target_id: str | None = None) -> None:
        self.model = model
        self.target_id = target_id or model.id

    def body(self, thinking_off: bool = False, **fields: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "model": self.target_id,
            "messages": [{"role": "user", "content": PROMPT}],
            "max_completion_tokens": 1,
        }
        if thinking_off:
            base["thinking"] = {"type": "disabled"}
        return {**base, **fields}

    def quiet(self, **fields: Any) -> dict[str, Any]:
        """A body with thinking off where the model allows it (for rules that thinking would mask)."""
        return self.body(thinking_off=can_switch_off(self.model), **fields)

    def modes(self) -> list[bool]:
        """`thinking_off` values worth probing sampling in: the default mode, and off where it can be switched."""
        return [False, True] if can_switch_off(self.model) else [False]

    def history(self, calls: list[str], answers: list[str | None], *, then_user: bool = False) -> dict[str, Any]:
        """A tool-call round trip: the assistant calls `calls`, tool messages answer `answers` (None: no id)."""
        assistant: dict[str, Any] = {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"id": c, "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}
                for c in calls
            ],
        }
        if self.model.supports_reasoning:
            assistant["reasoning_content"] = "The user wants the weather in Oslo."
        answered = [
            {"role": "tool", "content": '{"sky": "clear"}', **({"tool_call_id": a} if a is not None else {})}
            for a in answers
        ]
        messages = [{"role": "user", "content": "Weather in Oslo?"}, assistant, *answered]
        if then_user:
            messages.append({"role": "user", "content": "Thanks."})
        return self.body(messages=messages, tools=[WEATHER])

    def messages(self, *messages: dict[str, Any]) -> dict[str, Any]:
        return self.body(messages=list(messages))

    def parts(self, *parts: dict[str, Any]) -> dict[str, Any]:
        return self.messages({"role": "user", "content": [{"type": "text", "text": PROMPT}, *parts]})


Step = tuple[str, dict[str, Any], bool]
"""(label, body, accept)."""


def _sampling(rule: Rule, build: ProbeBuilder) -> Iterator[Step]:
    param = rule.param
    assert param is not None
    for off in build.modes():
        mode = " (thinking off)" if off else ""
        extra = companions(param, build.model)
        yield f"{param.name} omitted{mode}", build.body(off), True
        for value, accept in _edges(param, thinking=not off and build.model.supports_reasoning):
            yield f"{param.name}={value:g}{mode}", build.body(off, **{param.name: value}, **extra), accept


def companions(param: ParamRule, model: ModelInfo) -> dict[str, Any]:
    """Other fields a probe of `param` needs to break nothing else (n > 1 needs a temperature above 0)."""
    temperature = model.family.params["temperature"]
    return {"temperature": 0.5} if param.name == "n" and temperature.minimum is not None else {}


def _edges(param: ParamRule, thinking: bool) -> list[tuple[float, bool]]:
    """(value, accepted) at and just past each edge of the parameter's range, or around its fixed value."""
    step = 1 if param.integer else FLOAT_STEP
    fixed = param.fixed_value(thinking)
    if fixed is None:
        assert param.minimum is not None and param.maximum is not None
        low, high = param.minimum, param.maximum
        return [(low, True), (high, True), (round(low - step, 6), False), (round(high + step, 6), False)]
    step = 1 if param.integer else FIXED_STEP
    edges = [(fixed, True), (round(fixed - step, 6), False), (round(fixed + step, 6), False)]
    other = param.fixed_value(not thinking)
    if other is not None and other != fixed:
        edges.append((other, False))  # the other mode's value: the realistic mistake
    return edges


def _thinking_fields(build: ProbeBuilder) -> Iterator[Step]:
    fields = build.model.family.thinking_fields
    yield "thinking {type: enabled}", build.body(thinking={"type": "enabled"}), True
    yield "thinking with an unknown field", build.body(thinking={"type": "enabled", "bogus": True}), False
    for name, value in (("keep", "all"), ("effort", "high")):
        probe = build.body(thinking={"type": "enabled", name: value})
        yield f"thinking.{name}={value}", probe, name in fields


def _stop_bytes(build: ProbeBuilder) -> Iterator[Step]:
    yield "stop of 32 ASCII bytes", build.body(stop=["a" * 32]), True
    yield "stop of 16 two-byte characters (32 bytes)", build.body(stop=["é" * 16]), True
    yield "stop of 33 ASCII bytes", build.body(stop=["a" * 33]), False
    yield "stop of 11 three-byte characters (33 bytes)", build.body(stop=["月" * 11]), False


def _input_window(build: ProbeBuilder) -> Iterator[Step]:
    yield "a short prompt", build.body(), True
    if build.model.context_length <= MAX_INPUT_PROBE_CONTEXT:
        words = "hello " * (build.model.context_length + 64)
        yield (
            f"a prompt of more than {build.model.context_length} tokens",
            build.messages({"role": "user", "content": words}),
            False,
        )


def _json_schema(**spec: Any) -> dict[str, Any]:
    return {"response_format": {"type": "json_schema", "json_schema": spec}}


_SCHEMA: dict[str, Any] = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
_NAMED = "get_weather"


def _steps(build: ProbeBuilder) -> dict[str, Callable[[], list[Step]]]:
    """The probes of every non-sampling rule, by rule id (a test keeps these in step with the table)."""
    b, q = build.body, build.quiet
    partial = {"role": "assistant", "content": "O", "partial": True}
    named = {"type": "function", "function": {"name": _NAMED}}
    return {
        "n.near-zero-temperature": lambda: [
            ("n=2 temperature=0.5", b(n=2, temperature=0.5), True),
            ("n=2 temperature=0", b(n=2, temperature=0), False),
            ("n=2 temperature=0.001", b(n=2, temperature=0.001), False),
        ],
        "thinking.tool-choice-required": lambda: [
            ("tool_choice=auto", b(tools=[WEATHER], tool_choice="auto"), True),
            ("tool_choice=none", b(tools=[WEATHER], tool_choice="none"), True),
            ("tool_choice=required", b(tools=[WEATHER], tool_choice="required"), False),
        ],
        "thinking.tool-choice-specified": lambda: [
            ("tool_choice=auto", b(tools=[WEATHER], tool_choice="auto"), True),
            ("tool_choice names a function", b(tools=[WEATHER], tool_choice=named), False),
        ],
        "thinking.reasoning-in-tool-history": lambda: [
            ("tool history with reasoning_content", build.history(["get_weather:0"], ["get_weather:0"]), True),
            ("tool history without reasoning_content", _without_reasoning(build), False),
        ],
        "thinking.disable-forbidden": lambda: [
            ("thinking enabled", b(thinking={"type": "enabled"}), True),
            ("thinking disabled", b(thinking={"type": "disabled"}), False),
        ],
        "thinking.fields": lambda: list(_thinking_fields(build)),
        "thinking.type-values": lambda: [
            ("thinking.type=enabled", b(thinking={"type": "enabled"}), True),
            *(
                [("thinking.type=disabled", b(thinking={"type": "disabled"}), True)]
                if can_switch_off(build.model)
                else []
            ),
            ("thinking.type=auto", b(thinking={"type": "auto"}), False),
        ],
        "thinking.effort-values": lambda: [
            *(
                (f"thinking.effort={e}", b(thinking={"type": "enabled", "effort": e}), True)
                for e in ("low", "high", "max")
            ),
            ("thinking.effort=bogus", b(thinking={"type": "enabled", "effort": "bogus"}), False),
            ("reasoning_effort=bogus", b(reasoning_effort="bogus"), False),
        ],
        "tool-choice.values": lambda: [
            ("tool_choice=none", b(tools=[WEATHER], tool_choice="none"), True),
            ("tool_choice=auto", b(tools=[WEATHER], tool_choice="auto"), True),
            ("tool_choice=bogus", b(tools=[WEATHER], tool_choice="bogus"), False),
        ],
        "tool-choice.required-needs-tools": lambda: [
            ("tool_choice=auto with a tool", q(tools=[WEATHER], tool_choice="auto"), True),
            ("tool_choice=required without tools", q(tool_choice="required"), False),
            ("tool_choice=required with tools: []", q(tools=[], tool_choice="required"), False),
        ],
        "tools.max-count": lambda: [
            (f"{MAX_TOOLS} tools", b(tools=_many_tools(MAX_TOOLS)), True),
            (f"{MAX_TOOLS + 1} tools", b(tools=_many_tools(MAX_TOOLS + 1)), False),
        ],
        "tools.name-pattern": lambda: [
            *((f"function name {n!r}", b(tools=[tool(n)]), True) for n in ("abc", "_a-b_9", "a" * 64)),
            *((f"function name {n!r}", b(tools=[tool(n)]), False) for n in ("ab", "a" * 65, "1abc", "a@bc", "")),
        ],
        "tools.name-duplicate": lambda: [
            ("two tools, two names", b(tools=[tool("read_file"), tool("write_file")]), True),
            ("two tools named read", b(tools=[tool("read"), tool("read")]), False),
        ],
        "tools.name-reserved": lambda: [
            *(
                [("builtin_function $web_search", q(tools=[_builtin()]), True)]
                if not build.model.thinks(None) or can_switch_off(build.model)
                else []
            ),
            ("function named $web_search", b(tools=[tool("$web_search")]), False),
        ],
        "tools.parameters-object": lambda: [
            ("parameters an object schema", b(tools=[tool("lookup", {"type": "object", "properties": {}})]), True),
            ("parameters a string schema", b(tools=[tool("lookup", {"type": "string"})]), False),
        ],
        "stop.max-count": lambda: [
            (f"{MAX_STOPS} stop sequences", b(stop=[f"#{i}#" for i in range(MAX_STOPS)]), True),
            (f"{MAX_STOPS + 1} stop sequences", b(stop=[f"#{i}#" for i in range(MAX_STOPS + 1)]), False),
        ],
        "stop.max-bytes": lambda: list(_stop_bytes(build)),
        "context.output-window": lambda: [
            ("max_completion_tokens=16", b(max_completion_tokens=16), True),
            (
                f"max_completion_tokens={build.model.context_length} (the whole window)",
                b(max_completion_tokens=build.model.context_length),
                False,
            ),
            (
                f"max_tokens={build.model.context_length} (the whole window)",
                {
                    **{k: v for k, v in b().items() if k != "max_completion_tokens"},
                    "max_tokens": build.model.context_length,
                },
                False,
            ),
        ],
        "context.input-window": lambda: list(_input_window(build)),
        "response-format.type": lambda: [
            ("response_format text", b(response_format={"type": "text"}), True),
            ("response_format bogus", b(response_format={"type": "bogus"}), False),
        ],
        "response-format.json-schema-required": lambda: [
            ("json_schema given", b(**_json_schema(name="answer", schema=_SCHEMA)), True),
            ("json_schema missing", b(response_format={"type": "json_schema"}), False),
        ],
        "response-format.json-schema-name": lambda: [
            ("json_schema with a name", b(**_json_schema(name="answer", schema=_SCHEMA)), True),
            ("json_schema without a name", b(**_json_schema(schema=_SCHEMA)), False),
        ],
        "response-format.json-schema-schema": lambda: [
            ("json_schema.schema an object", b(**_json_schema(name="answer", schema=_SCHEMA)), True),
            ("json_schema.schema missing", b(**_json_schema(name="answer")), False),
            ("json_schema.schema a string", b(**_json_schema(name="answer", schema="object")), False),
        ],
        "response-format.strict-boolean": lambda: [
            ("strict true", b(**_json_schema(name="answer", schema=_SCHEMA, strict=True)), True),
            ("strict false", b(**_json_schema(name="answer", schema=_SCHEMA, strict=False)), True),
            ('strict "true"', b(**_json_schema(name="answer", schema=_SCHEMA, strict="true")), False),
        ],
        "partial.last-message": lambda: [
            ("partial last assistant message", build.messages(_user(), partial), True),
            ("partial assistant message, then a user message", build.messages(_user(), partial, _user()), False),
        ],
        "partial.assistant-role": lambda: [
            ("partial last assistant message", build.messages(_user(), partial), True),
            ("partial last user message", build.messages({**_user(), "partial": True}), False),
        ],
        "tool-message.tool-call-id-required": lambda: [
            ("tool message with tool_call_id", build.history(["get_weather:0"], ["get_weather:0"]), True),
            ("tool message without tool_call_id", build.history(["get_weather:0"], ["get_weather:0", None]), False),
        ],
        "tool-message.tool-call-id-known": lambda: [
            ("tool_call_id of the call", build.history(["get_weather:0"], ["get_weather:0"]), True),
            ("tool_call_id of no call", build.history(["get_weather:0"], ["get_weather:0", "get_weather:9"]), False),
        ],
        "tool-calls.answered": lambda: [
            (
                "two calls, two answers",
                build.history(["get_weather:0", "get_weather:1"], ["get_weather:0", "get_weather:1"]),
                True,
            ),
            (
                "two calls, one answer, then a user message",
                build.history(["get_weather:0", "get_weather:1"], ["get_weather:0"], then_user=True),
                False,
            ),
        ],
        "messages.role-values": lambda: [
            ("system and user messages", build.messages({"role": "system", "content": "Be brief."}, _user()), True),
            ("role narrator", build.messages({"role": "narrator", "content": "Be brief."}, _user()), False),
        ],
        "messages.content-not-empty": lambda: [
            (
                "partial assistant prefix with empty content",
                build.messages(_user(), {**partial, "content": "", "name": "Kimi"}),
                True,
            ),
            ("user message with empty content", build.messages({"role": "user", "content": ""}), False),
        ],
        "messages.dynamic-tools": lambda: [
            ("system message with empty content and tools", build.messages(_dynamic(WEATHER), _user()), True),
            ("tools on a user message", build.messages({**_user(), "tools": [WEATHER]}), False),
            (
                "tools on a system message with text",
                build.messages({"role": "system", "content": "Be brief.", "tools": [WEATHER]}, _user()),
                False,
            ),
            ("two dynamic tools named read", build.messages(_dynamic(tool("read"), tool("read")), _user()), False),
        ],
        "content.image-needs-vision": lambda: [
            ("text content parts", build.parts(), True),
            ("an image part", build.parts({"type": "image_url", "image_url": {"url": PNG_URL}}), False),
        ],
        "content.video-needs-vision": lambda: [
            ("text content parts", build.parts(), True),
            ("a video part", build.parts({"type": "video_url", "video_url": {"url": VIDEO_URL}}), False),
        ],
        "content.image-url-form": lambda: [
            ("an image data URL", build.parts({"type": "image_url", "image_url": {"url": PNG_URL}}), True),
            ("an image as a bare string", build.parts({"type": "image_url", "image_url": PNG_URL}), True),
            (
                "an https image URL",
                build.parts({"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}),
                False,
            ),
        ],
        "content.video-url-form": lambda: [
            (
                "an https video URL",
                build.parts({"type": "video_url", "video_url": {"url": "https://example.com/a.mp4"}}),
                False,
            ),
        ],
        "content.file-reference": lambda: [
            (
                "ms:// of no file",
                build.parts({"type": "image_url", "image_url": {"url": "ms://file-kimi-conformance-none"}}),
                False,
            ),
        ],
    }


def _many_tools(count: int) -> list[dict[str, Any]]:
    """`count` of the smallest valid tools (so 128 of them fit an 8k window)."""
    return [
        {"type": "function", "function": {"name": f"t{i:03}", "parameters": {"type": "object"}}} for i in range(count)
    ]


def _user() -> dict[str, Any]:
    return {"role": "user", "content": PROMPT}


def _dynamic(*tools: dict[str, Any]) -> dict[str, Any]:
    """A K3 dynamic-tools system message (facts §3.4)."""
    return {"role": "system", "content": "", "tools": list(tools)}


def _builtin() -> dict[str, Any]:
    return {"type": "builtin_function", "function": {"name": "$web_search"}}


def _without_reasoning(build: ProbeBuilder) -> dict[str, Any]:
    body = build.history(["get_weather:0"], ["get_weather:0"])
    body["messages"][1].pop("reasoning_content", None)
    return body


def probes_for_rule(rule: Rule, model: ModelInfo, target_id: str | None = None) -> list[Probe]:
    """The probes of one rule for one model (empty when the rule does not apply to it)."""
    if not rule.applies_to(model):
        return []
    build = ProbeBuilder(model, target_id)
    steps = _sampling(rule, build) if rule.param is not None else _steps(build)[rule.id]()
    return [Probe(rule.id, label, body, accept) for label, body, accept in steps]


def probes_for(model: ModelInfo, target_id: str | None = None) -> list[Probe]:
    """Every probe of every rule that applies to `model`."""
    return [probe for rule in load_rules().rules_for(model) for probe in probes_for_rule(rule, model, target_id)]
