"""Benign variations (named `benign-*` in faults.py): what a server may do that a conformant client accepts."""

from __future__ import annotations

from typing import Any

from kimi_conformance.mock.config import MockConfig

TINY_WRITE = 5
"""Bytes per write under `benign-tiny-writes`."""


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
    separator = b": ping\n" if config.has_fault("benign-comments") else b""
    prefix = b"data:" if config.has_fault("benign-no-space") else b"data: "
    event = separator + prefix + data + b"\n\n"
    return event.replace(b"\n", b"\r\n") if config.has_fault("benign-crlf") else event


def writes(event: bytes, config: MockConfig) -> list[bytes]:
    """The pieces one event is written in."""
    if not config.has_fault("benign-tiny-writes"):
        return [event]
    return [event[i : i + TINY_WRITE] for i in range(0, len(event), TINY_WRITE)]
