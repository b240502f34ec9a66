"""The one JSON reader for every body and stream event: RFC 8259 JSON, nothing more.

Python's `json` accepts `NaN`, `Infinity` and `-Infinity`; JSON does not, and neither do strict clients (a
browser's `JSON.parse`, Go's `encoding/json`). A target that sends them has sent something that is not JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def _not_json(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value (RFC 8259)")


SHORT_TEXT = 64
"""Strings up to this length are shared between the values read with one `sharing` hook."""


ObjectHook = Callable[[list[tuple[str, Any]]], dict[str, Any]]


def sharing() -> ObjectHook:
    """An object hook for `loads` that reuses the object keys and short strings it has seen before: many similar
    values read with one hook (the chunks of one stream) then take a third of the memory."""
    seen: dict[str, str] = {}

    def shared(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        return {
            seen.setdefault(key, key): seen.setdefault(value, value)
            if isinstance(value, str) and len(value) <= SHORT_TEXT
            else value
            for key, value in pairs
        }

    return shared


def loads(text: str | bytes, object_hook: ObjectHook | None = None) -> Any:
    """`text` (UTF-8 when bytes) as JSON, its objects built by `object_hook` when given (`sharing`); raises
    ValueError (UnicodeDecodeError included) when it is not JSON, or is nested too deeply to read (Python's
    recursion limit: no answer of this API nests so deep)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    try:
        return json.loads(text, parse_constant=_not_json, object_pairs_hook=object_hook)
    except RecursionError:
        raise ValueError("JSON nested too deeply to read: not JSON this tool accepts") from None


def jsonl_lines(text: str) -> list[str]:
    """The non-blank lines of a JSON Lines text, split only at LF (CRLF allowed): a U+2028 or a form feed inside
    a JSON string is part of its line, unlike with `str.splitlines()`."""
    return [line for line in (raw.removesuffix("\r") for raw in text.split("\n")) if line.strip()]


def jsonl(text: str) -> list[Any]:
    """The values of a JSON Lines text; raises ValueError naming the first line that is not JSON."""
    values = []
    for number, line in enumerate(jsonl_lines(text), start=1):
        try:
            values.append(loads(line))
        except ValueError as exc:
            raise ValueError(f"line {number} is not JSON: {exc}") from None
    return values
