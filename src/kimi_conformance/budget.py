"""Live-API safety: what a run may spend (requests, tokens), what it spent and what that cost, and the pace it
keeps (requests per minute, `Retry-After`, bounded backoff with jitter). A budget or a quota reached stops the
run cleanly; it never spends past its budget on purpose.

One `Guard` per process: with pytest-xdist each worker gets its share of the budget and of the rate.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from kimi_conformance.errors import KimiConformanceError
from kimi_conformance.exchange import Exchange
from kimi_conformance.pricing import Price
from kimi_conformance.redaction import redact
from kimi_conformance.rules.request_rules import max_output_tokens
from kimi_conformance.tokenizer import count_prompt

QUOTA_ERROR = "exceeded_current_quota_error"
MAX_RETRY_WAIT = 60.0
"""A `Retry-After` longer than this is not waited for: the 429 stands."""


class BudgetReached(KimiConformanceError):
    """The run's request or token budget is spent: the rest of the run is not sent."""


class TargetGone(BudgetReached):
    """The target stopped answering (UNANSWERED_LIMIT requests in a row got no usable answer): the rest of the run
    is not sent, as when the budget is spent, and the reports say why."""


UNANSWERED_LIMIT = 5
"""Requests in a row without a usable answer (no response, or a body cut by a timeout or a reset) that stop a run."""
STALL_LIMIT = 3
"""Streams in a row cut by the idle or the stream timeout after which a run's further streams are not sent: each
would wait out its timeout again, and a run against a target that stalls every stream would take hours."""
STALLS = ("went silent mid-body", "stream timeout ran out")
"""What the transport says of a stream cut by a timeout (`transport._read_body`)."""


class PlanExceeded(BudgetReached):
    """A test would send more than its planned ceiling (`runner/plan.py`, `--plan`): a bug in the plan. The run
    stops there, as when the budget is spent, and says so."""


class QuotaExceeded(KimiConformanceError):
    """The target says the account's quota or balance is exhausted (`exceeded_current_quota_error`)."""


@dataclass(slots=True)
class Usage:
    """Tokens one answer reports."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0


def _usage_from(value: Any) -> Usage | None:
    if not isinstance(value, dict) or not isinstance(value.get("prompt_tokens"), int):
        return None
    details = value.get("prompt_tokens_details")
    cached = value.get("cached_tokens", details.get("cached_tokens") if isinstance(details, dict) else 0)
    completion = value.get("completion_tokens")
    return Usage(
        value["prompt_tokens"],
        completion if isinstance(completion, int) else 0,
        cached if isinstance(cached, int) else 0,
    )


def usage_in(exchange: Exchange) -> Usage | None:
    """The usage an answer reports: a JSON body's `usage`, or a stream's as its folded completion carries it (the
    `choices: []` chunk's, else the choices' together). Both parses are the exchange's own, cached for the checks."""
    if exchange.content_type == "text/event-stream":
        completion = exchange.stream().completion
        return _usage_from(completion.get("usage")) if completion is not None else None
    if exchange.content_type != "application/json" or not exchange.body:
        return None
    try:
        parsed = exchange.json()
    except ValueError:
        return None
    return _usage_from(parsed.get("usage")) if isinstance(parsed, dict) else None


def projected_tokens(request_json: Any) -> int:
    """An upper estimate of the tokens a chat request can spend: its prompt plus its output cap (x n)."""
    if not isinstance(request_json, dict) or not isinstance(request_json.get("messages"), list):
        return 0
    try:
        prompt = count_prompt(request_json["messages"], request_json.get("tools"))
    except (AttributeError, TypeError, ValueError):
        return 0
    choices = request_json.get("n")
    return prompt + (max_output_tokens(request_json) or 0) * (
        choices if isinstance(choices, int) and choices > 1 else 1
    )


@dataclass(slots=True)
class Spending:
    """What a run (or one worker) spent."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float = 0.0
    unpriced: set[str] = field(default_factory=set)
    retries: int = 0
    cleanup_requests: int = 0
    """Requests that removed what the run created (outside the budget: they spend no tokens)."""

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "cleanup_requests": self.cleanup_requests,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cached_tokens": self.cached_tokens,
            "tokens": self.tokens,
            "estimated_cost_usd": round(self.cost_usd, 6),
            "unpriced_models": sorted(self.unpriced),
        }

    def add(self, other: dict[str, Any]) -> None:
        """Merge another worker's `as_json()`."""
        for name in ("requests", "retries", "cleanup_requests", "prompt_tokens", "completion_tokens", "cached_tokens"):
            setattr(self, name, getattr(self, name) + int(other.get(name, 0)))
        self.cost_usd += float(other.get("estimated_cost_usd", 0.0))
        self.unpriced |= set(other.get("unpriced_models", []))


@dataclass(slots=True)
class Guard:
    """Admits requests within the budget and the pace, records what each answer spent, and decides retries."""

    max_requests: int | None = None
    max_tokens: int | None = None
    rpm: float | None = None
    max_retries: int = 3
    prices: dict[str, Price] = field(default_factory=dict)
    spent: Spending = field(default_factory=Spending)
    reached: str | None = None
    """Why the budget (or the quota) stopped the run, once it has."""
    quota_exceeded: bool = False
    unanswered: int = 0
    """Requests in a row that got no usable answer."""
    unanswered_limit: int = UNANSWERED_LIMIT
    stalled: list[str] = field(default_factory=list)
    """Why each of the last streams in a row was cut by a timeout (emptied by a stream that ends)."""
    ceilings: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    """The run's plan: each test's ceiling of requests and of tokens asked for (prompt + output cap, as
    `projected_tokens` counts them; None: no bound), held as a hard limit. A test not in it is not limited."""
    test: str = ""
    """The test whose requests are admitted now (the plugin sets it)."""
    asked: dict[str, list[int]] = field(default_factory=dict)
    """Per test: the requests admitted (429 retries apart) and the tokens they asked for."""
    sleep: Callable[[float], None] = time.sleep
    _last_start: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self, request_json: Any = None, *, within_budget: bool = True, retry: bool = False) -> None:
        """Wait for this request's turn; raise BudgetReached if it would go past the budget, PlanExceeded if it
        would take its test past the test's ceiling (a `retry` of a 429 is not counted there: the plan counts
        requests, and says how many 429 retries may add). A request sent `within_budget=False` (removing what the
        run created, after it stopped) is paced and counted apart (`cleanup_requests`), never refused."""
        with self._lock:
            if within_budget:
                self._refuse_past_budget(request_json)
                if not retry:
                    self._refuse_past_plan(request_json)
                self.spent.requests += 1
            else:
                self.spent.cleanup_requests += 1
            wait = 0.0
            if self.rpm:
                wait = max(0.0, self._last_start + 60.0 / self.rpm - time.monotonic())
            self._last_start = time.monotonic() + wait
        if wait:
            self.sleep(wait)

    def _refuse_past_budget(self, request_json: Any) -> None:
        if self.reached is None and self.unanswered >= self.unanswered_limit:
            self.reached = f"the target stopped answering: {self.unanswered} requests in a row got no usable answer"
            raise TargetGone(self.reached)
        if self.reached is None and self.max_requests is not None and self.spent.requests >= self.max_requests:
            self.reached = f"request budget reached: {self.spent.requests} of --max-requests {self.max_requests}"
        projected = projected_tokens(request_json)
        if self.reached is None and self.max_tokens is not None and self.spent.tokens + projected > self.max_tokens:
            self.reached = (
                f"token budget reached: {self.spent.tokens} spent, the next request could spend {projected} "
                f"more (--max-tokens {self.max_tokens})"
            )
        if self.reached is not None:
            raise BudgetReached(self.reached)

    def _refuse_past_plan(self, request_json: Any) -> None:
        ceiling = self.ceilings.get(self.test)
        asked = self.asked.setdefault(self.test, [0, 0])
        projected = projected_tokens(request_json)
        if ceiling is not None:
            requests, tokens = ceiling
            over = asked[0] + 1 > requests or (tokens is not None and asked[1] + projected > tokens)
            if over:
                self.reached = (
                    f"{self.test} would pass its planned ceiling ({requests} requests, {tokens} tokens; `--plan`): "
                    f"its request {asked[0] + 1} asks for {projected} tokens after {asked[1]}: a bug in the plan "
                    "(runner/plan.py or the test's `ceiling` mark), so the run stops here"
                )
                raise PlanExceeded(self.reached)
        asked[0] += 1
        asked[1] += projected

    def answered(self, usable: bool) -> None:
        """Count a request without a usable answer (or reset the count on an answer)."""
        with self._lock:
            self.unanswered = 0 if usable else self.unanswered + 1

    def streamed(self, stream_error: str | None) -> None:
        """Count a stream cut by a timeout (or reset the count on one that ended otherwise)."""
        with self._lock:
            if stream_error is not None and any(stall in stream_error for stall in STALLS):
                self.stalled.append(stream_error)
            else:
                self.stalled.clear()

    def failing_fast(self) -> str | None:
        """Why streams are no longer sent (STALL_LIMIT streams in a row cut by a timeout), or None."""
        with self._lock:
            if len(self.stalled) < STALL_LIMIT:
                return None
            return (
                f"not sent: the target's last {len(self.stalled)} streams in a row were cut by a timeout "
                f"({self.stalled[-1]}), so the run's further streams fail fast with the same finding"
            )

    def record(self, model: Any, usage: Usage | None) -> None:
        """Count the tokens an answer reports (`usage_in`), and their estimated cost."""
        if usage is None:
            return
        with self._lock:
            self.spent.prompt_tokens += usage.prompt_tokens
            self.spent.completion_tokens += usage.completion_tokens
            self.spent.cached_tokens += usage.cached_tokens
            price = self.prices.get(model) if isinstance(model, str) else None
            if price is None:
                self.spent.unpriced.add(str(model))
            else:
                self.spent.cost_usd += price.cost(usage.prompt_tokens, usage.cached_tokens, usage.completion_tokens)

    def retry_after(self, attempt: int, status: int | None, headers: dict[str, str], body: bytes) -> float | None:
        """Seconds to wait before retrying this answer, or None to keep it. Raises QuotaExceeded for a quota 429."""
        if status != 429:
            return None
        if QUOTA_ERROR.encode() in body:
            excerpt = redact(body[:200].decode(errors="replace"))
            raise QuotaExceeded(f"the target refuses for quota or balance ({QUOTA_ERROR}): {excerpt}")
        if attempt >= self.max_retries:
            return None
        wait = _retry_after_seconds(headers.get("retry-after"))
        if wait is None:
            wait = min(MAX_RETRY_WAIT, 2.0**attempt) * random.uniform(0.5, 1.0)
        if wait > MAX_RETRY_WAIT:
            return None
        with self._lock:
            self.spent.retries += 1
        return wait


def _retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date), or None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
