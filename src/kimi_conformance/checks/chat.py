"""Semantics of a non-streaming chat completion (facts §3): what the body must say given what was asked."""

from __future__ import annotations

import functools
import json
from typing import Any

from jsonschema import Draft202012Validator

from kimi_conformance import strict_json
from kimi_conformance.checks.context import CheckContext
from kimi_conformance.checks.guards import brief, choices_of, completion_of, message_of
from kimi_conformance.checks.registry import check
from kimi_conformance.checks.runner import NotApplicable
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Severity, Violation
from kimi_conformance.rules.request_rules import dynamic_tools, max_output_tokens

CHAT = ["createChatCompletion"]
FINISH_REASONS = frozenset({"stop", "length", "tool_calls"})
ESTIMATE_TOLERANCE = 3
"""prompt_tokens may exceed the estimate by this much (Moonshot's own verifier accepts expected..expected+3)."""


def _is_integer(value: Any) -> bool:
    """An integer, and not a boolean (which Python counts as one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def requested_n(request: dict[str, Any]) -> int:
    """The number of choices asked for (`n`, default 1); not applicable when `n` is no integer (the request's
    problem: no count of choices can be held against it)."""
    n = request.get("n") or 1
    if isinstance(n, float) and n.is_integer():
        n = int(n)
    if not isinstance(n, int) or isinstance(n, bool):
        raise NotApplicable
    return n


def expected_indexes(n: int) -> str:
    """The choice indexes 0..n-1 as a message shows them (elided when there are many)."""
    return str(list(range(n))) if n <= 10 else f"[0, 1, ..., {n - 1}]"


def requested_tools(request: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The requested tools by function name (an entry naming no function is left out), the dynamic tools of K3
    system messages included (facts §3.4); not applicable when `tools` is no list (the request's problem)."""
    tools = request.get("tools") or []
    if not isinstance(tools, list):
        raise NotApplicable
    named = {}
    for tool in [*tools, *dynamic_tools(request)]:
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            named[function["name"]] = tool
    return named


@check(
    "CHAT001",
    "Completion identity fields wrong",
    "#/components/schemas/ChatCompletion",
    fact="facts §3.9 [S][D]",
    operations=CHAT,
)
def completion_identity(ctx: CheckContext, exchange: Exchange) -> None:
    """`object` is `chat.completion`, `id` a non-empty string, `created` an integer, `model` the requested model."""
    request, body = completion_of(exchange)
    problems = []
    if body.get("object") != "chat.completion":
        problems.append(f"object {brief(body.get('object'))}")
    if not isinstance(body.get("id"), str) or not body.get("id"):
        problems.append(f"id {brief(body.get('id'))}")
    if not isinstance(body.get("created"), int) or isinstance(body.get("created"), bool):
        problems.append(f"created {brief(body.get('created'))}")
    if body.get("model") != request.get("model"):
        problems.append(f"model {brief(body.get('model'))} for requested {brief(request.get('model'))}")
    if problems:
        raise Violation(
            f"Received: {'; '.join(problems)}\nExpected: chat.completion, an id, an integer created, "
            "the requested model"
        )


@check(
    "CHAT002",
    "Choices do not match `n`",
    "#/components/schemas/ChatCompletion",
    fact="facts §3.3 [S][D]",
    operations=CHAT,
)
def choices_match_n(ctx: CheckContext, exchange: Exchange) -> None:
    """There are exactly `n` choices (default 1) with indexes 0..n-1."""
    request, body = completion_of(exchange)
    n = requested_n(request)
    indexes = sorted(c["index"] for c in choices_of(body) if _is_integer(c.get("index")))
    if len(choices_of(body)) != n or indexes != list(range(n)):  # the count first: n may be huge
        raise Violation(f"Received: choice indexes {indexes}\nExpected: {expected_indexes(n)} for n={n}")


@check(
    "CHAT003",
    "finish_reason wrong or inconsistent",
    "#/components/schemas/FinishReason",
    fact="facts §3.9 [S]; facts §3.6 [D]",
    operations=CHAT,
)
def finish_reason_consistent(ctx: CheckContext, exchange: Exchange) -> None:
    """finish_reason is stop, length or tool_calls, and is tool_calls exactly when the message has tool calls."""
    _, body = completion_of(exchange)
    for choice in choices_of(body):
        reason = choice.get("finish_reason")
        calls = message_of(choice).get("tool_calls") or []
        if not isinstance(reason, str) or reason not in FINISH_REASONS:
            raise Violation(f"Received: finish_reason {brief(reason)}\nExpected: one of stop, length, tool_calls")
        if (reason == "tool_calls") != bool(calls) and not (reason == "length" and not calls):
            carried = f"{len(calls)} tool call(s)" if isinstance(calls, list) else f"tool_calls {brief(calls)}"
            raise Violation(
                f"Received: finish_reason {reason!r} with {carried} in choice {choice.get('index')}\n"
                "Expected: tool_calls exactly when the message carries tool_calls"
            )


def _usage(body: dict[str, Any]) -> dict[str, Any]:
    usage = body.get("usage")
    if not isinstance(usage, dict):
        raise NotApplicable
    return usage


@check(
    "CHAT004", "Usage arithmetic wrong", "#/components/schemas/Usage", fact="facts §3.9 [S][D][KVV]", operations=CHAT
)
def usage_arithmetic(ctx: CheckContext, exchange: Exchange) -> None:
    """`total_tokens = prompt_tokens + completion_tokens`, and cached tokens never exceed prompt tokens."""
    _, body = completion_of(exchange)
    usage = _usage(body)
    prompt, completion, total = (usage.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens"))
    if not all(isinstance(v, int) for v in (prompt, completion, total)):
        raise NotApplicable  # SCHM001 reports missing fields
    assert isinstance(prompt, int) and isinstance(completion, int)
    if total != prompt + completion:
        raise Violation(
            f"Received: total {total} for prompt {prompt} + completion {completion}\n"
            f"Expected: total {prompt + completion}"
        )
    details = usage.get("prompt_tokens_details")
    for cached in (usage.get("cached_tokens"), details.get("cached_tokens") if isinstance(details, dict) else None):
        if isinstance(cached, int) and cached > prompt:
            raise Violation(f"Received: cached_tokens {cached} > prompt_tokens {prompt}\nExpected: cached <= prompt")


@check(
    "CHAT005",
    "Completion exceeds max tokens",
    "#/components/schemas/ChatRequestCommon",
    fact="facts §3.2 [S][D]; facts §3.7 [D]",
    operations=CHAT,
)
def completion_within_max_tokens(ctx: CheckContext, exchange: Exchange) -> None:
    """completion_tokens never exceed the requested maximum; with one choice, `length` means the cap was reached."""
    request, body = completion_of(exchange)
    cap = max_output_tokens(request)
    if cap is None:
        raise NotApplicable
    usage = _usage(body)
    completion = usage.get("completion_tokens")
    choices = choices_of(body)
    if not isinstance(completion, int):
        raise NotApplicable
    if completion > cap * max(1, len(choices)):
        raise Violation(f"Received: completion_tokens {completion}\nExpected: at most {cap} per choice")
    if len(choices) == 1 and choices[0].get("finish_reason") == "length" and completion != cap:
        raise Violation(
            f"Received: finish_reason length with completion_tokens {completion}\nExpected: {cap} (the cap)",
            severity=Severity.WARNING,
        )


@check(
    "CHAT006", "Stop sequence emitted", "#/components/schemas/StopSequences", fact="facts §3.2 [S][D]", operations=CHAT
)
def stop_sequence_not_emitted(ctx: CheckContext, exchange: Exchange) -> None:
    """No choice's content contains a requested stop sequence (matched stop text is not emitted)."""
    request, body = completion_of(exchange)
    stops = request.get("stop")
    stops = [stops] if isinstance(stops, str) else stops if isinstance(stops, list) else []
    if not stops or not all(isinstance(stop, str) for stop in stops):
        raise NotApplicable  # no stop sequences, or some that are no strings (the request's problem)
    for choice in choices_of(body):
        content = message_of(choice).get("content") or ""
        for stop in stops:
            if isinstance(content, str) and stop and stop in content:
                raise Violation(f"Received: content containing stop sequence {stop!r}\nExpected: text cut before it")


@check(
    "CHAT007",
    "Tool called despite tool_choice none",
    "#/components/schemas/ToolChoice",
    fact="facts §3.6 [D][KVV]; verifiers §2 [KVV]",
    operations=CHAT,
)
def tool_choice_none_respected(ctx: CheckContext, exchange: Exchange) -> None:
    """With `tool_choice: "none"` no choice carries tool calls."""
    request, body = completion_of(exchange)
    if request.get("tool_choice") != "none":
        raise NotApplicable
    for choice in choices_of(body):
        if message_of(choice).get("tool_calls"):
            raise Violation("Received: tool_calls with tool_choice none\nExpected: no tool calls")


@check(
    "CHAT008",
    "JSON mode output is not valid",
    "#/components/schemas/ResponseFormat",
    fact="facts §3.8 [D][S][KVV]",
    operations=CHAT,
    behavioural=True,
)
def json_mode_output_valid(ctx: CheckContext, exchange: Exchange) -> None:
    """json_object gives a JSON object; json_schema gives JSON valid against the schema (unless strict is false)."""
    request, body = completion_of(exchange)
    response_format = request.get("response_format")
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind not in ("json_object", "json_schema"):
        raise NotApplicable
    assert isinstance(response_format, dict)
    spec = response_format.get("json_schema") or {}
    if kind == "json_schema" and not isinstance(spec, dict):
        raise NotApplicable  # a json_schema that is no object (the request's problem)
    for choice in choices_of(body):
        if choice.get("finish_reason") != "stop" or message_of(choice).get("tool_calls"):
            continue
        content = message_of(choice).get("content")
        try:
            value = strict_json.loads(content) if isinstance(content, str) else None
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise Violation(f"Received: content {brief(content)}\nExpected: a JSON object ({kind})")
        if kind == "json_schema" and spec.get("strict", True) is not False:
            validate_against(spec.get("schema"), value, "content")


@functools.lru_cache(maxsize=256)
def _valid_schema(text: str) -> bool:
    """Whether a schema (as canonical JSON text) passes the 2020-12 metaschema and MFJS's rule that every `required`
    name is one of the object's `properties` (verifiers §3 [walle docs]: the server refuses the others, and one
    closed to other properties admits no value at all); a run sends the same few schemas (its tools, its response
    formats) again and again, so each is checked once."""
    try:
        schema = json.loads(text)
        Draft202012Validator.check_schema(schema)
        return _required_known(schema)
    except Exception:  # SchemaError, or a schema too odd for the metaschema check itself (RecursionError...)
        return False


def _required_known(node: Any) -> bool:
    if isinstance(node, list):
        return all(_required_known(item) for item in node)
    if not isinstance(node, dict):
        return True
    required, properties = node.get("required"), node.get("properties")
    known = properties if isinstance(properties, dict) else {}
    if isinstance(required, list) and any(name not in known for name in required if isinstance(name, str)):
        return False
    return all(_required_known(value) for value in node.values())


def validate_against(schema: Any, value: Any, what: str) -> None:
    """Raise a Violation when `value` breaks `schema`. An invalid schema is the request's problem, not ours: then
    nothing is validated (the metaschema rejects most; one whose `$ref` points at what is no schema makes
    jsonschema raise UnknownType, a referencing error or anything else while validating)."""
    if not isinstance(schema, dict) or not _valid_schema(json.dumps(schema, sort_keys=True, default=str)):
        return
    try:
        errors = sorted(Draft202012Validator(schema).iter_errors(value), key=str)
    except Exception:  # UnknownType, Unresolvable, ...: the schema the request sent cannot be used
        return
    errors = [error for error in errors if not _unsatisfiable(error.schema)]
    if errors:
        raise Violation(f"Received: {what} {brief(value)}\nViolates: {errors[0].message[:200]}\nExpected: schema-valid")


def _unsatisfiable(schema: object) -> bool:
    """Whether a (sub)schema lists an `enum` none of whose values its other keywords allow (`minLength: 508` beside
    short values, which generated requests do send): no answer can be valid there, so none is judged by it."""
    if not isinstance(schema, dict) or not isinstance(schema.get("enum"), list):
        return False
    try:
        validator = Draft202012Validator(schema)
        return not any(validator.is_valid(value) for value in schema["enum"])
    except Exception:  # a schema jsonschema cannot use: the caller already judged nothing by it
        return True


def strict_tool(tool: dict[str, Any]) -> bool:
    """Whether a function tool constrains its arguments to its `parameters`: `strict` defaults to true, and only
    `false` loosens the guarantee to a JSON object (facts §3.6); any other value is the request's problem and
    leaves the default."""
    function = tool.get("function")
    return not (isinstance(function, dict) and function.get("strict") is False)


def judge_arguments(tool: dict[str, Any], arguments: Any, name: str) -> None:
    """Raise a Violation when parsed tool-call `arguments` break what `tool` guarantees: its schema when strict,
    a JSON object when it says `strict: false` (facts §3.6)."""
    if strict_tool(tool):
        validate_against(tool["function"].get("parameters"), arguments, f"arguments of {name}")
    elif not isinstance(arguments, dict):
        raise Violation(f"Received: arguments of {name} {brief(arguments)}\nExpected: a JSON object (strict false)")


@check(
    "CHAT009",
    "Tool call arguments invalid",
    "#/components/schemas/ToolCall",
    fact="facts §3.6 [S][D]; verifiers §1 [KVV]",
    operations=CHAT,
    behavioural=True,
)
def tool_arguments_match_schema(ctx: CheckContext, exchange: Exchange) -> None:
    """Each tool call names a requested tool; its arguments are JSON valid against its schema (an object if not strict).

    A tool that says `strict: false` guarantees only a JSON object (facts §3.6): its schema is not held against
    the arguments then, but arguments that are no JSON, or JSON but no object, still fail."""
    request, body = completion_of(exchange)
    tools = requested_tools(request)
    calls = [call for choice in choices_of(body) for call in _tool_calls(message_of(choice))]
    if not calls:
        raise NotApplicable
    for call in calls:
        raw = call.get("function")
        function: dict[str, Any] = raw if isinstance(raw, dict) else {}
        name = function.get("name")
        if not isinstance(name, str) or name not in tools:
            raise Violation(f"Received: a call to {brief(name)}\nExpected: one of the requested tools {sorted(tools)}")
        if tools[name].get("type") == "builtin_function":
            continue
        try:
            arguments = strict_json.loads(function.get("arguments") or "")
        except (ValueError, TypeError):
            raise Violation(f"Received: arguments {brief(function.get('arguments'))}\nExpected: JSON") from None
        judge_arguments(tools[name], arguments, name)


def _tool_calls(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The message's tool calls (the objects among them); a Violation when `tool_calls` is set to no list."""
    calls = message.get("tool_calls") or []
    if not isinstance(calls, list):
        raise Violation(f"Received: tool_calls {brief(calls)}\nExpected: a list of calls to the requested tools")
    return [call for call in calls if isinstance(call, dict)]


@check(
    "CHAT010",
    "Reasoning returned with thinking disabled",
    "#/components/schemas/ChatCompletion",
    fact="facts §3.7 [S][D]; facts §3.1 [D][S]",
    operations=CHAT,
)
def no_reasoning_when_thinking_disabled(ctx: CheckContext, exchange: Exchange) -> None:
    """A model that does not think for this request (disabled, or a non-thinking model) returns no reasoning_content.

    A warning on a model whose facts the rules table infers (`inferred`, e.g. kimi-latest): that it never thinks
    is [I] there, not [D]."""
    request, body = completion_of(exchange)
    model = ctx.model(request.get("model"))
    if model is None or model.thinks(request.get("thinking")):
        raise NotApplicable
    for choice in choices_of(body):
        if message_of(choice).get("reasoning_content"):
            raise Violation(
                f"Received: reasoning_content from {model.id} with thinking "
                f"{brief(request.get('thinking'))}\nExpected: no reasoning_content"
                + (f"\nA warning: that {model.id} does not think rests on {model.source}" if model.inferred else ""),
                severity=Severity.WARNING if model.inferred else None,
            )


@check(
    "CHAT011",
    "prompt_tokens disagree with estimate-token-count",
    "#/paths/~1v1~1tokenizers~1estimate-token-count",
    fact="verifiers §2 [KVV]; facts §7 [S][D]",
    severity=Severity.WARNING,
    operations=CHAT,
)
def prompt_tokens_match_estimate(ctx: CheckContext, exchange: Exchange) -> None:
    """prompt_tokens is between the estimate for the same messages and that estimate + 3 (a stated tolerance)."""
    estimate = exchange.related.get("estimate")
    if estimate is None:
        raise NotApplicable
    _, body = completion_of(exchange)
    prompt = _usage(body).get("prompt_tokens")
    try:
        expected = estimate.json()["data"]["total_tokens"]
    except (ValueError, KeyError, TypeError):
        raise NotApplicable from None
    if (
        isinstance(prompt, int)
        and isinstance(expected, int)
        and not expected <= prompt <= expected + ESTIMATE_TOLERANCE
    ):
        raise Violation(
            f"Received: prompt_tokens {prompt}\nExpected: {expected}..{expected + ESTIMATE_TOLERANCE} "
            "(estimate-token-count for the same messages)"
        )


@check(
    "CHAT012",
    "Partial prefix repeated",
    "#/components/schemas/AssistantMessage",
    fact="facts §3.5 [D]",
    operations=CHAT,
    behavioural=True,
)
def partial_prefix_not_repeated(ctx: CheckContext, exchange: Exchange) -> None:
    """In partial mode the answer continues the assistant prefix without repeating it (the client concatenates)."""
    request, body = completion_of(exchange)
    messages = request.get("messages")
    last = messages[-1] if isinstance(messages, list) and messages else None
    if not isinstance(last, dict) or last.get("role") != "assistant" or last.get("partial") is not True:
        raise NotApplicable
    prefix = last.get("content")
    if not isinstance(prefix, str) or not prefix:
        raise NotApplicable
    for choice in choices_of(body):
        content = message_of(choice).get("content")
        if isinstance(content, str) and content.startswith(prefix):
            raise Violation(f"Received: content starting with the prefix {prefix!r}\nExpected: only the continuation")
