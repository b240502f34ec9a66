"""The documented error answers the mock gives only when told to (`MockConfig(error=...)`, `tpm`, `tpd`), written
out from the facts (§9 table, §10, and the 504 of §1) so that the mock's tests and the checks' tests hold both to
the same text, not to each other."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Documented:
    """One documented error answer: where the mock gives it, and what it must say."""

    name: str
    """The mock's name for it (`--error NAME`)."""
    status: int
    type: str
    message: str
    operation: str
    """The contract operation the mock's tests send it on."""


DOCUMENTED = (
    Documented(
        "permission-denied", 403, "permission_denied_error", "The API you are accessing is not open", "listModels"
    ),
    Documented(
        "content-filter",
        400,
        "content_filter",
        "The request was rejected because it was considered high risk",
        "createChatCompletion",
    ),
    Documented(
        "engine-overloaded",
        429,
        "engine_overloaded_error",
        "The engine is currently overloaded, please try again later",
        "createChatCompletion",
    ),
    Documented(
        "server-error",
        500,
        "server_error",
        "Failed to extract file: the mock's extraction failed (--error server-error)",
        "uploadFile",
    ),
    Documented(
        "gateway-timeout",
        504,
        "gateway_timeout",
        "Gateway Timeout: the request ran past the server timeout",
        "createChatCompletion",
    ),
)
"""`--error` answers; the 504's body is not documented (facts §1, §9): the mock's envelope and type are [I]."""

TPM_MESSAGE = (
    "Your account org-mock<ak-{key}> request reached organization TPM rate limit, current:{current}, limit:{limit}"
)
TPD_MESSAGE = (
    "Your account org-mock<ak-{key}> request reached organization TPD rate limit, current:{current}, limit:{limit}"
)
"""The TPM and TPD 429 messages (facts §9), for the mock's organisation and a key ending in `key`."""
