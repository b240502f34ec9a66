"""API errors the mock answers with, in the common envelope (facts §9)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Message templates, verbatim from the documented table (facts §9) unless marked as observed.
INVALID_AUTHENTICATION = "Invalid Authentication"
MODEL_NOT_FOUND = "Not found the model {model} or Permission denied"
FILE_TOO_LARGE = "File size is too large, max file size is 100MB, please confirm and re-upload the file"
FILE_EMPTY = "File size is zero, please confirm and re-upload the file"
FILE_COUNT = (
    "The number of files you have uploaded exceeded the max file count {max_file_count}, "
    "please delete previous uploaded files"
)
RPM_LIMIT = (
    "Your account {org}<{key}> request reached organization max RPM: {rpm}, please try again after {after} seconds"
)
CONCURRENCY_LIMIT = (
    "Your account {org}<{key}> request reached organization max concurrency: {limit}, "
    "please try again after {after} seconds"
)


TPM_LIMIT = "Your account {org}<{key}> request reached organization TPM rate limit, current:{current}, limit:{limit}"
TPD_LIMIT = "Your account {org}<{key}> request reached organization TPD rate limit, current:{current}, limit:{limit}"
PERMISSION_DENIED = "The API you are accessing is not open"
CONTENT_FILTER = "The request was rejected because it was considered high risk"
ENGINE_OVERLOADED = "The engine is currently overloaded, please try again later"
EXTRACTION_FAILED = "Failed to extract file: {error}"
GATEWAY_TIMEOUT = "Gateway Timeout: the request ran past the server timeout"
"""[I]: the 504's body is not documented (facts §1, §9); the mock answers the common envelope."""


QUOTA_EXCEEDED = (
    "Your account {org} is suspended due to insufficient balance, please recharge your account or check your plan "
    "and billing details"
)  # observed [O] (facts §9)


class ApiError(Exception):
    """An error response: HTTP status, envelope type and message, optional headers."""

    def __init__(self, status: int, type_: str, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.headers = headers or {}

    def envelope(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type}}


def invalid_request(message: str) -> ApiError:
    """400 `invalid_request_error` with the message as given."""
    return ApiError(400, "invalid_request_error", message)


def request_timeout(seconds: float) -> ApiError:
    """408 `invalid_request_error` for a body that stalled; `Connection: close`, as its rest may still come."""
    message = f"Request Timeout: the request body did not arrive within {seconds:g} seconds"
    return ApiError(408, "invalid_request_error", message, headers={"Connection": "close"})


def not_found(message: str) -> ApiError:
    """404 `resource_not_found_error`."""
    return ApiError(404, "resource_not_found_error", message)


def unauthenticated() -> ApiError:
    return ApiError(401, "invalid_authentication_error", INVALID_AUTHENTICATION)


CHAT = ("POST", "/v1/chat/completions")
EXTRACTION = (("POST", "/v1/files"), ("GET", "/v1/files/{file_id}/content"))


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    """A documented error the mock can be told to answer (`--error NAME`): conformant, not a fault. It refuses the
    requests of its routes (None: every route), after authentication and the rate limits."""

    name: str
    status: int
    type: str
    message: str
    routes: tuple[tuple[str, str], ...] | None
    """(method, route path) pairs it applies to, where the API documents it; None for every route."""

    def applies_to(self, method: str, route: str) -> bool:
        return self.routes is None or (method, route) in self.routes

    def error(self) -> ApiError:
        return ApiError(self.status, self.type, self.message)


ERROR_ANSWERS: dict[str, ErrorAnswer] = {
    answer.name: answer
    for answer in (
        ErrorAnswer("permission-denied", 403, "permission_denied_error", PERMISSION_DENIED, None),
        ErrorAnswer("content-filter", 400, "content_filter", CONTENT_FILTER, (CHAT,)),
        ErrorAnswer("engine-overloaded", 429, "engine_overloaded_error", ENGINE_OVERLOADED, (CHAT,)),
        ErrorAnswer(
            "server-error",
            500,
            "server_error",
            EXTRACTION_FAILED.format(error="the mock's extraction failed (--error server-error)"),
            EXTRACTION,
        ),
        ErrorAnswer("gateway-timeout", 504, "gateway_timeout", GATEWAY_TIMEOUT, (CHAT,)),
    )
}
"""The documented error answers the mock never gives on its own (facts §9; the 504 of facts §1), by name."""
