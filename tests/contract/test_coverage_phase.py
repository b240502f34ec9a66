"""Schemathesis's coverage phase in the contract suite: every kind of case the phase derives reached within a small
number (boundary values, missing headers, unsupported methods), sent with the run's key and output cap, and a run
of the `...-coverage` tests against the conformant mock passes, counted in results.json and within its plan."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kimi_conformance import contract
from kimi_conformance.mock import DEFAULT_API_KEY, MockServer
from kimi_conformance.runner.coverage_phase import coverage_cases, round_robin, scenario_of
from kimi_conformance.runner.scenarios import SMALL_MAX_TOKENS
from kimi_conformance.runner.schemathesis_bridge import load_schema
from kimi_conformance.transport import TargetClient


@pytest.fixture
def schema(mock_server: MockServer) -> Iterator[Any]:
    """A schema of its own per test: schemathesis sends each unsupported method of a path once per schema."""
    with TargetClient(mock_server.api_base, DEFAULT_API_KEY) as client:
        yield load_schema(client, "quick", {"kimi-k2.6": "kimi-k2.6"})


def test_a_small_number_of_cases_still_has_every_kind_of_the_chat_request(schema: Any, mock_server: MockServer) -> None:
    chosen = coverage_cases(schema, "createChatCompletion", 20)
    with TargetClient(mock_server.api_base, DEFAULT_API_KEY) as client:
        everything = coverage_cases(
            load_schema(client, "quick", {"kimi-k2.6": "kimi-k2.6"}), "createChatCompletion", 10**5
        )
    kinds = {scenario_of(case) for case in everything}
    assert len(everything) > 1000 and 10 < len(kinds) <= 20 and len(chosen) == 20
    assert {scenario_of(case) for case in chosen} == kinds
    assert {"negative/unspecified_http_method", "negative/missing_parameter", "negative/value_below_minimum"} <= kinds


def test_round_robin_takes_one_of_each_kind_in_turn(schema: Any) -> None:
    cases = coverage_cases(schema, "listBatches", 100)
    picked = round_robin(cases, 5)
    assert [scenario_of(case) for case in picked] == list(dict.fromkeys(scenario_of(case) for case in cases))[:5]
    assert len(round_robin(cases, len(cases) + 10)) == len(cases)


def test_cases_carry_the_run_s_key_and_the_output_cap(schema: Any) -> None:
    for operation_id in ("createChatCompletion", "listBatches", "uploadFile"):
        for case in coverage_cases(schema, operation_id, 60):
            data = case.meta.phase.data
            missing_key = data.scenario.value == "missing_parameter" and data.parameter == "Authorization"
            assert case.headers.get("Authorization") == (None if missing_key else f"Bearer {DEFAULT_API_KEY}")
            body = case.body if isinstance(case.body, dict) else {}
            caps = [body[key] for key in ("max_completion_tokens", "max_tokens") if isinstance(body.get(key), int)]
            if operation_id == "createChatCompletion" and isinstance(body.get("messages"), list):
                assert caps and all(cap <= SMALL_MAX_TOKENS for cap in caps if not isinstance(cap, bool))


def test_a_positive_case_stays_positive_once_the_suite_s_hooks_have_run(schema: Any) -> None:
    modes = collections.Counter(case.meta.generation.mode.value for case in coverage_cases(schema, "uploadFile", 50))
    assert modes["positive"] >= 1 and modes["negative"] >= 1


def _run(tmp_path: Path, *args: str) -> tuple[int, str]:
    command = [sys.executable, "-m", "kimi_conformance", "run", "--report-dir", "reports", "--quiet", *args]
    done = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=300, env={**os.environ}, check=False
    )
    return done.returncode, done.stdout + done.stderr


def test_the_coverage_tests_pass_on_the_mock_counted_and_within_their_plan(tmp_path: Path) -> None:
    selection = ("--model", "kimi-k2.6", "--profile", "quick", "test_contract.py", "-k", "coverage")
    returncode, output = _run(tmp_path, "--plan", "-v", *selection)
    assert returncode == 0, output[-3000:]
    ceilings = {
        parts[-1]: int(parts[0].replace(",", ""))
        for line in output.splitlines()
        if (parts := line.split()) and parts[-1].endswith("-coverage]")
    }
    assert len(ceilings) == len(contract.operations())
    returncode, output = _run(tmp_path, *selection)
    assert returncode == 0, output[-3000:]
    folder = tmp_path / "reports" / "latest"
    results = json.loads((folder / "results.json").read_text("utf-8"))
    assert results["summary"]["tests"] == {"passed": len(contract.operations())}
    lines = [json.loads(line) for line in (folder / "cassette.jsonl").read_text("utf-8").splitlines()]
    sent = collections.Counter(line["test"] for line in lines)
    assert sent and all(count <= ceilings[test] for test, count in sent.items())
    chat = [line for line in lines if line["test"].endswith("[createChatCompletion-coverage]")]
    assert {line["method"] for line in chat} >= {"POST", "DELETE"}  # an unsupported method was sent
    assert any("authorization" not in line["request_headers"] and line["status"] == 401 for line in chat)
    assert all(DEFAULT_API_KEY not in json.dumps(line) for line in lines)
