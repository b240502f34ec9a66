"""The target of a run: the embedded mock (started here) or a URL, its key, and the models to exercise."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from kimi_conformance.errors import ConfigError
from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, serve_in_thread
from kimi_conformance.rules import load_rules
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
        config = MockConfig(faults=frozenset(settings.mock_faults), batch_step_seconds=MOCK_BATCH_STEP)
        with serve_in_thread(config) as server:
            yield Target(base_url=server.api_base, api_key=DEFAULT_API_KEY, label="mock")
        return
    key = settings.api_key()
    if key is None:
        raise ConfigError(f"the target {settings.target} needs an API key in ${settings.api_key_env}")
    yield Target(base_url=settings.target.rstrip("/"), api_key=key, label=settings.target)


def resolve_models(settings: Settings) -> list[str]:
    """Target model ids to exercise: `--model`, else the models the target lists that the contract knows."""
    if settings.models:
        return list(settings.models)
    if settings.is_mock:
        return list(load_rules().models)
    aliases = settings.aliases()
    with TargetClient(
        settings.target,
        settings.api_key(),
        timeout=settings.request_timeout,
        stream_timeout=settings.stream_timeout,
        stream_idle_timeout=settings.stream_idle_timeout,
    ) as client:
        exchange = client.request("listModels", "GET", "/models")
    try:
        data = exchange.json().get("data", []) if exchange.status == 200 and exchange.stream_error is None else []
        listed = [m.get("id") for m in data if isinstance(m, dict)]
    except (ValueError, AttributeError, TypeError):
        return []  # a target whose model list is unusable: the suites' findings say why
    return [m for m in listed if isinstance(m, str) and load_rules().model(aliases.get(m, m)) is not None]
