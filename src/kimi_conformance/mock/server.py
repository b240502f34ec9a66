"""Serving the mock on loopback (`kimi_conformance.loopback`): in a background thread (tests, the runner) or in
the foreground."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Iterator

from kimi_conformance.loopback import LoopbackServer, running
from kimi_conformance.mock.app import create_app
from kimi_conformance.mock.config import MockConfig
from kimi_conformance.mock.sse import StreamCut


def _quiet_stream_cuts(record: logging.LogRecord) -> bool:
    """Drop uvicorn's traceback for the `stream-cut-mid-body` fault: the cut is the point, not an error."""
    return not (record.exc_info and isinstance(record.exc_info[1], StreamCut))


class MockServer(LoopbackServer):
    """The reference mock on loopback."""

    def __init__(self, config: MockConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.mock_config = config or MockConfig()
        self.app = create_app(self.mock_config)
        super().__init__(self.app, host, port)
        logging.getLogger("uvicorn.error").addFilter(_quiet_stream_cuts)

    def switch_faults(self, faults: frozenset[str]) -> None:
        """Switch the running mock to other faults (the self-test's per-rule cases). Request handling reads the
        new set at once; what is built at start-up (gzip middleware, the batch store) keeps the old one."""
        state = self.app.state.mock
        state.config = dataclasses.replace(state.config, faults=faults)


@contextlib.contextmanager
def serve_in_thread(config: MockConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> Iterator[MockServer]:
    """Start the mock on a free loopback port in a daemon thread; stop it on exit."""
    with running(MockServer(config, host, port), "kimi-mock") as server:
        yield server
