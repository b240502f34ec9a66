"""Live-API safety: a budget of requests and tokens the run never passes, an estimated cost in every report,
the pace (`--rpm`, `Retry-After`, bounded backoff with jitter), and a quota error that stops the run clearly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kimi_conformance.budget import BudgetReached, Guard, QuotaExceeded, Usage, projected_tokens, usage_in
from kimi_conformance.exchange import Exchange
from kimi_conformance.mock import MockConfig, serve_in_thread
from kimi_conformance.pricing import load_prices

KEY = "sk-live-safety-test-key-0123456789"


def usage_of(content_type: str, body: bytes) -> Usage | None:
    """What the budget reads from an answer with this content type and body (`usage_in`)."""
    return usage_in(Exchange("", "", "", {}, response_headers={"content-type": content_type}, body=body))


def run(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    command = [sys.executable, "-m", "kimi_conformance", "run", "--report-dir", "reports", *args]
    env = {**os.environ, "KIMI_SAFETY_KEY": KEY}
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    results = json.loads((tmp_path / "reports" / "latest" / "results.json").read_text("utf-8"))
    return done.returncode, results, done.stdout + done.stderr


def test_the_guard_keeps_the_request_and_token_budget() -> None:
    guard = Guard(max_requests=2, max_tokens=100, sleep=lambda _: None)
    body = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 10}
    guard.admit(body)
    guard.record("kimi-k2.6", usage_of("application/json", b'{"usage": {"prompt_tokens": 8, "completion_tokens": 10}}'))
    guard.admit(body)
    with pytest.raises(BudgetReached, match="request budget reached: 2 of --max-requests 2"):
        guard.admit(body)
    tokens = Guard(max_tokens=30, sleep=lambda _: None)
    tokens.admit(body)
    tokens.record(
        "kimi-k2.6", usage_of("application/json", b'{"usage": {"prompt_tokens": 8, "completion_tokens": 10}}')
    )
    with pytest.raises(BudgetReached, match="token budget reached: 18 spent"):
        tokens.admit(body)  # 18 spent + up to 10 + the prompt would pass 30
    assert projected_tokens({**body, "n": 3}) > 30 and projected_tokens("not a body") == 0


def test_cost_is_estimated_from_the_price_table() -> None:
    guard = Guard(prices=load_prices())
    usage = b'{"usage": {"prompt_tokens": 1000000, "completion_tokens": 1000000, "cached_tokens": 500000}}'
    guard.record("kimi-k2.5", usage_of("application/json", usage))
    assert guard.spent.cost_usd == pytest.approx(0.05 + 0.30 + 3.00)
    guard.record("moonshot-v1-8k", usage_of("application/json", usage))
    assert guard.spent.unpriced == {"moonshot-v1-8k"}


def test_stream_usage_is_read_from_the_choice_or_the_top_level() -> None:
    moonshot = b'data: {"choices":[{"index":0,"delta":{},"usage":{"prompt_tokens":5,"completion_tokens":2}}]}\n\n'
    openai = b'data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":1}}\n\ndata: [DONE]\n\n'
    assert usage_of("text/event-stream", moonshot).prompt_tokens == 5  # type: ignore[union-attr]
    assert usage_of("text/event-stream", openai).prompt_tokens == 7  # type: ignore[union-attr]


def test_retries_follow_retry_after_then_back_off_with_jitter_and_stop() -> None:
    guard = Guard(max_retries=2)
    assert guard.retry_after(0, 200, {}, b"") is None
    assert guard.retry_after(0, 429, {"retry-after": "3"}, b"rate_limit_reached_error") == 3.0
    backoff = guard.retry_after(1, 429, {}, b"rate_limit_reached_error")
    assert backoff is not None and 1.0 <= backoff <= 2.0
    assert guard.retry_after(2, 429, {"retry-after": "1"}, b"") is None  # retries are bounded
    assert guard.retry_after(0, 429, {"retry-after": "3600"}, b"") is None  # not worth waiting for
    with pytest.raises(QuotaExceeded, match="exceeded_current_quota_error"):
        guard.retry_after(0, 429, {}, b'{"error": {"type": "exceeded_current_quota_error"}}')


def test_rpm_spaces_requests() -> None:
    waits: list[float] = []
    guard = Guard(rpm=600, sleep=waits.append)
    for _ in range(3):
        guard.admit()
    assert [round(w, 2) for w in waits] == [0.1, 0.2]  # starts 0.1 s apart (the fake sleep does not pass time)


def test_a_slow_rate_limited_target_is_run_within_budget(tmp_path: Path) -> None:
    config = MockConfig(lineup="all", api_keys=frozenset({KEY}), latency=0.005, chunk_delay=0.001, rpm=1200)
    with serve_in_thread(config) as mock:
        returncode, results, output = run(
            tmp_path,
            "--target", mock.api_base, "--api-key-env", "KIMI_SAFETY_KEY", "--model", "kimi-k2-turbo-preview",
            "--profile", "quick", "--rpm", "1100", "--max-requests", "250", "--max-tokens", "40000",
        )  # fmt: skip
    spent = results["spending"]
    assert spent["requests"] <= 250 and spent["tokens"] <= 40000, spent
    assert returncode in (0, 2) and results["verdict"] in ("pass", "incomplete"), output[-3000:]
    assert not results["findings"], results["findings"][:2]
    assert spent["estimated_cost_usd"] == 0 and spent["unpriced_models"] == ["kimi-k2-turbo-preview"]


def test_a_small_budget_stops_cleanly_with_a_partial_report(tmp_path: Path) -> None:
    returncode, results, output = run(tmp_path, "--model", "kimi-k2.6", "--max-requests", "15")
    assert returncode == 2, output[-2000:]
    assert results["verdict"] == "incomplete" and results["spending"]["requests"] == 15
    assert results["budget_reached"].startswith("request budget reached") and len(results["not_run"]) > 50
    report = (tmp_path / "reports" / "latest" / "report.md").read_text("utf-8")
    assert "⏸️ **incomplete**" in report and "## Not run" in report and "estimated cost $" in report
    assert "Traceback" not in output


def test_a_quota_error_is_not_retried_and_stops_the_run(tmp_path: Path) -> None:
    with serve_in_thread(MockConfig(lineup="all", api_keys=frozenset({KEY}), out_of_quota=True)) as mock:
        returncode, results, output = run(
            tmp_path, "--target", mock.api_base, "--api-key-env", "KIMI_SAFETY_KEY", "--model", "kimi-k2.6"
        )
    assert returncode == 2 and results["verdict"] == "incomplete", output[-2000:]  # a stop, not a finding
    assert "stopped: the target refuses for quota or balance (exceeded_current_quota_error)" in output
    assert results["spending"]["requests"] == 1 and results["spending"]["retries"] == 0
    assert "Traceback" not in output


def test_attempts_resend_model_behaviour_failures_and_report_pass_at_k(tmp_path: Path) -> None:
    args: tuple[str, ...] = ("--model", "kimi-k2-turbo-preview", "--mock-lineup", "all", "--attempts", "3")
    args += ("--mock-fault", "tool-args-invalid", "test_chat.py")
    returncode, results, output = run(tmp_path, *args)
    assert returncode == 1, output[-2000:]
    # of the five cases, the `strict: false` tool's (test_loose_tool_arguments) passes: any JSON object will do there
    assert results["pass_at_k"]["CHAT009"] == {"k": 3, "cases": 5, "pass_at_1": 1, "pass_at_k": 1}
    chat009 = [f for f in results["findings"] if f["code"] == "CHAT009"]
    resent = [f["severity"] for f in chat009 if "tool_call_arguments" in f["test"]]
    assert resent.count("info") == 2 and resent.count("error") == 1  # two retried attempts, then the error
    assert "pass@1 1/5, pass@3 1/5" in (tmp_path / "reports" / "latest" / "report.md").read_text("utf-8")


def test_key_like_strings_a_target_echoes_never_reach_a_report() -> None:
    from kimi_conformance.checks import CheckContext, run_checks
    from kimi_conformance.exchange import Exchange

    leaked = "sk-someone-elses-key-0123456789abcdef"
    exchange = Exchange(
        operation="listModels", method="GET", url="http://x/v1/models", request_headers={}, status=500,
        response_headers={"content-type": "application/json"},
        body=b'{"error": {"type": "server_error", "message": "upstream refused key ' + leaked.encode() + b'"}}',
    )  # fmt: skip
    findings = [o.finding for o in run_checks(CheckContext(), exchange, {"HTTP002"}) if o.finding]
    assert findings and all(leaked not in json.dumps(f.as_json()) for f in findings)
    assert "sk-[REDACTED]" in findings[0].evidence.excerpt


def test_the_guard_stops_after_requests_in_a_row_without_an_answer() -> None:
    from kimi_conformance.budget import TargetGone

    guard = Guard(unanswered_limit=3, sleep=lambda _: None)
    for usable in (False, False, True, False, False):  # an answer resets the count
        guard.admit()
        guard.answered(usable)
    guard.admit()
    guard.answered(False)
    with pytest.raises(TargetGone, match="3 requests in a row"):
        guard.admit()
    with pytest.raises(BudgetReached, match="stopped answering"):
        guard.admit()  # and stays stopped
