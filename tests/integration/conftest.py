"""Real third-party servers as targets (LiteLLM proxy, Stoplight Prism), started on loopback by the tests.

Install them with `.ci/install-real-targets` (a LiteLLM virtual environment in `.venv-litellm/`, Prism in
`.prism/`), or point `KIMI_CONFORMANCE_LITELLM` / `KIMI_CONFORMANCE_PRISM` at the executables. A tool that is not
installed skips its tests with that reason, never silently."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 90.0
LITELLM_KEY = "sk-litellm-master-key-for-kimi-conformance-tests"


def find_tool(variable: str, local: Path, name: str) -> str:
    """The executable: from the environment variable, the project's local install, or PATH; else skip."""
    for candidate in (os.environ.get(variable), str(local), shutil.which(name)):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    pytest.skip(f"{name} is not installed: run .ci/install-real-targets, or set {variable} to its executable")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """A third-party server in its own process group on loopback, with its log kept for failures."""

    def __init__(self, command: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None):
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            command, stdout=self._log_file, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
            cwd=cwd, start_new_session=True,
        )  # fmt: skip

    def wait_until(self, url: str, headers: dict[str, str] | None = None) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(url, headers=headers, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        tail = self.log.read_text(errors="replace")[-2000:]
        pytest.fail(f"{url} did not come up within {STARTUP_TIMEOUT:g} s:\n{tail}", pytrace=False)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self._log_file.close()

    def alive(self) -> bool:
        return self.process.poll() is None


def litellm_config(models: list[tuple[str, dict[str, object]]]) -> str:
    """A LiteLLM proxy config: `models` as (public name, litellm_params); a master key; no telemetry."""
    lines = ["model_list:"]
    for name, params in models:
        lines += [f"  - model_name: {name}", "    litellm_params:"]
        lines += [
            f"      {key}: {value!r}" if isinstance(value, str) else f"      {key}: {value}"
            for key, value in params.items()
        ]
    lines += ["general_settings:", f"  master_key: {LITELLM_KEY}", "litellm_settings:", "  telemetry: false"]
    return "\n".join(lines) + "\n"


Models = list[tuple[str, dict[str, object]]]


@pytest.fixture
def litellm(tmp_path: Path) -> Iterator[Callable[[Models], str]]:
    """Start LiteLLM with a config; yields a starter returning its SDK-style base URL."""
    binary = find_tool("KIMI_CONFORMANCE_LITELLM", ROOT / ".venv-litellm" / "bin" / "litellm", "litellm")
    servers: list[Server] = []

    def start(models: Models) -> str:
        config = tmp_path / "litellm.yaml"
        config.write_text(litellm_config(models))
        port = free_port()
        env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"}
        server = Server([binary, "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
                        tmp_path / "litellm.log", env=env, cwd=tmp_path)  # fmt: skip
        servers.append(server)
        server.wait_until(f"http://127.0.0.1:{port}/health/liveliness")
        return f"http://127.0.0.1:{port}/v1"

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def prism(tmp_path: Path) -> Iterator[str]:
    """Prism serving our contract in mock mode; yields its SDK-style base URL (the server is `prism.server`)."""
    binary = find_tool("KIMI_CONFORMANCE_PRISM", ROOT / ".prism" / "node_modules" / ".bin" / "prism", "prism")
    port = free_port()
    contract = ROOT / "openapi" / "moonshot.openapi.yaml"
    server = Server([binary, "mock", "-h", "127.0.0.1", "-p", str(port), str(contract)], tmp_path / "prism.log")
    server.wait_until(f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": "Bearer x"})
    yield f"http://127.0.0.1:{port}/v1"
    server.stop()
