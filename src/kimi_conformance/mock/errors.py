"""API errors the mock answers with, in the common envelope (facts §9)."""

from __future__ import annotations

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
