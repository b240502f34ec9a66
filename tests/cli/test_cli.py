"""The command line: `kimi-conformance` and `python -m kimi_conformance`, as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from kimi_conformance import __version__
from kimi_conformance.cli import cli
from kimi_conformance.cli.run import _suite_module, suites_path
from kimi_conformance.mock import DEFAULT_API_KEY
from kimi_conformance.mock.faults import FAULTS
from kimi_conformance.rules import load_rules


def test_version_and_help() -> None:
    runner = CliRunner()
    assert __version__ in runner.invoke(cli, ["--version"]).output
    helped = runner.invoke(cli, ["mock", "--help"])
    assert helped.exit_code == 0
    for option in ("--host", "--port", "--seed", "--api-key", "--chunk-delay", "--rpm", "--max-concurrency", "--fault"):
        assert option in helped.output


def test_list_faults() -> None:
    result = CliRunner().invoke(cli, ["mock", "--list-faults"])
    assert result.exit_code == 0
    assert [line.split("\t")[0] for line in result.output.splitlines()] == list(FAULTS)


def test_unknown_fault_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["mock", "--port", "0", "--fault", "no-such-fault"])
    assert result.exit_code == 4
    assert "unknown fault(s): no-such-fault" in result.output


def test_non_loopback_host_needs_an_explicit_flag() -> None:
    result = CliRunner().invoke(cli, ["mock", "--host", "0.0.0.0", "--port", "0"])
    assert result.exit_code == 4
    assert "not a loopback address" in result.output


def test_demo_runs_against_the_embedded_mock() -> None:
    result = CliRunner().invoke(cli, ["demo", "--model", "kimi-k2-turbo-preview"])
    assert result.exit_code == 0, result.output
    assert '"object": "chat.completion"' in result.output
    assert "data: [DONE]" in result.output


def test_mock_command_serves_until_stopped() -> None:
    """`python -m kimi_conformance mock --port 0` starts, says where it listens, answers, and stops on SIGTERM."""
    command = [sys.executable, "-m", "kimi_conformance", "mock", "--port", "0", "--api-key", "sk-test-1", "--seed", "7"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()
        assert "serving http://127.0.0.1:" in banner and "sk-test-1" not in banner
        api_base = banner.split("serving ", 1)[1].split(" ", 1)[0]
        body = {"model": "kimi-k3", "messages": [{"role": "user", "content": "hi"}]}
        ok = httpx.post(api_base + "/chat/completions", json=body, headers={"Authorization": "Bearer sk-test-1"})
        assert ok.status_code == 200 and json.loads(ok.text)["model"] == "kimi-k3"
        retired = httpx.post(api_base + "/chat/completions", json={**body, "model": "moonshot-v1-8k"},
                             headers={"Authorization": "Bearer sk-test-1"})  # fmt: skip
        assert retired.status_code == 404
        default_key = httpx.get(api_base + "/models", headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"})
        assert default_key.status_code == 401
    finally:
        process.terminate()
        deadline = time.monotonic() + 10
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
    assert process.returncode is not None


def test_rules_table_json_and_one_model() -> None:
    runner = CliRunner()
    rules = load_rules()
    table = runner.invoke(cli, ["rules"])
    assert table.exit_code == 0 and f"{len(rules.rules)} rules over {len(rules.models)} models" in table.output
    listed = json.loads(runner.invoke(cli, ["rules", "--format", "json"]).output)
    assert len(listed) == len(rules.rules) >= 72 and {
        "id",
        "source",
        "tags",
        "severity",
        "message",
        "models",
        "param",
    } <= set(listed[0])
    one = runner.invoke(cli, ["rules", "--model", "kimi-k2.6", "--profile", "quick"])
    assert one.exit_code == 0 and "sampling.kimi-k2_6.temperature" in one.output
    assert "sampling.moonshot-v1.temperature" not in one.output
    assert "36 rules apply to kimi-k2.6" in one.output and "sends at most 149 requests" in one.output
    rows = json.loads(runner.invoke(cli, ["rules", "--model", "kimi-k2.6", "--format", "json"]).output)
    temperature = next(r for r in rows if r["id"] == "sampling.kimi-k2_6.temperature")
    assert {"label": "temperature=0.6", "accept": False} in temperature["probes"]
    assert {"label": "temperature=0.6 (thinking off)", "accept": True} in temperature["probes"]
    unknown = runner.invoke(cli, ["rules", "--model", "gpt-4"])
    assert unknown.exit_code == 4 and "unknown model 'gpt-4'" in unknown.output


def test_selftest_command_scores_the_chosen_faults() -> None:
    result = CliRunner().invoke(cli, ["selftest", "--fault", "stop-ignored", "--fault", "rule-ignored:stop.max-bytes"])
    assert result.exit_code == 0, result.output
    assert "caught      stop-ignored" in result.output
    assert "self-test score: faults caught 2/2, false alarms 0/0" in result.output
    unknown = CliRunner().invoke(cli, ["selftest", "--fault", "no-such-fault"])
    assert unknown.exit_code == 4 and "unknown fault(s): no-such-fault" in unknown.output


def test_run_finds_a_suite_module_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert _suite_module("test_rules.py") == str(suites_path() / "test_rules.py")
    assert _suite_module("test_chat.py::test_partial_mode").endswith("test_chat.py::test_partial_mode")
    assert _suite_module("-k") == "-k" and _suite_module("no_such_module.py") == "no_such_module.py"


def test_the_proxy_binds_loopback_unless_told_otherwise() -> None:
    refused = CliRunner().invoke(cli, ["proxy", "--upstream", "http://127.0.0.1:9/v1", "--host", "0.0.0.0"])
    assert refused.exit_code == 4 and "--allow-non-loopback" in refused.output
    bad = CliRunner().invoke(cli, ["proxy", "--upstream", "ftp://example.invalid/v1"])
    assert bad.exit_code == 4 and "must be an http(s) base URL" in bad.output


@pytest.mark.parametrize("upstream", ["http://[::1/v1", "http://[::1]:99999/v1", "http://[zz::1]:80/v1"])
def test_a_malformed_upstream_is_a_usage_error(upstream: str) -> None:
    bad = CliRunner().invoke(cli, ["proxy", "--upstream", upstream])
    assert bad.exit_code == 4 and "must be an http(s) base URL" in bad.output and bad.exception is not None
    assert isinstance(bad.exception, SystemExit)  # a usage error, not a crash


def test_report_of_a_malformed_recording_is_one_line_and_exit_4(tmp_path: Path) -> None:
    (tmp_path / "outcomes.jsonl").write_text('{"code": "HTTP001"\nnot json\n')
    result = CliRunner().invoke(cli, ["report", str(tmp_path)])
    assert result.exit_code == 4 and "is not a proxy recording" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_an_unwritable_report_dir_is_a_usage_error_before_anything_is_sent(tmp_path: Path) -> None:
    (tmp_path / "blocked").write_text("a file where the folder should be")
    done = subprocess.run(
        [sys.executable, "-m", "kimi_conformance", "run", "--report-dir", "blocked/reports", "test_models.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 4, done.stdout[-1000:] + done.stderr[-1000:]
    assert "--report-dir blocked/reports is not writable" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
