"""How the runner treats the documented errors a target may send (the mock's `--error`, `--tpm`): a retryable 429
(engine_overloaded_error, rate_limit_reached_error) is retried with backoff, a bounded number of times, and the
answer kept is judged conformant; 4xx/5xx other than 429 are never retried; a quota 429 stops the run. A whole
run against a target overloaded for its first requests retries them and passes.

What "every chat request answers 429 engine_overloaded" means for a run: each request is sent 1 + --max-retries
times (backoff 1 s, 2 s, 4 s with jitter), then the 429 is the answer; it is conformant (no finding), so a test
that needs a completion reports an unusable answer. The mock's `error_count` keeps such a run short: the first N
requests of the error's routes get it."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kimi_conformance.budget import Guard, QuotaExceeded
from kimi_conformance.checks import CHECKS, CheckContext
from kimi_conformance.exchange import Exchange
from kimi_conformance.mock import MockConfig, serve_in_thread
from kimi_conformance.runner.session import ConformanceSession
from kimi_conformance.transport import TargetClient

KEY = "sk-error-answers-test-key-0123456789"
MODEL = "kimi-k2.6"
CHAT = {"model": MODEL, "messages": [{"role": "user", "content": "Say OK"}], "max_tokens": 16}


class Run:
    """A client of a mock with a guard whose sleeps are recorded, not slept."""

    def __init__(self, client: TargetClient, guard: Guard, waits: list[float]) -> None:
        self.client, self.guard, self.waits = client, guard, waits

    def chat(self) -> Exchange:
        return self.client.request("createChatCompletion", "POST", "/chat/completions", json_body=CHAT)


Starter = Callable[..., Run]


@pytest.fixture
def run_on() -> Iterator[Starter]:
    """`run_on(**mock_config)`: a `Run` on a mock with that configuration (stopped at the end of the test)."""
    with contextlib.ExitStack() as stack:

        def start(**config: Any) -> Run:
            server = stack.enter_context(serve_in_thread(MockConfig(api_keys=frozenset({KEY}), **config)))
            waits: list[float] = []
            guard = Guard(max_retries=3, sleep=waits.append)
            client = stack.enter_context(TargetClient(server.api_base, KEY, timeout=10, guard=guard))
            return Run(client, guard, waits)

        yield start


def findings(exchange: Exchange) -> frozenset[str]:
    return ConformanceSession(CheckContext(), selected=frozenset(CHECKS), strict=True).check(exchange).codes


def test_an_overloaded_engine_is_retried_with_backoff_until_it_answers(run_on: Starter) -> None:
    run = run_on(error="engine-overloaded", error_count=2)
    answer = run.chat()
    assert answer.status == 200 and not findings(answer)
    assert run.guard.spent.requests == 3 and run.guard.spent.retries == 2
    first, second = run.waits  # no Retry-After: exponential backoff with jitter
    assert 0.5 <= first <= 1.0 and 1.0 <= second <= 2.0


def test_a_target_that_stays_overloaded_is_retried_a_bounded_number_of_times(run_on: Starter) -> None:
    run = run_on(error="engine-overloaded")
    answer = run.chat()
    assert answer.status == 429 and answer.json()["error"]["type"] == "engine_overloaded_error"
    assert run.guard.spent.requests == 4 and run.guard.spent.retries == 3 and len(run.waits) == 3
    assert not findings(answer)  # a documented 429 in the common envelope is a conformant answer


def test_a_token_limit_429_is_retried_as_a_rate_limit_not_a_quota(run_on: Starter) -> None:
    run = run_on(tpm=20)
    answer = run.chat()
    assert answer.status == 429 and "TPM rate limit" in answer.json()["error"]["message"]
    assert run.guard.spent.retries == 3 and not run.guard.quota_exceeded
    assert not findings(answer)


@pytest.mark.parametrize(
    ("error", "status", "codes"),
    [
        ("content-filter", 400, frozenset({"SCHM003"})),
        ("permission-denied", 403, frozenset()),
        ("gateway-timeout", 504, frozenset({"HTTP002"})),
    ],
)
def test_other_documented_errors_are_not_retried(
    run_on: Starter, error: str, status: int, codes: frozenset[str]
) -> None:
    run = run_on(error=error)
    answer = run.chat()
    assert answer.status == status
    assert run.guard.spent.requests == 1 and run.guard.spent.retries == 0 and not run.waits
    # The envelope checks pass on each. A 5xx is reported (HTTP002), documented or not; a content filter that refuses
    # one of the suite's benign requests is a valid request refused (SCHM003).
    assert findings(answer) == codes


def test_a_server_error_on_extraction_is_reported_and_not_retried(run_on: Starter) -> None:
    run = run_on(error="server-error")
    files = {"file": ("notes.txt", b"hello", "text/plain")}
    answer = run.client.request("uploadFile", "POST", "/files", files=files, data={"purpose": "file-extract"})
    assert answer.status == 500 and answer.json()["error"]["type"] == "server_error"
    assert run.guard.spent.retries == 0
    assert findings(answer) == {"HTTP002"}


def test_a_quota_429_stops_at_the_first_request(run_on: Starter) -> None:
    run = run_on(out_of_quota=True)
    with pytest.raises(QuotaExceeded, match="exceeded_current_quota_error"):
        run.chat()
    assert run.guard.spent.requests == 1 and run.guard.spent.retries == 0


def test_a_run_against_a_briefly_overloaded_target_retries_and_passes(tmp_path: Path) -> None:
    config = MockConfig(api_keys=frozenset({KEY}), error="engine-overloaded", error_count=2)
    with serve_in_thread(config) as mock:
        command = [sys.executable, "-m", "kimi_conformance", "run", "--report-dir", "reports", "--target"]
        command += [mock.api_base, "--api-key-env", "KIMI_ERRORS_KEY", "--model", MODEL]
        command += ["test_chat.py::test_plain_completion"]
        env = {**os.environ, "KIMI_ERRORS_KEY": KEY}
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    results = json.loads((tmp_path / "reports" / "latest" / "results.json").read_text("utf-8"))
    output = done.stdout + done.stderr
    assert done.returncode == 0 and results["verdict"] == "pass", output[-3000:]
    assert results["spending"]["retries"] == 2 and not results["findings"]
    assert "2 retried after 429" in output
