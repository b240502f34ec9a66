"""The one JSON reader for every body and stream event: RFC 8259 JSON, nothing more.

Python's `json` accepts `NaN`, `Infinity` and `-Infinity`; JSON does not, and neither do strict clients (a
browser's `JSON.parse`, Go's `encoding/json`). A target that sends them has sent something that is not JSON.
"""

from __future__ import annotations

import json
from typing import Any


def _not_json(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value (RFC 8259)")


SHORT_TEXT = 64
"""Strings up to this length are shared between the values read with one `shared` table."""


def loads(text: str | bytes, shared: dict[str, str] | None = None) -> Any:
    """`text` (UTF-8 when bytes) as JSON; raises ValueError (UnicodeDecodeError included) when it is not JSON, or
    is nested too deeply to read (Python's recursion limit: no answer of this API nests so deep). With `shared`,
    object keys and short strings already in the table are reused (many similar values, such as the chunks of
    one stream, then take a third of the memory)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    hook = None
    if shared is not None:

        def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            return {
                shared.setdefault(key, key): shared.setdefault(value, value)
                if isinstance(value, str) and len(value) <= SHORT_TEXT
                else value
                for key, value in pairs
            }

    try:
        return json.loads(text, parse_constant=_not_json, object_pairs_hook=hook)
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
