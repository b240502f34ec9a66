"""Serving an ASGI app with uvicorn on loopback, in a background thread (tests, the runner) or in the foreground:
the reference mock and the validating proxy both do."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import TypeVar

import uvicorn
from starlette.applications import Starlette

STARTUP_TIMEOUT = 15.0


class LoopbackServer(uvicorn.Server):
    """A uvicorn server for one ASGI app on a pre-bound socket, that knows its URL and leaves signal handling to
    its owner (the mock, and the validating proxy, use it)."""

    def __init__(self, app: Starlette, host: str = "127.0.0.1", port: int = 0) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP matters: asyncio turns Nagle off (TCP_NODELAY) only on connections accepted from a socket
        # whose `proto` says TCP; without it every response split in two writes waits ~40 ms for a delayed ACK.
        self.socket = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        self.host, self.port = host, self.socket.getsockname()[1]
        super().__init__(
            uvicorn.Config(
                app, log_level="warning", access_log=False, lifespan="on", ws="none", timeout_graceful_shutdown=2
            )
        )

    def install_signal_handlers(self) -> None:
        """Signals belong to the thread or program that owns the server."""

    @property
    def base_url(self) -> str:
        """The server's root, e.g. `http://127.0.0.1:8123`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_base(self) -> str:
        """The SDK-style base URL (`.../v1`), what `OpenAI(base_url=...)` takes."""
        return self.base_url + "/v1"

    def serve_forever(self) -> None:
        """Run in the calling thread until interrupted."""
        self.run(sockets=[self.socket])


Served = TypeVar("Served", bound=LoopbackServer)


@contextlib.contextmanager
def running(server: Served, name: str = "kimi-server") -> Iterator[Served]:
    """Run `server` in a daemon thread until the block ends."""
    thread = threading.Thread(target=server.run, kwargs={"sockets": [server.socket]}, daemon=True, name=name)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not start")
        time.sleep(0.005)
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        server.socket.close()
