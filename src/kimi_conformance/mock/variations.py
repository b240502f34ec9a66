"""Benign variations (named `benign-*` in faults.py): what a server may do that a conformant client accepts."""

from __future__ import annotations

from typing import Any

from kimi_conformance.mock.config import MockConfig

TINY_WRITE = 5
"""Bytes per write under `benign-tiny-writes`."""
RETRY_MS = 3000
"""The reconnection time `benign-retry-field` announces."""
LOOSE_EXTRA = "x_loose_extra"
"""The property `benign-loose-tool-arguments` adds to the arguments of a `strict: false` tool."""


def reshape(value: Any, config: MockConfig) -> Any:
    """Under `benign-key-order`: keys in reverse order and an unknown field on every object."""
    if not config.has_fault("benign-key-order"):
        return value
    return _reshape(value)


def _reshape(value: Any) -> Any:
    if isinstance(value, dict):
        return {"x_vendor_extra": True, **{key: _reshape(value[key]) for key in reversed(list(value))}}
    if isinstance(value, list):
        return [_reshape(item) for item in value]
    return value


def frame(data: bytes, config: MockConfig) -> bytes:
    """One SSE event carrying `data`, framed as the switched-on variations say."""
    if not config.faults:
        return b"data: " + data + b"\n\n"
    separator = b": ping\n" if config.has_fault("benign-comments") else b""
    prefix = b"data:" if config.has_fault("benign-no-space") else b"data: "
    event = separator + prefix + data + b"\n\n"
    return event.replace(b"\n", b"\r\n") if config.has_fault("benign-crlf") else event


def writes(event: bytes, config: MockConfig) -> list[bytes]:
    """The pieces one event is written in."""
    if not config.has_fault("benign-tiny-writes"):
        return [event]
    return [event[i : i + TINY_WRITE] for i in range(0, len(event), TINY_WRITE)]


def retry_block(config: MockConfig) -> bytes:
    """Under `benign-retry-field`: a block holding only `retry: 3000`, sent before the first event (WHATWG SSE: it
    sets the reconnection time and dispatches no event); else nothing."""
    if not config.has_fault("benign-retry-field"):
        return b""
    block = b"retry: %d\n\n" % RETRY_MS
    return block.replace(b"\n", b"\r\n") if config.has_fault("benign-crlf") else block


def null_roles(deltas: list[dict[str, Any]], config: MockConfig) -> list[dict[str, Any]]:
    """Under `benign-null-role-deltas`: every delta after a choice's first carries `"role": null` (the common
    OpenAI-compatible chunk shape; null names no role, so the role still comes once)."""
    if not config.has_fault("benign-null-role-deltas"):
        return deltas
    return deltas[:1] + [{"role": None, **delta} for delta in deltas[1:]]


def loose_arguments(value: Any, schema: Any) -> dict[str, Any]:
    """Under `benign-loose-tool-arguments`, for a tool with `strict: false` (facts §3.6: only a JSON object is
    guaranteed): the arguments `value` without the schema's required properties and with an unknown one, so a
    schema that requires a property or closes the object rejects them; still a JSON object."""
    required = schema.get("required") if isinstance(schema, dict) else None
    dropped = {key for key in required if isinstance(key, str)} if isinstance(required, list) else set()
    kept = {key: item for key, item in value.items() if key not in dropped} if isinstance(value, dict) else {}
    return {**kept, LOOSE_EXTRA: True}


def error_nulls(body: dict[str, Any], config: MockConfig) -> dict[str, Any]:
    """Under `benign-error-nulls`: the error object carries `"code": null, "param": null` (the common
    OpenAI-compatible error shape; facts §9 documents `code` as optional)."""
    error = body.get("error")
    if not config.has_fault("benign-error-nulls") or not isinstance(error, dict):
        return body
    return {**body, "error": {**error, "code": None, "param": None}}
