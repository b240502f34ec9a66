"""Optional limits: requests per minute, requests in flight, tokens per minute and per day (facts §10), answered
with 429 `rate_limit_reached_error` and the documented messages.

Limits are per organisation and shared by all its keys (facts §10 [D]); the mock serves one organisation."""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from collections.abc import Callable

from kimi_conformance.mock import errors
from kimi_conformance.mock.errors import ApiError

WINDOW_SECONDS = 60.0
DAY_SECONDS = 24 * 3600.0
DEFAULT_MAX_TOKENS = 1024
"""The output cap the TPM/TPD admission counts for a request that sets none: facts §3.2 ("a good default like
1024"); the per-model defaults (kimi-k2.5 32768, kimi-k3 131072) are not in the rules table [I]."""


class RateLimiter:
    """Sliding-window RPM, a concurrency counter and TPM/TPD token windows for the organisation; messages name the
    key used."""

    def __init__(
        self,
        organization: str,
        rpm: int | None,
        max_concurrency: int | None,
        tpm: int | None = None,
        tpd: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._organization = organization
        self._rpm = rpm
        self._max_concurrency = max_concurrency
        self._token_limits = ((tpm, WINDOW_SECONDS, errors.TPM_LIMIT), (tpd, DAY_SECONDS, errors.TPD_LIMIT))
        self._starts: dict[str, deque[float]] = defaultdict(deque)
        self._in_flight: dict[str, int] = defaultdict(int)
        self._tokens: deque[tuple[float, int]] = deque()
        """(admission time, tokens counted) of the chat requests of the last day."""

    def _key_label(self, key: str) -> str:
        return f"ak-{key[-4:]}" if len(key) > 4 else "ak-****"

    def admit(self, key: str) -> None:
        """Count a request in, or raise 429 `rate_limit_reached_error` with `Retry-After`. Without an RPM limit no
        start time is kept: nothing would read it."""
        if self._rpm is not None:
            now = self._clock()
            starts = self._starts[self._organization]
            while starts and now - starts[0] >= WINDOW_SECONDS:
                starts.popleft()
            if len(starts) >= self._rpm:
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
        if self._rpm is not None:
            self._starts[self._organization].append(now)
        self._in_flight[self._organization] += 1

    def admit_tokens(self, key: str, tokens: int) -> None:
        """Count a chat request's tokens (prompt + output cap) in, or raise 429 for the TPM or TPD limit it would
        pass: `current` is what the window would hold with it. No `Retry-After`: unlike the RPM and concurrency
        messages, the documented TPM/TPD ones name no time to wait (facts §9)."""
        if all(limit is None for limit, _, _ in self._token_limits):
            return
        now = self._clock()
        while self._tokens and now - self._tokens[0][0] >= DAY_SECONDS:
            self._tokens.popleft()
        for limit, window, template in self._token_limits:
            if limit is None:
                continue
            current = tokens + sum(counted for at, counted in self._tokens if now - at < window)
            if current > limit:
                message = template.format(
                    org=self._organization, key=self._key_label(key), current=current, limit=limit
                )
                raise ApiError(429, "rate_limit_reached_error", message)
        self._tokens.append((now, tokens))

    def release(self, key: str) -> None:
        """Count a finished request (or closed stream) out."""
        self._in_flight[self._organization] = max(0, self._in_flight[self._organization] - 1)
