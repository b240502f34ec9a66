"""The reference mock: a faithful, streaming Kimi API server on loopback (the embedded default target)."""

from __future__ import annotations

from kimi_conformance.mock.app import create_app
from kimi_conformance.mock.config import DEFAULT_API_KEY, MockConfig
from kimi_conformance.mock.server import MockServer, serve_in_thread

__all__ = ["DEFAULT_API_KEY", "MockConfig", "MockServer", "create_app", "serve_in_thread"]
