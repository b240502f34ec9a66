"""Fixtures shared by our own tests: the reference mock served by uvicorn on a free loopback port, and clients."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, MockServer, serve_in_thread

FAST_BATCHES = 0.02
"""Seconds per batch status in tests (the default 0.5 s suits people watching a batch)."""


@pytest.fixture(scope="session")
def mock_server() -> Iterator[MockServer]:
    """The conformant reference mock, shared by the session (one per xdist worker)."""
    with serve_in_thread(MockConfig(batch_step_seconds=FAST_BATCHES)) as server:
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
