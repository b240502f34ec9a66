"""The target of a run: the embedded mock (started here) or a URL, its key, the models to exercise and the
operations it offers (asked once per run)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kimi_conformance.budget import BudgetReached, Guard, QuotaExceeded
from kimi_conformance.errors import ConfigError
from kimi_conformance.exchange import Exchange
from kimi_conformance.ledger import AccountLedger
from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, serve_in_thread
from kimi_conformance.operations import Surface
from kimi_conformance.rules import in_lineup, load_rules
from kimi_conformance.runner.discovery import NOT_OFFERED, answer_of, discover
from kimi_conformance.settings import Settings
from kimi_conformance.transport import TargetClient

MOCK_BATCH_STEP = 0.05
"""Seconds per batch status on the embedded mock, so batch scenarios finish quickly."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where requests go and with which key (never shown: reports redact it)."""

    base_url: str
    api_key: str | None
    label: str


@contextlib.contextmanager
def open_target(settings: Settings) -> Iterator[Target]:
    """Start the embedded mock for `--target mock`, or describe the URL target."""
    if settings.is_mock:
        config = MockConfig(
            faults=frozenset(settings.mock_faults), batch_step_seconds=MOCK_BATCH_STEP, lineup=settings.mock_lineup
        )
        with serve_in_thread(config) as server:
            yield Target(base_url=server.api_base, api_key=DEFAULT_API_KEY, label="mock")
        return
    key = settings.api_key()
    if key is None:
        raise ConfigError(f"the target {settings.target} needs an API key in ${settings.api_key_env}")
    yield Target(base_url=settings.target.rstrip("/"), api_key=key, label=settings.target)


def client_for(
    base_url: str,
    api_key: str | None,
    settings: Settings,
    guard: Guard | None,
    ledger: AccountLedger | None = None,
    observer: Callable[[Exchange], None] | None = None,
) -> TargetClient:
    """A client of the target with the run's timeouts and dialect (`--thinking-style`, `--extra-body`), its budget
    and pace when a guard is given, the ledger of what it creates on the account and the observer of what it sends
    (the run's cassette) when given."""
    return TargetClient(
        base_url,
        api_key,
        timeout=settings.request_timeout,
        stream_timeout=settings.stream_timeout,
        stream_idle_timeout=settings.stream_idle_timeout,
        guard=guard,
        ledger=ledger,
        observer=observer,
        dialect=settings.dialect(),
    )


@dataclass(frozen=True, slots=True)
class TargetProbe:
    """What one `GET /models` and the operations probe (sent once per run, within its budget) said about a URL
    target: the models to exercise, the operations it offers, and why the target is unusable if it is (no answer,
    or an answer that never ends)."""

    models: tuple[str, ...]
    problem: str | None = None
    exchange: Exchange | None = None
    """The probe itself (in the process that sent it), for the reachability checks."""
    stop: str | None = None
    """Why the budget or the quota stopped the run at its first request."""
    quota: bool = False
    not_offered: tuple[str, ...] = ()
    """Models of today's lineup (facts §12) the target does not list: information, not a finding (a deployment
    may serve fewer)."""
    operations: Surface = field(default_factory=Surface)
    """The operation groups the run exercises (`--operations`, less what the operations probe found missing)."""
    unanswered: Exchange | None = None
    """An operations probe that got no answer (in the process that sent it), for the reachability checks."""

    def as_json(self) -> dict[str, Any]:
        """What a worker needs of the probe its controller sent (the exchanges stay with the controller)."""
        return {
            "models": list(self.models),
            "problem": self.problem,
            "stop": self.stop,
            "quota": self.quota,
            "not_offered": list(self.not_offered),
            "operations": self.operations.as_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TargetProbe:
        return cls(
            tuple(data["models"]),
            data.get("problem"),
            None,
            data.get("stop"),
            bool(data.get("quota")),
            tuple(data.get("not_offered") or ()),
            Surface.from_json(data.get("operations") or {}),
        )

    def raise_stop(self) -> None:
        """Raise the budget or quota stop met by the probe, for the run to stop as at any other request."""
        if self.stop is not None:
            raise (QuotaExceeded if self.quota else BudgetReached)(self.stop)


def probe_target(
    settings: Settings, guard: Guard | None, observer: Callable[[Exchange], None] | None = None
) -> TargetProbe:
    """The models to exercise: `--model`, else what the target lists that the contract knows; and the operations
    it offers: `--operations`, else what the operations probe finds (`runner/discovery.py`). A URL target is asked
    once (`GET /models`, which also shows whether it answers at all, then one probe per operation group); the
    embedded mock serves the table and every operation. `--plan` asks at most `GET /models`, and nothing with
    `--model`."""
    declared = Surface.declared_by(settings.operations)
    if settings.plan and settings.models:
        return TargetProbe(settings.models, operations=declared)
    if settings.is_mock:
        served = tuple(model.id for model in load_rules().models.values() if in_lineup(model, settings.mock_lineup))
        return TargetProbe(settings.models or served, not_offered=_not_offered(served, {}), operations=declared)
    with client_for(settings.target.rstrip("/"), settings.api_key(), settings, guard, observer=observer) as client:
        try:
            exchange = client.request("listModels", "GET", "/models")
            problem = exchange.transport_error or exchange.stream_error
            if problem is not None:
                problem = f"the target {settings.target} does not answer usably: {problem}"
                return TargetProbe(settings.models, problem, exchange, operations=declared)
            aliases = settings.aliases()
            listed = _listed(exchange, aliases)
            models = settings.models or listed
            surface = declared
            if not declared.declared and exchange.status in NOT_OFFERED:
                surface = surface.without({"models": answer_of("GET", "/models", exchange.status)})
            found = discover(client, surface, models) if not settings.plan else None
        except (BudgetReached, QuotaExceeded) as exc:  # the run stops at its first request
            return TargetProbe(settings.models, stop=str(exc), quota=isinstance(exc, QuotaExceeded))
    return TargetProbe(
        models,
        None,
        exchange,
        not_offered=_not_offered(listed, aliases),
        operations=found.applied_to(surface) if found is not None else surface,
        unanswered=found.unanswered if found is not None else None,
    )


def _listed(exchange: Exchange, aliases: dict[str, str]) -> tuple[str, ...]:
    try:
        data = exchange.json().get("data", []) if exchange.status == 200 else []
        listed = [m.get("id") for m in data if isinstance(m, dict)]
    except (ValueError, AttributeError, TypeError):
        return ()  # a target whose model list is unusable: the suites' findings say why
    return tuple(m for m in listed if isinstance(m, str) and load_rules().model(aliases.get(m, m)) is not None)


def _not_offered(listed: tuple[str, ...], aliases: dict[str, str]) -> tuple[str, ...]:
    """The current lineup's models missing from what the target lists (by contract id)."""
    offered = {aliases.get(m, m) for m in listed}
    return tuple(m.id for m in load_rules().models.values() if in_lineup(m, "current") and m.id not in offered)
