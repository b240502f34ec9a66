"""Synthetic exchanges for in-process unit tests of the checks: a conformant answer by default, changed in the one
way a test needs (no server, no network)."""

from __future__ import annotations

import json
from typing import Any

from kimi_conformance.checks import CHECKS, CheckContext, Outcome, Status, run_checks
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Finding, Severity

MODEL = "kimi-k2-turbo-preview"
CHAT_URL = "http://127.0.0.1:1/v1/chat/completions"
HEAD = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1764547200, "model": MODEL}
USAGE = {"prompt_tokens": 8, "completion_tokens": 2, "total_tokens": 10}
TOOL: dict[str, Any] = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
}
LOOSE_TOOL = {"type": "function", "function": {**TOOL["function"], "strict": False}}
"""TOOL with `strict: false`: only a JSON object is guaranteed, not the schema (facts §3.6)."""
WEB_SEARCH = {"type": "builtin_function", "function": {"name": "$web_search"}}
CALL = {"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
"""A whole call of TOOL, as a non-streaming message carries it."""


def counts(prompt: Any = 8, completion: Any = 2, total: Any = None, **extra: Any) -> dict[str, Any]:
    """A usage object's counts (total = prompt + completion unless given, when both are integers)."""
    if total is None and isinstance(prompt, int) and isinstance(completion, int):
        total = prompt + completion
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total, **extra}


def chat_request(**extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], **extra}


def completion(**extra: Any) -> dict[str, Any]:
    """A conformant non-streaming chat completion body."""
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1764547200,
        "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "OK"}, "finish_reason": "stop"}],
        "usage": USAGE,
        **extra,
    }


def answer(content: Any = "OK", finish: Any = "stop", model: str = MODEL, **fields: Any) -> dict[str, Any]:
    """A completion from `model` whose one choice says `content` (with further message fields) and ends with
    `finish`."""
    reply = {"role": "assistant", "content": content, **fields}
    return completion(model=model, choices=[{"index": 0, "message": reply, "finish_reason": finish}])


def exchange(
    operation: str,
    body: bytes | dict[str, Any] | list[Any],
    *,
    status: int = 200,
    content_type: str = "application/json",
    request: Any = None,
    method: str = "POST",
    url: str = CHAT_URL,
    **fields: Any,
) -> Exchange:
    """An exchange of `operation` answered `status` with `body` (JSON-encoded unless bytes)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Exchange(
        operation=operation,
        method=method,
        url=url,
        request_headers={"content-type": "application/json"},
        request_json=request,
        request_text=json.dumps(request) if request is not None else "",
        status=status,
        response_headers={"content-type": content_type},
        body=raw,
        **fields,
    )


def chat_json(body: dict[str, Any] | None = None, status: int = 200, **request: Any) -> Exchange:
    """A non-streaming chat completion exchange (conformant unless `body` says otherwise)."""
    return exchange("createChatCompletion", body if body is not None else completion(), status=status,
                    request=chat_request(**request))  # fmt: skip


def chunk_event(*choices: dict[str, Any], **top: Any) -> bytes:
    """One `data:` event carrying a chunk with these choices (and top-level fields such as `usage`)."""
    return b"data: " + json.dumps({**HEAD, "choices": list(choices), **top}).encode() + b"\n\n"


def done() -> bytes:
    return b"data: [DONE]\n\n"


ROLE = {"role": "assistant", "content": ""}
"""A choice's first delta, as the documented first chunk carries it (facts §3.10)."""
NO_USAGE: Any = object()
"""Leave `usage` out of a finishing chunk (where None would send `null`)."""


def chunk_choice(
    delta: dict[str, Any] | None = None, finish: Any = None, index: int = 0, **extra: Any
) -> dict[str, Any]:
    """One choice of a chunk."""
    return {"index": index, "delta": delta if delta is not None else {}, "finish_reason": finish, **extra}


def choice_events(
    *deltas: dict[str, Any],
    finish: Any = "stop",
    usage: Any = USAGE,
    first: dict[str, Any] = ROLE,
    index: int = 0,
    **top: Any,
) -> list[bytes]:
    """One choice's events, without [DONE]: its `first` delta, `deltas` one chunk each, and its finishing chunk
    carrying `usage` (Moonshot-style, in the choice; NO_USAGE: none); `top` fields (`model`...) on every chunk."""
    tail = chunk_choice(finish=finish, index=index, **({} if usage is NO_USAGE else {"usage": usage}))
    return [
        chunk_event(chunk_choice(first, index=index), **top),
        *(chunk_event(chunk_choice(delta, index=index), **top) for delta in deltas),
        chunk_event(tail, **top),
    ]


def arguments_piece(arguments: str, index: int = 0, **extra: Any) -> dict[str, Any]:
    """A later fragment of tool call `index`, carrying a piece of its arguments."""
    return {"index": index, "function": {"arguments": arguments}, **extra}


def text_stream_events(text: str = "OK", finish: str = "stop", usage: dict[str, Any] | None = None) -> list[bytes]:
    """The events of a conformant one-choice stream answering `text` (Moonshot-style usage in the last choice)."""
    return [*choice_events({"content": text}, finish=finish, usage=usage or USAGE), done()]


def chat_stream(events: list[bytes] | None = None, status: int = 200, **request: Any) -> Exchange:
    """A streamed chat completion exchange made of `events` (a conformant text stream by default)."""
    body = b"".join(events if events is not None else text_stream_events())
    return exchange("createChatCompletion", body, status=status, content_type="text/event-stream",
                    request=chat_request(stream=True, **request))  # fmt: skip


def outcome(code: str, exchange: Exchange, ctx: CheckContext | None = None) -> Outcome:
    """The one outcome of check `code` on `exchange`."""
    assert CHECKS[code].applies_to(exchange.operation), f"{code} does not apply to {exchange.operation}"
    (result,) = run_checks(ctx or CheckContext(), exchange, {code})
    assert result.status is not Status.CRASHED, result.crash
    return result


def status(code: str, exchange: Exchange, ctx: CheckContext | None = None) -> Status:
    return outcome(code, exchange, ctx).status


def finding(code: str, exchange: Exchange, ctx: CheckContext | None = None) -> Finding:
    """The finding of check `code` on `exchange`, which must fail."""
    result = outcome(code, exchange, ctx)
    assert result.finding is not None, f"{code} did not fail: {result.status}"
    return result.finding


def message(code: str, exchange: Exchange, ctx: CheckContext | None = None) -> str:
    """The finding's message of check `code` on `exchange`, which must fail."""
    return finding(code, exchange, ctx).message


def warning(code: str, exchange: Exchange, ctx: CheckContext | None = None) -> str:
    """The finding's message of check `code` on `exchange`, which must fail with a warning."""
    found = finding(code, exchange, ctx)
    assert found.severity is Severity.WARNING, f"{code} failed with {found.severity.value}"
    return found.message


# Contract operations, resources and error envelopes (for the http, schema, errors, resources and rules checks).

BASE_URL = "http://127.0.0.1:1"
FILE_ID = "file-1"
BATCH_ID = "batch-1"
BATCH_REQUEST = {"input_file_id": FILE_ID, "endpoint": "/v1/chat/completions", "completion_window": "24h"}


def api(
    operation: str,
    body: bytes | dict[str, Any] | list[Any] = b"",
    *,
    status: int = 200,
    content_type: str = "application/json",
    **fields: Any,
) -> Exchange:
    """An exchange of the contract's `operation`, sent with its documented method to its documented path."""
    from kimi_conformance import contract

    path, method = contract.operations()[operation]
    return exchange(operation, body, status=status, content_type=content_type, method=method.upper(),
                    url=BASE_URL + path, **fields)  # fmt: skip


def unanswered(operation: str = "createChatCompletion", error: str = "ConnectError", **fields: Any) -> Exchange:
    """An exchange of `operation` the target never answered: no status, headers or body, only `transport_error`."""
    sent = api(operation, transport_error=error, **fields)
    sent.status = None
    sent.response_headers = {}
    return sent


def error_envelope(kind: str = "invalid_request_error", text: str = "bad request") -> dict[str, Any]:
    """The common error envelope `{"error": {"type", "message"}}`."""
    return {"error": {"type": kind, "message": text}}


def model_list(*ids: str) -> dict[str, Any]:
    """A conformant models list naming `ids` (kimi-k2.5 alone by default)."""
    models = [{"id": model, "object": "model", "created": 1764547200, "owned_by": "moonshot", "context_length": 262144}
              for model in ids or ("kimi-k2.5",)]  # fmt: skip
    return {"object": "list", "data": models}


def file_object(**extra: Any) -> dict[str, Any]:
    """A conformant file object (`FILE_ID`, a 12-byte probe.txt for file-extract)."""
    return {"id": FILE_ID, "object": "file", "bytes": 12, "created_at": 1764547200, "filename": "probe.txt",
            "purpose": "file-extract", "status": "ok", "status_details": "", **extra}  # fmt: skip


def batch_object(**extra: Any) -> dict[str, Any]:
    """A conformant batch object (`BATCH_ID`, created from `BATCH_REQUEST`, validating)."""
    return {"id": BATCH_ID, "object": "batch", **BATCH_REQUEST, "status": "validating", "created_at": 1764547200,
            "request_counts": {"completed": 0, "failed": 0, "total": 0}, **extra}  # fmt: skip


def listing(*items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A `{"object": "list", "data": [...]}` page of `items` (files, batches)."""
    return {"object": "list", "data": list(items), **extra}
