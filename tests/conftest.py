"""Fixtures shared by our own tests: the reference mock served by uvicorn on a free loopback port, and clients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, MockServer, serve_in_thread

FAST_BATCHES = 0.02
"""Seconds per batch status in tests (the default 0.5 s suits people watching a batch)."""


@pytest.fixture(scope="session")
def mock_server() -> Iterator[MockServer]:
    """The conformant reference mock, shared by the session (one per xdist worker)."""
    with serve_in_thread(MockConfig(lineup="all", batch_step_seconds=FAST_BATCHES)) as server:
        yield server


@pytest.fixture
def http(mock_server: MockServer) -> Iterator[httpx.Client]:
    """An httpx client on the mock's SDK-style base URL (`.../v1`), authenticated with the default key."""
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    with httpx.Client(base_url=mock_server.api_base, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
def sdk(mock_server: MockServer) -> Iterator[openai.OpenAI]:
    """The official OpenAI SDK as a real client of the mock; no retries, so every error surfaces."""
    with openai.OpenAI(base_url=mock_server.api_base, api_key=DEFAULT_API_KEY, max_retries=0, timeout=10) as client:
        yield client


def user(text: str) -> list[dict[str, str]]:
    """A one-message conversation."""
    return [{"role": "user", "content": text}]


class _SelfTestScore:
    """Counts the self-test cases (tests/runner/test_selftest.py) as their reports arrive (xdist forwards them)."""

    def __init__(self) -> None:
        self.outcomes: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            self.outcomes += [str(value) for name, value in report.user_properties if name == "selftest"]

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.outcomes:
            return
        faults = [o for o in self.outcomes if o.startswith("fault:")]
        others = [o for o in self.outcomes if not o.startswith("fault:")]
        caught = sum(o.endswith(":ok") for o in faults)
        alarms = sum(o.endswith(":bad") for o in others)
        terminalreporter.write_sep("=", "kimi-conformance self-test")
        terminalreporter.write_line(
            f"self-test score: faults caught {caught}/{len(faults)}, false alarms {alarms}/{len(others)} "
            "(clean mock + benign variations)"
        )


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(_SelfTestScore(), "kimi-conformance-selftest-score")
