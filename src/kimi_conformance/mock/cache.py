"""Automatic prompt caching: a repeated prompt prefix is reported as `cached_tokens` (facts §3.9).

Prefixes are remembered at message boundaries, per API key and `prompt_cache_key` (requests with a key only
reuse prefixes cached under the same key). Bounded, oldest entries forgotten first.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from kimi_conformance.tokenizer import CANONICAL_JSON, REPLY_PRIMER


class PromptCache:
    """Remembers prompt prefixes and reports how many tokens of a new prompt were seen before."""

    def __init__(self, capacity: int = 50_000) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity

    def lookup_and_store(
        self,
        partition: str,
        model: str,
        messages: Sequence[dict[str, Any]],
        counts: Sequence[int],
        *,
        reasoning: bool = True,
    ) -> int:
        """Cached tokens of this prompt (`counts`: its messages' tokens, `tokenizer.message_tokens`); afterwards every
        prefix of it counts as cached. Without `reasoning` the history's reasoning_content is not part of the prompt
        (`thinking.keep`), so it neither counts nor differs."""
        digest = hashlib.sha256(f"{partition}\x00{model}".encode())
        cached = 0
        keys = []
        boundary = 0
        for message, tokens in zip(messages, counts, strict=True):
            boundary += tokens
            seen = message if reasoning else {k: v for k, v in message.items() if k != "reasoning_content"}
            digest.update(CANONICAL_JSON.encode(seen).encode())
            key = digest.copy().hexdigest()
            keys.append(key)
            if key in self._seen:
                cached = boundary + REPLY_PRIMER
                self._seen.move_to_end(key)
        for key in keys:
            self._seen[key] = None
        while len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        return cached
