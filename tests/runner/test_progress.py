"""The live progress lines: their text, their pace (in place on a terminal, plain and sparse elsewhere), and a real
run's through a pseudo-terminal, a pipe, `--quiet` and two xdist workers."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

from kimi_conformance.budget import Guard
from kimi_conformance.mock import DEFAULT_API_KEY
from kimi_conformance.runner.progress import (
    CLEAR_LINE,
    PLAIN_INTERVAL,
    ProgressBoard,
    Snapshot,
    render,
    snapshot_in,
    snapshot_properties,
)

QUICK_RUN = ("--model", "kimi-k2.6", "--profile", "quick", "test_models.py", "test_chat.py")
"""A few seconds against the embedded mock, with tests enough to report on."""


class TerminalText(io.StringIO):
    """Text kept in memory that says it is a terminal, as a pty's stream does."""

    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_line_says_tests_requests_tokens_cost_and_retries_against_the_budget() -> None:
    spent = Snapshot(requests=310, tokens=41_200, cost_usd=0.0123, retries=2, max_requests=2_000, max_tokens=100_000)
    assert render("gw0", 120, 540, spent) == (
        "worker gw0: 120/540 tests · 310/2,000 requests · 41,200 tokens (budget 100,000) · $0.012 · 2 retries after 429"
    )
    assert render("main", 0, 3, Snapshot(retries=1)) == (
        "worker main: 0/3 tests · 0 requests · 0 tokens · $0.000 · 1 retry after 429"
    )


def test_a_guard_s_counters_travel_in_a_report_s_user_properties() -> None:
    guard = Guard(max_requests=5)
    guard.admit()
    guard.spent.completion_tokens += 7
    properties = [("other", 1), snapshot_properties(guard)]
    assert snapshot_in(properties) == Snapshot(requests=1, tokens=7, max_requests=5)
    assert snapshot_in([("other", 1)]) is None


def test_a_terminal_is_redrawn_in_place_and_at_most_a_few_times_a_second() -> None:
    stream, clock = TerminalText(), Clock()
    board = ProgressBoard(stream, clock)
    board.total = 50
    for test in range(40):  # 40 reports within 0.2 s: one redraw
        clock.now = test * 0.005
        board.update("main", finished_test=True, spent=Snapshot(requests=test))
    assert stream.getvalue().count(CLEAR_LINE) == 1
    clock.now = 1.0
    board.update("main", finished_test=True, spent=Snapshot(requests=41))
    board.finish()
    text = stream.getvalue()
    assert "\n" not in text.rstrip("\n") and text.endswith(
        "41/50 tests · 41 requests · 0 tokens · $0.000 · 0 retries after 429\n"
    )


def test_two_workers_on_a_terminal_are_two_lines_redrawn_together() -> None:
    stream, clock = TerminalText(), Clock()
    board = ProgressBoard(stream, clock)
    board.update("gw0", finished_test=True, spent=Snapshot())
    clock.now = 1.0
    board.update("gw1", finished_test=True, spent=Snapshot())
    redraw = stream.getvalue().split("worker gw0: 1/0", 1)[1]
    assert "\x1b[1A" not in stream.getvalue().split("worker gw0")[0]  # one line drawn before: nothing to go up
    clock.now = 2.0
    board.update("gw0", finished_test=True, spent=Snapshot())
    assert stream.getvalue().endswith("worker gw1: 1/0 tests · 0 requests · 0 tokens · $0.000 · 0 retries after 429")
    assert "\x1b[1A" + CLEAR_LINE + "worker gw0: 2/0" in stream.getvalue() and "worker gw1" in redraw


def test_elsewhere_a_worker_s_line_is_written_plainly_every_few_seconds_and_at_the_end() -> None:
    stream, clock = io.StringIO(), Clock()
    board = ProgressBoard(stream, clock)
    for test in range(100):
        clock.now = test * 0.5  # 50 s of reports: the first, then one per PLAIN_INTERVAL
        board.update("main", finished_test=True, spent=Snapshot(requests=test))
    board.finish()
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert len(lines) == 1 + int(49.5 // PLAIN_INTERVAL) + 1
    assert lines[-1].startswith("worker main: 100/0 tests · 99 requests")


def _run(tmp_path: Path, *args: str, stderr: int | None = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "kimi_conformance", "run", "--report-dir", "reports", *args]
    return subprocess.run(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=stderr, text=True, timeout=120)


def test_a_run_on_a_terminal_redraws_its_line_in_place(tmp_path: Path) -> None:
    leader, follower = os.openpty()
    try:
        done = _run(tmp_path, *QUICK_RUN, stderr=follower)
        os.close(follower)
        follower = -1
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child's end closed (EIO on Linux)
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    assert done.returncode == 0, done.stdout[-2000:]
    text = seen.decode()
    assert text.count(CLEAR_LINE + "worker main: ") >= 1 and re.search(r"worker main: (\d+)/\1 tests", text)
    assert DEFAULT_API_KEY not in text


def test_a_run_into_a_pipe_writes_plain_lines(tmp_path: Path) -> None:
    done = _run(tmp_path, *QUICK_RUN)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("worker main: ")]
    assert lines and "\r" not in done.stderr and "\x1b[" not in done.stderr
    assert re.match(r"worker main: (\d+)/\1 tests · \d+ requests · [\d,]+ tokens · \$\d+\.\d{3} · 0 retries", lines[-1])
    assert DEFAULT_API_KEY not in done.stderr


def test_quiet_shows_no_progress(tmp_path: Path) -> None:
    done = _run(tmp_path, *QUICK_RUN, "--quiet")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "worker " not in done.stderr + done.stdout


def test_two_workers_show_a_line_each_and_their_tests_add_up(tmp_path: Path) -> None:
    done = _run(tmp_path, *QUICK_RUN, "-n", "2")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    last: dict[str, tuple[int, int]] = {}
    for found in re.finditer(r"^worker (\w+): (\d+)/(\d+) tests", done.stderr, re.MULTILINE):
        last[found[1]] = (int(found[2]), int(found[3]))
    assert set(last) == {"gw0", "gw1"}
    assert sum(tests for tests, _ in last.values()) == last["gw0"][1] > 0  # every test, done by one or the other
