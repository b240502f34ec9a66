"""KVV's stream-spec (verifiers §5) in the mock: the usage headers every chat answer carries, and the faults that
break the parts of the spec the CHNK015-CHNK024 checks hold, each rewriting a stream's chunks the way a serving
stack that misses that part sends them. With none of them on, the chunks pass through untouched."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import Any

from kimi_conformance.mock.config import MockConfig
from kimi_conformance.tokenizer import REPLY_PRIMER

STREAM_FAULTS = frozenset(
    {
        "stream-usage-details-missing",
        "stream-tool-fragments-null-keys",
        "stream-error-frame",
        "stream-first-delta-without-content",
        "stream-end-delta-content",
        "stream-created-per-chunk",
        "stream-tool-index-from-one",
        "stream-usage-mid-chunk",
        "stream-utf8-replacement",
    }
)
"""The faults `spec_faults` applies (catalogued in faults.py, with the codes that catch each)."""
ERROR_FRAME = {"error": {"message": "The engine is currently overloaded, please try again later",
                         "type": "engine_overloaded_error"}}  # fmt: skip
"""What `stream-error-frame` sends in the middle of a stream, instead of the rest of it."""
ERROR_AFTER = 2
"""Chunks sent before the error frame of `stream-error-frame`."""


def usage_headers(usage: Any, config: MockConfig) -> dict[str, str]:
    """`X-Msh-Usage-Prompt-Tokens` and `X-Msh-Usage-Cached-Tokens`, from the usage the answer reports (facts §12 [O]).
    Under `usage-headers-off` the prompt count leaves out the reply primer, as if counted before the chat template
    opened the reply."""
    if not isinstance(usage, dict):
        return {}
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else usage.get("cached_tokens", 0)
    prompt = usage.get("prompt_tokens", 0)
    if config.has_fault("usage-headers-off"):
        prompt = max(0, prompt - REPLY_PRIMER)
    return {"X-Msh-Usage-Prompt-Tokens": str(prompt), "X-Msh-Usage-Cached-Tokens": str(cached)}


def spec_faults(chunks: Iterable[dict[str, Any]], config: MockConfig) -> Iterator[dict[str, Any]]:
    """The chunks of a stream as sent with the switched-on stream-spec faults (`STREAM_FAULTS`)."""
    if not STREAM_FAULTS & config.faults:
        yield from chunks
        return
    sent = [copy.deepcopy(chunk) for chunk in chunks]
    for name, rewrite in _REWRITES:
        if config.has_fault(name):
            sent = rewrite(sent)
    yield from sent


def _choices(chunks: list[dict[str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
    for position, chunk in enumerate(chunks):
        for choice in chunk.get("choices") or ():
            yield position, choice


def _fragments(chunks: list[dict[str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(choice index, fragment) for every tool-call fragment, in order."""
    for _, choice in _choices(chunks):
        yield from ((choice["index"], fragment) for fragment in choice["delta"].get("tool_calls") or ())


def _no_details(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`stream-usage-details-missing`: usage with the bare counts only (no token details)."""
    usages = [chunk.get("usage") for chunk in chunks] + [choice.get("usage") for _, choice in _choices(chunks)]
    for usage in usages:
        if isinstance(usage, dict):
            usage.pop("prompt_tokens_details", None)
            usage.pop("completion_tokens_details", None)
    return chunks


def _null_keys(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`stream-tool-fragments-null-keys`: a call's later fragments carry `id`, `type` and `function.name` as null."""
    seen: set[tuple[int, int]] = set()
    for index, fragment in _fragments(chunks):
        key = (index, fragment["index"])
        if key in seen:
            fragment.update(id=None, type=None)
            fragment["function"] = {"name": None, **fragment["function"]}
        seen.add(key)
    return chunks


def _error_frame(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`stream-error-frame`: after a few chunks, an error-only frame instead of the rest of the stream."""
    return [*chunks[:ERROR_AFTER], copy.deepcopy(ERROR_FRAME)]


def _first_without_content(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`stream-first-delta-without-content`: each choice's first delta is `{"role": "assistant"}` only."""
    seen: set[int] = set()
    for _, choice in _choices(chunks):
        if choice["index"] not in seen:
            choice["delta"].pop("content", None)
        seen.add(choice["index"])
    return chunks


def _end_delta_content(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`stream-end-delta-content`: the finishing chunk's delta is `{"content": ""}`, not `{}`."""
    for _, choice in _choices(chunks):
        if choice.get("finish_reason") is not None:
            choice["delta"] = {"content": ""}
    return chunks


def _created_per_chunk(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`stream-created-per-chunk`: every chunk stamped with its own `created` (one second later each)."""
    for position, chunk in enumerate(chunks):
        chunk["created"] += position
    return chunks


def _index_from_one(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`stream-tool-index-from-one`: tool-call indexes count from 1."""
    for _, fragment in _fragments(chunks):
        fragment["index"] += 1
    return chunks


def _usage_mid_chunk(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`stream-usage-mid-chunk`: each choice's usage moves from its finishing chunk to the chunk before it."""
    previous: dict[int, dict[str, Any]] = {}
    for _, choice in _choices(chunks):
        if "usage" in choice and choice["index"] in previous:
            previous[choice["index"]]["usage"] = choice.pop("usage")
        previous[choice["index"]] = choice
    return chunks


def _replacement_character(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`stream-utf8-replacement`: each choice's first content piece ends in U+FFFD, as a character cut between two
    frames comes out when each frame's bytes are decoded on their own."""
    seen: set[int] = set()
    for _, choice in _choices(chunks):
        content = choice["delta"].get("content")
        if content and choice["index"] not in seen:
            choice["delta"]["content"] = content + "\ufffd"
            seen.add(choice["index"])
    return chunks


_REWRITES = (
    ("stream-usage-details-missing", _no_details),
    ("stream-tool-fragments-null-keys", _null_keys),
    ("stream-first-delta-without-content", _first_without_content),
    ("stream-end-delta-content", _end_delta_content),
    ("stream-created-per-chunk", _created_per_chunk),
    ("stream-tool-index-from-one", _index_from_one),
    ("stream-usage-mid-chunk", _usage_mid_chunk),
    ("stream-utf8-replacement", _replacement_character),
    ("stream-error-frame", _error_frame),
)
"""Each fault and its rewrite, in the order they apply (the error frame last: it cuts the stream)."""
