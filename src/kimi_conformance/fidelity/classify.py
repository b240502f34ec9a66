"""One answer to a tool-call request, classified as Moonshot's K2 Vendor Verifier reads it (verifiers §1).

K2VV takes each answer whose `finish_reason` is `tool_calls`, finds every call's function by name among the
request's tools, parses its arguments as JSON and validates them against the tool's `parameters`; an unknown name,
arguments that are no JSON or break the schema make the answer invalid, and `schema_accuracy` is valid answers over
answers ending in `tool_calls`. `Answer.schema_valid` is exactly that verdict (None outside the denominator).

The class says what went wrong, worst call first, in the taxonomy other verifiers share (verifiers §5): `ok`,
`no_tool_call`, `unknown_tool`, `wrong_tool` (another tool of the request than the one asked for; K2VV still counts
its valid arguments as valid), `invalid_json`, `schema_violation`, `truncated` (cut by the output cap or mid-stream:
`length`, no finish_reason, a cut body) and `request_rejected` (no completion: an error status, no answer at all, a
body that is no JSON). Arguments are read with the strict JSON reader (RFC 8259: no NaN, unlike K2VV's `json.loads`)
and validated with JSON Schema draft 2020-12, as KVV does.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from kimi_conformance import strict_json
from kimi_conformance.exchange import Exchange

CLASSES = (
    "ok",
    "no_tool_call",
    "unknown_tool",
    "wrong_tool",
    "invalid_json",
    "schema_violation",
    "truncated",
    "request_rejected",
)
WORST_FIRST = (
    "invalid_json",
    "schema_violation",
    "unknown_tool",
    "wrong_tool",
    "no_tool_call",
    "truncated",
    "request_rejected",
    "ok",
)
"""The order of badness: which class an answer with several calls takes, and which examples the report shows."""
RANK = {name: rank for rank, name in enumerate(WORST_FIRST)}
MARKUP = ("<|tool_calls_section_begin|>", "<|tool_call_begin|>", "<|tool_call_argument_begin|>")
"""The K2 chat template's tool-call tokens (verifiers §1): in content, a tool-call parser did not run."""
EXCERPT = 160


@dataclass(frozen=True, slots=True)
class Answer:
    """The classification of one answer."""

    klass: str
    """One of CLASSES."""
    finish_reason: str | None
    schema_valid: bool | None
    """K2VV's verdict on an answer whose finish_reason is `tool_calls` (it carries calls, each to a declared tool,
    with JSON arguments valid against its parameters); None for any other finish_reason."""
    detail: str
    stream: bool
    tool_choice: str
    """How the request asked for the call: `named`, `required`, `auto` or `none`."""


def _excerpt(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= EXCERPT else text[:EXCERPT] + "..."


def tool_choice_kind(choice: Any) -> str:
    if isinstance(choice, dict):
        return "named"
    return choice if choice in ("required", "auto", "none") else "auto"


@functools.lru_cache(maxsize=512)
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json))


def _declared(request: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The request's function tools by name: their parameters."""
    declared = {}
    for tool in request.get("tools") or []:
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            parameters = function.get("parameters")
            declared[function["name"]] = parameters if isinstance(parameters, dict) else {}
    return declared


def judge_call(call: dict[str, Any], declared: dict[str, dict[str, Any]], expected: str) -> tuple[str, str, bool]:
    """(class, detail, K2VV-valid) of one tool call."""
    raw = call.get("function")
    function: dict[str, Any] = raw if isinstance(raw, dict) else {}
    name = function.get("name")
    if not isinstance(name, str) or name not in declared:
        return "unknown_tool", f"a call to {_excerpt(name)}, which the request does not declare", False
    arguments = function.get("arguments")
    if not isinstance(arguments, str):
        return "invalid_json", f"{name}: arguments are no JSON string but {_excerpt(arguments)}", False
    try:
        value = strict_json.loads(arguments)
    except ValueError:
        return "invalid_json", f"{name}: arguments are no JSON: {_excerpt(arguments)}", False
    error = best_match(_validator(json.dumps(declared[name], sort_keys=True)).iter_errors(value))
    if error is not None:
        where = "/" + "/".join(str(part) for part in error.absolute_path)
        return "schema_violation", f"{name}: at {where}: {_excerpt(error.message)}", False
    if name != expected:
        return "wrong_tool", f"a call to {name} (valid arguments), asked for {expected}", True
    return "ok", "", True


def classify(exchange: Exchange, expected: str) -> Answer:
    """Classify the answer to a request that asks for a call of the tool named `expected`."""
    request = exchange.request_json if isinstance(exchange.request_json, dict) else {}
    stream = request.get("stream") is True
    kind = tool_choice_kind(request.get("tool_choice"))

    def answer(klass: str, detail: str, finish: str | None = None, valid: bool | None = None) -> Answer:
        return Answer(klass, finish, valid, detail, stream, kind)

    if exchange.status is None:
        why = exchange.transport_error or exchange.stream_error or "not sent"
        return answer("request_rejected", f"no answer: {_excerpt(why)}")
    if exchange.status != 200:
        said = exchange.body.decode("utf-8", "replace")
        return answer("request_rejected", f"HTTP {exchange.status}: {_excerpt(said)}")
    cut = exchange.stream_error or exchange.transport_error
    if cut is not None:
        return answer("truncated", f"the answer was cut: {_excerpt(cut)}")
    body: Any
    if stream:
        folded = exchange.folded()
        if folded is None:
            return answer("truncated", "the stream carried no chunk")
        body = folded.json()
    else:
        try:
            body = exchange.json()
        except ValueError as exc:
            return answer("request_rejected", f"HTTP 200 but no JSON body: {_excerpt(str(exc))}")
    choices = body.get("choices") if isinstance(body, dict) else None
    choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else None
    if choice is None:
        return answer("request_rejected", f"HTTP 200 but no choice in {_excerpt(body)}")
    finish = choice.get("finish_reason") if isinstance(choice.get("finish_reason"), str) else None
    message = _object(choice.get("message"))
    listed = message.get("tool_calls")
    calls = [call for call in listed if isinstance(call, dict)] if isinstance(listed, list) else []
    if finish in ("length", None):
        return answer("truncated", f"finish_reason {finish or 'missing'}, {len(calls)} call(s) begun", finish)
    if not calls:
        text = f"{message.get('content') or ''}{message.get('reasoning_content') or ''}"
        markup = " (tool-call markup in the text: the parser did not run)" if any(m in text for m in MARKUP) else ""
        said = f"; content {_excerpt(message.get('content'))}" if message.get("content") else ""
        return answer("no_tool_call", f"finish_reason {finish}, no tool_calls{markup}{said}", finish, _k2vv(finish))
    declared = _declared(request)
    judged = [judge_call(call, declared, expected) for call in calls]
    klass, detail, _ = min(judged, key=lambda item: RANK[item[0]])
    valid = all(ok for _, _, ok in judged) if finish == "tool_calls" else None
    if len(calls) > 1 and klass == "ok":
        detail = f"{len(calls)} calls of {expected}"
    return answer(klass, detail, finish, valid)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _k2vv(finish: str | None) -> bool | None:
    """An answer without calls: invalid for K2VV when it still says `tool_calls`, else outside the denominator."""
    return False if finish == "tool_calls" else None
