"""Plausible numbers (facts §3.2, §3.9, §12): `created` in Unix seconds of about now, usage that counts what was
produced, and a stream with no more deltas than the tokens it was allowed or says it used."""

from __future__ import annotations

from typing import Any

from kimi_conformance.checks.context import CheckContext
from kimi_conformance.checks.guards import brief, choices_of, completion_of, message_of, streamed_request
from kimi_conformance.checks.registry import check
from kimi_conformance.checks.runner import NotApplicable
from kimi_conformance.checks.serving import texts_of
from kimi_conformance.chunks import ChoiceTrace, StreamView
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Severity, Violation
from kimi_conformance.rules.request_rules import max_output_tokens

CHAT = ["createChatCompletion"]
DAY = 86_400
"""How far `created` may be from the local clock, in seconds."""
UNITS = ((1_000, "milliseconds"), (1_000_000, "microseconds"), (1_000_000_000, "nanoseconds"))
"""Units a `created` may wrongly be in: a value that is now in one of them is a unit defect."""


def _count(value: Any) -> int | None:
    """A token count as an int (not a boolean), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@check(
    "CHAT015",
    "created is not the Unix time in seconds",
    "#/components/schemas/ChatCompletion/properties/created",
    fact="facts §3.9 [S][D]",
    operations=CHAT,
)
def created_in_unix_seconds(ctx: CheckContext, exchange: Exchange) -> None:
    """`created` is the Unix time in seconds, within a day of the local clock when the answer came
    (`Exchange.received_at`: a recorded answer judged again later is judged against its own time; a stream: its
    first chunk's).

    A value that is now in milliseconds, microseconds or nanoseconds is an error: the facts show seconds
    (facts §3.9 [S][D]). Any other value more than a day away is a warning: the local clock may be the one that
    is off, or the answer a replay."""
    _, body = completion_of(exchange)
    created = _count(body.get("created"))
    if created is None:
        raise NotApplicable  # CHAT001 reports a created that is no integer
    now = int(exchange.received_at)
    if abs(created - now) <= DAY:
        return
    for factor, unit in UNITS:
        if abs(created // factor - now) <= DAY:
            raise Violation(f"Received: created {created}, the time now in {unit}\nExpected: Unix seconds ({now})")
    days = abs(created - now) / DAY
    shown = f"{days:,.1f}" if days < 1e9 else "over a billion"
    raise Violation(
        f"Received: created {brief(created)}, {shown} days from the local clock ({now})\n"
        "Expected: the Unix time in seconds of the answer\n"
        "A warning: the local clock may be off, or the answer replayed",
        severity=Severity.WARNING,
    )


@check(
    "CHAT016",
    "Usage counts zero",
    "#/components/schemas/Usage",
    fact="facts §12 [O]; facts §3.9 [S][D]",
    severity=Severity.WARNING,
    operations=CHAT,
)
def usage_counts_not_zero(ctx: CheckContext, exchange: Exchange) -> None:
    """prompt_tokens is not 0, nor completion_tokens when the answer produced text, reasoning or tool arguments.

    A warning: usage all zeros is a reported serving defect (K2VV #9, facts §12 [O]); the facts define the counts
    (facts §3.9) but not that a served prompt has tokens."""
    _, body = completion_of(exchange)
    usage = body.get("usage")
    if not isinstance(usage, dict):
        raise NotApplicable  # SCHM001 reports a missing usage
    prompt, completion = _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))
    produced = sum(len(text) for choice in choices_of(body) for _, text in texts_of(message_of(choice)))
    zeros = [] if prompt != 0 else ["prompt_tokens 0"]
    if completion == 0 and produced:
        zeros.append(f"completion_tokens 0 for {produced} characters of output")
    if zeros:
        raise Violation(
            f"Received: {', '.join(zeros)} (usage {brief(usage)})\n"
            "Expected: the prompt's tokens, and the tokens of what was produced"
        )


def _pieces(state: ChoiceTrace) -> int:
    """A choice's deltas that carried text: content, reasoning or tool-call argument pieces with a non-space."""
    texts = [*state.content, *state.reasoning]
    for fragments in state.calls.values():
        for fragment in fragments:
            function = fragment.get("function")
            arguments = function.get("arguments") if isinstance(function, dict) else None
            texts.append(arguments if isinstance(arguments, str) else "")
    return sum(1 for text in texts if text.strip())


@check(
    "CHNK010",
    "Stream deltas outnumber its tokens",
    "#/components/schemas/ChatCompletionChunk",
    fact="facts §3.2 [S][D]; facts §3.9 [S]; facts §3.10 [D]",
    severity=Severity.WARNING,
    operations=CHAT,
)
def deltas_within_tokens(ctx: CheckContext, exchange: Exchange) -> None:
    """No choice streams more text deltas than its completion_tokens, nor than the requested max tokens allow.

    Reaching `max_completion_tokens` (or `max_tokens`) ends the output (facts §3.2 [S][D]); a stream that carries
    more text deltas than that ignored the cap even when it reports no usage (a live server streamed 263 deltas for
    `max_completion_tokens: 64`). A warning: that each delta carries at least one token is an inference (a gateway
    may split text further)."""
    request = streamed_request(exchange)
    streamed = exchange.stream()
    pieces = {index: _pieces(state) for index, state in streamed.choices.items()}
    cap = max_output_tokens(request)
    for index, count in sorted(pieces.items()):
        if cap is not None and count > max(cap, 0):
            raise Violation(
                f"Received: {count} text deltas in choice {index}\nExpected: at most {cap} "
                f"(max tokens {cap}, a delta being at least one token)"
            )
    for where, count, completion in _reported(streamed, pieces):
        if count > completion:
            raise Violation(
                f"Received: {count} text deltas {where} with completion_tokens {completion}\n"
                "Expected: completion_tokens at least the number of text deltas (a delta being at least one token)"
            )


def _reported(streamed: StreamView, pieces: dict[int, int]) -> list[tuple[str, int, int]]:
    """(where, text deltas, completion_tokens) to compare: each choice with the usage inside it when every choice
    has one; else all the choices with the `choices: []` usage chunk; nothing when the stream reports no usage."""
    choices = streamed.choices
    own = {index: _count(state.usage[-1].get("completion_tokens")) for index, state in choices.items() if state.usage}
    if own and len(own) == len(choices):
        return [(f"in choice {index}", pieces[index], count) for index, count in own.items() if count is not None]
    top = [usage for _, usage, empty in streamed.top_usage if empty and isinstance(usage, dict)]
    completion = _count(top[-1].get("completion_tokens")) if top else None
    return [] if completion is None else [("in all choices", sum(pieces.values()), completion)]
