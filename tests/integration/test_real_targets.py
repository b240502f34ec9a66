"""The suite against real software nobody here wrote: LiteLLM's proxy (answering from `mock_response`, and
forwarding to our mock) and Prism serving our contract. What each does wrong is kept as a reviewed expectation
(`expected/<scenario>.json`: every check code found, with why it is a true deviation), so a change in our checks
or in their behaviour shows up here. `KIMI_UPDATE_EXPECTED=1` rewrites the files for review."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest

from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, serve_in_thread
from kimi_conformance.proxy import read_outcomes, serve_proxy_in_thread

from .conftest import LITELLM_KEY, Models

pytestmark = pytest.mark.integration
EXPECTED = Path(__file__).parent / "expected"
ALL_SUITES: tuple[str, ...] = ()
NON_STREAMING = (
    "test_models.py",
    "test_errors.py",
    "test_files.py",
    "test_chat.py",
    "test_rules.py",
    "test_contract.py",
)


def run_suite(
    tmp_path: Path, base_url: str, key: str, models: list[str], suites: tuple[str, ...], workers: str
) -> tuple[int, dict[str, Any], str]:
    command = [sys.executable, "-m", "kimi_conformance", "run", "--target", base_url, "--api-key-env", "KIMI_IT_KEY"]
    command += [arg for model in models for arg in ("--model", model)]
    command += ["--profile", "quick", "--request-timeout", "20", "-n", workers, "--report-dir", "reports", *suites]
    done = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=900, env={**os.environ, "KIMI_IT_KEY": key}
    )
    results = json.loads((tmp_path / "reports" / "latest" / "results.json").read_text("utf-8"))
    return done.returncode, results, done.stdout + done.stderr


def assert_expected(scenario: str, results: dict[str, Any]) -> None:
    """The codes found are the reviewed ones: every code of `codes`, none outside `codes` and `sometimes` (codes
    whose appearance depends on timing the scenario cannot fix). KIMI_UPDATE_EXPECTED=1 rewrites `codes`."""
    path = EXPECTED / f"{scenario}.json"
    expected = json.loads(path.read_text("utf-8")) if path.is_file() else {"codes": {}}
    found = {finding["code"] for finding in results["findings"]}
    sometimes = set(expected.get("sometimes", {}))
    if os.environ.get("KIMI_UPDATE_EXPECTED"):
        notes = expected.get("codes", {})
        expected["codes"] = {code: notes.get(code, "UNREVIEWED") for code in sorted(found - sometimes)}
        path.write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n", "utf-8")
    known = set(expected["codes"])
    missing, unexpected = known - found, found - known - sometimes
    assert not missing and not unexpected, (
        f"{scenario}: new codes {sorted(unexpected)}, gone {sorted(missing)}; review them and update "
        f"{path.name} (KIMI_UPDATE_EXPECTED=1 rewrites it)"
    )


def test_litellm_answering_from_mock_response(tmp_path: Path, litellm: Callable[[Models], str]) -> None:
    params = {"api_base": "http://127.0.0.1:9/v1", "api_key": "sk-unused", "mock_response": "Hello from LiteLLM."}
    base_url = litellm([("kimi-k2-turbo-preview", {"model": "openai/kimi-k2-turbo-preview", **params})])
    returncode, results, output = run_suite(tmp_path, base_url, LITELLM_KEY, ["kimi-k2-turbo-preview"], ALL_SUITES, "2")
    assert returncode == 1 and "Traceback" not in output, output[-3000:]
    assert_expected("litellm-mock-response", results)


def test_litellm_in_front_of_the_mock(tmp_path: Path, litellm: Callable[[Models], str]) -> None:
    with serve_in_thread(MockConfig(lineup="all", batch_step_seconds=0.05)) as mock:
        upstream = {"api_base": mock.api_base, "api_key": DEFAULT_API_KEY}
        base_url = litellm(
            [(model, {"model": f"openai/{model}", **upstream}) for model in ("kimi-k2-turbo-preview", "kimi-k2.6")]
        )
        models = ["kimi-k2-turbo-preview", "kimi-k2.6"]
        returncode, results, output = run_suite(tmp_path, base_url, LITELLM_KEY, models, ALL_SUITES, "2")
    assert returncode == 1 and "Traceback" not in output, output[-3000:]
    assert_expected("litellm-proxy-to-mock", results)


def test_prism_serving_our_contract(tmp_path: Path, prism: str) -> None:
    returncode, results, output = run_suite(tmp_path, prism, "sk-prism", ["kimi-k2.5"], NON_STREAMING, "0")
    assert returncode == 1 and "Traceback" not in output, output[-3000:]
    assert_expected("prism-mock-contract", results)


def test_the_proxy_in_front_of_litellm(tmp_path: Path, litellm: Callable[[Models], str]) -> None:
    """The `openai` SDK through our validating proxy to LiteLLM: traffic unchanged, LiteLLM's deviations recorded."""
    params = {"api_base": "http://127.0.0.1:9/v1", "api_key": "sk-unused", "mock_response": "Hello from LiteLLM."}
    upstream = litellm([("kimi-k2-turbo-preview", {"model": "openai/kimi-k2-turbo-preview", **params})])
    body = {"model": "kimi-k2-turbo-preview", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3}
    with serve_proxy_in_thread(upstream, tmp_path) as url, openai.OpenAI(base_url=url, api_key=LITELLM_KEY) as client:
        reply = client.chat.completions.create(**body)  # type: ignore[call-overload]
        assert reply.choices[0].message.content == "Hello from LiteLLM."
        options = {"include_usage": True}
        chunks = list(client.chat.completions.create(**body, stream=True, stream_options=options))  # type: ignore[call-overload]
        assert chunks
        deadline = time.monotonic() + 10  # the proxy checks an exchange after its last byte went to the client
        cassette = tmp_path / "cassette.jsonl"
        while (not cassette.is_file() or len(cassette.read_text().splitlines()) < 2) and time.monotonic() < deadline:
            time.sleep(0.01)
    found = {o["code"] for o in read_outcomes(tmp_path) if o["finding"] is not None}
    assert {"CHAT005", "CHNK007"} <= found, found  # the canned answer passes max_tokens; usage only OpenAI-style
