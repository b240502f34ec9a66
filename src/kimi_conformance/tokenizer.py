"""One deterministic tokenizer for the mock's chat accounting and estimate-token-count (so the two always agree)
and for rules that need a prompt size.

It is not Moonshot's tokenizer (that is not public); it only has to be stable and plausible: a word is one token
per four characters, each punctuation mark is a token, whitespace is free.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

_PIECE = re.compile(r"\w{1,4}|[^\w\s]", re.UNICODE)
MESSAGE_OVERHEAD = 4
"""Tokens for the role markers around each message."""
REPLY_PRIMER = 3
"""Tokens that open the assistant's reply."""
IMAGE_TOKENS = 256
VIDEO_TOKENS = 1024
CANONICAL_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True)
"""`json.dumps(value, ensure_ascii=False, sort_keys=True)`, built once: how tool calls and tool definitions are
counted, and how the prompt cache tells messages apart."""


def count_text(text: str) -> int:
    """Tokens in a piece of text: `_PIECE`'s matches, counted word by word. No piece spans whitespace, so the words
    of `str.split` (which splits where `\\s` matches) hold them all, and a word of ASCII letters and digits holds
    one per four characters: counted so, twice as fast as the regex over the whole text."""
    total = 0
    for word in text.split():
        if word.isascii() and word.isalnum():
            total += (len(word) + 3) >> 2
        else:
            total += len(_PIECE.findall(word))
    return total


def _count_content(content: Any) -> int:
    if isinstance(content, str):
        return count_text(content)
    if not isinstance(content, list):
        return 0
    total = 0
    for part in content:
        if not isinstance(part, Mapping):
            continue
        kind = part.get("type")
        if kind == "text":
            total += count_text(str(part.get("text", "")))
        elif kind == "image_url":
            total += IMAGE_TOKENS
        elif kind == "video_url":
            total += VIDEO_TOKENS
    return total


def count_message(message: Mapping[str, Any], *, reasoning: bool = True) -> int:
    """Tokens of one message as the prompt sees it (its `reasoning_content` only with `reasoning`: a server that
    ignores the history's reasoning does not count it)."""
    total = MESSAGE_OVERHEAD + _count_content(message.get("content"))
    for key in ("name", "reasoning_content", "tool_call_id") if reasoning else ("name", "tool_call_id"):
        value = message.get(key)
        if isinstance(value, str):
            total += count_text(value)
    tool_calls = message.get("tool_calls")
    if isinstance(tool_calls, list):
        total += count_text(CANONICAL_JSON.encode(tool_calls))
    return total


def message_tokens(messages: Iterable[Mapping[str, Any]], *, reasoning: bool = True) -> tuple[int, ...]:
    """The tokens of each message (`reasoning`: with its reasoning_content), as `count_prompt` counts them."""
    return tuple(count_message(message, reasoning=reasoning) for message in messages)


def prompt_of(counts: Iterable[int], tools: Any = None) -> int:
    """Prompt tokens from the messages' `message_tokens`: theirs, the tool definitions' and the reply primer's."""
    total = REPLY_PRIMER + sum(counts)
    if isinstance(tools, list) and tools:
        total += count_text(CANONICAL_JSON.encode(tools))
    return total


def count_prompt(messages: Iterable[Mapping[str, Any]], tools: Any = None, *, reasoning: bool = True) -> int:
    """Prompt tokens of a request: every message (`reasoning`: with its reasoning_content), the tool definitions,
    and the reply primer."""
    return prompt_of(message_tokens(messages, reasoning=reasoning), tools)


def prefix_with_tokens(text: str, tokens: int) -> str:
    """The longest prefix of `text` that holds at most `tokens` tokens (cut inside a word if need be)."""
    if tokens <= 0:
        return ""
    end = 0
    for count, match in enumerate(_PIECE.finditer(text), start=1):
        if count > tokens:
            break
        end = match.end()
    return text[:end]
