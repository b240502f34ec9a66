"""A target whose streams stall: after STALL_LIMIT streams in a row cut by a timeout, the run's further streams are
not sent but fail fast with the same finding (HTTP005, saying so), so such a run ends in minutes, not hours."""

from __future__ import annotations

import json
import time
from pathlib import Path

from kimi_conformance.budget import STALL_LIMIT, Guard
from tests.runner.test_run import SUITES, run

SILENT = "the target went silent mid-body for longer than the idle timeout: connection closed"


def test_streams_cut_by_a_timeout_in_a_row_make_the_rest_fail_fast() -> None:
    guard = Guard()
    for _ in range(STALL_LIMIT - 1):
        guard.streamed(SILENT)
    assert guard.failing_fast() is None
    guard.streamed(SILENT)
    why = guard.failing_fast()
    assert why is not None and why.startswith(f"not sent: the target's last {STALL_LIMIT} streams") and SILENT in why


def test_a_stream_that_ends_or_breaks_otherwise_resets_the_count() -> None:
    guard = Guard()
    for ending in (SILENT, SILENT, None, SILENT, SILENT, "the body broke off: RemoteProtocolError: reset", SILENT):
        guard.streamed(ending)
    assert guard.failing_fast() is None  # never three timeouts in a row


def test_a_run_against_a_target_stalling_every_stream_ends_quickly_with_its_report(tmp_path: Path) -> None:
    started = time.monotonic()
    returncode, results, output = run(
        tmp_path,
        "--mock-fault", "stream-stalls", "--request-timeout", "2", "--model", "kimi-k2.6",
        str(SUITES / "test_streaming.py"),
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert returncode == 1 and "Traceback" not in output, output[-2000:]
    cassette = [json.loads(line) for line in (tmp_path / "reports/latest/cassette.jsonl").read_text().splitlines()]
    stalled = [line for line in cassette if line["elapsed_s"] >= 2]
    unsent = [line for line in cassette if line.get("sent") is False]
    assert len(stalled) == STALL_LIMIT and len(unsent) == results["recorded"]["unsent"] > 5
    assert len(cassette) - len(unsent) == results["spending"]["requests"]  # what was not sent is not counted
    fast = [f for f in results["findings"] if f["code"] == "HTTP005" and "fail fast" in f["message"]]
    assert fast and "Received: nothing (not sent:" in fast[0]["message"]
    assert elapsed < 60, elapsed  # 3 stalls of 2 s, then no more waiting
