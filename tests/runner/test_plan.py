"""`--plan`: the ceilings of requests and tokens a run may send, per test, suite and model, printed before anything
is sent; and a run never passes them (the guard holds each test to its own, and a run of the default suite against
the mock stays within them, per test and in total)."""

from __future__ import annotations

import collections
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kimi_conformance.budget import Guard, PlanExceeded
from kimi_conformance.loopback import LoopbackServer, running
from kimi_conformance.mock import MockConfig, create_app
from kimi_conformance.profiles import PROFILES
from kimi_conformance.rules import in_lineup, load_rules
from kimi_conformance.runner.plan import Ceiling, chat_tokens, contract_ceiling, sends
from kimi_conformance.runner.scenarios import chat, rule_probe_count

LINE = re.compile(r"\s*([\d,]+)\s+([\d,]+|unbounded)\s+(\S+::\S+)$")
"""A test's line under `--plan -v`: requests, tokens, node id."""


def cli(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    command = [sys.executable, "-m", "kimi_conformance", "run", "--report-dir", "reports", *args]
    done = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})}
    )
    return done.returncode, done.stdout + done.stderr


def number(text: str) -> int:
    return int(text.replace(",", ""))


def planned(output: str) -> dict[str, tuple[int, int]]:
    """Every test's ceiling, from `--plan -v`."""
    return {m[3]: (number(m[1]), number(m[2])) for line in output.splitlines() if (m := LINE.match(line))}


def rows(output: str) -> dict[tuple[str, str], tuple[int, int]]:
    """(suite, model) -> (requests, tokens), from the plan's table."""
    found = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0].endswith(".py") and parts[2].isdigit():
            found[(parts[0], parts[1])] = (number(parts[3]), number(parts[4]))
    return found


def test_ceilings_add_up_from_the_requests_they_count() -> None:
    body = chat("kimi-k3", "Say OK.", max_tokens=10, n=2)
    assert chat_tokens(body) == 10 + 20  # prompt: 3 words and marks, 4 around the message, 3 for the reply
    assert sends(body, None, 7) == Ceiling(3, 37)
    assert sends(body) * 3 + Ceiling(1, None) == Ceiling(4, None)
    with pytest.raises(ValueError, match="without an output cap"):
        chat_tokens({"model": "kimi-k3", "messages": [{"role": "user", "content": "hi"}]})
    examples = PROFILES["quick"].contract.max_examples
    assert contract_ceiling("listModels", "quick") == Ceiling((examples + 1) * 3, 0)  # a case and 2 auth probes
    assert contract_ceiling("createChatCompletion", "quick").tokens == (examples + 1) * 3 * 2048


def test_the_guard_stops_a_test_before_it_passes_its_ceiling() -> None:
    body = chat("kimi-k3", "Say OK.", max_tokens=10)  # asks for 20 tokens
    guard = Guard(ceilings={"t1": (3, 50)})
    guard.test = "t1"
    guard.admit(body)
    guard.admit(body, retry=True)  # a 429 resent: not counted against the plan
    guard.admit(body)
    with pytest.raises(PlanExceeded, match=r"t1 would pass its planned ceiling \(3 requests, 50 tokens"):
        guard.admit(body)  # 40 + 20 asked for would pass 50
    guard = Guard(ceilings={"t1": (2, None)})
    guard.test = "t1"
    guard.admit(body)
    guard.admit(body)
    with pytest.raises(PlanExceeded, match="its request 3 asks"):
        guard.admit()
    assert guard.reached is not None and "a bug in the plan" in guard.reached
    free = Guard(ceilings={"t1": (1, 0)})
    free.test = "another test"
    for _ in range(3):
        free.admit(body)  # a test with no ceiling is not limited


def test_the_plan_covers_every_suite_and_model_and_sends_nothing(tmp_path: Path) -> None:
    returncode, output = cli(tmp_path, "--plan", "--profile", "quick")
    assert returncode == 0, output[-3000:]
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())
    assert "sent: nothing (the embedded mock was not even started)" in output
    assert "declare no ceiling" not in output  # every suite test declares one
    table = rows(output)
    models = [m.id for m in load_rules().models.values() if in_lineup(m, "current")]
    for model in models:
        info = load_rules().model(model)
        assert info is not None
        assert table[("test_rules.py", model)][0] == rule_probe_count(info, "quick")  # as `rules --model` says
        assert table[("test_fidelity.py", model)][0] == 2 * PROFILES["quick"].fidelity
    suites = {suite for suite, _ in table}
    assert suites == {p.name for p in (Path(__file__).parents[2] / "suites").glob("test_*.py")}
    total = next(line for line in output.splitlines() if line.startswith("total")).split()
    assert number(total[2]) == sum(r for r, _ in table.values()) and number(total[3]) == sum(
        t for _, t in table.values()
    )


class CountingRequests:
    """ASGI middleware counting every HTTP request on its way to the mock."""

    def __init__(self, app: Any) -> None:
        self.app, self.count = app, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.count += 1
        await self.app(scope, receive, send)


def test_a_url_target_is_sent_nothing_with_model_and_its_model_list_only_without(tmp_path: Path) -> None:
    counted = CountingRequests(create_app(MockConfig(api_keys=frozenset({"url-key"}))))
    with running(LoopbackServer(counted), "counted-mock") as server:  # type: ignore[arg-type]
        target = ["--plan", "--target", server.api_base, "--api-key-env", "URL_KEY", "--profile", "quick"]
        returncode, output = cli(tmp_path, *target, "--model", "kimi-k3", "-n", "2")  # no key needed, none sent
        assert returncode == 0 and counted.count == 0, output[-2000:]
        assert "sent: nothing (--model names the models" in output and "(GET /models)" in output
        returncode, output = cli(tmp_path, *target, env={"URL_KEY": "url-key"})
    assert returncode == 0 and counted.count == 1, output[-2000:]
    assert "sent: GET /models only" in output and ("test_chat.py", "kimi-k3") in rows(output)


@pytest.mark.slow
def test_a_run_of_the_default_suite_stays_within_its_plan(tmp_path: Path) -> None:
    """The default suite against the embedded mock (quick profile, two workers): each test's requests in the
    cassette and the run's tokens (prompt + completion, from usage) within the plan of the same run."""
    returncode, output = cli(tmp_path, "--plan", "--profile", "quick", "-v")
    assert returncode == 0, output[-3000:]
    ceilings = planned(output)
    returncode, output = cli(tmp_path, "--profile", "quick", "-n", "2")
    assert returncode == 0, output[-3000:]
    folder = tmp_path / "reports" / "latest"
    results = json.loads((folder / "results.json").read_text())
    lines = [json.loads(line) for line in (folder / "cassette.jsonl").read_text("utf-8").splitlines()]
    sent = collections.Counter(line["test"] for line in lines)
    assert set(sent) <= set(ceilings) and len(sent) > 500
    over = {test: (count, ceilings[test][0]) for test, count in sent.items() if count > ceilings[test][0]}
    assert not over
    spent = results["spending"]
    assert spent["requests"] == sum(sent.values()) <= sum(r for r, _ in ceilings.values())
    assert spent["tokens"] <= sum(t for _, t in ceilings.values())


def test_a_test_that_would_pass_its_ceiling_stops_the_run_saying_so(tmp_path: Path) -> None:
    (tmp_path / "test_over.py").write_text(
        "import pytest\n"
        "from kimi_conformance.suite import Ceiling, TargetClient\n\n\n"
        "@pytest.mark.ceiling(Ceiling(requests=1))\n"
        "def test_two_requests(target_client: TargetClient) -> None:\n"
        '    target_client.request("listModels", "GET", "/models")\n'
        '    target_client.request("listFiles", "GET", "/files")\n'
    )
    returncode, output = cli(tmp_path, "test_over.py")
    assert returncode == 2, output[-2000:]
    assert "test_over.py::test_two_requests would pass its planned ceiling (1 requests, 0 tokens" in output
    results = json.loads((tmp_path / "reports" / "latest" / "results.json").read_text())
    assert results["verdict"] == "incomplete" and "a bug in the plan" in results["budget_reached"]
