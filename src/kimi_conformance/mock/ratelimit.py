"""Optional limits: requests per minute and requests in flight (facts §10), answered with 429.

Limits are per organisation and shared by all its keys (facts §10 [D]); the mock serves one organisation."""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque

from kimi_conformance.mock import errors
from kimi_conformance.mock.errors import ApiError

WINDOW_SECONDS = 60.0


class RateLimiter:
    """Sliding-window RPM and a concurrency counter for the organisation; messages name the key used."""

    def __init__(self, organization: str, rpm: int | None, max_concurrency: int | None) -> None:
        self._organization = organization
        self._rpm = rpm
        self._max_concurrency = max_concurrency
        self._starts: dict[str, deque[float]] = defaultdict(deque)
        self._in_flight: dict[str, int] = defaultdict(int)

    def _key_label(self, key: str) -> str:
        return f"ak-{key[-4:]}" if len(key) > 4 else "ak-****"

    def admit(self, key: str) -> None:
        """Count a request in, or raise 429 `rate_limit_reached_error` with `Retry-After`."""
        now = time.monotonic()
        starts = self._starts[self._organization]
        while starts and now - starts[0] >= WINDOW_SECONDS:
            starts.popleft()
        if self._rpm is not None and len(starts) >= self._rpm:
            after = max(1, math.ceil(WINDOW_SECONDS - (now - starts[0])))
            message = errors.RPM_LIMIT.format(
                org=self._organization, key=self._key_label(key), rpm=self._rpm, after=after
            )
            raise ApiError(429, "rate_limit_reached_error", message, headers={"Retry-After": str(after)})
        if self._max_concurrency is not None and self._in_flight[self._organization] >= self._max_concurrency:
            message = errors.CONCURRENCY_LIMIT.format(
                org=self._organization, key=self._key_label(key), limit=self._max_concurrency, after=1
            )
            raise ApiError(429, "rate_limit_reached_error", message, headers={"Retry-After": "1"})
        starts.append(now)
        self._in_flight[self._organization] += 1

    def release(self, key: str) -> None:
        """Count a finished request (or closed stream) out."""
        self._in_flight[self._organization] = max(0, self._in_flight[self._organization] - 1)
