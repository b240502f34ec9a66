"""Secrets never leave the process: the keys a run (or a proxy session) was given are redacted by value, whatever
their shape, from everything it keeps or writes; anything that merely looks like a key (`sk-...`) is redacted too.

`register_secret` adds a key to this process's secrets, with the forms it can take on the wire (URL-encoded,
JSON-escaped, base64 alone or in an `Authorization` value). `redact` removes all of them from a text. Exchanges,
findings, cassettes, reports and the messages a run prints pass through it before they are kept.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import urllib.parse
from dataclasses import dataclass

REDACTED = "[REDACTED]"
MIN_SECRET_CHARS = 8
"""Shorter values are not redacted by value (a two-letter "key" would blank out ordinary text)."""
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie", "set-cookie"})
KEY_LIKE = re.compile(r"\b(sk|ak|pk)-(?!kimi-conformance-)[A-Za-z0-9_\-]{16,}")
"""Anything that looks like an API key (`sk-...`), other than this project's own public test keys."""

_lock = threading.Lock()
_forms: tuple[str, ...] = ()
"""Every registered secret in every form, longest first (so no form is cut by a shorter one)."""


def forms_of(secret: str) -> set[str]:
    """The ways a secret can appear in a body, header, URL or log: raw, URL-encoded, JSON-escaped, base64."""
    found = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret), json.dumps(secret)[1:-1]}
    for text in (secret, f"Bearer {secret}", f":{secret}", f"{secret}:"):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(text.encode()).decode()
            found |= {encoded, encoded.rstrip("=")}
    return {form for form in found if len(form) >= MIN_SECRET_CHARS}


def register_secret(secret: str | None) -> None:
    """Redact `secret` (and its encoded forms) from everything this process keeps or writes from now on."""
    global _forms
    if not secret or len(secret) < MIN_SECRET_CHARS:
        return
    with _lock:
        _forms = tuple(sorted(set(_forms) | forms_of(secret), key=len, reverse=True))


def redact_key_like(text: str) -> str:
    """`text` with anything that looks like an API key redacted (a target may echo one back)."""
    return KEY_LIKE.sub(lambda match: f"{match.group(1)}-{REDACTED}", text)


def redact(text: str, extra: frozenset[str] = frozenset()) -> str:
    """`text` without this process's secrets (and `extra` ones), in any of their forms, nor key-like strings."""
    for form in _forms:
        if form in text:
            text = text.replace(form, REDACTED)
    for secret in extra:
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    return redact_key_like(text)


@dataclass(frozen=True, slots=True)
class Redactor:
    """Removes known secrets (API keys) from anything that will be shown or written: the process's registered
    secrets, plus `secrets` of its own."""

    secrets: frozenset[str] = frozenset()

    def text(self, value: str) -> str:
        return redact(value, self.secrets)

    def body(self, content_type: str, body: bytes, limit: int = 4000) -> str:
        """A request body as text for reports: JSON and text as is (cut at `limit`, secrets removed), multipart
        and binary bodies summarised, since neither can be shown or replayed as text."""
        if not body:
            return ""
        if content_type.startswith("multipart/") or b"\x00" in body:
            return f"<{content_type.split(';')[0] or 'binary'} body, {len(body)} bytes>"
        return self.text(body.decode("utf-8", errors="replace")[:limit])

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        """Headers with secret-bearing ones blanked by name and secrets removed from the others' values."""
        return {
            name: (REDACTED if name.lower() in SECRET_HEADERS else self.text(value)) for name, value in headers.items()
        }
