"""What a chat request asks for beyond the answer's shape, honoured: the tool choice (facts §3.6) and prompt caching
(facts §3.9). Both are warnings. Whether `required` or a named function forces a call is no firm fact (the facts
contradict each other on `required`, and KVV's only word on a named choice is that it is silently ignored), and
caching is best effort. Streams face these checks through their fold."""

from __future__ import annotations

from typing import Any

from kimi_conformance.checks.chat import requested_tools
from kimi_conformance.checks.context import CheckContext
from kimi_conformance.checks.guards import brief, choices_of, completion_of
from kimi_conformance.checks.registry import check
from kimi_conformance.checks.runner import NotApplicable
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Severity, Violation
from kimi_conformance.rules import ModelInfo
from kimi_conformance.rules.contested import CONTESTED
from kimi_conformance.rules.request_rules import ChatView, broken_rules, thinking_on

CHAT = ["createChatCompletion"]
TOOL_CHOICE_USES = ("tool-choice-required", "named-tool-choice-k3")
"""The contested uses (`rules/contested.py`) about whether a tool_choice forces a call."""
REQUIRED_SIDES = next(use.sides for use in CONTESTED if use.id == "tool-choice-required")
NAMED_SIDES = (
    "OpenAI compatibility (facts §1 [D]: the API is compatible with the OpenAI SDK): a named tool_choice forces that "
    "function; KVV's test: the named form is accepted and silently ignored (facts §3.6 [KVV], a test KVV skips)"
)
CACHE_PRIMER = "cache_primer"
"""`Exchange.related` key of the request a prompt repeats: CHAT018 expects the repeat to report cached tokens."""


def _called(choice: dict[str, Any]) -> list[object]:
    """The function names a choice's tool calls give (None for a call naming none); CHAT009 judges their shape."""
    message = choice.get("message")
    calls = message.get("tool_calls") if isinstance(message, dict) else None
    if not isinstance(calls, list):
        return []
    functions = [call.get("function") if isinstance(call, dict) else None for call in calls]
    return [function.get("name") if isinstance(function, dict) else None for function in functions]


def named_function(tool_choice: object) -> str | None:
    """The function a named tool_choice (`{"type": "function", "function": {"name": X}}`) names, else None."""
    function = tool_choice.get("function") if isinstance(tool_choice, dict) else None
    if not isinstance(function, dict) or not isinstance(tool_choice, dict) or tool_choice.get("type") != "function":
        return None
    name = function.get("name")
    return name if isinstance(name, str) else None


def _sides(model: ModelInfo, request: dict[str, Any], named: str | None) -> str:
    """Both sides of whether this tool_choice forces a call, as the facts give them."""
    for use in CONTESTED:
        try:
            if use.id in TOOL_CHOICE_USES and use.uses(model, request):
                return f"the request uses {use.id}, which the facts contest: {use.sides}"
        except TypeError:  # an unhashable generated value compared with a string: not this use
            continue
    return NAMED_SIDES if named is not None else f"tool_choice required is contested: {REQUIRED_SIDES}"


@check(
    "CHAT017",
    "Tool choice not honoured",
    "#/components/schemas/ToolChoice",
    fact="facts §3.6 [D][KVV][O]; facts §1 [D]",
    severity=Severity.WARNING,
    operations=CHAT,
)
def tool_choice_honoured(ctx: CheckContext, exchange: Exchange) -> None:
    """`tool_choice: "required"` gives a tool call, a named function calls to it only; or the cap cuts it (`length`).

    A choice without a call must end as `length` (the output cap cut the forced call), never as a text answer that
    stops (SGLang #39895, facts §12). A warning naming both sides: the facts contest whether `required` forces a
    call (facts §3.6, §11.3), and KVV's only word on a named choice is that it is silently ignored. Not applicable
    where the rules table refuses the request for its model (`required` or a named choice while thinking): a served
    one is RULE001's; nor when the named function is not declared (nothing to honour), nor on an unknown model.
    Calls to undeclared tools are CHAT009's."""
    request, body = completion_of(exchange)
    choice = request.get("tool_choice")
    named = named_function(choice)
    model = ctx.model(request.get("model"))
    if (choice != "required" and named is None) or model is None:
        raise NotApplicable
    if named is not None and named not in requested_tools(request):
        raise NotApplicable
    if broken_rules(ChatView(request, model, thinking_on(request, model))):
        raise NotApplicable
    note = f"\nA warning: {_sides(model, request, named)}"
    for index, answer in enumerate(choices_of(body)):
        called = _called(answer)
        reason = answer.get("finish_reason")
        if not called and reason != "length":
            wanted = f"a call to {named}" if named is not None else "a tool call"
            raise Violation(
                f"Received: choice {answer.get('index', index)} answered without a tool call (finish_reason "
                f"{brief(reason)}) to tool_choice {brief(choice)}\nExpected: {wanted}, or finish_reason length "
                "where the output cap cut it" + note
            )
        others = [name for name in called if name != named]
        if named is not None and others:
            raise Violation(
                f"Received: a call to {brief(others[0])} with tool_choice naming {named}\n"
                f"Expected: calls to {named} only" + note
            )


def _shared_messages(before: object, now: object) -> int:
    """How many leading messages two prompts share."""
    if not isinstance(before, list) or not isinstance(now, list):
        return 0
    shared = 0
    for first, second in zip(before, now, strict=False):
        if first != second:
            break
        shared += 1
    return shared


@check(
    "CHAT018",
    "Repeated prompt prefix not reported as cached",
    "#/components/schemas/Usage",
    fact="facts §3.9 [D][O]; facts §3.2 [S]",
    severity=Severity.WARNING,
    operations=CHAT,
)
def repeated_prefix_cached(ctx: CheckContext, exchange: Exchange) -> None:
    """A prompt repeating the prefix of one just served, under the same prompt_cache_key, reports cached_tokens > 0.

    The earlier exchange is `related["cache_primer"]`. A warning: caching is best effort. A model whose answer
    carries no cached_tokens (top-level or in prompt_tokens_details) does no automatic caching ("only models that
    support automatic caching return this field", facts §3.9 [D]): nothing to judge. That cached tokens never
    exceed prompt tokens is CHAT004's."""
    primer = exchange.related.get(CACHE_PRIMER)
    if primer is None:
        raise NotApplicable
    request, body = completion_of(exchange)
    before = primer.request_json
    if not isinstance(before, dict) or primer.status is None or not 200 <= primer.status < 300:
        raise NotApplicable  # nothing was served, so nothing cached
    key = request.get("prompt_cache_key")
    same = isinstance(key, str) and key and before.get("prompt_cache_key") == key
    if not same or before.get("model") != request.get("model"):
        raise NotApplicable
    shared = _shared_messages(before.get("messages"), request.get("messages"))
    usage = body.get("usage")
    if not shared or not isinstance(usage, dict):
        raise NotApplicable
    details = usage.get("prompt_tokens_details")
    spellings = (usage.get("cached_tokens"), details.get("cached_tokens") if isinstance(details, dict) else None)
    reported = [value for value in spellings if isinstance(value, int) and not isinstance(value, bool)]
    if not reported:
        raise NotApplicable  # a model without automatic caching (facts §3.9 [D])
    if max(reported) > 0:
        return
    raise Violation(
        f"Received: cached_tokens {reported[0]} for a prompt repeating {shared} message(s) of the one served "
        f"before it under prompt_cache_key {key!r}\nExpected: cached_tokens > 0\n"
        "A warning: caching is best effort (facts §3.9)"
    )
